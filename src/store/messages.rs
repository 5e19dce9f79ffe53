//! A neighborhood's message history: one Redis Stream, trimmed to the retention setting, written
//! together with the relays that carry each message into the other shards.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::EventKind;
use super::outbox::Effect;
use super::{Store, StoreError, decode, encode};
use crate::domain::media::MediaItem;

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

    pub async fn record_message(
        &self,
        neighborhood_id: Uuid,
        entry: &HistoryEntry,
        relays: &[Effect],
        retention: u64,
    ) -> Result<(), StoreError> {
        let history = self.keys.messages(neighborhood_id);
        let outbox = self.keys.outbox(neighborhood_id);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("XADD")
            .arg(&history)
            .arg("MAXLEN")
            .arg("~")
            .arg(retention)
            .arg("*")
            .arg("message")
            .arg(encode(entry))
            .ignore();
        if !entry.media.is_empty() {
            let media = self.keys.media(neighborhood_id);
            for item in &entry.media {
                pipe.cmd("HSET")
                    .arg(&media)
                    .arg(&item.sid)
                    .arg(encode(item))
                    .ignore();
            }
        }
        for relay in relays {
            pipe.cmd("XADD")
                .arg(&outbox)
                .arg("*")
                .arg("effect")
                .arg(encode(relay))
                .arg("attempts")
                .arg(0)
                .ignore();
        }
        let mut conn = self.connection();
        // Not retried: the caller deduplicates deliveries, a blind repeat would record twice.
        pipe.query_async::<()>(&mut conn).await?;
        if !relays.is_empty() {
            self.mark_outbox_active(neighborhood_id).await?;
        }
        self.announce(neighborhood_id, EventKind::Message, &entry.message_sid)
            .await;
        Ok(())
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
