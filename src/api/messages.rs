//! `/api/v1/neighborhoods/{id}/messages`: what the group said, newest first, and announcements
//! from the captains to every Conversation, with what they cost (and held while the month is
//! over its budget). The history holds names, never phone numbers, and
//! keeps the newest `NT_HISTORY_MESSAGES` messages.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::{ApiError, FieldErrors};
use crate::auth::policy;
use crate::auth::principal::{Auth, Principal};
use crate::costs;
use crate::domain::neighborhood::Neighborhood;
use crate::domain::segments::Encoding;
use crate::state::AppState;
use crate::store::audit::rfc3339_now;
use crate::store::costs::HeldAnnouncement;
use crate::store::messages::{HistoryEntry, StoredMessage};

pub struct MessagesApi;

/// One message of the group.
#[derive(Debug, Object)]
pub struct MessageOut {
    /// Its place in the history; pass as `before` to page.
    pub id: String,
    /// Twilio's message sid.
    pub message_sid: String,
    /// The member who wrote it.
    pub sender_member_id: Option<Uuid>,
    /// Their name when they wrote it.
    pub sender_name: String,
    /// The text, without the name the group saw in front of it.
    pub body: String,
    /// Which of the neighborhood's Conversations it was written in (1 for the first).
    pub shard: Option<u32>,
    /// When it was received (RFC 3339).
    pub at: String,
}

/// One page of messages.
#[derive(Debug, Object)]
pub struct MessagePage {
    /// Newest first.
    pub items: Vec<MessageOut>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// An announcement to the whole group.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct AnnouncementIn {
    /// The text (1 to 1,600 characters); the group sees it signed with your name.
    pub body: String,
}

/// What an announcement is expected to cost, before it is sent.
#[derive(Debug, Object)]
pub struct AnnouncementEstimate {
    /// Encoding of the signed text: `gsm7`, or `ucs2` when any character is outside GSM-7.
    pub encoding: Encoding,
    /// SMS segments of the text as the group sees it (signed with the sender's name).
    pub segments: u32,
    /// Members it reaches, across every Conversation.
    pub recipients: u64,
    /// Of those, members not yet counted as Conversations active users this month.
    pub new_active_users: u64,
    /// segments × recipients × the outbound segment price, in US dollars.
    pub sms_cost: String,
    /// new active users × the active user price (beyond the free allowance), in US dollars.
    pub active_users_cost: String,
    /// The whole estimate, in US dollars.
    pub cost: String,
    /// This month's cost so far, in US dollars.
    pub month_cost: String,
    /// The monthly cap in US dollars; absent when there is none.
    pub monthly_budget: Option<String>,
    /// True when the month is at or over the cap: the announcement would be held.
    pub held: bool,
}

/// An announcement as accepted.
#[derive(Debug, Object)]
pub struct AnnouncementOut {
    #[oai(flatten)]
    pub message: MessageOut,
    /// True when this month's cost is at or over the budget: the announcement waits (it is listed
    /// in `GET .../costs`) and goes out by itself, once, when a captain raises the budget or the
    /// month ends. The group chat itself is not held.
    pub held: bool,
    /// What it is expected to cost.
    pub estimate: AnnouncementEstimate,
}

#[derive(ApiResponse)]
enum AnnounceResponse {
    /// Accepted: on its way to every Conversation of the neighborhood, or held by the budget
    /// (`held`).
    #[oai(status = 202)]
    Accepted(Json<AnnouncementOut>),
}

#[derive(ApiResponse)]
enum EstimateResponse {
    /// The estimate; nothing was sent.
    #[oai(status = 200)]
    Ok(Json<AnnouncementEstimate>),
}

#[derive(ApiResponse)]
enum ListResponse {
    /// The messages.
    #[oai(status = 200)]
    Ok(Json<MessagePage>),
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Messages")]
impl MessagesApi {
    /// Announce to the group
    ///
    /// Sends a text to every member, in every Conversation of the neighborhood, signed with the
    /// captain's name (an API token signs with the neighborhood's name). One REST call per
    /// Conversation, carried out in the background; it goes into the history at once. The answer
    /// carries its cost estimate. When this month's cost is at or over the neighborhood's budget
    /// the announcement is held instead (`held: true`) and goes out once the budget allows.
    #[oai(
        path = "/:id/messages",
        method = "post",
        operation_id = "post_announcement"
    )]
    async fn announce(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<AnnouncementIn>,
    ) -> Result<AnnounceResponse, ApiError> {
        policy::authorize(&state, auth.principal(), "post_announcement", Some(id.0)).await?;
        let text = announcement_text(&body.0)?;
        let neighborhood = crate::provisioning::active_neighborhood(&state, id.0).await?;
        let (member_id, name) = signer(&state, auth.principal(), &neighborhood).await?;
        let message_sid = format!("announcement-{}", Uuid::now_v7().simple());
        let signed = format!("{name}: {text}");
        let plan = costs::plan_announcement(&state, &neighborhood, &signed, &message_sid).await?;
        let held = plan.estimate.held;
        let entry = HistoryEntry {
            message_sid: message_sid.clone(),
            member_id,
            sender_name: name,
            body: text,
            conversation_sid: String::new(),
            at: rfc3339_now(),
        };
        if held {
            let waiting = HeldAnnouncement {
                message_sid: message_sid.clone(),
                member_id,
                sender_name: entry.sender_name.clone(),
                body: entry.body.clone(),
                signed,
                held_at: entry.at.clone(),
            };
            costs::hold(&state, id.0, &waiting).await?;
        } else {
            state
                .store
                .record_message(id.0, &entry, &plan.relays, state.settings.history_messages)
                .await?;
        }
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            if held { "message.hold" } else { "message.announce" },
            format!("message:{message_sid}"),
            serde_json::json!({"shards": neighborhood.shards.len(), "estimate": plan.estimate.cost.to_string()}),
        )
        .await;
        let stored = StoredMessage {
            id: String::new(),
            entry,
        };
        Ok(AnnounceResponse::Accepted(Json(AnnouncementOut {
            message: to_out(stored, &neighborhood.shards),
            held,
            estimate: estimate_out(&plan.estimate, &neighborhood),
        })))
    }

    /// Estimate an announcement
    ///
    /// What an announcement would cost if sent now: its encoding and segments (signed with
    /// your name, as the group would see it), the members it reaches, and the price, from the
    /// configured price table. Whether it would be held by the budget. Nothing is sent.
    #[oai(
        path = "/:id/messages/estimate",
        method = "post",
        operation_id = "estimate_announcement"
    )]
    async fn estimate(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        body: Json<AnnouncementIn>,
    ) -> Result<EstimateResponse, ApiError> {
        policy::authorize(
            &state,
            auth.principal(),
            "estimate_announcement",
            Some(id.0),
        )
        .await?;
        let text = announcement_text(&body.0)?;
        let neighborhood = crate::provisioning::active_neighborhood(&state, id.0).await?;
        let (_, name) = signer(&state, auth.principal(), &neighborhood).await?;
        let plan = costs::plan_announcement(
            &state,
            &neighborhood,
            &format!("{name}: {text}"),
            "estimate",
        )
        .await?;
        Ok(EstimateResponse::Ok(Json(estimate_out(
            &plan.estimate,
            &neighborhood,
        ))))
    }

    /// Message history
    ///
    /// The group's messages, newest first, in pages; `q` searches the text and the sender's
    /// name (any case), `sender` keeps one member's messages.
    #[oai(path = "/:id/messages", method = "get", operation_id = "list_messages")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// Words to look for in the text or the sender's name.
        q: Query<Option<String>>,
        /// Only this member's messages.
        sender: Query<Option<Uuid>>,
        /// Messages older than this `id` (the previous page's `next_before`).
        before: Query<Option<String>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u32>>,
    ) -> Result<ListResponse, ApiError> {
        policy::authorize(&state, auth.principal(), "list_messages", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_PAGE, MAX_PAGE);
        let before = before.0.filter(|b| !b.is_empty());
        errors.stream_cursor("before", before.as_deref());
        errors.finish()?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        let query =
            q.0.map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty());
        let page = state
            .store
            .messages(id.0, before.as_deref(), limit as usize + 1, |entry| {
                sender
                    .0
                    .is_none_or(|sender| entry.member_id == Some(sender))
                    && query.as_deref().is_none_or(|q| {
                        entry.body.to_lowercase().contains(q)
                            || entry.sender_name.to_lowercase().contains(q)
                    })
            })
            .await?;
        let more = page.len() > limit as usize;
        let items: Vec<MessageOut> = page
            .into_iter()
            .take(limit as usize)
            .map(|stored| to_out(stored, &neighborhood.shards))
            .collect();
        let next_before = more.then(|| items.last().map(|m| m.id.clone())).flatten();
        Ok(ListResponse::Ok(Json(MessagePage { items, next_before })))
    }
}

/// Twilio's limit for one outbound message body.
const MAX_BODY_CHARS: usize = 1600;

/// The announcement's text, trimmed: 1 to 1,600 characters.
fn announcement_text(body: &AnnouncementIn) -> Result<String, ApiError> {
    let text = body.body.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_BODY_CHARS {
        let mut errors = FieldErrors::default();
        errors.add(
            "body",
            format!("An announcement has 1 to {MAX_BODY_CHARS} characters."),
        );
        errors.finish()?;
    }
    Ok(text)
}

fn estimate_out(estimate: &costs::Estimate, neighborhood: &Neighborhood) -> AnnouncementEstimate {
    AnnouncementEstimate {
        encoding: estimate.encoding,
        segments: estimate.segments,
        recipients: estimate.recipients,
        new_active_users: estimate.new_active_users,
        sms_cost: estimate.sms.to_string(),
        active_users_cost: estimate.active_users.to_string(),
        cost: estimate.cost.to_string(),
        month_cost: estimate.month_cost.to_string(),
        monthly_budget: neighborhood.monthly_budget.map(|budget| budget.to_string()),
        held: estimate.held,
    }
}

/// The name an announcement is signed with: the captain's own, or the neighborhood's for tokens.
async fn signer(
    state: &AppState,
    principal: &Principal,
    neighborhood: &Neighborhood,
) -> Result<(Option<Uuid>, String), ApiError> {
    if let Some(phone) = principal.phone()
        && let Some(member) = state.store.member_by_phone(neighborhood.id, phone).await?
    {
        return Ok((Some(member.id), member.display_name.as_str().to_owned()));
    }
    Ok((None, neighborhood.name.as_str().to_owned()))
}

fn to_out(stored: StoredMessage, shards: &[crate::domain::neighborhood::Shard]) -> MessageOut {
    let entry = stored.entry;
    MessageOut {
        shard: shards
            .iter()
            .position(|shard| shard.conversation_sid == entry.conversation_sid)
            .map(|index| index as u32 + 1),
        id: stored.id,
        message_sid: entry.message_sid,
        sender_member_id: entry.member_id,
        sender_name: entry.sender_name,
        body: entry.body,
        at: entry.at,
    }
}
