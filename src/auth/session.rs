//! Session cookies: an HS256 token (jsonwebtoken) naming a session kept in Redis, so signing out
//! and expiry are real. Cookies are `HttpOnly`, `SameSite=Lax`, `Secure` behind https, and rotated
//! once a day; cookie-authenticated writes must come from our own origin (CSRF).

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use poem::http::{Method, header};
use poem::{Endpoint, Request, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::phone::Phone;
use crate::state::AppState;
use crate::store::StoreError;

pub const COOKIE: &str = "nt_session";
/// How long a session lasts without use; using it rotates it.
pub const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// A session older than this gets a fresh id and cookie on its next successful request.
pub const ROTATE_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The phone signed in.
    pub sub: String,
    /// The session id in Redis.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// A session that checked out: signature, expiry, and still present in Redis.
#[derive(Debug, Clone)]
pub struct Session {
    pub phone: Phone,
    pub id: Uuid,
    pub issued_at: OffsetDateTime,
}

/// Starts a session for `phone`; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, phone: &Phone) -> Result<String, StoreError> {
    let id = Uuid::new_v4();
    state.store.store_session(id, phone, SESSION_TTL).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: phone.as_str().to_owned(),
        sid: id,
        iat: now,
        exp: now + SESSION_TTL.as_secs() as i64,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(state.session_key.expose().as_bytes()),
    )
    .unwrap_or_default();
    Ok(cookie(state, &token, SESSION_TTL))
}

/// The `Set-Cookie` value for a session token.
pub fn cookie(state: &AppState, value: &str, max_age: Duration) -> String {
    let secure = if state.settings.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age.as_secs()
    )
}

/// A `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    cookie(state, "", Duration::ZERO)
}

/// Checks a cookie's token and that its session still exists.
pub async fn resolve(state: &AppState, token: &str) -> Result<Option<Session>, StoreError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let Ok(data) = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(state.session_key.expose().as_bytes()),
        &validation,
    ) else {
        return Ok(None);
    };
    let claims = data.claims;
    let Ok(phone) = Phone::parse(&claims.sub) else {
        return Ok(None);
    };
    if state.store.session_phone(claims.sid).await?.as_deref() != Some(phone.as_str()) {
        return Ok(None);
    }
    let issued_at =
        OffsetDateTime::from_unix_timestamp(claims.iat).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(Some(Session {
        phone,
        id: claims.sid,
        issued_at,
    }))
}

/// The session cookie of a request, if any.
pub fn cookie_value(request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// True unless a state-changing request comes from another site: its `Origin` (or, failing
/// that, its `Referer`) must be our public URL's origin. Safe methods always pass.
pub fn same_origin(state: &AppState, request: &Request) -> bool {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return true;
    }
    let ours = state.settings.public_url.origin().ascii_serialization();
    let header_value = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    match (header_value(header::ORIGIN), header_value(header::REFERER)) {
        (Some(origin), _) => origin == ours,
        (None, Some(referer)) => referer == ours || referer.starts_with(&format!("{ours}/")),
        (None, None) => false,
    }
}

/// Middleware: gives a day-old session a fresh id and cookie on a successful request.
pub async fn rotate<E: Endpoint<Output = Response>>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let state = request.data::<AppState>().cloned();
    let token = cookie_value(&request);
    let mut response = next.call(request).await?;
    let (Some(state), Some(token)) = (state, token) else {
        return Ok(response);
    };
    if !response.status().is_success() || response.headers().contains_key(header::SET_COOKIE) {
        return Ok(response);
    }
    let Ok(Some(session)) = resolve(&state, &token).await else {
        return Ok(response);
    };
    if OffsetDateTime::now_utc() - session.issued_at < ROTATE_AFTER {
        return Ok(response);
    }
    if let Ok(fresh) = start(&state, &session.phone).await {
        let _ = state.store.delete_session(session.id).await;
        if let Ok(value) = fresh.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}
