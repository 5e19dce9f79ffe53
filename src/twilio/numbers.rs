//! Phone numbers and direct SMS (api.twilio.com, v2010) and Messaging Service membership
//! (messaging.twilio.com).

use reqwest::Method;
use serde::Deserialize;

use super::client::{TwilioClient, decode, observe, push_some};
use super::error::TwilioError;
use super::types::{
    AvailablePhoneNumber, BuyNumber, ChannelSender, IncomingPhoneNumber, ListMessages, SendSms,
    SendTemplate, ServicePhoneNumber, SmsMessage, SmsSender, UpdateIncomingNumber,
};
use super::urls::{Host, rebase_next_page};

#[derive(Deserialize)]
struct AvailableList {
    #[serde(default)]
    available_phone_numbers: Vec<AvailablePhoneNumber>,
}

#[derive(Deserialize)]
struct IncomingList {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingPhoneNumber>,
}

#[derive(Deserialize)]
struct MessageList {
    #[serde(default)]
    messages: Vec<SmsMessage>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

#[derive(Deserialize)]
struct ChannelSenderList {
    #[serde(default)]
    senders: Vec<ChannelSender>,
    #[serde(default)]
    meta: ListMeta,
}

#[derive(Default, Deserialize)]
struct ListMeta {
    #[serde(default)]
    next_page_url: Option<String>,
}

/// Pages of messages read at most by one listing: a filter that matches more is too broad.
const MAX_MESSAGE_PAGES: usize = 20;

/// `YYYY-MM-DD`, as Twilio's date filters take it.
fn iso_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

impl TwilioClient {
    /// GET /2010-04-01/Accounts/{AC}/AvailablePhoneNumbers/{country}/Local.json?AreaCode=..&SmsEnabled=true&PageSize=..
    #[tracing::instrument(skip_all, fields(country = %country, area_code = %area_code))]
    pub async fn search_local_numbers(
        &self,
        country: &str,
        area_code: &str,
        limit: u32,
    ) -> Result<Vec<AvailablePhoneNumber>, TwilioError> {
        observe("search_local_numbers", async {
            let mut url = self.v2010_url(&["AvailablePhoneNumbers", country, "Local.json"])?;
            url.query_pairs_mut()
                .append_pair("AreaCode", area_code)
                .append_pair("SmsEnabled", "true")
                .append_pair("PageSize", &limit.to_string());
            let raw = self.send(Method::GET, url, &[], false).await?;
            Ok(decode::<AvailableList>(&raw)?.available_phone_numbers)
        })
        .await
    }

    /// POST .../IncomingPhoneNumbers.json  PhoneNumber, FriendlyName, SmsUrl, SmsMethod=POST
    #[tracing::instrument(skip_all, fields(phone_number = %request.phone_number))]
    pub async fn buy_number(
        &self,
        request: &BuyNumber,
    ) -> Result<IncomingPhoneNumber, TwilioError> {
        observe("buy_number", async {
            let url = self.v2010_url(&["IncomingPhoneNumbers.json"])?;
            let mut form = vec![("PhoneNumber", request.phone_number.clone())];
            push_some(&mut form, "FriendlyName", request.friendly_name.as_deref());
            push_some(&mut form, "SmsUrl", request.sms_url.as_deref());
            form.push(("SmsMethod", "POST".to_owned()));
            decode(&self.send(Method::POST, url, &form, false).await?)
        })
        .await
    }

    /// GET .../IncomingPhoneNumbers.json?PhoneNumber=%2B1...  -> first match or None
    #[tracing::instrument(skip_all, fields(phone_number = %phone_number))]
    pub async fn find_incoming_number(
        &self,
        phone_number: &str,
    ) -> Result<Option<IncomingPhoneNumber>, TwilioError> {
        observe("find_incoming_number", async {
            let mut url = self.v2010_url(&["IncomingPhoneNumbers.json"])?;
            url.query_pairs_mut()
                .append_pair("PhoneNumber", phone_number)
                .append_pair("PageSize", "20");
            let raw = self.send(Method::GET, url, &[], false).await?;
            Ok(decode::<IncomingList>(&raw)?
                .incoming_phone_numbers
                .into_iter()
                .next())
        })
        .await
    }

    /// POST .../IncomingPhoneNumbers/{PN}.json  (only the Some fields are sent: FriendlyName, SmsUrl, SmsMethod)
    #[tracing::instrument(skip_all, fields(sid = %sid))]
    pub async fn update_incoming_number(
        &self,
        sid: &str,
        request: &UpdateIncomingNumber,
    ) -> Result<IncomingPhoneNumber, TwilioError> {
        observe("update_incoming_number", async {
            let url = self.v2010_url(&["IncomingPhoneNumbers", &format!("{sid}.json")])?;
            let mut form = Vec::new();
            push_some(&mut form, "FriendlyName", request.friendly_name.as_deref());
            push_some(&mut form, "SmsUrl", request.sms_url.as_deref());
            if let Some(method) = request.sms_method {
                form.push(("SmsMethod", method.as_str().to_owned()));
            }
            decode(&self.send(Method::POST, url, &form, false).await?)
        })
        .await
    }

    /// DELETE .../IncomingPhoneNumbers/{PN}.json -> 204
    #[tracing::instrument(skip_all, fields(sid = %sid))]
    pub async fn release_number(&self, sid: &str) -> Result<(), TwilioError> {
        observe("release_number", async {
            let url = self.v2010_url(&["IncomingPhoneNumbers", &format!("{sid}.json")])?;
            self.send(Method::DELETE, url, &[], false).await?;
            Ok(())
        })
        .await
    }

    /// POST .../Messages.json  To, From or MessagingServiceSid, Body (direct 1:1 SMS)
    #[tracing::instrument(skip_all)]
    pub async fn send_sms(&self, request: &SendSms) -> Result<SmsMessage, TwilioError> {
        observe("send_sms", async {
            let url = self.v2010_url(&["Messages.json"])?;
            let mut form = vec![("To", request.to.clone())];
            match &request.from {
                SmsSender::Number(number) => form.push(("From", number.clone())),
                SmsSender::MessagingService(sid) => form.push(("MessagingServiceSid", sid.clone())),
            }
            form.push(("Body", request.body.clone()));
            // Twilio has no idempotency key for sends: a text is never sent twice from here.
            decode(&self.send_unrepeated(url, &form, false).await?)
        })
        .await
    }

    /// POST .../Messages.json  To, From, ContentSid, ContentVariables (a WhatsApp template)
    #[tracing::instrument(skip_all)]
    pub async fn send_template(&self, request: &SendTemplate) -> Result<SmsMessage, TwilioError> {
        observe("send_template", async {
            let url = self.v2010_url(&["Messages.json"])?;
            let variables: serde_json::Map<String, serde_json::Value> = request
                .variables
                .iter()
                .map(|(name, value)| (name.clone(), serde_json::Value::from(value.as_str())))
                .collect();
            let form = vec![
                ("To", request.to.clone()),
                ("From", request.from.clone()),
                ("ContentSid", request.content_sid.clone()),
                (
                    "ContentVariables",
                    serde_json::Value::Object(variables).to_string(),
                ),
            ];
            decode(&self.send_unrepeated(url, &form, false).await?)
        })
        .await
    }

    /// GET .../Messages.json?To=..&From=..&DateSent>=YYYY-MM-DD  (every page; Twilio filters
    /// by the day sent, in GMT)
    #[tracing::instrument(skip_all)]
    pub async fn list_messages(
        &self,
        filter: &ListMessages,
    ) -> Result<Vec<SmsMessage>, TwilioError> {
        observe("list_messages", async {
            let mut url = self.v2010_url(&["Messages.json"])?;
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in [("To", &filter.to), ("From", &filter.from)] {
                    if let Some(value) = value {
                        query.append_pair(name, value);
                    }
                }
                for (name, date) in [
                    ("DateSent", filter.sent_on),
                    ("DateSent<", filter.sent_on_or_before),
                    ("DateSent>", filter.sent_on_or_after),
                ] {
                    if let Some(date) = date {
                        query.append_pair(name, &iso_date(date));
                    }
                }
                query.append_pair("PageSize", &filter.page_size.unwrap_or(50).to_string());
            }
            let mut messages = Vec::new();
            for _ in 0..MAX_MESSAGE_PAGES {
                let page: MessageList = decode(&self.send(Method::GET, url, &[], false).await?)?;
                messages.extend(page.messages);
                match page.next_page_uri.filter(|next| !next.is_empty()) {
                    Some(next) => url = rebase_next_page(self.base(Host::Api), &next)?,
                    None => return Ok(messages),
                }
            }
            Err(TwilioError::Malformed {
                status: 200,
                detail: format!("more than {MAX_MESSAGE_PAGES} pages of messages"),
            })
        })
        .await
    }

    /// GET /v1/Services/{MG}/ChannelSenders (every page): the Messaging Service's WhatsApp and
    /// other non-number senders.
    #[tracing::instrument(skip_all, fields(service_sid = %service_sid))]
    pub async fn list_channel_senders(
        &self,
        service_sid: &str,
    ) -> Result<Vec<ChannelSender>, TwilioError> {
        observe("list_channel_senders", async {
            let mut url = self.url(
                Host::Messaging,
                &["v1", "Services", service_sid, "ChannelSenders"],
            )?;
            url.query_pairs_mut().append_pair("PageSize", "50");
            let mut senders = Vec::new();
            for _ in 0..MAX_MESSAGE_PAGES {
                let page: ChannelSenderList =
                    decode(&self.send(Method::GET, url, &[], false).await?)?;
                senders.extend(page.senders);
                match page.meta.next_page_url.filter(|next| !next.is_empty()) {
                    Some(next) => url = rebase_next_page(self.base(Host::Messaging), &next)?,
                    None => return Ok(senders),
                }
            }
            Err(TwilioError::Malformed {
                status: 200,
                detail: format!("more than {MAX_MESSAGE_PAGES} pages of channel senders"),
            })
        })
        .await
    }

    /// POST /v1/Services/{MG}/PhoneNumbers  PhoneNumberSid
    #[tracing::instrument(skip_all, fields(service_sid = %service_sid, phone_number_sid = %phone_number_sid))]
    pub async fn add_number_to_messaging_service(
        &self,
        service_sid: &str,
        phone_number_sid: &str,
    ) -> Result<ServicePhoneNumber, TwilioError> {
        observe("add_number_to_messaging_service", async {
            let url = self.url(
                Host::Messaging,
                &["v1", "Services", service_sid, "PhoneNumbers"],
            )?;
            let form = [("PhoneNumberSid", phone_number_sid.to_owned())];
            decode(&self.send(Method::POST, url, &form, false).await?)
        })
        .await
    }
}
