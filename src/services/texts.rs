//! The 1:1 texts the service queues from a neighborhood's number: to the captains, to one
//! neighbor, and the welcome every new member gets. Group texts go through Twilio's
//! Conversations instead.

use uuid::Uuid;

use crate::domain::member::{Member, MemberStatus, Role};
use crate::domain::neighborhood::Neighborhood;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::outbox::Effect;

/// A text to every active owner and captain that `wanted` accepts.
pub async fn texts_to_captains(
    state: &AppState,
    neighborhood_id: Uuid,
    text: &str,
    wanted: impl Fn(&Member) -> bool,
) -> Result<Vec<Effect>, StoreError> {
    Ok(state
        .store
        .members(neighborhood_id)
        .await?
        .iter()
        .filter(|m| m.role >= Role::Captain && m.status == MemberStatus::Active && wanted(m))
        .map(|captain| Effect::SendSms {
            to: captain.address(),
            body: text.to_owned(),
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

/// The answer to HELP on WhatsApp, where Twilio answers nothing itself (on SMS it does).
pub fn whatsapp_help_text(neighborhood: &Neighborhood) -> String {
    format!(
        "{}: messages to this WhatsApp number go to all your neighbors in the group, signed with your name. Reply LEAVE to leave this group, STOP to stop all messages.",
        neighborhood.name.as_str()
    )
}

/// The confirmation of STOP on WhatsApp, which Twilio sends on SMS but not there.
pub fn whatsapp_stopped_text() -> String {
    "You will get no more messages from this number. Reply START to get them again.".to_owned()
}

/// The first text a new member gets: what the number is and how to get out.
pub fn welcome_text(neighborhood: &Neighborhood) -> String {
    format!(
        "Welcome to {}! Texts to this number go to all your neighbors in the group, signed with your name. Reply LEAVE to leave this group, STOP to stop all texts, HELP for help.",
        neighborhood.name.as_str()
    )
}
