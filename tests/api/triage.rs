//! Triage of join requests: bulk approvals and denials of chosen requests (one audit entry each),
//! the history flags captains see on a request, and captains' digests in place of one text per
//! request, sent once even across a restart. End to end against the emulator.

use std::time::Duration;

use neighborhood_text::config::Clock;
use serde_json::{Value, json};

use crate::helpers::{
    KillableApp, TestApp, Who, eventually, spawn_sandbox_app, spawn_sandbox_app_with,
    spawn_sandbox_instance,
};

const OWNER: &str = "+15550008800";
const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);

/// A neighborhood owned by "Olive" (OWNER), once she is in the group: (id, its number).
async fn neighborhood(app: &TestApp, name: &str) -> (String, String) {
    let created = app
        .create_neighborhood(
            &json!({"name": name, "area_code": "303", "owner_phone": OWNER, "owner_name": "Olive"}),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    eventually(
        Duration::from_secs(20),
        "the owner in the group",
        || async {
            let members = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/members"),
                    200,
                )
                .await;
            members["items"][0]["sync"] == "done"
        },
    )
    .await;
    (
        id,
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

/// The pending requests, once there are `count`, oldest first.
async fn pending(app: &TestApp, id: &str, count: usize) -> Vec<Value> {
    crate::helpers::poll_until(
        Duration::from_secs(20),
        &format!("{count} pending requests"),
        || async {
            let list = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
                    200,
                )
                .await;
            let mut items = list["items"].as_array().cloned().unwrap_or_default();
            items.reverse();
            (items.len() == count).then_some(items)
        },
    )
    .await
}

fn ids(requests: &[Value]) -> Vec<String> {
    requests
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn audit(app: &TestApp, id: &str) -> Vec<Value> {
    app.get(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/audit"),
        200,
    )
    .await["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn with_action<'a>(entries: &'a [Value], action: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["action"] == action).collect()
}

#[tokio::test]
async fn approving_chosen_requests_together_writes_one_audit_entry() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Bulk Street").await;
    for n in 1..=4 {
        app.text(
            &format!("+1555000881{n}"),
            &number,
            &format!("JOIN Neighbor {n}"),
        )
        .await;
    }
    let waiting = pending(&app, &id, 4).await;
    let chosen = ids(&waiting[..3]);

    let out = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests/approve"),
            &json!({"request_ids": chosen}),
            202,
        )
        .await;
    assert_eq!(out["approved"].as_array().map(Vec::len), Some(3), "{out}");
    assert_eq!(out["refused"].as_array().map(Vec::len), Some(0), "{out}");

    let left = pending(&app, &id, 1).await;
    assert_eq!(
        left[0]["name"], "Neighbor 4",
        "the one not chosen still waits"
    );
    let entries = audit(&app, &id).await;
    assert!(
        with_action(&entries, "join_request.approve").is_empty(),
        "no entry per request: {entries:?}"
    );
    let batch = with_action(&entries, "join_request.approve_many");
    assert_eq!(batch.len(), 1, "one entry for the batch: {entries:?}");
    assert_eq!(batch[0]["detail"]["approved"], 3);
    let mut recorded: Vec<String> = batch[0]["detail"]["request_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect();
    let mut expected = chosen.clone();
    recorded.sort();
    expected.sort();
    assert_eq!(recorded, expected);

    // Approving them again changes nothing and writes nothing.
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/approve"),
        &json!({"request_ids": chosen}),
        202,
    )
    .await;
    let again = audit(&app, &id).await;
    assert_eq!(with_action(&again, "join_request.approve_many").len(), 1);
}

#[tokio::test]
async fn denying_chosen_requests_texts_each_politely_and_records_the_reason_once() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "Deny Street").await;
    let phones = ["+15550008821", "+15550008822", "+15550008823"];
    for (n, phone) in phones.iter().enumerate() {
        app.text(phone, &number, &format!("JOIN Asker {n}")).await;
    }
    let waiting = pending(&app, &id, 3).await;
    let chosen = ids(&waiting[..2]);

    let too_long = "x".repeat(501);
    let refused = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests/deny"),
            &json!({"request_ids": chosen, "reason": too_long}),
            400,
        )
        .await;
    assert_eq!(refused["details"][0]["field"], "reason", "{refused}");

    let out = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests/deny"),
            &json!({"request_ids": chosen, "reason": "Not on our streets"}),
            200,
        )
        .await;
    assert_eq!(out["denied"].as_array().map(Vec::len), Some(2), "{out}");
    for phone in &phones[..2] {
        let note = app
            .wait_for_text(phone, "could not add you this time")
            .await;
        assert!(
            !note.contains("streets"),
            "the reason is never texted: {note}"
        );
    }
    pending(&app, &id, 1).await;
    let entries = audit(&app, &id).await;
    let batch = with_action(&entries, "join_request.deny_many");
    assert_eq!(batch.len(), 1, "{entries:?}");
    assert_eq!(batch[0]["detail"]["denied"], 2);
    assert_eq!(batch[0]["detail"]["reason"], "Not on our streets");
    assert!(with_action(&entries, "join_request.deny").is_empty());

    // One request through the same call reads as a single denial, with its reason.
    let last = ids(&pending(&app, &id, 1).await);
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/deny"),
        &json!({"request_ids": last}),
        200,
    )
    .await;
    let entries = audit(&app, &id).await;
    let single = with_action(&entries, "join_request.deny");
    assert_eq!(single.len(), 1, "{entries:?}");
    assert_eq!(single[0]["target"], format!("join_request:{}", last[0]));
}

#[tokio::test]
async fn each_request_carries_its_phones_and_names_history_by_name() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "History Street").await;
    let olive = Who::session(&app, OWNER).await;
    let again = "+15550008831";
    let blocked = "+15550008832";
    let paused = "+15550008833";
    let namesake = "+15550008834";
    let member = "+15550008835";
    app.add_member_by_api(&id, member, "Cy Member").await;

    // Denied once by Olive, then asks again.
    app.text(again, &number, "JOIN Second Try").await;
    let first = ids(&pending(&app, &id, 1).await);
    app.post(
        &olive,
        &format!("/api/v1/neighborhoods/{id}/join-requests/deny"),
        &json!({"request_ids": first}),
        200,
    )
    .await;
    app.wait_for_text(again, "could not add you this time")
        .await;
    app.text(again, &number, "JOIN Second Try").await;
    app.text(blocked, &number, "JOIN Will Block").await;
    app.text(paused, &number, "JOIN Pia Paused").await;
    app.text(namesake, &number, "JOIN cy member").await;
    pending(&app, &id, 4).await;

    // Olive blocks one phone after it asked; another asker becomes a member she pauses.
    app.post(
        &olive,
        &format!("/api/v1/neighborhoods/{id}/blocked-phones"),
        &json!({"phone": blocked}),
        200,
    )
    .await;
    let pia = app.add_member_by_api(&id, paused, "Pia Paused").await;
    app.patch(
        &olive,
        &format!("/api/v1/neighborhoods/{id}/members/{pia}"),
        &json!({"status": "paused"}),
        200,
    )
    .await;

    let listed = pending(&app, &id, 4).await;
    let by_name = |name: &str| -> Value {
        listed
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["history"].clone())
            .unwrap_or_else(|| panic!("{name} in {listed:?}"))
    };
    let second = by_name("Second Try");
    assert_eq!(second["denied_before"]["by"], "Olive", "{second}");
    assert!(second["denied_before"]["at"].is_string());
    assert_eq!(by_name("Will Block")["blocked"]["by"], "Olive");
    assert_eq!(by_name("Pia Paused")["paused"], "Paused by Olive");
    assert_eq!(by_name("cy member")["same_name_as"], "Cy Member");
    assert_eq!(
        by_name("Will Block").as_object().map(|o| o.len()),
        Some(1),
        "no other flag on a fresh phone"
    );
    // A decided request names who decided it, not their phone.
    let denied = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests?state=denied"),
            200,
        )
        .await;
    assert_eq!(denied["items"][0]["decided_by"], format!("phone:{OWNER}"));
    assert_eq!(denied["items"][0]["history"]["decided_by"], "Olive");

    // Moderators see no history, as they see no phone.
    let moderator = "+15550008836";
    let mod_id = app.add_member_by_api(&id, moderator, "Mo").await;
    app.patch(
        &olive,
        &format!("/api/v1/neighborhoods/{id}/members/{mod_id}"),
        &json!({"role": "moderator"}),
        200,
    )
    .await;
    let mo = Who::session(&app, moderator).await;
    let seen = app
        .get(
            &mo,
            &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
            200,
        )
        .await;
    assert!(seen["items"][0].get("history").is_none(), "{seen}");
}

/// Sets how `who` (a member id) hears of join requests, as Olive.
async fn notices(app: &TestApp, id: &str, member_id: &str, notices: &str) -> Value {
    let olive = Who::session(app, OWNER).await;
    app.patch(
        &olive,
        &format!("/api/v1/neighborhoods/{id}/members/{member_id}"),
        &json!({"join_request_notices": notices}),
        200,
    )
    .await
}

async fn member_id(app: &TestApp, id: &str, phone: &str) -> String {
    let members = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members?limit=500"),
            200,
        )
        .await;
    members["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["phone"] == phone)
        .and_then(|m| m["id"].as_str())
        .expect("member")
        .to_owned()
}

async fn captain(app: &TestApp, id: &str, phone: &str, name: &str) -> String {
    let member = app.add_member_by_api(id, phone, name).await;
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members/{member}"),
        &json!({"role": "captain"}),
        200,
    )
    .await;
    member
}

/// The texts `phone` received that tell of join requests.
async fn request_texts(app: &TestApp, phone: &str) -> Vec<String> {
    app.inbox(phone)
        .await
        .into_iter()
        .map(|(_, body, _)| body)
        .filter(|body| body.contains("join request"))
        .collect()
}

#[tokio::test]
async fn the_cadence_is_a_member_setting_compatible_with_the_on_off_flag() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "Setting Street").await;
    let owner = member_id(&app, &id, OWNER).await;
    let path = format!("/api/v1/neighborhoods/{id}/members/{owner}");
    let hourly = notices(&app, &id, &owner, "hourly").await;
    assert_eq!(
        (
            &hourly["join_request_notices"],
            &hourly["join_request_texts"]
        ),
        (&json!("hourly"), &json!(true))
    );
    let off = app
        .patch(
            &Who::Admin,
            &path,
            &json!({"join_request_texts": false}),
            200,
        )
        .await;
    assert_eq!(off["join_request_notices"], "never");
    let on = app
        .patch(
            &Who::Admin,
            &path,
            &json!({"join_request_texts": true}),
            200,
        )
        .await;
    assert_eq!(
        on["join_request_notices"], "hourly",
        "the cadence comes back"
    );
    let contradiction = app
        .patch(
            &Who::Admin,
            &path,
            &json!({"join_request_texts": false, "join_request_notices": "each"}),
            400,
        )
        .await;
    assert_eq!(contradiction["details"][0]["field"], "join_request_notices");
    app.patch(
        &Who::Admin,
        &path,
        &json!({"join_request_notices": "weekly"}),
        400,
    )
    .await;
}

#[tokio::test]
async fn captains_on_a_digest_get_one_text_per_interval_and_the_others_as_they_chose() {
    let clock = Clock::default();
    let receiver = wiremock::MockServer::start().await;
    let mut settings = crate::helpers::sandbox_settings(&receiver);
    settings.clock = clock.clone();
    let app = spawn_sandbox_app_with(receiver, settings).await;
    let (id, number) = neighborhood(&app, "Digest Street").await;
    let owner = member_id(&app, &id, OWNER).await;
    notices(&app, &id, &owner, "every_15_minutes").await;
    let each = "+15550008841";
    let each_id = captain(&app, &id, each, "Eddie Each").await;
    notices(&app, &id, &each_id, "each").await;
    let hourly = "+15550008842";
    let hourly_id = captain(&app, &id, hourly, "Hana Hourly").await;
    notices(&app, &id, &hourly_id, "hourly").await;
    let never = "+15550008843";
    let never_id = captain(&app, &id, never, "Nina Never").await;
    notices(&app, &id, &never_id, "never").await;

    // The first request after a quiet spell goes out at once, as the usual notice.
    app.text("+15550008851", &number, "JOIN Ana First").await;
    app.wait_for_text(OWNER, "New join request #1: Ana First")
        .await;
    app.wait_for_text(hourly, "New join request #1: Ana First")
        .await;

    // Three more within the interval: the owner's next text waits for it to pass.
    for (n, name) in ["Bo Li", "Cam Diaz", "Dee Ray"].iter().enumerate() {
        app.text(&format!("+1555000886{n}"), &number, &format!("JOIN {name}"))
            .await;
    }
    pending(&app, &id, 4).await;
    app.wait_for_text(each, "New join request #4: Dee Ray")
        .await;
    assert_eq!(
        request_texts(&app, each).await.len(),
        4,
        "`each` keeps a text per request"
    );
    assert_eq!(
        request_texts(&app, OWNER).await.len(),
        1,
        "nothing more within the interval"
    );

    clock.advance(FIFTEEN_MINUTES);
    let digest = app.wait_for_text(OWNER, "3 new join requests").await;
    assert!(
        digest.contains("#2 Bo Li, #3 Cam Diaz, #4 Dee Ray") && digest.contains("#pending"),
        "{digest}"
    );
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert_eq!(request_texts(&app, OWNER).await.len(), 2);
    assert_eq!(
        request_texts(&app, hourly).await.len(),
        1,
        "an hourly captain waits the hour"
    );

    // A request decided before the digest is not in it.
    let waiting = pending(&app, &id, 4).await;
    assert_eq!(waiting[1]["name"], "Bo Li");
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/deny"),
        &json!({"request_ids": [waiting[1]["id"]]}),
        200,
    )
    .await;
    clock.advance(FIFTEEN_MINUTES * 3);
    let hana = app.wait_for_text(hourly, "2 new join requests").await;
    assert!(
        hana.contains("#3 Cam Diaz, #4 Dee Ray") && !hana.contains("Bo Li"),
        "{hana}"
    );
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    assert!(
        request_texts(&app, never).await.is_empty(),
        "never is never"
    );
    assert_eq!(request_texts(&app, OWNER).await.len(), 2);

    // A request waiting for Hana's next hour goes out at once when she switches to `each`.
    app.text("+15550008859", &number, "JOIN Fay Fox").await;
    pending(&app, &id, 4).await;
    app.wait_for_text(each, "New join request #5: Fay Fox")
        .await;
    assert_eq!(
        request_texts(&app, hourly).await.len(),
        2,
        "Fay waits the hour"
    );
    notices(&app, &id, &hourly_id, "each").await;
    app.wait_for_text(hourly, "New join request #5: Fay Fox")
        .await;
}

#[tokio::test]
async fn a_digest_due_across_a_restart_is_sent_once() {
    let clock = Clock::default();
    let first_clock = clock.clone();
    let app = KillableApp::spawn_with(move |settings| settings.clock = first_clock).await;
    let (id, number) = neighborhood(&app, "Restart Street").await;
    let owner = member_id(&app, &id, OWNER).await;
    notices(&app, &id, &owner, "every_15_minutes").await;
    app.text("+15550008871", &number, "JOIN Ann One").await;
    app.wait_for_text(OWNER, "New join request #1").await;
    app.text("+15550008872", &number, "JOIN Ben Two").await;
    app.text("+15550008873", &number, "JOIN Cat Three").await;
    pending(&app, &id, 3).await;

    // Killed mid-window; a new instance takes over the same Redis and sends it when due.
    let prefix = app.kill();
    let second_clock = clock.clone();
    // Texts the killed instance had claimed are taken over after a second, not the default 30.
    let app = spawn_sandbox_instance(&prefix, move |settings| {
        settings.clock = second_clock;
        settings.outbox_reclaim_secs = 1;
    })
    .await;
    clock.advance(FIFTEEN_MINUTES);
    let digest = app.wait_for_text(OWNER, "2 new join requests").await;
    assert!(digest.contains("#2 Ben Two, #3 Cat Three"), "{digest}");
    app.wait_for_outbox_drained(&id, Duration::from_secs(20))
        .await;
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let mut redis = crate::helpers::test_redis().await;
    eventually(Duration::from_secs(20), "the digest settled", || {
        let mut redis = redis.clone();
        let due = keys.join_digests_due();
        async move {
            let left: u64 = redis::cmd("ZCARD")
                .arg(due)
                .query_async(&mut redis)
                .await
                .expect("ZCARD");
            left == 0
        }
    })
    .await;
    let left: u64 = redis::cmd("EXISTS")
        .arg(keys.join_digest(id.parse().expect("id"), owner.parse().expect("member id")))
        .query_async(&mut redis)
        .await
        .expect("EXISTS");
    assert_eq!(left, 0, "nothing waits");
    let texts = request_texts(&app, OWNER).await;
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains("2 new join requests"))
            .count(),
        1,
        "{texts:?}"
    );
}
