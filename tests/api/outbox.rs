//! The outbox against the emulator: members join the group text exactly once, in shards of at
//! most 50, despite faults and with several instances working.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    TestApp, json_of, participants_by_shard, spawn_sandbox_app, wait_until_synced,
};

async fn neighborhood(app: &TestApp, area_code: &str) -> (String, String) {
    let created = app.create_neighborhood(&json!({"name": "Outbox Street", "area_code": area_code, "owner_phone": "+15550006000"})).await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["phone_number"].as_str().expect("number").to_owned(),
    )
}

async fn add_member(app: &TestApp, id: &str, phone: &str, name: &str) -> Value {
    let (status, member) = json_of(
        app.post_json(
            &format!("/api/v1/neighborhoods/{id}/members"),
            &json!({"phone": phone, "display_name": name}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 202, "{member}");
    member
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

    let (status, same) = json_of(
        app.post_json(
            &format!("/api/v1/neighborhoods/{id}/members"),
            &json!({"phone": "+15550006001", "display_name": "Again"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, same["code"].as_str()),
        (409, Some("conflict")),
        "a phone is a member once"
    );
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

    let (status, removed) = json_of(
        app.http
            .delete(app.url(&format!("/api/v1/neighborhoods/{id}/members/{member_id}")))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!((status, removed["status"].as_str()), (200, Some("removed")));

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
async fn past_50_members_the_neighborhood_grows_shards_of_at_most_50() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "212").await;
    for n in 1..120 {
        add_member(
            &app,
            &id,
            &format!("+1555007{n:04}"),
            &format!("Neighbor {n}"),
        )
        .await;
    }

    let members = wait_until_synced(&app, &id, 120, Duration::from_secs(120)).await;

    let shards = participants_by_shard(&app, &id).await;
    let sizes: Vec<usize> = shards
        .iter()
        .map(|(_, addresses)| addresses.len())
        .collect();
    println!("120 members: shard sizes {sizes:?}");
    assert_eq!(sizes, [50, 50, 20]);
    assert_each_member_in_exactly_one_shard(&members, &shards);
}

#[tokio::test]
async fn faults_at_twilio_neither_lose_nor_double_a_member() {
    let app = spawn_sandbox_app().await;
    let (id, _) = neighborhood(&app, "646").await;
    wait_until_synced(&app, &id, 1, Duration::from_secs(20)).await;
    let faults = json!({"rate_429": 0.1, "rate_500": 0.1, "rate_timeout": 0.1, "timeout_ms": 50});
    assert_eq!(
        app.http
            .put(app.url("/sandbox/api/faults"))
            .json(&faults)
            .send()
            .await
            .expect("sent")
            .status(),
        200
    );
    for n in 1..100 {
        add_member(
            &app,
            &id,
            &format!("+1555008{n:04}"),
            &format!("Neighbor {n}"),
        )
        .await;
    }

    let members = wait_until_synced(&app, &id, 100, Duration::from_secs(180)).await;

    assert_eq!(
        app.http
            .put(app.url("/sandbox/api/faults"))
            .json(&json!({}))
            .send()
            .await
            .expect("sent")
            .status(),
        200
    );
    let shards = participants_by_shard(&app, &id).await;
    println!(
        "100 members with 30 % faults: shard sizes {:?}",
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
