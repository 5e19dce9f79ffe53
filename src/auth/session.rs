//! Session cookies: an HS256 token (jsonwebtoken) naming a session kept in Redis, so signing out
//! and expiry are real. Cookies are `HttpOnly`, `SameSite=Lax`, `Secure` behind https, and rotated
//! once a day; cookie-authenticated writes must come from our own origin (CSRF).
//!
//! Behind https every cookie of ours carries the `__Host-` prefix, which browsers accept only from
//! this exact host over https: a sibling subdomain cannot plant one (login CSRF, fixation).
//! [`accept_host_cookies`] maps them back to their plain names for the rest of the app and drops
//! plain-named ones there. A session also ends `NT_SESSION_MAX_AGE_DAYS` after its sign-in however
//! often it rotates, and "sign out everywhere" voids every session a phone started before it.
//!
//! A successful sign-in also leaves a *device* cookie: proof that this browser once held the
//! phone's code. Such a device is not held by the per-phone limits and locks that strangers can
//! trip (see `api::auth`), so nobody can lock a captain out of the devices they use.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use poem::http::{HeaderValue, Method, header};
use poem::{Endpoint, Request, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::phone::Phone;
use crate::state::AppState;
use crate::store::StoreError;

/// The session cookie's name (behind https, with the `__Host-` prefix).
pub const COOKIE: &str = "nt_session";
/// The device cookie's name (behind https, with the `__Host-` prefix).
pub const DEVICE_COOKIE: &str = "nt_device";
/// The prefix browsers accept only from this host, over https, with `Path=/` and no `Domain`.
pub const HOST_PREFIX: &str = "__Host-";
/// How long a session lasts without use; using it rotates it.
pub const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);
/// A session older than this gets a fresh id and cookie on its next successful request.
pub const ROTATE_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long a device stays trusted after its last sign-in.
pub const DEVICE_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// The audience of device tokens, so a device token is never taken for a session or back.
const DEVICE_AUDIENCE: &str = "nt-device";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The phone signed in.
    pub sub: String,
    /// The session id in Redis.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    /// When the sign-in this session descends from happened (ms since the epoch); rotation
    /// keeps it, so the absolute lifetime counts from here. 0 in cookies from before it existed:
    /// `iat` stands in.
    #[serde(default)]
    pub signed_in_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeviceClaims {
    sub: String,
    aud: String,
    /// When the device signed in (ms since the epoch).
    signed_in_ms: i64,
    exp: i64,
}

/// A session that checked out: signature, expiry, and still present in Redis.
#[derive(Debug, Clone)]
pub struct Session {
    pub phone: Phone,
    pub id: Uuid,
    pub issued_at: OffsetDateTime,
    /// The sign-in this session descends from (ms since the epoch).
    pub signed_in_ms: i64,
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Starts a session for `phone` that just signed in; returns the `Set-Cookie` value.
pub async fn start(state: &AppState, phone: &Phone) -> Result<String, StoreError> {
    continue_session(state, phone, now_ms()).await
}

/// A session for `phone` descending from the sign-in at `signed_in_ms`: it lasts the sliding
/// [`SESSION_TTL`], never past the absolute cap (`NT_SESSION_MAX_AGE_DAYS`).
async fn continue_session(
    state: &AppState,
    phone: &Phone,
    signed_in_ms: i64,
) -> Result<String, StoreError> {
    let left_ms = signed_in_ms + state.settings.session_max_age().as_millis() as i64 - now_ms();
    let ttl = SESSION_TTL.min(Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)));
    let ttl = ttl.max(Duration::from_secs(1));
    let id = Uuid::new_v4();
    state.store.store_session(id, phone, ttl).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: phone.as_str().to_owned(),
        sid: id,
        iat: now,
        exp: now + ttl.as_secs() as i64,
        signed_in_ms,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(state.session_key.expose().as_bytes()),
    )
    .unwrap_or_default();
    Ok(cookie(state, &token, ttl))
}

/// A cookie's name as this deployment sets it: `__Host-` prefixed behind https.
pub fn cookie_name(state: &AppState, base: &str) -> String {
    if state.settings.public_url.scheme() == "https" {
        format!("{HOST_PREFIX}{base}")
    } else {
        base.to_owned()
    }
}

fn set_cookie(state: &AppState, base: &str, value: &str, max_age: Duration) -> String {
    let secure = if state.settings.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(state, base),
        max_age.as_secs()
    )
}

/// The `Set-Cookie` value for a session token.
pub fn cookie(state: &AppState, value: &str, max_age: Duration) -> String {
    set_cookie(state, COOKIE, value, max_age)
}

/// A `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    cookie(state, "", Duration::ZERO)
}

/// The `Set-Cookie` value that marks this browser as a device `phone` signed in on.
pub fn device_cookie(state: &AppState, phone: &Phone) -> String {
    let claims = DeviceClaims {
        sub: phone.as_str().to_owned(),
        aud: DEVICE_AUDIENCE.to_owned(),
        signed_in_ms: now_ms(),
        exp: OffsetDateTime::now_utc().unix_timestamp() + DEVICE_TTL.as_secs() as i64,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(state.session_key.expose().as_bytes()),
    )
    .unwrap_or_default();
    set_cookie(state, DEVICE_COOKIE, &token, DEVICE_TTL)
}

/// Whether this request comes from a device `phone` signed in on (since its last "sign out
/// everywhere").
pub async fn trusted_device(
    state: &AppState,
    request: &Request,
    phone: &Phone,
) -> Result<bool, StoreError> {
    let Some(token) = named_cookie(request, DEVICE_COOKIE) else {
        return Ok(false);
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_audience(&[DEVICE_AUDIENCE]);
    let Ok(data) = jsonwebtoken::decode::<DeviceClaims>(
        &token,
        &DecodingKey::from_secret(state.session_key.expose().as_bytes()),
        &validation,
    ) else {
        return Ok(false);
    };
    if data.claims.sub != phone.as_str() {
        return Ok(false);
    }
    let cutoff = state.store.sessions_ended_at(phone).await?;
    Ok(cutoff.is_none_or(|cutoff| data.claims.signed_in_ms > cutoff))
}

/// Ends every session of `phone`, the one asking included, and untrusts its devices.
pub async fn end_all(
    state: &AppState,
    phone: &Phone,
    current: Option<Uuid>,
) -> Result<(), StoreError> {
    // The mark must outlast every session and device it voids.
    let keep = state.settings.session_max_age().max(DEVICE_TTL);
    state
        .store
        .end_all_sessions(phone, now_ms(), keep, current)
        .await
}

/// Checks a cookie's token and that its session still exists, is younger than the absolute
/// cap, and began after the phone last signed out everywhere.
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
    let signed_in_ms = if claims.signed_in_ms > 0 {
        claims.signed_in_ms
    } else {
        claims.iat.saturating_mul(1000)
    };
    if now_ms() - signed_in_ms >= state.settings.session_max_age().as_millis() as i64 {
        return Ok(None);
    }
    let (owner, cutoff) = state.store.session_and_cutoff(claims.sid, &phone).await?;
    if owner.as_deref() != Some(phone.as_str())
        || cutoff.is_some_and(|cutoff| signed_in_ms <= cutoff)
    {
        return Ok(None);
    }
    let issued_at =
        OffsetDateTime::from_unix_timestamp(claims.iat).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(Some(Session {
        phone,
        id: claims.sid,
        issued_at,
        signed_in_ms,
    }))
}

/// Middleware, outside the cookie jar: behind https, `__Host-nt_*` cookies are read under their
/// plain names and plain `nt_*` cookies (which any subdomain can set) are ignored. Over plain
/// http (local use) cookies pass as they are.
pub async fn accept_host_cookies<E: Endpoint>(
    next: E,
    mut request: Request,
) -> poem::Result<E::Output> {
    let https = request
        .data::<AppState>()
        .is_some_and(|state| state.settings.public_url.scheme() == "https");
    if https && request.headers().contains_key(header::COOKIE) {
        let pairs: Vec<String> = request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| match pair.strip_prefix(HOST_PREFIX) {
                Some(ours) if ours.starts_with("nt_") => Some(ours.to_owned()),
                _ if pair.starts_with("nt_") => None,
                _ => Some(pair.to_owned()),
            })
            .collect();
        let headers = request.headers_mut();
        headers.remove(header::COOKIE);
        if let Ok(value) = HeaderValue::from_str(&pairs.join("; "))
            && !pairs.is_empty()
        {
            headers.insert(header::COOKIE, value);
        }
    }
    next.call(request).await
}

/// The session cookie of a request, if any.
pub fn cookie_value(request: &Request) -> Option<String> {
    named_cookie(request, COOKIE)
}

/// A cookie of ours by its plain name (see [`accept_host_cookies`]).
pub fn named_cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
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
    if let Ok(fresh) = continue_session(&state, &session.phone, session.signed_in_ms).await {
        let _ = state.store.delete_session(session.id).await;
        if let Ok(value) = fresh.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}
