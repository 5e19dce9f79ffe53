//! Due indexes: sorted sets of `<neighborhood>:<id>` scored by when each is due (ms), read by the
//! jobs that carry out scheduled announcements and captains' join-request digests. A claim moves
//! what it takes to the end of a lease in the same step, so one instance alone holds it; an
//! instance that dies leaves it to be taken again when the lease runs out.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, StoreError};

/// Takes up to ARGV[3] entries due by ARGV[1] (ms) and pushes each to ARGV[2], the end of the
/// lease: an instance that reads them in the same step is the only one holding them.
static CLAIM_DUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, entry in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], entry) end
return due",
    )
});

/// A due index's score: milliseconds since the epoch.
pub(super) fn millis(at: OffsetDateTime) -> i64 {
    crate::domain::clock::unix_ms(at)
}

/// A due index's member: the neighborhood and the id of what is due there.
pub(super) fn due_member(neighborhood_id: Uuid, id: Uuid) -> String {
    format!("{}:{}", neighborhood_id.simple(), id.simple())
}

impl Store {
    /// Claims up to `count` entries of the due index `key` due by `now` for `lease`:
    /// (neighborhood id, id).
    pub(super) async fn claim_due(
        &self,
        key: String,
        now: OffsetDateTime,
        lease: Duration,
        count: usize,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        let until = millis(now) + i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let mut conn = self.connection();
        // Not retried: a claim whose answer was lost is taken again when its lease runs out.
        let claimed: Vec<String> = CLAIM_DUE
            .key(key)
            .arg(millis(now))
            .arg(until)
            .arg(count)
            .invoke_async(&mut conn)
            .await?;
        Ok(claimed
            .iter()
            .filter_map(|entry| {
                let (neighborhood, id) = entry.split_once(':')?;
                Some((
                    Uuid::parse_str(neighborhood).ok()?,
                    Uuid::parse_str(id).ok()?,
                ))
            })
            .collect())
    }
}
