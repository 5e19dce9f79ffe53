//! Integrators' endpoints (issue 26): URLs a neighborhood's events are posted to, each with the
//! event types it wants and signing secrets of its own, as the Standard Webhooks specification
//! describes them.

use base64::Engine;
use poem_openapi::Enum;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// What happened, as an endpoint subscribes to it and as the payload's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Enum)]
pub enum EventType {
    /// Someone became a member (approved, added, or back).
    #[serde(rename = "member.joined")]
    #[oai(rename = "member.joined")]
    MemberJoined,
    /// A member left (texted LEAVE, or left from the app).
    #[serde(rename = "member.left")]
    #[oai(rename = "member.left")]
    MemberLeft,
    /// A captain removed a member.
    #[serde(rename = "member.removed")]
    #[oai(rename = "member.removed")]
    MemberRemoved,
    /// A member texted STOP: nothing more reaches them.
    #[serde(rename = "member.opted_out")]
    #[oai(rename = "member.opted_out")]
    MemberOptedOut,
    /// Someone asked to join.
    #[serde(rename = "join_request.created")]
    #[oai(rename = "join_request.created")]
    JoinRequestCreated,
    /// A join request was approved or denied.
    #[serde(rename = "join_request.decided")]
    #[oai(rename = "join_request.decided")]
    JoinRequestDecided,
    /// A member wrote to the group.
    #[serde(rename = "message.posted")]
    #[oai(rename = "message.posted")]
    MessagePosted,
    /// The captains sent an announcement.
    #[serde(rename = "announcement.sent")]
    #[oai(rename = "announcement.sent")]
    AnnouncementSent,
    /// The month's texting cost reached a share of the budget.
    #[serde(rename = "budget.alert")]
    #[oai(rename = "budget.alert")]
    BudgetAlert,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        Self::MemberJoined,
        Self::MemberLeft,
        Self::MemberRemoved,
        Self::MemberOptedOut,
        Self::JoinRequestCreated,
        Self::JoinRequestDecided,
        Self::MessagePosted,
        Self::AnnouncementSent,
        Self::BudgetAlert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemberJoined => "member.joined",
            Self::MemberLeft => "member.left",
            Self::MemberRemoved => "member.removed",
            Self::MemberOptedOut => "member.opted_out",
            Self::JoinRequestCreated => "join_request.created",
            Self::JoinRequestDecided => "join_request.decided",
            Self::MessagePosted => "message.posted",
            Self::AnnouncementSent => "announcement.sent",
            Self::BudgetAlert => "budget.alert",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// The type of the event a "send test event" posts: every endpoint receives it, whatever it
/// subscribes to.
pub const TEST_EVENT: &str = "webhook.test";

/// One endpoint of a neighborhood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventEndpoint {
    pub id: Uuid,
    /// Where events are posted (https, except to loopback in sandbox mode).
    pub url: String,
    /// What it is sent.
    pub events: Vec<EventType>,
    /// The integrator's own words for it.
    #[serde(default)]
    pub description: String,
    /// Whether payloads carry the phone number an event concerns; set only by someone who may
    /// see members' phones.
    #[serde(default)]
    pub include_phones: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Newest first: the current secret, then any being retired.
    pub secrets: Vec<SigningSecret>,
}

impl EventEndpoint {
    /// The secrets deliveries are signed with at `now`: the current one, and one being retired
    /// until its time is up, so a receiver switching secrets accepts either meanwhile.
    pub fn signing_secrets(&self, now: OffsetDateTime) -> impl Iterator<Item = &SigningSecret> {
        self.secrets
            .iter()
            .filter(move |secret| secret.retires_at.is_none_or(|at| at > now))
    }

    pub fn wants(&self, event: EventType) -> bool {
        self.events.contains(&event)
    }
}

/// A signing secret: 32 random bytes, shown to the integrator once as `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecret {
    /// The bytes, base64 (standard alphabet, padded), as the specification's secrets are.
    key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Set on a secret replaced by a newer one: it signs until then.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningSecret")
            .field("key", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("retires_at", &self.retires_at)
            .finish()
    }
}

impl SigningSecret {
    pub const PREFIX: &'static str = "whsec_";

    /// A new secret from the operating system's generator.
    pub fn generate(now: OffsetDateTime) -> Self {
        let bytes: [u8; 32] = rand::rng().random();
        Self {
            key: base64::engine::general_purpose::STANDARD.encode(bytes),
            created_at: now,
            retires_at: None,
        }
    }

    /// The secret as the integrator stores it and the specification's libraries take it.
    pub fn shown(&self) -> String {
        format!("{}{}", Self::PREFIX, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_reads_back_from_its_name() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).expect("json"),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(EventType::parse("member.deleted"), None);
    }

    #[test]
    fn a_secret_is_32_random_bytes_shown_with_its_prefix_and_never_in_debug() {
        let now = OffsetDateTime::now_utc();
        let (one, two) = (SigningSecret::generate(now), SigningSecret::generate(now));
        assert_ne!(one.shown(), two.shown());
        let key = one.shown();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.strip_prefix(SigningSecret::PREFIX).expect("prefix"))
            .expect("base64");
        assert_eq!(bytes.len(), 32);
        assert!(!format!("{one:?}").contains(&one.key));
    }

    #[test]
    fn a_retired_secret_signs_until_its_time_is_up() {
        let now = OffsetDateTime::now_utc();
        let mut old = SigningSecret::generate(now);
        old.retires_at = Some(now + time::Duration::hours(24));
        let endpoint = EventEndpoint {
            id: Uuid::new_v4(),
            url: "https://crm.example.org/hooks".to_owned(),
            events: vec![EventType::MemberJoined],
            description: String::new(),
            include_phones: false,
            created_at: now,
            secrets: vec![SigningSecret::generate(now), old],
        };
        assert_eq!(endpoint.signing_secrets(now).count(), 2);
        assert_eq!(
            endpoint
                .signing_secrets(now + time::Duration::hours(25))
                .count(),
            1
        );
    }
}
