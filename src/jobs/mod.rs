//! Background work that outlives a request: the outbox worker carrying out Twilio side effects,
//! the scheduler sending announcements when due, the release of announcements held by the
//! budget, and the reconciliation that repairs drift between the members in Redis and Twilio.

pub mod held;
pub mod outbox;
pub mod reconcile;
pub mod scheduler;
