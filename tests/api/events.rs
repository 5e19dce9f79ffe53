//! Live updates: a browser on one instance hears of changes another instance made, and all the
//! streams of an instance share one Redis pub/sub connection (security review, finding 10).

use std::time::Duration;

use serde_json::json;

use crate::helpers::{
    RedisGate, TestApp, Who, eventually, sandbox_settings, spawn_sandbox_app,
    spawn_sandbox_app_with, spawn_second_sandbox_instance,
};

/// A sandbox app whose Redis connections all go through `gate`, so a test can see them in
/// Redis's `CLIENT LIST` and cut them.
async fn app_behind(gate: &RedisGate) -> TestApp {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    crate::helpers::use_single_redis(&mut settings, &gate.url);
    spawn_sandbox_app_with(receiver, settings).await
}

async fn neighborhood(app: &TestApp, name: &str, owner: &str) -> String {
    let created = app
        .create_neighborhood(&json!({"name": name, "area_code": "212", "owner_phone": owner}))
        .await;
    created["id"].as_str().expect("id").to_owned()
}

pub(crate) async fn open_stream(app: &TestApp, id: &str) -> reqwest::Response {
    let stream = app
        .get_raw(&format!("/api/v1/neighborhoods/{id}/events"))
        .await;
    assert_eq!(stream.status(), 200);
    stream
}

/// Adds a member to the neighborhood and returns the event line its streams should carry.
pub(crate) async fn add_member(app: &TestApp, id: &str, phone: &str) -> String {
    let member_id = app.add_member_by_api(id, phone, "Neighbor").await;
    format!(r#"data: {{"id":"{member_id}","kind":"member"}}"#)
}

/// Reads the stream until `wanted` arrives (failing after 20 s, or if the stream ends).
pub(crate) async fn hear(stream: &mut reqwest::Response, wanted: &str) {
    assert!(
        hear_unless_ended(stream, wanted).await,
        "the stream ended before {wanted}"
    );
}

/// Reads the stream until `wanted` arrives (true) or the stream ends (false), as a browser's
/// `EventSource` sees it before reconnecting; fails after 20 s of a stream open and silent.
pub(crate) async fn hear_unless_ended(stream: &mut reqwest::Response, wanted: &str) -> bool {
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !received.contains(wanted) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {wanted} before the deadline; got {received:?}"));
        match chunk {
            Ok(Some(chunk)) => received.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(None) | Err(_) => return false,
        }
    }
    true
}

/// Reads the stream until it ends (failing after 10 s).
pub(crate) async fn ended(stream: &mut reqwest::Response) {
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream is still open");
}

#[tokio::test]
async fn changes_made_on_another_instance_arrive_as_server_sent_events() {
    let first = spawn_sandbox_app().await;
    let second = spawn_second_sandbox_instance(&first).await;
    let created = first
        .create_neighborhood(
            &json!({"name": "Live Street", "area_code": "212", "owner_phone": "+15550005500"}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let mut stream = first
        .get_raw(&format!("/api/v1/neighborhoods/{id}/events"))
        .await;
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    );

    let added = second
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            &json!({"phone": "+15550005501", "display_name": "Ana"}),
            202,
        )
        .await;

    let wanted = format!(
        r#"data: {{"id":"{}","kind":"member"}}"#,
        added["id"].as_str().expect("id")
    );
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !received.contains(&wanted) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {wanted} before the deadline; got {received:?}"))
            .expect("stream readable")
            .expect("stream open");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }

    first
        .get(
            &Who::Admin,
            "/api/v1/neighborhoods/00000000-0000-0000-0000-000000000000/events",
            404,
        )
        .await;
}

#[tokio::test]
async fn every_stream_of_an_instance_shares_one_redis_subscriber_connection() {
    let gate = RedisGate::start(true).await;
    let app = app_behind(&gate).await;
    let first = neighborhood(&app, "Shared Street", "+15550005510").await;
    let second = neighborhood(&app, "Other Street", "+15550005520").await;

    let mut on_first = Vec::new();
    for _ in 0..3 {
        on_first.push(open_stream(&app, &first).await);
    }
    let mut on_second = Vec::new();
    for _ in 0..2 {
        on_second.push(open_stream(&app, &second).await);
    }
    // One connection, subscribed to the two neighborhoods' channels.
    assert_eq!(gate.subscribed_connections().await, vec![(2, 0)]);

    let to_first = add_member(&app, &first, "+15550005511").await;
    let to_second = add_member(&app, &second, "+15550005521").await;
    for stream in &mut on_first {
        hear(stream, &to_first).await;
    }
    for stream in &mut on_second {
        hear(stream, &to_second).await;
    }

    // The last stream on a neighborhood gone, its channel is unsubscribed.
    drop(on_second);
    eventually(
        Duration::from_secs(10),
        "the second neighborhood's channel to be unsubscribed",
        || async { gate.subscribed_connections().await == vec![(1, 0)] },
    )
    .await;
    let again = add_member(&app, &first, "+15550005512").await;
    for stream in &mut on_first {
        hear(stream, &again).await;
    }

    drop(on_first);
    eventually(
        Duration::from_secs(10),
        "no subscription left once no stream is open",
        || async { gate.subscribed_connections().await.is_empty() },
    )
    .await;
}

#[tokio::test]
async fn streams_end_when_the_redis_connection_drops_and_new_ones_hear_changes_again() {
    let gate = RedisGate::start(true).await;
    let app = app_behind(&gate).await;
    let id = neighborhood(&app, "Restart Street", "+15550005530").await;
    let mut before = vec![open_stream(&app, &id).await, open_stream(&app, &id).await];

    // As when Redis restarts: the browser's EventSource reconnects and refetches.
    gate.cut_connections();
    for stream in &mut before {
        ended(stream).await;
    }

    let mut after = open_stream(&app, &id).await;
    let wanted = add_member(&app, &id, "+15550005531").await;
    hear(&mut after, &wanted).await;
    assert_eq!(gate.subscribed_connections().await, vec![(1, 0)]);
}
