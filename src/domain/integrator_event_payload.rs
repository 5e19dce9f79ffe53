//! The shape of every event payload an endpoint is sent, as types: the events are made from
//! these, and the same types are the OpenAPI document's schemas, so what integrators read in
//! `/docs` is what they get (a test parses every kind of event back through the schema).
//!
//! A body is `{type, timestamp, data}` as the Standard Webhooks specification has it; `type`
//! tells which `data` follows.

use poem_openapi::{Enum, Object, Union};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::channel::Channel;

/// A member joined, left, was removed or opted out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct MemberEventData {
    pub neighborhood_id: Uuid,
    pub member_id: Uuid,
    /// The name their messages carry in the group.
    pub display_name: String,
    pub channel: Channel,
    /// E.164; only for endpoints registered with `include_phones`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum JoinDecision {
    Approved,
    Denied,
}

/// Someone asked to join, or a captain decided their request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct JoinRequestEventData {
    pub neighborhood_id: Uuid,
    pub join_request_id: Uuid,
    /// The request's number as captains see it (`#12`), which they can text `APPROVE 12`.
    pub number: u64,
    pub display_name: String,
    /// The channel they will be in the group on.
    pub channel: Channel,
    /// In `join_request.decided` only.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<JoinDecision>,
    /// The member an approval made, in `join_request.decided` only.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<Uuid>,
    /// E.164; only for endpoints registered with `include_phones`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A picture of a message, by type and size: never its address or a Twilio SID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct MediaDescribed {
    pub content_type: String,
    /// Bytes.
    pub size: u64,
}

/// A member's message reached the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct MessagePostedData {
    pub neighborhood_id: Uuid,
    /// Twilio's message SID.
    pub message_sid: String,
    /// Absent for a message from someone who is not (or no longer) a member.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<Uuid>,
    pub sender_name: String,
    pub body: String,
    pub media: Vec<MediaDescribed>,
}

/// The captains' announcement went out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct AnnouncementSentData {
    pub neighborhood_id: Uuid,
    pub message_sid: String,
    pub body: String,
    /// Who it went to, in words, when not to everyone.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    pub media: Vec<MediaDescribed>,
}

/// The month's texting cost reached a share of the budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct BudgetAlertData {
    pub neighborhood_id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    pub threshold_percent: u64,
    /// US dollars, as a decimal string.
    pub cost: String,
    /// US dollars, as a decimal string.
    pub monthly_budget: String,
}

/// What "Send test event" sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct TestEventData {
    pub neighborhood_id: Uuid,
    pub endpoint_id: Uuid,
}

/// One envelope type per event type: the schema of each body names its own `type`.
macro_rules! payloads {
    ($($variant:ident($envelope:ident, $data:ty, $name:tt, $doc:tt);)*) => {
        $(
            #[doc = $doc]
            #[derive(Debug, Clone, PartialEq, Object)]
            pub struct $envelope {
                pub timestamp: OffsetDateTime,
                pub data: $data,
            }
        )*

        /// A body as an endpoint receives it (and as `list_integrator_events` lists it).
        #[derive(Debug, Clone, PartialEq, Union)]
        #[oai(discriminator_name = "type", one_of)]
        pub enum IntegratorEventPayload {
            $(
                #[oai(mapping = $name)]
                $variant($envelope),
            )*
        }
    };
}

payloads! {
    MemberJoined(MemberJoinedEvent, MemberEventData, "member.joined",
        "Someone became a member: approved, added, or back after leaving.");
    MemberLeft(MemberLeftEvent, MemberEventData, "member.left",
        "A member left (texted LEAVE, or left from the app).");
    MemberRemoved(MemberRemovedEvent, MemberEventData, "member.removed",
        "A captain removed a member.");
    MemberOptedOut(MemberOptedOutEvent, MemberEventData, "member.opted_out",
        "A member texted STOP: nothing more reaches them.");
    JoinRequestCreated(JoinRequestCreatedEvent, JoinRequestEventData, "join_request.created",
        "Someone asked to join (after confirming their phone, when the form asks that).");
    JoinRequestDecided(JoinRequestDecidedEvent, JoinRequestEventData, "join_request.decided",
        "A captain approved or denied a join request.");
    MessagePosted(MessagePostedEvent, MessagePostedData, "message.posted",
        "A member's message reached the group.");
    AnnouncementSent(AnnouncementSentEvent, AnnouncementSentData, "announcement.sent",
        "The captains' announcement went out.");
    BudgetAlert(BudgetAlertEvent, BudgetAlertData, "budget.alert",
        "The month's texting cost reached a share of the budget.");
    WebhookTest(WebhookTestEvent, TestEventData, "webhook.test",
        "Sent by \"Send test event\"; never otherwise.");
}
