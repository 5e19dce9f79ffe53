//! Catch-up for new members, end to end with the emulator: the last messages in one text, or a
//! link that opens a read-only page once; off by default.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, eventually, spawn_sandbox_app, wait_until_synced};

const OWNER: &str = "+15550060000";
const BEN: &str = "+15550060001";
const WAIT: Duration = Duration::from_secs(20);

/// Elm Street with Ben in the group, and three things Ben said; returns (id, number).
async fn elm_street_with_history(app: &TestApp) -> (String, String) {
    let created = app
        .create_neighborhood(&json!({"name": "Elm Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let number = created["phone_number"].as_str().expect("number").to_owned();
    app.add_member_by_api(&id, BEN, "Ben").await;
    wait_until_synced(app, &id, 2, WAIT).await;
    for text in ["first", "second", "third"] {
        let routed = app.text(BEN, &number, text).await;
        assert_eq!(routed["outcome"], "conversation", "{routed}");
    }
    eventually(WAIT, "the three messages in the history", || async {
        let page = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/messages"),
                200,
            )
            .await;
        page["items"]
            .as_array()
            .is_some_and(|items| items.len() == 3)
    })
    .await;
    (id, number)
}

async fn set_catch_up(app: &TestApp, id: &str, setting: Value, status: u16) -> Value {
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"catch_up": setting}),
        status,
    )
    .await
}

/// `phone` texts JOIN, a captain approves; returns once the welcome text arrived.
async fn join_and_approve(app: &TestApp, id: &str, number: &str, phone: &str, name: &str) {
    let routed = app.text(phone, number, &format!("JOIN {name}")).await;
    assert_eq!(routed["outcome"], "sms_webhook", "{routed}");
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
            200,
        )
        .await;
    let request = requests["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|request| request["phone"] == phone)
        .expect("the request");
    let request_id = request["id"].as_str().expect("id");
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
        &json!({}),
        202,
    )
    .await;
    eventually(WAIT, "the welcome text", || async {
        app.inbox(phone)
            .await
            .iter()
            .any(|(_, body, _)| body.starts_with("Welcome to Elm Street"))
    })
    .await;
}

/// The texts `phone` received after the welcome text.
async fn after_welcome(app: &TestApp, phone: &str) -> Vec<String> {
    let bodies: Vec<String> = app
        .inbox(phone)
        .await
        .into_iter()
        .map(|(_, body, _)| body)
        .collect();
    let welcome = bodies
        .iter()
        .position(|body| body.starts_with("Welcome to Elm Street"))
        .expect("a welcome text");
    bodies[welcome + 1..].to_vec()
}

#[tokio::test]
async fn a_new_member_gets_the_last_messages_in_one_text() {
    let app = spawn_sandbox_app().await;
    let (id, number) = elm_street_with_history(&app).await;
    let updated = set_catch_up(&app, &id, json!({"mode": "text", "messages": 2}), 200).await;
    assert_eq!(updated["catch_up"], json!({"mode": "text", "messages": 2}));

    let dan = "+15550060002";
    join_and_approve(&app, &id, &number, dan, "Dan").await;
    eventually(WAIT, "the catch-up text", || async {
        !after_welcome(&app, dan).await.is_empty()
    })
    .await;
    assert_eq!(
        after_welcome(&app, dan).await,
        vec!["Catch up on Elm Street, the last 2 messages:\nBen: second\nBen: third".to_owned()]
    );
}

#[tokio::test]
async fn a_catch_up_link_opens_the_latest_messages_once() {
    let app = spawn_sandbox_app().await;
    let (id, number) = elm_street_with_history(&app).await;
    set_catch_up(&app, &id, json!({"mode": "link", "messages": 5}), 200).await;

    let eve = "+15550060003";
    join_and_approve(&app, &id, &number, eve, "Eve").await;
    eventually(WAIT, "the catch-up link", || async {
        !after_welcome(&app, eve).await.is_empty()
    })
    .await;
    let text = after_welcome(&app, eve).await.remove(0);
    let url = text
        .split_whitespace()
        .find(|word| word.contains("/history/"))
        .unwrap_or_else(|| panic!("a link in {text:?}"));
    let path = &url[url.find("/history/").expect("path")..];
    let (neighborhood, code) = path["/history/".len()..]
        .split_once('/')
        .expect("id and code");
    assert_eq!(neighborhood, id);

    let page = reqwest::get(app.url(path)).await.expect("sent");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("/history.js"));
    let api = format!("/api/v1/neighborhoods/{id}/catch-up/{code}");
    let opened = app.get(&Who::Anonymous, &api, 200).await;
    assert_eq!(opened["neighborhood"], "Elm Street");
    let said: Vec<&str> = opened["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|message| message["body"].as_str().expect("body"))
        .collect();
    assert_eq!(said, ["first", "second", "third"]);
    assert!(opened["messages"][0]["sender_name"] == "Ben");

    // Once only; a guessed code opens nothing either.
    let again = app.get(&Who::Anonymous, &api, 404).await;
    assert!(
        again["message"]
            .as_str()
            .expect("message")
            .contains("opened already")
    );
    let guessed = format!("/api/v1/neighborhoods/{id}/catch-up/AAAAAAAAAAAAAAAAAAAAAA");
    app.get(&Who::Anonymous, &guessed, 404).await;
}

#[tokio::test]
async fn catch_up_is_off_by_default_and_checked() {
    let app = spawn_sandbox_app().await;
    let (id, number) = elm_street_with_history(&app).await;
    let neighborhood = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;
    assert_eq!(neighborhood["catch_up"]["mode"], "off");

    let frank = "+15550060004";
    join_and_approve(&app, &id, &number, frank, "Frank").await;
    // The welcome text and the catch-up leave the outbox in order: a later text proves none came.
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "Welcome Frank!"}),
        202,
    )
    .await;
    eventually(WAIT, "the announcement", || async {
        !after_welcome(&app, frank).await.is_empty()
    })
    .await;
    assert!(
        after_welcome(&app, frank)
            .await
            .iter()
            .all(|body| !body.starts_with("Catch up")),
    );

    for bad in [
        json!({"mode": "text", "messages": 0}),
        json!({"mode": "text", "messages": 21}),
    ] {
        let refused = set_catch_up(&app, &id, bad, 400).await;
        assert_eq!(refused["details"][0]["field"], "catch_up.messages");
    }
}

#[tokio::test]
async fn a_catch_up_link_shows_the_groups_pictures_for_an_hour_and_no_other() {
    let clock = neighborhood_text::config::Clock::default();
    let receiver = wiremock::MockServer::start().await;
    let mut settings = crate::helpers::sandbox_settings(&receiver);
    settings.clock = clock.clone();
    let app = crate::helpers::spawn_sandbox_app_with(receiver, settings).await;
    let (id, number) = elm_street_with_history(&app).await;
    let picture = vec![0x89, b'P', b'N', b'G', 1, 2, 3, 4];
    let routed = app
        .text_with_media(BEN, &number, "lost cat", &[("image/png", picture.clone())])
        .await;
    assert_eq!(routed["outcome"], "conversation", "{routed}");
    eventually(WAIT, "the picture in the history", || async {
        let page = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/messages"),
                200,
            )
            .await;
        page["items"][0]["media"]
            .as_array()
            .is_some_and(|m| m.len() == 1)
    })
    .await;
    set_catch_up(&app, &id, json!({"mode": "link", "messages": 5}), 200).await;
    let eve = "+15550060004";
    join_and_approve(&app, &id, &number, eve, "Eve").await;
    eventually(WAIT, "the catch-up link", || async {
        !after_welcome(&app, eve).await.is_empty()
    })
    .await;
    let text = after_welcome(&app, eve).await.remove(0);
    let url = text
        .split_whitespace()
        .find(|word| word.contains("/history/"))
        .unwrap_or_else(|| panic!("a link in {text:?}"));
    let code = url.rsplit('/').next().expect("code");
    let opened = app
        .get(
            &Who::Anonymous,
            &format!("/api/v1/neighborhoods/{id}/catch-up/{code}"),
            200,
        )
        .await;
    let cat = &opened["messages"][3];
    assert_eq!(cat["body"], "lost cat", "{opened}");
    assert_eq!(cat["media"][0]["content_type"], "image/png");
    let shared = cat["media"][0]["url"].as_str().expect("url").to_owned();

    // The page has no session: the address alone shows the picture...
    let shown = reqwest::get(app.url(&shared)).await.expect("sent");
    assert_eq!(shown.status(), 200);
    assert_eq!(shown.headers()["content-type"], "image/png");
    assert_eq!(shown.bytes().await.expect("bytes").to_vec(), picture);
    // ...that picture only, unaltered...
    let tampered = shared.replace("signature=", "signature=0");
    assert_eq!(
        reqwest::get(app.url(&tampered))
            .await
            .expect("sent")
            .status(),
        404
    );
    let (path, query) = shared.split_once('?').expect("a query");
    let other = format!(
        "{}ME0123456789abcdef0123456789abcdef?{query}",
        &path[..path.rfind('/').expect("slash") + 1]
    );
    assert_eq!(
        reqwest::get(app.url(&other)).await.expect("sent").status(),
        404
    );
    // ...for an hour.
    clock.advance(Duration::from_secs(3601));
    assert_eq!(
        reqwest::get(app.url(&shared)).await.expect("sent").status(),
        404
    );
}
