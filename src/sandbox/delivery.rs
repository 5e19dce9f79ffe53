//! A Conversation message delivered the way Twilio delivers it: a copy to every participant but
//! its sender (SMS phones get its media as one MMS, within the carriers' limits; WhatsApp phones
//! get it as WhatsApp media), then `onMessageAdded` and one `onDeliveryUpdated` per recipient.

use serde_json::{Value, json};

use super::Emulator;
use super::media::{inbox_media, items_of_message, mms_refusal, webhook_param};
use super::records::{EmulatorResult, OUTSIDE_WINDOW, is_whatsapp};
use super::resources::{iso, new_sid, now};
use super::routing::UNSUBSCRIBED;

impl Emulator {
    /// Delivers a stored conversation message to every SMS participant but its sender, then (when
    /// webhooks apply) fires `onMessageAdded` and one `onDeliveryUpdated` per recipient.
    pub(super) async fn fan_out(
        &self,
        conversation: &Value,
        message: &Value,
        sender: Option<&str>,
        webhooks: bool,
    ) -> EmulatorResult<()> {
        let conversation_sid = conversation["sid"].as_str().unwrap_or_default();
        let body = message["body"].as_str().unwrap_or_default();
        let author = message["author"].as_str().unwrap_or_default();
        let message_sid = message["sid"].as_str().unwrap_or_default();
        let service_sid = conversation["messaging_service_sid"].as_str();
        let media = items_of_message(message);
        let mut receipts = Vec::new();
        for participant in self.all_participants(conversation_sid).await? {
            let participant_sid = participant["sid"].as_str().unwrap_or_default();
            let binding = &participant["messaging_binding"];
            let (Some(address), Some(proxy)) = (
                binding["address"].as_str(),
                binding["proxy_address"].as_str(),
            ) else {
                continue;
            };
            // The sender does not get its own text back; nor does a phone whose address authored it.
            if Some(participant_sid) == sender || address == author {
                continue;
            }
            let scope = service_sid.map_or_else(|| proxy.to_owned(), str::to_owned);
            let refusal = if self.is_opted_out(&scope, address).await? {
                Some(UNSUBSCRIBED)
            } else if !self.reaches_free_form(proxy, address).await? {
                Some(OUTSIDE_WINDOW)
            } else if is_whatsapp(address) {
                None
            } else {
                // To an SMS phone, media travel as one MMS, within the carriers' limits.
                mms_refusal(&media)
            };
            let at = now();
            let channel_sid = new_sid("SM");
            let (status, error_code) = match refusal {
                Some(code) => ("failed", Some(code)),
                None => ("delivered", None),
            };
            let mut copy = self.sms_message(
                &channel_sid,
                proxy,
                address,
                body,
                service_sid,
                status,
                error_code,
                false,
                at,
            );
            copy["num_media"] = json!(media.len().to_string());
            self.save_sms_message(&copy).await?;
            if refusal.is_none() {
                let mut item = self.inbox_item(&channel_sid, proxy, address, body, status, at);
                item["media"] = inbox_media(&media);
                self.deliver_to_inbox(address, &item).await?;
            }
            receipts.push((
                participant_sid.to_owned(),
                channel_sid,
                status,
                error_code,
                at,
            ));
        }
        if !webhooks {
            return Ok(());
        }
        let mut added = vec![
            ("ConversationSid".to_owned(), conversation_sid.to_owned()),
            ("MessageSid".to_owned(), message_sid.to_owned()),
            ("Index".to_owned(), message["index"].to_string()),
            (
                "DateCreated".to_owned(),
                message["date_created"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ),
            ("Body".to_owned(), body.to_owned()),
            ("Author".to_owned(), author.to_owned()),
            (
                "Attributes".to_owned(),
                message["attributes"].as_str().unwrap_or("{}").to_owned(),
            ),
            (
                "Source".to_owned(),
                match sender {
                    Some(_) if is_whatsapp(author) => "WHATSAPP",
                    Some(_) => "SMS",
                    None => "API",
                }
                .to_owned(),
            ),
        ];
        if let Some(participant_sid) = message["participant_sid"].as_str() {
            added.push(("ParticipantSid".to_owned(), participant_sid.to_owned()));
        }
        if let Some(service_sid) = service_sid {
            added.push(("MessagingServiceSid".to_owned(), service_sid.to_owned()));
        }
        if let Some(media) = webhook_param(&media) {
            added.push(("Media".to_owned(), media));
        }
        self.post_event("onMessageAdded", added);
        for (participant_sid, channel_sid, status, error_code, at) in receipts {
            let stamp = iso(at);
            self.post_event(
                "onDeliveryUpdated",
                vec![
                    ("ConversationSid".to_owned(), conversation_sid.to_owned()),
                    ("MessageSid".to_owned(), message_sid.to_owned()),
                    ("DeliveryReceiptSid".to_owned(), new_sid("DY")),
                    ("ChannelMessageSid".to_owned(), channel_sid),
                    ("ParticipantSid".to_owned(), participant_sid),
                    ("Status".to_owned(), status.to_owned()),
                    ("ErrorCode".to_owned(), error_code.unwrap_or(0).to_string()),
                    ("DateCreated".to_owned(), stamp.clone()),
                    ("DateUpdated".to_owned(), stamp),
                ],
            );
        }
        Ok(())
    }
}
