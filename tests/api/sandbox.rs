//! Sandbox mode: the emulator enforces Twilio's rules, routes texts as Twilio does and signs its
//! webhooks; the service runs its neighborhood lifecycle against it. Webhooks are received by a
//! wiremock server that checks `X-Twilio-Signature` with its own HMAC, not the project's code.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

mod media;

use crate::helpers::{
    SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_SERVICE_SID, TestApp, Who, eventually,
    json_of, poll_until, sandbox_settings, spawn_sandbox_app, spawn_sandbox_app_with,
};

/// Matches requests whose `X-Twilio-Signature` is right for `base` + path and the form body,
/// computed here independently: base64(HMAC-SHA1(token, url + sorted name/value pairs)).
struct SignedByTwilio {
    base: String,
}

impl Match for SignedByTwilio {
    fn matches(&self, request: &Request) -> bool {
        let mut signed = format!("{}{}", self.base, request.url.path());
        if let Some(query) = request.url.query() {
            signed.push('?');
            signed.push_str(query);
        }
        let mut params: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .into_owned()
            .collect();
        params.sort();
        for (name, value) in params {
            signed.push_str(&name);
            signed.push_str(&value);
        }
        let mut mac =
            Hmac::<Sha1>::new_from_slice(SANDBOX_AUTH_TOKEN.as_bytes()).expect("hmac key");
        mac.update(signed.as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let token_present = request.headers.get("I-Twilio-Idempotency-Token").is_some();
        token_present
            && request
                .headers
                .get("X-Twilio-Signature")
                .and_then(|v| v.to_str().ok())
                == Some(expected.as_str())
    }
}

fn signed(receiver: &MockServer) -> SignedByTwilio {
    SignedByTwilio {
        base: receiver.uri(),
    }
}

fn form_of(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .unwrap_or_default()
}

/// Requests the receiver got at `path` with `EventType` = `event`.
async fn events(receiver: &MockServer, at: &str, event: &str) -> Vec<Vec<(String, String)>> {
    receiver
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| request.url.path() == at)
        .map(form_of)
        .filter(|form| event.is_empty() || field(form, "EventType") == event)
        .collect()
}

/// A neighborhood with members bound to its Conversation.
struct Group {
    number: String,
    conversation: String,
}

async fn group_with(app: &TestApp, members: &[&str]) -> Group {
    let created = app
        .create_neighborhood(
            &json!({"owner_phone": "+15550000999", "name": "Test Street", "area_code": "415"}),
        )
        .await;
    let number = created["phone_number"].as_str().expect("number").to_owned();
    let conversation = created["shards"][0]["conversation_sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    for member in members {
        add_participant(app, &conversation, member, &number)
            .await
            .expect("participant added");
    } // The owner joins through the outbox; wait, so every test starts from the same group.
    let id = created["id"].as_str().expect("id").to_owned();
    eventually(
        Duration::from_secs(20),
        "the owner to join the group",
        || async {
            let listed = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/members"),
                    200,
                )
                .await;
            listed["items"]
                .as_array()
                .is_some_and(|items| items.iter().all(|m| m["sync"] == "done"))
        },
    )
    .await;

    Group {
        number,
        conversation,
    }
}

async fn add_participant(
    app: &TestApp,
    conversation: &str,
    address: &str,
    proxy: &str,
) -> Result<Value, (u16, Value)> {
    let response = app
        .emulator_post(
            &format!("/conversations/v1/Conversations/{conversation}/Participants"),
            &[
                ("MessagingBinding.Address", address),
                ("MessagingBinding.ProxyAddress", proxy),
            ],
        )
        .await;
    let (status, body) = json_of(response).await;
    if status == 201 {
        Ok(body)
    } else {
        Err((status, body))
    }
}

/// Points the emulated account's webhooks, and the number's SMS URL, at `receiver`.
async fn route_webhooks_to(app: &TestApp, receiver: &MockServer, number: &str) {
    let (pre, post) = (
        format!("{}/pre", receiver.uri()),
        format!("{}/post", receiver.uri()),
    );
    let response = app
        .emulator_post(
            "/conversations/v1/Configuration/Webhooks",
            &[
                ("PreWebhookUrl", pre.as_str()),
                ("PostWebhookUrl", post.as_str()),
                ("Method", "POST"),
                ("Filters", "onMessageAdd"),
                ("Filters", "onMessageAdded"),
                ("Filters", "onDeliveryUpdated"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let found: Value = app
        .emulator_get(&format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers.json?PhoneNumber={}", number.replace('+', "%2B")))
        .await
        .json()
        .await
        .expect("numbers");
    let sid = found["incoming_phone_numbers"][0]["sid"]
        .as_str()
        .expect("number sid")
        .to_owned();
    let sms = format!("{}/sms", receiver.uri());
    let response = app
        .emulator_post(
            &format!(
                "/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers/{sid}.json"
            ),
            &[("SmsUrl", sms.as_str())],
        )
        .await;
    assert_eq!(response.status(), 200);
}

/// A receiver that accepts every signed webhook: pre-event passes messages unchanged.
async fn accept_everything(receiver: &MockServer) {
    for at in ["/pre", "/post", "/sms"] {
        Mock::given(method("POST"))
            .and(path(at))
            .and(signed(receiver))
            .respond_with(ResponseTemplate::new(200))
            .with_priority(10)
            .mount(receiver)
            .await;
    }
}

const ANA: &str = "+15550001001";
const BEN: &str = "+15550001002";
const CY: &str = "+15550001003";

#[tokio::test]
async fn the_neighborhood_lifecycle_runs_against_the_emulator() {
    let app = spawn_sandbox_app().await;

    let created = app
        .create_neighborhood(
            &json!({"owner_phone": "+15550000999", "name": "Elm Street", "area_code": "212"}),
        )
        .await;
    let number = created["phone_number"].as_str().expect("number");
    assert!(number.starts_with("+121255501"), "{number}");
    let conversation_sid = created["shards"][0]["conversation_sid"]
        .as_str()
        .expect("sid");
    let number_sid = created["phone_number_sid"].as_str().expect("sid");

    let (status, conversation) = json_of(
        app.emulator_get(&format!(
            "/conversations/v1/Conversations/{conversation_sid}"
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(conversation["friendly_name"], "Elm Street");
    assert_eq!(conversation["messaging_service_sid"], SANDBOX_SERVICE_SID);
    assert_eq!(conversation["state"], "active");
    let (_, owned) = json_of(
        app.emulator_get(&format!(
            "/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers/{number_sid}.json"
        ))
        .await,
    )
    .await;
    assert_eq!(
        owned["sms_url"],
        "https://text.example.org/webhooks/twilio/sms"
    );
    let (status, _) = json_of(
        app.emulator_get(&format!(
            "/messaging/v1/Services/{SANDBOX_SERVICE_SID}/PhoneNumbers/{number_sid}"
        ))
        .await,
    )
    .await;
    assert_eq!(status, 200, "the number joined the Messaging Service");

    let id = created["id"].as_str().expect("id");
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"name": "Elm Court"}),
        200,
    )
    .await;
    let (_, conversation) = json_of(
        app.emulator_get(&format!(
            "/conversations/v1/Conversations/{conversation_sid}"
        ))
        .await,
    )
    .await;
    assert_eq!(conversation["friendly_name"], "Elm Court");

    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": true}),
        200,
    )
    .await;
    let (_, conversation) = json_of(
        app.emulator_get(&format!(
            "/conversations/v1/Conversations/{conversation_sid}"
        ))
        .await,
    )
    .await;
    assert_eq!(conversation["state"], "closed");
    let (status, body) = json_of(
        app.emulator_get(&format!(
            "/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers/{number_sid}.json"
        ))
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_i64()),
        (404, Some(20404)),
        "the number was released"
    );
}

#[tokio::test]
async fn one_address_and_proxy_pair_is_bound_in_one_open_conversation_only() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA]).await;
    let (status, other) = json_of(
        app.emulator_post(
            "/conversations/v1/Conversations",
            &[
                ("FriendlyName", "Other"),
                ("MessagingServiceSid", SANDBOX_SERVICE_SID),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let other = other["sid"].as_str().expect("sid").to_owned();

    let (status, error) = add_participant(&app, &other, ANA, &group.number)
        .await
        .expect_err("pair already bound");
    assert_eq!((status, error["code"].as_i64()), (409, Some(50416)));
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&group.conversation),
        "{error}"
    );
    let (status, error) = add_participant(&app, &group.conversation, ANA, &group.number)
        .await
        .expect_err("pair already here");
    assert_eq!((status, error["code"].as_i64()), (409, Some(50437)));

    // Closing the conversation releases the binding.
    let closed = app
        .emulator_post(
            &format!("/conversations/v1/Conversations/{}", group.conversation),
            &[("State", "closed")],
        )
        .await;
    assert_eq!(closed.status(), 200);
    add_participant(&app, &other, ANA, &group.number)
        .await
        .expect("the pair is free again");

    let (status, error) = json_of(
        app.emulator_post(
            &format!("/conversations/v1/Conversations/{}", group.conversation),
            &[("State", "active")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, error["code"].as_i64()),
        (400, Some(50377)),
        "closed is final"
    );
}

#[tokio::test]
async fn a_conversation_holds_at_most_50_sms_participants() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[]).await;
    // A Conversation of its own: the neighborhood's first one also receives its owner.
    let (status, conversation) = json_of(
        app.emulator_post(
            "/conversations/v1/Conversations",
            &[
                ("FriendlyName", "Full"),
                ("MessagingServiceSid", SANDBOX_SERVICE_SID),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201);
    let conversation_sid = conversation["sid"].as_str().expect("sid").to_owned();
    // Through the project's own client, which waits out the 30-mutations-a-second limit.
    let client =
        neighborhood_text::twilio::TwilioClient::new(neighborhood_text::twilio::TwilioConfig {
            account_sid: SANDBOX_ACCOUNT_SID.into(),
            credentials: neighborhood_text::twilio::Credentials::AuthToken(
                neighborhood_text::secret::Secret::new(SANDBOX_AUTH_TOKEN),
            ),
            api_base: Some(app.emulator_url("/").parse().expect("url")),
            request_timeout: Duration::from_secs(10),
            retry: neighborhood_text::twilio::RetryPolicy {
                max_attempts: 10,
                ..Default::default()
            },
        })
        .expect("client");
    for n in 0..50 {
        let request = neighborhood_text::twilio::types::CreateMessagingParticipant {
            address: format!("+1555020{n:04}"),
            proxy_address: group.number.clone(),
            attributes: None,
            webhook_enabled: false,
        };
        client
            .create_messaging_participant(&conversation_sid, &request)
            .await
            .expect("room for 50");
    }
    let (status, error) = add_participant(&app, &conversation_sid, "+15550299999", &group.number)
        .await
        .expect_err("51st refused");
    assert_eq!((status, error["code"].as_i64()), (400, Some(50422)));
    assert_eq!(
        client
            .list_participants(&conversation_sid)
            .await
            .expect("list")
            .len(),
        50,
        "paging followed past one page"
    );
}

#[tokio::test]
async fn bad_input_gets_twilios_error_codes() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[]).await;

    let (status, error) = add_participant(&app, &group.conversation, "555-1234", &group.number)
        .await
        .expect_err("bad address");
    assert_eq!((status, error["code"].as_i64()), (400, Some(50407)));
    let (status, error) = add_participant(&app, &group.conversation, ANA, "+19995550000")
        .await
        .expect_err("not our number");
    assert_eq!((status, error["code"].as_i64()), (400, Some(50408)));
    let (status, error) = json_of(
        app.emulator_get("/conversations/v1/Conversations/CH00000000000000000000000000000000")
            .await,
    )
    .await;
    assert_eq!(
        (status, error["code"].as_i64(), error["status"].as_i64()),
        (404, Some(20404), Some(404))
    );
    assert_eq!(
        error["more_info"],
        "https://www.twilio.com/docs/errors/20404"
    );
    let messages = format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Messages.json");
    let (status, error) = json_of(
        app.emulator_post(
            &messages,
            &[("To", "12"), ("From", &group.number), ("Body", "hi")],
        )
        .await,
    )
    .await;
    assert_eq!((status, error["code"].as_i64()), (400, Some(21211)));

    let unauthorized = app
        .http
        .get(app.emulator_url("/conversations/v1/Conversations"))
        .basic_auth(SANDBOX_ACCOUNT_SID, Some("wrong"))
        .send()
        .await
        .expect("sent");
    let (status, error) = json_of(unauthorized).await;
    assert_eq!((status, error["code"].as_i64()), (401, Some(20003)));
}

#[tokio::test]
async fn more_than_30_mutations_of_one_conversation_in_a_second_get_429() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[]).await;
    let url = app.emulator_url(&format!(
        "/conversations/v1/Conversations/{}/Messages",
        group.conversation
    ));
    // 100 at once: however the seconds fall, one of them sees more than 30.
    let sends = (0..100).map(|n| {
        app.http
            .post(&url)
            .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
            .form(&[("Body", format!("burst {n}"))])
            .send()
    });
    let responses = futures::future::join_all(sends).await;
    let mut statuses = Vec::new();
    for response in responses {
        let (status, body) = json_of(response.expect("sent")).await;
        if status == 429 {
            assert_eq!(body["code"], 20429);
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|status| *status == 201 || *status == 429),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn injected_faults_are_served_until_turned_off() {
    let app = spawn_sandbox_app().await;
    let faults = "/sandbox/api/faults";
    app.put(&Who::Admin, faults, &json!({"rate_500": 1.0}), 200)
        .await;
    let (status, body) = json_of(app.emulator_get("/conversations/v1/Conversations").await).await;
    assert_eq!((status, body["code"].as_i64()), (500, Some(20500)));

    // Shares above 1 are refused.
    app.put(&Who::Admin, faults, &json!({"rate_429": 2.0}), 400)
        .await;
    app.put(&Who::Admin, faults, &json!({}), 200).await;
    assert_eq!(
        app.emulator_get("/conversations/v1/Conversations")
            .await
            .status(),
        200
    );
}

/// `DELETE` (reset, answering what it cleared) or `GET /sandbox/api/requests`.
async fn request_counts(app: &TestApp, reset: bool) -> Value {
    app.rest_calls(reset).await
}

#[tokio::test]
async fn the_emulator_counts_the_rest_calls_it_receives_by_operation() {
    let app = spawn_sandbox_app().await;
    let cleared = request_counts(&app, true).await;
    assert!(
        cleared["counts"]["GET /v1/Configuration/Webhooks"].as_u64() >= Some(1),
        "the calls made while the app started were counted: {cleared}"
    );
    assert_eq!(
        request_counts(&app, false).await,
        json!({"counts": {}, "total": 0})
    );

    let mut conversations = Vec::new();
    for name in ["one", "two"] {
        let (status, conversation) = json_of(
            app.emulator_post("/conversations/v1/Conversations", &[("FriendlyName", name)])
                .await,
        )
        .await;
        assert_eq!(status, 201, "{conversation}");
        conversations.push(conversation["sid"].as_str().expect("sid").to_owned());
    }
    for sid in &conversations {
        let path = format!("/conversations/v1/Conversations/{sid}/Messages");
        assert_eq!(
            app.emulator_post(&path, &[("Body", "hi")]).await.status(),
            201
        );
    }
    assert_eq!(
        app.emulator_get("/conversations/v1/Conversations/CH00000000000000000000000000000000")
            .await
            .status(),
        404,
        "answered with an error, still counted"
    );
    let unauthorized = app
        .http
        .get(app.emulator_url("/conversations/v1/Conversations"))
        .basic_auth(SANDBOX_ACCOUNT_SID, Some("wrong"))
        .send()
        .await
        .expect("sent");
    assert_eq!(unauthorized.status(), 401, "not counted");

    let expected = json!({
        "counts": {
            "POST /v1/Conversations": 2,
            "POST /v1/Conversations/{sid}/Messages": 2,
            "GET /v1/Conversations/{sid}": 1,
        },
        "total": 5,
    });
    assert_eq!(request_counts(&app, false).await, expected);
    assert_eq!(
        request_counts(&app, true).await,
        expected,
        "reset answers what it cleared"
    );
    assert_eq!(request_counts(&app, false).await["total"], 0);
}

#[tokio::test]
async fn a_members_text_passes_the_pre_event_webhook_and_reaches_every_other_member() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN, CY]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    Mock::given(method("POST"))
        .and(path("/pre"))
        .and(signed(receiver))
        .and(body_string_contains("EventType=onMessageAdd&"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"body": "Ana R.: see you at 7"})),
        )
        .expect(1)
        .mount(receiver)
        .await;
    accept_everything(receiver).await;

    let routed = app.text(ANA, &group.number, "see you at 7").await;

    assert_eq!(routed["outcome"], "conversation", "{routed}");
    for member in [BEN, CY] {
        assert_eq!(
            app.inbox(member).await,
            [(
                group.number.clone(),
                "Ana R.: see you at 7".to_owned(),
                "delivered".to_owned()
            )]
        );
    }
    assert!(
        app.inbox(ANA).await.is_empty(),
        "the sender does not get its own text"
    );
    eventually(
        Duration::from_secs(10),
        "onMessageAdded and three onDeliveryUpdated (two members and the owner)",
        || async {
            events(receiver, "/post", "onMessageAdded").await.len() == 1
                && events(receiver, "/post", "onDeliveryUpdated").await.len() == 3
        },
    )
    .await;
    let added = &events(receiver, "/post", "onMessageAdded").await[0];
    assert_eq!(field(added, "Body"), "Ana R.: see you at 7");
    assert_eq!(field(added, "Author"), ANA);
    assert_eq!(field(added, "ConversationSid"), group.conversation);
    assert_eq!(field(added, "Source"), "SMS");
    assert!(field(added, "MessageSid").starts_with("IM"));
    let pre = &events(receiver, "/pre", "onMessageAdd").await[0];
    assert_eq!(field(pre, "Body"), "see you at 7");
    assert!(field(pre, "ParticipantSid").starts_with("MB"));
    // Twilio also calls the number's own SMS webhook for texts it routes into a Conversation.
    let sms = events(receiver, "/sms", "").await;
    assert_eq!(sms.len(), 1);
    assert_eq!(field(&sms[0], "From"), ANA);
    let (_, stored) = json_of(
        app.emulator_get(&format!(
            "/conversations/v1/Conversations/{}/Messages",
            group.conversation
        ))
        .await,
    )
    .await;
    assert_eq!(stored["messages"][0]["body"], "Ana R.: see you at 7");
    assert_eq!(stored["messages"][0]["index"], 0);
}

#[tokio::test]
async fn a_pre_event_rejection_keeps_the_text_out_of_the_group() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    Mock::given(method("POST"))
        .and(path("/pre"))
        .and(signed(receiver))
        .respond_with(ResponseTemplate::new(403))
        .with_priority(1)
        .mount(receiver)
        .await;
    accept_everything(receiver).await;

    let routed = app.text(ANA, &group.number, "#approve 12").await;

    assert_eq!(routed["outcome"], "rejected", "{routed}");
    assert!(app.inbox(BEN).await.is_empty());
    let (_, stored) = json_of(
        app.emulator_get(&format!(
            "/conversations/v1/Conversations/{}/Messages",
            group.conversation
        ))
        .await,
    )
    .await;
    assert_eq!(stored["messages"], json!([]));
}

#[tokio::test]
async fn an_unreachable_pre_event_webhook_lets_the_text_through_unchanged() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // Allowed, so that the emulator tries it and finds nobody there.
    let receiver = MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.emulator.webhook_urls.push(
        format!("http://127.0.0.1:{closed_port}")
            .parse()
            .expect("url"),
    );
    let app = spawn_sandbox_app_with(receiver, settings).await;
    let group = group_with(&app, &[ANA, BEN]).await;
    let response = app
        .emulator_post(
            "/conversations/v1/Configuration/Webhooks",
            &[
                (
                    "PreWebhookUrl",
                    &format!("http://127.0.0.1:{closed_port}/pre"),
                ),
                ("Filters", "onMessageAdd"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);

    let routed = app.text(ANA, &group.number, "anyone home?").await;

    assert_eq!(routed["outcome"], "conversation");
    assert_eq!(
        app.inbox(BEN).await,
        [(
            group.number.clone(),
            "anyone home?".to_owned(),
            "delivered".to_owned()
        )]
    );
}

#[tokio::test]
async fn the_emulator_never_fetches_webhook_urls_outside_the_service() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN]).await;
    // On loopback like the service, but not the service nor a receiver the sandbox was given.
    let outsider = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(403))
        .mount(&outsider)
        .await;
    // Set as Twilio takes them: the REST API accepts any URL.
    route_webhooks_to(&app, &outsider, &group.number).await;

    // The pre-event webhook is skipped (the text goes through unchanged, as if it were
    // unreachable; the outsider would have rejected it), and so is the number's SMS webhook.
    let routed = app.text(ANA, &group.number, "who is listening?").await;
    assert_eq!(routed["outcome"], "conversation");
    assert_eq!(
        app.inbox(BEN).await,
        [(
            group.number.clone(),
            "who is listening?".to_owned(),
            "delivered".to_owned()
        )]
    );
    app.text("+15550007001", &group.number, "hello?").await;
    let fetched = outsider.received_requests().await.unwrap_or_default();
    assert!(
        fetched.is_empty(),
        "the emulator fetched {:?}",
        fetched
            .iter()
            .map(|r| r.url.to_string())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_strangers_text_goes_to_the_numbers_sms_webhook_and_twiml_replies_come_back() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .and(signed(receiver))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/xml")
                .set_body_string(
                    "<Response><Message>Reply JOIN &amp; your name</Message></Response>",
                ),
        )
        .expect(1)
        .mount(receiver)
        .await;

    let routed = app.text(CY, &group.number, "hello?").await;

    assert_eq!(routed["outcome"], "sms_webhook", "{routed}");
    assert_eq!(
        app.inbox(CY).await,
        [(
            group.number.clone(),
            "Reply JOIN & your name".to_owned(),
            "delivered".to_owned()
        )]
    );
    assert!(
        app.inbox(ANA).await.is_empty(),
        "a stranger's text never reaches the group"
    );
    let sms = &events(receiver, "/sms", "").await[0];
    for (name, expected) in [
        ("From", CY),
        ("To", group.number.as_str()),
        ("Body", "hello?"),
        ("SmsStatus", "received"),
        ("NumSegments", "1"),
        ("AccountSid", SANDBOX_ACCOUNT_SID),
        ("MessagingServiceSid", SANDBOX_SERVICE_SID),
        ("ApiVersion", "2010-04-01"),
    ] {
        assert_eq!(field(sms, name), expected, "{name}");
    }
    assert!(field(sms, "MessageSid").starts_with("SM") && field(sms, "MessageSid").len() == 34);
}

#[tokio::test]
async fn rest_messages_fire_post_events_only_when_asked() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    accept_everything(receiver).await;
    let messages = app.emulator_url(&format!(
        "/conversations/v1/Conversations/{}/Messages",
        group.conversation
    ));

    let quiet = app
        .http
        .post(&messages)
        .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
        .form(&[("Body", "quiet")])
        .send()
        .await
        .expect("sent");
    assert_eq!(quiet.status(), 201);
    let loud = app
        .http
        .post(&messages)
        .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
        .header("X-Twilio-Webhook-Enabled", "true")
        .form(&[("Body", "loud"), ("Author", "Board")])
        .send()
        .await
        .expect("sent");
    assert_eq!(loud.status(), 201);

    eventually(
        Duration::from_secs(10),
        "onMessageAdded for the loud message",
        || async { !events(receiver, "/post", "onMessageAdded").await.is_empty() },
    )
    .await;
    let added = events(receiver, "/post", "onMessageAdded").await;
    assert_eq!(added.len(), 1);
    assert_eq!(field(&added[0], "Body"), "loud");
    assert_eq!(field(&added[0], "Source"), "API");
    assert!(
        events(receiver, "/pre", "").await.is_empty(),
        "REST messages skip the pre-event webhook"
    );
    // Both were delivered to every SMS participant.
    assert_eq!(app.inbox(ANA).await.len(), 2);
}

#[tokio::test]
async fn stop_opts_a_phone_out_of_the_service_and_start_opts_it_back_in() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    accept_everything(receiver).await;

    app.text(BEN, &group.number, "stop").await;
    let inbox = app.inbox(BEN).await;
    assert!(
        inbox[0]
            .1
            .starts_with("You have successfully been unsubscribed"),
        "{inbox:?}"
    );
    assert!(
        events(receiver, "/pre", "onMessageAdd")
            .await
            .iter()
            .any(|form| field(form, "Body") == "stop"),
        "the keyword still reaches the webhook"
    );

    app.text(ANA, &group.number, "party at 8").await;
    assert_eq!(
        app.inbox(BEN).await.len(),
        1,
        "nothing more reaches an opted-out phone"
    );
    eventually(
        Duration::from_secs(10),
        "a failed delivery receipt",
        || async {
            events(receiver, "/post", "onDeliveryUpdated")
                .await
                .iter()
                .any(|form| field(form, "Status") == "failed")
        },
    )
    .await;
    let failed = events(receiver, "/post", "onDeliveryUpdated")
        .await
        .into_iter()
        .find(|form| field(form, "Status") == "failed")
        .expect("receipt");
    assert_eq!(field(&failed, "ErrorCode"), "21610");
    let direct = format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Messages.json");
    let (status, error) = json_of(
        app.emulator_post(
            &direct,
            &[("To", BEN), ("From", &group.number), ("Body", "hi")],
        )
        .await,
    )
    .await;
    assert_eq!((status, error["code"].as_i64()), (400, Some(21610)));

    app.text(BEN, &group.number, "START").await;
    assert!(
        app.inbox(BEN).await[1]
            .1
            .starts_with("You have successfully been re-subscribed")
    );
    app.text(BEN, &group.number, "help").await;
    assert_eq!(
        app.inbox(BEN).await[2].1,
        "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
    );
    app.text(ANA, &group.number, "party at 9").await;
    assert_eq!(
        app.inbox(BEN).await.last().map(|item| item.1.clone()),
        Some("party at 9".to_owned())
    );
}

#[tokio::test]
async fn the_emulator_runs_alone_for_anyones_client() {
    use tokio::io::AsyncBufReadExt;
    let account = "AC0123456789abcdef0123456789abcdef";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_neighborhood-text"))
        .args([
            "twilio-emulator",
            "--bind",
            "127.0.0.1:0",
            "--account-sid",
            account,
            "--auth-token",
            "their-token",
        ])
        .env_clear()
        .env("NT_REDIS_URL", crate::helpers::redis_url())
        .env("NT_REDIS_PREFIX", crate::helpers::unique_prefix())
        .env("NT_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("emulator starts");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let started = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let entry: Value = serde_json::from_str(&line).unwrap_or_default();
            if entry["message"] == "Twilio emulator listening" {
                return Some(entry);
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the emulator logs its port and credentials");
    assert_eq!(started["account_sid"], account);
    assert_eq!(started["auth_token"], "their-token");
    let base = format!("http://127.0.0.1:{}", started["port"]);
    let http = reqwest::Client::new();

    let created = http
        .post(format!("{base}/conversations/v1/Conversations"))
        .basic_auth(account, Some("their-token"))
        .form(&[("FriendlyName", "Theirs")])
        .send()
        .await
        .expect("sent");
    let (status, conversation) = json_of(created).await;
    assert_eq!(status, 201, "{conversation}");
    assert!(
        conversation["url"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&base)
    );
    let listed = http
        .get(format!("{base}/conversations/v1/Conversations"))
        .basic_auth(account, Some("their-token"))
        .send()
        .await
        .expect("sent");
    let (status, list) = json_of(listed).await;
    assert_eq!(status, 200);
    assert_eq!(list["conversations"][0]["sid"], conversation["sid"]);
    assert_eq!(list["meta"]["key"], "conversations");
    let rejected = http
        .get(format!("{base}/conversations/v1/Conversations"))
        .basic_auth(account, Some(SANDBOX_AUTH_TOKEN))
        .send()
        .await
        .expect("sent");
    assert_eq!(rejected.status(), 401);
}

#[tokio::test]
async fn two_instances_share_one_emulated_account_through_redis() {
    let first = spawn_sandbox_app().await;
    let second = crate::helpers::spawn_second_sandbox_instance(&first).await;
    let group = group_with(&first, &[ANA, BEN]).await;
    route_webhooks_to(&first, &first.twilio, &group.number).await;
    accept_everything(&first.twilio).await;

    // The text enters through the second instance; the first sees the delivery and the group.
    let routed = second
        .text(ANA, &group.number, "hello from the other instance")
        .await;

    assert_eq!(routed["outcome"], "conversation", "{routed}");
    assert_eq!(
        first.inbox(BEN).await,
        [(
            group.number.clone(),
            "hello from the other instance".to_owned(),
            "delivered".to_owned()
        )]
    );
    let listed = second.get(&Who::Admin, "/api/v1/neighborhoods", 200).await;
    assert_eq!(listed["items"][0]["phone_number"], group.number.as_str());
}

#[tokio::test]
async fn deliveries_stream_live_to_the_phones_page() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN]).await;
    // These phones are bound behind the service's back: let a receiver, not the service, vet them.
    route_webhooks_to(&app, &app.twilio, &group.number).await;
    accept_everything(&app.twilio).await;
    let mut stream = app.get_raw("/sandbox/api/events").await;

    // Texts are sent until the subscription, which starts asynchronously, sees one delivered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    let mut sent = 0;
    while !seen
        .lines()
        .any(|line| line.contains(r#""type":"delivered""#) && line.contains(BEN))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery event arrived: {seen}"
        );
        if sent < 20 {
            app.text(ANA, &group.number, &format!("live {sent}")).await;
            sent += 1;
        }
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(200), stream.chunk()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    let event_line = seen
        .lines()
        .find(|line| line.contains(r#""type":"delivered""#) && line.contains(BEN))
        .expect("event line");
    let event: Value =
        serde_json::from_str(event_line.trim_start_matches("data:").trim()).expect("json event");
    assert_eq!(event["phone"], BEN);
    assert_eq!(event["message"]["from"], group.number.as_str());
    assert!(
        event["message"]["body"]
            .as_str()
            .unwrap_or_default()
            .starts_with("live ")
    );
}

/// Finding 5: whatever the sandbox stores, its seeded platform admin included, lives under a
/// prefix of its own, never in the keyspace a production instance on the same prefix reads.
#[tokio::test]
async fn sandbox_data_lives_under_its_own_prefix() {
    let app = spawn_sandbox_app().await;
    let own = format!("{}:sandbox:", app.prefix);
    assert_eq!(app.keys_prefix, format!("{}:sandbox", app.prefix));
    crate::helpers::eventually(
        Duration::from_secs(10),
        "the sandbox admin seeded",
        || async {
            app.stored_keys()
                .await
                .iter()
                .any(|key| key.contains("platform"))
        },
    )
    .await;
    let keys = app.stored_keys().await;
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|key| key.starts_with(&own)), "{keys:#?}");
}

#[tokio::test]
async fn the_simulated_phones_state_names_each_phone_after_its_member() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(&json!({"name": "Named Phones", "area_code": "415", "owner_phone": "+14155550170", "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id");
    app.add_member_by_api(id, "+14155552042", "Ana Núñez").await;
    let stranger = "+14155559999";
    app.text(
        stranger,
        created["phone_number"].as_str().expect("number"),
        "hello?",
    )
    .await;
    let state = poll_until(
        Duration::from_secs(20),
        "the member's phone to appear",
        || async {
            let state = app.get(&Who::Admin, "/sandbox/api/state", 200).await;
            let phones = state["phones"].as_array().cloned().unwrap_or_default();
            phones
                .iter()
                .any(|entry| entry["phone"] == "+14155552042")
                .then_some(phones)
        },
    )
    .await;
    let name_of = |phone: &str| {
        state
            .iter()
            .find(|entry| entry["phone"] == phone)
            .map(|entry| entry["name"].clone())
    };
    assert_eq!(name_of("+14155552042"), Some(json!("Ana Núñez")));
    // A phone no member has is listed without a name.
    assert_eq!(name_of(stranger), Some(Value::Null));
}
