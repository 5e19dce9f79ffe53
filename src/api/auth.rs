//! `/api/v1/auth`: sign in with a code texted to your phone, see who you are, sign out.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::statuses::{JsonBody, RateLimited, SignedIn, Unavailable};
use super::error::{ApiError, ErrorCode, FieldErrors};
use crate::auth::principal::{Auth, Principal};
use crate::auth::session;
use crate::domain::access::TokenScope;
use crate::domain::member::Role;
use crate::domain::phone::Phone;
use crate::services::codes;
use crate::state::AppState;
use crate::store::auth::CodeCheck;
use crate::store::rate_limits::{self, RateDecision, RateLimit};

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
        /// The session cookie (`HttpOnly`, `SameSite=Lax`, `Secure` behind https).
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
    /// Codes expire after 10 minutes, allow 5 attempts and work once. Limited per phone and per IP.
    #[oai(path = "/code", method = "post", operation_id = "request_login_code")]
    async fn request_code(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: Json<CodeRequestIn>,
    ) -> Result<CodeResponse, ApiError<(JsonBody, RateLimited, Unavailable)>> {
        let phone = parse_phone("phone", &body.0.phone)?;
        enforce(
            &state,
            &rate_limits::LOGIN_CODES_PER_IP,
            &state.client_ip(request),
        )
        .await?;
        enforce(&state, &rate_limits::LOGIN_CODES_PER_PHONE, phone.as_str()).await?;
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
    #[oai(path = "/session", method = "post", operation_id = "create_session")]
    async fn create_session(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: Json<SessionIn>,
    ) -> Result<SessionResponse, ApiError<(JsonBody, RateLimited, Unavailable)>> {
        let phone = parse_phone("phone", &body.0.phone)?;
        enforce(
            &state,
            &rate_limits::CODE_CHECKS_PER_IP,
            &state.client_ip(request),
        )
        .await?;
        enforce(&state, &rate_limits::CODE_CHECKS_PER_PHONE, phone.as_str()).await?;
        let code = body.0.code.trim();
        let hash = codes::hash(state.session_key.expose(), &phone, code);
        match state.store.check_login_code(&phone, &hash).await? {
            CodeCheck::Accepted => {}
            CodeCheck::Wrong | CodeCheck::Missing => {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidCode,
                    "That code is wrong, expired or used. Ask for a new one if needed.",
                ));
            }
        }
        let cookie = session::start(&state, &phone).await?;
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
