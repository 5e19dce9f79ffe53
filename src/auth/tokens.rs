//! API tokens: minting them, and their secrets (32 random bytes, shown once, stored as their
//! SHA-256).

use base64::Engine;
use rand::RngExt;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::access::{ApiToken, TokenScope};
use crate::store::{Store, StoreError};

/// Marks our secrets so leaked ones are easy to spot (secret scanners, logs).
const PREFIX: &str = "ntk_";

/// A new secret, as given to the integrator.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// What is stored and looked up: lowercase hex SHA-256 of the secret.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Equality that takes the same time wherever the first difference is.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Creates and stores a token; returns it with its one-time secret. Used by the API and by
/// `neighborhood-text admin create`.
pub async fn mint(
    store: &Store,
    name: &str,
    scope: TokenScope,
    created_by: String,
    expires_at: Option<OffsetDateTime>,
) -> Result<(ApiToken, String), StoreError> {
    let secret = new_secret();
    let token = ApiToken {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        secret_hash: hash(&secret),
        scope,
        created_by,
        created_at: OffsetDateTime::now_utc(),
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_api_token(&token).await?;
    Ok((token, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hash_stably() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43);
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 64);
        assert!(constant_time_eq(&hash(&a), &hash(&a)));
        assert!(!constant_time_eq(&hash(&a), &hash(&b)));
    }
}
