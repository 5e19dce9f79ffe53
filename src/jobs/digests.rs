//! Captains' join-request digests: every `NT_SCHEDULER_TICK_MS`, each instance claims the
//! digests that are due and sends them (see `crate::services::join_digests`). Exactly once with
//! any number of instances, as the announcement scheduler: the claim leases each due digest to
//! one instance, and the send itself is a compare-and-set on the digest's items.

use crate::services::join_digests::{self, Delivery};
use crate::state::AppState;
use crate::store::StoreError;

/// How long a claimed digest is left to its instance: only how long a crashed one delays it.
const CLAIM_LEASE: std::time::Duration = std::time::Duration::from_secs(30);
/// Digests claimed at once.
const BATCH: usize = 20;

/// Runs forever: first repairs any digest a crash left without its due entry.
pub async fn run(state: AppState) {
    let tick = state.settings.scheduler_tick();
    loop {
        match state
            .store
            .rescan_join_digests(state.settings.clock.now())
            .await
        {
            Ok(_) => break,
            Err(error) => tracing::debug!(%error, "digest rescan failed; trying again"),
        }
        tokio::time::sleep(tick).await;
    }
    loop {
        match work_once(&state).await {
            Ok(claimed) if claimed == BATCH => continue,
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "digest pass failed"),
        }
        tokio::time::sleep(tick).await;
    }
}

/// Claims the digests due now and handles them; returns how many were claimed.
pub async fn work_once(state: &AppState) -> Result<usize, StoreError> {
    let claimed = state
        .store
        .claim_due_join_digests(state.settings.clock.now(), CLAIM_LEASE, BATCH)
        .await?;
    for &(neighborhood_id, member_id) in &claimed {
        match join_digests::deliver(state, neighborhood_id, member_id).await {
            Ok(Delivery::Sent) => {
                tracing::info!(%neighborhood_id, %member_id, "join-request digest queued");
            }
            Ok(_) => {}
            // Left claimed: it comes due again when the lease runs out.
            Err(error) => {
                tracing::warn!(%error, %neighborhood_id, %member_id, "join-request digest failed; will retry");
            }
        }
    }
    Ok(claimed.len())
}
