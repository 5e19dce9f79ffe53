//! Captains' join-request digests: the requests each captain's next digest names (written with
//! the request, see `join_requests`), when each was last sent one, and the deployment-wide index
//! of when each digest should be looked at.
//!
//! Exactly once: sending is one script in the neighborhood's slot that takes the items read out
//! of the digest (only if unchanged), queues the text in the outbox and notes the time, so two
//! instances holding the same digest send it once. The due index (`{global}`) only says which
//! instance should look when, like the announcements' one. A request adds its item first and its
//! due entry after; the job removes a due entry first and looks for items after, and puts the
//! entry back if there are any: whatever the interleaving, no item is left without an entry. A
//! crash between an item and its entry is repaired by [`Store::rescan_join_digests`] at start.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use time::OffsetDateTime;
use uuid::Uuid;

use super::due_index::{due_member, millis};
use super::outbox::{Effect, effects_script, encode_effect};
use super::{Store, StoreError};

/// Takes the items read (ARGV[4..4+2n): field, value pairs; ARGV[3] is n) out of the digest
/// (KEYS[1]) if none changed, queues ARGV[4+2n..] as outbox effects (KEYS[3]) and, when
/// ARGV[2] is not empty, notes it as the time the member (ARGV[1]) was sent a digest (KEYS[2]).
static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  if redis.call('HGET', KEYS[1], ARGV[4 + 2 * i]) ~= ARGV[5 + 2 * i] then return 0 end
end
for i = 0, n - 1 do redis.call('HDEL', KEYS[1], ARGV[4 + 2 * i]) end
for i = 4 + 2 * n, #ARGV do queue_effect(KEYS[3], ARGV[i]) end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
return 1",
    )
});

/// A captain's digest as read: its items (request number, stored JSON) and when the captain was
/// last sent one.
#[derive(Debug, Clone, Default)]
pub struct DigestRead {
    pub items: Vec<(String, String)>,
    pub last_sent: Option<OffsetDateTime>,
}

impl Store {
    /// Asks for a captain's digest to be looked at `at`, unless it is already waiting to be.
    pub async fn schedule_join_digest(
        &self,
        neighborhood_id: Uuid,
        member_id: Uuid,
        at: OffsetDateTime,
        replace: bool,
    ) -> Result<(), StoreError> {
        let entry = due_member(neighborhood_id, member_id);
        self.retrying_once(|mut conn| {
            let entry = entry.clone();
            async move {
                let mut command = redis::cmd("ZADD");
                command.arg(self.keys.join_digests_due());
                if !replace {
                    command.arg("NX");
                }
                command
                    .arg(millis(at))
                    .arg(entry)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Claims up to `count` digests due by `now` for `lease`: (neighborhood id, member id).
    pub async fn claim_due_join_digests(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        count: usize,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        self.claim_due(self.keys.join_digests_due(), now, lease, count)
            .await
    }

    /// A captain's digest: its items and when they were last sent one.
    pub async fn join_digest(
        &self,
        neighborhood_id: Uuid,
        member_id: Uuid,
    ) -> Result<DigestRead, StoreError> {
        let (items, last_sent): (Vec<(String, String)>, Option<i64>) = self
            .retrying_once(|mut conn| async move {
                redis::pipe()
                    .cmd("HGETALL")
                    .arg(self.keys.join_digest(neighborhood_id, member_id))
                    .cmd("HGET")
                    .arg(self.keys.join_digest_sent(neighborhood_id))
                    .arg(member_id.simple().to_string())
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(DigestRead {
            items,
            last_sent: last_sent.and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            }),
        })
    }

    /// Takes `read` out of the captain's digest, queuing `effects` and noting `sent_at` as the
    /// time they were sent one; false, changing nothing, if the digest changed since read.
    pub async fn settle_join_digest(
        &self,
        neighborhood_id: Uuid,
        member_id: Uuid,
        read: &DigestRead,
        effects: &[Effect],
        sent_at: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let mut invocation = SETTLE.key(self.keys.join_digest(neighborhood_id, member_id));
        invocation
            .key(self.keys.join_digest_sent(neighborhood_id))
            .key(self.keys.outbox(neighborhood_id))
            .arg(member_id.simple().to_string())
            .arg(
                sent_at
                    .map(millis)
                    .map(|ms| ms.to_string())
                    .unwrap_or_default(),
            )
            .arg(read.items.len());
        for (field, value) in &read.items {
            invocation.arg(field).arg(value);
        }
        for effect in effects {
            invocation.arg(encode_effect(effect));
        }
        self.event_log_keys(&mut invocation, neighborhood_id);
        let mut conn = self.connection();
        let settled: i64 = invocation.invoke_async(&mut conn).await?;
        if settled == 1 && !effects.is_empty() {
            self.mark_outbox_active(neighborhood_id).await?;
        }
        Ok(settled == 1)
    }

    /// Drops the captain's due entry; answers whether their digest still holds items (then the
    /// caller schedules it again). In this order, an item added meanwhile is never left behind.
    pub async fn finish_join_digest(
        &self,
        neighborhood_id: Uuid,
        member_id: Uuid,
    ) -> Result<bool, StoreError> {
        let entry = due_member(neighborhood_id, member_id);
        self.retrying_once(|mut conn| {
            let entry = entry.clone();
            async move {
                redis::cmd("ZREM")
                    .arg(self.keys.join_digests_due())
                    .arg(entry)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await?;
        let left: u64 = self
            .retrying_once(|mut conn| async move {
                redis::cmd("HLEN")
                    .arg(self.keys.join_digest(neighborhood_id, member_id))
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(left > 0)
    }

    /// Finds every digest holding items and makes sure it is due (recovers an entry lost to a
    /// crash between a request and its entry).
    pub async fn rescan_join_digests(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut cursor = 0u64;
        let mut found = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .retrying_once(|mut conn| async move {
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(self.keys.join_digest_pattern())
                        .arg("COUNT")
                        .arg(500)
                        .query_async(&mut conn)
                        .await
                })
                .await?;
            for key in keys {
                let neighborhood = key
                    .split("{nb:")
                    .nth(1)
                    .and_then(|rest| rest.split('}').next())
                    .and_then(|id| Uuid::parse_str(id).ok());
                let member = key
                    .rsplit(':')
                    .next()
                    .and_then(|id| Uuid::parse_str(id).ok());
                if let (Some(neighborhood), Some(member)) = (neighborhood, member) {
                    self.schedule_join_digest(neighborhood, member, now, false)
                        .await?;
                    found += 1;
                }
            }
            if next == 0 {
                return Ok(found);
            }
            cursor = next;
        }
    }
}
