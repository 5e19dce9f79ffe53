//! `/api/v1/neighborhoods/{id}/pictures` and `/media/{media_sid}`: a captain uploads a picture
//! for an announcement, and captains and moderators see the pictures of the group's messages,
//! read from Twilio through the service (see `services::pictures`).

use poem::http::header;
use poem::web::Data;
use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, Object, OpenApi,
};
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::ApiError;
use super::error::statuses::{
    Conflict, Invalid, NotFound, SignedIn, TooLarge, Twilio, Unavailable,
};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::media::{MAX_TOTAL_BYTES, PICTURE_TYPES};
use crate::services::neighborhoods;
use crate::services::pictures::{self, Picture};
use crate::state::AppState;

pub struct PicturesApi;

/// A picture as uploaded: the body is the file, its `Content-Type` its type.
pub struct PictureUpload {
    content_type: String,
    data: Vec<u8>,
}

impl<'a> ApiExtractor<'a> for PictureUpload {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<MetaRequest> {
        let binary = || {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                format: Some("binary"),
                ..MetaSchema::new("string")
            }))
        };
        Some(MetaRequest {
            description: None,
            content: PICTURE_TYPES
                .iter()
                .map(|content_type| MetaMediaType {
                    content_type,
                    schema: binary(),
                })
                .collect(),
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let content_type = request
            .header(header::CONTENT_TYPE)
            .map(|value| {
                value
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        // One byte past the limit is enough to know it is too large.
        let limit = MAX_TOTAL_BYTES as usize + 1;
        let data = <poem::Body as FromRequest>::from_request(request, body)
            .await?
            .into_bytes_limit(limit)
            .await
            .map_err(|_| ApiError::<TooLarge>::picture_too_large())?;
        Ok(Self {
            content_type,
            data: data.to_vec(),
        })
    }
}

/// An uploaded picture.
#[derive(Debug, Object)]
pub struct PictureOut {
    /// Name it as an announcement's `media_sid`.
    pub media_sid: String,
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
}

#[derive(ApiResponse)]
enum UploadResponse {
    /// Uploaded: send it with an announcement.
    #[oai(status = 201)]
    Created(Json<PictureOut>),
}

/// A picture, in its own type.
pub struct PictureFile(pub Picture);

impl Payload for PictureFile {
    const CONTENT_TYPE: &'static str = "image/*";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("The picture: JPEG, PNG or GIF, as its Content-Type says."),
            format: Some("binary"),
            ..MetaSchema::new("string")
        }))
    }
}

impl IntoResponse for PictureFile {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(self.0.content_type)
            // Private to whoever may see it, and never read as anything but a picture.
            .header(header::CACHE_CONTROL, "private, max-age=3600")
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox",
            )
            .body(self.0.data)
    }
}

#[derive(ApiResponse)]
enum PictureResponse {
    /// The picture.
    #[oai(status = 200)]
    Ok(PictureFile),
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Messages")]
impl PicturesApi {
    /// Upload a picture
    ///
    /// A picture to send with an announcement (`media_sid` of `POST .../messages`): the body is
    /// the file, JPEG, PNG or GIF (what every phone shows), at most 5 MB (Twilio's limit for a
    /// message to phones; 413 past it, 415 for another type). It is uploaded to Twilio at once;
    /// it goes to the whole group when the announcement does.
    #[oai(
        path = "/:id/pictures",
        method = "post",
        operation_id = "upload_picture"
    )]
    async fn upload(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        picture: PictureUpload,
    ) -> Result<UploadResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict, TooLarge, Twilio)>>
    {
        policy::authorize(&state, auth.principal(), "upload_picture", Some(id.0)).await?;
        let neighborhood = neighborhoods::active(&state, id.0).await?;
        let item =
            pictures::upload(&state, &neighborhood, &picture.content_type, &picture.data).await?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "picture.upload",
            format!("media:{}", item.sid),
            serde_json::json!({"content_type": item.content_type, "size": item.size}),
        )
        .await;
        Ok(UploadResponse::Created(Json(PictureOut {
            media_sid: item.sid,
            content_type: item.content_type,
            size: item.size,
        })))
    }

    /// A message's picture
    ///
    /// The picture `media_sid` of one of the neighborhood's messages (each message's `media`
    /// lists them), read from Twilio through the service: Twilio's addresses and credentials
    /// never reach the caller. Only pictures of this neighborhood's messages; 404 otherwise.
    #[oai(
        path = "/:id/media/:media_sid",
        method = "get",
        operation_id = "get_message_picture"
    )]
    async fn picture(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        media_sid: Path<String>,
    ) -> Result<PictureResponse, ApiError<(SignedIn, Invalid, NotFound, Twilio, Unavailable)>> {
        policy::authorize(&state, auth.principal(), "get_message_picture", Some(id.0)).await?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        let picture = pictures::picture(&state, &neighborhood, &media_sid.0).await?;
        Ok(PictureResponse::Ok(PictureFile(picture)))
    }
}
