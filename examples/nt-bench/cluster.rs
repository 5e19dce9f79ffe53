//! The same service on a Redis Cluster (`--redis-cluster-url`): a second service process, with
//! `NT_REDIS_CLUSTER=on`, measured on the scenarios that show what the cluster client costs: the
//! pre-event webhook (one slot's keys, the hot path), `/health` beside it, and the approvals
//! (scripts, streams and the outbox's locks, `{global}` included).

use std::sync::Arc;

use anyhow::Context;
use neighborhood_text::store::connection::{ListedNode, listed_nodes};
use redis::aio::MultiplexedConnection;

use crate::approvals::{self, Approvals};
use crate::load::{self, Cpu, Scenario, Target};
use crate::service::{Service, ServiceEnv};
use crate::{HEALTH_NAME, PRE_NAME, Plan, machine, setup};

pub struct OnCluster {
    /// What the cluster is: its primaries and replicas, as `CLUSTER NODES` lists them.
    pub nodes: String,
    pub members: usize,
    pub shards: usize,
    pub pre_max: Scenario,
    pub health: Scenario,
    pub approvals: Approvals,
}

/// Starts the service on the cluster at `url`, measures it, stops it and deletes its keys.
pub async fn measure(
    plan: &Plan,
    bin: &std::path::Path,
    url: &str,
    run_id: &str,
) -> anyhow::Result<OnCluster> {
    let mut env = ServiceEnv::new(bin, url, &format!("{run_id}c"))?;
    env.cluster = true;
    let nodes = describe(url).await?;
    println!("nt-bench: the service again, on a Redis Cluster ({nodes})");
    if !plan.sandbox {
        env.start_emulator().await?;
    }
    let service = Service::start(&env).await?;
    let outcome = scenarios(plan, &env, &service, nodes).await;
    let log_path = service.log_path.clone();
    if let Err(error) = service.stop().await {
        eprintln!("nt-bench: stopping the service on the cluster: {error:#}");
    }
    env.stop_emulator().await;
    match delete_prefix(url, &env.prefix).await {
        Ok(deleted) => println!("nt-bench: deleted {deleted} keys of the run from the cluster"),
        Err(error) => eprintln!("nt-bench: cleaning up the cluster: {error:#}"),
    }
    outcome.with_context(|| {
        format!(
            "the cluster run failed; the service's log is {}",
            log_path.display()
        )
    })
}

async fn scenarios(
    plan: &Plan,
    env: &ServiceEnv,
    service: &Service,
    nodes: String,
) -> anyhow::Result<OnCluster> {
    let client = load::client()?;
    let fixture = setup::prepare(plan, env, service).await?;
    service.wait_until_idle().await;
    let cpu = Cpu::service_only(service, env);
    let pre = Arc::new(Target::pre(service, env, &fixture));
    let pre_max = crate::wrk::closed_loop(&client, &pre, plan, &cpu, PRE_NAME).await?;
    println!("  pre-event: {}", pre_max.measured.one_line());
    let health = Arc::new(Target::health(service));
    let health = crate::wrk::closed_loop(&client, &health, plan, &cpu, HEALTH_NAME).await?;
    println!("  /health: {}", health.measured.one_line());
    service.wait_until_idle().await;
    let api = setup::Api::new(service, &fixture.token)?;
    let approvals = approvals::measure(&api, plan.approvals).await?;
    println!(
        "  {} approvals placed in {:.2} s",
        approvals.approvals,
        approvals.wall.as_secs_f64()
    );
    Ok(OnCluster {
        nodes,
        members: fixture.members,
        shards: fixture.shards,
        pre_max,
        health,
        approvals,
    })
}

/// "3 primaries, 3 replicas".
async fn describe(url: &str) -> anyhow::Result<String> {
    let nodes = cluster_nodes(url).await?;
    let primaries = nodes.iter().filter(|node| node.primary).count();
    let replicas = nodes.len() - primaries;
    Ok(format!("{primaries} primaries, {replicas} replicas"))
}

/// Every key of the run, on every primary (a SCAN through one node would see its slots only).
async fn delete_prefix(url: &str, prefix: &str) -> anyhow::Result<u64> {
    let mut deleted = 0;
    for node in cluster_nodes(url).await?.iter().filter(|node| node.primary) {
        let node_url = format!("redis://{}:{}", node.host, node.port);
        deleted += machine::delete_prefix(connect(&node_url).await?, prefix).await?;
    }
    Ok(deleted)
}

async fn cluster_nodes(url: &str) -> anyhow::Result<Vec<ListedNode>> {
    let listing: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut connect(url).await?)
        .await?;
    Ok(listed_nodes(&listing))
}

async fn connect(url: &str) -> anyhow::Result<MultiplexedConnection> {
    redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("Redis at {url} is unreachable"))
}
