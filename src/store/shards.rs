//! Places in a neighborhood's Conversations and the pace of changes to each, shared by every
//! instance's workers.
//!
//! A place is counted when it is reserved, before Twilio is asked, so workers adding members at
//! once spread over the Conversations with room instead of all trying the first one; a failed
//! addition gives its place back. Each reservation also takes the Conversation's next free time
//! slot, spaced so no Conversation gets more changes a second than Twilio allows: the caller
//! waits for its slot, and the Conversations fill side by side.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError};

/// Picks, among the Conversations given (in order) that have room, the one free soonest; counts
/// a place in it and takes its slot. Returns the Conversation and the wait in ms, or nil when
/// none has room. Time is Redis's, so instances with skewed clocks share one schedule.
static RESERVE_PLACE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local capacity = tonumber(ARGV[1])
local spacing = tonumber(ARGV[2])
local chosen, chosen_slot
for i = 3, #ARGV do
  local count = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if count < capacity then
    local slot = math.max(now, tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0'))
    if chosen == nil or slot < chosen_slot then chosen, chosen_slot = ARGV[i], slot end
  end
end
if chosen == nil then return false end
redis.call('HINCRBY', KEYS[1], chosen, 1)
redis.call('HSET', KEYS[2], chosen, chosen_slot + spacing)
return {chosen, chosen_slot - now}",
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
    /// Reserves a place in the Conversation with room (fewer than `capacity` placed or reserved)
    /// that is free soonest; None when every one is full. Changes to one Conversation are kept
    /// `spacing` apart.
    pub async fn reserve_place(
        &self,
        id: Uuid,
        conversations: &[&str],
        capacity: u32,
        spacing: Duration,
    ) -> Result<Option<Place>, StoreError> {
        let mut invocation = RESERVE_PLACE.key(self.keys.shard_counts(id));
        invocation
            .key(self.keys.shard_pace(id))
            .arg(capacity)
            .arg(spacing.as_millis() as u64);
        for sid in conversations {
            invocation.arg(*sid);
        }
        let mut conn = self.connection();
        // Not retried: a repeat after a lost answer would reserve two places.
        let reserved: Option<(String, u64)> = invocation.invoke_async(&mut conn).await?;
        Ok(reserved.map(|(conversation_sid, wait)| Place {
            conversation_sid,
            wait: Duration::from_millis(wait),
        }))
    }

    /// Gives back a place reserved in a Conversation whose addition failed.
    pub async fn release_place(&self, id: Uuid, conversation_sid: &str) -> Result<(), StoreError> {
        self.add_to_shard_count(id, conversation_sid, -1).await
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
