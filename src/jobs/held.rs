//! Releases held announcements once a neighborhood's month is under its budget again: after a
//! month rolls over, or if a release right after a budget change lost a race with a new hold.
//! Every instance runs it; releasing is compare-and-pop, so an announcement still goes out once.

use std::time::Duration;

use crate::state::AppState;

/// How often neighborhoods with held announcements are looked at.
const EVERY: Duration = Duration::from_secs(60);

pub async fn run(state: AppState) {
    loop {
        tokio::time::sleep(EVERY).await;
        let neighborhoods = match state.store.held_neighborhoods().await {
            Ok(ids) => ids,
            Err(error) => {
                tracing::debug!(%error, "held announcements not checked");
                continue;
            }
        };
        for id in neighborhoods {
            match crate::services::costs::release_held(&state, id).await {
                Ok(0) => {}
                Ok(released) => tracing::info!(released, "held announcements released"),
                Err(error) => tracing::warn!(%error, "held announcements not released"),
            }
        }
    }
}
