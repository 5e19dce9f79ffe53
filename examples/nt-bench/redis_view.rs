//! What the generator reads from the service's Redis directly: outbox lengths and memory.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use neighborhood_text::store::keys::Keys;
use redis::aio::MultiplexedConnection;
use uuid::Uuid;

use crate::service::ServiceEnv;

pub struct RedisView {
    conn: MultiplexedConnection,
    /// The prefix of the service's keys ([`ServiceEnv::key_prefix`]).
    prefix: String,
    /// Whether the emulator keeps its state here too (sandbox mode).
    emulator_here: bool,
}

impl RedisView {
    pub async fn connect(env: &ServiceEnv) -> anyhow::Result<Self> {
        Ok(Self {
            conn: redis::Client::open(env.redis_url.as_str())?
                .get_multiplexed_async_connection()
                .await?,
            prefix: env.key_prefix(),
            emulator_here: env.emulator.is_none(),
        })
    }

    /// Entries in a neighborhood's outbox: queued, or being carried out.
    pub async fn outbox_len(&self, id: &str) -> anyhow::Result<u64> {
        let key = Keys::new(self.prefix.clone()).outbox(Uuid::parse_str(id)?);
        Ok(redis::cmd("XLEN")
            .arg(key)
            .query_async(&mut self.conn.clone())
            .await?)
    }

    /// Waits until every queued Twilio side effect of the neighborhood has been carried out.
    pub async fn wait_for_outbox(&self, id: &str, within: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            let queued = self.outbox_len(id).await?;
            if queued == 0 {
                return Ok(started.elapsed());
            }
            if started.elapsed() > within {
                bail!(
                    "{queued} outbox entries of {id} still queued after {} s",
                    within.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `used_memory` of `INFO memory`: everything Redis holds, in bytes.
    pub async fn used_memory(&self) -> anyhow::Result<u64> {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut self.conn.clone())
            .await?;
        info.lines()
            .find_map(|line| line.strip_prefix("used_memory:"))
            .and_then(|value| value.trim().parse().ok())
            .context("INFO memory has no used_memory")
    }

    /// Bytes (`MEMORY USAGE`, every element counted) of the keys matching `pattern`, and how
    /// many keys there are.
    pub async fn usage_of(&self, pattern: &str) -> anyhow::Result<(u64, u64)> {
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        let (mut bytes, mut keys) = (0, 0);
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await?;
            if !batch.is_empty() {
                let mut pipe = redis::pipe();
                for key in &batch {
                    pipe.cmd("MEMORY")
                        .arg("USAGE")
                        .arg(key)
                        .arg("SAMPLES")
                        .arg(0);
                }
                let sizes: Vec<Option<u64>> = pipe.query_async(&mut conn).await?;
                bytes += sizes.into_iter().flatten().sum::<u64>();
                keys += batch.len() as u64;
            }
            if next == 0 {
                return Ok((bytes, keys));
            }
            cursor = next;
        }
    }

    /// The pattern of the emulator's keys in this Redis (the stand-in for Twilio, which in
    /// production keeps its state at Twilio, not in our Redis); `None` when it has its own.
    pub fn emulator_keys(&self) -> Option<String> {
        self.emulator_here
            .then(|| format!("{}:{{sandbox}}:*", self.prefix))
    }

    /// The pattern of one neighborhood's keys (they share its hash tag).
    pub fn neighborhood_keys(&self, id: &str) -> anyhow::Result<String> {
        Ok(format!(
            "{}:{{nb:{}}}:*",
            self.prefix,
            Uuid::parse_str(id)?.simple()
        ))
    }
}
