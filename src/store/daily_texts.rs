//! Daily caps on 1:1 texts, per neighborhood and for the deployment, counted per UTC day so they
//! hold across every instance (security review, findings 2 and 12).

use std::sync::LazyLock;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError};

/// Counters outlive their day by one, so a day just ended can still be read.
const TTL_SECS: u64 = 2 * 24 * 60 * 60;

/// Whose cap a text counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Neighborhood(Uuid),
    Deployment,
}

/// What a cap said about one more text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyCount {
    /// Counted: this is the day's `n`th text.
    Counted(u64),
    /// Refused, and the first refusal of the day: the breaker just tripped (someone must be told).
    Tripped,
    /// Refused; the breaker had tripped already.
    Refused,
}

/// `KEYS[1]`: the day's counter, `KEYS[2]`: its breaker flag (one hash tag). `ARGV[1]`: the cap,
/// `ARGV[2]`: TTL seconds. Returns the new count, -1 when this refusal tripped the breaker, -2 when
/// it had tripped before. Check and count in one step, so two instances never both take the last.
static COUNT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return -1 end
  return -2
end
n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return n",
    )
});

impl Store {
    fn daily_texts_key(&self, scope: Scope, date: &str) -> String {
        match scope {
            Scope::Neighborhood(id) => self.keys.daily_texts(id, date),
            Scope::Deployment => self.keys.deployment_daily_texts(date),
        }
    }

    /// Counts one text of `scope` on `date` unless `cap` texts were counted already.
    pub async fn count_daily_text(
        &self,
        scope: Scope,
        date: &str,
        cap: u64,
    ) -> Result<DailyCount, StoreError> {
        let key = self.daily_texts_key(scope, date);
        let mut conn = self.connection();
        let answer: i64 = COUNT
            .key(&key)
            .key(format!("{key}:tripped"))
            .arg(cap)
            .arg(TTL_SECS)
            .invoke_async(&mut conn)
            .await?;
        Ok(match answer {
            -1 => DailyCount::Tripped,
            n if n < 0 => DailyCount::Refused,
            n => DailyCount::Counted(n.unsigned_abs()),
        })
    }

    /// Takes back one counted text (counted against the neighborhood, then refused by the
    /// deployment's cap: it was never sent).
    pub async fn uncount_daily_text(&self, scope: Scope, date: &str) -> Result<(), StoreError> {
        let key = self.daily_texts_key(scope, date);
        let mut conn = self.connection();
        let _: i64 = redis::cmd("DECR").arg(&key).query_async(&mut conn).await?;
        Ok(())
    }

    /// Texts of `scope` counted on `date`, and whether its breaker tripped.
    pub async fn daily_texts(&self, scope: Scope, date: &str) -> Result<(u64, bool), StoreError> {
        let key = self.daily_texts_key(scope, date);
        let mut conn = self.connection();
        let (count, tripped): (Option<u64>, Option<String>) = redis::pipe()
            .get(&key)
            .get(format!("{key}:tripped"))
            .query_async(&mut conn)
            .await?;
        Ok((count.unwrap_or(0), tripped.is_some()))
    }
}

impl Store {
    /// The phones of every platform admin.
    pub async fn platform_admin_phones(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.connection();
        Ok(redis::cmd("HKEYS")
            .arg(self.keys.platform_admins())
            .query_async(&mut conn)
            .await?)
    }
}
