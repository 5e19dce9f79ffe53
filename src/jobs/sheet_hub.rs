//! The spreadsheet hub's schedule: looks through the neighborhoods with a hub now and then and
//! syncs each one that is due (see `services::sheet_hub`). Every instance runs it; a sync's lease
//! keeps two from syncing one neighborhood at once.

use std::time::Duration;

use crate::sheet_hub;
use crate::state::AppState;

/// How often the schedule is looked at: hubs sync every 5 minutes at most, so a few seconds'
/// lateness is nothing, and each look is one Redis read per hub.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// Runs forever.
pub async fn run(state: AppState) {
    loop {
        if let Err(error) = sheet_hub::sync_due(&state).await {
            tracing::debug!(%error, "sheet hub: the look failed; trying again shortly");
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}
