//! `/api/v1/neighborhoods/{id}/join-requests`: captains see who asked and let them in (or not).

use std::collections::BTreeMap;

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
use super::error::ApiError;
use super::error::statuses::{Conflict, Invalid, NotFound, RateLimited, SignedIn};
use super::members::{self, MemberOut};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::join_request::{JoinChannel, JoinRequest, JoinState};
use crate::services::additions::Adder;
use crate::services::join_history::{self, PastDecision, RequestHistory};
use crate::services::joining::{self, Approval};
use crate::state::AppState;

pub struct JoinRequestsApi;

/// A request to join.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct JoinRequestOut {
    /// Id.
    pub id: Uuid,
    /// Short number for SMS commands (`#approve 12`).
    pub number: u64,
    /// The name they gave.
    pub name: String,
    /// Their phone, for captains and the owner only.
    pub phone: Option<String>,
    /// Their address, if given; captains and the owner only, like a member's.
    pub address: Option<String>,
    /// Their answers to the join questions, by question text; captains and the owner only.
    pub answers: Option<BTreeMap<String, String>>,
    /// How they asked.
    pub channel: JoinChannel,
    /// The language they asked in (`en`, `es`), when known: their texts use it.
    pub language: Option<String>,
    /// Where it stands.
    pub state: JoinState,
    /// The exact consent text they agreed to.
    pub consent_text: String,
    /// When they agreed.
    pub consent_at: OffsetDateTime,
    /// When they asked.
    pub created_at: OffsetDateTime,
    /// Who decided, and when.
    pub decided_by: Option<String>,
    /// When it was decided.
    pub decided_at: Option<OffsetDateTime>,
    /// The member an approval made.
    pub member_id: Option<Uuid>,
    /// When a captain removed this phone before: by whom and when ("Removed by Olive on Dec 4, 2026").
    /// Such a request waits for a captain, even under the `open` policy.
    pub previously: Option<String>,
    /// What captains should know before deciding: the phone's and the name's history here.
    /// Captains and the owner only, like the phone.
    pub history: Option<JoinRequestHistoryOut>,
}

/// Flags about a request's phone and name, worked out when the list is read.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct JoinRequestHistoryOut {
    /// A captain removed this phone from the group before ("Removed by Olive on Dec 4, 2026").
    pub removed: Option<String>,
    /// A captain denied an earlier request from this phone: the latest such denial.
    pub denied_before: Option<PastDecisionOut>,
    /// The phone is a member a captain paused, and why ("Paused by Olive"): approving does not
    /// resume them (a captain's resume does).
    pub paused: Option<String>,
    /// The captains blocked this phone (after it asked).
    pub blocked: Option<PastDecisionOut>,
    /// A current member (another phone) has the same name: maybe the same person twice.
    pub same_name_as: Option<String>,
    /// Who decided this request, by name ("Olive", "an API token"), once it is decided;
    /// `decided_by` on the request keeps the actor as the audit log names it.
    pub decided_by: Option<String>,
}

/// An earlier decision about a phone.
#[derive(Debug, Object)]
pub struct PastDecisionOut {
    /// When.
    pub at: OffsetDateTime,
    /// Who, by name: a member's display name, "an API token", "the open join policy".
    pub by: String,
}

impl From<RequestHistory> for JoinRequestHistoryOut {
    fn from(history: RequestHistory) -> Self {
        let decision = |d: PastDecision| PastDecisionOut { at: d.at, by: d.by };
        Self {
            removed: history.removed,
            denied_before: history.denied_before.map(decision),
            paused: history.paused,
            blocked: history.blocked.map(decision),
            same_name_as: history.same_name_as,
            decided_by: history.decided_by,
        }
    }
}

/// Join requests, newest first.
#[derive(Debug, Object)]
pub struct JoinRequestList {
    /// Newest first.
    pub items: Vec<JoinRequestOut>,
}

#[derive(ApiResponse)]
enum ListResponse {
    /// The requests.
    #[oai(status = 200)]
    Ok(Json<JoinRequestList>),
}

/// An approved request and the member it made.
#[derive(Debug, Object)]
pub struct ApprovalOut {
    /// The request, now `approved`.
    pub request: JoinRequestOut,
    /// The member: `sync` is `pending` until Twilio has added them to the group text.
    pub member: MemberOut,
}

#[derive(ApiResponse)]
enum ApproveResponse {
    /// Approved: the neighbor is a member; adding them to the group text and the welcome text are
    /// under way.
    #[oai(status = 202)]
    Accepted(Json<ApprovalOut>),
}

#[derive(ApiResponse)]
enum DenyResponse {
    /// Denied: a polite text is on its way.
    #[oai(status = 200)]
    Ok(Json<JoinRequestOut>),
}

/// A request as `grant`'s holder may see it: `captain_view` (finding 13) shows the phone, the
/// address and the answers, which are for captains and up only, as a member's are.
fn to_out(request: &JoinRequest, captain_view: bool) -> JoinRequestOut {
    JoinRequestOut {
        id: request.id,
        number: request.number,
        name: request.name.as_str().to_owned(),
        phone: captain_view.then(|| request.phone.as_str().to_owned()),
        address: captain_view.then(|| request.address.clone()).flatten(),
        answers: captain_view.then(|| request.answers.clone()),
        channel: request.channel,
        language: request.language.map(|language| language.code().to_owned()),
        state: request.state,
        consent_text: request.consent.text.clone(),
        consent_at: request.consent.at,
        created_at: request.created_at,
        decided_by: request.decided_by.clone(),
        decided_at: request.decided_at,
        member_id: request.member_id,
        previously: request.previously.clone(),
        history: None,
    }
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::JoinRequests")]
impl JoinRequestsApi {
    /// List join requests
    ///
    /// Newest first, optionally of one state. Phones are shown to captains and the owner only.
    #[oai(
        path = "/:id/join-requests",
        method = "get",
        operation_id = "list_join_requests"
    )]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        #[oai(name = "state")] wanted: Query<Option<JoinState>>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "list_join_requests", Some(id.0)).await?;
        let show_phone = policy::may_see_phones(&grant);
        joining::expire_unverified(&state, id.0).await?;
        let all = state.store.join_requests(id.0).await?;
        let listed: Vec<JoinRequest> = all
            .iter()
            .filter(|request| wanted.0.is_none_or(|wanted| request.state == wanted))
            .cloned()
            .collect();
        let histories = if show_phone {
            join_history::histories(&state, id.0, &listed, &all).await?
        } else {
            Vec::new()
        };
        let mut histories = histories.into_iter();
        let items = listed
            .iter()
            .map(|request| JoinRequestOut {
                history: histories.next().map(Into::into),
                ..to_out(request, show_phone)
            })
            .collect();
        Ok(ListResponse::Ok(Json(JoinRequestList { items })))
    }

    /// Approve a join request
    ///
    /// Makes the neighbor a member and queues adding them to a shard with room, then a welcome
    /// text. Two captains approving at once make one member. Only pending (verified) requests.
    #[oai(
        path = "/:id/join-requests/:request_id/approve",
        method = "post",
        operation_id = "approve_join_request"
    )]
    async fn approve(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        request_id: Path<Uuid>,
    ) -> Result<ApproveResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict, RateLimited)>>
    {
        let grant =
            policy::authorize(&state, auth.principal(), "approve_join_request", Some(id.0)).await?;
        let actor = auth.principal().actor();
        let adder = Adder::platform_admin(auth.principal().is_platform_admin());
        let approval = joining::approve(&state, id.0, request_id.0, (&actor, adder)).await?;
        record_approval(&state, &auth, request, &approval).await;
        let show_phone = policy::may_see_phones(&grant);
        Ok(ApproveResponse::Accepted(Json(ApprovalOut {
            request: to_out(&approval.request, show_phone),
            member: members::to_out(&approval.member, &grant),
        })))
    }

    /// Deny a join request
    ///
    /// Records who denied it and texts the neighbor a polite note.
    #[oai(
        path = "/:id/join-requests/:request_id/deny",
        method = "post",
        operation_id = "deny_join_request"
    )]
    async fn deny(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        request_id: Path<Uuid>,
    ) -> Result<DenyResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "deny_join_request", Some(id.0)).await?;
        let actor = auth.principal().actor();
        let denial = joining::deny(&state, id.0, request_id.0, &actor).await?;
        let denied = denial.request;
        if denial.newly {
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "join_request.deny",
                format!("join_request:{}", denied.id),
                json!({}),
            )
            .await;
        }
        Ok(DenyResponse::Ok(Json(to_out(
            &denied,
            policy::may_see_phones(&grant),
        ))))
    }
}

/// The audit entry of an approval this call made (none when it was approved before).
pub(super) async fn record_approval(
    state: &AppState,
    auth: &Auth,
    request: &Request,
    approval: &Approval,
) {
    if approval.newly {
        record(
            state,
            auth.principal(),
            request,
            Some(approval.request.neighborhood_id),
            "join_request.approve",
            format!("join_request:{}", approval.request.id),
            json!({"member": format!("member:{}", approval.member.id)}),
        )
        .await;
    }
}
