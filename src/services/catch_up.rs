//! Catch-up for new members: on approval, the last messages in one text, or a link to a
//! read-only page of them that opens once (`/history/{neighborhood}/{code}`).

use std::time::Duration;

use uuid::Uuid;

use crate::domain::catch_up::{self, CatchUpMode};
use crate::domain::neighborhood::Neighborhood;
use crate::i18n::{self, Language};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::messages::StoredMessage;
use crate::store::outbox::Effect;

/// How long a catch-up link waits to be opened.
pub const LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The text that catches up the member at `address` (see `Member::address`), per the
/// neighborhood's setting; None when it is off or there is nothing to catch up on.
pub async fn effect(
    state: &AppState,
    neighborhood: &Neighborhood,
    address: &str,
    language: Language,
) -> Result<Option<Effect>, StoreError> {
    let setting = neighborhood.catch_up;
    let body = match setting.mode {
        CatchUpMode::Off => return Ok(None),
        CatchUpMode::Text => {
            let lines: Vec<String> = latest(state, neighborhood.id, setting.messages)
                .await?
                .into_iter()
                .map(|message| format!("{}: {}", message.entry.sender_name, message.entry.body))
                .collect();
            match catch_up::digest(language, neighborhood.name.as_str(), &lines) {
                Some(text) => text,
                None => return Ok(None),
            }
        }
        CatchUpMode::Link => {
            if latest(state, neighborhood.id, 1).await?.is_empty() {
                return Ok(None);
            }
            let code = new_code();
            state
                .store
                .store_catch_up_code(neighborhood.id, &code, setting.messages, LINK_LIFETIME)
                .await?;
            // The page opens in the language of the text that links to it.
            let url = state.public_url(&format!(
                "history/{}/{code}?lang={}",
                neighborhood.id,
                language.code()
            ));
            i18n::text(
                language,
                "catch-up-link",
                &[
                    ("neighborhood", neighborhood.name.as_str().into()),
                    ("link", url.into()),
                ],
            )
        }
    };
    Ok(Some(Effect::SendSms {
        to: address.to_owned(),
        body,
    }))
}

/// The messages behind a catch-up link, oldest first, using the link up; None when the link is
/// unknown, expired or used.
pub async fn redeem(
    state: &AppState,
    id: Uuid,
    code: &str,
) -> Result<Option<Vec<StoredMessage>>, StoreError> {
    match state.store.take_catch_up_code(id, code).await? {
        Some(messages) => Ok(Some(latest(state, id, messages).await?)),
        None => Ok(None),
    }
}

/// The last `count` messages of the group, oldest first. Announcements to a chosen audience
/// are left out: they were never the group's, and a newcomer was not among those texted.
async fn latest(state: &AppState, id: Uuid, count: u32) -> Result<Vec<StoredMessage>, StoreError> {
    let mut newest_first = state
        .store
        .messages(id, None, count as usize, |entry| entry.audience.is_none())
        .await?;
    newest_first.reverse();
    Ok(newest_first)
}

/// 128 random bits, URL-safe: the link is the only key to the page.
fn new_code() -> String {
    use base64::Engine;
    use rand::RngExt;
    let bytes: [u8; 16] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
