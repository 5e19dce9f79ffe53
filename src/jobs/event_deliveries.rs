//! The deliverer of integrators' events: looks through the neighborhoods with endpoints now and
//! then, and delivers to each endpoint that has events due, many endpoints at once, one turn
//! per endpoint at a time (see `services::event_deliveries` for the rules).

use std::collections::HashSet;
use std::time::Duration;

use tokio::task::JoinSet;
use uuid::Uuid;

use crate::services::event_deliveries;
use crate::state::AppState;
use crate::store::StoreError;

/// The most a new event waits before a deliverer looks: each look is a few Redis reads per
/// neighborhood with endpoints.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// Runs forever.
pub async fn run(state: AppState, holder: String) {
    let mut running: JoinSet<(Uuid, Uuid)> = JoinSet::new();
    let mut busy: HashSet<(Uuid, Uuid)> = HashSet::new();
    loop {
        while let Some(done) = running.try_join_next() {
            if let Ok(done) = done {
                busy.remove(&done);
            }
        }
        if let Err(error) = look(&state, &holder, &mut running, &mut busy).await {
            tracing::debug!(%error, "event deliveries: the look failed; trying again shortly");
        }
        tokio::select! {
            Some(Ok(done)) = running.join_next() => { busy.remove(&done); }
            () = tokio::time::sleep(LOOK_EVERY) => {}
        }
    }
}

/// Starts a turn for every endpoint with events due that is not in a turn here already.
async fn look(
    state: &AppState,
    holder: &str,
    running: &mut JoinSet<(Uuid, Uuid)>,
    busy: &mut HashSet<(Uuid, Uuid)>,
) -> Result<(), StoreError> {
    for neighborhood_id in state.store.endpoint_neighborhoods().await? {
        let endpoints = state.store.event_endpoints(neighborhood_id).await?;
        if endpoints.is_empty() {
            state
                .store
                .unlist_endpoint_neighborhood(neighborhood_id)
                .await?;
            continue;
        }
        let Some(last) = state.store.last_event_log_id(neighborhood_id).await? else {
            continue;
        };
        let progress = state.store.endpoint_progress(neighborhood_id).await?;
        for endpoint in endpoints {
            let key = (neighborhood_id, endpoint.id);
            let Some(stored) = progress.get(&endpoint.id) else {
                state
                    .store
                    .start_endpoint_progress(neighborhood_id, endpoint.id)
                    .await?;
                continue;
            };
            let due = event_deliveries::is_due(&stored.progress, &last);
            if !due || !busy.insert(key) {
                continue;
            }
            let (state, holder) = (state.clone(), holder.to_owned());
            running.spawn(async move {
                if let Err(error) =
                    event_deliveries::deliver_due(&state, neighborhood_id, &endpoint, &holder)
                        .await
                {
                    tracing::debug!(%error, "event deliveries: a turn ended early; it is taken up again");
                }
                key
            });
        }
    }
    Ok(())
}
