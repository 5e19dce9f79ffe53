//! Twilio-facing endpoints: `/webhooks/twilio/conversations/pre`, `/post` and `/sms`.
//!
//! Every request must carry a valid `X-Twilio-Signature`, checked against the URL Twilio called as
//! rebuilt from `NT_PUBLIC_URL` (TLS ends at a proxy, so the request's own scheme and host are not
//! what Twilio signed). An unsigned or forged request gets 403 and nothing else happens.
//!
//! `pre` signs every group message with its author's name and keeps keywords, captain commands
//! and other texts that are not for the group out of it; `sms` answers people outside the group.
//! A delivery Twilio repeats (same `I-Twilio-Idempotency-Token`) is acted on once.
//!
//! Repeats (issue 18, F5). `sms` and post-event deliveries are claimed in Redis, across
//! instances, under every name Twilio repeats them by: the idempotency token and the message's
//! (or receipt's) sid, which Twilio keeps when it sends the same message again with a new token.
//! A repeat is answered as the first was (waiting briefly if the first is still being acted on)
//! and acted on never again; a first attempt that failed lets the claim go, so the retry acts.
//! The pre-event webhook keeps its own one-round-trip check (`Store::message_context`).
//!
//! Redis down or full. `sms` and post-event answer 503 with `Retry-After` in the one error shape
//! (see [`store_failed`]): Twilio keeps every inbound text in its Messages log and every group
//! message in the Conversation, so a text we could not take is re-read from there (the backfill)
//! or redelivered, rather than acknowledged with 200 and lost. The pre-event webhook instead fails
//! open within its deadline (see `pre`): Twilio holds the group message until it answers.
//!
//! Replays (security review, finding 21). Twilio's signature covers the URL and the form
//! parameters, not the headers, and has no timestamp: a captured request stays valid for ever,
//! and its idempotency token can be changed at will. What can be refused is refused on signed
//! fields only:
//! - post-event: every event carries a signed `DateCreated` (and `DateUpdated`); one outside
//!   [`REPLAY_WINDOW`] is refused (403). Messages are also acted on once per `MessageSid`.
//! - `sms`: the signed `MessageSid` is acted on once (for `DELIVERY_MEMORY`), whatever the token.
//! - pre-event (`onMessageAdd`): Twilio sends neither a time nor a message id before the message
//!   exists, so nothing signed tells a replay from the captain texting the same words again. We
//!   do not dedupe on the words (a captain who mutes, unmutes and mutes Bob must be obeyed), so a
//!   captured command can be replayed by whoever can read our TLS traffic or Twilio's requests.
//!   That needs a break of TLS or of a logging proxy in front of us; it is the residual risk.

use poem::EndpointExt;
use poem::http::StatusCode;
use poem::{Body, IntoResponse, Request, Response, Route, post};

use crate::api::error::{AnyStatus, ApiError, ErrorBody, ErrorCode, ErrorResponse};
use crate::state::AppState;
use crate::store::StoreError;
use crate::twilio::signature;

mod commands;
mod post;
mod pre;
mod sms;

/// Twilio's webhooks. The names the pre-event webhook signed with lately live here, per
/// instance, for answering when Redis is slow.
pub fn routes() -> Route {
    Route::new()
        .at(
            "/conversations/pre",
            post(pre::conversations_pre).data(pre::RecentAuthors::default()),
        )
        .at("/conversations/post", post(post::conversations_post))
        .at("/sms", post(sms::inbound_sms))
}

/// The form parameters of a request whose signature is valid; `None` means answer 403.
fn verified_params(
    state: &AppState,
    request: &Request,
    body: &[u8],
) -> Option<Vec<(String, String)>> {
    let Some(token) = state
        .twilio
        .as_ref()
        .and_then(|twilio| twilio.webhook_auth_token.as_ref())
    else {
        tracing::error!(
            "a Twilio webhook arrived but no Auth Token is configured to check its signature (NT_TWILIO_AUTH_TOKEN)"
        );
        return None;
    };
    let Some(signature) = request
        .headers()
        .get("X-Twilio-Signature")
        .and_then(|value| value.to_str().ok())
    else {
        tracing::warn!(
            path = request.uri().path(),
            "webhook without X-Twilio-Signature refused"
        );
        return None;
    };
    // The path as Twilio called it, before routing stripped the `/webhooks/twilio` prefix.
    let path_and_query = request
        .original_uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str());
    let url = format!(
        "{}{path_and_query}",
        state.settings.public_url.as_str().trim_end_matches('/')
    );
    let json = request
        .content_type()
        .is_some_and(|kind| kind.starts_with("application/json"));
    let (params, valid) = if json {
        // JSON bodies are signed through the `bodySHA256` query parameter instead.
        let params = json_params(body);
        let valid = signature::verify_json(token.expose(), &url, body, signature);
        (params, valid)
    } else {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let valid = signature::verify(token.expose(), &url, &params, signature);
        (params, valid)
    };
    if valid {
        Some(params)
    } else {
        tracing::warn!(url, "webhook with an invalid X-Twilio-Signature refused");
        None
    }
}

/// A JSON object body's top-level fields as parameters (strings as they are, others as JSON).
fn json_params(body: &[u8]) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => (name, text),
            other => (name, other.to_string()),
        })
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

/// How old a post-event may be: Twilio sends at once and retries (when asked to) within minutes.
pub const REPLAY_WINDOW: time::Duration = time::Duration::hours(1);

/// Reads and verifies a webhook request: its form parameters, or the 403 to answer. The body was
/// bounded (size and time) by `crate::limits` before it got here; the limit below is a second
/// guard, so this read can never grow past it whatever the routing.
async fn receive(
    state: &AppState,
    request: &Request,
    body: Body,
) -> Result<Vec<(String, String)>, Response> {
    let Ok(body) = body.into_bytes_limit(crate::limits::MAX_BODY).await else {
        return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    };
    verified_params(state, request, &body).ok_or_else(|| StatusCode::FORBIDDEN.into_response())
}

/// Whether a post-event's signed `DateCreated`/`DateUpdated` (the later) lies outside
/// [`REPLAY_WINDOW`] of now: a replay of an old capture. An event without a readable date is
/// let through (the other guards still apply).
fn replayed(params: &[(String, String)], now: time::OffsetDateTime) -> bool {
    let format = &time::format_description::well_known::Rfc3339;
    let latest = ["DateUpdated", "DateCreated"]
        .iter()
        .filter_map(|name| time::OffsetDateTime::parse(param(params, name), format).ok())
        .max();
    latest.is_some_and(|at| (now - at).abs() > REPLAY_WINDOW)
}

/// Twilio's `I-Twilio-Idempotency-Token`: the same on every retry of one delivery.
fn delivery_token(request: &Request) -> Option<String> {
    request
        .headers()
        .get("I-Twilio-Idempotency-Token")
        .and_then(|value| value.to_str().ok())
        .filter(|token| !token.is_empty() && token.len() <= 128)
        .map(str::to_owned)
}

/// The names a delivery is claimed by: Twilio's idempotency token, when it sent one, and
/// `event`, a name Twilio keeps on a repeat with a new token (`sms:<MessageSid>`).
fn delivery_marks(request: &Request, event: Option<String>) -> Vec<String> {
    delivery_token(request)
        .map(|token| format!("token:{token}"))
        .into_iter()
        .chain(event)
        .collect()
}

/// The answer to a webhook Redis failed for: 503 with `Retry-After` when it is down or full (ask
/// again later), 500 otherwise, in the one error shape. Either way the event is in Twilio's
/// records, so the backfill is called for: it reads them back once Redis answers again.
fn store_failed(state: &AppState, error: StoreError) -> Response {
    state.backfill.turned_away_one();
    poem::Error::from(ApiError::<AnyStatus>::from(error)).into_response()
}

/// The answer to a delivery another request is still acting on: ask again shortly.
fn in_progress() -> Response {
    poem::Error::from(ApiError::<AnyStatus>::from(ErrorResponse::Unavailable(
        poem_openapi::payload::Json(ErrorBody {
            code: ErrorCode::Conflict,
            message: "This delivery is being handled by another request; ask again shortly."
                .to_owned(),
            details: Vec::new(),
        }),
        Some(1),
    )))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_event_older_than_the_window_is_a_replay() {
        let now = time::macros::datetime!(2026-05-01 12:00 UTC);
        let at = |date: &str| vec![("DateCreated".to_owned(), date.to_owned())];
        assert!(!replayed(&at("2026-05-01T11:30:00.000Z"), now));
        assert!(replayed(&at("2026-05-01T10:30:00Z"), now));
        assert!(replayed(&at("2026-05-01T14:00:00Z"), now));
        assert!(!replayed(&[], now));
    }
}
