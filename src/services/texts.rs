//! The 1:1 texts the service queues from a neighborhood's number: to the captains, to one
//! neighbor, and the welcome every new member gets. Group texts go through Twilio's
//! Conversations instead.

use uuid::Uuid;

use crate::domain::channel::Channel;
use crate::domain::member::{Member, MemberStatus, Role};
use crate::domain::neighborhood::Neighborhood;
use crate::i18n::{self, Language};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::outbox::Effect;

/// A text to every active owner and captain that `wanted` accepts, each in their language.
pub async fn texts_to_captains(
    state: &AppState,
    neighborhood: &Neighborhood,
    text: impl Fn(Language) -> String,
    wanted: impl Fn(&Member) -> bool,
) -> Result<Vec<Effect>, StoreError> {
    Ok(state
        .store
        .members(neighborhood.id)
        .await?
        .iter()
        .filter(|m| m.role >= Role::Captain && m.status == MemberStatus::Active && wanted(m))
        .map(|captain| Effect::SendSms {
            to: captain.address(),
            body: text(neighborhood.language_for(captain.language)),
        })
        .collect())
}

/// Queues one text from the neighborhood's number.
pub async fn queue_text(
    state: &AppState,
    neighborhood_id: Uuid,
    to: &str,
    body: String,
) -> Result<(), StoreError> {
    state
        .store
        .enqueue_effects(
            neighborhood_id,
            &[Effect::SendSms {
                to: to.to_owned(),
                body,
            }],
        )
        .await
}

/// Queues the reply to an inbound text once, however often the text is acted on: `reply_to` is
/// the text's mark, so a second act (the backfill after a webhook whose write landed though its
/// answer was lost) does not text the neighbor again.
pub async fn queue_reply(
    state: &AppState,
    neighborhood_id: Uuid,
    reply_to: &str,
    to: &str,
    body: String,
) -> Result<(), StoreError> {
    state
        .store
        .enqueue_effects_once(
            neighborhood_id,
            &format!("reply:{reply_to}"),
            &[Effect::SendSms {
                to: to.to_owned(),
                body,
            }],
        )
        .await
}

/// The answer to a help word Twilio does not answer itself: any on WhatsApp, ours (AYUDA) on SMS.
pub fn help_text(neighborhood: &Neighborhood, channel: Channel, language: Language) -> String {
    let id = match channel {
        Channel::Sms => "help",
        Channel::Whatsapp => "help-whatsapp",
    };
    i18n::text(
        language,
        id,
        &[("neighborhood", neighborhood.name.as_str().into())],
    )
}

/// The confirmation of STOP on WhatsApp, which Twilio sends on SMS but not there.
pub fn whatsapp_stopped_text(language: Language) -> String {
    i18n::text(language, "stopped-whatsapp", &[])
}

/// The first text a new member gets: what the number is and how to get out.
pub fn welcome_text(neighborhood: &Neighborhood, language: Language) -> String {
    i18n::text(
        language,
        "welcome",
        &[("neighborhood", neighborhood.name.as_str().into())],
    )
}
