//! Copying a group message into the neighborhood's other Conversations, pictures and all.
//!
//! Twilio's REST API attaches one picture (`MediaSid`) to a message, so a message with several
//! goes into each shard as one copy per picture, the text with the first. And a picture in the
//! Media Content Service belongs to the one message it is attached to (its resource has one
//! `message_sid`), so each copy gets its own upload: every picture is downloaded from Twilio
//! once per instance (kept in [`MediaCache`] while its relays run) and uploaded once per shard.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{CONVERSATION_SPACING, EffectError, RELAY_LOOKBACK_PAGES, Worker, twilio_since};
use crate::domain::media::{self, MediaItem};
use crate::state::TwilioAccount;
use crate::twilio::TwilioError;
use crate::twilio::types::{CreateConversationMessage, ListConversationMessages, MessageOrder};

/// One group message to copy into one more shard.
pub(super) struct RelayCopy<'a> {
    pub conversation_sid: &'a str,
    pub author: &'a str,
    pub body: &'a str,
    pub source_message_sid: &'a str,
    pub media: &'a [MediaItem],
    /// The Conversations service the pictures are in; `None`: the target shard's.
    pub chat_service_sid: Option<&'a str>,
}

/// One message posted into the shard: the text with the first picture, then one per picture.
struct Part<'a> {
    marker: String,
    body: &'a str,
    media: Option<&'a MediaItem>,
}

impl RelayCopy<'_> {
    fn parts(&self) -> Vec<Part<'_>> {
        let marker = |part: usize| {
            if part == 0 {
                serde_json::json!({"relay_of": self.source_message_sid}).to_string()
            } else {
                serde_json::json!({"relay_of": self.source_message_sid, "part": part}).to_string()
            }
        };
        if self.media.is_empty() {
            return vec![Part {
                marker: marker(0),
                body: self.body,
                media: None,
            }];
        }
        self.media
            .iter()
            .enumerate()
            .map(|(part, item)| Part {
                marker: marker(part),
                body: if part == 0 { self.body } else { "" },
                media: Some(item),
            })
            .collect()
    }
}

/// Pictures downloaded for relays under way, by media SID: a message's relays into every shard
/// (which run at once) download each picture once, the first asking and the others waiting for
/// it. Emptied when it holds more than [`MediaCache::MAX_BYTES`].
#[derive(Default)]
pub(crate) struct MediaCache(Mutex<HashMap<String, Download>>);

/// One picture's bytes, once the first relay that needs them has them.
type Download = Arc<OnceCell<Arc<Vec<u8>>>>;

impl MediaCache {
    const MAX_BYTES: usize = 64 * 1024 * 1024;

    /// The one cell of `sid`, made empty if there is none.
    fn cell(&self, sid: &str) -> Download {
        let Ok(mut kept) = self.0.lock() else {
            return Arc::default();
        };
        let held: usize = kept
            .values()
            .filter_map(|cell| cell.get().map(|data| data.len()))
            .sum();
        if held > Self::MAX_BYTES {
            kept.clear();
        }
        kept.entry(sid.to_owned()).or_default().clone()
    }
}

/// Posts a group message into one more shard: one REST call per part (plus, per picture, its
/// upload). Each copy is marked with its source (and part), each attempt is recorded before
/// Twilio is asked, and a later attempt (after a lost answer, a failure, a crash, a Redis
/// failover: the client itself never repeats the post after a 5xx) first looks for the parts
/// among the messages the shard received since the first attempt, however many, so no part is
/// posted twice. Each post waits for the Conversation's next slot, like every change to it.
pub(super) async fn relay(
    worker: &Worker,
    neighborhood_id: Uuid,
    copy: &RelayCopy<'_>,
    effect_id: &str,
) -> Result<(), EffectError> {
    let twilio = &worker.twilio;
    let (first_attempt_ms, retry) = worker
        .state
        .store
        .mark_effect_attempt(neighborhood_id, effect_id)
        .await?;
    let parts = copy.parts();
    let since = twilio_since(first_attempt_ms);
    let posted = if retry {
        let markers: Vec<&str> = parts.iter().map(|part| part.marker.as_str()).collect();
        relayed(twilio, copy.conversation_sid, &markers, since).await?
    } else {
        HashSet::new()
    };
    let mut chat_service_sid = copy.chat_service_sid.map(str::to_owned);
    for part in parts.iter().filter(|part| !posted.contains(&part.marker)) {
        let media_sid = match part.media {
            Some(item) => {
                let service = match &chat_service_sid {
                    Some(service) => service.clone(),
                    None => {
                        let service = chat_service_of(twilio, copy.conversation_sid).await?;
                        chat_service_sid.insert(service).clone()
                    }
                };
                Some(copy_media(worker, &service, item).await?)
            }
            None => None,
        };
        let wait = worker
            .state
            .store
            .take_slot(neighborhood_id, copy.conversation_sid, CONVERSATION_SPACING)
            .await?;
        tokio::time::sleep(wait).await;
        let request = CreateConversationMessage {
            author: Some(copy.author.to_owned()),
            body: part.body.to_owned(),
            attributes: Some(part.marker.clone()),
            webhook_enabled: false,
            media_sid,
        };
        twilio
            .client
            .create_conversation_message(copy.conversation_sid, &request)
            .await?;
    }
    Ok(())
}

/// The Conversations service a shard is in (every shard of ours is in the account's default one).
async fn chat_service_of(
    twilio: &TwilioAccount,
    conversation_sid: &str,
) -> Result<String, TwilioError> {
    let conversation = twilio.client.fetch_conversation(conversation_sid).await?;
    conversation
        .chat_service_sid
        .ok_or_else(|| TwilioError::Malformed {
            status: 200,
            detail: "the Conversation names no chat service".to_owned(),
        })
}

/// Uploads a copy of `item` for one more message, downloading it first unless this instance
/// has it already; the new media SID.
async fn copy_media(
    worker: &Worker,
    chat_service_sid: &str,
    item: &MediaItem,
) -> Result<String, TwilioError> {
    let client = &worker.twilio.client;
    let data = worker
        .media
        .cell(&item.sid)
        .get_or_try_init(|| async {
            client
                .download_media(chat_service_sid, &item.sid, media::MAX_TOTAL_BYTES)
                .await
                .map(Arc::new)
        })
        .await?
        .clone();
    let uploaded = client
        .upload_media(chat_service_sid, &item.content_type, &data)
        .await?;
    Ok(uploaded.sid)
}

/// Which of `markers` the shard holds among the messages added since `since`, read newest
/// first, page after page, until one older than `since`.
async fn relayed(
    twilio: &TwilioAccount,
    conversation_sid: &str,
    markers: &[&str],
    since: time::OffsetDateTime,
) -> Result<HashSet<String>, TwilioError> {
    let mut found = HashSet::new();
    let mut page = twilio
        .client
        .list_conversation_messages(
            conversation_sid,
            &ListConversationMessages {
                order: Some(MessageOrder::Desc),
                page_size: Some(100),
            },
        )
        .await?;
    for _ in 0..RELAY_LOOKBACK_PAGES {
        found.extend(
            page.items
                .iter()
                .filter_map(|m| m.attributes.as_deref())
                .filter(|attributes| markers.contains(attributes))
                .map(str::to_owned),
        );
        if found.len() == markers.len() {
            return Ok(found);
        }
        let reached_older = page
            .items
            .last()
            .is_none_or(|oldest| oldest.created_at().is_none_or(|created| created < since));
        match page.next_page_url {
            Some(next) if !reached_older => {
                page = twilio.client.next_conversation_messages(&next).await?;
            }
            _ => return Ok(found),
        }
    }
    tracing::warn!(
        conversation_sid,
        pages = RELAY_LOOKBACK_PAGES,
        "a relay retried so late that its earlier copy could not be looked for; posting it"
    );
    Ok(found)
}
