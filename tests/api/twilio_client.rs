//! The Twilio client against a wiremock stand-in: exact requests at the wire, error mapping,
//! retries and paging.

use std::time::Duration;

use base64::Engine;
use neighborhood_text::secret::Secret;
use neighborhood_text::twilio::types::{
    BuyNumber, ConversationParams, ConversationState, CreateConversationMessage,
    CreateMessagingParticipant, ListConversationMessages, MessageOrder, SendSms, SmsSender,
    UpdateIncomingNumber, UpdateWebhookConfiguration, WebhookMethod, WebhookTarget,
};
use neighborhood_text::twilio::{
    Credentials, RetryPolicy, TwilioClient, TwilioConfig, TwilioError,
};
use serde_json::{Value, json};
use url::Url;
use wiremock::matchers::{
    basic_auth, body_string, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN: &str = "auth-token-for-tests";
const CONVERSATION_SID: &str = "CH0123456789abcdef0123456789abcdef";
const OTHER_CONVERSATION_SID: &str = "CHfedcba9876543210fedcba9876543210";
const PARTICIPANT_SID: &str = "MB0123456789abcdef0123456789abcdef";
const NUMBER_SID: &str = "PN0123456789abcdef0123456789abcdef";
const SERVICE_SID: &str = "MG0123456789abcdef0123456789abcdef";
const NEIGHBOR: &str = "+15551234567";
const OUR_NUMBER: &str = "+14155550100";
const MAX_ATTEMPTS: u32 = 3;

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: MAX_ATTEMPTS,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_elapsed: Duration::from_secs(10),
    }
}

fn config_for(server: &MockServer, credentials: Credentials) -> TwilioConfig {
    TwilioConfig {
        account_sid: ACCOUNT_SID.to_owned(),
        credentials,
        api_base: Some(Url::parse(&format!("{}/", server.uri())).expect("mock server URL")),
        request_timeout: Duration::from_secs(5),
        retry: fast_retry(),
    }
}

fn client_for(server: &MockServer) -> TwilioClient {
    TwilioClient::new(config_for(
        server,
        Credentials::AuthToken(Secret::new(AUTH_TOKEN)),
    ))
    .expect("client builds")
}

fn client_with_timeout(server: &MockServer, timeout: Duration) -> TwilioClient {
    let mut config = config_for(server, Credentials::AuthToken(Secret::new(AUTH_TOKEN)));
    config.request_timeout = timeout;
    TwilioClient::new(config).expect("client builds")
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// The one request the server received, for checks on the raw bytes.
async fn single_request(server: &MockServer) -> Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

fn body_of(request: &Request) -> String {
    String::from_utf8(request.body.clone()).expect("form bodies are UTF-8")
}

fn twilio_error(status: u16, code: u32, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    }))
}

fn conversation_json(sid: &str, state: &str) -> Value {
    json!({
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "chat_service_sid": "IS0123456789abcdef0123456789abcdef",
        "messaging_service_sid": SERVICE_SID,
        "friendly_name": "Maple Street",
        "unique_name": "nbhd-maple",
        "attributes": "{}",
        "state": state,
        "date_created": "2015-12-16T22:18:37Z",
        "date_updated": "2015-12-16T22:18:38Z",
        "timers": {},
        "bindings": {},
        "url": format!("https://conversations.twilio.com/v1/Conversations/{sid}"),
        "links": {}
    })
}

fn participant_json(sid: &str, address: &str) -> Value {
    json!({
        "account_sid": ACCOUNT_SID,
        "conversation_sid": CONVERSATION_SID,
        "sid": sid,
        "identity": null,
        "attributes": "{}",
        "messaging_binding": {"type": "sms", "address": address, "proxy_address": OUR_NUMBER},
        "role_sid": "RL0123456789abcdef0123456789abcdef",
        "date_created": "2016-03-24T21:05:50Z",
        "date_updated": "2016-03-24T21:05:50Z",
        "url": "https://conversations.twilio.com/v1/Conversations/CH/Participants/MB",
        "last_read_message_index": null,
        "last_read_timestamp": null
    })
}

fn message_json(sid: &str, index: u64) -> Value {
    json!({
        "sid": sid,
        "account_sid": ACCOUNT_SID,
        "conversation_sid": CONVERSATION_SID,
        "index": index,
        "author": "system",
        "body": "Block party Saturday",
        "media": null,
        "attributes": "{}",
        "participant_sid": null,
        "date_created": "2016-03-24T20:37:57Z",
        "date_updated": "2016-03-24T20:37:57Z",
        "delivery": {"total": 2, "sent": "all", "delivered": "some", "read": "none", "failed": "none", "undelivered": "none"},
        "content_sid": null
    })
}

fn incoming_number_json() -> Value {
    json!({
        "sid": NUMBER_SID,
        "account_sid": ACCOUNT_SID,
        "phone_number": OUR_NUMBER,
        "friendly_name": "Maple Street",
        "sms_url": "https://nt.example/twilio/sms",
        "sms_method": "POST",
        "capabilities": {"voice": true, "sms": true, "mms": true, "fax": false},
        "status": "in-use",
        "date_created": "Thu, 30 Jul 2015 23:19:04 +0000",
        "date_updated": "Thu, 30 Jul 2015 23:19:04 +0000"
    })
}

fn sms_participant_request(webhook_enabled: bool) -> CreateMessagingParticipant {
    CreateMessagingParticipant {
        address: NEIGHBOR.to_owned(),
        proxy_address: OUR_NUMBER.to_owned(),
        attributes: None,
        webhook_enabled,
    }
}

fn participants_path() -> String {
    format!("/conversations/v1/Conversations/{CONVERSATION_SID}/Participants")
}

fn messages_path() -> String {
    format!("/conversations/v1/Conversations/{CONVERSATION_SID}/Messages")
}

// --- requests at the wire --------------------------------------------------------------------

#[tokio::test]
async fn creating_an_sms_participant_posts_the_binding_form_with_basic_auth_and_the_webhook_header()
{
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .and(header(
            "Authorization",
            basic(ACCOUNT_SID, AUTH_TOKEN).as_str(),
        ))
        .and(header("X-Twilio-Webhook-Enabled", "true"))
        .and(header("Content-Type", "application/x-www-form-urlencoded"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(participant_json(PARTICIPANT_SID, NEIGHBOR)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let participant = client_for(&server)
        .create_messaging_participant(CONVERSATION_SID, &sms_participant_request(true))
        .await
        .expect("participant created");

    assert_eq!(participant.sid, PARTICIPANT_SID);
    let binding = participant.messaging_binding.expect("SMS binding");
    assert_eq!(binding.address.as_deref(), Some(NEIGHBOR));
    assert_eq!(binding.proxy_address.as_deref(), Some(OUR_NUMBER));
    let request = single_request(&server).await;
    let body = body_of(&request);
    assert!(
        body.contains("MessagingBinding.Address=%2B15551234567"),
        "{body}"
    );
    assert!(
        body.contains("MessagingBinding.ProxyAddress=%2B14155550100"),
        "{body}"
    );
    assert!(!body.contains("Attributes"), "{body}");
    let agent = request.headers.get("user-agent").expect("user agent");
    assert!(
        agent
            .to_str()
            .expect("ascii")
            .starts_with("neighborhood-text/")
    );
}

#[tokio::test]
async fn creating_an_sms_participant_without_webhooks_sends_no_webhook_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(participant_json(PARTICIPANT_SID, NEIGHBOR)),
        )
        .expect(1)
        .mount(&server)
        .await;

    client_for(&server)
        .create_messaging_participant(CONVERSATION_SID, &sms_participant_request(false))
        .await
        .expect("participant created");

    let request = single_request(&server).await;
    assert!(request.headers.get("x-twilio-webhook-enabled").is_none());
}

#[tokio::test]
async fn api_key_credentials_authenticate_as_the_key_while_the_path_keeps_the_account_sid() {
    let server = MockServer::start().await;
    let key_sid = "SK0123456789abcdef0123456789abcdef";
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        )))
        .and(basic_auth(key_sid, "key-secret"))
        .and(body_string(
            "To=%2B15551234567&From=%2B14155550100&Body=Welcome+to+Maple+Street%21",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": "SM0123456789abcdef0123456789abcdef",
            "to": NEIGHBOR,
            "from": OUR_NUMBER,
            "body": "Welcome to Maple Street!",
            "status": "queued",
            "num_segments": "1",
            "error_code": null,
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = TwilioClient::new(config_for(
        &server,
        Credentials::ApiKey {
            key_sid: key_sid.to_owned(),
            secret: Secret::new("key-secret"),
        },
    ))
    .expect("client builds");

    let message = client
        .send_sms(&SendSms {
            to: NEIGHBOR.to_owned(),
            from: SmsSender::Number(OUR_NUMBER.to_owned()),
            body: "Welcome to Maple Street!".to_owned(),
        })
        .await
        .expect("SMS accepted");

    assert_eq!(message.status.as_deref(), Some("queued"));
    assert_eq!(client.account_sid(), ACCOUNT_SID);
}

#[tokio::test]
async fn sending_an_sms_through_a_messaging_service_sends_its_sid_instead_of_from() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        )))
        .and(body_string(format!(
            "To=%2B15551234567&MessagingServiceSid={SERVICE_SID}&Body=Hi"
        )))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"sid": "SM1", "status": "accepted"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let message = client_for(&server)
        .send_sms(&SendSms {
            to: NEIGHBOR.to_owned(),
            from: SmsSender::MessagingService(SERVICE_SID.to_owned()),
            body: "Hi".to_owned(),
        })
        .await
        .expect("SMS accepted");

    assert_eq!(message.sid, "SM1");
}

#[tokio::test]
async fn searching_local_numbers_asks_for_sms_capable_numbers_in_the_area_code() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/AvailablePhoneNumbers/US/Local.json"
        )))
        .and(query_param("AreaCode", "415"))
        .and(query_param("SmsEnabled", "true"))
        .and(query_param("PageSize", "5"))
        .and(header("Authorization", basic(ACCOUNT_SID, AUTH_TOKEN).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "available_phone_numbers": [
                {"friendly_name": "(415) 555-0100", "phone_number": OUR_NUMBER, "locality": "San Francisco",
                 "region": "CA", "iso_country": "US", "latitude": "37.77", "beta": false,
                 "capabilities": {"SMS": true, "MMS": true, "voice": true}},
                {"friendly_name": "(415) 555-0101", "phone_number": "+14155550101",
                 "capabilities": {"sms": false, "mms": false, "voice": true}}
            ],
            "uri": "/2010-04-01/Accounts/AC/AvailablePhoneNumbers/US/Local.json"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let numbers = client_for(&server)
        .search_local_numbers("US", "415", 5)
        .await
        .expect("search works");

    assert_eq!(numbers.len(), 2);
    assert_eq!(numbers[0].phone_number, OUR_NUMBER);
    assert_eq!(numbers[0].locality.as_deref(), Some("San Francisco"));
    assert!(numbers[0].capabilities.expect("capabilities").sms);
    assert!(!numbers[1].capabilities.expect("capabilities").sms);
}

#[tokio::test]
async fn buying_a_number_posts_the_number_and_its_sms_webhook() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"
        )))
        .and(body_string(
            "PhoneNumber=%2B14155550100&FriendlyName=Maple+Street\
             &SmsUrl=https%3A%2F%2Fnt.example%2Ftwilio%2Fsms&SmsMethod=POST",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(incoming_number_json()))
        .expect(1)
        .mount(&server)
        .await;

    let number = client_for(&server)
        .buy_number(&BuyNumber {
            phone_number: OUR_NUMBER.to_owned(),
            friendly_name: Some("Maple Street".to_owned()),
            sms_url: Some("https://nt.example/twilio/sms".to_owned()),
        })
        .await
        .expect("number bought");

    assert_eq!(number.sid, NUMBER_SID);
    assert_eq!(number.sms_method.as_deref(), Some("POST"));
    assert_eq!(
        number.date_created.as_deref(),
        Some("Thu, 30 Jul 2015 23:19:04 +0000")
    );
}

#[tokio::test]
async fn finding_an_incoming_number_filters_by_the_encoded_number_and_returns_the_first_match() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"
        )))
        .and(query_param("PhoneNumber", OUR_NUMBER))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "incoming_phone_numbers": [incoming_number_json()],
            "next_page_uri": null, "page": 0, "page_size": 20
        })))
        .expect(1)
        .mount(&server)
        .await;

    let number = client_for(&server)
        .find_incoming_number(OUR_NUMBER)
        .await
        .expect("lookup works");

    assert_eq!(number.map(|number| number.sid).as_deref(), Some(NUMBER_SID));
    let request = single_request(&server).await;
    let query = request.url.query().expect("query string");
    assert!(query.contains("PhoneNumber=%2B14155550100"), "{query}");
}

#[tokio::test]
async fn finding_a_number_we_do_not_own_returns_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json"
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"incoming_phone_numbers": []})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let number = client_for(&server)
        .find_incoming_number(OUR_NUMBER)
        .await
        .expect("lookup works");

    assert!(number.is_none());
}

#[tokio::test]
async fn updating_an_incoming_number_sends_only_the_fields_that_are_set() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{NUMBER_SID}.json"
        )))
        .and(body_string(
            "SmsUrl=https%3A%2F%2Fnt.example%2Fsms&SmsMethod=POST",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(incoming_number_json()))
        .expect(1)
        .mount(&server)
        .await;

    client_for(&server)
        .update_incoming_number(
            NUMBER_SID,
            &UpdateIncomingNumber {
                friendly_name: None,
                sms_url: Some("https://nt.example/sms".to_owned()),
                sms_method: Some(WebhookMethod::Post),
            },
        )
        .await
        .expect("number updated");
}

#[tokio::test]
async fn releasing_a_number_deletes_it_and_accepts_204() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers/{NUMBER_SID}.json"
        )))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    client_for(&server)
        .release_number(NUMBER_SID)
        .await
        .expect("number released");
}

#[tokio::test]
async fn adding_a_number_to_a_messaging_service_posts_its_phone_number_sid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/messaging/v1/Services/{SERVICE_SID}/PhoneNumbers"
        )))
        .and(body_string(format!("PhoneNumberSid={NUMBER_SID}")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": NUMBER_SID, "account_sid": ACCOUNT_SID, "service_sid": SERVICE_SID,
            "phone_number": OUR_NUMBER, "country_code": "US", "capabilities": ["SMS", "MMS"],
            "date_created": "2015-07-30T20:12:31Z",
            "url": "https://messaging.twilio.com/v1/Services/MG/PhoneNumbers/PN"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let attached = client_for(&server)
        .add_number_to_messaging_service(SERVICE_SID, NUMBER_SID)
        .await
        .expect("number attached");

    assert_eq!(attached.service_sid.as_deref(), Some(SERVICE_SID));
    assert_eq!(attached.capabilities, vec!["SMS", "MMS"]);
}

#[tokio::test]
async fn creating_a_conversation_pins_the_messaging_service_and_sets_no_timers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/conversations/v1/Conversations"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(conversation_json(CONVERSATION_SID, "active")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let conversation = client_for(&server)
        .create_conversation(&ConversationParams {
            friendly_name: Some("Maple Street".to_owned()),
            unique_name: Some("nbhd-maple".to_owned()),
            messaging_service_sid: Some(SERVICE_SID.to_owned()),
            ..ConversationParams::default()
        })
        .await
        .expect("conversation created");

    assert_eq!(conversation.sid, CONVERSATION_SID);
    assert_eq!(conversation.state, Some(ConversationState::Active));
    let request = single_request(&server).await;
    let body = body_of(&request);
    assert_eq!(
        body,
        format!(
            "FriendlyName=Maple+Street&UniqueName=nbhd-maple&MessagingServiceSid={SERVICE_SID}"
        )
    );
    assert!(!body.contains("Timers."));
    assert!(request.headers.get("x-twilio-webhook-enabled").is_none());
}

#[tokio::test]
async fn fetching_a_conversation_by_unique_name_escapes_it_in_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conversations/v1/Conversations/nbhd%2F42"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(conversation_json(CONVERSATION_SID, "inactive")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let conversation = client_for(&server)
        .fetch_conversation("nbhd/42")
        .await
        .expect("conversation fetched");

    assert_eq!(conversation.state, Some(ConversationState::Inactive));
}

#[tokio::test]
async fn closing_a_conversation_posts_only_its_state() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/conversations/v1/Conversations/{CONVERSATION_SID}"
        )))
        .and(body_string("State=closed"))
        .and(header("X-Twilio-Webhook-Enabled", "true"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(conversation_json(CONVERSATION_SID, "closed")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let conversation = client_for(&server)
        .update_conversation(
            CONVERSATION_SID,
            &ConversationParams {
                state: Some(ConversationState::Closed),
                webhook_enabled: true,
                ..ConversationParams::default()
            },
        )
        .await
        .expect("conversation updated");

    assert_eq!(conversation.state, Some(ConversationState::Closed));
}

#[tokio::test]
async fn deleting_a_conversation_accepts_204() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "/conversations/v1/Conversations/{CONVERSATION_SID}"
        )))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    client_for(&server)
        .delete_conversation(CONVERSATION_SID)
        .await
        .expect("conversation deleted");
}

#[tokio::test]
async fn removing_a_participant_deletes_it_and_accepts_204() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("{}/{PARTICIPANT_SID}", participants_path())))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    client_for(&server)
        .delete_participant(CONVERSATION_SID, PARTICIPANT_SID)
        .await
        .expect("participant removed");
}

#[tokio::test]
async fn posting_a_conversation_message_sends_author_body_attributes_and_the_webhook_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(body_string(
            "Author=system&Body=Alice%3A+Block+party+Saturday&Attributes=%7B%22nt_id%22%3A%227%22%7D",
        ))
        .and(header("X-Twilio-Webhook-Enabled", "true"))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_json("IM1", 7)))
        .expect(1)
        .mount(&server)
        .await;

    let message = client_for(&server)
        .create_conversation_message(
            CONVERSATION_SID,
            &CreateConversationMessage {
                author: Some("system".to_owned()),
                body: "Alice: Block party Saturday".to_owned(),
                attributes: Some(r#"{"nt_id":"7"}"#.to_owned()),
                webhook_enabled: true,
                media_sid: None,
            },
        )
        .await
        .expect("message posted");

    assert_eq!(message.index, 7);
    assert_eq!(
        message.delivery.expect("delivery").delivered.as_deref(),
        Some("some")
    );
}

#[tokio::test]
async fn the_global_webhook_configuration_is_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conversations/v1/Configuration/Webhooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "account_sid": ACCOUNT_SID, "method": "POST", "filters": ["onMessageAdd"],
            "pre_webhook_url": "https://nt.example/pre", "post_webhook_url": null, "target": "webhook",
            "url": "https://conversations.twilio.com/v1/Configuration/Webhooks"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let configuration = client_for(&server)
        .fetch_webhook_configuration()
        .await
        .expect("configuration read");

    assert_eq!(configuration.filters, vec!["onMessageAdd"]);
    assert_eq!(configuration.post_webhook_url, None);
}

#[tokio::test]
async fn updating_the_webhook_configuration_repeats_the_filters_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/conversations/v1/Configuration/Webhooks"))
        .and(body_string(
            "PreWebhookUrl=https%3A%2F%2Fnt.example%2Fpre&PostWebhookUrl=https%3A%2F%2Fnt.example%2Fpost\
             &Method=POST&Filters=onMessageAdd&Filters=onMessageAdded&Target=webhook",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "account_sid": ACCOUNT_SID, "method": "POST", "filters": ["onMessageAdd", "onMessageAdded"],
            "pre_webhook_url": "https://nt.example/pre", "post_webhook_url": "https://nt.example/post",
            "target": "webhook"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let configuration = client_for(&server)
        .update_webhook_configuration(&UpdateWebhookConfiguration {
            pre_webhook_url: Some("https://nt.example/pre".to_owned()),
            post_webhook_url: Some("https://nt.example/post".to_owned()),
            method: Some(WebhookMethod::Post),
            filters: vec!["onMessageAdd".to_owned(), "onMessageAdded".to_owned()],
            target: Some(WebhookTarget::Webhook),
        })
        .await
        .expect("configuration updated");

    assert_eq!(configuration.filters.len(), 2);
}

// --- paging ----------------------------------------------------------------------------------

#[tokio::test]
async fn listing_participants_follows_next_page_url_across_pages() {
    let server = MockServer::start().await;
    // Twilio's next_page_url points at the real host; the client must re-base it onto the stand-in.
    let next = format!(
        "https://conversations.twilio.com/v1/Conversations/{CONVERSATION_SID}/Participants?PageSize=100&Page=1&PageToken=PT1"
    );
    Mock::given(method("GET"))
        .and(path(participants_path()))
        .and(query_param("PageSize", "100"))
        .and(query_param_is_missing("PageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "participants": [participant_json("MB1", "+15550000001")],
            "meta": {"page": 0, "page_size": 100, "next_page_url": next, "key": "participants"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(participants_path()))
        .and(query_param("PageToken", "PT1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "participants": [participant_json("MB2", "+15550000002")],
            "meta": {"page": 1, "page_size": 100, "next_page_url": null, "key": "participants"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let participants = client_for(&server)
        .list_participants(CONVERSATION_SID)
        .await
        .expect("participants listed");

    let sids: Vec<&str> = participants.iter().map(|p| p.sid.as_str()).collect();
    assert_eq!(sids, ["MB1", "MB2"]);
}

#[tokio::test]
async fn participant_conversations_by_address_sends_the_encoded_address_and_follows_paging() {
    let server = MockServer::start().await;
    let next = format!(
        "{}/conversations/v1/ParticipantConversations?Address=%2B15551234567&PageSize=50&Page=1&PageToken=PT2",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/conversations/v1/ParticipantConversations"))
        .and(query_param("Address", NEIGHBOR))
        .and(query_param_is_missing("PageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "conversations": [{
                "conversation_sid": OTHER_CONVERSATION_SID, "participant_sid": "MB1",
                "conversation_state": "active",
                "participant_messaging_binding": {"type": "sms", "address": NEIGHBOR, "proxy_address": OUR_NUMBER}
            }],
            "meta": {"next_page_url": next, "key": "conversations"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/conversations/v1/ParticipantConversations"))
        .and(query_param("PageToken", "PT2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "conversations": [{"conversation_sid": CONVERSATION_SID, "conversation_state": "closed"}],
            "meta": {"next_page_url": null, "key": "conversations"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let found = client_for(&server)
        .participant_conversations_by_address(NEIGHBOR)
        .await
        .expect("lookup works");

    assert_eq!(found.len(), 2);
    assert_eq!(found[0].conversation_state, Some(ConversationState::Active));
    let binding = found[0]
        .participant_messaging_binding
        .clone()
        .expect("binding");
    assert_eq!(binding.proxy_address.as_deref(), Some(OUR_NUMBER));
    let requests = server.received_requests().await.expect("recording is on");
    let query = requests[0].url.query().expect("query string");
    assert!(query.contains("Address=%2B15551234567"), "{query}");
}

#[tokio::test]
async fn listing_conversation_messages_returns_one_page_and_the_link_to_the_next() {
    let server = MockServer::start().await;
    let next = format!(
        "https://conversations.twilio.com/v1/Conversations/{CONVERSATION_SID}/Messages?Order=desc&PageSize=2&Page=1&PageToken=PT3"
    );
    Mock::given(method("GET"))
        .and(path(messages_path()))
        .and(query_param("Order", "desc"))
        .and(query_param("PageSize", "2"))
        .and(query_param_is_missing("PageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [message_json("IM9", 9), message_json("IM8", 8)],
            "meta": {"next_page_url": next, "key": "messages"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(messages_path()))
        .and(query_param("PageToken", "PT3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "messages": [message_json("IM7", 7)],
            "meta": {"next_page_url": null, "key": "messages"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server);

    let first = client
        .list_conversation_messages(
            CONVERSATION_SID,
            &ListConversationMessages {
                order: Some(MessageOrder::Desc),
                page_size: Some(2),
            },
        )
        .await
        .expect("first page");
    let link = first.next_page_url.clone().expect("a next page");
    let second = client
        .next_conversation_messages(&link)
        .await
        .expect("second page");

    assert_eq!(
        first.items.iter().map(|m| m.index).collect::<Vec<_>>(),
        [9, 8]
    );
    assert_eq!(second.items[0].sid, "IM7");
    assert_eq!(second.next_page_url, None);
}

// --- errors ----------------------------------------------------------------------------------

fn assert_api_error(error: &TwilioError, expected_status: u16, expected_code: u32) {
    match error {
        TwilioError::Api { status, code, .. } => {
            assert_eq!(
                (*status, *code),
                (expected_status, expected_code),
                "{error}"
            );
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_conversation_is_api_error_20404_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/conversations/v1/Conversations/{CONVERSATION_SID}")))
        .respond_with(twilio_error(
            404,
            20404,
            "The requested resource /Conversations/CH0123456789abcdef0123456789abcdef was not found",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .fetch_conversation(CONVERSATION_SID)
        .await
        .expect_err("conversation is missing");

    assert_api_error(&error, 404, 20404);
    assert!(error.is_not_found());
}

#[tokio::test]
async fn a_binding_in_another_conversation_is_api_error_50416_naming_that_conversation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .respond_with(twilio_error(
            409,
            50416,
            &format!(
                "A binding for this participant and proxy address already exists in Conversation {OTHER_CONVERSATION_SID}"
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .create_messaging_participant(CONVERSATION_SID, &sms_participant_request(false))
        .await
        .expect_err("binding conflict");

    assert_api_error(&error, 409, 50416);
    assert_eq!(error.code(), Some(50416));
    let TwilioError::Api { message, .. } = &error else {
        unreachable!("checked above")
    };
    assert!(message.contains(OTHER_CONVERSATION_SID), "{message}");
}

#[tokio::test]
async fn too_many_sms_participants_is_api_error_50422_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .respond_with(twilio_error(
            400,
            50422,
            "Non-chat participants limit exceeded",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .create_messaging_participant(CONVERSATION_SID, &sms_participant_request(false))
        .await
        .expect_err("limit reached");

    assert_api_error(&error, 400, 50422);
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_invalid_to_number_is_api_error_21211_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        )))
        .respond_with(twilio_error(
            400,
            21211,
            "The 'To' number 5551234567 is not a valid phone number.",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .send_sms(&SendSms {
            to: "5551234567".to_owned(),
            from: SmsSender::Number(OUR_NUMBER.to_owned()),
            body: "Hi".to_owned(),
        })
        .await
        .expect_err("invalid number");

    assert_api_error(&error, 400, 21211);
}

#[tokio::test]
async fn a_429_with_code_20429_is_retried_until_it_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .respond_with(
            twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "0"),
        )
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_json("IM1", 0)))
        .expect(1)
        .mount(&server)
        .await;

    let message = client_for(&server)
        .create_conversation_message(
            CONVERSATION_SID,
            &CreateConversationMessage {
                author: None,
                body: "Hello".to_owned(),
                attributes: None,
                webhook_enabled: false,
                media_sid: None,
            },
        )
        .await
        .expect("posted after throttling");

    assert_eq!(message.sid, "IM1");
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 3);
}

#[tokio::test]
async fn a_429_that_persists_is_retried_up_to_max_attempts_then_surfaced() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(participants_path()))
        .respond_with(twilio_error(429, 20429, "Too Many Requests"))
        .expect(u64::from(MAX_ATTEMPTS))
        .mount(&server)
        .await;

    let error = client_for(&server)
        .create_messaging_participant(CONVERSATION_SID, &sms_participant_request(false))
        .await
        .expect_err("still throttled");

    assert_api_error(&error, 429, 20429);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_500_is_retried_then_surfaced() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(participants_path()))
        .respond_with(twilio_error(500, 20500, "Internal Server Error"))
        .expect(u64::from(MAX_ATTEMPTS))
        .mount(&server)
        .await;

    let error = client_for(&server)
        .list_participants(CONVERSATION_SID)
        .await
        .expect_err("server keeps failing");

    assert_api_error(&error, 500, 20500);
}

#[tokio::test]
async fn a_502_without_a_twilio_body_is_retried_then_surfaced_with_code_zero() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/conversations/v1/Conversations"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .expect(u64::from(MAX_ATTEMPTS))
        .mount(&server)
        .await;

    let error = client_for(&server)
        .create_conversation(&ConversationParams::default())
        .await
        .expect_err("gateway keeps failing");

    assert_api_error(&error, 502, 0);
    assert_eq!(error.code(), None);
}

#[tokio::test]
async fn malformed_json_on_200_is_reported_as_malformed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/conversations/v1/Conversations/{CONVERSATION_SID}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"sid\": \"CH"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_for(&server)
        .fetch_conversation(CONVERSATION_SID)
        .await
        .expect_err("body is cut off");

    assert!(
        matches!(error, TwilioError::Malformed { status: 200, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_post_that_times_out_is_surfaced_without_being_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(message_json("IM1", 0))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = client_with_timeout(&server, Duration::from_millis(300))
        .create_conversation_message(
            CONVERSATION_SID,
            &CreateConversationMessage {
                author: None,
                body: "Hello".to_owned(),
                attributes: None,
                webhook_enabled: false,
                media_sid: None,
            },
        )
        .await
        .expect_err("too slow");

    assert_eq!(error, TwilioError::Timeout);
}

#[tokio::test]
async fn a_get_that_times_out_is_retried_up_to_max_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/conversations/v1/Conversations/{CONVERSATION_SID}"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(conversation_json(CONVERSATION_SID, "active"))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(u64::from(MAX_ATTEMPTS))
        .mount(&server)
        .await;

    let error = client_with_timeout(&server, Duration::from_millis(300))
        .fetch_conversation(CONVERSATION_SID)
        .await
        .expect_err("too slow");

    assert_eq!(error, TwilioError::Timeout);
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error_without_secrets() {
    // A port the OS just handed out and that nothing listens on any more.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port");
    let client = TwilioClient::new(TwilioConfig {
        account_sid: ACCOUNT_SID.to_owned(),
        credentials: Credentials::AuthToken(Secret::new(AUTH_TOKEN)),
        api_base: Some(Url::parse(&format!("http://{address}/")).expect("URL")),
        request_timeout: Duration::from_secs(2),
        retry: fast_retry(),
    })
    .expect("client builds");

    let error = client
        .participant_conversations_by_address(NEIGHBOR)
        .await
        .expect_err("nothing listens");

    assert!(matches!(error, TwilioError::Transport(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        !text.contains(AUTH_TOKEN) && !text.contains("5551234567"),
        "{text}"
    );
}

const CHAT_SERVICE_SID: &str = "IS0123456789abcdef0123456789abcdef";
const MEDIA_SID: &str = "ME0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn a_picture_is_uploaded_as_it_is_and_attached_by_its_media_sid() {
    let server = MockServer::start().await;
    let picture = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
    Mock::given(method("POST"))
        .and(path(format!("/mcs/v1/Services/{CHAT_SERVICE_SID}/Media")))
        .and(header("content-type", "image/jpeg"))
        .and(wiremock::matchers::body_bytes(picture.clone()))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "sid": MEDIA_SID, "service_sid": CHAT_SERVICE_SID, "content_type": "image/jpeg",
            "size": 7, "filename": null, "category": "media", "message_sid": null,
            "links": {"content": format!("/v1/Services/{CHAT_SERVICE_SID}/Media/{MEDIA_SID}/Content"),
                      "content_direct_temporary": null}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(body_string(format!(
            "Author=system&Attributes=%7B%7D&MediaSid={MEDIA_SID}"
        )))
        .respond_with(ResponseTemplate::new(201).set_body_json(message_json("IM2", 8)))
        .expect(1)
        .mount(&server)
        .await;

    let client = client_for(&server);
    let uploaded = client
        .upload_media(CHAT_SERVICE_SID, "image/jpeg", &picture)
        .await
        .expect("uploaded");
    assert_eq!(uploaded.sid, MEDIA_SID);
    client
        .create_conversation_message(
            CONVERSATION_SID,
            &CreateConversationMessage {
                author: Some("system".to_owned()),
                body: String::new(),
                attributes: Some("{}".to_owned()),
                webhook_enabled: false,
                media_sid: Some(uploaded.sid),
            },
        )
        .await
        .expect("a picture without words posted");
}

#[tokio::test]
async fn a_picture_is_read_through_its_temporary_address_without_our_credentials() {
    let server = MockServer::start().await;
    // Behind a stand-in the address is taken under its MCS base, whatever host it names.
    let temporary = format!(
        "https://media.example.org/mcs/v1/Services/{CHAT_SERVICE_SID}/Media/{MEDIA_SID}/Content?Expires=1&Signature=abc"
    );
    Mock::given(method("GET"))
        .and(path(format!(
            "/mcs/v1/Services/{CHAT_SERVICE_SID}/Media/{MEDIA_SID}"
        )))
        .and(wiremock::matchers::header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sid": MEDIA_SID, "content_type": "image/png", "size": 4,
            "links": {"content_direct_temporary": temporary}
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/mcs/v1/Services/{CHAT_SERVICE_SID}/Media/{MEDIA_SID}/Content"
        )))
        .and(wiremock::matchers::query_param("Signature", "abc"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![1, 2, 3, 4]))
        .expect(2)
        .mount(&server)
        .await;

    let client = client_for(&server);
    let data = client
        .download_media(CHAT_SERVICE_SID, MEDIA_SID, 10)
        .await
        .expect("downloaded");
    assert_eq!(data, vec![1, 2, 3, 4]);
    let requests = server.received_requests().await.expect("recorded");
    let content = requests
        .iter()
        .find(|request| request.url.path().ends_with("/Content"))
        .expect("the content was read");
    assert!(
        !content.headers.contains_key("authorization"),
        "no credentials go to the content address"
    );
    // Past the bound it is refused, not read on.
    assert!(
        client
            .download_media(CHAT_SERVICE_SID, MEDIA_SID, 3)
            .await
            .is_err()
    );
}
