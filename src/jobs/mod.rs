//! Background work that outlives a request: the outbox worker carrying out Twilio side effects,
//! and the reconciliation that repairs drift between the members in Redis and Twilio.

pub mod outbox;
pub mod reconcile;
