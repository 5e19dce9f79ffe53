//! A `redis-server` of the test's own, on a free port, that the test can kill (SIGKILL), start
//! again with its data (append-only file, fsync on every write) and fill (`maxmemory`); or one
//! that speaks only TLS, with a certificate from a CA the test made with `openssl`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::poll_until;

/// How long a fresh `redis-server` may take to answer PING.
const START_WAIT: Duration = Duration::from_secs(10);
/// Ports picked and found taken before giving up.
const PORT_ATTEMPTS: usize = 5;

pub struct OwnRedis {
    pub url: String,
    port: u16,
    dir: PathBuf,
    process: Option<Child>,
    /// TLS only: the CA (PEM) that signed the server's certificate.
    tls_ca: Option<Vec<u8>>,
}

impl OwnRedis {
    /// Starts a `redis-server` (it must be on the PATH) on a free port, with an empty data
    /// directory of its own.
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// Starts a `redis-server` that accepts TLS only (`rediss://`), its certificate for
    /// 127.0.0.1 signed by a CA made for this server; [`Self::ca_file`] is that CA, and
    /// [`Self::other_ca_file`] one that signed nothing here.
    pub async fn start_tls() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Self {
        let dir = std::env::temp_dir().join(format!("nt-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a data directory");
        let tls_ca = tls.then(|| make_certificates(&dir));
        let scheme = if tls { "rediss" } else { "redis" };
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut redis = Self {
                url: format!("{scheme}://127.0.0.1:{port}"),
                port,
                dir: dir.clone(),
                process: None,
                tls_ca: tls_ca.clone(),
            };
            if redis.launch().await {
                return redis;
            }
        }
        panic!("no redis-server started after {PORT_ATTEMPTS} ports");
    }

    /// Kills the server at once (SIGKILL): connections drop, nothing more is answered.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on its port, with what its append-only file kept.
    pub async fn restart(&mut self) {
        self.kill();
        assert!(
            self.launch().await,
            "redis-server did not start again on port {}",
            self.port
        );
    }

    /// The CA that signed a TLS server's certificate (PEM file).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A CA that signed nothing this server shows.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.join("other-ca.pem")
    }

    fn client(&self) -> redis::Client {
        client_for(&self.url, self.tls_ca.as_deref())
    }

    /// A connection to the server, for the test's own commands.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        self.client()
            .get_multiplexed_async_connection()
            .await
            .expect("a connection to the test's redis-server")
    }

    /// `CONFIG SET name value`.
    pub async fn config_set(&self, name: &str, value: &str) {
        let mut conn = self.connection().await;
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .query_async(&mut conn)
            .await
            .expect("CONFIG SET");
    }

    /// `used_memory` from `INFO memory`, in bytes.
    pub async fn used_memory(&self) -> u64 {
        let mut conn = self.connection().await;
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut conn)
            .await
            .expect("INFO memory");
        info.lines()
            .find_map(|line| line.strip_prefix("used_memory:"))
            .and_then(|bytes| bytes.trim().parse().ok())
            .expect("used_memory in INFO")
    }

    /// Spawns the server and waits for its PING; false when it exited (its port was taken).
    async fn launch(&mut self) -> bool {
        let mut command = Command::new("redis-server");
        if self.tls_ca.is_some() {
            let file = |name: &str| self.dir.join(name).display().to_string();
            command
                .args(["--port", "0", "--tls-port", &self.port.to_string()])
                .args(["--tls-cert-file", &file("server.pem")])
                .args(["--tls-key-file", &file("server.key")])
                .args(["--tls-ca-cert-file", &file("ca.pem")])
                .args(["--tls-auth-clients", "no"]);
        } else {
            command.args(["--port", &self.port.to_string()]);
        }
        let process = command
            .args(["--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(["--maxmemory-policy", "noeviction"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        self.process = Some(process);
        let (url, ca) = (self.url.clone(), self.tls_ca.clone());
        let answered = poll_until(START_WAIT, "the test's redis-server to answer", || {
            let client = client_for(&url, ca.as_deref());
            let exited = self
                .process
                .as_mut()
                .is_none_or(|process| matches!(process.try_wait(), Ok(Some(_))));
            async move {
                if exited {
                    return Some(false);
                }
                let mut conn = client.get_multiplexed_async_connection().await.ok()?;
                let pong: String = redis::cmd("PING").query_async(&mut conn).await.ok()?;
                (pong == "PONG").then_some(true)
            }
        })
        .await;
        if !answered {
            self.process = None;
        }
        answered
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn client_for(url: &str, ca: Option<&[u8]>) -> redis::Client {
    match ca {
        Some(ca) => redis::Client::build_with_tls(
            url,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.to_vec()),
            },
        ),
        None => redis::Client::open(url),
    }
    .expect("redis url")
}

/// A CA, a server certificate for 127.0.0.1 it signed, and a second CA, in `dir`; returns the
/// first CA (PEM).
fn make_certificates(dir: &std::path::Path) -> Vec<u8> {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl on the PATH");
        assert!(status.success(), "openssl {args:?}");
    };
    for ca in ["ca", "other-ca"] {
        let (key, pem) = (format!("{ca}.key"), format!("{ca}.pem"));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=neighborhood-text test {ca}"),
            "-keyout",
            &key,
            "-out",
            &pem,
        ]);
    }
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(dir.join("san.cnf"), "subjectAltName=IP:127.0.0.1\n").expect("san.cnf");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
        "-out",
        "server.pem",
    ]);
    std::fs::read(dir.join("ca.pem")).expect("ca.pem")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A Redis Cluster of the test's own: `masters` primaries, each with `replicas_each` replicas,
/// on free ports, data in a temporary directory, every node stopped (SIGKILL) when dropped.
pub struct OwnCluster {
    /// A node to start from, as `NT_REDIS_URL` names it.
    pub url: String,
    ports: Vec<u16>,
    dir: PathBuf,
    processes: Vec<Option<Child>>,
}

impl OwnCluster {
    pub async fn start(masters: usize, replicas_each: usize) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nt-cluster-{}", uuid::Uuid::new_v4().simple()));
        let count = masters * (1 + replicas_each);
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
        let processes = ports
            .iter()
            .map(|port| Some(launch_node(*port, &dir)))
            .collect();
        let cluster = Self {
            url: format!("redis://127.0.0.1:{}", ports[0]),
            ports: ports.clone(),
            dir,
            processes,
        };
        for port in &ports {
            let url = format!("redis://127.0.0.1:{port}");
            poll_until(START_WAIT, "a cluster node to answer", || {
                let url = url.clone();
                async move {
                    let mut conn = redis::Client::open(url.as_str())
                        .ok()?
                        .get_multiplexed_async_connection()
                        .await
                        .ok()?;
                    redis::cmd("PING")
                        .query_async::<String>(&mut conn)
                        .await
                        .ok()
                }
            })
            .await;
        }
        let nodes: Vec<String> = ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args([
                "--cluster-replicas",
                &replicas_each.to_string(),
                "--cluster-yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli on the PATH");
        assert!(created.success(), "redis-cli --cluster create");
        for port in &ports {
            cluster.wait_until_ok(*port).await;
        }
        // Replicas take a moment to copy their primary; until then `WAIT` counts none. A full
        // sync forks and waits out Redis's diskless-sync delay, which on a busy 2-CPU machine
        // running the rest of the suite has taken over 30 s.
        poll_until(
            Duration::from_secs(90),
            "every replica to be in sync with its primary",
            || async {
                let replicas = cluster.replica_ports().await;
                if replicas.len() != masters * replicas_each {
                    return None;
                }
                for port in replicas {
                    let info: String = redis::cmd("INFO")
                        .arg("replication")
                        .query_async(&mut node_connection(port).await)
                        .await
                        .ok()?;
                    if !info.contains("master_link_status:up") {
                        return None;
                    }
                }
                Some(())
            },
        )
        .await;
        cluster
    }

    /// Every key matching `pattern`, on every node (the test's own `KEYS`, never the service's).
    pub async fn keys(&self, pattern: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for port in self.live_ports() {
            let mut conn = node_connection(port).await;
            let found: Vec<String> = redis::cmd("KEYS")
                .arg(pattern)
                .query_async(&mut conn)
                .await
                .expect("KEYS");
            keys.extend(found);
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The port of the primary that serves `key`'s hash slot, as the cluster sees it now.
    pub async fn primary_of(&self, key: &str) -> u16 {
        let live = self.live_ports();
        let mut conn = node_connection(live[0]).await;
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("CLUSTER KEYSLOT");
        let ranges: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut conn)
            .await
            .expect("CLUSTER SLOTS");
        ranges
            .iter()
            .find_map(|range| {
                let redis::Value::Array(fields) = range else {
                    return None;
                };
                let bound = |at: usize| match fields.get(at) {
                    Some(redis::Value::Int(n)) => Some(*n),
                    _ => None,
                };
                let (first, last) = (bound(0)?, bound(1)?);
                if !(first..=last).contains(&i64::from(slot)) {
                    return None;
                }
                let redis::Value::Array(primary) = fields.get(2)? else {
                    return None;
                };
                match primary.get(1) {
                    Some(redis::Value::Int(port)) => u16::try_from(*port).ok(),
                    _ => None,
                }
            })
            .expect("a primary for the slot")
    }

    /// Kills the node at `port` at once (SIGKILL), as a crashed machine would go.
    pub fn kill(&mut self, port: u16) {
        let at = self
            .ports
            .iter()
            .position(|candidate| *candidate == port)
            .expect("a node of this cluster");
        if let Some(mut process) = self.processes[at].take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Waits until the surviving nodes have promoted a replica in place of the primary that was
    /// at `port` (for `key`'s slot) and serve every slot again; returns the new primary's port.
    pub async fn wait_for_failover(&self, key: &str, port: u16, within: Duration) -> u16 {
        poll_until(
            within,
            "a replica to take over the dead primary's slots",
            || async {
                let promoted = self.primary_of(key).await;
                if promoted == port {
                    return None;
                }
                let mut conn = node_connection(promoted).await;
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut conn)
                    .await
                    .ok()?;
                info.contains("cluster_state:ok").then_some(promoted)
            },
        )
        .await
    }

    /// Starts again the node killed at `port`, as a supervisor would: it rejoins the cluster
    /// (as a replica, if its slots were taken over meanwhile).
    pub fn restart(&mut self, port: u16) {
        let at = self
            .ports
            .iter()
            .position(|candidate| *candidate == port)
            .expect("a node of this cluster");
        assert!(self.processes[at].is_none(), "the node is running");
        self.processes[at] = Some(launch_node(port, &self.dir));
    }

    /// The ports of the nodes that are replicas now.
    pub async fn replica_ports(&self) -> Vec<u16> {
        let mut conn = node_connection(self.live_ports()[0]).await;
        let nodes: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query_async(&mut conn)
            .await
            .expect("CLUSTER NODES");
        nodes
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (address, flags) = (fields.get(1)?, fields.get(2)?);
                if !flags.split(',').any(|flag| flag == "slave") {
                    return None;
                }
                address.split('@').next()?.rsplit_once(':')?.1.parse().ok()
            })
            .collect()
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the node at `port`: a stopped node keeps its
    /// connections but answers nothing, as a stalled machine would.
    pub fn signal(&self, port: u16, signal: &str) {
        let at = self
            .ports
            .iter()
            .position(|candidate| *candidate == port)
            .expect("a node of this cluster");
        let pid = self.processes[at].as_ref().expect("a live node").id();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// The nodes with a subscriber on `channel`: (port, sharded subscribers, classic ones).
    pub async fn subscribers(&self, channel: &str) -> Vec<(u16, i64, i64)> {
        let mut found = Vec::new();
        for port in self.live_ports() {
            let conn = node_connection(port).await;
            let count = |kind: &'static str| {
                let mut conn = conn.clone();
                async move {
                    let (_, count): (String, i64) = redis::cmd("PUBSUB")
                        .arg(kind)
                        .arg(channel)
                        .query_async(&mut conn)
                        .await
                        .expect("PUBSUB");
                    count
                }
            };
            let (sharded, classic) = (count("SHARDNUMSUB").await, count("NUMSUB").await);
            if sharded + classic > 0 {
                found.push((port, sharded, classic));
            }
        }
        found
    }

    /// A live node other than the one at `port`.
    pub fn other_than(&self, port: u16) -> u16 {
        self.live_ports()
            .into_iter()
            .find(|candidate| *candidate != port)
            .expect("another live node")
    }

    fn live_ports(&self) -> Vec<u16> {
        self.ports
            .iter()
            .zip(&self.processes)
            .filter(|(_, process)| process.is_some())
            .map(|(port, _)| *port)
            .collect()
    }

    /// Waits until the node at `port` sees the whole cluster as ok (every slot served).
    async fn wait_until_ok(&self, port: u16) {
        let url = format!("redis://127.0.0.1:{port}");
        poll_until(Duration::from_secs(30), "the cluster to be ok", || {
            let url = url.clone();
            async move {
                let mut conn = redis::Client::open(url.as_str())
                    .ok()?
                    .get_multiplexed_async_connection()
                    .await
                    .ok()?;
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut conn)
                    .await
                    .ok()?;
                info.contains("cluster_state:ok").then_some(())
            }
        })
        .await;
    }
}

/// Starts the cluster node at `port`, its data (and `nodes.conf`, the cluster's view) in a
/// directory of its own under `dir`, kept across restarts.
fn launch_node(port: u16, dir: &std::path::Path) -> Child {
    let node_dir = dir.join(port.to_string());
    std::fs::create_dir_all(&node_dir).expect("a node directory");
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ])
        .args(["--cluster-node-timeout", "2000"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(&node_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server on the PATH")
}

async fn node_connection(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("a connection to a cluster node")
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        for process in self.processes.iter_mut().filter_map(Option::take) {
            let mut process = process;
            let _ = process.kill();
            let _ = process.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
