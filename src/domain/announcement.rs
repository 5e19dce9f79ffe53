//! An announcement from the captains to the whole group: sent at once, or scheduled.
//!
//! A scheduled announcement may change or be cancelled until it is sent; sending is one state
//! change (`scheduled` to `sent`) written together with the Twilio work it implies, so it
//! happens once. Quiet hours move the moment it goes out, never the time the captain asked for.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::ParseError;
use super::audience::Audience;
use super::media::MediaItem;
use super::quiet_hours::QuietHours;

/// Twilio's limit for one outbound message body.
pub const MAX_BODY_CHARS: usize = 1600;

/// How far ahead an announcement may be scheduled.
pub const MAX_LEAD: Duration = Duration::days(366);

/// Where an announcement is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum AnnouncementState {
    /// Waiting for its time (or for quiet hours to end); may still change or be cancelled.
    Scheduled,
    /// Handed to Twilio for every Conversation of the neighborhood; final.
    Sent,
    /// Cancelled before it was sent; final.
    Cancelled,
}

/// The text of an announcement: 1 to 1,600 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AnnouncementBody(String);

impl AnnouncementBody {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let text = input.trim();
        if text.is_empty() || text.chars().count() > MAX_BODY_CHARS {
            return Err(ParseError::new(format!(
                "An announcement has 1 to {MAX_BODY_CHARS} characters."
            )));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AnnouncementBody {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AnnouncementBody> for String {
    fn from(value: AnnouncementBody) -> Self {
        value.0
    }
}

/// A requested send time: in the future (a minute of clock skew forgiven would hide mistakes,
/// so none is) and at most [`MAX_LEAD`] ahead.
pub fn parse_send_at(input: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ParseError> {
    let at = OffsetDateTime::parse(input.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            ParseError::new(format!(
                "Use an RFC 3339 time with its offset, like 2026-12-24T18:00:00-08:00, not `{input}`."
            ))
        })?;
    if at <= now {
        return Err(ParseError::new(
            "Choose a time in the future (or leave it out to send now).",
        ));
    }
    if at > now + MAX_LEAD {
        return Err(ParseError::new("Schedule at most one year ahead."));
    }
    Ok(at)
}

/// One announcement, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// UUID v7: ordered by creation.
    pub id: Uuid,
    pub neighborhood_id: Uuid,
    pub body: AnnouncementBody,
    /// The captain it is signed by (None for an API token, which signs with the neighborhood).
    pub signer_member_id: Option<Uuid>,
    /// The name the group sees in front of the text, fixed when it was written.
    pub signer_name: String,
    /// When the captain wants it sent; for "send now" the moment it was posted.
    #[serde(with = "time::serde::rfc3339")]
    pub send_at: OffsetDateTime,
    /// Sent even during quiet hours.
    pub urgent: bool,
    pub state: AnnouncementState,
    /// Who wrote it, as the audit log names principals.
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    /// A chosen set of members, texted 1:1; None: the whole group, through its Conversations.
    /// Last and left out when None, so announcements stored before audiences read and compare
    /// byte for byte as they were written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// A picture sent with it (to the whole group only), uploaded to Twilio beforehand. Left
    /// out when None, as `audience`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaItem>,
}

/// What an edit changes; None keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct AnnouncementChanges {
    pub body: Option<AnnouncementBody>,
    pub send_at: Option<OffsetDateTime>,
    pub urgent: Option<bool>,
}

/// Why an announcement cannot change any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Closed {
    #[error("the announcement was sent already")]
    Sent,
    #[error("the announcement was cancelled")]
    Cancelled,
}

impl Announcement {
    /// Its entry in the message history and the source of its relays, so the copies Twilio
    /// carries can be traced back to it.
    pub fn message_sid(&self) -> String {
        format!("announcement-{}", self.id.simple())
    }

    /// The text as the group sees it.
    pub fn signed_text(&self) -> String {
        format!("{}: {}", self.signer_name, self.body.as_str())
    }

    /// When it goes out, asked `now`: its time, or now if that has passed, moved past quiet
    /// hours unless urgent. Quiet hours are read when it is due, not when it was written, so a
    /// captain who changes them moves every waiting announcement.
    pub fn sends_at(&self, quiet: Option<&QuietHours>, now: OffsetDateTime) -> OffsetDateTime {
        let earliest = self.send_at.max(now);
        match quiet {
            Some(quiet) if !self.urgent => quiet.next_allowed(earliest),
            _ => earliest,
        }
    }

    fn open(&self) -> Result<(), Closed> {
        match self.state {
            AnnouncementState::Scheduled => Ok(()),
            AnnouncementState::Sent => Err(Closed::Sent),
            AnnouncementState::Cancelled => Err(Closed::Cancelled),
        }
    }

    /// The announcement after an edit; only a scheduled one changes.
    pub fn edited(
        &self,
        changes: AnnouncementChanges,
        now: OffsetDateTime,
    ) -> Result<Self, Closed> {
        self.open()?;
        Ok(Self {
            body: changes.body.unwrap_or_else(|| self.body.clone()),
            send_at: changes.send_at.unwrap_or(self.send_at),
            urgent: changes.urgent.unwrap_or(self.urgent),
            updated_at: now,
            ..self.clone()
        })
    }

    /// The announcement cancelled; cancelling twice changes nothing, a sent one cannot be.
    pub fn cancelled(&self, now: OffsetDateTime) -> Result<Self, Closed> {
        match self.state {
            AnnouncementState::Cancelled => Ok(self.clone()),
            _ => {
                self.open()?;
                Ok(Self {
                    state: AnnouncementState::Cancelled,
                    cancelled_at: Some(now),
                    updated_at: now,
                    ..self.clone()
                })
            }
        }
    }

    /// The announcement sent at `now`.
    pub fn sent(&self, now: OffsetDateTime) -> Result<Self, Closed> {
        self.open()?;
        Ok(Self {
            state: AnnouncementState::Sent,
            sent_at: Some(now),
            updated_at: now,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::quiet_hours::{ClockTime, TimeZoneName};
    use time::macros::datetime;

    fn announcement(send_at: OffsetDateTime, urgent: bool) -> Announcement {
        Announcement {
            id: Uuid::nil(),
            neighborhood_id: Uuid::nil(),
            body: AnnouncementBody::parse("Street fair").unwrap(),
            signer_member_id: None,
            signer_name: "Ana".into(),
            send_at,
            urgent,
            state: AnnouncementState::Scheduled,
            created_by: "cli".into(),
            created_at: send_at,
            updated_at: send_at,
            sent_at: None,
            cancelled_at: None,
            audience: None,
            media: None,
        }
    }

    fn night() -> QuietHours {
        QuietHours::new(
            ClockTime::parse("22:00").unwrap(),
            ClockTime::parse("07:00").unwrap(),
            TimeZoneName::parse("UTC").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn quiet_hours_move_the_send_unless_urgent() {
        let at = datetime!(2026-05-01 23:00 UTC);
        let now = datetime!(2026-05-01 12:00 UTC);
        assert_eq!(
            announcement(at, false).sends_at(Some(&night()), now),
            datetime!(2026-05-02 07:00 UTC)
        );
        assert_eq!(announcement(at, true).sends_at(Some(&night()), now), at);
        assert_eq!(announcement(at, false).sends_at(None, now), at);
    }

    #[test]
    fn a_late_send_checks_quiet_hours_at_the_real_time() {
        // Due at 21:59, but only picked up at 22:05: it waits for the morning.
        let due = announcement(datetime!(2026-05-01 21:59 UTC), false);
        assert_eq!(
            due.sends_at(Some(&night()), datetime!(2026-05-01 22:05 UTC)),
            datetime!(2026-05-02 07:00 UTC)
        );
    }

    #[test]
    fn only_scheduled_announcements_change() {
        let now = datetime!(2026-05-01 12:00 UTC);
        let scheduled = announcement(datetime!(2026-05-02 12:00 UTC), false);
        let sent = scheduled.sent(now).unwrap();
        assert_eq!(sent.state, AnnouncementState::Sent);
        assert_eq!(
            sent.edited(AnnouncementChanges::default(), now),
            Err(Closed::Sent)
        );
        assert_eq!(sent.cancelled(now), Err(Closed::Sent));
        let cancelled = scheduled.cancelled(now).unwrap();
        assert_eq!(cancelled.cancelled(now).as_ref(), Ok(&cancelled));
        assert_eq!(cancelled.sent(now), Err(Closed::Cancelled));
    }

    #[test]
    fn send_times_are_in_the_future_and_within_a_year() {
        let now = datetime!(2026-05-01 12:00 UTC);
        assert_eq!(
            parse_send_at("2026-05-01T05:30:00-07:00", now).unwrap(),
            datetime!(2026-05-01 12:30 UTC)
        );
        assert!(parse_send_at("2026-05-01T12:00:00Z", now).is_err());
        assert!(parse_send_at("2027-06-01T12:00:00Z", now).is_err());
        assert!(parse_send_at("2026-05-02 12:00", now).is_err());
    }
}
