//! A member's text to the group, once it is in one shard's Conversation: it goes into the
//! neighborhood's history, its delivery in that shard into the cost ledger, and a copy (a relay)
//! into every other shard, so a neighborhood past 50 members is still one group.
//!
//! Two callers hear of such a message: the post-event webhook (`onMessageAdded`) as it happens,
//! and the backfill (`crate::jobs::backfill`) re-reading the Conversation from Twilio after the
//! webhook was missed. Both go through [`added`], claimed under `added:<MessageSid>`, so the
//! message is acted on once whichever hears of it first, or both.

use uuid::Uuid;

use crate::domain::channel::Channel;
use crate::domain::media::{self, MediaItem};
use crate::domain::phone::Phone;
use crate::services::costs;
use crate::services::deliveries::{Once, once};
use crate::services::{relay, whatsapp_window};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::rfc3339_now;
use crate::store::messages::HistoryEntry;

/// The facts of one message in a Conversation, as the webhook or Twilio's message list gives them.
#[derive(Debug, Clone, Copy)]
pub struct GroupMessage<'a> {
    pub sid: &'a str,
    pub conversation_sid: &'a str,
    /// Its place in the Conversation (`Index`), when known.
    pub index: Option<u64>,
    pub author: &'a str,
    pub body: &'a str,
    pub attributes: &'a str,
    /// Its pictures.
    pub media: &'a [MediaItem],
    /// The Conversations service it is in, when the webhook said.
    pub chat_service_sid: Option<&'a str>,
}

impl GroupMessage<'_> {
    /// The member's phone that wrote it (on SMS or WhatsApp), or `None` for what needs nothing
    /// from us: our own relays (marked `relay_of`), and messages posted over the API
    /// (announcements, welcomes), whose author is no phone.
    pub fn phone_author(&self) -> Option<Phone> {
        if self.attributes.contains("relay_of") {
            return None;
        }
        Channel::of_address(self.author).map(|(_, phone)| phone)
    }

    /// The name its claim is held under, by the webhook and the backfill alike.
    pub fn mark(&self) -> String {
        format!("added:{}", self.sid)
    }
}

/// Acts on a member's group message once, however many times and by whichever way it is heard
/// of; `marks` are the names it is claimed by ([`GroupMessage::mark`] and, from a webhook, its
/// idempotency token). A message handled (now or before) moves the shard's watermark on when it
/// is the next one, so a quiet shard's backfill reads one page.
pub async fn added(
    state: &AppState,
    neighborhood_id: Uuid,
    message: &GroupMessage<'_>,
    marks: &[String],
) -> Result<Once, StoreError> {
    let outcome = once(state, neighborhood_id, marks, || {
        record(state, neighborhood_id, message)
    })
    .await?;
    if let (Once::Acted | Once::Repeat, Some(index)) = (outcome, message.index) {
        state
            .store
            .advance_shard_watermark(neighborhood_id, message.conversation_sid, index, true)
            .await?;
    }
    Ok(outcome)
}

/// Records a member's message, counts its cost, and queues its relays into the other shards.
async fn record(
    state: &AppState,
    neighborhood_id: Uuid,
    message: &GroupMessage<'_>,
) -> Result<(), StoreError> {
    let Some(author) = message.phone_author() else {
        return Ok(());
    };
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(());
    };
    let members = state.store.roster(neighborhood_id).await?;
    let member = members.iter().find(|m| m.phone == author);
    let (sid, conversation_sid, body) = (message.sid, message.conversation_sid, message.body);
    // Twilio has delivered it in this shard by now. Counted under its own mark: a retry after a
    // failure further on counts it only once.
    // WhatsApp members outside their 24-hour window miss it (Twilio fails their copies, and
    // bills nothing for them): told once, caught up when they write.
    let missed =
        whatsapp_window::group_message(state, neighborhood_id, &members, member.map(|m| m.id))
            .await?;
    let mut delivered = relay::recipients(&members, conversation_sid, member.map(|m| m.id));
    delivered.retain(|id| !missed.unreached.contains(id));
    let (on_whatsapp, on_sms) = relay::by_channel(&members, delivered);
    // With pictures, one MMS to each SMS recipient (Twilio carries them all in one), and the
    // author's MMS in.
    let mut charge = if message.media.is_empty() {
        costs::Charge::group_copy(body, &on_sms, &on_whatsapp)
    } else {
        let charge = costs::Charge::group_mms(1, &on_sms, &on_whatsapp);
        match member.map(|m| m.channel) {
            Some(Channel::Whatsapp) => charge,
            _ => charge.and(costs::Charge::mms_in()),
        }
    };
    if let Some(member) = member {
        charge = charge.with_active(member.id);
    }
    costs::record(state, neighborhood_id, Some(&message.mark()), charge).await?;
    let sender_name = member
        .map(|m| m.display_name.as_str().to_owned())
        .unwrap_or_default();
    let text = body
        .strip_prefix(&format!("{sender_name}: "))
        .unwrap_or(body);
    // The pre-event webhook signs a message with its author's name; one it could not sign (it
    // fails open while Redis is down) is signed in its relays, so the other shards still see
    // who wrote it.
    let signed = if sender_name.is_empty() {
        text.to_owned()
    } else {
        format!("{sender_name}: {text}")
    };
    // Pictures the pre-event webhook let through; any other (it failed open) stay in the shard
    // they were written in rather than go out half-checked.
    let media = match media::check(message.media) {
        Ok(()) => message.media,
        Err(refusal) => {
            tracing::warn!(?refusal, "a message's pictures are not relayed");
            &[]
        }
    };
    let entry = HistoryEntry {
        message_sid: sid.to_owned(),
        member_id: member.map(|m| m.id),
        sender_name,
        body: text.to_owned(),
        conversation_sid: conversation_sid.to_owned(),
        at: rfc3339_now(),
        audience: None,
        media: message.media.to_vec(),
    };
    let original = relay::Original {
        author: author.as_str(),
        body: &signed,
        message_sid: sid,
        written_in: Some(conversation_sid),
        media,
        chat_service_sid: message.chat_service_sid,
    };
    let mut effects = relay::relays(&neighborhood, &members, &original);
    effects.extend(missed.effects);
    state
        .store
        .record_message(
            neighborhood_id,
            &entry,
            &effects,
            state.settings.history_messages,
        )
        .await
        .map(drop)
}
