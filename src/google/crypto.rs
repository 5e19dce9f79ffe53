//! Sealing a captain's Google refresh token before it is stored: it reads their spreadsheets for
//! months, so a Redis dump or backup alone must not hand it out. AES-256-GCM with a key derived
//! by HKDF-SHA256 from a configured secret and a context label (so the session secret can serve
//! without its own key material ever being the cipher key), a fresh random nonce per seal, and
//! the caller's associated data (say, the neighborhood's ID) bound in, so a sealed token copied
//! to another neighborhood's record does not open. The output starts with a version, so the
//! scheme or key can change later without guessing what a stored value is.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hkdf::Hkdf;
use sha2::Sha256;

use crate::secret::Secret;

/// The HKDF context for Google refresh tokens: a key derived under another label is another key.
pub const REFRESH_TOKEN_CONTEXT: &str = "neighborhood-text google refresh token v1";

/// The version prefix of what [`TokenCipher::encrypt`] writes.
const VERSION: &str = "v1";
/// AES-GCM's 96-bit nonce. Random nonces are safe far beyond the few tokens a key seals.
const NONCE_BYTES: usize = 12;
/// AES-GCM's authentication tag, appended to the ciphertext.
const TAG_BYTES: usize = 16;

/// Seals and opens secrets under a key derived from a configured secret. Never prints its key.
#[derive(Clone)]
pub struct TokenCipher {
    cipher: Aes256Gcm,
}

impl fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCipher([redacted])")
    }
}

/// A sealed value that does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Not `v1.<base64url>` of at least a nonce and a tag.
    #[error("not a sealed value")]
    Malformed,
    /// Sealed by a version this build does not know.
    #[error("sealed with unknown version {0:?}")]
    UnknownVersion(String),
    /// Authentication failed: changed, sealed under another key or context, or for other
    /// associated data. AES-GCM cannot tell these apart, and neither should we.
    #[error("the sealed value does not open with this key")]
    Refused,
    /// The plaintext is too long for AES-GCM (never for a token).
    #[error("the value is too long to seal")]
    TooLong,
}

impl TokenCipher {
    /// A cipher whose key is HKDF-SHA256(`secret`, info = `context`), with no salt: the secret
    /// is already high-entropy (`NT_SESSION_SECRET` is at least 32 characters).
    pub fn new(secret: &Secret, context: &str) -> Self {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret.expose().as_bytes())
            .expand(context.as_bytes(), &mut key)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        Self {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    /// `v1.` then base64url (no padding) of nonce, ciphertext and tag.
    pub fn encrypt(&self, plaintext: &Secret, associated: &[u8]) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::fill(&mut nonce[..]);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.expose().as_bytes(),
                    aad: associated,
                },
            )
            .map_err(|_| CryptoError::TooLong)?;
        let mut bytes = Vec::with_capacity(NONCE_BYTES + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!(
            "{VERSION}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        ))
    }

    /// The plaintext of a value [`Self::encrypt`] wrote with the same key, context and `associated`.
    pub fn decrypt(&self, sealed: &str, associated: &[u8]) -> Result<Secret, CryptoError> {
        let (version, encoded) = sealed.split_once('.').ok_or(CryptoError::Malformed)?;
        if version != VERSION {
            return Err(CryptoError::UnknownVersion(version.to_owned()));
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| CryptoError::Malformed)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated,
                },
            )
            .map_err(|_| CryptoError::Refused)?;
        String::from_utf8(plaintext)
            .map(Secret::new)
            .map_err(|_| CryptoError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOOD: &[u8] = b"neighborhood:0190b5a0-0000-7000-8000-000000000001";

    fn cipher(secret: &str) -> TokenCipher {
        TokenCipher::new(&Secret::new(secret), REFRESH_TOKEN_CONTEXT)
    }

    fn token() -> Secret {
        Secret::new("1//0gLx-refresh-token-from-google")
    }

    #[test]
    fn a_sealed_token_opens_to_itself() {
        let cipher = cipher("a session secret of at least thirty-two characters");
        let sealed = cipher.encrypt(&token(), HOOD).expect("sealed");
        assert!(sealed.starts_with("v1."), "{sealed}");
        assert!(!sealed.contains("refresh-token"));
        assert_eq!(cipher.decrypt(&sealed, HOOD), Ok(token()));
    }

    #[test]
    fn two_seals_of_one_token_differ() {
        let cipher = cipher("a session secret of at least thirty-two characters");
        let first = cipher.encrypt(&token(), HOOD).expect("sealed");
        let second = cipher.encrypt(&token(), HOOD).expect("sealed");
        assert_ne!(first, second);
        assert_eq!(cipher.decrypt(&second, HOOD), Ok(token()));
    }

    #[test]
    fn a_changed_byte_anywhere_is_refused() {
        let cipher = cipher("a session secret of at least thirty-two characters");
        let sealed = cipher.encrypt(&token(), HOOD).expect("sealed");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&sealed[3..])
            .expect("base64url");
        for at in 0..bytes.len() {
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            let tampered = format!(
                "v1.{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(changed)
            );
            assert_eq!(
                cipher.decrypt(&tampered, HOOD),
                Err(CryptoError::Refused),
                "{at}"
            );
        }
    }

    #[test]
    fn another_key_context_or_neighborhood_is_refused() {
        let sealed = cipher("a session secret of at least thirty-two characters")
            .encrypt(&token(), HOOD)
            .expect("sealed");
        let other_key = cipher("another session secret, also thirty-two characters");
        assert_eq!(other_key.decrypt(&sealed, HOOD), Err(CryptoError::Refused));
        let other_context = TokenCipher::new(
            &Secret::new("a session secret of at least thirty-two characters"),
            "neighborhood-text sessions",
        );
        assert_eq!(
            other_context.decrypt(&sealed, HOOD),
            Err(CryptoError::Refused)
        );
        let same_key = cipher("a session secret of at least thirty-two characters");
        assert_eq!(
            same_key.decrypt(&sealed, b"neighborhood:another"),
            Err(CryptoError::Refused)
        );
    }

    #[test]
    fn what_was_not_sealed_here_is_malformed_or_of_an_unknown_version() {
        let cipher = cipher("a session secret of at least thirty-two characters");
        assert_eq!(
            cipher.decrypt("plain-token", HOOD),
            Err(CryptoError::Malformed)
        );
        assert_eq!(cipher.decrypt("v1.!!!", HOOD), Err(CryptoError::Malformed));
        assert_eq!(cipher.decrypt("v1.AAAA", HOOD), Err(CryptoError::Malformed));
        assert_eq!(
            cipher.decrypt("v2.AAAA", HOOD),
            Err(CryptoError::UnknownVersion("v2".to_owned()))
        );
        assert_eq!(format!("{cipher:?}"), "TokenCipher([redacted])");
    }
}
