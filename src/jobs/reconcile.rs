//! Reconciliation: compares a neighborhood's members in Redis with the SMS participants Twilio
//! lists in each of its Conversations, repairs drift in both directions and reports what it did.
//! `POST .../sync` runs it for one neighborhood; [`run_periodically`] runs it for all of them.
//!
//! Twilio-side repairs of members go through the outbox like any other member change, so they are
//! retried and never race the worker: a member whose `sync` is pending (an effect in flight) is
//! skipped, and so is one whose record changed while Twilio was being read. Only a participant
//! that belongs to no member is deleted here directly (see [`delete_stray`]).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use poem_openapi::{Enum, Object};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::time::MissedTickBehavior;
use uuid::Uuid;

use crate::domain::member::{Member, MemberStatus, Participant, SyncState};
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState};
use crate::state::{AppState, TwilioAccount};
use crate::store::StoreError;
use crate::store::outbox::Effect;
use crate::twilio::TwilioError;
use crate::twilio::types::Participant as TwilioParticipant;

/// Long enough for a neighborhood of many shards on a slow Twilio; if it lapses anyway a second
/// run only finds the first run's members pending and skips them.
const LOCK_TTL: Duration = Duration::from_secs(120);
/// Compare-and-set rounds for one member before it is reported as failed.
const SAVE_ATTEMPTS: usize = 5;
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

/// What one reconciliation found and changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Object)]
pub struct SyncReport {
    pub neighborhood_id: Uuid,
    /// Members read from Redis, in every status.
    pub members_checked: usize,
    /// Each Conversation of the neighborhood, in shard order.
    pub shards: Vec<ShardReport>,
    /// Active members Twilio had no participant for: participant cleared, an add queued.
    pub requeued: Vec<Requeued>,
    /// Records corrected to what Twilio holds, with no Twilio call: another participant or
    /// Conversation, none left, or only a stale `failed` flag cleared (`from` equals `to`).
    pub relinked: Vec<Relinked>,
    /// SMS participants that are no active member's one participant: of no member (deleted
    /// here), or a member's second one (removal queued).
    pub removed_strays: Vec<RemovedParticipant>,
    /// Participants of members who left, were removed, opted out or are paused: removal queued.
    pub removed_departed: Vec<RemovedParticipant>,
    /// Members left alone because an outbox effect for them is in flight.
    pub skipped: Vec<Skipped>,
    /// Repairs that did not happen; the next reconciliation tries again.
    pub failed: Vec<FailedRepair>,
}

/// One Conversation of the neighborhood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct ShardReport {
    pub conversation_sid: String,
    /// SMS participants Twilio listed; the shard count is reset to this.
    pub sms_participants_found: u32,
    /// What remains once the removals above are carried out (requeued members are placed
    /// wherever there is room, so they are not counted anywhere yet).
    pub sms_participants_after: u32,
    /// Chat (identity) participants and other channels: not members, left alone.
    pub other_participants: u32,
}

/// An active member Twilio had no participant for; an add was queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct Requeued {
    pub member_id: Uuid,
    pub phone: String,
    /// The participant the record named, which Twilio no longer has.
    pub previous: Option<Participant>,
}

/// A record corrected to the participant Twilio holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct Relinked {
    pub member_id: Uuid,
    pub phone: String,
    pub from: Option<Participant>,
    pub to: Option<Participant>,
}

/// A participant taken out of a Conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct RemovedParticipant {
    /// None for a participant whose phone is no member's.
    pub member_id: Option<Uuid>,
    pub phone: String,
    pub conversation_sid: String,
    pub participant_sid: String,
    /// True when the removal was queued in the outbox, false when it was deleted right away.
    pub queued: bool,
}

/// A member reconciliation left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct Skipped {
    pub member_id: Uuid,
    pub phone: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum SkipReason {
    /// An outbox effect for the member is queued or running.
    Pending,
    /// The record changed while Twilio was being read, so Twilio's answer may be out of date.
    ChangedDuringCheck,
}

/// A repair that did not happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
pub struct FailedRepair {
    pub member_id: Option<Uuid>,
    pub phone: String,
    pub participant_sid: Option<String>,
    pub error: String,
}

impl SyncReport {
    /// Whether anything was repaired (or failed to be): what the periodic run logs.
    pub fn changed_anything(&self) -> bool {
        !(self.requeued.is_empty()
            && self.relinked.is_empty()
            && self.removed_strays.is_empty()
            && self.removed_departed.is_empty()
            && self.failed.is_empty())
    }
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

/// One SMS participant as Twilio lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    phone: String,
    participant: Participant,
}

/// What Twilio holds in one Conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShardListing {
    conversation_sid: String,
    sms: Vec<Listed>,
    others: u32,
}

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

fn listing(conversation_sid: &str, participants: &[TwilioParticipant]) -> ShardListing {
    let mut sms = Vec::new();
    let mut others = 0;
    for participant in participants {
        match sms_phone(participant) {
            Some(phone) => sms.push(Listed {
                phone: phone.to_owned(),
                participant: Participant {
                    conversation_sid: conversation_sid.to_owned(),
                    participant_sid: participant.sid.clone(),
                },
            }),
            None => others += 1,
        }
    }
    ShardListing {
        conversation_sid: conversation_sid.to_owned(),
        sms,
        others,
    }
}

/// The phone of an SMS participant; None for chat (identity) participants and other channels,
/// which are never members.
fn sms_phone(participant: &TwilioParticipant) -> Option<&str> {
    let binding = participant.messaging_binding.as_ref()?;
    if binding.r#type.as_deref().is_some_and(|kind| kind != "sms") {
        return None;
    }
    binding.address.as_deref()
}

/// Every SMS participant of the neighborhood by phone, in shard order.
fn participants_by_phone(shards: &[ShardListing]) -> HashMap<&str, Vec<Participant>> {
    let mut by_phone: HashMap<&str, Vec<Participant>> = HashMap::new();
    for listed in shards.iter().flat_map(|shard| &shard.sms) {
        by_phone
            .entry(listed.phone.as_str())
            .or_default()
            .push(listed.participant.clone());
    }
    by_phone
}

/// SMS participants whose phone is no member's at all (in any status).
fn strays<'a>(shards: &'a [ShardListing], members: &[Member]) -> Vec<&'a Listed> {
    let phones: HashSet<&str> = members.iter().map(|member| member.phone.as_str()).collect();
    shards
        .iter()
        .flat_map(|shard| &shard.sms)
        .filter(|listed| !phones.contains(listed.phone.as_str()))
        .collect()
}

// ----- planning (pure) --------------------------------------------------------------------------

/// Why a member must be left alone this time, if so.
fn busy(member: &Member, before_listing: Option<&Member>) -> Option<SkipReason> {
    if member.sync == SyncState::Pending || before_listing.is_some_and(is_pending) {
        Some(SkipReason::Pending)
    } else if before_listing != Some(member) {
        Some(SkipReason::ChangedDuringCheck)
    } else {
        None
    }
}

fn is_pending(member: &Member) -> bool {
    member.sync == SyncState::Pending
}

/// What a member needs, judged against the participants Twilio lists for their phone.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Repair {
    Nothing,
    Skip(SkipReason),
    /// Active but in no Conversation: clear the participant and queue an add.
    Requeue,
    /// Only the record is wrong: point it at `to` and mark it in step.
    Relink {
        to: Option<Participant>,
    },
    /// Take `remove` out of Twilio: a departed member's participants, or an active member's extra
    /// ones (keeping `keep`).
    Remove {
        keep: Option<Participant>,
        remove: Vec<Participant>,
    },
}

fn plan(member: &Member, found: &[Participant]) -> Repair {
    if is_pending(member) {
        return Repair::Skip(SkipReason::Pending);
    }
    if member.status != MemberStatus::Active {
        return match (found.is_empty(), in_step(member, None)) {
            (false, _) => Repair::Remove {
                keep: None,
                remove: found.to_vec(),
            },
            (true, true) => Repair::Nothing,
            (true, false) => Repair::Relink { to: None },
        };
    }
    // Prefer the participant the record names, so a correct record is never rewritten.
    let recorded = member.participant.as_ref().filter(|p| found.contains(p));
    let Some(keep) = recorded.or(found.first()) else {
        return Repair::Requeue;
    };
    let extras: Vec<Participant> = found.iter().filter(|p| *p != keep).cloned().collect();
    if !extras.is_empty() {
        Repair::Remove {
            keep: Some(keep.clone()),
            remove: extras,
        }
    } else if in_step(member, Some(keep)) {
        Repair::Nothing
    } else {
        Repair::Relink {
            to: Some(keep.clone()),
        }
    }
}

/// Whether the record already says exactly `participant`, with nothing failed or waiting.
fn in_step(member: &Member, participant: Option<&Participant>) -> bool {
    member.participant.as_ref() == participant && member.sync == SyncState::Done
}

/// The member record after `repair`, and the outbox effects that go with it.
fn repaired(member: &Member, repair: &Repair) -> (Member, Vec<Effect>) {
    let mut after = member.clone();
    after.updated_at = OffsetDateTime::now_utc();
    let effects = match repair {
        Repair::Nothing | Repair::Skip(_) => Vec::new(),
        Repair::Requeue => {
            after.participant = None;
            after.sync = SyncState::Pending;
            vec![Effect::AddParticipant {
                member_id: member.id,
            }]
        }
        Repair::Relink { to } => {
            after.participant = to.clone();
            after.sync = SyncState::Done;
            Vec::new()
        }
        Repair::Remove { keep, remove } => {
            // The record must name a participant being removed (or kept), because the worker
            // clears the record only when it removes the participant the record names.
            let recorded = member.participant.clone().filter(|p| remove.contains(p));
            after.participant = keep
                .clone()
                .or(recorded)
                .or_else(|| remove.first().cloned());
            after.sync = SyncState::Pending;
            remove
                .iter()
                .map(|participant| Effect::RemoveParticipant {
                    member_id: member.id,
                    conversation_sid: participant.conversation_sid.clone(),
                    participant_sid: participant.participant_sid.clone(),
                })
                .collect()
        }
    };
    (after, effects)
}

// ----- repairing --------------------------------------------------------------------------------

/// Plans and saves one member's repair with compare-and-set, re-reading and re-planning when the
/// record changed since it was read.
async fn repair_member(
    state: &AppState,
    report: &mut SyncReport,
    mut member: Member,
    found: &[Participant],
) -> Result<(), StoreError> {
    for _ in 0..SAVE_ATTEMPTS {
        let repair = plan(&member, found);
        match &repair {
            Repair::Nothing => return Ok(()),
            Repair::Skip(reason) => {
                report.skipped.push(skipped(&member, *reason));
                return Ok(());
            }
            _ => {}
        }
        if save(state, &member, &repair).await? {
            record(report, &member, &repair);
            return Ok(());
        }
        match state
            .store
            .member(member.neighborhood_id, member.id)
            .await?
        {
            Some(fresh) => member = fresh,
            None => return Ok(()),
        }
    }
    report.failed.push(FailedRepair {
        member_id: Some(member.id),
        phone: member.phone.as_str().to_owned(),
        participant_sid: None,
        error: "the member record kept changing".to_owned(),
    });
    Ok(())
}

async fn save(state: &AppState, before: &Member, repair: &Repair) -> Result<bool, StoreError> {
    let (after, effects) = repaired(before, repair);
    if effects.is_empty() {
        state
            .store
            .replace_members(before.neighborhood_id, &[(before, &after)])
            .await
    } else {
        state
            .store
            .save_member_with_effects(Some(before), &after, &effects)
            .await
    }
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
    use crate::domain::member::{DisplayName, Role};
    use crate::domain::phone::Phone;
    use crate::twilio::types::MessagingBinding;

    fn member(status: MemberStatus, participant: Option<Participant>, sync: SyncState) -> Member {
        let mut member = Member::joining(
            Uuid::nil(),
            Phone::parse("+15550001111").expect("phone"),
            DisplayName::parse("Ana").expect("name"),
            Role::Member,
        );
        member.status = status;
        member.participant = participant;
        member.sync = sync;
        member
    }

    fn participant(conversation: &str, sid: &str) -> Participant {
        Participant {
            conversation_sid: conversation.to_owned(),
            participant_sid: sid.to_owned(),
        }
    }

    fn twilio_participant(sid: &str, binding: Option<MessagingBinding>) -> TwilioParticipant {
        serde_json::from_value(serde_json::json!({"sid": sid, "messaging_binding": binding}))
            .expect("participant")
    }

    #[test]
    fn a_member_in_step_needs_nothing() {
        let mb1 = participant("CH1", "MB1");
        let ana = member(MemberStatus::Active, Some(mb1.clone()), SyncState::Done);
        assert_eq!(plan(&ana, &[mb1]), Repair::Nothing);
        let gone = member(MemberStatus::Left, None, SyncState::Done);
        assert_eq!(plan(&gone, &[]), Repair::Nothing);
    }

    #[test]
    fn a_pending_member_is_skipped_whatever_twilio_says() {
        let ana = member(MemberStatus::Active, None, SyncState::Pending);
        assert_eq!(plan(&ana, &[]), Repair::Skip(SkipReason::Pending));
        let left = member(MemberStatus::Left, None, SyncState::Pending);
        assert_eq!(
            plan(&left, &[participant("CH1", "MB1")]),
            Repair::Skip(SkipReason::Pending)
        );
    }

    #[test]
    fn a_member_twilio_lost_is_requeued_with_an_add() {
        let ana = member(
            MemberStatus::Active,
            Some(participant("CH1", "MB1")),
            SyncState::Done,
        );
        assert_eq!(plan(&ana, &[]), Repair::Requeue);
        let (after, effects) = repaired(&ana, &Repair::Requeue);
        assert_eq!((after.participant, after.sync), (None, SyncState::Pending));
        assert_eq!(effects, [Effect::AddParticipant { member_id: ana.id }]);
    }

    #[test]
    fn a_member_twilio_holds_elsewhere_is_relinked_without_effects() {
        let ana = member(
            MemberStatus::Active,
            Some(participant("CH1", "MB1")),
            SyncState::Done,
        );
        let elsewhere = participant("CH2", "MB9");
        let repair = plan(&ana, std::slice::from_ref(&elsewhere));
        assert_eq!(
            repair,
            Repair::Relink {
                to: Some(elsewhere.clone())
            }
        );
        let (after, effects) = repaired(&ana, &repair);
        assert_eq!(after.participant, Some(elsewhere));
        assert!(effects.is_empty());
    }

    #[test]
    fn a_stale_failed_flag_is_cleared_when_twilio_matches() {
        let mb1 = participant("CH1", "MB1");
        let failed = SyncState::Failed {
            error: "timeout".into(),
            detail: None,
        };
        let ana = member(MemberStatus::Active, Some(mb1.clone()), failed);
        assert_eq!(
            plan(&ana, std::slice::from_ref(&mb1)),
            Repair::Relink { to: Some(mb1) }
        );
    }

    #[test]
    fn a_second_participant_of_a_member_is_removed_and_the_recorded_one_kept() {
        let mb1 = participant("CH1", "MB1");
        let mb2 = participant("CH2", "MB2");
        let ana = member(MemberStatus::Active, Some(mb2.clone()), SyncState::Done);
        let repair = plan(&ana, &[mb1.clone(), mb2.clone()]);
        assert_eq!(
            repair,
            Repair::Remove {
                keep: Some(mb2.clone()),
                remove: vec![mb1.clone()]
            }
        );
        let (after, effects) = repaired(&ana, &repair);
        assert_eq!(
            (after.participant, after.sync),
            (Some(mb2), SyncState::Pending)
        );
        assert_eq!(
            effects,
            [Effect::RemoveParticipant {
                member_id: ana.id,
                conversation_sid: "CH1".into(),
                participant_sid: "MB1".into()
            }]
        );
    }

    #[test]
    fn a_departed_member_still_in_twilio_is_removed() {
        let mb1 = participant("CH1", "MB1");
        for status in [
            MemberStatus::Left,
            MemberStatus::Removed,
            MemberStatus::OptedOut,
            MemberStatus::Paused,
        ] {
            // A record naming a participant Twilio does not list must end up naming one being
            // removed, or the worker would never clear it.
            let stale = Some(participant("CH1", "MB0"));
            let gone = member(status, stale, SyncState::Done);
            let repair = plan(&gone, std::slice::from_ref(&mb1));
            assert_eq!(
                repair,
                Repair::Remove {
                    keep: None,
                    remove: vec![mb1.clone()]
                }
            );
            let (after, effects) = repaired(&gone, &repair);
            assert_eq!(after.participant, Some(mb1.clone()));
            assert_eq!(effects.len(), 1);
        }
    }

    #[test]
    fn a_departed_member_naming_a_vanished_participant_is_relinked_to_none() {
        let gone = member(
            MemberStatus::Removed,
            Some(participant("CH1", "MB1")),
            SyncState::Done,
        );
        assert_eq!(plan(&gone, &[]), Repair::Relink { to: None });
    }

    #[test]
    fn a_member_that_changed_while_twilio_was_read_is_busy() {
        let ana = member(MemberStatus::Active, None, SyncState::Done);
        assert_eq!(busy(&ana, Some(&ana)), None);
        let mut earlier = ana.clone();
        earlier.sync = SyncState::Pending;
        assert_eq!(busy(&ana, Some(&earlier)), Some(SkipReason::Pending));
        earlier.sync = SyncState::Done;
        earlier.status = MemberStatus::Left;
        assert_eq!(
            busy(&ana, Some(&earlier)),
            Some(SkipReason::ChangedDuringCheck)
        );
        assert_eq!(busy(&ana, None), Some(SkipReason::ChangedDuringCheck));
    }

    #[test]
    fn chat_participants_are_not_sms_participants() {
        let sms = MessagingBinding {
            r#type: Some("sms".into()),
            address: Some("+15550001111".into()),
            proxy_address: Some("+14155550000".into()),
            projected_address: None,
        };
        let whatsapp = MessagingBinding {
            r#type: Some("whatsapp".into()),
            address: Some("whatsapp:+15550001111".into()),
            ..MessagingBinding::default()
        };
        let shard = listing(
            "CH1",
            &[
                twilio_participant("MB1", Some(sms)),
                twilio_participant("MB2", None),
                twilio_participant("MB3", Some(whatsapp)),
            ],
        );
        assert_eq!(
            shard.sms,
            [Listed {
                phone: "+15550001111".into(),
                participant: participant("CH1", "MB1")
            }]
        );
        assert_eq!(shard.others, 2);
    }

    #[test]
    fn strays_are_sms_participants_of_no_member_in_any_status() {
        let listed = |phone: &str, sid: &str| Listed {
            phone: phone.to_owned(),
            participant: participant("CH1", sid),
        };
        let shards = [ShardListing {
            conversation_sid: "CH1".into(),
            sms: vec![listed("+15550001111", "MB1"), listed("+15550002222", "MB2")],
            others: 0,
        }];
        let left = member(MemberStatus::Left, None, SyncState::Done);
        let found = strays(&shards, &[left]);
        assert_eq!(found, [&listed("+15550002222", "MB2")]);
    }

    #[test]
    fn the_claim_expires_before_the_next_period() {
        assert!(claim_ttl(Duration::from_secs(3600)) < Duration::from_secs(3600));
        assert!(claim_ttl(Duration::from_secs(3600)) > Duration::from_secs(3000));
    }
}
