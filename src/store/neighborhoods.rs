//! Neighborhood records, their indexes, and the claims that keep numbers and links unique.
//!
//! Creating a neighborhood takes minutes of Twilio calls, so the slug and number are first
//! *claimed* with a TTL (a crashed provisioning frees them again), then made permanent together
//! with the index entry once the record is stored.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError, UpdateError, decode, encode};
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState, Slug};
use crate::domain::phone::Phone;

/// How long a claim survives if provisioning never finishes.
pub const PROVISIONING_CLAIM_TTL: Duration = Duration::from_secs(15 * 60);

/// Set the claim when it is free or already ours, so a retried claim is not refused by itself.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1",
    )
});

/// Drop the claim only when it is ours.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1",
    )
});

/// Make both claims permanent and list the neighborhood, or change nothing if a claim was lost.
static COMMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1",
    )
});

/// Replace the record only if nobody changed it since we read it.
static COMPARE_AND_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if cjson.decode(current)['version'] ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1",
    )
});

/// Move an archived neighborhood to the archived index and free its number.
static ARCHIVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 1",
    )
});

impl Store {
    /// Claims `slug` for `id`; false when another neighborhood holds it.
    pub async fn claim_slug(&self, slug: &Slug, id: Uuid) -> Result<bool, StoreError> {
        self.claim(self.keys.slug_claim(slug), id).await
    }

    /// Claims `number` for `id`; false when another neighborhood holds it.
    pub async fn claim_number(&self, number: &Phone, id: Uuid) -> Result<bool, StoreError> {
        self.claim(self.keys.number_claim(number), id).await
    }

    /// Claims the WhatsApp sender `sender` for `id`; false when another neighborhood holds it.
    pub async fn claim_whatsapp_sender(
        &self,
        sender: &Phone,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        self.claim(self.keys.whatsapp_sender_claim(sender), id)
            .await
    }

    pub async fn release_whatsapp_sender(
        &self,
        sender: &Phone,
        id: Uuid,
    ) -> Result<(), StoreError> {
        self.release(self.keys.whatsapp_sender_claim(sender), id)
            .await
    }

    /// The neighborhood texting from the WhatsApp sender `sender`, if any.
    pub async fn neighborhood_of_whatsapp_sender(
        &self,
        sender: &Phone,
    ) -> Result<Option<Uuid>, StoreError> {
        Ok(self
            .get_string(&self.keys.whatsapp_sender_claim(sender))
            .await?
            .and_then(|id| Uuid::parse_str(&id).ok()))
    }

    /// The neighborhood that holds `number` now, if any.
    pub async fn number_claimed_by(&self, number: &Phone) -> Result<Option<Uuid>, StoreError> {
        let key = self.keys.number_claim(number);
        let owner: Option<String> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move { redis::cmd("GET").arg(key).query_async(&mut conn).await }
            })
            .await?;
        Ok(owner.and_then(|id| Uuid::parse_str(&id).ok()))
    }

    pub async fn release_slug(&self, slug: &Slug, id: Uuid) -> Result<(), StoreError> {
        self.release(self.keys.slug_claim(slug), id).await
    }

    pub async fn release_number(&self, number: &Phone, id: Uuid) -> Result<(), StoreError> {
        self.release(self.keys.number_claim(number), id).await
    }

    async fn claim(&self, key: String, id: Uuid) -> Result<bool, StoreError> {
        let script = &*CLAIM;
        let claimed: i64 = self
            .retrying_once(|mut conn| {
                let mut invocation = script.key(&key);
                invocation
                    .arg(id.to_string())
                    .arg(PROVISIONING_CLAIM_TTL.as_secs());
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        Ok(claimed == 1)
    }

    async fn release(&self, key: String, id: Uuid) -> Result<(), StoreError> {
        let script = &*RELEASE;
        self.retrying_once(|mut conn| {
            let mut invocation = script.key(&key);
            invocation.arg(id.to_string());
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        })
        .await
        .map(drop)
    }

    /// Stores a freshly provisioned neighborhood whose slug and number this caller claimed.
    /// Returns false (and stores nothing) if a claim expired and was taken meanwhile.
    pub async fn insert_neighborhood(
        &self,
        neighborhood: &Neighborhood,
    ) -> Result<bool, StoreError> {
        let key = self.keys.neighborhood(neighborhood.id);
        let json = encode(neighborhood);
        self.retrying_once(|mut conn| {
            let (key, json) = (key.clone(), json.clone());
            async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(json)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await?;

        let script = &*COMMIT;
        let id = neighborhood.id.to_string();
        let committed: i64 = self
            .retrying_once(|mut conn| {
                let mut invocation = script.key(self.keys.slug_claim(&neighborhood.slug));
                invocation
                    .key(self.keys.number_claim(&neighborhood.phone_number))
                    .key(self.keys.active_neighborhoods())
                    .arg(&id);
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        if committed == 1 {
            return Ok(true);
        }
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move {
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await?;
        Ok(false)
    }

    pub async fn get_neighborhood(&self, id: Uuid) -> Result<Option<Neighborhood>, StoreError> {
        let key = self.keys.neighborhood(id);
        match self.get_string(&key).await? {
            Some(json) => decode(&key, &json).map(Some),
            None => Ok(None),
        }
    }

    /// One page of neighborhoods in the given state, oldest first, starting after `after`.
    pub async fn list_neighborhoods(
        &self,
        state: NeighborhoodState,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<Neighborhood>, StoreError> {
        let index = match state {
            NeighborhoodState::Active => self.keys.active_neighborhoods(),
            NeighborhoodState::Archived => self.keys.archived_neighborhoods(),
        };
        let start = after.map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        let ids: Vec<String> = self
            .retrying_once(|mut conn| {
                let mut command = redis::cmd("ZRANGE");
                command
                    .arg(&index)
                    .arg(&start)
                    .arg("+")
                    .arg("BYLEX")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit);
                async move { command.query_async(&mut conn).await }
            })
            .await?;
        let keys: Vec<String> = ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .map(|id| self.keys.neighborhood(id))
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // One GET per key, sent together over the shared connection, rather than MGET or one
        // pipeline: the keys live in different cluster slots, which neither may span.
        let values =
            futures::future::try_join_all(keys.iter().map(|key| self.get_string(key))).await?;
        keys.iter()
            .zip(values)
            .filter_map(|(key, json)| json.map(|json| decode(key, &json)))
            .collect()
    }

    /// Read-modify-write of one neighborhood; `change` may run more than once and may refuse.
    pub async fn update_neighborhood<E>(
        &self,
        id: Uuid,
        mut change: impl FnMut(&mut Neighborhood) -> Result<(), E>,
    ) -> Result<Neighborhood, UpdateError<E>> {
        let key = self.keys.neighborhood(id);
        let script = &*COMPARE_AND_SET;
        for _ in 0..super::UPDATE_ATTEMPTS {
            let Some(current) = self.get_neighborhood(id).await? else {
                return Err(UpdateError::NotFound);
            };
            let mut next = current.clone();
            change(&mut next).map_err(UpdateError::Rejected)?;
            next.version = current.version + 1;
            next.updated_at = time::OffsetDateTime::now_utc();
            let json = encode(&next);
            let outcome: i64 = self
                .retrying_once(|mut conn| {
                    let mut invocation = script.key(&key);
                    invocation.arg(current.version).arg(&json);
                    async move { invocation.invoke_async(&mut conn).await }
                })
                .await?;
            match outcome {
                1 => return Ok(next),
                -1 => return Err(UpdateError::NotFound),
                _ => continue,
            }
        }
        Err(UpdateError::Contended)
    }

    /// Moves an archived neighborhood out of the active list and frees its number for reuse.
    pub async fn index_as_archived(&self, neighborhood: &Neighborhood) -> Result<(), StoreError> {
        let script = &*ARCHIVE;
        let id = neighborhood.id.to_string();
        self.retrying_once(|mut conn| {
            let mut invocation = script.key(self.keys.active_neighborhoods());
            invocation
                .key(self.keys.archived_neighborhoods())
                .key(self.keys.number_claim(&neighborhood.phone_number))
                .arg(&id);
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        })
        .await
        .map(drop)
    }

    /// Records which neighborhood a Conversation belongs to (for the webhooks).
    pub async fn index_conversation(
        &self,
        conversation_sid: &str,
        id: Uuid,
    ) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("HSET")
                .arg(self.keys.conversation_neighborhoods())
                .arg(conversation_sid)
                .arg(id.to_string())
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    /// The neighborhood a Conversation belongs to.
    pub async fn neighborhood_of_conversation(
        &self,
        conversation_sid: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        if let Some(id) = self.cached_neighborhood_of(conversation_sid) {
            return Ok(Some(id));
        }
        let id: Option<String> = self
            .retrying_once(|mut conn| async move {
                redis::cmd("HGET")
                    .arg(self.keys.conversation_neighborhoods())
                    .arg(conversation_sid)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        let id = id.and_then(|id| Uuid::parse_str(&id).ok());
        if let Some(id) = id
            && let Ok(mut index) = self.conversation_index.write()
        {
            index.insert(conversation_sid.to_owned(), id);
        }
        Ok(id)
    }

    fn cached_neighborhood_of(&self, conversation_sid: &str) -> Option<Uuid> {
        self.conversation_index
            .read()
            .ok()
            .and_then(|index| index.get(conversation_sid).copied())
    }

    /// The neighborhood that holds a phone number.
    pub async fn neighborhood_of_number(&self, number: &Phone) -> Result<Option<Uuid>, StoreError> {
        Ok(self
            .get_string(&self.keys.number_claim(number))
            .await?
            .and_then(|id| Uuid::parse_str(&id).ok()))
    }
}
