//! A text from a simulated phone, carried the way Twilio carries it.
//!
//! From phone P to number N: Twilio's default opt-out handling first (STOP-family keywords opt P
//! out of N's Messaging Service with Twilio's auto-reply; START-family opt back in; HELP answers),
//! with the keyword still passed on. Then, if (P, N) is bound in an active Conversation: the
//! pre-event `onMessageAdd` webhook (5 s, fail-open; a JSON answer may change body, author or
//! attributes; a 4xx/5xx rejects the message), the message is stored and delivered (see
//! `delivery`). Twilio also calls N's own `SmsUrl` for every inbound text, bound or not ("it will
//! always fire regardless"); for an unbound sender that is the only place the text goes, and
//! `<Message>` replies in the TwiML answer are sent back to P. Pictures a phone sends are stored in
//! MCS first: their SIDs travel in the webhooks' `Media`, on the SMS webhook as `MediaUrl{N}`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::media::{Item, webhook_param as media_param};
use super::records::{EmulatorResult, ErrorAnswer, is_whatsapp};
use super::resources::{iso, new_sid, now};
use super::twiml;
use super::webhooks::configured_url;
use super::{Emulator, PRE_EVENT_TIMEOUT};
use crate::domain::keywords::TwilioKeyword;

const OPT_OUT_REPLY: &str = "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.";
const OPT_IN_REPLY: &str = "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.";
const HELP_REPLY: &str = "Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

/// Twilio's error for a delivery to an opted-out phone.
pub(super) const UNSUBSCRIBED: u32 = 21610;

/// Where a text went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Into the group (the Conversation the sender is bound in).
    Conversation,
    /// To the number's SMS webhook: the sender is not in a Conversation on this number.
    SmsWebhook,
    /// The pre-event webhook refused it: nobody else got it.
    Rejected,
    /// Nowhere: no Conversation and no SMS webhook.
    Unrouted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conversation => "conversation",
            Self::SmsWebhook => "sms_webhook",
            Self::Rejected => "rejected",
            Self::Unrouted => "unrouted",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Routed {
    /// The inbound message's SID (`SM...`).
    pub sid: String,
    pub outcome: Outcome,
    pub detail: String,
}

/// What the pre-event webhook decided.
enum PreEvent {
    Publish {
        body: String,
        author: String,
        attributes: String,
    },
    Reject(u16),
}

impl Emulator {
    /// An inbox entry of a simulated phone.
    pub(super) fn inbox_item(
        &self,
        sid: &str,
        from: &str,
        to: &str,
        body: &str,
        status: &str,
        at: OffsetDateTime,
    ) -> Value {
        json!({"sid": sid, "from": from, "to": to, "body": body, "date_created": iso(at), "status": status, "media": []})
    }

    /// Phone `from` texts `body` to our number `to`; on WhatsApp, `whatsapp:` and a phone to
    /// `whatsapp:` and one of our WhatsApp senders.
    pub async fn receive_text(&self, from: &str, to: &str, body: &str) -> EmulatorResult<Routed> {
        self.receive_text_with_media(from, to, body, &[]).await
    }

    /// [`Emulator::receive_text`] with pictures: `media` is (content type, bytes) per item, each
    /// stored in MCS as Twilio stores what a phone sends.
    pub async fn receive_text_with_media(
        &self,
        from: &str,
        to: &str,
        body: &str,
        media: &[(String, Vec<u8>)],
    ) -> EmulatorResult<Routed> {
        let whatsapp = is_whatsapp(to);
        let number = if whatsapp {
            self.whatsapp_number(to).await?
        } else {
            self.number_by_phone(to).await?
        };
        let Some(number) = number else {
            return Err(ErrorAnswer::new(
                404,
                21606,
                format!("{to} is not a number of the emulated account"),
            )
            .into());
        };
        let number_sid = number["sid"].as_str().unwrap_or_default().to_owned();
        let service_sid = self.service_of_number(&number_sid).await?;
        self.touch_phone(from).await?;
        let at = now();
        let sid = new_sid("SM");
        let mut inbound = self.sms_message(
            &sid,
            from,
            to,
            body,
            service_sid.as_deref(),
            "received",
            None,
            true,
            at,
        );
        inbound["num_media"] = json!(media.len().to_string());
        self.save_sms_message(&inbound).await?;
        self.publish(&json!({"type": "sent", "phone": from, "to": to, "body": body}))
            .await;

        // Twilio applies no opt-out keywords on WhatsApp: STOP there is the app's to honor.
        if whatsapp {
            self.open_whatsapp_window(to, from).await?;
        } else {
            self.apply_opt_out_keywords(from, to, service_sid.as_deref().unwrap_or(to), body)
                .await?;
        }

        let mut routed = Routed {
            sid: sid.clone(),
            outcome: Outcome::Unrouted,
            detail: "The number has no SMS webhook and the phone is in no Conversation on it."
                .into(),
        };
        let binding = self.binding(from, to).await?;
        // Stored before anything sees the text, as Twilio stores a phone's media first; in a
        // Conversation, attached to the message once it is published.
        let mut items = Vec::new();
        for (content_type, bytes) in media {
            let conversation_sid = binding
                .as_ref()
                .map(|(conversation, _)| conversation.as_str());
            let stored = self
                .create_media(content_type, bytes, conversation_sid, None)
                .await?;
            items.push(Item::of_resource(&stored));
        }
        if let Some((conversation_sid, participant_sid)) = binding {
            routed = self
                .publish_in_conversation(
                    &conversation_sid,
                    &participant_sid,
                    from,
                    body,
                    service_sid.as_deref(),
                    &items,
                )
                .await?;
            routed.sid = sid.clone();
        }
        let sms_url = number["sms_url"].as_str().filter(|url| !url.is_empty());
        if let Some(sms_url) = sms_url {
            let method = number["sms_method"].as_str().unwrap_or("POST");
            let mut params = inbound_params(
                &sid,
                self.account_sid(),
                service_sid.as_deref(),
                from,
                to,
                body,
            );
            self.add_media_params(&mut params, &items);
            let replies = match self
                .call_webhook(sms_url, method, params, std::time::Duration::from_secs(15))
                .await
            {
                Ok(answer) if answer.status.is_success() => twiml::messages(&answer.body),
                Ok(answer) => {
                    tracing::debug!(status = %answer.status, "SMS webhook answered with an error (Twilio error 11200)");
                    Vec::new()
                }
                Err(_) => Vec::new(),
            };
            for reply in replies {
                let recipient = reply.to.unwrap_or_else(|| from.to_owned());
                let sender = reply.from.unwrap_or_else(|| to.to_owned());
                self.send_reply(&sender, &recipient, &reply.body, service_sid.as_deref())
                    .await?;
            }
            if routed.outcome == Outcome::Unrouted {
                routed.outcome = Outcome::SmsWebhook;
                routed.detail = "The phone is in no Conversation on this number, so the text went to the number's SMS webhook.".into();
            }
        }
        Ok(routed)
    }

    /// STOP, START and HELP as Twilio handles them on a Messaging Service by default.
    async fn apply_opt_out_keywords(
        &self,
        phone: &str,
        number: &str,
        scope: &str,
        body: &str,
    ) -> EmulatorResult<()> {
        let reply = match TwilioKeyword::parse(body) {
            Some(TwilioKeyword::OptOut) => {
                self.set_opted_out(scope, phone, true).await?;
                OPT_OUT_REPLY
            }
            Some(TwilioKeyword::OptIn) => {
                self.set_opted_out(scope, phone, false).await?;
                OPT_IN_REPLY
            }
            Some(TwilioKeyword::Help) => HELP_REPLY,
            None => return Ok(()),
        };
        let at = now();
        self.deliver_to_inbox(
            phone,
            &self.inbox_item(&new_sid("SM"), number, phone, reply, "delivered", at),
        )
        .await
    }

    async fn publish_in_conversation(
        &self,
        conversation_sid: &str,
        participant_sid: &str,
        from: &str,
        body: &str,
        service_sid: Option<&str>,
        media: &[Item],
    ) -> EmulatorResult<Routed> {
        let Some(conversation) = self.find_conversation(conversation_sid).await? else {
            return Err(
                ErrorAnswer::not_found(&format!("/Conversations/{conversation_sid}")).into(),
            );
        };
        let mut params = vec![
            ("ConversationSid".to_owned(), conversation_sid.to_owned()),
            ("Body".to_owned(), body.to_owned()),
            ("Author".to_owned(), from.to_owned()),
            ("ParticipantSid".to_owned(), participant_sid.to_owned()),
            ("Attributes".to_owned(), "{}".to_owned()),
            (
                "Source".to_owned(),
                if is_whatsapp(from) { "WHATSAPP" } else { "SMS" }.to_owned(),
            ),
        ];
        if let Some(service_sid) = service_sid {
            params.push(("MessagingServiceSid".to_owned(), service_sid.to_owned()));
        }
        if let Some(media) = media_param(media) {
            params.push(("Media".to_owned(), media));
        }
        let (body, author, attributes) = match self.pre_event(params).await? {
            PreEvent::Publish {
                body,
                author,
                attributes,
            } => (body, author, attributes),
            PreEvent::Reject(status) => {
                return Ok(Routed {
                    sid: String::new(),
                    outcome: Outcome::Rejected,
                    detail: format!(
                        "The pre-event webhook answered {status}: the text was kept out of the group."
                    ),
                });
            }
        };
        let message_sid = new_sid("IM");
        let chat_service_sid = self.chat_service_sid();
        for item in media {
            self.attach_media(&item.sid, &chat_service_sid, conversation_sid, &message_sid)
                .await?;
        }
        let message = self
            .add_conversation_message(
                conversation_sid,
                &message_sid,
                &author,
                &body,
                &attributes,
                Some(participant_sid),
                media,
            )
            .await?;
        self.fan_out(&conversation, &message, Some(participant_sid), true)
            .await?;
        Ok(Routed {
            sid: String::new(),
            outcome: Outcome::Conversation,
            detail: format!("Delivered into Conversation {conversation_sid}."),
        })
    }

    /// Calls the pre-event webhook, if configured: it may change the message or reject it, and a
    /// silent or unreachable webhook lets it through unchanged (Twilio fails open after 5 s).
    async fn pre_event(&self, mut params: Vec<(String, String)>) -> EmulatorResult<PreEvent> {
        let value = |params: &[(String, String)], name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        let unchanged = PreEvent::Publish {
            body: value(&params, "Body"),
            author: value(&params, "Author"),
            attributes: value(&params, "Attributes"),
        };
        let Some(configuration) = self.stored_webhook_configuration().await? else {
            return Ok(unchanged);
        };
        let Some(url) = configured_url(&configuration, "pre_webhook_url", "onMessageAdd") else {
            return Ok(unchanged);
        };
        let method = configuration["method"]
            .as_str()
            .unwrap_or("POST")
            .to_owned();
        params.extend(self.common_params("onMessageAdd"));
        let answer = match self
            .call_webhook(&url, &method, params, PRE_EVENT_TIMEOUT)
            .await
        {
            Ok(answer) => answer,
            Err(failure) => {
                tracing::debug!(?failure, "pre-event webhook silent: publishing unchanged");
                return Ok(unchanged);
            }
        };
        if answer.status.is_client_error() || answer.status.is_server_error() {
            return Ok(PreEvent::Reject(answer.status.as_u16()));
        }
        let PreEvent::Publish {
            body,
            author,
            attributes,
        } = unchanged
        else {
            return Ok(unchanged);
        };
        let changes: Value = if answer.content_type.contains("json") {
            serde_json::from_str(&answer.body).unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        let pick = |field: &str, current: String| {
            changes[field]
                .as_str()
                .map(str::to_owned)
                .unwrap_or(current)
        };
        Ok(PreEvent::Publish {
            body: pick("body", body),
            author: pick("author", author),
            attributes: pick("attributes", attributes),
        })
    }

    /// Twilio's `NumMedia`, `MediaUrl{N}` and `MediaContentType{N}` of an incoming-message
    /// webhook (`NumMedia` is there already). The URLs are temporary content URLs: they need no
    /// credentials for 300 seconds, and take the account's Basic auth after that.
    fn add_media_params(&self, params: &mut Vec<(String, String)>, media: &[Item]) {
        for (key, value) in params.iter_mut() {
            if key == "NumMedia" {
                *value = media.len().to_string();
            }
        }
        for (n, item) in media.iter().enumerate() {
            params.push((
                format!("MediaUrl{n}"),
                self.temporary_content_url(&item.sid),
            ));
            params.push((format!("MediaContentType{n}"), item.content_type.clone()));
        }
    }

    /// A reply from a TwiML `<Message>`: a direct text from our number to a phone.
    async fn send_reply(
        &self,
        from: &str,
        to: &str,
        body: &str,
        service_sid: Option<&str>,
    ) -> EmulatorResult<()> {
        let scope = service_sid.unwrap_or(from);
        let opted_out = self.is_opted_out(scope, to).await?;
        let at = now();
        let sid = new_sid("SM");
        let (status, error_code) = if opted_out {
            ("failed", Some(UNSUBSCRIBED))
        } else {
            ("delivered", None)
        };
        self.save_sms_message(&self.sms_message(
            &sid,
            from,
            to,
            body,
            service_sid,
            status,
            error_code,
            false,
            at,
        ))
        .await?;
        if !opted_out {
            self.deliver_to_inbox(to, &self.inbox_item(&sid, from, to, body, status, at))
                .await?;
        }
        Ok(())
    }
}

/// The parameters of Twilio's incoming-message webhook.
fn inbound_params(
    sid: &str,
    account_sid: &str,
    service_sid: Option<&str>,
    from: &str,
    to: &str,
    body: &str,
) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("SmsMessageSid", sid),
        ("AccountSid", account_sid),
        ("From", from),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
        ("FromCity", ""),
        ("FromState", ""),
        ("FromZip", ""),
        ("FromCountry", "US"),
        ("ToCity", ""),
        ("ToState", ""),
        ("ToZip", ""),
        ("ToCountry", "US"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    params.push((
        "NumSegments".to_owned(),
        crate::domain::segments::count(body).1.to_string(),
    ));
    if let Some(service_sid) = service_sid {
        params.push(("MessagingServiceSid".to_owned(), service_sid.to_owned()));
    }
    params
}
