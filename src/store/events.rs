//! Live updates: every change to a neighborhood's members, join requests, messages or
//! announcements is announced
//! on its Redis pub/sub channel, so a browser connected to any instance hears of it.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Store;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum EventKind {
    /// A member joined, left or changed: fetch the member list again.
    Member,
    /// A join request came in or was decided.
    JoinRequest,
    /// A message reached the group (or an announcement was sent).
    Message,
    /// An announcement was scheduled, changed or cancelled.
    Announcement,
}

/// One change, as `data` of a server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct NeighborhoodEvent {
    pub kind: EventKind,
    /// The member, join request, message or announcement concerned.
    pub id: String,
}

impl Store {
    /// Announces a change. Best effort: a lost announcement only delays a browser's refresh, so
    /// it never fails the change itself.
    pub async fn announce(&self, neighborhood_id: Uuid, kind: EventKind, id: impl ToString) {
        let event = NeighborhoodEvent {
            kind,
            id: id.to_string(),
        };
        let published = self
            .conn
            .publish(
                &self.keys.events_channel(neighborhood_id),
                &super::encode(&event),
            )
            .await;
        if let Err(error) = published {
            tracing::debug!(%error, "live update not published");
        }
    }
}
