//! Erasing a deleted neighborhood: every key in its `{nb:<id>}` slot, and its entries in the
//! deployment-wide indexes.

use std::sync::LazyLock;

use redis::Script;

use super::{Store, StoreError};
use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;

/// Drops the neighborhood from the global indexes; a slug or number claim is dropped only while
/// it still names this neighborhood (an adopted number may belong to another one by now).
/// KEYS: active, archived, slug claim, number claim, conversation index, outbox-active.
/// ARGV: id, then the Conversation sids.
static UNINDEX: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[5], ARGV[i]) == ARGV[1] then redis.call('HDEL', KEYS[5], ARGV[i]) end
end
redis.call('SREM', KEYS[6], ARGV[1])
return 1",
    )
});

/// Keys unlinked per round trip while erasing a slot.
const UNLINK_BATCH: usize = 500;

impl Store {
    /// Removes every key of the neighborhood and its place in the global indexes, and the roles
    /// `phones` held in it. Returns how many of its own keys were removed.
    pub async fn erase_neighborhood(
        &self,
        neighborhood: &Neighborhood,
        phones: &[Phone],
    ) -> Result<usize, StoreError> {
        let id = neighborhood.id;
        // The record goes last: until then a retry of a half-done erase still finds it.
        let record = self.keys.neighborhood(id);
        let pattern = format!("{}*", record.trim_end_matches("neighborhood"));
        // Every key of the neighborhood shares its hash slot, but the scan reads every primary:
        // a cluster client would send a plain SCAN to one node at random.
        let keys = self
            .retrying_once(|conn| {
                let pattern = pattern.clone();
                async move { conn.scan_matching(&pattern, UNLINK_BATCH).await }
            })
            .await?;
        let doomed: Vec<String> = keys.into_iter().filter(|key| *key != record).collect();
        let removed = doomed.len();
        for batch in doomed.chunks(UNLINK_BATCH) {
            self.unlink(batch).await?;
        }
        // One round trip for every member's role, however many members there were.
        let mut forget_roles = redis::pipe();
        for phone in phones {
            self.put_phone_role(&mut forget_roles, phone, id, None);
        }
        if !phones.is_empty() {
            self.retrying_once(|mut conn| {
                let forget_roles = forget_roles.clone();
                async move { forget_roles.query_async::<()>(&mut conn).await }
            })
            .await?;
        }
        self.retrying_once(|mut conn| {
            let mut invocation = UNINDEX.key(self.keys.active_neighborhoods());
            invocation
                .key(self.keys.archived_neighborhoods())
                .key(self.keys.slug_claim(&neighborhood.slug))
                .key(self.keys.number_claim(&neighborhood.phone_number))
                .key(self.keys.conversation_neighborhoods())
                .key(self.keys.outbox_active())
                .arg(id.to_string());
            for shard in &neighborhood.shards {
                invocation.arg(&shard.conversation_sid);
            }
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        })
        .await?;
        if let Some(sender) = &neighborhood.whatsapp_sender {
            self.release_whatsapp_sender(sender, id).await?;
        }
        self.unlink(std::slice::from_ref(&record)).await?;
        Ok(removed + 1)
    }

    async fn unlink(&self, keys: &[String]) -> Result<(), StoreError> {
        self.retrying_once(|mut conn| async move {
            redis::cmd("UNLINK")
                .arg(keys)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }
}
