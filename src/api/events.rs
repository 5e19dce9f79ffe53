//! `GET /api/v1/neighborhoods/{id}/events`: live updates as server-sent events, so the admin app
//! refreshes what changed (members, join requests, messages), whichever instance handled it.
//!
//! A stream holds a connection slot for as long as it is open, so each caller may hold
//! [`PER_CALLER`] and the instance `NT_MAX_STREAMS` (security review, finding 10); all streams
//! share the instance's one Redis pub/sub connection (`store::pubsub`). Authority is checked again whenever a member changes and every [`RECHECK`]: a captain
//! removed or demoted, or a revoked token, loses the stream within that time.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::statuses::{Invalid, NotFound, RateLimited, SignedIn, Unavailable};
use super::error::{ApiError, ErrorBody, ErrorCode, ErrorResponse};
use super::security::Auth;
use crate::auth::policy;
use crate::auth::principal::Principal;
use crate::services::neighborhoods;
use crate::state::{AppState, SlotRefused, StreamSlot};
use crate::store::events::{EventKind, NeighborhoodEvent};

pub struct EventsApi;

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Streams one caller (a person signed in, or a token) may hold open on an instance: a few tabs.
pub const PER_CALLER: usize = 5;
/// How often an open stream's authority is checked again when no member changed meanwhile.
pub const RECHECK: Duration = Duration::from_secs(30);

#[derive(ApiResponse)]
enum EventsResponse {
    /// One event per change, as JSON in `data`, until the client disconnects.
    #[oai(status = 200)]
    Ok(EventStream<BoxStream<'static, NeighborhoodEvent>>),
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Neighborhoods")]
impl EventsApi {
    /// Live updates
    ///
    /// Server-sent events, one per change to the neighborhood's members, join requests or
    /// messages: `{"kind": "member" | "join_request" | "message", "id": "..."}`.
    #[oai(
        path = "/:id/events",
        method = "get",
        operation_id = "neighborhood_events"
    )]
    async fn events(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<EventsResponse, ApiError<(SignedIn, Invalid, NotFound, RateLimited, Unavailable)>>
    {
        policy::authorize(&state, auth.principal(), "neighborhood_events", Some(id.0)).await?;
        neighborhoods::any(&state, id.0).await?;
        let slot = state
            .streams
            .take(
                auth.principal().actor(),
                PER_CALLER,
                state.settings.max_streams,
            )
            .map_err(too_many)?;
        let channel = state.store.keys().events_channel(id.0);
        let payloads = state.store.subscribe(&channel).await?.boxed();
        let watch = Watch {
            payloads,
            state: state.0.clone(),
            principal: auth.principal().clone(),
            neighborhood_id: id.0,
            rechecks: tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK),
            _slot: slot,
        };
        let events = futures::stream::unfold(watch, Watch::next).boxed();
        Ok(EventsResponse::Ok(
            EventStream::new(events).keep_alive(KEEP_ALIVE),
        ))
    }
}

fn too_many<S>(refused: SlotRefused) -> ApiError<S> {
    let body = |message: String| {
        Json(ErrorBody {
            code: ErrorCode::TooManyStreams,
            message,
            details: Vec::new(),
        })
    };
    match refused {
        SlotRefused::Caller => ErrorResponse::TooManyRequests(
            body(format!(
                "You have {PER_CALLER} live-update streams open already; close one (another tab) first."
            )),
            RECHECK.as_secs(),
        )
        .into(),
        SlotRefused::Instance => ErrorResponse::Unavailable(
            body(
                "This instance holds as many live-update streams as it may (NT_MAX_STREAMS); try again shortly."
                    .to_owned(),
            ),
            Some(RECHECK.as_secs()),
        )
        .into(),
    }
}

/// One open stream: its subscription, whose it is, and its slot (freed when the stream ends).
struct Watch {
    payloads: BoxStream<'static, String>,
    state: AppState,
    principal: Principal,
    neighborhood_id: Uuid,
    rechecks: tokio::time::Interval,
    _slot: StreamSlot,
}

impl Watch {
    /// The next event, or the end of the stream: when the subscription drops, or when the caller
    /// may no longer watch (checked on every member change and every `RECHECK`).
    async fn next(mut self) -> Option<(NeighborhoodEvent, Self)> {
        loop {
            tokio::select! {
                payload = self.payloads.next() => {
                    let Ok(event) = serde_json::from_str::<NeighborhoodEvent>(&payload?) else {
                        continue;
                    };
                    if event.kind == EventKind::Member && !still_allowed(&self.state, &self.principal, self.neighborhood_id).await {
                        return None;
                    }
                    return Some((event, self));
                }
                _ = self.rechecks.tick() => {
                    if !still_allowed(&self.state, &self.principal, self.neighborhood_id).await {
                        return None;
                    }
                }
            }
        }
    }
}

/// Whether `principal` may still watch the neighborhood (a Redis failure counts as no: the
/// browser reconnects and is authorized afresh).
async fn still_allowed(state: &AppState, principal: &Principal, neighborhood_id: Uuid) -> bool {
    let allowed = policy::authorize(
        state,
        principal,
        "neighborhood_events",
        Some(neighborhood_id),
    )
    .await
    .is_ok();
    if !allowed {
        tracing::info!(
            %neighborhood_id,
            "live-update stream closed: its caller may no longer watch"
        );
    }
    allowed
}
