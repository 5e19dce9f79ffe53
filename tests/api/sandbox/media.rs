//! The emulator speaks media (issue 23): the Media Content Service under `/mcs/v1`, `MediaSid` on
//! Conversation Messages, `Media` in the webhooks, pictures delivered to the phones (SMS ones
//! within the carriers' 10 items and 5 MB, else 30019), and phones that send pictures.
//!
//! In the service, every request body is bounded by `limits::bound_requests` (64 KiB), the
//! emulator's included; the tests past that size run against the emulator on its own.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::{
    ANA, BEN, CY, accept_everything, events, field, group_with, route_webhooks_to, signed,
};
use crate::helpers::standalone_twilio::standalone_emulator;
use crate::helpers::{
    SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, TestApp, Who, eventually, json_of, sandbox_settings,
    spawn_sandbox_app, spawn_sandbox_app_with,
};

/// The emulated account's Conversations service, where media live.
fn chat_service() -> String {
    format!("IS{}", &SANDBOX_ACCOUNT_SID[2..])
}

/// A small JPEG-looking picture of `size` bytes.
fn picture(size: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(size.max(4), 0x42);
    bytes
}

async fn upload(app: &TestApp, content_type: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.http
        .post(app.emulator_url(&format!("/mcs/v1/Services/{}/Media", chat_service())))
        .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
        .header("Content-Type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("sent")
}

/// The app's own URL for an absolute one the emulator gave (on the service's public URL).
fn local(app: &TestApp, url: &str) -> String {
    let (_, rest) = url
        .split_once("/sandbox/twilio")
        .unwrap_or_else(|| panic!("{url} is not under /sandbox/twilio"));
    app.emulator_url(rest)
}

async fn conversation_with(app: &TestApp, phone: &str) -> String {
    let bought = app
        .emulator_post(
            &format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers.json"),
            &[("PhoneNumber", "+14155550140")],
        )
        .await;
    assert_eq!(bought.status(), 201);
    let (status, conversation) = json_of(
        app.emulator_post(
            "/conversations/v1/Conversations",
            &[("FriendlyName", "Pics")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{conversation}");
    let sid = conversation["sid"].as_str().expect("sid").to_owned();
    let (status, participant) = json_of(
        app.emulator_post(
            &format!("/conversations/v1/Conversations/{sid}/Participants"),
            &[
                ("MessagingBinding.Address", phone),
                ("MessagingBinding.ProxyAddress", "+14155550140"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{participant}");
    sid
}

#[tokio::test]
async fn an_upload_is_fetched_with_a_temporary_url_that_expires_after_300_seconds() {
    let clock = neighborhood_text::config::Clock::default();
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.clock = clock.clone();
    let app = spawn_sandbox_app_with(receiver, settings).await;
    app.rest_calls(true).await;

    let (status, media) = json_of(upload(&app, "image/jpeg", picture(1234)).await).await;
    assert_eq!(status, 201, "{media}");
    let sid = media["sid"].as_str().expect("sid").to_owned();
    assert!(sid.starts_with("ME") && sid.len() == 34, "{media}");
    let service = chat_service();
    assert_eq!(
        media,
        json!({
            "sid": sid, "account_sid": SANDBOX_ACCOUNT_SID, "service_sid": service,
            "date_created": media["date_created"], "date_updated": media["date_created"],
            "date_upload_updated": media["date_created"], "channel_sid": null,
            "message_sid": null, "content_type": "image/jpeg", "filename": null, "size": 1234,
            "author": "system", "category": "media", "is_multipart_upstream": false,
            "url": format!("/v1/Services/{service}/Media/{sid}"),
            "links": {
                "content": format!("/v1/Services/{service}/Media/{sid}/Content"),
                "content_direct_temporary": null,
            },
        })
    );
    assert!(
        media["date_created"]
            .as_str()
            .is_some_and(|date| date.ends_with('Z'))
    );
    // The bytes drain away from the shared Redis after a week; the resource stays.
    let content_key = app
        .stored_keys()
        .await
        .into_iter()
        .find(|key| key.ends_with(&format!(":{{sandbox}}:media-content:{sid}")))
        .expect("the picture's content key");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&content_key)
        .query_async(&mut crate::helpers::test_redis().await)
        .await
        .expect("TTL");
    assert!((7 * 24 * 3600 - 60..=7 * 24 * 3600).contains(&ttl), "{ttl}");

    let (status, fetched) = json_of(
        app.emulator_get(&format!("/mcs/v1/Services/{service}/Media/{sid}"))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{fetched}");
    let temporary = fetched["links"]["content_direct_temporary"]
        .as_str()
        .expect("a temporary URL")
        .to_owned();
    assert!(
        temporary.starts_with(&format!(
            "https://text.example.org/sandbox/twilio/mcs/v1/Services/{service}/Media/{sid}/Content?Expires="
        )),
        "{temporary}"
    );
    let anonymous = reqwest::Client::new();
    let content = anonymous
        .get(local(&app, &temporary))
        .send()
        .await
        .expect("sent");
    assert_eq!(content.status(), 200);
    assert_eq!(content.headers()["content-type"], "image/jpeg");
    assert_eq!(
        content.bytes().await.expect("bytes").to_vec(),
        picture(1234)
    );
    let forged = local(&app, &temporary).replace("Signature=", "Signature=0");
    assert_eq!(
        anonymous.get(forged).send().await.expect("sent").status(),
        403
    );

    clock.advance(Duration::from_secs(301));
    let (status, expired) = json_of(
        anonymous
            .get(local(&app, &temporary))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(
        (status, &expired["code"]),
        (403, &json!(20403)),
        "{expired}"
    );
    let with_auth = app
        .emulator_get(&format!("/mcs/v1/Services/{service}/Media/{sid}/Content"))
        .await;
    assert_eq!(
        with_auth.status(),
        200,
        "Basic auth reads the content any time"
    );
    let unsigned = anonymous
        .get(app.emulator_url(&format!("/mcs/v1/Services/{service}/Media/{sid}/Content")))
        .send()
        .await
        .expect("sent");
    assert_eq!(unsigned.status(), 401);

    let unknown = format!("ME{}", "0".repeat(32));
    let (status, missing) = json_of(
        app.emulator_get(&format!("/mcs/v1/Services/{service}/Media/{unknown}"))
            .await,
    )
    .await;
    assert_eq!(
        (status, &missing["code"]),
        (404, &json!(20404)),
        "{missing}"
    );
    let elsewhere = format!("IS{}", "1".repeat(32));
    let (status, _) = json_of(
        app.emulator_get(&format!("/mcs/v1/Services/{elsewhere}/Media/{sid}"))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    let (status, empty) = json_of(upload(&app, "image/jpeg", Vec::new()).await).await;
    assert_eq!(status, 400, "{empty}");

    let counts = app.rest_calls(false).await;
    assert_eq!(
        counts["counts"]["POST /v1/Services/{sid}/Media"], 2,
        "{counts}"
    );
    assert_eq!(
        counts["counts"]["GET /v1/Services/{sid}/Media/{sid}/Content"], 2,
        "the temporary URL while it held, and Basic auth; refusals are not counted: {counts}"
    );
}

#[tokio::test]
async fn a_message_with_a_media_sid_carries_it_and_the_media_belongs_to_that_message() {
    let app = spawn_sandbox_app().await;
    let conversation = conversation_with(&app, BEN).await;
    let (_, media) = json_of(upload(&app, "image/png", picture(2048)).await).await;
    let media_sid = media["sid"].as_str().expect("sid").to_owned();
    let service = chat_service();
    let messages = format!("/conversations/v1/Conversations/{conversation}/Messages");

    let (status, message) = json_of(
        app.emulator_post(&messages, &[("Author", "system"), ("MediaSid", &media_sid)])
            .await,
    )
    .await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["body"], "");
    assert_eq!(
        message["media"],
        json!([{"sid": media_sid, "content_type": "image/png", "filename": null, "size": 2048}])
    );
    let (_, fetched) = json_of(
        app.emulator_get(&format!("/mcs/v1/Services/{service}/Media/{media_sid}"))
            .await,
    )
    .await;
    assert_eq!(fetched["message_sid"], message["sid"]);
    assert_eq!(fetched["channel_sid"], conversation.as_str());
    let (_, listed) = json_of(app.emulator_get(&messages).await).await;
    assert_eq!(listed["messages"][0]["media"], message["media"]);
    assert_eq!(
        app.inbox_media(BEN).await,
        [(
            "+14155550140".to_owned(),
            String::new(),
            vec![("image/png".to_owned(), 2048)]
        )]
    );

    let (status, again) = json_of(
        app.emulator_post(&messages, &[("Body", "again"), ("MediaSid", &media_sid)])
            .await,
    )
    .await;
    assert_eq!(status, 400, "a media belongs to one message: {again}");
    for bad in [format!("ME{}", "0".repeat(32)), "ME123".to_owned()] {
        let (status, refused) =
            json_of(app.emulator_post(&messages, &[("MediaSid", &bad)]).await).await;
        assert_eq!(status, 400, "{bad}: {refused}");
        assert!(refused["code"].is_u64() && refused["more_info"].is_string());
    }

    // The service-scoped path takes the same message.
    let (_, second) = json_of(upload(&app, "image/gif", picture(10)).await).await;
    let (status, scoped) = json_of(
        app.emulator_post(
            &format!("/conversations/v1/Services/{service}/Conversations/{conversation}/Messages"),
            &[
                ("Body", "a gif"),
                ("MediaSid", second["sid"].as_str().expect("sid")),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{scoped}");
    assert_eq!(scoped["media"][0]["content_type"], "image/gif");
    let (_, plain) = json_of(app.emulator_post(&messages, &[("Body", "words")]).await).await;
    assert_eq!(plain["media"], Value::Null);
}

#[tokio::test]
async fn a_phones_picture_reaches_the_other_members_and_the_webhooks_carry_it() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN, CY]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    accept_everything(receiver).await;

    let routed = app
        .text_with_media(
            ANA,
            &group.number,
            "Lost dog!",
            &[("image/jpeg", picture(3000)), ("image/png", picture(100))],
        )
        .await;

    assert_eq!(routed["outcome"], "conversation", "{routed}");
    let expected = vec![
        ("image/jpeg".to_owned(), 3000),
        ("image/png".to_owned(), 100),
    ];
    for member in [BEN, CY] {
        assert_eq!(
            app.inbox_media(member).await,
            [(
                group.number.clone(),
                "Lost dog!".to_owned(),
                expected.clone()
            )]
        );
    }
    assert_eq!(
        app.inbox(BEN).await.len(),
        1,
        "the old helper still reads it"
    );
    let (_, stored) = json_of(
        app.emulator_get(&format!(
            "/conversations/v1/Conversations/{}/Messages",
            group.conversation
        ))
        .await,
    )
    .await;
    let message = &stored["messages"][0];
    let media = message["media"].as_array().expect("media");
    assert_eq!(media.len(), 2, "{message}");
    let first = media[0]["sid"].as_str().expect("sid");
    let (_, resource) = json_of(
        app.emulator_get(&format!(
            "/mcs/v1/Services/{}/Media/{first}",
            chat_service()
        ))
        .await,
    )
    .await;
    assert_eq!(resource["message_sid"], message["sid"]);

    eventually(Duration::from_secs(10), "onMessageAdded", || async {
        !events(receiver, "/post", "onMessageAdded").await.is_empty()
    })
    .await;
    let pre = &events(receiver, "/pre", "onMessageAdd").await[0];
    let added = &events(receiver, "/post", "onMessageAdded").await[0];
    for params in [pre, added] {
        let listed: Value = serde_json::from_str(&field(params, "Media")).expect("Media is JSON");
        assert_eq!(
            listed[0],
            json!({"Sid": first, "Filename": null, "ContentType": "image/jpeg", "Size": 3000, "Category": "media"})
        );
        assert_eq!(listed.as_array().map(Vec::len), Some(2));
    }
    let sms = &events(receiver, "/sms", "").await[0];
    assert_eq!(field(sms, "NumMedia"), "2");
    assert_eq!(field(sms, "MediaContentType1"), "image/png");

    // A text without media leaves the parameter out, as Twilio does.
    app.text(BEN, &group.number, "words only").await;
    eventually(
        Duration::from_secs(10),
        "a second onMessageAdded",
        || async { events(receiver, "/post", "onMessageAdded").await.len() == 2 },
    )
    .await;
    let words = &events(receiver, "/post", "onMessageAdded").await[1];
    assert!(words.iter().all(|(name, _)| name != "Media"), "{words:?}");
}

#[tokio::test]
async fn more_than_ten_items_fail_to_sms_phones_with_30019() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    accept_everything(receiver).await;

    let eleven: Vec<(&str, Vec<u8>)> = (0..11).map(|_| ("image/jpeg", picture(50))).collect();
    app.text_with_media(ANA, &group.number, "too many", &eleven)
        .await;

    assert!(app.inbox(BEN).await.is_empty());
    eventually(
        Duration::from_secs(10),
        "a failed onDeliveryUpdated",
        || async {
            events(receiver, "/post", "onDeliveryUpdated")
                .await
                .iter()
                .any(|params| field(params, "ErrorCode") == "30019")
        },
    )
    .await;
    let failed: Vec<_> = events(receiver, "/post", "onDeliveryUpdated")
        .await
        .into_iter()
        .filter(|params| field(params, "ErrorCode") == "30019")
        .collect();
    assert!(
        failed
            .iter()
            .all(|params| field(params, "Status") == "failed")
    );
    let (_, copies) = json_of(
        app.emulator_get(&format!(
            "/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Messages.json?To={}",
            BEN.replace('+', "%2B")
        ))
        .await,
    )
    .await;
    let copy = &copies["messages"][0];
    assert_eq!(
        (&copy["status"], &copy["error_code"], &copy["num_media"]),
        (&json!("failed"), &json!(30019), &json!("11")),
        "{copy}"
    );
    assert_eq!(copy["error_message"], "Content size exceeds carrier limit");
}

#[tokio::test]
async fn a_stranger_texting_a_picture_reaches_the_sms_webhook_with_media_urls() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[]).await;
    let receiver = &app.twilio;
    route_webhooks_to(&app, receiver, &group.number).await;
    Mock::given(method("POST"))
        .and(path("/sms"))
        .and(signed(receiver))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(receiver)
        .await;

    let routed = app
        .text_with_media(
            "+15550009123",
            &group.number,
            "",
            &[("image/gif", picture(77))],
        )
        .await;

    assert_eq!(routed["outcome"], "sms_webhook", "{routed}");
    let sms = &events(receiver, "/sms", "").await[0];
    assert_eq!(field(sms, "NumMedia"), "1");
    assert_eq!(field(sms, "MediaContentType0"), "image/gif");
    let content = reqwest::Client::new()
        .get(local(&app, &field(sms, "MediaUrl0")))
        .send()
        .await
        .expect("sent");
    assert_eq!(content.status(), 200);
    assert_eq!(content.bytes().await.expect("bytes").len(), 77);
}

#[tokio::test]
async fn the_phones_page_shows_pictures_and_the_control_api_bounds_what_a_phone_attaches() {
    let app = spawn_sandbox_app().await;
    let group = group_with(&app, &[ANA, BEN]).await;
    route_webhooks_to(&app, &app.twilio, &group.number).await;
    accept_everything(&app.twilio).await;
    app.text_with_media(ANA, &group.number, "look", &[("image/jpeg", picture(500))])
        .await;
    let state = app.get(&Who::Admin, "/sandbox/api/state", 200).await;
    let inbox = state["phones"]
        .as_array()
        .expect("phones")
        .iter()
        .find(|phone| phone["phone"] == BEN)
        .map(|phone| phone["inbox"].clone())
        .expect("BEN's inbox");
    let shown = inbox
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|item| item["media"].get(0))
        .expect("a picture in BEN's inbox");
    assert_eq!(shown["content_type"], "image/jpeg");
    let sid = shown["sid"].as_str().expect("sid");
    let picture_answer = app
        .anonymous
        .get(app.url(&format!("/sandbox/api/media/{sid}")))
        .send()
        .await
        .expect("sent");
    assert_eq!(picture_answer.status(), 200);
    assert_eq!(picture_answer.headers()["content-type"], "image/jpeg");
    assert_eq!(
        picture_answer.headers()["x-content-type-options"],
        "nosniff"
    );

    let texts = format!("/sandbox/api/phones/{}/messages", ANA.replace('+', "%2B"));
    let item = json!({"content_type": "image/jpeg", "data_base64": "/9j/4A=="});
    let too_many: Vec<Value> = (0..21).map(|_| item.clone()).collect();
    for (media, what) in [
        (json!(too_many), "21 items"),
        (
            json!([{"content_type": "not a type", "data_base64": "AA=="}]),
            "a bad type",
        ),
        (
            json!([{"content_type": "image/jpeg", "data_base64": "***"}]),
            "bad base64",
        ),
    ] {
        let refused = app
            .post(
                &Who::Admin,
                &texts,
                &json!({"to": group.number, "body": "x", "media": media}),
                400,
            )
            .await;
        assert_eq!(refused["code"], "validation_failed", "{what}: {refused}");
    }
    let twenty: Vec<Value> = (0..20).map(|_| item.clone()).collect();
    app.post(
        &Who::Admin,
        &texts,
        &json!({"to": group.number, "body": "", "media": twenty}),
        200,
    )
    .await;
}

/// Past the service's 64 KiB request bound: the emulator on its own, as `twilio-emulator` runs.
#[tokio::test]
async fn past_five_megabytes_a_message_fails_to_sms_phones_and_a_phone_attaches_at_most_ten() {
    let base = standalone_emulator().await;
    let http = reqwest::Client::new();
    let auth = (SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN));
    let post = |path: String, form: Vec<(&'static str, String)>| {
        http.post(format!("{base}{path}"))
            .basic_auth(auth.0, auth.1)
            .form(&form)
            .send()
    };
    let number = "+14155550150";
    let (status, _) = json_of(
        post(
            format!("/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/IncomingPhoneNumbers.json"),
            vec![("PhoneNumber", number.to_owned())],
        )
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(status, 201);
    let (_, conversation) = json_of(
        post("/conversations/v1/Conversations".into(), Vec::new())
            .await
            .expect("sent"),
    )
    .await;
    let conversation = conversation["sid"].as_str().expect("sid").to_owned();
    let (status, _) = json_of(
        post(
            format!("/conversations/v1/Conversations/{conversation}/Participants"),
            vec![
                ("MessagingBinding.Address", BEN.to_owned()),
                ("MessagingBinding.ProxyAddress", number.to_owned()),
            ],
        )
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(status, 201);

    let big = picture(5 * 1024 * 1024 + 1);
    let (status, media) = json_of(
        http.post(format!("{base}/mcs/v1/Services/{}/Media", chat_service()))
            .basic_auth(auth.0, auth.1)
            .header("Content-Type", "image/jpeg")
            .body(big)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, 201, "{media}");
    let (status, message) = json_of(
        post(
            format!("/conversations/v1/Conversations/{conversation}/Messages"),
            vec![("MediaSid", media["sid"].as_str().expect("sid").to_owned())],
        )
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(status, 201, "{message}");
    let (_, copies) = json_of(
        http.get(format!(
            "{base}/api/2010-04-01/Accounts/{SANDBOX_ACCOUNT_SID}/Messages.json?To={}",
            BEN.replace('+', "%2B")
        ))
        .basic_auth(auth.0, auth.1)
        .send()
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(
        (
            &copies["messages"][0]["status"],
            &copies["messages"][0]["error_code"]
        ),
        (&json!("failed"), &json!(30019)),
        "{copies}"
    );

    // The phones' control API: 10 MB in all at most (deliberately past Twilio's 5 MB).
    use base64::Engine;
    let encode = |size: usize| base64::engine::general_purpose::STANDARD.encode(picture(size));
    let texts = format!(
        "{base}/sandbox/api/phones/{}/messages",
        BEN.replace('+', "%2B")
    );
    let send = |media: Value| {
        http.post(&texts)
            .json(&json!({"to": number, "body": "big", "media": media}))
            .send()
    };
    let half = encode(5 * 1024 * 1024);
    let fits = send(json!([
        {"content_type": "image/jpeg", "data_base64": half},
        {"content_type": "image/jpeg", "data_base64": half},
    ]))
    .await
    .expect("sent");
    assert_eq!(fits.status(), 200, "10 MB in all is taken");
    let over = send(json!([
        {"content_type": "image/jpeg", "data_base64": half},
        {"content_type": "image/jpeg", "data_base64": half},
        {"content_type": "image/jpeg", "data_base64": encode(1)},
    ]))
    .await
    .expect("sent");
    assert_eq!(over.status(), 400, "past 10 MB is refused");
}
