//! A `redis-server` of the test's own, on a free port, that the test can kill (SIGKILL), start
//! again with its data (append-only file, fsync on every write) and fill (`maxmemory`).

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
}

impl OwnRedis {
    /// Starts a `redis-server` (it must be on the PATH) on a free port, with an empty data
    /// directory of its own.
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("nt-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a data directory");
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let mut redis = Self {
                url: format!("redis://127.0.0.1:{port}"),
                port,
                dir: dir.clone(),
                process: None,
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

    /// A connection to the server, for the test's own commands.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .expect("redis url")
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
        let process = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
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
        let url = self.url.clone();
        let answered = poll_until(START_WAIT, "the test's redis-server to answer", || {
            let url = url.clone();
            let exited = self
                .process
                .as_mut()
                .is_none_or(|process| matches!(process.try_wait(), Ok(Some(_))));
            async move {
                if exited {
                    return Some(false);
                }
                let client = redis::Client::open(url.as_str()).ok()?;
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
