//! Integrators' endpoints of a neighborhood (a hash: endpoint id -> record) and each one's
//! delivery log (a stream trimmed to its latest [`DELIVERIES_KEPT`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Store, StoreError, decode, encode};
use crate::domain::event_endpoint::EventEndpoint;

/// Deliveries kept in each endpoint's log.
pub const DELIVERIES_KEPT: usize = 500;

/// One attempt to deliver an event, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The event's id (`webhook-id`).
    pub event_id: String,
    pub event_type: String,
    /// RFC 3339.
    pub at: String,
    /// The endpoint's HTTP status; `None` when it did not answer.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Which attempt at this event this was (1 for the first).
    pub attempt: u32,
    /// The answer's first bytes, or what went wrong.
    pub answer: String,
    /// Sent again on a captain's word (a replay of this one event), outside the sequence.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

/// A logged delivery and its place in the log.
#[derive(Debug, Clone)]
pub struct LoggedDelivery {
    pub id: String,
    pub record: DeliveryRecord,
}

impl Store {
    pub async fn save_event_endpoint(
        &self,
        neighborhood_id: Uuid,
        endpoint: &EventEndpoint,
    ) -> Result<(), StoreError> {
        let key = self.keys.event_endpoints(neighborhood_id);
        let json = encode(endpoint);
        self.retrying_once(|mut conn| {
            let (key, json) = (key.clone(), json.clone());
            async move {
                redis::cmd("HSET")
                    .arg(key)
                    .arg(endpoint.id.simple().to_string())
                    .arg(json)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    pub async fn event_endpoints(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<Vec<EventEndpoint>, StoreError> {
        let mut endpoints: Vec<EventEndpoint> = self
            .hvals_json(&self.keys.event_endpoints(neighborhood_id))
            .await?;
        endpoints.sort_by_key(|endpoint| endpoint.created_at);
        Ok(endpoints)
    }

    pub async fn event_endpoint(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
    ) -> Result<Option<EventEndpoint>, StoreError> {
        self.hget_json(
            &self.keys.event_endpoints(neighborhood_id),
            &endpoint_id.simple().to_string(),
        )
        .await
    }

    /// Deletes an endpoint and its log; false when there was none.
    pub async fn delete_event_endpoint(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
    ) -> Result<bool, StoreError> {
        let key = self.keys.event_endpoints(neighborhood_id);
        let log = self.keys.event_deliveries(neighborhood_id, endpoint_id);
        let progress = self.keys.endpoint_progress(neighborhood_id);
        let lease = self.keys.endpoint_lease(neighborhood_id, endpoint_id);
        let field = endpoint_id.simple().to_string();
        let (deleted, _, _, _): (u64, u64, u64, u64) = self
            .retrying_once(|mut conn| {
                let (key, log, progress, lease) =
                    (key.clone(), log.clone(), progress.clone(), lease.clone());
                let field = field.clone();
                async move {
                    redis::pipe()
                        .atomic()
                        .cmd("HDEL")
                        .arg(key)
                        .arg(&field)
                        .cmd("DEL")
                        .arg(log)
                        .cmd("HDEL")
                        .arg(progress)
                        .arg(&field)
                        .cmd("DEL")
                        .arg(lease)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(deleted == 1)
    }

    /// Appends to an endpoint's delivery log.
    pub async fn log_delivery(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
        record: &DeliveryRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.connection();
        // Not retried: a repeat after a lost answer would log the attempt twice.
        redis::cmd("XADD")
            .arg(self.keys.event_deliveries(neighborhood_id, endpoint_id))
            .arg("MAXLEN")
            .arg("~")
            .arg(DELIVERIES_KEPT)
            .arg("*")
            .arg("delivery")
            .arg(encode(record))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// An endpoint's deliveries, newest first, at most `limit`.
    pub async fn deliveries(
        &self,
        neighborhood_id: Uuid,
        endpoint_id: Uuid,
        limit: usize,
    ) -> Result<Vec<LoggedDelivery>, StoreError> {
        let key = self.keys.event_deliveries(neighborhood_id, endpoint_id);
        let rows: Vec<(String, Vec<(String, String)>)> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("XREVRANGE")
                        .arg(key)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(limit)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        rows.into_iter()
            .filter_map(|(id, fields)| {
                let (_, json) = fields.into_iter().find(|(name, _)| name == "delivery")?;
                Some(decode(&key, &json).map(|record| LoggedDelivery { id, record }))
            })
            .collect()
    }
}
