//! The rules of integrators' endpoints (issue 26): what URL and events one may have, its secret
//! shown once and rotated with an overlap, and the test event a captain sends to check it.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::event_endpoint::{EventEndpoint, EventType, SigningSecret, TEST_EVENT};
use crate::outbound::{self, Delivery, Reach, Refusal};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::rfc3339;
use crate::store::event_endpoints::DeliveryRecord;

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
}

/// Registers an endpoint; answers it and its secret, which is never shown again.
pub async fn create(
    state: &AppState,
    neighborhood_id: Uuid,
    new: NewEndpoint,
) -> Result<(EventEndpoint, String), EndpointError> {
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
    if state.store.event_endpoints(neighborhood_id).await?.len() >= MAX_ENDPOINTS {
        return Err(EndpointError::TooMany);
    }
    let now = OffsetDateTime::now_utc();
    let secret = SigningSecret::generate(now);
    let shown = secret.shown();
    let endpoint = EventEndpoint {
        id: Uuid::now_v7(),
        url: url.to_string(),
        events,
        description,
        created_at: now,
        secrets: vec![secret],
    };
    state
        .store
        .save_event_endpoint(neighborhood_id, &endpoint)
        .await?;
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
        "data": {
            "neighborhood_id": neighborhood_id,
            "endpoint_id": endpoint.id,
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
    let record = DeliveryRecord {
        event_id,
        event_type: TEST_EVENT.to_owned(),
        at: rfc3339(now),
        status: answer.status,
        latency_ms: u64::try_from(answer.latency.as_millis()).unwrap_or(u64::MAX),
        attempt: 1,
        answer: answer.body,
    };
    state
        .store
        .log_delivery(neighborhood_id, endpoint.id, &record)
        .await?;
    Ok(record)
}
