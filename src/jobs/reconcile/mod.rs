//! Reconciliation: compares a neighborhood's members in Redis with the SMS participants Twilio
//! lists in each of its Conversations, repairs drift in both directions and reports what it did.
//! `POST .../sync` runs it for one neighborhood; [`run_periodically`] runs it for all of them.
//!
//! Twilio-side repairs of members go through the outbox like any other member change, so they are
//! retried and never race the worker: a member whose `sync` is pending (an effect in flight) is
//! skipped, and so is one whose record changed while Twilio was being read. Only a participant
//! that belongs to no member is deleted here directly (see [`delete_stray`]).

mod plan;
mod report;

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use uuid::Uuid;

use crate::domain::member::{Member, Participant};
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState};
use crate::state::{AppState, TwilioAccount};
use crate::store::{StoreError, UpdateError};
use crate::twilio::TwilioError;
use plan::{
    Listed, Repair, ShardListing, busy, listing, participants_by_phone, plan, repaired, strays,
};
pub use report::{
    FailedRepair, Relinked, RemovedParticipant, Requeued, ShardReport, SkipReason, Skipped,
    SyncReport,
};

/// Long enough for a neighborhood of many shards on a slow Twilio; if it lapses anyway a second
/// run only finds the first run's members pending and skips them.
const LOCK_TTL: Duration = Duration::from_secs(120);
/// Neighborhoods read at once by the periodic run.
const NEIGHBORHOOD_PAGE: usize = 100;
/// The periodic run starts this long after startup at most (sooner for short periods): a deploy
/// does not reconcile everything at once, yet frequent restarts cannot postpone it forever.
const FIRST_RUN_AFTER: Duration = Duration::from_secs(300);

/// Why a neighborhood could not be reconciled. Apart from `Store`, nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// No such neighborhood (HTTP 404).
    #[error("no such neighborhood")]
    NotFound,
    /// Archived: its Conversations are closed and nothing is left to keep in step (HTTP 409).
    #[error("the neighborhood is archived")]
    Archived,
    /// Another reconciliation of this neighborhood is running, on this instance or another
    /// (HTTP 409; try again shortly).
    #[error("a reconciliation of this neighborhood is already running")]
    AlreadyRunning,
    /// No Twilio account (nor sandbox) is configured (HTTP 503).
    #[error("no Twilio account is configured")]
    NoTwilio,
    /// Twilio would not list one of the neighborhood's Conversations (HTTP 502, or 503 when
    /// `source.is_retryable()`). A Conversation deleted in Twilio shows up here as not found.
    #[error("Twilio could not list the participants of {conversation_sid}: {source}")]
    Twilio {
        conversation_sid: String,
        #[source]
        source: TwilioError,
    },
    /// Redis failed (HTTP 503); repairs made before it stay made.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reconciles one neighborhood now. Holds a per-neighborhood lock in Redis for the duration.
pub async fn reconcile(
    state: &AppState,
    neighborhood_id: Uuid,
) -> Result<SyncReport, ReconcileError> {
    let twilio = state.twilio.as_ref().ok_or(ReconcileError::NoTwilio)?;
    let token = Uuid::new_v4().to_string();
    if !state
        .store
        .lock_reconciliation(neighborhood_id, &token, LOCK_TTL)
        .await?
    {
        return Err(ReconcileError::AlreadyRunning);
    }
    let result = reconcile_locked(state, twilio, neighborhood_id).await;
    if let Err(error) = state
        .store
        .unlock_reconciliation(neighborhood_id, &token)
        .await
    {
        // The work is done either way; the lock expires by itself.
        tracing::warn!(%error, %neighborhood_id, "could not release the reconciliation lock");
    }
    result
}

async fn reconcile_locked(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
) -> Result<SyncReport, ReconcileError> {
    let neighborhood = state
        .store
        .get_neighborhood(neighborhood_id)
        .await?
        .ok_or(ReconcileError::NotFound)?;
    if neighborhood.state == NeighborhoodState::Archived {
        return Err(ReconcileError::Archived);
    }
    // Members are read before and after Twilio: a member whose record is the same both times, and
    // not pending, had no outbox effect running meanwhile, so Twilio's answer holds for them.
    let before = state.store.members(neighborhood_id).await?;
    let shards = list_shards(twilio, &neighborhood).await?;
    let members = state.store.members(neighborhood_id).await?;
    // Reset before any removal is queued: each queued effect then adjusts the count as it runs.
    for shard in &shards {
        state
            .store
            .set_shard_count(
                neighborhood_id,
                &shard.conversation_sid,
                shard.sms.len() as u32,
            )
            .await?;
    }
    let mut report = SyncReport {
        neighborhood_id,
        members_checked: members.len(),
        ..SyncReport::default()
    };
    let by_phone = participants_by_phone(&shards);
    let before: HashMap<Uuid, &Member> = before.iter().map(|m| (m.id, m)).collect();
    for member in &members {
        let found = by_phone
            .get(member.phone.as_str())
            .map_or(&[][..], Vec::as_slice);
        match busy(member, before.get(&member.id).copied()) {
            Some(reason) => report.skipped.push(skipped(member, reason)),
            None => repair_member(state, &mut report, member.clone(), found).await?,
        }
    }
    for stray in strays(&shards, &members) {
        delete_stray(state, twilio, &mut report, stray).await?;
    }
    report.shards = shard_reports(&shards, &report);
    Ok(report)
}

// ----- reading Twilio ---------------------------------------------------------------------------

async fn list_shards(
    twilio: &TwilioAccount,
    neighborhood: &Neighborhood,
) -> Result<Vec<ShardListing>, ReconcileError> {
    let mut listings = Vec::with_capacity(neighborhood.shards.len());
    for shard in &neighborhood.shards {
        let sid = &shard.conversation_sid;
        let participants = twilio
            .client
            .list_participants(sid)
            .await
            .map_err(|source| ReconcileError::Twilio {
                conversation_sid: sid.clone(),
                source,
            })?;
        listings.push(listing(sid, &participants));
    }
    Ok(listings)
}
// ----- repairing --------------------------------------------------------------------------------

/// Plans and saves one member's repair, planned again on the record as stored if it changed
/// since it was read.
async fn repair_member(
    state: &AppState,
    report: &mut SyncReport,
    member: Member,
    found: &[Participant],
) -> Result<(), StoreError> {
    let mut planned = Repair::Nothing;
    let mut seen = member.clone();
    let saved = state
        .store
        .update_member(member.neighborhood_id, member.id, |current| {
            planned = plan(current, found);
            seen = current.clone();
            Ok::<_, StoreError>(match &planned {
                Repair::Nothing | Repair::Skip(_) => Vec::new(),
                repair => {
                    let (after, effects) = repaired(current, repair);
                    *current = after;
                    effects
                }
            })
        })
        .await;
    match saved {
        Ok(_) => match &planned {
            Repair::Nothing => {}
            Repair::Skip(reason) => report.skipped.push(skipped(&seen, *reason)),
            repair => record(report, &seen, repair),
        },
        Err(UpdateError::NotFound) => {}
        Err(UpdateError::Contended) => report.failed.push(FailedRepair {
            member_id: Some(member.id),
            phone: member.phone.as_str().to_owned(),
            participant_sid: None,
            error: "the member record kept changing".to_owned(),
        }),
        Err(UpdateError::Store(error) | UpdateError::Rejected(error)) => return Err(error),
    }
    Ok(())
}

/// Adds a saved repair to the report.
fn record(report: &mut SyncReport, member: &Member, repair: &Repair) {
    let phone = member.phone.as_str().to_owned();
    match repair {
        Repair::Nothing | Repair::Skip(_) => {}
        Repair::Requeue => report.requeued.push(Requeued {
            member_id: member.id,
            phone,
            previous: member.participant.clone(),
        }),
        Repair::Relink { to } => report.relinked.push(Relinked {
            member_id: member.id,
            phone,
            from: member.participant.clone(),
            to: to.clone(),
        }),
        Repair::Remove { keep, remove } => {
            if keep.is_some() && member.participant != *keep {
                report.relinked.push(Relinked {
                    member_id: member.id,
                    phone: phone.clone(),
                    from: member.participant.clone(),
                    to: keep.clone(),
                });
            }
            let removed = remove.iter().map(|participant| RemovedParticipant {
                member_id: Some(member.id),
                phone: phone.clone(),
                conversation_sid: participant.conversation_sid.clone(),
                participant_sid: participant.participant_sid.clone(),
                queued: true,
            });
            if keep.is_some() {
                report.removed_strays.extend(removed);
            } else {
                report.removed_departed.extend(removed);
            }
        }
    }
}

fn skipped(member: &Member, reason: SkipReason) -> Skipped {
    Skipped {
        member_id: member.id,
        phone: member.phone.as_str().to_owned(),
        reason,
    }
}

/// Deletes a participant that belongs to no member, right away rather than through the outbox:
/// the outbox's removal effect is tied to a member (it updates their record), and a new kind of
/// effect would be unreadable to instances still running the previous release during a deploy.
/// Deleting is idempotent (not found is gone), and a failure is reported and retried by the
/// next reconciliation.
async fn delete_stray(
    state: &AppState,
    twilio: &TwilioAccount,
    report: &mut SyncReport,
    stray: &Listed,
) -> Result<(), StoreError> {
    let Participant {
        conversation_sid,
        participant_sid,
    } = &stray.participant;
    match twilio
        .client
        .delete_participant(conversation_sid, participant_sid)
        .await
    {
        Ok(()) => {}
        Err(error) if error.is_not_found() => {}
        Err(error) => {
            report.failed.push(FailedRepair {
                member_id: None,
                phone: stray.phone.clone(),
                participant_sid: Some(participant_sid.clone()),
                error: error.to_string(),
            });
            return Ok(());
        }
    }
    // The count was just reset to Twilio's listing, which included this participant.
    state
        .store
        .add_to_shard_count(report.neighborhood_id, conversation_sid, -1)
        .await?;
    report.removed_strays.push(RemovedParticipant {
        member_id: None,
        phone: stray.phone.clone(),
        conversation_sid: conversation_sid.clone(),
        participant_sid: participant_sid.clone(),
        queued: false,
    });
    Ok(())
}

fn shard_reports(shards: &[ShardListing], report: &SyncReport) -> Vec<ShardReport> {
    shards
        .iter()
        .map(|shard| {
            let removed = report
                .removed_strays
                .iter()
                .chain(&report.removed_departed)
                .filter(|removed| removed.conversation_sid == shard.conversation_sid)
                .count();
            let found = shard.sms.len() as u32;
            ShardReport {
                conversation_sid: shard.conversation_sid.clone(),
                sms_participants_found: found,
                sms_participants_after: found.saturating_sub(removed as u32),
                other_participants: shard.others,
            }
        })
        .collect()
}

// ----- the periodic run -------------------------------------------------------------------------

/// Runs forever: reconciles every active neighborhood once per `every`. Instances sharing Redis
/// take turns through a claim that expires a little before the next period, so one of them runs
/// each period.
pub async fn run_periodically(state: AppState, every: Duration) {
    let instance = Uuid::new_v4().to_string();
    let first = tokio::time::Instant::now() + every.min(FIRST_RUN_AFTER);
    let mut ticks = tokio::time::interval_at(first, every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match state
            .store
            .claim_reconcile_period(&instance, claim_ttl(every))
            .await
        {
            Ok(true) => reconcile_all(&state).await,
            Ok(false) => tracing::debug!("another instance reconciles this period"),
            Err(error) => tracing::warn!(%error, "could not claim the periodic reconciliation"),
        }
    }
}

/// Slightly shorter than the period, so the claiming instance's own next tick, which timer drift
/// may bring a little early, finds the claim expired.
fn claim_ttl(every: Duration) -> Duration {
    every.mul_f64(0.9)
}

async fn reconcile_all(state: &AppState) {
    let mut after = None;
    loop {
        let page = match state
            .store
            .list_neighborhoods(NeighborhoodState::Active, after, NEIGHBORHOOD_PAGE)
            .await
        {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, "periodic reconciliation could not list neighborhoods");
                return;
            }
        };
        for neighborhood in &page {
            reconcile_and_log(state, neighborhood.id).await;
        }
        match page.last() {
            Some(last) if page.len() == NEIGHBORHOOD_PAGE => after = Some(last.id),
            _ => return,
        }
    }
}

/// One line per neighborhood that needed repairs; counts only, never a phone number.
async fn reconcile_and_log(state: &AppState, neighborhood_id: Uuid) {
    match reconcile(state, neighborhood_id).await {
        Ok(report) if report.changed_anything() => tracing::info!(
            %neighborhood_id,
            requeued = report.requeued.len(),
            relinked = report.relinked.len(),
            removed_strays = report.removed_strays.len(),
            removed_departed = report.removed_departed.len(),
            skipped = report.skipped.len(),
            failed = report.failed.len(),
            "reconciled a neighborhood with Twilio"
        ),
        Ok(_) => tracing::debug!(%neighborhood_id, "neighborhood in step with Twilio"),
        // Someone is reconciling it right now, or it was archived since it was listed.
        Err(ReconcileError::AlreadyRunning | ReconcileError::Archived) => {}
        Err(error) => tracing::warn!(%error, %neighborhood_id, "reconciliation failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_expires_before_the_next_period() {
        assert!(claim_ttl(Duration::from_secs(3600)) < Duration::from_secs(3600));
        assert!(claim_ttl(Duration::from_secs(3600)) > Duration::from_secs(3000));
    }
}
