//! Background work that outlives a request: the outbox worker carrying out Twilio side effects.

pub mod outbox;
