//! What neighbors do by text: leave one neighborhood (LEAVE), stop everything (STOP is Twilio's,
//! for the whole Messaging Service), ask back in (START), or ask to join (JOIN Name). Each change
//! and its Twilio side effects are written together through the outbox.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::join_request::{Consent, JoinChannel, JoinRequest, JoinState};
use crate::domain::member::{DisplayName, Member, MemberStatus, Role, SyncState};
use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;
use crate::joining::DecisionError;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::outbox::Effect;

const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "CANCEL",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];
const HELP: [&str; 2] = ["HELP", "INFO"];

/// A text that is a keyword rather than a message for the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keyword {
    /// Leave this neighborhood only.
    Leave,
    /// Twilio's opt-out: no texts from any neighborhood of this deployment.
    Stop,
    /// Twilio's opt-in.
    Start,
    /// Twilio answers HELP itself.
    Help,
    /// `JOIN Name`: ask to join (the name may be missing).
    Join(Option<String>),
}

impl Keyword {
    /// Whole-message and case-insensitive, as carriers match them.
    pub fn parse(body: &str) -> Option<Self> {
        let text = body.trim();
        let upper = text.to_ascii_uppercase();
        if upper == "LEAVE" {
            return Some(Self::Leave);
        }
        if OPT_OUT.contains(&upper.as_str()) {
            return Some(Self::Stop);
        }
        if OPT_IN.contains(&upper.as_str()) {
            return Some(Self::Start);
        }
        if HELP.contains(&upper.as_str()) {
            return Some(Self::Help);
        }
        let mut words = text.splitn(2, char::is_whitespace);
        if words
            .next()
            .is_some_and(|first| first.eq_ignore_ascii_case("JOIN"))
        {
            let name = words
                .next()
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned);
            return Some(Self::Join(name));
        }
        None
    }
}

/// Applies `change` and queues `effects` with compare-and-set, re-reading on conflict.
async fn change_member(
    state: &AppState,
    member: &Member,
    change: impl Fn(&mut Member),
    effects: impl Fn(&Member) -> Option<Effect>,
) -> Result<(), StoreError> {
    let mut before = member.clone();
    for _ in 0..5 {
        let mut after = before.clone();
        change(&mut after);
        after.updated_at = OffsetDateTime::now_utc();
        let saved = match effects(&before) {
            Some(effect) => {
                state
                    .store
                    .save_member_with_effects(Some(&before), &after, &[effect])
                    .await?
            }
            None => {
                state
                    .store
                    .replace_members(before.neighborhood_id, &[(&before, &after)])
                    .await?
            }
        };
        if saved {
            return Ok(());
        }
        match state
            .store
            .member(member.neighborhood_id, member.id)
            .await?
        {
            Some(fresh) => before = fresh,
            None => return Ok(()),
        }
    }
    Ok(())
}

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
            to: captain.phone.as_str().to_owned(),
            body: text.to_owned(),
        })
        .collect())
}

/// The effect that takes a member's participant out of the group, if they have one.
pub fn removal(member: &Member) -> Option<Effect> {
    member
        .participant
        .as_ref()
        .map(|participant| Effect::RemoveParticipant {
            member_id: member.id,
            conversation_sid: participant.conversation_sid.clone(),
            participant_sid: participant.participant_sid.clone(),
        })
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("no such member")]
    NotFound,
    /// A role rule forbids it (the owner cannot be removed), phrased for people.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the member kept changing")]
    KeptChanging,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A captain removes a member: listed as `removed`, out of the group text, and first sent
/// `notice` if there is one. Removing a removed member again changes nothing.
pub async fn remove(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    actor: &str,
    notice: Option<&str>,
) -> Result<Member, RemoveError> {
    for _ in 0..5 {
        let before = state
            .store
            .member(neighborhood_id, member_id)
            .await?
            .ok_or(RemoveError::NotFound)?;
        crate::auth::policy::may_remove(before.role).map_err(RemoveError::Forbidden)?;
        if before.status == MemberStatus::Removed {
            return Ok(before);
        }
        let mut after = before.clone();
        after.status = MemberStatus::Removed;
        after.status_reason = Some(format!("Removed by {actor}"));
        after.updated_at = OffsetDateTime::now_utc();
        let mut effects = Vec::new();
        if let Some(notice) = notice {
            effects.push(Effect::SendSms {
                to: before.phone.as_str().to_owned(),
                body: notice.to_owned(),
            });
        }
        // Not in a Conversation yet: a queued join finds them removed and does nothing.
        after.sync = SyncState::Done;
        if let Some(effect) = removal(&before) {
            after.sync = SyncState::Pending;
            effects.push(effect);
        }
        if state
            .store
            .save_member_with_effects(Some(&before), &after, &effects)
            .await?
        {
            return Ok(after);
        }
    }
    Err(RemoveError::KeptChanging)
}

/// LEAVE: out of this neighborhood's group only, with a confirming text. The owner cannot leave
/// without handing the neighborhood over first.
pub async fn leave(
    state: &AppState,
    neighborhood: &Neighborhood,
    member: &Member,
) -> Result<(), StoreError> {
    let reply = if member.role == Role::Owner {
        "You own this neighborhood: hand it to another member before leaving (in the admin app)."
            .to_owned()
    } else {
        change_member(
            state,
            member,
            |m| {
                m.status = MemberStatus::Left;
                m.status_reason = Some("Texted LEAVE".to_owned());
                m.sync = if m.participant.is_some() {
                    SyncState::Pending
                } else {
                    SyncState::Done
                };
            },
            removal,
        )
        .await?;
        format!(
            "You left {}. Text JOIN and your name to this number to ask to rejoin.",
            neighborhood.name.as_str()
        )
    };
    queue_text(state, neighborhood.id, &member.phone, reply).await
}

/// STOP: Twilio now blocks every text to this phone from the Messaging Service, so the phone is
/// marked opted out, and taken out of the group, in every neighborhood of the deployment.
pub async fn opt_out_everywhere(state: &AppState, phone: &Phone) -> Result<(), StoreError> {
    for (neighborhood_id, _) in state.store.roles_of(phone).await? {
        if let Some(member) = state.store.member_by_phone(neighborhood_id, phone).await? {
            change_member(
                state,
                &member,
                |m| {
                    m.status = MemberStatus::OptedOut;
                    m.status_reason =
                        Some("Texted STOP: no texts from any neighborhood until START".to_owned());
                    m.sync = if m.participant.is_some() {
                        SyncState::Pending
                    } else {
                        SyncState::Done
                    };
                },
                removal,
            )
            .await?;
        }
    }
    Ok(())
}

/// A texted request to join (JOIN Name, or START after STOP): confirmed right away, since the
/// phone proved itself by texting, with the inbound text as consent evidence.
pub async fn request_by_text(
    state: &AppState,
    neighborhood: &Neighborhood,
    phone: &Phone,
    name: DisplayName,
    message_sid: &str,
) -> Result<JoinRequest, DecisionError> {
    let now = OffsetDateTime::now_utc();
    let request = JoinRequest {
        id: Uuid::now_v7(),
        number: state
            .store
            .next_join_request_number(neighborhood.id)
            .await?,
        neighborhood_id: neighborhood.id,
        phone: phone.clone(),
        name,
        address: None,
        answers: Default::default(),
        channel: JoinChannel::Sms,
        state: JoinState::PendingVerification,
        consent: Consent {
            text: format!("Texted to ask to join {}", neighborhood.name.as_str()),
            at: now,
            ip: None,
            message_sid: Some(message_sid.to_owned()),
        },
        created_at: now,
        decided_by: None,
        decided_at: None,
        member_id: None,
    };
    let id = state.store.insert_join_request(&request).await?;
    let Some(before) = state.store.join_request(neighborhood.id, id).await? else {
        return Ok(request);
    };
    if before.state != JoinState::PendingVerification {
        return Ok(before);
    }
    crate::joining::confirmed(state, neighborhood, &before).await
}

/// Queues one text from the neighborhood's number.
pub async fn queue_text(
    state: &AppState,
    neighborhood_id: Uuid,
    to: &Phone,
    body: String,
) -> Result<(), StoreError> {
    state
        .store
        .enqueue_effects(
            neighborhood_id,
            &[Effect::SendSms {
                to: to.as_str().to_owned(),
                body,
            }],
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::Keyword;

    #[test]
    fn keywords_are_whole_message_and_case_insensitive() {
        assert_eq!(Keyword::parse(" leave "), Some(Keyword::Leave));
        assert_eq!(Keyword::parse("Stop"), Some(Keyword::Stop));
        assert_eq!(Keyword::parse("unsubscribe"), Some(Keyword::Stop));
        assert_eq!(Keyword::parse("yes"), Some(Keyword::Start));
        assert_eq!(Keyword::parse("info"), Some(Keyword::Help));
        assert_eq!(
            Keyword::parse("join Ana Ruiz"),
            Some(Keyword::Join(Some("Ana Ruiz".into())))
        );
        assert_eq!(Keyword::parse("JOIN"), Some(Keyword::Join(None)));
        assert_eq!(Keyword::parse("please stop the party"), None);
        assert_eq!(Keyword::parse("joining at 7"), None);
    }
}
