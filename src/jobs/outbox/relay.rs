//! Copying a group message into the neighborhood's other Conversations.

use uuid::Uuid;

use super::{CONVERSATION_SPACING, EffectError, RELAY_LOOKBACK, Worker};
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
/// failure, a crash: the client itself never repeats the post after a 5xx) first looks for it
/// among the shard's newest messages, so a copy is not posted twice.
/// The post waits for the Conversation's next slot, like every change to it.
pub(super) async fn relay(
    worker: &Worker,
    neighborhood_id: Uuid,
    copy: &RelayCopy<'_>,
    effect_id: &str,
) -> Result<(), EffectError> {
    let twilio = &worker.twilio;
    let now_ms = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(0);
    let (_, retry) = worker
        .state
        .store
        .mark_effect_attempt(neighborhood_id, effect_id, now_ms)
        .await?;
    let marker = serde_json::json!({"relay_of": copy.source_message_sid}).to_string();
    if retry && already_relayed(twilio, copy.conversation_sid, &marker).await? {
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

async fn already_relayed(
    twilio: &TwilioAccount,
    conversation_sid: &str,
    marker: &str,
) -> Result<bool, TwilioError> {
    let recent = twilio
        .client
        .list_conversation_messages(
            conversation_sid,
            &ListConversationMessages {
                order: Some(MessageOrder::Desc),
                page_size: Some(RELAY_LOOKBACK),
            },
        )
        .await?;
    Ok(recent
        .items
        .iter()
        .any(|m| m.attributes.as_deref() == Some(marker)))
}
