//! The cost ledger in Redis: per neighborhood and UTC month, a hash of counters bumped with
//! HINCRBY as texts go out and come in, and a set of the members active in the month. Counting
//! is one script call that also answers what the budget check needs (the month's counters, its
//! active users and the neighborhood), so a billable event costs one round trip.
//!
//! Active users are a set of member ids rather than a HyperLogLog: exact (Twilio bills each one,
//! and an estimate must say who would be new), at about 50 bytes per member per month. A
//! neighborhood's 50 to a few thousand members keep that to kilobytes; a HyperLogLog would
//! stay under 12 KB at any size but only ever approximates (0.81 %), and cannot answer
//! "is this member counted yet".
//!
//! Also here: held announcements, a list per neighborhood released by compare-and-pop, so each
//! goes out exactly once whichever instances race to release it.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::EventKind;
use super::messages::HistoryEntry;
use super::outbox::{Effect, effects_script, encode_effect};
use super::{Store, StoreError, decode, encode};
use crate::domain::audience::Audience;
use crate::domain::media::MediaItem;
use crate::domain::neighborhood::Neighborhood;

/// How long a month's ledger is kept after it was last touched: the API shows 12 months.
pub const LEDGER_TTL: Duration = Duration::from_secs(400 * 24 * 3600);
/// How long a counted event is remembered: Twilio's webhook retries and our outbox retries come
/// within hours.
const EVENT_MEMORY: Duration = Duration::from_secs(3 * 24 * 3600);

/// Counter fields of a month's ledger hash.
pub const SEGMENTS_OUT: &str = "segments_out";
pub const MESSAGES_OUT: &str = "messages_out";
pub const SEGMENTS_IN: &str = "segments_in";
pub const MESSAGES_IN: &str = "messages_in";
/// MMS (messages with pictures) out, one per SMS recipient, and in: priced per message.
pub const MMS_OUT: &str = "mms_out";
pub const MMS_IN: &str = "mms_in";
/// WhatsApp messages out (group copies, 1:1 texts and templates) and in: Twilio's fee is per message.
pub const WHATSAPP_OUT: &str = "whatsapp_out";
pub const WHATSAPP_IN: &str = "whatsapp_in";
/// WhatsApp templates sent outside the 24-hour window: Meta's fee on top of Twilio's.
pub const WHATSAPP_TEMPLATES: &str = "whatsapp_templates";

/// Counts an event once (when it carries an id), bumps the counters, adds the active members,
/// and answers the month's counters, its number of active users and the neighborhood.
static RECORD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[1] ~= '' then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[2]) then return {0, {}, 0, ''} end
end
local pairs = tonumber(ARGV[4])
for i = 0, pairs - 1 do
  redis.call('HINCRBY', KEYS[1], ARGV[5 + 2 * i], ARGV[6 + 2 * i])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
for i = 5 + 2 * pairs, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return {1, redis.call('HGETALL', KEYS[1]), redis.call('SCARD', KEYS[2]), redis.call('GET', KEYS[4]) or ''}",
    )
});

/// Sets a month's alert flag and queues the alert texts, only if the flag was not set: two
/// instances crossing the threshold together send one alert.
static CLAIM_ALERT: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[3])
for i = 4, #ARGV do queue_effect(KEYS[2], ARGV[i]) end
return 1",
    )
});

/// Takes the oldest held announcement off the list if it is still the one the caller read, and
/// in the same step records it in the history and queues its relays.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return 0 end
redis.call('LPOP', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[3])
for i = 4, #ARGV do queue_effect(KEYS[3], ARGV[i]) end
return 1",
    )
});

/// Counter increments and the members they make active.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageDelta {
    pub counters: Vec<(&'static str, u64)>,
    pub active: Vec<Uuid>,
}

/// A month's ledger as read: counters, alert flags, active users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerMonth {
    pub counters: HashMap<String, u64>,
    pub flags: HashSet<String>,
    pub active_users: u64,
}

impl LedgerMonth {
    fn from_hash(fields: HashMap<String, String>, active_users: u64) -> Self {
        let mut month = Self {
            active_users,
            ..Self::default()
        };
        for (field, value) in fields {
            if field.starts_with("alert_") {
                month.flags.insert(field);
            } else {
                month.counters.insert(field, value.parse().unwrap_or(0));
            }
        }
        month
    }

    pub fn counter(&self, field: &str) -> u64 {
        self.counters.get(field).copied().unwrap_or(0)
    }
}

/// What counting an event answered: the month after it, and the neighborhood.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub month: LedgerMonth,
    pub neighborhood: Option<Neighborhood>,
}

/// An announcement waiting for the budget to allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAnnouncement {
    /// The id it will carry in the history (`announcement-...`).
    pub message_sid: String,
    pub member_id: Option<Uuid>,
    pub sender_name: String,
    /// The text as the captain wrote it.
    pub body: String,
    /// The text as the group will see it, signed.
    pub signed: String,
    /// RFC 3339.
    pub held_at: String,
    /// A chosen audience, texted 1:1 when released; None: the whole group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// Its picture, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaItem>,
}

impl Store {
    /// Counts a billable event in `month` (`2026-11`). With an `event` id it is counted once
    /// however often it is reported; None when it was counted before.
    pub async fn record_usage(
        &self,
        id: Uuid,
        month: &str,
        event: Option<&str>,
        delta: &UsageDelta,
    ) -> Result<Option<Recorded>, StoreError> {
        let mut invocation = RECORD.key(self.keys.cost_ledger(id, month));
        invocation
            .key(self.keys.cost_active_users(id, month))
            .key(self.keys.cost_event(id, event.unwrap_or("none")))
            .key(self.keys.neighborhood(id))
            .arg(event.unwrap_or_default())
            .arg(EVENT_MEMORY.as_millis() as u64)
            .arg(LEDGER_TTL.as_secs())
            .arg(delta.counters.len());
        for (field, increment) in &delta.counters {
            invocation.arg(*field).arg(*increment);
        }
        for member in &delta.active {
            invocation.arg(member.simple().to_string());
        }
        let mut conn = self.connection();
        // Not retried blindly: without an event id a repeat would count twice.
        let (counted, fields, active, neighborhood): (i64, HashMap<String, String>, u64, String) =
            invocation.invoke_async(&mut conn).await?;
        if counted == 0 {
            return Ok(None);
        }
        let key = self.keys.neighborhood(id);
        Ok(Some(Recorded {
            month: LedgerMonth::from_hash(fields, active),
            neighborhood: (!neighborhood.is_empty())
                .then(|| decode(&key, &neighborhood))
                .transpose()?,
        }))
    }

    /// The ledgers of `months`, in the order given (an untouched month reads as zeros).
    pub async fn ledger_months(
        &self,
        id: Uuid,
        months: &[String],
    ) -> Result<Vec<LedgerMonth>, StoreError> {
        let answers: Vec<(HashMap<String, String>, u64)> = self
            .retrying_once(|mut conn| async move {
                let mut pipe = redis::pipe();
                for month in months {
                    pipe.cmd("HGETALL")
                        .arg(self.keys.cost_ledger(id, month))
                        .cmd("SCARD")
                        .arg(self.keys.cost_active_users(id, month));
                }
                let flat: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
                let mut answers = Vec::new();
                for pair in flat.chunks(2) {
                    let fields: HashMap<String, String> = redis::from_redis_value(pair[0].clone())?;
                    let active: u64 = redis::from_redis_value(pair[1].clone())?;
                    answers.push((fields, active));
                }
                Ok(answers)
            })
            .await?;
        Ok(answers
            .into_iter()
            .map(|(fields, active)| LedgerMonth::from_hash(fields, active))
            .collect())
    }

    /// How many of `members` are not yet counted active in `month`.
    pub async fn not_yet_active(
        &self,
        id: Uuid,
        month: &str,
        members: &[Uuid],
    ) -> Result<u64, StoreError> {
        if members.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = members.iter().map(|m| m.simple().to_string()).collect();
        let known: Vec<i64> = self
            .retrying_once(|mut conn| {
                let ids = ids.clone();
                async move {
                    redis::cmd("SMISMEMBER")
                        .arg(self.keys.cost_active_users(id, month))
                        .arg(ids)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(known.iter().filter(|&&known| known == 0).count() as u64)
    }

    /// Marks a month's budget alert sent and queues its texts, unless it was sent already;
    /// true when this call sent it.
    pub async fn claim_budget_alert(
        &self,
        id: Uuid,
        month: &str,
        flag: &str,
        texts: &[Effect],
    ) -> Result<bool, StoreError> {
        let mut invocation = CLAIM_ALERT.key(self.keys.cost_ledger(id, month));
        invocation
            .key(self.keys.outbox(id))
            .arg(flag)
            .arg(time::OffsetDateTime::now_utc().unix_timestamp())
            .arg(LEDGER_TTL.as_secs());
        for text in texts {
            invocation.arg(encode_effect(text));
        }
        self.event_log_keys(&mut invocation, id);
        let mut conn = self.connection();
        // A repeat after a lost answer would find the flag set and report false: the texts
        // were queued by the first try all the same.
        let claimed: i64 = invocation.invoke_async(&mut conn).await?;
        if claimed == 1 && texts.iter().any(Effect::goes_to_outbox) {
            self.mark_outbox_active(id).await?;
        }
        Ok(claimed == 1)
    }

    /// Puts an announcement on hold, after any already held.
    pub async fn hold_announcement(
        &self,
        id: Uuid,
        held: &HeldAnnouncement,
    ) -> Result<(), StoreError> {
        let mut conn = self.connection();
        // Not retried: a repeat would hold it twice.
        redis::cmd("RPUSH")
            .arg(self.keys.held_announcements(id))
            .arg(encode(held))
            .query_async::<()>(&mut conn)
            .await?;
        // After the push, so the periodic release never drops a neighborhood with work.
        self.retrying_once(|mut conn| async move {
            redis::cmd("SADD")
                .arg(self.keys.held_neighborhoods())
                .arg(id.to_string())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// Held announcements, oldest first, each with its stored form (what release compares).
    pub async fn held_announcements(
        &self,
        id: Uuid,
    ) -> Result<Vec<(String, HeldAnnouncement)>, StoreError> {
        let key = self.keys.held_announcements(id);
        let raw: Vec<String> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("LRANGE")
                        .arg(key)
                        .arg(0)
                        .arg(-1)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        raw.into_iter()
            .map(|json| decode(&key, &json).map(|held| (json, held)))
            .collect()
    }

    /// Releases the oldest held announcement, `raw` as read: takes it off the list, records
    /// `entry` in the history and queues `relays`, in one step. False when it is no longer first
    /// (another instance released it).
    pub async fn release_announcement(
        &self,
        id: Uuid,
        raw: &str,
        entry: &HistoryEntry,
        relays: &[Effect],
        retention: u64,
    ) -> Result<bool, StoreError> {
        let mut invocation = RELEASE.key(self.keys.held_announcements(id));
        invocation
            .key(self.keys.messages(id))
            .key(self.keys.outbox(id))
            .arg(raw)
            .arg(retention)
            .arg(encode(entry));
        for relay in relays {
            invocation.arg(encode_effect(relay));
        }
        invocation.arg(encode_effect(&super::announcements::announcement_sent(
            id, entry,
        )));
        self.event_log_keys(&mut invocation, id);
        let mut conn = self.connection();
        // A compare-and-pop: a repeat after a lost answer finds it gone and reports false.
        let released: i64 = invocation.invoke_async(&mut conn).await?;
        if released == 1 {
            if !relays.is_empty() {
                self.mark_outbox_active(id).await?;
            }
            self.announce(id, EventKind::Message, &entry.message_sid)
                .await;
        }
        Ok(released == 1)
    }

    /// Neighborhoods that may have held announcements.
    pub async fn held_neighborhoods(&self) -> Result<Vec<Uuid>, StoreError> {
        self.neighborhood_set(&self.keys.held_neighborhoods()).await
    }

    /// Drops a neighborhood from the held set once its list is empty. The list is read again
    /// after the removal: an announcement held in between puts the neighborhood back.
    pub async fn forget_held_if_empty(&self, id: Uuid) -> Result<(), StoreError> {
        if self.held_count(id).await? > 0 {
            return Ok(());
        }
        self.held_set_membership("SREM", id).await?;
        if self.held_count(id).await? > 0 {
            self.held_set_membership("SADD", id).await?;
        }
        Ok(())
    }

    async fn held_count(&self, id: Uuid) -> Result<u64, StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("LLEN")
                .arg(self.keys.held_announcements(id))
                .query_async(&mut conn)
                .await
        })
        .await
    }

    async fn held_set_membership(&self, command: &str, id: Uuid) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd(command)
                .arg(self.keys.held_neighborhoods())
                .arg(id.to_string())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }
}
