//! mcs.us1.twilio.com, the Media Content Service (`/mcs/v1/...`): a media uploaded as the raw
//! request body with its `Content-Type`, fetched as a Media resource whose
//! `links.content_direct_temporary` works without credentials for 300 seconds, and its bytes.

use poem::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Call, Reply, not_found};
use crate::sandbox::Emulator;
use crate::sandbox::media::{TEMPORARY_URL_SECS, is_media_sid, sign, signature_holds};
use crate::sandbox::records::{EmulatorResult, ErrorAnswer};

impl Emulator {
    /// Paths after `/mcs/v1`.
    pub(super) async fn serve_mcs(&self, call: &Call, rest: &[&str]) -> EmulatorResult<Reply> {
        let service_sid = self.chat_service_sid();
        match (&call.method, rest) {
            (_, ["Services", service, ..]) if *service != service_sid => not_found(call),
            (&Method::POST, ["Services", _, "Media"]) => {
                if call.body.is_empty() {
                    return Err(ErrorAnswer::new(
                        400,
                        20001,
                        "Missing media content: send the file as the request body",
                    )
                    .into());
                }
                let content_type = call
                    .content_type
                    .as_deref()
                    .map(str::trim)
                    .filter(|content_type| !content_type.is_empty())
                    .unwrap_or("application/octet-stream");
                let media = self
                    .create_media(content_type, &call.body, None, None)
                    .await?;
                Ok(Reply::Json(StatusCode::CREATED, Some(media)))
            }
            (&Method::GET, ["Services", _, "Media", sid]) => {
                let Some(mut media) = self.known_media(sid).await? else {
                    return not_found(call);
                };
                media["links"]["content_direct_temporary"] = json!(self.temporary_content_url(sid));
                Ok(Reply::Json(StatusCode::OK, Some(media)))
            }
            (&Method::GET, ["Services", _, "Media", sid, "Content"]) => {
                let (Some(media), Some(bytes)) =
                    (self.known_media(sid).await?, self.media_content(sid).await?)
                else {
                    return not_found(call);
                };
                let content_type = media["content_type"]
                    .as_str()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                Ok(Reply::Content {
                    content_type,
                    bytes,
                })
            }
            _ => not_found(call),
        }
    }

    async fn known_media(&self, sid: &str) -> EmulatorResult<Option<Value>> {
        if !is_media_sid(sid) {
            return Ok(None);
        }
        self.media_entry(sid).await
    }

    /// A content URL that needs no credentials, good for [`TEMPORARY_URL_SECS`] by the emulator's
    /// clock.
    pub(in crate::sandbox) fn temporary_content_url(&self, media_sid: &str) -> String {
        let service_sid = self.chat_service_sid();
        let expires = self.config().clock.now().unix_timestamp() + TEMPORARY_URL_SECS;
        let signature = sign(self.auth_token().expose(), &service_sid, media_sid, expires);
        format!(
            "{}/mcs/v1/Services/{service_sid}/Media/{media_sid}/Content?Expires={expires}&Signature={signature}",
            self.config().public_base
        )
    }

    /// For a request without credentials: `None` unless it asks for a media's content with a
    /// `Signature`, else whether its signature holds now.
    pub(super) fn signed_content_holds(
        &self,
        method: &Method,
        segments: &[String],
        query: &[(String, String)],
    ) -> Option<bool> {
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let ["mcs", "v1", "Services", service, "Media", media, "Content"] = segments.as_slice()
        else {
            return None;
        };
        let param = |name: &str| {
            query
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let signature = param("Signature").filter(|_| method == Method::GET)?;
        Some(signature_holds(
            self.auth_token().expose(),
            service,
            media,
            param("Expires").unwrap_or_default(),
            signature,
            self.config().clock.now().unix_timestamp(),
        ))
    }
}
