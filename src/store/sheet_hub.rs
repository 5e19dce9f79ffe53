//! A neighborhood's spreadsheet hub in Redis: one hash whose fields are written apart, so a
//! captain saving the configuration never overwrites what a sync (under its lease) records, and
//! the other way round; the phones of the last sync; a captain's consent visit in progress.

use std::time::Duration;

use uuid::Uuid;

use super::{Store, StoreError, decode, encode};
use crate::domain::sheet_hub::{Connection, HubConfig, SheetHub, SyncState};

const CONNECTION: &str = "connection";
const CONFIG: &str = "config";
const SYNC: &str = "sync";
const ACCESS: &str = "access";

impl Store {
    /// The neighborhood's hub; an empty one when none was connected.
    pub async fn sheet_hub(&self, neighborhood_id: Uuid) -> Result<SheetHub, StoreError> {
        let key = self.keys.sheet_hub(neighborhood_id);
        let fields: Vec<Option<String>> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("HMGET")
                        .arg(key)
                        .arg(CONNECTION)
                        .arg(CONFIG)
                        .arg(SYNC)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        let field = |at: usize| fields.get(at).cloned().flatten();
        Ok(SheetHub {
            connection: field(0).map(|json| decode(&key, &json)).transpose()?,
            config: field(1).map(|json| decode(&key, &json)).transpose()?,
            sync: field(2)
                .map(|json| decode(&key, &json))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// Saves a new connection (dropping the old one's access token) and lists the neighborhood
    /// for the sync job.
    pub async fn save_sheet_hub_connection(
        &self,
        neighborhood_id: Uuid,
        connection: &Connection,
    ) -> Result<(), StoreError> {
        let key = self.keys.sheet_hub(neighborhood_id);
        let json = encode(connection);
        self.retrying_once(|mut conn| {
            let mut pipe = redis::pipe();
            pipe.atomic()
                .hset(&key, CONNECTION, &json)
                .hdel(&key, ACCESS)
                .ignore();
            async move { pipe.query_async::<()>(&mut conn).await }
        })
        .await?;
        let listing = self.keys.sheet_hub_neighborhoods();
        self.retrying_once(|mut conn| {
            let listing = listing.clone();
            async move {
                redis::cmd("SADD")
                    .arg(listing)
                    .arg(neighborhood_id.to_string())
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    pub async fn save_sheet_hub_config(
        &self,
        neighborhood_id: Uuid,
        config: &HubConfig,
    ) -> Result<(), StoreError> {
        self.hset_field(self.keys.sheet_hub(neighborhood_id), CONFIG, encode(config))
            .await
    }

    /// Records where syncing stands (by the instance holding the sync lease).
    pub async fn save_sheet_hub_sync(
        &self,
        neighborhood_id: Uuid,
        sync: &SyncState,
    ) -> Result<(), StoreError> {
        self.hset_field(self.keys.sheet_hub(neighborhood_id), SYNC, encode(sync))
            .await
    }

    /// The sealed access token and its expiry (Unix milliseconds), when one is kept.
    pub async fn sheet_hub_access(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<Option<(String, i64)>, StoreError> {
        self.hget_json(&self.keys.sheet_hub(neighborhood_id), ACCESS)
            .await
    }

    pub async fn save_sheet_hub_access(
        &self,
        neighborhood_id: Uuid,
        sealed: &str,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        self.hset_field(
            self.keys.sheet_hub(neighborhood_id),
            ACCESS,
            encode(&(sealed, expires_at_ms)),
        )
        .await
    }

    /// Forgets the hub: its records, its phones, and its place in the sync job's list.
    pub async fn delete_sheet_hub(&self, neighborhood_id: Uuid) -> Result<(), StoreError> {
        let keys = [
            self.keys.sheet_hub(neighborhood_id),
            self.keys.sheet_hub_phones(neighborhood_id),
            self.keys.sheet_hub_responses(neighborhood_id),
        ];
        self.retrying_once(|mut conn| {
            let keys = keys.clone();
            async move {
                redis::cmd("DEL")
                    .arg(&keys[..])
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await?;
        self.unlist_sheet_hub(neighborhood_id).await
    }

    /// Neighborhoods listed for the sync job.
    pub async fn sheet_hub_neighborhoods(&self) -> Result<Vec<Uuid>, StoreError> {
        self.neighborhood_set(&self.keys.sheet_hub_neighborhoods())
            .await
    }

    pub async fn unlist_sheet_hub(&self, neighborhood_id: Uuid) -> Result<(), StoreError> {
        let listing = self.keys.sheet_hub_neighborhoods();
        self.retrying_once(|mut conn| {
            let listing = listing.clone();
            async move {
                redis::cmd("SREM")
                    .arg(listing)
                    .arg(neighborhood_id.to_string())
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// The phones the last sync read.
    pub async fn sheet_hub_phones(&self, neighborhood_id: Uuid) -> Result<Vec<String>, StoreError> {
        self.json_list(self.keys.sheet_hub_phones(neighborhood_id))
            .await
    }

    pub async fn save_sheet_hub_phones(
        &self,
        neighborhood_id: Uuid,
        phones: &[String],
    ) -> Result<(), StoreError> {
        self.save_json_list(self.keys.sheet_hub_phones(neighborhood_id), phones)
            .await
    }

    /// Form mode: the fingerprints of the responses read so far.
    pub async fn sheet_hub_responses(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<Vec<String>, StoreError> {
        self.json_list(self.keys.sheet_hub_responses(neighborhood_id))
            .await
    }

    pub async fn save_sheet_hub_responses(
        &self,
        neighborhood_id: Uuid,
        responses: &[String],
    ) -> Result<(), StoreError> {
        self.save_json_list(self.keys.sheet_hub_responses(neighborhood_id), responses)
            .await
    }

    async fn json_list(&self, key: String) -> Result<Vec<String>, StoreError> {
        match self.get_string(&key).await? {
            Some(json) => decode(&key, &json),
            None => Ok(Vec::new()),
        }
    }

    async fn save_json_list(&self, key: String, items: &[String]) -> Result<(), StoreError> {
        let json = encode(&items);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            let json = json.clone();
            async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(json)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Keeps a consent visit (what the callback needs) under its `state`, for `ttl`.
    pub async fn put_sheet_hub_consent(
        &self,
        neighborhood_id: Uuid,
        state: &str,
        visit: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.keys.sheet_hub_consent(neighborhood_id, state);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(visit)
                    .arg("PX")
                    .arg(ttl.as_millis() as u64)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Takes a consent visit: it is gone once read, so a callback replayed finds nothing.
    pub async fn take_sheet_hub_consent(
        &self,
        neighborhood_id: Uuid,
        state: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = self.keys.sheet_hub_consent(neighborhood_id, state);
        let mut conn = self.connection();
        // Not retried: a repeat after a lost answer would find it taken (by us).
        Ok(redis::cmd("GETDEL").arg(key).query_async(&mut conn).await?)
    }

    /// Takes the neighborhood's sync lease for `holder`; false when another instance syncs.
    pub async fn take_sheet_hub_lease(
        &self,
        neighborhood_id: Uuid,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.take_lease(self.keys.sheet_hub_lease(neighborhood_id), holder, ttl)
            .await
    }

    pub async fn release_sheet_hub_lease(
        &self,
        neighborhood_id: Uuid,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.release_lease(self.keys.sheet_hub_lease(neighborhood_id), holder)
            .await
    }

    async fn hset_field(&self, key: String, field: &str, json: String) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| {
            let key = key.clone();
            let json = json.clone();
            async move {
                redis::cmd("HSET")
                    .arg(key)
                    .arg(field)
                    .arg(json)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }
}
