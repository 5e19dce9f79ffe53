//! Platform admins, sign-in codes, sessions and API tokens.
//!
//! Codes and token secrets are stored as hashes only. A code is spent or burnt inside one Lua
//! script, so two racing checks of the right code cannot both sign in.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError, encode};
use crate::domain::access::{ApiToken, PlatformAdmin};
use crate::domain::phone::Phone;

/// How a code check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code: it is now spent.
    Accepted,
    /// Wrong code; it stays usable for the attempts left.
    Wrong,
    /// No usable code: never sent, expired, used, or out of attempts.
    Missing,
}

/// Checks a code's hash: spends it when right, counts an attempt when wrong, burns it at zero.
pub(super) static CHECK_CODE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local stored = redis.call('HGET', KEYS[1], 'hash')
if not stored then return 'missing' end
if stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 'accepted'
end
if redis.call('HINCRBY', KEYS[1], 'attempts_left', -1) <= 0 then redis.call('DEL', KEYS[1]) end
return 'wrong'",
    )
});

impl Store {
    // ----- platform admins ---------------------------------------------------------------------

    /// Adds a platform admin; false (and nothing changed) when the phone is one already.
    pub async fn insert_platform_admin(&self, admin: &PlatformAdmin) -> Result<bool, StoreError> {
        let json = encode(admin);
        self.retrying_once(|mut conn| {
            let (key, json) = (self.keys.platform_admins(), json.clone());
            async move {
                redis::cmd("HSETNX")
                    .arg(key)
                    .arg(admin.phone.as_str())
                    .arg(json)
                    .query_async(&mut conn)
                    .await
            }
        })
        .await
    }

    pub async fn platform_admin(&self, phone: &Phone) -> Result<Option<PlatformAdmin>, StoreError> {
        self.hget_json(&self.keys.platform_admins(), phone.as_str())
            .await
    }

    // ----- sign-in codes -----------------------------------------------------------------------

    /// Stores the hash of a new code for `phone`, replacing any earlier one.
    pub async fn store_login_code(
        &self,
        phone: &Phone,
        hash: &str,
        attempts: u32,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.keys.login_code(phone);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move {
                redis::pipe()
                    .atomic()
                    .del(&key)
                    .hset_multiple(
                        &key,
                        &[
                            ("hash", hash.to_owned()),
                            ("attempts_left", attempts.to_string()),
                        ],
                    )
                    .pexpire(&key, ttl.as_millis() as i64)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    pub async fn check_login_code(
        &self,
        phone: &Phone,
        hash: &str,
    ) -> Result<CodeCheck, StoreError> {
        let mut conn = self.connection();
        // Not retried: a check after a lost answer would count a second attempt.
        let outcome: String = CHECK_CODE
            .key(self.keys.login_code(phone))
            .arg(hash)
            .invoke_async(&mut conn)
            .await?;
        Ok(match outcome.as_str() {
            "accepted" => CodeCheck::Accepted,
            "wrong" => CodeCheck::Wrong,
            _ => CodeCheck::Missing,
        })
    }

    // ----- sessions ------------------------------------------------------------------------------

    pub async fn store_session(
        &self,
        session_id: Uuid,
        phone: &Phone,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| {
            let key = self.keys.session(session_id);
            async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(phone.as_str())
                    .arg("PX")
                    .arg(ttl.as_millis() as u64)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// The phone a live session belongs to.
    pub async fn session_phone(&self, session_id: Uuid) -> Result<Option<String>, StoreError> {
        self.get_string(&self.keys.session(session_id)).await
    }

    pub async fn delete_session(&self, session_id: Uuid) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| {
            let key = self.keys.session(session_id);
            async move {
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    // ----- API tokens ------------------------------------------------------------------------------

    pub async fn insert_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let json = encode(token);
        self.retrying_once(|mut conn| {
            let json = json.clone();
            async move {
                redis::pipe()
                    .atomic()
                    .hset(self.keys.api_tokens(), token.id.to_string(), json)
                    .hset(
                        self.keys.api_token_hashes(),
                        &token.secret_hash,
                        token.id.to_string(),
                    )
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    pub async fn api_token(&self, id: Uuid) -> Result<Option<ApiToken>, StoreError> {
        self.hget_json(&self.keys.api_tokens(), &id.to_string())
            .await
    }

    /// The token whose secret hashes to `secret_hash`.
    pub async fn api_token_by_hash(
        &self,
        secret_hash: &str,
    ) -> Result<Option<ApiToken>, StoreError> {
        let id: Option<String> = self
            .retrying_once(|mut conn| {
                let key = self.keys.api_token_hashes();
                async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg(secret_hash)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        match id.and_then(|id| Uuid::parse_str(&id).ok()) {
            Some(id) => self.api_token(id).await,
            None => Ok(None),
        }
    }

    /// Every token, newest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let mut tokens: Vec<ApiToken> = self.hvals_json(&self.keys.api_tokens()).await?;
        tokens.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(tokens)
    }

    /// Saves a token's changed fields (revocation, last use).
    pub async fn save_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let json = encode(token);
        self.retrying_once(|mut conn| {
            let json = json.clone();
            async move {
                redis::cmd("HSET")
                    .arg(self.keys.api_tokens())
                    .arg(token.id.to_string())
                    .arg(json)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }
}
