//! Reads and writes of a CSV import, a batch of rows at a time: what is stored for a batch of
//! phones in two round trips, and a batch of changes in one script, each change guarded as its
//! one-at-a-time counterpart is (a new member or request only while the phone is free, an update
//! only if the record is still as read).

use std::sync::LazyLock;

use redis::Script;
use serde::Deserialize;
use uuid::Uuid;

use super::events::EventKind;
use super::outbox::{Effect, effects_script, encode_effect};
use super::{Store, StoreError, decode, encode};
use crate::domain::integrator_event::IntegratorEvent;
use crate::domain::join_request::JoinRequest;
use crate::domain::member::Member;
use crate::domain::phone::Phone;

/// What is stored for one phone: each record as its raw JSON (for compare-and-set) and decoded.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// The neighborhood's member with this phone, in any status.
    pub member: Option<(String, Member)>,
    /// The phone's open join request.
    pub request: Option<(String, JoinRequest)>,
}

/// One change of an import batch.
#[derive(Debug, Clone, Copy)]
pub enum ImportWrite<'a> {
    NewMember {
        member: &'a Member,
        effects: &'a [Effect],
    },
    Member {
        before: &'a str,
        after: &'a Member,
    },
    NewRequest(&'a JoinRequest),
    Request {
        before: &'a str,
        after: &'a JoinRequest,
    },
}

/// Arguments per change: kind, id, phone, before, after, then up to three effects (a new
/// member's two, and what integrators are told).
const ARGS_PER_WRITE: usize = 8;

/// Applies a batch of changes; answers the (0-based) positions of those whose guard failed,
/// which change nothing.
static WRITE_BATCH: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
local failed = {}
for i = 1, #ARGV, 8 do
  local kind, id, phone, before, after = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local ok = false
  if kind == 'new_member' then
    if redis.call('HEXISTS', KEYS[4], phone) == 0 and redis.call('HSETNX', KEYS[2], phone, id) == 1 then
      redis.call('HSET', KEYS[1], id, after)
      ok = true
    end
  elseif kind == 'member' then
    if redis.call('HGET', KEYS[1], id) == before then
      redis.call('HSET', KEYS[1], id, after)
      ok = true
    end
  elseif kind == 'new_request' then
    if redis.call('HEXISTS', KEYS[2], phone) == 0 and redis.call('HSETNX', KEYS[4], phone, id) == 1 then
      redis.call('HSET', KEYS[3], id, after)
      ok = true
    end
  elseif redis.call('HGET', KEYS[3], id) == before then
    redis.call('HSET', KEYS[3], id, after)
    ok = true
  end
  if ok then
    for j = i + 5, i + 7 do
      if ARGV[j] ~= '' then queue_effect(KEYS[5], ARGV[j]) end
    end
  else
    table.insert(failed, (i - 1) / 8)
  end
end
return failed",
    )
});

/// Just the name of a stored member (the short name of `Member`, or the long one of records
/// stored before).
#[derive(Deserialize)]
struct NameOnly {
    #[serde(rename = "n", alias = "display_name")]
    display_name: String,
}

/// Members read per round trip while collecting their names.
const SCAN_COUNT: usize = 500;

impl Store {
    /// What is stored for each of `phones`, in their order.
    pub async fn stored_for_phones(
        &self,
        neighborhood_id: Uuid,
        phones: &[&Phone],
    ) -> Result<Vec<Stored>, StoreError> {
        let phones: Vec<&str> = phones.iter().map(|phone| phone.as_str()).collect();
        let member_ids = self
            .values_by_field(&self.keys.member_phones(neighborhood_id), &phones)
            .await?;
        let request_ids = self
            .values_by_field(&self.keys.open_join_requests(neighborhood_id), &phones)
            .await?;
        let members_key = self.keys.members(neighborhood_id);
        let requests_key = self.keys.join_requests(neighborhood_id);
        let members = self
            .values_by_field(&members_key, &present(&member_ids))
            .await?;
        let requests = self
            .values_by_field(&requests_key, &present(&request_ids))
            .await?;
        // Every record the batch found, decoded at once (their consent terms in one read).
        let found: Vec<String> = members.iter().flatten().cloned().collect();
        let mut decoded = self
            .decode_members(neighborhood_id, &found)
            .await?
            .into_iter();
        let (mut members, mut requests) = (members.into_iter(), requests.into_iter());
        member_ids
            .iter()
            .zip(&request_ids)
            .map(|(member_id, request_id)| {
                let member = member_id
                    .as_ref()
                    .and_then(|_| members.next().flatten())
                    .and_then(|json| decoded.next().map(|member| (json, member)));
                let request = request_id
                    .as_ref()
                    .and_then(|_| requests.next().flatten())
                    .map(|json| decode(&requests_key, &json).map(|request| (json, request)))
                    .transpose()?;
                Ok(Stored { member, request })
            })
            .collect()
    }

    /// The display names of every member, read a page at a time.
    pub async fn member_names(&self, neighborhood_id: Uuid) -> Result<Vec<String>, StoreError> {
        let key = self.keys.members(neighborhood_id);
        let mut names = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, pairs): (u64, Vec<(String, String)>) = self
                .retrying_once(|mut conn| {
                    let key = key.clone();
                    async move {
                        redis::cmd("HSCAN")
                            .arg(key)
                            .arg(cursor)
                            .arg("COUNT")
                            .arg(SCAN_COUNT)
                            .query_async(&mut conn)
                            .await
                    }
                })
                .await?;
            for (_, json) in pairs {
                names.push(decode::<NameOnly>(&key, &json)?.display_name);
            }
            if next == 0 {
                return Ok(names);
            }
            cursor = next;
        }
    }

    /// Takes `count` join-request numbers at once; answers the first.
    pub async fn reserve_join_request_numbers(
        &self,
        neighborhood_id: Uuid,
        count: u64,
    ) -> Result<u64, StoreError> {
        let mut conn = self.connection();
        // Not retried: a repeat would only skip numbers, but there is no need to.
        let last: u64 = redis::cmd("INCRBY")
            .arg(self.keys.join_request_numbers(neighborhood_id))
            .arg(count)
            .query_async(&mut conn)
            .await?;
        Ok(last + 1 - count)
    }

    /// Writes a batch of an import in one step; answers, for each change, whether it was made
    /// (false: the phone or the record changed since it was read, and nothing was written).
    pub async fn write_import_batch(
        &self,
        neighborhood_id: Uuid,
        writes: &[ImportWrite<'_>],
    ) -> Result<Vec<bool>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let written = writes.iter().filter_map(|write| match write {
            ImportWrite::NewMember { member, .. } => Some(*member),
            ImportWrite::Member { after, .. } => Some(*after),
            _ => None,
        });
        self.file_consent_terms(neighborhood_id, written).await?;
        let mut invocation = WRITE_BATCH.key(self.keys.members(neighborhood_id));
        invocation
            .key(self.keys.member_phones(neighborhood_id))
            .key(self.keys.join_requests(neighborhood_id))
            .key(self.keys.open_join_requests(neighborhood_id))
            .key(self.keys.outbox(neighborhood_id));
        for write in writes {
            let (kind, id, phone, before, after, effects) = match *write {
                ImportWrite::NewMember { member, effects } => (
                    "new_member",
                    member.id,
                    &member.phone,
                    "",
                    encode(member),
                    effects
                        .iter()
                        .cloned()
                        .chain(
                            IntegratorEvent::member_changed(None, member)
                                .map(|event| Effect::Publish { event }),
                        )
                        .collect(),
                ),
                ImportWrite::Member { before, after } => (
                    "member",
                    after.id,
                    &after.phone,
                    before,
                    encode(after),
                    Vec::new(),
                ),
                ImportWrite::NewRequest(request) => (
                    "new_request",
                    request.id,
                    &request.phone,
                    "",
                    encode(request),
                    IntegratorEvent::join_request_changed(None, request)
                        .into_iter()
                        .map(|event| Effect::Publish { event })
                        .collect(),
                ),
                ImportWrite::Request { before, after } => (
                    "request",
                    after.id,
                    &after.phone,
                    before,
                    encode(after),
                    Vec::new(),
                ),
            };
            assert!(
                effects.len() <= ARGS_PER_WRITE - 5,
                "an imported change queues at most {} effects",
                ARGS_PER_WRITE - 5
            );
            invocation
                .arg(kind)
                .arg(id.to_string())
                .arg(phone.as_str())
                .arg(before)
                .arg(after);
            for slot in 0..ARGS_PER_WRITE - 5 {
                invocation.arg(effects.get(slot).map(encode_effect).unwrap_or_default());
            }
        }
        self.event_log_keys(&mut invocation, neighborhood_id);
        let mut conn = self.connection();
        // Compare-and-set: repeating it after a lost answer would only report conflicts.
        let failed: Vec<usize> = invocation.invoke_async(&mut conn).await?;
        let made: Vec<bool> = (0..writes.len()).map(|i| !failed.contains(&i)).collect();
        self.after_import_batch(neighborhood_id, writes, &made)
            .await?;
        Ok(made)
    }

    /// What follows a written batch, as it follows each single change: the phone-roles index of
    /// new members, the outbox mark, and one live update per kind (not one per row).
    async fn after_import_batch(
        &self,
        neighborhood_id: Uuid,
        writes: &[ImportWrite<'_>],
        made: &[bool],
    ) -> Result<(), StoreError> {
        let made = || writes.iter().zip(made).filter(|(_, made)| **made);
        let new_members: Vec<&Member> = made()
            .filter_map(|(write, _)| match write {
                ImportWrite::NewMember { member, .. } => Some(*member),
                _ => None,
            })
            .collect();
        if !new_members.is_empty() {
            let mut pipe = redis::pipe();
            for member in &new_members {
                self.set_phone_role(&mut pipe, member);
            }
            self.retrying_once(|mut conn| {
                let pipe = pipe.clone();
                async move { pipe.query_async::<()>(&mut conn).await }
            })
            .await?;
            self.mark_outbox_active(neighborhood_id).await?;
        }
        let last_member = made().rev().find_map(|(write, _)| match write {
            ImportWrite::NewMember { member, .. } => Some(member.id),
            ImportWrite::Member { after, .. } => Some(after.id),
            _ => None,
        });
        if let Some(id) = last_member {
            self.announce(neighborhood_id, EventKind::Member, id).await;
        }
        let last_request = made().rev().find_map(|(write, _)| match write {
            ImportWrite::NewRequest(request) => Some(request.id),
            ImportWrite::Request { after, .. } => Some(after.id),
            _ => None,
        });
        if let Some(id) = last_request {
            self.announce(neighborhood_id, EventKind::JoinRequest, id)
                .await;
        }
        Ok(())
    }

    /// HMGET, answering nothing for no fields (Redis refuses an HMGET without one).
    async fn values_by_field(
        &self,
        key: &str,
        fields: &[&str],
    ) -> Result<Vec<Option<String>>, StoreError> {
        if fields.is_empty() {
            return Ok(Vec::new());
        }
        self.retrying_once(|mut conn| async move {
            redis::cmd("HMGET")
                .arg(key)
                .arg(fields)
                .query_async(&mut conn)
                .await
        })
        .await
    }
}

fn present(ids: &[Option<String>]) -> Vec<&str> {
    ids.iter().flatten().map(String::as_str).collect()
}
