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
    /// Pass as `before` for the next (older) page; absent on the last page.
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
    #[oai(path = "/:id/audit", method = "get", operation_id = "list_audit")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// Entries older than this id (the previous page's `next_before`).
        before: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u32>>,
    ) -> Result<AuditResponse, ApiError<(SignedIn, Invalid)>> {
        policy::authorize(&state, auth.principal(), "list_audit", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_PAGE, MAX_PAGE);
        errors.stream_cursor("before", before.0.as_deref());
        errors.finish()?;
        let records = state
            .store
            .audit(Some(id.0), before.0.as_deref(), limit as usize)
            .await?;
        let next_before = (records.len() == limit as usize)
            .then(|| records.last().map(|r| r.id.clone()))
            .flatten();
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
