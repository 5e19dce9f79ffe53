//! The announcement composer's API, end to end against the emulator's simulated phones: an
//! announcement to a street, a role or picked members reaches exactly those phones, once, as
//! 1:1 texts from the neighborhood's number (no Conversation message); the estimate counts
//! exactly those recipients; a scheduled one goes at its time to its audience; sending it twice,
//! or through lost answers and a killed service, still texts each phone once; the budget and quiet
//! hours hold it like any announcement, and a newcomer's catch-up leaves it out. Bad audiences get
//! field errors; templates are saved, listed, edited, deleted and capped.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use neighborhood_text::services::announcements::Due;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::helpers::{
    KillableApp, TestApp, Who, eventually, poll_until, sandbox_settings,
    spawn_counting_sandbox_app, spawn_sandbox_app_with, spawn_sandbox_instance, wait_until_synced,
};

const OWNER: &str = "+15550007700";
const WAIT: Duration = Duration::from_secs(30);

async fn spawn_app() -> TestApp {
    spawn_counting_sandbox_app(|settings| settings.scheduler_tick_ms = 100).await
}

/// A neighbor: phone, name, address.
struct Neighbor {
    phone: String,
    name: String,
    address: Option<&'static str>,
}

fn neighbor(n: u32, address: Option<&'static str>) -> Neighbor {
    Neighbor {
        phone: format!("+1555007{n:04}"),
        name: format!("Neighbor {n}"),
        address,
    }
}

/// A neighborhood owned by Olive with `neighbors` added and in the group text; returns its id
/// and each neighbor's member id, in order.
async fn neighborhood(app: &TestApp, neighbors: &[Neighbor]) -> (String, Vec<String>) {
    let created = app
        .create_neighborhood(&json!({"name": "Composer Court", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let ids: Vec<String> = stream::iter(neighbors)
        .map(|neighbor| {
            let (app, id) = (app, &id);
            async move {
                let mut body = json!({"phone": neighbor.phone, "display_name": neighbor.name});
                if let Some(address) = neighbor.address {
                    body["address"] = json!(address);
                }
                let added = app
                    .post(
                        &Who::Admin,
                        &format!("/api/v1/neighborhoods/{id}/members"),
                        &body,
                        202,
                    )
                    .await;
                added["id"].as_str().expect("member id").to_owned()
            }
        })
        .buffered(8)
        .collect()
        .await;
    wait_until_synced(app, &id, neighbors.len() + 1, Duration::from_secs(90)).await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    (id, ids)
}

/// How many times `phone` received exactly `text`.
async fn copies(app: &TestApp, phone: &str, text: &str) -> usize {
    app.inbox(phone)
        .await
        .iter()
        .filter(|(_, body, _)| body == text)
        .count()
}

/// Each phone's copies of `text`, in the order given.
async fn copies_each(app: &TestApp, phones: &[&str], text: &str) -> Vec<usize> {
    let mut counts = Vec::new();
    for phone in phones {
        counts.push(copies(app, phone, text).await);
    }
    counts
}

async fn post(app: &TestApp, id: &str, path: &str, body: Value, status: u16) -> Value {
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/{path}"),
        &body,
        status,
    )
    .await
}

fn in_a_moment(millis: i64) -> String {
    (OffsetDateTime::now_utc() + time::Duration::milliseconds(millis))
        .format(&Rfc3339)
        .expect("formats")
}

/// The fields named in an error body's details.
fn fields(error: &Value) -> Vec<&str> {
    error["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["field"].as_str())
        .collect()
}

#[tokio::test]
async fn an_announcement_to_a_street_reaches_exactly_its_active_neighbors_once() {
    let app = spawn_app().await;
    let neighbors = [
        neighbor(1, Some("12 Elm Ave")),
        neighbor(2, Some("40 elm avenue, Apt 2")),
        neighbor(3, Some("7B Elm Ave.")),
        neighbor(4, Some("3 Oak Street")),
        neighbor(5, Some("9 Oak St")),
        neighbor(6, Some("15 Elm Ave")),
        neighbor(7, None),
    ];
    let (id, _) = neighborhood(&app, &neighbors).await;
    // Neighbor 6 lives on Elm Ave but is paused: not texted.
    let members = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members?limit=50"),
            200,
        )
        .await;
    let paused = members["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["phone"] == neighbors[5].phone)
        .and_then(|m| m["id"].as_str())
        .expect("neighbor 6");
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members/{paused}"),
        &json!({"status": "paused"}),
        200,
    )
    .await;

    let choices = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audiences"),
            200,
        )
        .await;
    assert_eq!(
        choices["streets"],
        json!([{"name": "Elm Ave", "members": 3}, {"name": "Oak St", "members": 2}]),
        "{choices}"
    );
    assert_eq!(choices["everyone"], 7, "the owner and six active neighbors");

    let audience = json!({"kind": "streets", "streets": ["Elm Ave"]});
    let text = "Water main work on Elm tomorrow 9-5";
    let estimate = post(
        &app,
        &id,
        "messages/estimate",
        json!({"body": text, "audience": audience}),
        200,
    )
    .await;
    assert_eq!(estimate["recipients"], 3, "{estimate}");
    assert_eq!(estimate["audience"], "3 people on Elm Ave");
    assert_eq!(estimate["segments"], 1);
    assert_eq!(
        estimate["new_active_users"], 0,
        "1:1 texts make nobody active"
    );
    assert_eq!(
        estimate["cost"], "0.0249",
        "3 texts of one segment at $0.0083"
    );
    app.rest_calls(true).await;

    let sent = post(
        &app,
        &id,
        "messages",
        json!({"body": text, "audience": audience}),
        202,
    )
    .await;
    assert_eq!(sent["audience"], "To 3 people on Elm Ave", "{sent}");
    assert_eq!(sent["estimate"]["recipients"], 3);
    let signed = format!("Composer Court: {text}");
    let elm = [&neighbors[0], &neighbors[1], &neighbors[2]].map(|n| n.phone.as_str());
    eventually(WAIT, "every Elm Ave neighbor to have it", || async {
        copies_each(&app, &elm, &signed).await == [1, 1, 1]
    })
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(copies_each(&app, &elm, &signed).await, [1, 1, 1]);
    let others = [
        OWNER,
        &neighbors[3].phone,
        &neighbors[4].phone,
        &neighbors[5].phone,
        &neighbors[6].phone,
    ];
    assert_eq!(
        copies_each(&app, &others, &signed).await,
        [0, 0, 0, 0, 0],
        "the owner, Oak St, the paused neighbor and the one without an address get nothing"
    );
    let calls = app.rest_calls(false).await;
    assert_eq!(
        calls["counts"]["POST /2010-04-01/Accounts/{sid}/Messages.json"], 3,
        "three 1:1 texts: {calls}"
    );
    assert!(
        calls["counts"]["POST /v1/Conversations/{sid}/Messages"].is_null(),
        "nothing posted into the group's Conversation: {calls}"
    );
    let history = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    let entry = &history["items"][0];
    assert_eq!(entry["body"], text);
    assert_eq!(entry["audience"], "To 3 people on Elm Ave", "{history}");
}

#[tokio::test]
async fn announcements_to_a_role_or_picked_members_reach_only_them() {
    let app = spawn_app().await;
    let neighbors = [
        neighbor(11, None),
        neighbor(12, None),
        neighbor(13, None),
        neighbor(14, None),
    ];
    let (id, ids) = neighborhood(&app, &neighbors).await;
    for member in &ids[..2] {
        app.patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members/{member}"),
            &json!({"role": "moderator"}),
            200,
        )
        .await;
    }
    let phones: Vec<&str> = std::iter::once(OWNER)
        .chain(neighbors.iter().map(|n| n.phone.as_str()))
        .collect();

    let moderators = json!({"kind": "roles", "roles": ["moderator"]});
    let estimate = post(
        &app,
        &id,
        "messages/estimate",
        json!({"body": "Moderators: meeting at 7", "audience": moderators}),
        200,
    )
    .await;
    assert_eq!(estimate["recipients"], 2);
    assert_eq!(estimate["audience"], "2 moderators");
    post(
        &app,
        &id,
        "messages",
        json!({"body": "Moderators: meeting at 7", "audience": moderators}),
        202,
    )
    .await;

    let picked = json!({"kind": "members", "member_ids": [ids[1], ids[3]]});
    let estimate = post(
        &app,
        &id,
        "messages/estimate",
        json!({"body": "Your packages are at my door", "audience": picked}),
        200,
    )
    .await;
    assert_eq!(estimate["recipients"], 2);
    assert_eq!(estimate["audience"], "2 chosen people");
    post(
        &app,
        &id,
        "messages",
        json!({"body": "Your packages are at my door", "audience": picked}),
        202,
    )
    .await;

    app.wait_for_outbox_drained(&id, WAIT).await;
    eventually(WAIT, "both announcements to arrive", || async {
        copies_each(&app, &phones, "Composer Court: Moderators: meeting at 7").await
            == [0, 1, 1, 0, 0]
            && copies_each(
                &app,
                &phones,
                "Composer Court: Your packages are at my door",
            )
            .await
                == [0, 0, 1, 0, 1]
    })
    .await;
}

#[tokio::test]
async fn unknown_members_empty_audiences_and_mixed_lists_are_refused() {
    let app = spawn_app().await;
    let (id, ids) = neighborhood(&app, &[neighbor(21, Some("1 Birch Ln"))]).await;
    let body = |audience: Value| json!({"body": "Hello", "audience": audience});
    let stranger = Uuid::now_v7().to_string();

    let refused = post(
        &app,
        &id,
        "messages",
        body(json!({"kind": "members", "member_ids": [ids[0], stranger]})),
        400,
    )
    .await;
    assert_eq!(refused["code"], "validation_failed");
    assert_eq!(fields(&refused), ["audience.member_ids"], "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&stranger)
    );
    let refused = post(
        &app,
        &id,
        "messages/estimate",
        body(json!({"kind": "members", "member_ids": [stranger]})),
        400,
    )
    .await;
    assert_eq!(fields(&refused), ["audience.member_ids"]);

    for (audience, field) in [
        (
            json!({"kind": "members", "member_ids": []}),
            "audience.member_ids",
        ),
        (json!({"kind": "members"}), "audience.member_ids"),
        (
            json!({"kind": "streets", "streets": []}),
            "audience.streets",
        ),
        (
            json!({"kind": "streets", "streets": ["12"]}),
            "audience.streets",
        ),
        (json!({"kind": "roles", "roles": []}), "audience.roles"),
        (
            json!({"kind": "everyone", "roles": ["captain"]}),
            "audience.roles",
        ),
        (
            json!({"kind": "streets", "streets": ["Birch Ln"], "member_ids": [ids[0]]}),
            "audience.member_ids",
        ),
    ] {
        let refused = post(&app, &id, "messages", body(audience.clone()), 400).await;
        assert_eq!(fields(&refused), [field], "{audience}: {refused}");
    }

    // A street nobody lives on: the estimate says it reaches nobody; posting it is refused.
    let nowhere = json!({"kind": "streets", "streets": ["Cedar Ct"]});
    let estimate = post(&app, &id, "messages/estimate", body(nowhere.clone()), 200).await;
    assert_eq!(estimate["recipients"], 0);
    assert_eq!(estimate["cost"], "0.00");
    assert_eq!(estimate["encoding"], "gsm7");
    assert!(estimate["ucs2_character"].is_null(), "{estimate}");
    let party = json!({"body": "Party 🎉 at Ana’s", "audience": {"kind": "streets", "streets": ["Birch Ln"]}});
    let estimate = post(&app, &id, "messages/estimate", party, 200).await;
    assert_eq!(estimate["encoding"], "ucs2");
    assert_eq!(
        estimate["ucs2_character"], "🎉",
        "the first one: {estimate}"
    );
    assert_eq!(estimate["recipients"], 1);
    let refused = post(&app, &id, "messages", body(nowhere.clone()), 400).await;
    assert_eq!(fields(&refused), ["audience"], "{refused}");
    let scheduled = json!({"body": "Hello", "audience": nowhere, "send_at": in_a_moment(60_000)});
    post(&app, &id, "messages", scheduled, 400).await;
    let listed = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/announcements"),
            200,
        )
        .await;
    assert_eq!(listed["items"], json!([]), "nothing refused was kept");
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(
        copies(&app, &neighbor(21, None).phone, "Composer Court: Hello").await,
        0
    );
}

#[tokio::test]
async fn a_scheduled_announcement_to_a_street_goes_at_its_time_to_that_street() {
    let app = spawn_app().await;
    let neighbors = [
        neighbor(31, Some("2 Pine Rd")),
        neighbor(32, Some("4 Fir Rd")),
    ];
    let (id, _) = neighborhood(&app, &neighbors).await;
    let audience = json!({"kind": "streets", "streets": ["Pine Road"]});
    let scheduled = post(
        &app,
        &id,
        "messages",
        json!({"body": "Pine Rd block party moved to 4pm", "send_at": in_a_moment(1_500), "audience": audience}),
        201,
    )
    .await;
    assert_eq!(
        scheduled["audience"],
        json!({"kind": "streets", "streets": ["Pine Rd"]}),
        "{scheduled}"
    );
    let text = "Composer Court: Pine Rd block party moved to 4pm";
    assert_eq!(
        copies(&app, &neighbors[0].phone, text).await,
        0,
        "not before its time"
    );
    eventually(WAIT, "the Pine Rd neighbor to have it", || async {
        copies(&app, &neighbors[0].phone, text).await == 1
    })
    .await;
    let announcement_id = scheduled["id"].as_str().expect("id");
    let sent = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/announcements/{announcement_id}"),
            200,
        )
        .await;
    assert_eq!(sent["state"], "sent");
    assert!(
        OffsetDateTime::parse(sent["sent_at"].as_str().expect("sent_at"), &Rfc3339).expect("time")
            >= OffsetDateTime::parse(scheduled["send_at"].as_str().expect("send_at"), &Rfc3339)
                .expect("time")
    );
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(copies(&app, &neighbors[0].phone, text).await, 1);
    assert_eq!(copies(&app, &neighbors[1].phone, text).await, 0);
    assert_eq!(copies(&app, OWNER, text).await, 0);
    let history = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    assert_eq!(history["items"][0]["audience"], "To 1 person on Pine Rd");
}

#[tokio::test]
async fn two_instances_sending_the_same_targeted_announcement_text_each_neighbor_once() {
    // Schedulers that look only once a minute, so this test drives the sends itself.
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.reconcile_every_secs = 0;
    settings.scheduler_tick_ms = 60_000;
    let first = spawn_sandbox_app_with(receiver, settings).await;
    let second = spawn_sandbox_instance(&first.prefix, |settings| {
        settings.reconcile_every_secs = 0;
        settings.scheduler_tick_ms = 60_000;
    })
    .await;
    let neighbors: Vec<Neighbor> = (41..46).map(|n| neighbor(n, Some("8 Ash St"))).collect();
    let (id, _) = neighborhood(&first, &neighbors).await;
    let scheduled = post(
        &first,
        &id,
        "messages",
        json!({"body": "Ash St recycling moves to Monday", "send_at": in_a_moment(300),
               "audience": {"kind": "streets", "streets": ["Ash St"]}}),
        201,
    )
    .await;
    let neighborhood_id = Uuid::parse_str(&id).expect("id");
    let announcement_id = Uuid::parse_str(scheduled["id"].as_str().expect("id")).expect("id");
    let due = OffsetDateTime::parse(scheduled["send_at"].as_str().expect("time"), &Rfc3339)
        .expect("time");
    eventually(
        Duration::from_secs(5),
        "the announcement to be due",
        || async { OffsetDateTime::now_utc() > due },
    )
    .await;
    let deliver = |state| {
        neighborhood_text::services::announcements::deliver_due(
            state,
            neighborhood_id,
            announcement_id,
        )
    };
    let (a, b) = tokio::join!(deliver(&first.state), deliver(&second.state));
    let outcomes = [a.expect("handled"), b.expect("handled")];
    assert_eq!(
        outcomes.iter().filter(|o| **o == Due::Sent).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(deliver(&second.state).await.expect("handled"), Due::Settled);
    first.wait_for_outbox_drained(&id, WAIT).await;
    let phones: Vec<&str> = neighbors.iter().map(|n| n.phone.as_str()).collect();
    assert_eq!(
        copies_each(
            &first,
            &phones,
            "Composer Court: Ash St recycling moves to Monday"
        )
        .await,
        [1, 1, 1, 1, 1]
    );
}

/// Twilio failing as it can (throttled, 500s, timeouts, and calls carried out whose answer is
/// lost) and slow enough that the service is killed with texts in flight.
fn faults_with_lost_answers() -> Value {
    json!({
        "latency_ms": 300,
        "rate_429": 0.1,
        "rate_500": 0.1,
        "rate_timeout": 0.05,
        "rate_applied_500": 0.1,
        "rate_applied_timeout": 0.1,
        "timeout_ms": 400,
    })
}

#[tokio::test]
async fn a_targeted_announcement_through_lost_answers_and_a_killed_service_texts_each_neighbor_once()
 {
    let app = KillableApp::spawn_with(|settings| settings.reconcile_every_secs = 0).await;
    let neighbors: Vec<Neighbor> = (51..91).map(|n| neighbor(n, Some("21 Maple Dr"))).collect();
    let (id, _) = neighborhood(&app, &neighbors).await;
    app.put(
        &Who::Admin,
        "/sandbox/api/faults",
        &faults_with_lost_answers(),
        200,
    )
    .await;
    let text = "Composer Court: Maple Dr tree trimming Friday, move your cars";
    post(
        &app,
        &id,
        "messages",
        json!({"body": "Maple Dr tree trimming Friday, move your cars",
               "audience": {"kind": "streets", "streets": ["Maple Drive"]}}),
        202,
    )
    .await;
    let phones: Vec<&str> = neighbors.iter().map(|n| n.phone.as_str()).collect();
    let at_kill = poll_until(WAIT, "a first neighbor to have it", || async {
        let received = copies_each(&app, &phones, text)
            .await
            .iter()
            .filter(|n| **n > 0)
            .count();
        (received > 0).then_some(received)
    })
    .await;
    let prefix = app.kill();
    let restarted = spawn_sandbox_instance(&prefix, |settings| {
        settings.reconcile_every_secs = 0;
        settings.outbox_reclaim_secs = 1;
    })
    .await;
    restarted
        .wait_for_outbox_drained(&id, Duration::from_secs(90))
        .await;
    restarted
        .put(&Who::Admin, "/sandbox/api/faults", &json!({}), 200)
        .await;
    let received = copies_each(&restarted, &phones, text).await;
    println!(
        "killed with {at_kill} of 40 neighbors texted; after the restart: {:?}",
        received
    );
    assert_eq!(received, vec![1; 40], "every neighbor texted exactly once");
    assert_eq!(copies(&restarted, OWNER, text).await, 0);
}

#[tokio::test]
async fn captains_save_edit_delete_and_reuse_templates_up_to_a_cap() {
    let app = spawn_app().await;
    let (id, _) = neighborhood(&app, &[]).await;
    let path = format!("/api/v1/neighborhoods/{id}/templates");
    let sweeping = app
        .post(
            &Who::Admin,
            &path,
            &json!({"name": "Street sweeping", "body": "Street sweeping Tuesday: move your cars."}),
            201,
        )
        .await;
    app.post(
        &Who::Admin,
        &path,
        &json!({"name": "  bulky pickup ", "body": "Bulky item pickup Saturday."}),
        201,
    )
    .await;
    let listed = app.get(&Who::Admin, &path, 200).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["bulky pickup", "Street sweeping"],
        "by name, any case"
    );

    let template = format!("{path}/{}", sweeping["id"].as_str().expect("id"));
    let edited = app
        .patch(
            &Who::Admin,
            &template,
            &json!({"body": "Street sweeping Wednesday: move your cars."}),
            200,
        )
        .await;
    assert_eq!(edited["name"], "Street sweeping");
    assert_eq!(edited["body"], "Street sweeping Wednesday: move your cars.");

    for (bad, field) in [
        (json!({"name": "", "body": "Hi"}), "name"),
        (json!({"name": "n".repeat(61), "body": "Hi"}), "name"),
        (json!({"name": "Long", "body": "b".repeat(1_601)}), "body"),
        (json!({"name": "Empty", "body": "   "}), "body"),
    ] {
        let refused = app.post(&Who::Admin, &path, &bad, 400).await;
        assert_eq!(fields(&refused), [field], "{refused}");
    }
    app.patch(&Who::Admin, &template, &json!({"name": "a\nb"}), 400)
        .await;

    app.delete(&Who::Admin, &template, 204).await;
    app.delete(&Who::Admin, &template, 404).await;
    app.patch(&Who::Admin, &template, &json!({"name": "Back"}), 404)
        .await;

    // 49 more make 50; the 51st is refused, and nothing is written for it.
    stream::iter(0..49)
        .map(|n| {
            let (app, path) = (&app, &path);
            async move {
                app.post(
                    &Who::Admin,
                    path,
                    &json!({"name": format!("Notice {n:02}"), "body": format!("Notice number {n}")}),
                    201,
                )
                .await;
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    let refused = app
        .post(
            &Who::Admin,
            &path,
            &json!({"name": "One too many", "body": "Hi"}),
            409,
        )
        .await;
    assert_eq!(refused["code"], "too_many_templates", "{refused}");
    let listed = app.get(&Who::Admin, &path, 200).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(50));
    let audit = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit?limit=200"),
            200,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("template."))
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "template.create").count(),
        51
    );
    assert!(actions.contains(&"template.update") && actions.contains(&"template.delete"));
}

/// Quiet hours in Los Angeles from an hour ago to two hours ahead.
fn quiet_hours_around_now() -> Value {
    let zone = jiff::tz::TimeZone::get("America/Los_Angeles").expect("zone");
    let now = jiff::Timestamp::now().to_zoned(zone);
    let minute = i32::from(now.hour()) * 60 + i32::from(now.minute());
    let clock = |m: i32| {
        let m = m.rem_euclid(24 * 60);
        format!("{:02}:{:02}", m / 60, m % 60)
    };
    json!({"start": clock(minute - 60), "end": clock(minute + 120), "time_zone": "America/Los_Angeles"})
}

async fn change_neighborhood(app: &TestApp, id: &str, changes: Value) -> Value {
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &changes,
        200,
    )
    .await
}

#[tokio::test]
async fn the_budget_and_quiet_hours_hold_a_targeted_announcement_like_any_other() {
    let app = spawn_app().await;
    let neighbors = [
        neighbor(61, Some("5 Linden St")),
        neighbor(62, Some("6 Alder St")),
    ];
    let (id, _) = neighborhood(&app, &neighbors).await;
    let linden = json!({"kind": "streets", "streets": ["Linden St"]});
    let everyone = [OWNER, &neighbors[0].phone, &neighbors[1].phone];

    // Over budget (the number's month alone costs more than a cent): held, then released once.
    change_neighborhood(&app, &id, json!({"monthly_budget": "0.01"})).await;
    let held = post(
        &app,
        &id,
        "messages",
        json!({"body": "Linden St: bins out tonight", "audience": linden}),
        202,
    )
    .await;
    assert_eq!(held["held"], true, "{held}");
    assert_eq!(held["audience"], "To 1 person on Linden St");
    app.wait_for_outbox_drained(&id, WAIT).await;
    let bins = "Composer Court: Linden St: bins out tonight";
    assert_eq!(copies_each(&app, &everyone, bins).await, [0, 0, 0], "held");
    change_neighborhood(&app, &id, json!({"monthly_budget": "1000"})).await;
    eventually(WAIT, "the held announcement to go out", || async {
        copies(&app, &neighbors[0].phone, bins).await == 1
    })
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(
        copies_each(&app, &everyone, bins).await,
        [0, 1, 0],
        "to Linden St only, once"
    );
    let history = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    assert_eq!(history["items"][0]["audience"], "To 1 person on Linden St");

    // Quiet hours: it waits for them to end (here, for them to be lifted), then goes.
    change_neighborhood(&app, &id, json!({"quiet_hours": quiet_hours_around_now()})).await;
    let waiting = post(
        &app,
        &id,
        "messages",
        json!({"body": "Linden St: tree down, road closed", "audience": linden}),
        201,
    )
    .await;
    assert_eq!(waiting["waits_for_quiet_hours"], true, "{waiting}");
    assert_eq!(waiting["audience"]["kind"], "streets");
    change_neighborhood(&app, &id, json!({"quiet_hours": null})).await;
    let tree = "Composer Court: Linden St: tree down, road closed";
    eventually(
        WAIT,
        "the announcement to go once quiet hours are lifted",
        || async { copies(&app, &neighbors[0].phone, tree).await == 1 },
    )
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    assert_eq!(copies_each(&app, &everyone, tree).await, [0, 1, 0]);
}

#[tokio::test]
async fn an_audience_larger_than_a_days_one_to_one_texts_is_refused() {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.reconcile_every_secs = 0;
    settings.daily_texts_per_neighborhood = 10;
    let app = spawn_sandbox_app_with(receiver, settings).await;
    let neighbors: Vec<Neighbor> = (71..73).map(|n| neighbor(n, None)).collect();
    let (id, ids) = neighborhood(&app, &neighbors).await;
    // Two neighbors fit in a day's 10 texts; the cap is checked against the audience, not the
    // texts sent so far (the welcomes took some of them).
    post(
        &app,
        &id,
        "messages",
        json!({"body": "Hi both", "audience": {"kind": "members", "member_ids": ids}}),
        202,
    )
    .await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    // An instance whose cap is a single text a day refuses the same two.
    let refused = spawn_sandbox_instance(&app.prefix, |settings| {
        settings.reconcile_every_secs = 0;
        settings.daily_texts_per_neighborhood = 1;
    })
    .await
    .post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "Hi both", "audience": {"kind": "members", "member_ids": ids}}),
        400,
    )
    .await;
    assert_eq!(fields(&refused), ["audience"], "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("at most 1 such texts a day"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_newcomer_catching_up_does_not_see_announcements_to_others() {
    let app = spawn_app().await;
    let (id, _) = neighborhood(&app, &[neighbor(81, Some("1 Quince Ct"))]).await;
    change_neighborhood(
        &app,
        &id,
        json!({"catch_up": {"mode": "text", "messages": 5}}),
    )
    .await;
    post(
        &app,
        &id,
        "messages",
        json!({"body": "Garden club Sunday"}),
        202,
    )
    .await;
    post(
        &app,
        &id,
        "messages",
        json!({"body": "Quince Ct only: gate code changed",
               "audience": {"kind": "streets", "streets": ["Quince Ct"]}}),
        202,
    )
    .await;
    let hood = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;
    let number = hood["phone_number"].as_str().expect("number");
    let newcomer = neighbor(82, None).phone;
    app.text(&newcomer, number, "JOIN Newcomer").await;
    let requests = poll_until(WAIT, "the join request", || async {
        let page = app
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
                200,
            )
            .await;
        page["items"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{requests}/approve"),
        &json!({}),
        202,
    )
    .await;
    let catch_up = app
        .wait_for_text(&newcomer, "Catch up on Composer Court")
        .await;
    assert!(catch_up.contains("Garden club Sunday"), "{catch_up}");
    assert!(!catch_up.contains("gate code"), "{catch_up}");
}
