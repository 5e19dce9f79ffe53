//! Twilio-facing endpoints: `/webhooks/twilio/conversations/pre`, `/post` and `/sms`.
//!
//! Every request must carry a valid `X-Twilio-Signature`, checked against the URL Twilio called as
//! rebuilt from `NT_PUBLIC_URL` (TLS ends at a proxy, so the request's own scheme and host are not
//! what Twilio signed). An unsigned or forged request gets 403 and nothing else happens.
//!
//! The pre-event webhook signs every group message with its author's name, keeps keywords
//! (LEAVE, STOP...) and non-members' texts out of the group, and acts on LEAVE and STOP. The SMS
//! webhook answers people outside the group: join instructions, or a join request for
//! `JOIN Name`, or a rejoin request for START after STOP. Captain commands come later.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, Route, handler, post};

use crate::domain::join_request::JoinState;
use crate::domain::member::{DisplayName, MemberStatus};
use crate::domain::neighborhood::{JoinPolicy, NeighborhoodState};
use crate::domain::phone::Phone;
use crate::joining::DecisionError;
use crate::membership::{self, Keyword};
use crate::state::AppState;
use crate::store::StoreError;
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
    let params = match receive(&state, request, body).await {
        Ok(params) => params,
        Err(status) => return status.into_response(),
    };
    if param(&params, "EventType") != "onMessageAdd" {
        return StatusCode::OK.into_response();
    }
    match pre_message(&state, &params).await {
        Ok(answer) => answer,
        Err(error) => {
            // Failing open is Twilio's rule too: a broken check must not silence the group.
            tracing::error!(%error, "pre-event webhook failed; the message goes out unchanged");
            StatusCode::OK.into_response()
        }
    }
}

/// Decides what a member's text becomes: the group sees it signed with their name; keywords and
/// texts from non-members are kept out of the group (a 4xx tells Twilio not to publish).
async fn pre_message(
    state: &AppState,
    params: &[(String, String)],
) -> Result<Response, StoreError> {
    let refuse = || StatusCode::FORBIDDEN.into_response();
    let Some(neighborhood_id) = state
        .store
        .neighborhood_of_conversation(param(params, "ConversationSid"))
        .await?
    else {
        return Ok(StatusCode::OK.into_response());
    };
    let Ok(author) = Phone::parse(param(params, "Author")) else {
        return Ok(refuse());
    };
    let Some(member) = state
        .store
        .member_by_phone(neighborhood_id, &author)
        .await?
    else {
        return Ok(refuse());
    };
    if member.status != MemberStatus::Active {
        return Ok(refuse());
    }
    let body = param(params, "Body");
    match Keyword::parse(body) {
        Some(Keyword::Leave) => {
            // Read only here: every other message is answered without it (Twilio is waiting).
            if let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? {
                membership::leave(state, &neighborhood, &member).await?;
            }
            Ok(refuse())
        }
        Some(Keyword::Stop) => {
            membership::opt_out_everywhere(state, &author).await?;
            Ok(refuse())
        }
        // Twilio answers START and HELP itself.
        Some(Keyword::Start | Keyword::Help) => Ok(refuse()),
        // JOIN is a keyword for strangers only: "join us at 7" from a member is a message.
        Some(Keyword::Join(_)) | None => {
            let signed =
                serde_json::json!({"body": format!("{}: {body}", member.display_name.as_str())});
            Ok(Json(signed).into_response())
        }
    }
}

#[handler]
async fn conversations_post(state: Data<&AppState>, request: &Request, body: Body) -> Response {
    match receive(&state, request, body).await {
        Ok(params) => {
            tracing::debug!(
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
    let params = match receive(&state, request, body).await {
        Ok(params) => params,
        Err(status) => return status.into_response(),
    };
    let reply = match sms_reply(&state, &params).await {
        Ok(reply) => reply,
        Err(error) => {
            tracing::error!(%error, "inbound SMS could not be handled");
            None
        }
    };
    twiml(reply.as_deref())
}

/// What a text to a neighborhood number gets back. Members' texts are carried by the
/// Conversation (Twilio calls this webhook for them too), so they get nothing here.
async fn sms_reply(
    state: &AppState,
    params: &[(String, String)],
) -> Result<Option<String>, DecisionError> {
    let (Ok(from), Ok(to)) = (
        Phone::parse(param(params, "From")),
        Phone::parse(param(params, "To")),
    ) else {
        return Ok(None);
    };
    let Some(neighborhood_id) = state.store.neighborhood_of_number(&to).await? else {
        return Ok(None);
    };
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(None);
    };
    if neighborhood.state == NeighborhoodState::Archived {
        return Ok(None);
    }
    let member = state.store.member_by_phone(neighborhood_id, &from).await?;
    if member
        .as_ref()
        .is_some_and(|m| m.status == MemberStatus::Active)
    {
        return Ok(None);
    }
    let uninvited = neighborhood.join_policy == JoinPolicy::InviteOnly
        && !state.store.was_invited(neighborhood_id, &from).await?;
    let name = neighborhood.name.as_str();
    let link = state.public_url(&format!("join/{}", neighborhood.slug.as_str()));
    Ok(match Keyword::parse(param(params, "Body")) {
        // Twilio itself answers the opt-out family.
        Some(Keyword::Stop | Keyword::Help) => None,
        Some(Keyword::Start)
            if member
                .as_ref()
                .is_some_and(|m| m.status == MemberStatus::OptedOut) =>
        {
            let Some(former) = member else {
                return Ok(None);
            };
            let request = membership::request_by_text(
                state,
                &neighborhood,
                &from,
                former.display_name,
                param(params, "MessageSid"),
            )
            .await?;
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
                let request = membership::request_by_text(
                    state,
                    &neighborhood,
                    &from,
                    display,
                    param(params, "MessageSid"),
                )
                .await?;
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

/// A TwiML answer, with one `<Message>` when there is a reply.
fn twiml(reply: Option<&str>) -> Response {
    let body = match reply {
        Some(text) => {
            let escaped = text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escaped}</Message></Response>"#
            )
        }
        None => r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#.to_owned(),
    };
    Response::builder().content_type("text/xml").body(body)
}
