//! Join requests: one open request per phone, verified by a code, decided by a captain. A
//! decision, the member it makes and the texts it sends are written in one step.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use uuid::Uuid;

use super::auth::{CHECK_CODE, CodeCheck};
use super::events::EventKind;
use super::member_records::old_form;
use super::outbox::{Effect, effects_script, encode_effect};
use super::{Store, StoreError, decode, encode};
use crate::domain::integrator_event::IntegratorEvent;
use crate::domain::join_digest::DigestItem;
use crate::domain::join_request::{JoinRequest, JoinState};
use crate::domain::member::Member;

/// Stores a new request unless the phone has an open one; answers the open one's id then.
/// Unverified requests are also indexed by creation time (ms), to expire. A request that waits
/// for a captain at once is told to integrators (ARGV[6..]) with it.
static INSERT_REQUEST: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
local open = redis.call('HGET', KEYS[2], ARGV[1])
if open then return open end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2]) end
for i = 6, #ARGV do queue_effect(KEYS[4], ARGV[i]) end
return ARGV[2]",
    )
});

/// Gives the phone's open request (ARGV[2]) new fields (ARGV[4]) if it is still as read
/// (ARGV[3]); answers 1 if it did.
static REPLACE_UNVERIFIED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[2])
return 1",
    )
});

/// Deletes up to 500 requests created before ARGV[1] (ms) that are still unverified, and frees
/// their phones' places; answers how many it deleted.
static EXPIRE_UNVERIFIED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, 500)
local deleted = 0
for _, id in ipairs(ids) do
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    local request = cjson.decode(json)
    if request.state == 'pending_verification' then
      redis.call('HDEL', KEYS[1], id)
      if redis.call('HGET', KEYS[2], request.phone) == id then
        redis.call('HDEL', KEYS[2], request.phone)
      end
      deleted = deleted + 1
    end
  end
  redis.call('ZREM', KEYS[3], id)
end
return deleted",
    )
});

/// Moves a request on, if it is still as read: optionally saves its member (a new one, unless the
/// phone is taken; or a former member brought back, if unchanged since read) and closes it,
/// queues its effects, and adds it (ARGV[9] its number, ARGV[10] the item) to the captains'
/// digests named by KEYS[6] onwards (but the last two, the event log's; see
/// `outbox::queue_effect_lua`).
static ADVANCE_REQUEST: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 'changed' end
for i = 6, #KEYS - 2 do redis.call('HSET', KEYS[i], ARGV[9], ARGV[10]) end
if ARGV[6] ~= '' then
  if ARGV[8] == '' then
    if redis.call('HSETNX', KEYS[4], ARGV[4], ARGV[6]) == 0 then return 'member_exists' end
  elseif redis.call('HGET', KEYS[3], ARGV[6]) ~= ARGV[8] then
    return 'changed'
  end
  redis.call('HSET', KEYS[3], ARGV[6], ARGV[7])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[5] == '1' then redis.call('HDEL', KEYS[2], ARGV[4]) end
for i = 11, #ARGV do queue_effect(KEYS[5], ARGV[i]) end
return 'ok'",
    )
});

/// The member a request's decision saves: new, or a former member as read (`before`) brought back.
#[derive(Debug, Clone, Copy)]
pub struct MemberChange<'a> {
    pub before: Option<&'a Member>,
    pub after: &'a Member,
}

/// The captains whose next digest names a request, and how it names it.
#[derive(Debug, Clone, Copy)]
pub struct Digests<'a> {
    pub captains: &'a [Uuid],
    pub item: &'a DigestItem,
}

/// How a request moved on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    Done,
    /// Someone else changed it first; read it again.
    Changed,
    /// Its phone is a member already.
    MemberExists,
}

impl Store {
    /// Stores `request`, or returns the phone's open request instead (same id when new).
    pub async fn insert_join_request(&self, request: &JoinRequest) -> Result<Uuid, StoreError> {
        let id = request.neighborhood_id;
        let mut conn = self.connection();
        // Not retried blindly: a repeat would find the request it made and answer its id anyway.
        let mut invocation = INSERT_REQUEST.key(self.keys.join_requests(id));
        invocation
            .key(self.keys.open_join_requests(id))
            .key(self.keys.unverified_join_requests(id))
            .key(self.keys.outbox(id))
            .arg(request.phone.as_str())
            .arg(request.id.to_string())
            .arg(encode(request))
            .arg(created_ms(request.created_at))
            .arg(if request.state == JoinState::PendingVerification {
                "1"
            } else {
                "0"
            });
        for event in IntegratorEvent::join_request_changed(None, request) {
            invocation.arg(encode_effect(&Effect::Publish { event }));
        }
        self.event_log_keys(&mut invocation, id);
        let stored: String = invocation.invoke_async(&mut conn).await?;
        let open = Uuid::parse_str(&stored).unwrap_or(request.id);
        if open == request.id {
            return Ok(open);
        }
        // An unverified request holds no place (finding 9): it takes this request's fields,
        // keeping its id and number, so nobody's unconfirmed name, address, answers or consent
        // IP waits for the phone's owner to confirm them.
        for _ in 0..3 {
            let key = self.keys.join_requests(id);
            let raw: Option<String> = redis::cmd("HGET")
                .arg(&key)
                .arg(open.to_string())
                .query_async(&mut conn)
                .await?;
            let Some(raw) = raw else { return Ok(open) };
            let old: JoinRequest = decode(&key, &raw)?;
            if old.state != JoinState::PendingVerification {
                return Ok(open);
            }
            let replaced = JoinRequest {
                id: old.id,
                number: old.number,
                ..request.clone()
            };
            let done: i64 = REPLACE_UNVERIFIED
                .key(&key)
                .key(self.keys.open_join_requests(id))
                .key(self.keys.unverified_join_requests(id))
                .arg(request.phone.as_str())
                .arg(open.to_string())
                .arg(&raw)
                .arg(encode(&replaced))
                .arg(created_ms(request.created_at))
                .invoke_async(&mut conn)
                .await?;
            if done == 1 {
                break;
            }
        }
        Ok(open)
    }

    /// Deletes the neighborhood's requests still unverified that were made before `before`, and
    /// frees their phones' places; answers how many.
    pub async fn expire_unverified_join_requests(
        &self,
        id: Uuid,
        before: time::OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut conn = self.connection();
        Ok(EXPIRE_UNVERIFIED
            .key(self.keys.join_requests(id))
            .key(self.keys.open_join_requests(id))
            .key(self.keys.unverified_join_requests(id))
            .arg(created_ms(before))
            .invoke_async(&mut conn)
            .await?)
    }

    /// The next short number of a neighborhood's requests.
    pub async fn next_join_request_number(&self, id: Uuid) -> Result<u64, StoreError> {
        let mut conn = self.connection();
        Ok(redis::cmd("INCR")
            .arg(self.keys.join_request_numbers(id))
            .query_async(&mut conn)
            .await?)
    }

    pub async fn join_request(
        &self,
        id: Uuid,
        request_id: Uuid,
    ) -> Result<Option<JoinRequest>, StoreError> {
        self.hget_json(&self.keys.join_requests(id), &request_id.to_string())
            .await
    }

    /// Every request of a neighborhood, newest first.
    pub async fn join_requests(&self, id: Uuid) -> Result<Vec<JoinRequest>, StoreError> {
        let mut requests: Vec<JoinRequest> = self.hvals_json(&self.keys.join_requests(id)).await?;
        requests.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(b.number.cmp(&a.number))
        });
        Ok(requests)
    }

    pub async fn store_join_code(
        &self,
        id: Uuid,
        request_id: Uuid,
        hash: &str,
        attempts: u32,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.keys.join_code(id, request_id);
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

    pub async fn check_join_code(
        &self,
        id: Uuid,
        request_id: Uuid,
        hash: &str,
    ) -> Result<CodeCheck, StoreError> {
        let mut conn = self.connection();
        let outcome: String = CHECK_CODE
            .key(self.keys.join_code(id, request_id))
            .arg(hash)
            .invoke_async(&mut conn)
            .await?;
        Ok(match outcome.as_str() {
            "accepted" => CodeCheck::Accepted,
            "wrong" => CodeCheck::Wrong,
            _ => CodeCheck::Missing,
        })
    }

    /// Replaces `before` with `after` if unchanged; with `member`, saves it (see
    /// [`MemberChange`]); `close` ends the phone's open request; `effects` are queued.
    pub async fn advance_join_request(
        &self,
        before: &JoinRequest,
        after: &JoinRequest,
        member: Option<MemberChange<'_>>,
        close: bool,
        effects: &[Effect],
    ) -> Result<Advance, StoreError> {
        self.advance_join_request_into_digests(before, after, member, close, effects, None)
            .await
    }

    /// [`Store::advance_join_request`], also adding the request to `digests` (the captains whose
    /// next digest names it) in the same step, so a request that reached the captains is never
    /// missing from a digest.
    pub async fn advance_join_request_into_digests(
        &self,
        before: &JoinRequest,
        after: &JoinRequest,
        member: Option<MemberChange<'_>>,
        close: bool,
        effects: &[Effect],
        digests: Option<Digests<'_>>,
    ) -> Result<Advance, StoreError> {
        let id = before.neighborhood_id;
        if let Some(member) = member {
            self.file_consent_terms(id, [member.after]).await?;
        }
        // The member as read, as stored now, then as stored before the compact form (see
        // `member_records`).
        let member_forms = match member.and_then(|m| m.before) {
            Some(read) => vec![encode(read), old_form(read)],
            None => vec![String::new()],
        };
        // The decision, then the membership it makes.
        let told: Vec<Effect> = IntegratorEvent::join_request_changed(Some(before), after)
            .into_iter()
            .chain(member.and_then(|m| IntegratorEvent::member_changed(m.before, m.after)))
            .map(|event| Effect::Publish { event })
            .collect();
        let mut outcome = String::new();
        for member_before in member_forms {
            let mut invocation = ADVANCE_REQUEST.key(self.keys.join_requests(id));
            invocation
                .key(self.keys.open_join_requests(id))
                .key(self.keys.members(id))
                .key(self.keys.member_phones(id))
                .key(self.keys.outbox(id));
            for captain in digests.iter().flat_map(|d| d.captains) {
                invocation.key(self.keys.join_digest(id, *captain));
            }
            invocation
                .arg(before.id.to_string())
                .arg(encode(before))
                .arg(encode(after))
                .arg(before.phone.as_str())
                .arg(if close { "1" } else { "0" })
                .arg(member.map(|m| m.after.id.to_string()).unwrap_or_default())
                .arg(member.map(|m| encode(m.after)).unwrap_or_default())
                .arg(member_before)
                .arg(after.number)
                .arg(digests.map(|d| encode(d.item)).unwrap_or_default());
            for effect in effects.iter().chain(&told) {
                invocation.arg(encode_effect(effect));
            }
            self.event_log_keys(&mut invocation, id);
            let mut conn = self.connection();
            outcome = invocation.invoke_async(&mut conn).await?;
            if outcome != "changed" {
                break;
            }
        }
        match outcome.as_str() {
            "ok" => {
                if !effects.is_empty() {
                    self.mark_outbox_active(id).await?;
                }
                if let Some(member) = member {
                    self.index_member_role(member.after).await?;
                    self.announce(id, EventKind::Member, member.after.id).await;
                }
                self.announce(id, EventKind::JoinRequest, after.id).await;
                Ok(Advance::Done)
            }
            "member_exists" => Ok(Advance::MemberExists),
            _ => Ok(Advance::Changed),
        }
    }

    /// The neighborhood a join link belongs to.
    pub async fn neighborhood_id_by_slug(
        &self,
        slug: &crate::domain::neighborhood::Slug,
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(self
            .get_string(&self.keys.slug_claim(slug))
            .await?
            .and_then(|id| Uuid::parse_str(&id).ok()))
    }

    /// Remembers which phone a personal invite code was sent to.
    pub async fn store_invite(
        &self,
        id: Uuid,
        code: &str,
        phone: &crate::domain::phone::Phone,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("HSET")
                .arg(self.keys.invites(id))
                .arg(code)
                .arg(phone.as_str())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// Whether a captain has sent `phone` a personal invite.
    pub async fn was_invited(
        &self,
        id: Uuid,
        phone: &crate::domain::phone::Phone,
    ) -> Result<bool, StoreError> {
        let phones: Vec<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("HVALS")
                    .arg(self.keys.invites(id))
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(phones.iter().any(|invited| invited == phone.as_str()))
    }

    /// The phone an invite code was sent to.
    pub async fn invited_phone(&self, id: Uuid, code: &str) -> Result<Option<String>, StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("HGET")
                .arg(self.keys.invites(id))
                .arg(code)
                .query_async(&mut conn)
                .await
        })
        .await
    }
}

/// Milliseconds since the epoch, the score of the unverified-request index.
fn created_ms(at: time::OffsetDateTime) -> i64 {
    crate::domain::clock::unix_ms(at)
}
