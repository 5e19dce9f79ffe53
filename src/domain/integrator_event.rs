//! What a neighborhood tells integrators' endpoints (issue 26): one event per change, made from
//! the change itself (a member as read and as written, a join request before and after), so the
//! store can write it in the same step as the change and no write site has to remember it.
//!
//! An event keeps the phone it concerns apart from its data: the data goes to every endpoint that
//! wants the event, the phone only to endpoints allowed to see phones.

use poem_openapi::types::ParseFromJSON;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::event_endpoint::EventType;
use super::integrator_event_payload::{
    AnnouncementSentData, BudgetAlertData, IntegratorEventPayload, JoinDecision,
    JoinRequestEventData, MediaDescribed, MemberEventData, MessagePostedData,
};
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
    fn new(kind: EventType, data: &impl Serialize) -> Self {
        Self {
            id: format!("evt_{}", Uuid::now_v7().simple()),
            kind,
            timestamp: OffsetDateTime::now_utc(),
            data: serde_json::to_value(data).unwrap_or_default(),
            phone: None,
        }
    }

    fn with_phone(mut self, phone: &str) -> Self {
        self.phone = Some(phone.to_owned());
        self
    }

    /// The JSON an endpoint is sent (an [`IntegratorEventPayload`]): `type`, `timestamp` and
    /// `data`, with the phone in `data` only when `with_phones`.
    pub fn payload(&self, with_phones: bool) -> String {
        self.payload_value(with_phones).to_string()
    }

    pub fn payload_value(&self, with_phones: bool) -> Value {
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
    }

    /// The payload as its documented type, for the API's listing of the log. `None` only for
    /// an event that does not fit its schema, which the tests rule out for every kind.
    pub fn documented(&self, with_phones: bool) -> Option<IntegratorEventPayload> {
        IntegratorEventPayload::parse_from_json(Some(self.payload_value(with_phones))).ok()
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
        let data = MemberEventData {
            neighborhood_id: after.neighborhood_id,
            member_id: after.id,
            display_name: after.display_name.as_str().to_owned(),
            channel: after.channel,
            phone: None,
        };
        Some(Self::new(kind, &data).with_phone(after.phone.as_str()))
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
                None,
            ));
        }
        let decision = match after.state {
            JoinState::Approved => Some(JoinDecision::Approved),
            JoinState::Denied => Some(JoinDecision::Denied),
            _ => None,
        };
        let decided_before = matches!(was, Some(JoinState::Approved | JoinState::Denied));
        if let (false, Some(decision)) = (decided_before, decision) {
            events.push(Self::join_request(
                EventType::JoinRequestDecided,
                after,
                Some(decision),
            ));
        }
        events
    }

    fn join_request(
        kind: EventType,
        request: &JoinRequest,
        decision: Option<JoinDecision>,
    ) -> Self {
        let data = JoinRequestEventData {
            neighborhood_id: request.neighborhood_id,
            join_request_id: request.id,
            number: request.number,
            display_name: request.name.as_str().to_owned(),
            channel: request.member_channel,
            decision,
            member_id: decision.and(request.member_id),
            phone: None,
        };
        Self::new(kind, &data).with_phone(request.phone.as_str())
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
        let data = MessagePostedData {
            neighborhood_id,
            message_sid: message_sid.to_owned(),
            member_id,
            sender_name: sender_name.to_owned(),
            body: body.to_owned(),
            media: media_described(media),
        };
        Self::new(EventType::MessagePosted, &data)
    }

    /// The captains' announcement went out (to everyone, or to the audience named in words).
    pub fn announcement_sent(
        neighborhood_id: Uuid,
        message_sid: &str,
        body: &str,
        audience: Option<&str>,
        media: &[MediaItem],
    ) -> Self {
        let data = AnnouncementSentData {
            neighborhood_id,
            message_sid: message_sid.to_owned(),
            body: body.to_owned(),
            audience: audience.map(str::to_owned),
            media: media_described(media),
        };
        Self::new(EventType::AnnouncementSent, &data)
    }

    /// The month's texting cost reached `percent` of the budget.
    pub fn budget_alert(
        neighborhood_id: Uuid,
        month: &str,
        percent: u64,
        cost: &str,
        budget: &str,
    ) -> Self {
        let data = BudgetAlertData {
            neighborhood_id,
            month: month.to_owned(),
            threshold_percent: percent,
            cost: cost.to_owned(),
            monthly_budget: budget.to_owned(),
        };
        Self::new(EventType::BudgetAlert, &data)
    }
}

/// Pictures by type and size, as the exports list them: never an address or a Twilio SID.
fn media_described(media: &[MediaItem]) -> Vec<MediaDescribed> {
    media
        .iter()
        .map(|item| MediaDescribed {
            content_type: item.content_type.clone(),
            size: item.size,
        })
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

    /// Every kind of event, as sent with and without phones, is what the OpenAPI document says:
    /// it parses through the documented schema and comes back byte for byte.
    #[test]
    fn every_payload_is_what_the_documented_schema_describes() {
        use crate::domain::join_request::JoinRequest;
        use poem_openapi::types::ToJSON;

        let joined = member(MemberStatus::Active);
        let mut left = joined.clone();
        left.status = MemberStatus::Left;
        let mut request: JoinRequest = serde_json::from_value(json!({
            "id": Uuid::nil(), "number": 12, "neighborhood_id": Uuid::nil(),
            "phone": "+15550001111", "name": "Ana B.", "address": null,
            "channel": "sms", "state": "pending", "created_at": "2026-12-06T10:00:00Z",
            "consent": { "text": "Yes", "at": "2026-12-06T10:00:00Z", "ip": null },
            "decided_by": null, "member_id": null
        }))
        .expect("a join request");
        let created = IntegratorEvent::join_request_changed(None, &request);
        let before = request.clone();
        request.state = JoinState::Approved;
        request.member_id = Some(joined.id);
        let decided = IntegratorEvent::join_request_changed(Some(&before), &request);
        let picture = MediaItem {
            sid: "ME1".into(),
            content_type: "image/jpeg".into(),
            filename: None,
            size: 600,
        };
        let mut events = vec![
            IntegratorEvent::member_changed(None, &joined).expect("joined"),
            IntegratorEvent::member_changed(Some(&joined), &left).expect("left"),
            IntegratorEvent::message_posted(Uuid::nil(), "IM1", None, "Ana", "hi", &[]),
            IntegratorEvent::message_posted(
                Uuid::nil(),
                "IM2",
                Some(joined.id),
                "Ana",
                "look",
                std::slice::from_ref(&picture),
            ),
            IntegratorEvent::announcement_sent(
                Uuid::nil(),
                "IM3",
                "Fair",
                Some("Elm St"),
                &[picture],
            ),
            IntegratorEvent::budget_alert(Uuid::nil(), "2026-12", 80, "8.00", "10.00"),
        ];
        events.extend(created);
        events.extend(decided);
        let kinds: std::collections::BTreeSet<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds.len(), 7, "{kinds:?}");
        for event in &events {
            for with_phones in [false, true] {
                let sent = event.payload_value(with_phones);
                let parsed = IntegratorEventPayload::parse_from_json(Some(sent.clone()))
                    .unwrap_or_else(|e| panic!("{sent}: {}", e.message()));
                assert_eq!(parsed.to_json(), Some(sent));
            }
        }
    }
}
