//! Redis failing under the service (issue 18): killed, every caller (API token, session cookie,
//! anonymous page, Twilio's webhooks) is told 503 `store_unavailable` with `Retry-After`, and
//! the same calls work once it is back; full (`maxmemory`, `noeviction`), writes are 503
//! `store_full` and an import says which rows it wrote, and finishes when run again.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    OwnRedis, TestApp, Who, deliver_webhook, eventually, sandbox_settings, session_client,
    spawn_sandbox_app_with,
};

const OWNER: &str = "+15550031000";
const STRANGER: &str = "+15550031001";
const NEIGHBOR: &str = "+15550031002";
const WAIT: Duration = Duration::from_secs(20);

/// A sandbox app on the test's own `redis-server`.
async fn app_on(redis: &OwnRedis) -> TestApp {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    crate::helpers::use_single_redis(&mut settings, &redis.url);
    settings.redis_timeout_ms = 500;
    spawn_sandbox_app_with(receiver, settings).await
}

/// A neighborhood owned by Olive; returns (id, slug, number, the first Conversation's sid).
async fn neighborhood(app: &TestApp) -> (String, String, String, String) {
    let created = app
        .create_neighborhood(&json!({"name": "Outage Street", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let text = |field: &str| created[field].as_str().expect(field).to_owned();
    let sid = created["shards"][0]["conversation_sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    (text("id"), text("slug"), text("phone_number"), sid)
}

/// The answers of the calls every kind of caller makes, as (what, status, body, Retry-After).
struct Calls<'a> {
    app: &'a TestApp,
    cookie: reqwest::Client,
    id: String,
    slug: String,
    number: String,
    conversation: String,
}

impl Calls<'_> {
    async fn all(&self, round: &str) -> Vec<(&'static str, u16, Value, Option<String>)> {
        let app = self.app;
        let answer = |what: &'static str| {
            move |response: reqwest::Response| async move {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let text = response.text().await.unwrap_or_default();
                let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                (what, status, body, retry_after)
            }
        };
        let token = app
            .http
            .get(app.url("/api/v1/neighborhoods"))
            .send()
            .await
            .expect("sent");
        let cookie = self
            .cookie
            .get(app.url(&format!("/api/v1/neighborhoods/{}", self.id)))
            .send()
            .await
            .expect("sent");
        let join = app
            .anonymous
            .post(app.url(&format!("/api/v1/join/{}", self.slug)))
            .json(&json!({"name": "Nell", "phone": NEIGHBOR, "consent": true}))
            .send()
            .await
            .expect("sent");
        // The same text and group message in every round: one Twilio took, whatever it was told.
        let sms = deliver_webhook(
            app,
            "/webhooks/twilio/sms",
            &[
                ("From", STRANGER),
                ("To", &self.number),
                ("Body", "JOIN Dee"),
                ("MessageSid", "SM00000000000000000000000000000031"),
            ],
            &format!("sms-{round}"),
        )
        .await;
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a date");
        let post = deliver_webhook(
            app,
            "/webhooks/twilio/conversations/post",
            &[
                ("EventType", "onMessageAdded"),
                ("ConversationSid", &self.conversation),
                ("Author", OWNER),
                ("Body", "Olive: pool opens at 9"),
                ("MessageSid", "IM00000000000000000000000000000031"),
                ("DateCreated", &now),
            ],
            &format!("post-{round}"),
        )
        .await;
        vec![
            answer("API token")(token).await,
            answer("session cookie")(cookie).await,
            answer("anonymous join")(join).await,
            answer("SMS webhook")(sms).await,
            answer("post-event webhook")(post).await,
        ]
    }
}

#[tokio::test]
async fn with_redis_killed_every_caller_gets_503_store_unavailable_and_after_it_restarts_the_same_calls_work()
 {
    let mut redis = OwnRedis::start().await;
    let app = app_on(&redis).await;
    let (id, slug, number, conversation) = neighborhood(&app).await;
    let calls = Calls {
        app: &app,
        cookie: session_client(&app, OWNER).await,
        id: id.clone(),
        slug,
        number,
        conversation,
    };

    redis.kill();
    for (what, status, body, retry_after) in calls.all("down").await {
        assert_eq!(
            (status, body["code"].as_str()),
            (503, Some("store_unavailable")),
            "{what}: {body}"
        );
        assert!(
            retry_after.is_some_and(|secs| secs.parse::<u64>().is_ok_and(|secs| secs > 0)),
            "{what}: a Retry-After in seconds"
        );
    }
    // What needs no Redis keeps answering, so the outage can be watched; readiness says it.
    assert_eq!(app.get_raw("/health").await.status(), 200);
    assert_eq!(app.get_raw("/metrics").await.status(), 200);
    let ready = app.get_raw("/ready").await;
    assert_eq!(ready.status(), 503);
    assert!(ready.headers().contains_key("retry-after"));

    redis.restart().await;
    eventually(WAIT, "the app to reach Redis again", || async {
        app.get_raw("/ready").await.status() == 200
    })
    .await;
    let answers = calls.all("back").await;
    let statuses: Vec<(&str, u16)> = answers
        .iter()
        .map(|(what, status, _, _)| (*what, *status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("API token", 200),
            ("session cookie", 200),
            ("anonymous join", 202),
            ("SMS webhook", 200),
            ("post-event webhook", 200),
        ],
        "{answers:?}"
    );
    // The text Twilio was told 503 about is acted on when it comes again, once.
    app.wait_for_text(STRANGER, "Thanks, Dee!").await;
    let history = format!("/api/v1/neighborhoods/{id}/messages");
    eventually(WAIT, "the group message in the history", || async {
        app.get(&Who::Admin, &history, 200).await["items"]
            .as_array()
            .is_some_and(|items| items.len() == 1)
    })
    .await;
}

/// A sheet of `rows` neighbors with distinct phones, numbered from `first`.
fn sheet(first: u32, rows: u32) -> String {
    let mut csv = String::from("name,phone\n");
    for n in first..first + rows {
        csv.push_str(&format!("Neighbor {n},+1555004{n:04}\n"));
    }
    csv
}

async fn import(app: &TestApp, id: &str, csv: &str) -> (u16, Value) {
    let response = app
        .http
        .post(app.url(&format!("/api/v1/neighborhoods/{id}/import?dry_run=false")))
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// The phones of the neighborhood's join requests, each as often as it is stored.
async fn requested_phones(redis: &OwnRedis, app: &TestApp, id: &str) -> Vec<String> {
    let key = neighborhood_text::store::keys::Keys::new(app.keys_prefix.clone())
        .join_requests(Uuid::parse_str(id).expect("uuid"));
    let mut conn = redis.connection().await;
    let requests: Vec<String> = redis::cmd("HVALS")
        .arg(key)
        .query_async(&mut conn)
        .await
        .expect("HVALS");
    requests
        .iter()
        .map(|json| {
            let request: Value = serde_json::from_str(json).expect("a stored request");
            request["phone"].as_str().expect("phone").to_owned()
        })
        .collect()
}

/// The sheet's phone on spreadsheet row `row` (the header is row 1).
fn phone_on_row(row: u32) -> String {
    format!("+1555004{:04}", row - 2)
}

#[tokio::test]
async fn with_redis_full_writes_get_503_store_full_and_an_interrupted_import_names_its_rows_and_finishes_when_run_again()
 {
    let redis = OwnRedis::start().await;
    let app = app_on(&redis).await;
    let (id, _, _, _) = neighborhood(&app).await;
    let rows = 2_000;
    // What one batch of an import takes, measured on a first batch of other phones.
    let before = redis.used_memory().await;
    let first = sheet(5_000, neighborhood_text::import::BATCH as u32);
    assert_eq!(import(&app, &id, &first).await.0, 200);
    let batch = redis
        .used_memory()
        .await
        .saturating_sub(before)
        .max(64 * 1024);

    // Full: writes are refused, reads still answered.
    let used = redis.used_memory().await;
    redis.config_set("maxmemory", &(used / 2).to_string()).await;
    let writes = [
        app.http
            .patch(app.url(&format!("/api/v1/neighborhoods/{id}")))
            .json(&json!({"mode": "announce_only"})),
        app.http
            .post(app.url(&format!("/api/v1/neighborhoods/{id}/members")))
            .json(&json!({"phone": NEIGHBOR, "display_name": "Nell"})),
    ];
    for write in writes {
        let refused = write.send().await.expect("sent");
        assert_eq!(refused.status(), 503);
        assert!(refused.headers().contains_key("retry-after"));
        let body: Value = refused.json().await.expect("json");
        assert_eq!(body["code"], "store_full", "{body}");
    }
    app.get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;

    // Room for about one and a half batches: the import stops in its second or third.
    let used = redis.used_memory().await;
    redis
        .config_set("maxmemory", &(used + batch * 3 / 2).to_string())
        .await;
    let csv = sheet(0, rows);
    let (status, stopped) = import(&app, &id, &csv).await;
    assert_eq!(
        (status, stopped["code"].as_str()),
        (503, Some("store_full")),
        "{stopped}"
    );
    println!("interrupted import: {stopped}");
    let detail = |field: &str| {
        stopped["details"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|detail| detail["field"] == field)
            .and_then(|detail| detail["message"].as_str())
            .map(str::to_owned)
    };
    let imported_through: u32 = detail("imported_through")
        .expect("the rows written are named")
        .parse()
        .expect("a row number");
    // Data rows are spreadsheet rows 2 to rows + 1: the import stopped before its last.
    assert!((2..rows + 1).contains(&imported_through), "{stopped}");
    let in_doubt_until = detail("in_doubt")
        .and_then(|range| range.split_once('-').map(|(_, last)| last.parse::<u32>()))
        .transpose()
        .expect("a row range")
        .unwrap_or(imported_through);
    let stored: HashSet<String> = requested_phones(&redis, &app, &id)
        .await
        .into_iter()
        .collect();
    for row in 2..=imported_through {
        assert!(stored.contains(&phone_on_row(row)), "row {row} was written");
    }
    for row in in_doubt_until + 1..=rows + 1 {
        assert!(
            !stored.contains(&phone_on_row(row)),
            "row {row} is after the rows named"
        );
    }

    redis.config_set("maxmemory", "0").await;
    let (status, finished) = import(&app, &id, &csv).await;
    assert_eq!(status, 200, "{finished}");
    let phones = requested_phones(&redis, &app, &id).await;
    let distinct: HashSet<&String> = phones.iter().collect();
    assert_eq!(
        phones.len(),
        distinct.len(),
        "every phone is one request, once"
    );
    for row in 2..=rows + 1 {
        assert!(distinct.contains(&phone_on_row(row)), "row {row} is in");
    }
    assert_eq!(
        phones.len(),
        rows as usize + neighborhood_text::import::BATCH
    );
}
