//! The day's count of phones captains added to a neighborhood without the phone asking
//! (`services::additions`): checked and counted in one step, so two instances never both take the
//! last places.

use std::sync::LazyLock;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError};

/// Counters outlive their day by one, so a day just ended can still be read.
const TTL_SECS: u64 = 2 * 24 * 60 * 60;

/// `KEYS[1]`: the day's counter. `ARGV[1]`: how many are wanted, `ARGV[2]`: the cap, `ARGV[3]`:
/// TTL seconds. Reserves as many as are left, up to the wanted; returns how many it reserved.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local granted = math.min(tonumber(ARGV[1]), math.max(tonumber(ARGV[2]) - n, 0))
if granted > 0 then
  redis.call('INCRBY', KEYS[1], granted)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
return granted",
    )
});

impl Store {
    /// Reserves up to `wanted` of `date`'s additions to the neighborhood under `cap`; answers how
    /// many it reserved.
    pub async fn reserve_daily_additions(
        &self,
        neighborhood_id: Uuid,
        date: &str,
        wanted: u64,
        cap: u64,
    ) -> Result<u64, StoreError> {
        let mut conn = self.connection();
        Ok(RESERVE
            .key(self.keys.daily_additions(neighborhood_id, date))
            .arg(wanted)
            .arg(cap)
            .arg(TTL_SECS)
            .invoke_async(&mut conn)
            .await?)
    }

    /// The additions counted on `date`.
    pub async fn daily_additions(
        &self,
        neighborhood_id: Uuid,
        date: &str,
    ) -> Result<u64, StoreError> {
        let mut conn = self.connection();
        let count: Option<u64> = redis::cmd("GET")
            .arg(self.keys.daily_additions(neighborhood_id, date))
            .query_async(&mut conn)
            .await?;
        Ok(count.unwrap_or(0))
    }

    /// Gives back `count` reserved additions that did not happen.
    pub async fn release_daily_additions(
        &self,
        neighborhood_id: Uuid,
        date: &str,
        count: u64,
    ) -> Result<(), StoreError> {
        let mut conn = self.connection();
        let _: i64 = redis::cmd("DECRBY")
            .arg(self.keys.daily_additions(neighborhood_id, date))
            .arg(count)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
