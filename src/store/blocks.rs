//! The phones a neighborhood's captains blocked from asking to join.

use uuid::Uuid;

use super::{Store, StoreError, encode};
use crate::domain::join_request::BlockedPhone;
use crate::domain::phone::Phone;

impl Store {
    /// Blocks a phone (again: the newer record replaces the older).
    pub async fn block_phone(&self, id: Uuid, blocked: &BlockedPhone) -> Result<(), StoreError> {
        let json = encode(blocked);
        self.retrying_once(|mut conn| {
            let key = self.keys.blocked_phones(id);
            let json = json.clone();
            async move {
                redis::cmd("HSET")
                    .arg(key)
                    .arg(blocked.phone.as_str())
                    .arg(json)
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Unblocks a phone; false when it was not blocked.
    pub async fn unblock_phone(&self, id: Uuid, phone: &Phone) -> Result<bool, StoreError> {
        let removed: i64 = self
            .retrying_once(|mut conn| {
                let key = self.keys.blocked_phones(id);
                async move {
                    redis::cmd("HDEL")
                        .arg(key)
                        .arg(phone.as_str())
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        Ok(removed == 1)
    }

    pub async fn blocked_phone(
        &self,
        id: Uuid,
        phone: &Phone,
    ) -> Result<Option<BlockedPhone>, StoreError> {
        self.hget_json(&self.keys.blocked_phones(id), phone.as_str())
            .await
    }

    /// Every blocked phone, most recently blocked first.
    pub async fn blocked_phones(&self, id: Uuid) -> Result<Vec<BlockedPhone>, StoreError> {
        let mut blocked: Vec<BlockedPhone> = self.hvals_json(&self.keys.blocked_phones(id)).await?;
        blocked.sort_by_key(|b| std::cmp::Reverse(b.blocked_at));
        Ok(blocked)
    }
}
