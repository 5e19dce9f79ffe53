//! Fan-out economy: the REST calls the service makes for one group message, by neighborhood
//! size, counted at the emulator, next to the N-1 sends of a service that texts each member
//! itself.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::redis_view::RedisView;
use crate::setup::{self, Api, Fixture};

/// Phones of the fan-out neighborhoods' members: `FIRST_PHONE + size * 1000 + n`, apart from
/// every other neighborhood's.
const FIRST_PHONE: usize = 3_300_000;
const MESSAGE: &str = "Street sweeping moved to Friday this week";
const PHOTO_MESSAGE: &str = "Lost dog near the park, brown lab";
/// A phone camera's picture after MMS resizing: about what carriers pass (600 KB).
const PHOTO_BYTES: usize = 600 * 1024;

pub struct FanOut {
    pub members: usize,
    pub shards: usize,
    /// REST calls to Twilio (the emulator) for the one message, in all and by operation.
    pub calls: u64,
    pub by_operation: Value,
    /// The same for one message with one picture of [`PHOTO_BYTES`].
    pub photo_calls: u64,
    pub photo_by_operation: Value,
}

impl FanOut {
    /// The picture's bytes the service moved for the photo: each download from Twilio and each
    /// upload back, counted at the emulator, times the picture's size.
    pub fn photo_bytes(&self) -> u64 {
        let count = |operation: &str| self.photo_by_operation[operation].as_u64().unwrap_or(0);
        (count("GET /v1/Services/{sid}/Media/{sid}/Content")
            + count("POST /v1/Services/{sid}/Media"))
            * PHOTO_BYTES as u64
    }

    /// What a service that sends to each member itself would make: one per other member.
    pub fn naive(&self) -> u64 {
        self.members.saturating_sub(1) as u64
    }
}

/// For each size, a neighborhood of that many members (made by an attested import, or the main
/// one when it has that size), one text from a member's simulated phone, and the REST calls the
/// emulator counted until the message is in the history and the outbox is empty.
pub async fn measure(
    api: &Api,
    redis: &RedisView,
    main: &Fixture,
    sizes: &[usize],
) -> anyhow::Result<Vec<FanOut>> {
    let mut results = Vec::new();
    for &size in sizes {
        let (id, number, sender) = if size == main.members {
            let neighborhood = api
                .get(&format!("/api/v1/neighborhoods/{}", main.neighborhood_id))
                .await?;
            (
                main.neighborhood_id.clone(),
                setup::text(&neighborhood, "phone_number")?,
                main.author_phone.clone(),
            )
        } else {
            let neighborhood = api.create_neighborhood(&format!("Fan-out {size}")).await?;
            let id = setup::text(&neighborhood, "id")?;
            let people = setup::people(FIRST_PHONE + size * 1000, size - 1);
            api.import(&id, &people, true).await?;
            api.wait_until_placed(&id, size as u64, setup::placing_time(size))
                .await?;
            let sender = people.last().context("no member to text from")?.1.clone();
            (id, setup::text(&neighborhood, "phone_number")?, sender)
        };
        // The welcome texts of the import are not part of the message's cost.
        redis.wait_for_outbox(&id, Duration::from_secs(120)).await?;
        let shards = api.get(&format!("/api/v1/neighborhoods/{id}")).await?["shards"]
            .as_array()
            .map_or(0, Vec::len);
        api.twilio_calls(true).await?;
        let routed = api.text_from(&sender, &number, MESSAGE).await?;
        wait_for_history(api, &id, MESSAGE).await?;
        redis.wait_for_outbox(&id, Duration::from_secs(60)).await?;
        let (calls, by_operation) = api.twilio_calls(false).await?;
        println!(
            "  {size} members in {shards} shard(s): {calls} REST call(s) for one message ({by_operation}); routed: {}",
            routed["outcome"]
        );
        let mut picture = vec![0xFF, 0xD8, 0xFF, 0xE0];
        picture.resize(PHOTO_BYTES, 0x42);
        api.twilio_calls(true).await?;
        api.photo_from(&sender, &number, PHOTO_MESSAGE, "image/jpeg", &picture)
            .await?;
        wait_for_history(api, &id, PHOTO_MESSAGE).await?;
        redis.wait_for_outbox(&id, Duration::from_secs(60)).await?;
        let (photo_calls, photo_by_operation) = api.twilio_calls(false).await?;
        println!(
            "  {size} members in {shards} shard(s): {photo_calls} REST call(s) for one photo ({photo_by_operation})"
        );
        results.push(FanOut {
            members: size,
            shards,
            calls,
            by_operation,
            photo_calls,
            photo_by_operation,
        });
    }
    Ok(results)
}

/// Waits until the neighborhood's history shows the message (the post-event webhook has run).
async fn wait_for_history(api: &Api, id: &str, body: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        // Newest first: the message is on the first page once recorded.
        let history = api
            .get(&format!("/api/v1/neighborhoods/{id}/messages"))
            .await?;
        let seen = history["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|item| item["body"] == body));
        if seen {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the message did not reach the history of {id} within 30 s: {history}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
