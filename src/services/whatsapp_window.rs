//! WhatsApp's 24-hour customer service window, handled for the neighbor.
//!
//! Free-form messages (the group's texts, our notices) reach a WhatsApp user only within 24
//! hours of their last message to the sender; outside it Twilio fails them with 63016 and only
//! an approved template gets through. So, per WhatsApp member:
//! - every message they send (to the group, a keyword, anything) opens their window again;
//! - when the group writes while their window is closed, they are marked as missing it from
//!   that point of the history and sent the new-messages template, at most once a day;
//! - our own 1:1 texts to them (a welcome, a captain's reply) wait until they write;
//! - when they write again, the waiting texts go first, then what the group said since they
//!   began to miss it, in one catch-up text;
//! - announcements reach them as the announcement template when the text can be its variable,
//!   otherwise as the new-messages notice.
//!
//! The window is measured by the service's clock (`Settings::clock`), from the messages the
//! webhooks see: the pre-event webhook for their group texts, the sender's SMS webhook for
//! everything else.

use uuid::Uuid;

use crate::domain::catch_up;
use crate::domain::channel::Channel;
use crate::domain::member::{MemberStatus, Placed};
use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;
use crate::i18n::Language;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::outbox::{Effect, WhatsappTemplate};

/// How long after a user's last message free-form messages reach them.
pub const WINDOW_MS: i64 = 24 * 3600 * 1000;
/// The least time between two new-messages templates to one member.
pub const NOTICE_INTERVAL_MS: i64 = 24 * 3600 * 1000;
/// WhatsApp refuses a template variable with a line break, a tab or more than four spaces in a
/// row, and a template body over 1,024 characters; this leaves room for the template's words.
const MAX_ANNOUNCEMENT_VARIABLE: usize = 900;
/// Messages a catch-up after a closed window shows at most (the newest).
const CATCH_UP_MESSAGES: usize = 20;

/// Whether free-form messages reach someone who last wrote at `last_inbound` (Unix ms).
pub fn is_open(last_inbound: Option<i64>, now_ms: i64) -> bool {
    last_inbound.is_some_and(|last| now_ms - last < WINDOW_MS)
}

/// Active WhatsApp members (but `except`) whom free-form messages do not reach now.
async fn outside_window<'a, M: Placed>(
    state: &AppState,
    neighborhood_id: Uuid,
    members: &'a [M],
    except: Option<Uuid>,
) -> Result<Vec<&'a M>, StoreError> {
    let on_whatsapp: Vec<&M> = members
        .iter()
        .filter(|member| {
            member.channel() == Channel::Whatsapp
                && member.status() == MemberStatus::Active
                && Some(member.member_id()) != except
        })
        .collect();
    if on_whatsapp.is_empty() {
        return Ok(Vec::new());
    }
    let last_inbound = state.store.whatsapp_last_inbound(neighborhood_id).await?;
    let now = state.settings.clock.now_ms();
    Ok(on_whatsapp
        .into_iter()
        .filter(|member| !is_open(last_inbound.get(member.phone().as_str()).copied(), now))
        .collect())
}

/// Marks `missing` as missing the group from this point of the history, and queues the
/// new-messages template to those not marked before (the outbox keeps it to one a day).
async fn mark_missing<M: Placed>(
    state: &AppState,
    neighborhood_id: Uuid,
    missing: &[&M],
) -> Result<Vec<Effect>, StoreError> {
    let phones: Vec<&Phone> = missing.iter().map(|member| member.phone()).collect();
    let newly = state
        .store
        .mark_whatsapp_missed(neighborhood_id, &phones)
        .await?;
    Ok(missing
        .iter()
        .filter(|member| newly.iter().any(|phone| phone == member.phone().as_str()))
        .map(|member| Effect::SendWhatsappTemplate {
            to: Channel::Whatsapp.address(member.phone()),
            template: WhatsappTemplate::NewMessages,
            language: member.language(),
        })
        .collect())
}

/// What a group message means for WhatsApp members outside their window: the effects that tell
/// them, and who they are (Twilio fails their copies, so nobody pays for those).
pub struct Missed {
    pub effects: Vec<Effect>,
    pub unreached: Vec<Uuid>,
}

/// Before a member's group message is recorded: WhatsApp members outside their window miss it.
pub async fn group_message<M: Placed>(
    state: &AppState,
    neighborhood_id: Uuid,
    members: &[M],
    author: Option<Uuid>,
) -> Result<Missed, StoreError> {
    let missing = outside_window(state, neighborhood_id, members, author).await?;
    Ok(Missed {
        effects: mark_missing(state, neighborhood_id, &missing).await?,
        unreached: missing.iter().map(|member| member.member_id()).collect(),
    })
}

/// Before an announcement to the whole group is recorded: WhatsApp members outside their window
/// get it as the announcement template when it can be one, or the new-messages notice.
pub async fn announcement(
    state: &AppState,
    neighborhood: &Neighborhood,
    text: &str,
) -> Result<Vec<Effect>, StoreError> {
    if neighborhood.whatsapp_sender.is_none() {
        return Ok(Vec::new());
    }
    let members = state.store.roster(neighborhood.id).await?;
    let missing = outside_window(state, neighborhood.id, &members, None).await?;
    let as_template = announcement_variable(state, text);
    let (templated, noticed): (Vec<_>, Vec<_>) =
        missing.into_iter().partition(|_| as_template.is_some());
    let mut effects: Vec<Effect> = templated
        .iter()
        .map(|member| Effect::SendWhatsappTemplate {
            to: Channel::Whatsapp.address(member.phone()),
            template: WhatsappTemplate::Announcement {
                text: as_template.clone().unwrap_or_default(),
            },
            language: member.language(),
        })
        .collect();
    effects.extend(mark_missing(state, neighborhood.id, &noticed).await?);
    Ok(effects)
}

/// The announcement as the template's variable, if there is such a template and it can be one.
fn announcement_variable(state: &AppState, text: &str) -> Option<String> {
    state
        .twilio
        .as_ref()?
        .whatsapp_templates
        .announcement
        .as_ref()?;
    let fits = text.chars().count() <= MAX_ANNOUNCEMENT_VARIABLE
        && !text.contains(['\n', '\r', '\t'])
        && !text.contains("     ");
    fits.then(|| text.to_owned())
}

/// A 1:1 text to `phone` on WhatsApp: kept for later (true) when their window is closed, with the
/// new-messages template queued (in their language) if this is the first thing they miss.
pub async fn hold_if_closed(
    state: &AppState,
    neighborhood_id: Uuid,
    phone: &Phone,
    text: &str,
) -> Result<bool, StoreError> {
    let last_inbound = state.store.whatsapp_last_inbound(neighborhood_id).await?;
    if is_open(
        last_inbound.get(phone.as_str()).copied(),
        state.settings.clock.now_ms(),
    ) {
        return Ok(false);
    }
    if state
        .store
        .hold_whatsapp_text(neighborhood_id, phone, text)
        .await?
    {
        let language = state
            .store
            .member_by_phone(neighborhood_id, phone)
            .await?
            .and_then(|member| member.language);
        let notice = Effect::SendWhatsappTemplate {
            to: Channel::Whatsapp.address(phone),
            template: WhatsappTemplate::NewMessages,
            language,
        };
        state
            .store
            .enqueue_effects(neighborhood_id, std::slice::from_ref(&notice))
            .await?;
    }
    Ok(true)
}

/// `phone` wrote to the neighborhood's WhatsApp sender: their window is open again, and what
/// they missed is queued to them, once: our kept texts first, then the group's messages since
/// they began to miss it. True when something was queued. A LEAVE or STOP (`leaving`) drops
/// what was kept instead: nothing more goes to someone on their way out.
pub async fn wrote(
    state: &AppState,
    neighborhood: &Neighborhood,
    phone: &Phone,
    member_id: Option<Uuid>,
    leaving: bool,
    language: Language,
) -> Result<bool, StoreError> {
    let reopened = state
        .store
        .reopen_whatsapp_window(neighborhood.id, phone, state.settings.clock.now_ms())
        .await?;
    if leaving {
        return Ok(false);
    }
    let address = Channel::Whatsapp.address(phone);
    let mut effects: Vec<Effect> = reopened
        .held
        .into_iter()
        .map(|body| Effect::SendSms {
            to: address.clone(),
            body,
        })
        .collect();
    if let Some(from) = reopened.missed_from {
        let lines = missed_messages(state, neighborhood.id, &from, member_id).await?;
        if let Some(body) = catch_up::digest(language, neighborhood.name.as_str(), &lines) {
            effects.push(Effect::SendSms {
                to: address.clone(),
                body,
            });
        }
    }
    if effects.is_empty() {
        return Ok(false);
    }
    state
        .store
        .enqueue_effects(neighborhood.id, &effects)
        .await?;
    Ok(true)
}

/// The group's messages from history position `from` on (but the member's own and
/// announcements to a chosen audience), oldest first, as `Name: text` lines.
async fn missed_messages(
    state: &AppState,
    neighborhood_id: Uuid,
    from: &str,
    member_id: Option<Uuid>,
) -> Result<Vec<String>, StoreError> {
    let from = stream_position(from);
    let mut newest_first = state
        .store
        .messages(neighborhood_id, None, CATCH_UP_MESSAGES, |entry| {
            entry.audience.is_none() && (member_id.is_none() || entry.member_id != member_id)
        })
        .await?;
    newest_first.retain(|message| stream_position(&message.id) >= from);
    Ok(newest_first
        .into_iter()
        .rev()
        .map(|message| format!("{}: {}", message.entry.sender_name, message.entry.body))
        .collect())
}

/// A stream id (`<ms>-<seq>`) as a comparable pair.
fn stream_position(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_open_for_24_hours_after_the_last_message() {
        let wrote = 1_000_000;
        assert!(!is_open(None, wrote));
        assert!(is_open(Some(wrote), wrote + WINDOW_MS - 1));
        assert!(!is_open(Some(wrote), wrote + WINDOW_MS));
    }

    #[test]
    fn stream_positions_compare_by_time_then_sequence() {
        assert!(stream_position("1700000000000-1") > stream_position("1700000000000-0"));
        assert!(stream_position("1700000000001-0") > stream_position("1700000000000-9"));
    }
}
