//! Conversations, their messages, and the account's Conversations webhook configuration.

use std::sync::LazyLock;

use redis::Script;
use serde_json::Value;

use super::{EmulatorResult, ErrorAnswer, Slice};
use crate::sandbox::media::{Item, message_media};
use crate::sandbox::resources::{ConversationFields, new_sid, now};
use crate::sandbox::{Emulator, MUTATIONS_PER_SECOND};

/// Replaces a conversation, refusing changes to a closed one; closing releases its bindings.
/// `KEYS`: unique names, conversations, their order. `ARGV`: the unique name (empty: none), the
/// SID, the conversation's JSON, its sequence. 0 when the unique name is taken.
static CREATE_CONVERSATION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[1] ~= '' and redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
return 1",
    )
});

static UPDATE_CONVERSATION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 'missing' end
if cjson.decode(current)['state'] == 'closed' then return 'closed' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if cjson.decode(ARGV[2])['state'] == 'closed' then
  for _, participant in ipairs(redis.call('HVALS', KEYS[2])) do
    local binding = cjson.decode(participant)['messaging_binding']
    if type(binding) == 'table' and binding['address'] then
      redis.call('HDEL', KEYS[3], binding['address'] .. '|' .. binding['proxy_address'])
    end
  end
end
return 'ok'",
    )
});

impl Emulator {
    // ----- conversations -------------------------------------------------------------------------

    /// Refuses the 31st mutation of a conversation within one second, like Twilio's APS limit.
    pub(in crate::sandbox) async fn count_mutation(
        &self,
        conversation_sid: &str,
    ) -> EmulatorResult<()> {
        let second = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        let key = self.keys().mutations(conversation_sid, second);
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, 2)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        if count > MUTATIONS_PER_SECOND {
            return Err(ErrorAnswer::new(429, 20429, "Too Many Requests").into());
        }
        Ok(())
    }

    pub(in crate::sandbox) async fn create_conversation(
        &self,
        fields: &ConversationFields,
    ) -> EmulatorResult<Value> {
        let sid = new_sid("CH");
        let conversation = self.conversation(&sid, fields, now());
        let sequence = self.next_sequence().await?;
        // One step: a call cut short (the caller gave up, the process died) must never leave a
        // unique name claimed by a Conversation that does not exist, which Twilio never does.
        let created: i64 = CREATE_CONVERSATION
            .key(self.keys().conversation_by_unique_name())
            .key(self.keys().conversations())
            .key(self.keys().conversation_order())
            .arg(fields.unique_name.as_deref().unwrap_or(""))
            .arg(&sid)
            .arg(conversation.to_string())
            .arg(sequence)
            .invoke_async(&mut self.conn())
            .await?;
        if created == 0 {
            return Err(ErrorAnswer::new(
                409,
                50353,
                "Conversation with provided unique name already exists",
            )
            .into());
        }
        Ok(conversation)
    }

    /// By SID or unique name, as Twilio allows in the path.
    pub(in crate::sandbox) async fn find_conversation(
        &self,
        sid_or_unique_name: &str,
    ) -> EmulatorResult<Option<Value>> {
        if let Some(conversation) = self
            .hget_json(&self.keys().conversations(), sid_or_unique_name)
            .await?
        {
            return Ok(Some(conversation));
        }
        let sid: Option<String> = redis::cmd("HGET")
            .arg(self.keys().conversation_by_unique_name())
            .arg(sid_or_unique_name)
            .query_async(&mut self.conn())
            .await?;
        match sid {
            Some(sid) => self.hget_json(&self.keys().conversations(), &sid).await,
            None => Ok(None),
        }
    }

    pub(in crate::sandbox) async fn conversations(
        &self,
        offset: usize,
        limit: usize,
    ) -> EmulatorResult<Slice> {
        self.ordered_page(
            &self.keys().conversation_order(),
            &self.keys().conversations(),
            offset,
            limit,
        )
        .await
    }

    /// Stores the updated conversation; `Ok(false)` when it was closed already.
    pub(in crate::sandbox) async fn replace_conversation(
        &self,
        updated: &Value,
        old_unique_name: Option<&str>,
    ) -> EmulatorResult<bool> {
        let sid = updated["sid"].as_str().unwrap_or_default();
        if let Some(new_name) = updated["unique_name"]
            .as_str()
            .filter(|name| Some(*name) != old_unique_name)
        {
            let claimed: bool = redis::cmd("HSETNX")
                .arg(self.keys().conversation_by_unique_name())
                .arg(new_name)
                .arg(sid)
                .query_async(&mut self.conn())
                .await?;
            if !claimed {
                return Err(ErrorAnswer::new(
                    409,
                    50353,
                    "Conversation with provided unique name already exists",
                )
                .into());
            }
        }
        let outcome: String = UPDATE_CONVERSATION
            .key(self.keys().conversations())
            .key(self.keys().participants(sid))
            .key(self.keys().bindings())
            .arg(sid)
            .arg(updated.to_string())
            .invoke_async(&mut self.conn())
            .await?;
        match outcome.as_str() {
            "ok" => {
                if let Some(old) =
                    old_unique_name.filter(|old| updated["unique_name"].as_str() != Some(*old))
                {
                    redis::cmd("HDEL")
                        .arg(self.keys().conversation_by_unique_name())
                        .arg(old)
                        .query_async::<()>(&mut self.conn())
                        .await?;
                }
                Ok(true)
            }
            "missing" => Err(ErrorAnswer::not_found(&format!("/Conversations/{sid}")).into()),
            _ => Ok(false),
        }
    }

    pub(in crate::sandbox) async fn delete_conversation(
        &self,
        conversation: &Value,
    ) -> EmulatorResult<()> {
        let sid = conversation["sid"].as_str().unwrap_or_default();
        // Releasing the bindings first: a deleted conversation holds none.
        let participants: Vec<String> = redis::cmd("HKEYS")
            .arg(self.keys().participants(sid))
            .query_async(&mut self.conn())
            .await?;
        for participant in participants {
            self.remove_participant(sid, &participant).await?;
        }
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hdel(self.keys().conversations(), sid)
            .zrem(self.keys().conversation_order(), sid)
            .del(self.keys().messages(sid))
            .del(self.keys().message_index(sid))
            .del(self.keys().participants(sid))
            .del(self.keys().participant_order(sid))
            .del(self.keys().sms_participants(sid));
        if let Some(unique_name) = conversation["unique_name"].as_str() {
            pipe.hdel(self.keys().conversation_by_unique_name(), unique_name);
        }
        pipe.query_async::<()>(&mut self.conn()).await?;
        Ok(())
    }

    // ----- conversation messages -----------------------------------------------------------------

    /// Stores a message as `sid` (chosen by the caller, so its media can be attached to it first).
    #[allow(clippy::too_many_arguments)]
    pub(in crate::sandbox) async fn add_conversation_message(
        &self,
        conversation_sid: &str,
        sid: &str,
        author: &str,
        body: &str,
        attributes: &str,
        participant_sid: Option<&str>,
        media: &[Item],
    ) -> EmulatorResult<Value> {
        let next: u64 = redis::cmd("INCR")
            .arg(self.keys().message_index(conversation_sid))
            .query_async(&mut self.conn())
            .await?;
        let index = next - 1;
        let mut message = self.conversation_message(
            conversation_sid,
            sid,
            index,
            author,
            body,
            attributes,
            participant_sid,
            now(),
        );
        message["media"] = message_media(media);
        redis::cmd("ZADD")
            .arg(self.keys().messages(conversation_sid))
            .arg(index)
            .arg(message.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(message)
    }

    pub(in crate::sandbox) async fn conversation_messages(
        &self,
        conversation_sid: &str,
        newest_first: bool,
        offset: usize,
        limit: usize,
    ) -> EmulatorResult<Slice> {
        let command = if newest_first { "ZREVRANGE" } else { "ZRANGE" };
        let values: Vec<String> = redis::cmd(command)
            .arg(self.keys().messages(conversation_sid))
            .arg(offset)
            .arg(offset + limit)
            .query_async(&mut self.conn())
            .await?;
        let more = values.len() > limit;
        let items = values
            .iter()
            .take(limit)
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect();
        Ok(Slice { items, more })
    }

    // ----- webhook configuration -----------------------------------------------------------------

    pub(in crate::sandbox) async fn stored_webhook_configuration(
        &self,
    ) -> EmulatorResult<Option<Value>> {
        let json: Option<String> = redis::cmd("GET")
            .arg(self.keys().webhook_configuration())
            .query_async(&mut self.conn())
            .await?;
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Sets the account's Conversations webhooks without a REST call (sandbox start-up).
    pub async fn configure_webhooks_directly(&self, configuration: &Value) -> EmulatorResult<()> {
        self.store_webhook_configuration(configuration).await
    }

    pub(in crate::sandbox) async fn store_webhook_configuration(
        &self,
        configuration: &Value,
    ) -> EmulatorResult<()> {
        redis::cmd("SET")
            .arg(self.keys().webhook_configuration())
            .arg(configuration.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }
}
