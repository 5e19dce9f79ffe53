//! Reading the sheet at Google: one `values.get`, with the access token kept (sealed) until it
//! is about to expire, renewed when Google turns it down, and Google's refusals told as the
//! hub's problems.

use uuid::Uuid;

use super::Failure;
use super::consent::keep_access;
use crate::domain::sheet_hub::{Connection, HubConfig, ProblemCode};
use crate::google::GoogleAccess;
use crate::google::oauth::OAuthError;
use crate::google::sheets::{SheetsError, SpreadsheetId};
use crate::secret::Secret;
use crate::state::AppState;

/// An access token is renewed this long before Google says it expires.
const ACCESS_MARGIN_MS: i64 = 60_000;

/// The sheet's rows, as text; an access token is renewed when it has expired or Google turned
/// it down.
pub(super) async fn read_sheet(
    state: &AppState,
    google: &GoogleAccess,
    neighborhood_id: Uuid,
    connection: &Connection,
    config: &HubConfig,
) -> Result<Vec<Vec<String>>, Failure> {
    let spreadsheet = SpreadsheetId::parse(&config.spreadsheet)
        .map_err(|why| Failure::new(ProblemCode::NotFound, why.to_string()))?;
    let mut renewed = false;
    loop {
        let token = access_token(state, google, neighborhood_id, connection, renewed).await?;
        match google
            .client
            .values_get(&token, &spreadsheet, &config.range)
            .await
        {
            Ok(range) => return Ok(range.values),
            Err(SheetsError::Unauthorized { .. }) if !renewed => renewed = true,
            Err(error) => return Err(sheets_failure(error)),
        }
    }
}

async fn access_token(
    state: &AppState,
    google: &GoogleAccess,
    neighborhood_id: Uuid,
    connection: &Connection,
    renew: bool,
) -> Result<Secret, Failure> {
    let now_ms = super::now_ms();
    let unreadable = |_| Failure::new(ProblemCode::Unavailable, "Redis failed; tried again later.");
    if !renew
        && let Some((sealed, expires_at_ms)) = state
            .store
            .sheet_hub_access(neighborhood_id)
            .await
            .map_err(unreadable)?
        && expires_at_ms - ACCESS_MARGIN_MS > now_ms
        && let Ok(token) = google.cipher.decrypt(&sealed, neighborhood_id.as_bytes())
    {
        return Ok(token);
    }
    let refresh_token = google
        .cipher
        .decrypt(&connection.refresh_token, neighborhood_id.as_bytes())
        .map_err(|_| {
            Failure::new(
                ProblemCode::Revoked,
                "The saved Google connection cannot be read with this deployment's key: connect again.",
            )
        })?;
    let tokens = google
        .client
        .refresh(&refresh_token)
        .await
        .map_err(oauth_failure)?;
    keep_access(
        state,
        google,
        neighborhood_id,
        &tokens.access_token,
        tokens.expires_in,
    )
    .await
    .map_err(|_| Failure::new(ProblemCode::Unavailable, "Redis failed; tried again later."))?;
    Ok(tokens.access_token)
}

fn oauth_failure(error: OAuthError) -> Failure {
    let retry_after = error.retry_after();
    match error {
        OAuthError::InvalidGrant { .. } => Failure::new(
            ProblemCode::Revoked,
            "Google no longer lets the hub read the sheet (access removed or expired): connect again.",
        ),
        error if error.is_retryable() => Failure {
            retry_after,
            ..Failure::new(ProblemCode::Unavailable, error.to_string())
        },
        error => Failure::new(ProblemCode::Revoked, error.to_string()),
    }
}

fn sheets_failure(error: SheetsError) -> Failure {
    let retry_after = error.retry_after();
    let code = match &error {
        SheetsError::Unauthorized { .. } => ProblemCode::Revoked,
        SheetsError::Forbidden { .. } => ProblemCode::Forbidden,
        SheetsError::NotFound { .. } => ProblemCode::NotFound,
        SheetsError::RangeNotFound { .. } | SheetsError::TooLarge { .. } => {
            ProblemCode::RangeNotFound
        }
        SheetsError::RateLimited { .. } => ProblemCode::RateLimited,
        _ => ProblemCode::Unavailable,
    };
    Failure {
        retry_after,
        ..Failure::new(code, error.to_string())
    }
}
