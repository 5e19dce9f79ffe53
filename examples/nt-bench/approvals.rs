//! Approval throughput: join requests approved at once (one "Approve all" call per 1,000) into
//! one neighborhood, with the emulator
//! answering every REST call 100 ms late and allowing 30 mutations a second per Conversation,
//! from the first approval until every new member is in a Conversation. A refused approval or a
//! member who could not be placed stops the run: a result means zero errors.

use std::time::{Duration, Instant};

use crate::setup::{self, Api, SHARD_SIZE};

/// The emulator's added latency during this scenario.
pub const LATENCY: Duration = Duration::from_millis(100);
/// Twilio's limit of mutating actions (participant creations among them) per Conversation per
/// second, which the emulator enforces.
pub const MUTATIONS_PER_SECOND: f64 = 30.0;
/// Join requests one call approves at most (the API's limit).
pub const BATCH: usize = 1_000;
/// Phones of the people approved, apart from every other neighborhood's.
const FIRST_PHONE: usize = 6_000_000;

pub struct Approvals {
    pub approvals: usize,
    /// Members once done (the owner included) and the Conversations they fill.
    pub members: usize,
    pub shards: usize,
    /// Until every approval was answered (202).
    pub approving: Duration,
    /// Until every new member was placed.
    pub wall: Duration,
    /// REST calls the service made meanwhile (retries after a 429 included), by operation.
    pub calls: u64,
    pub by_operation: serde_json::Value,
}

impl Approvals {
    /// The least time the limits allow whatever the design: every Conversation takes its
    /// members side by side; the fullest one (50) needs its first Conversation created (one
    /// latency), then 50 additions no faster than 30 a second, the last answered one latency
    /// after it is sent.
    pub fn lower_bound(&self) -> Duration {
        let latency = LATENCY.as_secs_f64();
        let fullest = SHARD_SIZE.min(self.approvals) as f64;
        Duration::from_secs_f64(latency + (fullest - 1.0) / MUTATIONS_PER_SECOND + latency)
    }

    /// The least time if the Conversations are filled one after another, as the first design
    /// of the outbox did: every addition through one Conversation's 30 a second.
    pub fn one_at_a_time_bound(&self) -> Duration {
        let latency = LATENCY.as_secs_f64();
        Duration::from_secs_f64(
            self.shards as f64 * latency
                + (self.approvals as f64 - 1.0) / MUTATIONS_PER_SECOND
                + latency,
        )
    }

    pub fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.lower_bound().as_secs_f64()
    }
}

/// Files `count` join requests (an import without consent: each waits for a captain), sets the
/// emulator's latency, approves them all, and waits until every new member is placed.
pub async fn measure(api: &Api, count: usize) -> anyhow::Result<Approvals> {
    let neighborhood = api.create_neighborhood("Approval Street").await?;
    let id = setup::text(&neighborhood, "id")?;
    api.wait_until_placed(&id, 1, Duration::from_secs(60))
        .await?;
    api.import(&id, &setup::people(FIRST_PHONE, count), false)
        .await?;
    let requests = api.pending_requests(&id).await?;
    anyhow::ensure!(
        requests.len() == count,
        "{} join requests pending, {count} filed",
        requests.len()
    );

    api.set_twilio_latency(LATENCY.as_millis() as u64).await?;
    api.twilio_calls(true).await?;
    let started = Instant::now();
    let mut approved = Ok(());
    for batch in requests.chunks(BATCH) {
        approved = api.approve_all(&id, batch).await;
        if approved.is_err() {
            break;
        }
    }
    let approving = started.elapsed();
    let placed = match approved {
        Ok(_) => {
            api.wait_until_placed(&id, count as u64 + 1, setup::placing_time(count))
                .await
        }
        Err(error) => Err(error),
    };
    let wall = started.elapsed();
    let calls = api.twilio_calls(false).await;
    api.set_twilio_latency(0).await?;
    placed?;
    let (calls, by_operation) = calls?;
    let shards = api.get(&format!("/api/v1/neighborhoods/{id}")).await?["shards"]
        .as_array()
        .map_or(0, Vec::len);
    Ok(Approvals {
        approvals: count,
        members: count + 1,
        shards,
        approving,
        wall,
        calls,
        by_operation,
    })
}
