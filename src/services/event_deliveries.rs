//! Delivering a neighborhood's events to its integrators' endpoints (issue 26): each endpoint
//! is sent every event it subscribes to, in the order they happened, one at a time. A failed
//! delivery holds the ones behind it and is tried again after each pause of
//! `NT_EVENT_RETRY_SECS` (about a day in all); after the last, the endpoint is turned off, the
//! captains are told, and nothing since is lost: turned on again, it carries on from that event.
//!
//! Whichever instances run, one delivers to an endpoint at a time (its lease), and each step is
//! recorded by compare-and-set, so every event has one sequence of attempts. An instance that dies
//! after the endpoint took an event but before recording it leaves that event to be sent again,
//! with the same `webhook-id`, which is how receivers tell a repeat.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::event_endpoint::EventEndpoint;
use crate::domain::integrator_event::IntegratorEvent;
use crate::outbound::{Answer, Delivery};
use crate::services::texts;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::{AuditEntry, rfc3339};
use crate::store::event_endpoints::DeliveryRecord;
use crate::store::integrator_events::{Disabled, EndpointProgress, LoggedEvent, StoredProgress};

/// How long an instance holds an endpoint: longer than a turn and one delivery's timeout.
pub const LEASE: Duration = Duration::from_secs(60);
/// The longest one turn delivers before letting the lease go (others may take it then).
const TURN: Duration = Duration::from_secs(40);
/// Events read at a time.
const BATCH: usize = 100;

fn now_ms() -> u64 {
    u64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// Whether an endpoint has events to send now: on, not waiting to retry, behind the log.
pub fn is_due(progress: &EndpointProgress, last_log_id: &str) -> bool {
    progress.disabled.is_none()
        && now_ms() >= progress.retry_at_ms
        && log_order(&progress.cursor) < log_order(last_log_id)
}

/// A log id (`<ms>-<seq>`) as numbers, to compare.
pub fn log_order(log_id: &str) -> (u64, u64) {
    let (ms, seq) = log_id.split_once('-').unwrap_or((log_id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// Delivers what is due to `endpoint`, unless another instance is; answers how many events it
/// delivered.
pub async fn deliver_due(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint: &EventEndpoint,
    holder: &str,
) -> Result<usize, StoreError> {
    if !state
        .store
        .take_endpoint_lease(neighborhood_id, endpoint.id, holder, LEASE)
        .await?
    {
        return Ok(0);
    }
    let delivered = deliver_holding_lease(state, neighborhood_id, endpoint).await;
    if let Err(error) = state
        .store
        .release_endpoint_lease(neighborhood_id, endpoint.id, holder)
        .await
    {
        tracing::debug!(%error, "an endpoint's lease was not let go; it lapses");
    }
    delivered
}

async fn deliver_holding_lease(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint: &EventEndpoint,
) -> Result<usize, StoreError> {
    let started = Instant::now();
    let mut delivered = 0;
    while started.elapsed() < TURN {
        let Some(read) = state
            .store
            .endpoint_progress(neighborhood_id)
            .await?
            .remove(&endpoint.id)
        else {
            break;
        };
        if read.progress.disabled.is_some() || now_ms() < read.progress.retry_at_ms {
            break;
        }
        let events = state
            .store
            .events_after(neighborhood_id, &read.progress.cursor, BATCH)
            .await?;
        let Some(next) = events
            .iter()
            .find(|logged| endpoint.wants(logged.event.kind))
        else {
            // None it wants: pass them over.
            let Some(last) = events.last() else { break };
            let passed = EndpointProgress {
                cursor: last.log_id.clone(),
                ..read.progress.clone()
            };
            if !state
                .store
                .replace_endpoint_progress(neighborhood_id, endpoint.id, &read, &passed)
                .await?
            {
                break;
            }
            continue;
        };
        if !attempt(state, neighborhood_id, endpoint, &read, next).await? {
            break;
        }
        delivered += 1;
    }
    Ok(delivered)
}

/// Sends `next` and records the outcome; true when the endpoint took it and it was recorded.
async fn attempt(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint: &EventEndpoint,
    read: &StoredProgress,
    next: &LoggedEvent,
) -> Result<bool, StoreError> {
    let attempt = read.progress.failures + 1;
    let answer = send(state, endpoint, &next.event).await;
    state
        .store
        .log_delivery(
            neighborhood_id,
            endpoint.id,
            &record_of(
                &next.event.id,
                next.event.kind.as_str(),
                attempt,
                &answer,
                false,
            ),
        )
        .await?;
    let after = if answer.accepted() {
        EndpointProgress {
            cursor: next.log_id.clone(),
            ..EndpointProgress::default()
        }
    } else {
        failed(
            &read.progress,
            attempt,
            &answer,
            &state.settings.event_retry_delays(),
        )
    };
    if !state
        .store
        .replace_endpoint_progress(neighborhood_id, endpoint.id, read, &after)
        .await?
    {
        // A replay or a captain changed it meanwhile: their word stands.
        return Ok(false);
    }
    if let Some(disabled) = &after.disabled {
        tell_captains(state, neighborhood_id, endpoint, disabled, attempt).await;
    }
    Ok(answer.accepted())
}

/// The progress after failed attempt number `attempt` at the next event: try again after the
/// next pause, or, past the last, turn the endpoint off.
fn failed(
    progress: &EndpointProgress,
    attempt: u32,
    answer: &Answer,
    delays: &[Duration],
) -> EndpointProgress {
    let why = match answer.status {
        Some(status) => format!("it answered {status}"),
        None => answer.body.clone(),
    };
    match delays.get(attempt as usize - 1) {
        Some(pause) => EndpointProgress {
            failures: attempt,
            retry_at_ms: now_ms() + pause.as_millis() as u64,
            ..progress.clone()
        },
        None => EndpointProgress {
            failures: attempt,
            retry_at_ms: 0,
            disabled: Some(Disabled {
                at: rfc3339(OffsetDateTime::now_utc()),
                reason: format!("{attempt} attempts at one event failed; the last: {why}"),
            }),
            ..progress.clone()
        },
    }
}

/// Posts `event` to `endpoint`, signed with its live secrets.
pub async fn send(state: &AppState, endpoint: &EventEndpoint, event: &IntegratorEvent) -> Answer {
    let payload = event.payload(endpoint.include_phones);
    state
        .endpoints
        .send(&Delivery {
            url: &endpoint.url,
            id: &event.id,
            payload: &payload,
            secrets: endpoint
                .signing_secrets(OffsetDateTime::now_utc())
                .collect(),
        })
        .await
}

/// How the delivery log keeps an attempt at the event `event_id` of type `event_type`.
pub fn record_of(
    event_id: &str,
    event_type: &str,
    attempt: u32,
    answer: &Answer,
    replayed: bool,
) -> DeliveryRecord {
    DeliveryRecord {
        event_id: event_id.to_owned(),
        event_type: event_type.to_owned(),
        at: rfc3339(OffsetDateTime::now_utc()),
        status: answer.status,
        latency_ms: u64::try_from(answer.latency.as_millis()).unwrap_or(u64::MAX),
        attempt,
        answer: answer.body.clone(),
        replayed,
    }
}

/// Texts the captains, once, that the endpoint was turned off, and audits it.
async fn tell_captains(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint: &EventEndpoint,
    disabled: &Disabled,
    attempts: u32,
) {
    let told = async {
        let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
            return Ok(0);
        };
        let host = reqwest::Url::parse(&endpoint.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default();
        let text = |language| {
            crate::i18n::text(
                language,
                "endpoint-disabled",
                &[
                    ("neighborhood", neighborhood.name.as_str().into()),
                    ("host", host.clone().into()),
                ],
            )
        };
        let texts = texts::texts_to_captains(state, &neighborhood, text, |_| true).await?;
        state
            .store
            .enqueue_effects_once(
                neighborhood_id,
                &format!("endpoint-disabled:{}:{}", endpoint.id.simple(), disabled.at),
                &texts,
            )
            .await?;
        Ok::<_, StoreError>(texts.len())
    };
    let captains_texted = match told.await {
        Ok(count) => count,
        Err(error) => {
            tracing::warn!(%error, "the captains were not told an endpoint was turned off");
            0
        }
    };
    tracing::info!(endpoint = %endpoint.id, attempts, "an event endpoint was turned off after failing");
    let entry = AuditEntry::now(
        "system".to_owned(),
        "event_endpoint.disabled",
        format!("event_endpoint:{}", endpoint.id),
        "event deliveries".to_owned(),
        serde_json::json!({
            "reason": disabled.reason,
            "attempts": attempts,
            "captains_texted": captains_texted,
        }),
    );
    state
        .store
        .record_audit(Some(neighborhood_id), &entry)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ids_compare_as_numbers() {
        assert!(log_order("1700000000000-2") < log_order("1700000000000-10"));
        assert!(log_order("999-5") < log_order("1000-0"));
        assert_eq!(log_order("0-0"), (0, 0));
    }

    #[test]
    fn a_failure_waits_its_pause_and_the_last_turns_the_endpoint_off() {
        let answer = Answer {
            status: Some(500),
            body: "oops".to_owned(),
            latency: Duration::from_millis(3),
        };
        let delays = [Duration::from_secs(5), Duration::from_secs(300)];
        let start = EndpointProgress {
            cursor: "1-0".to_owned(),
            ..EndpointProgress::default()
        };
        let first = failed(&start, 1, &answer, &delays);
        assert_eq!((first.failures, first.disabled.is_none()), (1, true));
        assert!(first.retry_at_ms >= now_ms() + 4_000);
        let second = failed(&first, 2, &answer, &delays);
        assert!(second.retry_at_ms >= now_ms() + 299_000);
        let third = failed(&second, 3, &answer, &delays);
        let disabled = third.disabled.expect("turned off");
        assert!(
            disabled.reason.contains("3 attempts"),
            "{}",
            disabled.reason
        );
        assert!(disabled.reason.contains("500"), "{}", disabled.reason);
        assert_eq!(third.cursor, "1-0", "the failed event is still next");
    }
}
