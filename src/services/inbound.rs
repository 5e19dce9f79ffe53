//! A text to a neighborhood's number from outside the group: strangers get join instructions,
//! `JOIN Name` files a request, START after STOP asks back in; members' texts get nothing here
//! (the Conversation carries them). Every text is counted in the cost ledger as inbound
//! segments.
//!
//! Two callers hear of such a text: the number's SMS webhook as it arrives, and the backfill
//! (`crate::jobs::backfill`) re-reading the number's Messages log after the webhook could not
//! take it. Both go through [`received`], claimed under `sms:<MessageSid>`, so a text is acted on
//! (and answered) once whichever hears of it first, or both.

use uuid::Uuid;

use crate::domain::channel::Channel;
use crate::domain::join_request::JoinState;
use crate::domain::keywords::Keyword;
use crate::domain::member::{DisplayName, MemberStatus};
use crate::domain::neighborhood::JoinPolicy;
use crate::domain::phone::Phone;
use crate::domain::segments;
use crate::i18n::{self, FluentValue};
use crate::services::costs;
use crate::services::deliveries::{Once, once};
use crate::services::joining::{self, Asked, Asking, DecisionError, FileError};
use crate::services::neighborhoods::{self, NeighborhoodError};
use crate::services::{texts, whatsapp_window};
use crate::state::AppState;
use crate::store::StoreError;

/// The facts of one inbound text, as the webhook or Twilio's Messages log gives them.
#[derive(Debug, Clone, Copy)]
pub struct InboundText<'a> {
    /// Twilio's `MessageSid` (`SM...`); empty when unknown.
    pub sid: &'a str,
    /// The channel it came on: replies go back on it, and a request it files is for it.
    pub channel: Channel,
    pub from: &'a Phone,
    pub body: &'a str,
    /// `NumSegments` as Twilio counted them, when it said.
    pub segments: Option<u64>,
}

impl InboundText<'_> {
    /// The name its claim is held under, by the webhook and the backfill alike.
    pub fn mark(&self) -> Option<String> {
        (!self.sid.is_empty()).then(|| format!("sms:{}", self.sid))
    }
}

/// Counts a text to the neighborhood's number and acts on it once, however many times and by
/// whichever way it is heard of; `marks` are the names it is claimed by ([`InboundText::mark`]
/// and, from a webhook, its idempotency token). Replies go through the outbox like every other
/// text (retried, and under the account's limits).
pub async fn received(
    state: &AppState,
    neighborhood_id: Uuid,
    text: &InboundText<'_>,
    marks: &[String],
) -> Result<Once, StoreError> {
    count_inbound(state, neighborhood_id, text).await;
    once(state, neighborhood_id, marks, || {
        act(state, neighborhood_id, text)
    })
    .await
}

/// Files what the text asks and queues its reply. Only Redis failing is an error: a request
/// the rules refuse (a blocked phone, a cap reached) is an answer, given once.
async fn act(
    state: &AppState,
    neighborhood_id: Uuid,
    text: &InboundText<'_>,
) -> Result<(), StoreError> {
    let from = text.from;
    if text.channel == Channel::Whatsapp {
        let leaving = matches!(
            Keyword::parse(text.body),
            Some(Keyword::Leave | Keyword::Stop)
        );
        reopen_window(state, neighborhood_id, from, leaving).await?;
    }
    let reply = match sms_reply(state, neighborhood_id, text).await {
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
        let to = text.channel.address(from);
        match text.mark() {
            Some(mark) => texts::queue_reply(state, neighborhood_id, &mark, &to, reply).await?,
            None => texts::queue_text(state, neighborhood_id, &to, reply).await?,
        }
    }
    Ok(())
}

/// A WhatsApp message to the sender opens the writer's 24-hour window; a member gets what they
/// missed meanwhile (see `whatsapp_window`).
async fn reopen_window(
    state: &AppState,
    neighborhood_id: Uuid,
    from: &Phone,
    leaving: bool,
) -> Result<(), StoreError> {
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(());
    };
    let member = state.store.member_by_phone(neighborhood_id, from).await?;
    let language = neighborhood.language_for(member.as_ref().and_then(|member| member.language));
    let member_id = member
        .filter(|member| member.status == MemberStatus::Active)
        .map(|member| member.id);
    whatsapp_window::wrote(state, &neighborhood, from, member_id, leaving, language).await?;
    Ok(())
}

/// Counts the text in the cost ledger. Twilio calls this webhook for every text to the number,
/// members' group messages included, so this is where each inbound text is counted, once (by its
/// sid), with the segments Twilio reports. A failure is logged: the reply matters more.
async fn count_inbound(state: &AppState, neighborhood_id: Uuid, text: &InboundText<'_>) {
    let segments = text
        .segments
        .unwrap_or_else(|| u64::from(segments::count(text.body).1));
    let event = format!("in:{}", text.sid);
    let charge = match text.channel {
        Channel::Sms => costs::Charge::text_in(segments),
        Channel::Whatsapp => costs::Charge::whatsapp_in(),
    };
    if let Err(error) = costs::record(state, neighborhood_id, Some(&event), charge).await {
        tracing::warn!(%error, "an inbound text was not counted in the cost ledger");
    }
}

/// What a text to a neighborhood number gets back. Members' texts are carried by the
/// Conversation (Twilio calls this webhook for them too), so they get nothing here.
async fn sms_reply(
    state: &AppState,
    neighborhood_id: Uuid,
    text: &InboundText<'_>,
) -> Result<Option<String>, FileError> {
    let from = text.from;
    let neighborhood = match neighborhoods::active(state, neighborhood_id).await {
        Ok(neighborhood) => neighborhood,
        Err(NeighborhoodError::Store(error)) => return Err(error.into()),
        // Archived: the group text has ended, and nobody is asked to join it.
        Err(NeighborhoodError::NotFound | NeighborhoodError::Archived) => return Ok(None),
    };
    let member = state.store.member_by_phone(neighborhood_id, from).await?;
    let (keyword, written_in) = Keyword::read(text.body).unzip();
    let written_in = written_in.flatten();
    // The language of the words they just used, else what we know of them, else the
    // neighborhood's.
    let language =
        neighborhood.language_for(written_in.or_else(|| member.as_ref().and_then(|m| m.language)));
    if let Some(active) = member.as_ref().filter(|m| m.status == MemberStatus::Active) {
        // A member's texts are carried by the Conversation, and its pre-event webhook acts on
        // their LEAVE and STOP, once their participant is added. Until then a text reaches only
        // this webhook: someone who changes their mind in that minute can still leave.
        if active.participant.is_none() {
            match keyword {
                Some(Keyword::Leave) => {
                    crate::services::members::leave(state, &neighborhood, active, language).await?;
                }
                Some(Keyword::Stop) => {
                    crate::services::members::opt_out_everywhere(state, from).await?;
                    if text.channel == Channel::Whatsapp {
                        return Ok(Some(texts::whatsapp_stopped_text(language)));
                    }
                }
                _ => {}
            }
        }
        return Ok(None);
    }
    let uninvited = neighborhood.join_policy == JoinPolicy::InviteOnly
        && !state.store.was_invited(neighborhood_id, from).await?;
    let name = neighborhood.name.as_str();
    let say = |id: &str, args: &i18n::Args<'_>| {
        let mut all = vec![("neighborhood", FluentValue::from(name))];
        all.extend(args.iter().cloned());
        i18n::text(language, id, &all)
    };
    let link = crate::services::invites::join_url(state, &neighborhood);
    Ok(match keyword {
        // Twilio itself answers the opt-out family and its HELP words on SMS; on WhatsApp, and
        // for words it does not know, it is ours.
        Some(Keyword::Stop | Keyword::Help { twilio: true }) if text.channel == Channel::Sms => {
            None
        }
        Some(Keyword::Help { .. }) => Some(texts::help_text(&neighborhood, text.channel, language)),
        // A member's STOP in the group was confirmed by the group's webhook, which may have run
        // first; stopped is stopped.
        Some(Keyword::Stop)
            if member
                .as_ref()
                .is_some_and(|m| m.status == MemberStatus::OptedOut) =>
        {
            None
        }
        Some(Keyword::Stop) => {
            crate::services::members::opt_out_everywhere(state, from).await?;
            Some(texts::whatsapp_stopped_text(language))
        }
        // Paused by a captain: a JOIN or anything else does not bring them back; a resume does.
        _ if member
            .as_ref()
            .is_some_and(|m| m.status == MemberStatus::Paused) =>
        {
            Some(say("paused", &[]))
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
                channel: text.channel,
                language: former.language,
                name: former.display_name,
                address: None,
                answers: Default::default(),
                asked: Asked::Back {
                    message_sid: text.sid.to_owned(),
                },
            };
            let request = match joining::file(state, &neighborhood, asking).await {
                Err(FileError::Blocked) => return Ok(Some(say("blocked", &[]))),
                filed => filed?,
            };
            Some(if request.state == JoinState::Approved {
                say("rejoined", &[])
            } else {
                say("rejoin-filed", &[])
            })
        }
        Some(Keyword::Join(_)) if uninvited => Some(say("join-invite-only", &[])),
        Some(Keyword::Join(Some(requested))) => match DisplayName::parse(&requested) {
            Ok(display) => {
                let asking = Asking {
                    phone: from.clone(),
                    channel: text.channel,
                    language: Some(language),
                    name: display,
                    address: None,
                    answers: Default::default(),
                    asked: Asked::Text {
                        message_sid: text.sid.to_owned(),
                    },
                };
                let request = match joining::file(state, &neighborhood, asking).await {
                    Err(FileError::Blocked) => return Ok(Some(say("blocked", &[]))),
                    filed => filed?,
                };
                // Under the open policy the welcome text follows from the outbox.
                (request.state != JoinState::Approved).then(|| {
                    say(
                        "join-filed",
                        &[("name", FluentValue::from(request.name.as_str()))],
                    )
                })
            }
            // Usability review B11: a name that is only too long is told so, with its length.
            Err(_) if requested.trim().chars().count() > DisplayName::MAX_CHARS => Some(say(
                "join-name-too-long",
                &[
                    (
                        "length",
                        FluentValue::from(requested.trim().chars().count()),
                    ),
                    ("max", FluentValue::from(DisplayName::MAX_CHARS)),
                ],
            )),
            Err(_) => Some(say(
                "join-name-invalid",
                &[("max", FluentValue::from(DisplayName::MAX_CHARS))],
            )),
        },
        Some(Keyword::Join(None)) => Some(say("join-name-missing", &[])),
        _ if uninvited => Some(say("number-intro-invite-only", &[])),
        _ => Some(say(
            "number-intro",
            &[("link", FluentValue::from(link.as_str()))],
        )),
    })
}
