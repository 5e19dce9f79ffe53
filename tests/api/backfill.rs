//! Issue 18, F2 and F2b: Twilio is the durable log we repair from. The service runs on a Redis of
//! its own, which the test kills and restarts; Twilio is the emulator running apart (its own
//! state in the shared test Redis), so it keeps working while the service's Redis is down, as
//! Twilio would. Texts written during the outage are turned away by the webhooks (503; Twilio
//! does not call a post-event again), and the backfill, triggered by those 503s once Redis
//! answers again, records, relays and answers each of them, once.

use std::collections::HashMap;
use std::time::Duration;

use neighborhood_text::jobs::backfill::{self, Pass, Report};
use neighborhood_text::sandbox::{
    DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_MESSAGING_SERVICE_SID,
};
use neighborhood_text::secret::Secret;
use neighborhood_text::startup::EmulatorApp;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    OwnRedis, TestApp, Who, add_members, eventually, poll_until, redis_url, spawn_app_with,
    test_settings, unique_prefix, wait_until_synced,
};

const OWNER: &str = "+15550047700";
const STRANGER: &str = "+15550049999";
const WAIT: Duration = Duration::from_secs(60);

/// The emulator alone, as `neighborhood-text twilio-emulator` runs it, on the shared test Redis
/// under a prefix of its own; returns its base URL once its Messaging Service exists.
async fn standalone_emulator() -> String {
    use clap::Parser;
    let cluster = if crate::helpers::on_test_cluster() {
        "on"
    } else {
        "off"
    };
    let cli = neighborhood_text::config::Cli::try_parse_from([
        "neighborhood-text",
        "twilio-emulator",
        "--bind",
        "127.0.0.1:0",
        "--redis-url",
        &redis_url(),
        "--redis-cluster",
        cluster,
        "--redis-prefix",
        &unique_prefix(),
    ])
    .expect("emulator arguments");
    let Some(neighborhood_text::config::Command::TwilioEmulator(settings)) = cli.command else {
        panic!("not the emulator command");
    };
    let emulator = EmulatorApp::build(*settings)
        .await
        .expect("emulator builds");
    let base = format!("http://127.0.0.1:{}", emulator.port());
    tokio::spawn(emulator.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::new();
    let service = format!("{base}/messaging/v1/Services/{DEFAULT_MESSAGING_SERVICE_SID}");
    eventually(
        Duration::from_secs(10),
        "the emulator's Messaging Service",
        || async {
            http.get(&service)
                .basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200)
        },
    )
    .await;
    base
}

/// The service on `redis`, with the emulator at `emulator` as its Twilio account, whose
/// Conversations webhooks point at it.
async fn service(redis: &OwnRedis, emulator: &str) -> TestApp {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = test_settings(&receiver);
    crate::helpers::use_single_redis(&mut settings, &redis.url);
    // Port 0: the port the service binds, which the emulator calls and signs for.
    settings.public_url = "http://127.0.0.1:0".parse().expect("url");
    settings.twilio_account_sid = Some(DEFAULT_ACCOUNT_SID.into());
    settings.twilio_auth_token = Some(Secret::new(DEFAULT_AUTH_TOKEN));
    settings.twilio_messaging_service_sid = Some(DEFAULT_MESSAGING_SERVICE_SID.into());
    settings.twilio_api_base = Some(format!("{emulator}/").parse().expect("url"));
    settings.reconcile_every_secs = 0;
    let app = spawn_app_with(receiver, settings).await;
    // Message events only: each group text then makes exactly one post-event call.
    let configured = reqwest::Client::new()
        .post(format!(
            "{emulator}/conversations/v1/Configuration/Webhooks"
        ))
        .basic_auth(DEFAULT_ACCOUNT_SID, Some(DEFAULT_AUTH_TOKEN))
        .form(&[
            ("Method", "POST"),
            ("Filters", "onMessageAdd"),
            ("Filters", "onMessageAdded"),
            (
                "PreWebhookUrl",
                &app.url("/webhooks/twilio/conversations/pre"),
            ),
            (
                "PostWebhookUrl",
                &app.url("/webhooks/twilio/conversations/post"),
            ),
            ("Target", "webhook"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(configured.status(), 200);
    app
}

/// Phone `from` texts `body` to `to` through the emulator.
async fn text(emulator: &str, from: &str, to: &str, body: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!(
            "{emulator}/sandbox/api/phones/{}/messages",
            from.replace('+', "%2B")
        ))
        .json(&json!({"to": to, "body": body}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200, "texting {to}");
    response.json().await.expect("json")
}

/// The bodies each simulated phone has received.
async fn inboxes(emulator: &str) -> HashMap<String, Vec<String>> {
    let state: Value = reqwest::Client::new()
        .get(format!("{emulator}/sandbox/api/state"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    state["phones"]
        .as_array()
        .expect("phones")
        .iter()
        .map(|entry| {
            let bodies = entry["inbox"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item["body"].as_str().map(str::to_owned))
                .collect();
            (entry["phone"].as_str().expect("phone").to_owned(), bodies)
        })
        .collect()
}

/// One group text and who should get it.
struct Sent {
    author: String,
    name: String,
    body: String,
}

/// Every member but the author should hold one copy of each text: unsigned or signed in the
/// author's shard (the pre-event webhook fails open while Redis is down), signed in every other.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    sent: usize,
    expected: usize,
    received: usize,
    lost: usize,
    doubled: usize,
    unsigned_relays: usize,
}

fn tally(sent: &[Sent], members: &[Value], inboxes: &HashMap<String, Vec<String>>) -> Tally {
    let shard_of: HashMap<&str, &str> = members
        .iter()
        .filter_map(|m| Some((m["phone"].as_str()?, m["conversation_sid"].as_str()?)))
        .collect();
    let mut tally = Tally {
        sent: sent.len(),
        ..Tally::default()
    };
    for text in sent {
        let signed = format!("{}: {}", text.name, text.body);
        for (phone, shard) in &shard_of {
            if *phone == text.author {
                continue;
            }
            tally.expected += 1;
            let copies: Vec<&String> = inboxes
                .get(*phone)
                .into_iter()
                .flatten()
                .filter(|body| body.ends_with(&text.body))
                .collect();
            tally.received += copies.len().min(1);
            match copies.len() {
                0 => tally.lost += 1,
                1 => {}
                n => tally.doubled += n - 1,
            }
            let relayed = Some(shard) != shard_of.get(text.author.as_str());
            if relayed && copies.iter().any(|body| **body != signed) {
                tally.unsigned_relays += 1;
            }
        }
    }
    tally
}

async fn history(app: &TestApp, id: &str) -> Vec<neighborhood_text::store::messages::HistoryEntry> {
    app.state
        .store
        .messages(Uuid::parse_str(id).expect("id"), None, 100, |_| true)
        .await
        .expect("history")
        .into_iter()
        .map(|stored| stored.entry)
        .collect()
}

/// Waits until the neighborhood's outbox, in the service's own Redis, is empty.
async fn drained(app: &TestApp, redis: &OwnRedis, id: &str) {
    let key = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone())
        .outbox(Uuid::parse_str(id).expect("id"));
    let conn = redis.connection().await;
    eventually(WAIT, "the outbox to drain", || {
        let (key, mut conn) = (key.clone(), conn.clone());
        async move {
            let len: u64 = redis::cmd("XLEN")
                .arg(key)
                .query_async(&mut conn)
                .await
                .expect("XLEN");
            len == 0
        }
    })
    .await;
}

/// A pass run now, waiting out one the job may be running.
async fn pass_now(app: &TestApp) -> Report {
    poll_until(WAIT, "a backfill pass of our own", || async {
        match backfill::pass(&app.state).await.expect("a pass") {
            Pass::Done(report) => Some(report),
            Pass::Busy => None,
        }
    })
    .await
}

#[tokio::test]
async fn group_texts_and_a_join_sent_while_redis_was_down_are_recorded_relayed_and_answered_once_after()
 {
    let emulator = standalone_emulator().await;
    let mut redis = OwnRedis::start().await;
    let app = service(&redis, &emulator).await;
    let created = app
        .create_neighborhood(&json!({"name": "Backfill Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let number = created["phone_number"].as_str().expect("number").to_owned();
    // 200 members, as in the issue: four Conversations of 50, filled one after the other.
    let phones: Vec<String> = (1..=199).map(|n| format!("+1555004{n:04}")).collect();
    let mut synced = 1;
    for wave in [
        &phones[..49],
        &phones[49..99],
        &phones[99..149],
        &phones[149..],
    ] {
        add_members(&app, &id, wave, synced).await;
        synced += wave.len();
        wait_until_synced(&app, &id, synced, Duration::from_secs(120)).await;
    }
    let members = wait_until_synced(&app, &id, 200, Duration::from_secs(120)).await;
    drained(&app, &redis, &id).await;
    let shards: Vec<&str> = {
        let mut shards: Vec<&str> = members
            .iter()
            .filter_map(|m| m["conversation_sid"].as_str())
            .collect();
        shards.sort_unstable();
        shards.dedup();
        shards
    };
    assert_eq!(shards.len(), 4, "four Conversations");
    let authors: Vec<&Value> = shards
        .iter()
        .flat_map(|shard| {
            members
                .iter()
                .filter(move |m| m["conversation_sid"] == *shard && m["phone"] != OWNER)
                .take(2)
        })
        .collect();
    assert_eq!(authors.len(), 8, "two authors in each Conversation");

    // Before the outage, the webhooks work: a text reaches everyone, signed.
    let warm_up = Sent {
        author: authors[0]["phone"].as_str().expect("phone").to_owned(),
        name: authors[0]["display_name"]
            .as_str()
            .expect("name")
            .to_owned(),
        body: "Street sweeping moved to Tuesday".to_owned(),
    };
    text(&emulator, &warm_up.author, &number, &warm_up.body).await;
    poll_until(WAIT, "the warm-up text to reach everyone", || async {
        let counts = tally(
            std::slice::from_ref(&warm_up),
            &members,
            &inboxes(&emulator).await,
        );
        (counts.received == counts.expected).then_some(())
    })
    .await;
    drained(&app, &redis, &id).await;

    redis.kill();
    let turned_away = app.state.backfill.turned_away();
    let outage: Vec<Sent> = authors
        .iter()
        .enumerate()
        .map(|(n, author)| Sent {
            author: author["phone"].as_str().expect("phone").to_owned(),
            name: author["display_name"].as_str().expect("name").to_owned(),
            body: format!("Outage text {n}: has anyone seen a grey cat?"),
        })
        .collect();
    for sent in &outage {
        let routed = text(&emulator, &sent.author, &number, &sent.body).await;
        assert_eq!(routed["outcome"], "conversation", "{routed}");
    }
    text(&emulator, STRANGER, &number, "JOIN Zed Q.").await;
    // Each group text was turned away twice (the number's SMS webhook, which Twilio calls for a
    // member's text too, and the post-event), the JOIN once; Twilio does not call again.
    let expected_turned_away = 2 * outage.len() as u64 + 1;
    eventually(
        WAIT,
        "every webhook of the outage to be answered",
        || async { app.state.backfill.turned_away() - turned_away >= expected_turned_away },
    )
    .await;
    assert_eq!(
        app.state.backfill.turned_away() - turned_away,
        expected_turned_away
    );
    assert!(app.state.backfill.is_due(), "the 503s call for a backfill");
    let passes = app.state.backfill.passes();

    redis.restart().await;
    // The job picks the outage up as soon as Redis answers: no call, no sleep.
    eventually(WAIT, "the backfill pass after the outage", || async {
        app.state.backfill.passes() > passes
    })
    .await;
    drained(&app, &redis, &id).await;

    let after = tally(&outage, &members, &inboxes(&emulator).await);
    println!("outage texts after the backfill: {after:?}");
    assert_eq!(
        after,
        Tally {
            sent: 8,
            expected: 8 * 199,
            received: 8 * 199,
            ..Tally::default()
        },
        "every member gets each outage text once, relays signed"
    );
    let recorded = history(&app, &id).await;
    for sent in outage.iter().chain([&warm_up]) {
        assert_eq!(
            recorded.iter().filter(|e| e.body == sent.body).count(),
            1,
            "{} in the history once",
            sent.body
        );
    }
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests"),
            200,
        )
        .await;
    let zed: Vec<&Value> = requests["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "Zed Q.")
        .collect();
    assert_eq!(zed.len(), 1, "the JOIN is filed once: {requests}");
    let answered = |inboxes: HashMap<String, Vec<String>>| {
        inboxes
            .get(STRANGER)
            .into_iter()
            .flatten()
            .filter(|body| body.starts_with("Thanks, Zed Q.!"))
            .count()
    };
    assert_eq!(answered(inboxes(&emulator).await), 1, "and answered once");

    // Running it again changes nothing: past the watermarks, and, with the watermarks
    // forgotten, by the claims every message and text was acted on under.
    let again = pass_now(&app).await;
    assert_eq!(
        again,
        Report::default(),
        "a second pass finds nothing to do"
    );
    let keys = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone());
    let neighborhood_id = Uuid::parse_str(&id).expect("id");
    let _: () = redis::cmd("DEL")
        .arg(keys.shard_watermarks(neighborhood_id))
        .arg(keys.inbound_watermark(neighborhood_id))
        .query_async(&mut redis.connection().await)
        .await
        .expect("DEL");
    let from_scratch = pass_now(&app).await;
    assert_eq!(
        from_scratch,
        Report::default(),
        "a pass reading everything again acts on nothing again"
    );
    drained(&app, &redis, &id).await;
    let inboxes_now = inboxes(&emulator).await;
    assert_eq!(tally(&outage, &members, &inboxes_now), after);
    let warm_up_copies = tally(std::slice::from_ref(&warm_up), &members, &inboxes_now);
    assert_eq!((warm_up_copies.lost, warm_up_copies.doubled), (0, 0));
    assert_eq!(history(&app, &id).await.len(), recorded.len());
    assert_eq!(answered(inboxes(&emulator).await), 1);
}
