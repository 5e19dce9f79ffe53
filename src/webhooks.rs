//! Twilio-facing endpoints: `/webhooks/twilio/conversations/pre`, `/post` and `/sms`.
//!
//! Every request must carry a valid `X-Twilio-Signature`, checked against the URL Twilio called as
//! rebuilt from `NT_PUBLIC_URL` (TLS ends at a proxy, so the request's own scheme and host are not
//! what Twilio signed). An unsigned or forged request gets 403 and nothing else happens.
//!
//! For now the handlers accept what Twilio sends and change nothing: the pre-event answer is
//! empty, which tells Twilio to publish the message as it is; the SMS answer is an empty TwiML
//! response. Names on messages, keywords and commands build on these endpoints.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, Route, handler, post};

use crate::state::AppState;
use crate::twilio::signature;

pub fn routes() -> Route {
    Route::new()
        .at("/conversations/pre", post(conversations_pre))
        .at("/conversations/post", post(conversations_post))
        .at("/sms", post(inbound_sms))
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
    let params: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    if signature::verify(token.expose(), &url, &params, signature) {
        Some(params)
    } else {
        tracing::warn!(url, "webhook with an invalid X-Twilio-Signature refused");
        None
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

/// Reads and verifies a webhook request: its form parameters, or the 403 to answer.
async fn receive(
    state: &AppState,
    request: &Request,
    body: Body,
) -> Result<Vec<(String, String)>, StatusCode> {
    let body = body.into_bytes().await.unwrap_or_default();
    verified_params(state, request, &body).ok_or(StatusCode::FORBIDDEN)
}

#[handler]
async fn conversations_pre(state: Data<&AppState>, request: &Request, body: Body) -> Response {
    match receive(&state, request, body).await {
        Ok(params) => {
            tracing::info!(
                event = param(&params, "EventType"),
                conversation_sid = param(&params, "ConversationSid"),
                "pre-event webhook"
            );
            // An empty 200 tells Twilio to publish the message unchanged.
            StatusCode::OK.into_response()
        }
        Err(status) => status.into_response(),
    }
}

#[handler]
async fn conversations_post(state: Data<&AppState>, request: &Request, body: Body) -> Response {
    match receive(&state, request, body).await {
        Ok(params) => {
            tracing::info!(
                event = param(&params, "EventType"),
                conversation_sid = param(&params, "ConversationSid"),
                "post-event webhook"
            );
            StatusCode::OK.into_response()
        }
        Err(status) => status.into_response(),
    }
}

#[handler]
async fn inbound_sms(state: Data<&AppState>, request: &Request, body: Body) -> Response {
    match receive(&state, request, body).await {
        Ok(params) => {
            tracing::info!(
                message_sid = param(&params, "MessageSid"),
                to = param(&params, "To"),
                "inbound SMS webhook"
            );
            Response::builder()
                .content_type("text/xml")
                .body(r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#)
        }
        Err(status) => status.into_response(),
    }
}
