//! Middleware: with `NT_REDIS_WAIT_REPLICAS` set, a request that changed something is answered
//! only once that many Redis replicas hold its changes, so what the service acknowledged (an
//! approval, a queued text, a recorded group message) survives a failover. Redis replicates
//! asynchronously: without this, a primary that dies can take its last moments of writes with it.
//!
//! One `WAIT` after the handler, whatever it wrote: `WAIT` covers every write sent before it over
//! the shared connection (to each primary, on a cluster), this request's included.

use poem::http::Method;
use poem::{Endpoint, Request, Response};

use crate::state::AppState;

pub async fn acknowledge_when_replicated<E: Endpoint<Output = Response>>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let state = request.data::<AppState>().cloned();
    let reads_only = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // The emulated Twilio (sandbox mode) stands for Twilio, whose durability is not ours to
    // vouch for; a 503 there would have the service retry a purchase that went through.
    let emulated = request.uri().path().starts_with("/sandbox/");
    // The pre-event webhook decides whether Twilio delivers a text, within Twilio's 5 s, and
    // fails open: a 503 from it would stop a neighbor's text rather than protect a change.
    let decides_delivery = request.uri().path() == "/webhooks/twilio/conversations/pre";
    let response = next.call(request).await?;
    let Some(state) = state else {
        return Ok(response);
    };
    if reads_only || emulated || decides_delivery || !response.status().is_success() {
        return Ok(response);
    }
    match state.store.wait_for_replicas().await {
        Ok(()) => Ok(response),
        Err(error) => Ok(crate::api::error::store_refusal(&error).unwrap_or_else(|| {
            // Redis refused WAIT itself (an ACL without it, say): the change stands as made.
            tracing::error!(%error, "could not wait for Redis replicas");
            response
        })),
    }
}
