//! Who is calling, read off the request: an API token (`Authorization: Bearer`) or a session
//! cookie, as poem-openapi security schemes.
//!
//! Every non-public operation takes [`Auth`] as its first parameter, so poem-openapi checks it
//! before reading the path, query or body: an anonymous call gets 401 and learns nothing else.
//! Both schemes are declared in the OpenAPI document and listed on each operation.

use poem::http::{StatusCode, header};
use poem::{Request, RequestBody};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::registry::Registry;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme};
use time::OffsetDateTime;

use super::error::ApiError;
use super::error::statuses::SignedIn;
use crate::auth::principal::Principal;
use crate::auth::session;
use crate::auth::tokens;
use crate::domain::access::ApiToken;
use crate::state::AppState;

/// A token's last use is written at most this often, so busy integrations do not write per call.
const LAST_USED_RESOLUTION: time::Duration = time::Duration::minutes(1);

/// An API token, sent as `Authorization: Bearer ntk_...`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque", checker = "check_token")]
pub struct TokenAuth(Principal);

/// The session cookie set by `POST /api/v1/auth/session`.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "nt_session",
    key_in = "cookie",
    checker = "check_session"
)]
pub struct SessionAuth(Principal);

/// Either scheme: an API token, or a session cookie.
pub enum Auth {
    Token(TokenAuth),
    Session(SessionAuth),
}

/// Written out rather than derived: the derived extractor tries each scheme and answers the
/// last one's error, so a token checked while Redis is down (503) was answered as a missing
/// cookie (401), and clients dropped work they should have retried. Here a refusal that is not
/// a 401 (Redis down or full, a cross-site cookie) is the answer; only when both schemes say
/// 401 does the cookie's 401 stand, as before.
impl<'a> ApiExtractor<'a> for Auth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        TokenAuth::register(registry);
        SessionAuth::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        let mut schemes = TokenAuth::security_schemes();
        schemes.extend(SessionAuth::security_schemes());
        schemes
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let token_refused = match TokenAuth::from_request(request, body, options.clone()).await {
            Ok(token) => return Ok(Self::Token(token)),
            Err(error) if error.status() != StatusCode::UNAUTHORIZED => return Err(error),
            Err(error) => error,
        };
        match SessionAuth::from_request(request, body, options).await {
            Ok(session) => Ok(Self::Session(session)),
            // A refused bearer token says more than the absent cookie does.
            Err(error)
                if error.status() == StatusCode::UNAUTHORIZED
                    && request.headers().contains_key(header::AUTHORIZATION)
                    && !request.headers().contains_key(header::COOKIE) =>
            {
                Err(token_refused)
            }
            Err(error) => Err(error),
        }
    }
}

impl Auth {
    pub fn principal(&self) -> &Principal {
        match self {
            Self::Token(TokenAuth(principal)) | Self::Session(SessionAuth(principal)) => principal,
        }
    }
}

fn app_state(request: &Request) -> poem::Result<&AppState> {
    request
        .data::<AppState>()
        .ok_or_else(|| ApiError::<SignedIn>::internal_message("application state missing").into())
}

async fn check_token(request: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = app_state(request)?;
    let hash = tokens::hash(&bearer.token);
    let token = state
        .store
        .api_token_by_hash(&hash)
        .await
        .map_err(ApiError::<SignedIn>::from)?;
    let now = OffsetDateTime::now_utc();
    let refused = || {
        ApiError::<SignedIn>::unauthorized(
            "The API token is unknown, revoked or expired, or whoever made it no longer holds its role.",
        )
        .into()
    };
    let Some(token) = token.filter(|token| tokens::constant_time_eq(&token.secret_hash, &hash))
    else {
        return Err(refused());
    };
    if !tokens::still_authorized(&state.store, &token, now)
        .await
        .map_err(ApiError::<SignedIn>::from)?
    {
        return Err(refused());
    }
    if token
        .last_used_at
        .is_none_or(|used| now - used > LAST_USED_RESOLUTION)
    {
        let used = ApiToken {
            last_used_at: Some(now),
            ..token.clone()
        };
        // Only over the token as read: a revocation that landed meanwhile stays.
        if let Err(error) = state.store.replace_api_token(&token, &used).await {
            tracing::warn!(%error, "token last-use time not recorded");
        }
    }
    Ok(Principal::Token { token })
}

async fn check_session(request: &Request, cookie: ApiKey) -> poem::Result<Principal> {
    let state = app_state(request)?;
    let Some(session) = session::resolve(state, &cookie.key)
        .await
        .map_err(ApiError::<SignedIn>::from)?
    else {
        return Err(
            ApiError::<SignedIn>::unauthorized("Your session has ended: sign in again.").into(),
        );
    };
    if !session::same_origin(state, request) {
        return Err(ApiError::<SignedIn>::forbidden(
            "Cross-site request refused: send it from this site (the Origin header did not match).",
        )
        .into());
    }
    let platform_admin = state
        .store
        .platform_admin(&session.phone)
        .await
        .map_err(ApiError::<SignedIn>::from)?
        .is_some();
    Ok(Principal::Session {
        session,
        platform_admin,
    })
}
