//! The announcement scheduler: every `NT_SCHEDULER_TICK_MS`, each instance claims the scheduled
//! announcements that are due and sends them (or puts them back for when quiet hours end).
//!
//! Exactly once, with any number of instances: the claim (one Redis script over the due index)
//! hands each due entry to one instance for a lease; a crashed instance's entries come due
//! again when the lease runs out. The claim only spreads the work: the send itself is a
//! compare-and-set from `scheduled` to `sent` (see `crate::services::announcements`), so even two
//! instances holding the same entry (a lease that ran out under a stalled one) send it once.

use std::time::Duration;

use time::OffsetDateTime;

use crate::services::announcements::{self, Due};
use crate::state::AppState;
use crate::store::StoreError;

/// How long a claimed announcement is left to its instance. Handling one takes a few Redis
/// round trips; this is only how long a crashed instance delays it.
pub const CLAIM_LEASE: Duration = Duration::from_secs(30);
/// Announcements claimed at once.
const BATCH: usize = 20;

/// Runs forever.
pub async fn run(state: AppState) {
    let tick = state.settings.scheduler_tick();
    loop {
        match work_once(&state).await {
            // A full batch: more may be due, so no pause.
            Ok(claimed) if claimed == BATCH => continue,
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "scheduler pass failed"),
        }
        tokio::time::sleep(tick).await;
    }
}

/// Claims what is due now and handles it; returns how many entries were claimed.
pub async fn work_once(state: &AppState) -> Result<usize, StoreError> {
    let claimed = state
        .store
        .claim_due_announcements(OffsetDateTime::now_utc(), CLAIM_LEASE, BATCH)
        .await?;
    for &(neighborhood_id, id) in &claimed {
        match announcements::deliver_due(state, neighborhood_id, id).await {
            Ok(Due::Sent) => {
                tracing::info!(%neighborhood_id, announcement_id = %id, "scheduled announcement sent");
            }
            Ok(Due::Later(at)) => {
                tracing::debug!(%neighborhood_id, announcement_id = %id, %at, "announcement waits");
            }
            Ok(Due::Settled) => {}
            // Left claimed: it comes due again when the lease runs out.
            Err(error) => {
                tracing::warn!(%error, %neighborhood_id, announcement_id = %id, "scheduled announcement failed; will retry");
            }
        }
    }
    Ok(claimed.len())
}
