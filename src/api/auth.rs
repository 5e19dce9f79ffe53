//! `/api/v1/auth`: sign in with a code texted to your phone, see who you are, sign out.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::statuses::{JsonBody, RateLimited, SignedIn, Unavailable};
use super::error::{ApiError, ErrorCode, FieldError, FieldErrors};
use super::security::Auth;
use crate::auth::principal::Principal;
use crate::auth::session;
use crate::domain::access::TokenScope;
use crate::domain::member::Role;
use crate::domain::phone::Phone;
use crate::services::{codes, sending};
use crate::state::AppState;
use crate::store::auth::{SignInCheck, WrongCodeCeiling};
use crate::store::rate_limits::{self, RateDecision, RateLimit};

/// The window of the per-phone ceiling of wrong codes.
const WRONG_CODE_WINDOW: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub struct AuthApi;

/// Ask for a sign-in code.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CodeRequestIn {
    /// Your phone, e.g. `+15551234567`.
    pub phone: String,
}

/// The same answer whether or not the phone may sign in.
#[derive(Debug, Object)]
pub struct CodeRequestOut {
    /// What happens next.
    pub message: String,
}

/// Sign in with the code.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SessionIn {
    /// The phone the code was sent to.
    pub phone: String,
    /// The six digits from the text.
    pub code: String,
}

/// A role held in one neighborhood.
#[derive(Debug, Object)]
pub struct RoleOut {
    /// The neighborhood.
    pub neighborhood_id: Uuid,
    /// The role there.
    pub role: Role,
}

/// Who is asking.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WhoAmIOut {
    /// `session` (signed in by SMS code) or `token` (API token).
    pub kind: String,
    /// The signed-in phone (sessions only).
    pub phone: Option<String>,
    /// The API token's id (tokens only).
    pub token_id: Option<Uuid>,
    /// True for platform admins (and platform tokens).
    pub platform_admin: bool,
    /// Roles held, per neighborhood.
    pub roles: Vec<RoleOut>,
}

#[derive(ApiResponse)]
enum CodeResponse {
    /// Accepted: if the phone may sign in, a code is on its way.
    #[oai(status = 202)]
    Accepted(Json<CodeRequestOut>),
}

#[derive(ApiResponse)]
enum SessionResponse {
    /// Signed in: the session cookie is set.
    #[oai(status = 200)]
    SignedIn(
        Json<WhoAmIOut>,
        /// The session cookie (`HttpOnly`, `SameSite=Lax`; behind https `Secure` and named
        /// `__Host-nt_session`). A second `Set-Cookie` marks this device as one the phone
        /// signed in on (`nt_device`, 90 days).
        #[oai(header = "Set-Cookie")]
        String,
    ),
}

#[derive(ApiResponse)]
enum SignOutResponse {
    /// Signed out: the session ended and the cookie is cleared.
    #[oai(status = 204)]
    SignedOut(
        /// Clears the session cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
}

#[derive(ApiResponse)]
enum SignOutEverywhereResponse {
    /// Every session of this phone ended, this one included, and the devices it signed in on
    /// are no longer trusted; the cookie is cleared.
    #[oai(status = 204)]
    SignedOut(
        /// Clears the session cookie.
        #[oai(header = "Set-Cookie")]
        String,
    ),
}

#[derive(ApiResponse)]
enum WhoAmIResponse {
    /// Who is asking.
    #[oai(status = 200)]
    Ok(Json<WhoAmIOut>),
}

/// Counts a hit; 429 with `Retry-After` when over the limit.
pub(super) async fn enforce<S>(
    state: &AppState,
    limit: &RateLimit,
    subject: &str,
) -> Result<(), ApiError<S>> {
    match state.store.hit_rate_limit(limit, subject).await? {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after } => Err(ApiError::rate_limited(
            rate_limits::retry_after_secs(retry_after),
        )),
    }
}

fn parse_phone<S>(field: &str, value: &str) -> Result<Phone, ApiError<S>> {
    let mut errors = FieldErrors::default();
    let phone = errors.check(field, Phone::parse(value));
    errors.finish()?;
    phone.ok_or_else(|| ApiError::internal_message("phone parse reported no error"))
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Text me a sign-in code
    ///
    /// Sends a 6-digit code by SMS to a phone that holds a role (platform admin, owner, captain,
    /// moderator). The answer is the same for every phone, so it does not tell who has an account.
    /// Codes expire after 10 minutes, allow 5 attempts and work once. Limited per IP, and per
    /// phone except from a device that signed in with that phone before; refused with
    /// `sign_in_locked` while the phone's sign-in from new devices is locked (see
    /// `create_session`).
    #[oai(path = "/code", method = "post", operation_id = "request_login_code")]
    async fn request_code(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: Json<CodeRequestIn>,
    ) -> Result<CodeResponse, ApiError<(JsonBody, RateLimited, Unavailable)>> {
        let phone = parse_phone("phone", &body.0.phone)?;
        if !sending::country_allowed(&state, &phone) {
            return Err(ApiError::validation(vec![FieldError {
                field: "phone".to_owned(),
                message: sending::country_refusal(&state, crate::i18n::Language::ENGLISH),
            }]));
        }
        enforce(
            &state,
            &rate_limits::LOGIN_CODES_PER_IP,
            &state.client_rate_subject(request),
        )
        .await?;
        // Strangers can use up a phone's limit and trip its lock; a device that once held the
        // phone's code is not held by either, so they cannot lock the captain out.
        if !session::trusted_device(&state, request, &phone).await? {
            if let Some(left) = state.store.sign_in_lock(&phone).await? {
                return Err(ApiError::sign_in_locked(rate_limits::retry_after_secs(
                    left,
                )));
            }
            enforce(&state, &rate_limits::LOGIN_CODES_PER_PHONE, phone.as_str()).await?;
        }
        if let Some(from) = codes::sign_in_route(&state, &phone).await? {
            let code = codes::new_code();
            let hash = codes::hash(state.session_key.expose(), &phone, &code);
            state
                .store
                .store_login_code(&phone, &hash, codes::CODE_ATTEMPTS, codes::CODE_TTL)
                .await?;
            tokio::spawn(codes::send(state.clone(), phone, from, code));
        }
        Ok(CodeResponse::Accepted(Json(CodeRequestOut {
            message: "If this phone can sign in, a code is on its way. It works for 10 minutes."
                .into(),
        })))
    }

    /// Sign in with the code
    ///
    /// Checks the code and starts a session (a cookie). A wrong code uses one of its 5 attempts.
    ///
    /// Wrong codes also count against the phone: after `NT_SIGNIN_MAX_WRONG_CODES` in 24 hours
    /// (new codes do not reset the count), sign-in from new devices is locked for
    /// `NT_SIGNIN_LOCK_MINUTES` (429 `sign_in_locked`) and the phone is texted once that someone
    /// is trying. A device that signed in with the phone before (its device cookie, set here)
    /// is neither counted nor locked: strangers cannot lock a captain out of their own devices.
    #[oai(path = "/session", method = "post", operation_id = "create_session")]
    async fn create_session(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: Json<SessionIn>,
    ) -> Result<SessionResponse, ApiError<(JsonBody, RateLimited, Unavailable)>> {
        let phone = parse_phone("phone", &body.0.phone)?;
        let ip = state.client_rate_subject(request);
        enforce(&state, &rate_limits::CODE_CHECKS_PER_IP, &ip).await?;
        enforce(
            &state,
            &rate_limits::CODE_CHECKS_PER_PHONE_AND_IP,
            &format!("{phone} {ip}"),
        )
        .await?;
        // A device that signed in as this phone before makes typos, not guesses: it is not
        // counted, and the lock does not apply to it.
        let ceiling =
            (!session::trusted_device(&state, request, &phone).await?).then(|| WrongCodeCeiling {
                max_wrong: state.settings.signin_max_wrong_codes,
                window: WRONG_CODE_WINDOW,
                lock: state.settings.signin_lock(),
            });
        let code = body.0.code.trim();
        let hash = codes::hash(state.session_key.expose(), &phone, code);
        match state
            .store
            .check_sign_in_code(&phone, &hash, ceiling)
            .await?
        {
            SignInCheck::Accepted => {}
            SignInCheck::Refused => {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidCode,
                    "That code is wrong, expired or used. Ask for a new one if needed.",
                ));
            }
            SignInCheck::Locked { retry_after } => {
                return Err(ApiError::sign_in_locked(rate_limits::retry_after_secs(
                    retry_after,
                )));
            }
            SignInCheck::LockedNow { retry_after, warn } => {
                tracing::warn!("sign-in from new devices locked for a phone: too many wrong codes");
                // Only phones that can sign in are texted: a lock on any other number must
                // not make us text strangers.
                if warn && let Some(from) = codes::sign_in_route(&state, &phone).await? {
                    tokio::spawn(codes::send_lock_warning(state.clone(), phone, from));
                }
                return Err(ApiError::sign_in_locked(rate_limits::retry_after_secs(
                    retry_after,
                )));
            }
        }
        let cookie = session::start(&state, &phone).await?;
        // The jar adds it as a second `Set-Cookie`; the answer's own header carries the session.
        if let Ok(device) = poem::web::cookie::Cookie::parse(session::device_cookie(&state, &phone))
        {
            request.cookie().add(device);
        }
        let platform_admin = state.store.platform_admin(&phone).await?.is_some();
        let roles = roles_out(state.store.roles_of(&phone).await?);
        tracing::info!("signed in");
        let me = WhoAmIOut {
            kind: "session".into(),
            phone: Some(phone.into()),
            token_id: None,
            platform_admin,
            roles,
        };
        Ok(SessionResponse::SignedIn(Json(me), cookie))
    }

    /// Sign out
    ///
    /// Ends the session of this cookie everywhere.
    #[oai(path = "/session", method = "delete", operation_id = "delete_session")]
    async fn delete_session(
        &self,
        auth: Auth,
        state: Data<&AppState>,
    ) -> Result<SignOutResponse, ApiError<SignedIn>> {
        crate::auth::policy::authorize(&state, auth.principal(), "delete_session", None).await?;
        if let Principal::Session { session, .. } = auth.principal() {
            state.store.delete_session(session.id).await?;
        }
        Ok(SignOutResponse::SignedOut(session::clear_cookie(&state)))
    }

    /// Sign out everywhere
    ///
    /// Ends every session of the signed-in phone, on every device, this one included, and stops
    /// trusting the devices it signed in on. For a lost or shared phone or browser. Sessions only:
    /// an API token has no sessions (revoke it instead).
    #[oai(
        path = "/sessions",
        method = "delete",
        operation_id = "delete_all_sessions"
    )]
    async fn delete_all_sessions(
        &self,
        auth: Auth,
        state: Data<&AppState>,
    ) -> Result<SignOutEverywhereResponse, ApiError<SignedIn>> {
        crate::auth::policy::authorize(&state, auth.principal(), "delete_all_sessions", None)
            .await?;
        let Principal::Session { session, .. } = auth.principal() else {
            return Err(ApiError::forbidden(
                "API tokens have no sessions: revoke the token instead.",
            ));
        };
        session::end_all(&state, &session.phone, Some(session.id)).await?;
        tracing::info!("signed out everywhere");
        Ok(SignOutEverywhereResponse::SignedOut(session::clear_cookie(
            &state,
        )))
    }

    /// Who am I
    ///
    /// The signed-in phone or the API token, and the roles it holds.
    #[oai(path = "/me", method = "get", operation_id = "whoami")]
    async fn whoami(
        &self,
        auth: Auth,
        state: Data<&AppState>,
    ) -> Result<WhoAmIResponse, ApiError<SignedIn>> {
        let principal = auth.principal();
        crate::auth::policy::authorize(&state, principal, "whoami", None).await?;
        let me = match principal {
            Principal::Session {
                session,
                platform_admin,
            } => WhoAmIOut {
                kind: "session".into(),
                phone: Some(session.phone.as_str().to_owned()),
                token_id: None,
                platform_admin: *platform_admin,
                roles: roles_out(state.store.roles_of(&session.phone).await?),
            },
            Principal::Token { token } => WhoAmIOut {
                kind: "token".into(),
                phone: None,
                token_id: Some(token.id),
                platform_admin: token.scope == TokenScope::Platform,
                roles: match token.scope {
                    TokenScope::Platform => Vec::new(),
                    TokenScope::Neighborhood {
                        neighborhood_id,
                        role,
                    } => vec![RoleOut {
                        neighborhood_id,
                        role,
                    }],
                },
            },
        };
        Ok(WhoAmIResponse::Ok(Json(me)))
    }
}

fn roles_out(roles: Vec<(Uuid, Role)>) -> Vec<RoleOut> {
    roles
        .into_iter()
        .map(|(neighborhood_id, role)| RoleOut {
            neighborhood_id,
            role,
        })
        .collect()
}
