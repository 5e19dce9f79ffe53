//! Invites: personal links by text, the shareable link, and the QR code for flyers.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, Who, eventually, spawn_sandbox_app};

const OWNER: &str = "+15550009900";

async fn neighborhood(app: &TestApp) -> (String, String) {
    let created = app
        .create_neighborhood(
            &json!({"name": "Invite Street", "area_code": "602", "owner_phone": OWNER}),
        )
        .await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["slug"].as_str().expect("slug").to_owned(),
    )
}

#[tokio::test]
async fn captains_text_personal_invites_and_an_invited_neighbor_is_recognised() {
    let app = spawn_sandbox_app().await;
    let (id, slug) = neighborhood(&app).await;
    let invitee = "+15550009901";

    let sent = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/invites"),
            &json!({"phones": ["(555) 000-9901", invitee, OWNER]}),
            202,
        )
        .await;
    assert_eq!(sent["invited"], json!([invitee]));
    let reasons: Vec<&str> = sent["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter_map(|s| s["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["duplicate", "already_member"]);
    eventually(Duration::from_secs(20), "the invite text", || async {
        app.inbox(invitee)
            .await
            .last()
            .is_some_and(|m| m.1.starts_with("You're invited to Invite Street"))
    })
    .await;
    let text = app
        .inbox(invitee)
        .await
        .last()
        .map(|m| m.1.clone())
        .unwrap_or_default();
    let code = text
        .split("?invite=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a personal code")
        .to_owned();
    assert!(text.contains(&format!("https://text.example.org/join/{slug}?invite=")));

    app.post(
        &Who::Anonymous,
        &format!("/api/v1/join/{slug}"),
        &json!({"name": "Ivy", "phone": invitee, "consent": true, "invite": code}),
        202,
    )
    .await;
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    assert_eq!(requests["items"][0]["channel"], "invite");

    let body = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/invites"),
            &json!({"phones": ["not a phone"]}),
            400,
        )
        .await;
    assert_eq!(body["details"][0]["field"], "phones[0]");
}

#[tokio::test]
async fn the_link_and_qr_code_are_ready_for_a_flyer() {
    let app = spawn_sandbox_app().await;
    let (id, slug) = neighborhood(&app).await;

    let link = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/invites/link"),
            200,
        )
        .await;
    assert_eq!(link["url"], format!("https://text.example.org/join/{slug}"));
    assert!(
        link["flyer_text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Text JOIN and your name to +1602")
    );

    let svg = app
        .get_raw(&format!("/api/v1/neighborhoods/{id}/invites/qr"))
        .await;
    assert_eq!(
        svg.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert!(svg.text().await.expect("svg").contains("<svg"));
    let png = app
        .get_raw(&format!("/api/v1/neighborhoods/{id}/invites/qr?format=png"))
        .await;
    assert_eq!(
        png.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert!(png.bytes().await.expect("png").starts_with(b"\x89PNG"));
}

#[tokio::test]
async fn invites_stop_at_the_daily_limit_of_the_neighborhood() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app).await;
    for batch in 0..2 {
        let phones: Vec<String> = (0..100)
            .map(|n| format!("+1555010{}{n:03}", batch))
            .collect();
        let sent = app
            .post(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/invites"),
                &json!({"phones": phones}),
                202,
            )
            .await;
        assert_eq!(sent["invited"].as_array().map(Vec::len), Some(100));
    }

    let over = app
        .post_raw(
            &format!("/api/v1/neighborhoods/{id}/invites"),
            &json!({"phones": ["+15550109999"]}),
        )
        .await;

    assert_eq!(over.status(), 429);
    let retry_after: u64 = over
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry_after >= 1);
}

#[tokio::test]
async fn an_invite_names_the_captain_who_sent_it() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(&json!({"name": "Named Invites", "area_code": "602", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id");
    let owner = Who::session(&app, OWNER).await;
    let invitee = "+15550009902";
    app.post(
        &owner,
        &format!("/api/v1/neighborhoods/{id}/invites"),
        &json!({"phones": [invitee]}),
        202,
    )
    .await;
    let text = app.wait_for_text(invitee, "invited you").await;
    assert!(
        text.starts_with("Olive invited you to Named Invites's neighborhood group text. Join at "),
        "{text}"
    );
}
