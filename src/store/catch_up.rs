//! One-time catch-up links for new members.

use std::time::Duration;

use uuid::Uuid;

use super::{Store, StoreError};

impl Store {
    /// Stores a catch-up code worth `messages` messages for `ttl`.
    pub async fn store_catch_up_code(
        &self,
        id: Uuid,
        code: &str,
        messages: u32,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.keys.catch_up_code(id, code);
        self.retrying_once(|mut conn| {
            let key = key.clone();
            async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(messages)
                    .arg("EX")
                    .arg(ttl.as_secs().max(1))
                    .query_async::<()>(&mut conn)
                    .await
            }
        })
        .await
    }

    /// Uses up a catch-up code: how many messages it was worth, or None when it is unknown,
    /// expired or used. Atomic, so a link opens once even when opened twice at the same moment.
    pub async fn take_catch_up_code(
        &self,
        id: Uuid,
        code: &str,
    ) -> Result<Option<u32>, StoreError> {
        let key = self.keys.catch_up_code(id, code);
        // Not retried: a GETDEL whose answer was lost has used the code up already.
        let mut conn = self.connection();
        Ok(redis::cmd("GETDEL").arg(key).query_async(&mut conn).await?)
    }
}
