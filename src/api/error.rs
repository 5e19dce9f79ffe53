//! The HTTP edge of every failure.
//!
//! Policy: every 4xx and 5xx carries one body, `{code, message, details}`, where `code` is a
//! stable snake_case string integrators can branch on and `message` a sentence a captain can read.
//! Field errors go in `details`. A 500 says only "internal error" and its cause is logged once
//! here. Twilio failures are 502 and never echo Twilio's own message to the caller. Errors raised
//! by the framework (a body that is not JSON, an unknown route) are rewritten into the same body
//! by [`render_framework_error`].

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};

use crate::domain::ParseError;
use crate::domain::announcement::Closed;
use crate::services::announcements::AnnouncementError;
use crate::services::joining::{DecisionError, FileError};
use crate::services::members::MemberError;
use crate::services::neighborhoods::NeighborhoodError;
use crate::services::provisioning::ProvisionError;
use crate::store::StoreError;

/// Stable error codes. New codes may be added; existing ones keep their meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request could not be read (not JSON, wrong types, bad path or query parameter).
    BadRequest,
    /// No valid credentials: sign in, or send an API token.
    Unauthorized,
    /// The credentials are valid but do not allow this.
    Forbidden,
    /// Too many requests of this kind; wait `Retry-After` seconds.
    RateLimited,
    /// The sign-in code is wrong, expired, used or out of attempts.
    InvalidCode,
    /// Too many wrong codes for this phone today: sign-in from new devices is locked for
    /// `Retry-After` seconds (a device that signed in as the phone before still works).
    SignInLocked,
    /// The change would break a rule about roles (one owner; the owner changes by transfer).
    RoleRule,
    /// One or more fields are invalid; see `details`.
    ValidationFailed,
    /// Nothing exists at this address.
    NotFound,
    /// The HTTP method is not allowed here.
    MethodNotAllowed,
    /// The body is too large.
    PayloadTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The neighborhood is archived and can no longer change.
    NeighborhoodArchived,
    /// The neighborhood is still active: archive it before deleting it.
    NeighborhoodNotArchived,
    /// The neighborhood takes new members by invitation only: use a personal invite link.
    InviteOnly,
    /// The phone number already belongs to another neighborhood.
    NumberTaken,
    /// The Twilio account does not own the phone number given.
    NumberNotOwned,
    /// Twilio has no local number with SMS left in that area code.
    NoNumberAvailable,
    /// The join link name is taken.
    SlugTaken,
    /// Someone else changed the same thing at the same moment; try again.
    Conflict,
    /// The announcement was sent already: it can no longer change or be cancelled.
    AnnouncementSent,
    /// The announcement was cancelled: it can no longer change.
    AnnouncementCancelled,
    /// Twilio failed or refused; nothing was left half-done.
    TwilioError,
    /// No Twilio account is configured on this deployment.
    TwilioNotConfigured,
    /// Redis is unreachable; try again shortly.
    StoreUnavailable,
    /// Something broke on our side; it has been logged.
    Internal,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct FieldError {
    /// The field, as named in the request (`name`, `area_code`).
    pub field: String,
    /// What is wrong with it, as a sentence.
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct ErrorBody {
    /// Stable, machine-readable code.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// Per-field problems, when the request had invalid fields.
    pub details: Vec<FieldError>,
}

/// Every error an operation can answer with.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed or has invalid fields (`details` names them).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid credentials: sign in, or send an API token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The credentials do not allow this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request conflicts with the current state (number or link taken, archived).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The request is well-formed but cannot be carried out (e.g. no number available).
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Too many requests: wait the `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(
        Json<ErrorBody>,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        u64,
    ),
    /// An unexpected failure on our side.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// Twilio failed or refused; earlier steps were undone.
    #[oai(status = 502)]
    BadGateway(Json<ErrorBody>),
    /// A dependency (Redis, or a Twilio account) is not available.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn body(code: ErrorCode, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        code,
        message: message.into(),
        details: Vec::new(),
    })
}

impl ApiError {
    /// The body this error answers with, for a batch that reports each item's failure.
    pub fn into_body(self) -> ErrorBody {
        match self {
            Self::BadRequest(Json(body))
            | Self::Unauthorized(Json(body))
            | Self::Forbidden(Json(body))
            | Self::NotFound(Json(body))
            | Self::Conflict(Json(body))
            | Self::Unprocessable(Json(body))
            | Self::TooManyRequests(Json(body), _)
            | Self::Internal(Json(body))
            | Self::BadGateway(Json(body))
            | Self::Unavailable(Json(body)) => body,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(body(
            ErrorCode::NotFound,
            format!("No {what} exists with that id."),
        ))
    }

    /// A 404 with its own sentence, for a link that no longer opens.
    pub fn gone_link(message: impl Into<String>) -> Self {
        Self::NotFound(body(ErrorCode::NotFound, message))
    }

    /// A 400 listing every invalid field.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("`{}` is invalid: {}", one.field, one.message),
            many => format!("{} fields are invalid; see details.", many.len()),
        };
        Self::BadRequest(Json(ErrorBody {
            code: ErrorCode::ValidationFailed,
            message,
            details,
        }))
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::Unauthorized(body(ErrorCode::Unauthorized, message))
    }

    pub fn forbidden(message: &str) -> Self {
        Self::Forbidden(body(ErrorCode::Forbidden, message))
    }

    pub fn invite_only() -> Self {
        Self::Forbidden(body(
            ErrorCode::InviteOnly,
            "This neighborhood takes new members by invitation only: ask a captain for a personal invite link.",
        ))
    }

    pub fn conflict(code: ErrorCode, message: &str) -> Self {
        Self::Conflict(body(code, message))
    }

    pub fn bad_request(code: ErrorCode, message: &str) -> Self {
        Self::BadRequest(body(code, message))
    }

    /// 429 with `Retry-After` in whole seconds.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::TooManyRequests(
            body(
                ErrorCode::RateLimited,
                format!("Too many tries; wait {retry_after_secs} s and try again."),
            ),
            retry_after_secs,
        )
    }

    /// 429 for a phone whose sign-in from new devices is locked, with `Retry-After`.
    pub fn sign_in_locked(retry_after_secs: u64) -> Self {
        let minutes = retry_after_secs.div_ceil(60);
        Self::TooManyRequests(
            body(
                ErrorCode::SignInLocked,
                format!(
                    "Too many wrong codes for this phone: signing in from a new device is paused for {minutes} min. A device that signed in with this phone before still works."
                ),
            ),
            retry_after_secs,
        )
    }

    /// A 500 for a broken invariant of ours; `cause` is logged, not shown.
    pub fn internal_message(cause: &str) -> Self {
        Self::internal(&cause)
    }

    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::Internal(body(ErrorCode::Internal, "Internal error."))
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "Redis unavailable");
                Self::Unavailable(body(
                    ErrorCode::StoreUnavailable,
                    "The database is unreachable; try again shortly.",
                ))
            }
            other => Self::internal(&other),
        }
    }
}

impl From<ProvisionError> for ApiError {
    fn from(error: ProvisionError) -> Self {
        use ProvisionError as E;
        let message = error.to_string();
        match error {
            E::TwilioNotConfigured => Self::Unavailable(body(
                ErrorCode::TwilioNotConfigured,
                "No Twilio account is configured: set NT_TWILIO_ACCOUNT_SID, NT_TWILIO_AUTH_TOKEN and NT_TWILIO_MESSAGING_SERVICE_SID.",
            )),
            E::NoNumberAvailable(_) => Self::Unprocessable(body(
                ErrorCode::NoNumberAvailable,
                format!("{}; try a nearby area code.", capitalized(&message)),
            )),
            E::NumberNotOwned(_) => {
                Self::Unprocessable(body(ErrorCode::NumberNotOwned, capitalized(&message) + "."))
            }
            E::NumberTaken(_) => Self::Conflict(body(ErrorCode::NumberTaken, message + ".")),
            E::SlugTaken(_) => Self::Conflict(body(
                ErrorCode::SlugTaken,
                capitalized(&message) + "; choose another.",
            )),
            E::NotFound => Self::not_found("neighborhood"),
            E::Archived => Self::Conflict(body(
                ErrorCode::NeighborhoodArchived,
                "The neighborhood is archived and can no longer change.",
            )),
            E::NotArchived => Self::Conflict(body(
                ErrorCode::NeighborhoodNotArchived,
                "Archive the neighborhood first; only an archived neighborhood can be deleted.",
            )),
            E::Contended => Self::Conflict(body(ErrorCode::Conflict, capitalized(&message) + ".")),
            E::Twilio(cause) => {
                // Logged with Twilio's code and text; the caller gets our sentence and the code only.
                tracing::warn!(error = %cause.redacted(), "Twilio call failed");
                tracing::debug!(error = %cause, "Twilio call failed: Twilio's words");
                let detail = match cause.code() {
                    Some(code) if code > 0 => format!(" (Twilio error {code})"),
                    _ => String::new(),
                };
                Self::BadGateway(body(
                    ErrorCode::TwilioError,
                    format!(
                        "Twilio could not complete the request{detail}; nothing was changed. Try again."
                    ),
                ))
            }
            E::Store(cause) => cause.into(),
        }
    }
}

impl From<NeighborhoodError> for ApiError {
    fn from(error: NeighborhoodError) -> Self {
        match error {
            NeighborhoodError::NotFound => Self::not_found("neighborhood"),
            NeighborhoodError::Archived => Self::Conflict(body(
                ErrorCode::NeighborhoodArchived,
                "The neighborhood is archived: it takes no new members and can no longer change.",
            )),
            NeighborhoodError::Store(cause) => cause.into(),
        }
    }
}

impl From<MemberError> for ApiError {
    fn from(error: MemberError) -> Self {
        match error {
            MemberError::NotFound => Self::not_found("member"),
            MemberError::Forbidden(rule) => Self::conflict(ErrorCode::RoleRule, rule),
            MemberError::InvalidStatus(message) => {
                let mut errors = FieldErrors::default();
                errors.add("status", message);
                errors.into_error()
            }
            MemberError::AlreadyMember(_)
            | MemberError::NameTaken
            | MemberError::NothingToRetry => {
                Self::conflict(ErrorCode::Conflict, &error.to_string())
            }
            MemberError::KeptChanging => {
                Self::conflict(ErrorCode::Conflict, "The member kept changing; try again.")
            }
            MemberError::NoOwner => Self::internal(&error),
            MemberError::Store(cause) => cause.into(),
        }
    }
}

impl From<FileError> for ApiError {
    fn from(error: FileError) -> Self {
        match error {
            FileError::AlreadyMember => {
                Self::conflict(ErrorCode::Conflict, "This phone is already in the group.")
            }
            FileError::InviteOnly => Self::invite_only(),
            FileError::Decision(DecisionError::Store(cause)) | FileError::Store(cause) => {
                cause.into()
            }
            FileError::Decision(_) => Self::conflict(
                ErrorCode::Conflict,
                "The request changed meanwhile; try again.",
            ),
        }
    }
}

impl From<AnnouncementError> for ApiError {
    fn from(error: AnnouncementError) -> Self {
        match error {
            AnnouncementError::NotFound => Self::not_found("announcement"),
            AnnouncementError::Closed(Closed::Sent) => Self::Conflict(body(
                ErrorCode::AnnouncementSent,
                "The announcement was sent already; it can no longer change or be cancelled.",
            )),
            AnnouncementError::Closed(Closed::Cancelled) => Self::Conflict(body(
                ErrorCode::AnnouncementCancelled,
                "The announcement was cancelled; it can no longer change.",
            )),
            AnnouncementError::Contended => Self::Conflict(body(
                ErrorCode::Conflict,
                "The announcement changed at the same moment; try again.",
            )),
            AnnouncementError::Store(cause) => cause.into(),
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Collects the field errors of one request, so the caller hears about all of them at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Parses one field, remembering its error.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ParseError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.0);
                None
            }
        }
    }

    /// The page size asked for (`default` when none), noting an error when it is not 1 to `max`.
    pub fn page_size(&mut self, limit: Option<u32>, default: u32, max: u32) -> u32 {
        let limit = limit.unwrap_or(default);
        if !(1..=max).contains(&limit) {
            self.add("limit", format!("Use a page size from 1 to {max}."));
        }
        limit
    }

    /// Notes an error when `cursor` is not a stream position an earlier page handed out.
    pub fn stream_cursor(&mut self, field: &str, cursor: Option<&str>) {
        let valid = |cursor: &str| {
            cursor
                .split_once('-')
                .is_some_and(|(ms, seq)| ms.parse::<u64>().is_ok() && seq.parse::<u64>().is_ok())
        };
        if cursor.is_some_and(|cursor| !valid(cursor)) {
            self.add(field, "Use a `next_before` value from a previous page.");
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// The 400 listing every collected error.
    pub fn into_error(self) -> ApiError {
        ApiError::validation(self.0)
    }

    /// `Err` with every collected error, or `Ok` when there were none.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// Rewrites errors raised outside our handlers (unreadable JSON, unknown route, wrong method)
/// into the one error body.
pub async fn render_framework_error(error: poem::Error) -> Response {
    if error.is_from_response() {
        // Already one of our bodies (an `ApiError` travelling as a `poem::Error`).
        return error.into_response();
    }
    let status = error.status();
    if status.is_redirection() {
        // Not a failure: the embedded pages answer a browser's revalidation (`If-None-Match`)
        // with `Err(304)`, and the browser must get its 304 to use the copy it has.
        return status.into_response();
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            ErrorCode::NotFound,
            "Nothing here: check the path.".to_owned(),
        ),
        StatusCode::UNAUTHORIZED => (
            ErrorCode::Unauthorized,
            "Sign in, or send an API token as `Authorization: Bearer ...`.".to_owned(),
        ),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "This is not allowed.".to_owned()),
        StatusCode::TOO_MANY_REQUESTS => (
            ErrorCode::RateLimited,
            "Too many requests; try again later.".to_owned(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "This method is not allowed on this path.".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorCode::PayloadTooLarge,
            "The request body is too large.".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "Send the body as JSON, with `Content-Type: application/json`.".to_owned(),
        ),
        status if status.is_client_error() => (
            ErrorCode::BadRequest,
            format!("The request could not be read: {error}"),
        ),
        _ => {
            tracing::error!(%error, %status, "unhandled error");
            (ErrorCode::Internal, "Internal error.".to_owned())
        }
    };
    let status = if status.is_client_error() || status.is_server_error() {
        status
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let mut response = Json(ErrorBody {
        code,
        message,
        details: Vec::new(),
    })
    .into_response();
    response.set_status(status);
    response
}
