//! What a neighborhood tells integrators' endpoints (issue 26): one event per change, made from
//! the change itself (a member as read and as written, a join request before and after), so the
//! store can write it in the same step as the change and no write site has to remember it.
//!
//! An event keeps the phone it concerns apart from its data: the data goes to every endpoint that
//! wants the event, the phone only to endpoints allowed to see phones.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::event_endpoint::EventType;
use super::join_request::{JoinRequest, JoinState};
use super::media::MediaItem;
use super::member::{Member, MemberStatus};

/// One event, as the neighborhood's event log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegratorEvent {
    /// `evt_` and a time-ordered UUID: the `webhook-id` of every attempt to deliver it.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The payload's `data` (an object), without any phone number.
    pub data: Value,
    /// The phone the event concerns, added to `data` only for endpoints that may see phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl IntegratorEvent {
    fn new(kind: EventType, neighborhood_id: Uuid, mut data: Value) -> Self {
        if let Some(fields) = data.as_object_mut() {
            fields.insert("neighborhood_id".to_owned(), json!(neighborhood_id));
        }
        Self {
            id: format!("evt_{}", Uuid::now_v7().simple()),
            kind,
            timestamp: OffsetDateTime::now_utc(),
            data,
            phone: None,
        }
    }

    fn with_phone(mut self, phone: &str) -> Self {
        self.phone = Some(phone.to_owned());
        self
    }

    /// The JSON an endpoint is sent: `type`, `timestamp` and `data`, with the phone in `data`
    /// only when `with_phones`.
    pub fn payload(&self, with_phones: bool) -> String {
        let mut data = self.data.clone();
        if let (true, Some(phone), Some(fields)) = (with_phones, &self.phone, data.as_object_mut())
        {
            fields.insert("phone".to_owned(), json!(phone));
        }
        json!({
            "type": self.kind,
            "timestamp": self.timestamp.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "data": data,
        })
        .to_string()
    }

    /// What a member's change means to integrators: joined (new, or back from having left, been
    /// removed or opted out), left, removed or opted out. A pause, a resume, a new name or a role
    /// is none of these.
    pub fn member_changed(before: Option<&Member>, after: &Member) -> Option<Self> {
        let was = before.map(|member| member.status);
        let kind = match (was, after.status) {
            (was, MemberStatus::Active)
                if was.is_none_or(|was| {
                    !matches!(was, MemberStatus::Active | MemberStatus::Paused)
                }) =>
            {
                EventType::MemberJoined
            }
            (Some(MemberStatus::Active | MemberStatus::Paused), now) => match now {
                MemberStatus::Left => EventType::MemberLeft,
                MemberStatus::Removed => EventType::MemberRemoved,
                MemberStatus::OptedOut => EventType::MemberOptedOut,
                MemberStatus::Active | MemberStatus::Paused => return None,
            },
            _ => return None,
        };
        Some(
            Self::new(
                kind,
                after.neighborhood_id,
                json!({
                    "member_id": after.id,
                    "display_name": after.display_name.as_str(),
                    "channel": after.channel.as_str(),
                }),
            )
            .with_phone(after.phone.as_str()),
        )
    }

    /// What a join request's step means to integrators: created once it waits for a captain (or
    /// went straight in), decided once approved or denied. An unverified request is not one yet.
    pub fn join_request_changed(before: Option<&JoinRequest>, after: &JoinRequest) -> Vec<Self> {
        let was = before.map(|request| request.state);
        let mut events = Vec::new();
        let counts = |state: Option<JoinState>| {
            state.is_some_and(|state| state != JoinState::PendingVerification)
        };
        if !counts(was) && counts(Some(after.state)) {
            events.push(Self::join_request(
                EventType::JoinRequestCreated,
                after,
                json!({}),
            ));
        }
        let decided = |state: Option<JoinState>| {
            matches!(state, Some(JoinState::Approved | JoinState::Denied))
        };
        if !decided(was) && decided(Some(after.state)) {
            let decision = if after.state == JoinState::Approved {
                "approved"
            } else {
                "denied"
            };
            events.push(Self::join_request(
                EventType::JoinRequestDecided,
                after,
                json!({ "decision": decision, "member_id": after.member_id }),
            ));
        }
        events
    }

    fn join_request(kind: EventType, request: &JoinRequest, extra: Value) -> Self {
        let mut data = json!({
            "join_request_id": request.id,
            "number": request.number,
            "display_name": request.name.as_str(),
            "channel": request.member_channel.as_str(),
        });
        if let (Some(fields), Value::Object(extra)) = (data.as_object_mut(), extra) {
            fields.extend(extra);
        }
        Self::new(kind, request.neighborhood_id, data).with_phone(request.phone.as_str())
    }

    /// A member's message reached the group.
    pub fn message_posted(
        neighborhood_id: Uuid,
        message_sid: &str,
        member_id: Option<Uuid>,
        sender_name: &str,
        body: &str,
        media: &[MediaItem],
    ) -> Self {
        Self::new(
            EventType::MessagePosted,
            neighborhood_id,
            json!({
                "message_sid": message_sid,
                "member_id": member_id,
                "sender_name": sender_name,
                "body": body,
                "media": media_described(media),
            }),
        )
    }

    /// The captains' announcement went out (to everyone, or to the audience named in words).
    pub fn announcement_sent(
        neighborhood_id: Uuid,
        message_sid: &str,
        body: &str,
        audience: Option<&str>,
        media: &[MediaItem],
    ) -> Self {
        Self::new(
            EventType::AnnouncementSent,
            neighborhood_id,
            json!({
                "message_sid": message_sid,
                "body": body,
                "audience": audience,
                "media": media_described(media),
            }),
        )
    }

    /// The month's texting cost reached `percent` of the budget.
    pub fn budget_alert(
        neighborhood_id: Uuid,
        month: &str,
        percent: u64,
        cost: &str,
        budget: &str,
    ) -> Self {
        Self::new(
            EventType::BudgetAlert,
            neighborhood_id,
            json!({
                "month": month,
                "threshold_percent": percent,
                "cost": cost,
                "monthly_budget": budget,
            }),
        )
    }
}

/// Pictures by type and size, as the exports list them: never an address or a Twilio SID.
fn media_described(media: &[MediaItem]) -> Value {
    media
        .iter()
        .map(|item| json!({ "content_type": item.content_type, "size": item.size }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::{DisplayName, Member, Role};
    use crate::domain::phone::Phone;

    fn member(status: MemberStatus) -> Member {
        let mut member = Member::joining(
            Uuid::nil(),
            Phone::parse("+15550001111").expect("phone"),
            DisplayName::parse("Ana B.").expect("name"),
            Role::Member,
        );
        member.status = status;
        member
    }

    #[test]
    fn a_members_status_change_is_the_event_integrators_expect() {
        use MemberStatus::*;
        let cases = [
            (None, Active, Some(EventType::MemberJoined)),
            (Some(Left), Active, Some(EventType::MemberJoined)),
            (Some(Removed), Active, Some(EventType::MemberJoined)),
            (Some(OptedOut), Active, Some(EventType::MemberJoined)),
            (Some(Paused), Active, None),
            (Some(Active), Active, None),
            (Some(Active), Paused, None),
            (Some(Active), Left, Some(EventType::MemberLeft)),
            (Some(Paused), Removed, Some(EventType::MemberRemoved)),
            (Some(Active), OptedOut, Some(EventType::MemberOptedOut)),
            (Some(Left), Removed, None),
            (None, OptedOut, None),
        ];
        for (before, after, expected) in cases {
            let before = before.map(member);
            let event = IntegratorEvent::member_changed(before.as_ref(), &member(after));
            assert_eq!(event.map(|e| e.kind), expected, "{before:?} -> {after:?}");
        }
    }

    #[test]
    fn the_phone_is_sent_only_where_phones_may_be_seen() {
        let event =
            IntegratorEvent::member_changed(None, &member(MemberStatus::Active)).expect("joined");
        let without: Value = serde_json::from_str(&event.payload(false)).expect("json");
        let with: Value = serde_json::from_str(&event.payload(true)).expect("json");
        assert_eq!(without["type"], "member.joined");
        assert_eq!(without["data"]["display_name"], "Ana B.");
        assert!(without["data"].get("phone").is_none());
        assert!(!event.payload(false).contains("5550001111"));
        assert_eq!(with["data"]["phone"], "+15550001111");
        assert!(event.id.starts_with("evt_"));
    }
}
