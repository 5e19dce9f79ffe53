//! Where the backfill (`crate::jobs::backfill`) stopped reading Twilio: per Conversation, the
//! highest message index handled with every earlier one handled too; per number, when the newest
//! handled inbound text was sent. And the lock that keeps to one pass at a time.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError};

/// Moves a watermark forward, never back. With `ARGV[3] == '1'` only by one step (the next
/// index exactly): a webhook that saw message 7 while 3 to 6 were missed must not carry the
/// watermark past them.
static ADVANCE_SHARD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
local index = tonumber(ARGV[2])
if index > current and (ARGV[3] == '0' or index == current + 1) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0",
    )
});

static ADVANCE_INBOUND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1",
    )
});

impl Store {
    /// The highest message index of a Conversation handled with all before it; `None` before
    /// the first.
    pub async fn shard_watermark(
        &self,
        neighborhood_id: Uuid,
        conversation_sid: &str,
    ) -> Result<Option<u64>, StoreError> {
        let key = self.keys.shard_watermarks(neighborhood_id);
        let value: Option<u64> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg(conversation_sid)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(value)
    }

    /// Records that message `index` of a Conversation was handled. `next_only`: move only if it
    /// is the very next index (a webhook, which does not know whether earlier ones were missed);
    /// otherwise move to it if it is higher (the backfill, which read every one before it).
    pub async fn advance_shard_watermark(
        &self,
        neighborhood_id: Uuid,
        conversation_sid: &str,
        index: u64,
        next_only: bool,
    ) -> Result<(), StoreError> {
        let key = self.keys.shard_watermarks(neighborhood_id);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move {
                ADVANCE_SHARD
                    .key(key)
                    .arg(conversation_sid)
                    .arg(index)
                    .arg(if next_only { "1" } else { "0" })
                    .invoke_async::<i64>(&mut conn)
                    .await
            }
        })
        .await
        .map(drop)
    }

    /// When the newest handled inbound text to the neighborhood's number was sent (unix ms).
    pub async fn inbound_watermark(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        let key = self.keys.inbound_watermark(neighborhood_id);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move { redis::cmd("GET").arg(key).query_async(&mut conn).await }
        })
        .await
    }

    /// Moves the inbound watermark to `sent_ms` if that is later.
    pub async fn advance_inbound_watermark(
        &self,
        neighborhood_id: Uuid,
        sent_ms: i64,
    ) -> Result<(), StoreError> {
        let key = self.keys.inbound_watermark(neighborhood_id);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move {
                ADVANCE_INBOUND
                    .key(key)
                    .arg(sent_ms)
                    .invoke_async::<i64>(&mut conn)
                    .await
            }
        })
        .await
        .map(drop)
    }

    /// Takes the lock of a backfill pass; false when another pass (any instance) holds it.
    pub async fn lock_backfill(&self, token: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.take_lock(&self.keys.backfill_lock(), token, ttl).await
    }

    pub async fn unlock_backfill(&self, token: &str) -> Result<(), StoreError> {
        self.release_lock(&self.keys.backfill_lock(), token).await
    }
}
