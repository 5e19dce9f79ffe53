//! The outbox: Twilio side effects written into a Redis Stream in the same transaction as the
//! state change that needs them, then carried out by workers of a consumer group (`jobs::outbox`).
//!
//! Each neighborhood has its own stream, so the change and its effect share one hash slot. A
//! deployment-wide set names the streams that may hold work; workers also rescan for streams now
//! and then, because that set is updated a moment after the stream.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::EventKind;
use super::member_records::old_form;
use super::{Store, StoreError, encode};
use crate::domain::integrator_event::IntegratorEvent;
use crate::domain::media::MediaItem;
use crate::domain::member::Member;
use crate::i18n::Language;

/// A stream entry as Redis returns it: id and field/value pairs.
type StreamRow = (String, Vec<(String, String)>);

/// The consumer group every instance's workers join.
pub const GROUP: &str = "workers";

/// How long a carried-out effect is remembered: a second entry for it (a requeue repeated after
/// a lost answer, then claimed) surfaces within a reclaim period or two, well inside this.
const EFFECTS_DONE_KEPT: Duration = Duration::from_secs(3600);

fn now_ms() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// A Twilio side effect of a member change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Add the member as an SMS participant to a shard with room.
    AddParticipant { member_id: Uuid },
    /// Remove the member's SMS participant.
    RemoveParticipant {
        member_id: Uuid,
        conversation_sid: String,
        participant_sid: String,
    },
    /// Text one phone from the neighborhood's number (notices, welcomes). At least once: Twilio
    /// has no idempotency key for sends.
    SendSms { to: String, body: String },
    /// Send a WhatsApp member an approved template: outside their 24-hour window nothing else
    /// reaches them.
    SendWhatsappTemplate {
        /// `whatsapp:+E164`.
        to: String,
        template: WhatsappTemplate,
        /// The member's language, when known; else the neighborhood's default (and for effects
        /// queued before templates had languages).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<Language>,
    },
    /// Post a group message (already signed with its author's name) into one more shard, so
    /// members of every Conversation see one group. Created without webhooks, so it does not come
    /// back to us as a new message.
    Relay {
        conversation_sid: String,
        author: String,
        body: String,
        /// The original message, recorded in the copy's attributes.
        source_message_sid: String,
        /// The members the shard delivers the copy to, as known when it was queued: the cost
        /// ledger charges their segments once the copy is posted.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recipients: Vec<Uuid>,
        /// Of the members it reaches, those on WhatsApp (charged per message, not per segment).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        whatsapp_recipients: Vec<Uuid>,
        /// The original's pictures, copied with it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        media: Vec<MediaItem>,
        /// The Conversations service the pictures are in (the webhook's `ChatServiceSid`);
        /// unknown (a message the backfill found): read from the Conversation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat_service_sid: Option<String>,
    },
    /// Tell integrators' endpoints of the change it is queued with. The script that writes the
    /// change writes it to the neighborhood's event log, never to the outbox (see
    /// [`queue_effect_lua`]), and only when the neighborhood has endpoints.
    Publish { event: IntegratorEvent },
}

impl Effect {
    /// The effect's kind, as its stored form names it (`relay`, `send_sms`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Publish { .. } => "publish",
            Self::AddParticipant { .. } => "add_participant",
            Self::RemoveParticipant { .. } => "remove_participant",
            Self::SendSms { .. } => "send_sms",
            Self::SendWhatsappTemplate { .. } => "send_whatsapp_template",
            Self::Relay { .. } => "relay",
        }
    }
}

impl Effect {
    /// Whether it waits in the outbox for a worker (a `publish` goes to the event log instead).
    pub fn goes_to_outbox(&self) -> bool {
        !matches!(self, Self::Publish { .. })
    }
}

/// Which approved WhatsApp template goes, and with what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WhatsappTemplate {
    /// "There are new messages in {neighborhood}. Reply READ to read them." At most one a day.
    NewMessages,
    /// "{neighborhood}: {text} Reply READ to read the group."
    Announcement { text: String },
    /// "{inviter} invited you to {neighborhood}'s neighborhood group on WhatsApp. Join at {link}
    /// or reply JOIN and your name."
    Invite { inviter: String, link: String },
}

/// An effect read from a stream, with how often it was tried.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: String,
    pub effect: Effect,
    pub attempts: u32,
    /// The id of the entry the effect was first queued as: an entry put back to be tried again
    /// is a new entry of the same effect, and what is recorded about the effect (a text that may
    /// have been sent) is recorded under this id.
    pub effect_id: String,
    /// The trace of the request that queued it (W3C `traceparent`), when traces are exported:
    /// the effect's span continues it.
    pub trace: Option<String>,
}

/// How a queued effect begins when it carries the trace that queued it.
const TRACE_OPENING: &str = "{\"trace\":\"";
/// A `traceparent`'s length (version 00).
const TRACEPARENT_LEN: usize = 55;

/// An effect as the outbox stores it: its JSON, with the current trace's `traceparent` first when
/// traces are exported (the effect's own fields ignore it).
pub(super) fn encode_effect(effect: &Effect) -> String {
    encode_effect_in(
        effect,
        crate::telemetry::traces::current_traceparent().as_deref(),
    )
}

fn encode_effect_in(effect: &Effect, trace: Option<&str>) -> String {
    let json = encode(effect);
    if matches!(effect, Effect::Publish { .. }) {
        // Begins with its kind, which is how the scripts tell it from the outbox's effects.
        return json;
    }
    match trace {
        Some(trace) if trace.len() == TRACEPARENT_LEN && json.starts_with('{') => {
            format!("{TRACE_OPENING}{trace}\",{}", &json[1..])
        }
        _ => json,
    }
}

/// The `traceparent` an encoded effect carries, if any.
fn trace_of(encoded: &str) -> Option<String> {
    let rest = encoded.strip_prefix(TRACE_OPENING)?;
    rest.get(..TRACEPARENT_LEN)
        .filter(|_| rest[TRACEPARENT_LEN..].starts_with('"'))
        .map(str::to_owned)
}

/// How a `publish` effect's stored form begins (serde writes the tag first).
const PUBLISH_OPENING: &str = "{\"kind\":\"publish\"";

/// The Lua every script that queues effects begins with: `queue_effect(outbox, effect)` adds an
/// effect to the outbox, or a `publish` effect to the neighborhood's event log when the
/// neighborhood has endpoints (none: nobody is told, and nothing is kept). A script using it
/// takes the event log and the endpoints as its last two keys ([`Store::event_log_keys`]).
pub(super) fn queue_effect_lua() -> String {
    format!(
        r"
local function queue_effect(outbox, effect)
  if string.sub(effect, 1, {opening_len}) == '{PUBLISH_OPENING}' then
    if redis.call('EXISTS', KEYS[#KEYS]) == 1 then
      redis.call('XADD', KEYS[#KEYS - 1], 'MAXLEN', '~', {kept}, '*', 'event', effect)
    end
  else
    redis.call('XADD', outbox, '*', 'effect', effect, 'attempts', '0')
  end
end
",
        opening_len = PUBLISH_OPENING.len(),
        kept = super::integrator_events::EVENTS_KEPT,
    )
}

/// A script that queues effects: [`queue_effect_lua`], then `body`.
pub(super) fn effects_script(body: &str) -> Script {
    Script::new(&format!("{}{body}", queue_effect_lua()))
}

/// Queues every effect (ARGV) into the outbox (KEYS[1]) or the event log.
pub(super) static QUEUE_EFFECTS: LazyLock<Script> =
    LazyLock::new(|| effects_script("for i = 1, #ARGV do queue_effect(KEYS[1], ARGV[i]) end"));

/// Stores a member (new: unless the phone is taken; changed: only if unchanged since read) and
/// queues its effects, in one step.
static SAVE_WITH_EFFECTS: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
if ARGV[1] == '' then
  if redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[2]) == 0 then return 0 end
elseif redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
for i = 5, #ARGV do queue_effect(KEYS[3], ARGV[i]) end
return 1",
    )
});

/// Whether an effect is remembered as done: in the sorted set of the form before (KEYS[1], by
/// its whole id, ARGV[1]), or among the records of its second (KEYS[2]) as one whole record
/// (ARGV[2], with its closing comma): at the start or after another record's comma.
static EFFECT_DONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
local records = redis.call('GET', KEYS[2])
if not records then return 0 end
local from = 1
while true do
  local at = string.find(records, ARGV[2], from, true)
  if not at then return 0 end
  if at == 1 or string.sub(records, at - 1, at - 1) == ',' then return 1 end
  from = at + 1
end",
    )
});

/// How an effect carried out is remembered: its id, a stream id `<ms>-<sequence>`, split into
/// the second it falls in (which names the key) and the rest (`<ms within the second>-<sequence>`),
/// a few bytes of a string where a sorted-set entry took about 230. Any other id (none is
/// expected) is kept whole under second 0.
#[derive(Debug, PartialEq, Eq)]
struct DoneMark {
    second: u64,
    record: String,
}

impl DoneMark {
    fn of(effect_id: &str) -> Self {
        let stream_id = effect_id.split_once('-').and_then(|(ms, sequence)| {
            Some((ms.parse::<u64>().ok()?, sequence.parse::<u64>().ok()?))
        });
        match stream_id {
            Some((ms, sequence)) => Self {
                second: ms / 1000,
                record: format!("{}-{sequence}", ms % 1000),
            },
            None => Self {
                second: 0,
                record: effect_id.to_owned(),
            },
        }
    }
}

/// Queues effects unless their mark says they were queued before. KEYS: the mark, the outbox.
/// ARGV: how long the mark lasts (ms), then each effect.
static ENQUEUE_ONCE: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
for i = 2, #ARGV do queue_effect(KEYS[2], ARGV[i]) end
return 1",
    )
});

/// Deletes a lock only if it is still the caller's (it may have expired and been taken since).
pub(super) static RELEASE_LOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1",
    )
});

impl Store {
    /// Saves `after` (replacing `before`, or as a new member when `before` is None) and queues
    /// `effects`. False when a new member's phone is taken or `before` changed meanwhile.
    pub async fn save_member_with_effects(
        &self,
        before: Option<&Member>,
        after: &Member,
        effects: &[Effect],
    ) -> Result<bool, StoreError> {
        let id = after.neighborhood_id;
        self.file_consent_terms(id, [after]).await?;
        let told =
            IntegratorEvent::member_changed(before, after).map(|event| Effect::Publish { event });
        let effects: Vec<&Effect> = effects.iter().chain(told.as_ref()).collect();
        // `before` as stored now, then as stored before the compact form (see `member_records`).
        let forms = match before {
            Some(before) => vec![encode(before), old_form(before)],
            None => vec![String::new()],
        };
        let mut saved = 0;
        for form in forms {
            let mut invocation = SAVE_WITH_EFFECTS.key(self.keys.members(id));
            invocation
                .key(self.keys.member_phones(id))
                .key(self.keys.outbox(id))
                .arg(form)
                .arg(after.id.to_string())
                .arg(after.phone.as_str())
                .arg(encode(after));
            for effect in &effects {
                invocation.arg(encode_effect(effect));
            }
            self.event_log_keys(&mut invocation, id);
            let mut conn = self.connection();
            // A compare-and-set: repeating it after a lost answer would only report a conflict.
            saved = invocation.invoke_async(&mut conn).await?;
            if saved == 1 {
                break;
            }
        }
        if saved == 1 {
            if effects.iter().any(|effect| effect.goes_to_outbox()) {
                self.mark_outbox_active(id).await?;
            }
            self.index_member_role(after).await?;
            self.announce(id, EventKind::Member, after.id).await;
        }
        Ok(saved == 1)
    }

    /// Queues effects that go with no state change (a reply text).
    pub async fn enqueue_effects(&self, id: Uuid, effects: &[Effect]) -> Result<(), StoreError> {
        let mut invocation = QUEUE_EFFECTS.key(self.keys.outbox(id));
        for effect in effects {
            invocation.arg(encode_effect(effect));
        }
        self.event_log_keys(&mut invocation, id);
        let mut conn = self.connection();
        // Not retried: a repeat after a lost answer would queue the texts twice.
        invocation.invoke_async::<()>(&mut conn).await?;
        self.mark_outbox_active(id).await
    }

    /// Queues effects once for `once` (an inbound text's reply, named by the text): a second
    /// call, after a first whose write landed though its answer was lost, queues nothing.
    pub async fn enqueue_effects_once(
        &self,
        id: Uuid,
        once: &str,
        effects: &[Effect],
    ) -> Result<(), StoreError> {
        let mut invocation = ENQUEUE_ONCE.prepare_invoke();
        invocation
            .key(self.keys.written_once(id, once))
            .key(self.keys.outbox(id))
            .arg(super::webhooks::DELIVERY_MEMORY.as_millis() as u64);
        for effect in effects {
            invocation.arg(encode_effect(effect));
        }
        self.event_log_keys(&mut invocation, id);
        let mut conn = self.connection();
        let _queued: i64 = invocation.invoke_async(&mut conn).await?;
        // Queued (now or before): failing from here would have the caller act again for
        // nothing; a lost mark only delays the effects until the outbox's rescan.
        if let Err(error) = self.mark_outbox_active(id).await {
            tracing::warn!(%error, "queued effects wait for the outbox's rescan");
        }
        Ok(())
    }

    pub async fn mark_outbox_active(&self, id: Uuid) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("SADD")
                .arg(self.keys.outbox_active())
                .arg(id.to_string())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// Neighborhoods whose outbox may hold work.
    pub async fn active_outboxes(&self) -> Result<Vec<Uuid>, StoreError> {
        self.neighborhood_set(&self.keys.outbox_active()).await
    }

    /// Finds every non-empty outbox and marks it active (recovers a lost mark); on a cluster,
    /// on every primary.
    pub async fn rescan_outboxes(&self) -> Result<(), StoreError> {
        let keys = self
            .retrying_once(|conn| async move {
                conn.scan_matching(&self.keys.outbox_pattern(), 500).await
            })
            .await?;
        for key in keys {
            let id = key
                .split("{nb:")
                .nth(1)
                .and_then(|rest| rest.split('}').next())
                .and_then(|id| Uuid::parse_str(id).ok());
            let length: u64 = self
                .retrying_once(|mut conn| {
                    let key = key.clone();
                    async move { redis::cmd("XLEN").arg(key).query_async(&mut conn).await }
                })
                .await?;
            if let (Some(id), true) = (id, length > 0) {
                self.mark_outbox_active(id).await?;
            }
        }
        Ok(())
    }

    /// Takes up to `count` entries for `consumer`: first those another consumer left unacked for
    /// `reclaim_after` (it died), then new ones.
    pub async fn claim_outbox(
        &self,
        id: Uuid,
        consumer: &str,
        count: usize,
        reclaim_after: Duration,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let key = self.keys.outbox(id);
        let mut conn = self.connection();
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&key)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        if let Err(error) = created
            && error.code() != Some("BUSYGROUP")
        {
            return Err(error.into());
        }
        let (_, reclaimed, _): (String, Vec<StreamRow>, redis::Value) = redis::cmd("XAUTOCLAIM")
            .arg(&key)
            .arg(GROUP)
            .arg(consumer)
            .arg(reclaim_after.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await?;
        let mut entries: Vec<OutboxEntry> = reclaimed.into_iter().filter_map(parse_entry).collect();
        if entries.len() < count {
            let read: Option<Vec<(String, Vec<StreamRow>)>> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(GROUP)
                .arg(consumer)
                .arg("COUNT")
                .arg(count - entries.len())
                .arg("STREAMS")
                .arg(&key)
                .arg(">")
                .query_async(&mut conn)
                .await?;
            entries.extend(
                read.into_iter()
                    .flatten()
                    .flat_map(|(_, rows)| rows)
                    .filter_map(parse_entry),
            );
        }
        Ok(entries)
    }

    /// Done with an entry: acknowledged and removed from the stream, with what was recorded
    /// about its effect's attempts, and the effect remembered as done for an hour.
    pub async fn ack_outbox(&self, id: Uuid, entry: &OutboxEntry) -> Result<(), StoreError> {
        let key = self.keys.outbox(id);
        let attempts = self.keys.effect_attempts(id);
        let mark = DoneMark::of(&entry.effect_id);
        let done = self.keys.effects_done(id, mark.second);
        self.retrying_once(|mut conn| {
            let (key, attempts, done) = (key.clone(), attempts.clone(), done.clone());
            let record = format!("{},", mark.record);
            async move {
                // A repeat after a lost answer records the effect twice, which only costs bytes.
                redis::pipe()
                    .atomic()
                    .xack(&key, GROUP, &[&entry.id])
                    .xdel(&key, &[&entry.id])
                    .hdel(&attempts, &entry.effect_id)
                    .append(&done, record)
                    // Every record of the second is kept at least an hour after it was written.
                    .expire(&done, EFFECTS_DONE_KEPT.as_secs() as i64)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Whether the effect was carried out lately (by an earlier stream entry of the same effect).
    pub async fn effect_done(&self, id: Uuid, effect_id: &str) -> Result<bool, StoreError> {
        let mark = DoneMark::of(effect_id);
        let done: i64 = self
            .retrying_once(|mut conn| {
                let mut invocation = EFFECT_DONE.key(self.keys.effects_done_old_form(id));
                invocation
                    .key(self.keys.effects_done(id, mark.second))
                    .arg(effect_id)
                    .arg(format!("{},", mark.record));
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        Ok(done == 1)
    }

    /// Records, before a create (a 1:1 text, a relay) goes to Twilio, that the effect may have
    /// made it, and returns when its first attempt started (Unix ms) and whether this is a later
    /// one (an earlier attempt may have reached Twilio though its answer was lost, by a crash or a
    /// failure).
    pub async fn mark_effect_attempt(
        &self,
        id: Uuid,
        effect_id: &str,
    ) -> Result<(u64, bool), StoreError> {
        let key = self.keys.effect_attempts(id);
        let now_ms = now_ms();
        // HSETNX then HGET: repeating both after a lost answer changes nothing.
        let (first, started): (bool, u64) = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::pipe()
                        .atomic()
                        .hset_nx(&key, effect_id, now_ms)
                        .hget(&key, effect_id)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        // The mark is what keeps a retry from posting twice: it must outlive a failover before
        // Twilio is asked (with `NT_REDIS_WAIT_REPLICAS`; otherwise a failover in the moment
        // between the two can double one text).
        self.wait_for_replicas().await?;
        Ok((started, !first))
    }

    /// Puts an entry back at the end of the stream, with `attempts` tries counted so far.
    pub async fn requeue_outbox(
        &self,
        id: Uuid,
        entry: &OutboxEntry,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let key = self.keys.outbox(id);
        let mut conn = self.connection();
        redis::pipe()
            .atomic()
            .cmd("XADD")
            .arg(&key)
            .arg("*")
            .arg("effect")
            .arg(encode_effect_in(&entry.effect, entry.trace.as_deref()))
            .arg("attempts")
            .arg(attempts)
            .arg("effect_id")
            .arg(&entry.effect_id)
            .xack(&key, GROUP, &[&entry.id])
            .xdel(&key, &[&entry.id])
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Drops a neighborhood from the active set when its outbox is empty.
    pub async fn retire_outbox_if_empty(&self, id: Uuid) -> Result<(), StoreError> {
        if self.outbox_length(id).await? > 0 {
            return Ok(());
        }
        // The stream and the mark live in different hash slots, so no one script holds both.
        // An entry added between the look and the removal (its mark set just before ours went)
        // is seen by the second look, which puts the mark back.
        self.retrying_once(|mut conn| async move {
            redis::cmd("SREM")
                .arg(self.keys.outbox_active())
                .arg(id.to_string())
                .query_async::<()>(&mut conn)
                .await
        })
        .await?;
        if self.outbox_length(id).await? > 0 {
            self.mark_outbox_active(id).await?;
        }
        Ok(())
    }

    async fn outbox_length(&self, id: Uuid) -> Result<u64, StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("XLEN")
                .arg(self.keys.outbox(id))
                .query_async(&mut conn)
                .await
        })
        .await
    }

    // ----- shard bookkeeping --------------------------------------------------------------------

    /// SMS participants we placed in each Conversation of a neighborhood.
    pub async fn shard_counts(
        &self,
        id: Uuid,
    ) -> Result<std::collections::HashMap<String, u32>, StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("HGETALL")
                .arg(self.keys.shard_counts(id))
                .query_async(&mut conn)
                .await
        })
        .await
    }

    pub async fn add_to_shard_count(
        &self,
        id: Uuid,
        conversation_sid: &str,
        delta: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.connection();
        redis::cmd("HINCRBY")
            .arg(self.keys.shard_counts(id))
            .arg(conversation_sid)
            .arg(delta)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Records what Twilio says a Conversation holds (after a 50422 "full").
    pub async fn set_shard_count(
        &self,
        id: Uuid,
        conversation_sid: &str,
        count: u32,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("HSET")
                .arg(self.keys.shard_counts(id))
                .arg(conversation_sid)
                .arg(count)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// Takes the lock for creating a shard; false when another worker holds it.
    pub async fn lock_shard_creation(
        &self,
        id: Uuid,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.take_lock(&self.keys.shard_lock(id), token, ttl).await
    }

    pub async fn unlock_shard_creation(&self, id: Uuid, token: &str) -> Result<(), StoreError> {
        self.release_lock(&self.keys.shard_lock(id), token).await
    }

    // ----- reconciliation -----------------------------------------------------------------------

    /// Takes the lock for reconciling a neighborhood; false when a reconciliation is running.
    pub async fn lock_reconciliation(
        &self,
        id: Uuid,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.take_lock(&self.keys.reconcile_lock(id), token, ttl)
            .await
    }

    pub async fn unlock_reconciliation(&self, id: Uuid, token: &str) -> Result<(), StoreError> {
        self.release_lock(&self.keys.reconcile_lock(id), token)
            .await
    }

    /// Claims this period's run of the periodic reconciliation for `instance`; false when another
    /// instance (or this one) claimed it less than `ttl` ago. Never released: it expires.
    pub async fn claim_reconcile_period(
        &self,
        instance: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        // A token of this claim alone: the instance's own earlier claim must count as taken.
        let claim = format!("{instance} {}", Uuid::new_v4().simple());
        self.take_lock(&self.keys.reconcile_schedule(), &claim, ttl)
            .await
    }

    pub(super) async fn take_lock(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        // `GET` returns what the key held: nothing (the lock is now ours), or a token. Our own
        // token means an earlier try took the lock though its answer was lost (and the command
        // was sent again): still ours, rather than held by no one until it expires.
        let held_before: Option<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(token)
                    .arg("NX")
                    .arg("GET")
                    .arg("PX")
                    .arg(ttl.as_millis().max(1) as u64)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(held_before.is_none_or(|holder| holder == token))
    }

    pub(super) async fn release_lock(&self, key: &str, token: &str) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            RELEASE_LOCK
                .key(key)
                .arg(token)
                .invoke_async::<i64>(&mut conn)
                .await
        })
        .await
        .map(drop)
    }
}

fn parse_entry((id, fields): StreamRow) -> Option<OutboxEntry> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let encoded = field("effect")?;
    let effect = serde_json::from_str(&encoded).ok()?;
    let attempts = field("attempts").and_then(|a| a.parse().ok()).unwrap_or(0);
    let effect_id = field("effect_id").unwrap_or_else(|| id.clone());
    Some(OutboxEntry {
        id,
        effect,
        attempts,
        effect_id,
        trace: trace_of(&encoded),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_id_is_remembered_by_its_second_and_the_rest() {
        assert_eq!(
            DoneMark::of("1733456789012-3"),
            DoneMark {
                second: 1_733_456_789,
                record: "12-3".into()
            }
        );
        // A record is never the end of another one of the same second once its comma is added.
        assert_ne!(
            DoneMark::of("1733456789002-3").record,
            DoneMark::of("1733456789012-3").record
        );
    }

    #[test]
    fn an_id_of_another_shape_is_remembered_whole() {
        assert_eq!(
            DoneMark::of("requeued-effect-1"),
            DoneMark {
                second: 0,
                record: "requeued-effect-1".into()
            }
        );
    }
}
