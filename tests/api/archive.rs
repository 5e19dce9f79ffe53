//! Closing a neighborhood for good, end to end with the emulator: archiving with a farewell text,
//! then deleting it (owner only, typed name), which leaves nothing of it in Redis or at Twilio.

use std::time::Duration;

use serde_json::{Value, json};

use reqwest::Method;

use crate::helpers::{
    TestApp, Who, bearer_client, eventually, spawn_sandbox_app, wait_until_synced,
};

const OWNER: &str = "+15550050000";
const BEN: &str = "+15550050001";
const CARA: &str = "+15550050002";
const WAIT: Duration = Duration::from_secs(20);

/// A neighborhood owned by Olive with Ben and Cara in its group text; returns it.
async fn neighborhood_with_members(app: &TestApp, name: &str) -> Value {
    let created = app
        .create_neighborhood(
            &json!({"name": name, "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    for (phone, name) in [(BEN, "Ben"), (CARA, "Cara")] {
        app.add_member_by_api(id, phone, name).await;
    }
    wait_until_synced(app, id, 3, WAIT).await;
    created
}

/// Deletes the neighborhood as `who`, confirming with `name`; fails unless the answer is
/// `status`.
async fn delete(who: &Who, app: &TestApp, id: &str, name: &str, status: u16) -> Value {
    app.send(
        who,
        Method::DELETE,
        &format!("/api/v1/neighborhoods/{id}"),
        Some(&json!({"confirm_name": name})),
        status,
    )
    .await
}

#[tokio::test]
async fn archiving_says_farewell_and_deleting_leaves_nothing_behind() {
    let app = spawn_sandbox_app().await;
    let elm = neighborhood_with_members(&app, "Elm Street").await;
    let id = elm["id"].as_str().expect("id");
    let token = app
        .post(
            &Who::Admin,
            "/api/v1/tokens",
            &json!({"name": "sync", "neighborhood_id": id, "role": "captain"}),
            201,
        )
        .await;
    let scoped = bearer_client(token["secret"].as_str().expect("secret"));

    // Deleting needs archiving first.
    let owner = Who::session(&app, OWNER).await;
    let refused = delete(&owner, &app, id, "Elm Street", 409).await;
    assert_eq!(refused["code"], "neighborhood_not_archived", "{refused}");

    let archived = app
        .post(
            &owner,
            &format!("/api/v1/neighborhoods/{id}/archive"),
            &json!({"release_number": false, "farewell": "Thanks for everything, neighbors."}),
            200,
        )
        .await;
    assert_eq!(archived["state"], "archived");
    for phone in [BEN, CARA, OWNER] {
        let inbox = app.inbox(phone).await;
        assert!(
            inbox
                .iter()
                .any(|(_, body, _)| body == "Elm Street: Thanks for everything, neighbors."),
            "the farewell reached {phone}: {inbox:?}"
        );
    }

    // Only the owner, only with the name typed out.
    let ben = Who::session(&app, BEN).await;
    delete(&ben, &app, id, "Elm Street", 403).await;
    let mistyped = delete(&owner, &app, id, "Elm St", 400).await;
    assert_eq!(mistyped["details"][0]["field"], "confirm_name");

    let prefix = format!("{}:{{nb:{}}}:", app.keys_prefix, id.replace('-', ""));
    assert!(
        app.stored_keys()
            .await
            .iter()
            .any(|key| key.starts_with(&prefix))
    );
    let deleted = delete(&owner, &app, id, "Elm Street", 200).await;
    assert_eq!(deleted["released_number"], true, "{deleted}");

    // Nothing of it in Redis: no key of its slot, no role, no index entry, no claim.
    let left: Vec<String> = app
        .stored_keys()
        .await
        .into_iter()
        .filter(|key| key.starts_with(&prefix))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    for phone in [OWNER, BEN, CARA] {
        let phone = neighborhood_text::domain::phone::Phone::parse(phone).expect("phone");
        let roles = app.state.store.roles_of(&phone).await.expect("redis");
        assert!(roles.is_empty(), "{phone:?} keeps {roles:?}");
    }
    for state in ["active", "archived"] {
        let listed = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods?state={state}"),
                200,
            )
            .await;
        assert_eq!(listed["items"], json!([]), "{state}");
    }
    app.get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 404)
        .await;
    // Nor at Twilio: the Conversation and the number are gone.
    let conversation = elm["shards"][0]["conversation_sid"].as_str().expect("sid");
    let fetched = app
        .emulator_get(&format!("/conversations/v1/Conversations/{conversation}"))
        .await;
    assert_eq!(fetched.status(), 404);
    let number_sid = elm["phone_number_sid"].as_str().expect("sid");
    let number = app
        .emulator_get(&format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{number_sid}.json",
            crate::helpers::SANDBOX_ACCOUNT_SID
        ))
        .await;
    assert_eq!(number.status(), 404);
    // Its token no longer works; the platform audit remembers the deletion.
    let refused = scoped
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), 401);
    let audit = app.state.store.audit(None, None, 10).await.expect("redis");
    assert!(
        audit
            .iter()
            .any(|record| record.entry.action == "neighborhood.delete"
                && record.entry.detail["name"] == "Elm Street"),
        "{audit:?}"
    );

    // The owner holds no role there any more; a platform admin finds nothing to delete.
    delete(&owner, &app, id, "Elm Street", 403).await;
    delete(&Who::Admin, &app, id, "Elm Street", 404).await;
}

#[tokio::test]
async fn deleting_spares_a_kept_number_another_neighborhood_took_over() {
    let app = spawn_sandbox_app().await;
    let elm = neighborhood_with_members(&app, "Elm Street").await;
    let id = elm["id"].as_str().expect("id");
    let number = elm["phone_number"].as_str().expect("number");
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;
    let oak = app
        .create_neighborhood(
            &json!({"name": "Oak Lane", "phone_number": number, "owner_phone": OWNER}),
        )
        .await;

    let owner = Who::session(&app, OWNER).await;
    let deleted = delete(&owner, &app, id, "Elm Street", 200).await;
    assert_eq!(deleted["released_number"], false, "{deleted}");

    // Oak Lane still has its number and its group text.
    let oak_now = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{}", oak["id"].as_str().expect("id")),
            200,
        )
        .await;
    assert_eq!(oak_now["phone_number"], number);
    eventually(WAIT, "Ben to reach Oak Lane's number", || async {
        let routed = app.text(BEN, number, "hello").await;
        routed["outcome"] == "sms_webhook"
    })
    .await;
}
