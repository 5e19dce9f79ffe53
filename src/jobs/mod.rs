//! Background work that outlives a request: the outbox worker carrying out Twilio side effects,
//! the deliverer of integrators' events,
//! the scheduler sending announcements when due, captains' join-request digests, the release of announcements held by the
//! budget, the reconciliation that repairs drift between the members in Redis and Twilio, and
//! the backfill that acts on what Twilio told us while Redis could not take it.

pub mod backfill;
pub mod digests;
pub mod event_deliveries;
pub mod held;
pub mod outbox;
pub mod reconcile;
pub mod scheduler;
pub mod sheet_hub;
