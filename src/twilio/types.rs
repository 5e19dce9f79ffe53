//! Request parameters and response resources of the Twilio endpoints we call.
//!
//! Responses keep only the fields we use; every field that Twilio documents as nullable is an
//! `Option` with `#[serde(default)]` and unknown fields are ignored, so Twilio adding or dropping
//! a field never breaks decoding. Dates stay `String`: v2010 sends RFC 2822, Conversations ISO 8601.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::media::MediaItem;

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Parameters of `POST /v1/Conversations` and `POST /v1/Conversations/{Sid}`; `None` is not sent.
/// There is deliberately no `Timers.*`: neighborhood conversations must never close on a timer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationParams {
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    /// A JSON document, sent as a string.
    pub attributes: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub state: Option<ConversationState>,
    /// Sends `X-Twilio-Webhook-Enabled: true` so this REST action fires webhooks.
    pub webhook_enabled: bool,
}

/// A conversation's state. `closed` is terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Initializing,
    Inactive,
    Active,
    Closed,
}

impl ConversationState {
    /// The wire value (`active`, `closed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "initializing",
            Self::Inactive => "inactive",
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }
}

/// A messaging participant: `Address` is the neighbor's phone (SMS) or `whatsapp:` and their
/// phone, `ProxyAddress` our number or `whatsapp:` and our WhatsApp sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateMessagingParticipant {
    pub address: String,
    pub proxy_address: String,
    pub attributes: Option<String>,
    pub webhook_enabled: bool,
}

/// A message posted into a conversation through REST (author defaults to `system` at Twilio).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateConversationMessage {
    pub author: Option<String>,
    pub body: String,
    pub attributes: Option<String>,
    pub webhook_enabled: bool,
    /// A picture uploaded to the Media Content Service (`ME...`): one per message over REST.
    pub media_sid: Option<String>,
}

/// One page of `GET /v1/Conversations/{CH}/Messages`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListConversationMessages {
    pub order: Option<MessageOrder>,
    /// 1..=100 (Twilio's default is 50).
    pub page_size: Option<u32>,
}

/// Sort order of conversation messages by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageOrder {
    Asc,
    Desc,
}

impl MessageOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// `POST /v1/Configuration/Webhooks`; `None` and an empty `filters` leave the setting unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateWebhookConfiguration {
    pub pre_webhook_url: Option<String>,
    pub post_webhook_url: Option<String>,
    pub method: Option<WebhookMethod>,
    /// Event names such as `onMessageAdd`, sent as repeated `Filters` keys.
    pub filters: Vec<String>,
    pub target: Option<WebhookTarget>,
}

/// HTTP method Twilio uses to call a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WebhookMethod {
    Get,
    Post,
}

impl WebhookMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Where global Conversations webhooks go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookTarget {
    Webhook,
    Flex,
}

impl WebhookTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Flex => "flex",
        }
    }
}

/// Buy a number found with `search_local_numbers`. `SmsMethod=POST` is always sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyNumber {
    /// E.164, e.g. `+14155550100`.
    pub phone_number: String,
    pub friendly_name: Option<String>,
    /// Where Twilio posts inbound SMS that match no conversation binding (join requests).
    pub sms_url: Option<String>,
}

/// `POST .../IncomingPhoneNumbers/{PN}.json`; `None` is not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateIncomingNumber {
    pub friendly_name: Option<String>,
    pub sms_url: Option<String>,
    pub sms_method: Option<WebhookMethod>,
}

/// A direct 1:1 SMS through the Messages API (outside any conversation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSms {
    pub to: String,
    pub from: SmsSender,
    pub body: String,
}

/// A WhatsApp message made from an approved Content template (`ContentSid`, `ContentVariables`),
/// the only kind that reaches a user outside WhatsApp's 24-hour window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendTemplate {
    /// `whatsapp:+E164`.
    pub to: String,
    /// The sender, `whatsapp:+E164`.
    pub from: String,
    pub content_sid: String,
    /// The template's variables by number ("1", "2", ...).
    pub variables: Vec<(String, String)>,
}

/// Filters of the v2010 Messages list. Twilio compares the dates with the day a message was sent
/// (GMT), both bounds included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListMessages {
    /// `To`: the recipient, E.164.
    pub to: Option<String>,
    /// `From`: the sender, E.164.
    pub from: Option<String>,
    /// `DateSent`: sent on this day.
    pub sent_on: Option<time::Date>,
    /// `DateSent<`: sent on or before this day.
    pub sent_on_or_before: Option<time::Date>,
    /// `DateSent>`: sent on or after this day.
    pub sent_on_or_after: Option<time::Date>,
    /// `PageSize` (Twilio's default 50, at most 1000).
    pub page_size: Option<u32>,
}

/// Who sends an SMS: one of our numbers (`From`) or a Messaging Service (`MessagingServiceSid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsSender {
    Number(String),
    MessagingService(String),
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// One page of a list, for callers that page explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Absolute URL of the next page as Twilio sent it; `None` on the last page.
    pub next_page_url: Option<String>,
}

/// A Conversations v1 conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub sid: String,
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub chat_service_sid: Option<String>,
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub unique_name: Option<String>,
    #[serde(default)]
    pub attributes: Option<String>,
    /// `None` if Twilio sent a state this client does not know.
    #[serde(default, deserialize_with = "lenient_state")]
    pub state: Option<ConversationState>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub timers: Option<ConversationTimers>,
    #[serde(default)]
    pub url: Option<String>,
}

/// When a conversation goes inactive / closed; both absent when no timers are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationTimers {
    #[serde(default)]
    pub date_inactive: Option<String>,
    #[serde(default)]
    pub date_closed: Option<String>,
}

/// A conversation participant; SMS participants have a `messaging_binding`, chat ones an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub sid: String,
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub conversation_sid: Option<String>,
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub attributes: Option<String>,
    #[serde(default)]
    pub messaging_binding: Option<MessagingBinding>,
    #[serde(default)]
    pub role_sid: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub last_read_message_index: Option<i64>,
    #[serde(default)]
    pub url: Option<String>,
}

/// How an SMS participant is reached: `address` is their phone, `proxy_address` our number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagingBinding {
    /// `sms`, `whatsapp`, ...
    #[serde(default)]
    pub r#type: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub proxy_address: Option<String>,
    #[serde(default)]
    pub projected_address: Option<String>,
}

/// A message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMessage {
    pub sid: String,
    #[serde(default)]
    pub conversation_sid: Option<String>,
    /// Position in the conversation, starting at 0.
    pub index: u64,
    /// The sender's E.164 address for SMS-originated messages, `system` for REST by default.
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub attributes: Option<String>,
    /// `None` for system messages.
    #[serde(default)]
    pub participant_sid: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
    #[serde(default)]
    pub delivery: Option<Delivery>,
    #[serde(default)]
    pub url: Option<String>,
    /// Its pictures; `null` when it has none.
    #[serde(default)]
    pub media: Option<Vec<MediaItem>>,
}

/// Delivery summary of a message across recipients; each status is `all`, `some` or `none`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    #[serde(default)]
    pub total: Option<u32>,
    #[serde(default)]
    pub sent: Option<String>,
    #[serde(default)]
    pub delivered: Option<String>,
    #[serde(default)]
    pub read: Option<String>,
    #[serde(default)]
    pub failed: Option<String>,
    #[serde(default)]
    pub undelivered: Option<String>,
}

/// One conversation a participant (found by address) belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantConversation {
    pub conversation_sid: String,
    #[serde(default)]
    pub participant_sid: Option<String>,
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub chat_service_sid: Option<String>,
    #[serde(default)]
    pub participant_identity: Option<String>,
    #[serde(default)]
    pub participant_messaging_binding: Option<MessagingBinding>,
    #[serde(default)]
    pub conversation_unique_name: Option<String>,
    #[serde(default)]
    pub conversation_friendly_name: Option<String>,
    #[serde(default)]
    pub conversation_attributes: Option<String>,
    #[serde(default, deserialize_with = "lenient_state")]
    pub conversation_state: Option<ConversationState>,
    #[serde(default)]
    pub conversation_date_created: Option<String>,
    #[serde(default)]
    pub conversation_date_updated: Option<String>,
}

/// The account-wide Conversations webhook settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfiguration {
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub pre_webhook_url: Option<String>,
    #[serde(default)]
    pub post_webhook_url: Option<String>,
    /// `GET` or `POST`.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub filters: Vec<String>,
    /// `webhook` or `flex`.
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A number on sale, from `AvailablePhoneNumbers/{country}/Local.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailablePhoneNumber {
    pub phone_number: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub locality: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub iso_country: Option<String>,
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
}

/// A number we own (`PN...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomingPhoneNumber {
    pub sid: String,
    pub phone_number: String,
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub sms_url: Option<String>,
    #[serde(default)]
    pub sms_method: Option<String>,
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
    /// `in-use` once bought.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_updated: Option<String>,
}

/// What a number can do. Twilio's examples use lowercase keys, live answers often `SMS`/`MMS`,
/// so keys are matched case-insensitively; a missing key means "no".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub voice: bool,
    pub sms: bool,
    pub mms: bool,
    pub fax: bool,
}

impl<'de> Deserialize<'de> for Capabilities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = HashMap::<String, serde_json::Value>::deserialize(deserializer)?;
        let mut capabilities = Capabilities::default();
        for (key, value) in raw {
            let enabled = match value {
                serde_json::Value::Bool(enabled) => enabled,
                serde_json::Value::String(text) => text.eq_ignore_ascii_case("true"),
                _ => false,
            };
            match key.to_ascii_lowercase().as_str() {
                "voice" => capabilities.voice = enabled,
                "sms" => capabilities.sms = enabled,
                "mms" => capabilities.mms = enabled,
                "fax" => capabilities.fax = enabled,
                _ => {}
            }
        }
        Ok(capabilities)
    }
}

/// A number attached to a Messaging Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePhoneNumber {
    /// The `PN...` sid of the number.
    pub sid: String,
    #[serde(default)]
    pub service_sid: Option<String>,
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub date_created: Option<String>,
}

/// A sender on a Messaging Service other than a number: a WhatsApp sender (Messaging v1
/// `ChannelSenders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSender {
    /// The `XE...` sid.
    pub sid: String,
    /// The address it sends from, e.g. `whatsapp:+15551234567`.
    #[serde(default)]
    pub sender: Option<String>,
    /// `WhatsApp`, `Messenger`, ...
    #[serde(default)]
    pub sender_type: Option<String>,
}

/// A v2010 Message (`SM...`), as returned by create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    pub sid: String,
    #[serde(default)]
    pub account_sid: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// `queued`, `accepted`, `sent`, `failed`, ...
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub num_segments: Option<String>,
    #[serde(default)]
    pub error_code: Option<i64>,
    #[serde(default)]
    pub error_message: Option<String>,
    /// RFC 2822, e.g. `Fri, 24 May 2019 17:44:46 +0000`.
    #[serde(default)]
    pub date_created: Option<String>,
    /// RFC 2822; null until the message has left Twilio.
    #[serde(default)]
    pub date_sent: Option<String>,
}

impl SmsMessage {
    /// When Twilio created the message, if it said so readably.
    pub fn created_at(&self) -> Option<time::OffsetDateTime> {
        let text = self.date_created.as_deref()?;
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822).ok()
    }

    /// When the message was sent (or received), falling back to when Twilio created it.
    pub fn sent_at(&self) -> Option<time::OffsetDateTime> {
        let format = &time::format_description::well_known::Rfc2822;
        self.date_sent
            .as_deref()
            .and_then(|text| time::OffsetDateTime::parse(text, format).ok())
            .or_else(|| self.created_at())
    }
}

impl ConversationMessage {
    /// When the message was added to its Conversation, if Twilio said so readably.
    pub fn created_at(&self) -> Option<time::OffsetDateTime> {
        let text = self.date_created.as_deref()?;
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
    }
}

/// Decodes a state, turning a value this client does not know into `None` instead of an error.
fn lenient_state<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ConversationState>, D::Error> {
    let raw = Option::<String>::deserialize(deserializer)?;
    Ok(raw.and_then(|state| {
        serde_json::from_value(serde_json::Value::String(state.to_ascii_lowercase())).ok()
    }))
}

/// Decodes a list that Twilio may send as `null`.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_read_whatever_the_key_case() {
        let upper: Capabilities =
            serde_json::from_str(r#"{"SMS": true, "MMS": false, "voice": true}"#).expect("decodes");
        assert_eq!(
            upper,
            Capabilities {
                voice: true,
                sms: true,
                mms: false,
                fax: false
            }
        );
    }

    #[test]
    fn a_conversation_decodes_with_unknown_fields_and_an_unknown_state() {
        let conversation: Conversation = serde_json::from_str(
            r#"{"sid":"CH1","state":"archived","timers":{},"brand_new_field":[1,2],"friendly_name":null}"#,
        )
        .expect("decodes");
        assert_eq!(conversation.sid, "CH1");
        assert_eq!(conversation.state, None);
        assert_eq!(conversation.timers, Some(ConversationTimers::default()));
        assert_eq!(conversation.friendly_name, None);
    }

    #[test]
    fn a_participant_binding_decodes_its_type() {
        let participant: Participant = serde_json::from_str(
            r#"{"sid":"MB1","identity":null,"messaging_binding":{"type":"sms","address":"+15551234567","proxy_address":"+15557654321"}}"#,
        )
        .expect("decodes");
        let binding = participant.messaging_binding.expect("decodes");
        assert_eq!(binding.r#type.as_deref(), Some("sms"));
        assert_eq!(binding.address.as_deref(), Some("+15551234567"));
    }

    #[test]
    fn null_lists_decode_as_empty() {
        let config: WebhookConfiguration =
            serde_json::from_str(r#"{"filters":null}"#).expect("decodes");
        assert!(config.filters.is_empty());
    }
}
