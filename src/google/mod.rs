//! Google's side of the spreadsheet hub (issue 27), at the wire and nothing more: OAuth 2.0 for a
//! web server (authorization code with PKCE, refresh, revocation) in [`oauth`], the Sheets API's
//! `values.get` in [`sheets`], and sealing the refresh token at rest in [`crypto`].
//!
//! It knows no neighborhood, no Redis and no schedule: what to do when Google refuses (pause the
//! sync, tell the captains, back off) belongs to the caller, so every refusal Google can give is
//! its own error variant here. Each endpoint's base URL is configurable so tests and the sandbox
//! can stand in for Google; nothing in this module ever logs a token.

pub mod client;
pub mod crypto;
pub mod oauth;
pub mod sheets;

pub use client::{GoogleClient, GoogleConfig, GoogleConfigError};

/// What the service talks to Google with: the client, and the cipher that seals the refresh
/// tokens it keeps.
#[derive(Debug, Clone)]
pub struct GoogleAccess {
    pub client: GoogleClient,
    pub cipher: crypto::TokenCipher,
}

impl GoogleAccess {
    /// Revokes a sealed token at Google (sealed with `associated`). A failure is logged, not
    /// returned: whoever revokes forgets the token anyway.
    pub async fn revoke_sealed(&self, sealed: &str, associated: &[u8]) {
        let Ok(token) = self.cipher.decrypt(sealed, associated) else {
            tracing::warn!("a sealed Google token did not open; it is forgotten unrevoked");
            return;
        };
        if let Err(error) = self.client.revoke(&token).await {
            tracing::warn!(%error, "a Google token could not be revoked");
        }
    }
}
