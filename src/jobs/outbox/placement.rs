//! Adding a member to the group text: a place in a Conversation with room (Twilio allows 50 SMS
//! participants in one), opening new Conversations when all are full.
//!
//! Members approved together fill the Conversations side by side: each addition reserves a
//! place in the Conversation with room that is free soonest, and waits for that Conversation's
//! next slot, so none gets more than Twilio's mutations per second. When there is no room, one
//! task per neighborhood opens as many new Conversations as the members waiting for room need,
//! several at once.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use uuid::Uuid;

use super::{
    CONVERSATION_SPACING, EffectError, IDLE_PAUSE, SHARD_CAPACITY, SHARD_LOCK_TTL, Worker,
    update_member,
};
use crate::domain::member::{Member, MemberStatus, Participant, SyncState};
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState, Shard, shard_unique_name};
use crate::state::{AppState, TwilioAccount};
use crate::store::outbox::Effect;
use crate::store::shards::Place;
use crate::store::{StoreError, UpdateError};
use crate::twilio::TwilioError;
use crate::twilio::types::{ConversationParams, ConversationState, CreateMessagingParticipant};

/// New Conversations opened in one go, at most (Twilio allows 30 creations a second per
/// Messaging Service).
const MAX_OPENED_AT_ONCE: usize = 20;
/// Conversation creations in flight at once.
const CREATIONS_AT_ONCE: usize = 10;
/// How long an addition waits, at most, while another instance opens Conversations.
const ROUNDS_WHILE_LOCKED: u32 = (SHARD_LOCK_TTL.as_millis() / IDLE_PAUSE.as_millis()) as u32 + 1;

/// Per neighborhood: whose turn it is to open Conversations, and how many additions wait for room.
#[derive(Default)]
pub struct ShardOpeners {
    by_neighborhood: Mutex<HashMap<Uuid, Arc<Opener>>>,
}

#[derive(Default)]
struct Opener {
    turn: tokio::sync::Mutex<()>,
    waiting: AtomicUsize,
    /// How many times Conversations were opened: an addition that waited for its turn while
    /// others opened some tries for a place again instead of opening more.
    rounds: AtomicU64,
}

impl ShardOpeners {
    fn of(&self, neighborhood_id: Uuid) -> Arc<Opener> {
        let mut openers = self
            .by_neighborhood
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        openers.entry(neighborhood_id).or_default().clone()
    }
}

/// Counts an addition as waiting for room while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) async fn add_participant(
    worker: &Worker,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<(), EffectError> {
    let state = &worker.state;
    let Some(member) = state.store.member(neighborhood_id, member_id).await? else {
        return Ok(());
    };
    if member.status != MemberStatus::Active || member.participant.is_some() {
        // Removed meanwhile, or already placed by an earlier run of this effect (which may have
        // died before settling its place): nothing is left to do for this effect (a removal
        // still queued settles its own part).
        let placed_in = member
            .participant
            .as_ref()
            .map(|p| p.conversation_sid.as_str());
        state
            .store
            .settle_place(neighborhood_id, member_id, placed_in)
            .await?;
        return Ok(update_member(state, neighborhood_id, member_id, |m| {
            let placed = m.participant.is_some() && m.status == MemberStatus::Active;
            let out = m.participant.is_none() && m.status != MemberStatus::Active;
            if placed || out {
                m.sync = SyncState::Done
            }
        })
        .await?);
    }
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(());
    };
    if neighborhood.state == NeighborhoodState::Archived {
        state
            .store
            .settle_place(neighborhood_id, member_id, None)
            .await?;
        return Ok(());
    }
    // Each refusal for a full Conversation marks it full; there can be no more rounds than
    // Conversations + 1 (counting those opened meanwhile, at most a round's worth each time).
    for _ in 0..=neighborhood.shards.len() + MAX_OPENED_AT_ONCE + 1 {
        let place = reserve_place(worker, neighborhood_id, member_id).await?;
        tokio::time::sleep(place.wait).await;
        let shard = place.conversation_sid;
        let Some(proxy_address) = neighborhood.proxy_address(member.channel) else {
            state
                .store
                .settle_place(neighborhood_id, member_id, None)
                .await?;
            return Err(EffectError::NoWhatsappSender);
        };
        let request = CreateMessagingParticipant {
            address: member.address(),
            proxy_address,
            attributes: Some(serde_json::json!({"member_id": member.id}).to_string()),
            webhook_enabled: false,
        };
        let placed = match worker
            .twilio
            .client
            .create_messaging_participant(&shard, &request)
            .await
        {
            Ok(participant) => Participant {
                conversation_sid: shard,
                participant_sid: participant.sid,
            },
            // Already bound: an earlier attempt succeeded but its answer was lost, so the place
            // is counted where the participant is.
            Err(error) if matches!(error.code(), Some(50437) | Some(50416)) => {
                match existing_participant(&worker.twilio, state, &member).await? {
                    Some(found) => found,
                    None => {
                        // Bound in a Conversation of no shard of ours: retrying cannot help.
                        state
                            .store
                            .settle_place(neighborhood_id, member_id, None)
                            .await?;
                        return Err(error.into());
                    }
                }
            }
            // Full after all (a participant added outside this service): Twilio's word stands.
            Err(error) if error.code() == Some(50422) => {
                state
                    .store
                    .mark_shard_full(neighborhood_id, member_id, &shard, SHARD_CAPACITY)
                    .await?;
                continue;
            }
            // The participant may be there (Twilio failed or timed out after adding it): the
            // place stays reserved for the retry, which finds it there or adds it there.
            Err(error) if error.may_have_been_applied() => return Err(error.into()),
            Err(error) => {
                state
                    .store
                    .settle_place(neighborhood_id, member_id, None)
                    .await?;
                return Err(error.into());
            }
        };
        let conversation_sid = placed.conversation_sid.clone();
        record_placement(state, neighborhood_id, member_id, placed).await?;
        state
            .store
            .settle_place(neighborhood_id, member_id, Some(&conversation_sid))
            .await?;
        return Ok(());
    }
    Err(EffectError::ShardBusy)
}

/// A place in the Conversation with room that is free soonest, opening new Conversations when
/// every one is full.
async fn reserve_place(
    worker: &Worker,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<Place, EffectError> {
    let opener = worker.openers.of(neighborhood_id);
    for _ in 0..ROUNDS_WHILE_LOCKED {
        let round = opener.rounds.load(Ordering::SeqCst);
        if let Some(place) = try_reserve(&worker.state, neighborhood_id, member_id).await? {
            return Ok(place);
        }
        let waiting = Waiting::new(&opener.waiting);
        let turn = opener.turn.lock().await;
        if opener.rounds.load(Ordering::SeqCst) != round {
            continue;
        }
        // Another instance may have opened some.
        if let Some(place) = try_reserve(&worker.state, neighborhood_id, member_id).await? {
            return Ok(place);
        }
        let wanted = opener
            .waiting
            .load(Ordering::SeqCst)
            .div_ceil(SHARD_CAPACITY as usize)
            .clamp(1, MAX_OPENED_AT_ONCE);
        let opened = open_shards(worker, neighborhood_id, wanted).await;
        opener.rounds.fetch_add(1, Ordering::SeqCst);
        drop(turn);
        drop(waiting);
        match opened {
            Ok(()) => {}
            Err(EffectError::ShardLocked) => tokio::time::sleep(IDLE_PAUSE).await,
            Err(error) => return Err(error),
        }
    }
    Err(EffectError::ShardLocked)
}

async fn try_reserve(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<Option<Place>, StoreError> {
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(None);
    };
    let shards: Vec<&str> = neighborhood
        .shards
        .iter()
        .map(|shard| shard.conversation_sid.as_str())
        .collect();
    state
        .store
        .reserve_place(
            neighborhood_id,
            member_id,
            &shards,
            SHARD_CAPACITY,
            CONVERSATION_SPACING,
        )
        .await
}

/// Opens `wanted` new Conversations, several at once, holding the neighborhood's lock so two
/// instances do not both open them. ShardLocked when another instance holds it.
async fn open_shards(
    worker: &Worker,
    neighborhood_id: Uuid,
    wanted: usize,
) -> Result<(), EffectError> {
    let state = &worker.state;
    let token = Uuid::new_v4().to_string();
    if !state
        .store
        .lock_shard_creation(neighborhood_id, &token, SHARD_LOCK_TTL)
        .await?
    {
        return Err(EffectError::ShardLocked);
    }
    let opened = open_shards_locked(worker, neighborhood_id, wanted).await;
    state
        .store
        .unlock_shard_creation(neighborhood_id, &token)
        .await?;
    opened
}

async fn open_shards_locked(
    worker: &Worker,
    neighborhood_id: Uuid,
    wanted: usize,
) -> Result<(), EffectError> {
    let state = &worker.state;
    let neighborhood = state
        .store
        .get_neighborhood(neighborhood_id)
        .await?
        .ok_or(EffectError::ShardBusy)?;
    // Unused indexes, lowest first: one that failed last time is tried again.
    let taken: HashSet<String> = neighborhood
        .shards
        .iter()
        .map(|shard| shard.unique_name.clone())
        .collect();
    let creations: Vec<_> = (0..)
        .filter(|index| !taken.contains(&shard_unique_name(neighborhood_id, *index)))
        .take(wanted)
        .map(|index| create_shard(&worker.twilio, &neighborhood, index))
        .collect();
    let created: Vec<Result<Shard, TwilioError>> = futures::stream::iter(creations)
        .buffered(CREATIONS_AT_ONCE)
        .collect()
        .await;
    let mut new_shards = Vec::new();
    let mut failure = None;
    for result in created {
        match result {
            Ok(shard) => new_shards.push(shard),
            Err(error) => failure = Some(error),
        }
    }
    if new_shards.is_empty() {
        return Err(failure.map_or(EffectError::ShardBusy, EffectError::from));
    }
    for shard in &new_shards {
        state
            .store
            .index_conversation(&shard.conversation_sid, neighborhood_id)
            .await?;
    }
    state
        .store
        .update_neighborhood(neighborhood_id, |n| {
            for shard in &new_shards {
                if !n
                    .shards
                    .iter()
                    .any(|known| known.conversation_sid == shard.conversation_sid)
                {
                    n.shards.push(shard.clone());
                }
            }
            Ok::<_, std::convert::Infallible>(())
        })
        .await
        .map_err(|error| match error {
            crate::store::UpdateError::Store(error) => EffectError::Store(error),
            _ => EffectError::ShardBusy,
        })?;
    tracing::info!(
        opened = new_shards.len(),
        shards = neighborhood.shards.len() + new_shards.len(),
        "new Conversations for a neighborhood past 50 members a Conversation"
    );
    Ok(())
}

async fn create_shard(
    twilio: &TwilioAccount,
    neighborhood: &Neighborhood,
    index: usize,
) -> Result<Shard, TwilioError> {
    let unique_name = shard_unique_name(neighborhood.id, index);
    let params = ConversationParams {
        friendly_name: Some(neighborhood.name.as_str().to_owned()),
        unique_name: Some(unique_name.clone()),
        attributes: Some(
            serde_json::json!({"neighborhood_id": neighborhood.id, "shard": index}).to_string(),
        ),
        messaging_service_sid: Some(twilio.messaging_service_sid.clone()),
        state: Some(ConversationState::Active),
        ..ConversationParams::default()
    };
    let conversation = match twilio.client.create_conversation(&params).await {
        Ok(conversation) => conversation,
        // 50353: the unique name exists, from an attempt whose answer was lost.
        Err(error) if error.code() == Some(50353) => {
            twilio.client.fetch_conversation(&unique_name).await?
        }
        Err(error) => return Err(error),
    };
    Ok(Shard {
        conversation_sid: conversation.sid,
        unique_name,
    })
}

/// Records the member's new participant. If they left or were removed while it was being made,
/// it is taken out again, so no one stays in the group text against their record.
async fn record_placement(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    placed: Participant,
) -> Result<(), StoreError> {
    let recorded = UpdateError::unless_gone(
        state
            .store
            .update_member(neighborhood_id, member_id, |member| {
                member.participant = Some(placed.clone());
                Ok::<_, StoreError>(if member.status == MemberStatus::Active {
                    member.sync = SyncState::Done;
                    Vec::new()
                } else {
                    member.sync = SyncState::Pending;
                    vec![Effect::RemoveParticipant {
                        member_id,
                        conversation_sid: placed.conversation_sid.clone(),
                        participant_sid: placed.participant_sid.clone(),
                    }]
                })
            })
            .await,
    )?;
    // Deleted meanwhile, or kept changing: the periodic reconciliation finds the participant.
    if recorded.is_some() {
        state
            .store
            .index_participant(neighborhood_id, &placed.participant_sid, member_id)
            .await?;
    }
    Ok(())
}

/// Where the member's (phone, neighborhood number) pair is bound now, according to Twilio, among
/// the neighborhood's Conversations as they are now: the one the addition reserved may have been
/// opened after the addition began (while it waited for room). Judged against an older list, a
/// participant there would look bound elsewhere and its place be given back while it holds it,
/// so the Conversation would be counted one short, filled past 50 and recounted at 50, and
/// counted one over once the participant was found there on a retry.
async fn existing_participant(
    twilio: &TwilioAccount,
    state: &AppState,
    member: &Member,
) -> Result<Option<Participant>, EffectError> {
    let found = twilio
        .client
        .participant_conversations_by_address(&member.address())
        .await?;
    let Some(neighborhood) = state.store.get_neighborhood(member.neighborhood_id).await? else {
        return Ok(None);
    };
    let shards: Vec<&str> = neighborhood
        .shards
        .iter()
        .map(|shard| shard.conversation_sid.as_str())
        .collect();
    Ok(found
        .into_iter()
        .find(|entry| shards.contains(&entry.conversation_sid.as_str()))
        .and_then(|entry| {
            Some(Participant {
                conversation_sid: entry.conversation_sid,
                participant_sid: entry.participant_sid?,
            })
        }))
}
