//! Captains' join-request digests: which captains a new request reaches by digest, and sending a
//! captain's digest when it is due. A digest names only the requests still waiting when it goes
//! out; one whose requests were all decided meanwhile is dropped without a text.

use std::collections::HashSet;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::join_digest::{DigestItem, JoinRequestNotices, digest_text};
use crate::domain::join_request::{JoinRequest, JoinState};
use crate::domain::member::{Member, MemberStatus, Role};
use crate::i18n::Language;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::outbox::Effect;

/// How a new request reaches the captains: a text now to those who want each request, and a
/// place in the next digest of those on one.
#[derive(Debug, Default)]
pub struct Notices {
    pub texts: Vec<Effect>,
    pub digest_captains: Vec<Uuid>,
    pub item: Option<DigestItem>,
}

/// The notices of `request` reaching the captains.
pub async fn notices_for(
    state: &AppState,
    neighborhood_id: Uuid,
    request: &JoinRequest,
) -> Result<Notices, StoreError> {
    let item = DigestItem {
        number: request.number,
        name: request.name.as_str().to_owned(),
        address: request.address.clone(),
    };
    let default = default_language(state, neighborhood_id).await?;
    let mut notices = Notices::default();
    for captain in state
        .store
        .members(neighborhood_id)
        .await?
        .iter()
        .filter(|m| hears_of_requests(m))
    {
        match captain.join_request_notices() {
            JoinRequestNotices::Each => notices.texts.push(Effect::SendSms {
                to: captain.address(),
                body: crate::domain::join_digest::single_notice(
                    &item,
                    captain.language.unwrap_or(default),
                ),
            }),
            JoinRequestNotices::Never => {}
            JoinRequestNotices::Every15Minutes | JoinRequestNotices::Hourly => {
                notices.digest_captains.push(captain.id);
            }
        }
    }
    notices.item = Some(item);
    Ok(notices)
}

/// The language of texts to captains whose own is not known.
async fn default_language(state: &AppState, neighborhood_id: Uuid) -> Result<Language, StoreError> {
    Ok(state
        .store
        .get_neighborhood(neighborhood_id)
        .await?
        .map(|neighborhood| neighborhood.default_language)
        .unwrap_or_default())
}

/// Active owners and captains hear of join requests.
fn hears_of_requests(member: &Member) -> bool {
    member.role >= Role::Captain && member.status == MemberStatus::Active
}

/// Asks for the digests of `captains` to be looked at now (the job waits out each interval).
pub async fn schedule(
    state: &AppState,
    neighborhood_id: Uuid,
    captains: &[Uuid],
) -> Result<(), StoreError> {
    let now = state.settings.clock.now();
    for captain in captains {
        state
            .store
            .schedule_join_digest(neighborhood_id, *captain, now, false)
            .await?;
    }
    Ok(())
}

/// Asks for a captain's digest to be looked at now, whatever was planned (their cadence changed).
pub async fn reconsider(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<(), StoreError> {
    state
        .store
        .schedule_join_digest(neighborhood_id, member_id, state.settings.clock.now(), true)
        .await
}

/// What looking at a due digest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The digest text is queued.
    Sent,
    /// Nothing to say (no captain any more, texts off, every request decided): dropped.
    Dropped,
    /// Too soon after the last one: looked at again then.
    Later(OffsetDateTime),
    /// Another instance took it first.
    Settled,
}

/// How often a digest is re-read when it keeps changing under this instance.
const ATTEMPTS: usize = 5;

/// Sends a captain's digest if it is due, then schedules what remains.
pub async fn deliver(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<Delivery, StoreError> {
    let delivery = deliver_once(state, neighborhood_id, member_id).await?;
    match delivery {
        Delivery::Later(at) => {
            state
                .store
                .schedule_join_digest(neighborhood_id, member_id, at, true)
                .await?;
        }
        Delivery::Sent | Delivery::Dropped | Delivery::Settled => {
            if state
                .store
                .finish_join_digest(neighborhood_id, member_id)
                .await?
            {
                // Items came in after this digest: they wait for the next interval.
                let at = next_after(state, neighborhood_id, member_id).await?;
                state
                    .store
                    .schedule_join_digest(neighborhood_id, member_id, at, true)
                    .await?;
            }
        }
    }
    Ok(delivery)
}

async fn next_after(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<OffsetDateTime, StoreError> {
    let now = state.settings.clock.now();
    let member = state.store.member(neighborhood_id, member_id).await?;
    let read = state.store.join_digest(neighborhood_id, member_id).await?;
    let interval = member
        .and_then(|m| m.join_request_notices().interval())
        .unwrap_or_default();
    Ok(read
        .last_sent
        .map(|last| last + interval)
        .filter(|at| *at > now)
        .unwrap_or(now))
}

async fn deliver_once(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<Delivery, StoreError> {
    for _ in 0..ATTEMPTS {
        let now = state.settings.clock.now();
        let read = state.store.join_digest(neighborhood_id, member_id).await?;
        if read.items.is_empty() {
            return Ok(Delivery::Settled);
        }
        let captain = state
            .store
            .member(neighborhood_id, member_id)
            .await?
            .filter(hears_of_requests);
        let notices = captain
            .as_ref()
            .map_or(JoinRequestNotices::Never, Member::join_request_notices);
        // Switched to `each` meanwhile: what waits goes out now.
        if let (Some(interval), Some(last)) = (notices.interval(), read.last_sent)
            && now < last + interval
        {
            return Ok(Delivery::Later(last + interval));
        }
        let waiting = still_waiting(state, neighborhood_id, &read.items).await?;
        let text = match (&captain, notices) {
            (_, JoinRequestNotices::Never) | (None, _) => None,
            (Some(captain), _) => digest_text(
                &waiting,
                match captain.language {
                    Some(language) => language,
                    None => default_language(state, neighborhood_id).await?,
                },
            ),
        };
        let effects: Vec<Effect> = match (&captain, &text) {
            (Some(captain), Some(text)) => vec![Effect::SendSms {
                to: captain.address(),
                body: text.clone(),
            }],
            _ => Vec::new(),
        };
        let sent_at = text.is_some().then_some(now);
        if state
            .store
            .settle_join_digest(neighborhood_id, member_id, &read, &effects, sent_at)
            .await?
        {
            return Ok(if text.is_some() {
                Delivery::Sent
            } else {
                Delivery::Dropped
            });
        }
    }
    Ok(Delivery::Settled)
}

/// The digest's items whose requests still wait for a captain, oldest first.
async fn still_waiting(
    state: &AppState,
    neighborhood_id: Uuid,
    items: &[(String, String)],
) -> Result<Vec<DigestItem>, StoreError> {
    let pending: HashSet<u64> = state
        .store
        .join_requests(neighborhood_id)
        .await?
        .iter()
        .filter(|request| request.state == JoinState::Pending)
        .map(|request| request.number)
        .collect();
    let mut waiting: Vec<DigestItem> = items
        .iter()
        .filter_map(|(_, json)| serde_json::from_str::<DigestItem>(json).ok())
        .filter(|item| pending.contains(&item.number))
        .collect();
    waiting.sort_by_key(|item| item.number);
    Ok(waiting)
}
