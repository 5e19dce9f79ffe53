//! How a member gets the group's texts: SMS, or WhatsApp from the neighborhood's WhatsApp
//! sender. Twilio names a WhatsApp address by its phone with a `whatsapp:` prefix
//! (`whatsapp:+15551234567`), in participant bindings, message authors and the Messages API
//! alike; an SMS address is the bare phone.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

use super::phone::Phone;

const WHATSAPP_PREFIX: &str = "whatsapp:";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Sms,
    Whatsapp,
}

impl Channel {
    /// The address Twilio knows `phone` by on this channel.
    pub fn address(self, phone: &Phone) -> String {
        match self {
            Self::Sms => phone.as_str().to_owned(),
            Self::Whatsapp => format!("{WHATSAPP_PREFIX}{}", phone.as_str()),
        }
    }

    /// The channel and phone of an address as Twilio writes it (`+1…` or `whatsapp:+1…`).
    pub fn of_address(address: &str) -> Option<(Self, Phone)> {
        let (channel, phone) = match address.strip_prefix(WHATSAPP_PREFIX) {
            Some(phone) => (Self::Whatsapp, phone),
            None => (Self::Sms, address),
        };
        Phone::try_from(phone.to_owned())
            .ok()
            .map(|phone| (channel, phone))
    }

    /// As people write it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sms => "SMS",
            Self::Whatsapp => "WhatsApp",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Whatsapp => "whatsapp",
        }
    }

    /// Reads `sms` or `whatsapp` (any case, as an import column or a query would write it).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "sms" | "text" => Some(Self::Sms),
            "whatsapp" => Some(Self::Whatsapp),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_names_its_channel_and_phone() {
        let phone = Phone::parse("+15550001111").expect("a phone");
        assert_eq!(Channel::Sms.address(&phone), "+15550001111");
        assert_eq!(Channel::Whatsapp.address(&phone), "whatsapp:+15550001111");
        assert_eq!(
            Channel::of_address("whatsapp:+15550001111"),
            Some((Channel::Whatsapp, phone.clone()))
        );
        assert_eq!(
            Channel::of_address("+15550001111"),
            Some((Channel::Sms, phone))
        );
        assert_eq!(Channel::of_address("whatsapp:system"), None);
        assert_eq!(Channel::of_address("system"), None);
    }
}
