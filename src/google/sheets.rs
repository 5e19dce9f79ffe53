//! The one Sheets API call the hub needs, `spreadsheets.values.get`, read as captains see the
//! sheet (`FORMATTED_VALUE`, one array per row) so a phone typed as `(555) 010-0001` arrives as
//! typed and the import's header rules apply unchanged. Google's failures are split the way a sync
//! must react to them: an expired access token (refresh and retry), lost access or a deleted
//! spreadsheet (tell the captains), a renamed tab (Google says "Unable to parse range"; ask for
//! the sheet again), quota (wait a minute), or Google being down (try later).

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use url::Url;

use super::client::{Answer, Failure, GoogleClient, endpoint, json_error_detail};
use crate::secret::Secret;

/// Sheets quotas are per minute and "after 1 minute, you can execute requests again": the wait
/// to use when a 429 comes without `Retry-After`.
pub const QUOTA_REFILL: Duration = Duration::from_secs(60);

/// Everything but RFC 3986's unreserved characters, as a URI template's `{range}` expands: a
/// sheet named `Q&A / 2024?` must stay one path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A spreadsheet's ID: letters, digits, `-` and `_`, stable across renames.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpreadsheetId(String);

/// Input that names no spreadsheet we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpreadsheetIdError {
    #[error(
        "paste the link of a Google Sheet (https://docs.google.com/spreadsheets/d/…) or its ID"
    )]
    NotASheet,
    /// `…/spreadsheets/d/e/…`: a "Publish to the web" link, whose ID the API does not accept.
    #[error(
        "this is a \"Publish to the web\" link; paste the link from the sheet's address bar instead"
    )]
    PublishedLink,
}

/// Shorter than any ID Google hands out (they are 44 characters); guards against pasting a word.
const MIN_ID_LENGTH: usize = 20;
const MAX_ID_LENGTH: usize = 128;

impl SpreadsheetId {
    /// From a Sheets URL (`https://docs.google.com/spreadsheets/d/<id>/edit#gid=0`, with or
    /// without the scheme, `/u/<n>/` included) or a bare ID; anything else is refused.
    pub fn parse(input: &str) -> Result<Self, SpreadsheetIdError> {
        let input = input.trim();
        if is_id(input) {
            return Ok(Self(input.to_owned()));
        }
        let with_scheme = if input.starts_with("docs.google.com/") {
            format!("https://{input}")
        } else {
            input.to_owned()
        };
        let url = Url::parse(&with_scheme).map_err(|_| SpreadsheetIdError::NotASheet)?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str() != Some("docs.google.com") {
            return Err(SpreadsheetIdError::NotASheet);
        }
        let mut segments = url.path_segments().ok_or(SpreadsheetIdError::NotASheet)?;
        if segments.next() != Some("spreadsheets") {
            return Err(SpreadsheetIdError::NotASheet);
        }
        let mut next = segments.next();
        if next == Some("u") {
            // `/u/1/`: the account switcher's index.
            let index = segments.next().unwrap_or_default();
            if index.is_empty() || !index.chars().all(|c| c.is_ascii_digit()) {
                return Err(SpreadsheetIdError::NotASheet);
            }
            next = segments.next();
        }
        if next != Some("d") {
            return Err(SpreadsheetIdError::NotASheet);
        }
        match segments.next() {
            Some("e") => Err(SpreadsheetIdError::PublishedLink),
            Some(id) if is_id(id) => Ok(Self(id.to_owned())),
            _ => Err(SpreadsheetIdError::NotASheet),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_id(text: &str) -> bool {
    (MIN_ID_LENGTH..=MAX_ID_LENGTH).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Which way `values` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Dimension {
    Rows,
    Columns,
    #[serde(other)]
    DimensionUnspecified,
}

/// A range's cells as Google answers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRange {
    /// The range asked for, in A1 notation as Google normalises it (`'Form Responses 1'!A1:Z1000`):
    /// the whole range, even though `values` stops at the last row and column with data.
    pub range: String,
    pub major_dimension: Dimension,
    /// One inner list per row; trailing empty rows and cells are left out, so rows differ in
    /// length. Empty when the range holds nothing (Google then omits the field).
    pub values: Vec<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValueRangeBody {
    #[serde(default)]
    range: String,
    major_dimension: Option<Dimension>,
    #[serde(default)]
    values: Vec<Vec<serde_json::Value>>,
}

/// Cells are strings under `FORMATTED_VALUE`; anything else is written as Sheets would show it.
fn cell_text(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text,
        serde_json::Value::Null => String::new(),
        serde_json::Value::Bool(true) => "TRUE".to_owned(),
        serde_json::Value::Bool(false) => "FALSE".to_owned(),
        other => other.to_string(),
    }
}

/// A failed Sheets call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetsError {
    /// 401: the access token expired or was revoked; refresh it and try once more.
    #[error("Google did not accept the access token: {message}")]
    Unauthorized { message: String },
    /// 403: the connected account cannot read this spreadsheet (no longer shared with it), or
    /// the Sheets API is off for the OAuth client's project (`reason` `SERVICE_DISABLED`).
    #[error("Google refused access to the spreadsheet: {message}")]
    Forbidden {
        message: String,
        reason: Option<String>,
    },
    /// 404: no such spreadsheet (deleted, or a wrong ID).
    #[error("Google found no such spreadsheet: {message}")]
    NotFound { message: String },
    /// 400 "Unable to parse range": the sheet (tab) was renamed or removed, or the range is
    /// not A1 notation.
    #[error("Google found no such sheet or range: {message}")]
    RangeNotFound { message: String },
    /// 429: over the per-minute read quota; wait `retry_after`, or [`QUOTA_REFILL`].
    #[error("Google's Sheets quota is used up for now: {message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
    },
    /// 5xx: Google is failing; try later.
    #[error("Google Sheets is unavailable (HTTP {status}): {message}")]
    Unavailable {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Any other refusal; `status_name` is Google's canonical code (`INVALID_ARGUMENT`, ...).
    #[error("Google refused the Sheets request (HTTP {status}): {message}")]
    Rejected {
        status: u16,
        status_name: Option<String>,
        message: String,
    },
    #[error("Google Sheets did not answer in time")]
    Timeout,
    #[error("cannot reach Google Sheets: {0}")]
    Transport(String),
    /// The answer was larger than the configured cap: the range is too big to sync.
    #[error("the sheet's answer is larger than {limit} bytes; choose a smaller range")]
    TooLarge { limit: u64 },
    #[error("unreadable answer from Google Sheets (HTTP {status}): {detail}")]
    Malformed { status: u16, detail: String },
}

/// Google's error body: `{"error": {"code", "message", "status", "details": [...]}}`, with the
/// older `errors: [{"reason"}]` list some services still add.
#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GoogleStatus,
}

#[derive(Deserialize)]
struct GoogleStatus {
    message: Option<String>,
    status: Option<String>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    reason: Option<String>,
}

impl SheetsError {
    /// Worth trying again later: quota, 5xx, a timeout or a transport failure.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Unavailable { .. }
                | Self::Timeout
                | Self::Transport(_)
        )
    }

    /// How long Google asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Unavailable { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    fn from_failure(failure: Failure) -> Self {
        match failure {
            Failure::Timeout => Self::Timeout,
            Failure::Transport(text) => Self::Transport(text),
            Failure::TooLarge { limit } => Self::TooLarge { limit },
        }
    }

    fn from_answer(answer: &Answer) -> Self {
        let status = answer.status;
        let error = serde_json::from_slice::<ErrorEnvelope>(&answer.body)
            .ok()
            .map(|envelope| envelope.error);
        let status_name = error.as_ref().and_then(|error| error.status.clone());
        let reason = error.as_ref().and_then(|error| {
            error
                .details
                .iter()
                .chain(&error.errors)
                .find_map(|detail| detail.reason.clone())
        });
        let message = error
            .and_then(|error| error.message)
            .unwrap_or_else(|| format!("HTTP {status} without a Google error body"));
        let retry_after = answer.retry_after;
        match status {
            401 => Self::Unauthorized { message },
            429 => Self::RateLimited {
                message,
                retry_after,
            },
            // Quota once came as a 403 with these reasons; read them the same way if they do.
            403 if status_name.as_deref() == Some("RESOURCE_EXHAUSTED")
                || matches!(
                    reason.as_deref(),
                    Some("rateLimitExceeded" | "userRateLimitExceeded")
                ) =>
            {
                Self::RateLimited {
                    message,
                    retry_after,
                }
            }
            403 => Self::Forbidden { message, reason },
            404 => Self::NotFound { message },
            400 if message.starts_with("Unable to parse range") => Self::RangeNotFound { message },
            500.. => Self::Unavailable {
                status,
                message,
                retry_after,
            },
            _ => Self::Rejected {
                status,
                status_name,
                message,
            },
        }
    }
}

impl GoogleClient {
    /// `GET {sheets_base}/v4/spreadsheets/{id}/values/{range}`, rows first, formatted values.
    /// `range` is A1 notation as a captain would write it (`'Form Responses 1'!A1:Z`, a bare
    /// sheet name for all of it); it is percent-encoded here.
    #[tracing::instrument(name = "google.sheets.values_get", skip_all)]
    pub async fn values_get(
        &self,
        access_token: &Secret,
        spreadsheet_id: &SpreadsheetId,
        range: &str,
    ) -> Result<ValueRange, SheetsError> {
        let range = utf8_percent_encode(range, PATH_SEGMENT).to_string();
        let mut url = endpoint(
            &self.config.sheets_base,
            &[
                "v4",
                "spreadsheets",
                spreadsheet_id.as_str(),
                "values",
                &range,
            ],
        );
        url.query_pairs_mut()
            .append_pair("majorDimension", "ROWS")
            .append_pair("valueRenderOption", "FORMATTED_VALUE");
        let request = self.http.get(url).bearer_auth(access_token.expose());
        let answer = self
            .fetch(request)
            .await
            .map_err(SheetsError::from_failure)?;
        if !answer.is_success() {
            return Err(SheetsError::from_answer(&answer));
        }
        let body: ValueRangeBody =
            serde_json::from_slice(&answer.body).map_err(|error| SheetsError::Malformed {
                status: answer.status,
                detail: json_error_detail(&error),
            })?;
        Ok(ValueRange {
            range: body.range,
            major_dimension: body.major_dimension.unwrap_or(Dimension::Rows),
            values: body
                .values
                .into_iter()
                .map(|row| row.into_iter().map(cell_text).collect())
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms";

    #[test]
    fn an_id_is_read_from_a_sheets_link_or_taken_bare() {
        for input in [
            format!("https://docs.google.com/spreadsheets/d/{ID}/edit#gid=0"),
            format!("https://docs.google.com/spreadsheets/d/{ID}/edit?gid=0#gid=0"),
            format!("https://docs.google.com/spreadsheets/d/{ID}"),
            format!("https://docs.google.com/spreadsheets/u/1/d/{ID}/edit"),
            format!("docs.google.com/spreadsheets/d/{ID}/"),
            format!("  {ID}\n"),
        ] {
            assert_eq!(
                SpreadsheetId::parse(&input).map(|id| id.as_str().to_owned()),
                Ok(ID.to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for input in [
            "",
            "hello",
            "https://example.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
            "https://docs.google.com/document/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit",
            "https://docs.google.com/spreadsheets/d/short/edit",
            "https://docs.google.com/spreadsheets/u/x/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
            "ftp://docs.google.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms",
            "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms;drop",
        ] {
            assert_eq!(
                SpreadsheetId::parse(input),
                Err(SpreadsheetIdError::NotASheet),
                "{input}"
            );
        }
        assert_eq!(
            SpreadsheetId::parse(
                "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabcdefghijklmnopqrstuvwxyz/pubhtml"
            ),
            Err(SpreadsheetIdError::PublishedLink)
        );
    }

    #[test]
    fn a_range_becomes_one_fully_encoded_path_segment() {
        assert_eq!(
            utf8_percent_encode("'Form Responses 1'!A1:Z", PATH_SEGMENT).to_string(),
            "%27Form%20Responses%201%27%21A1%3AZ"
        );
        assert_eq!(
            utf8_percent_encode("Q&A / 2024?#é", PATH_SEGMENT).to_string(),
            "Q%26A%20%2F%202024%3F%23%C3%A9"
        );
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_missing_sheet_is_told_from_other_bad_requests() {
        let missing = SheetsError::from_answer(&answer(
            400,
            r#"{"error":{"code":400,"message":"Unable to parse range: 'Old name'!A1:Z","status":"INVALID_ARGUMENT"}}"#,
        ));
        assert!(matches!(missing, SheetsError::RangeNotFound { .. }));
        let other = SheetsError::from_answer(&answer(
            400,
            r#"{"error":{"code":400,"message":"Invalid valueRenderOption","status":"INVALID_ARGUMENT"}}"#,
        ));
        assert_eq!(
            other,
            SheetsError::Rejected {
                status: 400,
                status_name: Some("INVALID_ARGUMENT".to_owned()),
                message: "Invalid valueRenderOption".to_owned(),
            }
        );
    }

    #[test]
    fn a_disabled_api_keeps_googles_reason_and_a_legacy_quota_403_is_a_rate_limit() {
        let disabled = SheetsError::from_answer(&answer(
            403,
            r#"{"error":{"code":403,"message":"Google Sheets API has not been used in project 1 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com"}]}}"#,
        ));
        assert!(matches!(
            disabled,
            SheetsError::Forbidden { reason: Some(ref reason), .. } if reason == "SERVICE_DISABLED"
        ));
        let quota = SheetsError::from_answer(&answer(
            403,
            r#"{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"message":"Rate Limit Exceeded","domain":"usageLimits","reason":"rateLimitExceeded"}]}}"#,
        ));
        assert!(quota.is_retryable());
    }

    #[test]
    fn an_answer_without_a_google_body_still_maps_by_status() {
        let gateway = SheetsError::from_answer(&answer(503, "<html>unavailable</html>"));
        assert!(matches!(
            gateway,
            SheetsError::Unavailable { status: 503, .. }
        ));
        assert!(gateway.is_retryable());
        assert!(!SheetsError::from_answer(&answer(404, "")).is_retryable());
    }

    #[test]
    fn cells_that_are_not_strings_read_as_sheets_shows_them() {
        assert_eq!(cell_text(serde_json::json!(42)), "42");
        assert_eq!(cell_text(serde_json::json!(true)), "TRUE");
        assert_eq!(cell_text(serde_json::json!(null)), "");
        assert_eq!(cell_text(serde_json::json!("+1 555")), "+1 555");
    }
}
