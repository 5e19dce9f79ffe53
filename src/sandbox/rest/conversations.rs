//! conversations.twilio.com: Conversations, Participants, Messages (with media from MCS),
//! ParticipantConversations and the account's webhook configuration. A Conversation is also
//! served under its service, `/v1/Services/{ChatServiceSid}/Conversations/{sid}/...`.

use poem::http::Method;
use serde_json::{Value, json};

use super::{Answer, Call, created, meta_page, no_content, not_found, ok};
use crate::sandbox::Emulator;
use crate::sandbox::media::{Item, is_media_sid};
use crate::sandbox::records::{EmulatorResult, ErrorAnswer, is_whatsapp, phone_of};
use crate::sandbox::resources::{ConversationFields, is_e164, iso, new_sid, now};

const STATES: [&str; 4] = ["initializing", "inactive", "active", "closed"];

impl Emulator {
    /// Paths after `/conversations/v1`.
    pub(super) async fn serve_conversations(&self, call: &Call, rest: &[&str]) -> Answer {
        match (&call.method, rest) {
            (&Method::POST, ["Conversations"]) => {
                let fields = conversation_fields(call)?;
                let conversation = self.create_conversation(&fields).await?;
                if call.webhook_enabled {
                    self.conversation_event("onConversationAdded", &conversation);
                }
                created(conversation)
            }
            (&Method::GET, ["Conversations"]) => {
                let (page, size, offset) = call.paging(50, 100);
                let slice = self.conversations(offset, size).await?;
                let meta = meta_page(
                    call,
                    &self.conversations_url("/v1/Conversations"),
                    "conversations",
                    page,
                    size,
                    offset,
                    &slice,
                );
                ok(json!({"conversations": slice.items, "meta": meta}))
            }
            (method, ["Conversations", sid, rest @ ..]) => {
                let Some(conversation) = self.find_conversation(sid).await? else {
                    return not_found(call);
                };
                self.serve_conversation(call, method, conversation, rest)
                    .await
            }
            (method, ["Services", service, "Conversations", sid, rest @ ..])
                if *service == self.chat_service_sid() =>
            {
                let Some(conversation) = self.find_conversation(sid).await? else {
                    return not_found(call);
                };
                self.serve_conversation(call, method, conversation, rest)
                    .await
            }
            (&Method::GET, ["ParticipantConversations"]) => {
                self.participant_conversations(call).await
            }
            (&Method::GET, ["Configuration", "Webhooks"]) => {
                let stored = self.stored_webhook_configuration().await?;
                ok(self.webhook_configuration(stored.as_ref()))
            }
            (&Method::POST, ["Configuration", "Webhooks"]) => self.configure_webhooks(call).await,
            _ => not_found(call),
        }
    }

    async fn serve_conversation(
        &self,
        call: &Call,
        method: &Method,
        conversation: Value,
        rest: &[&str],
    ) -> Answer {
        let sid = conversation["sid"].as_str().unwrap_or_default().to_owned();
        match (method, rest) {
            (&Method::GET, []) => ok(conversation),
            (&Method::POST, []) => {
                self.count_mutation(&sid).await?;
                let fields = conversation_fields(call)?;
                let mut updated = conversation.clone();
                for (field, value) in [
                    ("friendly_name", fields.friendly_name),
                    ("unique_name", fields.unique_name),
                    ("attributes", fields.attributes),
                    ("messaging_service_sid", fields.messaging_service_sid),
                    ("state", fields.state),
                ] {
                    if let Some(value) = value {
                        updated[field] = json!(value);
                    }
                }
                updated["date_updated"] = json!(iso(now()));
                if !self
                    .replace_conversation(&updated, conversation["unique_name"].as_str())
                    .await?
                {
                    return Err(ErrorAnswer::new(
                        400,
                        50377,
                        "Conversation is in a final state (closed) and cannot be updated",
                    )
                    .into());
                }
                if call.webhook_enabled {
                    self.conversation_event("onConversationUpdated", &updated);
                }
                ok(updated)
            }
            (&Method::DELETE, []) => {
                self.delete_conversation(&conversation).await?;
                if call.webhook_enabled {
                    self.conversation_event("onConversationRemoved", &conversation);
                }
                no_content()
            }
            (&Method::POST, ["Participants"]) => self.add_participant(call, &sid).await,
            (&Method::GET, ["Participants"]) => {
                let (page, size, offset) = call.paging(50, 100);
                let slice = self.participants(&sid, offset, size).await?;
                let url = self.conversations_url(&format!("/v1/Conversations/{sid}/Participants"));
                let meta = meta_page(call, &url, "participants", page, size, offset, &slice);
                ok(json!({"participants": slice.items, "meta": meta}))
            }
            (&Method::GET, ["Participants", participant_sid]) => {
                match self.participant_entry(&sid, participant_sid).await? {
                    Some(participant) => ok(participant),
                    None => Err(ErrorAnswer::new(404, 50432, "Participant not found").into()),
                }
            }
            (&Method::DELETE, ["Participants", participant_sid]) => {
                self.count_mutation(&sid).await?;
                let participant = self.participant_entry(&sid, participant_sid).await?;
                if !self.remove_participant(&sid, participant_sid).await? {
                    return Err(ErrorAnswer::new(404, 50432, "Participant not found").into());
                }
                if let (true, Some(participant)) = (call.webhook_enabled, participant) {
                    self.participant_event("onParticipantRemoved", &participant);
                }
                no_content()
            }
            (&Method::POST, ["Messages"]) => self.post_message(call, &conversation).await,
            (&Method::GET, ["Messages"]) => {
                let newest_first = call.query("Order") == Some("desc");
                let (page, size, offset) = call.paging(50, 100);
                let slice = self
                    .conversation_messages(&sid, newest_first, offset, size)
                    .await?;
                let url = self.conversations_url(&format!("/v1/Conversations/{sid}/Messages"));
                let meta = meta_page(call, &url, "messages", page, size, offset, &slice);
                ok(json!({"messages": slice.items, "meta": meta}))
            }
            _ => not_found(call),
        }
    }

    async fn add_participant(&self, call: &Call, conversation_sid: &str) -> Answer {
        let Some(address) = call.form("MessagingBinding.Address") else {
            // Chat participants (Identity) are not part of what the service uses.
            return Err(ErrorAnswer::new(
                400,
                50407,
                "A participant needs a MessagingBinding.Address (SMS)",
            )
            .into());
        };
        if !is_e164(phone_of(address)) {
            return Err(ErrorAnswer::new(
                400,
                50407,
                format!("Invalid messaging binding address {address}"),
            )
            .into());
        }
        let proxy = call
            .form("MessagingBinding.ProxyAddress")
            .unwrap_or_default();
        // SMS: a number of the account; WhatsApp: one of its WhatsApp senders, for a WhatsApp
        // address only.
        let proxy_number = if is_whatsapp(proxy) {
            self.whatsapp_number(proxy).await?
        } else if is_e164(proxy) {
            self.number_by_phone(proxy).await?
        } else {
            None
        };
        if proxy_number.is_none() || is_whatsapp(proxy) != is_whatsapp(address) {
            return Err(ErrorAnswer::new(
                400,
                50408,
                format!("Invalid participant proxy address {proxy}: not a number or WhatsApp sender of this account on the address's channel"),
            )
            .into());
        }
        self.count_mutation(conversation_sid).await?;
        let attributes = call.form("Attributes").unwrap_or("{}");
        let participant = self
            .add_sms_participant(conversation_sid, address, proxy, attributes)
            .await?;
        if call.webhook_enabled {
            self.participant_event("onParticipantAdded", &participant);
        }
        created(participant)
    }

    async fn post_message(&self, call: &Call, conversation: &Value) -> Answer {
        let sid = conversation["sid"].as_str().unwrap_or_default();
        if conversation["state"] == "closed" {
            return Err(ErrorAnswer::new(
                400,
                50377,
                "Conversation is in a final state (closed) and cannot be updated",
            )
            .into());
        }
        let body = call.form("Body").unwrap_or_default();
        if body.chars().count() > 1600 {
            return Err(ErrorAnswer::new(
                400,
                21617,
                "The concatenated message body exceeds the 1600 character limit",
            )
            .into());
        }
        let media_sid = call.form("MediaSid").filter(|media| !media.is_empty());
        if let Some(media_sid) = media_sid.filter(|media| !is_media_sid(media)) {
            return Err(ErrorAnswer::new(
                400,
                20001,
                format!("Invalid MediaSid {media_sid}: ME and 32 hex digits"),
            )
            .into());
        }
        self.count_mutation(sid).await?;
        let author = call.form("Author").unwrap_or("system");
        let attributes = call.form("Attributes").unwrap_or("{}");
        let message_sid = new_sid("IM");
        let mut media = Vec::new();
        if let Some(media_sid) = media_sid {
            let service_sid = conversation["chat_service_sid"]
                .as_str()
                .unwrap_or_default();
            let attached = self
                .attach_media(media_sid, service_sid, sid, &message_sid)
                .await?;
            media.push(Item::of_resource(&attached));
        }
        let message = self
            .add_conversation_message(sid, &message_sid, author, body, attributes, None, &media)
            .await?;
        self.fan_out(conversation, &message, None, call.webhook_enabled)
            .await?;
        created(message)
    }

    async fn participant_conversations(&self, call: &Call) -> Answer {
        let Some(address) = call.query("Address") else {
            return Err(ErrorAnswer::new(400, 50407, "Address or Identity is required").into());
        };
        let mut items = Vec::new();
        for (conversation_sid, participant_sid) in self.bindings_of(address).await? {
            let (Some(conversation), Some(participant)) = (
                self.find_conversation(&conversation_sid).await?,
                self.participant_entry(&conversation_sid, &participant_sid)
                    .await?,
            ) else {
                continue;
            };
            items.push(self.participant_conversation(&participant, &conversation));
        }
        let (_, size, _) = call.paging(50, 50);
        let slice = crate::sandbox::records::Slice { items, more: false };
        let meta = meta_page(
            call,
            &self.conversations_url("/v1/ParticipantConversations"),
            "conversations",
            0,
            size,
            0,
            &slice,
        );
        ok(json!({"conversations": slice.items, "meta": meta}))
    }

    async fn configure_webhooks(&self, call: &Call) -> Answer {
        let mut stored = self
            .stored_webhook_configuration()
            .await?
            .unwrap_or_else(|| json!({}));
        if let Some(method) = call.form("Method") {
            let method = method.to_ascii_uppercase();
            if method != "GET" && method != "POST" {
                return Err(ErrorAnswer::new(400, 20001, "Method must be GET or POST").into());
            }
            stored["method"] = json!(method);
        }
        let filters = call.form_all("Filters");
        if !filters.is_empty() {
            stored["filters"] = json!(filters);
        }
        for (param, field) in [
            ("PreWebhookUrl", "pre_webhook_url"),
            ("PostWebhookUrl", "post_webhook_url"),
            ("Target", "target"),
        ] {
            if let Some(value) = call.form(param) {
                stored[field] = if value.is_empty() {
                    Value::Null
                } else {
                    json!(value)
                };
            }
        }
        self.store_webhook_configuration(&stored).await?;
        ok(self.webhook_configuration(Some(&stored)))
    }
}

fn conversation_fields(call: &Call) -> EmulatorResult<ConversationFields> {
    if let Some(state) = call.form("State").filter(|state| !STATES.contains(state)) {
        return Err(ErrorAnswer::new(400, 20001, format!("Invalid State {state}")).into());
    }
    let timers = call.form("Timers.Inactive").is_some() || call.form("Timers.Closed").is_some();
    if timers && call.form("State").is_none() {
        return Err(ErrorAnswer::new(400, 50382, "Timer can't be set without the state").into());
    }
    if let Some(attributes) = call
        .form("Attributes")
        .filter(|a| serde_json::from_str::<Value>(a).is_err())
    {
        return Err(ErrorAnswer::new(
            400,
            50201,
            format!("Attributes must be valid JSON: {attributes}"),
        )
        .into());
    }
    if call
        .form("FriendlyName")
        .is_some_and(|name| name.chars().count() > 256)
    {
        return Err(ErrorAnswer::new(400, 50200, "FriendlyName is at most 256 characters").into());
    }
    Ok(ConversationFields {
        friendly_name: call.form("FriendlyName").map(str::to_owned),
        unique_name: call.form("UniqueName").map(str::to_owned),
        attributes: call.form("Attributes").map(str::to_owned),
        messaging_service_sid: call.form("MessagingServiceSid").map(str::to_owned),
        state: call.form("State").map(str::to_owned),
    })
}
