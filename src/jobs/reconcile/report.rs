//! What a reconciliation reports: the body of `POST .../sync` and what the periodic run logs.

use poem_openapi::{Enum, Object};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::member::Participant;

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
#[oai(skip_serializing_if_is_none)]
pub struct Requeued {
    pub member_id: Uuid,
    pub phone: String,
    /// The participant the record named, which Twilio no longer has.
    pub previous: Option<Participant>,
}

/// A record corrected to the participant Twilio holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Relinked {
    pub member_id: Uuid,
    pub phone: String,
    pub from: Option<Participant>,
    pub to: Option<Participant>,
}

/// A participant taken out of a Conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Object)]
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
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
