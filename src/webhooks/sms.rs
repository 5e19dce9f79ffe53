//! The number's own SMS webhook (`SmsUrl`): texts from people outside the group. Strangers get
//! join instructions, `JOIN Name` files a request, START after STOP asks back in. Members' texts,
//! which Twilio reports here as well as in the Conversation, get nothing (no double handling).
//! Every text arriving here is counted in the cost ledger as inbound segments. The rules live in
//! `crate::services::inbound`, which the backfill calls too.

use poem::web::Data;
use poem::{Body, Request, Response, handler};

use super::{delivery_marks, in_progress, param, receive, store_failed};
use crate::domain::channel::Channel;
use crate::services::deliveries::Once;
use crate::services::inbound::{self, InboundText};
use crate::state::AppState;
use crate::store::StoreError;

#[handler]
pub(super) async fn inbound_sms(state: Data<&AppState>, request: &Request, body: Body) -> Response {
    let params = match receive(&state, request, body).await {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    match answer(&state, request, &params).await {
        Ok(Once::Acted | Once::Repeat) => empty_twiml(),
        Ok(Once::InProgress) => in_progress(),
        // Not 200: a text we could not act on must not be acknowledged as taken. Twilio keeps
        // it in the number's Messages log, where the backfill (`jobs::backfill`) reads it again
        // once Redis is back and acts on it under the same `sms:` claim, once (and Twilio
        // retries it when the number's webhook asks for retries).
        Err(error) => {
            tracing::error!(%error, "inbound SMS could not be handled");
            store_failed(&state, error)
        }
    }
}

/// Acts on a text to a neighborhood number, once however often it is delivered (or re-read by
/// the backfill), through the one function both call.
async fn answer(
    state: &AppState,
    request: &Request,
    params: &[(String, String)],
) -> Result<Once, StoreError> {
    // On WhatsApp both are `whatsapp:+E164`, and `To` is a neighborhood's WhatsApp sender.
    let (Some((channel, from)), Some((to_channel, to))) = (
        Channel::of_address(param(params, "From")),
        Channel::of_address(param(params, "To")),
    ) else {
        return Ok(Once::Acted);
    };
    let neighborhood_id = match to_channel {
        Channel::Sms => state.store.neighborhood_of_number(&to).await?,
        Channel::Whatsapp => state.store.neighborhood_of_whatsapp_sender(&to).await?,
    };
    let Some(neighborhood_id) = neighborhood_id.filter(|_| channel == to_channel) else {
        return Ok(Once::Acted);
    };
    let text = InboundText {
        sid: param(params, "MessageSid"),
        channel,
        from: &from,
        body: param(params, "Body"),
        segments: param(params, "NumSegments").parse().ok(),
    };
    // The signed MessageSid as well as the unsigned token: Twilio repeats a text with a new
    // token but its sid, and a replay may change the token at will.
    let marks = delivery_marks(request, text.mark());
    inbound::received(state, neighborhood_id, &text, &marks).await
}

/// TwiML that sends nothing back.
fn empty_twiml() -> Response {
    Response::builder()
        .content_type("text/xml")
        .body(r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#)
}
