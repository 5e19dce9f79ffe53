//! Participants of Conversations and the (address, proxy address) bindings Twilio keeps unique.

use std::sync::LazyLock;

use redis::Script;
use serde_json::Value;

use super::{EmulatorResult, ErrorAnswer, Slice};
use crate::sandbox::resources::{new_sid, now};
use crate::sandbox::{Emulator, MAX_SMS_PARTICIPANTS};

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
    pub(in crate::sandbox) async fn add_sms_participant(
        &self,
        conversation_sid: &str,
        address: &str,
        proxy_address: &str,
        attributes: &str,
    ) -> EmulatorResult<Value> {
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
            Some("missing") => Err(ErrorAnswer::not_found(&format!("/Conversations/{conversation_sid}")).into()),
            Some("closed") => Err(ErrorAnswer::new(400, 50377, "Conversation is in a final state (closed) and cannot be updated").into()),
            Some("duplicate") => Err(ErrorAnswer::new(409, 50437, "Group Participant already exists: this address and proxy address are in this Conversation").into()),
            Some("bound") => Err(ErrorAnswer::new(
                409,
                50416,
                format!("A binding for this participant and proxy address already exists in Conversation {other}"),
            )
            .into()),
            _ => Err(ErrorAnswer::new(400, 50422, "Non-chat participants limit exceeded: a Conversation holds at most 50 SMS participants").into()),
        }
    }

    pub(in crate::sandbox) async fn participant_entry(
        &self,
        conversation_sid: &str,
        sid: &str,
    ) -> EmulatorResult<Option<Value>> {
        self.hget_json(&self.keys().participants(conversation_sid), sid)
            .await
    }

    pub(in crate::sandbox) async fn participants(
        &self,
        conversation_sid: &str,
        offset: usize,
        limit: usize,
    ) -> EmulatorResult<Slice> {
        self.ordered_page(
            &self.keys().participant_order(conversation_sid),
            &self.keys().participants(conversation_sid),
            offset,
            limit,
        )
        .await
    }

    /// Every participant of a conversation (for delivering a message to all of them).
    pub(in crate::sandbox) async fn all_participants(
        &self,
        conversation_sid: &str,
    ) -> EmulatorResult<Vec<Value>> {
        Ok(self
            .store()
            .hvals_json(&self.keys().participants(conversation_sid))
            .await?)
    }

    pub(in crate::sandbox) async fn remove_participant(
        &self,
        conversation_sid: &str,
        sid: &str,
    ) -> EmulatorResult<bool> {
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
    pub(in crate::sandbox) async fn binding(
        &self,
        address: &str,
        proxy_address: &str,
    ) -> EmulatorResult<Option<(String, String)>> {
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
    pub(in crate::sandbox) async fn bindings_of(
        &self,
        address: &str,
    ) -> EmulatorResult<Vec<(String, String)>> {
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
}
