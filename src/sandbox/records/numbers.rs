//! Phone numbers and Messaging Services (api.twilio.com and messaging.twilio.com).

use serde_json::{Value, json};

use super::{EmulatorResult, ErrorAnswer, Slice};
use crate::sandbox::Emulator;
use crate::sandbox::resources::{new_sid, now};

/// Area code of the number the sandbox Messaging Service sends from (+1 555 555 01xx).
const SERVICE_SENDER_AREA_CODE: &str = "555";

impl Emulator {
    // ----- phone numbers -------------------------------------------------------------------------

    /// The deterministic pool of an area code: +1 AAA 555 0100 to 0199, minus numbers sold.
    pub(in crate::sandbox) async fn available_numbers(
        &self,
        area_code: &str,
        limit: usize,
    ) -> EmulatorResult<Vec<String>> {
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

    pub(in crate::sandbox) async fn buy_number(
        &self,
        phone: &str,
        friendly_name: Option<&str>,
        sms_url: &str,
    ) -> EmulatorResult<Value> {
        let in_pool = phone.len() == 12
            && phone.starts_with("+1")
            && phone[5..10] == *"55501"
            && phone[2..].bytes().all(|b| b.is_ascii_digit());
        if !in_pool {
            return Err(
                ErrorAnswer::new(400, 21422, "PhoneNumber requested is not available").into(),
            );
        }
        let sid = new_sid("PN");
        let claimed: bool = redis::cmd("HSETNX")
            .arg(self.keys().number_by_phone())
            .arg(phone)
            .arg(&sid)
            .query_async(&mut self.conn())
            .await?;
        if !claimed {
            return Err(
                ErrorAnswer::new(400, 21422, "PhoneNumber requested is not available").into(),
            );
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

    pub(in crate::sandbox) async fn numbers(
        &self,
        offset: usize,
        limit: usize,
    ) -> EmulatorResult<Slice> {
        self.ordered_page(&self.numbers_order(), &self.keys().numbers(), offset, limit)
            .await
    }

    pub(in crate::sandbox) async fn number(&self, sid: &str) -> EmulatorResult<Option<Value>> {
        self.hget_json(&self.keys().numbers(), sid).await
    }

    pub(in crate::sandbox) async fn number_by_phone(
        &self,
        phone: &str,
    ) -> EmulatorResult<Option<Value>> {
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

    pub(in crate::sandbox) async fn save_number(&self, number: &Value) -> EmulatorResult<()> {
        let sid = number["sid"].as_str().unwrap_or_default();
        self.hset_json(&self.keys().numbers(), sid, number).await?;
        self.publish(&json!({"type": "numbers"})).await;
        Ok(())
    }

    pub(in crate::sandbox) async fn release_number(&self, sid: &str) -> EmulatorResult<bool> {
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
    pub async fn ensure_messaging_service(
        &self,
        sid: &str,
        friendly_name: &str,
    ) -> EmulatorResult<()> {
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
    async fn ensure_service_sender(&self, sid: &str) -> EmulatorResult<()> {
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

    pub(in crate::sandbox) async fn create_service(
        &self,
        friendly_name: &str,
        inbound_request_url: Option<&str>,
    ) -> EmulatorResult<Value> {
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

    pub(in crate::sandbox) async fn services(
        &self,
        offset: usize,
        limit: usize,
    ) -> EmulatorResult<Slice> {
        self.ordered_page(
            &self.services_order(),
            &self.keys().services(),
            offset,
            limit,
        )
        .await
    }

    pub(in crate::sandbox) async fn service(&self, sid: &str) -> EmulatorResult<Option<Value>> {
        self.hget_json(&self.keys().services(), sid).await
    }

    pub(in crate::sandbox) async fn add_service_number(
        &self,
        service_sid: &str,
        number_sid: &str,
    ) -> EmulatorResult<Value> {
        let Some(number) = self.number(number_sid).await? else {
            return Err(ErrorAnswer::new(
                404,
                21452,
                format!("Phone Number {number_sid} not found"),
            )
            .into());
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
                ErrorAnswer::new(
                    409,
                    21710,
                    "Phone Number or Short Code is already in the Messaging Service.",
                )
            } else {
                ErrorAnswer::new(
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

    pub(in crate::sandbox) async fn service_numbers(
        &self,
        service_sid: &str,
    ) -> EmulatorResult<Vec<Value>> {
        let mut items: Vec<Value> = self
            .store()
            .hvals_json(&self.keys().service_numbers(service_sid))
            .await?;
        items.sort_by(|a, b| a["date_created"].as_str().cmp(&b["date_created"].as_str()));
        Ok(items)
    }

    pub(in crate::sandbox) async fn service_number_entry(
        &self,
        service_sid: &str,
        number_sid: &str,
    ) -> EmulatorResult<Option<Value>> {
        self.hget_json(&self.keys().service_numbers(service_sid), number_sid)
            .await
    }

    pub(in crate::sandbox) async fn remove_service_number(
        &self,
        service_sid: &str,
        number_sid: &str,
    ) -> EmulatorResult<bool> {
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
    pub(in crate::sandbox) async fn service_of_number(
        &self,
        number_sid: &str,
    ) -> EmulatorResult<Option<String>> {
        Ok(redis::cmd("HGET")
            .arg(self.keys().number_service())
            .arg(number_sid)
            .query_async(&mut self.conn())
            .await?)
    }
}
