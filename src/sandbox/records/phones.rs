//! What happens off the Conversations API: texts sent over the v2010 Messages API, simulated
//! phones and their inboxes, opt-outs, and the control API's request counts and faults.

use serde_json::{Value, json};

use super::{EmulatorResult, Slice};
use crate::sandbox::{Emulator, InjectedFaults};

impl Emulator {
    // ----- opt-outs ------------------------------------------------------------------------------

    pub(in crate::sandbox) async fn set_opted_out(
        &self,
        scope_sid: &str,
        phone: &str,
        opted_out: bool,
    ) -> EmulatorResult<()> {
        let command = if opted_out { "SADD" } else { "SREM" };
        redis::cmd(command)
            .arg(self.keys().opted_out(scope_sid))
            .arg(phone)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    pub(in crate::sandbox) async fn is_opted_out(
        &self,
        scope_sid: &str,
        phone: &str,
    ) -> EmulatorResult<bool> {
        Ok(redis::cmd("SISMEMBER")
            .arg(self.keys().opted_out(scope_sid))
            .arg(phone)
            .query_async(&mut self.conn())
            .await?)
    }

    // ----- v2010 messages, phones ----------------------------------------------------------------

    pub(in crate::sandbox) async fn save_sms_message(&self, message: &Value) -> EmulatorResult<()> {
        let sid = message["sid"].as_str().unwrap_or_default();
        self.hset_json(&self.keys().sms_messages(), sid, message)
            .await?;
        let to = message["to"].as_str().unwrap_or_default();
        let sequence = self.next_sequence().await?;
        redis::pipe()
            .zadd(self.keys().sms_message_order(), sid, sequence)
            .zadd(self.keys().sms_messages_to(to), sid, sequence)
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Records a text sent over REST and puts it in the phone's inbox in one step: an emulator
    /// that dies midway (its process killed) never leaves a text recorded as sent that the phone
    /// did not get, which Twilio, living apart from its callers, would not do either.
    pub(in crate::sandbox) async fn record_delivered_sms(
        &self,
        message: &Value,
        item: &Value,
    ) -> EmulatorResult<()> {
        let sid = message["sid"].as_str().unwrap_or_default();
        let to = message["to"].as_str().unwrap_or_default();
        let sequence = self.next_sequence().await?;
        redis::pipe()
            .atomic()
            .hset(self.keys().sms_messages(), sid, message.to_string())
            .zadd(self.keys().sms_message_order(), sid, sequence)
            .zadd(self.keys().sms_messages_to(to), sid, sequence)
            .cmd("ZADD")
            .arg(self.keys().phones())
            .arg("NX")
            .arg(sequence)
            .arg(to)
            .rpush(self.keys().inbox(to), item.to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        self.publish(&json!({"type": "delivered", "phone": to, "message": item}))
            .await;
        Ok(())
    }

    /// Every v2010 Message, or every one to `to`, oldest first.
    pub(in crate::sandbox) async fn all_sms_messages(
        &self,
        to: Option<&str>,
    ) -> EmulatorResult<Vec<Value>> {
        let order = match to {
            Some(to) => self.keys().sms_messages_to(to),
            None => self.keys().sms_message_order(),
        };
        let slice = self
            .ordered_page(
                &order,
                &self.keys().sms_messages(),
                0,
                (i64::MAX - 1) as usize,
            )
            .await?;
        Ok(slice.items)
    }

    pub(in crate::sandbox) async fn sms_messages(
        &self,
        offset: usize,
        limit: usize,
    ) -> EmulatorResult<Slice> {
        self.ordered_page(
            &self.keys().sms_message_order(),
            &self.keys().sms_messages(),
            offset,
            limit,
        )
        .await
    }

    pub(in crate::sandbox) async fn sms_message_entry(
        &self,
        sid: &str,
    ) -> EmulatorResult<Option<Value>> {
        self.hget_json(&self.keys().sms_messages(), sid).await
    }

    /// Remembers a simulated phone (NX: its first appearance keeps its place).
    pub(in crate::sandbox) async fn touch_phone(&self, phone: &str) -> EmulatorResult<()> {
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
    pub(in crate::sandbox) async fn deliver_to_inbox(
        &self,
        phone: &str,
        item: &Value,
    ) -> EmulatorResult<()> {
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

    pub(in crate::sandbox) async fn phones(&self) -> EmulatorResult<Vec<String>> {
        Ok(redis::cmd("ZRANGE")
            .arg(self.keys().phones())
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn())
            .await?)
    }

    pub(in crate::sandbox) async fn inbox(&self, phone: &str) -> EmulatorResult<Vec<Value>> {
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

    // ----- requests and faults -------------------------------------------------------------------

    pub(in crate::sandbox) async fn faults(&self) -> EmulatorResult<InjectedFaults> {
        let json: Option<String> = redis::cmd("GET")
            .arg(self.keys().faults())
            .query_async(&mut self.conn())
            .await?;
        Ok(self.parse_faults(json))
    }

    fn parse_faults(&self, json: Option<String>) -> InjectedFaults {
        json.and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or(self.config().faults)
    }

    /// Counts one REST call under its operation and reads the faults in force, in one round trip.
    pub(in crate::sandbox) async fn count_request(
        &self,
        operation: &str,
    ) -> EmulatorResult<InjectedFaults> {
        let (json,): (Option<String>,) = redis::pipe()
            .hincr(self.keys().requests(), operation, 1)
            .ignore()
            .get(self.keys().faults())
            .query_async(&mut self.conn())
            .await?;
        Ok(self.parse_faults(json))
    }

    /// The REST calls received by operation; `reset` clears them in the same step.
    pub(in crate::sandbox) async fn request_counts(
        &self,
        reset: bool,
    ) -> EmulatorResult<std::collections::BTreeMap<String, u64>> {
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

    pub(in crate::sandbox) async fn set_faults(
        &self,
        faults: &InjectedFaults,
    ) -> EmulatorResult<()> {
        redis::cmd("SET")
            .arg(self.keys().faults())
            .arg(json!(faults).to_string())
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }
}
