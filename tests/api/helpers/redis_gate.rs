//! A TCP proxy in front of the test Redis, to make Redis disappear and come back for one app.
//! When the tests' Redis is a cluster, which a proxy cannot stand in front of (its nodes name
//! each other), the gate stands in front of a single Redis of its own.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::{OwnRedis, on_test_cluster, redis_url};

/// A TCP proxy in front of the test Redis that can refuse connections and cut open ones, so a
/// test can make Redis disappear and come back without touching the shared server.
pub struct RedisGate {
    pub url: String,
    open: watch::Sender<bool>,
    cut: watch::Sender<u64>,
    stalled: watch::Sender<bool>,
    /// The local addresses of the gate's open connections to Redis: how Redis's `CLIENT LIST`
    /// names the app's connections.
    upstream: Arc<Mutex<HashSet<SocketAddr>>>,
    /// The Redis behind the gate.
    upstream_url: String,
    /// The gate's own Redis, when the tests' Redis is a cluster.
    _own_redis: Option<OwnRedis>,
}

impl RedisGate {
    pub async fn start(open: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gate");
        let port = listener.local_addr().expect("gate address").port();
        let own_redis = if on_test_cluster() {
            Some(OwnRedis::start().await)
        } else {
            None
        };
        let upstream_url = own_redis
            .as_ref()
            .map_or_else(redis_url, |redis| redis.url.clone());
        let upstream = url::Url::parse(&upstream_url).expect("redis url");
        let upstream = format!(
            "{}:{}",
            upstream.host_str().unwrap_or("127.0.0.1"),
            upstream.port().unwrap_or(6379)
        );
        let (open_tx, open_rx) = watch::channel(open);
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let (stalled_tx, stalled_rx) = watch::channel(false);
        let upstream_addresses = Arc::new(Mutex::new(HashSet::new()));
        let addresses = upstream_addresses.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*open_rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = cut_rx.clone();
                cut.mark_unchanged();
                let mut stalled = stalled_rx.clone();
                let addresses = addresses.clone();
                tokio::spawn(async move {
                    // A stalled gate holds new connections open without an answer, like a
                    // Redis that has stopped responding.
                    if *stalled.borrow_and_update() {
                        let _ = stalled.wait_for(|stalled| !stalled).await;
                    }
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let local = outbound.local_addr().ok();
                    addresses.lock().expect("addresses").extend(local);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                    if let Some(local) = local {
                        addresses.lock().expect("addresses").remove(&local);
                    }
                });
            }
        });
        Self {
            url: format!("redis://127.0.0.1:{port}"),
            open: open_tx,
            cut: cut_tx,
            stalled: stalled_tx,
            upstream: upstream_addresses,
            upstream_url,
            _own_redis: own_redis,
        }
    }

    /// Redis stops answering: open connections are dropped and new ones hang.
    pub fn stall(&self) {
        self.stalled.send_replace(true);
        self.cut_connections();
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Refuses new connections and drops the open ones.
    pub fn close(&self) {
        self.open.send_replace(false);
        self.cut_connections();
    }

    /// Drops the open connections but keeps accepting new ones.
    pub fn cut_connections(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }

    /// Redis's view (`CLIENT LIST`) of the connections through this gate that are subscribed to
    /// something: for each, its `sub` (channels) and `psub` (patterns) counts.
    pub async fn subscribed_connections(&self) -> Vec<(u64, u64)> {
        let mut redis = redis::Client::open(self.upstream_url.as_str())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(&mut redis)
            .await
            .expect("CLIENT LIST");
        let ours = self.upstream.lock().expect("addresses").clone();
        list.lines()
            .filter_map(|line| {
                let field = |name: &str| {
                    line.split(' ')
                        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                };
                let addr: SocketAddr = field("addr")?.parse().ok()?;
                let count = |name| field(name).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
                let counts = (count("sub"), count("psub"));
                (ours.contains(&addr) && counts != (0, 0)).then_some(counts)
            })
            .collect()
    }
}
