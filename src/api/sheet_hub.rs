//! `/api/v1/neighborhoods/{id}/sheet-hub`: a Google Sheet (or a Google Form's responses) the
//! group is kept in step with (issue 27), and `/api/v1/google/callback`, where Google sends a
//! captain back from its consent page.

use poem::web::{Data, Query as WebQuery};
use poem::{Request, Response, handler};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{Conflict, Google, Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, ErrorCode, FieldError};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::sheet_hub::{HubMode, ProblemCode, SheetHub, SyncTrigger};
use crate::import::ImportReport;
use crate::sheet_hub::{self, ConsentRefusal, HubError, NewConfig};
use crate::state::AppState;

pub struct SheetHubApi;

/// What syncing last ran into.
#[derive(Debug, Object)]
pub struct SheetHubProblemOut {
    /// `revoked`, `forbidden`, `not_found`, `range_not_found` and `header` pause syncing until a
    /// captain acts (connects again, shares the sheet, saves the range); `rate_limited` and
    /// `unavailable` are tried again by themselves.
    pub code: ProblemCode,
    pub message: String,
    pub at: OffsetDateTime,
}

/// What a sync did.
#[derive(Debug, Object)]
pub struct SheetSyncOut {
    pub at: OffsetDateTime,
    pub trigger: SyncTrigger,
    /// The sheet was as at the sync before: one request to Google, nothing else done.
    pub sheet_unchanged: bool,
    /// Rows read (blank rows are skipped).
    pub rows: u32,
    /// New join requests, or new members when consent is attested.
    pub added: u32,
    /// Members or open join requests whose row changed.
    pub updated: u32,
    pub unchanged: u32,
    /// Rows that could not be taken (the preview lists why).
    pub rejected: u32,
    /// Of `rejected`, new members past today's additions (`NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD`):
    /// a later sync of the same sheet takes them.
    pub held_back: u32,
    /// Phones of the sync before that the sheet no longer has. Reported only: nobody is removed
    /// from the group because a row went away.
    pub removed_from_sheet: u32,
    /// The first 100 of them.
    pub removed_phones: Vec<String>,
}

/// A neighborhood's spreadsheet hub.
#[derive(Debug, Object)]
pub struct SheetHubOut {
    /// Whether the operator set up Google (`NT_GOOGLE_CLIENT_ID`, `NT_GOOGLE_CLIENT_SECRET`);
    /// without it nothing here works.
    pub available: bool,
    /// The address Google sends captains back to, which the operator registers on the OAuth
    /// client.
    pub redirect_uri: String,
    pub connected: bool,
    #[oai(skip_serializing_if_is_none)]
    pub connected_by: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub connected_at: Option<OffsetDateTime>,
    /// The spreadsheet's id.
    #[oai(skip_serializing_if_is_none)]
    pub spreadsheet: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub range: Option<String>,
    pub mode: HubMode,
    pub attest_consent: bool,
    /// Form mode: the consent question whose column is read.
    #[oai(skip_serializing_if_is_none)]
    pub consent_question: Option<String>,
    pub interval_minutes: u32,
    /// Syncing waits for a captain (see `problem`).
    pub paused: bool,
    #[oai(skip_serializing_if_is_none)]
    pub problem: Option<SheetHubProblemOut>,
    #[oai(skip_serializing_if_is_none)]
    pub last_sync: Option<SheetSyncOut>,
    /// When the schedule syncs next; absent until a captain has synced the configuration once
    /// (after its preview), and while paused.
    #[oai(skip_serializing_if_is_none)]
    pub next_sync_at: Option<OffsetDateTime>,
}

/// What to sync.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SheetHubConfigIn {
    /// The spreadsheet's link (`https://docs.google.com/spreadsheets/d/.../edit`) or id.
    pub spreadsheet: String,
    /// The sheet (tab) as it is spelled, or a range of it: `Sheet1`, `'Form Responses 1'!A1:Z`.
    pub range: String,
    /// `roster` (one row per person, default) or `form` (a Google Form's responses).
    pub mode: Option<HubMode>,
    /// Roster mode: you attest the people in the sheet agreed to receive the group's texts, so
    /// new rows become members; otherwise they become join requests.
    pub attest_consent: Option<bool>,
    /// Form mode (required there): the form's consent question, word for word as it heads its
    /// column. A response whose answer is empty or "No" is not filed; each one filed keeps the
    /// question as its evidence of consent.
    pub consent_question: Option<String>,
    /// Minutes between syncs, 5 to 1440 (default 15).
    pub interval_minutes: Option<u32>,
}

#[derive(Debug, Object)]
pub struct ConsentUrlOut {
    /// Google's consent page: send the captain's browser there.
    pub authorization_url: String,
}

#[derive(ApiResponse)]
enum HubResponse {
    #[oai(status = 200)]
    Ok(Json<SheetHubOut>),
}

#[derive(ApiResponse)]
enum ConnectResponse {
    #[oai(status = 200)]
    Ok(Json<ConsentUrlOut>),
}

#[derive(ApiResponse)]
enum PreviewResponse {
    /// What a sync would do now; nothing was changed.
    #[oai(status = 200)]
    Ok(Json<ImportReport>),
}

#[derive(ApiResponse)]
enum DisconnectResponse {
    /// Revoked at Google and forgotten; members and requests it made stay.
    #[oai(status = 204)]
    Disconnected,
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::SheetHub")]
impl SheetHubApi {
    /// The spreadsheet hub
    #[oai(
        path = "/:id/sheet-hub",
        method = "get",
        operation_id = "get_sheet_hub"
    )]
    async fn get(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<HubResponse, ApiError<(SignedIn, Invalid)>> {
        policy::authorize(&state, auth.principal(), "get_sheet_hub", Some(id.0)).await?;
        let hub = sheet_hub::get(&state, id.0).await.map_err(refusal)?;
        Ok(HubResponse::Ok(Json(hub_out(&state, &hub))))
    }

    /// Connect a Google account
    ///
    /// Answers Google's consent page (read-only access to spreadsheets). Google sends the
    /// captain back to `/api/v1/google/callback`, which keeps the connection and returns them to
    /// Settings. The page must be finished within 10 minutes, signed in as the captain who
    /// started it.
    #[oai(
        path = "/:id/sheet-hub/connect",
        method = "post",
        operation_id = "connect_sheet_hub"
    )]
    async fn connect(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<ConnectResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "connect_sheet_hub", Some(id.0)).await?;
        crate::services::neighborhoods::active(&state, id.0).await?;
        let url = sheet_hub::connect(&state, id.0, &auth.principal().actor())
            .await
            .map_err(refusal)?;
        Ok(ConnectResponse::Ok(Json(ConsentUrlOut {
            authorization_url: url,
        })))
    }

    /// Choose the sheet
    ///
    /// Saving ends a pause. Syncing on schedule starts once a captain has synced this
    /// configuration (after previewing it).
    #[oai(
        path = "/:id/sheet-hub",
        method = "put",
        operation_id = "configure_sheet_hub"
    )]
    async fn configure(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<SheetHubConfigIn>,
    ) -> Result<HubResponse, ApiError<(SignedIn, JsonBody, Conflict)>> {
        policy::authorize(&state, auth.principal(), "configure_sheet_hub", Some(id.0)).await?;
        let actor = auth.principal().actor();
        let new = NewConfig {
            spreadsheet: body.0.spreadsheet,
            range: body.0.range,
            mode: body.0.mode.unwrap_or_default(),
            attest_consent: body.0.attest_consent.unwrap_or(false),
            consent_question: body.0.consent_question,
            interval_minutes: body.0.interval_minutes,
        };
        let hub = sheet_hub::configure(&state, id.0, new, &actor)
            .await
            .map_err(refusal)?;
        if let Some(config) = &hub.config {
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "sheet_hub.configure",
                format!("neighborhood:{}", id.0),
                json!({
                    "spreadsheet": config.spreadsheet,
                    "range": config.range,
                    "mode": config.mode,
                    "attest_consent": config.attest_consent,
                    "interval_minutes": config.interval_minutes,
                }),
            )
            .await;
        }
        Ok(HubResponse::Ok(Json(hub_out(&state, &hub))))
    }

    /// Preview the sheet
    ///
    /// Reads the sheet and answers what syncing it would do, exactly as the CSV import's dry run
    /// does (`import_members` with `dry_run=true`): nothing is changed.
    #[oai(
        path = "/:id/sheet-hub/preview",
        method = "post",
        operation_id = "preview_sheet_hub"
    )]
    async fn preview(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<PreviewResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict, Google)>> {
        policy::authorize(&state, auth.principal(), "preview_sheet_hub", Some(id.0)).await?;
        let report = sheet_hub::preview(&state, id.0).await.map_err(refusal)?;
        Ok(PreviewResponse::Ok(Json(report)))
    }

    /// Sync the sheet now
    ///
    /// Answers the hub with this sync in `last_sync`, or, when Google refused, the `problem`.
    /// One sync of a neighborhood runs at a time, whichever instance runs it (409 `busy`).
    #[oai(
        path = "/:id/sheet-hub/sync",
        method = "post",
        operation_id = "sync_sheet_hub"
    )]
    async fn sync(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<HubResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "sync_sheet_hub", Some(id.0)).await?;
        let actor = auth.principal().actor();
        let hub = sheet_hub::sync(&state, id.0, SyncTrigger::Captain, Some(&actor))
            .await
            .map_err(refusal)?;
        Ok(HubResponse::Ok(Json(hub_out(&state, &hub))))
    }

    /// Disconnect
    ///
    /// Revokes the hub's access at Google and forgets the sheet. Members and join requests it
    /// brought in stay.
    #[oai(
        path = "/:id/sheet-hub",
        method = "delete",
        operation_id = "disconnect_sheet_hub"
    )]
    async fn disconnect(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
    ) -> Result<DisconnectResponse, ApiError<(SignedIn, Invalid, Conflict)>> {
        policy::authorize(&state, auth.principal(), "disconnect_sheet_hub", Some(id.0)).await?;
        sheet_hub::disconnect(&state, id.0).await.map_err(refusal)?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "sheet_hub.disconnect",
            format!("neighborhood:{}", id.0),
            json!({}),
        )
        .await;
        Ok(DisconnectResponse::Disconnected)
    }
}

fn hub_out(state: &AppState, hub: &SheetHub) -> SheetHubOut {
    let config = hub.config.as_ref();
    let paused = hub.pause().is_some();
    let scheduled = hub.scheduled();
    SheetHubOut {
        available: state.google.is_some(),
        redirect_uri: sheet_hub::redirect_uri(state),
        connected: hub.connection.is_some(),
        connected_by: hub.connection.as_ref().map(|c| c.connected_by.clone()),
        connected_at: hub.connection.as_ref().map(|c| c.connected_at),
        spreadsheet: config.map(|c| c.spreadsheet.clone()),
        range: config.map(|c| c.range.clone()),
        mode: config.map(|c| c.mode).unwrap_or_default(),
        attest_consent: config.is_some_and(|c| c.attest_consent),
        consent_question: config.and_then(|c| c.consent_question.clone()),
        interval_minutes: config.map_or(crate::domain::sheet_hub::DEFAULT_INTERVAL_MINUTES, |c| {
            c.interval_minutes
        }),
        paused,
        problem: hub.current_problem().map(|problem| SheetHubProblemOut {
            code: problem.code,
            message: problem.message.clone(),
            at: problem.at,
        }),
        last_sync: hub.sync.last_sync.as_ref().map(|last| SheetSyncOut {
            at: last.at,
            trigger: last.trigger,
            sheet_unchanged: last.sheet_unchanged,
            rows: last.counts.rows,
            added: last.counts.added,
            updated: last.counts.updated,
            unchanged: last.counts.unchanged,
            rejected: last.counts.rejected,
            held_back: last.counts.held_back,
            removed_from_sheet: last.counts.removed_from_sheet,
            removed_phones: last.counts.removed_phones.clone(),
        }),
        next_sync_at: hub.sync.next_at_ms.filter(|_| scheduled).and_then(|ms| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        }),
    }
}

fn refusal<S>(error: HubError) -> ApiError<S> {
    let field = |field: &str, message: String| {
        ApiError::validation(vec![FieldError {
            field: field.to_owned(),
            message,
        }])
    };
    match error {
        // A feature this deployment was set up without, not a dependency that is down: asking
        // again will not help, so it is no 503.
        HubError::Unavailable => ApiError::conflict(
            ErrorCode::GoogleNotConfigured,
            "Google is not set up on this deployment: the operator sets NT_GOOGLE_CLIENT_ID and NT_GOOGLE_CLIENT_SECRET.",
        ),
        HubError::NotConnected => ApiError::conflict(
            ErrorCode::Conflict,
            "No Google account is connected: connect one first.",
        ),
        HubError::NotConfigured => ApiError::conflict(
            ErrorCode::Conflict,
            "Choose a spreadsheet and save it first.",
        ),
        HubError::Spreadsheet(why) => field("spreadsheet", why),
        HubError::Range(why) => field("range", why),
        HubError::Interval => field(
            "interval_minutes",
            format!(
                "Sync every {} to {} minutes.",
                crate::domain::sheet_hub::MIN_INTERVAL_MINUTES,
                crate::domain::sheet_hub::MAX_INTERVAL_MINUTES
            ),
        ),
        HubError::ConsentQuestion => field(
            "consent_question",
            "In form mode, give the form's consent question word for word, as it heads its column (at most 500 characters).".to_owned(),
        ),
        HubError::AttestInFormMode => field(
            "attest_consent",
            "A form's responses become join requests for a captain to decide: attest consent only for a roster.".to_owned(),
        ),
        HubError::Busy => ApiError::conflict(
            ErrorCode::Busy,
            "The sheet is being synced right now; look again in a moment.",
        ),
        // The sheet itself cannot be read as a roster or a form: the captain's to fix.
        HubError::Refused(failure) if failure.code == ProblemCode::Header => {
            ApiError::conflict(ErrorCode::Conflict, &failure.message)
        }
        HubError::Refused(failure) => ApiError::google_refused(&failure.message),
        HubError::Neighborhood(error) => error.into(),
        HubError::Seal(error) => ApiError::internal_message(&error.to_string()),
        HubError::Store(error) => error.into(),
    }
}

/// What Google puts on the way back from its consent page.
#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    /// `access_denied` when the captain said no.
    error: Option<String>,
}

/// `GET /api/v1/google/callback`: where Google sends a captain back. Not an operation of the
/// document: a browser lands here, never a client. The captain must be signed in as who started
/// the visit (its single-use `state` is bound to them: nobody can connect their own Google
/// account to a neighborhood by luring a captain here); either way they are sent back to
/// Settings with the outcome.
#[handler]
pub async fn google_callback(
    request: &Request,
    WebQuery(params): WebQuery<CallbackParams>,
    state: Data<&AppState>,
) -> Response {
    let Some((neighborhood_id, nonce)) = params
        .state
        .as_deref()
        .and_then(sheet_hub::consent_neighborhood)
    else {
        return back(None, Err(ConsentRefusal::Expired));
    };
    let outcome = async {
        let Some(principal) = signed_in(&state, request).await else {
            return Ok(Err(ConsentRefusal::Expired));
        };
        if policy::authorize(
            &state,
            &principal,
            "connect_sheet_hub",
            Some(neighborhood_id),
        )
        .await
        .is_err()
        {
            return Ok(Err(ConsentRefusal::Expired));
        }
        let code = params.code.as_deref().filter(|_| params.error.is_none());
        let actor = principal.actor();
        let finished =
            sheet_hub::finish_consent(&state, neighborhood_id, nonce, code, &actor).await?;
        if finished.is_ok() {
            record(
                &state,
                &principal,
                request,
                Some(neighborhood_id),
                "sheet_hub.connect",
                format!("neighborhood:{neighborhood_id}"),
                json!({}),
            )
            .await;
        }
        Ok::<_, HubError>(finished)
    }
    .await;
    let outcome = outcome.unwrap_or_else(|error| {
        tracing::warn!(%error, "a Google consent visit could not be finished");
        Err(ConsentRefusal::Refused)
    });
    back(Some(neighborhood_id), outcome)
}

async fn signed_in(
    state: &AppState,
    request: &Request,
) -> Option<crate::auth::principal::Principal> {
    let cookie = request.cookie().get(crate::auth::session::COOKIE)?;
    let session = crate::auth::session::resolve(state, cookie.value_str())
        .await
        .ok()??;
    let platform_admin = state
        .store
        .platform_admin(&session.phone)
        .await
        .ok()?
        .is_some();
    Some(crate::auth::principal::Principal::Session {
        session,
        platform_admin,
    })
}

/// Back to the neighborhood's Settings (or home) with the outcome in the query.
fn back(neighborhood_id: Option<Uuid>, outcome: Result<(), ConsentRefusal>) -> Response {
    let query = match outcome {
        Ok(()) => "sheet_hub=connected".to_owned(),
        Err(why) => format!("sheet_hub=error&reason={}", why.as_str()),
    };
    let hash = neighborhood_id.map_or_else(|| "#/".to_owned(), |id| format!("#/n/{id}/settings"));
    Response::builder()
        .status(poem::http::StatusCode::SEE_OTHER)
        .header(poem::http::header::LOCATION, format!("/?{query}{hash}"))
        .header(poem::http::header::CACHE_CONTROL, "no-store")
        .finish()
}
