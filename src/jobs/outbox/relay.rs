//! Copying a group message into the neighborhood's other Conversations.

use uuid::Uuid;

use super::{CONVERSATION_SPACING, EffectError, RELAY_LOOKBACK_PAGES, Worker, twilio_since};
use crate::state::TwilioAccount;
use crate::twilio::TwilioError;
use crate::twilio::types::{CreateConversationMessage, ListConversationMessages, MessageOrder};

/// One group message to copy into one more shard.
pub(super) struct RelayCopy<'a> {
    pub conversation_sid: &'a str,
    pub author: &'a str,
    pub body: &'a str,
    pub source_message_sid: &'a str,
}

/// Posts a group message into one more shard: one REST call. The copy is marked with its source,
/// each attempt is recorded before Twilio is asked, and a later attempt (after a lost answer, a
/// failure, a crash, a Redis failover: the client itself never repeats the post after a 5xx)
/// first looks for it among the messages the shard received since the first attempt, however
/// many, so a copy is not posted twice.
/// The post waits for the Conversation's next slot, like every change to it.
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
    let marker = serde_json::json!({"relay_of": copy.source_message_sid}).to_string();
    let since = twilio_since(first_attempt_ms);
    if retry && already_relayed(twilio, copy.conversation_sid, &marker, since).await? {
        return Ok(());
    }
    let wait = worker
        .state
        .store
        .take_slot(neighborhood_id, copy.conversation_sid, CONVERSATION_SPACING)
        .await?;
    tokio::time::sleep(wait).await;
    let request = CreateConversationMessage {
        author: Some(copy.author.to_owned()),
        body: copy.body.to_owned(),
        attributes: Some(marker),
        webhook_enabled: false,
    };
    twilio
        .client
        .create_conversation_message(copy.conversation_sid, &request)
        .await?;
    Ok(())
}

/// Whether the shard holds a message marked `marker` among those added since `since`, read
/// newest first, page after page, until one older than `since`.
async fn already_relayed(
    twilio: &TwilioAccount,
    conversation_sid: &str,
    marker: &str,
    since: time::OffsetDateTime,
) -> Result<bool, TwilioError> {
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
        if page
            .items
            .iter()
            .any(|m| m.attributes.as_deref() == Some(marker))
        {
            return Ok(true);
        }
        let reached_older = page
            .items
            .last()
            .is_none_or(|oldest| oldest.created_at().is_none_or(|created| created < since));
        match page.next_page_url {
            Some(next) if !reached_older => {
                page = twilio.client.next_conversation_messages(&next).await?;
            }
            _ => return Ok(false),
        }
    }
    tracing::warn!(
        conversation_sid,
        pages = RELAY_LOOKBACK_PAGES,
        "a relay retried so late that its earlier copy could not be looked for; posting it"
    );
    Ok(false)
}
