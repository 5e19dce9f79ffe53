//! Where Redis is and how to reach it: one node or a Redis Cluster, in the clear or over TLS. The
//! rest of the store issues commands through [`RedisConnection`] and does not know which.
//!
//! - One node: a multiplexed `ConnectionManager` that reconnects by itself.
//! - A cluster (`NT_REDIS_CLUSTER=on`, `NT_REDIS_URL` naming any node or the provider's
//!   configuration endpoint): the redis crate's async cluster client, which learns the slot map
//!   from that node, re-learns it on `MOVED` and after a failover (a primary dead, its replica
//!   promoted), and never sends a command twice. Every command and script of the store touches
//!   the keys of one hash slot (`{nb:<id>}` or `{global}`).
//! - TLS (`rediss://`): the system's roots by default, or the CA in `NT_REDIS_CA_FILE` (a
//!   provider's own CA, or a test's).

use std::path::Path;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, TlsCertificates, Value};

use crate::secret::RedisUrl;

/// One `host:port` of `NT_REDIS_CLUSTER_NODES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    pub host: String,
    pub port: u16,
}

impl NodeAddress {
    pub fn parse(value: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "{value:?} is not host:port (NT_REDIS_CLUSTER_NODES, e.g. 10.0.0.2:6379,10.0.0.3:6379)."
            )
        };
        let (host, port) = value.trim().rsplit_once(':').ok_or_else(invalid)?;
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            return Err(invalid());
        }
        let port = port
            .parse()
            .ok()
            .filter(|port| *port > 0)
            .ok_or_else(invalid)?;
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

/// What the service is told about Redis.
#[derive(Debug, Clone)]
pub struct RedisEndpoint {
    pub url: RedisUrl,
    /// The URL is one node of a Redis Cluster (or its configuration endpoint).
    pub cluster: bool,
    /// More nodes of the cluster to learn it from, as URLs like the first.
    pub more_nodes: Vec<RedisUrl>,
    /// A CA certificate (PEM) to trust instead of the system's roots, for `rediss://`.
    pub ca_pem: Option<Vec<u8>>,
    /// Replicas that must hold a change before it is acknowledged (0: none).
    pub wait_replicas: u32,
}

impl RedisEndpoint {
    /// One node, trusted the usual way.
    pub fn single(url: RedisUrl) -> Self {
        Self {
            url,
            cluster: false,
            more_nodes: Vec::new(),
            ca_pem: None,
            wait_replicas: 0,
        }
    }

    /// The endpoint the settings describe (`NT_REDIS_URL`, `NT_REDIS_CLUSTER`,
    /// `NT_REDIS_CLUSTER_NODES`, `NT_REDIS_CA_FILE`, `NT_REDIS_WAIT_REPLICAS`); reads the CA
    /// file, if one is named.
    pub fn configured(
        url: &RedisUrl,
        cluster: bool,
        more_nodes: &[NodeAddress],
        ca_file: Option<&Path>,
        wait_replicas: u32,
    ) -> Result<Self, String> {
        let ca_pem = ca_file.map(Self::read_ca_file).transpose()?;
        Ok(Self {
            url: url.clone(),
            cluster,
            more_nodes: more_nodes
                .iter()
                .map(|node| url.at(&node.host, node.port))
                .collect::<Result<_, _>>()?,
            ca_pem,
            wait_replicas,
        })
    }

    /// Reads the CA file named by `NT_REDIS_CA_FILE`, refusing anything that holds no PEM
    /// certificate, so a wrong path fails the boot with one sentence rather than every request.
    pub fn read_ca_file(path: &Path) -> Result<Vec<u8>, String> {
        let pem = std::fs::read(path).map_err(|error| {
            format!(
                "NT_REDIS_CA_FILE {} could not be read: {error}.",
                path.display()
            )
        })?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!(
                "NT_REDIS_CA_FILE {} holds no PEM certificate (-----BEGIN CERTIFICATE-----).",
                path.display()
            ));
        }
        Ok(pem)
    }

    fn certificates(&self) -> Option<TlsCertificates> {
        self.ca_pem.as_ref().map(|pem| TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.clone()),
        })
    }

    /// A client for the URL's node: the store's connection to one node, and its pub/sub one.
    pub fn node_client(&self) -> redis::RedisResult<redis::Client> {
        match self.certificates() {
            Some(certificates) => redis::Client::build_with_tls(self.url.expose(), certificates),
            None => redis::Client::open(self.url.expose()),
        }
    }
}

impl RedisEndpoint {
    /// A cluster client that learns the cluster from the URL's node, trusting the configured CA.
    pub(super) fn cluster_client_builder(&self) -> ClusterClientBuilder {
        let nodes = std::iter::once(&self.url).chain(&self.more_nodes);
        let builder = ClusterClientBuilder::new(nodes.map(RedisUrl::expose));
        match self.certificates() {
            Some(certificates) => builder.certs(certificates),
            None => builder,
        }
    }

    pub(super) fn cluster_config(&self, timeout: Duration) -> ClusterConfig {
        ClusterConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout)
    }
}

/// The store's connection: to one node, or to a cluster. Cheap to clone; clones share it.
#[derive(Clone)]
pub enum RedisConnection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Prepares the connection without touching the network: the service starts (and answers
    /// `/health`) while Redis is still unreachable.
    pub fn open(endpoint: &RedisEndpoint, timeout: Duration) -> redis::RedisResult<Self> {
        if endpoint.cluster {
            let client = endpoint
                .cluster_client_builder()
                // No command is sent twice by the client. Its retries resend a command whose
                // answer was lost (a timeout, a dropped connection), which the store must not do
                // for a write that is not safe to repeat (a history entry and its relays would
                // be queued twice); the store retries what is safe itself, as on one node. A
                // `MOVED` or `ASK` then fails its command as "unavailable" (503) while the client
                // learns the new slot map, and the next command goes to the right node.
                .retries(0)
                .build()?;
            return Ok(Self::Cluster(
                client.get_pending_async_connection_with_config(endpoint.cluster_config(timeout)),
            ));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // Few, quick reconnect attempts: callers get a clear "unavailable" instead of a hang,
            // and the next command starts a fresh attempt anyway.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        Ok(Self::Single(ConnectionManager::new_lazy_with_config(
            endpoint.node_client()?,
            config,
        )?))
    }
}

impl RedisConnection {
    /// Every key matching `pattern` (SCAN, `count` at a time): on a cluster, on every primary,
    /// since a SCAN sent through the cluster client would read one node only.
    pub async fn scan_matching(
        &self,
        pattern: &str,
        count: usize,
    ) -> redis::RedisResult<Vec<String>> {
        match self {
            Self::Single(conn) => {
                scan_node(pattern, count, |command| {
                    let mut conn = conn.clone();
                    async move { command.query_async::<Value>(&mut conn).await }
                })
                .await
            }
            Self::Cluster(conn) => {
                let mut keys = Vec::new();
                for (host, port) in primaries(conn).await? {
                    let node = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                        host: host.clone(),
                        port,
                    });
                    keys.extend(
                        scan_node(pattern, count, |command| {
                            let (mut conn, node) = (conn.clone(), node.clone());
                            async move { conn.route_command(command, node).await }
                        })
                        .await?,
                    );
                }
                Ok(keys)
            }
        }
    }
}

impl RedisConnection {
    /// Publishes a live update on `channel`: on a cluster with sharded pub/sub (`SPUBLISH`, to
    /// the one node holding the channel's slot; see `pubsub::feed`).
    pub async fn publish(&self, channel: &str, payload: &str) -> redis::RedisResult<()> {
        let command = match self {
            Self::Single(_) => "PUBLISH",
            Self::Cluster(_) => "SPUBLISH",
        };
        redis::cmd(command)
            .arg(channel)
            .arg(payload)
            .query_async::<()>(&mut self.clone())
            .await
    }

    /// Waits until `replicas` replicas hold every write sent so far over this connection (on a
    /// cluster, over each primary's: the client sends `WAIT` to every primary and keeps the
    /// fewest), for at most `timeout`; returns how many do.
    pub async fn wait_for_replicas(
        &self,
        replicas: u32,
        timeout: Duration,
    ) -> redis::RedisResult<u64> {
        let mut conn = self.clone();
        redis::cmd("WAIT")
            .arg(replicas)
            .arg(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
            .query_async(&mut conn)
            .await
    }
}

/// One node's keys matching `pattern`, SCAN after SCAN until its cursor comes back to 0.
async fn scan_node<F, Fut>(pattern: &str, count: usize, send: F) -> redis::RedisResult<Vec<String>>
where
    F: Fn(Cmd) -> Fut,
    Fut: std::future::Future<Output = redis::RedisResult<Value>>,
{
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let mut command = redis::cmd("SCAN");
        command
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(count);
        let (next, found): (u64, Vec<String>) =
            FromRedisValue::from_redis_value(send(command).await?)?;
        keys.extend(found);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

/// The primaries of the cluster, as `CLUSTER NODES` lists them (`host:port@bus ... master`).
async fn primaries(conn: &ClusterConnection) -> redis::RedisResult<Vec<(String, u16)>> {
    let mut conn = conn.clone();
    let listing: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut conn)
        .await?;
    Ok(listed_nodes(&listing)
        .into_iter()
        .filter(|node| node.primary && !node.failing)
        .map(|node| (node.host, node.port))
        .collect())
}

/// One node as `CLUSTER NODES` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedNode {
    pub host: String,
    pub port: u16,
    pub primary: bool,
    /// Flagged `fail` or `fail?` (suspected).
    pub failing: bool,
}

/// The nodes in a `CLUSTER NODES` answer (`<id> host:port@bus flags ...`, a line each).
pub fn listed_nodes(listing: &str) -> Vec<ListedNode> {
    listing
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (address, flags) = (fields.get(1)?, fields.get(2)?);
            let (host, port) = address.split('@').next()?.rsplit_once(':')?;
            Some(ListedNode {
                host: host.to_owned(),
                port: port.parse().ok()?,
                primary: flags.split(',').any(|flag| flag == "master"),
                failing: flags.contains("fail"),
            })
        })
        .collect()
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

/// What an operator can change when Redis cannot be reached for a reason of configuration: a
/// certificate not trusted, or credentials refused. `None` for the rest (Redis down, a network
/// problem).
pub fn hint(error: &impl std::fmt::Display) -> Option<&'static str> {
    let text = error.to_string().to_lowercase();
    if text.contains("certificate") || text.contains("unknownissuer") {
        Some(
            "the server's TLS certificate is not trusted: set NT_REDIS_CA_FILE to the CA that \
             signed it (without it the system's roots are used)",
        )
    } else if text.contains("wrongpass") || text.contains("noauth") || text.contains("noperm") {
        Some("Redis refused the credentials: check the user and password in NT_REDIS_URL")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(value: &str) -> RedisUrl {
        RedisUrl::new(url::Url::parse(value).expect("a URL"))
    }

    #[test]
    fn listed_nodes_are_reached_like_the_first_one() {
        let nodes = ["10.0.0.3:7001", "redis-b.internal:6380", "[::1]:7002"]
            .map(|node| NodeAddress::parse(node).expect("host:port"));
        let endpoint = RedisEndpoint::configured(
            &url("rediss://app:s3cret@10.0.0.2:7000/0"),
            true,
            &nodes,
            None,
            0,
        )
        .expect("an endpoint");
        let seeds: Vec<&str> = endpoint.more_nodes.iter().map(RedisUrl::expose).collect();
        assert_eq!(
            seeds,
            [
                "rediss://app:s3cret@10.0.0.3:7001/0",
                "rediss://app:s3cret@redis-b.internal:6380/0",
                "rediss://app:s3cret@[::1]:7002/0",
            ]
        );
    }

    #[test]
    fn a_node_must_be_a_host_and_a_port() {
        for wrong in [
            "10.0.0.3",
            ":6379",
            "host:0",
            "host:port",
            "redis://host:6379",
            "a b:1",
        ] {
            assert!(NodeAddress::parse(wrong).is_err(), "{wrong} accepted");
        }
    }
}
