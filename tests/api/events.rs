//! Live updates: a browser on one instance hears of changes another instance made.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Who, spawn_sandbox_app, spawn_second_sandbox_instance};

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
