//! A neighborhood's events for integrators (a stream, written by the scripts that write the
//! changes, see `outbox::queue_effect_lua`) and how far each endpoint has got through it.
//!
//! An endpoint's progress is one JSON record, changed only by compare-and-set, so a replay or a
//! captain turning it back on never crosses a delivery being recorded on another instance. The
//! instance delivering to an endpoint holds its lease, so its events go one at a time, in order.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use redis::{Script, ScriptInvocation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Store, StoreError, decode, encode};
use crate::domain::event_endpoint::EventEndpoint;
use crate::domain::integrator_event::IntegratorEvent;

/// Events kept in a neighborhood's log (about 5 MB at most): what a replay can reach back to, and
/// what an endpoint turned off may catch up on once on again.
pub const EVENTS_KEPT: usize = 10_000;

/// Where an endpoint is in its neighborhood's events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointProgress {
    /// The log id of the last event delivered or passed over: the ones after it are due.
    pub cursor: String,
    /// Failed attempts at the next event.
    #[serde(default)]
    pub failures: u32,
    /// When the next attempt may go (Unix ms), after a failure.
    #[serde(default)]
    pub retry_at_ms: u64,
    /// Set when it was turned off after failing for too long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Disabled>,
}

/// Why and when an endpoint was turned off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disabled {
    /// RFC 3339.
    pub at: String,
    pub reason: String,
}

/// An endpoint's progress as stored (to compare-and-set against) and as read.
#[derive(Debug, Clone)]
pub struct StoredProgress {
    pub raw: String,
    pub progress: EndpointProgress,
}

/// One event of the log, with its place in it.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub log_id: String,
    pub event: IntegratorEvent,
}

/// How an event is stored: its `publish` effect whole, as the scripts wrote it.
#[derive(Deserialize)]
struct Published {
    event: IntegratorEvent,
}

/// Saves a new endpoint, unless the neighborhood has `ARGV[3]` already (counted here, so two
/// requests at once cannot both take the last place; a repeat of this one still counts as
/// saved), and starts it after the last event logged so far: it is sent what happens from now
/// on.
static INSERT_ENDPOINT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
    and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)
local cursor = '0-0'
if last[1] then cursor = last[1][1] end
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode({cursor = cursor}))
return 1",
    )
});

/// Replaces a progress record only if it is still as read.
static REPLACE_PROGRESS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1",
    )
});

impl Store {
    /// Adds the event log and the endpoints as the last two keys of a script that queues
    /// effects (see `outbox::queue_effect_lua`).
    pub(super) fn event_log_keys(&self, invocation: &mut ScriptInvocation<'_>, id: Uuid) {
        invocation
            .key(self.keys.integrator_events(id))
            .key(self.keys.event_endpoints(id));
    }

    /// Logs an event outside the change it tells of (one found in the outbox), when the
    /// neighborhood has endpoints.
    pub async fn log_integrator_event(
        &self,
        neighborhood_id: Uuid,
        event: &IntegratorEvent,
    ) -> Result<(), StoreError> {
        let mut invocation = super::outbox::QUEUE_EFFECTS.key(self.keys.outbox(neighborhood_id));
        invocation.arg(encode(&super::outbox::Effect::Publish {
            event: event.clone(),
        }));
        self.event_log_keys(&mut invocation, neighborhood_id);
        let mut conn = self.connection();
        // Not retried: a repeat after a lost answer would log it twice.
        invocation.invoke_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Saves a new endpoint, due the events from now on, and lists its neighborhood for the
    /// deliverers; false (nothing saved) when the neighborhood has `most` endpoints already.
    pub async fn insert_event_endpoint(
        &self,
        neighborhood_id: Uuid,
        endpoint: &EventEndpoint,
        most: usize,
    ) -> Result<bool, StoreError> {
        let json = encode(endpoint);
        let saved: bool = self
            .retrying_once(|mut conn| {
                let mut invocation =
                    INSERT_ENDPOINT.key(self.keys.event_endpoints(neighborhood_id));
                invocation
                    .key(self.keys.endpoint_progress(neighborhood_id))
                    .key(self.keys.integrator_events(neighborhood_id))
                    .arg(endpoint.id.simple().to_string())
                    .arg(&json)
                    .arg(most);
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        if saved {
            self.list_endpoint_neighborhood(neighborhood_id).await?;
        }
        Ok(saved)
    }

    pub async fn list_endpoint_neighborhood(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("SADD")
                .arg(self.keys.endpoint_neighborhoods())
                .arg(neighborhood_id.to_string())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// Neighborhoods that have (or had) endpoints.
    pub async fn endpoint_neighborhoods(&self) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("SMEMBERS")
                    .arg(self.keys.endpoint_neighborhoods())
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }

    /// Takes a neighborhood off the deliverers' list once it has no endpoint; puts it back when
    /// one was registered meanwhile.
    pub async fn unlist_endpoint_neighborhood(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<(), StoreError> {
        let mut conn = self.connection();
        redis::cmd("SREM")
            .arg(self.keys.endpoint_neighborhoods())
            .arg(neighborhood_id.to_string())
            .query_async::<()>(&mut conn)
            .await?;
        if !self.event_endpoints(neighborhood_id).await?.is_empty() {
            self.list_endpoint_neighborhood(neighborhood_id).await?;
        }
        Ok(())
    }

    /// Every endpoint's progress in a neighborhood, by endpoint id.
    pub async fn endpoint_progress(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<HashMap<Uuid, StoredProgress>, StoreError> {
        let key = self.keys.endpoint_progress(neighborhood_id);
        let rows: HashMap<String, String> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move { redis::cmd("HGETALL").arg(key).query_async(&mut conn).await }
            })
            .await?;
        rows.into_iter()
            .filter_map(|(id, raw)| Some((Uuid::parse_str(&id).ok()?, raw)))
            .map(|(id, raw)| {
                let progress = decode(&key, &raw)?;
                Ok((id, StoredProgress { raw, progress }))
            })
            .collect()
    }

    /// Gives an endpoint registered before events were logged (it has no progress) the whole
    /// log: everything logged since is for it.
    pub async fn start_endpoint_progress(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
    ) -> Result<(), StoreError> {
        let start = encode(&EndpointProgress {
            cursor: "0-0".to_owned(),
            ..EndpointProgress::default()
        });
        self.retrying_once(|mut conn| {
            let start = start.clone();
            async move {
                redis::cmd("HSETNX")
                    .arg(self.keys.endpoint_progress(neighborhood_id))
                    .arg(endpoint_id.simple().to_string())
                    .arg(start)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Replaces an endpoint's progress if it is still `read`; false when it changed meanwhile.
    pub async fn replace_endpoint_progress(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
        read: &StoredProgress,
        progress: &EndpointProgress,
    ) -> Result<bool, StoreError> {
        let mut conn = self.connection();
        // A compare-and-set: a repeat after a lost answer would only report a conflict.
        let replaced: i64 = REPLACE_PROGRESS
            .key(self.keys.endpoint_progress(neighborhood_id))
            .arg(endpoint_id.simple().to_string())
            .arg(&read.raw)
            .arg(encode(progress))
            .invoke_async(&mut conn)
            .await?;
        Ok(replaced == 1)
    }

    /// The log id of the neighborhood's latest event, if any.
    pub async fn last_event_log_id(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        let key = self.keys.integrator_events(neighborhood_id);
        let rows: Vec<(String, Vec<(String, String)>)> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("XREVRANGE")
                        .arg(key)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(1)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(rows.into_iter().next().map(|(id, _)| id))
    }

    /// Up to `count` events logged after `cursor` (a log id), oldest first.
    pub async fn events_after(
        &self,
        neighborhood_id: Uuid,
        cursor: &str,
        count: usize,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        self.events_between(neighborhood_id, &format!("({cursor}"), "+", count)
            .await
    }

    /// Up to `count` events from `start` to `end` (log ids, `-`, `+` or `(id`), oldest first.
    pub async fn events_between(
        &self,
        neighborhood_id: Uuid,
        start: &str,
        end: &str,
        count: usize,
    ) -> Result<Vec<LoggedEvent>, StoreError> {
        let key = self.keys.integrator_events(neighborhood_id);
        let rows: Vec<(String, Vec<(String, String)>)> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("XRANGE")
                        .arg(key)
                        .arg(start)
                        .arg(end)
                        .arg("COUNT")
                        .arg(count)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        rows.into_iter()
            .filter_map(|(log_id, fields)| {
                let (_, json) = fields.into_iter().find(|(name, _)| name == "event")?;
                Some(
                    decode::<Published>(&key, &json).map(|published| LoggedEvent {
                        log_id,
                        event: published.event,
                    }),
                )
            })
            .collect()
    }

    /// Takes an endpoint's delivery lease for `holder`, for `ttl`; false when another holds it.
    pub async fn take_endpoint_lease(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.take_lease(
            self.keys.endpoint_lease(neighborhood_id, endpoint_id),
            holder,
            ttl,
        )
        .await
    }

    pub async fn release_endpoint_lease(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.release_lease(
            self.keys.endpoint_lease(neighborhood_id, endpoint_id),
            holder,
        )
        .await
    }
}
