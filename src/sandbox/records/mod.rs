//! The emulated account's records in Redis, and the rules Twilio enforces on them, one file per
//! resource as in `rest/`.
//!
//! Rules that must hold across instances (one binding per address and proxy, 50 SMS participants,
//! unique names, numbers sold once) are checked and applied in one Lua script or one atomic
//! command, never as a read followed by a write.

pub(in crate::sandbox) mod content;
mod conversations;
pub(in crate::sandbox) mod media;
mod numbers;
mod participants;
mod phones;
mod whatsapp;

pub(in crate::sandbox) use whatsapp::{OUTSIDE_WINDOW, is_whatsapp, phone_of};

use crate::store::connection::RedisConnection;
use serde_json::Value;

use super::Emulator;
use crate::store::StoreError;

/// An error answer as Twilio gives it: `{code, message, more_info, status}`. The emulator gives one
/// where Twilio would; [`InjectedFaults`](super::InjectedFaults) are failures injected on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl ErrorAnswer {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(path: &str) -> Self {
        Self::new(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }
}

/// Why an emulated operation failed: Twilio would refuse it, or Redis failed.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{}: {}", .0.code, .0.message)]
    Twilio(ErrorAnswer),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ErrorAnswer> for EmulatorError {
    fn from(answer: ErrorAnswer) -> Self {
        Self::Twilio(answer)
    }
}

impl From<redis::RedisError> for EmulatorError {
    fn from(error: redis::RedisError) -> Self {
        Self::Store(error.into())
    }
}

pub type EmulatorResult<T> = Result<T, EmulatorError>;

/// One page of a list: the items, and whether more follow.
pub struct Slice {
    pub items: Vec<Value>,
    pub more: bool,
}

impl Emulator {
    fn conn(&self) -> RedisConnection {
        self.store().connection()
    }

    /// A number that orders creations across instances.
    async fn next_sequence(&self) -> EmulatorResult<f64> {
        let n: u64 = redis::cmd("INCR")
            .arg(self.keys().sequence())
            .query_async(&mut self.conn())
            .await?;
        Ok(n as f64)
    }

    async fn hget_json(&self, key: &str, field: &str) -> EmulatorResult<Option<Value>> {
        Ok(self.store().hget_json(key, field).await?)
    }

    async fn hset_json(&self, key: &str, field: &str, value: &Value) -> EmulatorResult<()> {
        redis::cmd("HSET")
            .arg(key)
            .arg(field)
            .arg(value.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Members of a sorted set in order, resolved through a hash of JSON, one page at a time.
    async fn ordered_page(
        &self,
        order_key: &str,
        hash_key: &str,
        offset: usize,
        limit: usize,
    ) -> EmulatorResult<Slice> {
        let sids: Vec<String> = redis::cmd("ZRANGE")
            .arg(order_key)
            .arg(offset)
            .arg(offset + limit)
            .query_async(&mut self.conn())
            .await?;
        let more = sids.len() > limit;
        let sids = &sids[..sids.len().min(limit)];
        if sids.is_empty() {
            return Ok(Slice {
                items: Vec::new(),
                more: false,
            });
        }
        let values: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(hash_key)
            .arg(sids)
            .query_async(&mut self.conn())
            .await?;
        let items = values
            .into_iter()
            .flatten()
            .filter_map(|json| serde_json::from_str(&json).ok())
            .collect();
        Ok(Slice { items, more })
    }

    /// Publishes a live event; losing one only delays a page's refresh, so errors are logged.
    pub(in crate::sandbox) async fn publish(&self, event: &Value) {
        let result = self
            .conn()
            .publish(&self.keys().events_channel(), &event.to_string())
            .await;
        if let Err(error) = result {
            tracing::debug!(%error, "sandbox event not published");
        }
    }
}
