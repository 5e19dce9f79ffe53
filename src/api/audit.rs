//! `/api/v1/neighborhoods/{id}/audit`: who did what, newest first; and [`record`], which every
//! privileged operation calls.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::statuses::{Invalid, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::auth::principal::Principal;
use crate::services::audit_log::{self, AuditFilter, AuditPage as AuditLogPage};
use crate::state::AppState;
use crate::store::audit::AuditEntry;

pub struct AuditApi;

/// One privileged action.
#[derive(Debug, Object)]
pub struct AuditEntryOut {
    /// Stable id; also the paging cursor.
    pub id: String,
    /// When (RFC 3339).
    pub at: String,
    /// Who: `phone:+1...`, `token:<id>` or `cli`.
    pub actor: String,
    /// What, e.g. `neighborhood.update`, `member.role_change`, `token.create`.
    pub action: String,
    /// To what, e.g. `member:<id>`.
    pub target: String,
    /// From where: `ip:<address>`, `sms` or `cli`.
    pub source: String,
    /// Facts about the change (old and new values).
    pub detail: serde_json::Value,
}

/// A page of the audit log.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntryOut>,
    /// Pass as `before` for the next (older) page; absent on the last page. With filters a page
    /// may hold fewer than `limit` entries (even none) and still have a next one: only so much
    /// of the log is read per request.
    pub next_before: Option<String>,
}

#[derive(ApiResponse)]
enum AuditResponse {
    /// A page of entries.
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Audit")]
impl AuditApi {
    /// Audit log
    ///
    /// Every privileged action in the neighborhood, newest first. Entries are never edited.
    /// `action` and `actor` narrow it down, e.g. every member change by one captain.
    #[oai(path = "/:id/audit", method = "get", operation_id = "list_audit")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// Entries older than this id (the previous page's `next_before`).
        before: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u32>>,
        /// Only this action (`member.remove`), or a family of actions ending with a dot
        /// (`member.`, `join_request.`).
        action: Query<Option<String>>,
        /// Only what this actor did, as entries name it (`phone:+15550000001`, `token:<id>`).
        actor: Query<Option<String>>,
    ) -> Result<AuditResponse, ApiError<(SignedIn, Invalid)>> {
        policy::authorize(&state, auth.principal(), "list_audit", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_PAGE, MAX_PAGE);
        errors.stream_cursor("before", before.0.as_deref());
        let action = action.0.filter(|action| !action.is_empty());
        if action.as_deref().is_some_and(|action| {
            action.len() > 64
                || !action
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
        }) {
            errors.add(
                "action",
                "An action is lower-case words joined by `_` and `.`, like `member.remove` or `member.`.",
            );
        }
        let actor = actor.0.filter(|actor| !actor.is_empty());
        if actor.as_deref().is_some_and(|actor| actor.len() > 100) {
            errors.add("actor", "An actor is at most 100 characters.");
        }
        errors.finish()?;
        let filter = AuditFilter { action, actor };
        let AuditLogPage {
            records,
            next_before,
        } = audit_log::page(&state.store, id.0, &filter, before.0, limit as usize).await?;
        let items = records
            .into_iter()
            .map(|record| AuditEntryOut {
                id: record.id,
                at: record.entry.at,
                actor: record.entry.actor,
                action: record.entry.action,
                target: record.entry.target,
                source: record.entry.source,
                detail: record.entry.detail,
            })
            .collect();
        Ok(AuditResponse::Ok(Json(AuditPage { items, next_before })))
    }
}

/// Appends a privileged action to the neighborhood's log (or the platform's). The action already
/// happened, so a failure to log it is reported loudly but does not undo it.
pub async fn record(
    state: &AppState,
    principal: &Principal,
    request: &Request,
    neighborhood_id: Option<Uuid>,
    action: &str,
    target: String,
    detail: serde_json::Value,
) {
    let entry = AuditEntry::now(
        principal.actor(),
        action,
        target,
        format!("ip:{}", state.client_ip(request)),
        detail,
    );
    state.store.record_audit(neighborhood_id, &entry).await;
}
