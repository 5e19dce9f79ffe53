//! A neighborhood's message history: one Redis Stream, trimmed to the retention setting, written
//! together with the relays that carry each message into the other shards.

use std::sync::LazyLock;

use redis::Script;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::EventKind;
use super::outbox::{Effect, effects_script, encode_effect};
use super::webhooks::DELIVERY_MEMORY;
use super::{Store, StoreError, decode, encode};
use crate::domain::integrator_event::IntegratorEvent;
use crate::domain::media::MediaItem;

/// Writes a message's history entry, its pictures' records and its relays together, unless its
/// mark says it was written before. KEYS: the mark, the history, the pictures, the outbox. ARGV:
/// how long the mark lasts (ms), the history's length, the entry, the number of pictures, each
/// picture's sid and record, then each relay.
static RECORD_MESSAGE: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'message', ARGV[3])
local next = 5
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HSET', KEYS[3], ARGV[next], ARGV[next + 1])
  next = next + 2
end
for i = next, #ARGV do queue_effect(KEYS[4], ARGV[i]) end
return 1",
    )
});

/// One group message as the history keeps it. Never a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Twilio's message sid (`IM...`).
    pub message_sid: String,
    /// The member who wrote it.
    pub member_id: Option<Uuid>,
    /// Their display name when they wrote it.
    pub sender_name: String,
    /// The text, without the name the group saw in front of it.
    pub body: String,
    /// The Conversation it was written in.
    pub conversation_sid: String,
    /// RFC 3339.
    pub at: String,
    /// An announcement to a chosen audience: who it went to, in words ("14 people on Elm
    /// Ave"). None for the group's own messages and announcements to everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Its pictures, as Twilio described them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaItem>,
}

/// A history entry with its stream id (the paging cursor).
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: String,
    pub entry: HistoryEntry,
}

/// Entries read per round trip while filtering.
const READ_BATCH: usize = 500;

impl Store {
    /// Appends `entry` (keeping at most about `retention` entries) and queues `relays`, in one step.
    /// A picture of one of the neighborhood's messages, if `media_sid` is one.
    pub async fn message_media(
        &self,
        neighborhood_id: Uuid,
        media_sid: &str,
    ) -> Result<Option<MediaItem>, StoreError> {
        let key = self.keys.media(neighborhood_id);
        let stored: Option<String> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg(media_sid)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        stored.map(|json| decode(&key, &json)).transpose()
    }

    /// Keeps an uploaded picture as one of the neighborhood's (an announcement's, before it
    /// goes), so it can be sent and shown.
    pub async fn keep_picture(
        &self,
        neighborhood_id: Uuid,
        item: &MediaItem,
    ) -> Result<(), StoreError> {
        let key = self.keys.media(neighborhood_id);
        let value = encode(item);
        self.retrying_once(|mut conn| {
            let (key, value) = (key.clone(), value.clone());
            async move {
                redis::cmd("HSET")
                    .arg(key)
                    .arg(&item.sid)
                    .arg(value)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Records a member's message in the history and queues its relays, once: `sid` names it,
    /// and a second call for the same message (the backfill, after a webhook whose write landed
    /// though its answer was lost in a failover) records nothing. Returns whether this call
    /// recorded it.
    pub async fn record_message(
        &self,
        neighborhood_id: Uuid,
        entry: &HistoryEntry,
        relays: &[Effect],
        retention: u64,
    ) -> Result<bool, StoreError> {
        let mut invocation = RECORD_MESSAGE.prepare_invoke();
        invocation
            .key(
                self.keys
                    .written_once(neighborhood_id, &format!("message:{}", entry.message_sid)),
            )
            .key(self.keys.messages(neighborhood_id))
            .key(self.keys.media(neighborhood_id))
            .key(self.keys.outbox(neighborhood_id))
            .arg(DELIVERY_MEMORY.as_millis() as u64)
            .arg(retention)
            .arg(encode(entry))
            .arg(entry.media.len());
        for item in &entry.media {
            invocation.arg(&item.sid).arg(encode(item));
        }
        for relay in relays {
            invocation.arg(encode_effect(relay));
        }
        invocation.arg(encode_effect(&Effect::Publish {
            event: IntegratorEvent::message_posted(
                neighborhood_id,
                &entry.message_sid,
                entry.member_id,
                &entry.sender_name,
                &entry.body,
                &entry.media,
            ),
        }));
        self.event_log_keys(&mut invocation, neighborhood_id);
        let mut conn = self.connection();
        // Not retried blindly: a repeat finds the mark and records nothing, but the caller
        // decides whether to act again.
        let recorded: i64 = invocation.invoke_async(&mut conn).await?;
        // Recorded (now or before): failing from here would have the caller let its claim go,
        // and the backfill act again for nothing. A lost mark only delays the relays until the
        // outbox's rescan finds them.
        if !relays.is_empty()
            && let Err(error) = self.mark_outbox_active(neighborhood_id).await
        {
            tracing::warn!(%error, "a recorded message's relays wait for the outbox's rescan");
        }
        if recorded == 1 {
            self.announce(neighborhood_id, EventKind::Message, &entry.message_sid)
                .await;
        }
        Ok(recorded == 1)
    }

    /// Messages newest first, older than the stream id `before` (all when None), that `keep`
    /// accepts; at most `limit`.
    pub async fn messages(
        &self,
        neighborhood_id: Uuid,
        before: Option<&str>,
        limit: usize,
        keep: impl Fn(&HistoryEntry) -> bool,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let key = self.keys.messages(neighborhood_id);
        let mut end = before.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
        let mut found = Vec::new();
        loop {
            let rows: Vec<(String, Vec<(String, String)>)> = self
                .retrying_once(|mut conn| {
                    let (key, end) = (key.clone(), end.clone());
                    async move {
                        redis::cmd("XREVRANGE")
                            .arg(key)
                            .arg(end)
                            .arg("-")
                            .arg("COUNT")
                            .arg(READ_BATCH)
                            .query_async(&mut conn)
                            .await
                    }
                })
                .await?;
            let exhausted = rows.len() < READ_BATCH;
            for (id, fields) in rows {
                end = format!("({id}");
                let Some((_, json)) = fields.into_iter().find(|(name, _)| name == "message") else {
                    continue;
                };
                let entry: HistoryEntry = super::decode(&key, &json)?;
                if keep(&entry) {
                    found.push(StoredMessage { id, entry });
                    if found.len() == limit {
                        return Ok(found);
                    }
                }
            }
            if exhausted {
                return Ok(found);
            }
        }
    }
}
