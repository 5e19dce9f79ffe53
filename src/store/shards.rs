//! Places in a neighborhood's Conversations and the pace of changes to each, shared by every
//! instance's workers.
//!
//! A place is counted when it is reserved, before Twilio is asked, so workers adding members at
//! once spread over the Conversations with room instead of all trying the first one. Each
//! reservation also takes the Conversation's next free time slot, spaced so no Conversation gets
//! more changes a second than Twilio allows: the caller waits for its slot, and the
//! Conversations fill side by side.
//!
//! A reservation belongs to the member being added, not to the worker adding them: a worker that
//! dies holding one leaves it to the member's addition, which another worker claims from the
//! outbox and which finds its place waiting, so a crash never counts a place twice. The place is
//! settled once Twilio has the participant (kept, or moved to where Twilio put them) or given back
//! when Twilio refused the addition.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError};

/// The holder's reservation, if it holds one in a Conversation still given, with that
/// Conversation's next slot; otherwise picks, among the Conversations given (in order) that have
/// room, the one free soonest, counts a place in it for the holder and takes its slot. Returns
/// the Conversation and the wait in ms, or nil when none has room. Time is Redis's, so
/// instances with skewed clocks share one schedule.
static RESERVE_PLACE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local capacity = tonumber(ARGV[1])
local spacing = tonumber(ARGV[2])
local holder = ARGV[3]
local held = redis.call('HGET', KEYS[3], holder)
local chosen, chosen_slot
if held then
  for i = 4, #ARGV do
    if ARGV[i] == held then
      chosen = held
      chosen_slot = math.max(now, tonumber(redis.call('HGET', KEYS[2], held) or '0'))
    end
  end
  if chosen == nil then
    redis.call('HDEL', KEYS[3], holder)
    redis.call('HINCRBY', KEYS[1], held, -1)
  end
end
if chosen == nil then
  for i = 4, #ARGV do
    local count = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
    if count < capacity then
      local slot = math.max(now, tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0'))
      if chosen == nil or slot < chosen_slot then chosen, chosen_slot = ARGV[i], slot end
    end
  end
  if chosen == nil then return false end
  redis.call('HINCRBY', KEYS[1], chosen, 1)
  redis.call('HSET', KEYS[3], holder, chosen)
end
redis.call('HSET', KEYS[2], chosen, chosen_slot + spacing)
return {chosen, chosen_slot - now}",
    )
});

/// Settles the holder's reservation: the place stays counted where Twilio has the participant
/// (ARGV[2]; moved there if it was reserved elsewhere) or, with ARGV[2] empty, is given back.
/// Nothing when the holder holds none (settled already, by an earlier run of the addition).
static SETTLE_PLACE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local held = redis.call('HGET', KEYS[2], ARGV[1])
if not held then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if held ~= ARGV[2] then
  redis.call('HINCRBY', KEYS[1], held, -1)
  if ARGV[2] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[2], 1) end
end
return 1",
    )
});

/// Records that Twilio says a Conversation is full (counted at capacity) and drops the
/// holder's reservation there, which that count replaces.
static MARK_FULL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1",
    )
});

/// Takes a Conversation's next free slot; returns the wait in ms.
static TAKE_SLOT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0'))
redis.call('HSET', KEYS[1], ARGV[1], slot + tonumber(ARGV[2]))
return slot - now",
    )
});

/// A place reserved in a Conversation, to be taken once `wait` has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub conversation_sid: String,
    pub wait: Duration,
}

impl Store {
    /// Reserves a place for `holder` (a member being added) in the Conversation with room (fewer
    /// than `capacity` placed or reserved) that is free soonest, or gives back the place the
    /// holder reserved before; None when every one is full. Changes to one Conversation are
    /// kept `spacing` apart.
    pub async fn reserve_place(
        &self,
        id: Uuid,
        holder: Uuid,
        conversations: &[&str],
        capacity: u32,
        spacing: Duration,
    ) -> Result<Option<Place>, StoreError> {
        let mut invocation = RESERVE_PLACE.key(self.keys.shard_counts(id));
        invocation
            .key(self.keys.shard_pace(id))
            .key(self.keys.shard_reservations(id))
            .arg(capacity)
            .arg(spacing.as_millis() as u64)
            .arg(holder.to_string());
        for sid in conversations {
            invocation.arg(*sid);
        }
        let mut conn = self.connection();
        // Not retried here, though a repeat would only find the place already held: the caller
        // tries the whole addition again.
        let reserved: Option<(String, u64)> = invocation.invoke_async(&mut conn).await?;
        Ok(reserved.map(|(conversation_sid, wait)| Place {
            conversation_sid,
            wait: Duration::from_millis(wait),
        }))
    }

    /// Settles the place `holder` reserved: kept where Twilio has the participant (`placed_in`),
    /// or given back (None) when the addition was refused or is no longer wanted. Idempotent.
    pub async fn settle_place(
        &self,
        id: Uuid,
        holder: Uuid,
        placed_in: Option<&str>,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            SETTLE_PLACE
                .key(self.keys.shard_counts(id))
                .key(self.keys.shard_reservations(id))
                .arg(holder.to_string())
                .arg(placed_in.unwrap_or(""))
                .invoke_async::<i64>(&mut conn)
                .await
        })
        .await
        .map(drop)
    }

    /// Records Twilio's word that a Conversation is full: counted at `capacity`, and `holder`'s
    /// reservation there dropped.
    pub async fn mark_shard_full(
        &self,
        id: Uuid,
        holder: Uuid,
        conversation_sid: &str,
        capacity: u32,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            MARK_FULL
                .key(self.keys.shard_counts(id))
                .key(self.keys.shard_reservations(id))
                .arg(holder.to_string())
                .arg(conversation_sid)
                .arg(capacity)
                .invoke_async::<i64>(&mut conn)
                .await
        })
        .await
        .map(drop)
    }

    /// Places reserved and not taken yet: member id -> Conversation.
    pub async fn shard_reservations(
        &self,
        id: Uuid,
    ) -> Result<HashMap<String, String>, StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("HGETALL")
                .arg(self.keys.shard_reservations(id))
                .query_async(&mut conn)
                .await
        })
        .await
    }

    /// Takes the next free slot of one Conversation (for a change other than an addition); the
    /// caller waits the time returned.
    pub async fn take_slot(
        &self,
        id: Uuid,
        conversation_sid: &str,
        spacing: Duration,
    ) -> Result<Duration, StoreError> {
        let mut conn = self.connection();
        let wait: u64 = TAKE_SLOT
            .key(self.keys.shard_pace(id))
            .arg(conversation_sid)
            .arg(spacing.as_millis() as u64)
            .invoke_async(&mut conn)
            .await?;
        Ok(Duration::from_millis(wait))
    }
}
