//! `/api/v1/neighborhoods/{id}/join-requests/approve` and `.../deny`: many requests decided in
//! one call (the rows a captain ticked, a street's worth at once), each on its own, with one
//! audit entry for the batch.

use std::collections::HashSet;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{Conflict, JsonBody, NotFound, SignedIn};
use super::error::{AnyStatus, ApiError, ErrorBody, FieldErrors};
use super::join_requests::record_approval;
use super::security::Auth;
use crate::auth::policy;
use crate::services::additions::Adder;
use crate::services::joining::{self, Approval, Denial};
use crate::state::AppState;

pub struct JoinRequestBatchesApi;

/// Join requests to approve together.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ApprovalsIn {
    /// The requests, 1 to 1,000 different ids (for example the ones a captain ticked). A batch
    /// of more than one writes one audit entry (`join_request.approve_many`) naming them all.
    pub request_ids: Vec<Uuid>,
}

/// A request of a batch that is approved, now or before.
#[derive(Debug, Object)]
pub struct BatchApproved {
    /// The request.
    pub request_id: Uuid,
    /// The member it made: `sync` stays `pending` until Twilio has added them.
    pub member_id: Uuid,
    /// Their name in the group (a number is added when another member has it).
    pub display_name: String,
    /// False when it had been approved before this call.
    pub newly: bool,
}

/// A request of a batch that could not be approved, and why.
#[derive(Debug, Object)]
pub struct BatchRefused {
    /// The request.
    pub request_id: Uuid,
    /// Why, in the body every error has (`not_found`, `conflict`).
    pub error: ErrorBody,
}

/// What a batch of approvals did, request by request, in the order asked.
#[derive(Debug, Object)]
pub struct ApprovalsOut {
    /// Approved: adding them to the group text and their welcome texts are under way.
    pub approved: Vec<BatchApproved>,
    /// Not approved (denied already, not confirmed, a member already, no such request, or
    /// Redis unavailable for it); the others were approved all the same.
    pub refused: Vec<BatchRefused>,
}

#[derive(ApiResponse)]
enum ApproveManyResponse {
    /// Each request approved or refused on its own; see `refused`.
    #[oai(status = 202)]
    Accepted(Json<ApprovalsOut>),
}

/// Most join requests one batch approves.
const MAX_BATCH: usize = 1_000;

/// Join requests to deny together.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct DenialsIn {
    /// The requests, 1 to 1,000 different ids.
    pub request_ids: Vec<Uuid>,
    /// Why, for the captains (at most 500 characters): written in the audit log only. The
    /// neighbor is never told it; each gets the same polite text.
    pub reason: Option<String>,
}

/// A request of a batch that is denied, now or before.
#[derive(Debug, Object)]
pub struct BatchDenied {
    /// The request.
    pub request_id: Uuid,
    /// False when it had been denied before this call (no second text is sent).
    pub newly: bool,
}

/// What a batch of denials did, request by request, in the order asked.
#[derive(Debug, Object)]
pub struct DenialsOut {
    /// Denied: a polite text to each is on its way.
    pub denied: Vec<BatchDenied>,
    /// Not denied (approved already, no such request, ...); the others were denied all the same.
    pub refused: Vec<BatchRefused>,
}

#[derive(ApiResponse)]
enum DenyManyResponse {
    /// Each request denied or refused on its own; see `refused`.
    #[oai(status = 200)]
    Ok(Json<DenialsOut>),
}

/// Longest denial reason, in characters.
const MAX_REASON: usize = 500;

/// The batch's ids, checked: 1 to [`MAX_BATCH`], each once.
fn check_batch(ids: &[Uuid], errors: &mut FieldErrors) {
    if !(1..=MAX_BATCH).contains(&ids.len()) {
        errors.add(
            "request_ids",
            format!("Give 1 to {MAX_BATCH} join request ids."),
        );
    } else if ids.iter().collect::<HashSet<_>>().len() != ids.len() {
        errors.add("request_ids", "Give each join request id once.");
    }
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::JoinRequests")]
impl JoinRequestBatchesApi {
    /// Approve many join requests
    ///
    /// Approves up to 1,000 requests in one call, as a captain approving each would, but reading
    /// the members once: the way to let in a street's worth of neighbors at once. Each request
    /// stands on its own: one that cannot be approved is listed under `refused` with the error
    /// its own approval would answer, and the others go ahead.
    #[oai(
        path = "/:id/join-requests/approve",
        method = "post",
        operation_id = "approve_join_requests"
    )]
    async fn approve_many(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<ApprovalsIn>,
    ) -> Result<ApproveManyResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "approve_join_requests",
            Some(id.0),
        )
        .await?;
        let ids = &body.0.request_ids;
        let mut errors = FieldErrors::default();
        check_batch(ids, &mut errors);
        errors.finish()?;
        let actor = auth.principal().actor();
        let adder = Adder::platform_admin(auth.principal().is_platform_admin());
        let answers = joining::approve_many(&state, id.0, ids, (&actor, adder)).await?;
        let mut out = ApprovalsOut {
            approved: Vec::new(),
            refused: Vec::new(),
        };
        let newly: Vec<&Approval> = answers
            .iter()
            .filter_map(|(_, answer)| answer.as_ref().ok())
            .filter(|approval| approval.newly)
            .collect();
        // One entry for the whole batch (118 identical entries buried the log before).
        match newly.as_slice() {
            [] => {}
            [one] => record_approval(&state, &auth, request, one).await,
            many => {
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "join_request.approve_many",
                    format!("neighborhood:{}", id.0),
                    json!({
                        "approved": many.len(),
                        "request_ids": many.iter().map(|a| a.request.id).collect::<Vec<_>>(),
                        "names": many.iter().map(|a| a.member.display_name.as_str()).collect::<Vec<_>>(),
                    }),
                )
                .await;
            }
        }
        for (request_id, answer) in answers {
            match answer {
                Ok(approval) => {
                    out.approved.push(BatchApproved {
                        request_id,
                        member_id: approval.member.id,
                        display_name: approval.member.display_name.as_str().to_owned(),
                        newly: approval.newly,
                    });
                }
                Err(error) => out.refused.push(BatchRefused {
                    request_id,
                    error: ApiError::<AnyStatus>::from(error).into_body(),
                }),
            }
        }
        Ok(ApproveManyResponse::Accepted(Json(out)))
    }

    /// Deny many join requests
    ///
    /// Denies up to 1,000 requests in one call (one is fine too), with an optional reason for
    /// the captains that goes in the audit log only. Each neighbor gets the usual polite text,
    /// never the reason. Each request stands on its own: one that cannot be denied is listed
    /// under `refused` and the others go ahead. The call writes one audit entry.
    #[oai(
        path = "/:id/join-requests/deny",
        method = "post",
        operation_id = "deny_join_requests"
    )]
    async fn deny_many(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<DenialsIn>,
    ) -> Result<DenyManyResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "deny_join_requests", Some(id.0)).await?;
        let ids = &body.0.request_ids;
        let reason = body
            .0
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|reason| !reason.is_empty());
        let mut errors = FieldErrors::default();
        check_batch(ids, &mut errors);
        if reason.is_some_and(|reason| reason.chars().count() > MAX_REASON) {
            errors.add(
                "reason",
                format!("A reason has at most {MAX_REASON} characters."),
            );
        }
        errors.finish()?;
        let actor = auth.principal().actor();
        let answers = joining::deny_many(&state, id.0, ids, &actor).await?;
        let newly: Vec<&Denial> = answers
            .iter()
            .filter_map(|(_, answer)| answer.as_ref().ok())
            .filter(|denial| denial.newly)
            .collect();
        match newly.as_slice() {
            [] => {}
            [one] => {
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "join_request.deny",
                    format!("join_request:{}", one.request.id),
                    json!({"reason": reason, "name": one.request.name.as_str()}),
                )
                .await;
            }
            many => {
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "join_request.deny_many",
                    format!("neighborhood:{}", id.0),
                    json!({
                        "denied": many.len(),
                        "request_ids": many.iter().map(|d| d.request.id).collect::<Vec<_>>(),
                        "names": many.iter().map(|d| d.request.name.as_str()).collect::<Vec<_>>(),
                        "reason": reason,
                    }),
                )
                .await;
            }
        }
        let mut out = DenialsOut {
            denied: Vec::new(),
            refused: Vec::new(),
        };
        for (request_id, answer) in answers {
            match answer {
                Ok(denial) => out.denied.push(BatchDenied {
                    request_id,
                    newly: denial.newly,
                }),
                Err(error) => out.refused.push(BatchRefused {
                    request_id,
                    error: ApiError::<AnyStatus>::from(error).into_body(),
                }),
            }
        }
        Ok(DenyManyResponse::Ok(Json(out)))
    }
}
