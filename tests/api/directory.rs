//! The member directory and member management against the emulator, end to end: searching and
//! paging the members, how each came in, pausing, removing with a notice, retrying a failed sync,
//! join-request texts, and reconciling with Twilio on demand.

use std::time::Duration;

use neighborhood_text::domain::member::SyncState;
use serde_json::{Value, json};
use uuid::Uuid;

use reqwest::Method;

use crate::helpers::{
    TestApp, Who, emulator_client, eventually, participants_by_shard, poll_until,
    spawn_sandbox_app, wait_until_synced,
};

const OWNER: &str = "+15550010000";
const WAIT: Duration = Duration::from_secs(20);

/// A neighborhood owned by Olive (`OWNER`); returns (id, number).
async fn neighborhood(app: &TestApp, name: &str) -> (String, String) {
    let created = app
        .create_neighborhood(
            &json!({"name": name, "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}),
        )
        .await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

/// Adds a member directly as the platform admin; fails unless the answer is `status`.
async fn try_add(app: &TestApp, id: &str, member: Value, status: u16) -> Value {
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members"),
        &member,
        status,
    )
    .await
}

/// `GET .../members?{query}` as `who`; fails unless the answer is `status`.
async fn list(who: &Who, app: &TestApp, id: &str, query: &str, status: u16) -> Value {
    app.get(
        who,
        &format!("/api/v1/neighborhoods/{id}/members?{query}"),
        status,
    )
    .await
}

/// The display names of a page, in order.
fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["display_name"].as_str().expect("name"))
        .collect()
}

/// One member as the platform admin sees them in the list.
async fn member(app: &TestApp, id: &str, member_id: &str) -> Value {
    let page = list(&Who::Admin, app, id, "limit=500", 200).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["id"] == member_id)
        .cloned()
        .unwrap_or_else(|| panic!("member {member_id} is not listed: {page}"))
}

/// Polls the member until `settled` holds; fails on a failed sync or after `WAIT`.
async fn member_when(
    app: &TestApp,
    id: &str,
    member_id: &str,
    what: &str,
    settled: impl Fn(&Value) -> bool,
) -> Value {
    poll_until(WAIT, what, || async {
        let now = member(app, id, member_id).await;
        assert_ne!(now["sync"], "failed", "{now}");
        settled(&now).then_some(now)
    })
    .await
}

/// In how many of the neighborhood's Conversations Twilio holds `phone`.
async fn times_in_twilio(app: &TestApp, id: &str, phone: &str) -> usize {
    participants_by_shard(app, id)
        .await
        .iter()
        .flat_map(|(_, addresses)| addresses)
        .filter(|address| *address == phone)
        .count()
}

/// `PATCH .../members/{member_id}` as `who`; fails unless the answer is `status`.
async fn patch_member(
    who: &Who,
    app: &TestApp,
    id: &str,
    member_id: &str,
    change: Value,
    status: u16,
) -> Value {
    app.patch(
        who,
        &format!("/api/v1/neighborhoods/{id}/members/{member_id}"),
        &change,
        status,
    )
    .await
}

/// `DELETE .../members/{member_id}`, with `notice` when given; fails unless the answer is
/// `status`.
async fn remove(
    who: &Who,
    app: &TestApp,
    id: &str,
    member_id: &str,
    notice: Option<&str>,
    status: u16,
) -> Value {
    let mut path = format!("/api/v1/neighborhoods/{id}/members/{member_id}");
    if let Some(notice) = notice {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("notice", notice)
            .finish();
        path = format!("{path}?{query}");
    }
    app.delete(who, &path, status).await
}

/// A `POST` without a body as `who`; fails unless the answer is `status`.
async fn post(who: &Who, app: &TestApp, path: &str, status: u16) -> Value {
    app.send(who, Method::POST, path, None, status).await
}

/// A 400 (checked by the request) in the one error shape, naming `field` and nothing else.
fn assert_field_error(body: &Value, field: &str) {
    assert_eq!(body["code"], "validation_failed", "{body}");
    assert!(body["message"].is_string(), "{body}");
    let fields: Vec<&str> = body["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|detail| detail["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, [field], "{body}");
}

/// Whether a simulated phone has received a text containing `part`.
async fn received(app: &TestApp, phone: &str, part: &str) -> bool {
    app.inbox(phone).await.iter().any(|m| m.1.contains(part))
}

#[tokio::test]
async fn the_member_list_searches_filters_and_pages_and_shows_moderators_no_contact_details() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Directory Street").await;
    let ana = try_add(
        &app,
        &id,
        json!({"phone": "+15550010101", "display_name": "Ana Rivera", "address": "12 Elm St"}),
        202,
    )
    .await;
    let ben = app.add_member_by_api(&id, "+15550010102", "Ben Ng").await;
    app.add_member_by_api(&id, "+15550010103", "Cy Ward").await;
    let diana = app
        .add_member_by_api(&id, "+15550010104", "Diana Lee")
        .await;
    let eve = app
        .add_member_by_api(&id, "+15550010105", "Eve Stone")
        .await;
    for (member_id, change) in [
        (&ben, json!({"role": "moderator"})),
        (&diana, json!({"role": "captain"})),
        (&eve, json!({"status": "paused"})),
    ] {
        patch_member(&Who::Admin, &app, &id, member_id, change, 200).await;
    }
    let admin = &Who::Admin;

    let everyone = list(admin, &app, &id, "", 200).await;
    assert_eq!(
        (names(&everyone), everyone["total"].as_u64()),
        (
            vec![
                "Olive",
                "Ana Rivera",
                "Ben Ng",
                "Cy Ward",
                "Diana Lee",
                "Eve Stone"
            ],
            Some(6)
        ),
        "everyone, in joining order"
    );
    assert!(everyone["next_after"].is_null());
    assert_eq!(everyone["items"][1]["id"], ana["id"]);
    let by_name = list(admin, &app, &id, "q=aNA", 200).await;
    assert_eq!(names(&by_name), ["Ana Rivera", "Diana Lee"], "any case");
    assert_eq!(by_name["total"], 2);
    let by_phone = list(admin, &app, &id, "q=0103", 200).await;
    assert_eq!(names(&by_phone), ["Cy Ward"], "part of a phone");
    let by_full_phone = list(admin, &app, &id, "q=%2B15550010103", 200).await;
    assert_eq!(names(&by_full_phone), ["Cy Ward"], "a whole phone");
    let paused = list(admin, &app, &id, "status=paused", 200).await;
    assert_eq!(names(&paused), ["Eve Stone"]);
    let moderators = list(admin, &app, &id, "role=moderator", 200).await;
    assert_eq!(names(&moderators), ["Ben Ng"]);
    let active_members = list(admin, &app, &id, "status=active&role=member", 200).await;
    assert_eq!(names(&active_members), ["Ana Rivera", "Cy Ward"]);
    let nobody = list(admin, &app, &id, "q=zelda", 200).await;
    assert_eq!(
        (names(&nobody).len(), nobody["total"].as_u64()),
        (0, Some(0))
    );

    for (filter, expected) in [("", 6), ("role=member&", 3)] {
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = list(admin, &app, &id, &format!("{filter}limit=2{after}"), 200).await;
            assert_eq!(page["total"], expected, "every page counts all matches");
            seen.extend(names(&page).iter().map(|name| name.to_string()));
            match page["next_after"].as_str() {
                Some(next) => {
                    assert_eq!(names(&page).len(), 2, "only the last page is short");
                    after = format!("&after={next}");
                }
                None => break,
            }
            assert!(seen.len() <= 6, "paging never ends: {seen:?}");
        }
        let all = list(admin, &app, &id, &format!("{filter}limit=500"), 200).await;
        assert_eq!(
            seen,
            names(&all),
            "pages of {filter:?} cover every member once, in order"
        );
    }
    for limit in ["0", "501"] {
        let body = list(admin, &app, &id, &format!("limit={limit}"), 400).await;
        assert_field_error(&body, "limit");
    }
    list(admin, &app, &id, "limit=500", 200).await;

    let moderator = Who::session(&app, "+15550010102").await;
    let seen_by_moderator = list(&moderator, &app, &id, "", 200).await;
    assert_eq!(seen_by_moderator["total"], 6);
    for m in seen_by_moderator["items"].as_array().expect("items") {
        assert!(
            m["phone"].is_null() && m["address"].is_null() && m["consent"].is_null(),
            "a moderator sees no contact details: {m}"
        );
    }
    let moderator_by_phone = list(&moderator, &app, &id, "q=0103", 200).await;
    assert_eq!(
        (
            names(&moderator_by_phone).len(),
            moderator_by_phone["total"].as_u64()
        ),
        (0, Some(0)),
        "nor finds anyone by phone"
    );
    let moderator_by_name = list(&moderator, &app, &id, "q=cy", 200).await;
    assert_eq!(names(&moderator_by_name), ["Cy Ward"]);

    let owner = Who::session(&app, OWNER).await;
    for (client, who) in [(&owner, "the owner"), (admin, "a platform admin")] {
        let found = list(client, &app, &id, "q=10101", 200).await;
        assert_eq!(found["total"], 1, "{found}");
        let found = &found["items"][0];
        assert_eq!(
            (
                found["display_name"].as_str(),
                found["phone"].as_str(),
                found["address"].as_str(),
                found["consent"]["channel"].as_str()
            ),
            (
                Some("Ana Rivera"),
                Some("+15550010101"),
                Some("12 Elm St"),
                Some("captain")
            ),
            "{who} sees contact details"
        );
    }
}

#[tokio::test]
async fn a_members_record_shows_how_they_came_in_and_re_adding_brings_back_the_same_member() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Record Street").await;
    let ana = "+15550010201";

    let added = try_add(
        &app,
        &id,
        json!({"phone": ana, "display_name": "Ana Rivera", "address": "12 Elm St"}),
        202,
    )
    .await;
    assert_eq!(
        (added["sync"].as_str(), added["status"].as_str()),
        (Some("pending"), Some("active"))
    );
    let member_id = added["id"].as_str().expect("id").to_owned();
    let consent = &added["consent"];
    let captain = consent["approved_by"].as_str().expect("who attested");
    assert!(captain.starts_with("token:"), "{consent}");
    assert_eq!(consent["channel"], "captain");
    assert_eq!(
        consent["text"],
        format!(
            "A captain ({captain}) attests this neighbor agreed to receive Record Street's group texts."
        )
    );
    assert_eq!(added["address"], "12 Elm St");
    let synced = member_when(&app, &id, &member_id, "Ana to join", |m| {
        m["sync"] == "done"
    })
    .await;
    let neighborhood = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;
    assert_eq!(
        (&synced["shard"], &synced["conversation_sid"]),
        (&json!(1), &neighborhood["shards"][0]["conversation_sid"])
    );
    assert_eq!(
        (&synced["consent"], &synced["address"]),
        (consent, &added["address"]),
        "the record keeps how they came in"
    );
    assert_eq!(times_in_twilio(&app, &id, ana).await, 1);
    eventually(WAIT, "the welcome text", || async {
        app.inbox(ana)
            .await
            .iter()
            .any(|m| m.1.starts_with("Welcome to Record Street!"))
    })
    .await;

    let again = try_add(&app, &id, json!({"phone": ana, "display_name": "Ana"}), 409).await;
    assert_eq!(again["code"], "conflict", "{again}");

    let removed = remove(&Who::Admin, &app, &id, &member_id, None, 200).await;
    assert_eq!(removed["status"], "removed");
    member_when(&app, &id, &member_id, "Ana to be out", |m| {
        m["sync"] == "done" && m["conversation_sid"].is_null()
    })
    .await;
    assert_eq!(times_in_twilio(&app, &id, ana).await, 0);
    let back = try_add(
        &app,
        &id,
        json!({"phone": ana, "display_name": "Ana R."}),
        202,
    )
    .await;

    assert_eq!(
        (
            back["id"].as_str(),
            back["status"].as_str(),
            back["display_name"].as_str(),
            back["status_reason"].as_str()
        ),
        (
            Some(member_id.as_str()),
            Some("active"),
            Some("Ana R."),
            Some("Added back by a captain")
        ),
        "the same member, back"
    );
    member_when(&app, &id, &member_id, "Ana to rejoin", |m| {
        m["sync"] == "done" && m["shard"] == 1
    })
    .await;
    assert_eq!(times_in_twilio(&app, &id, ana).await, 1);
    let everyone = list(&Who::Admin, &app, &id, "", 200).await;
    assert_eq!(everyone["total"], 2, "no second record: {everyone}");
}

#[tokio::test]
async fn a_paused_member_is_out_of_the_group_text_until_resumed() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Pause Street").await;
    let ana = "+15550010301";
    let ben = "+15550010302";
    let ana_id = app.add_member_by_api(&id, ana, "Ana").await;
    app.add_member_by_api(&id, ben, "Ben").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    let owner = Who::session(&app, OWNER).await;

    let paused = patch_member(&owner, &app, &id, &ana_id, json!({"status": "paused"}), 200).await;

    assert_eq!(
        (paused["status"].as_str(), paused["status_reason"].as_str()),
        (Some("paused"), Some("Paused by Olive"))
    );
    member_when(&app, &id, &ana_id, "Ana to be taken out", |m| {
        m["sync"] == "done" && m["conversation_sid"].is_null()
    })
    .await;
    assert_eq!(times_in_twilio(&app, &id, ana).await, 0);
    assert_eq!(times_in_twilio(&app, &id, ben).await, 1);
    app.text(OWNER, &number, "pizza at 7").await;
    app.wait_for_text(ben, "Olive: pizza at 7").await;
    assert!(
        !received(&app, ana, "pizza at 7").await,
        "a paused member gets no group texts"
    );

    let resumed = patch_member(&owner, &app, &id, &ana_id, json!({"status": "active"}), 200).await;

    assert_eq!(
        (
            resumed["status"].as_str(),
            resumed["status_reason"].as_str()
        ),
        (Some("active"), Some("Resumed by Olive"))
    );
    member_when(&app, &id, &ana_id, "Ana to be back", |m| {
        m["sync"] == "done" && m["shard"] == 1
    })
    .await;
    assert_eq!(times_in_twilio(&app, &id, ana).await, 1);
    app.text(OWNER, &number, "pizza moved to 8").await;
    app.wait_for_text(ana, "Olive: pizza moved to 8").await;

    let refused = patch_member(&owner, &app, &id, &ana_id, json!({"status": "left"}), 400).await;
    assert_field_error(&refused, "status");
    assert_eq!(member(&app, &id, &ana_id).await["status"], "active");
}

#[tokio::test]
async fn a_removed_member_gets_the_notice_and_leaves_the_group_text() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Notice Street").await;
    let ana = "+15550010401";
    let ana_id = app.add_member_by_api(&id, ana, "Ana").await;
    wait_until_synced(&app, &id, 2, WAIT).await;
    let owner = Who::session(&app, OWNER).await;

    for notice in ["", "   ", &"x".repeat(321)] {
        let refused = remove(&owner, &app, &id, &ana_id, Some(notice), 400).await;
        assert_field_error(&refused, "notice");
    }
    let still = member(&app, &id, &ana_id).await;
    assert_eq!(
        (still["status"].as_str(), still["sync"].as_str()),
        (Some("active"), Some("done")),
        "a refused removal removes nobody"
    );
    assert_eq!(times_in_twilio(&app, &id, ana).await, 1);

    let notice =
        "You are removed from Notice Street for posting ads. Ask Olive if this is a mistake.";
    let removed = remove(&owner, &app, &id, &ana_id, Some(notice), 200).await;
    assert_eq!(
        (
            removed["status"].as_str(),
            removed["status_reason"].as_str()
        ),
        (Some("removed"), Some("Removed by Olive"))
    );
    app.wait_for_text(ana, notice).await;
    member_when(&app, &id, &ana_id, "Ana to be taken out", |m| {
        m["sync"] == "done" && m["conversation_sid"].is_null()
    })
    .await;
    assert_eq!(times_in_twilio(&app, &id, ana).await, 0);
    let removed_members = list(&Who::Admin, &app, &id, "status=removed", 200).await;
    assert_eq!(names(&removed_members), ["Ana"]);
}

#[tokio::test]
async fn a_failed_sync_can_be_retried_and_ends_in_one_conversation() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Retry Street").await;
    let ana = "+15550010501";
    let ana_id = app.add_member_by_api(&id, ana, "Ana").await;
    wait_until_synced(&app, &id, 2, WAIT).await;
    let retry = format!("/api/v1/neighborhoods/{id}/members/{ana_id}/retry");

    let refused = post(&Who::Admin, &app, &retry, 409).await;
    assert_eq!(refused["code"], "conflict", "nothing failed: {refused}");

    // As if Twilio had kept refusing her: out of the Conversation, and her record marked failed.
    let neighborhood_id: Uuid = id.parse().expect("uuid");
    let before = app
        .state
        .store
        .member(neighborhood_id, ana_id.parse().expect("uuid"))
        .await
        .expect("store")
        .expect("member");
    let placed = before.participant.clone().expect("placed");
    let deleted = app
        .emulator_delete(&format!(
            "/conversations/v1/Conversations/{}/Participants/{}",
            placed.conversation_sid, placed.participant_sid
        ))
        .await;
    assert_eq!(deleted.status(), 204);
    let failed = neighborhood_text::domain::member::Member {
        participant: None,
        sync: SyncState::Failed {
            error: "Twilio kept answering 500".into(),
            detail: None,
        },
        ..before.clone()
    };
    assert!(
        app.state
            .store
            .replace_members(neighborhood_id, &[(&before, &failed)])
            .await
            .expect("store")
    );
    let shown = member(&app, &id, &ana_id).await;
    assert_eq!(
        (shown["sync"].as_str(), shown["sync_error"].as_str()),
        (Some("failed"), Some("Twilio kept answering 500"))
    );
    assert_eq!(times_in_twilio(&app, &id, ana).await, 0);

    let retried = post(&Who::Admin, &app, &retry, 202).await;
    assert_eq!(
        (retried["sync"].as_str(), retried["sync_error"].as_str()),
        (Some("pending"), None)
    );
    member_when(&app, &id, &ana_id, "Ana to be back in", |m| {
        m["sync"] == "done" && m["shard"] == 1
    })
    .await;
    assert_eq!(times_in_twilio(&app, &id, ana).await, 1);
    // Nothing is left to retry.
    post(&Who::Admin, &app, &retry, 409).await;
}

#[tokio::test]
async fn captains_can_turn_join_request_texts_off() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Notify Street").await;
    let cy = "+15550010601";
    let cy_id = app.add_member_by_api(&id, cy, "Cy").await;
    let promoted = patch_member(
        &Who::Admin,
        &app,
        &id,
        &cy_id,
        json!({"role": "captain"}),
        200,
    )
    .await;
    assert_eq!(promoted["role"], "captain");
    let owner = Who::session(&app, OWNER).await;
    let owners = list(&owner, &app, &id, "role=owner", 200).await;
    let owner_id = owners["items"][0]["id"].as_str().expect("owner").to_owned();

    let quiet = patch_member(
        &owner,
        &app,
        &id,
        &owner_id,
        json!({"join_request_texts": false}),
        200,
    )
    .await;
    assert_eq!(quiet["join_request_texts"], false);
    assert_eq!(
        promoted["join_request_texts"], true,
        "texts are on by default"
    );

    let stranger = "+15550010699";
    app.text(stranger, &number, "JOIN Some Name").await;

    app.wait_for_text(stranger, "Thanks, Some Name!").await;
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    assert_eq!(
        (
            requests["items"][0]["name"].as_str(),
            requests["items"][0]["state"].as_str()
        ),
        (Some("Some Name"), Some("pending")),
        "{requests}"
    );
    app.wait_for_text(cy, "New join request #1: Some Name")
        .await;

    // Turned back on, the owner gets the next notice; queued after any notice of the first
    // request, it shows the first never came.
    let loud = patch_member(
        &owner,
        &app,
        &id,
        &owner_id,
        json!({"join_request_texts": true}),
        200,
    )
    .await;
    assert_eq!(loud["join_request_texts"], true);
    app.text("+15550010698", &number, "JOIN Other Name").await;
    app.wait_for_text(OWNER, "New join request #2: Other Name")
        .await;
    assert!(
        !received(&app, OWNER, "Some Name").await,
        "the owner had turned join-request texts off: {:?}",
        app.inbox(OWNER).await
    );
}

#[tokio::test]
async fn a_captain_can_reconcile_with_twilio_on_demand() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Sync Street").await;
    let ana = "+15550010701";
    let ben = "+15550010702";
    let ana_id = app.add_member_by_api(&id, ana, "Ana").await;
    let ben_id = app.add_member_by_api(&id, ben, "Ben").await;
    patch_member(
        &Who::Admin,
        &app,
        &id,
        &ben_id,
        json!({"role": "moderator"}),
        200,
    )
    .await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    let sync = format!("/api/v1/neighborhoods/{id}/sync");
    let owner = Who::session(&app, OWNER).await;

    let moderator = Who::session(&app, ben).await;
    let refused = post(&moderator, &app, &sync, 403).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");

    // Ana's participant disappears behind the app's back.
    let conversation_sid = member(&app, &id, &ana_id).await["conversation_sid"]
        .as_str()
        .expect("in a Conversation")
        .to_owned();
    let participant_sid = emulator_client(&app)
        .list_participants(&conversation_sid)
        .await
        .expect("participants")
        .into_iter()
        .find(|p| {
            p.messaging_binding
                .as_ref()
                .and_then(|binding| binding.address.as_deref())
                == Some(ana)
        })
        .expect("Ana's participant")
        .sid;
    let deleted = app
        .emulator_delete(&format!(
            "/conversations/v1/Conversations/{conversation_sid}/Participants/{participant_sid}"
        ))
        .await;
    assert_eq!(deleted.status(), 204);

    let report = post(&owner, &app, &sync, 200).await;
    let requeued: Vec<(&str, &str)> = report["requeued"]
        .as_array()
        .expect("requeued")
        .iter()
        .map(|r| {
            (
                r["member_id"].as_str().expect("id"),
                r["phone"].as_str().expect("phone"),
            )
        })
        .collect();
    assert_eq!(requeued, [(ana_id.as_str(), ana)], "{report}");
    assert_eq!(report["members_checked"], 3, "{report}");
    member_when(&app, &id, &ana_id, "Ana to be back in", |m| {
        m["sync"] == "done" && m["shard"] == 1
    })
    .await;
    assert_eq!(times_in_twilio(&app, &id, ana).await, 1);
    assert_eq!(times_in_twilio(&app, &id, ben).await, 1);

    let again = post(&owner, &app, &sync, 200).await;
    for list in [
        "requeued",
        "relinked",
        "removed_strays",
        "removed_departed",
        "skipped",
        "failed",
    ] {
        assert_eq!(again[list], json!([]), "{list} after the repair: {again}");
    }
}

#[tokio::test]
async fn a_member_removed_or_paused_before_joining_settles_out_of_the_group_text() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Hasty Street").await;
    wait_until_synced(&app, &id, 1, WAIT).await;
    let ana = "+15550010801";
    let ben = "+15550010802";

    // Taken out again at once, before the outbox has added them to the group text.
    let ana_id = app.add_member_by_api(&id, ana, "Ana").await;
    let removed = remove(&Who::Admin, &app, &id, &ana_id, None, 200).await;
    assert_eq!(removed["status"], "removed");
    let ben_id = app.add_member_by_api(&id, ben, "Ben").await;
    let paused = patch_member(
        &Who::Admin,
        &app,
        &id,
        &ben_id,
        json!({"status": "paused"}),
        200,
    )
    .await;
    assert_eq!(paused["status"], "paused");

    // An addition already under way when they were taken out may still reach Twilio; the outbox
    // then takes them out again. Settled is when it has nothing left to do.
    app.wait_for_outbox_drained(&id, WAIT).await;
    for (member_id, phone) in [(&ana_id, ana), (&ben_id, ben)] {
        member_when(&app, &id, member_id, "the member to settle out", |m| {
            m["sync"] == "done" && m["conversation_sid"].is_null()
        })
        .await;
        assert_eq!(times_in_twilio(&app, &id, phone).await, 0);
    }
    let report = post(
        &Who::Admin,
        &app,
        &format!("/api/v1/neighborhoods/{id}/sync"),
        200,
    )
    .await;
    assert_eq!(
        (
            report["skipped"].clone(),
            report["removed_departed"].clone()
        ),
        (json!([]), json!([])),
        "reconciliation has nothing left to wait for: {report}"
    );
}

#[tokio::test]
async fn the_summary_counts_members_waiting_requests_and_sms_places() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Summary Street").await;
    let ana_id = app.add_member_by_api(&id, "+15550010901", "Ana").await;
    app.add_member_by_api(&id, "+15550010902", "Ben").await;
    wait_until_synced(&app, &id, 3, WAIT).await;
    patch_member(
        &Who::Admin,
        &app,
        &id,
        &ana_id,
        json!({"status": "paused"}),
        200,
    )
    .await;
    member_when(&app, &id, &ana_id, "Ana to leave the group text", |m| {
        m["sync"] == "done" && m["conversation_sid"].is_null()
    })
    .await;
    for (n, phone) in ["+15550010903", "+15550010904"].into_iter().enumerate() {
        let routed = app
            .text(phone, &number, &format!("JOIN Neighbor {n}"))
            .await;
        assert_eq!(routed["outcome"], "sms_webhook", "{routed}");
    }

    let mut summary = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/summary"),
            200,
        )
        .await;
    // Today's 1:1 texts depend on how far the outbox got; `toll_fraud` checks the count.
    let today = summary
        .as_object_mut()
        .and_then(|fields| fields.remove("texts_today"))
        .expect("texts_today");
    assert_eq!(today["cap"], 500, "{today}");
    assert_eq!(today["paused"], false, "{today}");
    assert_eq!(
        summary,
        json!({
            "members": 2, "paused": 1, "pending_requests": 2,
            "sms_places_used": 2, "sms_places": 50, "groups": 1,
            "sync_pending": 0, "sync_failed": 0,
        })
    );
    // A plain member sees no summary (moderators and above do).
    let ben = Who::session(&app, "+15550010902").await;
    app.get(&ben, &format!("/api/v1/neighborhoods/{id}/summary"), 403)
        .await;
}
