//! The backfill: Twilio is the durable log we repair from.
//!
//! While Redis is down or full, the post-event and SMS webhooks answer 503 rather than 200: an
//! event we could not record must not be acknowledged. Twilio does not call a post-event again,
//! and retries an SMS webhook only when asked to, but it keeps both: every message stays in its
//! Conversation, and every inbound text in the number's Messages log. A pass reads them back:
//!
//! - each shard Conversation newest first (`Order=desc`), back to its watermark (the highest
//!   index handled with every one before it, which the webhook moves on too), and hands each
//!   member's message to [`group_messages::added`], as the webhook does: recorded, counted and
//!   relayed to the other shards, signed with the author's name;
//! - each number's inbound texts (`To=<number>`, and `To=whatsapp:<sender>` for its WhatsApp
//!   sender, from the day of the newest handled one), and hands each from an address placed in
//!   none of the neighborhood's Conversations to
//!   [`inbound::received`], as the SMS webhook does (a `JOIN` texted during the outage is filed
//!   and answered).
//!
//! Each is claimed under the same mark as its webhook (`added:<sid>`, `sms:<sid>`), so whichever
//! comes first acts, once. A pass runs when a webhook of this instance was turned away and Redis
//! answers again, and every `NT_BACKFILL_MINUTES` (a quiet shard costs one page); one pass at a
//! time across instances (a lock in Redis with an expiry).

use std::collections::HashSet;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::channel::Channel;
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState};
use crate::services::deliveries::Once;
use crate::services::group_messages::{self, GroupMessage};
use crate::services::inbound::{self, InboundText};
use crate::state::{AppState, TwilioAccount};
use crate::store::StoreError;
use crate::store::webhooks::DELIVERY_MEMORY;
use crate::twilio::TwilioError;
use crate::twilio::types::{ListConversationMessages, ListMessages, MessageOrder};

/// How often the job looks whether a pass is due.
const POLL: Duration = Duration::from_secs(1);
/// How soon a pass that found messages held by another handler's claim is run again. Such a
/// claim ends with its lease ([`crate::store::webhooks::CLAIM_LEASE`]) at the latest; the
/// periodic pass may be many minutes away, or off.
const WAITING_RETRY: Duration = Duration::from_secs(5);
/// How long a pass may hold the lock if its instance dies mid-way.
const LOCK_TTL: Duration = Duration::from_secs(300);
/// Messages per page of a Conversation: a quiet shard is read in one page of this size.
const PAGE_SIZE: u32 = 20;
/// Pages of one Conversation read in one pass at most.
const MAX_PAGES: usize = 50;
/// Neighborhoods read from the store at a time.
const NEIGHBORHOODS_AT_ONCE: usize = 100;
/// What is older than this is never acted on: its claim may have been forgotten
/// ([`DELIVERY_MEMORY`]), and acting on it then could relay or answer it a second time.
const MAX_AGE: time::Duration = time::Duration::seconds(DELIVERY_MEMORY.as_secs() as i64 - 3600);

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Twilio(#[from] TwilioError),
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Group messages recorded and relayed by this pass (the webhook had missed them).
    pub messages: usize,
    /// Inbound texts acted on by this pass.
    pub texts: usize,
    /// Messages and texts another handler holds the claim on: a webhook acting on them now, or
    /// one that failed mid-way while Redis was failing and could not let go (its claim ends with
    /// its lease). A later pass acts on them if that handler did not.
    pub waiting: usize,
}

impl Report {
    fn add(&mut self, other: Report) {
        self.messages += other.messages;
        self.texts += other.texts;
        self.waiting += other.waiting;
    }
}

/// What became of a request for a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Done(Report),
    /// Another pass (any instance) is running.
    Busy,
}

/// Runs forever: a pass when a webhook was turned away (as soon as Redis answers again), and
/// every `NT_BACKFILL_MINUTES`.
pub async fn run(state: AppState) {
    let every = state.settings.backfill_every();
    let mut last = tokio::time::Instant::now();
    // Set while a pass left messages to a claim that may yet be let go unacted on.
    let mut again_at = None;
    loop {
        tokio::time::sleep(POLL).await;
        let periodic = every.is_some_and(|every| last.elapsed() >= every);
        let again = again_at.is_some_and(|at| tokio::time::Instant::now() >= at);
        if !periodic && !again && !state.backfill.is_due() {
            continue;
        }
        // Taken before the pass: a webhook turned away during it calls for another.
        let was_due = state.backfill.take_due();
        match pass(&state).await {
            Ok(Pass::Done(report)) => {
                last = tokio::time::Instant::now();
                again_at = (report.waiting > 0).then(|| last + WAITING_RETRY);
                if report != Report::default() {
                    tracing::info!(
                        messages = report.messages,
                        texts = report.texts,
                        waiting = report.waiting,
                        "backfill acted on what the webhooks missed"
                    );
                }
            }
            // The other pass may have started before what this instance missed: run our own.
            Ok(Pass::Busy) => {
                if was_due {
                    state.backfill.mark_due();
                }
            }
            Err(error) => {
                if was_due {
                    state.backfill.mark_due();
                }
                tracing::debug!(%error, "backfill pass failed; will retry");
            }
        }
    }
}

/// One pass over every active neighborhood, unless another is running.
pub async fn pass(state: &AppState) -> Result<Pass, BackfillError> {
    let Some(twilio) = &state.twilio else {
        return Ok(Pass::Done(Report::default()));
    };
    let token = Uuid::new_v4().to_string();
    match state.store.lock_backfill(&token, LOCK_TTL).await {
        Ok(true) => {}
        Ok(false) => return Ok(Pass::Busy),
        // The lock may have been taken though the answer was lost: let it go once Redis answers,
        // rather than hold every pass off until it expires.
        Err(error) => {
            tokio::spawn(release_later(state.store.clone(), token));
            return Err(error.into());
        }
    }
    let result = pass_locked(state, twilio).await;
    if let Err(error) = state.store.unlock_backfill(&token).await {
        // Redis failing now (a failover) is likely why the pass failed too: the lock is released
        // once Redis answers again, rather than holding every pass off until it expires.
        tracing::warn!(%error, "could not release the backfill lock; trying again in the background");
        tokio::spawn(release_later(state.store.clone(), token));
    }
    let report = result?;
    state.backfill.count_pass();
    Ok(Pass::Done(report))
}

/// Releases the backfill lock held by `token` once Redis answers, trying for as long as the lock
/// could live.
async fn release_later(store: crate::store::Store, token: String) {
    let started = tokio::time::Instant::now();
    let mut pause = POLL;
    while started.elapsed() < LOCK_TTL {
        tokio::time::sleep(pause).await;
        if store.unlock_backfill(&token).await.is_ok() {
            return;
        }
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

async fn pass_locked(state: &AppState, twilio: &TwilioAccount) -> Result<Report, BackfillError> {
    let mut report = Report::default();
    let mut failure = None;
    let mut after = None;
    loop {
        let neighborhoods = state
            .store
            .list_neighborhoods(NeighborhoodState::Active, after, NEIGHBORHOODS_AT_ONCE)
            .await?;
        let Some(last) = neighborhoods.last() else {
            break;
        };
        after = Some(last.id);
        for neighborhood in &neighborhoods {
            // One neighborhood's failure (Twilio refusing, say) does not hold the others back.
            match neighborhood_pass(state, twilio, neighborhood).await {
                Ok(done) => report.add(done),
                Err(error) => {
                    tracing::warn!(%error, neighborhood_id = %neighborhood.id, "backfill of a neighborhood failed");
                    failure = Some(error);
                }
            }
        }
        if neighborhoods.len() < NEIGHBORHOODS_AT_ONCE {
            break;
        }
    }
    match failure {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

async fn neighborhood_pass(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood: &Neighborhood,
) -> Result<Report, BackfillError> {
    let mut report = Report::default();
    for shard in &neighborhood.shards {
        report.add(shard_pass(state, twilio, neighborhood.id, &shard.conversation_sid).await?);
    }
    report.add(number_pass(state, twilio, neighborhood).await?);
    Ok(report)
}

/// Reads a Conversation back to its watermark and acts on every member's message not yet acted
/// on; reports how many this pass acted on, and how many it found held by another claim.
async fn shard_pass(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood_id: Uuid,
    conversation_sid: &str,
) -> Result<Report, BackfillError> {
    let watermark = state
        .store
        .shard_watermark(neighborhood_id, conversation_sid)
        .await?;
    let oldest = OffsetDateTime::now_utc() - MAX_AGE;
    let mut page = twilio
        .client
        .list_conversation_messages(
            conversation_sid,
            &ListConversationMessages {
                order: Some(MessageOrder::Desc),
                page_size: Some(PAGE_SIZE),
            },
        )
        .await?;
    // Newest first, down to the watermark (or as old as may be acted on).
    let mut unread = Vec::new();
    let mut reached = false;
    'pages: for _ in 0..MAX_PAGES {
        for message in std::mem::take(&mut page.items) {
            let too_old = message.created_at().is_some_and(|at| at < oldest);
            if watermark.is_some_and(|handled| message.index <= handled) || too_old {
                reached = true;
                break 'pages;
            }
            unread.push(message);
        }
        match page.next_page_url.take() {
            Some(next) => page = twilio.client.next_conversation_messages(&next).await?,
            None => {
                reached = true;
                break;
            }
        }
    }
    if !reached {
        tracing::warn!(
            %neighborhood_id,
            conversation_sid,
            "backfill read {MAX_PAGES} pages of a Conversation without reaching its watermark; older messages are not repaired"
        );
    }
    let mut report = Report::default();
    let mut handled_through = None;
    let mut blocked = false;
    // Oldest first, so the history keeps the Conversation's order.
    for message in unread.iter().rev() {
        let facts = GroupMessage {
            sid: &message.sid,
            conversation_sid,
            index: Some(message.index),
            author: message.author.as_deref().unwrap_or_default(),
            body: message.body.as_deref().unwrap_or_default(),
            attributes: message.attributes.as_deref().unwrap_or_default(),
            media: message.media.as_deref().unwrap_or_default(),
            chat_service_sid: None,
        };
        if facts.phone_author().is_some() {
            match group_messages::added(state, neighborhood_id, &facts, &[facts.mark()]).await? {
                Once::Acted => report.messages += 1,
                Once::Repeat => {}
                // A webhook is acting on it right now; the watermark waits for it.
                Once::InProgress => {
                    report.waiting += 1;
                    blocked = true;
                }
            }
        }
        if !blocked {
            handled_through = Some(message.index);
        }
    }
    if let Some(index) = handled_through {
        state
            .store
            .advance_shard_watermark(neighborhood_id, conversation_sid, index, false)
            .await?;
    }
    Ok(report)
}

/// Reads the number's inbound texts since the newest handled one and acts on each not yet acted
/// on; reports how many this pass acted on, and how many it found held by another claim.
async fn number_pass(
    state: &AppState,
    twilio: &TwilioAccount,
    neighborhood: &Neighborhood,
) -> Result<Report, BackfillError> {
    let now = OffsetDateTime::now_utc();
    let oldest = now - MAX_AGE;
    let watermark = state
        .store
        .inbound_watermark(neighborhood.id)
        .await?
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok());
    let since = watermark.map_or(oldest, |handled| handled.max(oldest));
    // Texts to the number, and messages to its WhatsApp sender (`To=whatsapp:+1...`): Twilio
    // lists each address on its own.
    let mut texts = Vec::new();
    for to in [Channel::Sms, Channel::Whatsapp]
        .into_iter()
        .filter_map(|channel| neighborhood.proxy_address(channel))
    {
        texts.extend(
            twilio
                .client
                .list_messages(&ListMessages {
                    to: Some(to),
                    // Twilio filters by the GMT day sent: from the day of the newest handled one.
                    sent_on_or_after: Some(since.to_offset(time::UtcOffset::UTC).date()),
                    ..ListMessages::default()
                })
                .await?,
        );
    }
    texts.retain(|text| text.sent_at().is_some_and(|at| at >= oldest));
    texts.sort_by_key(|text| text.sent_at());
    // An address placed in one of the neighborhood's Conversations writes to the Conversation:
    // Twilio routes its messages there (the shard pass repairs those), not to the SMS webhook, so
    // acting on them here would treat a group message as a text to the number. Placement is by
    // address: a WhatsApp member's SMS text to the number is theirs alone, as the webhook sees it.
    let conversations: HashSet<&str> = neighborhood
        .shards
        .iter()
        .map(|shard| shard.conversation_sid.as_str())
        .collect();
    let placed: HashSet<String> = state
        .store
        .members(neighborhood.id)
        .await?
        .into_iter()
        .filter(|member| {
            member
                .participant
                .as_ref()
                .is_some_and(|p| conversations.contains(p.conversation_sid.as_str()))
        })
        .map(|member| member.channel.address(&member.phone))
        .collect();
    let mut report = Report::default();
    let mut handled_through = None;
    let mut blocked = false;
    for text in &texts {
        let Some((channel, from)) = Channel::of_address(text.from.as_deref().unwrap_or_default())
        else {
            continue;
        };
        if text.sid.is_empty() {
            continue;
        }
        if !placed.contains(&channel.address(&from)) {
            let facts = InboundText {
                sid: &text.sid,
                channel,
                from: &from,
                body: text.body.as_deref().unwrap_or_default(),
                segments: text.num_segments.as_deref().and_then(|n| n.parse().ok()),
            };
            let marks: Vec<String> = facts.mark().into_iter().collect();
            match inbound::received(state, neighborhood.id, &facts, &marks).await? {
                Once::Acted => report.texts += 1,
                Once::Repeat => {}
                // The webhook is acting on it right now; the watermark waits for it.
                Once::InProgress => {
                    report.waiting += 1;
                    blocked = true;
                }
            }
        }
        if !blocked {
            handled_through = text.sent_at();
        }
    }
    if let Some(at) = handled_through {
        let ms = (at.unix_timestamp_nanos() / 1_000_000) as i64;
        state
            .store
            .advance_inbound_watermark(neighborhood.id, ms)
            .await?;
    }
    Ok(report)
}
