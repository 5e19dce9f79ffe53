//! `GET /api/v1/neighborhoods/{id}/catch-up/{code}`: the read-only page of recent messages a new
//! member's catch-up link opens, once.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::ApiError;
use super::error::statuses::{Invalid, NotFound, Twilio, Unavailable};
use super::pictures::PictureFile;
use crate::services::pictures;
use crate::services::provisioning::ProvisionError;
use crate::state::AppState;

pub struct CatchUpApi;

/// One message as the group saw it.
#[derive(Debug, Object)]
pub struct CatchUpMessage {
    /// Who wrote it.
    pub sender_name: String,
    /// What they wrote.
    pub body: String,
    /// When (RFC 3339).
    pub at: String,
    /// Its pictures, each at an address that shows it for an hour (the page has no session).
    pub media: Vec<CatchUpPicture>,
}

/// A picture of a message on the catch-up page.
#[derive(Debug, Object)]
pub struct CatchUpPicture {
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where the page reads it (`GET .../shared-pictures/{media_sid}?expires=...&signature=...`).
    pub url: String,
}

#[derive(ApiResponse)]
enum SharedPictureResponse {
    /// The picture.
    #[oai(status = 200)]
    Ok(PictureFile),
}

/// What a catch-up link shows.
#[derive(Debug, Object)]
pub struct CatchUpOut {
    /// The neighborhood's name.
    pub neighborhood: String,
    /// The latest messages, oldest first.
    pub messages: Vec<CatchUpMessage>,
}

#[derive(ApiResponse)]
enum CatchUpResponse {
    /// The messages; the link is used up.
    #[oai(status = 200)]
    Ok(Json<CatchUpOut>),
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Messages")]
impl CatchUpApi {
    /// Open a catch-up link
    ///
    /// Public: the code in the link texted to a new member is the key. It opens once, within 7
    /// days; after that the answer is 404.
    #[oai(
        path = "/:id/catch-up/:code",
        method = "get",
        operation_id = "open_catch_up"
    )]
    async fn open(
        &self,
        state: Data<&AppState>,
        id: Path<Uuid>,
        code: Path<String>,
    ) -> Result<CatchUpResponse, ApiError<(Invalid, NotFound, Unavailable)>> {
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or(ProvisionError::NotFound)?;
        let Some(messages) = crate::services::catch_up::redeem(&state, id.0, &code.0).await? else {
            return Err(ApiError::gone_link(
                "This link has been opened already or has expired. Ask a captain if you missed something.",
            ));
        };
        Ok(CatchUpResponse::Ok(Json(CatchUpOut {
            neighborhood: neighborhood.name.as_str().to_owned(),
            messages: messages
                .into_iter()
                .map(|message| CatchUpMessage {
                    media: message
                        .entry
                        .media
                        .into_iter()
                        .map(|item| {
                            let (expires, signature) = pictures::share(&state, id.0, &item.sid);
                            CatchUpPicture {
                                url: format!(
                                    "/api/v1/neighborhoods/{}/shared-pictures/{}?expires={expires}&signature={signature}",
                                    id.0, item.sid
                                ),
                                content_type: item.content_type,
                                size: item.size,
                            }
                        })
                        .collect(),
                    sender_name: message.entry.sender_name,
                    body: message.entry.body,
                    at: message.entry.at,
                })
                .collect(),
        })))
    }

    /// A catch-up page's picture
    ///
    /// Public: the address `open_catch_up` gave for one picture, signed and good for an hour;
    /// 404 once it expired, for any other picture or a wrong signature.
    #[oai(
        path = "/:id/shared-pictures/:media_sid",
        method = "get",
        operation_id = "open_shared_picture"
    )]
    async fn shared_picture(
        &self,
        state: Data<&AppState>,
        id: Path<Uuid>,
        media_sid: Path<String>,
        /// When the address stops working (Unix seconds).
        expires: Query<i64>,
        signature: Query<String>,
    ) -> Result<SharedPictureResponse, ApiError<(Invalid, NotFound, Twilio, Unavailable)>> {
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or(ProvisionError::NotFound)?;
        let picture =
            pictures::shared(&state, &neighborhood, &media_sid.0, expires.0, &signature.0).await?;
        Ok(SharedPictureResponse::Ok(PictureFile(picture)))
    }
}
