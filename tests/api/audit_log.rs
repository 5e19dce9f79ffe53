//! The audit log narrowed down: by a family of actions or one action, by who acted, and paged
//! through the filter with the `next_before` cursor.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, spawn_sandbox_app};

const OWNER: &str = "+15550009800";

async fn entries(app: &TestApp, id: &str, query: &str) -> Value {
    app.get(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/audit?{query}"),
        200,
    )
    .await
}

fn actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["action"].as_str().expect("action").to_owned())
        .collect()
}

#[tokio::test]
async fn the_audit_log_filters_by_action_and_by_who_acted_and_pages_through_the_filter() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(&json!({"name": "Audit Lane", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id");
    let olive = Who::session(&app, OWNER).await;
    let mut added = Vec::new();
    for (n, name) in ["Ann", "Bea", "Cal"].iter().enumerate() {
        let member = app
            .post(
                &olive,
                &format!("/api/v1/neighborhoods/{id}/members"),
                &json!({"phone": format!("+1555000980{}", n + 1), "display_name": name}),
                202,
            )
            .await;
        added.push(member["id"].as_str().expect("id").to_owned());
    }
    // The platform's token acts too: one role change.
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members/{}", added[0]),
        &json!({"role": "captain"}),
        200,
    )
    .await;
    app.delete(
        &olive,
        &format!("/api/v1/neighborhoods/{id}/members/{}", added[2]),
        200,
    )
    .await;

    let everything = entries(&app, id, "").await;
    assert!(actions(&everything).contains(&"neighborhood.create".to_owned()));

    let member_changes = entries(&app, id, "action=member.").await;
    assert_eq!(
        actions(&member_changes),
        [
            "member.remove",
            "member.role_change",
            "member.add",
            "member.add",
            "member.add"
        ],
        "every member change, newest first, nothing else"
    );
    let removals = entries(&app, id, "action=member.remove").await;
    assert_eq!(actions(&removals), ["member.remove"]);

    let by_olive = entries(&app, id, &format!("actor=phone:%2B{}", &OWNER[1..])).await;
    assert_eq!(
        actions(&by_olive),
        ["member.remove", "member.add", "member.add", "member.add"],
        "the token's role change is not Olive's"
    );
    let olive_adding = entries(
        &app,
        id,
        &format!("actor=phone:%2B{}&action=member.add", &OWNER[1..]),
    )
    .await;
    assert_eq!(actions(&olive_adding).len(), 3);

    // Paging one at a time through the filter meets each of Olive's additions once.
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..10 {
        let cursor = before
            .as_ref()
            .map(|b| format!("&before={b}"))
            .unwrap_or_default();
        let page = entries(&app, id, &format!("action=member.add&limit=1{cursor}")).await;
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|item| item["target"].clone()),
        );
        match page["next_before"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<Value> = added
        .iter()
        .map(|id| json!(format!("member:{id}")))
        .collect();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, each once, then no cursor");

    let refused = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit?action=DROP%20TABLE"),
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "action");
}
