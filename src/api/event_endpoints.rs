//! `/api/v1/neighborhoods/{id}/event-endpoints`: integrators' servers that the neighborhood's
//! events are posted to, signed as the Standard Webhooks specification says (issue 26).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, FieldError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::event_endpoint::{EventEndpoint, EventType};
use crate::services::event_endpoints::{self, EndpointError, NewEndpoint};
use crate::state::AppState;
use crate::store::event_endpoints::DeliveryRecord;

pub struct EventEndpointsApi;

/// An endpoint to register.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct EventEndpointIn {
    /// Where events are posted: an https URL on the public internet (in sandbox mode, also http
    /// on a loopback address).
    pub url: String,
    /// The events it is sent, each once.
    pub events: Vec<EventType>,
    /// Your own note about it (at most 200 characters).
    pub description: Option<String>,
}

/// A registered endpoint (its secrets are never shown again).
#[derive(Debug, Object)]
pub struct EventEndpointOut {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<EventType>,
    pub description: String,
    pub created_at: OffsetDateTime,
    /// When the secret replaced by the last rotation stops signing, while it still does.
    #[oai(skip_serializing_if_is_none)]
    pub previous_secret_expires_at: Option<OffsetDateTime>,
}

/// A new endpoint and its signing secret.
#[derive(Debug, Object)]
pub struct EventEndpointCreatedOut {
    pub endpoint: EventEndpointOut,
    /// `whsec_` and 32 random bytes in base64, as the Standard Webhooks libraries take it. Shown
    /// in this answer only: store it now.
    pub secret: String,
}

/// A neighborhood's endpoints.
#[derive(Debug, Object)]
pub struct EventEndpointList {
    pub items: Vec<EventEndpointOut>,
}

/// A rotated secret.
#[derive(Debug, Object)]
pub struct RotatedSecretOut {
    /// The new secret, shown in this answer only. Deliveries are signed with it from now on.
    pub secret: String,
    /// Until then they are signed with the previous secret too (two `v1,` signatures), so a
    /// receiver can switch without missing one.
    pub previous_secret_expires_at: OffsetDateTime,
}

/// One attempt to deliver an event.
#[derive(Debug, Object)]
pub struct DeliveryOut {
    /// The event's id (the `webhook-id` header): the same on every attempt at one event.
    pub event_id: String,
    /// `webhook.test` for a test event.
    pub event_type: String,
    /// When it was sent (RFC 3339).
    pub at: String,
    /// The endpoint's HTTP status; absent when it did not answer (refused address, timeout, no
    /// connection).
    #[oai(skip_serializing_if_is_none)]
    pub status: Option<u16>,
    /// Whether the endpoint took it (a 2xx).
    pub delivered: bool,
    pub latency_ms: u64,
    /// Which attempt at the event (1 for the first).
    pub attempt: u32,
    /// The first 512 bytes of the answer, or what went wrong.
    pub answer: String,
}

/// An endpoint's latest deliveries.
#[derive(Debug, Object)]
pub struct DeliveryList {
    pub items: Vec<DeliveryOut>,
}

#[derive(ApiResponse)]
enum CreateResponse {
    /// Registered; its secret is in this answer only.
    #[oai(status = 201)]
    Created(Json<EventEndpointCreatedOut>),
}

#[derive(ApiResponse)]
enum ListResponse {
    /// The neighborhood's endpoints, oldest first.
    #[oai(status = 200)]
    Ok(Json<EventEndpointList>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// Deleted, with its delivery log: nothing more is sent to it.
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
enum RotateResponse {
    /// The new secret.
    #[oai(status = 200)]
    Ok(Json<RotatedSecretOut>),
}

#[derive(ApiResponse)]
enum TestResponse {
    /// Sent: how the endpoint answered (a refusal or a timeout is an answer too).
    #[oai(status = 200)]
    Ok(Json<DeliveryOut>),
}

#[derive(ApiResponse)]
enum DeliveriesResponse {
    /// Newest first.
    #[oai(status = 200)]
    Ok(Json<DeliveryList>),
}

const DEFAULT_DELIVERIES: u32 = 50;
const MAX_DELIVERIES: u32 = 500;

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Events")]
impl EventEndpointsApi {
    /// Register an event endpoint
    ///
    /// Events of the kinds asked for are posted to the URL as JSON (`type`, `timestamp`,
    /// `data`), signed as the Standard Webhooks specification says: `webhook-id`,
    /// `webhook-timestamp` and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of
    /// `{id}.{timestamp}.{body}` under the secret). The secret is in this answer only. At most 10
    /// endpoints per neighborhood.
    #[oai(
        path = "/:id/event-endpoints",
        method = "post",
        operation_id = "create_event_endpoint"
    )]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<EventEndpointIn>,
    ) -> Result<CreateResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "create_event_endpoint",
            Some(id.0),
        )
        .await?;
        crate::services::neighborhoods::active(&state, id.0).await?;
        let new = NewEndpoint {
            url: body.0.url,
            events: body.0.events,
            description: body.0.description.unwrap_or_default(),
        };
        let (endpoint, secret) = event_endpoints::create(&state, id.0, new)
            .await
            .map_err(refusal)?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "event_endpoint.create",
            format!("event_endpoint:{}", endpoint.id),
            json!({"events": endpoint.events}),
        )
        .await;
        Ok(CreateResponse::Created(Json(EventEndpointCreatedOut {
            endpoint: to_out(&endpoint),
            secret,
        })))
    }

    /// List event endpoints
    #[oai(
        path = "/:id/event-endpoints",
        method = "get",
        operation_id = "list_event_endpoints"
    )]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "list_event_endpoints", Some(id.0)).await?;
        let endpoints = state.store.event_endpoints(id.0).await?;
        Ok(ListResponse::Ok(Json(EventEndpointList {
            items: endpoints.iter().map(to_out).collect(),
        })))
    }

    /// Delete an event endpoint
    #[oai(
        path = "/:id/event-endpoints/:endpoint_id",
        method = "delete",
        operation_id = "delete_event_endpoint"
    )]
    async fn delete(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        endpoint_id: Path<Uuid>,
    ) -> Result<DeleteResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "delete_event_endpoint",
            Some(id.0),
        )
        .await?;
        event_endpoints::delete(&state, id.0, endpoint_id.0)
            .await
            .map_err(refusal)?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "event_endpoint.delete",
            format!("event_endpoint:{}", endpoint_id.0),
            json!({}),
        )
        .await;
        Ok(DeleteResponse::Deleted)
    }

    /// Rotate an endpoint's secret
    ///
    /// A new secret, in this answer only. For 24 hours deliveries carry a signature under each
    /// of the two, so the receiver can switch without missing one; then only the new one signs.
    #[oai(
        path = "/:id/event-endpoints/:endpoint_id/rotate-secret",
        method = "post",
        operation_id = "rotate_event_endpoint_secret"
    )]
    async fn rotate(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        endpoint_id: Path<Uuid>,
    ) -> Result<RotateResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "rotate_event_endpoint_secret",
            Some(id.0),
        )
        .await?;
        let (secret, expires) = event_endpoints::rotate_secret(&state, id.0, endpoint_id.0)
            .await
            .map_err(refusal)?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "event_endpoint.rotate_secret",
            format!("event_endpoint:{}", endpoint_id.0),
            json!({}),
        )
        .await;
        Ok(RotateResponse::Ok(Json(RotatedSecretOut {
            secret,
            previous_secret_expires_at: expires,
        })))
    }

    /// Send a test event
    ///
    /// Posts a signed `webhook.test` event to the endpoint now and answers how it answered; the
    /// attempt goes into its delivery log.
    #[oai(
        path = "/:id/event-endpoints/:endpoint_id/test",
        method = "post",
        operation_id = "test_event_endpoint"
    )]
    async fn test(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        endpoint_id: Path<Uuid>,
    ) -> Result<TestResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "test_event_endpoint", Some(id.0)).await?;
        let sent = event_endpoints::send_test(&state, id.0, endpoint_id.0)
            .await
            .map_err(refusal)?;
        Ok(TestResponse::Ok(Json(delivery_out(sent))))
    }

    /// An endpoint's deliveries
    ///
    /// The latest attempts, newest first: status, latency, attempt number and the answer's first
    /// bytes (the last 500 are kept).
    #[oai(
        path = "/:id/event-endpoints/:endpoint_id/deliveries",
        method = "get",
        operation_id = "list_event_deliveries"
    )]
    async fn deliveries(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        endpoint_id: Path<Uuid>,
        /// At most this many (1 to 500, default 50).
        limit: Query<Option<u32>>,
    ) -> Result<DeliveriesResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "list_event_deliveries",
            Some(id.0),
        )
        .await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_DELIVERIES, MAX_DELIVERIES);
        errors.finish()?;
        event_endpoints::get(&state, id.0, endpoint_id.0)
            .await
            .map_err(refusal)?;
        let logged = state
            .store
            .deliveries(id.0, endpoint_id.0, limit as usize)
            .await?;
        Ok(DeliveriesResponse::Ok(Json(DeliveryList {
            items: logged
                .into_iter()
                .map(|logged| delivery_out(logged.record))
                .collect(),
        })))
    }
}

fn refusal<S>(error: EndpointError) -> ApiError<S> {
    let field = |field: &str, message: String| {
        ApiError::validation(vec![FieldError {
            field: field.to_owned(),
            message,
        }])
    };
    match error {
        EndpointError::Url(why) => field("url", format!("The URL {why}.")),
        EndpointError::Events => field(
            "events",
            "Name at least one event type, each once.".to_owned(),
        ),
        EndpointError::Description => field(
            "description",
            "Keep the description to 200 characters.".to_owned(),
        ),
        EndpointError::TooMany => field(
            "url",
            format!(
                "A neighborhood has at most {} endpoints; delete one first.",
                event_endpoints::MAX_ENDPOINTS
            ),
        ),
        EndpointError::NotFound => ApiError::not_found("event endpoint"),
        EndpointError::Store(cause) => cause.into(),
    }
}

fn to_out(endpoint: &EventEndpoint) -> EventEndpointOut {
    let now = OffsetDateTime::now_utc();
    EventEndpointOut {
        id: endpoint.id,
        url: endpoint.url.clone(),
        events: endpoint.events.clone(),
        description: endpoint.description.clone(),
        created_at: endpoint.created_at,
        previous_secret_expires_at: endpoint
            .signing_secrets(now)
            .filter_map(|secret| secret.retires_at)
            .max(),
    }
}

fn delivery_out(record: DeliveryRecord) -> DeliveryOut {
    DeliveryOut {
        delivered: record
            .status
            .is_some_and(|status| (200..300).contains(&status)),
        event_id: record.event_id,
        event_type: record.event_type,
        at: record.at,
        status: record.status,
        latency_ms: record.latency_ms,
        attempt: record.attempt,
        answer: record.answer,
    }
}
