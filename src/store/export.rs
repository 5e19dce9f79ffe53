//! Reads for exports: a neighborhood's members and join requests by id a page at a time, and
//! its message history and audit log forwards from a cursor. Nothing here loads a whole
//! aggregate at once.

use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::audit::AuditRecord;
use super::messages::{HistoryEntry, StoredMessage};
use super::{Store, StoreError, decode};
use crate::domain::join_request::JoinRequest;
use crate::domain::member::Member;

/// A stream entry as Redis returns it: id and field/value pairs.
type StreamRow = (String, Vec<(String, String)>);

impl Store {
    /// Ids of every member, oldest first (uuid v7 ids sort by creation).
    pub async fn member_ids(&self, neighborhood_id: Uuid) -> Result<Vec<String>, StoreError> {
        self.sorted_fields(&self.keys.members(neighborhood_id))
            .await
    }

    /// The members with these ids, in that order (any deleted meanwhile left out).
    pub async fn members_by_ids(
        &self,
        neighborhood_id: Uuid,
        ids: &[String],
    ) -> Result<Vec<Member>, StoreError> {
        let json = self
            .raw_values_of(&self.keys.members(neighborhood_id), ids)
            .await?;
        self.decode_members(neighborhood_id, &json).await
    }

    /// Ids of every join request, oldest first.
    pub async fn join_request_ids(&self, neighborhood_id: Uuid) -> Result<Vec<String>, StoreError> {
        self.sorted_fields(&self.keys.join_requests(neighborhood_id))
            .await
    }

    /// The join requests with these ids, in that order.
    pub async fn join_requests_by_ids(
        &self,
        neighborhood_id: Uuid,
        ids: &[String],
    ) -> Result<Vec<JoinRequest>, StoreError> {
        self.values_of(&self.keys.join_requests(neighborhood_id), ids)
            .await
    }

    /// Up to `count` history messages after the stream id `after` (from the oldest when None),
    /// oldest first.
    pub async fn messages_after(
        &self,
        neighborhood_id: Uuid,
        after: Option<&str>,
        count: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let key = self.keys.messages(neighborhood_id);
        let rows = self.stream_after(&key, after, count).await?;
        rows.into_iter()
            .filter_map(|(id, fields)| {
                let json = fields.into_iter().find(|(name, _)| name == "message")?.1;
                Some(decode::<HistoryEntry>(&key, &json).map(|entry| StoredMessage { id, entry }))
            })
            .collect()
    }

    /// Up to `count` audit entries after the stream id `after`, oldest first.
    pub async fn audit_after(
        &self,
        neighborhood_id: Uuid,
        after: Option<&str>,
        count: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let key = self.keys.audit(neighborhood_id);
        let rows = self.stream_after(&key, after, count).await?;
        rows.into_iter()
            .filter_map(|(id, fields)| {
                let json = fields.into_iter().find(|(name, _)| name == "entry")?.1;
                Some(decode(&key, &json).map(|entry| AuditRecord { id, entry }))
            })
            .collect()
    }

    /// The fields of a hash, sorted. Ids only: tens of bytes each, where the values are hundreds.
    async fn sorted_fields(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let mut fields: Vec<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("HKEYS").arg(key).query_async(&mut conn).await
            })
            .await?;
        fields.sort_unstable();
        Ok(fields)
    }

    /// The JSON values of these fields of a hash, decoded, in the fields' order (fields gone
    /// meanwhile are left out).
    pub(super) async fn values_of<T: DeserializeOwned>(
        &self,
        key: &str,
        fields: &[String],
    ) -> Result<Vec<T>, StoreError> {
        self.raw_values_of(key, fields)
            .await?
            .iter()
            .map(|json| decode(key, json))
            .collect()
    }

    /// The values of these fields of a hash as stored, in the fields' order (fields gone
    /// meanwhile are left out).
    pub(super) async fn raw_values_of(
        &self,
        key: &str,
        fields: &[String],
    ) -> Result<Vec<String>, StoreError> {
        if fields.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<String>> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("HMGET")
                    .arg(key)
                    .arg(fields)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(values.into_iter().flatten().collect())
    }

    async fn stream_after(
        &self,
        key: &str,
        after: Option<&str>,
        count: usize,
    ) -> Result<Vec<StreamRow>, StoreError> {
        let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        self.retrying_once(|mut conn| {
            let start = start.clone();
            async move {
                redis::cmd("XRANGE")
                    .arg(key)
                    .arg(start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(count)
                    .query_async(&mut conn)
                    .await
            }
        })
        .await
    }
}
