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
use super::error::{ApiError, ErrorCode, FieldError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::event_endpoint::EventType;
use crate::domain::integrator_event_payload::IntegratorEventPayload;
use crate::services::event_endpoints::{
    self, EndpointError, EndpointView, NewEndpoint, Replay, Replayed,
};
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
    /// Send the phone number an event concerns (`data.phone`, E.164). Off by default: payloads
    /// name people by id and display name only.
    pub include_phones: Option<bool>,
}

/// A registered endpoint (its secrets are never shown again).
#[derive(Debug, Object)]
pub struct EventEndpointOut {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<EventType>,
    pub description: String,
    /// Whether payloads carry the phone number an event concerns.
    pub include_phones: bool,
    pub created_at: OffsetDateTime,
    /// When the secret replaced by the last rotation stops signing, while it still does.
    #[oai(skip_serializing_if_is_none)]
    pub previous_secret_expires_at: Option<OffsetDateTime>,
    /// False once its deliveries failed for about a day (`NT_EVENT_RETRY_SECS`): nothing is
    /// sent until it is turned on again (`POST .../enable`), and nothing since is lost.
    pub enabled: bool,
    /// When and why it was turned off.
    #[oai(skip_serializing_if_is_none)]
    pub disabled_at: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub disabled_reason: Option<String>,
    /// Failed attempts at its next event, while it is being retried (0 when all is well).
    pub failed_attempts: u32,
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
    /// Sent again by a replay of this one event, outside its sequence.
    pub replayed: bool,
}

/// What to send again: every event since a time, or one event.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReplayIn {
    /// Every event since then that the endpoint subscribes to goes again, in order, with its
    /// original `webhook-id` (after anything still due). The log keeps the latest 10,000 events.
    pub since: Option<OffsetDateTime>,
    /// This one event (an `event_id` of the delivery log) goes again now, outside the sequence.
    pub event_id: Option<String>,
}

/// What a replay did.
#[derive(Debug, Object)]
pub struct ReplayOut {
    /// Events put back in line (`since`), or 1 (`event_id`).
    pub events: u64,
    /// The delivery made now (`event_id`).
    #[oai(skip_serializing_if_is_none)]
    pub delivery: Option<DeliveryOut>,
}

/// An endpoint's latest deliveries.
#[derive(Debug, Object)]
pub struct DeliveryList {
    pub items: Vec<DeliveryOut>,
}

/// One event of the log: its id (each delivery's `webhook-id`) and the body endpoints are sent.
#[derive(Debug, Object)]
pub struct LoggedEventOut {
    pub id: String,
    pub event: IntegratorEventPayload,
}

#[derive(Debug, Object)]
pub struct EventLogPageOut {
    /// Oldest first.
    pub items: Vec<LoggedEventOut>,
    /// Pass as `after` for what came next. Always present, so a poller keeps its place even
    /// when this page was empty.
    pub cursor: String,
}

#[derive(ApiResponse)]
enum EventLogResponse {
    #[oai(status = 200)]
    Ok(Json<EventLogPageOut>),
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
enum EnableResponse {
    /// On: it carries on from the event it failed at.
    #[oai(status = 204)]
    Enabled,
}

#[derive(ApiResponse)]
enum ReplayResponse {
    /// Put back in line, or sent.
    #[oai(status = 202)]
    Accepted(Json<ReplayOut>),
}

#[derive(ApiResponse)]
enum DeliveriesResponse {
    /// Newest first.
    #[oai(status = 200)]
    Ok(Json<DeliveryList>),
}

const DEFAULT_EVENTS: u32 = 100;
const MAX_EVENTS: u32 = 500;
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
        let grant = policy::authorize(
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
            include_phones: body.0.include_phones.unwrap_or(false),
        };
        let (endpoint, secret) =
            event_endpoints::create(&state, id.0, new, policy::may_see_phones(&grant))
                .await
                .map_err(refusal)?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "event_endpoint.create",
            format!("event_endpoint:{}", endpoint.id),
            json!({"events": endpoint.events, "include_phones": endpoint.include_phones}),
        )
        .await;
        Ok(CreateResponse::Created(Json(EventEndpointCreatedOut {
            endpoint: to_out(EndpointView {
                endpoint,
                disabled: None,
                failures: 0,
            }),
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
        let endpoints = event_endpoints::list(&state, id.0).await.map_err(refusal)?;
        Ok(ListResponse::Ok(Json(EventEndpointList {
            items: endpoints.into_iter().map(to_out).collect(),
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

    /// Turn an endpoint back on
    ///
    /// After its deliveries failed for about a day it was turned off and the captains were told.
    /// On again, it is sent the event it failed at and everything since, in order, now.
    #[oai(
        path = "/:id/event-endpoints/:endpoint_id/enable",
        method = "post",
        operation_id = "enable_event_endpoint"
    )]
    async fn enable(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        endpoint_id: Path<Uuid>,
    ) -> Result<EnableResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "enable_event_endpoint",
            Some(id.0),
        )
        .await?;
        event_endpoints::enable(&state, id.0, endpoint_id.0)
            .await
            .map_err(refusal)?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "event_endpoint.enable",
            format!("event_endpoint:{}", endpoint_id.0),
            json!({}),
        )
        .await;
        Ok(EnableResponse::Enabled)
    }

    /// Replay events to an endpoint
    ///
    /// `since`: every event since then that it subscribes to is sent again, in order, each with
    /// its original `webhook-id` (a receiver that keeps ids sees repeats as repeats). `event_id`:
    /// that one event is sent again now and the answer says how it went. Name one of the two.
    #[oai(
        path = "/:id/event-endpoints/:endpoint_id/replay",
        method = "post",
        operation_id = "replay_event_endpoint"
    )]
    async fn replay(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        endpoint_id: Path<Uuid>,
        body: Json<ReplayIn>,
    ) -> Result<ReplayResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "replay_event_endpoint",
            Some(id.0),
        )
        .await?;
        let asked = match (body.0.since, body.0.event_id) {
            (Some(since), None) => Replay::Since(since),
            (None, Some(event_id)) => Replay::Event(event_id),
            _ => return Err(refusal(EndpointError::Replay)),
        };
        let audited = match &asked {
            Replay::Since(since) => json!({"since": since.unix_timestamp()}),
            Replay::Event(event_id) => json!({"event_id": event_id}),
        };
        let replayed = event_endpoints::replay(&state, id.0, endpoint_id.0, asked)
            .await
            .map_err(refusal)?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "event_endpoint.replay",
            format!("event_endpoint:{}", endpoint_id.0),
            audited,
        )
        .await;
        Ok(ReplayResponse::Accepted(Json(match replayed {
            Replayed::Queued(events) => ReplayOut {
                events: events as u64,
                delivery: None,
            },
            Replayed::Sent(record) => ReplayOut {
                events: 1,
                delivery: Some(delivery_out(record)),
            },
        })))
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

    /// The event log
    ///
    /// What endpoints are sent, to read instead: every event logged after `after`, oldest
    /// first, each with its id (the deliveries' `webhook-id`) and its body exactly as sent,
    /// phone included for those who may see phones. An integrator back from an outage can
    /// reconcile from here. Events are logged while the neighborhood has at least one event
    /// endpoint, and the latest 10,000 are kept.
    #[oai(
        path = "/:id/event-log",
        method = "get",
        operation_id = "list_integrator_events"
    )]
    async fn event_log(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// Events after this place (the previous page's `cursor`); from the oldest kept when
        /// absent.
        after: Query<Option<String>>,
        /// At most this many (1 to 500, default 100).
        limit: Query<Option<u32>>,
    ) -> Result<EventLogResponse, ApiError<(SignedIn, Invalid)>> {
        let grant = policy::authorize(
            &state,
            auth.principal(),
            "list_integrator_events",
            Some(id.0),
        )
        .await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_EVENTS, MAX_EVENTS);
        errors.stream_cursor("after", after.0.as_deref());
        errors.finish()?;
        let page = event_endpoints::event_log(&state, id.0, after.0.as_deref(), limit as usize)
            .await
            .map_err(refusal)?;
        let with_phones = policy::may_see_phones(&grant);
        let items = page
            .events
            .into_iter()
            .filter_map(|logged| {
                let event = logged.event.documented(with_phones);
                if event.is_none() {
                    tracing::error!(event_id = %logged.event.id, "a logged event does not fit its schema");
                }
                Some(LoggedEventOut {
                    id: logged.event.id,
                    event: event?,
                })
            })
            .collect();
        Ok(EventLogResponse::Ok(Json(EventLogPageOut {
            items,
            cursor: page.cursor,
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
        EndpointError::EventNotFound => field(
            "event_id",
            "No such event in the log: it keeps the latest 10,000.".to_owned(),
        ),
        EndpointError::Replay => field(
            "since",
            "Name either a time (since) or an event (event_id), not both.".to_owned(),
        ),
        EndpointError::Phones => field(
            "include_phones",
            "Only captains may have members' phone numbers sent.".to_owned(),
        ),
        EndpointError::Contended => ApiError::conflict(
            ErrorCode::Conflict,
            "The endpoint kept changing under this request; try again.",
        ),
        EndpointError::Store(cause) => cause.into(),
    }
}

fn to_out(view: EndpointView) -> EventEndpointOut {
    let now = OffsetDateTime::now_utc();
    let endpoint = view.endpoint;
    EventEndpointOut {
        id: endpoint.id,
        previous_secret_expires_at: endpoint
            .signing_secrets(now)
            .filter_map(|secret| secret.retires_at)
            .max(),
        url: endpoint.url,
        events: endpoint.events,
        description: endpoint.description,
        include_phones: endpoint.include_phones,
        created_at: endpoint.created_at,
        enabled: view.disabled.is_none(),
        disabled_at: view.disabled.as_ref().map(|disabled| disabled.at.clone()),
        disabled_reason: view.disabled.map(|disabled| disabled.reason),
        failed_attempts: view.failures,
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
        replayed: record.replayed,
    }
}
