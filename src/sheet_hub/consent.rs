//! Connecting a captain's Google account: the consent visit (PKCE, single use, ten minutes,
//! bound to the captain who started it), keeping the tokens sealed, and revoking them.

use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{HubError, google};
use crate::domain::sheet_hub::Connection;
use crate::google::GoogleAccess;
use crate::google::oauth::{CodeVerifier, SHEETS_READONLY_SCOPE};
use crate::secret::Secret;
use crate::state::AppState;

/// How long a captain has to get through Google's consent page.
const CONSENT_TTL: Duration = Duration::from_secs(10 * 60);
/// Random bytes naming a consent visit, and their base64url length.
const NONCE_BYTES: usize = 24;
const NONCE_CHARS: usize = 32;
/// Where Google sends the captain back to (see `api::sheet_hub::google_callback`).
const CALLBACK_PATH: &str = "/api/v1/google/callback";

/// The address Google sends a captain back to, which the operator registers on the OAuth
/// client.
pub fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}{CALLBACK_PATH}",
        state.settings.public_url.as_str().trim_end_matches('/')
    )
}

/// What the callback needs of a consent visit.
#[derive(Serialize, Deserialize)]
struct ConsentVisit {
    verifier: String,
    actor: String,
}

/// Starts connecting: answers Google's consent page for the captain `actor`. Google sends them
/// back with `state`, which names the neighborhood and a visit kept for ten minutes.
pub async fn connect(
    state: &AppState,
    neighborhood_id: Uuid,
    actor: &str,
) -> Result<String, HubError> {
    let google = google(state)?;
    let verifier = CodeVerifier::generate();
    let mut nonce = [0u8; NONCE_BYTES];
    rand::fill(&mut nonce[..]);
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(nonce);
    let visit = ConsentVisit {
        verifier: verifier.expose().to_owned(),
        actor: actor.to_owned(),
    };
    state
        .store
        .put_sheet_hub_consent(
            neighborhood_id,
            &nonce,
            &serde_json::to_string(&visit).unwrap_or_default(),
            CONSENT_TTL,
        )
        .await?;
    let consent_state = format!("{}.{nonce}", neighborhood_id.simple());
    Ok(google
        .client
        .authorization_url(&redirect_uri(state), &consent_state, &verifier.challenge())
        .to_string())
}

/// The neighborhood a callback's `state` names.
/// Anything else a browser brings is refused before Redis is asked.
pub fn consent_neighborhood(consent_state: &str) -> Option<(Uuid, &str)> {
    let (id, nonce) = consent_state.split_once('.')?;
    let made_here = nonce.len() == NONCE_CHARS
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    made_here.then_some((Uuid::try_parse(id).ok()?, nonce))
}

/// Why a consent visit did not connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentRefusal {
    /// The captain said no on Google's page.
    Denied,
    /// Unknown, used, older than ten minutes, or finished by someone other than who started it.
    Expired,
    /// Google refused the code, or granted less than the hub needs.
    Refused,
}

impl ConsentRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Refused => "refused",
        }
    }
}

/// Finishes a consent visit for `actor`, who must be who started it: trades Google's code for
/// tokens and keeps the refresh token, sealed. A connection replaced is revoked at Google.
pub async fn finish_consent(
    state: &AppState,
    neighborhood_id: Uuid,
    nonce: &str,
    code: Option<&str>,
    actor: &str,
) -> Result<Result<(), ConsentRefusal>, HubError> {
    let google = google(state)?;
    let Some(visit) = state
        .store
        .take_sheet_hub_consent(neighborhood_id, nonce)
        .await?
    else {
        return Ok(Err(ConsentRefusal::Expired));
    };
    let Ok(visit) = serde_json::from_str::<ConsentVisit>(&visit) else {
        return Ok(Err(ConsentRefusal::Expired));
    };
    if visit.actor != actor {
        return Ok(Err(ConsentRefusal::Expired));
    }
    let Some(code) = code else {
        return Ok(Err(ConsentRefusal::Denied));
    };
    let Ok(verifier) = CodeVerifier::parse(visit.verifier) else {
        return Ok(Err(ConsentRefusal::Expired));
    };
    let tokens = match google
        .client
        .exchange_code(code, &verifier, &redirect_uri(state))
        .await
    {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::warn!(%error, "Google refused a consent code");
            return Ok(Err(ConsentRefusal::Refused));
        }
    };
    let (true, Some(refresh_token)) = (
        tokens.grants(SHEETS_READONLY_SCOPE),
        tokens.refresh_token.as_ref(),
    ) else {
        tracing::warn!("Google's consent lacked the Sheets scope or a refresh token");
        return Ok(Err(ConsentRefusal::Refused));
    };
    let sealed = seal(google, neighborhood_id, refresh_token)?;
    let replaced = state.store.sheet_hub(neighborhood_id).await?.connection;
    let now = OffsetDateTime::now_utc();
    state
        .store
        .save_sheet_hub_connection(
            neighborhood_id,
            &Connection {
                refresh_token: sealed,
                connected_by: actor.to_owned(),
                connected_at: now,
            },
        )
        .await?;
    keep_access(
        state,
        google,
        neighborhood_id,
        &tokens.access_token,
        tokens.expires_in,
    )
    .await?;
    if let Some(replaced) = replaced {
        revoke(google, neighborhood_id, &replaced).await;
    }
    Ok(Ok(()))
}

pub(super) fn seal(
    google: &GoogleAccess,
    neighborhood_id: Uuid,
    token: &Secret,
) -> Result<String, HubError> {
    Ok(google.cipher.encrypt(token, neighborhood_id.as_bytes())?)
}

pub(super) async fn keep_access(
    state: &AppState,
    google: &GoogleAccess,
    neighborhood_id: Uuid,
    token: &Secret,
    lifetime: Duration,
) -> Result<(), HubError> {
    let sealed = seal(google, neighborhood_id, token)?;
    let expires = OffsetDateTime::now_utc() + lifetime;
    state
        .store
        .save_sheet_hub_access(
            neighborhood_id,
            &sealed,
            crate::domain::clock::unix_ms(expires),
        )
        .await?;
    Ok(())
}

pub(super) async fn revoke(google: &GoogleAccess, neighborhood_id: Uuid, connection: &Connection) {
    google
        .revoke_sealed(&connection.refresh_token, neighborhood_id.as_bytes())
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_state_made_here_names_a_neighborhood() {
        let id = Uuid::now_v7();
        let nonce = "a".repeat(NONCE_CHARS);
        assert_eq!(
            consent_neighborhood(&format!("{}.{nonce}", id.simple())),
            Some((id, nonce.as_str()))
        );
        for state in [
            format!("{}.{}", id.simple(), "a".repeat(NONCE_CHARS + 1)),
            format!("{}.{}", id.simple(), "a:b".repeat(NONCE_CHARS / 3 + 1)),
            format!("not-a-uuid.{nonce}"),
            nonce.clone(),
        ] {
            assert_eq!(consent_neighborhood(&state), None, "{state}");
        }
    }
}
