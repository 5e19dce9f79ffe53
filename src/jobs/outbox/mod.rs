//! The outbox worker: carries out queued Twilio side effects, each at least once and to the same
//! end state however often it runs (adding a participant that is already there is done; removing
//! one that is gone is done), so an effect the API acknowledged survives Twilio outages, crashes
//! and redeploys.
//!
//! A worker keeps thousands of claimed effects in flight (`in_flight`); changes to one
//! Conversation are spaced to Twilio's 30 a second through a schedule in Redis that every
//! instance shares, and members go into Conversations side by side (`placement`).

mod in_flight;
mod placement;
mod relay;

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::Semaphore;
use tracing::Instrument;
use uuid::Uuid;

use crate::domain::channel::Channel;
use crate::domain::member::{Member, MemberStatus, SyncState};
use crate::i18n::Language;
use crate::state::{AppState, TwilioAccount};
use crate::store::outbox::{Effect, OutboxEntry, WhatsappTemplate};
use crate::store::{StoreError, UpdateError};
use crate::twilio::TwilioError;
use crate::twilio::types::{ListMessages, SendSms, SendTemplate, SmsMessage, SmsSender};
use in_flight::InFlight;
use relay::RelayCopy;

/// Twilio's limit of SMS participants per Conversation.
pub const SHARD_CAPACITY: u32 = 50;
/// Attempts of one effect before the member is marked failed (each attempt already retries
/// 429/5xx inside the Twilio client).
const MAX_ATTEMPTS: u32 = 6;
/// Entries a worker claims from one neighborhood at a time.
const CLAIM_AT_ONCE: usize = 500;
/// Pause when there was nothing to do: the most a new effect (a relay, a welcome, a member to
/// place) waits before a worker looks. Each look is a few Redis reads; at 25 ms they added a
/// third to the service's CPU per relayed message (BENCHMARKS.md), for no difference a neighbor
/// would notice in a text.
const IDLE_PAUSE: Duration = Duration::from_millis(100);
/// Pause between claims while entries keep coming.
const BUSY_PAUSE: Duration = Duration::from_millis(10);
/// Twilio allows 30 changes a second to one Conversation (participants added or removed,
/// messages posted); keeping them 34 ms apart stays under it with room for network jitter.
pub(crate) const CONVERSATION_SPACING: Duration = Duration::from_millis(34);
/// Texts being sent at once, by one worker.
const TEXTS_AT_ONCE: usize = 32;
/// How often the streams are rescanned for work the active set missed.
const RESCAN_EVERY: Duration = Duration::from_secs(5);
const SHARD_LOCK_TTL: Duration = Duration::from_secs(30);
/// How many pages of a shard's messages (newest first, 100 a page) a relay reads at most,
/// looking for an earlier copy of itself among those added since its first attempt.
const RELAY_LOOKBACK_PAGES: usize = 20;

/// Why an effect did not complete this time.
#[derive(Debug, thiserror::Error)]
enum EffectError {
    #[error(transparent)]
    Twilio(#[from] TwilioError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another worker is creating the shard this effect needs; try again shortly.
    #[error("a new Conversation is being created")]
    ShardBusy,
    /// Another worker holds the lock for creating the shard this effect needs: it is creating it,
    /// or it died doing so and the lock lasts until `SHARD_LOCK_TTL`. Waiting is not an attempt.
    #[error("another worker holds the lock for creating a new Conversation")]
    ShardLocked,
    /// A WhatsApp member of a neighborhood without a WhatsApp sender (the API refuses both).
    #[error("the neighborhood has no WhatsApp sender to reach this member from")]
    NoWhatsappSender,
}

impl EffectError {
    /// Without Twilio's words (see [`TwilioError::redacted`]).
    fn redacted(&self) -> String {
        match self {
            Self::Twilio(error) => error.redacted(),
            other => other.to_string(),
        }
    }
}

/// What every task of a worker shares.
pub(crate) struct Worker {
    state: AppState,
    twilio: TwilioAccount,
    /// Texts being sent at once: sends are not paced per Conversation like the other effects,
    /// so this keeps a backlog of welcomes from opening thousands of requests to Twilio.
    texts: Semaphore,
    openers: placement::ShardOpeners,
    media: relay::MediaCache,
}

/// Runs forever: claims queued effects of every neighborhood and carries them out, many at once.
pub async fn run(state: AppState, consumer: String) {
    let Some(twilio) = state.twilio.clone() else {
        return;
    };
    let worker = Arc::new(Worker {
        state,
        twilio,
        texts: Semaphore::new(TEXTS_AT_ONCE),
        openers: placement::ShardOpeners::default(),
        media: relay::MediaCache::default(),
    });
    let work: in_flight::Work = {
        let worker = worker.clone();
        Arc::new(move |neighborhood_id, entry| {
            let worker = worker.clone();
            async move { handle(&worker, neighborhood_id, &entry).await }.boxed()
        })
    };
    let mut in_flight = InFlight::new(work);
    let mut last_rescan = tokio::time::Instant::now() - RESCAN_EVERY;
    loop {
        if last_rescan.elapsed() >= RESCAN_EVERY {
            if let Err(error) = worker.state.store.rescan_outboxes().await {
                tracing::debug!(%error, "outbox rescan failed");
            }
            last_rescan = tokio::time::Instant::now();
        }
        let claimed = match claim(&worker.state, &consumer, &mut in_flight).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::debug!(%error, "outbox claim failed");
                0
            }
        };
        // Nothing new: wait for a task to finish or for a pause to pass before looking again.
        // Busy: look again soon, without polling Redis for every finished task.
        let pause = if claimed == 0 { IDLE_PAUSE } else { BUSY_PAUSE };
        let deadline = tokio::time::sleep(pause);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                finished = in_flight.next_finished() => report(finished),
                () = &mut deadline => break,
            }
        }
        in_flight.finished_now().into_iter().for_each(report);
    }
}

fn report(finished: in_flight::Finished) {
    if let Err(error) = finished.outcome {
        tracing::debug!(%error, "an outbox entry could not be settled; it is claimed again later");
    }
}

/// Claims what every active outbox holds, up to the room in flight, and starts it; returns how
/// many entries it started.
async fn claim(
    state: &AppState,
    consumer: &str,
    in_flight: &mut InFlight,
) -> Result<usize, StoreError> {
    let mut started = 0;
    for neighborhood_id in state.store.active_outboxes().await? {
        let room = in_flight.room_for(neighborhood_id).min(CLAIM_AT_ONCE);
        if room == 0 {
            continue;
        }
        let entries = state
            .store
            .claim_outbox(
                neighborhood_id,
                consumer,
                room,
                state.settings.outbox_reclaim_after(),
            )
            .await?;
        if entries.is_empty() {
            // Entries still in flight stay in the stream until settled, so it is not empty yet.
            state.store.retire_outbox_if_empty(neighborhood_id).await?;
            continue;
        }
        for entry in entries {
            if in_flight.start(neighborhood_id, entry) {
                started += 1;
            }
        }
    }
    Ok(started)
}

/// Carries out one entry in a span of its own, continuing the trace of the request that queued
/// it; false when it was put back, uncounted, to wait for a shard lock.
async fn handle(
    worker: &Worker,
    neighborhood_id: Uuid,
    entry: &OutboxEntry,
) -> Result<bool, StoreError> {
    let kind = entry.effect.kind();
    let span = tracing::info_span!(
        "outbox_effect",
        otel.name = %format_args!("outbox {kind}"),
        otel.kind = "consumer",
        effect.kind = kind,
        effect.attempts = entry.attempts,
    );
    crate::telemetry::traces::continue_trace(&span, entry.trace.as_deref());
    carry_out(worker, neighborhood_id, entry)
        .instrument(span)
        .await
}

async fn carry_out(
    worker: &Worker,
    neighborhood_id: Uuid,
    entry: &OutboxEntry,
) -> Result<bool, StoreError> {
    let state = &worker.state;
    // A second stream entry of an effect already carried out (its requeue was repeated after a
    // lost answer) is dropped, not done twice.
    if state
        .store
        .effect_done(neighborhood_id, &entry.effect_id)
        .await?
    {
        state.store.ack_outbox(neighborhood_id, entry).await?;
        return Ok(true);
    }
    let outcome = match &entry.effect {
        Effect::AddParticipant { member_id } => {
            placement::add_participant(worker, neighborhood_id, *member_id).await
        }
        Effect::SendSms { to, body } => {
            let _permit = worker.texts.acquire().await;
            let text = Text {
                effect_id: &entry.effect_id,
                to,
                body,
            };
            send_sms(state, &worker.twilio, neighborhood_id, &text).await
        }
        Effect::SendWhatsappTemplate {
            to,
            template,
            language,
        } => {
            let _permit = worker.texts.acquire().await;
            let text = Template {
                effect_id: &entry.effect_id,
                to,
                template,
                language: *language,
            };
            send_template(state, &worker.twilio, neighborhood_id, &text).await
        }
        Effect::Relay {
            conversation_sid,
            author,
            body,
            source_message_sid,
            recipients,
            whatsapp_recipients,
            media,
            chat_service_sid,
        } => {
            let copy = RelayCopy {
                conversation_sid,
                author,
                body,
                source_message_sid,
                media,
                chat_service_sid: chat_service_sid.as_deref(),
            };
            match relay::relay(worker, neighborhood_id, &copy, &entry.effect_id).await {
                // Counted once posted (a retry that finds the copy posted counts it, once).
                Ok(()) => crate::services::costs::record(
                    state,
                    neighborhood_id,
                    Some(&format!("relay:{source_message_sid}:{conversation_sid}")),
                    if media.is_empty() {
                        crate::services::costs::Charge::group_copy(
                            body,
                            recipients,
                            whatsapp_recipients,
                        )
                    } else {
                        // One message per picture (see `relay`).
                        crate::services::costs::Charge::group_mms(
                            media.len() as u64,
                            recipients,
                            whatsapp_recipients,
                        )
                    },
                )
                .await
                .map_err(EffectError::from),
                Err(error) => Err(error),
            }
        }
        Effect::RemoveParticipant {
            member_id,
            conversation_sid,
            participant_sid,
        } => {
            remove_participant(
                worker,
                neighborhood_id,
                *member_id,
                conversation_sid,
                participant_sid,
            )
            .await
        }
        // Scripts write these to the event log; one found here was queued by a path that
        // wrote it as an effect, and goes to the log now rather than be lost.
        Effect::Publish { event } => state
            .store
            .log_integrator_event(neighborhood_id, event)
            .await
            .map_err(EffectError::from),
    };
    match outcome {
        Ok(()) => state.store.ack_outbox(neighborhood_id, entry).await?,
        Err(EffectError::ShardLocked) => {
            state
                .store
                .requeue_outbox(neighborhood_id, entry, entry.attempts)
                .await?;
            return Ok(false);
        }
        Err(error) if entry.attempts + 1 < MAX_ATTEMPTS => {
            tracing::warn!(error = %error.redacted(), attempts = entry.attempts + 1, "outbox effect failed; will retry");
            tracing::debug!(%error, "outbox effect failed: Twilio's words");
            state
                .store
                .requeue_outbox(neighborhood_id, entry, entry.attempts + 1)
                .await?
        }
        Err(error) => {
            tracing::error!(error = %error.redacted(), "outbox effect failed for good; the member is marked failed");
            tracing::debug!(%error, "outbox effect failed: Twilio's words");
            let member_id = match &entry.effect {
                Effect::SendSms { .. }
                | Effect::SendWhatsappTemplate { .. }
                | Effect::Relay { .. }
                | Effect::Publish { .. } => {
                    state.store.ack_outbox(neighborhood_id, entry).await?;
                    return Ok(true);
                }
                Effect::AddParticipant { member_id } => {
                    // A place kept for a retry that will not come is given back.
                    state
                        .store
                        .settle_place(neighborhood_id, *member_id, None)
                        .await?;
                    *member_id
                }
                Effect::RemoveParticipant { member_id, .. } => *member_id,
            };
            let (message, detail) = (error.redacted(), error.to_string());
            update_member(state, neighborhood_id, member_id, |member| {
                member.sync = SyncState::Failed {
                    error: message.clone(),
                    detail: (detail != message).then(|| detail.clone()),
                }
            })
            .await?;
            state.store.ack_outbox(neighborhood_id, entry).await?
        }
    }
    Ok(true)
}

/// Records an effect's outcome on its member. A member deleted meanwhile, or one that kept
/// changing, is left as it is: the periodic reconciliation with Twilio settles it.
async fn update_member(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    change: impl Fn(&mut Member),
) -> Result<(), StoreError> {
    let updated = state
        .store
        .update_member(neighborhood_id, member_id, |member| {
            change(member);
            Ok::<_, StoreError>(Vec::new())
        })
        .await;
    UpdateError::unless_gone(updated).map(drop)
}

/// A 1:1 text of the outbox.
struct Text<'a> {
    /// The effect's id, the same on every attempt.
    effect_id: &'a str,
    to: &'a str,
    body: &'a str,
}

/// How much earlier than our first attempt Twilio's clock may date a text that attempt sent.
const TWILIO_CLOCK_SKEW: Duration = Duration::from_secs(10);

/// Sends a 1:1 text once, as far as Twilio can tell us: each attempt is recorded before Twilio
/// is asked, and a later attempt (after a lost answer, a failure, a crash) first looks for the
/// text among the messages Twilio sent from the number to the phone since the first attempt.
async fn send_sms(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
    text: &Text<'_>,
) -> Result<(), EffectError> {
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(());
    };
    // `to` is an address: a phone, or `whatsapp:` and a phone (a WhatsApp member).
    let Some((channel, phone)) = Channel::of_address(text.to) else {
        return Ok(());
    };
    let Some(from) = neighborhood.proxy_address(channel) else {
        tracing::warn!(
            "a text to a WhatsApp member was dropped: the neighborhood has no WhatsApp sender"
        );
        return Ok(());
    };
    let (first_attempt_ms, retried) = state
        .store
        .mark_effect_attempt(neighborhood_id, text.effect_id)
        .await?;
    let same_body = |message: &SmsMessage| message.body.as_deref() == Some(text.body);
    if retried
        && already_sent(
            twilio,
            &from,
            text.to,
            twilio_since(first_attempt_ms),
            same_body,
        )
        .await?
    {
        return Ok(());
    }
    // Outside a WhatsApp member's 24-hour window the text would fail (63016): it waits for them.
    if channel == Channel::Whatsapp
        && crate::services::whatsapp_window::hold_if_closed(
            state,
            neighborhood_id,
            &phone,
            text.body,
        )
        .await?
    {
        return Ok(());
    }
    // The last guard: a phone outside `NT_SMS_COUNTRIES`, or a day past its cap, drops the text
    // (warned and counted there); retrying would not change the answer.
    let cleared = crate::services::sending::clear(state, neighborhood_id, &phone).await?;
    if cleared.is_err() {
        return Ok(());
    }
    let request = SendSms {
        to: text.to.to_owned(),
        from: SmsSender::Number(from),
        body: text.body.to_owned(),
    };
    match twilio.client.send_sms(&request).await {
        Ok(_) => {
            // A text that went out is not sent again because the ledger could not count it.
            let charge = match channel {
                Channel::Sms => crate::services::costs::Charge::text_out(text.body),
                Channel::Whatsapp => crate::services::costs::Charge::whatsapp_out(),
            };
            if let Err(error) =
                crate::services::costs::record(state, neighborhood_id, None, charge).await
            {
                tracing::warn!(%error, "a sent text was not counted in the cost ledger");
            }
            Ok(())
        }
        // 21610: the phone texted STOP; Twilio will never deliver to it, so there is nothing to retry.
        Err(error) if error.code() == Some(21610) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// A WhatsApp template of the outbox.
struct Template<'a> {
    /// The effect's id, the same on every attempt.
    effect_id: &'a str,
    to: &'a str,
    template: &'a WhatsappTemplate,
    language: Option<Language>,
}

/// Sends an approved WhatsApp template once, as `send_sms` sends a text: the attempt recorded
/// first, and a retry looks in Twilio before sending again. The new-messages template goes at
/// most once a day to a member, and not at all once they wrote again.
async fn send_template(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
    text: &Template<'_>,
) -> Result<(), EffectError> {
    let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await? else {
        return Ok(());
    };
    let (Some(from), Some((Channel::Whatsapp, phone))) = (
        neighborhood.proxy_address(Channel::Whatsapp),
        Channel::of_address(text.to),
    ) else {
        return Ok(());
    };
    let templates = &twilio.whatsapp_templates;
    let name = neighborhood.name.as_str().to_owned();
    let (template, variables) = match text.template {
        WhatsappTemplate::NewMessages => (&templates.new_messages, vec![name]),
        WhatsappTemplate::Announcement { text } => {
            (&templates.announcement, vec![name, text.clone()])
        }
        WhatsappTemplate::Invite { inviter, link } => {
            (&templates.invite, vec![inviter.clone(), name, link.clone()])
        }
    };
    let Some(template) = template else {
        tracing::debug!(
            "no WhatsApp template configured: a member outside their window is not told"
        );
        return Ok(());
    };
    let (first_attempt_ms, retried) = state
        .store
        .mark_effect_attempt(neighborhood_id, text.effect_id)
        .await?;
    // Only a template gets through outside the window: anything delivered since the first
    // attempt is this one.
    let got_through =
        |message: &SmsMessage| !matches!(message.status.as_deref(), Some("failed" | "undelivered"));
    if retried {
        if already_sent(
            twilio,
            &from,
            text.to,
            twilio_since(first_attempt_ms),
            got_through,
        )
        .await?
        {
            return Ok(());
        }
    } else if *text.template == WhatsappTemplate::NewMessages
        && !state
            .store
            .claim_whatsapp_notice(
                neighborhood_id,
                &phone,
                state.settings.clock.now_ms(),
                crate::services::whatsapp_window::NOTICE_INTERVAL_MS,
            )
            .await?
    {
        return Ok(());
    }
    if crate::services::sending::clear(state, neighborhood_id, &phone)
        .await?
        .is_err()
    {
        return Ok(());
    }
    let language = neighborhood.language_for(text.language);
    let request = SendTemplate {
        to: text.to.to_owned(),
        from,
        content_sid: template.sid(language).to_owned(),
        variables: variables
            .into_iter()
            .enumerate()
            .map(|(at, value)| ((at + 1).to_string(), value))
            .collect(),
    };
    twilio.client.send_template(&request).await?;
    let charge = crate::services::costs::Charge::whatsapp_template();
    if let Err(error) = crate::services::costs::record(state, neighborhood_id, None, charge).await {
        tracing::warn!(%error, "a sent WhatsApp template was not counted in the cost ledger");
    }
    Ok(())
}

/// When, by Twilio's clock, an effect's first attempt may have reached it: the attempt's start
/// (Unix ms) less the clock skew allowed between us and Twilio.
fn twilio_since(first_attempt_ms: u64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(first_attempt_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        - TWILIO_CLOCK_SKEW
}

/// Whether Twilio sent a message that is `this` from `from` to `to` since `since`. Twilio
/// filters by the day sent; the time is compared here.
async fn already_sent(
    twilio: &TwilioAccount,
    from: &str,
    to: &str,
    since: time::OffsetDateTime,
    this: impl Fn(&SmsMessage) -> bool,
) -> Result<bool, TwilioError> {
    let sent = twilio
        .client
        .list_messages(&ListMessages {
            to: Some(to.to_owned()),
            from: Some(from.to_owned()),
            sent_on_or_after: Some(since.date()),
            ..ListMessages::default()
        })
        .await?;
    Ok(sent.iter().any(|message| {
        this(message) && message.created_at().is_none_or(|created| created >= since)
    }))
}

async fn remove_participant(
    worker: &Worker,
    neighborhood_id: Uuid,
    member_id: Uuid,
    conversation_sid: &str,
    participant_sid: &str,
) -> Result<(), EffectError> {
    let state = &worker.state;
    let member = state.store.member(neighborhood_id, member_id).await?;
    let still_theirs = |m: &Member| {
        m.participant
            .as_ref()
            .is_some_and(|p| p.participant_sid == participant_sid)
    };
    if member.is_some_and(|m| m.status == MemberStatus::Active && still_theirs(&m)) {
        // Back in before their removal ran (approved again, resumed): the participant stays.
        // (One moved to another channel has forgotten it: that removal goes ahead.)
        return Ok(update_member(state, neighborhood_id, member_id, |m| {
            m.sync = SyncState::Done
        })
        .await?);
    }
    let wait = state
        .store
        .take_slot(neighborhood_id, conversation_sid, CONVERSATION_SPACING)
        .await?;
    tokio::time::sleep(wait).await;
    match worker
        .twilio
        .client
        .delete_participant(conversation_sid, participant_sid)
        .await
    {
        Ok(()) => {
            state
                .store
                .add_to_shard_count(neighborhood_id, conversation_sid, -1)
                .await?
        }
        // Gone already: removed by an earlier run of this effect, or in Twilio's console.
        Err(error) if error.is_not_found() => {}
        Err(error) => return Err(error.into()),
    }
    update_member(state, neighborhood_id, member_id, |member| {
        if member
            .participant
            .as_ref()
            .is_some_and(|p| p.participant_sid == participant_sid)
        {
            member.participant = None;
        }
        member.sync = SyncState::Done;
    })
    .await?;
    Ok(())
}
