//! Twilio played by a wiremock server: a Twilio that works for every call a neighborhood's
//! provisioning makes, for tests to mount stricter mocks on top of.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::{ACCOUNT_SID, SERVICE_SID};

/// A Twilio SID with the given prefix and a counter, like `PN000...0007`.
pub fn sid(prefix: &str, n: u32) -> String {
    format!("{prefix}{n:032x}")
}

fn form_value(request: &Request, name: &str) -> Option<String> {
    url::form_urlencoded::parse(&request.body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn query_value(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Mounts a Twilio that works: numbers for sale in any area code (a new one each search), number
/// purchase and lookup echoing the number asked for, Messaging Service attach, Conversations
/// create/update, number release. Tests mount stricter mocks on top (lower priority number wins).
pub async fn mount_working_twilio(server: &MockServer) {
    let account = format!("/api/2010-04-01/Accounts/{ACCOUNT_SID}");
    let counter = Arc::new(AtomicU32::new(100));

    let numbers = counter.clone();
    Mock::given(method("GET"))
        .and(path(format!(
            "{account}/AvailablePhoneNumbers/US/Local.json"
        )))
        .respond_with(move |request: &Request| {
            let area = query_value(request, "AreaCode").unwrap_or_else(|| "415".into());
            let n = numbers.fetch_add(1, Ordering::SeqCst);
            let phone = format!("+1{area}555{n:04}");
            ResponseTemplate::new(200).set_body_json(json!({
                "available_phone_numbers": [{
                    "friendly_name": phone, "phone_number": phone, "iso_country": "US",
                    "capabilities": {"voice": true, "SMS": true, "MMS": true}
                }],
                "uri": "/ignored"
            }))
        })
        .with_priority(10)
        .mount(server)
        .await;

    let sids = counter.clone();
    Mock::given(method("POST"))
        .and(path(format!("{account}/IncomingPhoneNumbers.json")))
        .respond_with(move |request: &Request| {
            let phone = form_value(request, "PhoneNumber").unwrap_or_default();
            ResponseTemplate::new(201).set_body_json(incoming_number(
                &sid("PN", sids.fetch_add(1, Ordering::SeqCst)),
                &phone,
                None,
            ))
        })
        .with_priority(10)
        .mount(server)
        .await;

    let owned = counter.clone();
    Mock::given(method("GET"))
        .and(path(format!("{account}/IncomingPhoneNumbers.json")))
        .respond_with(move |request: &Request| {
            let phone = query_value(request, "PhoneNumber").unwrap_or_default();
            let number = incoming_number(&sid("PN", owned.fetch_add(1, Ordering::SeqCst)), &phone, Some("https://old.example.org/sms"));
            ResponseTemplate::new(200).set_body_json(json!({
                "incoming_phone_numbers": [number], "next_page_uri": null, "page": 0, "page_size": 50
            }))
        })
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("POST"))
        .and(path_regex(format!(
            r"^{account}/IncomingPhoneNumbers/PN[0-9a-f]{{32}}\.json$"
        )))
        .respond_with(|request: &Request| {
            let sid = request
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches(".json")
                .to_owned();
            ResponseTemplate::new(200).set_body_json(incoming_number(
                &sid,
                "+14155550000",
                form_value(request, "SmsUrl").as_deref(),
            ))
        })
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("DELETE"))
        .and(path_regex(format!(
            r"^{account}/IncomingPhoneNumbers/PN[0-9a-f]{{32}}\.json$"
        )))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("POST"))
        .and(path(format!(
            "/messaging/v1/Services/{SERVICE_SID}/PhoneNumbers"
        )))
        .respond_with(|request: &Request| {
            let sid = form_value(request, "PhoneNumberSid").unwrap_or_default();
            ResponseTemplate::new(201).set_body_json(json!({
                "sid": sid, "service_sid": SERVICE_SID, "account_sid": ACCOUNT_SID,
                "phone_number": "+14155550000", "country_code": "US", "capabilities": ["SMS"]
            }))
        })
        .with_priority(10)
        .mount(server)
        .await;

    let conversations = counter;
    Mock::given(method("POST"))
        .and(path("/conversations/v1/Conversations"))
        .respond_with(move |request: &Request| {
            let sid = sid("CH", conversations.fetch_add(1, Ordering::SeqCst));
            ResponseTemplate::new(201).set_body_json(conversation(&sid, request))
        })
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("POST"))
        .and(path_regex(
            r"^/conversations/v1/Conversations/CH[0-9a-f]{32}$",
        ))
        .respond_with(|request: &Request| {
            let sid = request
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(conversation(&sid, request))
        })
        .with_priority(10)
        .mount(server)
        .await;
}

fn incoming_number(sid: &str, phone: &str, sms_url: Option<&str>) -> Value {
    json!({
        "sid": sid, "account_sid": ACCOUNT_SID, "phone_number": phone, "friendly_name": phone,
        "sms_url": sms_url, "sms_method": "POST", "status": "in-use",
        "capabilities": {"voice": true, "sms": true, "mms": true},
        "date_created": "Sat, 21 Nov 2026 10:00:00 +0000"
    })
}

fn conversation(sid: &str, request: &Request) -> Value {
    json!({
        "sid": sid, "account_sid": ACCOUNT_SID, "chat_service_sid": self::sid("IS", 1),
        "messaging_service_sid": form_value(request, "MessagingServiceSid").unwrap_or_else(|| SERVICE_SID.into()),
        "friendly_name": form_value(request, "FriendlyName"),
        "unique_name": form_value(request, "UniqueName"),
        "attributes": form_value(request, "Attributes").unwrap_or_else(|| "{}".into()),
        "state": form_value(request, "State").unwrap_or_else(|| "active".into()),
        "date_created": "2026-11-21T10:00:00Z", "date_updated": "2026-11-21T10:00:00Z",
        "timers": {}, "bindings": {}, "url": format!("https://conversations.twilio.com/v1/Conversations/{sid}"),
        "links": {}
    })
}
