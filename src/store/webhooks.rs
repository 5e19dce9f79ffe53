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

/// How long an instance holds a delivery it is acting on. Long past any webhook's work; if the
/// instance dies meanwhile, a repeat after it is acted on.
pub const CLAIM_LEASE: Duration = Duration::from_secs(30);

/// A delivery's marks hold `1` once it was acted on (as [`Store::first_delivery`] sets them) or
/// `claim:<id>` while an instance acts on it. A repeat of the instance's own claim (a lost
/// answer, retried) finds it its own.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local busy = false
for _, key in ipairs(KEYS) do
  local held = redis.call('GET', key)
  if held and held ~= ARGV[1] then
    if string.sub(held, 1, 6) ~= 'claim:' then return 'done' end
    busy = true
  end
end
if busy then return 'busy' end
for _, key in ipairs(KEYS) do redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) end
return 'first'",
    )
});

static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for _, key in ipairs(KEYS) do redis.call('SET', key, '1', 'PX', ARGV[1]) end
return 1",
    )
});

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 1",
    )
});

/// What a webhook delivery is, as its marks say.
#[derive(Debug)]
pub enum Delivery {
    /// Not acted on yet, and now held by this caller: act, then [`Store::finish_delivery`], or
    /// [`Store::release_delivery`] when acting failed.
    First(Claim),
    /// Acted on already: a repeat.
    Done,
    /// Another request (or instance) is acting on it right now.
    InProgress,
}

/// A delivery held by one caller while it acts on it.
#[derive(Debug)]
pub struct Claim {
    marks: Vec<String>,
    holder: String,
}

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
        let neighborhood_key = self.keys.neighborhood(neighborhood_id);
        let member = if member.is_empty() {
            None
        } else {
            Some(self.decode_member(neighborhood_id, member).await?)
        };
        Ok(MessageContext {
            first_delivery: first == 1,
            member,
            neighborhood: (!neighborhood.is_empty())
                .then(|| decode(&neighborhood_key, &neighborhood))
                .transpose()?,
        })
    }

    /// Claims a webhook delivery named by one or more marks (the idempotency token Twilio sent,
    /// the message's sid: Twilio repeats some deliveries with a new token): it is a repeat if any
    /// mark says it was acted on, in progress if another caller holds one.
    pub async fn claim_delivery(
        &self,
        neighborhood_id: Uuid,
        marks: &[String],
    ) -> Result<Delivery, StoreError> {
        let keys: Vec<String> = marks
            .iter()
            .map(|mark| self.keys.webhook_delivery(neighborhood_id, mark))
            .collect();
        let holder = format!("claim:{}", Uuid::new_v4().simple());
        let outcome: String = self
            .retrying_once(|mut conn| {
                let (keys, holder) = (&keys, &holder);
                async move {
                    let mut invocation = CLAIM.prepare_invoke();
                    for key in keys {
                        invocation.key(key);
                    }
                    invocation
                        .arg(holder)
                        .arg(CLAIM_LEASE.as_millis() as u64)
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(match outcome.as_str() {
            "first" => Delivery::First(Claim {
                marks: keys,
                holder,
            }),
            "busy" => Delivery::InProgress,
            _ => Delivery::Done,
        })
    }

    /// Marks a claimed delivery acted on, for [`DELIVERY_MEMORY`].
    pub async fn finish_delivery(&self, claim: &Claim) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            let mut invocation = FINISH.prepare_invoke();
            for key in &claim.marks {
                invocation.key(key);
            }
            invocation
                .arg(DELIVERY_MEMORY.as_millis() as u64)
                .invoke_async::<i64>(&mut conn)
                .await
        })
        .await
        .map(drop)
    }

    /// Lets a claimed delivery go unacted, so a repeat acts on it. If this fails too, the claim
    /// ends with its lease.
    pub async fn release_delivery(&self, claim: &Claim) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            let mut invocation = RELEASE.prepare_invoke();
            for key in &claim.marks {
                invocation.key(key);
            }
            invocation
                .arg(&claim.holder)
                .invoke_async::<i64>(&mut conn)
                .await
        })
        .await
        .map(drop)
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
