//! WhatsApp's 24-hour customer service window, as the service keeps it per member: when they
//! last wrote, from where in the history they missed the group, when they were last sent the
//! new-messages template, and our own 1:1 texts kept for them until they write again. Each
//! change is one script on the neighborhood's slot, so instances never split a decision.

use std::collections::HashMap;
use std::sync::LazyLock;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::domain::phone::Phone;

/// Texts kept for one member at most; older ones give way (they are notices, and the catch-up
/// carries the group's messages).
const HELD_TEXTS: i64 = 20;

/// What a member's message to the sender found kept for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reopened {
    /// The history position (`<ms>-0`) from which they missed the group, if they did.
    pub missed_from: Option<String>,
    /// Our 1:1 texts kept for them, oldest first.
    pub held: Vec<String>,
}

/// `KEYS`: last inbound, missed, held list. `ARGV[1]`: phone, `ARGV[2]`: now (ms). Records the
/// message and takes what was kept, in one step: a second delivery of the same message finds
/// nothing left.
static REOPEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > last then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
local missed = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local held = redis.call('LRANGE', KEYS[3], 0, -1)
redis.call('DEL', KEYS[3])
return {missed or '', held}",
    )
});

/// `KEYS[1]`: missed. `ARGV`: phones. Marks each as missing the group from now on (Redis's
/// clock, the history stream's), unless they are already; returns those newly marked.
static MISS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local clock = redis.call('TIME')
local at = tostring(tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)) .. '-0'
local first = {}
for _, phone in ipairs(ARGV) do
  if redis.call('HSETNX', KEYS[1], phone, at) == 1 then table.insert(first, phone) end
end
return first",
    )
});

/// `KEYS`: missed, held list. `ARGV[1]`: phone, `ARGV[2]`: text, `ARGV[3]`: the most kept.
/// Keeps a text and marks the member as missing; returns 1 when they were not marked before.
static HOLD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local clock = redis.call('TIME')
local at = tostring(tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)) .. '-0'
local first = redis.call('HSETNX', KEYS[1], ARGV[1], at)
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
return first",
    )
});

/// `KEYS`: missed, notices. `ARGV[1]`: phone, `ARGV[2]`: now (ms), `ARGV[3]`: the least time
/// between two notices (ms). 1 when a notice may go now (and it is recorded as sent): the member
/// still misses the group and had none within the interval.
static CLAIM_NOTICE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local last = redis.call('HGET', KEYS[2], ARGV[1])
if last and tonumber(ARGV[2]) - tonumber(last) < tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1",
    )
});

impl Store {
    /// When each WhatsApp member last wrote (Unix ms), by phone.
    pub async fn whatsapp_last_inbound(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let key = self.keys.whatsapp_last_inbound(neighborhood_id);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move {
                redis::cmd("HGETALL")
                    .arg(key)
                    .query_async::<HashMap<String, i64>>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// `phone` wrote at `now_ms`: their window is open, and what was kept for them is handed over
    /// (once).
    pub async fn reopen_whatsapp_window(
        &self,
        neighborhood_id: Uuid,
        phone: &Phone,
        now_ms: i64,
    ) -> Result<Reopened, StoreError> {
        let mut conn = self.connection();
        let (missed, held): (String, Vec<String>) = REOPEN
            .key(self.keys.whatsapp_last_inbound(neighborhood_id))
            .key(self.keys.whatsapp_missed(neighborhood_id))
            .key(self.keys.whatsapp_held(neighborhood_id, phone))
            .arg(phone.as_str())
            .arg(now_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(Reopened {
            missed_from: Some(missed).filter(|missed| !missed.is_empty()),
            held,
        })
    }

    /// Marks `phones` as missing the group from this moment; returns those not marked before.
    pub async fn mark_whatsapp_missed(
        &self,
        neighborhood_id: Uuid,
        phones: &[&Phone],
    ) -> Result<Vec<String>, StoreError> {
        if phones.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = MISS.key(self.keys.whatsapp_missed(neighborhood_id));
        for phone in phones {
            invocation.arg(phone.as_str());
        }
        let mut conn = self.connection();
        Ok(invocation.invoke_async(&mut conn).await?)
    }

    /// Keeps `text` for `phone` until they write; true when this marks them as missing.
    pub async fn hold_whatsapp_text(
        &self,
        neighborhood_id: Uuid,
        phone: &Phone,
        text: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.connection();
        let first: i64 = HOLD
            .key(self.keys.whatsapp_missed(neighborhood_id))
            .key(self.keys.whatsapp_held(neighborhood_id, phone))
            .arg(phone.as_str())
            .arg(text)
            .arg(HELD_TEXTS)
            .invoke_async(&mut conn)
            .await?;
        Ok(first == 1)
    }

    /// Whether the new-messages template may go to `phone` now; recorded as sent when it may.
    pub async fn claim_whatsapp_notice(
        &self,
        neighborhood_id: Uuid,
        phone: &Phone,
        now_ms: i64,
        interval_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut conn = self.connection();
        let claimed: i64 = CLAIM_NOTICE
            .key(self.keys.whatsapp_missed(neighborhood_id))
            .key(self.keys.whatsapp_notices(neighborhood_id))
            .arg(phone.as_str())
            .arg(now_ms)
            .arg(interval_ms)
            .invoke_async(&mut conn)
            .await?;
        Ok(claimed == 1)
    }
}
