//! `GET /api/v1/neighborhoods/{id}/summary`: the figures a captain's home page shows at a glance.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::ApiError;
use super::error::statuses::{Invalid, NotFound, SignedIn};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::join_request::JoinState;
use crate::domain::member::SyncState;
use crate::domain::member_list::StatusCounts;
use crate::jobs::outbox::SHARD_CAPACITY;
use crate::services::provisioning::ProvisionError;
use crate::services::sending;
use crate::state::AppState;
use crate::store::daily_texts::Scope;

pub struct SummaryApi;

/// A neighborhood at a glance.
#[derive(Debug, Object, PartialEq, Eq)]
pub struct SummaryOut {
    /// Members in the group text (status `active`), the owner included.
    pub members: u32,
    /// Members paused by a captain or after failed deliveries.
    pub paused: u32,
    /// Join requests waiting for a captain's decision.
    pub pending_requests: u32,
    /// SMS participants placed in the neighborhood's Conversations.
    pub sms_places_used: u32,
    /// SMS places in those Conversations (Twilio allows 50 in each).
    pub sms_places: u32,
    /// Conversations the group spans.
    pub groups: u32,
    /// Members whose change is still on its way to Twilio.
    pub sync_pending: u32,
    /// Members whose change Twilio kept refusing (a captain can retry).
    pub sync_failed: u32,
    /// The 1:1 texts (join codes, welcomes, invitations, notices) sent today, and their cap.
    pub texts_today: TextsTodayOut,
}

/// Today's 1:1 texts against the daily caps (`NT_DAILY_TEXTS_PER_NEIGHBORHOOD`,
/// `NT_DAILY_TEXTS_PER_DEPLOYMENT`), counted per UTC day.
#[derive(Debug, Object, PartialEq, Eq)]
pub struct TextsTodayOut {
    /// 1:1 texts this neighborhood sent today (UTC).
    pub sent: u64,
    /// How many it may send per day.
    pub cap: u64,
    /// True once the cap refused a text today: no more 1:1 texts (join codes included) go out
    /// until midnight UTC. Group texts are not affected.
    pub paused: bool,
    /// True once the deployment's cap, across all neighborhoods, refused a text today.
    pub deployment_paused: bool,
}

#[derive(ApiResponse)]
enum SummaryResponse {
    /// The figures.
    #[oai(status = 200)]
    Ok(Json<SummaryOut>),
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Neighborhoods")]
impl SummaryApi {
    /// Summary
    ///
    /// Members, waiting join requests and how full the neighborhood's Conversations are
    /// ("73 of 100 SMS places in 2 groups"). Moderators and above.
    #[oai(
        path = "/:id/summary",
        method = "get",
        operation_id = "neighborhood_summary"
    )]
    async fn summary(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<SummaryResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "neighborhood_summary", Some(id.0)).await?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or(ProvisionError::NotFound)?;
        let today = sending::today();
        let (members, requests, counts, (sent, paused), (_, deployment_paused)) = tokio::try_join!(
            state.store.members(id.0),
            state.store.join_requests(id.0),
            state.store.shard_counts(id.0),
            state.store.daily_texts(Scope::Neighborhood(id.0), &today),
            state.store.daily_texts(Scope::Deployment, &today),
        )?;
        let count = |keep: &dyn Fn(&crate::domain::member::Member) -> bool| {
            members.iter().filter(|member| keep(member)).count() as u32
        };
        let by_status = StatusCounts::of(&members);
        let groups = neighborhood.shards.len() as u32;
        Ok(SummaryResponse::Ok(Json(SummaryOut {
            members: by_status.active,
            paused: by_status.paused,
            pending_requests: requests
                .iter()
                .filter(|request| request.state == JoinState::Pending)
                .count() as u32,
            sms_places_used: counts.values().sum(),
            sms_places: groups * SHARD_CAPACITY,
            groups,
            sync_pending: count(&|member| member.sync == SyncState::Pending),
            sync_failed: count(&|member| matches!(member.sync, SyncState::Failed { .. })),
            texts_today: TextsTodayOut {
                sent,
                cap: state.settings.daily_texts_per_neighborhood,
                paused,
                deployment_paused,
            },
        })))
    }
}
