//! The service under test: the release binary as a child process on a free loopback port, with
//! a Redis key prefix and an emulated Twilio account of its own: the emulator as a process of its
//! own (the default), or inside the service (sandbox mode, `--sandbox`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::emulator::EmulatorProcess;
use crate::machine;

/// How the service and its `admin create` subcommand are started.
pub struct ServiceEnv {
    pub bin: PathBuf,
    pub redis_url: String,
    /// `redis_url` names a node of a Redis Cluster (`NT_REDIS_CLUSTER=on`).
    pub cluster: bool,
    pub prefix: String,
    /// The emulated Twilio account: its SID goes into webhook parameters, its token signs them.
    pub account_sid: String,
    pub auth_token: String,
    session_secret: String,
    pub log_dir: PathBuf,
    /// Twilio's stand-in as its own process; `None`: inside the service (sandbox mode).
    pub emulator: Option<EmulatorProcess>,
}

impl ServiceEnv {
    pub fn new(bin: &Path, redis_url: &str, run_id: &str) -> anyhow::Result<Self> {
        if !bin.is_file() {
            bail!(
                "{} does not exist: build it first (`cargo build --release --bin neighborhood-text`), or use ./scripts/bench",
                bin.display()
            );
        }
        // Logs go next to the build: target/release/neighborhood-text -> target/nt-bench/.
        let log_dir = bin
            .parent()
            .and_then(Path::parent)
            .map_or_else(std::env::temp_dir, |target| target.join("nt-bench"));
        std::fs::create_dir_all(&log_dir)
            .with_context(|| format!("creating {}", log_dir.display()))?;
        // Each run's log is tens of megabytes: keep only the latest run's.
        for entry in std::fs::read_dir(&log_dir)?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("service-ntbench-") && name.ends_with(".log") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            bin: bin.to_owned(),
            redis_url: redis_url.to_owned(),
            cluster: false,
            prefix: format!("ntbench-{run_id}"),
            account_sid: format!("AC{}", uuid::Uuid::new_v4().simple()),
            auth_token: uuid::Uuid::new_v4().simple().to_string(),
            session_secret: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            log_dir,
            emulator: None,
        })
    }

    /// Starts Twilio's stand-in as a process of its own, for the service to call as Twilio.
    pub async fn start_emulator(&mut self) -> anyhow::Result<()> {
        let emulator = EmulatorProcess::start(
            &self.bin,
            &self.log_dir,
            &self.prefix,
            &self.account_sid,
            &self.auth_token,
        )
        .await?;
        self.emulator = Some(emulator);
        Ok(())
    }

    /// Stops the emulator process, if there is one.
    pub async fn stop_emulator(&mut self) {
        if let Some(emulator) = self.emulator.take() {
            emulator.stop().await;
        }
    }

    /// The prefix of the service's keys: in sandbox mode not `NT_REDIS_PREFIX` itself but its
    /// sandbox keyspace beneath it.
    pub fn key_prefix(&self) -> String {
        match self.emulator {
            Some(_) => self.prefix.clone(),
            None => neighborhood_text::store::keys::Keys::sandbox_prefix(&self.prefix),
        }
    }

    /// A command of the service binary with only our settings (its Redis, its Twilio): any
    /// `NT_*` of the caller's environment (a real Twilio account, say) is dropped.
    fn command(&self) -> Command {
        let mut command = service_binary(&self.bin);
        if self.cluster {
            command.env("NT_REDIS_CLUSTER", "on");
        }
        match &self.emulator {
            Some(emulator) => command
                .env("NT_SANDBOX", "off")
                .env("NT_TWILIO_ACCOUNT_SID", &self.account_sid)
                .env("NT_TWILIO_AUTH_TOKEN", &self.auth_token)
                .env(
                    "NT_TWILIO_MESSAGING_SERVICE_SID",
                    neighborhood_text::sandbox::DEFAULT_MESSAGING_SERVICE_SID,
                )
                .env("NT_TWILIO_API_BASE", format!("{}/", emulator.base)),
            None => command
                .env("NT_SANDBOX", "on")
                .env("NT_SANDBOX_ACCOUNT_SID", &self.account_sid)
                .env("NT_SANDBOX_AUTH_TOKEN", &self.auth_token),
        };
        command
            .env("NT_REDIS_URL", &self.redis_url)
            .env("NT_REDIS_PREFIX", &self.prefix)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// `neighborhood-text admin create`: a platform admin, and its API token.
    pub async fn create_admin(&self, phone: &str, name: &str) -> anyhow::Result<String> {
        let output = self
            .command()
            .args(["admin", "create", "--phone", phone, "--name", name])
            .output()
            .await
            .context("running `admin create`")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "`admin create` failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        stdout
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with("ntk_"))
            .map(str::to_owned)
            .with_context(|| format!("`admin create` printed no token: {stdout}"))
    }
}

/// A command of the service binary without any `NT_*` setting of the caller's environment (a
/// real Twilio account, say): the caller sets the run's own.
pub fn service_binary(bin: &Path) -> Command {
    let mut command = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("NT_") {
            command.env_remove(name);
        }
    }
    command
}

pub struct Service {
    child: Child,
    pub pid: u32,
    /// Where this generator reaches the service.
    pub base: String,
    /// `NT_PUBLIC_URL`: what webhook signatures are computed over.
    pub public_url: String,
    pub log_path: PathBuf,
    /// From the spawn until `/ready` first answered 200.
    pub ready_after: Duration,
    /// Where the emulator's control API is (`{this}/api/...`) and its REST API.
    pub emulator_control: String,
    pub emulator_rest: String,
    /// The emulator's process, when it runs apart from the service.
    pub emulator_pid: Option<u32>,
}

enum StartFailure {
    /// Someone took the port between our probe and the service's bind.
    PortTaken,
    Other(anyhow::Error),
}

impl Service {
    pub async fn start(env: &ServiceEnv) -> anyhow::Result<Self> {
        for _ in 0..3 {
            match Self::try_start(env).await {
                Ok(service) => return Ok(service),
                Err(StartFailure::PortTaken) => continue,
                Err(StartFailure::Other(error)) => return Err(error),
            }
        }
        bail!("the service could not bind a free port three times in a row")
    }

    async fn try_start(env: &ServiceEnv) -> Result<Self, StartFailure> {
        let other = StartFailure::Other;
        // The public URL has to name the port, and is read at start: so pick a free port here
        // (bind port 0, note it, let it go), then confirm it in the service's `listening` line.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .map_err(|error| other(error.into()))?;
        let base = format!("http://127.0.0.1:{port}");
        let log_path = env.log_dir.join(format!("service-{}.log", env.prefix));
        let log = std::fs::File::create(&log_path).map_err(|error| other(error.into()))?;
        let log_copy = log.try_clone().map_err(|error| other(error.into()))?;
        let mut command = env.command();
        let (emulator_control, emulator_rest) = match &env.emulator {
            Some(emulator) => {
                emulator
                    .route_webhooks_to(&base, &env.account_sid, &env.auth_token)
                    .await
                    .map_err(other)?;
                (
                    format!("{}/sandbox", emulator.base),
                    format!("{}/", emulator.base),
                )
            }
            None => (format!("{base}/sandbox"), format!("{base}/sandbox/twilio/")),
        };
        let mut child = command
            .env("NT_BIND", format!("127.0.0.1:{port}"))
            .env("NT_PUBLIC_URL", &base)
            .env("NT_LOG_FORMAT", "json")
            .env("NT_LOG", "info")
            .env("NT_SESSION_SECRET", &env.session_secret)
            // As behind Fly.io's proxy: the join scenario's neighbors each come from an address.
            .env("NT_CLIENT_IP_HEADER", crate::load::CLIENT_IP_HEADER)
            // The daily caps on 1:1 texts (toll-fraud guard) would stop the join scenario, which
            // measures throughput: lifted to their maxima for the run.
            .env("NT_DAILY_TEXTS_PER_NEIGHBORHOOD", "1000000")
            .env("NT_DAILY_TEXTS_PER_DEPLOYMENT", "10000000")
            // Past the budgets of requests in flight the service sheds load with 503s; the open
            // loop measures how latency grows under overload instead, so they are lifted too.
            .env("NT_MAX_PUBLIC_REQUESTS", "100000")
            .env("NT_MAX_WEBHOOK_REQUESTS", "100000")
            .stdout(Stdio::from(log_copy))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|error| {
                other(anyhow::Error::new(error).context(format!("starting {}", env.bin.display())))
            })?;
        let spawned = Instant::now();
        let pid = child
            .id()
            .ok_or_else(|| other(anyhow::anyhow!("the service exited at once")))?;

        // Asked every 2 ms from the moment of the spawn, so the time to ready is measured to
        // within a few milliseconds.
        let probe = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()
            .map_err(|error| other(error.into()))?;
        let ready_url = format!("{base}/ready");
        let deadline = spawned + Duration::from_secs(30);
        let ready_after = loop {
            let ready = probe
                .get(&ready_url)
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if ready {
                break spawned.elapsed();
            }
            if let Ok(Some(status)) = child.try_wait() {
                let text = std::fs::read_to_string(&log_path).unwrap_or_default();
                if text.contains("could not listen") {
                    return Err(StartFailure::PortTaken);
                }
                return Err(other(anyhow::anyhow!(
                    "the service exited ({status}) before it was ready; its log:\n{}",
                    tail(&text, 20)
                )));
            }
            if Instant::now() > deadline {
                let text = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(other(anyhow::anyhow!(
                    "/ready did not answer 200 within 30 s; its log:\n{}",
                    tail(&text, 20)
                )));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        // Someone else could have been listening on the port we picked: make sure it is ours.
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        match listening_port(&text) {
            Some(logged) if logged == port => {}
            logged => {
                return Err(other(anyhow::anyhow!(
                    "asked the service for port {port}, its log says {logged:?}"
                )));
            }
        }
        Ok(Self {
            child,
            pid,
            public_url: base.clone(),
            base,
            log_path,
            ready_after,
            emulator_control,
            emulator_rest,
            emulator_pid: env.emulator.as_ref().map(|emulator| emulator.pid),
        })
    }

    /// Resident memory now and at its highest so far (`VmRSS`, `VmHWM`), in bytes.
    pub fn memory(&self) -> Option<(u64, u64)> {
        machine::resident_memory(self.pid)
    }

    /// Waits (at most a minute) until the service's own background work, and the emulator's
    /// deliveries, have settled (the outbox still texting welcomes, say), so that it does not
    /// run during a measurement: two seconds in a row under 3 % of a CPU.
    pub async fn wait_until_idle(&self) {
        let started = Instant::now();
        let mut quiet = 0;
        let cpu = || {
            let service = machine::process_cpu_seconds(Some(self.pid))?;
            let emulator = match self.emulator_pid {
                Some(pid) => machine::process_cpu_seconds(Some(pid))?,
                None => 0.0,
            };
            Some(service + emulator)
        };
        while started.elapsed() < Duration::from_secs(60) {
            let before = cpu();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let after = cpu();
            let busy = match (before, after) {
                (Some(before), Some(after)) => after - before,
                _ => 0.0,
            };
            quiet = if busy < 0.03 { quiet + 1 } else { 0 };
            if quiet >= 2 {
                println!(
                    "nt-bench: the service is idle (waited {:.1} s)",
                    started.elapsed().as_secs_f64()
                );
                return;
            }
        }
        println!("nt-bench: warning: the service was still busy after a minute; measuring anyway");
    }

    /// SIGTERM, as Fly or systemd would, then up to 20 s to finish.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let signalled = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .is_ok_and(|status| status.success());
        if signalled
            && let Ok(waited) =
                tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await
        {
            waited?;
            return Ok(());
        }
        self.child.kill().await?;
        bail!("the service did not stop on SIGTERM; killed it")
    }
}

/// The port of the service's JSON `listening` log line, once it is there.
fn listening_port(log: &str) -> Option<u16> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "listening")
        .and_then(|line| line["port"].as_u64())
        .and_then(|port| u16::try_from(port).ok())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
