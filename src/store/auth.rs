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

/// How a sign-in code check went, under the per-phone ceiling of wrong codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInCheck {
    /// Right code: it is now spent.
    Accepted,
    /// Wrong, expired, used or never sent; counted against the phone's ceiling when guarded.
    Refused,
    /// Sign-in from new devices is locked for this phone; the code was not even compared.
    Locked { retry_after: Duration },
    /// This wrong code reached the ceiling and locked sign-in. `warn` is true the first time
    /// in the counting window: the phone gets one text saying someone is trying.
    LockedNow { retry_after: Duration, warn: bool },
}

/// The per-phone ceiling of wrong codes: `max_wrong` per `window`, then locked for `lock`.
#[derive(Debug, Clone, Copy)]
pub struct WrongCodeCeiling {
    pub max_wrong: u32,
    pub window: Duration,
    pub lock: Duration,
}

/// Checks a sign-in code under the ceiling, in one step so racing guesses cannot slip past it.
/// `KEYS`: the code, the phone's failures, its lock. `ARGV`: the hash, `1` when the device is not
/// trusted (guarded), max wrong, window ms, lock ms. Any refusal of a guarded check counts, a
/// missing code too: then every phone, with an account or not, locks the same way (no oracle).
/// The lock leaves the live code alone: the captain's own device may still be about to use it.
/// A new code touches none of these keys, so it resets nothing.
static CHECK_SIGN_IN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local guarded = ARGV[2] == '1'
if guarded then
  local left = redis.call('PTTL', KEYS[3])
  if left > 0 then return {'locked', left, 0} end
end
local stored = redis.call('HGET', KEYS[1], 'hash')
if stored and stored == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'accepted', 0, 0}
end
if stored and redis.call('HINCRBY', KEYS[1], 'attempts_left', -1) <= 0 then
  redis.call('DEL', KEYS[1])
end
if not guarded then return {'refused', 0, 0} end
local failures = redis.call('HINCRBY', KEYS[2], 'count', 1)
if failures == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
if failures < tonumber(ARGV[3]) then return {'refused', 0, 0} end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[5])
local warn = redis.call('HSETNX', KEYS[2], 'warned', '1')
return {'locked_now', tonumber(ARGV[5]), warn}",
    )
});

/// Replaces a stored token only if it is still exactly as read.
static REPLACE_TOKEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1",
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

    /// Checks a sign-in code. `ceiling` is None for a device this phone signed in on before:
    /// its typos are not guesses, and neither count nor meet the lock.
    pub async fn check_sign_in_code(
        &self,
        phone: &Phone,
        hash: &str,
        ceiling: Option<WrongCodeCeiling>,
    ) -> Result<SignInCheck, StoreError> {
        let ceiling = ceiling.map_or((0, 1, 1), |c| {
            (
                c.max_wrong.max(1),
                c.window.as_millis().max(1),
                c.lock.as_millis().max(1),
            )
        });
        let guarded = if ceiling.0 > 0 { "1" } else { "0" };
        let mut conn = self.connection();
        // Not retried: a check after a lost answer would count a second attempt.
        let (outcome, millis, warn): (String, i64, i64) = CHECK_SIGN_IN
            .key(self.keys.login_code(phone))
            .key(self.keys.login_failures(phone))
            .key(self.keys.login_lock(phone))
            .arg(hash)
            .arg(guarded)
            .arg(ceiling.0)
            .arg(ceiling.1 as u64)
            .arg(ceiling.2 as u64)
            .invoke_async(&mut conn)
            .await?;
        let retry_after = Duration::from_millis(u64::try_from(millis).unwrap_or(0));
        Ok(match outcome.as_str() {
            "accepted" => SignInCheck::Accepted,
            "locked" => SignInCheck::Locked { retry_after },
            "locked_now" => SignInCheck::LockedNow {
                retry_after,
                warn: warn == 1,
            },
            _ => SignInCheck::Refused,
        })
    }

    /// How long sign-in from new devices stays locked for `phone`, if it is.
    pub async fn sign_in_lock(&self, phone: &Phone) -> Result<Option<Duration>, StoreError> {
        let key = self.keys.login_lock(phone);
        let millis: i64 = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move { redis::cmd("PTTL").arg(key).query_async(&mut conn).await }
            })
            .await?;
        Ok(u64::try_from(millis)
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis))
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

    /// In one read: the phone a live session belongs to, and when `phone` last signed out
    /// everywhere (ms since the epoch).
    pub async fn session_and_cutoff(
        &self,
        session_id: Uuid,
        phone: &Phone,
    ) -> Result<(Option<String>, Option<i64>), StoreError> {
        let keys = [
            self.keys.session(session_id),
            self.keys.sessions_ended(phone),
        ];
        let (owner, cutoff): (Option<String>, Option<String>) = self
            .retrying_once(|mut conn| {
                let keys = keys.clone();
                async move { redis::cmd("MGET").arg(&keys).query_async(&mut conn).await }
            })
            .await?;
        Ok((owner, cutoff.and_then(|ms| ms.parse().ok())))
    }

    /// When `phone` last signed out everywhere (ms since the epoch).
    pub async fn sessions_ended_at(&self, phone: &Phone) -> Result<Option<i64>, StoreError> {
        Ok(self
            .get_string(&self.keys.sessions_ended(phone))
            .await?
            .and_then(|ms| ms.parse().ok()))
    }

    /// Voids every session and trusted device of `phone` started at or before `at_ms`, and
    /// deletes the session `current`. The mark lasts `keep`: no session outlives it anyway.
    pub async fn end_all_sessions(
        &self,
        phone: &Phone,
        at_ms: i64,
        keep: Duration,
        current: Option<Uuid>,
    ) -> Result<(), StoreError> {
        let cutoff = self.keys.sessions_ended(phone);
        let current = current.map(|id| self.keys.session(id));
        self.retrying_once(|mut conn| {
            let (cutoff, current) = (cutoff.clone(), current.clone());
            async move {
                let mut pipe = redis::pipe();
                pipe.atomic()
                    .cmd("SET")
                    .arg(&cutoff)
                    .arg(at_ms)
                    .arg("PX")
                    .arg(keep.as_millis().max(1) as u64)
                    .ignore();
                if let Some(current) = current {
                    pipe.del(current).ignore();
                }
                pipe.query_async::<()>(&mut conn).await
            }
        })
        .await
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
    /// Writes `after` over `before` only if the token is still stored exactly as `before`; false
    /// when it changed meanwhile (revoked, say), which is then kept.
    pub async fn replace_api_token(
        &self,
        before: &ApiToken,
        after: &ApiToken,
    ) -> Result<bool, StoreError> {
        let mut invocation = REPLACE_TOKEN.key(self.keys.api_tokens());
        invocation
            .arg(before.id.to_string())
            .arg(encode(before))
            .arg(encode(after));
        let mut conn = self.connection();
        // A compare-and-set: repeating it after a lost answer would only report a conflict.
        let replaced: i64 = invocation.invoke_async(&mut conn).await?;
        Ok(replaced == 1)
    }

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
