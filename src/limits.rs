//! Bounded requests: how large a body may be, how long it may take to arrive, and which bodies
//! are inflated (security review, findings 1 and 11).
//!
//! - A JSON or webhook body (every route but the import) is read here, before any handler or
//!   signature check, up to [`MAX_BODY`] bytes within `NT_REQUEST_READ_SECS`: past the size it is
//!   413, past the time 408, and a declared `Content-Length` past the size is refused unread.
//! - Those bodies are never inflated: a `Content-Encoding` other than `identity` is 415. Nothing
//!   that talks to them (browsers, integrators, Twilio) compresses requests, and refusing costs
//!   nothing, whereas inflating would let a few KB of brotli stand for gigabytes.
//! - The import (`POST .../import`) streams up to 16 MiB of CSV, which may arrive compressed: its
//!   operation inflates it, and `import::body_reader` caps the inflated stream. Here it only gets
//!   a deadline ([`IMPORT_READ`]); it is authorized before a byte of it is read.
//! - Responses are still compressed ([`compress_responses`]), but poem's `Compression` middleware
//!   is not used: it inflates every request body, unbounded.
//! - How many requests are served at once ([`within_budget`]): the public routes share
//!   `NT_MAX_PUBLIC_REQUESTS`, Twilio's webhooks have `NT_MAX_WEBHOOK_REQUESTS` of their own, and
//!   past either the request gets 503 at once. A request holds its place while its body arrives,
//!   so slow bodies on the join form use up the public budget, never the webhooks'.

use std::io;
use std::str::FromStr;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::{Compress, CompressionAlgo};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use poem_openapi::payload::Json;
use tokio::time::Instant;

use crate::api::error::{ErrorBody, ErrorCode};
use crate::state::AppState;

/// The largest JSON or webhook body: a join request with long answers is a few KB, and Twilio's
/// webhooks are form posts of a few KB (a message body is at most 1,600 characters).
pub const MAX_BODY: usize = 64 * 1024;
/// How long an import's upload may take: 16 MiB at about 1 Mbit/s.
pub const IMPORT_READ: Duration = Duration::from_secs(150);

/// Bounds every request body before the route sees it (see the module docs).
pub async fn bound_requests<E: Endpoint<Output = Response>>(
    next: E,
    mut request: Request,
) -> poem::Result<Response> {
    let read_timeout = match request.data::<AppState>() {
        Some(state) => state.settings.request_read_timeout(),
        None => Duration::from_secs(10),
    };
    // The import inflates a compressed body itself.
    if is_import(&request) {
        let deadline = Instant::now() + IMPORT_READ;
        let body = request.take_body();
        request.set_body(with_deadline(body, deadline));
        return next.call(request).await;
    }
    let encoding = request
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|value| value.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    if encoding.is_some_and(|encoding| !encoding.is_empty() && encoding != "identity") {
        return Ok(crate::api::error::unsupported_encoding(
            "Send the body uncompressed: no `Content-Encoding` is accepted here.",
            "identity",
        ));
    }
    // Pictures, bounded by their routes, have the import's time to arrive.
    if is_picture_upload(&request) || is_sandbox_picture(&request) {
        let deadline = Instant::now() + IMPORT_READ;
        let body = request.take_body();
        request.set_body(with_deadline(body, deadline));
        return next.call(request).await;
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        return Ok(too_large());
    }
    let deadline = Instant::now() + read_timeout;
    let mut chunks = request.take_body().into_bytes_stream();
    let mut body = BytesMut::new();
    loop {
        match tokio::time::timeout_at(deadline, chunks.next()).await {
            Err(_) => {
                return Ok(refusal(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorCode::RequestTimeout,
                    "The request body arrived too slowly.",
                ));
            }
            Ok(None) => break,
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Ok(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Some(Err(error))) => {
                return Ok(refusal(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadRequest,
                    &format!("The request body could not be read: {error}"),
                ));
            }
        }
    }
    request.set_body(Body::from_bytes(body.freeze()));
    next.call(request).await
}

/// How long a client refused by a full budget is asked to wait: places free up as requests
/// finish, and a held body gives up its place within `NT_REQUEST_READ_SECS`.
const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// Serves the request within its route's budget of requests in flight, or refuses it with 503
/// and `Retry-After` when that budget is used up (see the module docs).
pub async fn within_budget<E: Endpoint<Output = Response>>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let Some(state) = request.data::<AppState>() else {
        return next.call(request).await;
    };
    let path = request.uri().path();
    // The probes stay outside any budget: a proxy that saw `/ready` refused would take the
    // instance, and its webhooks with it, out of rotation. A probe has no body; one that comes
    // with a body (which may trickle in) is counted like any public request.
    let bodiless = !request.headers().contains_key(header::TRANSFER_ENCODING)
        && request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_none_or(|length| length.as_bytes() == b"0");
    if bodiless && (path == "/health" || path == "/ready") {
        return next.call(request).await;
    }
    // The emulated Twilio and its phones (sandbox mode, never on a public host: finding 5) are
    // the service's own dependency: a refusal there would be an answer Twilio never gives.
    if path.starts_with("/sandbox/") {
        return next.call(request).await;
    }
    let (budget, setting) = if path.starts_with("/webhooks/twilio/") {
        (&state.budgets.webhooks, "NT_MAX_WEBHOOK_REQUESTS")
    } else {
        (&state.budgets.public, "NT_MAX_PUBLIC_REQUESTS")
    };
    let Ok(_place) = budget.clone().try_acquire_owned() else {
        // Not a warning: a flood would flood the logs too; `/metrics` counts the 503s.
        tracing::debug!(setting, "request refused: the instance is at its budget");
        let mut response = refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Busy,
            &format!(
                "This instance is serving as many requests as it may ({setting}); try again in a moment."
            ),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(BUSY_RETRY_AFTER_SECS),
        );
        return Ok(response);
    };
    next.call(request).await
}

/// `POST /api/v1/neighborhoods/{id}/import`, the one route with a large (and compressible) body.
fn is_import(request: &Request) -> bool {
    let segments: Vec<&str> = request.uri().path().split('/').collect();
    request.method() == Method::POST
        && matches!(
            segments.as_slice(),
            ["", "api", "v1", "neighborhoods", _, "import"]
        )
}

/// The sandbox's routes that carry pictures: an upload to its Media Content Service and a
/// simulated phone's message. The emulator bounds their bodies itself (as Twilio and a carrier
/// would), above our 64 KiB; they exist only in sandbox mode.
fn is_sandbox_picture(request: &Request) -> bool {
    let segments: Vec<&str> = request.uri().path().split('/').collect();
    request.method() == Method::POST
        && matches!(
            segments.as_slice(),
            ["", "sandbox", "twilio", "mcs", "v1", "Services", _, "Media"]
                | ["", "sandbox", "api", "phones", _, "messages"]
        )
}

/// `POST /api/v1/neighborhoods/{id}/pictures`: a picture of up to 5 MB, bounded by the route.
fn is_picture_upload(request: &Request) -> bool {
    let segments: Vec<&str> = request.uri().path().split('/').collect();
    request.method() == Method::POST
        && matches!(
            segments.as_slice(),
            ["", "api", "v1", "neighborhoods", _, "pictures"]
        )
}

/// The body, failing with `TimedOut` once `deadline` passes, however slowly bytes still come.
fn with_deadline(body: Body, deadline: Instant) -> Body {
    let chunks = body.into_bytes_stream();
    let stream = futures::stream::unfold(Some(chunks), move |chunks| async move {
        let mut chunks = chunks?;
        match tokio::time::timeout_at(deadline, chunks.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(chunks))),
            Ok(None) => None,
            Err(_) => Some((
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the upload arrived too slowly",
                )),
                None,
            )),
        }
    });
    Body::from_bytes_stream(stream)
}

fn too_large() -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        &format!("The request body is larger than {} KiB.", MAX_BODY / 1024),
    )
}

fn refusal(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let mut response = Json(ErrorBody {
        code,
        message: message.to_owned(),
        details: Vec::new(),
    })
    .into_response();
    response.set_status(status);
    // The body may be unread: the connection cannot carry another request.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Compresses responses for clients that accept it (brotli, then gzip, then deflate).
pub async fn compress_responses<E: Endpoint<Output = Response>>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let algo = negotiate(request.headers());
    let response = next.call(request).await?;
    let compressed = response.headers().contains_key(header::CONTENT_ENCODING);
    Ok(match algo {
        Some(algo) if !compressed => Compress::new(response, algo).into_response(),
        _ => response,
    })
}

/// The best coding `Accept-Encoding` allows, by its q-values and then our preference.
fn negotiate(headers: &poem::http::HeaderMap) -> Option<CompressionAlgo> {
    let preference = |algo: CompressionAlgo| match algo {
        CompressionAlgo::BR => 3,
        CompressionAlgo::GZIP => 2,
        CompressionAlgo::DEFLATE => 1,
        CompressionAlgo::ZSTD => 0,
    };
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let algo = CompressionAlgo::from_str(&parts.next()?.to_ascii_lowercase()).ok()?;
            let quality = parts
                .find_map(|param| param.strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())?;
            (quality > 0.0).then_some((algo, (quality * 1000.0) as u32))
        })
        .max_by_key(|(algo, quality)| (*quality, preference(*algo)))
        .map(|(algo, _)| algo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> poem::http::HeaderMap {
        let mut headers = poem::http::HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn the_best_accepted_coding_is_chosen() {
        assert_eq!(
            negotiate(&accepting("gzip, deflate, br")),
            Some(CompressionAlgo::BR)
        );
        assert_eq!(
            negotiate(&accepting("br;q=0.5, gzip")),
            Some(CompressionAlgo::GZIP)
        );
        assert_eq!(negotiate(&accepting("br;q=0, identity")), None);
        assert_eq!(negotiate(&poem::http::HeaderMap::new()), None);
    }
}
