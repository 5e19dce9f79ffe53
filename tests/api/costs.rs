//! The cost ledger and the budget, end to end against the emulator: what members text and what
//! the group receives is counted once per segment and recipient, priced from the table; an
//! announcement costs what its estimate said; a budget alerts the captains once at 80 % and once
//! at 100 % (even with two instances), holds announcements from 100 % and sends them, once, when
//! a captain raises it.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use neighborhood_text::config::Settings;
use neighborhood_text::domain::costs::{Money, PriceTable};
use neighborhood_text::store::keys::Keys;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    TestApp, Who, eventually, spawn_counting_sandbox_app, spawn_sandbox_instance, wait_until_synced,
};

const OWNER: &str = "+15550008800";
const ANA: &str = "+15550008801";
const BO: &str = "+15550008802";
const WAIT: Duration = Duration::from_secs(30);

/// Round prices, so the budget arithmetic below reads easily: a one-segment group message in a
/// neighborhood of three costs 0.05 in + 2 x 0.10 out = 0.25.
fn round_prices(settings: &mut Settings) {
    settings.prices = PriceTable::with_overrides(
        r#"{"number_month": "1.00", "sms_segment_out": "0.10", "sms_segment_in": "0.05", "active_user": "0", "as_of": "test"}"#,
    )
    .expect("prices");
}

/// A sandbox app without the periodic reconciliation, with `adjust` applied to its settings.
async fn spawn_app(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_counting_sandbox_app(adjust).await
}

/// A neighborhood owned by Olive with Ana and Bo in its group text; returns (id, number).
async fn neighborhood_of_three(app: &TestApp) -> (String, String) {
    let created = app
        .create_neighborhood(&json!({"name": "Cost Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    for (phone, name) in [(ANA, "Ana"), (BO, "Bo")] {
        app.add_member_by_api(&id, phone, name).await;
    }
    wait_until_synced(app, &id, 3, WAIT).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    (
        id,
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

/// `GET .../costs`, expecting 200.
async fn costs(app: &TestApp, id: &str) -> Value {
    app.get(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/costs"),
        200,
    )
    .await
}

/// This month's ledger entry.
async fn this_month(app: &TestApp, id: &str) -> Value {
    costs(app, id).await["months"][0].clone()
}

fn micros(dollars: &Value) -> u64 {
    Money::parse_dollars(dollars.as_str().expect("a dollar string"))
        .expect("dollars")
        .micros()
}

fn count(month: &Value, field: &str) -> u64 {
    month[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {month}"))
}

/// The amount of one line of a month, with its quantity checked against the price.
fn line(month: &Value, item: &str) -> (u64, u64) {
    let line = month["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|line| line["item"] == item)
        .unwrap_or_else(|| panic!("no {item} line in {month}"));
    let quantity = line["quantity"].as_u64().expect("quantity");
    let amount = micros(&line["amount"]);
    assert_eq!(
        amount,
        quantity * micros(&line["unit_price"]),
        "{item}: quantity x unit price"
    );
    (quantity, amount)
}

/// The bodies a simulated phone received.
async fn received(app: &TestApp, phone: &str) -> Vec<String> {
    app.inbox(phone)
        .await
        .into_iter()
        .map(|(_, body, _)| body)
        .collect()
}

/// Waits until this month counts `inbound` more inbound and `outbound` more outbound segments
/// than `before`, the outbox is drained, and the counts then stay put.
async fn wait_for_counts(
    app: &TestApp,
    id: &str,
    before: &Value,
    inbound: u64,
    outbound: u64,
) -> Value {
    let expected = (
        count(before, "sms_segments_in") + inbound,
        count(before, "sms_segments_out") + outbound,
    );
    eventually(WAIT, "the ledger to count the message", || async {
        let now = this_month(app, id).await;
        (
            count(&now, "sms_segments_in"),
            count(&now, "sms_segments_out"),
        ) >= expected
    })
    .await;
    app.wait_for_outbox_drained(id, WAIT).await;
    let after = this_month(app, id).await;
    assert_eq!(
        (
            count(&after, "sms_segments_in"),
            count(&after, "sms_segments_out")
        ),
        expected,
        "counted exactly once: {after}"
    );
    after
}

/// Waits until a one-segment group message in the neighborhood of three is counted (its budget
/// alert texts, if it crossed a threshold, come on top) and the outbox is drained.
async fn wait_for_message(app: &TestApp, id: &str, before: &Value) {
    let inbound = count(before, "sms_segments_in") + 1;
    let outbound = count(before, "sms_segments_out") + 2;
    eventually(WAIT, "the ledger to count the message", || async {
        let now = this_month(app, id).await;
        count(&now, "sms_segments_in") == inbound && count(&now, "sms_segments_out") >= outbound
    })
    .await;
    app.wait_for_outbox_drained(id, WAIT).await;
}

/// Waits until the owner has received `expected` budget alerts, then checks no more arrive once
/// the outbox is drained.
async fn expect_alerts(app: &TestApp, id: &str, expected: (usize, usize)) {
    eventually(WAIT, "the budget alerts", || async {
        alerts(app).await == expected
    })
    .await;
    app.wait_for_outbox_drained(id, WAIT).await;
    assert_eq!(alerts(app).await, expected, "each alert once");
}

#[tokio::test]
async fn a_group_message_counts_one_inbound_segment_and_its_segments_once_per_recipient() {
    let app = spawn_app(|_| {}).await;
    let (id, number) = neighborhood_of_three(&app).await;
    let before = this_month(&app, &id).await;
    assert_eq!(
        count(&before, "active_users"),
        0,
        "welcome texts are 1:1, not Conversations"
    );

    app.text(ANA, &number, "Block party Saturday at 4").await;

    let after = wait_for_counts(&app, &id, &before, 1, 2).await;
    assert_eq!(
        count(&after, "sms_messages_in") - count(&before, "sms_messages_in"),
        1
    );
    assert_eq!(
        count(&after, "sms_recipients") - count(&before, "sms_recipients"),
        2
    );
    assert_eq!(
        count(&after, "active_users"),
        3,
        "Ana sent, Olive and Bo received"
    );
    assert_eq!(count(&after, "number_months"), 1);
    // Priced from the default table: 1.15 a month, 0.0083 a segment each way, 0.05 a user.
    let costs = costs(&app, &id).await;
    assert_eq!(costs["prices"]["sms_segment_out"], "0.0083");
    assert_eq!(costs["prices"]["as_of"], "2026-11-09");
    assert_eq!(line(&after, "number_rental"), (1, 1_150_000));
    assert_eq!(line(&after, "active_users"), (3, 150_000));
    let (out_segments, out_amount) = line(&after, "sms_outbound");
    let (in_segments, in_amount) = line(&after, "sms_inbound");
    assert_eq!(out_segments, count(&after, "sms_segments_out"));
    assert_eq!(in_segments, count(&after, "sms_segments_in"));
    assert_eq!(
        micros(&after["total"]),
        1_150_000 + 150_000 + out_amount + in_amount
    );
    assert_eq!(costs["this_month_total"], after["total"]);
    let before_total = micros(&before["total"]);
    assert_eq!(
        micros(&after["total"]) - before_total,
        3 * 8_300 + 150_000,
        "one segment in, two out, three active users"
    );
}

#[tokio::test]
async fn a_ucs2_message_counts_its_segments_in_utf16_code_units() {
    let app = spawn_app(|_| {}).await;
    let (id, number) = neighborhood_of_three(&app).await;
    let before = this_month(&app, &id).await;

    // 40 emoji are 80 UTF-16 code units: two UCS-2 segments (70 single, 67 per part) going
    // in, and signed "Ana: ..." (85 units) two segments to each of the two others.
    app.text(ANA, &number, &"🙂".repeat(40)).await;

    wait_for_counts(&app, &id, &before, 2, 4).await;
}

#[tokio::test]
async fn an_announcements_estimate_matches_what_it_then_costs() {
    let app = spawn_app(|_| {}).await;
    let (id, _) = neighborhood_of_three(&app).await;
    let before = this_month(&app, &id).await;
    // The curly apostrophe makes it UCS-2; signed "Cost Street: ..." it is 76 units: 2 segments.
    let body = json!({"body": "Street fair Saturday: bring a chair, we’ll bring the lemonade!!"});

    let estimate = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages/estimate"),
            &body,
            200,
        )
        .await;
    assert_eq!(estimate["encoding"], "ucs2", "{estimate}");
    assert_eq!(estimate["segments"], 2, "{estimate}");
    assert_eq!(estimate["recipients"], 3, "{estimate}");
    assert_eq!(estimate["new_active_users"], 3, "{estimate}");
    assert_eq!(estimate["sms_cost"], "0.0498", "{estimate}");
    assert_eq!(estimate["cost"], "0.1998", "{estimate}");
    assert_eq!(estimate["held"], false);
    let unchanged = this_month(&app, &id).await;
    assert_eq!(
        unchanged["total"], before["total"],
        "an estimate sends nothing"
    );

    let sent = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            &body,
            202,
        )
        .await;
    assert_eq!(sent["held"], false, "{sent}");
    assert_eq!(
        sent["estimate"], estimate,
        "the answer carries the same estimate"
    );

    let after = wait_for_counts(&app, &id, &before, 0, 6).await;
    assert_eq!(
        micros(&after["total"]) - micros(&before["total"]),
        micros(&estimate["cost"]),
        "it cost what the estimate said: {after}"
    );
}

#[tokio::test]
async fn in_three_shards_a_relayed_message_is_counted_once_per_recipient_of_every_shard() {
    let app = spawn_app(|_| {}).await;
    let created = app
        .create_neighborhood(
            &json!({"name": "Big Street", "area_code": "415", "owner_phone": OWNER}),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let number = created["phone_number"].as_str().expect("number").to_owned();
    let phones: Vec<String> = (1..=109).map(|n| format!("+1555004{n:04}")).collect();
    stream::iter(phones.iter().enumerate())
        .map(|(n, phone)| {
            let (app, id) = (&app, &id);
            async move {
                app.add_member_by_api(id, phone, &format!("N{}", n + 1))
                    .await;
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    wait_until_synced(&app, &id, 110, Duration::from_secs(120)).await;
    app.wait_for_outbox_drained(&id, WAIT).await;
    let before = this_month(&app, &id).await;

    // Written in one shard of three (50, 50, 10 members): 109 others receive it, 49 or 9 from
    // Twilio's fan-out there and the rest from two relays.
    app.text(&phones[60], &number, "Water main repair on Elm tomorrow")
        .await;

    let after = wait_for_counts(&app, &id, &before, 1, 109).await;
    assert_eq!(count(&after, "active_users"), 110);
}

/// Budget alerts in the owner's inbox: (80 % warnings, 100 % notices).
async fn alerts(app: &TestApp) -> (usize, usize) {
    let texts = received(app, OWNER).await;
    let warnings = texts
        .iter()
        .filter(|t| t.contains("has used 80% of its"))
        .count();
    let reached = texts
        .iter()
        .filter(|t| t.contains("has reached its"))
        .count();
    (warnings, reached)
}

async fn set_budget(app: &TestApp, id: &str, budget: Value) -> Value {
    app.patch(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}"),
        &json!({ "monthly_budget": budget }),
        200,
    )
    .await
}

/// Dollars with two decimals, rounded up to the cent.
fn dollars(micros: u64) -> String {
    let cents = micros.div_ceil(10_000);
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[tokio::test]
async fn crossing_80_then_100_percent_alerts_the_captains_once_each_across_two_instances() {
    let first = spawn_app(round_prices).await;
    let second = spawn_sandbox_instance(&first.prefix, |settings| {
        settings.reconcile_every_secs = 0;
        round_prices(settings);
    })
    .await;
    let (id, number) = neighborhood_of_three(&first).await;
    let start = micros(&this_month(&first, &id).await["total"]);
    // 80 % of the budget lies 0.15 above the cost so far: the first message (0.25) crosses it,
    // and the 100 % mark a few messages later.
    let budget = dollars((start + 150_000) * 10 / 8);
    let neighborhood = set_budget(&first, &id, json!(budget)).await;
    assert_eq!(neighborhood["monthly_budget"], budget.as_str());
    let budget = Money::parse_dollars(&budget).expect("budget").micros();
    assert_eq!(alerts(&first).await, (0, 0), "nothing crossed yet");

    let mut sent = 0;
    let mut warned_after = None;
    while micros(&this_month(&first, &id).await["total"]) < budget {
        assert!(sent < 10, "the budget should be reached within 10 messages");
        // Texts arrive through either instance; each counts its share.
        let instance = if sent % 2 == 0 { &first } else { &second };
        let before = this_month(&first, &id).await;
        instance
            .text(ANA, &number, &format!("Message {sent}"))
            .await;
        wait_for_message(&first, &id, &before).await;
        sent += 1;
        let total = micros(&this_month(&first, &id).await["total"]);
        if warned_after.is_none() && total * 100 >= budget * 80 {
            warned_after = Some(sent);
            if total < budget {
                expect_alerts(&first, &id, (1, 0)).await;
            }
        }
    }
    assert_eq!(warned_after, Some(1), "the first message crossed 80 %");
    assert!(sent >= 2, "100 % came after 80 %");
    expect_alerts(&first, &id, (1, 1)).await;

    // The group chat goes on past the budget, and nobody is told again.
    for n in 0..2 {
        let instance = if n == 0 { &second } else { &first };
        let before = this_month(&first, &id).await;
        instance
            .text(BO, &number, &format!("Still chatting {n}"))
            .await;
        wait_for_counts(&first, &id, &before, 1, 2).await;
    }
    assert!(
        received(&first, ANA)
            .await
            .contains(&"Bo: Still chatting 1".to_owned()),
        "group messages still reach everyone"
    );
    assert_eq!(alerts(&first).await, (1, 1), "no second alert this month");
    let costs = costs(&first, &id).await;
    assert!(costs["budget_used_percent"].as_u64().expect("percent") >= 100);
    assert_eq!(costs["announcements_held"], true);

    let audit = first
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/audit?limit=100"),
            200,
        )
        .await;
    let thresholds: Vec<u64> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|entry| entry["action"] == "neighborhood.budget_alert")
        .map(|entry| {
            entry["detail"]["threshold_percent"]
                .as_u64()
                .expect("threshold")
        })
        .collect();
    assert_eq!(thresholds, [100, 80], "one audit entry each, newest first");
}

#[tokio::test]
async fn two_instances_counting_at_once_past_the_budget_send_each_alert_once() {
    let first = spawn_app(round_prices).await;
    let second = spawn_sandbox_instance(&first.prefix, |settings| {
        settings.reconcile_every_secs = 0;
        round_prices(settings);
    })
    .await;
    let (id, _) = neighborhood_of_three(&first).await;
    let start = micros(&this_month(&first, &id).await["total"]);
    set_budget(&first, &id, json!(dollars(start + 1_000_000))).await;
    let neighborhood = Uuid::parse_str(&id).expect("id");

    // Forty texts' worth of charges (4.00) recorded at once, half by each instance: both
    // thresholds are crossed while both instances race to send the alerts.
    let charges = (0..40).map(|n| {
        let state = if n % 2 == 0 {
            &first.state
        } else {
            &second.state
        };
        async move {
            neighborhood_text::services::costs::record(
                state,
                neighborhood,
                None,
                neighborhood_text::services::costs::Charge::text_out("a charge"),
            )
            .await
            .expect("recorded")
        }
    });
    futures::future::join_all(charges).await;

    expect_alerts(&first, &id, (1, 1)).await;
}

#[tokio::test]
async fn at_100_percent_an_announcement_is_held_and_raising_the_budget_sends_it_once() {
    let first = spawn_app(round_prices).await;
    let second = spawn_sandbox_instance(&first.prefix, |settings| {
        settings.reconcile_every_secs = 0;
        round_prices(settings);
    })
    .await;
    let (id, _) = neighborhood_of_three(&first).await;
    let spent = micros(&this_month(&first, &id).await["total"]);

    // A cap below what the month already cost: announcements are held from now on, and the
    // captains are told (both thresholds at once).
    set_budget(&first, &id, json!(dollars(spent / 2))).await;
    expect_alerts(&first, &id, (1, 1)).await;
    let body = json!({"body": "Yard sale Sunday"});
    let estimate = first
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages/estimate"),
            &body,
            200,
        )
        .await;
    assert_eq!(estimate["held"], json!(true), "{estimate}");
    let held = first
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            &body,
            202,
        )
        .await;
    assert_eq!(held["held"], true, "{held}");
    assert_eq!(held["body"], "Yard sale Sunday");
    let costs_now = costs(&first, &id).await;
    assert_eq!(costs_now["announcements_held"], true);
    let listed = costs_now["held_announcements"].as_array().expect("held");
    assert_eq!(listed.len(), 1, "{costs_now}");
    assert_eq!(listed[0]["message_sid"], held["message_sid"]);
    first.wait_for_outbox_drained(&id, WAIT).await;
    let signed = "Cost Street: Yard sale Sunday";
    for phone in [OWNER, ANA, BO] {
        assert!(
            !received(&first, phone).await.contains(&signed.to_owned()),
            "{phone} got a held announcement"
        );
    }

    // A captain raises the cap on one instance while the other tries to release too.
    let (raised, released) = tokio::join!(
        set_budget(&second, &id, json!(dollars(spent * 3))),
        neighborhood_text::services::costs::release_held(
            &first.state,
            Uuid::parse_str(&id).expect("id")
        ),
    );
    assert_eq!(raised["monthly_budget"], dollars(spent * 3));
    released.expect("released");
    eventually(WAIT, "the announcement to reach everyone", || async {
        let mut all = true;
        for phone in [OWNER, ANA, BO] {
            all &= received(&first, phone).await.contains(&signed.to_owned());
        }
        all
    })
    .await;
    first.wait_for_outbox_drained(&id, WAIT).await;
    // And once more, for good measure: nothing is left to send.
    set_budget(&first, &id, json!(dollars(spent * 4))).await;
    first.wait_for_outbox_drained(&id, WAIT).await;
    for phone in [OWNER, ANA, BO] {
        let copies = received(&first, phone)
            .await
            .iter()
            .filter(|text| *text == signed)
            .count();
        assert_eq!(copies, 1, "{phone} gets it once");
    }
    let costs_after = costs(&first, &id).await;
    assert_eq!(costs_after["announcements_held"], false);
    assert_eq!(costs_after["held_announcements"], json!([]));
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
        .filter(|m| m["message_sid"] == held["message_sid"])
        .count();
    assert_eq!(in_history, 1, "in the history once it went out: {history}");
}

#[tokio::test]
async fn a_budget_is_dollars_above_zero_or_null() {
    let app = spawn_app(|_| {}).await;
    let created = app
        .create_neighborhood(
            &json!({"name": "Budget Street", "area_code": "415", "owner_phone": OWNER}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    assert!(created.get("monthly_budget").is_none() || created["monthly_budget"].is_null());
    for bad in ["0", "-5", "ten", "1.1234567"] {
        let error = app
            .patch(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}"),
                &json!({"monthly_budget": bad}),
                400,
            )
            .await;
        assert_eq!(error["code"], "validation_failed");
        assert_eq!(error["details"][0]["field"], "monthly_budget");
    }
    assert_eq!(
        set_budget(&app, id, json!("$25.5")).await["monthly_budget"],
        "25.50"
    );
    assert_eq!(costs(&app, id).await["monthly_budget"], "25.50");
    // Leaving it out changes nothing; null removes it.
    let unchanged = app
        .patch(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}"),
            &json!({"description": "x"}),
            200,
        )
        .await;
    assert_eq!(unchanged["monthly_budget"], "25.50");
    let removed = set_budget(&app, id, Value::Null).await;
    assert!(removed.get("monthly_budget").is_none() || removed["monthly_budget"].is_null());
}

#[tokio::test]
async fn a_scheduled_announcement_due_past_the_budget_waits_for_a_raised_cap() {
    let app = spawn_app(round_prices).await;
    let (id, _) = neighborhood_of_three(&app).await;
    let spent = micros(&this_month(&app, &id).await["total"]);
    set_budget(&app, &id, json!(dollars(spent / 2))).await;
    expect_alerts(&app, &id, (1, 1)).await;

    let send_at = (time::OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let scheduled = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/messages"),
            &json!({"body": "Block party at six", "send_at": send_at}),
            201,
        )
        .await;
    let announcement = scheduled["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/neighborhoods/{id}/announcements/{announcement}");
    // Due, but the month is over its cap: it stays scheduled and reaches nobody.
    // The scheduler puts a held one off by a minute, further than any claim's lease.
    let member = format!(
        "{}:{}",
        Uuid::parse_str(&id).expect("id").simple(),
        Uuid::parse_str(&announcement).expect("id").simple()
    );
    eventually(
        WAIT,
        "the scheduler to put the due announcement off",
        || async {
            let mut redis = crate::helpers::test_redis().await;
            let due: Option<i64> = redis::cmd("ZSCORE")
                .arg(Keys::new(app.keys_prefix.clone()).announcements_due())
                .arg(&member)
                .query_async(&mut redis)
                .await
                .expect("ZSCORE");
            let now_ms =
                (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
            due.is_some_and(|at| at > now_ms + 45_000)
        },
    )
    .await;
    let still = app.get(&Who::Admin, &path, 200).await;
    assert_eq!(still["state"], "scheduled", "{still}");
    let signed = "Cost Street: Block party at six";
    assert!(!received(&app, ANA).await.contains(&signed.to_owned()));

    // A raised cap sends it at once, once.
    set_budget(&app, &id, json!(dollars(spent * 3))).await;
    eventually(WAIT, "the announcement to go out", || async {
        received(&app, ANA).await.contains(&signed.to_owned())
    })
    .await;
    let sent = app.get(&Who::Admin, &path, 200).await;
    assert_eq!(sent["state"], "sent", "{sent}");
    app.wait_for_outbox_drained(&id, WAIT).await;
    let copies = received(&app, ANA)
        .await
        .iter()
        .filter(|body| **body == signed)
        .count();
    assert_eq!(copies, 1);
}
