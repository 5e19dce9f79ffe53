//! `/api/v1/neighborhoods/{id}/invites`: captains text invites with a personal link, share the
//! neighborhood's link, or print its QR code on a flyer.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json, PlainText};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, ResponseContent};
use serde_json::json;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, RateLimited, SignedIn};
use super::error::{ApiError, FieldError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::channel::Channel;
use crate::domain::phone::Phone;
use crate::services::invites::{self, InviteError};
use crate::services::sending;
use crate::state::AppState;

pub struct InvitesApi;

/// Phones to invite.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct InvitesIn {
    /// Up to 100 phone numbers, as people write them.
    pub phones: Vec<String>,
    /// `sms` (the default), or `whatsapp` where the neighborhood has a WhatsApp sender and the
    /// account the invite template: the invite then goes on WhatsApp as that template.
    pub channel: Option<Channel>,
}

/// A phone that was not invited, and why.
#[derive(Debug, Object)]
pub struct SkippedInvite {
    /// The phone as given.
    pub phone: String,
    /// Why: `already_member`, `duplicate`, or `daily_limit`.
    pub reason: String,
}

/// What was sent.
#[derive(Debug, Object)]
pub struct InvitesOut {
    /// Phones an invite is on its way to (E.164).
    pub invited: Vec<String>,
    /// Phones left out.
    pub skipped: Vec<SkippedInvite>,
}

/// How to share the neighborhood.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InviteLinkOut {
    /// The public join page.
    pub url: String,
    /// The number to text.
    pub phone_number: String,
    /// The number to write to on WhatsApp, when the neighborhood has a WhatsApp sender.
    pub whatsapp_number: Option<String>,
    /// A line for flyers.
    pub flyer_text: String,
}

/// QR image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum QrFormat {
    /// Scales for print.
    Svg,
    /// A bitmap.
    Png,
}

#[derive(ApiResponse)]
enum SendResponse {
    /// Invites are on their way.
    #[oai(status = 202)]
    Accepted(Json<InvitesOut>),
}

#[derive(ApiResponse)]
enum LinkResponse {
    /// The link and the flyer line.
    #[oai(status = 200)]
    Ok(Json<InviteLinkOut>),
}

/// The QR code in the format asked for.
#[derive(ResponseContent)]
enum QrImage {
    #[oai(content_type = "image/svg+xml")]
    Svg(PlainText<String>),
    #[oai(content_type = "image/png")]
    Png(Binary<Vec<u8>>),
}

// One status with two media types: two variants of status 200 would document only the last.
#[derive(ApiResponse)]
enum QrResponse {
    /// The join link as a QR code: SVG (`format=svg`, the default) or PNG (`format=png`).
    #[oai(status = 200)]
    Ok(QrImage),
}

const MAX_INVITES: usize = 100;

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Invites")]
impl InvitesApi {
    /// Text invites
    ///
    /// Texts each phone a personal join link from the neighborhood's number (or sends it on
    /// WhatsApp from its sender, `channel`: `whatsapp`). Members and repeats are skipped; at most
    /// 200 invites per neighborhood per day.
    #[oai(path = "/:id/invites", method = "post", operation_id = "send_invites")]
    async fn send(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<InvitesIn>,
    ) -> Result<SendResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict, RateLimited)>> {
        policy::authorize(&state, auth.principal(), "send_invites", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        if body.0.phones.is_empty() || body.0.phones.len() > MAX_INVITES {
            errors.add("phones", format!("Give 1 to {MAX_INVITES} phone numbers."));
        }
        let phones: Vec<Phone> = body
            .0
            .phones
            .iter()
            .enumerate()
            .filter_map(|(n, phone)| {
                let phone = errors.check(&format!("phones[{n}]"), Phone::parse(phone))?;
                if !sending::country_allowed(&state, &phone) {
                    errors.add(
                        &format!("phones[{n}]"),
                        sending::country_refusal(&state, crate::i18n::Language::ENGLISH),
                    );
                }
                Some(phone)
            })
            .collect();
        errors.finish()?;
        let neighborhood = crate::services::neighborhoods::active(&state, id.0).await?;
        // An invite from someone the neighbor knows reads as one, not as spam.
        let inviter = auth.principal().member_name_in(&state, id.0).await?;
        let channel = body.0.channel.unwrap_or_default();
        let sent = invites::send(&state, &neighborhood, inviter.as_deref(), phones, channel)
            .await
            .map_err(|error| match error {
                InviteError::Limited { retry_after_secs } => ApiError::rate_limited(retry_after_secs),
                InviteError::NoWhatsapp => ApiError::validation(vec![FieldError {
                    field: "channel".to_owned(),
                    message: "This neighborhood cannot invite on WhatsApp: it needs a WhatsApp sender (Settings) and the invite template (NT_WHATSAPP_INVITE_TEMPLATE_SID).".to_owned(),
                }]),
                InviteError::Store(cause) => cause.into(),
            })?;
        let invited: Vec<String> = sent
            .invited
            .iter()
            .map(|phone| phone.as_str().to_owned())
            .collect();
        let skipped = sent
            .skipped
            .iter()
            .map(|(phone, why)| SkippedInvite {
                phone: phone.as_str().to_owned(),
                reason: why.as_str().to_owned(),
            })
            .collect();
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "invites.send",
            format!("neighborhood:{}", id.0),
            json!({"count": invited.len(), "channel": channel}),
        )
        .await;
        Ok(SendResponse::Accepted(Json(InvitesOut {
            invited,
            skipped,
        })))
    }

    /// Invite link
    ///
    /// The public join page and a line for flyers.
    #[oai(
        path = "/:id/invites/link",
        method = "get",
        operation_id = "invite_link"
    )]
    async fn link(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<LinkResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "invite_link", Some(id.0)).await?;
        let neighborhood = crate::services::neighborhoods::active(&state, id.0).await?;
        Ok(LinkResponse::Ok(Json(InviteLinkOut {
            url: invites::join_url(&state, &neighborhood),
            flyer_text: invites::flyer_text(&neighborhood),
            whatsapp_number: neighborhood
                .whatsapp_sender
                .as_ref()
                .map(|sender| sender.as_str().to_owned()),
            phone_number: neighborhood.phone_number.into(),
        })))
    }

    /// Invite QR code
    ///
    /// The join link as a QR code for a printed flyer: SVG (default) or PNG.
    #[oai(path = "/:id/invites/qr", method = "get", operation_id = "invite_qr")]
    async fn qr(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        format: Query<Option<QrFormat>>,
    ) -> Result<QrResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "invite_qr", Some(id.0)).await?;
        let neighborhood = crate::services::neighborhoods::active(&state, id.0).await?;
        let link = invites::join_url(&state, &neighborhood);
        let failed = |error: crate::qr::QrError| ApiError::internal_message(&error.to_string());
        Ok(match format.0.unwrap_or(QrFormat::Svg) {
            QrFormat::Svg => QrResponse::Ok(QrImage::Svg(PlainText(
                crate::qr::svg(&link).map_err(failed)?,
            ))),
            QrFormat::Png => {
                QrResponse::Ok(QrImage::Png(Binary(crate::qr::png(&link).map_err(failed)?)))
            }
        })
    }
}
