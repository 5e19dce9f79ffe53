//! The outbox worker: carries out queued Twilio side effects, each at least once and to the same
//! end state however often it runs (adding a participant that is already there is done; removing
//! one that is gone is done), so an effect the API acknowledged survives Twilio outages, crashes
//! and redeploys.
//!
//! Shards: a member goes into the first Conversation with room (Twilio allows 50 SMS
//! participants); when all are full, one worker (holding a lock) creates the next Conversation.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::member::{Member, MemberStatus, Participant, SyncState};
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState, Shard, shard_unique_name};
use crate::state::{AppState, TwilioAccount};
use crate::store::StoreError;
use crate::store::outbox::{Effect, OutboxEntry};
use crate::twilio::TwilioError;
use crate::twilio::types::{
    ConversationParams, ConversationState, CreateConversationMessage, CreateSmsParticipant,
    ListConversationMessages, MessageOrder, SendSms, SmsSender,
};

/// Twilio's limit of SMS participants per Conversation.
pub const SHARD_CAPACITY: u32 = 50;
/// Attempts of one effect before the member is marked failed (each attempt already retries
/// 429/5xx inside the Twilio client).
const MAX_ATTEMPTS: u32 = 6;
/// Entries a worker takes at once from one neighborhood.
const BATCH: usize = 20;
/// Pause when there was nothing to do.
const IDLE_PAUSE: Duration = Duration::from_millis(100);
/// How often the streams are rescanned for work the active set missed.
const RESCAN_EVERY: Duration = Duration::from_secs(5);
const SHARD_LOCK_TTL: Duration = Duration::from_secs(30);
/// How many of a shard's newest messages a relay checks for an earlier copy of itself.
const RELAY_LOOKBACK: u32 = 20;

/// Why an effect did not complete this time.
#[derive(Debug, thiserror::Error)]
enum EffectError {
    #[error(transparent)]
    Twilio(#[from] TwilioError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another worker is creating the shard this effect needs; try again shortly.
    #[error("a new Conversation is being created")]
    ShardBusy,
    /// Another worker holds the lock for creating the shard this effect needs: it is creating it,
    /// or it died doing so and the lock lasts until `SHARD_LOCK_TTL`. Waiting is not an attempt.
    #[error("another worker holds the lock for creating a new Conversation")]
    ShardLocked,
}

/// Runs forever: finds neighborhoods with queued effects and carries them out.
pub async fn run(state: AppState, consumer: String) {
    let Some(twilio) = state.twilio.clone() else {
        return;
    };
    let mut last_rescan = tokio::time::Instant::now() - RESCAN_EVERY;
    loop {
        if last_rescan.elapsed() >= RESCAN_EVERY {
            if let Err(error) = state.store.rescan_outboxes().await {
                tracing::debug!(%error, "outbox rescan failed");
            }
            last_rescan = tokio::time::Instant::now();
        }
        let done = match work_once(&state, &twilio, &consumer).await {
            Ok(done) => done,
            Err(error) => {
                tracing::debug!(%error, "outbox pass failed");
                0
            }
        };
        if done == 0 {
            tokio::time::sleep(IDLE_PAUSE).await;
        }
    }
}

/// One pass over every active outbox; returns how many entries it settled (not counting those
/// put back to wait for another worker). A batch runs in lanes, one per member (or texted
/// phone): different people's effects overlap, one person's stay in order.
async fn work_once(
    state: &AppState,
    twilio: &TwilioAccount,
    consumer: &str,
) -> Result<usize, StoreError> {
    let mut handled = 0;
    for neighborhood_id in state.store.active_outboxes().await? {
        let entries = state
            .store
            .claim_outbox(
                neighborhood_id,
                consumer,
                BATCH,
                state.settings.outbox_reclaim_after(),
            )
            .await?;
        if entries.is_empty() {
            state.store.retire_outbox_if_empty(neighborhood_id).await?;
            continue;
        }
        let lanes = lanes(entries).into_iter().map(|lane| async move {
            let mut settled = 0;
            for entry in lane {
                if handle(state, twilio, neighborhood_id, &entry).await? {
                    settled += 1;
                }
            }
            Ok::<_, StoreError>(settled)
        });
        for settled in futures::future::join_all(lanes).await {
            handled += settled?;
        }
    }
    Ok(handled)
}

/// Entries grouped by whom they concern, each group in stream order.
fn lanes(entries: Vec<OutboxEntry>) -> Vec<Vec<OutboxEntry>> {
    let mut lanes: Vec<(String, Vec<OutboxEntry>)> = Vec::new();
    for entry in entries {
        let subject = match &entry.effect {
            Effect::AddParticipant { member_id } | Effect::RemoveParticipant { member_id, .. } => {
                member_id.to_string()
            }
            Effect::SendSms { to, .. } => to.clone(),
            Effect::Relay {
                conversation_sid, ..
            } => conversation_sid.clone(),
        };
        match lanes.iter_mut().find(|(s, _)| *s == subject) {
            Some((_, lane)) => lane.push(entry),
            None => lanes.push((subject, vec![entry])),
        }
    }
    lanes.into_iter().map(|(_, lane)| lane).collect()
}

/// Carries out one entry; false when it was put back, uncounted, to wait for a shard lock.
async fn handle(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
    entry: &OutboxEntry,
) -> Result<bool, StoreError> {
    let outcome = match &entry.effect {
        Effect::AddParticipant { member_id } => {
            add_participant(state, twilio, neighborhood_id, *member_id).await
        }
        Effect::SendSms { to, body } => send_sms(state, twilio, neighborhood_id, to, body).await,
        Effect::Relay {
            conversation_sid,
            author,
            body,
            source_message_sid,
            recipients,
        } => {
            let copy = RelayCopy {
                conversation_sid,
                author,
                body,
                source_message_sid,
            };
            match relay(twilio, &copy, entry.attempts > 0).await {
                // Counted once posted (a retry that finds the copy posted counts it, once).
                Ok(()) => crate::costs::record(
                    state,
                    neighborhood_id,
                    Some(&format!("relay:{source_message_sid}:{conversation_sid}")),
                    crate::costs::Charge::group_copy(body, recipients),
                )
                .await
                .map_err(EffectError::from),
                Err(error) => Err(error),
            }
        }
        Effect::RemoveParticipant {
            member_id,
            conversation_sid,
            participant_sid,
        } => {
            remove_participant(
                state,
                twilio,
                neighborhood_id,
                *member_id,
                conversation_sid,
                participant_sid,
            )
            .await
        }
    };
    match outcome {
        Ok(()) => state.store.ack_outbox(neighborhood_id, &entry.id).await?,
        Err(EffectError::ShardLocked) => {
            state
                .store
                .requeue_outbox(neighborhood_id, entry, entry.attempts)
                .await?;
            return Ok(false);
        }
        Err(error) if entry.attempts + 1 < MAX_ATTEMPTS => {
            tracing::warn!(%error, attempts = entry.attempts + 1, "outbox effect failed; will retry");
            state
                .store
                .requeue_outbox(neighborhood_id, entry, entry.attempts + 1)
                .await?
        }
        Err(error) => {
            tracing::error!(%error, "outbox effect failed for good; the member is marked failed");
            let member_id = match &entry.effect {
                Effect::SendSms { .. } | Effect::Relay { .. } => {
                    state.store.ack_outbox(neighborhood_id, &entry.id).await?;
                    return Ok(true);
                }
                Effect::AddParticipant { member_id }
                | Effect::RemoveParticipant { member_id, .. } => *member_id,
            };
            let message = error.to_string();
            update_member(state, neighborhood_id, member_id, |member| {
                member.sync = SyncState::Failed {
                    error: message.clone(),
                }
            })
            .await?;
            state.store.ack_outbox(neighborhood_id, &entry.id).await?
        }
    }
    Ok(true)
}

/// Applies `change` to a member with compare-and-set, re-reading on conflict.
async fn update_member(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    change: impl Fn(&mut Member),
) -> Result<(), StoreError> {
    for _ in 0..10 {
        let Some(before) = state.store.member(neighborhood_id, member_id).await? else {
            return Ok(());
        };
        let mut after = before.clone();
        change(&mut after);
        if after == before {
            return Ok(());
        }
        after.updated_at = OffsetDateTime::now_utc();
        if state
            .store
            .replace_members(neighborhood_id, &[(&before, &after)])
            .await?
        {
            return Ok(());
        }
    }
    Ok(())
}

async fn add_participant(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<(), EffectError> {
    let Some(member) = state.store.member(neighborhood_id, member_id).await? else {
        return Ok(());
    };
    if member.status != MemberStatus::Active || member.participant.is_some() {
        // Removed meanwhile, or already placed by an earlier run of this effect: nothing is
        // left to do for this effect (a removal still queued settles its own part).
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
        return Ok(());
    }
    // Each refusal for a full shard marks it full; there can be no more rounds than shards + 1.
    for _ in 0..=neighborhood.shards.len() + 1 {
        let shard = shard_with_room(state, twilio, neighborhood_id).await?;
        let request = CreateSmsParticipant {
            address: member.phone.as_str().to_owned(),
            proxy_address: neighborhood.phone_number.as_str().to_owned(),
            attributes: Some(serde_json::json!({"member_id": member.id}).to_string()),
            webhook_enabled: false,
        };
        let placed = match twilio.client.create_sms_participant(&shard, &request).await {
            Ok(participant) => {
                state
                    .store
                    .add_to_shard_count(neighborhood_id, &shard, 1)
                    .await?;
                Participant {
                    conversation_sid: shard,
                    participant_sid: participant.sid,
                }
            }
            // Already bound: an earlier attempt succeeded but its answer was lost.
            Err(error) if matches!(error.code(), Some(50437) | Some(50416)) => {
                match existing_participant(twilio, &member, &neighborhood).await? {
                    Some(found) => found,
                    None => return Err(error.into()),
                }
            }
            Err(error) if error.code() == Some(50422) => {
                state
                    .store
                    .set_shard_count(neighborhood_id, &shard, SHARD_CAPACITY)
                    .await?;
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        record_placement(state, neighborhood_id, member_id, placed).await?;
        return Ok(());
    }
    Err(EffectError::ShardBusy)
}

/// Records the member's new participant. If they left or were removed while it was being made,
/// it is taken out again, so no one stays in the group text against their record.
async fn record_placement(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    placed: Participant,
) -> Result<(), StoreError> {
    for _ in 0..10 {
        let Some(before) = state.store.member(neighborhood_id, member_id).await? else {
            return Ok(());
        };
        let mut after = before.clone();
        after.participant = Some(placed.clone());
        after.updated_at = OffsetDateTime::now_utc();
        let effects = if before.status == MemberStatus::Active {
            after.sync = SyncState::Done;
            Vec::new()
        } else {
            after.sync = SyncState::Pending;
            vec![Effect::RemoveParticipant {
                member_id,
                conversation_sid: placed.conversation_sid.clone(),
                participant_sid: placed.participant_sid.clone(),
            }]
        };
        if state
            .store
            .save_member_with_effects(Some(&before), &after, &effects)
            .await?
        {
            return state
                .store
                .index_participant(neighborhood_id, &placed.participant_sid, member_id)
                .await;
        }
    }
    Ok(())
}

/// Where the member's (phone, neighborhood number) pair is bound now, according to Twilio.
async fn existing_participant(
    twilio: &TwilioAccount,
    member: &Member,
    neighborhood: &Neighborhood,
) -> Result<Option<Participant>, TwilioError> {
    let shards: Vec<&str> = neighborhood
        .shards
        .iter()
        .map(|shard| shard.conversation_sid.as_str())
        .collect();
    let found = twilio
        .client
        .participant_conversations_by_address(member.phone.as_str())
        .await?;
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

/// The neighborhood, and its first Conversation with room, if any.
async fn open_shard(
    state: &AppState,
    neighborhood_id: Uuid,
) -> Result<(Neighborhood, Option<String>), EffectError> {
    let neighborhood = state
        .store
        .get_neighborhood(neighborhood_id)
        .await?
        .ok_or(EffectError::ShardBusy)?;
    let counts = state.store.shard_counts(neighborhood_id).await?;
    let open = neighborhood
        .shards
        .iter()
        .find(|shard| counts.get(&shard.conversation_sid).copied().unwrap_or(0) < SHARD_CAPACITY)
        .map(|shard| shard.conversation_sid.clone());
    Ok((neighborhood, open))
}

/// The first Conversation with room, creating the next one when all are full.
async fn shard_with_room(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
) -> Result<String, EffectError> {
    if let (_, Some(shard)) = open_shard(state, neighborhood_id).await? {
        return Ok(shard);
    }
    let token = Uuid::new_v4().to_string();
    if !state
        .store
        .lock_shard_creation(neighborhood_id, &token, SHARD_LOCK_TTL)
        .await?
    {
        return Err(EffectError::ShardLocked);
    }
    let created = create_shard(state, twilio, neighborhood_id).await;
    state
        .store
        .unlock_shard_creation(neighborhood_id, &token)
        .await?;
    created
}

async fn create_shard(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
) -> Result<String, EffectError> {
    // Another worker may have created it while we waited for the lock.
    let (neighborhood, open) = open_shard(state, neighborhood_id).await?;
    if let Some(shard) = open {
        return Ok(shard);
    }
    let index = neighborhood.shards.len();
    let unique_name = shard_unique_name(neighborhood_id, index);
    let params = ConversationParams {
        friendly_name: Some(neighborhood.name.as_str().to_owned()),
        unique_name: Some(unique_name.clone()),
        attributes: Some(
            serde_json::json!({"neighborhood_id": neighborhood_id, "shard": index}).to_string(),
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
        Err(error) => return Err(error.into()),
    };
    let sid = conversation.sid.clone();
    state
        .store
        .index_conversation(&sid, neighborhood_id)
        .await?;
    state
        .store
        .update_neighborhood(neighborhood_id, |n| {
            if !n.shards.iter().any(|shard| shard.conversation_sid == sid) {
                n.shards.push(Shard {
                    conversation_sid: sid.clone(),
                    unique_name: unique_name.clone(),
                });
            }
            Ok::<_, std::convert::Infallible>(())
        })
        .await
        .map_err(|error| match error {
            crate::store::neighborhoods::UpdateError::Store(error) => EffectError::Store(error),
            _ => EffectError::ShardBusy,
        })?;
    tracing::info!(
        shard = index,
        "new Conversation for a neighborhood past 50 members"
    );
    Ok(sid)
}

async fn send_sms(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
    to: &str,
    body: &str,
) -> Result<(), EffectError> {
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(());
    };
    let request = SendSms {
        to: to.to_owned(),
        from: SmsSender::Number(neighborhood.phone_number.into()),
        body: body.to_owned(),
    };
    match twilio.client.send_sms(&request).await {
        Ok(_) => {
            // A text that went out is not sent again because the ledger could not count it.
            let charge = crate::costs::Charge::text_out(body);
            if let Err(error) = crate::costs::record(state, neighborhood_id, None, charge).await {
                tracing::warn!(%error, "a sent text was not counted in the cost ledger");
            }
            Ok(())
        }
        // 21610: the phone texted STOP; Twilio will never deliver to it, so there is nothing to retry.
        Err(error) if error.code() == Some(21610) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// One group message to copy into one more shard.
struct RelayCopy<'a> {
    conversation_sid: &'a str,
    author: &'a str,
    body: &'a str,
    source_message_sid: &'a str,
}

/// Posts a group message into one more shard: one REST call. The copy is marked with its source,
/// and a retry (an earlier attempt's answer may have been lost) first looks for it among the
/// shard's newest messages, so a copy is not posted twice.
async fn relay(
    twilio: &TwilioAccount,
    copy: &RelayCopy<'_>,
    retry: bool,
) -> Result<(), EffectError> {
    let marker = serde_json::json!({"relay_of": copy.source_message_sid}).to_string();
    if retry && already_relayed(twilio, copy.conversation_sid, &marker).await? {
        return Ok(());
    }
    let request = CreateConversationMessage {
        author: Some(copy.author.to_owned()),
        body: copy.body.to_owned(),
        attributes: Some(marker),
        webhook_enabled: false,
    };
    twilio
        .client
        .create_conversation_message(copy.conversation_sid, &request)
        .await?;
    Ok(())
}

async fn already_relayed(
    twilio: &TwilioAccount,
    conversation_sid: &str,
    marker: &str,
) -> Result<bool, TwilioError> {
    let recent = twilio
        .client
        .list_conversation_messages(
            conversation_sid,
            &ListConversationMessages {
                order: Some(MessageOrder::Desc),
                page_size: Some(RELAY_LOOKBACK),
            },
        )
        .await?;
    Ok(recent
        .items
        .iter()
        .any(|m| m.attributes.as_deref() == Some(marker)))
}

async fn remove_participant(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
    member_id: Uuid,
    conversation_sid: &str,
    participant_sid: &str,
) -> Result<(), EffectError> {
    let member = state.store.member(neighborhood_id, member_id).await?;
    if member.is_some_and(|m| m.status == MemberStatus::Active) {
        // Back in before their removal ran (approved again, resumed): the participant stays.
        return Ok(update_member(state, neighborhood_id, member_id, |m| {
            m.sync = SyncState::Done
        })
        .await?);
    }
    match twilio
        .client
        .delete_participant(conversation_sid, participant_sid)
        .await
    {
        Ok(()) => {
            state
                .store
                .add_to_shard_count(neighborhood_id, conversation_sid, -1)
                .await?
        }
        // Gone already: removed by an earlier run of this effect, or in Twilio's console.
        Err(error) if error.is_not_found() => {}
        Err(error) => return Err(error.into()),
    }
    update_member(state, neighborhood_id, member_id, |member| {
        if member
            .participant
            .as_ref()
            .is_some_and(|p| p.participant_sid == participant_sid)
        {
            member.participant = None;
        }
        member.sync = SyncState::Done;
    })
    .await?;
    Ok(())
}
