//! Pictures of a neighborhood's messages: uploaded by captains for an announcement, and shown to
//! captains and moderators through the service. Their content stays at Twilio behind our
//! credentials and a short-lived address, neither of which reaches the browser, and only a
//! picture of the neighborhood's own messages is ever read.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::auth::tokens::constant_time_eq;
use crate::domain::media::{self, MediaItem, MediaRefusal};
use crate::domain::neighborhood::Neighborhood;
use crate::state::AppState;
use crate::store::StoreError;
use crate::twilio::TwilioError;

/// A picture and its type.
pub struct Picture {
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// Not a picture of this neighborhood's messages (or not one we show).
    #[error("no such picture")]
    NotFound,
    /// Not a picture the group takes (see `domain::media::check`).
    #[error("the group does not take this picture: {0:?}")]
    Refused(MediaRefusal),
    #[error("no Twilio account is configured")]
    NoTwilio,
    #[error(transparent)]
    Twilio(#[from] TwilioError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long a catch-up page's picture links work: long enough to read the page.
pub const SHARED_FOR_SECS: i64 = 3600;

/// A picture link for the catch-up page, which opens once with its code and has no session:
/// `(expires, signature)`, the signature over the neighborhood, the picture and the expiry with
/// the service's secret, so the link shows that one picture, for an hour, and nothing else.
pub fn share(state: &AppState, neighborhood_id: Uuid, media_sid: &str) -> (i64, String) {
    let expires = state.settings.clock.now_ms() / 1000 + SHARED_FOR_SECS;
    (
        expires,
        signature(state, neighborhood_id, media_sid, expires),
    )
}

/// The picture a catch-up page's link names, if its signature holds and it has not expired.
pub async fn shared(
    state: &AppState,
    neighborhood: &Neighborhood,
    media_sid: &str,
    expires: i64,
    given: &str,
) -> Result<Picture, PictureError> {
    let expected = signature(state, neighborhood.id, media_sid, expires);
    let fresh = state.settings.clock.now_ms() / 1000 <= expires;
    if !fresh || !constant_time_eq(&expected, given) {
        return Err(PictureError::NotFound);
    }
    picture(state, neighborhood, media_sid).await
}

fn signature(state: &AppState, neighborhood_id: Uuid, media_sid: &str, expires: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(state.session_key.expose().as_bytes()) else {
        return String::new();
    };
    mac.update(format!("shared-picture:{neighborhood_id}:{media_sid}:{expires}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The Conversations service of each neighborhood's shards, once read: it never changes.
static CHAT_SERVICES: LazyLock<Mutex<HashMap<Uuid, String>>> = LazyLock::new(Default::default);

/// Uploads a picture for an announcement of `neighborhood` to Twilio, and keeps it as one of
/// the neighborhood's: what an announcement's `media_sid` then names.
pub async fn upload(
    state: &AppState,
    neighborhood: &Neighborhood,
    content_type: &str,
    data: &[u8],
) -> Result<MediaItem, PictureError> {
    let candidate = MediaItem {
        sid: String::new(),
        content_type: content_type.to_ascii_lowercase(),
        filename: None,
        size: data.len() as u64,
    };
    media::check(std::slice::from_ref(&candidate)).map_err(PictureError::Refused)?;
    let twilio = state.twilio.as_ref().ok_or(PictureError::NoTwilio)?;
    let chat_service_sid = chat_service(state, neighborhood).await?;
    let uploaded = twilio
        .client
        .upload_media(&chat_service_sid, &candidate.content_type, data)
        .await?;
    let item = MediaItem {
        sid: uploaded.sid,
        ..candidate
    };
    state.store.keep_picture(neighborhood.id, &item).await?;
    Ok(item)
}

/// The picture `media_sid` of the neighborhood's, if it is one the group takes.
pub async fn uploaded(
    state: &AppState,
    neighborhood_id: Uuid,
    media_sid: &str,
) -> Result<Option<MediaItem>, StoreError> {
    let item = state
        .store
        .message_media(neighborhood_id, media_sid)
        .await?;
    Ok(item.filter(|item| media::check(std::slice::from_ref(item)).is_ok()))
}

/// The picture `media_sid` of one of `neighborhood`'s messages.
pub async fn picture(
    state: &AppState,
    neighborhood: &Neighborhood,
    media_sid: &str,
) -> Result<Picture, PictureError> {
    let Some(item) = uploaded(state, neighborhood.id, media_sid).await? else {
        return Err(PictureError::NotFound);
    };
    let twilio = state.twilio.as_ref().ok_or(PictureError::NoTwilio)?;
    let chat_service_sid = chat_service(state, neighborhood).await?;
    let data = twilio
        .client
        .download_media(&chat_service_sid, &item.sid, media::MAX_TOTAL_BYTES)
        .await?;
    let MediaItem { content_type, .. } = item;
    Ok(Picture { content_type, data })
}

async fn chat_service(
    state: &AppState,
    neighborhood: &Neighborhood,
) -> Result<String, PictureError> {
    if let Some(known) = CHAT_SERVICES
        .lock()
        .ok()
        .and_then(|known| known.get(&neighborhood.id).cloned())
    {
        return Ok(known);
    }
    let twilio = state.twilio.as_ref().ok_or(PictureError::NoTwilio)?;
    let Some(shard) = neighborhood.shards.first() else {
        return Err(PictureError::NotFound);
    };
    let conversation = twilio
        .client
        .fetch_conversation(&shard.conversation_sid)
        .await?;
    let sid = conversation
        .chat_service_sid
        .ok_or(PictureError::NotFound)?;
    if let Ok(mut known) = CHAT_SERVICES.lock() {
        known.insert(neighborhood.id, sid.clone());
    }
    Ok(sid)
}
