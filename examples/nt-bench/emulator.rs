//! Twilio's stand-in as processes of its own: `neighborhood-text twilio-emulator` on a Redis
//! server of its own, so that the service's CPU, memory and Redis figures are the service's
//! alone, as they would be against Twilio. (`--sandbox` runs the emulator inside the service
//! instead, as the README's quick start does.)

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use neighborhood_text::sandbox::DEFAULT_MESSAGING_SERVICE_SID;
use tokio::io::AsyncBufReadExt;
use tokio::process::{Child, Command};

const START_WITHIN: Duration = Duration::from_secs(30);

/// The emulator and its Redis, stopped (killed) when dropped.
pub struct EmulatorProcess {
    emulator: Child,
    redis: Child,
    pub pid: u32,
    pub redis_pid: u32,
    /// Where the emulator answers: REST at the root, its control API under `/sandbox/api`.
    pub base: String,
    pub redis_url: String,
}

impl EmulatorProcess {
    /// Starts a Redis on a free loopback port, then the emulator on it for the account
    /// `account_sid` / `auth_token`, and waits until its Messaging Service exists.
    pub async fn start(
        bin: &Path,
        log_dir: &Path,
        run: &str,
        account_sid: &str,
        auth_token: &str,
    ) -> anyhow::Result<Self> {
        let (redis, redis_pid, redis_url) = start_redis(log_dir, run).await?;
        let log_path = log_dir.join(format!("emulator-{run}.log"));
        let mut emulator = crate::service::service_binary(bin)
            .args(["twilio-emulator", "--bind", "127.0.0.1:0"])
            .args(["--account-sid", account_sid, "--auth-token", auth_token])
            .env("NT_REDIS_URL", &redis_url)
            .env("NT_REDIS_PREFIX", format!("{run}-twilio"))
            .env("NT_LOG_FORMAT", "json")
            .env("NT_LOG", "warn,neighborhood_text::startup=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} twilio-emulator", bin.display()))?;
        let pid = emulator.id().context("the emulator exited at once")?;
        let stderr = emulator.stderr.take().context("the emulator's stderr")?;
        let port = listening_port(stderr, &log_path).await?;
        let base = format!("http://127.0.0.1:{port}");
        let started = Self {
            emulator,
            redis,
            pid,
            redis_pid,
            base,
            redis_url,
        };
        started
            .wait_for_messaging_service(account_sid, auth_token)
            .await?;
        Ok(started)
    }

    async fn wait_for_messaging_service(
        &self,
        account_sid: &str,
        auth_token: &str,
    ) -> anyhow::Result<()> {
        let http = reqwest::Client::builder().no_proxy().build()?;
        let url = format!(
            "{}/messaging/v1/Services/{DEFAULT_MESSAGING_SERVICE_SID}",
            self.base
        );
        let deadline = Instant::now() + START_WITHIN;
        loop {
            let ready = http
                .get(&url)
                .basic_auth(account_sid, Some(auth_token))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the emulator's Messaging Service did not appear within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Points the account's Conversations webhooks at the service at `public_url`, as an
    /// operator does in Twilio's console.
    pub async fn route_webhooks_to(
        &self,
        public_url: &str,
        account_sid: &str,
        auth_token: &str,
    ) -> anyhow::Result<()> {
        let public_url = public_url.trim_end_matches('/');
        let mut form = vec![
            ("Method", "POST".to_owned()),
            (
                "PreWebhookUrl",
                format!("{public_url}/webhooks/twilio/conversations/pre"),
            ),
            (
                "PostWebhookUrl",
                format!("{public_url}/webhooks/twilio/conversations/post"),
            ),
            ("Target", "webhook".to_owned()),
        ];
        form.extend(
            neighborhood_text::startup::SANDBOX_WEBHOOK_FILTERS
                .map(|filter| ("Filters", filter.to_owned())),
        );
        let response = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .post(format!(
                "{}/conversations/v1/Configuration/Webhooks",
                self.base
            ))
            .basic_auth(account_sid, Some(auth_token))
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        if status != 200 {
            bail!(
                "configuring the emulator's webhooks: {status}: {}",
                response.text().await?
            );
        }
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.emulator.kill().await;
        let _ = self.redis.kill().await;
    }
}

/// A throwaway Redis for the emulator: a free loopback port, nothing on disk.
async fn start_redis(log_dir: &Path, run: &str) -> anyhow::Result<(Child, u32, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--logfile")
        .arg(log_dir.join(format!("emulator-redis-{run}.log")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting redis-server for the emulator (is it installed?)")?;
    let pid = child.id().context("redis-server exited at once")?;
    let url = format!("redis://127.0.0.1:{port}");
    let client = redis::Client::open(url.as_str())?;
    let deadline = Instant::now() + START_WITHIN;
    while client.get_multiplexed_async_connection().await.is_err() {
        if Instant::now() > deadline {
            bail!("the emulator's redis-server did not answer on port {port} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((child, pid, url))
}

/// Reads the emulator's JSON log until its `Twilio emulator listening` line, copying every line
/// to `log_path` (and keeps copying in the background).
async fn listening_port(
    stderr: tokio::process::ChildStderr,
    log_path: &Path,
) -> anyhow::Result<u16> {
    use std::io::Write;
    let mut log = std::fs::File::create(log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let found = tokio::time::timeout(START_WITHIN, async {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = writeln!(log, "{line}");
            let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if entry["message"] == "Twilio emulator listening" {
                return entry["port"].as_u64().and_then(|p| u16::try_from(p).ok());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .with_context(|| {
        format!(
            "the emulator did not log its port within 30 s (see {})",
            log_path.display()
        )
    })?;
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = writeln!(log, "{line}");
        }
    });
    Ok(found)
}
