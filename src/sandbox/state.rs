//! The emulated account's resources in Redis, and the rules Twilio enforces on them.
//!
//! Rules that must hold across instances (one binding per address and proxy, 50 SMS participants,
//! unique names, numbers sold once) are checked and applied in one Lua script or one atomic
//! command, never as a read followed by a write.

use std::sync::LazyLock;

use redis::Script;
use redis::aio::ConnectionManager;
use serde_json::{Value, json};

use super::resources::{ConversationFields, new_sid, now};
use super::{Emulator, MAX_SMS_PARTICIPANTS, MUTATIONS_PER_SECOND};
use crate::store::StoreError;

/// Area code of the number the sandbox Messaging Service sends from (+1 555 555 01xx).
const SERVICE_SENDER_AREA_CODE: &str = "555";

/// A Twilio error answer: `{code, message, more_info, status}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

impl Fault {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(path: &str) -> Self {
        Self::new(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    #[error("{}: {}", .0.code, .0.message)]
    Twilio(Fault),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Fault> for EmuError {
    fn from(fault: Fault) -> Self {
        Self::Twilio(fault)
    }
}

impl From<redis::RedisError> for EmuError {
    fn from(error: redis::RedisError) -> Self {
        Self::Store(error.into())
    }
}

pub type EmuResult<T> = Result<T, EmuError>;

/// One page of a list: the items, and whether more follow.
pub struct Slice {
    pub items: Vec<Value>,
    pub more: bool,
}

/// Adds an SMS participant if Twilio would: conversation open, pair unbound, fewer than 50.
static ADD_PARTICIPANT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local conversation = redis.call('HGET', KEYS[1], ARGV[1])
if not conversation then return {'missing'} end
if cjson.decode(conversation)['state'] == 'closed' then return {'closed'} end
local bound = redis.call('HGET', KEYS[2], ARGV[2])
if bound then
  local other = string.sub(bound, 1, 34)
  if other == ARGV[1] then return {'duplicate', other} end
  return {'bound', other}
end
if redis.call('SCARD', KEYS[4]) >= tonumber(ARGV[5]) then return {'full'} end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1] .. '|' .. ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[3])
return {'ok'}",
    )
});

/// Replaces a conversation, refusing changes to a closed one; closing releases its bindings.
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

/// Removes a participant and releases its binding.
static REMOVE_PARTICIPANT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local participant = redis.call('HGET', KEYS[1], ARGV[1])
if not participant then return 0 end
local binding = cjson.decode(participant)['messaging_binding']
if type(binding) == 'table' and binding['address'] then
  local key = binding['address'] .. '|' .. binding['proxy_address']
  local bound = redis.call('HGET', KEYS[3], key)
  if bound and string.sub(bound, 36) == ARGV[1] then redis.call('HDEL', KEYS[3], key) end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1",
    )
});

impl Emulator {
    fn conn(&self) -> ConnectionManager {
        self.store().connection()
    }

    /// A number that orders creations across instances.
    async fn next_sequence(&self) -> EmuResult<f64> {
        let n: u64 = redis::cmd("INCR")
            .arg(self.keys().sequence())
            .query_async(&mut self.conn())
            .await?;
        Ok(n as f64)
    }

    async fn hget_json(&self, key: &str, field: &str) -> EmuResult<Option<Value>> {
        Ok(self.store().hget_json(key, field).await?)
    }

    async fn hset_json(&self, key: &str, field: &str, value: &Value) -> EmuResult<()> {
        redis::cmd("HSET")
            .arg(key)
            .arg(field)
            .arg(value.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Members of a sorted set in order, resolved through a hash of JSON, one page at a time.
    async fn ordered_page(
        &self,
        order_key: &str,
        hash_key: &str,
        offset: usize,
        limit: usize,
    ) -> EmuResult<Slice> {
        let sids: Vec<String> = redis::cmd("ZRANGE")
            .arg(order_key)
            .arg(offset)
            .arg(offset + limit)
            .query_async(&mut self.conn())
            .await?;
        let more = sids.len() > limit;
        let sids = &sids[..sids.len().min(limit)];
        if sids.is_empty() {
            return Ok(Slice {
                items: Vec::new(),
                more: false,
            });
        }
        let values: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(hash_key)
            .arg(sids)
            .query_async(&mut self.conn())
            .await?;
        let items = values
            .into_iter()
            .flatten()
            .filter_map(|json| serde_json::from_str(&json).ok())
            .collect();
        Ok(Slice { items, more })
    }

    // ----- phone numbers -------------------------------------------------------------------------

    /// The deterministic pool of an area code: +1 AAA 555 0100 to 0199, minus numbers sold.
    pub(super) async fn available_numbers(
        &self,
        area_code: &str,
        limit: usize,
    ) -> EmuResult<Vec<String>> {
        let pool: Vec<String> = (0..100)
            .map(|n| format!("+1{area_code}55501{n:02}"))
            .collect();
        let owned: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.keys().number_by_phone())
            .arg(&pool)
            .query_async(&mut self.conn())
            .await?;
        Ok(pool
            .into_iter()
            .zip(owned)
            .filter(|(_, owner)| owner.is_none())
            .map(|(phone, _)| phone)
            .take(limit)
            .collect())
    }

    pub(super) async fn buy_number(
        &self,
        phone: &str,
        friendly_name: Option<&str>,
        sms_url: &str,
    ) -> EmuResult<Value> {
        let in_pool = phone.len() == 12
            && phone.starts_with("+1")
            && phone[5..10] == *"55501"
            && phone[2..].bytes().all(|b| b.is_ascii_digit());
        if !in_pool {
            return Err(Fault::new(400, 21422, "PhoneNumber requested is not available").into());
        }
        let sid = new_sid("PN");
        let claimed: bool = redis::cmd("HSETNX")
            .arg(self.keys().number_by_phone())
            .arg(phone)
            .arg(&sid)
            .query_async(&mut self.conn())
            .await?;
        if !claimed {
            return Err(Fault::new(400, 21422, "PhoneNumber requested is not available").into());
        }
        let number =
            self.incoming_number(&sid, phone, friendly_name.unwrap_or(phone), sms_url, now());
        self.hset_json(&self.keys().numbers(), &sid, &number)
            .await?;
        let sequence = self.next_sequence().await?;
        redis::cmd("ZADD")
            .arg(self.numbers_order())
            .arg(sequence)
            .arg(&sid)
            .query_async::<()>(&mut self.conn())
            .await?;
        self.publish(&json!({"type": "numbers"})).await;
        Ok(number)
    }

    fn numbers_order(&self) -> String {
        format!("{}:order", self.keys().numbers())
    }

    pub(super) async fn numbers(&self, offset: usize, limit: usize) -> EmuResult<Slice> {
        self.ordered_page(&self.numbers_order(), &self.keys().numbers(), offset, limit)
            .await
    }

    pub(super) async fn number(&self, sid: &str) -> EmuResult<Option<Value>> {
        self.hget_json(&self.keys().numbers(), sid).await
    }

    pub(super) async fn number_by_phone(&self, phone: &str) -> EmuResult<Option<Value>> {
        let sid: Option<String> = redis::cmd("HGET")
            .arg(self.keys().number_by_phone())
            .arg(phone)
            .query_async(&mut self.conn())
            .await?;
        match sid {
            Some(sid) => self.number(&sid).await,
            None => Ok(None),
        }
    }

    pub(super) async fn save_number(&self, number: &Value) -> EmuResult<()> {
        let sid = number["sid"].as_str().unwrap_or_default();
        self.hset_json(&self.keys().numbers(), sid, number).await?;
        self.publish(&json!({"type": "numbers"})).await;
        Ok(())
    }

    pub(super) async fn release_number(&self, sid: &str) -> EmuResult<bool> {
        let Some(number) = self.number(sid).await? else {
            return Ok(false);
        };
        let phone = number["phone_number"].as_str().unwrap_or_default();
        let service: Option<String> = redis::cmd("HGET")
            .arg(self.keys().number_service())
            .arg(sid)
            .query_async(&mut self.conn())
            .await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hdel(self.keys().numbers(), sid)
            .zrem(self.numbers_order(), sid)
            .hdel(self.keys().number_by_phone(), phone)
            .hdel(self.keys().number_service(), sid);
        if let Some(service) = service {
            pipe.hdel(self.keys().service_numbers(&service), sid);
        }
        pipe.query_async::<()>(&mut self.conn()).await?;
        self.publish(&json!({"type": "numbers"})).await;
        Ok(true)
    }

    // ----- messaging services --------------------------------------------------------------------

    /// Creates the sandbox's default Messaging Service unless it exists.
    pub async fn ensure_messaging_service(&self, sid: &str, friendly_name: &str) -> EmuResult<()> {
        let service = self.messaging_service(sid, friendly_name, None, now());
        let created: bool = redis::cmd("HSETNX")
            .arg(self.keys().services())
            .arg(sid)
            .arg(service.to_string())
            .query_async(&mut self.conn())
            .await?;
        if created {
            redis::cmd("ZADD")
                .arg(self.services_order())
                .arg(0)
                .arg(sid)
                .query_async::<()>(&mut self.conn())
                .await?;
        }
        self.ensure_service_sender(sid).await
    }

    /// Gives the Messaging Service a number of its own unless it has one: like Twilio (21704), it
    /// cannot send without one, and texts that belong to no neighborhood (an admin's sign-in code
    /// before the first neighborhood exists) go from it.
    async fn ensure_service_sender(&self, sid: &str) -> EmuResult<()> {
        if !self.service_numbers(sid).await?.is_empty() {
            return Ok(());
        }
        let Some(phone) = self
            .available_numbers(SERVICE_SENDER_AREA_CODE, 1)
            .await?
            .pop()
        else {
            return Ok(());
        };
        let number = self
            .buy_number(&phone, Some("neighborhood-text sandbox sender"), "")
            .await?;
        let number_sid = number["sid"].as_str().unwrap_or_default().to_owned();
        self.add_service_number(sid, &number_sid).await?;
        Ok(())
    }

    fn services_order(&self) -> String {
        format!("{}:order", self.keys().services())
    }

    pub(super) async fn create_service(
        &self,
        friendly_name: &str,
        inbound_request_url: Option<&str>,
    ) -> EmuResult<Value> {
        let sid = new_sid("MG");
        let service = self.messaging_service(&sid, friendly_name, inbound_request_url, now());
        self.hset_json(&self.keys().services(), &sid, &service)
            .await?;
        let sequence = self.next_sequence().await?;
        redis::cmd("ZADD")
            .arg(self.services_order())
            .arg(sequence)
            .arg(&sid)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(service)
    }

    pub(super) async fn services(&self, offset: usize, limit: usize) -> EmuResult<Slice> {
        self.ordered_page(
            &self.services_order(),
            &self.keys().services(),
            offset,
            limit,
        )
        .await
    }

    pub(super) async fn service(&self, sid: &str) -> EmuResult<Option<Value>> {
        self.hget_json(&self.keys().services(), sid).await
    }

    pub(super) async fn add_service_number(
        &self,
        service_sid: &str,
        number_sid: &str,
    ) -> EmuResult<Value> {
        let Some(number) = self.number(number_sid).await? else {
            return Err(
                Fault::new(404, 21452, format!("Phone Number {number_sid} not found")).into(),
            );
        };
        let claimed: bool = redis::cmd("HSETNX")
            .arg(self.keys().number_service())
            .arg(number_sid)
            .arg(service_sid)
            .query_async(&mut self.conn())
            .await?;
        if !claimed {
            let current: Option<String> = redis::cmd("HGET")
                .arg(self.keys().number_service())
                .arg(number_sid)
                .query_async(&mut self.conn())
                .await?;
            return Err(if current.as_deref() == Some(service_sid) {
                Fault::new(
                    409,
                    21710,
                    "Phone Number or Short Code is already in the Messaging Service.",
                )
            } else {
                Fault::new(
                    409,
                    21712,
                    "This Phone Number is already associated with another Messaging Service.",
                )
            }
            .into());
        }
        let phone = number["phone_number"].as_str().unwrap_or_default();
        let entry = self.service_number(service_sid, number_sid, phone, now());
        self.hset_json(
            &self.keys().service_numbers(service_sid),
            number_sid,
            &entry,
        )
        .await?;
        Ok(entry)
    }

    pub(super) async fn service_numbers(&self, service_sid: &str) -> EmuResult<Vec<Value>> {
        let mut items: Vec<Value> = self
            .store()
            .hvals_json(&self.keys().service_numbers(service_sid))
            .await?;
        items.sort_by(|a, b| a["date_created"].as_str().cmp(&b["date_created"].as_str()));
        Ok(items)
    }

    pub(super) async fn service_number_entry(
        &self,
        service_sid: &str,
        number_sid: &str,
    ) -> EmuResult<Option<Value>> {
        self.hget_json(&self.keys().service_numbers(service_sid), number_sid)
            .await
    }

    pub(super) async fn remove_service_number(
        &self,
        service_sid: &str,
        number_sid: &str,
    ) -> EmuResult<bool> {
        let removed: u32 = redis::cmd("HDEL")
            .arg(self.keys().service_numbers(service_sid))
            .arg(number_sid)
            .query_async(&mut self.conn())
            .await?;
        redis::cmd("HDEL")
            .arg(self.keys().number_service())
            .arg(number_sid)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(removed == 1)
    }

    /// The Messaging Service a number belongs to, if any.
    pub(super) async fn service_of_number(&self, number_sid: &str) -> EmuResult<Option<String>> {
        Ok(redis::cmd("HGET")
            .arg(self.keys().number_service())
            .arg(number_sid)
            .query_async(&mut self.conn())
            .await?)
    }

    // ----- conversations -------------------------------------------------------------------------

    /// Refuses the 31st mutation of a conversation within one second, like Twilio's APS limit.
    pub(super) async fn count_mutation(&self, conversation_sid: &str) -> EmuResult<()> {
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
            return Err(Fault::new(429, 20429, "Too Many Requests").into());
        }
        Ok(())
    }

    pub(super) async fn create_conversation(
        &self,
        fields: &ConversationFields,
    ) -> EmuResult<Value> {
        let sid = new_sid("CH");
        if let Some(unique_name) = &fields.unique_name {
            let claimed: bool = redis::cmd("HSETNX")
                .arg(self.keys().conversation_by_unique_name())
                .arg(unique_name)
                .arg(&sid)
                .query_async(&mut self.conn())
                .await?;
            if !claimed {
                return Err(Fault::new(
                    409,
                    50353,
                    "Conversation with provided unique name already exists",
                )
                .into());
            }
        }
        let conversation = self.conversation(&sid, fields, now());
        self.hset_json(&self.keys().conversations(), &sid, &conversation)
            .await?;
        let sequence = self.next_sequence().await?;
        redis::cmd("ZADD")
            .arg(self.keys().conversation_order())
            .arg(sequence)
            .arg(&sid)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(conversation)
    }

    /// By SID or unique name, as Twilio allows in the path.
    pub(super) async fn find_conversation(
        &self,
        sid_or_unique_name: &str,
    ) -> EmuResult<Option<Value>> {
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

    pub(super) async fn conversations(&self, offset: usize, limit: usize) -> EmuResult<Slice> {
        self.ordered_page(
            &self.keys().conversation_order(),
            &self.keys().conversations(),
            offset,
            limit,
        )
        .await
    }

    /// Stores the updated conversation; `Ok(false)` when it was closed already.
    pub(super) async fn replace_conversation(
        &self,
        updated: &Value,
        old_unique_name: Option<&str>,
    ) -> EmuResult<bool> {
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
                return Err(Fault::new(
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
            "missing" => Err(Fault::not_found(&format!("/Conversations/{sid}")).into()),
            _ => Ok(false),
        }
    }

    pub(super) async fn delete_conversation(&self, conversation: &Value) -> EmuResult<()> {
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

    // ----- participants --------------------------------------------------------------------------

    pub(super) async fn add_sms_participant(
        &self,
        conversation_sid: &str,
        address: &str,
        proxy_address: &str,
        attributes: &str,
    ) -> EmuResult<Value> {
        let sid = new_sid("MB");
        let participant = self.participant(
            conversation_sid,
            &sid,
            address,
            proxy_address,
            attributes,
            now(),
        );
        let sequence = self.next_sequence().await?;
        let outcome: Vec<String> = ADD_PARTICIPANT
            .key(self.keys().conversations())
            .key(self.keys().bindings())
            .key(self.keys().participants(conversation_sid))
            .key(self.keys().sms_participants(conversation_sid))
            .key(self.keys().participant_order(conversation_sid))
            .arg(conversation_sid)
            .arg(format!("{address}|{proxy_address}"))
            .arg(&sid)
            .arg(participant.to_string())
            .arg(MAX_SMS_PARTICIPANTS)
            .arg(sequence)
            .invoke_async(&mut self.conn())
            .await?;
        let other = outcome.get(1).cloned().unwrap_or_default();
        match outcome.first().map(String::as_str) {
            Some("ok") => Ok(participant),
            Some("missing") => Err(Fault::not_found(&format!("/Conversations/{conversation_sid}")).into()),
            Some("closed") => Err(Fault::new(400, 50377, "Conversation is in a final state (closed) and cannot be updated").into()),
            Some("duplicate") => Err(Fault::new(409, 50437, "Group Participant already exists: this address and proxy address are in this Conversation").into()),
            Some("bound") => Err(Fault::new(
                409,
                50416,
                format!("A binding for this participant and proxy address already exists in Conversation {other}"),
            )
            .into()),
            _ => Err(Fault::new(400, 50422, "Non-chat participants limit exceeded: a Conversation holds at most 50 SMS participants").into()),
        }
    }

    pub(super) async fn participant_entry(
        &self,
        conversation_sid: &str,
        sid: &str,
    ) -> EmuResult<Option<Value>> {
        self.hget_json(&self.keys().participants(conversation_sid), sid)
            .await
    }

    pub(super) async fn participants(
        &self,
        conversation_sid: &str,
        offset: usize,
        limit: usize,
    ) -> EmuResult<Slice> {
        self.ordered_page(
            &self.keys().participant_order(conversation_sid),
            &self.keys().participants(conversation_sid),
            offset,
            limit,
        )
        .await
    }

    /// Every participant of a conversation (for delivering a message to all of them).
    pub(super) async fn all_participants(&self, conversation_sid: &str) -> EmuResult<Vec<Value>> {
        Ok(self
            .store()
            .hvals_json(&self.keys().participants(conversation_sid))
            .await?)
    }

    pub(super) async fn remove_participant(
        &self,
        conversation_sid: &str,
        sid: &str,
    ) -> EmuResult<bool> {
        let removed: u32 = REMOVE_PARTICIPANT
            .key(self.keys().participants(conversation_sid))
            .key(self.keys().sms_participants(conversation_sid))
            .key(self.keys().bindings())
            .key(self.keys().participant_order(conversation_sid))
            .arg(sid)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(removed == 1)
    }

    /// The conversation and participant an (address, proxy) pair is bound to, if any.
    pub(super) async fn binding(
        &self,
        address: &str,
        proxy_address: &str,
    ) -> EmuResult<Option<(String, String)>> {
        let bound: Option<String> = redis::cmd("HGET")
            .arg(self.keys().bindings())
            .arg(format!("{address}|{proxy_address}"))
            .query_async(&mut self.conn())
            .await?;
        Ok(bound.and_then(|bound| {
            bound
                .split_once('|')
                .map(|(c, p)| (c.to_owned(), p.to_owned()))
        }))
    }

    /// Every (conversation, participant) an address is bound in.
    pub(super) async fn bindings_of(&self, address: &str) -> EmuResult<Vec<(String, String)>> {
        let mut cursor = 0u64;
        let mut found = Vec::new();
        let pattern = format!("{}|*", address.replace(['*', '?', '[', ']', '\\'], ""));
        loop {
            let (next, pairs): (u64, Vec<(String, String)>) = redis::cmd("HSCAN")
                .arg(self.keys().bindings())
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut self.conn())
                .await?;
            found.extend(pairs.into_iter().filter_map(|(_, bound)| {
                bound
                    .split_once('|')
                    .map(|(c, p)| (c.to_owned(), p.to_owned()))
            }));
            if next == 0 {
                return Ok(found);
            }
            cursor = next;
        }
    }

    // ----- conversation messages -----------------------------------------------------------------

    pub(super) async fn add_conversation_message(
        &self,
        conversation_sid: &str,
        author: &str,
        body: &str,
        attributes: &str,
        participant_sid: Option<&str>,
    ) -> EmuResult<Value> {
        let next: u64 = redis::cmd("INCR")
            .arg(self.keys().message_index(conversation_sid))
            .query_async(&mut self.conn())
            .await?;
        let index = next - 1;
        let message = self.conversation_message(
            conversation_sid,
            &new_sid("IM"),
            index,
            author,
            body,
            attributes,
            participant_sid,
            now(),
        );
        redis::cmd("ZADD")
            .arg(self.keys().messages(conversation_sid))
            .arg(index)
            .arg(message.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(message)
    }

    pub(super) async fn conversation_messages(
        &self,
        conversation_sid: &str,
        newest_first: bool,
        offset: usize,
        limit: usize,
    ) -> EmuResult<Slice> {
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

    // ----- webhooks, opt-outs ----------------------------------------------------------------------

    pub(super) async fn stored_webhook_configuration(&self) -> EmuResult<Option<Value>> {
        let json: Option<String> = redis::cmd("GET")
            .arg(self.keys().webhook_configuration())
            .query_async(&mut self.conn())
            .await?;
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Sets the account's Conversations webhooks without a REST call (sandbox start-up).
    pub async fn configure_webhooks_directly(&self, configuration: &Value) -> EmuResult<()> {
        self.store_webhook_configuration(configuration).await
    }

    pub(super) async fn store_webhook_configuration(&self, configuration: &Value) -> EmuResult<()> {
        redis::cmd("SET")
            .arg(self.keys().webhook_configuration())
            .arg(configuration.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    pub(super) async fn set_opted_out(
        &self,
        scope_sid: &str,
        phone: &str,
        opted_out: bool,
    ) -> EmuResult<()> {
        let command = if opted_out { "SADD" } else { "SREM" };
        redis::cmd(command)
            .arg(self.keys().opted_out(scope_sid))
            .arg(phone)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    pub(super) async fn is_opted_out(&self, scope_sid: &str, phone: &str) -> EmuResult<bool> {
        Ok(redis::cmd("SISMEMBER")
            .arg(self.keys().opted_out(scope_sid))
            .arg(phone)
            .query_async(&mut self.conn())
            .await?)
    }

    // ----- v2010 messages, phones ------------------------------------------------------------------

    pub(super) async fn save_sms_message(&self, message: &Value) -> EmuResult<()> {
        let sid = message["sid"].as_str().unwrap_or_default();
        self.hset_json(&self.keys().sms_messages(), sid, message)
            .await?;
        let sequence = self.next_sequence().await?;
        redis::cmd("ZADD")
            .arg(self.keys().sms_message_order())
            .arg(sequence)
            .arg(sid)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    pub(super) async fn sms_messages(&self, offset: usize, limit: usize) -> EmuResult<Slice> {
        self.ordered_page(
            &self.keys().sms_message_order(),
            &self.keys().sms_messages(),
            offset,
            limit,
        )
        .await
    }

    pub(super) async fn sms_message_entry(&self, sid: &str) -> EmuResult<Option<Value>> {
        self.hget_json(&self.keys().sms_messages(), sid).await
    }

    /// Remembers a simulated phone (NX: its first appearance keeps its place).
    pub(super) async fn touch_phone(&self, phone: &str) -> EmuResult<()> {
        let sequence = self.next_sequence().await?;
        redis::cmd("ZADD")
            .arg(self.keys().phones())
            .arg("NX")
            .arg(sequence)
            .arg(phone)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Puts a text in a simulated phone's inbox and tells live pages.
    pub(super) async fn deliver_to_inbox(&self, phone: &str, item: &Value) -> EmuResult<()> {
        self.touch_phone(phone).await?;
        redis::cmd("RPUSH")
            .arg(self.keys().inbox(phone))
            .arg(item.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        self.publish(&json!({"type": "delivered", "phone": phone, "message": item}))
            .await;
        Ok(())
    }

    pub(super) async fn phones(&self) -> EmuResult<Vec<String>> {
        Ok(redis::cmd("ZRANGE")
            .arg(self.keys().phones())
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await?)
    }

    pub(super) async fn inbox(&self, phone: &str) -> EmuResult<Vec<Value>> {
        let values: Vec<String> = redis::cmd("LRANGE")
            .arg(self.keys().inbox(phone))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await?;
        Ok(values
            .iter()
            .filter_map(|json| serde_json::from_str(json).ok())
            .collect())
    }

    /// Publishes a live event; losing one only delays a page's refresh, so errors are logged.
    pub(super) async fn publish(&self, event: &Value) {
        let result = redis::cmd("PUBLISH")
            .arg(self.keys().events_channel())
            .arg(event.to_string())
            .query_async::<()>(&mut self.conn())
            .await;
        if let Err(error) = result {
            tracing::debug!(%error, "sandbox event not published");
        }
    }

    pub(super) async fn faults(&self) -> EmuResult<super::Faults> {
        let json: Option<String> = redis::cmd("GET")
            .arg(self.keys().faults())
            .query_async(&mut self.conn())
            .await?;
        Ok(self.parse_faults(json))
    }

    fn parse_faults(&self, json: Option<String>) -> super::Faults {
        json.and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or(self.config().faults)
    }

    /// Counts one REST call under its operation and reads the faults in force, in one round trip.
    pub(super) async fn count_request(&self, operation: &str) -> EmuResult<super::Faults> {
        let (json,): (Option<String>,) = redis::pipe()
            .hincr(self.keys().requests(), operation, 1)
            .ignore()
            .get(self.keys().faults())
            .query_async(&mut self.conn())
            .await?;
        Ok(self.parse_faults(json))
    }

    /// The REST calls received by operation; `reset` clears them in the same step.
    pub(super) async fn request_counts(
        &self,
        reset: bool,
    ) -> EmuResult<std::collections::BTreeMap<String, u64>> {
        let key = self.keys().requests();
        let mut pipe = redis::pipe();
        pipe.atomic().hgetall(&key);
        if reset {
            pipe.del(&key).ignore();
        }
        let (counts,): (std::collections::BTreeMap<String, u64>,) =
            pipe.query_async(&mut self.conn()).await?;
        Ok(counts)
    }

    pub(super) async fn set_faults(&self, faults: &super::Faults) -> EmuResult<()> {
        redis::cmd("SET")
            .arg(self.keys().faults())
            .arg(json!(faults).to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }
}
