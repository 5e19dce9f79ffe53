//! WhatsApp senders: numbers of the account registered with WhatsApp and attached to a
//! Messaging Service, as Twilio's `ChannelSenders` lists them. At Twilio a sender is registered
//! with Meta (days, with a business profile); the sandbox registers one at once.

use serde_json::{Value, json};

use super::{EmulatorResult, ErrorAnswer};
use crate::sandbox::Emulator;
use crate::sandbox::resources::{iso, new_sid, now};

const WHATSAPP_PREFIX: &str = "whatsapp:";

impl Emulator {
    /// Registers the account's number `phone` as a WhatsApp sender of its Messaging Service (the
    /// default one if the number is in none). Registering it again answers the same sender.
    pub async fn register_whatsapp_sender(&self, phone: &str) -> EmulatorResult<Value> {
        let address = format!("{WHATSAPP_PREFIX}{phone}");
        if let Some(sender) = self
            .hget_json(&self.keys().whatsapp_senders(), &address)
            .await?
        {
            return Ok(sender);
        }
        let Some(number) = self.number_by_phone(phone).await? else {
            return Err(ErrorAnswer::new(
                400,
                21606,
                format!("{phone} is not a number of the emulated account"),
            )
            .into());
        };
        let service_sid = self
            .service_of_number(number["sid"].as_str().unwrap_or_default())
            .await?
            .unwrap_or_else(|| crate::sandbox::DEFAULT_MESSAGING_SERVICE_SID.to_owned());
        let sid = new_sid("XE");
        let at = iso(now());
        let sender = json!({
            "sid": sid,
            "account_sid": self.account_sid(),
            "messaging_service_sid": service_sid,
            "sender": address,
            "sender_type": "WhatsApp",
            "country_code": "US",
            "date_created": at,
            "date_updated": at,
            "url": self.messaging_url(&format!("/v1/Services/{service_sid}/ChannelSenders/{sid}")),
        });
        self.hset_json(&self.keys().whatsapp_senders(), &address, &sender)
            .await?;
        self.publish(&json!({"type": "numbers"})).await;
        Ok(sender)
    }

    /// Every WhatsApp sender address of the account (`whatsapp:+1...`), sorted.
    pub async fn whatsapp_sender_addresses(&self) -> EmulatorResult<Vec<String>> {
        let mut addresses: Vec<String> = redis::cmd("HKEYS")
            .arg(self.keys().whatsapp_senders())
            .query_async(&mut self.conn())
            .await?;
        addresses.sort();
        Ok(addresses)
    }

    /// The WhatsApp senders of a Messaging Service.
    pub(in crate::sandbox) async fn channel_senders(
        &self,
        service_sid: &str,
    ) -> EmulatorResult<Vec<Value>> {
        let all: Vec<String> = redis::cmd("HVALS")
            .arg(self.keys().whatsapp_senders())
            .query_async(&mut self.conn())
            .await?;
        let mut senders: Vec<Value> = all
            .iter()
            .filter_map(|json| serde_json::from_str::<Value>(json).ok())
            .filter(|sender| sender["messaging_service_sid"] == service_sid)
            .collect();
        senders.sort_by(|a, b| a["sid"].as_str().cmp(&b["sid"].as_str()));
        Ok(senders)
    }

    /// The number behind a WhatsApp sender address (`whatsapp:+1...`), if it is one.
    pub(in crate::sandbox) async fn whatsapp_number(
        &self,
        address: &str,
    ) -> EmulatorResult<Option<Value>> {
        let Some(phone) = address.strip_prefix(WHATSAPP_PREFIX) else {
            return Ok(None);
        };
        let registered: bool = redis::cmd("HEXISTS")
            .arg(self.keys().whatsapp_senders())
            .arg(address)
            .query_async(&mut self.conn())
            .await?;
        if !registered {
            return Ok(None);
        }
        self.number_by_phone(phone).await
    }
}

/// Whether an address is on WhatsApp (`whatsapp:+E164`).
pub(in crate::sandbox) fn is_whatsapp(address: &str) -> bool {
    address.starts_with(WHATSAPP_PREFIX)
}

/// The phone of an address on either channel.
pub(in crate::sandbox) fn phone_of(address: &str) -> &str {
    address.strip_prefix(WHATSAPP_PREFIX).unwrap_or(address)
}

/// WhatsApp's customer service window: free-form messages reach a user only this long after
/// they last wrote to the sender.
pub const SERVICE_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Twilio's error for a free-form WhatsApp message outside the customer service window.
pub const OUTSIDE_WINDOW: u32 = 63016;

impl Emulator {
    /// `user` (`whatsapp:+E164`) wrote to `sender`: their window opens for 24 hours.
    pub(in crate::sandbox) async fn open_whatsapp_window(
        &self,
        sender: &str,
        user: &str,
    ) -> EmulatorResult<()> {
        let _: () = redis::cmd("HSET")
            .arg(self.keys().whatsapp_windows())
            .arg(format!("{sender}|{user}"))
            .arg(self.config().clock.now_ms())
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Whether a free-form message from `sender` reaches `user` now. Anything not on WhatsApp
    /// has no window.
    pub(in crate::sandbox) async fn reaches_free_form(
        &self,
        sender: &str,
        user: &str,
    ) -> EmulatorResult<bool> {
        if !is_whatsapp(user) {
            return Ok(true);
        }
        let last: Option<i64> = redis::cmd("HGET")
            .arg(self.keys().whatsapp_windows())
            .arg(format!("{sender}|{user}"))
            .query_async(&mut self.conn())
            .await?;
        Ok(last.is_some_and(|last| self.config().clock.now_ms() - last < SERVICE_WINDOW_MS))
    }
}
