//! Issue 26, first part: integrators register endpoints, get a secret once, send a test event
//! signed as the Standard Webhooks specification says (checked here by the specification's Rust
//! library and by an HMAC computed in the test itself), rotate the secret with an overlap, read
//! the delivery log; and an endpoint cannot point into the service's own network.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, Who, mount_working_twilio, spawn_app, spawn_sandbox_app};

async fn neighborhood(app: &TestApp) -> String {
    let created = app
        .create_neighborhood(
            &json!({"name": "Hooked Heights", "area_code": "212", "owner_phone": "+15550081000"}),
        )
        .await;
    created["id"].as_str().expect("id").to_owned()
}

async fn receiver() -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    receiver
}

/// Registers an endpoint on the receiver for `events`; answers the creation and its secret and id.
async fn register(
    app: &TestApp,
    base: &str,
    receiver: &MockServer,
    events: Value,
) -> (Value, String, String) {
    let created = app
        .post(
            &Who::Admin,
            base,
            &json!({
                "url": format!("{}/hooks", receiver.uri()),
                "events": events,
                "description": "The association's CRM",
            }),
            201,
        )
        .await;
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let endpoint = created["endpoint"]["id"].as_str().expect("id").to_owned();
    (created, secret, endpoint)
}

/// The one request the receiver has had, and the `v1,` signatures it carried.
async fn received(receiver: &MockServer) -> (wiremock::Request, Vec<String>) {
    let mut requests = receiver.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1, "one delivery");
    let request = requests.remove(0);
    let signatures = header(&request, "webhook-signature")
        .split(' ')
        .map(str::to_owned)
        .collect();
    (request, signatures)
}

pub(crate) fn header<'a>(request: &'a wiremock::Request, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret's bytes, as
/// the specification defines it, computed here rather than by the service's library.
fn expected_signature(secret: &str, request: &wiremock::Request) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("prefix"))
        .expect("base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    mac.update(header(request, "webhook-id").as_bytes());
    mac.update(b".");
    mac.update(header(request, "webhook-timestamp").as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

fn verifies(secret: &str, request: &wiremock::Request) -> bool {
    standardwebhooks::Webhook::new(secret)
        .expect("secret")
        .verify(&request.body, &request.headers)
        .is_ok()
}

#[tokio::test]
async fn a_test_event_reaches_the_endpoint_signed_and_goes_into_its_log() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app).await;
    let receiver = receiver().await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let (created, secret, endpoint) = register(
        &app,
        &base,
        &receiver,
        json!(["member.joined", "message.posted"]),
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(
        created["endpoint"]["events"],
        json!(["member.joined", "message.posted"])
    );
    // The secret is shown once: never in the list.
    let listed = app.get(&Who::Admin, &base, 200).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    assert!(!listed.to_string().contains(&secret[6..]), "{listed}");

    let sent = app
        .post(
            &Who::Admin,
            &format!("{base}/{endpoint}/test"),
            &json!({}),
            200,
        )
        .await;
    assert_eq!(sent["delivered"], true, "{sent}");
    assert_eq!(sent["status"], 204);
    assert_eq!(sent["event_type"], "webhook.test");

    let (request, signatures) = received(&receiver).await;
    assert_eq!(header(&request, "webhook-id"), sent["event_id"]);
    assert_eq!(header(&request, "content-type"), "application/json");
    let sent_at: i64 = header(&request, "webhook-timestamp")
        .parse()
        .expect("seconds");
    assert!((time::OffsetDateTime::now_utc().unix_timestamp() - sent_at).abs() < 300);
    assert_eq!(signatures, vec![expected_signature(&secret, &request)]);
    assert!(verifies(&secret, &request));
    let payload: Value = serde_json::from_slice(&request.body).expect("JSON");
    assert_eq!(payload["type"], "webhook.test");
    assert_eq!(payload["data"]["neighborhood_id"], id.as_str());
    assert!(payload["timestamp"].is_string());

    let log = app
        .get(&Who::Admin, &format!("{base}/{endpoint}/deliveries"), 200)
        .await;
    assert_eq!(log["items"].as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(log["items"][0]["event_id"], sent["event_id"]);
    assert_eq!(log["items"][0]["status"], 204);
    assert_eq!(log["items"][0]["attempt"], 1);

    app.delete(&Who::Admin, &format!("{base}/{endpoint}"), 204)
        .await;
    app.post(
        &Who::Admin,
        &format!("{base}/{endpoint}/test"),
        &json!({}),
        404,
    )
    .await;
    let listed = app.get(&Who::Admin, &base, 200).await;
    assert_eq!(listed["items"], json!([]));

    // An archived neighborhood takes no new endpoint.
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;
    let refused = app
        .post(
            &Who::Admin,
            &base,
            &json!({"url": format!("{}/hooks", receiver.uri()), "events": ["member.left"]}),
            409,
        )
        .await;
    assert_eq!(refused["code"], "neighborhood_archived", "{refused}");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one_for_a_day() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app).await;
    let receiver = receiver().await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let (_, old, endpoint) = register(&app, &base, &receiver, json!(["member.left"])).await;

    let rotated = app
        .post(
            &Who::Admin,
            &format!("{base}/{endpoint}/rotate-secret"),
            &json!({}),
            200,
        )
        .await;
    let new = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    let expires = time::OffsetDateTime::parse(
        rotated["previous_secret_expires_at"]
            .as_str()
            .expect("expiry"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    let in_a_day = time::OffsetDateTime::now_utc() + time::Duration::hours(24);
    assert!((in_a_day - expires).abs() < time::Duration::minutes(1));

    app.post(
        &Who::Admin,
        &format!("{base}/{endpoint}/test"),
        &json!({}),
        200,
    )
    .await;
    let (request, signatures) = received(&receiver).await;
    // One signature per secret, the new one first: a receiver holding either verifies it.
    assert_eq!(
        signatures,
        vec![
            expected_signature(&new, &request),
            expected_signature(&old, &request)
        ]
    );
    assert!(verifies(&new, &request) && verifies(&old, &request));
    assert!(!verifies(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        &request
    ));
    let listed = app.get(&Who::Admin, &base, 200).await;
    assert_eq!(
        listed["items"][0]["previous_secret_expires_at"],
        rotated["previous_secret_expires_at"]
    );
}

#[tokio::test]
async fn an_endpoint_must_be_https_on_the_public_internet_and_name_its_events_once() {
    let app = spawn_app().await;
    mount_working_twilio(&app.twilio).await;
    let id = neighborhood(&app).await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    for url in [
        "http://crm.example.org/hooks",
        "crm.example.org/hooks",
        "https://user:secret@crm.example.org/hooks",
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.0.0.7/hooks",
        "https://172.20.1.1/hooks",
        "https://192.168.1.20/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.1.1/hooks",
        "https://[::1]/hooks",
        "https://[fd12::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
    ] {
        let refused = app
            .post(
                &Who::Admin,
                &base,
                &json!({"url": url, "events": ["member.joined"]}),
                400,
            )
            .await;
        assert_eq!(refused["code"], "validation_failed", "{url}: {refused}");
        assert_eq!(refused["details"][0]["field"], "url", "{url}: {refused}");
    }
    for events in [json!([]), json!(["member.joined", "member.joined"])] {
        let refused = app
            .post(
                &Who::Admin,
                &base,
                &json!({"url": "https://crm.example.org/hooks", "events": events}),
                400,
            )
            .await;
        assert_eq!(refused["details"][0]["field"], "events", "{refused}");
    }
    app.post(
        &Who::Admin,
        &base,
        &json!({"url": "https://crm.example.org/hooks", "events": ["member.deleted"]}),
        400,
    )
    .await;
    // A public https URL is taken.
    app.post(
        &Who::Admin,
        &base,
        &json!({"url": "https://crm.example.org/hooks", "events": ["budget.alert"]}),
        201,
    )
    .await;
    let listed = app.get(&Who::Admin, &base, 200).await;
    assert_eq!(listed["items"][0]["url"], "https://crm.example.org/hooks");
}

/// Settings of an instance whose failed deliveries are retried at once (`NT_EVENT_RETRY_SECS`
/// of zeros), so a test sees the whole sequence without waiting a day.
fn retrying_at_once(retries: usize) -> impl FnOnce(&mut neighborhood_text::config::Settings) {
    move |settings| settings.event_retry_secs = vec![0; retries]
}

/// A receiver that answers 500 to its first `failures` deliveries, then 204.
async fn failing_receiver(failures: u64) -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(500).set_body_string("database is down"))
        .up_to_n_times(failures)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&receiver)
        .await;
    receiver
}

/// Waits until the receiver has had `count` requests; answers them in the order they came.
async fn requests_received(receiver: &MockServer, count: usize) -> Vec<wiremock::Request> {
    crate::helpers::poll_until(
        std::time::Duration::from_secs(60),
        &format!("{count} deliveries at the receiver"),
        || async {
            let requests = receiver.received_requests().await.unwrap_or_default();
            (requests.len() >= count).then_some(requests)
        },
    )
    .await
}

fn payload(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).expect("JSON payload")
}

#[tokio::test]
async fn events_reach_an_endpoint_once_each_in_order_from_two_instances_through_three_failures() {
    let receiver = failing_receiver(3).await;
    let first = crate::helpers::spawn_counting_sandbox_app(retrying_at_once(5)).await;
    let second = crate::helpers::spawn_sandbox_instance(&first.prefix, retrying_at_once(5)).await;
    let id = neighborhood(&first).await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let (_, secret, endpoint) = register(
        &first,
        &base,
        &receiver,
        json!(["member.joined", "member.left", "member.removed"]),
    )
    .await;

    // Ten neighbors added through one instance or the other, then one removed by a captain
    // and one who texts LEAVE: twelve events, in this order.
    let mut expected = Vec::new();
    let mut members = Vec::new();
    for n in 0..10 {
        let app = if n % 2 == 0 { &first } else { &second };
        let name = format!("Neighbor {n}");
        let added = app
            .post(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/members"),
                &json!({"phone": format!("+1555008{n:04}"), "display_name": name}),
                202,
            )
            .await;
        members.push(added["id"].as_str().expect("member id").to_owned());
        expected.push(("member.joined", name));
    }
    // In the group text, so a LEAVE reaches its Conversation.
    crate::helpers::wait_until_synced(&first, &id, 11, std::time::Duration::from_secs(60)).await;
    second
        .delete(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members/{}", members[3]),
            200,
        )
        .await;
    expected.push(("member.removed", "Neighbor 3".to_owned()));
    let number = first
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await["phone_number"]
        .as_str()
        .expect("number")
        .to_owned();
    let left = first.text("+15550080007", &number, "LEAVE").await;
    assert_eq!(left["outcome"], "rejected", "kept out of the group: {left}");
    expected.push(("member.left", "Neighbor 7".to_owned()));

    // The first event three times (refused), then each once, in order.
    let requests = requests_received(&receiver, expected.len() + 3).await;
    let ids: Vec<&str> = requests
        .iter()
        .map(|request| header(request, "webhook-id"))
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert_eq!(
        ids[2], ids[3],
        "the fourth attempt is still the first event"
    );
    let delivered = &requests[3..];
    let seen: Vec<(String, String)> = delivered
        .iter()
        .map(|request| {
            let payload = payload(request);
            (
                payload["type"].as_str().unwrap_or_default().to_owned(),
                payload["data"]["display_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(kind, name)| (kind.to_owned(), name))
        .collect();
    assert_eq!(seen, expected, "each event once, in the order it happened");
    let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), expected.len(), "one webhook-id per event");
    for request in &requests {
        assert_eq!(
            vec![expected_signature(&secret, request)],
            header(request, "webhook-signature")
                .split(' ')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        );
        assert!(verifies(&secret, request));
        let payload = payload(request);
        assert_eq!(payload["data"]["neighborhood_id"], id.as_str());
        assert!(
            payload["data"].get("phone").is_none(),
            "no phone unless asked: {payload}"
        );
        assert!(!String::from_utf8_lossy(&request.body).contains("+1555008"));
    }

    // The log shows the three refusals and the fourth attempt's success.
    let log = first
        .get(
            &Who::Admin,
            &format!("{base}/{endpoint}/deliveries?limit=500"),
            200,
        )
        .await;
    let log = log["items"].as_array().expect("items").clone();
    let first_event: Vec<&Value> = log.iter().filter(|d| d["event_id"] == ids[0]).collect();
    let mut attempts: Vec<(u64, u64)> = first_event
        .iter()
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap_or(0),
                d["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    attempts.sort_unstable();
    assert_eq!(attempts, vec![(1, 500), (2, 500), (3, 500), (4, 204)]);
    assert_eq!(log.len(), expected.len() + 3, "one log entry per attempt");
    let listed = first.get(&Who::Admin, &base, 200).await;
    assert_eq!(listed["items"][0]["enabled"], true);
    assert_eq!(listed["items"][0]["failed_attempts"], 0);
    println!(
        "two instances, receiver failing the first 3 attempts: {} requests at the receiver for {} \
         events ({} refused, {} taken, {} distinct webhook-ids), in order",
        requests.len(),
        expected.len(),
        3,
        delivered.len(),
        distinct.len()
    );
}

/// The receiver's deliveries as (type, display name or body), in the order they came.
async fn seen(receiver: &MockServer) -> Vec<(String, String)> {
    receiver
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|request| {
            let payload = payload(request);
            let data = &payload["data"];
            let said = data["display_name"]
                .as_str()
                .or(data["body"].as_str())
                .unwrap_or_default();
            (
                payload["type"].as_str().unwrap_or_default().to_owned(),
                said.to_owned(),
            )
        })
        .collect()
}

async fn endpoint_listed(app: &TestApp, base: &str) -> Value {
    app.get(&Who::Admin, base, 200).await["items"][0].clone()
}

#[tokio::test]
async fn an_endpoint_failing_too_long_is_turned_off_the_captains_told_and_on_again_it_carries_on() {
    let receiver = failing_receiver(3).await;
    let app = crate::helpers::spawn_counting_sandbox_app(retrying_at_once(2)).await;
    let id = neighborhood(&app).await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let (_, _, endpoint) = register(&app, &base, &receiver, json!(["member.joined"])).await;
    let before_any = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let members = format!("/api/v1/neighborhoods/{id}/members");
    app.post(
        &Who::Admin,
        &members,
        &json!({"phone": "+15550083001", "display_name": "Ana Field"}),
        202,
    )
    .await;

    // Three attempts fail (the first and its two retries): the endpoint is turned off.
    crate::helpers::eventually(
        std::time::Duration::from_secs(30),
        "the endpoint turned off",
        || async { endpoint_listed(&app, &base).await["enabled"] == false },
    )
    .await;
    let listed = endpoint_listed(&app, &base).await;
    let reason = listed["disabled_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("3 attempts") && reason.contains("500"),
        "{listed}"
    );
    assert!(listed["disabled_at"].is_string(), "{listed}");
    let told = app.wait_for_text("+15550081000", "turned off").await;
    assert!(
        told.contains("Hooked Heights") && told.contains("127.0.0.1"),
        "{told}"
    );
    let audit = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit"),
            200,
        )
        .await;
    assert!(
        audit.to_string().contains("event_endpoint.disabled"),
        "{audit}"
    );

    // Turned off, it is sent nothing; what happens meanwhile waits for it.
    app.post(
        &Who::Admin,
        &members,
        &json!({"phone": "+15550083002", "display_name": "Bo Lane"}),
        202,
    )
    .await;
    assert_eq!(
        receiver.received_requests().await.unwrap_or_default().len(),
        3
    );
    app.post(
        &Who::Admin,
        &format!("{base}/{endpoint}/enable"),
        &json!({}),
        204,
    )
    .await;
    requests_received(&receiver, 5).await;
    let joined = |name: &str| ("member.joined".to_owned(), name.to_owned());
    assert_eq!(
        seen(&receiver).await,
        vec![
            joined("Ana Field"),
            joined("Ana Field"),
            joined("Ana Field"),
            joined("Ana Field"),
            joined("Bo Lane"),
        ]
    );
    assert_eq!(endpoint_listed(&app, &base).await["enabled"], true);

    // A replay since before both sends both again, in order, with their ids.
    let replayed = app
        .post(
            &Who::Admin,
            &format!("{base}/{endpoint}/replay"),
            &json!({"since": before_any.format(&time::format_description::well_known::Rfc3339).expect("time")}),
            202,
        )
        .await;
    assert_eq!(replayed["events"], 2, "{replayed}");
    let requests = requests_received(&receiver, 7).await;
    assert_eq!(
        header(&requests[5], "webhook-id"),
        header(&requests[3], "webhook-id")
    );
    assert_eq!(
        header(&requests[6], "webhook-id"),
        header(&requests[4], "webhook-id")
    );

    // One event again, now.
    let again = app
        .post(
            &Who::Admin,
            &format!("{base}/{endpoint}/replay"),
            &json!({"event_id": header(&requests[4], "webhook-id")}),
            202,
        )
        .await;
    assert_eq!(again["events"], 1);
    assert_eq!(again["delivery"]["status"], 204, "{again}");
    assert_eq!(again["delivery"]["replayed"], true);
    let requests = requests_received(&receiver, 8).await;
    assert_eq!(
        header(&requests[7], "webhook-id"),
        header(&requests[4], "webhook-id")
    );
    println!(
        "an endpoint failing 3 attempts with 2 retries: turned off, the owner texted, 1 event \
         held meanwhile; on again: {} requests in all (3 refused, 2 taken, 2 replayed since a \
         time, 1 replayed alone)",
        requests.len()
    );

    // Both, or neither: refused.
    for body in [
        json!({}),
        json!({"since": "2026-01-01T00:00:00Z", "event_id": "evt_1"}),
    ] {
        app.post(
            &Who::Admin,
            &format!("{base}/{endpoint}/replay"),
            &body,
            400,
        )
        .await;
    }
    let unknown = app
        .post(
            &Who::Admin,
            &format!("{base}/{endpoint}/replay"),
            &json!({"event_id": "evt_nothing"}),
            400,
        )
        .await;
    assert!(unknown.to_string().contains("event_id"), "{unknown}");
}

#[tokio::test]
async fn the_catalogs_events_tell_what_happened_with_phones_only_where_asked_for() {
    let app = crate::helpers::spawn_counting_sandbox_app(|_| {}).await;
    let id = neighborhood(&app).await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let with_phones = receiver().await;
    let all: Vec<&str> = vec![
        "member.joined",
        "member.left",
        "member.removed",
        "member.opted_out",
        "join_request.created",
        "join_request.decided",
        "message.posted",
        "announcement.sent",
        "budget.alert",
    ];
    app.post(
        &Who::Admin,
        &base,
        &json!({"url": format!("{}/hooks", with_phones.uri()), "events": all, "include_phones": true}),
        201,
    )
    .await;
    let without_phones = receiver().await;
    register(
        &app,
        &base,
        &without_phones,
        json!(["join_request.created", "message.posted"]),
    )
    .await;
    let number = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await["phone_number"]
        .as_str()
        .expect("number")
        .to_owned();

    // A neighbor texts JOIN, a captain approves, she writes to the group, the captains
    // announce, she texts STOP.
    const DANA: &str = "+15550084001";
    app.text(DANA, &number, "JOIN Dana Reyes").await;
    let pending = crate::helpers::poll_until(
        std::time::Duration::from_secs(20),
        "Dana's join request",
        || async {
            let listed = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
                    200,
                )
                .await;
            listed["items"][0]["id"].as_str().map(str::to_owned)
        },
    )
    .await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{pending}/approve"),
        &json!({}),
        202,
    )
    .await;
    crate::helpers::wait_until_synced(&app, &id, 2, std::time::Duration::from_secs(30)).await;
    app.text(DANA, &number, "Lost cat on Elm, grey tabby").await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "Street sweeping moved to Tuesday"}),
        202,
    )
    .await;
    app.text(DANA, &number, "STOP").await;

    let expected = [
        ("join_request.created", "Dana Reyes"),
        ("join_request.decided", "Dana Reyes"),
        ("member.joined", "Dana Reyes"),
        ("message.posted", "Lost cat on Elm, grey tabby"),
        ("announcement.sent", "Street sweeping moved to Tuesday"),
        ("member.opted_out", "Dana Reyes"),
    ];
    let requests = requests_received(&with_phones, expected.len()).await;
    assert_eq!(
        seen(&with_phones).await,
        expected
            .iter()
            .map(|(kind, said)| ((*kind).to_owned(), (*said).to_owned()))
            .collect::<Vec<_>>()
    );
    let data: Vec<Value> = requests
        .iter()
        .map(|r| payload(r)["data"].clone())
        .collect();
    assert_eq!(data[1]["decision"], "approved");
    assert_eq!(data[1]["member_id"], data[2]["member_id"]);
    assert_eq!(data[3]["member_id"], data[2]["member_id"]);
    assert_eq!(data[3]["sender_name"], "Dana Reyes");
    for about_dana in [0, 1, 2, 5] {
        assert_eq!(data[about_dana]["phone"], DANA, "{}", data[about_dana]);
    }
    assert!(data[3].get("phone").is_none() && data[4].get("phone").is_none());

    // The other endpoint: its two types only, and no phone.
    let others = requests_received(&without_phones, 2).await;
    assert_eq!(
        seen(&without_phones).await,
        vec![
            ("join_request.created".to_owned(), "Dana Reyes".to_owned()),
            (
                "message.posted".to_owned(),
                "Lost cat on Elm, grey tabby".to_owned()
            ),
        ]
    );
    assert!(
        others
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains(DANA))
    );

    // Every body is what the OpenAPI document describes, and the event log lists the same
    // events, ids and bodies, a page at a time.
    let document = crate::conformance::Document::committed();
    for request in requests.iter().chain(&others) {
        document.check_component("IntegratorEventPayload", &payload(request));
    }
    let template = "/api/v1/neighborhoods/{id}/event-log";
    let log = format!("/api/v1/neighborhoods/{id}/event-log");
    let page = |path: String| {
        let document = &document;
        let app = &app;
        async move {
            crate::conformance::call(app, document, Method::GET, template, &path, None, 200).await
        }
    };
    let first = page(format!("{log}?limit=4")).await;
    let cursor = first["cursor"].as_str().expect("cursor");
    let second = page(format!("{log}?limit=4&after={cursor}")).await;
    let last_cursor = second["cursor"].as_str().expect("cursor");
    let after_last = page(format!("{log}?after={last_cursor}")).await;
    assert_eq!(after_last, json!({"items": [], "cursor": last_cursor}));
    let listed: Vec<&Value> = first["items"]
        .as_array()
        .into_iter()
        .chain(second["items"].as_array())
        .flatten()
        .collect();
    assert_eq!(
        (first["items"].as_array().map(Vec::len), listed.len()),
        (Some(4), expected.len())
    );
    for (item, request) in listed.iter().zip(&requests) {
        let webhook_id = request
            .headers
            .get("webhook-id")
            .and_then(|value| value.to_str().ok());
        assert_eq!(item["id"].as_str(), webhook_id);
        assert_eq!(item["event"], payload(request));
    }
    app.get(&Who::Admin, &format!("{log}?after=yesterday"), 400)
        .await;
}

#[tokio::test]
async fn an_endpoint_registered_before_events_were_logged_is_sent_them_too() {
    let app = crate::helpers::spawn_counting_sandbox_app(|_| {}).await;
    let id = neighborhood(&app).await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let receiver = receiver().await;
    let (_, _, endpoint) = register(&app, &base, &receiver, json!(["member.joined"])).await;
    // As stored by the first release of endpoints: the record, and no progress through events.
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let neighborhood = uuid::Uuid::parse_str(&id).expect("uuid");
    let mut redis = crate::helpers::test_redis().await;
    let _: () = redis::cmd("HDEL")
        .arg(keys.endpoint_progress(neighborhood))
        .arg(
            uuid::Uuid::parse_str(&endpoint)
                .expect("uuid")
                .simple()
                .to_string(),
        )
        .query_async(&mut redis)
        .await
        .expect("HDEL");
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members"),
        &json!({"phone": "+15550085001", "display_name": "Eli Park"}),
        202,
    )
    .await;
    requests_received(&receiver, 1).await;
    assert_eq!(
        seen(&receiver).await,
        vec![("member.joined".to_owned(), "Eli Park".to_owned())]
    );
}

#[tokio::test]
async fn a_neighborhood_has_at_most_ten_endpoints_even_when_several_are_registered_at_once() {
    let app = spawn_sandbox_app().await;
    let id = neighborhood(&app).await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let receiver = receiver().await;
    for _ in 0..8 {
        register(&app, &base, &receiver, json!(["member.joined"])).await;
    }
    let attempts = (0..5).map(|_| {
        app.http
            .post(app.url(&base))
            .json(&json!({"url": format!("{}/hooks", receiver.uri()), "events": ["member.left"]}))
            .send()
    });
    let mut statuses = Vec::new();
    for answer in futures::future::join_all(attempts).await {
        let answer = answer.expect("request sent");
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.expect("JSON");
        if status == 400 {
            assert_eq!(body["details"][0]["field"], "url", "{body}");
        }
        statuses.push(status);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 400, 400, 400]);
    let listed = app.get(&Who::Admin, &base, 200).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(10));
}
