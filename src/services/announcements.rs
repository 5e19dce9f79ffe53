//! Announcements from the captains: sent now, or scheduled, edited, cancelled, and sent when due.
//!
//! Sending is one compare-and-set of the stored announcement (`scheduled` to `sent`) that also
//! writes the history entry and one relay per Conversation into the outbox, so it happens once
//! whichever instance (or the API itself) gets there, and Twilio is then reached through the
//! outbox's retries. The due index only tells instances when to look (see `jobs::scheduler`).
//!
//! Quiet hours are read when an announcement is due, so changing them moves every waiting one;
//! [`reschedule_neighborhood`] tells the due index at once.

use std::collections::HashSet;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::announcement::{
    Announcement, AnnouncementBody, AnnouncementChanges, AnnouncementState, Closed,
};
use crate::domain::audience::Audience;
use crate::domain::media::MediaItem;
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState};
use crate::services::costs::{self, Estimate};
use crate::services::whatsapp_window;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::announcements::Send;
use crate::store::audit::{AuditEntry, rfc3339_now};
use crate::store::costs::HeldAnnouncement;
use crate::store::messages::HistoryEntry;

/// Tries of an edit that keeps meeting another writer.
const SAVE_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum AnnouncementError {
    #[error("no such announcement")]
    NotFound,
    #[error(transparent)]
    Closed(#[from] Closed),
    #[error("the announcement kept changing under this edit")]
    Contended,
    /// Members picked by id that are not members of the neighborhood.
    #[error("no member has some of the ids picked")]
    UnknownMembers(Vec<Uuid>),
    /// A chosen audience no active member belongs to.
    #[error("nobody in the audience can be texted")]
    EmptyAudience,
    /// A chosen audience larger than the neighborhood's daily cap on 1:1 texts: past the cap the
    /// rest would be dropped.
    #[error("the audience is larger than the daily cap on 1:1 texts")]
    OverDailyCap(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new announcement, checked.
pub struct NewAnnouncement {
    pub body: AnnouncementBody,
    /// None: now.
    pub send_at: Option<OffsetDateTime>,
    pub urgent: bool,
    /// The member signing it, or None for the neighborhood's own name.
    pub signer: (Option<Uuid>, String),
    /// The principal, as the audit log names them.
    pub created_by: String,
    /// A chosen set of members, texted 1:1; None: the whole group.
    pub audience: Option<Audience>,
    /// A picture uploaded for it (to the whole group only).
    pub media: Option<MediaItem>,
}

/// What became of a new announcement.
pub enum Posted {
    /// On its way to every Conversation; recorded in the history as `HistoryEntry`, at about
    /// `Estimate`.
    Sent(Box<Announcement>, HistoryEntry, Estimate),
    /// To go now, but the month's budget is spent: it waits with the other held announcements
    /// until a captain raises the budget or the month ends (see `costs::release_held`).
    Held(HeldAnnouncement, Estimate),
    /// Waiting for its time or for quiet hours to end.
    Scheduled(Announcement),
}

/// What the scheduler did with a due announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Sent,
    /// Not yet (quiet hours, or its time moved): looked at again then.
    Later(OffsetDateTime),
    /// Nothing left to do: sent, cancelled or gone already.
    Settled,
}

/// Checks a chosen audience against the members as they are now: every member picked by id is
/// one of the neighborhood's, and when `sending` (not for an estimate, which may say "nobody"),
/// someone in it can be texted and it fits in a day's 1:1 texts.
pub async fn check_audience(
    state: &AppState,
    neighborhood_id: Uuid,
    audience: Option<&Audience>,
    sending: bool,
) -> Result<(), AnnouncementError> {
    let Some(audience) = audience else {
        return Ok(());
    };
    let members = state.store.members(neighborhood_id).await?;
    if let Audience::Members { member_ids } = audience {
        let known: HashSet<Uuid> = members.iter().map(|m| m.id).collect();
        let unknown: Vec<Uuid> = member_ids
            .iter()
            .filter(|id| !known.contains(id))
            .copied()
            .collect();
        if !unknown.is_empty() {
            return Err(AnnouncementError::UnknownMembers(unknown));
        }
    }
    let recipients = audience.recipients(&members).len() as u64;
    if sending && recipients == 0 {
        return Err(AnnouncementError::EmptyAudience);
    }
    // 1:1 texts past the daily cap are dropped (see `services::sending`): an audience that
    // could never fit is refused rather than half sent. One that fits may still meet a cap
    // that other texts have mostly used today.
    let cap = state.settings.daily_texts_per_neighborhood;
    if sending && recipients > cap {
        return Err(AnnouncementError::OverDailyCap(cap));
    }
    Ok(())
}

/// What an announcement signed `signed` would cost if sent now, to everyone or to `audience`
/// (which may be empty: the estimate then says it reaches nobody).
pub async fn estimate(
    state: &AppState,
    neighborhood: &Neighborhood,
    signed: &str,
    audience: Option<&Audience>,
    media: Option<&MediaItem>,
) -> Result<Estimate, AnnouncementError> {
    check_audience(state, neighborhood.id, audience, false).await?;
    let plan =
        costs::plan_announcement(state, neighborhood, signed, "estimate", audience, media).await?;
    Ok(plan.estimate)
}

/// Sends at once unless a time was given or quiet hours hold it (and it is not urgent). A chosen
/// audience must hold someone who can be texted now.
pub async fn post(
    state: &AppState,
    neighborhood: &Neighborhood,
    new: NewAnnouncement,
) -> Result<Posted, AnnouncementError> {
    check_audience(state, neighborhood.id, new.audience.as_ref(), true).await?;
    let now = OffsetDateTime::now_utc();
    let announcement = Announcement {
        id: Uuid::now_v7(),
        neighborhood_id: neighborhood.id,
        body: new.body,
        signer_member_id: new.signer.0,
        signer_name: new.signer.1,
        send_at: new.send_at.unwrap_or(now),
        urgent: new.urgent,
        state: AnnouncementState::Scheduled,
        created_by: new.created_by,
        created_at: now,
        updated_at: now,
        sent_at: None,
        cancelled_at: None,
        audience: new.audience,
        media: new.media,
    };
    let sends_at = announcement.sends_at(neighborhood.quiet_hours.as_ref(), now);
    if new.send_at.is_none() && sends_at <= now {
        let plan = costs::plan_announcement(
            state,
            neighborhood,
            &announcement.signed_text(),
            &announcement.message_sid(),
            announcement.audience.as_ref(),
            announcement.media.as_ref(),
        )
        .await?;
        if plan.estimate.held {
            let held = HeldAnnouncement {
                message_sid: announcement.message_sid(),
                member_id: announcement.signer_member_id,
                sender_name: announcement.signer_name.clone(),
                body: announcement.body.as_str().to_owned(),
                signed: announcement.signed_text(),
                held_at: rfc3339_now(),
                audience: announcement.audience.clone(),
                media: announcement.media.clone(),
            };
            costs::hold(state, neighborhood.id, &held).await?;
            return Ok(Posted::Held(held, plan.estimate));
        }
        let estimate = plan.estimate.clone();
        // A new id cannot be taken, so this send cannot lose the compare-and-set.
        let (sent, entry) = send(state, neighborhood, None, &announcement, now, Some(plan)).await?;
        return Ok(Posted::Sent(Box::new(sent), entry, estimate));
    }
    // The due index first (see `store::announcements`): if the record is then not written, the
    // entry finds nothing when it comes due and is dropped.
    state
        .store
        .schedule_due(neighborhood.id, announcement.id, sends_at)
        .await?;
    state
        .store
        .save_announcement(None, &announcement, None)
        .await?;
    Ok(Posted::Scheduled(announcement))
}

/// How long a due announcement held by the budget waits before it is looked at again.
const BUDGET_RECHECK: time::Duration = time::Duration::minutes(1);

/// Writes `announcement` as sent, with its history entry and a relay into every Conversation.
/// `before` is what is stored (None: nothing yet). Errors with a conflict when it changed. With
/// `checked`, the caller priced it and found the budget allows it; without, it is priced here
/// and held while the month is over its budget.
async fn send(
    state: &AppState,
    neighborhood: &Neighborhood,
    before: Option<&Announcement>,
    announcement: &Announcement,
    now: OffsetDateTime,
    checked: Option<costs::Announcement>,
) -> Result<(Announcement, HistoryEntry), SendError> {
    let sent = announcement.sent(now).map_err(|_| SendError::Changed)?;
    let message_sid = sent.message_sid();
    // The relays name their recipients, so the cost ledger charges each copy once posted.
    let plan = match checked {
        Some(plan) => plan,
        None => {
            let plan = costs::plan_announcement(
                state,
                neighborhood,
                &sent.signed_text(),
                &message_sid,
                sent.audience.as_ref(),
                sent.media.as_ref(),
            )
            .await?;
            if plan.estimate.held {
                return Err(SendError::Held);
            }
            plan
        }
    };
    let entry = HistoryEntry {
        message_sid,
        member_id: sent.signer_member_id,
        sender_name: sent.signer_name.clone(),
        body: sent.body.as_str().to_owned(),
        conversation_sid: String::new(),
        at: rfc3339_now(),
        audience: plan.estimate.audience.clone(),
        media: sent.media.clone().into_iter().collect(),
    };
    let mut effects = plan.effects.clone();
    if sent.audience.is_none() {
        effects
            .extend(whatsapp_window::announcement(state, neighborhood, &sent.signed_text()).await?);
    }
    let send = Send {
        entry: &entry,
        effects: &effects,
        retention: state.settings.history_messages,
    };
    if state
        .store
        .save_announcement(before, &sent, Some(send))
        .await?
    {
        Ok((sent, entry))
    } else {
        Err(SendError::Changed)
    }
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    /// Someone else sent, edited or cancelled it first.
    #[error("the announcement changed before it could be sent")]
    Changed,
    /// This month's cost is at or over the budget.
    #[error("the monthly budget is spent")]
    Held,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SendError> for AnnouncementError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Store(error) => error.into(),
            // Only reachable for a brand-new id, which nobody else can know yet; and a send
            // that goes now had its budget checked by `post`.
            SendError::Changed | SendError::Held => Self::Contended,
        }
    }
}

/// Changes a scheduled announcement and tells the due index its new time.
pub async fn update(
    state: &AppState,
    neighborhood: &Neighborhood,
    id: Uuid,
    changes: AnnouncementChanges,
) -> Result<Announcement, AnnouncementError> {
    for _ in 0..SAVE_ATTEMPTS {
        let now = OffsetDateTime::now_utc();
        let current = state
            .store
            .announcement(neighborhood.id, id)
            .await?
            .ok_or(AnnouncementError::NotFound)?;
        let edited = current.edited(changes.clone(), now)?;
        let quiet = neighborhood.quiet_hours.as_ref();
        let sends_at = edited.sends_at(quiet, now);
        // The earlier of the old and new times goes into the due index before the edit, so
        // whatever fails between the two writes, the scheduler looks no later than it should
        // (and then reads the stored time).
        let earlier = sends_at.min(current.sends_at(quiet, now));
        state
            .store
            .schedule_due(neighborhood.id, id, earlier)
            .await?;
        if state
            .store
            .save_announcement(Some(&current), &edited, None)
            .await?
        {
            state
                .store
                .schedule_due(neighborhood.id, id, sends_at)
                .await?;
            return Ok(edited);
        }
    }
    Err(AnnouncementError::Contended)
}

/// Cancels a scheduled announcement; cancelling a cancelled one again changes nothing.
pub async fn cancel(
    state: &AppState,
    neighborhood_id: Uuid,
    id: Uuid,
) -> Result<(Announcement, bool), AnnouncementError> {
    for _ in 0..SAVE_ATTEMPTS {
        let now = OffsetDateTime::now_utc();
        let current = state
            .store
            .announcement(neighborhood_id, id)
            .await?
            .ok_or(AnnouncementError::NotFound)?;
        let cancelled = current.cancelled(now)?;
        if cancelled == current {
            return Ok((current, false));
        }
        if state
            .store
            .save_announcement(Some(&current), &cancelled, None)
            .await?
        {
            state.store.unschedule_due(neighborhood_id, id).await?;
            return Ok((cancelled, true));
        }
    }
    Err(AnnouncementError::Contended)
}

/// After quiet hours changed: every waiting announcement's time, recomputed, in the due index.
pub async fn reschedule_neighborhood(
    state: &AppState,
    neighborhood: &Neighborhood,
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    for id in state
        .store
        .scheduled_announcement_ids(neighborhood.id)
        .await?
    {
        if let Some(announcement) = state.store.announcement(neighborhood.id, id).await?
            && announcement.state == AnnouncementState::Scheduled
        {
            let sends_at = announcement.sends_at(neighborhood.quiet_hours.as_ref(), now);
            state
                .store
                .schedule_due(neighborhood.id, id, sends_at)
                .await?;
        }
    }
    Ok(())
}

/// Handles one announcement the scheduler claimed: sends it if it is due now, or puts it back in
/// the due index for when it will be.
pub async fn deliver_due(
    state: &AppState,
    neighborhood_id: Uuid,
    id: Uuid,
) -> Result<Due, StoreError> {
    let now = OffsetDateTime::now_utc();
    let neighborhood = state.store.get_neighborhood(neighborhood_id).await?;
    let announcement = state.store.announcement(neighborhood_id, id).await?;
    let (Some(neighborhood), Some(announcement)) = (neighborhood, announcement) else {
        state.store.unschedule_due(neighborhood_id, id).await?;
        return Ok(Due::Settled);
    };
    if announcement.state != AnnouncementState::Scheduled {
        state.store.unschedule_due(neighborhood_id, id).await?;
        return Ok(Due::Settled);
    }
    if neighborhood.state == NeighborhoodState::Archived {
        // Its Conversations are closed: nothing can carry it any more.
        if let Ok(cancelled) = announcement.cancelled(now)
            && state
                .store
                .save_announcement(Some(&announcement), &cancelled, None)
                .await?
        {
            let detail = serde_json::json!({"reason": "archived"});
            audit(state, &announcement, "announcement.cancel", detail).await;
        }
        state.store.unschedule_due(neighborhood_id, id).await?;
        return Ok(Due::Settled);
    }
    let sends_at = announcement.sends_at(neighborhood.quiet_hours.as_ref(), now);
    if sends_at > now {
        state
            .store
            .schedule_due(neighborhood_id, id, sends_at)
            .await?;
        return Ok(Due::Later(sends_at));
    }
    match send(
        state,
        &neighborhood,
        Some(&announcement),
        &announcement,
        now,
        None,
    )
    .await
    {
        Ok(_) => {
            state.store.unschedule_due(neighborhood_id, id).await?;
            let detail = serde_json::json!({"shards": neighborhood.shards.len(), "urgent": announcement.urgent});
            audit(state, &announcement, "announcement.send", detail).await;
            Ok(Due::Sent)
        }
        Err(SendError::Changed) => {
            // Edited or cancelled meanwhile: look again at once, with what is stored now.
            state.store.schedule_due(neighborhood_id, id, now).await?;
            Ok(Due::Later(now))
        }
        Err(SendError::Held) => {
            // The budget is spent: it stays scheduled until a captain raises the cap or the
            // month turns.
            let later = now + BUDGET_RECHECK;
            state.store.schedule_due(neighborhood_id, id, later).await?;
            Ok(Due::Later(later))
        }
        Err(SendError::Store(error)) => Err(error),
    }
}

/// What the scheduler did, in the neighborhood's audit log.
async fn audit(
    state: &AppState,
    announcement: &Announcement,
    action: &str,
    detail: serde_json::Value,
) {
    let entry = AuditEntry::now(
        "scheduler".to_owned(),
        action,
        format!("announcement:{}", announcement.id),
        "scheduler".to_owned(),
        detail,
    );
    state
        .store
        .record_audit(Some(announcement.neighborhood_id), &entry)
        .await;
}
