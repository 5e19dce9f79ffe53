//! Twilio as the emulator running apart from the service (its own state in the shared test
//! Redis), so it keeps working while the service's Redis fails, as Twilio would; and the
//! counting of who received each group text.

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

use super::{
    TestApp, eventually, parse_redis_url, poll_until, redis_url, spawn_app_with, test_settings,
    unique_prefix,
};

const WAIT: Duration = Duration::from_secs(60);

/// The emulator alone, as `neighborhood-text twilio-emulator` runs it, on the shared test Redis
/// under a prefix of its own; returns its base URL once its Messaging Service exists.
pub async fn standalone_emulator() -> String {
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

/// The service on the Redis at `redis_url` (a cluster when `cluster`), with the emulator at
/// `emulator` as its Twilio account, whose Conversations webhooks point at it.
pub async fn service(redis_url: &str, cluster: bool, emulator: &str) -> TestApp {
    service_with(redis_url, cluster, emulator, |_| {}).await
}

/// [`service`], with `adjust` applied to its settings.
pub async fn service_with(
    redis_url: &str,
    cluster: bool,
    emulator: &str,
    adjust: impl FnOnce(&mut neighborhood_text::config::Settings),
) -> TestApp {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = test_settings(&receiver);
    settings.redis_url = parse_redis_url(redis_url);
    settings.redis_reach.redis_cluster = cluster;
    // Port 0: the port the service binds, which the emulator calls and signs for.
    settings.public_url = "http://127.0.0.1:0".parse().expect("url");
    settings.twilio_account_sid = Some(DEFAULT_ACCOUNT_SID.into());
    settings.twilio_auth_token = Some(Secret::new(DEFAULT_AUTH_TOKEN));
    settings.twilio_messaging_service_sid = Some(DEFAULT_MESSAGING_SERVICE_SID.into());
    settings.twilio_api_base = Some(format!("{emulator}/").parse().expect("url"));
    settings.reconcile_every_secs = 0;
    adjust(&mut settings);
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
pub async fn text(emulator: &str, from: &str, to: &str, body: &str) -> Value {
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
pub async fn inboxes(emulator: &str) -> HashMap<String, Vec<String>> {
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
pub struct Sent {
    pub author: String,
    pub name: String,
    pub body: String,
}

/// Every member but the author should hold one copy of each text: unsigned or signed in the
/// author's shard (the pre-event webhook fails open while Redis is down), signed in every other.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub sent: usize,
    pub expected: usize,
    pub received: usize,
    pub lost: usize,
    pub doubled: usize,
    pub unsigned_relays: usize,
}

pub fn tally(sent: &[Sent], members: &[Value], inboxes: &HashMap<String, Vec<String>>) -> Tally {
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

pub async fn history(
    app: &TestApp,
    id: &str,
) -> Vec<neighborhood_text::store::messages::HistoryEntry> {
    app.state
        .store
        .messages(Uuid::parse_str(id).expect("id"), None, 100, |_| true)
        .await
        .expect("history")
        .into_iter()
        .map(|stored| stored.entry)
        .collect()
}

/// Waits until the neighborhood's outbox, in the service's own Redis (reached by `conn`), is
/// empty.
pub async fn drained(app: &TestApp, conn: &(impl redis::aio::ConnectionLike + Clone), id: &str) {
    let key = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone())
        .outbox(Uuid::parse_str(id).expect("id"));
    eventually(WAIT, "the outbox to drain", || {
        let (key, mut conn) = (key.clone(), conn.clone());
        async move {
            // An error is "not yet": a cluster that has just failed over drops the connection
            // to its dead node on first use.
            redis::cmd("XLEN")
                .arg(key)
                .query_async::<u64>(&mut conn)
                .await
                .is_ok_and(|len| len == 0)
        }
    })
    .await;
}

/// Passes run until one finds no message held by another handler's claim (a webhook that
/// failed mid-way while Redis did, and let go once it answered, or whose lease ended); returns
/// what they did together.
pub async fn pass_until_settled(app: &TestApp) -> Report {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut together = Report::default();
    loop {
        let report = pass_now(app).await;
        together.messages += report.messages;
        together.texts += report.texts;
        together.waiting += report.waiting;
        if report.waiting == 0 {
            return together;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "messages still held by a claim after {WAIT:?}: {together:?}"
        );
        // Each pass reads every shard: a few a second is plenty for a claim let go in seconds.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A pass run now, waiting out one the job may be running.
pub async fn pass_now(app: &TestApp) -> Report {
    poll_until(WAIT, "a backfill pass of our own", || async {
        match backfill::pass(&app.state).await.expect("a pass") {
            Pass::Done(report) => Some(report),
            Pass::Busy => None,
        }
    })
    .await
}
