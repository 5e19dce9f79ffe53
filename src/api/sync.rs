//! `POST /api/v1/neighborhoods/{id}/sync`: a captain asks for the members in Redis and the
//! participants in Twilio to be compared now, and drift repaired (`jobs::reconcile`).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::ApiError;
use super::error::statuses::{Conflict, Invalid, NotFound, SignedIn, Twilio};
use super::security::Auth;
use crate::auth::policy;
use crate::jobs::reconcile::{self, SyncReport};
use crate::state::AppState;

pub struct SyncApi;

#[derive(ApiResponse)]
enum SyncResponse {
    /// What was compared and changed. Twilio-side repairs of members are queued: their `sync`
    /// shows `pending` until done.
    #[oai(status = 200)]
    Ok(Json<SyncReport>),
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Neighborhoods")]
impl SyncApi {
    /// Reconcile with Twilio
    ///
    /// Compares every member with the SMS participants Twilio lists in each of the
    /// neighborhood's Conversations and repairs drift both ways: members missing in Twilio are
    /// added again, participants of no member (or of members who left) are removed, records
    /// naming the wrong participant are corrected. Members with a change in flight are skipped.
    /// The same runs on its own every `NT_RECONCILE_EVERY_SECS`.
    #[oai(
        path = "/:id/sync",
        method = "post",
        operation_id = "sync_neighborhood"
    )]
    async fn sync(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
    ) -> Result<SyncResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict, Twilio)>> {
        policy::authorize(&state, auth.principal(), "sync_neighborhood", Some(id.0)).await?;
        let report = reconcile::reconcile(&state, id.0).await?;
        if report.changed_anything() {
            let detail = json!({
                "requeued": report.requeued.len(),
                "relinked": report.relinked.len(),
                "removed_strays": report.removed_strays.len(),
                "removed_departed": report.removed_departed.len(),
            });
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "neighborhood.sync",
                format!("neighborhood:{}", id.0),
                detail,
            )
            .await;
        }
        Ok(SyncResponse::Ok(Json(report)))
    }
}
