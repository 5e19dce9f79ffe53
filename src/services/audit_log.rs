//! Reading the audit log with filters: by kind of action ("member." for every member change, or
//! one action exactly) and by who acted. The log is an append-only stream, so a filtered page is
//! found by reading it newest first in chunks, up to a bound per request; a page may then come
//! back short with a cursor to read on from, so no request scans the whole history.

use uuid::Uuid;

use crate::store::audit::AuditRecord;
use crate::store::{Store, StoreError};

/// Entries read from the stream at a time while filtering.
const CHUNK: usize = 500;
/// Entries read at most for one filtered page; past it the page returns what it found.
const SCAN_LIMIT: usize = 10_000;

/// What to keep: an action, or a family of actions when it ends with a dot ("member."); an actor
/// exactly as recorded ("phone:+15550000001", "token:<id>").
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<String>,
}

impl AuditFilter {
    fn is_empty(&self) -> bool {
        self.action.is_none() && self.actor.is_none()
    }

    fn keeps(&self, record: &AuditRecord) -> bool {
        let action_matches = self.action.as_deref().is_none_or(|wanted| {
            if wanted.ends_with('.') {
                record.entry.action.starts_with(wanted)
            } else {
                record.entry.action == wanted
            }
        });
        let actor_matches = self
            .actor
            .as_deref()
            .is_none_or(|wanted| record.entry.actor == wanted);
        action_matches && actor_matches
    }
}

/// A page of the log, newest first, and the cursor of the next (older) one when there may be more.
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    pub next_before: Option<String>,
}

/// Up to `limit` entries older than `before` that the filter keeps.
pub async fn page(
    store: &Store,
    neighborhood_id: Uuid,
    filter: &AuditFilter,
    before: Option<String>,
    limit: usize,
) -> Result<AuditPage, StoreError> {
    if filter.is_empty() {
        let records = store
            .audit(Some(neighborhood_id), before.as_deref(), limit)
            .await?;
        let next_before = (records.len() == limit)
            .then(|| records.last().map(|record| record.id.clone()))
            .flatten();
        return Ok(AuditPage {
            records,
            next_before,
        });
    }
    let mut kept = Vec::new();
    let mut cursor = before;
    let mut scanned = 0;
    loop {
        let chunk = store
            .audit(Some(neighborhood_id), cursor.as_deref(), CHUNK)
            .await?;
        let exhausted = chunk.len() < CHUNK;
        for record in chunk {
            scanned += 1;
            cursor = Some(record.id.clone());
            if filter.keeps(&record) {
                kept.push(record);
                if kept.len() == limit {
                    return Ok(AuditPage {
                        records: kept,
                        next_before: cursor,
                    });
                }
            }
        }
        if exhausted {
            return Ok(AuditPage {
                records: kept,
                next_before: None,
            });
        }
        if scanned >= SCAN_LIMIT {
            return Ok(AuditPage {
                records: kept,
                next_before: cursor,
            });
        }
    }
}
