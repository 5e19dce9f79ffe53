//! The Media Content Service (MCS, `mcs.us1.twilio.com/v1`): where a Conversation's pictures
//! live. A picture is uploaded as a file into the Conversations service, then attached to a new
//! message by its `ME...` SID; it is read back through a time-limited URL that needs no
//! credentials, which is why ours are never sent with it.

use reqwest::Method;
use serde::Deserialize;

use super::client::{TwilioClient, decode, observe};
use super::error::TwilioError;
use super::urls::Host;

/// A Media resource, as MCS answers for an upload or a fetch.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaResource {
    pub sid: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub links: MediaLinks,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MediaLinks {
    /// The content's time-limited address, good for a few minutes without credentials.
    #[serde(default)]
    pub content_direct_temporary: Option<String>,
}

impl TwilioClient {
    /// Uploads one file into the Conversations service `chat_service_sid`.
    pub async fn upload_media(
        &self,
        chat_service_sid: &str,
        content_type: &str,
        data: &[u8],
    ) -> Result<MediaResource, TwilioError> {
        observe("upload_media", async {
            let url = self.url(Host::Mcs, &["v1", "Services", chat_service_sid, "Media"])?;
            decode(&self.send_file(url, content_type, data).await?)
        })
        .await
    }

    /// The Media resource `media_sid`, with a fresh temporary content address.
    pub async fn fetch_media(
        &self,
        chat_service_sid: &str,
        media_sid: &str,
    ) -> Result<MediaResource, TwilioError> {
        observe("fetch_media", async {
            let url = self.url(
                Host::Mcs,
                &["v1", "Services", chat_service_sid, "Media", media_sid],
            )?;
            decode(&self.send(Method::GET, url, &[], false).await?)
        })
        .await
    }

    /// The bytes of `media_sid`, through its temporary address; refused past `max_bytes`.
    pub async fn download_media(
        &self,
        chat_service_sid: &str,
        media_sid: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, TwilioError> {
        let resource = self.fetch_media(chat_service_sid, media_sid).await?;
        let Some(address) = resource.links.content_direct_temporary else {
            return Err(TwilioError::Malformed {
                status: 200,
                detail: "the media has no temporary content address".to_owned(),
            });
        };
        observe(
            "download_media",
            self.fetch_anonymously(&address, max_bytes),
        )
        .await
    }
}
