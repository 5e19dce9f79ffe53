//! Saved announcement templates: one hash per neighborhood, id -> JSON. Creating one checks the
//! count in the same script that writes it, so two captains saving at once cannot pass the cap.

use std::sync::LazyLock;

use redis::Script;
use uuid::Uuid;

use super::{Store, StoreError, encode};
use crate::domain::template::Template;

/// Adds ARGV[2] under ARGV[1] unless the hash holds ARGV[3] entries already.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1",
    )
});

/// Replaces ARGV[1] with ARGV[2] only if it exists (a deleted template stays deleted).
static REPLACE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1",
    )
});

impl Store {
    /// Every template of a neighborhood, by name (A to Z, any case).
    pub async fn templates(&self, neighborhood_id: Uuid) -> Result<Vec<Template>, StoreError> {
        let mut all: Vec<Template> = self
            .hvals_json(&self.keys.templates(neighborhood_id))
            .await?;
        all.sort_by_key(|t| (t.name.as_str().to_lowercase(), t.id));
        Ok(all)
    }

    pub async fn template(
        &self,
        neighborhood_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Template>, StoreError> {
        self.hget_json(&self.keys.templates(neighborhood_id), &id.to_string())
            .await
    }

    /// Saves a new template; false, saving nothing, when the neighborhood has `cap` already.
    pub async fn create_template(
        &self,
        neighborhood_id: Uuid,
        template: &Template,
        cap: usize,
    ) -> Result<bool, StoreError> {
        let key = self.keys.templates(neighborhood_id);
        let (id, json) = (template.id.to_string(), encode(template));
        // Repeating it after a lost answer writes the same entry again, or finds the cap.
        let created: i64 = self
            .retrying_once(|mut conn| {
                let (key, id, json) = (key.clone(), id.clone(), json.clone());
                async move {
                    CREATE
                        .key(key)
                        .arg(id)
                        .arg(json)
                        .arg(cap)
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(created == 1)
    }

    /// Replaces a template; false when it does not exist (any more).
    pub async fn replace_template(
        &self,
        neighborhood_id: Uuid,
        template: &Template,
    ) -> Result<bool, StoreError> {
        let key = self.keys.templates(neighborhood_id);
        let (id, json) = (template.id.to_string(), encode(template));
        let replaced: i64 = self
            .retrying_once(|mut conn| {
                let (key, id, json) = (key.clone(), id.clone(), json.clone());
                async move {
                    REPLACE
                        .key(key)
                        .arg(id)
                        .arg(json)
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(replaced == 1)
    }

    /// Deletes a template; false when there was none.
    pub async fn delete_template(
        &self,
        neighborhood_id: Uuid,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        let key = self.keys.templates(neighborhood_id);
        let deleted: i64 = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("HDEL")
                        .arg(key)
                        .arg(id.to_string())
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(deleted == 1)
    }
}
