//! The HTTP edge of every failure.
//!
//! Policy: every 4xx and 5xx carries one body, `{code, message, details}`, where `code` is a
//! stable snake_case string integrators can branch on and `message` a sentence a captain can read.
//! Field errors go in `details`. A 500 says only "internal error" and its cause is logged once
//! here. Twilio failures are 502 and never echo Twilio's own message to the caller. Errors raised
//! by the framework (a body that is not JSON, an unknown route) are rewritten into the same body
//! by [`render_framework_error`].
//!
//! Each service error (`StoreError`, `ProvisionError`, `DecisionError`, ...) becomes HTTP through
//! its `From` impl here and nowhere else; handlers convert with `?`. Each operation lists in the
//! OpenAPI document only the error statuses it can return: its handler returns `ApiError<S>`,
//! where `S` names them (see [`statuses`]).

pub mod statuses;

use std::marker::PhantomData;

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};

pub use self::statuses::AnyStatus;
use crate::auth::policy::Refusal;
use crate::domain::ParseError;
use crate::domain::announcement::Closed;
use crate::domain::join_request::JoinState;
use crate::domain::media::MediaRefusal;
use crate::domain::template::MAX_TEMPLATES;
use crate::i18n::{self, Language};
use crate::import::{self, ImportError, ImportReport, Limit};
use crate::jobs::reconcile::ReconcileError;
use crate::services::additions::AdditionError;
use crate::services::announcements::AnnouncementError;
use crate::services::joining::{DecisionError, FileError};
use crate::services::member_list::ListError;
use crate::services::members::MemberError;
use crate::services::neighborhoods::NeighborhoodError;
use crate::services::pictures::PictureError;
use crate::services::provisioning::ProvisionError;
use crate::services::templates::TemplateError;
use crate::store::StoreError;
use crate::twilio::TwilioError;

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
    /// The body is not `application/json`, or arrived compressed where that is not accepted.
    UnsupportedMediaType,
    /// The request (its headers or body) arrived too slowly.
    RequestTimeout,
    /// Too many live-update streams are open, for this caller or on this instance.
    TooManyStreams,
    /// This instance is serving as many requests as it may; try again after `Retry-After`
    /// seconds.
    Busy,
    /// The neighborhood is archived and can no longer change.
    NeighborhoodArchived,
    /// The neighborhood is still active: archive it before deleting it.
    NeighborhoodNotArchived,
    /// The neighborhood takes new members by invitation only: use a personal invite link.
    InviteOnly,
    /// The neighborhood cannot text more codes for now (its daily cap on 1:1 texts, or its
    /// monthly budget, is reached); try again tomorrow.
    TextsPaused,
    /// Captains added as many people today as they may without each one asking to join
    /// (`NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD`); `Retry-After` is midnight UTC, and a platform admin
    /// can add them now.
    DailyAdditionsReached,
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
    /// The neighborhood keeps as many announcement templates as it may (50): delete one first.
    TooManyTemplates,
    /// Twilio failed or refused; nothing was left half-done.
    TwilioError,
    /// No Twilio account is configured on this deployment.
    TwilioNotConfigured,
    /// Google refused or failed while reading a spreadsheet; `message` says what it said.
    GoogleError,
    /// No Google OAuth client is configured on this deployment, so the spreadsheet hub is off
    /// (409: asking again will not help; the operator sets NT_GOOGLE_CLIENT_ID and
    /// NT_GOOGLE_CLIENT_SECRET).
    GoogleNotConfigured,
    /// Redis is unreachable; try again after `Retry-After` seconds.
    StoreUnavailable,
    /// Redis is out of memory and refuses writes (reads still work); nothing was written. Try
    /// again after `Retry-After` seconds: the operator has to make room.
    StoreFull,
    /// The change was made, but fewer Redis replicas than the deployment asks for
    /// (`NT_REDIS_WAIT_REPLICAS`) took it in time: it may be lost if Redis fails over now. Look
    /// before repeating it.
    StoreNotReplicated,
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

/// Every error status the API answers with, each with the one body. An operation lists the
/// ones it can return through the `S` of its [`ApiError<S>`].
#[derive(Debug, ApiResponse)]
pub enum ErrorResponse {
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
    /// The body is too large.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body is not in the media type this operation takes (`Content-Type`), or the request
    /// came with a `Content-Encoding` (only the import takes a compressed body).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
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
    /// Twilio (or Google, for the spreadsheet hub) failed or refused; earlier steps were undone.
    #[oai(status = 502)]
    BadGateway(Json<ErrorBody>),
    /// A dependency (Redis, or a Twilio account) is not available. `Retry-After`, when sent,
    /// says when trying again is worth it (Redis down or full).
    #[oai(status = 503)]
    Unavailable(
        Json<ErrorBody>,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        Option<u64>,
    ),
}

impl ErrorResponse {
    /// The one body every status carries.
    fn body_mut(&mut self) -> &mut ErrorBody {
        match self {
            Self::BadRequest(Json(body))
            | Self::Unauthorized(Json(body))
            | Self::Forbidden(Json(body))
            | Self::NotFound(Json(body))
            | Self::Conflict(Json(body))
            | Self::PayloadTooLarge(Json(body))
            | Self::UnsupportedMediaType(Json(body))
            | Self::Unprocessable(Json(body))
            | Self::TooManyRequests(Json(body), _)
            | Self::Internal(Json(body))
            | Self::BadGateway(Json(body))
            | Self::Unavailable(Json(body), _) => body,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error as a handler returns it. `S` names the statuses the operation lists in the OpenAPI
/// document (see [`statuses`]); helpers are generic over it, so the handler's return type decides.
/// The status itself is always the error's own: one outside `S` still goes out as it is, and is
/// logged as a bug.
pub struct ApiError<S = AnyStatus> {
    response: ErrorResponse,
    listed: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for ApiError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.response.fmt(f)
    }
}

impl<S> From<ErrorResponse> for ApiError<S> {
    fn from(response: ErrorResponse) -> Self {
        Self {
            response,
            listed: PhantomData,
        }
    }
}

/// 415 for a request in a `Content-Encoding` not accepted, refused before its body is read;
/// `accepted` names the codings that are (RFC 9110 §15.5.16).
pub fn unsupported_encoding(message: &str, accepted: &'static str) -> Response {
    let mut response = body(ErrorCode::UnsupportedMediaType, message).into_response();
    response.set_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let headers = response.headers_mut();
    headers.insert(
        poem::http::header::ACCEPT_ENCODING,
        poem::http::HeaderValue::from_static(accepted),
    );
    // The body is unread: the connection cannot carry another request.
    headers.insert(
        poem::http::header::CONNECTION,
        poem::http::HeaderValue::from_static("close"),
    );
    response
}

/// A message of the catalogs in English, the API's language for everyone but neighbors.
fn english(id: &str) -> String {
    i18n::text(Language::ENGLISH, id, &[])
}

fn rate_limited_message(retry_after_secs: u64, language: Language) -> String {
    i18n::text(
        language,
        "api-rate-limited",
        &[("seconds", retry_after_secs.into())],
    )
}

fn body(code: ErrorCode, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        code,
        message: message.into(),
        details: Vec::new(),
    })
}

impl<S> ApiError<S> {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }

    /// This error said in a neighbor's `language`, for the public pages' endpoints: the errors
    /// whose code has one meaning there (too many tries, the database down or full, ours, an
    /// archived neighborhood, invitation only) get the catalog's sentence; the rest (field
    /// errors, join refusals) were said in that language where they were made.
    pub fn in_language(mut self, language: Language) -> Self {
        use ErrorResponse as R;
        let retry_after = match &self.response {
            R::TooManyRequests(_, seconds) => Some(*seconds),
            _ => None,
        };
        let body = self.response.body_mut();
        let id = match body.code {
            ErrorCode::RateLimited => {
                body.message = rate_limited_message(retry_after.unwrap_or(1), language);
                return self;
            }
            ErrorCode::StoreUnavailable => "api-store-unavailable",
            ErrorCode::StoreFull => "api-store-full",
            ErrorCode::Internal => "api-internal",
            ErrorCode::NeighborhoodArchived => "api-neighborhood-closed",
            ErrorCode::InviteOnly => "api-invite-only",
            _ => return self,
        };
        body.message = i18n::text(language, id, &[]);
        self
    }

    /// The body this error answers with, for a batch that reports each item's failure.
    pub fn into_body(mut self) -> ErrorBody {
        self.response.body_mut().clone()
    }

    pub fn not_found(what: &str) -> Self {
        ErrorResponse::NotFound(body(
            ErrorCode::NotFound,
            format!("No {what} exists with that id."),
        ))
        .into()
    }

    /// A 404 with its own sentence, for a link that no longer opens.
    pub fn gone_link(message: impl Into<String>) -> Self {
        ErrorResponse::NotFound(body(ErrorCode::NotFound, message)).into()
    }

    /// A 400 listing every invalid field.
    pub fn validation(details: Vec<FieldError>) -> Self {
        Self::validation_in(details, Language::ENGLISH)
    }

    /// A 400 listing every invalid field, its summary in `language` (the details are as given).
    fn validation_in(details: Vec<FieldError>, language: Language) -> Self {
        let message = match details.as_slice() {
            [one] => i18n::text(
                language,
                "api-invalid-field",
                &[
                    ("field", one.field.as_str().into()),
                    ("message", one.message.as_str().into()),
                ],
            ),
            many => i18n::text(
                language,
                "api-invalid-fields",
                &[("count", many.len().into())],
            ),
        };
        ErrorResponse::BadRequest(Json(ErrorBody {
            code: ErrorCode::ValidationFailed,
            message,
            details,
        }))
        .into()
    }

    pub fn unauthorized(message: &str) -> Self {
        ErrorResponse::Unauthorized(body(ErrorCode::Unauthorized, message)).into()
    }

    pub fn forbidden(message: &str) -> Self {
        ErrorResponse::Forbidden(body(ErrorCode::Forbidden, message)).into()
    }

    pub fn invite_only() -> Self {
        ErrorResponse::Forbidden(body(ErrorCode::InviteOnly, english("api-invite-only"))).into()
    }

    pub fn conflict(code: ErrorCode, message: &str) -> Self {
        ErrorResponse::Conflict(body(code, message)).into()
    }

    /// A 409 `role_rule`: the change would break a rule about roles, phrased for people.
    pub fn role_rule(message: &str) -> Self {
        Self::conflict(ErrorCode::RoleRule, message)
    }

    /// A 409 for a member someone else kept changing meanwhile.
    pub fn member_kept_changing() -> Self {
        Self::conflict(ErrorCode::Conflict, "The member kept changing; try again.")
    }

    /// 413 for a picture over what a message to phones may carry.
    pub fn picture_too_large() -> Self {
        ErrorResponse::PayloadTooLarge(body(
            ErrorCode::PayloadTooLarge,
            format!(
                "A picture has at most {} MB: send a smaller one.",
                crate::domain::media::MAX_TOTAL_BYTES / (1024 * 1024)
            ),
        ))
        .into()
    }

    pub fn bad_request(code: ErrorCode, message: &str) -> Self {
        ErrorResponse::BadRequest(body(code, message)).into()
    }

    /// 429 with `Retry-After` in whole seconds.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        ErrorResponse::TooManyRequests(
            body(
                ErrorCode::RateLimited,
                rate_limited_message(retry_after_secs, Language::ENGLISH),
            ),
            retry_after_secs,
        )
        .into()
    }

    /// 429 when captains used up the day's additions of people who did not ask themselves:
    /// `Retry-After` is the next midnight UTC.
    pub fn daily_additions_reached(cap: u64, left: u64) -> Self {
        let now = time::OffsetDateTime::now_utc();
        let midnight = now
            .date()
            .next_day()
            .map_or(now, |day| day.midnight().assume_utc());
        let retry_after = (midnight - now).whole_seconds().max(1).unsigned_abs();
        ErrorResponse::TooManyRequests(
            body(
                ErrorCode::DailyAdditionsReached,
                AdditionError::sentence(cap, left),
            ),
            retry_after,
        )
        .into()
    }

    /// 429 for a phone whose sign-in from new devices is locked, with `Retry-After`.
    pub fn sign_in_locked(retry_after_secs: u64) -> Self {
        let minutes = retry_after_secs.div_ceil(60);
        ErrorResponse::TooManyRequests(
            body(
                ErrorCode::SignInLocked,
                format!(
                    "Too many wrong codes for this phone: signing in from a new device is paused for {minutes} min. A device that signed in with this phone before still works."
                ),
            ),
            retry_after_secs,
        )
        .into()
    }

    /// A 500 for a broken invariant of ours; `cause` is logged, not shown.
    /// 502 when Google refused or failed, in our words and Google's.
    pub fn google_refused(message: &str) -> Self {
        ErrorResponse::BadGateway(body(ErrorCode::GoogleError, message)).into()
    }

    pub fn internal_message(cause: &str) -> Self {
        Self::internal(&cause)
    }

    fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        ErrorResponse::Internal(body(ErrorCode::Internal, english("api-internal"))).into()
    }

    fn twilio_failed(cause: &TwilioError) -> Self {
        // Logged with Twilio's code; its own words at debug only. The caller gets our sentence
        // and the code.
        tracing::warn!(error = %cause.redacted(), "Twilio call failed");
        tracing::debug!(error = %cause, "Twilio call failed: Twilio's words");
        let detail = match cause.code() {
            Some(code) if code > 0 => format!(" (Twilio error {code})"),
            _ => String::new(),
        };
        ErrorResponse::BadGateway(body(
            ErrorCode::TwilioError,
            format!(
                "Twilio could not complete the request{detail}; nothing was changed. Try again."
            ),
        ))
        .into()
    }
}

// One home for how each service error reaches HTTP: every handler converts with `?`.

impl<S> From<StoreError> for ApiError<S> {
    fn from(error: StoreError) -> Self {
        match store_failure(&error) {
            Some((code, message, retry_after)) => {
                ErrorResponse::Unavailable(body(code, message), Some(retry_after)).into()
            }
            None => Self::internal(&error),
        }
    }
}

/// How long a caller is asked to wait when Redis is unreachable: the connection manager
/// reconnects within a second once it is back, and a restart takes a few.
pub const STORE_UNAVAILABLE_RETRY_SECS: u64 = 5;
/// How long when Redis is full: someone has to make room, which takes longer.
pub const STORE_FULL_RETRY_SECS: u64 = 60;

/// The code, sentence and `Retry-After` of a Redis that could not serve the call (down or full),
/// logged here once; `None` for other store errors (a bug or corrupt data: a 500).
fn store_failure(error: &StoreError) -> Option<(ErrorCode, String, u64)> {
    match error {
        StoreError::Unavailable(cause) => {
            tracing::warn!(%cause, "Redis unavailable");
            Some((
                ErrorCode::StoreUnavailable,
                english("api-store-unavailable"),
                STORE_UNAVAILABLE_RETRY_SECS,
            ))
        }
        StoreError::Full(cause) => {
            tracing::error!(%cause, "Redis is full and refuses writes");
            Some((
                ErrorCode::StoreFull,
                english("api-store-full"),
                STORE_FULL_RETRY_SECS,
            ))
        }
        StoreError::NotReplicated { copies, wanted } => {
            tracing::warn!(
                copies,
                wanted,
                "a change was not copied to enough Redis replicas in time"
            );
            Some((
                ErrorCode::StoreNotReplicated,
                "The change was made, but the database could not copy it to a replica in time, so it may be lost if the database fails over now. Look before repeating it.".to_owned(),
                STORE_UNAVAILABLE_RETRY_SECS,
            ))
        }
        StoreError::Command(_) | StoreError::Corrupt { .. } => None,
    }
}

/// The answer to a request that found Redis unable to serve it (down, full, or short of
/// replicas), for middleware that has no endpoint's error type: a 503 in the one error shape
/// with its `Retry-After`; `None` for other store errors.
pub fn store_refusal(error: &StoreError) -> Option<poem::Response> {
    let (code, message, retry_after) = store_failure(error)?;
    let mut response = body(code, message).into_response();
    response.set_status(poem::http::StatusCode::SERVICE_UNAVAILABLE);
    if let Ok(value) = retry_after.to_string().parse() {
        response
            .headers_mut()
            .insert(poem::http::header::RETRY_AFTER, value);
    }
    Some(response)
}

impl<S> From<ProvisionError> for ApiError<S> {
    fn from(error: ProvisionError) -> Self {
        use ErrorResponse as R;
        use ProvisionError as E;
        let message = error.to_string();
        match error {
            E::TwilioNotConfigured => R::Unavailable(
                body(
                    ErrorCode::TwilioNotConfigured,
                    "No Twilio account is configured: set NT_TWILIO_ACCOUNT_SID, NT_TWILIO_AUTH_TOKEN and NT_TWILIO_MESSAGING_SERVICE_SID.",
                ),
                None,
            )
            .into(),
            E::NoNumberAvailable(_) => R::Unprocessable(body(
                ErrorCode::NoNumberAvailable,
                format!("{}; try a nearby area code.", capitalized(&message)),
            ))
            .into(),
            E::NumberNotOwned(_) => {
                R::Unprocessable(body(ErrorCode::NumberNotOwned, capitalized(&message) + "."))
                    .into()
            }
            E::NumberTaken(_) => R::Conflict(body(ErrorCode::NumberTaken, message + ".")).into(),
            E::NotWhatsappSender(_) => Self::validation(vec![FieldError {
                field: "whatsapp_sender".to_owned(),
                message: capitalized(&message) + ".",
            }]),
            E::WhatsappSenderTaken(_) => {
                R::Conflict(body(ErrorCode::NumberTaken, capitalized(&message) + ".")).into()
            }
            E::WhatsappMembersIn(_) => {
                Self::conflict(ErrorCode::Conflict, &(capitalized(&message) + "."))
            }
            E::SlugTaken(_) => R::Conflict(body(
                ErrorCode::SlugTaken,
                capitalized(&message) + "; choose another.",
            ))
            .into(),
            E::NotFound => Self::not_found("neighborhood"),
            E::Archived => Self::conflict(
                ErrorCode::NeighborhoodArchived,
                "The neighborhood is archived and can no longer change.",
            ),
            E::NotArchived => Self::conflict(
                ErrorCode::NeighborhoodNotArchived,
                "Archive the neighborhood first; only an archived neighborhood can be deleted.",
            ),
            E::Contended => Self::conflict(ErrorCode::Conflict, &(capitalized(&message) + ".")),
            E::Twilio(cause) => Self::twilio_failed(&cause),
            E::Store(cause) => cause.into(),
        }
    }
}

impl<S> From<Refusal> for ApiError<S> {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Unlisted(_) => Self::internal(&refusal),
            Refusal::Forbidden => Self::forbidden(&refusal.to_string()),
            Refusal::Store(cause) => cause.into(),
        }
    }
}

impl<S> From<NeighborhoodError> for ApiError<S> {
    fn from(error: NeighborhoodError) -> Self {
        match error {
            NeighborhoodError::NotFound => Self::not_found("neighborhood"),
            NeighborhoodError::Archived => Self::conflict(
                ErrorCode::NeighborhoodArchived,
                &english("api-neighborhood-closed"),
            ),
            NeighborhoodError::Store(cause) => cause.into(),
        }
    }
}

impl<S> From<MemberError> for ApiError<S> {
    fn from(error: MemberError) -> Self {
        match error {
            MemberError::NotFound => Self::not_found("member"),
            MemberError::Forbidden(rule) => Self::role_rule(rule),
            MemberError::InvalidStatus(message) => {
                let mut errors = FieldErrors::default();
                errors.add("status", message);
                errors.into_error()
            }
            MemberError::NoWhatsappSender => {
                let mut errors = FieldErrors::default();
                errors.add("channel", error.to_string());
                errors.into_error()
            }
            MemberError::AlreadyMember(_)
            | MemberError::NameTaken
            | MemberError::NothingToRetry => {
                Self::conflict(ErrorCode::Conflict, &error.to_string())
            }
            MemberError::KeptChanging => Self::member_kept_changing(),
            MemberError::Additions(AdditionError::OverCap { cap, left }) => {
                Self::daily_additions_reached(cap, left)
            }
            MemberError::Additions(AdditionError::Store(cause)) => cause.into(),
            MemberError::NoOwner => Self::internal(&error),
            MemberError::Store(cause) => cause.into(),
        }
    }
}

impl<S> From<ListError> for ApiError<S> {
    fn from(error: ListError) -> Self {
        match error {
            ListError::UnknownCursor => Self::validation(vec![FieldError {
                field: "after".to_owned(),
                message: error.to_string(),
            }]),
            ListError::Store(cause) => cause.into(),
        }
    }
}

impl<S> From<FileError> for ApiError<S> {
    fn from(error: FileError) -> Self {
        Self::join_refusal(error, Language::ENGLISH)
    }
}

impl<S> ApiError<S> {
    /// A join request refused, said in the neighbor's `language`.
    pub fn join_refusal(error: FileError, language: Language) -> Self {
        let say = |id: &str| i18n::text(language, id, &[]);
        match error {
            FileError::AlreadyMember => {
                Self::conflict(ErrorCode::Conflict, &say("api-join-already-member"))
            }
            FileError::InviteOnly => {
                ErrorResponse::Forbidden(body(ErrorCode::InviteOnly, say("api-invite-only"))).into()
            }
            // The service said it in the neighbor's language already.
            FileError::Country(message) => Self::validation_in(
                vec![FieldError {
                    field: "phone".to_owned(),
                    message,
                }],
                language,
            ),
            FileError::NoWhatsapp => Self::validation_in(
                vec![FieldError {
                    field: "channel".to_owned(),
                    message: say("api-join-no-whatsapp"),
                }],
                language,
            ),
            FileError::TextsPaused => ErrorResponse::Unavailable(
                body(ErrorCode::TextsPaused, say("api-join-texts-paused")),
                None,
            )
            .into(),
            // The join form answers blocked phones like anyone's (finding 14); this is for
            // callers that may say so.
            FileError::Blocked => {
                ErrorResponse::Forbidden(body(ErrorCode::Forbidden, say("api-join-blocked"))).into()
            }
            FileError::Paused => Self::conflict(ErrorCode::Conflict, &say("api-join-paused")),
            FileError::Decision(DecisionError::Store(cause)) | FileError::Store(cause) => {
                ApiError::from(cause).in_language(language)
            }
            FileError::Decision(_) => Self::conflict(ErrorCode::Conflict, &say("api-join-changed")),
        }
    }
}

impl<S> From<PictureError> for ApiError<S> {
    fn from(error: PictureError) -> Self {
        match error {
            PictureError::NotFound => Self::not_found("picture"),
            PictureError::Refused(MediaRefusal::TooLarge { .. } | MediaRefusal::TooMany { .. }) => {
                Self::picture_too_large()
            }
            PictureError::Refused(MediaRefusal::Unsupported { .. }) => {
                ErrorResponse::UnsupportedMediaType(body(
                    ErrorCode::UnsupportedMediaType,
                    "Send a picture as image/jpeg, image/png or image/gif: every phone shows those.",
                ))
                .into()
            }
            PictureError::NoTwilio => ProvisionError::TwilioNotConfigured.into(),
            PictureError::Twilio(cause) => Self::twilio_failed(&cause),
            PictureError::Store(cause) => cause.into(),
        }
    }
}

impl<S> From<TemplateError> for ApiError<S> {
    fn from(error: TemplateError) -> Self {
        match error {
            TemplateError::NotFound => Self::not_found("template"),
            TemplateError::TooMany => Self::conflict(
                ErrorCode::TooManyTemplates,
                &format!(
                    "This neighborhood keeps {MAX_TEMPLATES} templates already; delete one to save another."
                ),
            ),
            TemplateError::Store(cause) => cause.into(),
        }
    }
}

impl<S> From<AnnouncementError> for ApiError<S> {
    fn from(error: AnnouncementError) -> Self {
        match error {
            AnnouncementError::NotFound => Self::not_found("announcement"),
            AnnouncementError::Closed(Closed::Sent) => Self::conflict(
                ErrorCode::AnnouncementSent,
                "The announcement was sent already; it can no longer change or be cancelled.",
            ),
            AnnouncementError::Closed(Closed::Cancelled) => Self::conflict(
                ErrorCode::AnnouncementCancelled,
                "The announcement was cancelled; it can no longer change.",
            ),
            AnnouncementError::Contended => Self::conflict(
                ErrorCode::Conflict,
                "The announcement changed at the same moment; try again.",
            ),
            AnnouncementError::UnknownMembers(ids) => Self::validation(
                ids.iter()
                    .map(|id| FieldError {
                        field: "audience.member_ids".to_owned(),
                        message: format!("No member of this neighborhood has the id {id}."),
                    })
                    .collect(),
            ),
            AnnouncementError::EmptyAudience => Self::validation(vec![FieldError {
                field: "audience".to_owned(),
                message: "Nobody in this audience can get texts now: no active member matches it."
                    .to_owned(),
            }]),
            AnnouncementError::OverDailyCap(cap) => Self::validation(vec![FieldError {
                field: "audience".to_owned(),
                message: format!(
                    "A chosen audience is texted one to one, and this neighborhood sends at most {cap} such texts a day: choose fewer people, or send to everyone."
                ),
            }]),
            AnnouncementError::Store(cause) => cause.into(),
        }
    }
}

/// A captain's decision on a join request that could not be made.
impl<S> From<DecisionError> for ApiError<S> {
    fn from(error: DecisionError) -> Self {
        match error {
            DecisionError::NeighborhoodNotFound => Self::not_found("neighborhood"),
            DecisionError::NotFound => Self::not_found("join request"),
            DecisionError::Archived => Self::conflict(
                ErrorCode::NeighborhoodArchived,
                "This neighborhood is archived: its join requests can no longer be decided.",
            ),
            DecisionError::NotPending(JoinState::PendingVerification) => Self::conflict(
                ErrorCode::Conflict,
                "This neighbor has not confirmed their phone yet; decide once they have.",
            ),
            DecisionError::NotPending(JoinState::Approved) => {
                Self::conflict(ErrorCode::Conflict, "This request was approved already.")
            }
            DecisionError::NotPending(_) => Self::conflict(
                ErrorCode::Conflict,
                "This request was denied already; the neighbor can ask again.",
            ),
            DecisionError::AlreadyMember => {
                Self::conflict(ErrorCode::Conflict, "This phone is a member already.")
            }
            DecisionError::KeptChanging => {
                Self::conflict(ErrorCode::Conflict, "The request kept changing; try again.")
            }
            DecisionError::Additions(AdditionError::OverCap { cap, left }) => {
                Self::daily_additions_reached(cap, left)
            }
            DecisionError::Additions(AdditionError::Store(error)) | DecisionError::Store(error) => {
                error.into()
            }
        }
    }
}

/// A neighbor's confirmed phone that could not move their request on. The neighbor did nothing
/// wrong: whatever the service met (a captain's decision, the open policy's approval racing
/// another), they are told the request changed and to try again.
#[derive(Debug)]
pub struct PhoneConfirmation(pub DecisionError);

impl<S> From<PhoneConfirmation> for ApiError<S> {
    fn from(PhoneConfirmation(error): PhoneConfirmation) -> Self {
        match error {
            DecisionError::Store(error) => error.into(),
            _ => Self::conflict(
                ErrorCode::Conflict,
                "The request changed meanwhile; try again.",
            ),
        }
    }
}

impl<S> From<ReconcileError> for ApiError<S> {
    fn from(error: ReconcileError) -> Self {
        match error {
            ReconcileError::NotFound => ProvisionError::NotFound.into(),
            ReconcileError::Archived => ProvisionError::Archived.into(),
            ReconcileError::NoTwilio => ProvisionError::TwilioNotConfigured.into(),
            ReconcileError::AlreadyRunning => Self::conflict(
                ErrorCode::Conflict,
                "A reconciliation of this neighborhood is running already; try again in a minute.",
            ),
            ReconcileError::Twilio { source, .. } => ProvisionError::Twilio(source).into(),
            ReconcileError::Store(error) => error.into(),
        }
    }
}

impl<S> From<ImportError> for ApiError<S> {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::TooLarge {
                limit,
                imported_through,
                report,
            } => ErrorResponse::PayloadTooLarge(Json(import_too_large(
                limit,
                imported_through,
                &report,
            )))
            .into(),
            ImportError::Header(problems) => Self::validation(
                problems
                    .into_iter()
                    .map(|(field, message)| FieldError { field, message })
                    .collect(),
            ),
            ImportError::Unreadable(cause) => Self::bad_request(
                ErrorCode::BadRequest,
                &format!("The upload could not be read as CSV: {cause}"),
            ),
            ImportError::Interrupted {
                cause,
                imported_through,
                in_doubt,
                report,
            } => match store_failure(&cause) {
                Some((code, _, retry_after)) => ErrorResponse::Unavailable(
                    Json(import_interrupted(
                        code,
                        imported_through,
                        in_doubt,
                        &report,
                    )),
                    Some(retry_after),
                )
                .into(),
                None => Self::internal(&cause),
            },
            ImportError::Store(error) => error.into(),
        }
    }
}

/// The 503 body of an import Redis stopped (down or full): which rows were written, which may be
/// partly, and that importing the file again finishes it. `details` names them for programs:
/// `imported_through` (the last row written; absent when none was) and `in_doubt` (`first-last`).
pub fn import_interrupted(
    code: ErrorCode,
    imported_through: Option<u32>,
    in_doubt: Option<(u32, u32)>,
    report: &ImportReport,
) -> ErrorBody {
    let cause = match code {
        ErrorCode::StoreFull => "The database became full during the import.",
        _ => "The database became unreachable during the import.",
    };
    let mut message = cause.to_owned();
    let mut details = Vec::new();
    match imported_through {
        Some(row) => {
            message.push_str(&format!(
                " Rows 2 to {row} were imported ({} added, {} updated, {} unchanged, {} rejected).",
                report.added, report.updated, report.unchanged, report.rejected
            ));
            details.push(FieldError {
                field: "imported_through".to_owned(),
                message: row.to_string(),
            });
        }
        None => message.push_str(" No row was imported before it."),
    }
    let after = match in_doubt {
        Some((first, last)) => {
            message.push_str(&format!(
                " Rows {first} to {last} were being written and may be partly imported."
            ));
            details.push(FieldError {
                field: "in_doubt".to_owned(),
                message: format!("{first}-{last}"),
            });
            last
        }
        None => imported_through.unwrap_or(1),
    };
    message.push_str(&format!(
        " No row after {after} was. Import the same file again once it is back: rows imported already are left as they are."
    ));
    ErrorBody {
        code,
        message,
        details,
    }
}

/// The 413 body of an import over its limits; `imported_through` is the last row a real run
/// wrote before stopping.
pub fn import_too_large(
    limit: Limit,
    imported_through: Option<u32>,
    report: &ImportReport,
) -> ErrorBody {
    let mut message = match limit {
        Limit::Bytes => format!(
            "The file is over {} MiB: split it into smaller files.",
            import::MAX_BYTES / (1024 * 1024)
        ),
        Limit::Rows => {
            format!(
                "The file has more than {} rows: split it into smaller files.",
                import::MAX_ROWS
            )
        }
    };
    if let Some(row) = imported_through {
        message.push_str(&format!(
            " Rows up to row {row} were imported already ({} added, {} updated); importing them again changes nothing.",
            report.added, report.updated
        ));
    }
    ErrorBody {
        code: ErrorCode::PayloadTooLarge,
        message,
        details: Vec::new(),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Collects the field errors of one request, so the caller hears about all of them at once:
/// in English, or in a neighbor's language on the public pages' endpoints.
#[derive(Debug)]
pub struct FieldErrors {
    errors: Vec<FieldError>,
    language: Language,
}

impl Default for FieldErrors {
    fn default() -> Self {
        Self::in_language(Language::ENGLISH)
    }
}

impl FieldErrors {
    /// Errors said in `language` where the catalogs have them.
    pub fn in_language(language: Language) -> Self {
        Self {
            errors: Vec::new(),
            language,
        }
    }

    /// Parses one field, remembering its error.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ParseError>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.refused(field, &error);
                None
            }
        }
    }

    /// Remembers a field's refusal, in this request's language.
    pub fn refused(&mut self, field: &str, error: &ParseError) {
        self.add(field, error.in_language(self.language));
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
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// The 400 listing every collected error.
    pub fn into_error<S>(self) -> ApiError<S> {
        ApiError::validation_in(self.errors, self.language)
    }

    /// `Err` with every collected error, or `Ok` when there were none.
    pub fn finish<S>(self) -> Result<(), ApiError<S>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
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
