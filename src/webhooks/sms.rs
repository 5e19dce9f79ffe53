//! The number's own SMS webhook (`SmsUrl`): texts from people outside the group. Strangers get
//! join instructions, `JOIN Name` files a request, START after STOP asks back in. Members' texts,
//! which Twilio reports here as well as in the Conversation, get nothing (no double handling).
//! Every text arriving here is counted in the cost ledger as inbound segments.

use poem::web::Data;
use poem::{Body, Request, Response, handler};
use uuid::Uuid;

use super::{Once, delivery_marks, in_progress, once, param, receive, store_failed};
use crate::domain::join_request::JoinState;
use crate::domain::keywords::Keyword;
use crate::domain::member::{DisplayName, MemberStatus};
use crate::domain::neighborhood::JoinPolicy;
use crate::domain::phone::Phone;
use crate::domain::segments;
use crate::services::costs;
use crate::services::joining::{self, Asked, Asking, DecisionError, FileError};
use crate::services::neighborhoods::{self, NeighborhoodError};
use crate::services::texts;
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
        // it in the number's Messages log, where the backfill reads it again once Redis is
        // back (and Twilio retries it when the number's webhook asks for retries).
        Err(error) => {
            tracing::error!(%error, "inbound SMS could not be handled");
            store_failed(error)
        }
    }
}

/// Acts on a text to a neighborhood number, once however often it is delivered, and queues the
/// reply, if it calls for one. Replies go through the outbox like every other text (retried,
/// and under the account's limits), so Twilio gets empty TwiML.
async fn answer(
    state: &AppState,
    request: &Request,
    params: &[(String, String)],
) -> Result<Once, StoreError> {
    let (Ok(from), Ok(to)) = (
        Phone::parse(param(params, "From")),
        Phone::parse(param(params, "To")),
    ) else {
        return Ok(Once::Acted);
    };
    let Some(neighborhood_id) = state.store.neighborhood_of_number(&to).await? else {
        return Ok(Once::Acted);
    };
    count_inbound(state, neighborhood_id, params).await;
    // The signed MessageSid as well as the unsigned token: Twilio repeats a text with a new
    // token but its sid, and a replay may change the token at will.
    let message_sid = param(params, "MessageSid");
    let marks = delivery_marks(
        request,
        (!message_sid.is_empty()).then(|| format!("sms:{message_sid}")),
    );
    if marks.is_empty() {
        act(state, neighborhood_id, &from, params).await?;
        return Ok(Once::Acted);
    }
    once(state, neighborhood_id, &marks, || {
        act(state, neighborhood_id, &from, params)
    })
    .await
}

/// Files what the text asks and queues its reply. Only Redis failing is an error: a request
/// the rules refuse (a blocked phone, a cap reached) is an answer, given once.
async fn act(
    state: &AppState,
    neighborhood_id: Uuid,
    from: &Phone,
    params: &[(String, String)],
) -> Result<(), StoreError> {
    let reply = match sms_reply(state, neighborhood_id, from, params).await {
        Ok(reply) => reply,
        Err(FileError::Store(error) | FileError::Decision(DecisionError::Store(error))) => {
            return Err(error);
        }
        Err(refused) => {
            tracing::warn!(error = %refused, "an inbound text's request was refused");
            None
        }
    };
    if let Some(reply) = reply {
        texts::queue_text(state, neighborhood_id, from, reply).await?;
    }
    Ok(())
}

/// Counts the text in the cost ledger. Twilio calls this webhook for every text to the number,
/// members' group messages included, so this is where each inbound text is counted, once (by its
/// sid), with the segments Twilio reports. A failure is logged: the reply matters more.
async fn count_inbound(state: &AppState, neighborhood_id: Uuid, params: &[(String, String)]) {
    let segments = param(params, "NumSegments")
        .parse::<u64>()
        .unwrap_or_else(|_| u64::from(segments::count(param(params, "Body")).1));
    let event = format!("in:{}", param(params, "MessageSid"));
    let charge = costs::Charge::text_in(segments);
    if let Err(error) = costs::record(state, neighborhood_id, Some(&event), charge).await {
        tracing::warn!(%error, "an inbound text was not counted in the cost ledger");
    }
}

/// What a text to a neighborhood number gets back. Members' texts are carried by the
/// Conversation (Twilio calls this webhook for them too), so they get nothing here.
async fn sms_reply(
    state: &AppState,
    neighborhood_id: Uuid,
    from: &Phone,
    params: &[(String, String)],
) -> Result<Option<String>, FileError> {
    let neighborhood = match neighborhoods::active(state, neighborhood_id).await {
        Ok(neighborhood) => neighborhood,
        Err(NeighborhoodError::Store(error)) => return Err(error.into()),
        // Archived: the group text has ended, and nobody is asked to join it.
        Err(NeighborhoodError::NotFound | NeighborhoodError::Archived) => return Ok(None),
    };
    let member = state.store.member_by_phone(neighborhood_id, from).await?;
    if member
        .as_ref()
        .is_some_and(|m| m.status == MemberStatus::Active)
    {
        return Ok(None);
    }
    let uninvited = neighborhood.join_policy == JoinPolicy::InviteOnly
        && !state.store.was_invited(neighborhood_id, from).await?;
    let name = neighborhood.name.as_str();
    let link = state.public_url(&format!("join/{}", neighborhood.slug.as_str()));
    Ok(match Keyword::parse(param(params, "Body")) {
        // Twilio itself answers the opt-out family.
        Some(Keyword::Stop | Keyword::Help) => None,
        // Paused by a captain: a JOIN or anything else does not bring them back; a resume does.
        _ if member
            .as_ref()
            .is_some_and(|m| m.status == MemberStatus::Paused) =>
        {
            Some(format!(
                "You are paused in the {name} group text, so your texts do not reach it. A captain can resume you."
            ))
        }
        // A member's LEAVE is carried out by the Conversation's pre-event webhook, which may have
        // run before this one: they get "You left ..." from there, not join instructions here.
        Some(Keyword::Leave)
            if member
                .as_ref()
                .is_some_and(|m| m.status == MemberStatus::Left) =>
        {
            None
        }
        Some(Keyword::Start)
            if member
                .as_ref()
                .is_some_and(|m| m.status == MemberStatus::OptedOut) =>
        {
            let Some(former) = member else {
                return Ok(None);
            };
            let asking = Asking {
                phone: from.clone(),
                name: former.display_name,
                address: None,
                answers: Default::default(),
                asked: Asked::Back {
                    message_sid: param(params, "MessageSid").to_owned(),
                },
            };
            let request = match joining::file(state, &neighborhood, asking).await {
                Err(FileError::Blocked) => return Ok(Some(joining::blocked_note(name))),
                filed => filed?,
            };
            Some(if request.state == JoinState::Approved {
                format!("Welcome back to {name}! You are in the group text again.")
            } else {
                format!("Welcome back! Your request to rejoin {name} is with the captains.")
            })
        }
        Some(Keyword::Join(_)) if uninvited => Some(format!(
            "{name} takes new members by invitation only: ask a captain for an invite."
        )),
        Some(Keyword::Join(Some(requested))) => match DisplayName::parse(&requested) {
            Ok(display) => {
                let asking = Asking {
                    phone: from.clone(),
                    name: display,
                    address: None,
                    answers: Default::default(),
                    asked: Asked::Text {
                        message_sid: param(params, "MessageSid").to_owned(),
                    },
                };
                let request = match joining::file(state, &neighborhood, asking).await {
                    Err(FileError::Blocked) => return Ok(Some(joining::blocked_note(name))),
                    filed => filed?,
                };
                // Under the open policy the welcome text follows from the outbox.
                (request.state != JoinState::Approved).then(|| format!(
                    "Thanks, {}! Your request to join {name} is with the captains; you will get a text when you are in.",
                    request.name.as_str()
                ))
            }
            Err(_) => Some(format!(
                "Reply JOIN followed by your name (up to {} characters), like: JOIN Ana R.",
                DisplayName::MAX_CHARS
            )),
        },
        Some(Keyword::Join(None)) => {
            Some("Reply JOIN followed by your name, like: JOIN Ana R.".to_owned())
        }
        _ if uninvited => Some(format!(
            "This number is the {name} neighborhood group text, by invitation only: ask a captain for an invite."
        )),
        _ => Some(format!(
            "This number is the {name} neighborhood group text. To join, visit {link} or reply JOIN followed by your name."
        )),
    })
}

/// TwiML that sends nothing back.
fn empty_twiml() -> Response {
    Response::builder()
        .content_type("text/xml")
        .body(r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#)
}
