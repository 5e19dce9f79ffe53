//! Twilio resources as Twilio renders them: every field its OpenAPI spec defines, snake_case,
//! Conversations dates in ISO 8601, v2010 dates in RFC 2822, SIDs of two letters and 32 hex digits.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

use super::Emulator;

/// A new SID: `prefix` and 32 lowercase hex digits.
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// The current time, to the second, as Twilio stamps resources.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// `2015-12-16T22:18:37Z`.
pub fn iso(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// `Thu, 30 Jul 2015 23:19:04 +0000`.
pub fn rfc2822(at: OffsetDateTime) -> String {
    at.format(&Rfc2822).unwrap_or_default()
}

/// True for `+` followed by 2 to 15 digits, the first not 0: what Twilio accepts as E.164.
pub fn is_e164(address: &str) -> bool {
    address.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

pub fn capabilities() -> Value {
    json!({"voice": true, "sms": true, "mms": true, "fax": false})
}

impl Emulator {
    pub(super) fn conversations_url(&self, path: &str) -> String {
        format!("{}/conversations{path}", self.config().public_base)
    }

    pub(super) fn messaging_url(&self, path: &str) -> String {
        format!("{}/messaging{path}", self.config().public_base)
    }

    /// The v2010 path of this account, e.g. `/2010-04-01/Accounts/AC...`.
    pub(super) fn account_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}", self.account_sid())
    }

    pub(super) fn available_number(&self, phone: &str, area_code: &str) -> Value {
        json!({
            "friendly_name": format!("({area_code}) {}-{}", &phone[5..8], &phone[8..]),
            "phone_number": phone,
            "lata": "722",
            "locality": "Sandbox",
            "rate_center": "SANDBOX",
            "latitude": 37.77,
            "longitude": -122.42,
            "region": "CA",
            "postal_code": "94103",
            "iso_country": "US",
            "address_requirements": "none",
            "beta": false,
            "capabilities": capabilities(),
        })
    }

    pub(super) fn incoming_number(
        &self,
        sid: &str,
        phone: &str,
        friendly_name: &str,
        sms_url: &str,
        at: OffsetDateTime,
    ) -> Value {
        json!({
            "account_sid": self.account_sid(),
            "address_sid": null,
            "address_requirements": "none",
            "api_version": "2010-04-01",
            "beta": false,
            "capabilities": capabilities(),
            "date_created": rfc2822(at),
            "date_updated": rfc2822(at),
            "friendly_name": friendly_name,
            "identity_sid": null,
            "phone_number": phone,
            "origin": "twilio",
            "sid": sid,
            "sms_application_sid": null,
            "sms_fallback_method": "POST",
            "sms_fallback_url": null,
            "sms_method": "POST",
            "sms_url": (!sms_url.is_empty()).then_some(sms_url),
            "status_callback": null,
            "status_callback_method": "POST",
            "trunk_sid": null,
            "uri": format!("{}/IncomingPhoneNumbers/{sid}.json", self.account_path()),
            "voice_receive_mode": "voice",
            "voice_application_sid": null,
            "voice_caller_id_lookup": false,
            "voice_fallback_method": "POST",
            "voice_fallback_url": null,
            "voice_method": "POST",
            "voice_url": null,
            "emergency_status": "Inactive",
            "emergency_address_sid": null,
            "emergency_address_status": "unregistered",
            "bundle_sid": null,
            "status": "in-use",
            "type": "local",
        })
    }

    /// A v2010 Message. `inbound` texts come from a phone; the others are ones we sent.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sms_message(
        &self,
        sid: &str,
        from: &str,
        to: &str,
        body: &str,
        service_sid: Option<&str>,
        status: &str,
        error_code: Option<u32>,
        inbound: bool,
        at: OffsetDateTime,
    ) -> Value {
        let segments = crate::domain::segments::count(body).1;
        json!({
            "body": body,
            "num_segments": segments.to_string(),
            "direction": if inbound { "inbound" } else { "outbound-api" },
            "from": from,
            "to": to,
            "date_updated": rfc2822(at),
            "price": null,
            "error_message": error_code.map(|code| match code {
                63016 => "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.",
                30019 => "Content size exceeds carrier limit",
                _ => "Attempt to send to unsubscribed recipient",
            }),
            "uri": format!("{}/Messages/{sid}.json", self.account_path()),
            "account_sid": self.account_sid(),
            "num_media": "0",
            "status": status,
            "messaging_service_sid": service_sid,
            "sid": sid,
            "date_sent": rfc2822(at),
            "date_created": rfc2822(at),
            "error_code": error_code,
            "price_unit": "USD",
            "api_version": "2010-04-01",
            "subresource_uris": {
                "media": format!("{}/Messages/{sid}/Media.json", self.account_path()),
                "feedback": format!("{}/Messages/{sid}/Feedback.json", self.account_path()),
            },
        })
    }

    pub(super) fn messaging_service(
        &self,
        sid: &str,
        friendly_name: &str,
        inbound_request_url: Option<&str>,
        at: OffsetDateTime,
    ) -> Value {
        let url = self.messaging_url(&format!("/v1/Services/{sid}"));
        json!({
            "sid": sid,
            "account_sid": self.account_sid(),
            "friendly_name": friendly_name,
            "date_created": iso(at),
            "date_updated": iso(at),
            "inbound_request_url": inbound_request_url,
            "inbound_method": "POST",
            "fallback_url": null,
            "fallback_method": "POST",
            "status_callback": null,
            "sticky_sender": true,
            "mms_converter": true,
            "smart_encoding": true,
            "scan_message_content": "inherit",
            "fallback_to_long_code": false,
            "area_code_geomatch": true,
            "synchronous_validation": true,
            "validity_period": 14400,
            "url": url,
            "links": {
                "phone_numbers": format!("{url}/PhoneNumbers"),
                "short_codes": format!("{url}/ShortCodes"),
                "alpha_senders": format!("{url}/AlphaSenders"),
            },
            "usecase": "undeclared",
            "us_app_to_person_registered": false,
            "use_inbound_webhook_on_number": true,
        })
    }

    pub(super) fn service_number(
        &self,
        service_sid: &str,
        number_sid: &str,
        phone: &str,
        at: OffsetDateTime,
    ) -> Value {
        json!({
            "sid": number_sid,
            "account_sid": self.account_sid(),
            "service_sid": service_sid,
            "date_created": iso(at),
            "date_updated": iso(at),
            "phone_number": phone,
            "country_code": "US",
            "capabilities": ["SMS", "MMS", "Voice"],
            "url": self.messaging_url(&format!("/v1/Services/{service_sid}/PhoneNumbers/{number_sid}")),
        })
    }

    pub(super) fn conversation(
        &self,
        sid: &str,
        params: &ConversationFields,
        at: OffsetDateTime,
    ) -> Value {
        let url = self.conversations_url(&format!("/v1/Conversations/{sid}"));
        json!({
            "account_sid": self.account_sid(),
            "chat_service_sid": chat_service_sid(self.account_sid()),
            "messaging_service_sid": params.messaging_service_sid,
            "sid": sid,
            "friendly_name": params.friendly_name,
            "unique_name": params.unique_name,
            "attributes": params.attributes.clone().unwrap_or_else(|| "{}".into()),
            "state": params.state.clone().unwrap_or_else(|| "active".into()),
            "date_created": iso(at),
            "date_updated": iso(at),
            "timers": {},
            "url": url,
            "links": {
                "participants": format!("{url}/Participants"),
                "messages": format!("{url}/Messages"),
                "webhooks": format!("{url}/Webhooks"),
                "export": format!("{url}/Export"),
            },
            "bindings": {},
        })
    }

    pub(super) fn participant(
        &self,
        conversation_sid: &str,
        sid: &str,
        address: &str,
        proxy_address: &str,
        attributes: &str,
        at: OffsetDateTime,
    ) -> Value {
        json!({
            "account_sid": self.account_sid(),
            "conversation_sid": conversation_sid,
            "sid": sid,
            "identity": null,
            "attributes": attributes,
            "messaging_binding": {"type": "sms", "address": address, "proxy_address": proxy_address},
            "role_sid": role_sid(self.account_sid()),
            "date_created": iso(at),
            "date_updated": iso(at),
            "url": self.conversations_url(&format!("/v1/Conversations/{conversation_sid}/Participants/{sid}")),
            "last_read_message_index": null,
            "last_read_timestamp": null,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn conversation_message(
        &self,
        conversation_sid: &str,
        sid: &str,
        index: u64,
        author: &str,
        body: &str,
        attributes: &str,
        participant_sid: Option<&str>,
        at: OffsetDateTime,
    ) -> Value {
        let url = self.conversations_url(&format!(
            "/v1/Conversations/{conversation_sid}/Messages/{sid}"
        ));
        json!({
            "account_sid": self.account_sid(),
            "conversation_sid": conversation_sid,
            "sid": sid,
            "index": index,
            "author": author,
            "body": body,
            "media": null,
            "attributes": attributes,
            "participant_sid": participant_sid,
            "date_created": iso(at),
            "date_updated": iso(at),
            "url": url,
            "delivery": null,
            "links": {
                "delivery_receipts": format!("{url}/Receipts"),
                "channel_metadata": format!("{url}/ChannelMetadata"),
            },
            "content_sid": null,
        })
    }

    pub(super) fn participant_conversation(
        &self,
        participant: &Value,
        conversation: &Value,
    ) -> Value {
        json!({
            "account_sid": self.account_sid(),
            "chat_service_sid": conversation["chat_service_sid"],
            "participant_sid": participant["sid"],
            "participant_user_sid": null,
            "participant_identity": participant["identity"],
            "participant_messaging_binding": participant["messaging_binding"],
            "conversation_sid": conversation["sid"],
            "conversation_unique_name": conversation["unique_name"],
            "conversation_friendly_name": conversation["friendly_name"],
            "conversation_attributes": conversation["attributes"],
            "conversation_date_created": conversation["date_created"],
            "conversation_date_updated": conversation["date_updated"],
            "conversation_created_by": "",
            "conversation_state": conversation["state"],
            "conversation_timers": conversation["timers"],
            "links": {
                "participant": participant["url"],
                "conversation": conversation["url"],
            },
        })
    }

    pub(super) fn webhook_configuration(&self, stored: Option<&Value>) -> Value {
        let field = |name: &str| {
            stored
                .and_then(|s| s.get(name))
                .cloned()
                .unwrap_or(Value::Null)
        };
        json!({
            "account_sid": self.account_sid(),
            "method": stored.and_then(|s| s.get("method")).cloned().unwrap_or_else(|| json!("POST")),
            "filters": stored.and_then(|s| s.get("filters")).cloned().unwrap_or_else(|| json!([])),
            "pre_webhook_url": field("pre_webhook_url"),
            "post_webhook_url": field("post_webhook_url"),
            "target": stored.and_then(|s| s.get("target")).cloned().unwrap_or_else(|| json!("webhook")),
            "url": self.conversations_url("/v1/Configuration/Webhooks"),
        })
    }
}

/// Fields of a conversation create or update.
#[derive(Debug, Default, Clone)]
pub struct ConversationFields {
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub state: Option<String>,
}

/// The account's default Conversations service, derived so it is stable across restarts.
fn chat_service_sid(account_sid: &str) -> String {
    format!("IS{}", &account_sid[2..])
}

fn role_sid(account_sid: &str) -> String {
    format!("RL{}", &account_sid[2..])
}
