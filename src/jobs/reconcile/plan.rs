//! What each member needs, judged from Twilio's listing alone: pure, so every rule is unit-tested
//! here and the repairing code only carries decisions out.

use std::collections::{HashMap, HashSet};

use super::report::SkipReason;
use crate::domain::member::{Member, MemberStatus, Participant, SyncState};
use crate::store::outbox::Effect;
use crate::twilio::types::Participant as TwilioParticipant;

// ----- reading Twilio's listing -----------------------------------------------------------------

/// One SMS participant as Twilio lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    pub(super) phone: String,
    pub(super) participant: Participant,
}

/// What Twilio holds in one Conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ShardListing {
    pub(super) conversation_sid: String,
    pub(super) sms: Vec<Listed>,
    pub(super) others: u32,
}

/// Sorts one Conversation's participants into SMS ones (possible members) and the rest.
pub(super) fn listing(conversation_sid: &str, participants: &[TwilioParticipant]) -> ShardListing {
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
pub(super) fn participants_by_phone(shards: &[ShardListing]) -> HashMap<&str, Vec<Participant>> {
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
pub(super) fn strays<'a>(shards: &'a [ShardListing], members: &[Member]) -> Vec<&'a Listed> {
    let phones: HashSet<&str> = members.iter().map(|member| member.phone.as_str()).collect();
    shards
        .iter()
        .flat_map(|shard| &shard.sms)
        .filter(|listed| !phones.contains(listed.phone.as_str()))
        .collect()
}

// ----- planning (pure) --------------------------------------------------------------------------

/// Why a member must be left alone this time, if so.
pub(super) fn busy(member: &Member, before_listing: Option<&Member>) -> Option<SkipReason> {
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
pub(super) enum Repair {
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

pub(super) fn plan(member: &Member, found: &[Participant]) -> Repair {
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
pub(super) fn repaired(member: &Member, repair: &Repair) -> (Member, Vec<Effect>) {
    let mut after = member.clone();
    after.updated_at = crate::domain::stored_time::now_to_the_second();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::{DisplayName, Role};
    use crate::domain::phone::Phone;
    use crate::twilio::types::MessagingBinding;
    use uuid::Uuid;

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
}
