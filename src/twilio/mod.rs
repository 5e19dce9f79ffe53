//! The Twilio REST client: a concrete, cloneable [`TwilioClient`] over reqwest that speaks
//! Conversations v1 (the neighborhood group text) and its Media Content Service, API v2010 (buying and configuring our numbers,
//! direct SMS) and Messaging v1 (Messaging Service membership). It sends Twilio's exact form
//! parameter names, decodes Twilio's error bodies into [`TwilioError::Api`], retries throttling,
//! 5xx and connection failures with jittered backoff, and can point every host at a local
//! stand-in through `api_base` (`NT_TWILIO_API_BASE`).

pub mod client;
mod conversations;
pub mod error;
pub mod media;
mod numbers;
pub mod signature;
pub mod types;
mod urls;

pub use client::{Credentials, RetryPolicy, TwilioClient, TwilioConfig};
pub use error::TwilioError;
