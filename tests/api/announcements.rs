//! Announcements now or scheduled, end to end against the emulator: a scheduled announcement
//! reaches every member exactly once though two instances share the Redis (one REST call per
//! shard); quiet hours hold it until they end, urgent ones go at once; scheduled ones can be
//! edited and cancelled until sent, then 409; bad times and time zones get field errors. Each of
//! the two guards of "once" is also tested alone: the claim of due entries (one instance each,
//! taken over when a lease runs out) and the compare-and-set of the send.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use neighborhood_text::services::announcements::Due;
use neighborhood_text::store::Store;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::helpers::{
    TestApp, Who, eventually, poll_until, redis_endpoint, sandbox_settings,
    spawn_counting_sandbox_app, spawn_sandbox_app_with, spawn_sandbox_instance, unique_prefix,
    wait_until_synced,
};

const OWNER: &str = "+15550008800";
const WAIT: Duration = Duration::from_secs(30);
/// How often each test instance looks for due announcements.
const TICK_MS: u64 = 100;

/// A sandbox app that looks for due announcements every `TICK_MS`, without the periodic
/// reconciliation, whose REST calls would blur the counts.
async fn spawn_app() -> TestApp {
    spawn_counting_sandbox_app(|settings| settings.scheduler_tick_ms = TICK_MS).await
}

/// A neighborhood owned by Olive (`OWNER`) with `members` more neighbors added through the API
/// and in the group text; returns its id and every member's phone.
async fn neighborhood(app: &TestApp, members: usize, first_phone: u32) -> (String, Vec<String>) {
    let created = app
        .create_neighborhood(&json!({"name": "Bulletin Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let phones: Vec<String> = (0..members as u32)
        .map(|n| format!("+1555{:07}", first_phone + n))
        .collect();
    stream::iter(phones.iter().enumerate())
        .map(|(n, phone)| {
            let (app, id) = (app, &id);
            async move {
                app.post(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/members"),
                    &json!({"phone": phone, "display_name": format!("Neighbor {}", n + 1)}),
                    202,
                )
                .await;
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    wait_until_synced(app, &id, members + 1, Duration::from_secs(90)).await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    let everyone = std::iter::once(OWNER.to_owned()).chain(phones).collect();
    (id, everyone)
}

/// How many times `phone` received exactly `text`.
async fn copies(app: &TestApp, phone: &str, text: &str) -> usize {
    app.inbox(phone)
        .await
        .iter()
        .filter(|(_, body, _)| body == text)
        .count()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("formats")
}

fn in_a_moment(millis: i64) -> String {
    rfc3339(OffsetDateTime::now_utc() + time::Duration::milliseconds(millis))
}

async fn announce(app: &TestApp, id: &str, body: Value, status: u16) -> Value {
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &body,
        status,
    )
    .await
}

async fn announcement(app: &TestApp, id: &str, announcement: &str) -> Value {
    app.get(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/announcements/{announcement}"),
        200,
    )
    .await
}

async fn patch_announcement(
    app: &TestApp,
    id: &str,
    announcement: &str,
    body: Value,
    status: u16,
) -> Value {
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/announcements/{announcement}"),
        &body,
        status,
    )
    .await
}

async fn cancel_announcement(app: &TestApp, id: &str, announcement: &str, status: u16) -> Value {
    app.delete(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/announcements/{announcement}"),
        status,
    )
    .await
}

/// The neighborhood's audit actions, oldest first.
async fn audit_actions(app: &TestApp, id: &str) -> Vec<String> {
    let audit = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit?limit=200"),
            200,
        )
        .await;
    let mut actions: Vec<String> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|entry| entry["action"].as_str().expect("action").to_owned())
        .collect();
    actions.reverse();
    actions
}

/// Quiet hours in Los Angeles that cover this moment: from an hour ago to two hours ahead, in
/// local wall-clock time (crossing midnight when the hour demands).
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

#[tokio::test]
async fn two_instances_send_a_scheduled_announcement_to_every_member_exactly_once() {
    let first = spawn_app().await;
    // 52 members and the owner: two Conversations, so one announcement is two REST calls.
    let (id, everyone) = neighborhood(&first, 52, 8_801).await;
    let hood = first
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;
    assert_eq!(hood["shards"].as_array().map(Vec::len), Some(2), "{hood}");
    let second = spawn_sandbox_instance(&first.prefix, |settings| {
        settings.reconcile_every_secs = 0;
        settings.scheduler_tick_ms = TICK_MS;
    })
    .await;
    first.rest_calls(true).await;

    // Three due at the same moment, posted to either instance: both schedulers race for each.
    let texts = ["Street fair Saturday", "Bring chairs", "Rain date Sunday"];
    let due = in_a_moment(1_200);
    let mut ids = Vec::new();
    for (n, text) in texts.iter().enumerate() {
        let app = if n % 2 == 0 { &first } else { &second };
        let scheduled = announce(app, &id, json!({"body": text, "send_at": due}), 201).await;
        assert_eq!(scheduled["state"], "scheduled");
        assert_eq!(scheduled["scheduled_for"], scheduled["send_at"]);
        assert_eq!(scheduled["waits_for_quiet_hours"], false);
        ids.push(scheduled["id"].as_str().expect("id").to_owned());
    }
    let listed = second
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/announcements?state=scheduled"),
            200,
        )
        .await;
    let listed: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first);

    let signed: Vec<String> = texts
        .iter()
        .map(|t| format!("Bulletin Street: {t}"))
        .collect();
    eventually(WAIT, "every member to have every announcement", || async {
        for phone in &everyone {
            for text in &signed {
                if copies(&first, phone, text).await == 0 {
                    return false;
                }
            }
        }
        true
    })
    .await;
    first
        .wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    for phone in &everyone {
        for text in &signed {
            assert_eq!(copies(&first, phone, text).await, 1, "{phone}: {text}");
        }
    }
    assert_eq!(
        first.rest_calls(false).await,
        json!({"counts": {"POST /v1/Conversations/{sid}/Messages": 6}, "total": 6}),
        "one REST call per announcement per shard, nothing else"
    );
    for announcement_id in &ids {
        let sent = announcement(&second, &id, announcement_id).await;
        assert_eq!(sent["state"], "sent", "{sent}");
        assert!(sent["sent_at"].is_string() && sent["scheduled_for"].is_null());
    }
    let sends = audit_actions(&first, &id)
        .await
        .iter()
        .filter(|action| *action == "announcement.send")
        .count();
    assert_eq!(sends, 3, "one send audited per announcement");
    let history = first
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            200,
        )
        .await;
    let in_history = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|m| texts.contains(&m["body"].as_str().unwrap_or_default()))
        .count();
    assert_eq!(in_history, 3, "{history}");
}

#[tokio::test]
async fn quiet_hours_hold_announcements_until_they_end_and_urgent_ones_go_at_once() {
    let app = spawn_app().await;
    let (id, everyone) = neighborhood(&app, 2, 8_901).await;
    let hood = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"quiet_hours": quiet_hours_around_now()}),
            200,
        )
        .await;
    assert_eq!(hood["quiet_hours"]["now"], true, "{hood}");
    assert_eq!(hood["quiet_hours"]["time_zone"], "America/Los_Angeles");

    // Posted to go now during quiet hours: held until they end, and the answer says so.
    let held_now = announce(&app, &id, json!({"body": "Garage sale at 9"}), 201).await;
    assert_eq!(held_now["state"], "scheduled");
    assert_eq!(held_now["waits_for_quiet_hours"], true);
    let until = OffsetDateTime::parse(held_now["scheduled_for"].as_str().expect("time"), &Rfc3339)
        .expect("RFC 3339");
    let from_now = until - OffsetDateTime::now_utc();
    assert!(
        from_now > time::Duration::minutes(118) && from_now <= time::Duration::minutes(120),
        "held until the end of quiet hours, about two hours from now: {held_now}"
    );
    // Scheduled into quiet hours: waits too.
    let held_later = announce(
        &app,
        &id,
        json!({"body": "Block party moved", "send_at": in_a_moment(500)}),
        201,
    )
    .await;
    assert_eq!(held_later["scheduled_for"], held_now["scheduled_for"]);
    // Urgent ones ignore quiet hours, now or scheduled.
    announce(
        &app,
        &id,
        json!({"body": "Water main break on Elm", "urgent": true}),
        202,
    )
    .await;
    let urgent_later = announce(
        &app,
        &id,
        json!({"body": "Road closed until noon", "urgent": true, "send_at": in_a_moment(600)}),
        201,
    )
    .await;
    assert_eq!(urgent_later["waits_for_quiet_hours"], false);

    eventually(WAIT, "the urgent announcements to arrive", || async {
        for phone in &everyone {
            for text in ["Water main break on Elm", "Road closed until noon"] {
                if copies(&app, phone, &format!("Bulletin Street: {text}")).await != 1 {
                    return false;
                }
            }
        }
        true
    })
    .await;
    // The scheduler sent the urgent one due after the held one: it has looked at both.
    let urgent_sent = announcement(&app, &id, urgent_later["id"].as_str().expect("id")).await;
    assert_eq!(urgent_sent["state"], "sent");
    for held in [&held_now, &held_later] {
        let still = announcement(&app, &id, held["id"].as_str().expect("id")).await;
        assert_eq!(still["state"], "scheduled", "{still}");
        assert_eq!(still["waits_for_quiet_hours"], true);
    }
    for phone in &everyone {
        for text in ["Garage sale at 9", "Block party moved"] {
            assert_eq!(
                copies(&app, phone, &format!("Bulletin Street: {text}")).await,
                0
            );
        }
    }

    // Quiet hours end (removed): the held announcements go out, once each.
    let hood = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"quiet_hours": null}),
            200,
        )
        .await;
    assert_eq!(hood["quiet_hours"], Value::Null, "{hood}");
    eventually(WAIT, "the held announcements to arrive", || async {
        for phone in &everyone {
            for text in ["Garage sale at 9", "Block party moved"] {
                if copies(&app, phone, &format!("Bulletin Street: {text}")).await == 0 {
                    return false;
                }
            }
        }
        true
    })
    .await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    for phone in &everyone {
        for text in [
            "Garage sale at 9",
            "Block party moved",
            "Water main break on Elm",
        ] {
            assert_eq!(
                copies(&app, phone, &format!("Bulletin Street: {text}")).await,
                1
            );
        }
    }
}

#[tokio::test]
async fn a_scheduled_announcement_can_be_edited_or_cancelled_until_it_is_sent() {
    let app = spawn_app().await;
    let (id, everyone) = neighborhood(&app, 1, 8_951).await;

    let kept = announce(
        &app,
        &id,
        json!({"body": "Meeting at 7", "send_at": in_a_moment(3_600_000)}),
        201,
    )
    .await;
    let kept_id = kept["id"].as_str().expect("id").to_owned();
    let dropped = announce(
        &app,
        &id,
        json!({"body": "Meeting cancelled", "send_at": in_a_moment(2_000)}),
        201,
    )
    .await;
    let dropped_id = dropped["id"].as_str().expect("id").to_owned();

    // Cancelled before its time: never sent; cancelling again changes nothing; no edits after.
    let cancelled = cancel_announcement(&app, &id, &dropped_id, 200).await;
    assert_eq!(cancelled["state"], json!("cancelled"), "{cancelled}");
    assert!(cancelled["cancelled_at"].is_string());
    let again = cancel_announcement(&app, &id, &dropped_id, 200).await;
    assert_eq!(again["state"], json!("cancelled"));
    let refused = patch_announcement(&app, &id, &dropped_id, json!({"body": "Back on"}), 409).await;
    assert_eq!(refused["code"], "announcement_cancelled", "{refused}");

    // Edited: new text, then moved to just after the cancelled one was due.
    let edited = patch_announcement(
        &app,
        &id,
        &kept_id,
        json!({"body": "Meeting at 7:30", "urgent": true}),
        200,
    )
    .await;
    assert_eq!(
        (&edited["body"], &edited["urgent"]),
        (&json!("Meeting at 7:30"), &json!(true))
    );
    assert_eq!(
        edited["send_at"], kept["send_at"],
        "the time stays as it was"
    );
    patch_announcement(
        &app,
        &id,
        &kept_id,
        json!({"send_at": in_a_moment(2_500)}),
        200,
    )
    .await;
    let text = "Bulletin Street: Meeting at 7:30";
    eventually(WAIT, "the edited announcement to arrive", || async {
        for phone in &everyone {
            if copies(&app, phone, text).await != 1 {
                return false;
            }
        }
        true
    })
    .await;
    for phone in &everyone {
        assert_eq!(
            copies(&app, phone, "Bulletin Street: Meeting cancelled").await,
            0
        );
        assert_eq!(
            copies(&app, phone, "Bulletin Street: Meeting at 7").await,
            0
        );
    }
    let sent = announcement(&app, &id, &kept_id).await;
    assert_eq!(sent["state"], "sent", "{sent}");
    assert_eq!(
        sent["message_sid"].as_str(),
        Some(format!("announcement-{}", kept_id.replace('-', "")).as_str())
    );

    // Sent: no more edits and no cancelling.
    let refused = patch_announcement(&app, &id, &kept_id, json!({"body": "Too late"}), 409).await;
    assert_eq!(refused["code"], "announcement_sent", "{refused}");
    let refused = cancel_announcement(&app, &id, &kept_id, 409).await;
    assert_eq!(refused["code"], "announcement_sent");

    let all = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/announcements"),
            200,
        )
        .await;
    let states: Vec<(&str, &str)> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["body"].as_str().unwrap_or(""),
                a["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("Meeting cancelled", "cancelled"),
            ("Meeting at 7:30", "sent")
        ],
        "newest first"
    );
    let actions = audit_actions(&app, &id).await;
    let ours: Vec<&str> = actions
        .iter()
        .map(String::as_str)
        .filter(|action| action.starts_with("announcement."))
        .collect();
    assert_eq!(
        ours,
        [
            "announcement.schedule",
            "announcement.schedule",
            "announcement.cancel",
            "announcement.update",
            "announcement.update",
            "announcement.send"
        ]
    );
}

#[tokio::test]
async fn bad_send_times_and_quiet_hours_get_field_errors() {
    let app = spawn_app().await;
    let created = app
        .create_neighborhood(
            &json!({"name": "Errors Street", "area_code": "415", "owner_phone": OWNER}),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let field_errors = |body: &Value| -> Vec<String> {
        body["details"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| d["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    };

    let an_hour_ago = rfc3339(OffsetDateTime::now_utc() - time::Duration::hours(1));
    let in_two_years = rfc3339(OffsetDateTime::now_utc() + time::Duration::days(730));
    for send_at in [
        an_hour_ago.as_str(),
        in_two_years.as_str(),
        "tomorrow at noon",
    ] {
        let refused = announce(&app, &id, json!({"body": "Hello", "send_at": send_at}), 400).await;
        assert_eq!(refused["code"], "validation_failed");
        assert_eq!(field_errors(&refused), ["send_at"], "{refused}");
    }
    let refused = announce(&app, &id, json!({"body": " ", "send_at": "soon"}), 400).await;
    assert_eq!(field_errors(&refused), ["body", "send_at"], "{refused}");

    let scheduled = announce(
        &app,
        &id,
        json!({"body": "Hello", "send_at": in_a_moment(3_600_000)}),
        201,
    )
    .await;
    let scheduled_id = scheduled["id"].as_str().expect("id");
    let refused = patch_announcement(
        &app,
        &id,
        scheduled_id,
        json!({"send_at": an_hour_ago}),
        400,
    )
    .await;
    assert_eq!(field_errors(&refused), vec!["send_at".to_owned()]);
    let missing = patch_announcement(
        &app,
        &id,
        &Uuid::now_v7().to_string(),
        json!({"urgent": true}),
        404,
    )
    .await;
    assert_eq!(missing["code"], "not_found");

    let hood = format!("/api/v1/neighborhoods/{id}");
    let refused = app.patch(&Who::Admin, &hood,
            &json!({"quiet_hours": {"start": "25:00", "end": "07:00", "time_zone": "Mars/Olympus_Mons"}}), 400).await;
    assert_eq!(
        field_errors(&refused),
        ["quiet_hours.start", "quiet_hours.time_zone"],
        "{refused}"
    );
    assert!(
        refused["details"][1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("America/Los_Angeles")),
        "{refused}"
    );
    let refused = app
        .patch(
            &Who::Admin,
            &hood,
            &json!({"quiet_hours": {"start": "22:00", "end": "22:00", "time_zone": "UTC"}}),
            400,
        )
        .await;
    assert_eq!(field_errors(&refused), vec!["quiet_hours.end".to_owned()]);

    let saved = app.patch(&Who::Admin, &hood,
            &json!({"quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "europe/paris"}}), 200).await;
    assert_eq!(
        (
            &saved["quiet_hours"]["start"],
            &saved["quiet_hours"]["end"],
            &saved["quiet_hours"]["time_zone"]
        ),
        (&json!("22:00"), &json!("07:00"), &json!("Europe/Paris"))
    );
    let read = app.get(&Who::Admin, &hood, 200).await;
    assert_eq!(read["quiet_hours"]["time_zone"], "Europe/Paris");
}

/// Two stores on one key prefix, as two instances see Redis, with no scheduler running on them.
fn two_instances_stores() -> (Store, Store) {
    let prefix = unique_prefix();
    let connect =
        || Store::connect(&redis_endpoint(), &prefix, Duration::from_secs(2)).expect("store");
    (connect(), connect())
}

#[tokio::test]
async fn a_due_announcement_is_claimed_by_one_instance_and_taken_over_when_its_lease_runs_out() {
    let (one, other) = two_instances_stores();
    let neighborhood = Uuid::now_v7();
    let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let mut due: Vec<(Uuid, Uuid)> = Vec::new();
    for _ in 0..10 {
        let id = Uuid::now_v7();
        one.schedule_due(neighborhood, id, past)
            .await
            .expect("scheduled");
        due.push((neighborhood, id));
    }
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    one.schedule_due(neighborhood, Uuid::now_v7(), later)
        .await
        .expect("scheduled");

    let lease = Duration::from_millis(500);
    let now = OffsetDateTime::now_utc();
    let (a, b) = tokio::join!(
        one.claim_due_announcements(now, lease, 10),
        other.claim_due_announcements(now, lease, 10),
    );
    let (mut a, b) = (a.expect("claimed"), b.expect("claimed"));
    assert!(
        a.iter().all(|entry| !b.contains(entry)),
        "claimed twice: {a:?} and {b:?}"
    );
    a.extend(b);
    a.sort();
    due.sort();
    assert_eq!(a, due, "every due one claimed, the later one not");
    let again = other
        .claim_due_announcements(OffsetDateTime::now_utc(), lease, 20)
        .await
        .expect("claimed");
    assert!(again.is_empty(), "still leased: {again:?}");

    // Nobody finished them (a crash): once the lease runs out, another instance takes them.
    let mut taken_over = poll_until(Duration::from_secs(5), "the lease to run out", || async {
        let claimed = other
            .claim_due_announcements(OffsetDateTime::now_utc(), lease, 20)
            .await
            .expect("claimed");
        (!claimed.is_empty()).then_some(claimed)
    })
    .await;
    taken_over.sort();
    assert_eq!(taken_over, due);
}

#[tokio::test]
async fn two_instances_handling_the_same_due_announcement_send_it_once() {
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
    let (id, everyone) = neighborhood(&first, 1, 8_971).await;
    let scheduled = announce(
        &first,
        &id,
        json!({"body": "Curb cleanup", "send_at": in_a_moment(300)}),
        201,
    )
    .await;
    let neighborhood_id = Uuid::parse_str(&id).expect("id");
    let announcement_id = Uuid::parse_str(scheduled["id"].as_str().expect("id")).expect("id");
    eventually(
        Duration::from_secs(5),
        "the announcement to be due",
        || async {
            OffsetDateTime::now_utc()
                > OffsetDateTime::parse(scheduled["send_at"].as_str().expect("time"), &Rfc3339)
                    .expect("time")
        },
    )
    .await;

    // Both instances find it due at the same moment (the claim would normally keep one out).
    let (a, b) = tokio::join!(
        neighborhood_text::services::announcements::deliver_due(
            &first.state,
            neighborhood_id,
            announcement_id
        ),
        neighborhood_text::services::announcements::deliver_due(
            &second.state,
            neighborhood_id,
            announcement_id
        ),
    );
    let outcomes = [a.expect("handled"), b.expect("handled")];
    let sent = outcomes.iter().filter(|o| **o == Due::Sent).count();
    assert_eq!(sent, 1, "{outcomes:?}");
    first
        .wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    eventually(WAIT, "the announcement to arrive", || async {
        copies(&first, OWNER, "Bulletin Street: Curb cleanup").await == 1
    })
    .await;
    // A retry after the other instance's failed compare-and-set finds it sent: nothing more.
    for app in [&first, &second] {
        let again = neighborhood_text::services::announcements::deliver_due(
            &app.state,
            neighborhood_id,
            announcement_id,
        )
        .await
        .expect("handled");
        assert_eq!(again, Due::Settled);
    }
    first
        .wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    for phone in &everyone {
        assert_eq!(
            copies(&first, phone, "Bulletin Street: Curb cleanup").await,
            1,
            "{phone}"
        );
    }
}
