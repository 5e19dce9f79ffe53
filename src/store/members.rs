//! Members of a neighborhood, and the index of which roles a phone holds where.
//!
//! A member's record and the neighborhood's phone index live in the neighborhood's slot and change
//! together; the deployment-wide `phone-roles` index (what authorization reads) follows right after.

use std::sync::LazyLock;

use redis::Script;
use uuid::Uuid;

use super::events::EventKind;
use super::member_records::old_form;
use super::{Store, StoreError, encode};
use crate::domain::member::{Member, MemberStatus, Role, RosterEntry};
use crate::domain::phone::Phone;

/// Adds a member unless the phone is already one.
static INSERT_MEMBER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
return 1",
    )
});

/// Replaces member records only if each is still exactly as read (stored in the compact form,
/// ARGV[i + 1], or in the form before it, ARGV[i + 2]): the one-owner rule is kept by changing
/// both sides of a transfer in one step.
static REPLACE_MEMBERS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 1, #ARGV, 4 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if stored ~= ARGV[i + 1] and stored ~= ARGV[i + 2] then return 0 end
end
for i = 1, #ARGV, 4 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 3])
end
return 1",
    )
});

/// A member's record by phone, in one step.
static MEMBER_BY_PHONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[2], id)",
    )
});

/// What authorization reads of a member record (the short names of `Member`, or the long ones of
/// records stored before).
#[derive(serde::Deserialize)]
struct RoleOfMember {
    #[serde(rename = "r", alias = "role", default)]
    role: Role,
    #[serde(rename = "s", alias = "status", default)]
    status: MemberStatus,
}

impl Store {
    /// Stores a new member; false when the phone is a member already.
    pub async fn insert_member(&self, member: &Member) -> Result<bool, StoreError> {
        self.file_consent_terms(member.neighborhood_id, [member])
            .await?;
        let json = encode(member);
        let inserted: i64 = self
            .retrying_once(|mut conn| {
                let mut invocation = INSERT_MEMBER.key(self.keys.members(member.neighborhood_id));
                invocation
                    .key(self.keys.member_phones(member.neighborhood_id))
                    .arg(member.phone.as_str())
                    .arg(member.id.to_string())
                    .arg(&json);
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        if inserted == 1 {
            self.index_member_role(member).await?;
            self.announce(member.neighborhood_id, EventKind::Member, member.id)
                .await;
        }
        Ok(inserted == 1)
    }

    pub async fn member(
        &self,
        neighborhood_id: Uuid,
        member_id: Uuid,
    ) -> Result<Option<Member>, StoreError> {
        let key = self.keys.members(neighborhood_id);
        let json: Option<String> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg(member_id.to_string())
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        match json {
            Some(json) => Ok(Some(self.decode_member(neighborhood_id, json).await?)),
            None => Ok(None),
        }
    }

    /// Remembers that `participant_sid` is `member_id`'s participant.
    pub async fn index_participant(
        &self,
        neighborhood_id: Uuid,
        participant_sid: &str,
        member_id: Uuid,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("HSET")
                .arg(
                    self.keys
                        .participant_members(neighborhood_id, participant_sid),
                )
                .arg(participant_sid)
                .arg(member_id.simple().to_string())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// The member whose participant `participant_sid` is, if any: the index first (as written
    /// now, then in its form before the buckets), then (for participants placed before the index
    /// existed) a scan that fills the index in.
    pub async fn member_by_participant(
        &self,
        neighborhood_id: Uuid,
        participant_sid: &str,
    ) -> Result<Option<Member>, StoreError> {
        let is_theirs = |member: &Member| {
            member
                .participant
                .as_ref()
                .is_some_and(|p| p.participant_sid == participant_sid)
        };
        let (indexed, indexed_before): (Option<String>, Option<String>) = self
            .retrying_once(|mut conn| async move {
                redis::pipe()
                    .hget(
                        self.keys
                            .participant_members(neighborhood_id, participant_sid),
                        participant_sid,
                    )
                    .hget(
                        self.keys.participant_members_old_form(neighborhood_id),
                        participant_sid,
                    )
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        let indexed = indexed.or(indexed_before);
        if let Some(member_id) = indexed.and_then(|id| Uuid::parse_str(&id).ok())
            && let Some(member) = self.member(neighborhood_id, member_id).await?
            && is_theirs(&member)
        {
            return Ok(Some(member));
        }
        let found = self
            .members(neighborhood_id)
            .await?
            .into_iter()
            .find(|member| is_theirs(member));
        if let Some(member) = &found {
            self.index_participant(neighborhood_id, participant_sid, member.id)
                .await?;
        }
        Ok(found)
    }

    pub async fn member_by_phone(
        &self,
        neighborhood_id: Uuid,
        phone: &Phone,
    ) -> Result<Option<Member>, StoreError> {
        let id: Option<String> = self
            .retrying_once(|mut conn| {
                let key = self.keys.member_phones(neighborhood_id);
                async move {
                    redis::cmd("HGET")
                        .arg(key)
                        .arg(phone.as_str())
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        match id.and_then(|id| Uuid::parse_str(&id).ok()) {
            Some(id) => self.member(neighborhood_id, id).await,
            None => Ok(None),
        }
    }

    /// Every member of a neighborhood, oldest first.
    pub async fn members(&self, neighborhood_id: Uuid) -> Result<Vec<Member>, StoreError> {
        let key = self.keys.members(neighborhood_id);
        let json: Vec<String> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move { redis::cmd("HVALS").arg(key).query_async(&mut conn).await }
            })
            .await?;
        let mut members = self.decode_members(neighborhood_id, &json).await?;
        members.sort_by_key(|member| (member.joined_at, member.id));
        Ok(members)
    }

    /// Every member, reduced to what a group message needs (see [`RosterEntry`]).
    pub async fn roster(&self, neighborhood_id: Uuid) -> Result<Vec<RosterEntry>, StoreError> {
        self.hvals_json(&self.keys.members(neighborhood_id)).await
    }

    /// One page of the member list in joining order (ids are time-ordered), after `after`, and
    /// how many members there are: only the page's records are read, not every member's.
    pub async fn member_page(
        &self,
        neighborhood_id: Uuid,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<(Vec<Member>, usize), StoreError> {
        let key = self.keys.members(neighborhood_id);
        let ids: Vec<String> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move { redis::cmd("HKEYS").arg(key).query_async(&mut conn).await }
            })
            .await?;
        let total = ids.len();
        let mut ids: Vec<Uuid> = ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .filter(|id| after.is_none_or(|after| *id > after))
            .collect();
        ids.sort_unstable();
        ids.truncate(limit);
        let fields: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        // A member deleted between the two reads is simply not on the page.
        let json = self.raw_values_of(&key, &fields).await?;
        Ok((self.decode_members(neighborhood_id, &json).await?, total))
    }

    /// Replaces members as one step, if none changed since `before` was read (pairs of before,
    /// after). False when one did: the caller reads again.
    pub async fn replace_members(
        &self,
        neighborhood_id: Uuid,
        changes: &[(&Member, &Member)],
    ) -> Result<bool, StoreError> {
        self.file_consent_terms(neighborhood_id, changes.iter().map(|(_, after)| *after))
            .await?;
        let mut invocation = REPLACE_MEMBERS.key(self.keys.members(neighborhood_id));
        for (before, after) in changes {
            invocation
                .arg(before.id.to_string())
                .arg(encode(*before))
                .arg(old_form(before))
                .arg(encode(*after));
        }
        let mut conn = self.connection();
        // Compare-and-set: repeating it after a lost answer would report a conflict, not corrupt.
        let replaced: i64 = invocation.invoke_async(&mut conn).await?;
        if replaced == 1 {
            for (_, after) in changes {
                self.index_member_role(after).await?;
                self.announce(neighborhood_id, EventKind::Member, after.id)
                    .await;
            }
        }
        Ok(replaced == 1)
    }

    /// The role `phone` holds as an active member of a neighborhood, read from the member record
    /// itself, in one step: what authorizes a request is never a stale copy (the deployment-wide
    /// `phone-roles` index, written after the record, only says where to look).
    pub async fn role_in(
        &self,
        neighborhood_id: Uuid,
        phone: &Phone,
    ) -> Result<Option<Role>, StoreError> {
        let json: Option<String> = self
            .retrying_once(|mut conn| {
                let mut invocation = MEMBER_BY_PHONE.key(self.keys.member_phones(neighborhood_id));
                invocation
                    .key(self.keys.members(neighborhood_id))
                    .arg(phone.as_str());
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        let member: Option<RoleOfMember> = json.and_then(|json| serde_json::from_str(&json).ok());
        Ok(member
            .filter(|member| member.status == MemberStatus::Active)
            .map(|member| member.role))
    }

    /// Every neighborhood where `phone` is an active member, with its role there: its entries in
    /// its bucket, and those of its key of the form before that no write has replaced yet.
    pub async fn roles_of(&self, phone: &Phone) -> Result<Vec<(Uuid, Role)>, StoreError> {
        let bucket = self.keys.phone_roles(phone);
        let prefix = role_fields_of(phone);
        let prefix = prefix.as_str();
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut cursor = 0u64;
        loop {
            // A listpack bucket answers in one call; one grown into a hash table may take more.
            let (next, page): (u64, Vec<(String, String)>) = self
                .retrying_once(|mut conn| {
                    let bucket = bucket.clone();
                    async move {
                        redis::cmd("HSCAN")
                            .arg(bucket)
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(format!("{prefix}*"))
                            .arg("COUNT")
                            .arg(1000)
                            .query_async(&mut conn)
                            .await
                    }
                })
                .await?;
            pairs.extend(
                page.into_iter().filter_map(|(field, role)| {
                    Some((field.strip_prefix(prefix)?.to_owned(), role))
                }),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let before: Vec<(String, String)> = self
            .retrying_once(|mut conn| {
                let key = self.keys.phone_roles_old_form(phone);
                async move { redis::cmd("HGETALL").arg(key).query_async(&mut conn).await }
            })
            .await?;
        let mut roles: Vec<(Uuid, Role)> = pairs
            .into_iter()
            .chain(before)
            .filter_map(|(id, role)| {
                let role = serde_json::from_value(serde_json::Value::String(role)).ok()?;
                Some((Uuid::parse_str(&id).ok()?, role))
            })
            .collect();
        roles.sort();
        // A phone's role in one neighborhood is in one form only, but a scan may repeat a field.
        roles.dedup_by_key(|(id, _)| *id);
        Ok(roles)
    }

    /// Keeps the phone-roles index in step with a member record.
    pub(crate) async fn index_member_role(&self, member: &Member) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.set_phone_role(&mut pipe, member);
        self.retrying_once(|mut conn| {
            let pipe = pipe.clone();
            async move { pipe.query_async::<()>(&mut conn).await }
        })
        .await
    }

    /// Adds to `pipe` what records `member`'s role in the phone-roles index (or its absence, for
    /// a member who is not active).
    pub(crate) fn set_phone_role(&self, pipe: &mut redis::Pipeline, member: &Member) {
        let role = (member.status == MemberStatus::Active).then_some(member.role);
        self.put_phone_role(pipe, &member.phone, member.neighborhood_id, role);
    }

    /// Adds to `pipe` what records `phone`'s role in a neighborhood, or that it has none there:
    /// in its bucket, with its entry of the form before removed, so that entry never outlives a
    /// change (both are in the `{global}` slot, so an atomic pipeline covers them).
    pub(crate) fn put_phone_role(
        &self,
        pipe: &mut redis::Pipeline,
        phone: &Phone,
        neighborhood_id: Uuid,
        role: Option<Role>,
    ) {
        let bucket = self.keys.phone_roles(phone);
        let field = role_field(phone, neighborhood_id);
        match role {
            Some(role) => pipe.hset(bucket, field, role.as_str()).ignore(),
            None => pipe.hdel(bucket, field).ignore(),
        };
        pipe.hdel(
            self.keys.phone_roles_old_form(phone),
            neighborhood_id.to_string(),
        )
        .ignore();
    }
}

/// A phone's entry in its phone-roles bucket for one neighborhood.
fn role_field(phone: &Phone, neighborhood_id: Uuid) -> String {
    format!("{}{}", role_fields_of(phone), neighborhood_id.simple())
}

/// What every entry of a phone in its phone-roles bucket starts with.
fn role_fields_of(phone: &Phone) -> String {
    format!("{}|", phone.as_str())
}
