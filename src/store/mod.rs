//! Redis, the system of record. [`Store`] wraps one multiplexed `ConnectionManager` and the key
//! prefix; each aggregate has its own file with the commands for it. Key formats live in
//! [`keys`] only.
//!
//! Every command runs under explicit timeouts. A command that is safe to repeat is retried once
//! when the connection dropped under it: the connection manager reconnects in the background but
//! fails the command that noticed the drop, and a caller should not see that.

pub mod keys;
pub mod neighborhoods;

use std::future::Future;
use std::time::Duration;

use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::RedisUrl;
use keys::Keys;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis did not answer: down, unreachable, or too slow.
    #[error("Redis is unavailable: {0}")]
    Unavailable(#[source] RedisError),
    /// Redis answered with an error.
    #[error("Redis command failed: {0}")]
    Command(#[source] RedisError),
    /// A stored value no longer matches its type.
    #[error("stored value at {key} is unreadable: {source}")]
    Corrupt {
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        if is_connection_problem(&error) {
            Self::Unavailable(error)
        } else {
            Self::Command(error)
        }
    }
}

fn is_connection_problem(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}

#[derive(Clone)]
pub struct Store {
    conn: ConnectionManager,
    keys: Keys,
}

impl Store {
    /// Prepares the connection without touching the network: the service must start (and
    /// answer `/health`) while Redis is still unreachable.
    pub fn connect(url: &RedisUrl, prefix: &str, timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url.expose())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // Few, quick reconnect attempts: callers get a clear "unavailable" instead of a hang,
            // and the next command starts a fresh attempt anyway.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self {
            conn,
            keys: Keys::new(prefix),
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("PING").query_async::<String>(&mut conn).await
        })
        .await
        .map(drop)
    }

    /// Runs an idempotent operation, once more if the connection dropped under the first try.
    async fn retrying_once<T, F, Fut>(&self, operation: F) -> Result<T, StoreError>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        match operation(self.conn.clone()).await {
            Err(error) if is_connection_problem(&error) && !error.is_timeout() => {
                tracing::debug!(%error, "Redis connection dropped; retrying once");
                Ok(operation(self.conn.clone()).await?)
            }
            other => Ok(other?),
        }
    }

    async fn get_string(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("GET")
                .arg(key)
                .query_async::<Option<String>>(&mut conn)
                .await
        })
        .await
    }
}

/// Decodes a JSON value read from `key`.
fn decode<T: serde::de::DeserializeOwned>(key: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    // Our stored types are plain structs with string keys: serializing them cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}
