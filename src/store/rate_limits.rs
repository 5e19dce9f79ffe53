//! Rate limits kept in Redis, so they hold across every instance: GCRA (generic cell rate
//! algorithm) in one Lua script, on Redis server time so instances with skewed clocks agree.
//!
//! A limit of `max` hits per `window` lets one hit through every `window / max` (the emission
//! interval), with bursts of up to `max`. Per subject, Redis keeps a single number: the
//! *theoretical arrival time* (TAT), in milliseconds of server time, at which the subject would
//! be back to a full burst. A hit is allowed when pushing the TAT one interval further keeps it
//! within `window` of now; an allowed hit stores the new TAT with a `PX` expiry at that TAT, so
//! the key disappears exactly when it no longer constrains anything. A refused hit changes
//! nothing: hammering a limit does not push recovery further away.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use super::{Store, StoreError};

/// A named limit: at most `max` hits per `window`, smoothly (GCRA), with bursts up to `max`.
///
/// `name` is part of the Redis key: every limit needs its own. When `window` is not a whole
/// number of milliseconds per hit, the interval between hits rounds up (the limit is never
/// looser than stated). A `max` of zero refuses everything.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// What a rate limit says about one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Refused, and not counted. The next hit is allowed after `retry_after` (at least 1 ms,
    /// exact to the millisecond of Redis server time).
    Limited {
        retry_after: Duration,
    },
}

const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Login codes texted to one phone: a code arrives in seconds, so three in 15 minutes already
/// means a lost phone or someone else typing the number. Keeps strangers from spamming a phone.
/// A device that signed in as the phone before is not held by it, so strangers using it up
/// cannot keep a captain from getting a code.
pub const LOGIN_CODES_PER_PHONE: RateLimit = RateLimit {
    name: "login-codes-per-phone",
    max: 3,
    window: FIFTEEN_MINUTES,
};

/// Login codes requested from one IP address, across phones: keeps one client from using the
/// service to text many numbers (SMS pumping) while a household behind one address still works.
pub const LOGIN_CODES_PER_IP: RateLimit = RateLimit {
    name: "login-codes-per-ip",
    max: 10,
    window: FIFTEEN_MINUTES,
};

/// Attempts to enter a login code for one phone from one IP address (subject: phone and IP):
/// slows one client guessing. Keyed by both so that strangers elsewhere cannot use up the
/// phone's own tries; the per-phone ceiling of wrong codes (`NT_SIGNIN_MAX_WRONG_CODES`) is
/// the hard stop across addresses.
pub const CODE_CHECKS_PER_PHONE_AND_IP: RateLimit = RateLimit {
    name: "code-checks-per-phone-and-ip",
    max: 10,
    window: FIFTEEN_MINUTES,
};

/// Attempts to enter a login code from one IP address, across phones: bounds guessing codes
/// for many phones from one client.
pub const CODE_CHECKS_PER_IP: RateLimit = RateLimit {
    name: "code-checks-per-ip",
    max: 30,
    window: FIFTEEN_MINUTES,
};

/// Requests to join a neighborhood from one IP address: each one texts someone, so a client
/// cannot use the join form to spam.
pub const JOIN_REQUESTS_PER_IP: RateLimit = RateLimit {
    name: "join-requests-per-ip",
    max: 10,
    window: HOUR,
};

/// Requests to join a neighborhood for one phone: keeps a phone from being signed up over and
/// over by someone else.
pub const JOIN_REQUESTS_PER_PHONE: RateLimit = RateLimit {
    name: "join-requests-per-phone",
    max: 3,
    window: HOUR,
};

/// Invitations texted from one neighborhood (subject: the neighborhood id): generous for a real
/// neighborhood, but bounds what one compromised organizer account can send.
pub const INVITES_PER_NEIGHBORHOOD: RateLimit = RateLimit {
    name: "invites-per-neighborhood",
    max: 200,
    window: DAY,
};

/// One GCRA hit. `KEYS[1]`: the subject's TAT (ms of server time). `ARGV[1]`: emission interval
/// (ms, at least 1). `ARGV[2]`: burst span, `max` intervals (ms). Returns 0 when the hit is
/// allowed (and counted), otherwise the milliseconds until the next hit would be (and counts
/// nothing).
static HIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.replicate_commands()
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then tat = now end
local next_tat = tat + interval
local allowed_at = next_tat - span
if now < allowed_at then return allowed_at - now end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', string.format('%.0f', next_tat - now))
return 0",
    )
});

impl RateLimit {
    /// The emission interval and the burst span, in whole milliseconds: `None` when `max` is 0.
    fn gcra_millis(&self) -> Option<(u64, u64)> {
        if self.max == 0 {
            return None;
        }
        let window = u64::try_from(self.window.as_micros().div_ceil(1000)).unwrap_or(u64::MAX);
        let interval = window.div_ceil(u64::from(self.max)).max(1);
        Some((interval, interval.saturating_mul(u64::from(self.max))))
    }
}

impl Store {
    /// Counts one hit of `subject` (a phone, an IP, a neighborhood id) against `limit`.
    ///
    /// Not retried after a dropped connection: the hit may have counted already.
    pub async fn hit_rate_limit(
        &self,
        limit: &RateLimit,
        subject: &str,
    ) -> Result<RateDecision, StoreError> {
        let Some((interval, span)) = limit.gcra_millis() else {
            return Ok(RateDecision::Limited {
                retry_after: limit.window.max(Duration::from_millis(1)),
            });
        };
        let key = self.keys.rate_limit(limit.name, subject);
        let mut conn = self.connection();
        let retry_after_ms: i64 = HIT
            .key(&key)
            .arg(interval)
            .arg(span)
            .invoke_async(&mut conn)
            .await?;
        Ok(match u64::try_from(retry_after_ms) {
            Ok(ms) if ms > 0 => RateDecision::Limited {
                retry_after: Duration::from_millis(ms),
            },
            _ => RateDecision::Allowed,
        })
    }
}

/// `retry_after` in whole seconds for a `Retry-After` header: rounded up, at least 1.
pub fn retry_after_secs(retry_after: Duration) -> u64 {
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_rounds_up_and_the_span_is_max_intervals() {
        let limit = RateLimit {
            name: "t",
            max: 3,
            window: Duration::from_millis(1000),
        };
        assert_eq!(limit.gcra_millis(), Some((334, 1002)));
        assert_eq!(
            LOGIN_CODES_PER_PHONE.gcra_millis(),
            Some((300_000, 900_000))
        );
        let dense = RateLimit {
            name: "t",
            max: 10,
            window: Duration::from_micros(1),
        };
        assert_eq!(dense.gcra_millis(), Some((1, 10)));
        let none = RateLimit { max: 0, ..limit };
        assert_eq!(none.gcra_millis(), None);
    }

    #[test]
    fn every_limit_has_its_own_name() {
        let names = [
            LOGIN_CODES_PER_PHONE.name,
            LOGIN_CODES_PER_IP.name,
            CODE_CHECKS_PER_PHONE_AND_IP.name,
            CODE_CHECKS_PER_IP.name,
            JOIN_REQUESTS_PER_IP.name,
            JOIN_REQUESTS_PER_PHONE.name,
            INVITES_PER_NEIGHBORHOOD.name,
        ];
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }
}
