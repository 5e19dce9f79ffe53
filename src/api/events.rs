//! `GET /api/v1/neighborhoods/{id}/events`: live updates as server-sent events, so the admin app
//! refreshes what changed (members, join requests, messages), whichever instance handled it.

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::EventStream;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::ApiError;
use super::error::statuses::{Invalid, NotFound, SignedIn};
use crate::auth::policy;
use crate::auth::principal::Auth;
use crate::state::AppState;
use crate::store::events::NeighborhoodEvent;

pub struct EventsApi;

/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

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
    ) -> Result<EventsResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "neighborhood_events", Some(id.0)).await?;
        state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        let channel = state.store.keys().events_channel(id.0);
        let events = state
            .store
            .subscribe(&channel)
            .await?
            .filter_map(|payload| async move { serde_json::from_str(&payload).ok() })
            .boxed();
        Ok(EventsResponse::Ok(
            EventStream::new(events).keep_alive(KEEP_ALIVE),
        ))
    }
}
