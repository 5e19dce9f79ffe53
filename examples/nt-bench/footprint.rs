//! Redis memory per member: `INFO memory` before and after a neighborhood of many members is
//! imported and placed, less what the emulator (Twilio's stand-in) stored meanwhile when it
//! shares the service's Redis (`--sandbox`).

use std::time::Duration;

use crate::redis_view::RedisView;
use crate::setup::{self, Api};

/// Phones of the members, apart from every other neighborhood's.
const FIRST_PHONE: usize = 7_000_000;

pub struct RedisPerMember {
    pub members: usize,
    /// `used_memory` growth, in bytes.
    pub used_memory: i64,
    /// Growth of the emulator's own keys (its Conversations, participants, texts and inboxes).
    pub emulator: i64,
    /// The neighborhood's own keys once done (`MEMORY USAGE` summed), and how many.
    pub neighborhood_keys: u64,
    pub neighborhood_key_count: u64,
}

impl RedisPerMember {
    /// The service's share of the growth, per member.
    pub fn per_member(&self) -> f64 {
        (self.used_memory - self.emulator) as f64 / self.members as f64
    }

    pub fn keys_per_member(&self) -> f64 {
        self.neighborhood_keys as f64 / self.members as f64
    }
}

pub async fn redis_per_member(
    api: &Api,
    redis: &RedisView,
    members: usize,
) -> anyhow::Result<RedisPerMember> {
    let neighborhood = api.create_neighborhood("Memory Street").await?;
    let id = setup::text(&neighborhood, "id")?;
    api.wait_until_placed(&id, 1, Duration::from_secs(60))
        .await?;
    redis.wait_for_outbox(&id, Duration::from_secs(60)).await?;
    let emulator_keys = redis.emulator_keys();
    let emulator_usage = async |pattern: &Option<String>| match pattern {
        Some(pattern) => redis.usage_of(pattern).await.map(|(bytes, _)| bytes),
        None => Ok(0),
    };
    let emulator_before = emulator_usage(&emulator_keys).await?;
    let before = redis.used_memory().await?;

    api.import(&id, &setup::people(FIRST_PHONE, members), true)
        .await?;
    api.wait_until_placed(&id, members as u64 + 1, setup::placing_time(members))
        .await?;
    redis
        .wait_for_outbox(&id, setup::placing_time(members))
        .await?;

    let after = redis.used_memory().await?;
    let emulator_after = emulator_usage(&emulator_keys).await?;
    let (neighborhood_keys, neighborhood_key_count) =
        redis.usage_of(&redis.neighborhood_keys(&id)?).await?;
    Ok(RedisPerMember {
        members,
        used_memory: after as i64 - before as i64,
        emulator: emulator_after as i64 - emulator_before as i64,
        neighborhood_keys,
        neighborhood_key_count,
    })
}
