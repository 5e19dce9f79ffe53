//! Conformance of the sandbox's Twilio emulator to Twilio's official OpenAPI specs
//! (`twilio_api_v2010.json`, `twilio_messaging_v1.json`, `twilio_conversations_v1.json`): for
//! every emulated operation a real call, its status code, and its JSON against the spec's schema
//! of that response.
//!
//! The schemas at the end of this file were extracted from the specs: every property of each
//! response schema, its JSON type, whether it is nullable (a name ending in `?`), its format, SID
//! prefix or enum values. Two readings of the specs' formats: v2010's `*_uri` values are paths
//! relative to api.twilio.com (as in every example of the spec), and `phone-number` is E.164
//! except for `friendly_name` (the spec's examples show `(808) 925-1571`).

use std::collections::HashSet;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use crate::helpers::{
    SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_SERVICE_SID, TestApp, spawn_sandbox_app,
};

/// A number of the emulated pool (`+1{area}55501{00..99}`) the tests buy.
const OUR_NUMBER: &str = "+14155550123";
const OTHER_NUMBER: &str = "+14155550124";
/// A simulated phone.
const NEIGHBOR: &str = "+15551230001";

// ----- the checker ----------------------------------------------------------------------------

type Schema = &'static [(&'static str, Kind)];

/// What the spec says of one property's value.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Str,
    Int,
    Num,
    Bool,
    /// No type in the spec: any JSON value.
    Any,
    /// The two-letter prefix (alternatives separated by `|`) and 32 lowercase hex digits.
    Sid(&'static str),
    /// ISO 8601 in UTC to the second: `2015-12-16T22:18:37Z`.
    IsoDate,
    /// RFC 2822 in UTC: `Thu, 30 Jul 2015 23:19:04 +0000`.
    Rfc2822Date,
    /// An absolute http(s) URL.
    Url,
    /// A path relative to api.twilio.com: `/2010-04-01/...`.
    Path,
    /// E.164: `+14155550123`.
    Phone,
    /// ISO 4217: `USD`.
    Currency,
    /// ISO 3166-1 alpha-2: `US`.
    Country,
    Enum(&'static [&'static str]),
    /// A v1 `uri-map`: an object of absolute URLs.
    Links,
    /// A v2010 `uri-map`: an object of `/2010-04-01/...` paths.
    Paths,
    /// An array of strings.
    Strings,
    /// An array of anything.
    Array,
    Object(Schema),
    /// An array of objects of this schema.
    Items(Schema),
}

use Kind::*;

/// Every property of `schema` is in `value` (null only where nullable) with a value of its kind,
/// and `value` has no property the spec does not define.
fn assert_conforms(value: &Value, schema: &[(&str, Kind)], context: &str) {
    let mut problems = Vec::new();
    check_object(value, schema, "", &mut problems);
    assert!(
        problems.is_empty(),
        "{context} does not conform to Twilio's spec:\n  {}\nin {value:#}",
        problems.join("\n  ")
    );
}

fn check_object(value: &Value, schema: &[(&str, Kind)], at: &str, problems: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        problems.push(format!("{at}: expected an object, got {value}"));
        return;
    };
    for &(name, kind) in schema {
        let (name, nullable) = match name.strip_suffix('?') {
            Some(name) => (name, true),
            None => (name, false),
        };
        let path = format!("{at}.{name}");
        match object.get(name) {
            None => problems.push(format!("{path}: missing")),
            Some(Value::Null) if nullable => {}
            Some(Value::Null) => {
                problems.push(format!("{path}: null, and the spec does not allow it"))
            }
            Some(value) => check_value(value, kind, &path, problems),
        }
    }
    for key in object.keys() {
        if !schema
            .iter()
            .any(|(name, _)| name.trim_end_matches('?') == key)
        {
            problems.push(format!("{at}.{key}: not a property of the spec"));
        }
    }
}

fn check_value(value: &Value, kind: Kind, at: &str, problems: &mut Vec<String>) {
    let verdict = match kind {
        Object(schema) => return check_object(value, schema, at, problems),
        Items(schema) => match value.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_object(item, schema, &format!("{at}[{i}]"), problems);
                }
                return;
            }
            None => Err("expected an array".to_owned()),
        },
        Any => Ok(()),
        Bool => expect(value.is_boolean(), "a boolean"),
        Int => expect(value.is_i64() || value.is_u64(), "an integer"),
        Num => expect(value.is_number(), "a number"),
        Array => expect(value.is_array(), "an array"),
        Strings => expect(
            value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            "an array of strings",
        ),
        Links => map_of(value, is_absolute_url, "absolute URLs"),
        Paths => map_of(value, is_v2010_path, "/2010-04-01/ paths"),
        _ => match value.as_str() {
            Some(string) => check_string(string, kind),
            None => Err("expected a string".to_owned()),
        },
    };
    if let Err(why) = verdict {
        problems.push(format!("{at}: {why}, got {value}"));
    }
}

fn check_string(s: &str, kind: Kind) -> Result<(), String> {
    match kind {
        Str => Ok(()),
        Sid(prefixes) => expect(
            prefixes.split('|').any(|prefix| is_sid(s, prefix)),
            &format!("a SID: {prefixes} and 32 lowercase hex digits"),
        ),
        IsoDate => expect(
            s.len() == 20 && s.ends_with('Z') && OffsetDateTime::parse(s, &Rfc3339).is_ok(),
            "an ISO 8601 date like 2015-12-16T22:18:37Z",
        ),
        Rfc2822Date => expect(
            s.len() == 31 && s.ends_with(" +0000") && OffsetDateTime::parse(s, &Rfc2822).is_ok(),
            "an RFC 2822 date like Thu, 30 Jul 2015 23:19:04 +0000",
        ),
        Url => expect(is_absolute_url(s), "an absolute URL"),
        Path => expect(is_v2010_path(s), "a path like /2010-04-01/..."),
        Phone => expect(is_e164(s), "an E.164 phone number"),
        Currency => expect(
            s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()),
            "an ISO 4217 currency",
        ),
        Country => expect(
            s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()),
            "an ISO 3166 country code",
        ),
        Enum(values) => expect(values.contains(&s), &format!("one of {values:?}")),
        other => Err(format!("{other:?} is not a kind of string")),
    }
}

fn expect(holds: bool, what: &str) -> Result<(), String> {
    if holds {
        Ok(())
    } else {
        Err(format!("expected {what}"))
    }
}

fn map_of(value: &Value, valid: fn(&str) -> bool, what: &str) -> Result<(), String> {
    expect(
        value
            .as_object()
            .is_some_and(|map| map.values().all(|v| v.as_str().is_some_and(valid))),
        &format!("an object of {what}"),
    )
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn is_absolute_url(s: &str) -> bool {
    url::Url::parse(s)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
}

fn is_v2010_path(s: &str) -> bool {
    s.starts_with("/2010-04-01/") && !s.contains(char::is_whitespace)
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A Twilio error body: exactly `code`, `message`, `more_info` and `status`.
fn assert_twilio_error(body: &Value, status: u16, code: u64, context: &str) {
    let keys: HashSet<&str> = body
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        HashSet::from(["code", "message", "more_info", "status"]),
        "{context}: {body}"
    );
    assert_eq!(body["code"].as_u64(), Some(code), "{context}: {body}");
    assert_eq!(
        body["status"].as_u64(),
        Some(u64::from(status)),
        "{context}: {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{context}: {body}"
    );
    assert!(
        body["more_info"].as_str().is_some_and(is_absolute_url),
        "{context}: {body}"
    );
}

#[test]
fn the_checker_rejects_what_the_spec_does_not_allow() {
    let good = serde_json::json!({
        "account_sid": SANDBOX_ACCOUNT_SID, "chat_service_sid": null, "messaging_service_sid": null,
        "sid": format!("CH{}", "ab".repeat(16)), "friendly_name": null, "unique_name": null,
        "attributes": "{}", "state": "active", "date_created": "2015-12-16T22:18:37Z",
        "date_updated": null, "timers": {}, "url": "https://conversations.twilio.com/v1/x",
        "links": {"participants": "https://conversations.twilio.com/v1/x/Participants"},
        "bindings": null,
    });
    let mut problems = Vec::new();
    check_object(&good, CONVERSATION, "", &mut problems);
    assert_eq!(problems, Vec::<String>::new());

    for (field, bad) in [
        ("sid", serde_json::json!(format!("CH{}", "AB".repeat(16)))),
        ("sid", serde_json::json!(format!("MB{}", "ab".repeat(16)))),
        ("state", serde_json::json!("open")),
        ("state", Value::Null),
        (
            "date_created",
            serde_json::json!("Thu, 30 Jul 2015 23:19:04 +0000"),
        ),
        ("url", serde_json::json!("/v1/Conversations/CH1")),
        ("links", serde_json::json!({"participants": "Participants"})),
        ("attributes", serde_json::json!({})),
        ("extra", serde_json::json!(1)),
    ] {
        let mut value = good.clone();
        value[field] = bad.clone();
        let mut problems = Vec::new();
        check_object(&value, CONVERSATION, "", &mut problems);
        assert_eq!(problems.len(), 1, "{field} = {bad} passed: {problems:?}");
    }
    let mut missing = good.clone();
    missing.as_object_mut().expect("object").remove("bindings");
    let mut problems = Vec::new();
    check_object(&missing, CONVERSATION, "", &mut problems);
    assert_eq!(problems, [".bindings: missing"]);

    assert!(check_string("Thu, 30 Jul 2015 23:19:04 +0000", Rfc2822Date).is_ok());
    assert!(check_string("2015-12-16T22:18:37Z", Rfc2822Date).is_err());
    assert!(check_string("+14155550123", Phone).is_ok());
    assert!(check_string("(415) 555-0123", Phone).is_err());
    assert!(check_string("/2010-04-01/Accounts/AC1.json", Path).is_ok());
    assert!(check_string("https://api.twilio.com/2010-04-01/", Path).is_err());
}

// ----- calling the emulator ---------------------------------------------------------------------

/// `path` under this account's v2010 resources.
fn account(path: &str) -> String {
    format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}{path}")
}

/// The body of an answer that must have `status` and be JSON.
async fn expect_json(response: reqwest::Response, status: u16, context: &str) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "{context}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{context}: {error}: {text}"))
}

async fn expect_no_content(response: reqwest::Response, context: &str) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(status, 204, "{context}: {text}");
    assert!(text.is_empty(), "{context}: a 204 has no body, got {text}");
}

/// The emulator path of an absolute URL it gave (`https://text.example.org/sandbox/twilio/...`).
fn emulator_path(url: &str) -> String {
    let (_, path) = url
        .split_once("/sandbox/twilio")
        .unwrap_or_else(|| panic!("{url} is not under /sandbox/twilio"));
    path.to_owned()
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {value}"))
}

fn sids_of(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|item| str_of(item, "sid").to_owned())
        .collect()
}

async fn buy_number(app: &TestApp, phone: &str) -> Value {
    let response = app
        .emulator_post(
            &account("/IncomingPhoneNumbers.json"),
            &[("PhoneNumber", phone)],
        )
        .await;
    expect_json(response, 201, "IncomingPhoneNumbers create").await
}

async fn create_conversation(app: &TestApp, form: &[(&str, &str)]) -> Value {
    let response = app
        .emulator_post("/conversations/v1/Conversations", form)
        .await;
    expect_json(response, 201, "Conversations create").await
}

/// A conversation with an SMS participant `NEIGHBOR` through `OUR_NUMBER` (bought here).
async fn conversation_with_participant(app: &TestApp) -> (Value, Value) {
    buy_number(app, OUR_NUMBER).await;
    let conversation = create_conversation(app, &[("FriendlyName", "Maple Street")]).await;
    let response = app
        .emulator_post(
            &format!(
                "/conversations/v1/Conversations/{}/Participants",
                str_of(&conversation, "sid")
            ),
            &[
                ("MessagingBinding.Address", NEIGHBOR),
                ("MessagingBinding.ProxyAddress", OUR_NUMBER),
            ],
        )
        .await;
    let participant = expect_json(response, 201, "Participants create").await;
    (conversation, participant)
}

// ----- api.twilio.com (v2010) -------------------------------------------------------------------

#[tokio::test]
async fn searching_local_numbers_answers_200_with_a_spec_shaped_page() {
    let app = spawn_sandbox_app().await;
    let response = app
        .emulator_get(&account(
            "/AvailablePhoneNumbers/US/Local.json?AreaCode=415&SmsEnabled=true",
        ))
        .await;
    let page = expect_json(response, 200, "AvailablePhoneNumbers Local search").await;
    let numbers = page["available_phone_numbers"]
        .as_array()
        .expect("available_phone_numbers");
    assert!(!numbers.is_empty(), "{page}");
    assert!(
        numbers
            .iter()
            .all(|n| str_of(n, "phone_number").starts_with("+1415555")),
        "{page}"
    );
    assert_conforms(
        &page,
        AVAILABLE_PHONE_NUMBER_LOCAL_PAGE,
        "AvailablePhoneNumbers Local search",
    );
}

#[tokio::test]
async fn buying_a_number_answers_201_with_a_spec_shaped_incoming_phone_number() {
    let app = spawn_sandbox_app().await;
    let number = buy_number(&app, OUR_NUMBER).await;
    assert_eq!(number["phone_number"], OUR_NUMBER, "{number}");
    assert_eq!(number["account_sid"], SANDBOX_ACCOUNT_SID, "{number}");
    assert_conforms(
        &number,
        INCOMING_PHONE_NUMBER,
        "IncomingPhoneNumbers create",
    );
}

#[tokio::test]
async fn fetching_and_updating_a_number_answer_200_with_spec_shaped_incoming_phone_numbers() {
    let app = spawn_sandbox_app().await;
    let bought = buy_number(&app, OUR_NUMBER).await;
    let path = account(&format!(
        "/IncomingPhoneNumbers/{}.json",
        str_of(&bought, "sid")
    ));

    let fetched = expect_json(
        app.emulator_get(&path).await,
        200,
        "IncomingPhoneNumbers fetch",
    )
    .await;
    assert_eq!(fetched["sid"], bought["sid"], "{fetched}");
    assert_conforms(
        &fetched,
        INCOMING_PHONE_NUMBER,
        "IncomingPhoneNumbers fetch",
    );

    let form = [
        ("FriendlyName", "Maple Street line"),
        ("SmsUrl", "https://example.org/sms"),
    ];
    let updated = expect_json(
        app.emulator_post(&path, &form).await,
        200,
        "IncomingPhoneNumbers update",
    )
    .await;
    assert_eq!(updated["friendly_name"], "Maple Street line", "{updated}");
    assert_eq!(updated["sms_url"], "https://example.org/sms", "{updated}");
    assert_conforms(
        &updated,
        INCOMING_PHONE_NUMBER,
        "IncomingPhoneNumbers update",
    );
}

#[tokio::test]
async fn listing_numbers_answers_200_with_v2010_paging_by_relative_uris() {
    let app = spawn_sandbox_app().await;
    // An account of exactly two numbers: the sandbox Messaging Service's own sender goes first.
    let existing = app
        .emulator_get(&account("/IncomingPhoneNumbers.json"))
        .await;
    let existing = expect_json(existing, 200, "IncomingPhoneNumbers list").await;
    for sid in sids_of(&existing["incoming_phone_numbers"]) {
        let released = app
            .emulator_delete(&account(&format!("/IncomingPhoneNumbers/{sid}.json")))
            .await;
        assert_eq!(released.status(), 204);
    }
    let bought = [
        str_of(&buy_number(&app, OUR_NUMBER).await, "sid").to_owned(),
        str_of(&buy_number(&app, OTHER_NUMBER).await, "sid").to_owned(),
    ];
    let list_path = format!("/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers.json");

    let response = app
        .emulator_get(&account("/IncomingPhoneNumbers.json?PageSize=1"))
        .await;
    let first = expect_json(response, 200, "IncomingPhoneNumbers list").await;
    assert_conforms(
        &first,
        INCOMING_PHONE_NUMBER_PAGE,
        "IncomingPhoneNumbers list",
    );
    assert_eq!(
        (first["page"].as_u64(), first["page_size"].as_u64()),
        (Some(0), Some(1)),
        "{first}"
    );
    assert_eq!(
        (first["start"].as_u64(), first["end"].as_u64()),
        (Some(0), Some(0)),
        "{first}"
    );
    assert!(first["previous_page_uri"].is_null(), "{first}");
    assert!(
        str_of(&first, "first_page_uri").starts_with(&list_path),
        "{first}"
    );
    assert_eq!(first["uri"], first["first_page_uri"], "{first}");
    let next = str_of(&first, "next_page_uri");
    assert!(next.starts_with(&format!("{list_path}?")), "{first}");

    let response = app.emulator_get(&format!("/api{next}")).await;
    let second = expect_json(response, 200, "IncomingPhoneNumbers list, page 1").await;
    assert_conforms(
        &second,
        INCOMING_PHONE_NUMBER_PAGE,
        "IncomingPhoneNumbers list, page 1",
    );
    assert_eq!(
        (second["page"].as_u64(), second["start"].as_u64()),
        (Some(1), Some(1)),
        "{second}"
    );
    assert!(
        second["previous_page_uri"]
            .as_str()
            .is_some_and(is_v2010_path),
        "{second}"
    );
    assert!(second["next_page_uri"].is_null(), "{second}");

    let mut seen = sids_of(&first["incoming_phone_numbers"]);
    seen.extend(sids_of(&second["incoming_phone_numbers"]));
    seen.sort();
    let mut expected = bought.to_vec();
    expected.sort();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn releasing_a_number_answers_204_and_then_it_is_gone() {
    let app = spawn_sandbox_app().await;
    let bought = buy_number(&app, OUR_NUMBER).await;
    let path = account(&format!(
        "/IncomingPhoneNumbers/{}.json",
        str_of(&bought, "sid")
    ));
    expect_no_content(
        app.emulator_delete(&path).await,
        "IncomingPhoneNumbers delete",
    )
    .await;
    let gone = expect_json(app.emulator_get(&path).await, 404, "released number fetch").await;
    assert_twilio_error(&gone, 404, 20404, "released number fetch");
}

#[tokio::test]
async fn sending_an_sms_answers_201_with_a_spec_shaped_message() {
    let app = spawn_sandbox_app().await;
    buy_number(&app, OUR_NUMBER).await;
    let form = [
        ("To", NEIGHBOR),
        ("From", OUR_NUMBER),
        ("Body", "Hello, Maple Street"),
    ];
    let response = app.emulator_post(&account("/Messages.json"), &form).await;
    let message = expect_json(response, 201, "Messages create (From)").await;
    assert_eq!(
        (
            &message["from"],
            &message["to"],
            &message["body"],
            &message["direction"]
        ),
        (
            &OUR_NUMBER.into(),
            &NEIGHBOR.into(),
            &"Hello, Maple Street".into(),
            &"outbound-api".into()
        ),
        "{message}"
    );
    assert_conforms(&message, MESSAGE, "Messages create (From)");

    // Through the sandbox's Messaging Service, once our number is in it.
    let number = buy_number(&app, OTHER_NUMBER).await;
    let response = app
        .emulator_post(
            &format!("/messaging/v1/Services/{SANDBOX_SERVICE_SID}/PhoneNumbers"),
            &[("PhoneNumberSid", str_of(&number, "sid"))],
        )
        .await;
    expect_json(response, 201, "Services PhoneNumbers create").await;
    let form = [
        ("To", NEIGHBOR),
        ("MessagingServiceSid", SANDBOX_SERVICE_SID),
        ("Body", "Hi"),
    ];
    let response = app.emulator_post(&account("/Messages.json"), &form).await;
    let message = expect_json(response, 201, "Messages create (MessagingServiceSid)").await;
    assert_eq!(
        message["messaging_service_sid"], SANDBOX_SERVICE_SID,
        "{message}"
    );
    assert_conforms(&message, MESSAGE, "Messages create (MessagingServiceSid)");
}

#[tokio::test]
async fn listing_sms_messages_answers_200_with_a_v2010_page_of_messages() {
    let app = spawn_sandbox_app().await;
    buy_number(&app, OUR_NUMBER).await;
    let form = [("To", NEIGHBOR), ("From", OUR_NUMBER), ("Body", "Hello")];
    let response = app.emulator_post(&account("/Messages.json"), &form).await;
    let sent = expect_json(response, 201, "Messages create").await;

    let page = expect_json(
        app.emulator_get(&account("/Messages.json")).await,
        200,
        "Messages list",
    )
    .await;
    assert!(
        sids_of(&page["messages"]).contains(&str_of(&sent, "sid").to_owned()),
        "{page}"
    );
    assert!(
        str_of(&page, "uri").starts_with("/2010-04-01/Accounts/"),
        "{page}"
    );
    assert_conforms(&page, MESSAGE_PAGE, "Messages list");
}

// ----- messaging.twilio.com ---------------------------------------------------------------------

#[tokio::test]
async fn creating_fetching_and_listing_messaging_services_follow_the_spec() {
    let app = spawn_sandbox_app().await;
    let form = [
        ("FriendlyName", "Conformance"),
        ("InboundRequestUrl", "https://example.org/in"),
    ];
    let response = app.emulator_post("/messaging/v1/Services", &form).await;
    let created = expect_json(response, 201, "Services create").await;
    assert_eq!(created["friendly_name"], "Conformance", "{created}");
    assert_conforms(&created, MESSAGING_SERVICE, "Services create");

    let path = format!("/messaging/v1/Services/{}", str_of(&created, "sid"));
    let fetched = expect_json(app.emulator_get(&path).await, 200, "Services fetch").await;
    assert_eq!(fetched["sid"], created["sid"], "{fetched}");
    assert_conforms(&fetched, MESSAGING_SERVICE, "Services fetch");

    let page = expect_json(
        app.emulator_get("/messaging/v1/Services").await,
        200,
        "Services list",
    )
    .await;
    let sids = sids_of(&page["services"]);
    assert!(sids.contains(&str_of(&created, "sid").to_owned()), "{page}");
    assert!(sids.contains(&SANDBOX_SERVICE_SID.to_owned()), "{page}");
    assert_eq!(page["meta"]["key"], "services", "{page}");
    assert_conforms(&page, MESSAGING_SERVICE_PAGE, "Services list");
}

#[tokio::test]
async fn adding_fetching_listing_and_removing_a_service_number_follow_the_spec() {
    let app = spawn_sandbox_app().await;
    let number = buy_number(&app, OUR_NUMBER).await;
    let number_sid = str_of(&number, "sid");
    let service = expect_json(
        app.emulator_post("/messaging/v1/Services", &[("FriendlyName", "Numbers")])
            .await,
        201,
        "Services create",
    )
    .await;
    let list = format!(
        "/messaging/v1/Services/{}/PhoneNumbers",
        str_of(&service, "sid")
    );

    let response = app
        .emulator_post(&list, &[("PhoneNumberSid", number_sid)])
        .await;
    let added = expect_json(response, 201, "Services PhoneNumbers create").await;
    assert_eq!(
        (&added["sid"], &added["phone_number"]),
        (&number_sid.into(), &OUR_NUMBER.into()),
        "{added}"
    );
    assert_eq!(added["service_sid"], service["sid"], "{added}");
    assert_conforms(&added, SERVICE_PHONE_NUMBER, "Services PhoneNumbers create");

    let entry = format!("{list}/{number_sid}");
    let fetched = expect_json(
        app.emulator_get(&entry).await,
        200,
        "Services PhoneNumbers fetch",
    )
    .await;
    assert_conforms(
        &fetched,
        SERVICE_PHONE_NUMBER,
        "Services PhoneNumbers fetch",
    );

    let page = expect_json(
        app.emulator_get(&list).await,
        200,
        "Services PhoneNumbers list",
    )
    .await;
    assert_eq!(sids_of(&page["phone_numbers"]), [number_sid], "{page}");
    assert_eq!(page["meta"]["key"], "phone_numbers", "{page}");
    assert_conforms(
        &page,
        SERVICE_PHONE_NUMBER_PAGE,
        "Services PhoneNumbers list",
    );

    expect_no_content(
        app.emulator_delete(&entry).await,
        "Services PhoneNumbers delete",
    )
    .await;
    let gone = expect_json(
        app.emulator_get(&entry).await,
        404,
        "removed service number fetch",
    )
    .await;
    assert_twilio_error(&gone, 404, 20404, "removed service number fetch");
}

// ----- conversations.twilio.com -----------------------------------------------------------------

#[tokio::test]
async fn creating_a_conversation_answers_201_with_a_spec_shaped_conversation() {
    let app = spawn_sandbox_app().await;
    let bare = create_conversation(&app, &[]).await;
    assert_eq!(bare["state"], "active", "{bare}");
    assert_conforms(&bare, CONVERSATION, "Conversations create (no parameters)");

    let full = create_conversation(
        &app,
        &[
            ("FriendlyName", "Maple Street"),
            ("UniqueName", "maple-street"),
            ("Attributes", r#"{"neighborhood":"maple"}"#),
            ("MessagingServiceSid", SANDBOX_SERVICE_SID),
            ("State", "inactive"),
        ],
    )
    .await;
    assert_eq!(
        (&full["friendly_name"], &full["unique_name"], &full["state"]),
        (
            &"Maple Street".into(),
            &"maple-street".into(),
            &"inactive".into()
        ),
        "{full}"
    );
    assert_conforms(&full, CONVERSATION, "Conversations create");
}

#[tokio::test]
async fn fetching_updating_and_deleting_a_conversation_follow_the_spec() {
    let app = spawn_sandbox_app().await;
    let created = create_conversation(&app, &[("FriendlyName", "Maple Street")]).await;
    let path = format!(
        "/conversations/v1/Conversations/{}",
        str_of(&created, "sid")
    );

    let fetched = expect_json(app.emulator_get(&path).await, 200, "Conversations fetch").await;
    assert_eq!(fetched, created);
    assert_conforms(&fetched, CONVERSATION, "Conversations fetch");

    let form = [
        ("FriendlyName", "Oak Street"),
        ("State", "closed"),
        ("Attributes", "{}"),
    ];
    let updated = expect_json(
        app.emulator_post(&path, &form).await,
        200,
        "Conversations update",
    )
    .await;
    assert_eq!(
        (&updated["friendly_name"], &updated["state"]),
        (&"Oak Street".into(), &"closed".into()),
        "{updated}"
    );
    assert_conforms(&updated, CONVERSATION, "Conversations update");

    expect_no_content(app.emulator_delete(&path).await, "Conversations delete").await;
    let gone = expect_json(
        app.emulator_get(&path).await,
        404,
        "deleted conversation fetch",
    )
    .await;
    assert_twilio_error(&gone, 404, 20404, "deleted conversation fetch");
}

#[tokio::test]
async fn listing_conversations_pages_by_meta_next_page_url() {
    let app = spawn_sandbox_app().await;
    let mut created = Vec::new();
    for name in ["One", "Two", "Three"] {
        created.push(
            str_of(
                &create_conversation(&app, &[("FriendlyName", name)]).await,
                "sid",
            )
            .to_owned(),
        );
    }

    let response = app
        .emulator_get("/conversations/v1/Conversations?PageSize=2")
        .await;
    let first = expect_json(response, 200, "Conversations list").await;
    assert_conforms(&first, CONVERSATION_PAGE, "Conversations list");
    let meta = &first["meta"];
    assert_eq!(
        (meta["page"].as_u64(), meta["page_size"].as_u64()),
        (Some(0), Some(2)),
        "{first}"
    );
    assert_eq!(meta["key"], "conversations", "{first}");
    assert!(meta["previous_page_url"].is_null(), "{first}");
    assert_eq!(meta["url"], meta["first_page_url"], "{first}");
    assert_eq!(sids_of(&first["conversations"]).len(), 2, "{first}");
    let next = str_of(meta, "next_page_url");
    assert!(
        next.starts_with("https://text.example.org/sandbox/twilio/conversations/v1/Conversations?"),
        "{next}"
    );

    let response = app.emulator_get(&emulator_path(next)).await;
    let second = expect_json(response, 200, "Conversations list, page 1").await;
    assert_conforms(&second, CONVERSATION_PAGE, "Conversations list, page 1");
    let meta = &second["meta"];
    assert_eq!(meta["page"].as_u64(), Some(1), "{second}");
    assert!(
        meta["previous_page_url"]
            .as_str()
            .is_some_and(is_absolute_url),
        "{second}"
    );
    assert!(meta["next_page_url"].is_null(), "{second}");

    let mut seen = sids_of(&first["conversations"]);
    seen.extend(sids_of(&second["conversations"]));
    assert_eq!(seen, created, "in creation order, each once");
}

#[tokio::test]
async fn adding_fetching_listing_and_removing_a_participant_follow_the_spec() {
    let app = spawn_sandbox_app().await;
    let (conversation, participant) = conversation_with_participant(&app).await;
    assert_eq!(
        participant["conversation_sid"], conversation["sid"],
        "{participant}"
    );
    assert_eq!(
        participant["messaging_binding"]["address"], NEIGHBOR,
        "{participant}"
    );
    assert_eq!(
        participant["messaging_binding"]["proxy_address"], OUR_NUMBER,
        "{participant}"
    );
    assert_conforms(&participant, PARTICIPANT, "Participants create");

    let list = format!(
        "/conversations/v1/Conversations/{}/Participants",
        str_of(&conversation, "sid")
    );
    let entry = format!("{list}/{}", str_of(&participant, "sid"));
    let fetched = expect_json(app.emulator_get(&entry).await, 200, "Participants fetch").await;
    assert_eq!(fetched, participant);
    assert_conforms(&fetched, PARTICIPANT, "Participants fetch");

    let page = expect_json(app.emulator_get(&list).await, 200, "Participants list").await;
    assert_eq!(
        sids_of(&page["participants"]),
        [str_of(&participant, "sid")],
        "{page}"
    );
    assert_eq!(page["meta"]["key"], "participants", "{page}");
    assert_conforms(&page, PARTICIPANT_PAGE, "Participants list");

    expect_no_content(app.emulator_delete(&entry).await, "Participants delete").await;
    let page = expect_json(
        app.emulator_get(&list).await,
        200,
        "Participants list after delete",
    )
    .await;
    assert_eq!(page["participants"], serde_json::json!([]), "{page}");
    assert_conforms(&page, PARTICIPANT_PAGE, "Participants list after delete");
}

#[tokio::test]
async fn posting_and_listing_conversation_messages_follow_the_spec() {
    let app = spawn_sandbox_app().await;
    let (conversation, _) = conversation_with_participant(&app).await;
    let list = format!(
        "/conversations/v1/Conversations/{}/Messages",
        str_of(&conversation, "sid")
    );

    let form = [("Author", "system"), ("Body", "Welcome to Maple Street")];
    let message = expect_json(
        app.emulator_post(&list, &form).await,
        201,
        "Messages create",
    )
    .await;
    assert_eq!(
        (&message["body"], &message["index"]),
        (&"Welcome to Maple Street".into(), &0.into()),
        "{message}"
    );
    assert_eq!(
        message["conversation_sid"], conversation["sid"],
        "{message}"
    );
    assert_conforms(
        &message,
        CONVERSATION_MESSAGE,
        "conversation Messages create",
    );

    let page = expect_json(
        app.emulator_get(&list).await,
        200,
        "conversation Messages list",
    )
    .await;
    assert_eq!(
        sids_of(&page["messages"]),
        [str_of(&message, "sid")],
        "{page}"
    );
    assert_eq!(page["meta"]["key"], "messages", "{page}");
    assert_conforms(
        &page,
        CONVERSATION_MESSAGE_PAGE,
        "conversation Messages list",
    );
}

/// Emulator review C1: a newest-first list keeps `Order=desc` in its paging URLs (as Twilio's
/// examples do), so following `next_page_url` continues newest first.
#[tokio::test]
async fn paging_conversation_messages_newest_first_keeps_the_order_on_every_page() {
    let app = spawn_sandbox_app().await;
    let conversation = create_conversation(&app, &[("FriendlyName", "Maple Street")]).await;
    let sid = str_of(&conversation, "sid").to_owned();
    let list = format!("/conversations/v1/Conversations/{sid}/Messages");
    for n in 0..6 {
        let body = format!("message {n}");
        let form = [("Author", "system"), ("Body", body.as_str())];
        expect_json(
            app.emulator_post(&list, &form).await,
            201,
            "Messages create",
        )
        .await;
    }

    let mut indices = Vec::new();
    let mut path = format!("{list}?Order=desc&PageSize=2");
    for _ in 0..5 {
        let page = expect_json(app.emulator_get(&path).await, 200, "Messages list").await;
        let meta = &page["meta"];
        for link in ["url", "first_page_url"] {
            let url = meta[link].as_str().unwrap_or_default();
            assert!(url.contains("Order=desc&PageSize=2"), "{link}: {url}");
        }
        indices.extend(
            page["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|message| message["index"].as_u64()),
        );
        let Some(next) = meta["next_page_url"].as_str() else {
            break;
        };
        assert!(next.contains("Order=desc"), "next_page_url: {next}");
        let at = next.find("/v1/").expect("a v1 URL");
        path = format!("/conversations{}", &next[at..]);
    }
    assert_eq!(indices, [5, 4, 3, 2, 1, 0], "newest first on every page");

    // And through the project's own client, which follows `next_page_url` as given.
    let client = crate::helpers::emulator_client(&app);
    let mut page = client
        .list_conversation_messages(
            &sid,
            &neighborhood_text::twilio::types::ListConversationMessages {
                order: Some(neighborhood_text::twilio::types::MessageOrder::Desc),
                page_size: Some(4),
            },
        )
        .await
        .expect("first page");
    let mut read: Vec<u64> = page.items.iter().map(|m| m.index).collect();
    let next = page.next_page_url.take().expect("a second page");
    page = client
        .next_conversation_messages(&next)
        .await
        .expect("second page");
    read.extend(page.items.iter().map(|m| m.index));
    assert_eq!(read, [5, 4, 3, 2, 1, 0]);
    assert_eq!(page.next_page_url, None);
}

#[tokio::test]
async fn participant_conversations_of_an_address_follow_the_spec() {
    let app = spawn_sandbox_app().await;
    let (conversation, participant) = conversation_with_participant(&app).await;
    let path = format!(
        "/conversations/v1/ParticipantConversations?Address={}",
        NEIGHBOR.replace('+', "%2B")
    );
    let page = expect_json(
        app.emulator_get(&path).await,
        200,
        "ParticipantConversations list",
    )
    .await;
    let items = page["conversations"].as_array().expect("conversations");
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["conversation_sid"], conversation["sid"], "{page}");
    assert_eq!(items[0]["participant_sid"], participant["sid"], "{page}");
    assert_eq!(page["meta"]["key"], "conversations", "{page}");
    assert_conforms(
        &page,
        PARTICIPANT_CONVERSATION_PAGE,
        "ParticipantConversations list",
    );
}

#[tokio::test]
async fn the_webhook_configuration_fetches_and_updates_per_the_spec() {
    let app = spawn_sandbox_app().await;
    let path = "/conversations/v1/Configuration/Webhooks";
    let current = expect_json(
        app.emulator_get(path).await,
        200,
        "Configuration Webhooks fetch",
    )
    .await;
    assert_conforms(
        &current,
        WEBHOOK_CONFIGURATION,
        "Configuration Webhooks fetch",
    );

    let form = [
        ("Method", "POST"),
        ("Filters", "onMessageAdd"),
        ("Filters", "onConversationRemoved"),
        ("PreWebhookUrl", str_of(&current, "pre_webhook_url")),
        ("PostWebhookUrl", "https://example.org/post"),
        ("Target", "webhook"),
    ];
    let updated = expect_json(
        app.emulator_post(path, &form).await,
        200,
        "Configuration Webhooks update",
    )
    .await;
    assert_eq!(
        updated["filters"],
        serde_json::json!(["onMessageAdd", "onConversationRemoved"]),
        "{updated}"
    );
    assert_eq!(
        updated["post_webhook_url"], "https://example.org/post",
        "{updated}"
    );
    assert_conforms(
        &updated,
        WEBHOOK_CONFIGURATION,
        "Configuration Webhooks update",
    );

    let fetched = expect_json(
        app.emulator_get(path).await,
        200,
        "Configuration Webhooks fetch",
    )
    .await;
    assert_eq!(fetched, updated);
}

// ----- what the service provisions, and errors --------------------------------------------------

#[tokio::test]
async fn what_the_service_provisions_reads_back_per_the_spec() {
    let app = spawn_sandbox_app().await;
    let neighborhood = app
        .create_neighborhood(&serde_json::json!({"owner_phone": "+15550000999", "name": "Maple Street", "area_code": "415"}))
        .await;
    let number_sid = str_of(&neighborhood, "phone_number_sid");
    let conversation_sid = neighborhood["shards"][0]["conversation_sid"]
        .as_str()
        .expect("conversation_sid");

    let path = account(&format!("/IncomingPhoneNumbers/{number_sid}.json"));
    let number = expect_json(
        app.emulator_get(&path).await,
        200,
        "IncomingPhoneNumbers fetch",
    )
    .await;
    assert_eq!(
        number["phone_number"], neighborhood["phone_number"],
        "{number}"
    );
    assert_conforms(&number, INCOMING_PHONE_NUMBER, "the neighborhood's number");

    let path = format!("/messaging/v1/Services/{SANDBOX_SERVICE_SID}/PhoneNumbers/{number_sid}");
    let entry = expect_json(
        app.emulator_get(&path).await,
        200,
        "Services PhoneNumbers fetch",
    )
    .await;
    assert_conforms(
        &entry,
        SERVICE_PHONE_NUMBER,
        "the neighborhood's service number",
    );

    let path = format!("/conversations/v1/Conversations/{conversation_sid}");
    let conversation = expect_json(app.emulator_get(&path).await, 200, "Conversations fetch").await;
    assert_conforms(
        &conversation,
        CONVERSATION,
        "the neighborhood's conversation",
    );
    let participants = expect_json(
        app.emulator_get(&format!("{path}/Participants")).await,
        200,
        "Participants list",
    )
    .await;
    assert_conforms(
        &participants,
        PARTICIPANT_PAGE,
        "the neighborhood's participants",
    );
    let messages = expect_json(
        app.emulator_get(&format!("{path}/Messages")).await,
        200,
        "Messages list",
    )
    .await;
    assert_conforms(
        &messages,
        CONVERSATION_MESSAGE_PAGE,
        "the neighborhood's messages",
    );
}

#[tokio::test]
async fn an_unknown_conversation_is_a_404_with_a_twilio_error_body() {
    let app = spawn_sandbox_app().await;
    let path = format!("/conversations/v1/Conversations/CH{}", "0".repeat(32));
    let body = expect_json(app.emulator_get(&path).await, 404, "unknown conversation").await;
    assert_twilio_error(&body, 404, 20404, "unknown conversation");
}

#[tokio::test]
async fn wrong_basic_auth_is_a_401_with_code_20003() {
    let app = spawn_sandbox_app().await;
    for (user, password) in [
        (SANDBOX_ACCOUNT_SID, "not-the-token"),
        ("AC00000000000000000000000000000000", SANDBOX_AUTH_TOKEN),
    ] {
        let response = app
            .http
            .get(app.emulator_url("/conversations/v1/Conversations"))
            .basic_auth(user, Some(password))
            .send()
            .await
            .expect("request sent");
        let body = expect_json(response, 401, "wrong credentials").await;
        assert_twilio_error(&body, 401, 20003, "wrong credentials");
    }
    let response = app
        .http
        .get(app.emulator_url("/conversations/v1/Conversations"))
        .send()
        .await
        .expect("request sent");
    let body = expect_json(response, 401, "no credentials").await;
    assert_twilio_error(&body, 401, 20003, "no credentials");
}

// ----- the schemas, from Twilio's OpenAPI specs ------------------------------------------------
//
// Extracted from twilio_api_v2010.json, twilio_messaging_v1.json and twilio_conversations_v1.json:
// the properties of each response schema in the spec's order. `?`: nullable.

#[rustfmt::skip]
const CAPABILITIES: Schema = &[
    ("mms", Bool), ("sms", Bool), ("voice", Bool), ("fax", Bool),
];
#[rustfmt::skip]
const AVAILABLE_PHONE_NUMBER_LOCAL: Schema = &[
    ("friendly_name?", Str), ("phone_number?", Phone), ("lata?", Str), ("locality?", Str),
    ("rate_center?", Str), ("latitude?", Num), ("longitude?", Num), ("region?", Str),
    ("postal_code?", Str), ("iso_country?", Country), ("address_requirements?", Str),
    ("beta?", Bool), ("capabilities?", Object(CAPABILITIES)),
];
#[rustfmt::skip]
const INCOMING_PHONE_NUMBER_EMERGENCY_ADDRESS_STATUS: &[&str] = &[
    "registered", "unregistered", "pending-registration", "registration-failure",
    "pending-unregistration", "unregistration-failure",
];
#[rustfmt::skip]
const INCOMING_PHONE_NUMBER: Schema = &[
    ("account_sid?", Sid("AC")), ("address_sid?", Sid("AD")),
    ("address_requirements", Enum(&["none", "any", "local", "foreign"])), ("api_version?", Str),
    ("beta?", Bool), ("capabilities?", Object(CAPABILITIES)), ("date_created?", Rfc2822Date),
    ("date_updated?", Rfc2822Date), ("friendly_name?", Str), ("identity_sid?", Sid("RI")),
    ("phone_number?", Phone), ("origin?", Str), ("sid?", Sid("PN")),
    ("sms_application_sid?", Sid("AP")), ("sms_fallback_method?", Enum(&["GET", "POST"])),
    ("sms_fallback_url?", Url), ("sms_method?", Enum(&["GET", "POST"])), ("sms_url?", Url),
    ("status_callback?", Url), ("status_callback_method?", Enum(&["GET", "POST"])),
    ("trunk_sid?", Sid("TK")), ("uri?", Path), ("voice_receive_mode", Enum(&["voice", "fax"])),
    ("voice_application_sid?", Sid("AP")), ("voice_caller_id_lookup?", Bool),
    ("voice_fallback_method?", Enum(&["GET", "POST"])), ("voice_fallback_url?", Url),
    ("voice_method?", Enum(&["GET", "POST"])), ("voice_url?", Url),
    ("emergency_status", Enum(&["Active", "Inactive"])), ("emergency_address_sid?", Sid("AD")),
    ("emergency_address_status", Enum(INCOMING_PHONE_NUMBER_EMERGENCY_ADDRESS_STATUS)),
    ("bundle_sid?", Sid("BU")), ("status?", Str), ("type?", Str),
];
const MESSAGE_DIRECTION: &[&str] = &["inbound", "outbound-api", "outbound-call", "outbound-reply"];
#[rustfmt::skip]
const MESSAGE_STATUS: &[&str] = &[
    "queued", "sending", "sent", "failed", "delivered", "undelivered", "receiving", "received",
    "accepted", "scheduled", "read", "partially_delivered", "canceled",
];
#[rustfmt::skip]
const MESSAGE: Schema = &[
    ("body?", Str), ("num_segments?", Str), ("direction", Enum(MESSAGE_DIRECTION)),
    ("from?", Phone), ("to?", Str), ("date_updated?", Rfc2822Date), ("price?", Str),
    ("error_message?", Str), ("uri?", Path), ("account_sid?", Sid("AC")), ("num_media?", Str),
    ("status", Enum(MESSAGE_STATUS)), ("messaging_service_sid?", Sid("MG")), ("sid?", Sid("SM|MM")),
    ("date_sent?", Rfc2822Date), ("date_created?", Rfc2822Date), ("error_code?", Int),
    ("price_unit?", Currency), ("api_version?", Str), ("subresource_uris?", Paths),
];
#[rustfmt::skip]
const MESSAGING_SERVICE: Schema = &[
    ("sid?", Sid("MG")), ("account_sid?", Sid("AC")), ("friendly_name?", Str),
    ("date_created?", IsoDate), ("date_updated?", IsoDate), ("inbound_request_url?", Url),
    ("inbound_method?", Enum(&["GET", "POST"])), ("fallback_url?", Url),
    ("fallback_method?", Enum(&["GET", "POST"])), ("status_callback?", Url),
    ("sticky_sender?", Bool), ("mms_converter?", Bool), ("smart_encoding?", Bool),
    ("scan_message_content", Enum(&["inherit", "enable", "disable"])),
    ("fallback_to_long_code?", Bool), ("area_code_geomatch?", Bool),
    ("synchronous_validation?", Bool), ("validity_period", Int), ("url?", Url), ("links?", Links),
    ("usecase?", Str), ("us_app_to_person_registered?", Bool),
    ("use_inbound_webhook_on_number?", Bool),
];
#[rustfmt::skip]
const SERVICE_PHONE_NUMBER: Schema = &[
    ("sid?", Sid("PN")), ("account_sid?", Sid("AC")), ("service_sid?", Sid("MG")),
    ("date_created?", IsoDate), ("date_updated?", IsoDate), ("phone_number?", Phone),
    ("country_code?", Str), ("capabilities?", Strings), ("url?", Url),
];
#[rustfmt::skip]
const CONVERSATION: Schema = &[
    ("account_sid?", Sid("AC")), ("chat_service_sid?", Sid("IS")),
    ("messaging_service_sid?", Sid("MG")), ("sid?", Sid("CH")), ("friendly_name?", Str),
    ("unique_name?", Str), ("attributes?", Str),
    ("state", Enum(&["initializing", "inactive", "active", "closed"])), ("date_created?", IsoDate),
    ("date_updated?", IsoDate), ("timers?", Any), ("url?", Url), ("links?", Links),
    ("bindings?", Any),
];
#[rustfmt::skip]
const PARTICIPANT: Schema = &[
    ("account_sid?", Sid("AC")), ("conversation_sid?", Sid("CH")), ("sid?", Sid("MB")),
    ("identity?", Str), ("attributes?", Str), ("messaging_binding?", Any), ("role_sid?", Sid("RL")),
    ("date_created?", IsoDate), ("date_updated?", IsoDate), ("url?", Url),
    ("last_read_message_index?", Int), ("last_read_timestamp?", Str),
];
#[rustfmt::skip]
const CONVERSATION_MESSAGE: Schema = &[
    ("account_sid?", Sid("AC")), ("conversation_sid?", Sid("CH")), ("sid?", Sid("IM")),
    ("index", Int), ("author?", Str), ("body?", Str), ("media?", Array), ("attributes?", Str),
    ("participant_sid?", Sid("MB")), ("date_created?", IsoDate), ("date_updated?", IsoDate),
    ("url?", Url), ("delivery?", Any), ("links?", Links), ("content_sid?", Sid("HX")),
];
#[rustfmt::skip]
const PARTICIPANT_CONVERSATION: Schema = &[
    ("account_sid?", Sid("AC")), ("chat_service_sid?", Sid("IS")), ("participant_sid?", Sid("MB")),
    ("participant_user_sid?", Sid("US")), ("participant_identity?", Str),
    ("participant_messaging_binding?", Any), ("conversation_sid?", Sid("CH")),
    ("conversation_unique_name?", Str), ("conversation_friendly_name?", Str),
    ("conversation_attributes?", Str), ("conversation_date_created?", IsoDate),
    ("conversation_date_updated?", IsoDate), ("conversation_created_by?", Str),
    ("conversation_state", Enum(&["inactive", "active", "closed"])), ("conversation_timers?", Any),
    ("links?", Links),
];
#[rustfmt::skip]
const WEBHOOK_CONFIGURATION: Schema = &[
    ("account_sid?", Sid("AC")), ("method", Enum(&["GET", "POST"])), ("filters?", Strings),
    ("pre_webhook_url?", Str), ("post_webhook_url?", Str), ("target", Enum(&["webhook", "flex"])),
    ("url?", Url),
];
#[rustfmt::skip]
const AVAILABLE_PHONE_NUMBER_LOCAL_PAGE: Schema = &[
    ("end", Int), ("first_page_uri", Path), ("next_page_uri?", Path), ("page", Int),
    ("page_size", Int), ("previous_page_uri?", Path), ("start", Int), ("uri", Path),
    ("available_phone_numbers", Items(AVAILABLE_PHONE_NUMBER_LOCAL)),
];
#[rustfmt::skip]
const INCOMING_PHONE_NUMBER_PAGE: Schema = &[
    ("end", Int), ("first_page_uri", Path), ("next_page_uri?", Path), ("page", Int),
    ("page_size", Int), ("previous_page_uri?", Path), ("start", Int), ("uri", Path),
    ("incoming_phone_numbers", Items(INCOMING_PHONE_NUMBER)),
];
#[rustfmt::skip]
const MESSAGE_PAGE: Schema = &[
    ("end", Int), ("first_page_uri", Path), ("next_page_uri?", Path), ("page", Int),
    ("page_size", Int), ("previous_page_uri?", Path), ("start", Int), ("uri", Path),
    ("messages", Items(MESSAGE)),
];
#[rustfmt::skip]
const META: Schema = &[
    ("first_page_url", Url), ("key", Str), ("next_page_url?", Url), ("page", Int),
    ("page_size", Int), ("previous_page_url?", Url), ("url", Url),
];
#[rustfmt::skip]
const MESSAGING_SERVICE_PAGE: Schema = &[
    ("services", Items(MESSAGING_SERVICE)), ("meta", Object(META)),
];
#[rustfmt::skip]
const SERVICE_PHONE_NUMBER_PAGE: Schema = &[
    ("phone_numbers", Items(SERVICE_PHONE_NUMBER)), ("meta", Object(META)),
];
#[rustfmt::skip]
const CONVERSATION_PAGE: Schema = &[
    ("conversations", Items(CONVERSATION)), ("meta", Object(META)),
];
#[rustfmt::skip]
const PARTICIPANT_PAGE: Schema = &[
    ("participants", Items(PARTICIPANT)), ("meta", Object(META)),
];
#[rustfmt::skip]
const CONVERSATION_MESSAGE_PAGE: Schema = &[
    ("messages", Items(CONVERSATION_MESSAGE)), ("meta", Object(META)),
];
#[rustfmt::skip]
const PARTICIPANT_CONVERSATION_PAGE: Schema = &[
    ("conversations", Items(PARTICIPANT_CONVERSATION)), ("meta", Object(META)),
];

/// The Messages list filters as Twilio's does (`To`, `From` exactly; `DateSent`, `DateSent<`,
/// `DateSent>` by the GMT day sent, bounds included) and keeps its filters in every paging URI,
/// as the spec's examples show (`?To=%2B1...&DateSent%3E=2008-01-02&PageSize=2&Page=0`); our
/// client's listing sends exactly those parameters.
#[tokio::test]
async fn the_messages_list_filters_by_recipient_sender_and_day_sent_and_keeps_the_filters_in_its_uris()
 {
    let app = spawn_sandbox_app().await;
    let bought = app
        .emulator_post(
            &format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers.json"),
            &[("PhoneNumber", OUR_NUMBER)],
        )
        .await;
    assert_eq!(bought.status().as_u16(), 201);
    let messages = format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Messages.json");
    for (to, body) in [
        (NEIGHBOR, "one"),
        (NEIGHBOR, "two"),
        ("+15551230002", "three"),
    ] {
        let sent = app
            .emulator_post(
                &messages,
                &[("To", to), ("From", OUR_NUMBER), ("Body", body)],
            )
            .await;
        assert_eq!(sent.status().as_u16(), 201);
    }
    let today = OffsetDateTime::now_utc().date();
    let day = |date: time::Date| {
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    };
    let (today_s, yesterday_s) = (day(today), day(today.previous_day().expect("a day before")));
    let list = |query: String| {
        let app = &app;
        let messages = &messages;
        async move {
            let response = app.emulator_get(&format!("{messages}?{query}")).await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let bodies = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["body"].as_str().expect("body").to_owned())
            .collect()
    };

    let (status, to_neighbor) = list("To=%2B15551230001".to_owned()).await;
    assert_eq!(status, 200);
    assert_eq!(bodies(&to_neighbor), ["one", "two"]);
    let (_, from_elsewhere) = list("From=%2B14155550124".to_owned()).await;
    assert_eq!(bodies(&from_elsewhere), Vec::<String>::new());
    for (query, expected) in [
        (format!("DateSent={today_s}"), 3),
        (format!("DateSent%3E={today_s}"), 3),
        (format!("DateSent%3C={today_s}"), 3),
        (format!("DateSent%3C={yesterday_s}"), 0),
        (format!("DateSent={yesterday_s}"), 0),
    ] {
        let (_, page) = list(query.clone()).await;
        assert_eq!(bodies(&page).len(), expected, "{query}");
    }
    let (status, refused) = list("DateSent%3E=soon".to_owned()).await;
    assert_eq!(status, 400, "{refused}");

    let (_, first) = list(format!(
        "To=%2B15551230001&From=%2B14155550123&DateSent%3E={today_s}&PageSize=1"
    ))
    .await;
    let filters = format!("To=%2B15551230001&From=%2B14155550123&DateSent%3E={today_s}");
    assert_eq!(bodies(&first), ["one"]);
    for uri in ["uri", "first_page_uri", "next_page_uri"] {
        let value = first[uri].as_str().unwrap_or_default();
        assert!(
            value.contains(&format!("Messages.json?{filters}&PageSize=1")),
            "{uri}: {value}"
        );
    }
    let next = first["next_page_uri"].as_str().expect("next");
    let second = app
        .emulator_get(&format!("/api{next}"))
        .await
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(bodies(&second), ["two"]);
    assert!(second["next_page_uri"].is_null(), "{second}");

    let client = crate::helpers::emulator_client(&app);
    let listed = client
        .list_messages(&neighborhood_text::twilio::types::ListMessages {
            to: Some(NEIGHBOR.to_owned()),
            from: Some(OUR_NUMBER.to_owned()),
            sent_on_or_after: Some(today),
            page_size: Some(1),
            ..Default::default()
        })
        .await
        .expect("listed");
    let listed: Vec<_> = listed.iter().filter_map(|m| m.body.as_deref()).collect();
    assert_eq!(listed, ["one", "two"], "every page, filters kept");
}
