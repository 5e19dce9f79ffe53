//! Authority that ends when it should: a removed captain comes back (if at all) as a member and
//! only through a captain, a paused member stays paused, the owner cannot be paused or muted, and
//! nobody mutes a captain from below.

use std::time::Duration;

use neighborhood_text::domain::member::Role;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, Who, eventually, json_of, session_client, spawn_sandbox_app, wait_until_synced,
};

const OWNER: &str = "+15550009900";
const CARA: &str = "+15550009901";
const BEN: &str = "+15550009902";
const MO: &str = "+15550009903";
const WAIT: Duration = Duration::from_secs(20);

/// A neighborhood whose owner is Olive; returns (id, its number).
async fn neighborhood(app: &TestApp, area_code: &str) -> (String, String) {
    let created = app
        .create_neighborhood(&json!({"name": format!("Authority Street {area_code}"), "area_code": area_code, "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

/// Adds a neighbor and makes them a captain; their member id.
async fn add_captain(app: &TestApp, id: &str, phone: &str, name: &str) -> String {
    let member_id = app.add_member_by_api(id, phone, name).await;
    let (status, promoted) = patch(app, id, &member_id, json!({"role": "captain"})).await;
    assert_eq!((status, promoted["role"].as_str()), (200, Some("captain")));
    member_id
}

/// Every member of the neighborhood, as the platform admin lists them.
async fn members(app: &TestApp, id: &str) -> Vec<Value> {
    let listed = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            200,
        )
        .await;
    listed["items"].as_array().cloned().unwrap_or_default()
}

async fn member(app: &TestApp, id: &str, member_id: &str) -> Value {
    members(app, id)
        .await
        .into_iter()
        .find(|m| m["id"] == member_id)
        .unwrap_or_default()
}

async fn patch(app: &TestApp, id: &str, member_id: &str, changes: Value) -> (u16, Value) {
    json_of(
        app.patch_raw(
            &format!("/api/v1/neighborhoods/{id}/members/{member_id}"),
            &changes,
        )
        .await,
    )
    .await
}

async fn requests_of(app: &TestApp, id: &str, phone: &str) -> Vec<Value> {
    let listed = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    listed["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|r| r["phone"] == phone)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

async fn text_arrives(app: &TestApp, phone: &str, needle: &str) {
    eventually(
        WAIT,
        &format!("a text to {phone} with {needle:?}"),
        || async { app.inbox(phone).await.iter().any(|m| m.1.contains(needle)) },
    )
    .await;
}

#[tokio::test]
async fn a_removed_captain_who_texts_join_waits_for_a_captain_even_when_joining_is_open_and_comes_back_a_member()
 {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "415").await;
    let cara = add_captain(&app, &id, CARA, "Cara").await;
    let removed = app
        .delete(
            &Who::session(&app, OWNER).await,
            &format!("/api/v1/neighborhoods/{id}/members/{cara}"),
            200,
        )
        .await;
    assert_eq!(removed["status"], "removed");
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({"join_policy": "open"}),
        200,
    )
    .await;

    app.text(CARA, &number, "JOIN Cara Again").await;

    text_arrives(&app, CARA, "is with the captains").await;
    let requests = requests_of(&app, &id, CARA).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(
        request["state"], "pending",
        "not approved by the open policy"
    );
    assert!(
        request["previously"]
            .as_str()
            .is_some_and(|said| said.starts_with("Removed by Olive on ") && said.contains(", 20")),
        "the request says she was removed, when, and by the captain's name: {request}"
    );
    app.post(
        &Who::Admin,
        &format!(
            "/api/v1/neighborhoods/{id}/join-requests/{}/approve",
            request["id"].as_str().expect("id")
        ),
        &json!({}),
        202,
    )
    .await;
    let back = member(&app, &id, &cara).await;
    assert_eq!(
        (back["status"].as_str(), back["role"].as_str()),
        (Some("active"), Some("member")),
        "back in as a member, not as a captain: {back}"
    );
}

#[tokio::test]
async fn a_paused_member_who_texts_join_is_told_they_are_paused_and_stays_paused() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "628").await;
    let ben = app.add_member_by_api(&id, BEN, "Ben").await;
    let (status, paused) = patch(&app, &id, &ben, json!({"status": "paused"})).await;
    assert_eq!((status, paused["status"].as_str()), (200, Some("paused")));
    eventually(WAIT, "Ben out of the group text", || async {
        member(&app, &id, &ben).await["sync"] == "done"
    })
    .await;

    app.text(BEN, &number, "JOIN Ben").await;

    text_arrives(&app, BEN, "paused").await;
    assert!(
        requests_of(&app, &id, BEN).await.is_empty(),
        "no join request to approve around the pause"
    );
    assert!(
        !app.inbox(OWNER)
            .await
            .iter()
            .any(|m| m.1.starts_with("New join request")),
        "the captains are not asked"
    );
    assert_eq!(member(&app, &id, &ben).await["status"], "paused");

    // The join form answers a paused phone as anyone's (finding 14) and texts it why, not a code.
    let slug = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await["slug"]
        .as_str()
        .expect("slug")
        .to_owned();
    let asked = app
        .post(
            &Who::Anonymous,
            &format!("/api/v1/join/{slug}"),
            &json!({"name": "Ben", "phone": BEN, "consent": true}),
            202,
        )
        .await;
    assert_eq!(asked["state"], "pending_verification", "{asked}");
    text_arrives(&app, BEN, "asked on the web").await;
    assert!(
        !app.inbox(BEN)
            .await
            .iter()
            .any(|m| m.1.contains("is your code")),
        "no code for a paused phone"
    );
    assert!(requests_of(&app, &id, BEN).await.is_empty());
    assert_eq!(member(&app, &id, &ben).await["status"], "paused");
}

#[tokio::test]
async fn the_owner_cannot_be_paused_or_muted_and_only_the_owner_pauses_a_captain() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "510").await;
    add_captain(&app, &id, CARA, "Cara").await;
    let ben = add_captain(&app, &id, BEN, "Ben").await;
    let owner = members(&app, &id)
        .await
        .into_iter()
        .find(|m| m["role"] == "owner")
        .and_then(|m| m["id"].as_str().map(str::to_owned))
        .expect("the owner");
    let as_cara = session_client(&app, CARA).await;
    let patch_as = |client: reqwest::Client, member_id: String, changes: Value| {
        let url = app.url(&format!("/api/v1/neighborhoods/{id}/members/{member_id}"));
        async move { json_of(client.patch(url).json(&changes).send().await.expect("sent")).await }
    };

    for changes in [json!({"status": "paused"}), json!({"muted": true})] {
        let (status, refused) = patch_as(as_cara.clone(), owner.clone(), changes.clone()).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (409, Some("role_rule")),
            "a captain's {changes} of the owner: {refused}"
        );
    }
    let (status, refused) =
        patch_as(as_cara.clone(), ben.clone(), json!({"status": "paused"})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("role_rule")),
        "a captain pausing a captain: {refused}"
    );
    let as_owner = session_client(&app, OWNER).await;
    let (status, paused) =
        patch_as(as_owner.clone(), ben.clone(), json!({"status": "paused"})).await;
    assert_eq!(
        (status, paused["status"].as_str()),
        (200, Some("paused")),
        "{paused}"
    );
    let (status, refused) = patch_as(as_owner, owner.clone(), json!({"muted": true})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("role_rule")),
        "nobody mutes the owner: {refused}"
    );
}

#[tokio::test]
async fn a_moderator_cannot_mute_a_captain_by_text() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "707").await;
    let cara = add_captain(&app, &id, CARA, "Cara").await;
    let mo = app.add_member_by_api(&id, MO, "Mo").await;
    let (status, _) = patch(&app, &id, &mo, json!({"role": "moderator"})).await;
    assert_eq!(status, 200);
    wait_until_synced(&app, &id, 3, WAIT).await;

    app.text(MO, &number, "#mute Cara").await;

    text_arrives(&app, MO, "Cara").await;
    let reply = app
        .inbox(MO)
        .await
        .into_iter()
        .map(|m| m.1)
        .find(|text| text.contains("Cara"))
        .unwrap_or_default();
    assert!(
        !reply.contains("is muted"),
        "the moderator was obeyed: {reply}"
    );
    assert_eq!(member(&app, &id, &cara).await["muted"], false);
}

#[tokio::test]
async fn a_blocked_phone_is_refused_politely_by_text_and_on_the_web_and_no_captain_is_told() {
    const SAM: &str = "+15550009904";
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(&json!({"name": "Blocked Street", "area_code": "916", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id");
    let number = created["phone_number"].as_str().expect("number");
    let slug = created["slug"].as_str().expect("slug");
    let blocked_url = format!("/api/v1/neighborhoods/{id}/blocked-phones");
    let (status, blocked) = json_of(
        app.post_raw(
            &blocked_url,
            &json!({"phone": "(555) 000-9904", "note": "pumping texts"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, blocked["phone"].as_str()),
        (200, Some(SAM)),
        "{blocked}"
    );

    app.text(SAM, number, "JOIN Sam").await;
    text_arrives(&app, SAM, "cannot take a request to join").await;
    // On the web the form answers a blocked phone as it answers anyone (finding 14: it tells
    // no one which phones are blocked); the phone itself is told by text, and gets no code.
    let path = format!("/api/v1/join/{slug}");
    let ask = |phone: &str| json!({"name": "Sam", "phone": phone, "consent": true});
    let refused = app.post(&Who::Anonymous, &path, &ask(SAM), 202).await;
    let stranger = app
        .post(&Who::Anonymous, &path, &ask("+15550009905"), 202)
        .await;
    assert_eq!(
        (&refused["state"], &refused["message"]),
        (&stranger["state"], &stranger["message"]),
        "{refused} vs {stranger}"
    );
    eventually(WAIT, "the polite note twice", || async {
        app.inbox(SAM)
            .await
            .iter()
            .filter(|m| m.1.contains("cannot take a request to join"))
            .count()
            == 2
    })
    .await;
    assert!(
        !app.inbox(SAM)
            .await
            .iter()
            .any(|m| m.1.contains("is your code")),
        "no code for a blocked phone"
    );
    assert!(
        requests_of(&app, id, SAM).await.is_empty(),
        "no request filed"
    );
    assert!(
        !app.inbox(OWNER)
            .await
            .iter()
            .any(|m| m.1.starts_with("New join request")),
        "no captain is told"
    );
    let listed = app.get(&Who::Admin, &blocked_url, 200).await;
    assert_eq!(listed["items"][0]["note"], "pumping texts", "{listed}");

    app.delete(&Who::Admin, &format!("{blocked_url}/{SAM}"), 204)
        .await;
    app.text(SAM, number, "JOIN Sam").await;
    text_arrives(&app, SAM, "is with the captains").await;
    assert_eq!(requests_of(&app, id, SAM).await.len(), 1);
}

/// A token a captain made as `as_who`, with `role`; its secret.
async fn token_of(
    app: &TestApp,
    as_who: &Who,
    id: &str,
    role: &str,
    expires_at: Option<&str>,
) -> (u16, Value) {
    let mut body = json!({"name": "sync", "neighborhood_id": id, "role": role});
    if let Some(at) = expires_at {
        body["expires_at"] = json!(at);
    }
    json_of(
        app.client(as_who)
            .post(app.url("/api/v1/tokens"))
            .json(&body)
            .send()
            .await
            .expect("sent"),
    )
    .await
}

/// The status of listing the members with `secret`.
async fn members_with(app: &TestApp, id: &str, secret: &str) -> u16 {
    app.client(&Who::token(secret))
        .get(app.url(&format!("/api/v1/neighborhoods/{id}/members")))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_token_stops_working_when_its_creator_is_demoted_removed_or_hands_the_neighborhood_over()
{
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "530").await;
    let cara = add_captain(&app, &id, CARA, "Cara").await;
    let ben = add_captain(&app, &id, BEN, "Ben").await;
    let (status, by_cara) =
        token_of(&app, &Who::session(&app, CARA).await, &id, "captain", None).await;
    assert_eq!(status, 201, "{by_cara}");
    let (status, by_ben) =
        token_of(&app, &Who::session(&app, BEN).await, &id, "captain", None).await;
    assert_eq!(status, 201, "{by_ben}");
    let (status, by_owner) =
        token_of(&app, &Who::session(&app, OWNER).await, &id, "owner", None).await;
    assert_eq!(status, 201, "{by_owner}");
    for made in [&by_cara, &by_ben, &by_owner] {
        assert_eq!(
            members_with(&app, &id, made["secret"].as_str().expect("secret")).await,
            200
        );
    }

    let (status, _) = patch(&app, &id, &cara, json!({"role": "member"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        members_with(&app, &id, by_cara["secret"].as_str().expect("secret")).await,
        401,
        "Cara is no longer a captain"
    );
    app.delete(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members/{ben}"),
        200,
    )
    .await;
    assert_eq!(
        members_with(&app, &id, by_ben["secret"].as_str().expect("secret")).await,
        401,
        "Ben was removed"
    );
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/ownership"),
        &json!({"member_id": cara}),
        200,
    )
    .await;
    assert_eq!(
        members_with(&app, &id, by_owner["secret"].as_str().expect("secret")).await,
        401,
        "Olive handed the neighborhood over"
    );
}

#[tokio::test]
async fn a_token_cannot_make_a_token_that_outlives_it_and_its_tokens_end_with_it() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "559").await;
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a time");
    let next_week = (time::OffsetDateTime::now_utc() + time::Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a time");
    let (status, parent) = token_of(
        &app,
        &Who::session(&app, OWNER).await,
        &id,
        "captain",
        Some(&tomorrow),
    )
    .await;
    assert_eq!(status, 201, "{parent}");
    let as_parent = Who::token(parent["secret"].as_str().expect("secret"));

    let (status, refused) = token_of(&app, &as_parent, &id, "captain", Some(&next_week)).await;
    assert_eq!(
        (status, refused["details"][0]["field"].as_str()),
        (400, Some("expires_at")),
        "{refused}"
    );
    let (status, refused) = token_of(&app, &as_parent, &id, "owner", None).await;
    assert_eq!(status, 403, "not above its own role: {refused}");
    let (status, child) = token_of(&app, &as_parent, &id, "captain", None).await;
    assert_eq!(status, 201, "{child}");
    assert_eq!(
        child["token"]["expires_at"], parent["token"]["expires_at"],
        "no later than its parent"
    );
    let child_secret = child["secret"].as_str().expect("secret");
    assert_eq!(members_with(&app, &id, child_secret).await, 200);

    app.delete(
        &Who::Admin,
        &format!(
            "/api/v1/tokens/{}",
            parent["token"]["id"].as_str().expect("id")
        ),
        200,
    )
    .await;
    assert_eq!(
        members_with(&app, &id, child_secret).await,
        401,
        "revoking the parent ends the child"
    );
}

/// Security finding 16: the deployment-wide index of roles is written after the member record; a
/// stale entry (a failure between the two, or two changes interleaving) must grant nothing.
#[tokio::test]
async fn a_stale_role_index_grants_nothing_the_member_record_does_not() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "562").await;
    let cara = add_captain(&app, &id, CARA, "Cara").await;
    let as_cara = Who::session(&app, CARA).await;
    app.get(
        &as_cara,
        &format!("/api/v1/neighborhoods/{id}/members"),
        200,
    )
    .await;
    app.delete(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members/{cara}"),
        200,
    )
    .await;

    let phone = neighborhood_text::domain::phone::Phone::parse(CARA).expect("phone");
    let stale = app.state.store.keys().phone_roles_old_form(&phone);
    let mut redis = crate::helpers::test_redis().await;
    let uuid = uuid::Uuid::parse_str(&id).expect("id");
    redis::cmd("HSET")
        .arg(&stale)
        .arg(uuid.to_string())
        .arg("captain")
        .query_async::<()>(&mut redis)
        .await
        .expect("written");

    app.get(
        &as_cara,
        &format!("/api/v1/neighborhoods/{id}/members"),
        403,
    )
    .await;
}

/// Phone roles stored before the index was bucketed (a key per phone) still say where a phone
/// is a member, until a change of its membership there removes them.
#[tokio::test]
async fn roles_stored_in_the_form_before_count_until_a_change_replaces_them() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "563").await;
    let cara = add_captain(&app, &id, CARA, "Cara").await;
    let uuid = uuid::Uuid::parse_str(&id).expect("id");
    let elsewhere = uuid::Uuid::now_v7();
    let phone = neighborhood_text::domain::phone::Phone::parse(CARA).expect("phone");
    let store = &app.state.store;
    let mut redis = crate::helpers::test_redis().await;
    redis::cmd("HSET")
        .arg(store.keys().phone_roles_old_form(&phone))
        .arg(uuid.to_string())
        .arg("captain")
        .arg(elsewhere.to_string())
        .arg("moderator")
        .query_async::<()>(&mut redis)
        .await
        .expect("written");
    let mut expected = vec![(uuid, Role::Captain), (elsewhere, Role::Moderator)];
    expected.sort();
    assert_eq!(store.roles_of(&phone).await.expect("roles"), expected);

    app.delete(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members/{cara}"),
        200,
    )
    .await;
    assert_eq!(
        store.roles_of(&phone).await.expect("roles"),
        vec![(elsewhere, Role::Moderator)]
    );
}

/// Finding 17: the last-use time a request writes is a compare-and-set over the token it read,
/// so a revocation that lands between that read and that write stays revoked.
#[tokio::test]
async fn a_revocation_is_not_undone_by_a_last_use_written_from_an_older_read() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "531").await;
    let (status, made) = token_of(&app, &Who::Admin, &id, "captain", None).await;
    assert_eq!(status, 201, "{made}");
    let token_id: uuid::Uuid = made["token"]["id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("id");
    let read_by_a_request = app
        .state
        .store
        .api_token(token_id)
        .await
        .expect("redis")
        .expect("the token");

    app.delete(&Who::Admin, &format!("/api/v1/tokens/{token_id}"), 200)
        .await;
    let used = neighborhood_text::domain::access::ApiToken {
        last_used_at: Some(time::OffsetDateTime::now_utc()),
        ..read_by_a_request.clone()
    };
    let replaced = app
        .state
        .store
        .replace_api_token(&read_by_a_request, &used)
        .await
        .expect("redis");

    assert!(!replaced, "the last-use write went over the revocation");
    let stored = app
        .state
        .store
        .api_token(token_id)
        .await
        .expect("redis")
        .expect("the token");
    assert!(stored.revoked_at.is_some(), "{stored:?}");
    assert_eq!(
        members_with(&app, &id, made["secret"].as_str().expect("secret")).await,
        401
    );
}

/// A neighbor made a captain or a moderator learns it by text, from whom, and where to sign in; a
/// demotion, or a promotion that changes nothing, sends nothing.
#[tokio::test]
async fn a_new_captain_gets_a_text_with_who_made_them_one_and_the_sign_in_link() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "415").await;
    let olive = Who::session(&app, OWNER).await;
    let cara = app.add_member_by_api(&id, CARA, "Cara").await;
    let ben = app.add_member_by_api(&id, BEN, "Ben").await;
    let promote = |member_id: String, role: &'static str| {
        let (app, id, olive) = (&app, &id, &olive);
        async move {
            app.patch(
                olive,
                &format!("/api/v1/neighborhoods/{id}/members/{member_id}"),
                &json!({"role": role}),
                200,
            )
            .await
        }
    };
    promote(cara.clone(), "captain").await;
    promote(ben.clone(), "moderator").await;
    let sign_in = app.state.settings.public_url.as_str().to_owned();
    let to_cara = app.wait_for_text(CARA, "made you").await;
    assert_eq!(
        to_cara,
        format!(
            "Olive made you a captain of Authority Street 415. Sign in at {sign_in} with this phone to approve neighbors and post announcements."
        )
    );
    let to_ben = app.wait_for_text(BEN, "made you").await;
    assert!(
        to_ben.starts_with("Olive made you a moderator of Authority Street 415."),
        "{to_ben}"
    );
    // Back to member, then captain again: one more text, for the promotion only.
    promote(cara.clone(), "member").await;
    promote(cara.clone(), "captain").await;
    promote(cara, "captain").await;
    eventually(WAIT, "the second promotion's text", || async {
        app.inbox(CARA)
            .await
            .iter()
            .filter(|(_, body, _)| body.contains("made you"))
            .count()
            == 2
    })
    .await;
}
