//! The pre-event `onMessageAdd` webhook: Twilio holds every group message until we answer, so
//! this is the hot path. One Redis round trip in the common case (the Conversation's
//! neighborhood is cached in-process; the author, the neighborhood and the delivery mark come in
//! one script), and a deadline well inside Twilio's 5 s.
//!
//! The answer: the body signed with the author's name (`Ana R.: see you at 7`), or a rejection
//! (4xx: nothing is published) for keywords, captain commands, muted members, members' texts in
//! an announcements-only neighborhood (forwarded to the captains instead), pictures the group
//! does not take (too many, too large, not a picture: the sender is told) and non-members.
//!
//! Past the deadline we fail open, as Twilio itself would at 5 s, but sooner and better: the
//! work carries on in the background (a LEAVE is still carried out), keywords and commands are
//! still kept out of the group (recognizing them needs no Redis), and a message is signed with
//! the author's name if this instance has seen it recently; otherwise it goes out unsigned rather
//! than being lost.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::commands::{self, CaptainCommand};
use super::{delivery_token, param, receive};
use crate::domain::channel::Channel;
use crate::domain::keywords::{Keyword, asks_to_read};
use crate::domain::media::{self, MediaRefusal};
use crate::domain::member::{Member, MemberStatus, Role};
use crate::domain::neighborhood::{Mode, Neighborhood};
use crate::i18n;
use crate::services::{members, texts, whatsapp_window};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::outbox::Effect;

/// Our own limit for answering; Twilio gives up at 5 s.
pub const DEADLINE: Duration = Duration::from_millis(1500);

/// Names this instance recently signed messages with, by Conversation and author, for answering
/// past the deadline. A convenience copy: Redis has the truth.
#[derive(Clone, Default)]
pub(super) struct RecentAuthors(Arc<RwLock<HashMap<String, HashMap<String, String>>>>);

impl RecentAuthors {
    /// Enough for every member of a large deployment; cleared when full rather than evicted.
    const CAPACITY: usize = 100_000;

    fn remember(&self, conversation_sid: &str, author: &str, name: &str) {
        // Nearly always known already: then a read lock and no allocation on the hot path.
        let known = self.0.read().is_ok_and(|names| {
            names
                .get(conversation_sid)
                .and_then(|authors| authors.get(author))
                .is_some_and(|known| known == name)
        });
        if known {
            return;
        }
        if let Ok(mut names) = self.0.write() {
            if names.values().map(HashMap::len).sum::<usize>() >= Self::CAPACITY {
                names.clear();
            }
            names
                .entry(conversation_sid.to_owned())
                .or_default()
                .insert(author.to_owned(), name.to_owned());
        }
    }

    fn name_of(&self, conversation_sid: &str, author: &str) -> Option<String> {
        let names = self.0.read().ok()?;
        names.get(conversation_sid)?.get(author).cloned()
    }
}

#[handler]
pub(super) async fn conversations_pre(
    state: Data<&AppState>,
    recent_authors: Data<&RecentAuthors>,
    request: &Request,
    body: Body,
) -> Response {
    let params = match receive(&state, request, body).await {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    if param(&params, "EventType") != "onMessageAdd" {
        return StatusCode::OK.into_response();
    }
    // Spawned, so that past the deadline the work still completes (a LEAVE is still honored).
    let work = tokio::spawn(decide(
        state.clone(),
        recent_authors.clone(),
        params.clone(),
        delivery_token(request),
    ));
    match tokio::time::timeout(DEADLINE, work).await {
        Ok(Ok(Ok(answer))) => answer,
        Ok(Ok(Err(error))) => {
            tracing::error!(%error, "pre-event webhook failed; answering without Redis");
            without_redis(&recent_authors, &params)
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "pre-event webhook task failed; answering without Redis");
            without_redis(&recent_authors, &params)
        }
        Err(_) => {
            tracing::warn!(
                deadline_ms = DEADLINE.as_millis() as u64,
                "pre-event webhook past its deadline; answering without Redis"
            );
            without_redis(&recent_authors, &params)
        }
    }
}

fn reject() -> Response {
    StatusCode::FORBIDDEN.into_response()
}

fn signed(member_name: &str, body: &str) -> Response {
    Json(serde_json::json!({"body": format!("{member_name}: {body}")})).into_response()
}

/// The answer when Redis could not be asked in time (see the module docs).
fn without_redis(recent_authors: &RecentAuthors, params: &[(String, String)]) -> Response {
    let body = param(params, "Body");
    let keyword = Keyword::parse(body).is_some_and(|k| !matches!(k, Keyword::Join(_)));
    if keyword || CaptainCommand::parse(body).is_some() || media_of(params).is_err() {
        return reject();
    }
    match recent_authors.name_of(param(params, "ConversationSid"), param(params, "Author")) {
        Some(name) => signed(&name, body),
        None => StatusCode::OK.into_response(),
    }
}

/// What a text to the group becomes.
async fn decide(
    state: AppState,
    recent_authors: RecentAuthors,
    params: Vec<(String, String)>,
    delivery: Option<String>,
) -> Result<Response, StoreError> {
    let conversation_sid = param(&params, "ConversationSid");
    let Some(neighborhood_id) = state
        .store
        .neighborhood_of_conversation(conversation_sid)
        .await?
    else {
        // Not one of ours: leave it alone.
        return Ok(StatusCode::OK.into_response());
    };
    let Some((channel, author)) = Channel::of_address(param(&params, "Author")) else {
        return Ok(reject());
    };
    let context = state
        .store
        .message_context(neighborhood_id, &author, delivery.as_deref())
        .await?;
    let (Some(member), Some(neighborhood)) = (context.member, context.neighborhood) else {
        return Ok(reject());
    };
    if member.status != MemberStatus::Active {
        return Ok(reject());
    }
    // A repeated delivery is answered the same way, but acted on only the first time.
    let act = context.first_delivery;
    let body = param(&params, "Body");
    let (keyword, written_in) = Keyword::read(body).unzip();
    // An answer to a keyword is in the keyword's language (SALIR, AYUDA), else theirs.
    let language = neighborhood.language_for(written_in.flatten().or(member.language));
    if channel == Channel::Whatsapp {
        // Any message opens their 24-hour window again, and brings what they missed.
        let leaving = matches!(keyword, Some(Keyword::Leave | Keyword::Stop));
        let theirs = neighborhood.language_for(member.language);
        let caught_up = act
            && whatsapp_window::wrote(
                &state,
                &neighborhood,
                &author,
                Some(member.id),
                leaving,
                theirs,
            )
            .await?;
        if asks_to_read(body) {
            if act && !caught_up {
                let note = i18n::text(
                    theirs,
                    "whatsapp-up-to-date",
                    &[("neighborhood", neighborhood.name.as_str().into())],
                );
                texts::queue_text(&state, neighborhood.id, &member.address(), note).await?;
            }
            return Ok(reject());
        }
    }
    match keyword {
        Some(Keyword::Leave) => {
            if act {
                members::leave(&state, &neighborhood, &member, language).await?;
            }
            return Ok(reject());
        }
        Some(Keyword::Stop) => {
            if act {
                members::opt_out_everywhere(&state, &author).await?;
                // Twilio confirms STOP on SMS, not on WhatsApp.
                if channel == Channel::Whatsapp {
                    let stopped = texts::whatsapp_stopped_text(language);
                    texts::queue_text(&state, neighborhood.id, &member.address(), stopped).await?;
                }
            }
            return Ok(reject());
        }
        Some(Keyword::Language(chosen)) => {
            if act {
                members::set_language(&state, &neighborhood, &member, chosen).await?;
            }
            return Ok(reject());
        }
        // Twilio answers its own HELP words on SMS; the others, and any on WhatsApp, are ours.
        Some(Keyword::Help { twilio }) if !twilio || channel == Channel::Whatsapp => {
            if act {
                let help = texts::help_text(&neighborhood, channel, language);
                texts::queue_text(&state, neighborhood.id, &member.address(), help).await?;
            }
            return Ok(reject());
        }
        // START from a member changes nothing.
        Some(Keyword::Start | Keyword::Help { .. }) => return Ok(reject()),
        // JOIN is a keyword for strangers only: "join us at 7" from a member is a message.
        Some(Keyword::Join(_)) | None => {}
    }
    if let Some(command) = CaptainCommand::parse(body) {
        if act {
            let reply = match command {
                Ok(command) => commands::run(&state, &neighborhood, &member, command).await?,
                Err(usage) => usage.text(neighborhood.language_for(member.language)),
            };
            texts::queue_text(&state, neighborhood.id, &member.address(), reply).await?;
        }
        return Ok(reject());
    }
    if member.muted {
        if act {
            let note = i18n::text(neighborhood.language_for(member.language), "muted", &[]);
            texts::queue_text(&state, neighborhood.id, &member.address(), note).await?;
        }
        return Ok(reject());
    }
    if neighborhood.mode == Mode::AnnounceOnly && member.role < Role::Captain {
        if act {
            forward_to_captains(&state, &neighborhood, &member, body).await?;
        }
        return Ok(reject());
    }
    if let Err(refusal) = media_of(&params) {
        if act {
            let note = refusal_note(&refusal, neighborhood.language_for(member.language));
            texts::queue_text(&state, neighborhood.id, &member.address(), note).await?;
        }
        return Ok(reject());
    }
    recent_authors.remember(
        conversation_sid,
        param(&params, "Author"),
        member.display_name.as_str(),
    );
    Ok(signed(member.display_name.as_str(), body))
}

/// Whether the group takes the message's pictures (see [`media::check`]). Media Twilio
/// describes in a way we cannot read is refused too: it would go out to this shard and not
/// into the others.
fn media_of(params: &[(String, String)]) -> Result<(), MediaRefusal> {
    match media::from_webhook(param(params, "Media")) {
        Ok(items) => media::check(&items),
        Err(error) => {
            tracing::warn!(%error, "a message's Media could not be read; refused");
            Err(MediaRefusal::Unsupported {
                content_type: "?".to_owned(),
            })
        }
    }
}

/// The private note to a member whose pictures the group does not take.
fn refusal_note(refusal: &MediaRefusal, language: i18n::Language) -> String {
    let megabytes = |bytes: u64| format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
    match refusal {
        MediaRefusal::TooMany { .. } => i18n::text(
            language,
            "media-too-many",
            &[("max", media::MAX_ITEMS.into())],
        ),
        MediaRefusal::TooLarge { bytes } => i18n::text(
            language,
            "media-too-large",
            &[
                ("size", megabytes(*bytes).into()),
                ("max", megabytes(media::MAX_TOTAL_BYTES).into()),
            ],
        ),
        MediaRefusal::Unsupported { content_type } => i18n::text(
            language,
            "media-unsupported",
            &[("type", content_type.as_str().into())],
        ),
    }
}

/// In an announcements-only neighborhood a member's text goes to the captains, not the group.
async fn forward_to_captains(
    state: &AppState,
    neighborhood: &Neighborhood,
    member: &Member,
    body: &str,
) -> Result<(), StoreError> {
    let forwarded = |language| {
        i18n::text(
            language,
            "to-the-captains",
            &[
                ("name", member.display_name.as_str().into()),
                ("body", body.into()),
            ],
        )
    };
    let mut effects = texts::texts_to_captains(state, neighborhood, forwarded, |_| true).await?;
    effects.push(Effect::SendSms {
        to: member.address(),
        body: i18n::text(
            neighborhood.language_for(member.language),
            "announce-only",
            &[],
        ),
    });
    state.store.enqueue_effects(neighborhood.id, &effects).await
}
