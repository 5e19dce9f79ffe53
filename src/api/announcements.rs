//! `/api/v1/neighborhoods/{id}/announcements`: the captains' announcements, sent, scheduled and
//! cancelled; a scheduled one may be edited or cancelled until it is sent. They are written with
//! `POST .../messages` (see `api::messages`).

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audiences::AudienceBody;
use super::audit::record;
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::announcement::{
    Announcement, AnnouncementBody, AnnouncementChanges, AnnouncementState, parse_send_at,
};
use crate::domain::quiet_hours::QuietHours;
use crate::services::announcements;
use crate::state::AppState;

pub struct AnnouncementsApi;

/// An announcement to the whole group or a chosen audience.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AnnouncementOut {
    /// Id (UUID v7).
    pub id: Uuid,
    /// The text, without the name the group sees in front of it.
    pub body: String,
    /// The name it is signed with: the captain's, or the neighborhood's for an API token.
    pub signed_as: String,
    /// The captain who wrote it (absent for an API token).
    pub signer_member_id: Option<Uuid>,
    /// `scheduled`, `sent` or `cancelled`.
    pub state: AnnouncementState,
    /// The time asked for; for one posted to go now, the moment it was posted.
    pub send_at: OffsetDateTime,
    /// Sent even during quiet hours.
    pub urgent: bool,
    /// Scheduled ones: when it will go out, `send_at` moved past the neighborhood's quiet hours
    /// (unless urgent), as they are now.
    pub scheduled_for: Option<OffsetDateTime>,
    /// Scheduled ones: true when quiet hours hold it past `send_at`.
    pub waits_for_quiet_hours: bool,
    /// Sent ones: its entry in the message history (`message_sid` there).
    pub message_sid: Option<String>,
    /// When it was written.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// When it was sent.
    pub sent_at: Option<OffsetDateTime>,
    /// When it was cancelled.
    pub cancelled_at: Option<OffsetDateTime>,
    /// Whom it goes to, when not everyone.
    pub audience: Option<AudienceBody>,
}

/// A page of announcements.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AnnouncementPage {
    /// Newest first.
    pub items: Vec<AnnouncementOut>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<Uuid>,
}

/// Changes to a scheduled announcement; omitted fields stay as they are.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct AnnouncementPatch {
    /// New text (1 to 1,600 characters).
    pub body: Option<String>,
    /// New time to send (RFC 3339 with an offset, in the future, at most a year ahead).
    pub send_at: Option<String>,
    /// Send even during quiet hours.
    pub urgent: Option<bool>,
}

#[derive(ApiResponse)]
enum ListResponse {
    /// The announcements.
    #[oai(status = 200)]
    Ok(Json<AnnouncementPage>),
}

#[derive(ApiResponse)]
enum AnnouncementResponse {
    /// The announcement.
    #[oai(status = 200)]
    Ok(Json<AnnouncementOut>),
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Messages")]
impl AnnouncementsApi {
    /// List announcements
    ///
    /// The captains' announcements, newest first: scheduled ones with the time they will go out
    /// (`scheduled_for`, after quiet hours unless urgent), sent ones, cancelled ones.
    #[oai(
        path = "/:id/announcements",
        method = "get",
        operation_id = "list_announcements"
    )]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// Only announcements in this state.
        #[oai(name = "state")]
        wanted: Query<Option<AnnouncementState>>,
        /// Announcements older than this id (the previous page's `next_before`).
        before: Query<Option<Uuid>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u32>>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "list_announcements", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_PAGE, MAX_PAGE) as usize;
        errors.finish()?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        let now = OffsetDateTime::now_utc();
        let mut matching: Vec<Announcement> = state
            .store
            .announcements(id.0)
            .await?
            .into_iter()
            .filter(|a| before.0.is_none_or(|before| a.id < before))
            .filter(|a| wanted.0.is_none_or(|wanted| a.state == wanted))
            .take(limit + 1)
            .collect();
        let more = matching.len() > limit;
        matching.truncate(limit);
        let next_before = more.then(|| matching.last().map(|a| a.id)).flatten();
        let items = matching
            .into_iter()
            .map(|a| to_out(a, neighborhood.quiet_hours.as_ref(), now))
            .collect();
        Ok(ListResponse::Ok(Json(AnnouncementPage {
            items,
            next_before,
        })))
    }

    /// Get an announcement
    #[oai(
        path = "/:id/announcements/:announcement_id",
        method = "get",
        operation_id = "get_announcement"
    )]
    async fn get(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        announcement_id: Path<Uuid>,
    ) -> Result<AnnouncementResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "get_announcement", Some(id.0)).await?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        let announcement = state
            .store
            .announcement(id.0, announcement_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("announcement"))?;
        let out = to_out(
            announcement,
            neighborhood.quiet_hours.as_ref(),
            OffsetDateTime::now_utc(),
        );
        Ok(AnnouncementResponse::Ok(Json(out)))
    }

    /// Edit a scheduled announcement
    ///
    /// Captains and the owner. Changes the text, the time or whether it is urgent, until it is
    /// sent: a sent or cancelled one answers 409 (`announcement_sent`, `announcement_cancelled`).
    #[oai(
        path = "/:id/announcements/:announcement_id",
        method = "patch",
        operation_id = "update_announcement"
    )]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        announcement_id: Path<Uuid>,
        body: Json<AnnouncementPatch>,
    ) -> Result<AnnouncementResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "update_announcement", Some(id.0)).await?;
        let changes = parse_patch(&body.0)?;
        let neighborhood = crate::services::neighborhoods::active(&state, id.0).await?;
        let updated =
            announcements::update(&state, &neighborhood, announcement_id.0, changes).await?;
        let detail = serde_json::json!({
            "body_changed": body.0.body.is_some(),
            "send_at": body.0.send_at,
            "urgent": body.0.urgent,
        });
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "announcement.update",
            format!("announcement:{}", updated.id),
            detail,
        )
        .await;
        let now = OffsetDateTime::now_utc();
        let out = to_out(updated, neighborhood.quiet_hours.as_ref(), now);
        Ok(AnnouncementResponse::Ok(Json(out)))
    }

    /// Cancel a scheduled announcement
    ///
    /// Captains and the owner. It will not be sent; cancelling it again changes nothing. A sent
    /// one answers 409 (`announcement_sent`).
    #[oai(
        path = "/:id/announcements/:announcement_id",
        method = "delete",
        operation_id = "cancel_announcement"
    )]
    async fn cancel(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        announcement_id: Path<Uuid>,
    ) -> Result<AnnouncementResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "cancel_announcement", Some(id.0)).await?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        let (cancelled, changed) = announcements::cancel(&state, id.0, announcement_id.0).await?;
        if changed {
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "announcement.cancel",
                format!("announcement:{}", cancelled.id),
                serde_json::json!({}),
            )
            .await;
        }
        let now = OffsetDateTime::now_utc();
        let out = to_out(cancelled, neighborhood.quiet_hours.as_ref(), now);
        Ok(AnnouncementResponse::Ok(Json(out)))
    }
}

fn parse_patch<S>(body: &AnnouncementPatch) -> Result<AnnouncementChanges, ApiError<S>> {
    let mut errors = FieldErrors::default();
    let now = OffsetDateTime::now_utc();
    let changes = AnnouncementChanges {
        body: body
            .body
            .as_deref()
            .and_then(|text| errors.check("body", AnnouncementBody::parse(text))),
        send_at: body
            .send_at
            .as_deref()
            .and_then(|at| errors.check("send_at", parse_send_at(at, now))),
        urgent: body.urgent,
    };
    errors.finish()?;
    Ok(changes)
}

/// The announcement as the API shows it, with its send time as quiet hours stand `now`.
pub fn to_out(
    announcement: Announcement,
    quiet: Option<&QuietHours>,
    now: OffsetDateTime,
) -> AnnouncementOut {
    let scheduled = announcement.state == AnnouncementState::Scheduled;
    let scheduled_for = scheduled.then(|| announcement.sends_at(quiet, now));
    AnnouncementOut {
        waits_for_quiet_hours: scheduled_for.is_some_and(|at| at > announcement.send_at.max(now)),
        scheduled_for,
        message_sid: (announcement.state == AnnouncementState::Sent)
            .then(|| announcement.message_sid()),
        id: announcement.id,
        body: announcement.body.into(),
        signed_as: announcement.signer_name,
        signer_member_id: announcement.signer_member_id,
        state: announcement.state,
        send_at: announcement.send_at,
        urgent: announcement.urgent,
        created_at: announcement.created_at,
        updated_at: announcement.updated_at,
        sent_at: announcement.sent_at,
        cancelled_at: announcement.cancelled_at,
        audience: announcement
            .audience
            .as_ref()
            .map(super::audiences::to_body),
    }
}
