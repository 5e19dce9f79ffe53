//! Background work that outlives a request: the outbox worker carrying out Twilio side effects,
//! the reconciliation that repairs drift between the members in Redis and Twilio, and the release
//! of announcements held by the budget.

pub mod held;
pub mod outbox;
pub mod reconcile;
