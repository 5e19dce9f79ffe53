//! The time the service and its emulator go by.

use std::sync::Arc;
use std::time::Duration;

/// `at` in milliseconds since the Unix epoch.
pub fn unix_ms(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The system clock, plus however far a test moved it forward. Clones share the offset, so a
/// test holding one moves every instance built with it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    ahead_ms: Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> time::OffsetDateTime {
        let ahead = self.ahead_ms.load(std::sync::atomic::Ordering::SeqCst);
        time::OffsetDateTime::now_utc() + time::Duration::milliseconds(ahead)
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        unix_ms(self.now())
    }

    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}
