//! API tokens: minting them, and their secrets (32 random bytes, shown once, stored as their
//! SHA-256).

use base64::Engine;
use rand::RngExt;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::access::{ApiToken, TokenScope};
use crate::domain::phone::Phone;
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

/// How many parents up a token made by a token is followed before it is refused.
const MAX_CHAIN: usize = 4;

/// Who made a token, as its `created_by` says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Creator {
    /// `neighborhood-text admin create`: whoever runs the binary runs the deployment.
    Cli,
    Phone(Phone),
    Token(Uuid),
    Unknown,
}

fn creator(created_by: &str) -> Creator {
    if created_by == "cli" {
        return Creator::Cli;
    }
    if let Some(phone) = created_by.strip_prefix("phone:") {
        return Phone::parse(phone).map_or(Creator::Unknown, Creator::Phone);
    }
    if let Some(id) = created_by.strip_prefix("token:") {
        return Uuid::parse_str(id).map_or(Creator::Unknown, Creator::Token);
    }
    Creator::Unknown
}

/// Whether `token` still carries authority: it is live, and whoever made it still holds what it
/// carries (a platform admin still one; a captain still at least the token's role, which ends
/// with a removal, a pause, a demotion or an ownership handed over). A token made by a token
/// holds while that one does.
pub async fn still_authorized(
    store: &Store,
    token: &ApiToken,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut current = token.clone();
    for _ in 0..MAX_CHAIN {
        if !current.is_live(now) {
            return Ok(false);
        }
        match creator(&current.created_by) {
            Creator::Cli => return Ok(true),
            Creator::Phone(phone) => return holds(store, &phone, &token.scope).await,
            Creator::Token(id) => match store.api_token(id).await? {
                Some(parent) if covers(&parent.scope, &token.scope) => current = parent,
                _ => return Ok(false),
            },
            Creator::Unknown => return Ok(false),
        }
    }
    Ok(false)
}

/// Whether `phone` holds what a token of `scope` carries.
async fn holds(store: &Store, phone: &Phone, scope: &TokenScope) -> Result<bool, StoreError> {
    if store.platform_admin(phone).await?.is_some() {
        return Ok(true);
    }
    Ok(match scope {
        TokenScope::Platform => false,
        TokenScope::Neighborhood {
            neighborhood_id,
            role,
        } => store
            .role_in(*neighborhood_id, phone)
            .await?
            .is_some_and(|held| held >= *role),
    })
}

/// Whether a token of `parent` scope carries at least what one of `child` scope does.
fn covers(parent: &TokenScope, child: &TokenScope) -> bool {
    match (parent, child) {
        (TokenScope::Platform, _) => true,
        (
            TokenScope::Neighborhood {
                neighborhood_id: a,
                role: held,
            },
            TokenScope::Neighborhood {
                neighborhood_id: b,
                role: asked,
            },
        ) => a == b && held >= asked,
        (TokenScope::Neighborhood { .. }, TokenScope::Platform) => false,
    }
}

/// When a token made by the token `parent` expires: as asked, never after its parent (which is
/// also the default when none is asked).
pub fn child_expiry(
    parent: &ApiToken,
    asked: Option<OffsetDateTime>,
) -> Result<Option<OffsetDateTime>, &'static str> {
    match (parent.expires_at, asked) {
        (None, asked) => Ok(asked),
        (Some(limit), None) => Ok(Some(limit)),
        (Some(limit), Some(asked)) if asked <= limit => Ok(Some(asked)),
        (Some(_), Some(_)) => {
            Err("A token cannot outlive the token that creates it: give an earlier time.")
        }
    }
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
