//! `/api/v1/neighborhoods/{id}/messages`: what the group said, newest first, and announcements
//! from the captains to every Conversation, now or scheduled (`api::announcements` lists them),
//! with what they cost (and held while the month is over its budget). The history holds names,
//! never phone numbers, and keeps the newest `NT_HISTORY_MESSAGES` messages.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::ApiTags;
use super::announcements::{AnnouncementOut, to_out as announcement_out};
use super::audiences::AudienceBody;
use super::audit::record;
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::auth::principal::Principal;
use crate::domain::announcement::{AnnouncementBody, parse_send_at};
use crate::domain::media::MediaItem;
use crate::domain::neighborhood::Neighborhood;
use crate::domain::segments::Encoding;
use crate::services::announcements::{self, NewAnnouncement, Posted};
use crate::services::costs;
use crate::services::pictures;
use crate::state::AppState;
use crate::store::messages::{HistoryEntry, StoredMessage};

pub struct MessagesApi;

/// One message of the group.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
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
    /// An announcement to a chosen audience: who it was texted to, in words ("14 people on Elm
    /// Ave"). Absent for the group's messages and announcements to everyone.
    pub audience: Option<String>,
    /// Which of the neighborhood's Conversations it was written in (1 for the first).
    pub shard: Option<u32>,
    /// When it was received (RFC 3339).
    pub at: String,
    /// Its pictures, by type and size (their content stays at Twilio).
    pub media: Vec<MediaOut>,
}

/// One picture of a message.
#[derive(Debug, Object)]
pub struct MediaOut {
    /// Its type, like `image/jpeg`.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its id: `GET .../media/{media_sid}` shows it.
    pub media_sid: String,
}

/// One page of messages.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MessagePage {
    /// Newest first.
    pub items: Vec<MessageOut>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<String>,
}

/// An announcement to the whole group or a chosen audience, now or at a time.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct AnnouncementIn {
    /// The text (1 to 1,600 characters); the group sees it signed with your name.
    pub body: String,
    /// When to send it (RFC 3339 with an offset, like `2026-12-24T18:00:00-08:00`; in the
    /// future, at most a year ahead). Omitted: now.
    pub send_at: Option<String>,
    /// Send even during the neighborhood's quiet hours (default false).
    pub urgent: Option<bool>,
    /// Whom it goes to; omitted: everyone, through the group's Conversations. Any other
    /// audience is texted one to one from the neighborhood's number, each member once, and must
    /// hold at least one active member when posted.
    pub audience: Option<AudienceBody>,
    /// A picture to send with it, uploaded first (`POST .../pictures`); to everyone only.
    pub media_sid: Option<String>,
}

/// What an announcement is expected to cost, before it is sent.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AnnouncementEstimate {
    /// Encoding of the signed text: `gsm7`, or `ucs2` when any character is outside GSM-7.
    pub encoding: Encoding,
    /// With `ucs2`: the first character outside GSM-7, which made the whole text UCS-2 (it may
    /// be in the name the text is signed with).
    pub ucs2_character: Option<String>,
    /// SMS segments of the text as the group sees it (signed with the sender's name).
    pub segments: u32,
    /// Members it reaches, across every Conversation, or texted one to one for a chosen
    /// audience.
    pub recipients: u64,
    /// For a chosen audience, whom it reaches in words ("14 people on Elm Ave").
    pub audience: Option<String>,
    /// Of those, members not yet counted as Conversations active users this month.
    pub new_active_users: u64,
    /// segments × SMS recipients × the outbound segment price, in US dollars; with a picture,
    /// SMS recipients × the MMS price.
    pub sms_cost: String,
    /// WhatsApp recipients × the per-message fee, in US dollars.
    pub whatsapp_cost: String,
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

/// An announcement accepted to go now.
#[derive(Debug, Object)]
pub struct AnnouncedOut {
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
    /// Accepted to go now: on its way to every Conversation of the neighborhood and in the
    /// history, or held by the budget (`held`).
    #[oai(status = 202)]
    Accepted(Json<AnnouncedOut>),
    /// Scheduled: it waits for `send_at`, or, posted to go now during quiet hours and not
    /// urgent, for quiet hours to end; `scheduled_for` says when it will go out. It is listed
    /// under `.../announcements` and may be edited or cancelled until then.
    #[oai(status = 201)]
    Scheduled(Json<AnnouncementOut>),
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
    /// captain's name (an API token signs with the neighborhood's name): one REST call per
    /// Conversation, carried out in the background; it goes into the history at once (202, with
    /// its cost estimate). When this month's cost is at or over the neighborhood's budget it is
    /// held instead (202, `held: true`) and goes out once the budget allows. With `send_at` it is
    /// scheduled (201). During the neighborhood's quiet hours an announcement waits for them to
    /// end, unless `urgent`: posted to go now, it is then scheduled for their end (201).
    ///
    /// With an `audience` other than everyone (streets, roles, picked members; see
    /// `GET .../audiences`) it is texted one to one from the neighborhood's number to each
    /// active member of the audience when it goes out, each once (a text whose answer was lost
    /// is looked up at Twilio before it is sent again), under the same budget, quiet hours and
    /// signature; 1:1 texts also count against the daily cap on 1:1 texts
    /// (`NT_DAILY_TEXTS_PER_NEIGHBORHOOD`). The history shows it with its audience.
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
    ) -> Result<AnnounceResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "post_announcement", Some(id.0)).await?;
        let now = OffsetDateTime::now_utc();
        let mut errors = FieldErrors::default();
        let text = errors.check("body", AnnouncementBody::parse(&body.0.body));
        let send_at = match body.0.send_at.as_deref() {
            Some(at) => errors.check("send_at", parse_send_at(at, now)),
            None => None,
        };
        let audience = super::audiences::parse(body.0.audience.as_ref(), &mut errors);
        let media = picture(&state, id.0, &body.0, audience.is_some(), &mut errors).await?;
        // A missing body always comes with its field error.
        let Some(text) = text else {
            return Err(errors.into_error());
        };
        errors.finish()?;
        let neighborhood = crate::services::neighborhoods::active(&state, id.0).await?;
        let (member_id, name) = signer(&state, auth.principal(), &neighborhood).await?;
        let new = NewAnnouncement {
            body: text,
            send_at,
            urgent: body.0.urgent.unwrap_or(false),
            signer: (member_id, name),
            created_by: auth.principal().actor(),
            audience,
            media,
        };
        match announcements::post(&state, &neighborhood, new).await? {
            Posted::Held(waiting, estimate) => {
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "message.hold",
                    format!("message:{}", waiting.message_sid),
                    serde_json::json!({"shards": neighborhood.shards.len(), "estimate": estimate.cost.to_string(), "audience": estimate.audience}),
                )
                .await;
                let entry = HistoryEntry {
                    message_sid: waiting.message_sid,
                    member_id: waiting.member_id,
                    sender_name: waiting.sender_name,
                    body: waiting.body,
                    conversation_sid: String::new(),
                    at: waiting.held_at,
                    audience: estimate.audience.clone(),
                    media: waiting.media.into_iter().collect(),
                };
                Ok(AnnounceResponse::Accepted(Json(AnnouncedOut {
                    message: to_out(
                        StoredMessage {
                            id: String::new(),
                            entry,
                        },
                        &neighborhood.shards,
                    ),
                    held: true,
                    estimate: estimate_out(&estimate, &neighborhood),
                })))
            }
            Posted::Sent(announcement, entry, estimate) => {
                let detail = serde_json::json!({
                    "shards": neighborhood.shards.len(),
                    "announcement": format!("announcement:{}", announcement.id),
                    "urgent": announcement.urgent,
                    "audience": estimate.audience,
                });
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "message.announce",
                    format!("message:{}", entry.message_sid),
                    detail,
                )
                .await;
                let stored = StoredMessage {
                    id: String::new(),
                    entry,
                };
                Ok(AnnounceResponse::Accepted(Json(AnnouncedOut {
                    message: to_out(stored, &neighborhood.shards),
                    held: false,
                    estimate: estimate_out(&estimate, &neighborhood),
                })))
            }
            Posted::Scheduled(announcement) => {
                let out = announcement_out(announcement, neighborhood.quiet_hours.as_ref(), now);
                let detail = serde_json::json!({
                    "send_at": body.0.send_at,
                    "scheduled_for": out.scheduled_for.and_then(|at| at.format(&Rfc3339).ok()),
                    "waits_for_quiet_hours": out.waits_for_quiet_hours,
                    "urgent": out.urgent,
                    "audience": out.audience.as_ref().map(|a| a.kind.as_str()),
                });
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "announcement.schedule",
                    format!("announcement:{}", out.id),
                    detail,
                )
                .await;
                Ok(AnnounceResponse::Scheduled(Json(out)))
            }
        }
    }

    /// Estimate an announcement
    ///
    /// What an announcement would cost if sent now: its encoding and segments (signed with
    /// your name, as the group would see it), the members it reaches, and the price, from the
    /// configured price table. Whether it would be held by the budget. Nothing is sent. With an
    /// `audience`, the members of it who would be texted now (none is not an error here).
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
    ) -> Result<EstimateResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(
            &state,
            auth.principal(),
            "estimate_announcement",
            Some(id.0),
        )
        .await?;
        let mut errors = FieldErrors::default();
        let text = errors.check("body", AnnouncementBody::parse(&body.0.body));
        let audience = super::audiences::parse(body.0.audience.as_ref(), &mut errors);
        let media = picture(&state, id.0, &body.0, audience.is_some(), &mut errors).await?;
        let Some(text) = text else {
            return Err(errors.into_error());
        };
        errors.finish()?;
        let neighborhood = crate::services::neighborhoods::active(&state, id.0).await?;
        let (_, name) = signer(&state, auth.principal(), &neighborhood).await?;
        let signed = format!("{name}: {}", text.as_str());
        let estimate = announcements::estimate(
            &state,
            &neighborhood,
            &signed,
            audience.as_ref(),
            media.as_ref(),
        )
        .await?;
        Ok(EstimateResponse::Ok(Json(estimate_out(
            &estimate,
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
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
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

/// The announcement's picture, if it names one: one of the neighborhood's uploads, and for
/// everyone (a chosen audience is texted one to one, without pictures).
async fn picture<S>(
    state: &AppState,
    neighborhood_id: Uuid,
    body: &AnnouncementIn,
    chosen_audience: bool,
    errors: &mut FieldErrors,
) -> Result<Option<MediaItem>, ApiError<S>> {
    let Some(media_sid) = body.media_sid.as_deref() else {
        return Ok(None);
    };
    if chosen_audience {
        errors.add(
            "media_sid",
            "A picture goes to the whole group only: leave out the audience, or the picture.",
        );
        return Ok(None);
    }
    let item = pictures::uploaded(state, neighborhood_id, media_sid).await?;
    if item.is_none() {
        errors.add(
            "media_sid",
            "No picture of this neighborhood has that id: upload it first (POST .../pictures).",
        );
    }
    Ok(item)
}

fn estimate_out(estimate: &costs::Estimate, neighborhood: &Neighborhood) -> AnnouncementEstimate {
    AnnouncementEstimate {
        encoding: estimate.encoding,
        ucs2_character: estimate.ucs2_character.map(String::from),
        audience: estimate.audience.clone(),
        segments: estimate.segments,
        recipients: estimate.recipients,
        new_active_users: estimate.new_active_users,
        sms_cost: estimate.sms.to_string(),
        whatsapp_cost: estimate.whatsapp.to_string(),
        active_users_cost: estimate.active_users.to_string(),
        cost: estimate.cost.to_string(),
        month_cost: estimate.month_cost.to_string(),
        monthly_budget: neighborhood.monthly_budget.map(|budget| budget.to_string()),
        held: estimate.held,
    }
}

/// The name an announcement is signed with: the captain's own, or the neighborhood's for tokens.
async fn signer<S>(
    state: &AppState,
    principal: &Principal,
    neighborhood: &Neighborhood,
) -> Result<(Option<Uuid>, String), ApiError<S>> {
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
        audience: entry.audience.map(|audience| format!("To {audience}")),
        at: entry.at,
        media: entry
            .media
            .into_iter()
            .map(|item| MediaOut {
                content_type: item.content_type,
                size: item.size,
                media_sid: item.sid,
            })
            .collect(),
    }
}
