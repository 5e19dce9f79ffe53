//! What the pre-event webhook needs about one message, read in one round trip: whether this
//! delivery is new, the author's member record and the neighborhood's settings.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError, decode};
use crate::domain::member::Member;
use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;

/// How long a webhook delivery is remembered: Twilio's retries come within minutes.
pub const DELIVERY_MEMORY: Duration = Duration::from_secs(24 * 3600);

static MESSAGE_CONTEXT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local first = 1
if ARGV[2] ~= '' then
  if not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[3]) then first = 0 end
end
local member = ''
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then member = redis.call('HGET', KEYS[2], id) or '' end
return {first, member, redis.call('GET', KEYS[3]) or ''}",
    )
});

/// One message's context.
#[derive(Debug, Clone)]
pub struct MessageContext {
    /// False when this delivery (idempotency token) was handled before: act on nothing again.
    pub first_delivery: bool,
    /// The author's member record in this neighborhood, in any status.
    pub member: Option<Member>,
    pub neighborhood: Option<Neighborhood>,
}

impl Store {
    /// The context of a message `author` sent to a neighborhood's Conversation; `delivery` is
    /// Twilio's idempotency token, when it sent one.
    pub async fn message_context(
        &self,
        neighborhood_id: Uuid,
        author: &Phone,
        delivery: Option<&str>,
    ) -> Result<MessageContext, StoreError> {
        let delivery_key = self
            .keys
            .webhook_delivery(neighborhood_id, delivery.unwrap_or("none"));
        let mut conn = self.connection();
        // Not retried: a repeat would find its own delivery mark and act on nothing.
        let (first, member, neighborhood): (i64, String, String) = MESSAGE_CONTEXT
            .key(self.keys.member_phones(neighborhood_id))
            .key(self.keys.members(neighborhood_id))
            .key(self.keys.neighborhood(neighborhood_id))
            .key(delivery_key)
            .arg(author.as_str())
            .arg(delivery.unwrap_or_default())
            .arg(DELIVERY_MEMORY.as_millis() as u64)
            .invoke_async(&mut conn)
            .await?;
        let members_key = self.keys.members(neighborhood_id);
        let neighborhood_key = self.keys.neighborhood(neighborhood_id);
        Ok(MessageContext {
            first_delivery: first == 1,
            member: (!member.is_empty())
                .then(|| decode(&members_key, &member))
                .transpose()?,
            neighborhood: (!neighborhood.is_empty())
                .then(|| decode(&neighborhood_key, &neighborhood))
                .transpose()?,
        })
    }

    /// Marks a webhook delivery handled; false when it was already (a retry: do nothing again).
    pub async fn first_delivery(
        &self,
        neighborhood_id: Uuid,
        token: &str,
    ) -> Result<bool, StoreError> {
        let key = self.keys.webhook_delivery(neighborhood_id, token);
        let mut conn = self.connection();
        let set: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(DELIVERY_MEMORY.as_millis() as u64)
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }
}
