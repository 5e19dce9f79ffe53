//! Announcements and the deployment-wide index of when each scheduled one is due.
//!
//! A neighborhood's announcements live in its own hash slot, and every change to one is a
//! compare-and-set on its stored JSON: sending (`scheduled` to `sent`) is written in one script
//! together with the history entry and the relays into every Conversation, so however many
//! instances try, one send happens. The due index (`{global}`) only says which instance should
//! look when: a claim moves an entry to the end of a lease, so one instance handles it and, if
//! that instance dies, another takes it when the lease runs out. The two live in different hash
//! slots, so callers write the due index first: an entry without its announcement is dropped
//! when it comes due, while an announcement without its entry would never be sent.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use time::OffsetDateTime;
use uuid::Uuid;

use super::due_index::{due_member, millis};
use super::events::EventKind;
use super::messages::HistoryEntry;
use super::outbox::{Effect, effects_script, encode_effect};
use super::{Store, StoreError, encode};
use crate::domain::announcement::{Announcement, AnnouncementState};
use crate::domain::integrator_event::IntegratorEvent;

/// Writes an announcement only if it is still what the caller read (or new and absent), keeps
/// the neighborhood's scheduled set in step, and appends the history entry and the relays that
/// a send implies, all at once.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    effects_script(
        r"
local current = redis.call('HGET', KEYS[1], ARGV[2])
if ARGV[1] == '' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
else
  redis.call('ZREM', KEYS[2], ARGV[2])
end
if ARGV[6] ~= '' then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'message', ARGV[6])
end
for i = 7, #ARGV do queue_effect(KEYS[4], ARGV[i]) end
return 1",
    )
});

/// What integrators' endpoints are told of an announcement sent now or released from a hold.
pub(super) fn announcement_sent(neighborhood_id: Uuid, entry: &HistoryEntry) -> Effect {
    Effect::Publish {
        event: IntegratorEvent::announcement_sent(
            neighborhood_id,
            &entry.message_sid,
            &entry.body,
            entry.audience.as_deref(),
            &entry.media,
        ),
    }
}

/// A send: the history entry and the effects that go with the state change (relays into every
/// Conversation, or the 1:1 texts to a chosen audience).
pub struct Send<'a> {
    pub entry: &'a HistoryEntry,
    pub effects: &'a [Effect],
    pub retention: u64,
}

impl Store {
    /// Stores `after` in place of `before` (None: a new announcement), with `send` when this
    /// change sends it. False, changing nothing, when the stored one is no longer `before`.
    pub async fn save_announcement(
        &self,
        before: Option<&Announcement>,
        after: &Announcement,
        send: Option<Send<'_>>,
    ) -> Result<bool, StoreError> {
        let id = after.neighborhood_id;
        let mut invocation = SAVE.key(self.keys.announcements(id));
        invocation
            .key(self.keys.scheduled_announcements(id))
            .key(self.keys.messages(id))
            .key(self.keys.outbox(id))
            .arg(before.map(encode).unwrap_or_default())
            .arg(after.id.to_string())
            .arg(encode(after));
        match after.state {
            AnnouncementState::Scheduled => invocation.arg(millis(after.send_at)),
            _ => invocation.arg(""),
        };
        let relays = send.as_ref().map_or(&[][..], |send| send.effects);
        invocation
            .arg(send.as_ref().map_or(0, |send| send.retention))
            .arg(
                send.as_ref()
                    .map(|send| encode(send.entry))
                    .unwrap_or_default(),
            );
        for relay in relays {
            invocation.arg(encode_effect(relay));
        }
        if let Some(send) = &send {
            invocation.arg(encode_effect(&announcement_sent(id, send.entry)));
        }
        self.event_log_keys(&mut invocation, id);
        let mut conn = self.connection();
        // A compare-and-set: repeating it after a lost answer would only report a conflict.
        let saved: i64 = invocation.invoke_async(&mut conn).await?;
        if saved != 1 {
            return Ok(false);
        }
        if !relays.is_empty() {
            self.mark_outbox_active(id).await?;
        }
        match send {
            Some(send) => {
                self.announce(id, EventKind::Message, &send.entry.message_sid)
                    .await
            }
            None => self.announce(id, EventKind::Announcement, after.id).await,
        }
        Ok(true)
    }

    pub async fn announcement(
        &self,
        neighborhood_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Announcement>, StoreError> {
        self.hget_json(&self.keys.announcements(neighborhood_id), &id.to_string())
            .await
    }

    /// Every announcement of a neighborhood, newest first.
    pub async fn announcements(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<Vec<Announcement>, StoreError> {
        let mut all: Vec<Announcement> = self
            .hvals_json(&self.keys.announcements(neighborhood_id))
            .await?;
        all.sort_by_key(|a| std::cmp::Reverse(a.id));
        Ok(all)
    }

    /// The scheduled announcements of a neighborhood, by id.
    pub async fn scheduled_announcement_ids(
        &self,
        neighborhood_id: Uuid,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("ZRANGE")
                    .arg(self.keys.scheduled_announcements(neighborhood_id))
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect())
    }

    // ----- the due index ------------------------------------------------------------------------

    /// Asks for an announcement to be looked at `at` (replacing any earlier time or lease).
    pub async fn schedule_due(
        &self,
        neighborhood_id: Uuid,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let member = due_member(neighborhood_id, id);
        self.retrying_once(|mut conn| {
            let member = member.clone();
            async move {
                redis::cmd("ZADD")
                    .arg(self.keys.announcements_due())
                    .arg(millis(at))
                    .arg(member)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Forgets an announcement that no longer waits (sent, cancelled, gone).
    pub async fn unschedule_due(&self, neighborhood_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        let member = due_member(neighborhood_id, id);
        self.retrying_once(|mut conn| {
            let member = member.clone();
            async move {
                redis::cmd("ZREM")
                    .arg(self.keys.announcements_due())
                    .arg(member)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Claims up to `count` announcements due by `now` for `lease`: (neighborhood id, id).
    pub async fn claim_due_announcements(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        count: usize,
    ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
        self.claim_due(self.keys.announcements_due(), now, lease, count)
            .await
    }
}
