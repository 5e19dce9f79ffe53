//! The audit log: one append-only Redis stream per neighborhood, and one for the platform.
//! Entries are never edited; the stream id orders them and serves as the paging cursor.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Store, StoreError, encode};

/// One privileged action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Who acted: `phone:+1...`, `token:<id>`, or `cli`.
    pub actor: String,
    /// What they did, e.g. `neighborhood.update`, `member.role_change`.
    pub action: String,
    /// What it was done to, e.g. `neighborhood:<id>`, `member:<id>`.
    pub target: String,
    /// Where from: `ip:<address>`, `sms`, or `cli`.
    pub source: String,
    /// Extra facts about the action (old and new role, fields changed).
    #[serde(default)]
    pub detail: serde_json::Value,
    /// RFC 3339 time of the action.
    pub at: String,
}

impl AuditEntry {
    /// An entry for an action taken just now.
    pub fn now(
        actor: String,
        action: &str,
        target: String,
        source: String,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            actor,
            action: action.to_owned(),
            target,
            source,
            detail,
            at: rfc3339_now(),
        }
    }
}

/// The current time as RFC 3339, as audit and history entries keep it.
pub fn rfc3339_now() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// A time as RFC 3339, as stored entries keep it.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A stored entry with its stream id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: String,
    pub entry: AuditEntry,
}

impl Store {
    /// Appends an action that already happened: a failure to log it is reported loudly but does
    /// not undo it.
    pub async fn record_audit(&self, neighborhood_id: Option<Uuid>, entry: &AuditEntry) {
        if let Err(error) = self.append_audit(neighborhood_id, entry).await {
            tracing::error!(%error, action = entry.action, "audit entry not written");
        }
    }

    /// Appends to a neighborhood's log, or to the platform's when `neighborhood_id` is None.
    pub async fn append_audit(
        &self,
        neighborhood_id: Option<Uuid>,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        let key =
            neighborhood_id.map_or_else(|| self.keys.platform_audit(), |id| self.keys.audit(id));
        let mut conn = self.connection();
        // Not retried: a repeated XADD after a lost answer would log the action twice.
        redis::cmd("XADD")
            .arg(key)
            .arg("*")
            .arg("entry")
            .arg(encode(entry))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Newest first, `limit` entries older than the `before` stream id.
    pub async fn audit(
        &self,
        neighborhood_id: Option<Uuid>,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let key =
            neighborhood_id.map_or_else(|| self.keys.platform_audit(), |id| self.keys.audit(id));
        let end = before.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
        let rows: Vec<(String, Vec<(String, String)>)> = self
            .retrying_once(|mut conn| {
                let (key, end) = (key.clone(), end.clone());
                async move {
                    redis::cmd("XREVRANGE")
                        .arg(key)
                        .arg(end)
                        .arg("-")
                        .arg("COUNT")
                        .arg(limit)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, fields)| {
                let json = fields.into_iter().find(|(name, _)| name == "entry")?.1;
                let entry = serde_json::from_str(&json).ok()?;
                Some(AuditRecord { id, entry })
            })
            .collect())
    }
}
