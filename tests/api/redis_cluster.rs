//! The service on a Redis Cluster of the test's own (`NT_REDIS_CLUSTER=on`, `NT_REDIS_URL`
//! naming one node): every command and script touches one hash slot, so joining, approving,
//! members, announcements and the outbox work as on one node.

use neighborhood_text::store::connection::{NodeAddress, RedisConnection, RedisEndpoint};
use serde_json::json;

use crate::events::{add_member, hear, open_stream};
use crate::helpers::{
    OwnCluster, TestApp, Who, parse_redis_url, sandbox_settings, spawn_sandbox_app_with,
    spawn_sandbox_instance,
};

const OWNER: &str = "+15550033000";
const NEIGHBOR: &str = "+15550033001";
const STRANGER: &str = "+15550033002";

async fn app_on(cluster: &OwnCluster) -> TestApp {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.redis_url = parse_redis_url(&cluster.url);
    settings.redis_reach.redis_cluster = true;
    spawn_sandbox_app_with(receiver, settings).await
}

#[tokio::test]
async fn a_neighborhood_runs_end_to_end_on_a_redis_cluster() {
    let cluster = OwnCluster::start(3, 0).await;
    let app = app_on(&cluster).await;
    assert_eq!(app.get_raw("/ready").await.status().as_u16(), 200);

    let created = app
        .create_neighborhood(&json!({"name": "Cluster Court", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id");
    let number = created["phone_number"].as_str().expect("number");
    app.add_member_by_api(id, NEIGHBOR, "Nia").await;
    app.wait_for_text(NEIGHBOR, "Cluster Court").await;

    // A stranger asks by text; the owner approves; they are welcomed.
    app.text(STRANGER, number, "JOIN Sam Stone").await;
    let requests = crate::helpers::poll_until(
        std::time::Duration::from_secs(20),
        "the join request",
        || async {
            let listed = app
                .get(
                    &Who::Admin,
                    &format!("/api/v1/neighborhoods/{id}/join-requests"),
                    200,
                )
                .await;
            listed["items"]
                .as_array()
                .filter(|items| !items.is_empty())
                .cloned()
        },
    )
    .await;
    let request_id = requests[0]["id"].as_str().expect("request id");
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/join-requests/{request_id}/approve"),
        &json!({}),
        202,
    )
    .await;
    app.wait_for_text(STRANGER, "Cluster Court").await;

    // An announcement reaches the members through the group Conversation.
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/messages"),
        &json!({"body": "Street sweeping Tuesday"}),
        202,
    )
    .await;
    app.wait_for_text(NEIGHBOR, "Street sweeping Tuesday").await;
    app.wait_for_text(STRANGER, "Street sweeping Tuesday").await;
    let members = app
        .get(
            &Who::Admin,
            &format!("/api/v1/neighborhoods/{id}/members"),
            200,
        )
        .await;
    assert_eq!(members["total"], 3);

    // Archived and deleted, it leaves no key on any node: the erase scans every primary.
    let pattern = format!("{}:{{nb:{}}}:*", app.keys_prefix, id.replace('-', ""));
    assert!(!cluster.keys(&pattern).await.is_empty());
    app.post(
        &Who::Admin,
        &format!("/api/v1/neighborhoods/{id}/archive"),
        &json!({"release_number": false}),
        200,
    )
    .await;
    app.send(
        &Who::Admin,
        reqwest::Method::DELETE,
        &format!("/api/v1/neighborhoods/{id}"),
        Some(&json!({"confirm_name": "Cluster Court"})),
        200,
    )
    .await;
    assert_eq!(cluster.keys(&pattern).await, Vec::<String>::new());
}

/// Live updates use sharded pub/sub: a browser's stream is subscribed on the one node that holds
/// its neighborhood's slot (a classic subscription would hear every `PUBLISH` of the cluster),
/// and hears a change another instance made.
#[tokio::test]
async fn live_updates_are_sharded_onto_the_node_of_their_neighborhood() {
    let cluster = OwnCluster::start(3, 0).await;
    let app = app_on(&cluster).await;
    let other = spawn_sandbox_instance(&app.prefix, |settings| {
        settings.redis_url = parse_redis_url(&cluster.url);
        settings.redis_reach.redis_cluster = true;
    })
    .await;
    let created = app
        .create_neighborhood(
            &json!({"name": "Shard Street", "area_code": "415", "owner_phone": OWNER}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let channel = format!("{}:{{nb:{}}}:events", app.keys_prefix, id.replace('-', ""));

    let mut stream = open_stream(&app, id).await;
    let home = cluster.primary_of(&channel).await;
    assert_eq!(cluster.subscribers(&channel).await, vec![(home, 1, 0)]);

    let added = add_member(&other, id, NEIGHBOR).await;
    hear(&mut stream, &added).await;
}

/// `NT_REDIS_WAIT_REPLICAS=1`: a change is acknowledged once a replica holds it. With every
/// replica stalled, the change is made but answered 503 `store_not_replicated`, which says so;
/// with the replicas back, the same kind of change is acknowledged as usual. Reads never wait.
#[tokio::test]
async fn a_change_no_replica_took_in_time_is_answered_503_and_says_so() {
    let cluster = OwnCluster::start(3, 1).await;
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.redis_url = parse_redis_url(&cluster.url);
    settings.redis_reach.redis_cluster = true;
    settings.redis_reach.redis_wait_replicas = 1;
    let app = spawn_sandbox_app_with(receiver, settings).await;
    let created = app
        .create_neighborhood(&json!({"name": "Replica Row", "area_code": "415", "owner_phone": OWNER, "owner_name": "Olive"}))
        .await;
    let id = created["id"].as_str().expect("id");
    let path = format!("/api/v1/neighborhoods/{id}/messages");

    let replicas = cluster.replica_ports().await;
    assert_eq!(replicas.len(), 3);
    for port in &replicas {
        cluster.signal(*port, "STOP");
    }
    let refused = app
        .post_raw(&path, &json!({"body": "Sent while no replica listens"}))
        .await;
    let retry_after = refused.headers().get("retry-after").cloned();
    let (status, body) = crate::helpers::json_of(refused).await;
    for port in &replicas {
        cluster.signal(*port, "CONT");
    }
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "store_not_replicated");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|message| message.contains("may be lost")),
        "{body}"
    );
    assert!(retry_after.is_some());
    // Reads do not wait on replicas.
    app.get(&Who::Admin, &path, 200).await;
    // The change was made, and said so: it is there.
    let listed = app.get(&Who::Admin, &path, 200).await;
    assert!(listed.to_string().contains("Sent while no replica listens"));

    // Replicas back: acknowledged as usual.
    app.post(
        &Who::Admin,
        &path,
        &json!({"body": "Sent with the replicas back"}),
        202,
    )
    .await;
}

/// `NT_REDIS_CLUSTER_NODES`: with the node NT_REDIS_URL names down, a service that lists another
/// node starts from it and works; one that knows only the dead node cannot reach Redis.
#[tokio::test]
async fn the_service_learns_the_cluster_from_any_listed_node_while_the_first_is_down() {
    let mut cluster = OwnCluster::start(3, 1).await;
    // A replica: the cluster stays whole without it.
    let dead = cluster.replica_ports().await[0];
    cluster.kill(dead);
    let alive = cluster.other_than(dead);

    let service = |listed: Vec<u16>| {
        let url = format!("redis://127.0.0.1:{dead}");
        async move {
            let receiver = wiremock::MockServer::start().await;
            let mut settings = sandbox_settings(&receiver);
            settings.redis_url = parse_redis_url(&url);
            settings.redis_reach.redis_cluster = true;
            settings.redis_reach.redis_cluster_nodes = listed
                .into_iter()
                .map(|port| NodeAddress {
                    host: "127.0.0.1".into(),
                    port,
                })
                .collect();
            spawn_sandbox_app_with(receiver, settings).await
        }
    };
    // Knowing only the dead node, a client cannot learn the cluster.
    let alone = RedisConnection::open(
        &RedisEndpoint {
            cluster: true,
            ..RedisEndpoint::single(parse_redis_url(&format!("redis://127.0.0.1:{dead}")))
        },
        std::time::Duration::from_secs(2),
    )
    .expect("a connection prepared");
    let answered: redis::RedisResult<String> =
        redis::cmd("PING").query_async(&mut alone.clone()).await;
    assert!(answered.is_err(), "{answered:?}");

    let listed = service(vec![alive]).await;
    assert_eq!(listed.get_raw("/ready").await.status().as_u16(), 200);
    let created = listed
        .create_neighborhood(
            &json!({"name": "Seed Street", "area_code": "415", "owner_phone": OWNER}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    listed.add_member_by_api(id, NEIGHBOR, "Nia").await;
    listed.wait_for_text(NEIGHBOR, "Seed Street").await;
}

/// Listed nodes that cannot be used stop the boot with one sentence: one that is not
/// `host:port`, or a list without `NT_REDIS_CLUSTER=on`.
#[test]
fn cluster_nodes_that_cannot_be_used_stop_the_boot_with_one_sentence() {
    use clap::Parser;
    let parse = |args: &[&str]| {
        neighborhood_text::config::Cli::try_parse_from(
            ["neighborhood-text", "--redis-url", "redis://10.0.0.2:7000"]
                .iter()
                .chain(args),
        )
    };
    let malformed = parse(&[
        "--redis-cluster",
        "on",
        "--redis-cluster-nodes",
        "10.0.0.3:7001,10.0.0.4",
    ])
    .expect_err("a node without a port");
    assert!(
        malformed
            .to_string()
            .contains("\"10.0.0.4\" is not host:port"),
        "{malformed}"
    );
    let settings = parse(&["--redis-cluster-nodes", "10.0.0.3:7001"])
        .expect("parsed")
        .settings;
    let refused = settings
        .redis_reach
        .endpoint(&settings.redis_url)
        .expect_err("nodes without a cluster");
    assert!(refused.contains("set NT_REDIS_CLUSTER=on"), "{refused}");
}
