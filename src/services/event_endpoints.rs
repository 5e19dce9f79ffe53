//! The rules of integrators' endpoints (issue 26): what URL and events one may have, its secret
//! shown once and rotated with an overlap, the test event a captain sends to check it, turning it
//! back on after it failed for too long, and replaying what it was sent.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::event_endpoint::{EventEndpoint, EventType, SigningSecret, TEST_EVENT};
use crate::domain::integrator_event_payload::TestEventData;
use crate::outbound::{self, Delivery, Reach, Refusal};
use crate::services::event_deliveries;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::rfc3339;
use crate::store::event_endpoints::DeliveryRecord;
use crate::store::integrator_events::{Disabled, EndpointProgress, LoggedEvent};

/// Endpoints one neighborhood may have.
pub const MAX_ENDPOINTS: usize = 10;
/// How long a replaced secret keeps signing, so receivers can switch without missing a delivery.
pub const SECRET_OVERLAP: time::Duration = time::Duration::hours(24);
const MAX_DESCRIPTION_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("url: {0}")]
    Url(Refusal),
    #[error("events: name at least one event type, each once")]
    Events,
    #[error("description: at most {MAX_DESCRIPTION_CHARS} characters")]
    Description,
    #[error("a neighborhood has at most {MAX_ENDPOINTS} endpoints")]
    TooMany,
    #[error("no such endpoint")]
    NotFound,
    #[error("no such event in the log")]
    EventNotFound,
    #[error("name either a time or an event to replay")]
    Replay,
    #[error("only someone who may see members' phones may have them sent")]
    Phones,
    #[error("the endpoint's progress kept changing")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn reach(state: &AppState) -> Reach {
    Reach::for_mode(state.sandbox.is_some())
}

/// An endpoint as asked for.
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<EventType>,
    pub description: String,
    pub include_phones: bool,
}

/// An endpoint and where its deliveries stand.
pub struct EndpointView {
    pub endpoint: EventEndpoint,
    /// Why and when it was turned off, when it is.
    pub disabled: Option<Disabled>,
    /// Failed attempts at its next event, while it retries.
    pub failures: u32,
}

/// Every endpoint of a neighborhood, oldest first, with where its deliveries stand.
pub async fn list(
    state: &AppState,
    neighborhood_id: Uuid,
) -> Result<Vec<EndpointView>, EndpointError> {
    let endpoints = state.store.event_endpoints(neighborhood_id).await?;
    let mut progress = state.store.endpoint_progress(neighborhood_id).await?;
    Ok(endpoints
        .into_iter()
        .map(|endpoint| {
            let progress = progress
                .remove(&endpoint.id)
                .map(|stored| stored.progress)
                .unwrap_or_default();
            EndpointView {
                endpoint,
                disabled: progress.disabled,
                failures: progress.failures,
            }
        })
        .collect())
}

/// Registers an endpoint; answers it and its secret, which is never shown again.
pub async fn create(
    state: &AppState,
    neighborhood_id: Uuid,
    new: NewEndpoint,
    may_see_phones: bool,
) -> Result<(EventEndpoint, String), EndpointError> {
    if new.include_phones && !may_see_phones {
        return Err(EndpointError::Phones);
    }
    let url = outbound::address::check(new.url.trim(), reach(state)).map_err(EndpointError::Url)?;
    let mut events = new.events;
    let asked = events.len();
    events.sort_by_key(|kind| kind.as_str());
    events.dedup();
    if events.is_empty() || events.len() != asked {
        return Err(EndpointError::Events);
    }
    let description = new.description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(EndpointError::Description);
    }
    let now = OffsetDateTime::now_utc();
    let secret = SigningSecret::generate(now);
    let shown = secret.shown();
    let endpoint = EventEndpoint {
        id: Uuid::now_v7(),
        url: url.to_string(),
        events,
        description,
        include_phones: new.include_phones,
        created_at: now,
        secrets: vec![secret],
    };
    if !state
        .store
        .insert_event_endpoint(neighborhood_id, &endpoint, MAX_ENDPOINTS)
        .await?
    {
        return Err(EndpointError::TooMany);
    }
    Ok((endpoint, shown))
}

pub async fn get(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint_id: Uuid,
) -> Result<EventEndpoint, EndpointError> {
    state
        .store
        .event_endpoint(neighborhood_id, endpoint_id)
        .await?
        .ok_or(EndpointError::NotFound)
}

pub async fn delete(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint_id: Uuid,
) -> Result<(), EndpointError> {
    if state
        .store
        .delete_event_endpoint(neighborhood_id, endpoint_id)
        .await?
    {
        Ok(())
    } else {
        Err(EndpointError::NotFound)
    }
}

/// A new secret, shown once; the one it replaces keeps signing for [`SECRET_OVERLAP`] (older
/// ones stop now). Answers the new secret and when the replaced one stops.
pub async fn rotate_secret(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint_id: Uuid,
) -> Result<(String, OffsetDateTime), EndpointError> {
    let mut endpoint = get(state, neighborhood_id, endpoint_id).await?;
    let now = OffsetDateTime::now_utc();
    let retires_at = now + SECRET_OVERLAP;
    let fresh = SigningSecret::generate(now);
    let shown = fresh.shown();
    let mut replaced = endpoint
        .secrets
        .into_iter()
        .find(|secret| secret.retires_at.is_none())
        .into_iter()
        .collect::<Vec<_>>();
    for secret in &mut replaced {
        secret.retires_at = Some(retires_at);
    }
    endpoint.secrets = std::iter::once(fresh).chain(replaced).collect();
    state
        .store
        .save_event_endpoint(neighborhood_id, &endpoint)
        .await?;
    Ok((shown, retires_at))
}

/// Posts a `webhook.test` event to the endpoint now, logs the attempt and answers it.
pub async fn send_test(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint_id: Uuid,
) -> Result<DeliveryRecord, EndpointError> {
    let endpoint = get(state, neighborhood_id, endpoint_id).await?;
    let now = OffsetDateTime::now_utc();
    let event_id = format!("evt_{}", Uuid::now_v7().simple());
    let payload = json!({
        "type": TEST_EVENT,
        "timestamp": rfc3339(now),
        "data": TestEventData {
            neighborhood_id,
            endpoint_id: endpoint.id,
        },
    })
    .to_string();
    let answer = state
        .endpoints
        .send(&Delivery {
            url: &endpoint.url,
            id: &event_id,
            payload: &payload,
            secrets: endpoint.signing_secrets(now).collect(),
        })
        .await;
    let record = event_deliveries::record_of(&event_id, TEST_EVENT, 1, &answer, false);
    state
        .store
        .log_delivery(neighborhood_id, endpoint.id, &record)
        .await?;
    Ok(record)
}

/// Changes an endpoint's progress by compare-and-set, reading it again after a conflict.
async fn change_progress(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint_id: Uuid,
    change: impl Fn(&EndpointProgress) -> EndpointProgress,
) -> Result<(), EndpointError> {
    for _ in 0..10 {
        let read = state
            .store
            .endpoint_progress(neighborhood_id)
            .await?
            .remove(&endpoint_id)
            .ok_or(EndpointError::NotFound)?;
        let after = change(&read.progress);
        if after == read.progress
            || state
                .store
                .replace_endpoint_progress(neighborhood_id, endpoint_id, &read, &after)
                .await?
        {
            return Ok(());
        }
    }
    Err(EndpointError::Contended)
}

/// Turns an endpoint back on: it carries on from the event it failed at, now.
pub async fn enable(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint_id: Uuid,
) -> Result<(), EndpointError> {
    get(state, neighborhood_id, endpoint_id).await?;
    change_progress(state, neighborhood_id, endpoint_id, |progress| {
        EndpointProgress {
            cursor: progress.cursor.clone(),
            ..EndpointProgress::default()
        }
    })
    .await
}

/// What to send again.
pub enum Replay {
    /// Every event it subscribes to since then, in order, in its sequence (after what is still
    /// due, which is sent anyway).
    Since(OffsetDateTime),
    /// This one event, now, outside the sequence.
    Event(String),
}

/// What a replay did: how many events it put back in line, or the one delivery it made.
pub enum Replayed {
    Queued(usize),
    Sent(DeliveryRecord),
}

pub async fn replay(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint_id: Uuid,
    replay: Replay,
) -> Result<Replayed, EndpointError> {
    let endpoint = get(state, neighborhood_id, endpoint_id).await?;
    match replay {
        Replay::Since(since) => {
            let ms = u64::try_from(since.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
            // Just before the first event at or after `since`.
            let from = format!("{}-{}", ms.saturating_sub(1), u64::MAX);
            change_progress(state, neighborhood_id, endpoint_id, |progress| {
                if event_deliveries::log_order(&from)
                    < event_deliveries::log_order(&progress.cursor)
                {
                    EndpointProgress {
                        cursor: from.clone(),
                        failures: 0,
                        retry_at_ms: 0,
                        disabled: progress.disabled.clone(),
                    }
                } else {
                    progress.clone()
                }
            })
            .await?;
            let due = count_wanted_since(state, neighborhood_id, &endpoint, &from).await?;
            Ok(Replayed::Queued(due))
        }
        Replay::Event(event_id) => {
            let logged = find_event(state, neighborhood_id, &event_id)
                .await?
                .ok_or(EndpointError::EventNotFound)?;
            let answer = event_deliveries::send(state, &endpoint, &logged.event).await;
            let record = event_deliveries::record_of(
                &logged.event.id,
                logged.event.kind.as_str(),
                1,
                &answer,
                true,
            );
            state
                .store
                .log_delivery(neighborhood_id, endpoint.id, &record)
                .await?;
            Ok(Replayed::Sent(record))
        }
    }
}

/// A page of the neighborhood's event log, oldest first.
pub struct EventLogPage {
    pub events: Vec<LoggedEvent>,
    /// Where the next page starts: the last event's place, or `after` when there was none.
    pub cursor: String,
}

/// The events logged after `after` (a cursor an earlier page answered; the start of the log
/// when absent), at most `limit`: for integrators who reconcile by reading rather than receive.
pub async fn event_log(
    state: &AppState,
    neighborhood_id: Uuid,
    after: Option<&str>,
    limit: usize,
) -> Result<EventLogPage, EndpointError> {
    let from = after.unwrap_or("0-0");
    let events = state
        .store
        .events_after(neighborhood_id, from, limit)
        .await?;
    let cursor = events
        .last()
        .map_or(from, |logged| logged.log_id.as_str())
        .to_owned();
    Ok(EventLogPage { events, cursor })
}

/// Events of the log after `from`, a batch at a time (it keeps at most `EVENTS_KEPT`), until
/// `visit` says stop; answers the event it stopped at.
async fn scan_log(
    state: &AppState,
    neighborhood_id: Uuid,
    from: &str,
    mut visit: impl FnMut(&LoggedEvent) -> bool,
) -> Result<Option<LoggedEvent>, StoreError> {
    const BATCH: usize = 1_000;
    let mut cursor = from.to_owned();
    loop {
        let events = state
            .store
            .events_after(neighborhood_id, &cursor, BATCH)
            .await?;
        if let Some(stopped) = events.iter().find(|logged| !visit(logged)) {
            return Ok(Some(stopped.clone()));
        }
        match events.last() {
            Some(last) if events.len() == BATCH => cursor = last.log_id.clone(),
            _ => return Ok(None),
        }
    }
}

async fn count_wanted_since(
    state: &AppState,
    neighborhood_id: Uuid,
    endpoint: &EventEndpoint,
    from: &str,
) -> Result<usize, StoreError> {
    let mut wanted = 0;
    scan_log(state, neighborhood_id, from, |logged| {
        wanted += usize::from(endpoint.wants(logged.event.kind));
        true
    })
    .await?;
    Ok(wanted)
}

async fn find_event(
    state: &AppState,
    neighborhood_id: Uuid,
    event_id: &str,
) -> Result<Option<LoggedEvent>, StoreError> {
    scan_log(state, neighborhood_id, "0-0", |logged| {
        logged.event.id != event_id
    })
    .await
}
