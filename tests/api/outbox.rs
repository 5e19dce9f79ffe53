//! The outbox against the emulator: members join the group text exactly once, in shards of at
//! most 50, despite faults, with several instances working, and after an instance is killed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::stream::{self, StreamExt};

use neighborhood_text::domain::member::SyncState;
use neighborhood_text::domain::neighborhood::shard_unique_name;
use neighborhood_text::store::Store;
use neighborhood_text::store::keys::Keys;
use redis::AsyncCommands;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    KillableApp, SANDBOX_SERVICE_SID, TestApp, Who, json_of, participants_by_shard, poll_until,
    redis_endpoint, spawn_sandbox_app, spawn_sandbox_instance, wait_until_synced,
};

/// Requests the tests send at once (texts, approvals).
const CONCURRENCY: usize = 8;

async fn neighborhood(app: &TestApp, area_code: &str) -> (String, String) {
    let created = app.create_neighborhood(&json!({"name": "Outbox Street", "area_code": area_code, "owner_phone": "+15550006000"})).await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

async fn add_member(app: &TestApp, id: &str, phone: &str, name: &str) -> Value {
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/members"),
        &json!({"phone": phone, "display_name": name}),
        202,
    )
    .await
}

/// Every member is in exactly one shard, and nobody else is.
fn assert_each_member_in_exactly_one_shard(members: &[Value], shards: &[(String, Vec<String>)]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, addresses) in shards {
        assert!(
            addresses.len() <= 50,
            "a shard holds {} SMS participants",
            addresses.len()
        );
        for address in addresses {
            *seen.entry(address.as_str()).or_default() += 1;
        }
    }
    assert!(
        seen.values().all(|count| *count == 1),
        "someone is in two shards"
    );
    let phones: Vec<&str> = members.iter().filter_map(|m| m["phone"].as_str()).collect();
    assert_eq!(
        seen.len(),
        phones.len(),
        "participants: {}, members: {}",
        seen.len(),
        phones.len()
    );
    assert!(
        phones.iter().all(|phone| seen.contains_key(phone)),
        "a member is missing from Twilio"
    );
    for member in members {
        let shard = shards
            .iter()
            .find(|(_, addresses)| addresses.iter().any(|a| *a == member["phone"]))
            .map(|(sid, _)| sid.as_str());
        assert_eq!(
            member["conversation_sid"].as_str(),
            shard,
            "the member's record names the Conversation Twilio has them in: {member}"
        );
    }
}

/// 429s, 500s and timeouts, each on 10 % of the emulator's REST calls.
fn faults_30_percent() -> Value {
    json!({"rate_429": 0.1, "rate_500": 0.1, "rate_timeout": 0.1, "timeout_ms": 50})
}

/// Sets the emulator's faults (`{}`: none).
async fn set_faults(app: &TestApp, faults: &Value) {
    app.put(&Who::Admin, "/sandbox/api/faults", faults, 200)
        .await;
}

/// `count` distinct phones: `{start}0001`, `{start}0002`, ...
fn phones(start: &str, count: u32) -> Vec<String> {
    (1..=count).map(|n| format!("{start}{n:04}")).collect()
}

/// Each phone texts `JOIN Neighbor n` to the neighborhood number; returns the ids of the pending
/// join requests, one per phone.
async fn file_join_requests(
    app: &TestApp,
    id: &str,
    number: &str,
    phones: &[String],
) -> Vec<String> {
    stream::iter(phones.iter().enumerate())
        .map(|(n, phone)| async move {
            let routed = app
                .text(phone, number, &format!("JOIN Neighbor {}", n + 1))
                .await;
            assert_eq!(routed["outcome"], "sms_webhook", "{routed}");
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
    let requests = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/join-requests?state=pending"),
            200,
        )
        .await;
    let by_phone: HashMap<&str, Vec<&str>> = requests["items"]
        .as_array()
        .expect("items")
        .iter()
        .fold(HashMap::new(), |mut by_phone, request| {
            by_phone
                .entry(request["phone"].as_str().expect("phone"))
                .or_default()
                .push(request["id"].as_str().expect("id"));
            by_phone
        });
    phones
        .iter()
        .map(
            |phone| match by_phone.get(phone.as_str()).map(Vec::as_slice) {
                Some([request]) => (*request).to_owned(),
                other => panic!("{phone} has pending requests {other:?}"),
            },
        )
        .collect()
}

/// Approves each request through the API, [`CONCURRENCY`] at a time; every approval answers 202
/// (it only touches Redis). Returns the members they made.
async fn approve_all(app: &TestApp, id: &str, requests: &[String]) -> Vec<String> {
    let members: Vec<String> = stream::iter(requests)
        .map(|request_id| async move {
            let approved = app
                .post(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
                    &json!({}),
                    202,
                )
                .await;
            assert_eq!(approved["request"]["state"], "approved", "{approved}");
            assert_eq!(approved["member"]["sync"], "pending", "{approved}");
            approved["request"]["member_id"]
                .as_str()
                .expect("member id")
                .to_owned()
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let distinct: HashSet<&String> = members.iter().collect();
    assert_eq!(distinct.len(), requests.len(), "one member per approval");
    members
}

/// Waits until at least `count` members are done.
async fn wait_for_done(app: &TestApp, id: &str, count: usize, within: Duration) {
    poll_until(within, &format!("{count} members to be done"), || async {
        (done_count(app, id).await >= count).then_some(())
    })
    .await
}

/// Waits until the app holds the lock for creating a Conversation (the worst moment to die: the
/// lock outlives its holder), watching for it every 2 ms; true if it does before `fallback`
/// members are done.
async fn wait_for_shard_creation(
    app: &TestApp,
    id: &str,
    fallback: usize,
    within: Duration,
) -> bool {
    let lock = Keys::new(app.keys_prefix.clone()).shard_lock(Uuid::parse_str(id).expect("id"));
    let mut redis = crate::helpers::test_redis().await;
    let deadline = tokio::time::Instant::now() + within;
    let mut polls = 0u32;
    loop {
        let held: bool = redis.exists(&lock).await.expect("EXISTS");
        if held {
            return true;
        }
        if polls.is_multiple_of(50) && done_count(app, id).await >= fallback {
            return false;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox made no progress"
        );
        polls += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// What a killed app left in Redis: how many members are done, and whether its shard-creation
/// lock is still held. `prefix` is the killed sandbox app's configured prefix.
async fn after_the_kill(prefix: &str, id: &str) -> (usize, bool) {
    let id = Uuid::parse_str(id).expect("id");
    let prefix = Keys::sandbox_prefix(prefix);
    let prefix = prefix.as_str();
    let store = Store::connect(&redis_endpoint(), prefix, Duration::from_secs(5)).expect("store");
    let done = store
        .members(id)
        .await
        .expect("members")
        .iter()
        .filter(|m| m.sync == SyncState::Done)
        .count();
    let lock_left: bool = crate::helpers::test_redis()
        .await
        .exists(Keys::new(prefix).shard_lock(id))
        .await
        .expect("EXISTS");
    (done, lock_left)
}

async fn done_count(app: &TestApp, id: &str) -> usize {
    let members = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members?limit=500"),
            200,
        )
        .await;
    members["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["sync"] == "done")
        .count()
}

/// The members are the owner and the approved ones, nobody else.
fn assert_members_are_owner_and(members: &[Value], approved: &[String]) {
    let owners: Vec<&Value> = members.iter().filter(|m| m["role"] == "owner").collect();
    assert_eq!(owners.len(), 1, "one owner");
    let mut expected: HashSet<&str> = approved.iter().map(String::as_str).collect();
    expected.extend(owners[0]["id"].as_str());
    let listed: HashSet<&str> = members.iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(
        listed, expected,
        "the members are the owner and the approved"
    );
}

#[tokio::test]
async fn a_member_added_directly_joins_the_group_text() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "415").await;

    let member = add_member(&app, &id, "+15550006001", "Ana R.").await;

    assert_eq!(member["sync"], "pending");
    let members = wait_until_synced(&app, &id, 2, Duration::from_secs(20)).await;
    assert!(members.iter().all(|m| m["conversation_sid"].is_string()));
    let routed = app.text("+15550006000", &number, "welcome Ana").await;
    assert_eq!(
        routed["outcome"], "conversation",
        "the owner is in the group too"
    );
    assert_eq!(
        app.inbox("+15550006001").await.last().map(|m| m.1.clone()),
        Some("Owner: welcome Ana".to_owned())
    );

    let same = app
        .post(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            &json!({"phone": "+15550006001", "display_name": "Again"}),
            409,
        )
        .await;
    assert_eq!(same["code"], "conflict", "a phone is a member once");
    let second_ana = add_member(&app, &id, "+15550006002", "Ana R.").await;
    assert_eq!(
        second_ana["display_name"], "Ana R. 2",
        "display names stay unique"
    );
}

#[tokio::test]
async fn a_removed_member_leaves_the_conversation() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "415").await;
    let member = add_member(&app, &id, "+15550006011", "Ben").await;
    wait_until_synced(&app, &id, 2, Duration::from_secs(20)).await;
    let member_id = member["id"].as_str().expect("id");

    let removed = app
        .delete(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members/{member_id}"),
            200,
        )
        .await;
    assert_eq!(removed["status"], "removed");

    let members = wait_until_synced(&app, &id, 2, Duration::from_secs(20)).await;
    let ben = members
        .iter()
        .find(|m| m["id"] == member_id)
        .expect("still listed");
    assert!(ben["conversation_sid"].is_null());
    let shards = participants_by_shard(&app, &id).await;
    assert_eq!(
        shards[0].1,
        ["+15550006000"],
        "only the owner is left in Twilio"
    );
}

#[tokio::test]
async fn one_hundred_twenty_approvals_make_three_shards_of_at_most_50() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "212").await;
    let requests = file_join_requests(&app, &id, &number, &phones("+1555007", 120)).await;

    let approved = approve_all(&app, &id, &requests).await;

    let members = wait_until_synced(&app, &id, 121, Duration::from_secs(120)).await;
    assert_members_are_owner_and(&members, &approved);
    let shards = participants_by_shard(&app, &id).await;
    let sizes: Vec<usize> = shards
        .iter()
        .map(|(_, addresses)| addresses.len())
        .collect();
    println!(
        "120 approvals (121 members with the owner): shard sizes {sizes:?}, {} members done",
        members.len()
    );
    // Approvals that outrun the additions fill the Conversations opened for them side by side
    // (`jobs::outbox::placement`), so the sizes depend on timing ([50, 50, 21] when approvals
    // trickle in, [50, 36, 35] in a burst); what holds either way: the fewest Conversations that
    // take 121, none over 50.
    assert_eq!(sizes.len(), 121_usize.div_ceil(50), "{sizes:?}");
    assert!(sizes.iter().all(|size| *size <= 50), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 121, "{sizes:?}");
    assert_each_member_in_exactly_one_shard(&members, &shards);
}

/// At Twilio's pace (100 ms a call, 30 changes a second per Conversation), 150 approvals open the
/// Conversations they need together and spread over them, each Conversation's additions spaced so
/// that Twilio refuses next to none: a worker that sends them all to one Conversation at once is
/// refused (429) most of the time.
#[tokio::test]
async fn approvals_at_twilio_latency_spread_over_new_conversations_within_30_changes_a_second() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "718").await;
    let requests = file_join_requests(&app, &id, &number, &phones("+1555009", 150)).await;
    set_faults(&app, &json!({"latency_ms": 100})).await;
    app.rest_calls(true).await;

    let approved = approve_all(&app, &id, &requests).await;

    let members = wait_until_synced(&app, &id, 151, Duration::from_secs(120)).await;
    let calls = app.rest_calls(false).await;
    set_faults(&app, &json!({})).await;
    assert_members_are_owner_and(&members, &approved);
    let shards = participants_by_shard(&app, &id).await;
    assert_each_member_in_exactly_one_shard(&members, &shards);
    let mut sizes: Vec<usize> = shards.iter().map(|(_, phones)| phones.len()).collect();
    sizes.sort_unstable();
    let additions = calls["counts"]["POST /v1/Conversations/{sid}/Participants"]
        .as_u64()
        .unwrap_or(0);
    println!("150 approvals at 100 ms: shard sizes {sizes:?}, calls {calls}");
    assert_eq!(
        sizes.len(),
        4,
        "151 members need 4 Conversations: {sizes:?}"
    );
    assert_eq!(sizes.iter().sum::<usize>(), 151);
    assert!(sizes.iter().all(|size| *size <= 50), "{sizes:?}");
    // A refusal is retried, so each shows as one more call; scheduling jitter on a busy machine
    // may cost a few.
    assert!(
        (150..=157).contains(&additions),
        "{additions} participant creations for 150 members: {calls}"
    );
}

/// A captain approves a batch in one call: each request stands on its own, the ones that cannot
/// be approved are answered as their own approval would be, and everyone approved is placed.
#[tokio::test]
async fn a_batch_of_approvals_lets_in_each_pending_neighbor_and_reports_the_rest() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "917").await;
    let requests = file_join_requests(&app, &id, &number, &phones("+1555010", 4)).await;
    let url = format!("/api/v1/neighborhoods/{id}/join-requests/approve");
    app.post(
        &Who::Admin,
        &format!(
            "/api/v1/neighborhoods/{id}/join-requests/{}/deny",
            requests[3]
        ),
        &json!({}),
        200,
    )
    .await;
    let unknown = Uuid::new_v4().to_string();

    let asked = [
        &requests[0],
        &requests[1],
        &requests[2],
        &requests[3],
        &unknown,
    ];
    let out = app
        .post(&Who::Admin, &url, &json!({"request_ids": asked}), 202)
        .await;
    let approved: Vec<&str> = out["approved"]
        .as_array()
        .expect("approved")
        .iter()
        .map(|a| a["request_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        approved,
        [&requests[0], &requests[1], &requests[2]],
        "{out}"
    );
    assert!(
        out["approved"]
            .as_array()
            .expect("approved")
            .iter()
            .all(|a| a["newly"] == true)
    );
    let refused: Vec<(&str, &str)> = out["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .map(|r| {
            (
                r["request_id"].as_str().expect("id"),
                r["error"]["code"].as_str().expect("code"),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            (requests[3].as_str(), "conflict"),
            (unknown.as_str(), "not_found")
        ],
        "{out}"
    );
    let member_ids: Vec<String> = out["approved"]
        .as_array()
        .expect("approved")
        .iter()
        .map(|a| a["member_id"].as_str().expect("member").to_owned())
        .collect();
    let members = wait_until_synced(&app, &id, 4, Duration::from_secs(60)).await;
    assert_members_are_owner_and(&members, &member_ids);

    // Asked again: the same members, approved before.
    let again = app
        .post(
            &Who::Admin,
            &url,
            &json!({"request_ids": [&requests[0]]}),
            202,
        )
        .await;
    assert_eq!(again["approved"][0]["member_id"], member_ids[0].as_str());
    assert_eq!(again["approved"][0]["newly"], false);

    for (body, why) in [
        (json!({"request_ids": []}), "none"),
        (
            json!({"request_ids": [&requests[0], &requests[0]]}),
            "twice",
        ),
        (
            json!({"request_ids": (0..1001).map(|_| Uuid::new_v4()).collect::<Vec<_>>()}),
            "too many",
        ),
    ] {
        let error = app.post(&Who::Admin, &url, &body, 400).await;
        assert_eq!(error["code"], "validation_failed", "{why}: {error}");
        assert_eq!(
            error["details"][0]["field"], "request_ids",
            "{why}: {error}"
        );
    }
}

#[tokio::test]
async fn faults_at_twilio_during_200_approvals_neither_lose_nor_double_a_member() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "646").await;
    let requests = file_join_requests(&app, &id, &number, &phones("+1555008", 200)).await;
    set_faults(&app, &faults_30_percent()).await;

    let approved = approve_all(&app, &id, &requests).await;

    let members = wait_until_synced(&app, &id, 201, Duration::from_secs(150)).await;
    set_faults(&app, &json!({})).await;
    assert_members_are_owner_and(&members, &approved);
    let shards = participants_by_shard(&app, &id).await;
    println!(
        "200 approvals with 30 % faults: {} approved, {} members done (owner included), {} failed, \
         SMS participants per shard {:?}",
        approved.len(),
        members.iter().filter(|m| m["sync"] == "done").count(),
        members.iter().filter(|m| m["sync"] == "failed").count(),
        shards.iter().map(|s| s.1.len()).collect::<Vec<_>>()
    );
    assert_each_member_in_exactly_one_shard(&members, &shards);
}

#[tokio::test]
async fn an_app_killed_mid_way_leaves_an_outbox_the_next_instance_finishes() {
    let app = KillableApp::spawn().await;
    let (id, number) = neighborhood(&app, "917").await;
    let requests = file_join_requests(&app, &id, &number, &phones("+1555010", 200)).await;
    set_faults(&app, &faults_30_percent()).await;
    let approved = approve_all(&app, &id, &requests).await;
    // The first shard is full: kill while the worker creates the next one, if caught at it.
    wait_for_done(&app, &id, 50, Duration::from_secs(60)).await;
    let caught_creating = wait_for_shard_creation(&app, &id, 150, Duration::from_secs(90)).await;

    let prefix = app.kill();
    let (done_at_kill, lock_left) = after_the_kill(&prefix, &id).await;
    assert!(
        (50..201).contains(&done_at_kill),
        "killed mid-way, not with {done_at_kill} members done"
    );
    let restarted =
        spawn_sandbox_instance(&prefix, |settings| settings.outbox_reclaim_secs = 1).await;

    let members = wait_until_synced(&restarted, &id, 201, Duration::from_secs(150)).await;
    set_faults(&restarted, &json!({})).await;
    assert_members_are_owner_and(&members, &approved);
    let shards = participants_by_shard(&restarted, &id).await;
    println!(
        "200 approvals with 30 % faults, killed with {done_at_kill} of 201 members done (owner \
         included), {} creating a Conversation, {} its shard lock: after the restart {} approved, \
         {} members done, {} failed, SMS participants per shard {:?}",
        if caught_creating { "while" } else { "not" },
        if lock_left { "leaving" } else { "without" },
        approved.len(),
        members.iter().filter(|m| m["sync"] == "done").count(),
        members.iter().filter(|m| m["sync"] == "failed").count(),
        shards.iter().map(|s| s.1.len()).collect::<Vec<_>>()
    );
    assert_each_member_in_exactly_one_shard(&members, &shards);
}

#[tokio::test]
async fn two_instances_carry_out_each_effect_once() {
    let first = spawn_sandbox_app().await;
    let second = crate::helpers::spawn_second_sandbox_instance(&first).await;
    let (id, _) = neighborhood(&first, "718").await;
    for n in 1..60 {
        let app = if n % 2 == 0 { &first } else { &second };
        add_member(
            app,
            &id,
            &format!("+1555009{n:04}"),
            &format!("Neighbor {n}"),
        )
        .await;
    }

    let members = wait_until_synced(&first, &id, 60, Duration::from_secs(120)).await;

    let shards = participants_by_shard(&first, &id).await;
    assert_eq!(
        shards.iter().map(|s| s.1.len()).collect::<Vec<_>>(),
        [50, 10]
    );
    assert_each_member_in_exactly_one_shard(&members, &shards);
}

/// Twilio failing as it can: 10 % throttled, 10 % 500, 5 % timeouts, and 10 % of calls carried out
/// whose answer is lost (half 500, half a timeout); answers 50 ms late.
fn faults_with_lost_answers() -> Value {
    json!({
        "latency_ms": 50,
        "rate_429": 0.1,
        "rate_500": 0.1,
        "rate_timeout": 0.05,
        "rate_applied_500": 0.05,
        "rate_applied_timeout": 0.05,
        "timeout_ms": 100,
    })
}

/// How many texts starting with `prefix` each simulated phone received, by phone.
async fn texts_received(app: &TestApp, prefix: &str) -> HashMap<String, usize> {
    let state = app.get(&Who::Admin, "/sandbox/api/state", 200).await;
    state["phones"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let count = entry["inbox"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|item| item["body"].as_str().is_some_and(|b| b.starts_with(prefix)))
                .count();
            (
                entry["phone"].as_str().unwrap_or_default().to_owned(),
                count,
            )
        })
        .collect()
}

/// Waits until at least `count` members are done, reading Redis directly: listing them through
/// the API would take long enough to overshoot.
async fn wait_for_done_in_redis(app: &TestApp, id: &str, count: usize, within: Duration) {
    let store =
        Store::connect(&redis_endpoint(), &app.keys_prefix, Duration::from_secs(5)).expect("store");
    let id = Uuid::parse_str(id).expect("id");
    poll_until(within, &format!("{count} members to be done"), || async {
        let members = store.members(id).await.expect("members");
        (members.iter().filter(|m| m.sync == SyncState::Done).count() >= count).then_some(())
    })
    .await
}

/// Places counted in the neighborhood's Conversations (placed or reserved), by Conversation.
async fn places_counted(app: &TestApp, id: &str) -> HashMap<String, u32> {
    app.state
        .store
        .shard_counts(Uuid::parse_str(id).expect("id"))
        .await
        .expect("shard counts")
}

/// The service dies (as kill -9 would) in the middle of a 300-member batch approval while Twilio
/// throttles, fails, times out and loses the answers of calls it carried out; a new process on
/// the same Redis and emulator state takes over. 301 members (the owner and 300) at 50 SMS
/// participants a Conversation need ceil(301 / 50) = 7 Conversations (a relay posts into a
/// Conversation as an author, not as a participant, so it takes no place), and the places
/// counted equal the members placed: none leaked by the additions in flight when it died. Each
/// phone gets its welcome once: a text whose answer was lost is looked up at Twilio before it
/// is sent again.
#[tokio::test]
async fn a_service_killed_during_a_batch_approval_with_lost_answers_places_and_welcomes_each_member_once()
 {
    // 300 join replies and 300 welcomes: past the default daily cap of 1:1 texts.
    let uncapped = |settings: &mut neighborhood_text::config::Settings| {
        settings.daily_texts_per_neighborhood = 10_000
    };
    let app = KillableApp::spawn_with(uncapped).await;
    let (id, number) = neighborhood(&app, "305").await;
    let phones = phones("+1555011", 300);
    let requests = file_join_requests(&app, &id, &number, &phones).await;
    app.wait_for_outbox_drained(&id, Duration::from_secs(30))
        .await;
    app.rest_calls(true).await;
    set_faults(&app, &faults_with_lost_answers()).await;

    let batch = format!("/api/v1/neighborhoods/{id}/join-requests/approve");
    let batch_body = json!({"request_ids": requests});
    // The batch is approved while the outbox works on the first approvals; the service dies
    // past the first Conversation, with the others filling side by side (most additions hold a
    // place they have not taken yet) and the batch perhaps not all approved.
    let first_batch = tokio::spawn(app.http.post(app.url(&batch)).json(&batch_body).send());
    wait_for_done_in_redis(&app, &id, 100, Duration::from_secs(60)).await;

    let prefix = app.kill();
    let first_answer = first_batch.await.expect("the request task");
    let (done_at_kill, _) = after_the_kill(&prefix, &id).await;
    let restarted = spawn_sandbox_instance(&prefix, |settings| {
        settings.outbox_reclaim_secs = 1;
        uncapped(settings);
    })
    .await;
    // The captain sends the batch again when its answer did not come (or to be sure).
    let approved = restarted.post(&Who::Admin, &batch, &batch_body, 202).await;
    let approved: Vec<String> = approved["approved"]
        .as_array()
        .expect("approved")
        .iter()
        .map(|a| a["member_id"].as_str().expect("member").to_owned())
        .collect();
    assert_eq!(approved.len(), 300, "every request approved");
    let members = wait_until_synced(&restarted, &id, 301, Duration::from_secs(90)).await;
    restarted
        .wait_for_outbox_drained(&id, Duration::from_secs(60))
        .await;
    set_faults(&restarted, &json!({})).await;

    let calls = restarted.rest_calls(false).await;
    let shards = participants_by_shard(&restarted, &id).await;
    let sizes: Vec<usize> = shards.iter().map(|(_, s)| s.len()).collect();
    let counted = places_counted(&restarted, &id).await;
    let counted_total: u32 = counted.values().sum();
    let reserved = restarted
        .state
        .store
        .shard_reservations(Uuid::parse_str(&id).expect("id"))
        .await
        .expect("reservations");
    let welcomes = texts_received(&restarted, "Welcome to Outbox Street!").await;
    let per_phone: Vec<usize> = phones
        .iter()
        .map(|phone| welcomes.get(phone).copied().unwrap_or(0))
        .collect();
    let received = per_phone.iter().filter(|n| **n > 0).count();
    let lost = per_phone.iter().filter(|n| **n == 0).count();
    let doubled = per_phone.iter().filter(|n| **n > 1).count();
    let extra: usize = per_phone.iter().map(|n| n.saturating_sub(1)).sum();
    let count = |operation: &str| calls["counts"][operation].as_u64().unwrap_or(0);
    let batch_answer = match &first_answer {
        Ok(response) => response.status().to_string(),
        Err(_) => "lost".to_owned(),
    };
    println!(
        "killed with {done_at_kill} of 301 members done (the batch's answer: {batch_answer}); after the restart: {} Conversations of \
         {sizes:?} SMS participants, {counted_total} places counted for {} members placed; \
         welcomes: 300 to send, {} send calls, {} lookups, {received} phones received, {lost} \
         lost, {doubled} doubled ({extra} extra texts)",
        shards.len(),
        sizes.iter().sum::<usize>(),
        count("POST /2010-04-01/Accounts/{sid}/Messages.json"),
        count("GET /2010-04-01/Accounts/{sid}/Messages.json"),
    );
    assert_members_are_owner_and(&members, &approved);
    assert_each_member_in_exactly_one_shard(&members, &shards);
    assert_eq!(shards.len(), 301_usize.div_ceil(50), "{sizes:?}");
    assert_eq!(
        counted_total, 301,
        "places counted {counted:?}: none leaked, none lost"
    );
    assert!(
        reserved.is_empty(),
        "places reserved and never settled: {reserved:?}"
    );
    for (sid, addresses) in &shards {
        assert_eq!(
            counted.get(sid).copied().unwrap_or(0) as usize,
            addresses.len(),
            "the places counted in {sid} are its participants"
        );
    }
    assert_eq!(
        (received, lost, doubled),
        (300, 0, 0),
        "every phone welcomed exactly once"
    );
}

/// The Conversation an addition is given may be opened while the addition waits for room, after
/// it read the neighborhood. Twilio answering that the participant is already there (its earlier
/// answer lost) must find it there at once: judged against the Conversations the addition read
/// first, it looked bound in a stranger's Conversation, its place was given back while it held
/// it, and the Conversation could be filled past 50 and counted over.
#[tokio::test]
async fn an_addition_already_in_a_conversation_opened_while_it_waited_is_found_there_at_once() {
    let app = spawn_sandbox_app().await;
    let (id, number) = neighborhood(&app, "646").await;
    let neighborhood_id = Uuid::parse_str(&id).expect("id");
    wait_until_synced(&app, &id, 1, Duration::from_secs(20)).await;
    let first = participants_by_shard(&app, &id).await[0].0.clone();
    // The first Conversation is counted full, and the next one exists already with the new
    // member's pair in it: an earlier addition whose answer was lost.
    app.state
        .store
        .set_shard_count(neighborhood_id, &first, 50)
        .await
        .expect("count");
    let (status, next) = json_of(
        app.emulator_post(
            "/conversations/v1/Conversations",
            &[
                ("UniqueName", &shard_unique_name(neighborhood_id, 1)),
                ("MessagingServiceSid", SANDBOX_SERVICE_SID),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{next}");
    let next = next["sid"].as_str().expect("sid").to_owned();
    add_participant_at_twilio(&app, &next, "+15550120100", &number).await;
    app.rest_calls(true).await;

    add_member(&app, &id, "+15550120100", "Dee").await;

    let members = wait_until_synced(&app, &id, 2, Duration::from_secs(20)).await;
    let dee = members
        .iter()
        .find(|m| m["phone"] == "+15550120100")
        .expect("Dee");
    assert_eq!(dee["conversation_sid"], next.as_str(), "{dee}");
    let calls = app.rest_calls(false).await;
    assert_eq!(
        calls["counts"]["GET /v1/ParticipantConversations"], 1,
        "found in the next Conversation at the first answer, without a retry: {calls}"
    );
    let counted = places_counted(&app, &id).await;
    assert_eq!(counted.get(&next).copied(), Some(1), "{counted:?}");
    assert_eq!(counted.get(&first).copied(), Some(50), "{counted:?}");
}

/// Adds an SMS participant at the emulated Twilio directly.
async fn add_participant_at_twilio(app: &TestApp, conversation: &str, phone: &str, proxy: &str) {
    let (status, body) = json_of(
        app.emulator_post(
            &format!("/conversations/v1/Conversations/{conversation}/Participants"),
            &[
                ("MessagingBinding.Address", phone),
                ("MessagingBinding.ProxyAddress", proxy),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// A requeue repeated after a lost answer (the cluster client resends a command whose answer
/// timed out) leaves two stream entries of one effect: the second is dropped once the first is
/// carried out, so the text goes out once.
#[tokio::test]
async fn a_second_stream_entry_of_an_effect_already_carried_out_is_not_done_again() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(&json!({"name": "Once Street", "area_code": "415", "owner_phone": "+15550071000", "owner_name": "Olive"}))
        .await;
    let id = Uuid::parse_str(created["id"].as_str().expect("id")).expect("uuid");
    app.wait_for_outbox_drained(&id.to_string(), Duration::from_secs(30))
        .await;
    let phone = "+15550071001";
    let effect = json!({"kind": "send_sms", "to": phone, "body": "Only once, please"}).to_string();
    let key = Keys::new(app.keys_prefix.clone()).outbox(id);
    let mut redis = crate::helpers::test_redis().await;
    for _ in 0..2 {
        let _: String = redis::cmd("XADD")
            .arg(&key)
            .arg("*")
            .arg("effect")
            .arg(&effect)
            .arg("attempts")
            .arg(0)
            .arg("effect_id")
            .arg("requeued-effect-1")
            .query_async(&mut redis)
            .await
            .expect("XADD");
    }
    app.state
        .store
        .mark_outbox_active(id)
        .await
        .expect("marked active");
    app.wait_for_outbox_drained(&id.to_string(), Duration::from_secs(30))
        .await;
    let received: Vec<String> = app
        .inbox(phone)
        .await
        .into_iter()
        .map(|(_, body, _)| body)
        .filter(|body| body == "Only once, please")
        .collect();
    assert_eq!(received.len(), 1, "{received:?}");
}

/// Effects carried out before they were remembered per second (a sorted set of whole ids) are
/// still not done again, and an effect is told apart from one whose record ends like its own.
#[tokio::test]
async fn an_effect_remembered_as_done_in_the_form_before_or_by_a_lookalike_is_judged_right() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(&json!({"name": "Before Street", "area_code": "415", "owner_phone": "+15550072000", "owner_name": "Olive"}))
        .await;
    let id = Uuid::parse_str(created["id"].as_str().expect("id")).expect("uuid");
    app.wait_for_outbox_drained(&id.to_string(), Duration::from_secs(30))
        .await;
    let keys = Keys::new(app.keys_prefix.clone());
    let mut redis = crate::helpers::test_redis().await;
    let _: () = redis::cmd("ZADD")
        .arg(keys.effects_done_old_form(id))
        .arg(1_733_456_789_012u64)
        .arg("1733456789012-0")
        .query_async(&mut redis)
        .await
        .expect("ZADD");
    // Carried out: `12-3`, so `2-3` ends like it and must not count as done.
    let _: () = redis::cmd("APPEND")
        .arg(keys.effects_done(id, 1_733_456_789))
        .arg("12-3,")
        .query_async(&mut redis)
        .await
        .expect("APPEND");
    let (done_before, lookalike) = ("+15550072001", "+15550072002");
    for (phone, effect_id) in [
        (done_before, "1733456789012-0"),
        (lookalike, "1733456789002-3"),
    ] {
        let effect = json!({"kind": "send_sms", "to": phone, "body": "Judged right"}).to_string();
        let _: String = redis::cmd("XADD")
            .arg(keys.outbox(id))
            .arg("*")
            .arg("effect")
            .arg(&effect)
            .arg("attempts")
            .arg(0)
            .arg("effect_id")
            .arg(effect_id)
            .query_async(&mut redis)
            .await
            .expect("XADD");
    }
    app.state
        .store
        .mark_outbox_active(id)
        .await
        .expect("marked active");
    app.wait_for_outbox_drained(&id.to_string(), Duration::from_secs(30))
        .await;
    let texted = |phone: &'static str| {
        let app = &app;
        async move {
            app.inbox(phone)
                .await
                .into_iter()
                .filter(|(_, body, _)| body == "Judged right")
                .count()
        }
    };
    assert_eq!(texted(done_before).await, 0, "done before: dropped");
    assert_eq!(texted(lookalike).await, 1, "never done: carried out");
}

/// A lock taken by a try whose answer was lost, then taken again with the same token (the cluster
/// client resends a command whose answer timed out), is its taker's: not held by no one until
/// it expires. Another token still finds it taken, and the period's reconciliation claim still
/// counts this instance's own earlier claim.
#[tokio::test]
async fn a_lock_taken_again_with_its_own_token_is_still_its_takers() {
    let store = Store::connect(
        &redis_endpoint(),
        &crate::helpers::unique_prefix(),
        Duration::from_secs(5),
    )
    .expect("store");
    let id = Uuid::now_v7();
    let ttl = Duration::from_secs(30);
    let take = |token: &'static str| {
        let store = store.clone();
        async move {
            store
                .lock_shard_creation(id, token, ttl)
                .await
                .expect("a lock try")
        }
    };
    assert!(take("first").await);
    assert!(take("first").await, "the same token again");
    assert!(!take("second").await, "another token");
    store
        .unlock_shard_creation(id, "first")
        .await
        .expect("unlocked");
    assert!(take("second").await);

    let claim = || store.claim_reconcile_period("instance-a", ttl);
    assert!(claim().await.expect("a claim"));
    assert!(
        !claim().await.expect("a claim"),
        "claimed this period already"
    );
}
