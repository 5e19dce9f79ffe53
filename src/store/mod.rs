//! Redis, the system of record. [`Store`] wraps one shared connection (to a node or a cluster,
//! see [`connection`]) and the key prefix; each aggregate has its own file with the commands for
//! it. Key formats live in [`keys`] only.
//!
//! Every command runs under explicit timeouts. A command that is safe to repeat is retried once
//! when the connection dropped under it: the connection manager reconnects in the background but
//! fails the command that noticed the drop, and a caller should not see that.

pub mod announcements;
pub mod audit;
pub mod auth;
pub mod backfill;
pub mod blocks;
pub mod catch_up;
pub mod connection;
pub mod costs;
pub mod daily_additions;
pub mod daily_texts;
mod due_index;
pub mod erase;
pub mod event_endpoints;
pub mod events;
pub mod export;
pub mod import;
pub mod integrator_events;
pub mod join_digests;
pub mod join_requests;
pub mod keys;
pub mod member_changes;
mod member_records;
pub mod members;
pub mod messages;
pub mod neighborhoods;
pub mod outbox;
mod pubsub;
pub mod rate_limits;
pub mod shards;
pub mod sheet_hub;
pub mod templates;
pub mod webhooks;
pub mod whatsapp_windows;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::RedisError;

use uuid::Uuid;

use crate::domain::consent_terms::ConsentTerms;
use connection::{RedisConnection, RedisEndpoint};
use keys::Keys;

/// How many times a read-modify-write is retried when another writer got there first.
const UPDATE_ATTEMPTS: usize = 5;

/// Why a read-modify-write (of a neighborhood, or of members) did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error("no such record")]
    NotFound,
    #[error("the record kept changing under this update")]
    Contended,
    /// The change itself refused (e.g. the neighborhood is archived).
    #[error(transparent)]
    Rejected(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UpdateError<StoreError> {
    /// For a change that may simply not happen: the record is gone, or others kept changing it
    /// (a later run, or the reconciliation with Twilio, settles it). Only Redis failing is an
    /// error then; `Ok(None)` says the change was not made.
    pub fn unless_gone<T>(result: Result<T, Self>) -> Result<Option<T>, StoreError> {
        match result {
            Ok(done) => Ok(Some(done)),
            Err(Self::NotFound | Self::Contended) => Ok(None),
            Err(Self::Store(error) | Self::Rejected(error)) => Err(error),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis did not answer: down, unreachable, or too slow.
    #[error("Redis is unavailable: {0}")]
    Unavailable(#[source] RedisError),
    /// Redis is out of memory (`maxmemory` reached under `noeviction`) and refuses writes;
    /// reads still work. Nothing of the refused command was written.
    #[error("Redis is full: {0}")]
    Full(#[source] RedisError),
    /// Redis answered with an error.
    #[error("Redis command failed: {0}")]
    Command(#[source] RedisError),
    /// The change was made on the primary but fewer replicas than `NT_REDIS_WAIT_REPLICAS` took
    /// it in time: it may be lost if Redis fails over now.
    #[error("only {copies} of {wanted} Redis replicas took the change in time")]
    NotReplicated { copies: u64, wanted: u32 },
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
        } else if is_out_of_memory(&error) {
            Self::Full(error)
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
        || is_cluster_in_motion(error)
}

/// A Redis Cluster between two states: a primary down and its replica not yet promoted
/// (`CLUSTERDOWN`, `MASTERDOWN`, `TRYAGAIN`), no connection to the node a slot moved to, or a
/// transaction whose commands were all redirected (`MOVED` inside an aborted `EXEC`). Nothing
/// was written; the same call works once the cluster settles, within seconds.
fn is_cluster_in_motion(error: &RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    match error.kind() {
        ErrorKind::ClusterConnectionNotFound
        | ErrorKind::Server(ServerErrorKind::MasterDown | ServerErrorKind::TryAgain) => true,
        ErrorKind::Server(ServerErrorKind::ExecAbort) => {
            let text = error.to_string();
            ["Moved", "Ask", "ClusterDown", "TryAgain", "MasterDown"]
                .iter()
                .any(|kind| text.contains(&format!("error: {kind}")))
        }
        _ => error.is_cluster_error(),
    }
}

/// Redis's `OOM command not allowed when used memory > 'maxmemory'`, as a command's own error,
/// as the error a script raised on its first write, or inside an aborted transaction.
fn is_out_of_memory(error: &RedisError) -> bool {
    error.code() == Some("OOM") || error.to_string().contains("OOM command not allowed")
}

impl StoreError {
    /// Whether Redis could not serve the call (down, or full): the caller should retry later,
    /// and nothing is wrong with the request.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(_) | Self::Full(_) | Self::NotReplicated { .. }
        )
    }
}

#[derive(Clone)]
pub struct Store {
    conn: RedisConnection,
    keys: Keys,
    /// The instance's one pub/sub connection, shared by every live-update stream.
    subscriber: Arc<pubsub::Subscriber>,
    /// Replicas that must hold a change before it is acknowledged, and how long to wait for them.
    wait_replicas: u32,
    wait_timeout: Duration,
    /// Conversation sid -> neighborhood id, as read from Redis. The pair never changes once
    /// written, so caching it saves the pre-event webhook a round trip on every message.
    conversation_index: Arc<RwLock<HashMap<String, Uuid>>>,
    /// Consent terms by digest, as read from Redis: terms never change under their digest, so
    /// member reads need not fetch the same few texts again and again.
    consent_terms: Arc<RwLock<HashMap<String, ConsentTerms>>>,
}

impl Store {
    /// Prepares the connection without touching the network: the service must start (and
    /// answer `/health`) while Redis is still unreachable.
    pub fn connect(
        endpoint: &RedisEndpoint,
        prefix: &str,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let conn = RedisConnection::open(endpoint, timeout)?;
        Ok(Self {
            subscriber: Arc::new(pubsub::Subscriber::new(endpoint.clone(), timeout)),
            conn,
            keys: Keys::new(prefix),
            wait_replicas: endpoint.wait_replicas,
            // Inside the connection's own response timeout, so the wait is what gives up.
            wait_timeout: timeout / 2,
            conversation_index: Arc::default(),
            consent_terms: Arc::default(),
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// A clone of the shared connection, for code that issues several commands of its own
    /// (the sandbox emulator). Prefer the methods of the store.
    pub(crate) fn connection(&self) -> RedisConnection {
        self.conn.clone()
    }

    /// The messages published on `channel` from now on, over the instance's one pub/sub
    /// connection (see [`pubsub`]). The stream ends if that connection drops.
    pub async fn subscribe(
        &self,
        channel: &str,
    ) -> Result<impl futures::Stream<Item = String> + use<>, StoreError> {
        self.subscriber.subscribe(channel).await
    }

    /// Returns once `NT_REDIS_WAIT_REPLICAS` replicas hold every change made so far through this
    /// store (at once when that is 0), so an acknowledged change survives a failover.
    pub async fn wait_for_replicas(&self) -> Result<(), StoreError> {
        if self.wait_replicas == 0 {
            return Ok(());
        }
        let copies = self
            .conn
            .wait_for_replicas(self.wait_replicas, self.wait_timeout)
            .await?;
        if copies < u64::from(self.wait_replicas) {
            return Err(StoreError::NotReplicated {
                copies,
                wanted: self.wait_replicas,
            });
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("PING").query_async::<String>(&mut conn).await
        })
        .await
        .map(drop)
    }

    /// Runs an idempotent operation, once more if the connection dropped under the first try.
    pub(crate) async fn retrying_once<T, F, Fut>(&self, operation: F) -> Result<T, StoreError>
    where
        F: Fn(RedisConnection) -> Fut,
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

    /// The neighborhood ids in a set of ids (unreadable members are skipped).
    pub(crate) async fn neighborhood_set(&self, key: &str) -> Result<Vec<uuid::Uuid>, StoreError> {
        let ids: Vec<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("SMEMBERS").arg(key).query_async(&mut conn).await
            })
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| uuid::Uuid::parse_str(id).ok())
            .collect())
    }

    /// One field of a hash of JSON values, decoded.
    pub(crate) async fn hget_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        field: &str,
    ) -> Result<Option<T>, StoreError> {
        let json: Option<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("HGET")
                    .arg(key)
                    .arg(field)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        json.map(|json| decode(key, &json)).transpose()
    }

    /// Every value of a hash of JSON values, decoded (in no particular order).
    pub(crate) async fn hvals_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Vec<T>, StoreError> {
        let values: Vec<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("HVALS").arg(key).query_async(&mut conn).await
            })
            .await?;
        values.iter().map(|json| decode(key, json)).collect()
    }

    /// Takes the lease `key` for `holder`, for `ttl`; false when another holds it.
    pub(crate) async fn take_lease(
        &self,
        key: String,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let mut conn = self.connection();
        // Not retried: a repeat after a lost answer would find the lease taken (by us).
        let taken: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(holder)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        Ok(taken.is_some())
    }

    /// Lets the lease `key` go, if `holder` still holds it.
    pub(crate) async fn release_lease(&self, key: String, holder: &str) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| {
            let mut invocation = outbox::RELEASE_LOCK.key(&key);
            invocation.arg(holder);
            async move { invocation.invoke_async::<()>(&mut conn).await }
        })
        .await
    }

    pub(crate) async fn get_string(&self, key: &str) -> Result<Option<String>, StoreError> {
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
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    key: &str,
    json: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|source| StoreError::Corrupt {
        key: key.to_owned(),
        source,
    })
}

pub(crate) fn encode<T: serde::Serialize>(value: &T) -> String {
    // Our stored types are plain structs with string keys: serializing them cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}
