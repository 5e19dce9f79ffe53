//! Our Twilio-facing webhooks, called directly as Twilio would: signatures, repeated deliveries,
//! captain commands, muted and announce-only members, answering in time when Redis stalls, and
//! repeats of the SMS and post-event webhooks across instances.

use std::time::{Duration, Instant};

use neighborhood_text::twilio::signature;
use serde_json::{Value, json};

use crate::helpers::{
    PUBLIC_URL, RedisGate, SANDBOX_AUTH_TOKEN, TestApp, Who, deliver_webhook, eventually, json_of,
    sandbox_settings, spawn_sandbox_app, spawn_sandbox_app_with, spawn_second_sandbox_instance,
};

const OWNER: &str = "+15550009900";
const ANA: &str = "+15550009901";
const BO: &str = "+15550009902";

/// A neighborhood with Ana in its group text; returns (id, number, the first Conversation's sid).
async fn neighborhood_with_ana(app: &TestApp) -> (String, String, String) {
    let created = app
        .create_neighborhood(&json!({"name": "Hook Street", "area_code": "212", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members"),
        &json!({"phone": ANA, "display_name": "Ana R."}),
        202,
    )
    .await;
    eventually(Duration::from_secs(20), "Ana in the group", || async {
        let members = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/members"),
                200,
            )
            .await;
        members["items"]
            .as_array()
            .is_some_and(|m| m.len() == 2 && m.iter().all(|m| m["sync"] == "done"))
    })
    .await;
    (
        id,
        created["phone_number"].as_str().expect("number").to_owned(),
        created["shards"][0]["conversation_sid"]
            .as_str()
            .expect("sid")
            .to_owned(),
    )
}

fn pre_event(conversation_sid: &str, author: &str, body: &str) -> Vec<(String, String)> {
    [
        ("EventType", "onMessageAdd"),
        ("ConversationSid", conversation_sid),
        ("Author", author),
        ("Body", body),
        ("Source", "SMS"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// POSTs `params` to one of our webhooks, signed as Twilio signs for `signed_url` with `token`.
async fn deliver(
    app: &TestApp,
    path: &str,
    params: &[(String, String)],
    token: &str,
    signed_url: &str,
    delivery: &str,
) -> reqwest::Response {
    let signature = signature::sign(token, signed_url, params);
    reqwest::Client::new()
        .post(app.url(path))
        .header("X-Twilio-Signature", signature)
        .header("I-Twilio-Idempotency-Token", delivery)
        .form(params)
        .send()
        .await
        .expect("sent")
}

/// Delivers as Twilio would: signed for the public URL with the account's token.
async fn deliver_pre(
    app: &TestApp,
    params: &[(String, String)],
    delivery: &str,
) -> reqwest::Response {
    let path = "/webhooks/twilio/conversations/pre";
    deliver(
        app,
        path,
        params,
        SANDBOX_AUTH_TOKEN,
        &format!("{PUBLIC_URL}{path}"),
        delivery,
    )
    .await
}

async fn texts_to(app: &TestApp, phone: &str, needle: &str) -> usize {
    app.inbox(phone)
        .await
        .iter()
        .filter(|m| m.1.contains(needle))
        .count()
}

#[tokio::test]
async fn forged_tampered_and_misaddressed_webhooks_are_refused() {
    let app = spawn_sandbox_app().await;
    let (_, _, sid) = neighborhood_with_ana(&app).await;
    let path = "/webhooks/twilio/conversations/pre";
    let public = format!("{PUBLIC_URL}{path}");
    let params = pre_event(&sid, ANA, "hello");

    let genuine = deliver(&app, path, &params, SANDBOX_AUTH_TOKEN, &public, "d1").await;
    assert_eq!(genuine.status(), 200);
    let forged = deliver(&app, path, &params, "not-the-token", &public, "d2").await;
    assert_eq!(forged.status(), 403, "signed with another key");
    let misaddressed = deliver(
        &app,
        path,
        &params,
        SANDBOX_AUTH_TOKEN,
        &app.url(path),
        "d3",
    )
    .await;
    assert_eq!(
        misaddressed.status(),
        403,
        "signed for the request's own host, not NT_PUBLIC_URL"
    );

    let signature = signature::sign(SANDBOX_AUTH_TOKEN, &public, &params);
    let tampered = pre_event(&sid, ANA, "hello, changed on the way");
    let response = reqwest::Client::new()
        .post(app.url(path))
        .header("X-Twilio-Signature", signature)
        .form(&tampered)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403, "a body changed after signing");
    let unsigned = reqwest::Client::new()
        .post(app.url("/webhooks/twilio/sms"))
        .form(&[("From", ANA), ("Body", "JOIN Eve")])
        .send()
        .await
        .expect("sent");
    assert_eq!(unsigned.status(), 403);
}

#[tokio::test]
async fn a_repeated_delivery_is_answered_alike_but_acted_on_once() {
    let app = spawn_sandbox_app().await;
    let (id, _, sid) = neighborhood_with_ana(&app).await;

    let greeting = pre_event(&sid, ANA, "see you at 7");
    for _ in 0..2 {
        let (status, body) = json_of(deliver_pre(&app, &greeting, "same-greeting").await).await;
        assert_eq!(
            (status, body["body"].as_str()),
            (200, Some("Ana R.: see you at 7"))
        );
    }
    let command = pre_event(&sid, OWNER, "#pending");
    for _ in 0..2 {
        assert_eq!(
            deliver_pre(&app, &command, "same-command").await.status(),
            403
        );
    }
    assert_eq!(
        deliver_pre(&app, &command, "another-command")
            .await
            .status(),
        403
    );
    eventually(Duration::from_secs(20), "the replies", || async {
        texts_to(&app, OWNER, "No join requests are waiting.").await >= 2
    })
    .await;
    // A third reply, had the repeat been acted on, would be queued by now.
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(
        texts_to(&app, OWNER, "No join requests are waiting.").await,
        2,
        "two deliveries, two replies: the repeat was not acted on"
    );
}

#[tokio::test]
async fn captains_run_the_group_by_text_and_nobody_else_sees_it() {
    let app = spawn_sandbox_app().await;
    let (id, number, _) = neighborhood_with_ana(&app).await;
    app.text(BO, &number, "JOIN Bo Diaz").await;
    eventually(Duration::from_secs(20), "the captain's notice", || async {
        texts_to(&app, OWNER, "New join request #").await == 1
    })
    .await;
    let notice = app
        .inbox(OWNER)
        .await
        .into_iter()
        .find(|m| m.1.starts_with("New join request #"))
        .map(|m| m.1)
        .expect("notice");
    let number_of_request: String = notice
        .trim_start_matches("New join request #")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();

    let routed = app
        .text(ANA, &number, &format!("#approve {number_of_request}"))
        .await;
    assert_eq!(routed["outcome"], "rejected");
    eventually(Duration::from_secs(20), "Ana's refusal", || async {
        texts_to(&app, ANA, "Only the neighborhood's captains").await == 1
    })
    .await;

    app.text(OWNER, &number, "#pending").await;
    eventually(Duration::from_secs(20), "the pending list", || async {
        texts_to(
            &app,
            OWNER,
            &format!("Waiting: #{number_of_request} Bo Diaz"),
        )
        .await
            == 1
    })
    .await;
    app.text(OWNER, &number, &format!("#approve {number_of_request}"))
        .await;
    eventually(Duration::from_secs(20), "Bo's welcome", || async {
        texts_to(&app, BO, "Welcome to Hook Street!").await == 1
            && texts_to(&app, OWNER, "Approved #").await == 1
    })
    .await;
    app.text(OWNER, &number, &format!("#approve {number_of_request}"))
        .await;
    eventually(
        Duration::from_secs(20),
        "the second approval's answer",
        || async { texts_to(&app, OWNER, "was approved already").await == 1 },
    )
    .await;
    assert_eq!(
        texts_to(&app, BO, "Welcome to Hook Street!").await,
        1,
        "one welcome"
    );

    app.text(OWNER, &number, "#mute ana r.").await;
    eventually(Duration::from_secs(20), "the mute", || async {
        texts_to(&app, OWNER, "Ana R. is muted").await
            + texts_to(&app, OWNER, "ana r. is muted").await
            == 1
    })
    .await;
    let routed = app.text(ANA, &number, "can anyone hear me").await;
    assert_eq!(
        routed["outcome"], "rejected",
        "a muted member's text stays out"
    );
    eventually(Duration::from_secs(20), "Ana's note", || async {
        texts_to(&app, ANA, "A captain has muted you").await == 1
    })
    .await;
    app.text(OWNER, &number, "#unmute Ana R.").await;
    eventually(Duration::from_secs(20), "the unmute", || async {
        texts_to(&app, OWNER, "is unmuted").await == 1
    })
    .await;
    assert_eq!(
        app.text(ANA, &number, "back again").await["outcome"],
        "conversation"
    );

    app.text(OWNER, &number, "#remove Bo Diaz").await;
    eventually(Duration::from_secs(20), "Bo removed", || async {
        let members = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/members?status=removed"),
                200,
            )
            .await;
        members["items"][0]["display_name"] == "Bo Diaz" && members["items"][0]["sync"] == "done"
    })
    .await;

    let everyone_else = [ANA, BO];
    for phone in everyone_else {
        assert!(
            !app.inbox(phone)
                .await
                .iter()
                .any(|m| m.1.contains("#pending") || m.1.contains("#mute")),
            "{phone} saw a command"
        );
    }
    let audit = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit"),
            200,
        )
        .await;
    let sms_actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["source"] == "sms")
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "join_request.approve",
        "member.mute",
        "member.unmute",
        "member.remove",
    ] {
        assert!(
            sms_actions.contains(&action),
            "{action} not audited: {sms_actions:?}"
        );
    }
}

#[tokio::test]
async fn in_an_announcements_only_group_members_texts_go_to_the_captains() {
    let app = spawn_sandbox_app().await;
    let (id, number, _) = neighborhood_with_ana(&app).await;
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"mode": "announce_only"}),
        200,
    )
    .await;

    let routed = app.text(ANA, &number, "is the pool open?").await;

    assert_eq!(routed["outcome"], "rejected");
    eventually(
        Duration::from_secs(20),
        "the forward and the note",
        || async {
            texts_to(&app, OWNER, "Ana R. (to the captains): is the pool open?").await == 1
                && texts_to(&app, ANA, "your text went to the captains only").await == 1
        },
    )
    .await;
    assert_eq!(
        app.text(OWNER, &number, "Pool opens Saturday").await["outcome"],
        "conversation",
        "captains still post"
    );
}

#[tokio::test]
async fn when_redis_stalls_the_pre_event_webhook_still_answers_before_twilio_gives_up() {
    let gate = RedisGate::start(true).await;
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    crate::helpers::use_single_redis(&mut settings, &gate.url);
    let app = spawn_sandbox_app_with(receiver, settings).await;
    let (_, number, sid) = neighborhood_with_ana(&app).await;
    assert_eq!(
        app.text(ANA, &number, "first").await["outcome"],
        "conversation"
    );

    gate.stall();

    let cases: [(&str, &str, u16, Option<&str>); 3] = [
        (ANA, "still there?", 200, Some("Ana R.: still there?")),
        (ANA, "LEAVE", 403, None),
        ("+15550009977", "who am I", 200, None),
    ];
    for (author, text, status, signed) in cases {
        let started = Instant::now();
        let response = deliver_pre(
            &app,
            &pre_event(&sid, author, text),
            &format!("stall-{text}"),
        )
        .await;
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_millis(4500),
            "answered after {elapsed:?}, past Twilio's 5 s"
        );
        assert_eq!(response.status().as_u16(), status, "{text}");
        let body: Value = response.json().await.unwrap_or_default();
        assert_eq!(body["body"].as_str(), signed, "{text}");
    }
}

async fn members_of(app: &TestApp, id: &str) -> Vec<Value> {
    let members = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            200,
        )
        .await;
    members["items"].as_array().cloned().unwrap_or_default()
}

/// The SMS participant sid the app recorded for `member` (a member as the API lists it).
async fn participant_sid_of(app: &TestApp, id: &str, member: &Value) -> String {
    app.state
        .store
        .member(
            id.parse().expect("uuid"),
            member["id"].as_str().expect("id").parse().expect("uuid"),
        )
        .await
        .expect("read")
        .and_then(|m| m.participant)
        .expect("a participant")
        .participant_sid
}

fn member_with_phone(members: &[Value], phone: &str) -> Value {
    members
        .iter()
        .find(|m| m["phone"] == phone)
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_history_keeps_what_the_group_said_newest_first_without_phones() {
    let app = spawn_sandbox_app().await;
    let (id, number, _) = neighborhood_with_ana(&app).await;
    for (from, text) in [(ANA, "first"), (OWNER, "second"), (ANA, "third one")] {
        assert_eq!(
            app.text(from, &number, text).await["outcome"],
            "conversation"
        );
    }
    let history = format!("/api/v1/neighborhoods/{id}/messages");
    eventually(
        Duration::from_secs(20),
        "three messages in the history",
        || async {
            let page = app.get(&Who::Admin, &history, 200).await;
            page["items"].as_array().map(Vec::len) == Some(3)
        },
    )
    .await;

    let page = app.get(&Who::Admin, &history, 200).await;
    let bodies: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, ["third one", "second", "first"]);
    assert_eq!(page["items"][0]["sender_name"], "Ana R.");
    assert_eq!(page["items"][1]["sender_name"], "Olive");
    assert_eq!(page["items"][0]["shard"], 1);
    assert!(
        !page.to_string().contains("+1555"),
        "no phone numbers: {page}"
    );

    let ana_id = member_with_phone(&members_of(&app, &id).await, ANA)["id"].clone();
    let by_ana = app
        .get(
            &Who::Admin,
            &format!("{history}?sender={}", ana_id.as_str().expect("id")),
            200,
        )
        .await;
    assert_eq!(by_ana["items"].as_array().map(Vec::len), Some(2));
    let searched = app
        .get(&Who::Admin, &format!("{history}?q=THIRD"), 200)
        .await;
    assert_eq!(searched["items"][0]["body"], "third one");
    assert_eq!(searched["items"].as_array().map(Vec::len), Some(1));

    let first_page = app
        .get(&Who::Admin, &format!("{history}?limit=2"), 200)
        .await;
    let before = first_page["next_before"].as_str().expect("a next page");
    let second_page = app
        .get(
            &Who::Admin,
            &format!("{history}?limit=2&before={before}"),
            200,
        )
        .await;
    assert_eq!(second_page["items"][0]["body"], "first");
    assert!(second_page["next_before"].is_null());

    for bad in ["limit=0", "before=yesterday"] {
        app.get(&Who::Admin, &format!("{history}?{bad}"), 400).await;
    }
}

#[tokio::test]
async fn carrier_failures_in_a_row_pause_a_member_and_tell_the_captains() {
    let app = spawn_sandbox_app().await;
    let (id, _, sid) = neighborhood_with_ana(&app).await;
    let ana = member_with_phone(&members_of(&app, &id).await, ANA);
    let participant_sid = participant_sid_of(&app, &id, &ana).await;
    let path = "/webhooks/twilio/conversations/post";
    let receipt = |n: u32, status: &str, code: &str| -> Vec<(String, String)> {
        [
            ("EventType", "onDeliveryUpdated"),
            ("ConversationSid", sid.as_str()),
            ("ParticipantSid", participant_sid.as_str()),
            ("DeliveryReceiptSid", &format!("DY{n:032}")),
            ("Status", status),
            ("ErrorCode", code),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };

    for (n, status, code) in [
        (1, "undelivered", "30005"),
        (2, "delivered", "0"),
        (3, "failed", "30003"),
        (4, "failed", "30003"),
    ] {
        let response = deliver(
            &app,
            path,
            &receipt(n, status, code),
            SANDBOX_AUTH_TOKEN,
            &format!("{PUBLIC_URL}{path}"),
            &format!("r{n}"),
        )
        .await;
        assert_eq!(response.status(), 200);
    }
    let health = member_with_phone(&members_of(&app, &id).await, ANA)["delivery"].clone();
    assert_eq!(
        (
            health["failures"].as_u64(),
            health["failures_in_a_row"].as_u64(),
            health["last_error_code"].as_u64()
        ),
        (Some(3), Some(2), Some(30003)),
        "a delivery in between resets the run: {health}"
    );
    assert_eq!(
        member_with_phone(&members_of(&app, &id).await, ANA)["status"],
        "active"
    );

    let third = receipt(5, "failed", "30007");
    for _ in 0..2 {
        deliver(
            &app,
            path,
            &third,
            SANDBOX_AUTH_TOKEN,
            &format!("{PUBLIC_URL}{path}"),
            "r5",
        )
        .await;
    }
    eventually(
        Duration::from_secs(20),
        "Ana paused and out of Twilio",
        || async {
            let ana = member_with_phone(&members_of(&app, &id).await, ANA);
            ana["status"] == "paused" && ana["sync"] == "done" && ana["conversation_sid"].is_null()
        },
    )
    .await;
    let ana = member_with_phone(&members_of(&app, &id).await, ANA);
    assert_eq!(
        ana["delivery"]["failures_in_a_row"], 3,
        "the repeated receipt counted once"
    );
    assert!(
        ana["status_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("30007")
    );
    eventually(Duration::from_secs(20), "the captains told", || async {
        texts_to(&app, OWNER, "Texts to Ana R. keep failing").await == 1
    })
    .await;
}

#[tokio::test]
async fn participants_changed_in_the_twilio_console_show_in_the_directory() {
    let app = spawn_sandbox_app().await;
    let (id, number, sid) = neighborhood_with_ana(&app).await;
    let with_webhooks = |request: reqwest::RequestBuilder| {
        request
            .basic_auth(
                crate::helpers::SANDBOX_ACCOUNT_SID,
                Some(SANDBOX_AUTH_TOKEN),
            )
            .header("X-Twilio-Webhook-Enabled", "true")
    };

    let added = with_webhooks(app.http.post(app.emulator_url(&format!(
        "/conversations/v1/Conversations/{sid}/Participants"
    ))))
    .form(&[
        ("MessagingBinding.Address", BO),
        ("MessagingBinding.ProxyAddress", number.as_str()),
    ])
    .send()
    .await
    .expect("sent");
    assert_eq!(added.status(), 201);
    eventually(Duration::from_secs(20), "Bo in the directory", || async {
        let bo = member_with_phone(&members_of(&app, &id).await, BO);
        bo["status"] == "active" && bo["conversation_sid"] == sid.as_str()
    })
    .await;
    assert_eq!(
        member_with_phone(&members_of(&app, &id).await, BO)["display_name"],
        "Neighbor 9902"
    );

    let ana = member_with_phone(&members_of(&app, &id).await, ANA);
    let participant_sid = participant_sid_of(&app, &id, &ana).await;
    let removed = with_webhooks(app.http.delete(app.emulator_url(&format!(
        "/conversations/v1/Conversations/{sid}/Participants/{participant_sid}"
    ))))
    .send()
    .await
    .expect("sent");
    assert_eq!(removed.status(), 204);
    eventually(Duration::from_secs(20), "Ana shown removed", || async {
        member_with_phone(&members_of(&app, &id).await, ANA)["status"] == "removed"
    })
    .await;
    let audit = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit"),
            200,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["actor"] == "twilio")
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(
        actions.contains(&"member.added_in_twilio")
            && actions.contains(&"member.removed_in_twilio")
    );
}

#[tokio::test]
async fn a_json_webhook_is_checked_through_its_body_hash() {
    let app = spawn_sandbox_app().await;
    let (_, _, sid) = neighborhood_with_ana(&app).await;
    let body = json!({"EventType": "onMessageAdd", "ConversationSid": sid, "Author": ANA, "Body": "json hello"})
        .to_string();
    let path = format!(
        "/webhooks/twilio/conversations/pre?bodySHA256={}",
        signature::body_sha256_hex(body.as_bytes())
    );
    let signature = signature::sign(SANDBOX_AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), &[]);
    let post = |body: String| {
        reqwest::Client::new()
            .post(app.url(&path))
            .header("X-Twilio-Signature", signature.clone())
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    let (status, answer) = json_of(post(body.clone()).await.expect("sent")).await;
    assert_eq!(
        (status, answer["body"].as_str()),
        (200, Some("Ana R.: json hello"))
    );
    let tampered = body.replace("json hello", "json changed");
    assert_eq!(post(tampered).await.expect("sent").status(), 403);
}

#[tokio::test]
async fn an_announcement_reaches_every_member_in_every_shard_once() {
    let app = spawn_sandbox_app().await;
    let (id, _, _) = neighborhood_with_ana(&app).await;
    let phones: Vec<String> = (0..53).map(|n| format!("+1555009{n:04}")).collect();
    for (n, phone) in phones.iter().enumerate() {
        app.post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            &json!({"phone": phone, "display_name": format!("Neighbor {n}")}),
            202,
        )
        .await;
    }
    crate::helpers::wait_until_synced(&app, &id, 55, Duration::from_secs(60)).await;
    let neighborhood = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;
    assert_eq!(neighborhood["shards"].as_array().map(Vec::len), Some(2));

    let announced = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            &json!({"body": "Street fair Saturday"}),
            202,
        )
        .await;
    assert_eq!(announced["body"], "Street fair Saturday");

    let expected = "Hook Street: Street fair Saturday";
    let everyone: Vec<String> = phones
        .iter()
        .cloned()
        .chain([OWNER.to_owned(), ANA.to_owned()])
        .collect();
    eventually(Duration::from_secs(30), "everyone to have it", || async {
        let mut all = true;
        for phone in &everyone {
            all &= texts_to(&app, phone, expected).await == 1;
        }
        all
    })
    .await;
    // A late copy into one shard would still be queued: drain, then count again.
    app.wait_for_outbox_drained(&id, Duration::from_secs(30))
        .await;
    for phone in &everyone {
        assert_eq!(texts_to(&app, phone, expected).await, 1, "{phone}");
    }
    let history = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    assert_eq!(history["items"][0]["body"], "Street fair Saturday");
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "   "}),
        400,
    )
    .await;
}

/// A stranger's `JOIN Dee` to `number`, as Twilio posts it to the number's SMS webhook.
fn join_text<'a>(number: &'a str, message_sid: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("From", STRANGER),
        ("To", number),
        ("Body", "JOIN Dee"),
        ("MessageSid", message_sid),
    ]
}

const STRANGER: &str = "+15550009931";
const SMS_WEBHOOK: &str = "/webhooks/twilio/sms";
const POST_WEBHOOK: &str = "/webhooks/twilio/conversations/post";

/// (status, body) of a webhook's answer.
async fn answer_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_repeat_of_a_webhook_on_any_instance_is_answered_alike_and_acted_on_once() {
    let first = spawn_sandbox_app().await;
    let second = spawn_second_sandbox_instance(&first).await;
    let (id, number, sid) = neighborhood_with_ana(&first).await;

    // Twilio's retries keep the token; a text sent again keeps its MessageSid under a new one.
    let text = join_text(&number, "SM00000000000000000000000000000077");
    // Both instances at once, as when Twilio's retry overtakes a slow first answer: the one
    // that loses waits for the other and answers as it did.
    let (a, b) = tokio::join!(
        deliver_webhook(&first, SMS_WEBHOOK, &text, "join-1"),
        deliver_webhook(&second, SMS_WEBHOOK, &text, "join-1"),
    );
    let mut answers = vec![answer_of(a).await, answer_of(b).await];
    let deliveries = [(&first, "join-1"), (&second, "join-2"), (&first, "join-3")];
    for (app, token) in deliveries {
        answers.push(answer_of(deliver_webhook(app, SMS_WEBHOOK, &text, token).await).await);
    }
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");

    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a date");
    let message = [
        ("EventType", "onMessageAdded"),
        ("ConversationSid", sid.as_str()),
        ("Author", ANA),
        ("Body", "Ana R.: see you at 7"),
        ("MessageSid", "IM00000000000000000000000000000077"),
        ("DateCreated", now.as_str()),
    ];
    let mut answers = Vec::new();
    for (app, token) in [
        (&first, "added-1"),
        (&second, "added-1"),
        (&second, "added-2"),
    ] {
        answers.push(answer_of(deliver_webhook(app, POST_WEBHOOK, &message, token).await).await);
    }
    assert_eq!(answers[0].0, 200, "{answers:?}");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");

    first.wait_for_text(STRANGER, "Thanks, Dee!").await;
    first
        .wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(texts_to(&first, STRANGER, "Thanks, Dee!").await, 1);
    let history = first
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    assert_eq!(
        history["items"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
}

#[tokio::test]
async fn a_text_whose_first_delivery_failed_midway_is_acted_on_when_twilio_delivers_it_again() {
    let app = spawn_sandbox_app().await;
    let (id, number, _) = neighborhood_with_ana(&app).await;
    let text = join_text(&number, "SM00000000000000000000000000000078");
    // A failure after the delivery was claimed: the stranger's phone points at a record that
    // cannot be read (as when Redis fails between two commands).
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let neighborhood = uuid::Uuid::parse_str(&id).expect("uuid");
    let broken = uuid::Uuid::new_v4().to_string();
    let mut redis = crate::helpers::test_redis().await;
    let _: () = redis::pipe()
        .hset(keys.member_phones(neighborhood), STRANGER, &broken)
        .hset(keys.members(neighborhood), &broken, "not a member")
        .query_async(&mut redis)
        .await
        .expect("HSET");

    let (status, _) = answer_of(deliver_webhook(&app, SMS_WEBHOOK, &text, "broken").await).await;
    assert_eq!(status, 500, "a failure is not acknowledged as handled");

    let _: () = redis::pipe()
        .hdel(keys.member_phones(neighborhood), STRANGER)
        .hdel(keys.members(neighborhood), &broken)
        .query_async(&mut redis)
        .await
        .expect("HDEL");
    for _ in 0..2 {
        let (status, _) =
            answer_of(deliver_webhook(&app, SMS_WEBHOOK, &text, "broken").await).await;
        assert_eq!(status, 200);
    }
    app.wait_for_text(STRANGER, "Thanks, Dee!").await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(texts_to(&app, STRANGER, "Thanks, Dee!").await, 1);
}

/// A failover can lose the answer to a write that landed: the claim is then let go, and the
/// backfill acts on the message again under a claim of its own. The message is in the history
/// (with its relays queued) once all the same.
#[tokio::test]
async fn a_message_acted_on_again_after_a_write_whose_answer_was_lost_is_recorded_once() {
    use neighborhood_text::services::deliveries::Once;
    use neighborhood_text::services::group_messages::{self, GroupMessage};

    let app = spawn_sandbox_app().await;
    let (id, _, conversation_sid) = neighborhood_with_ana(&app).await;
    let neighborhood = uuid::Uuid::parse_str(&id).expect("uuid");
    let sid = "IM00000000000000000000000000000091";
    let message = GroupMessage {
        sid,
        conversation_sid: &conversation_sid,
        index: None,
        author: ANA,
        body: "Ana R.: Porch lights on tonight",
        attributes: "{}",
        media: &[],
        chat_service_sid: None,
    };
    // Two claims under different names: the first one's "done" never landed.
    for claim in ["the webhook's", "the backfill's"] {
        let outcome =
            group_messages::added(&app.state, neighborhood, &message, &[claim.to_owned()])
                .await
                .expect("acted on");
        assert_eq!(outcome, Once::Acted, "{claim} claim acts");
    }
    let history = app
        .state
        .store
        .messages(neighborhood, None, 50, |_| true)
        .await
        .expect("history");
    let copies = history
        .iter()
        .filter(|stored| stored.entry.message_sid == sid)
        .count();
    assert_eq!(copies, 1, "recorded once: {history:?}");
}

/// A message the backfill finds held by another handler's claim (a webhook that failed while
/// Redis did and could not let go) is acted on by the job itself once that claim ends, without
/// waiting for the periodic pass (off here) or another webhook turned away.
#[tokio::test]
async fn the_backfill_comes_back_for_a_message_held_by_a_claim_that_then_ends() {
    use neighborhood_text::twilio::types::CreateConversationMessage;

    let app = crate::helpers::spawn_counting_sandbox_app(|settings| {
        settings.backfill_minutes = 0;
    })
    .await;
    let (id, _, conversation_sid) = neighborhood_with_ana(&app).await;
    let neighborhood = uuid::Uuid::parse_str(&id).expect("uuid");
    let twilio = app.state.twilio.as_ref().expect("the sandbox's account");
    // Written in the group without webhooks: the service hears of it only through the backfill.
    let message = twilio
        .client
        .create_conversation_message(
            &conversation_sid,
            &CreateConversationMessage {
                author: Some(ANA.to_owned()),
                body: "Ana R.: Porch lights on tonight".to_owned(),
                attributes: None,
                webhook_enabled: false,
                media_sid: None,
            },
        )
        .await
        .expect("posted");
    // Another handler holds it until a pass has found it held; then its claim ends.
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let claim = keys.webhook_delivery(neighborhood, &format!("added:{}", message.sid));
    let mut redis = crate::helpers::test_redis().await;
    let _: () = redis::cmd("SET")
        .arg(&claim)
        .arg("claim:another-instance")
        .arg("PX")
        .arg(60_000)
        .query_async(&mut redis)
        .await
        .expect("SET");
    let passes_before = app.state.backfill.passes();
    app.state.backfill.mark_due();
    eventually(
        Duration::from_secs(30),
        "a pass to find it held",
        || async { app.state.backfill.passes() > passes_before },
    )
    .await;
    let in_history = || async {
        app.state
            .store
            .messages(neighborhood, None, 50, |_| true)
            .await
            .expect("history")
            .iter()
            .any(|stored| stored.entry.message_sid == message.sid)
    };
    assert!(!in_history().await, "held by the other handler's claim");
    let _: () = redis::cmd("DEL")
        .arg(&claim)
        .query_async(&mut redis)
        .await
        .expect("DEL");

    eventually(
        Duration::from_secs(30),
        "the message in the history",
        in_history,
    )
    .await;
    assert!(
        app.state.backfill.passes() >= passes_before + 2,
        "one pass found it held, a later one acted on it"
    );
}

/// As for group messages: a text acted on again after a first act whose write landed though its
/// answer was lost (two claims under different names) is answered once.
#[tokio::test]
async fn a_text_acted_on_again_after_a_lost_answer_is_replied_to_once() {
    use neighborhood_text::domain::channel::Channel;
    use neighborhood_text::services::deliveries::Once;
    use neighborhood_text::services::inbound::{self, InboundText};

    let app = spawn_sandbox_app().await;
    let (id, _, _) = neighborhood_with_ana(&app).await;
    let neighborhood = uuid::Uuid::parse_str(&id).expect("uuid");
    let from = neighborhood_text::domain::phone::Phone::parse(STRANGER).expect("phone");
    let text = InboundText {
        sid: "SM00000000000000000000000000000092",
        channel: Channel::Sms,
        from: &from,
        body: "JOIN Dee",
        segments: Some(1),
    };
    for claim in ["the webhook's", "the backfill's"] {
        let outcome = inbound::received(&app.state, neighborhood, &text, &[claim.to_owned()])
            .await
            .expect("acted on");
        assert_eq!(outcome, Once::Acted, "{claim} claim acts");
    }
    app.wait_for_text(STRANGER, "Thanks, Dee!").await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    let replies = app.inbox(STRANGER).await;
    assert_eq!(replies.len(), 1, "one reply: {replies:?}");
}
