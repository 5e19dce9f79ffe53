//! api.twilio.com (AvailablePhoneNumbers, IncomingPhoneNumbers, Messages) and
//! messaging.twilio.com (Services and their PhoneNumbers).

use poem::http::Method;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use super::{Answer, Call, created, meta_page, no_content, not_found, ok, required, v2010_page};
use crate::sandbox::Emulator;
use crate::sandbox::records::{ErrorAnswer, OUTSIDE_WINDOW, Slice, content, is_whatsapp, phone_of};
use crate::sandbox::resources::{is_e164, new_sid, now};

/// How a `DateSent` filter bounds the day a message was sent.
#[derive(Debug, Clone, Copy)]
enum DayBound {
    On,
    OnOrBefore,
    OnOrAfter,
}

/// The GMT day a `DateSent` value names: `YYYY-MM-DD`, or the day of a date-time Twilio shows
/// (RFC 2822, as in `date_sent`) or takes (ISO 8601).
fn day_of(value: &str) -> Option<Date> {
    use time::format_description::well_known::{Iso8601, Rfc2822};
    let value = value.trim();
    if let Ok(at) = OffsetDateTime::parse(value, &Rfc2822) {
        return Some(at.to_offset(time::UtcOffset::UTC).date());
    }
    if let Ok(at) = OffsetDateTime::parse(value, &Iso8601::DEFAULT) {
        return Some(at.to_offset(time::UtcOffset::UTC).date());
    }
    let day = value.get(..10)?;
    let rest = &value[10..];
    if !(rest.is_empty() || rest.starts_with([' ', 'T'])) {
        return None;
    }
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

impl Emulator {
    /// Paths after `/api/2010-04-01/Accounts/{AC}`.
    pub(super) async fn serve_api(&self, call: &Call, rest: &[&str]) -> Answer {
        match (&call.method, rest) {
            (&Method::GET, ["AvailablePhoneNumbers", country, "Local.json"]) => {
                self.search_numbers(call, country).await
            }
            (&Method::GET, ["IncomingPhoneNumbers.json"]) => self.list_numbers(call).await,
            (&Method::POST, ["IncomingPhoneNumbers.json"]) => self.buy(call).await,
            (method, ["IncomingPhoneNumbers", file]) => {
                let Some(sid) = file.strip_suffix(".json") else {
                    return not_found(call);
                };
                let Some(mut number) = self.number(sid).await? else {
                    return not_found(call);
                };
                match *method {
                    Method::GET => ok(number),
                    Method::POST => {
                        for (param, field) in [
                            ("FriendlyName", "friendly_name"),
                            ("SmsUrl", "sms_url"),
                            ("SmsMethod", "sms_method"),
                        ] {
                            if let Some(value) = call.form(param) {
                                number[field] = if value.is_empty() {
                                    serde_json::Value::Null
                                } else {
                                    json!(value)
                                };
                            }
                        }
                        number["date_updated"] = json!(crate::sandbox::resources::rfc2822(now()));
                        self.save_number(&number).await?;
                        ok(number)
                    }
                    Method::DELETE => {
                        self.release_number(sid).await?;
                        no_content()
                    }
                    _ => not_found(call),
                }
            }
            (&Method::POST, ["Messages.json"]) => self.send_sms_over_rest(call).await,
            (&Method::GET, ["Messages.json"]) => self.list_sms_messages(call).await,
            (&Method::GET, ["Messages", file]) => {
                let Some(sid) = file.strip_suffix(".json") else {
                    return not_found(call);
                };
                match self.sms_message_entry(sid).await? {
                    Some(message) => ok(message),
                    None => not_found(call),
                }
            }
            _ => not_found(call),
        }
    }

    /// `GET Messages.json`, oldest first, filtered as Twilio filters: `To` and `From` exactly,
    /// `DateSent` (sent that day), `DateSent<` (on or before), `DateSent>` (on or after), by
    /// the GMT day the message was sent.
    async fn list_sms_messages(&self, call: &Call) -> Answer {
        let (page, size, offset) = call.paging(50, 1000);
        let list_path = format!("{}/Messages.json", self.account_path());
        let mut filters: Vec<(&str, &str)> = Vec::new();
        let mut days: Vec<(DayBound, Date)> = Vec::new();
        for (name, value) in &call.query {
            let bound = match name.as_str() {
                "To" | "From" => None,
                "DateSent" => Some(DayBound::On),
                "DateSent<" => Some(DayBound::OnOrBefore),
                "DateSent>" => Some(DayBound::OnOrAfter),
                _ => continue,
            };
            if let Some(bound) = bound {
                let Some(day) = day_of(value) else {
                    return Err(ErrorAnswer::new(
                        400,
                        20001,
                        format!("Invalid {name}: send a GMT date as YYYY-MM-DD"),
                    )
                    .into());
                };
                days.push((bound, day));
            }
            filters.push((name.as_str(), value.as_str()));
        }
        if filters.is_empty() {
            let slice = self.sms_messages(offset, size).await?;
            return ok(v2010_page(
                &list_path,
                &[],
                "messages",
                (page, size, offset),
                slice,
            ));
        }
        let field =
            |message: &serde_json::Value, name: &str| message[name].as_str().map(str::to_owned);
        let matching: Vec<_> = self
            .all_sms_messages(call.query("To"))
            .await?
            .into_iter()
            .filter(|message| {
                let from = call.query("From");
                let sent = field(message, "date_sent").and_then(|sent| day_of(&sent));
                from.is_none_or(|from| field(message, "from").as_deref() == Some(from))
                    && days.iter().all(|(bound, day)| {
                        sent.is_some_and(|sent| match bound {
                            DayBound::On => sent == *day,
                            DayBound::OnOrBefore => sent <= *day,
                            DayBound::OnOrAfter => sent >= *day,
                        })
                    })
            })
            .collect();
        let more = matching.len() > offset + size;
        let items = matching.into_iter().skip(offset).take(size).collect();
        ok(v2010_page(
            &list_path,
            &filters,
            "messages",
            (page, size, offset),
            Slice { items, more },
        ))
    }

    async fn search_numbers(&self, call: &Call, country: &str) -> Answer {
        let area_code = call.query("AreaCode").unwrap_or("555");
        let valid_area = area_code.len() == 3
            && area_code.bytes().all(|b| b.is_ascii_digit())
            && !area_code.starts_with(['0', '1']);
        if !valid_area {
            return Err(
                ErrorAnswer::new(400, 21452, format!("AreaCode {area_code} is not valid")).into(),
            );
        }
        let limit = call
            .query("PageSize")
            .and_then(|s| s.parse().ok())
            .unwrap_or(50usize)
            .clamp(1, 1000);
        let phones = if country == "US" {
            self.available_numbers(area_code, limit).await?
        } else {
            Vec::new()
        };
        let numbers: Vec<_> = phones
            .iter()
            .map(|phone| self.available_number(phone, area_code))
            .collect();
        let uri = format!(
            "{}/AvailablePhoneNumbers/{country}/Local.json?AreaCode={area_code}&SmsEnabled=true",
            self.account_path()
        );
        // One page holds every match: the pool of an area code is 100 numbers.
        ok(json!({
            "available_phone_numbers": numbers,
            "uri": uri,
            "first_page_uri": uri,
            "next_page_uri": null,
            "previous_page_uri": null,
            "page": 0,
            "page_size": limit,
            "start": 0,
            "end": numbers.len().saturating_sub(1),
        }))
    }

    async fn list_numbers(&self, call: &Call) -> Answer {
        let (page, size, offset) = call.paging(50, 1000);
        let list_path = format!("{}/IncomingPhoneNumbers.json", self.account_path());
        if let Some(phone) = call.query("PhoneNumber") {
            let items: Vec<_> = self.number_by_phone(phone).await?.into_iter().collect();
            return ok(v2010_page(
                &list_path,
                &[("PhoneNumber", phone)],
                "incoming_phone_numbers",
                (0, size, 0),
                Slice { items, more: false },
            ));
        }
        let slice = self.numbers(offset, size).await?;
        ok(v2010_page(
            &list_path,
            &[],
            "incoming_phone_numbers",
            (page, size, offset),
            slice,
        ))
    }

    async fn buy(&self, call: &Call) -> Answer {
        let phone = match (call.form("PhoneNumber"), call.form("AreaCode")) {
            (Some(phone), _) => {
                if !is_e164(phone) {
                    return Err(ErrorAnswer::new(
                        400,
                        21421,
                        format!("PhoneNumber {phone} is invalid"),
                    )
                    .into());
                }
                phone.to_owned()
            }
            (None, Some(area_code)) => match self
                .available_numbers(area_code, 1)
                .await?
                .into_iter()
                .next()
            {
                Some(phone) => phone,
                None => {
                    return Err(ErrorAnswer::new(
                        400,
                        21422,
                        "PhoneNumber requested is not available",
                    )
                    .into());
                }
            },
            (None, None) => {
                return Err(
                    ErrorAnswer::new(400, 21420, "A PhoneNumber or AreaCode is required").into(),
                );
            }
        };
        let number = self
            .buy_number(
                &phone,
                call.form("FriendlyName"),
                call.form("SmsUrl").unwrap_or(""),
            )
            .await?;
        created(number)
    }

    /// `POST Messages.json`: a 1:1 text from one of our numbers, delivered to the simulated phone.
    async fn send_sms_over_rest(&self, call: &Call) -> Answer {
        let to = required(call, "To")?;
        // A template's text stands in for the body (WhatsApp outside the 24-hour window).
        let template = call.form("ContentSid").filter(|sid| !sid.is_empty());
        let body = match template {
            Some(sid) => content::render(sid, call.form("ContentVariables"))?,
            None => call.form("Body").unwrap_or("").to_owned(),
        };
        let body = body.as_str();
        if body.is_empty() {
            return Err(ErrorAnswer::new(400, 21602, "Message body is required.").into());
        }
        if !is_e164(phone_of(&to)) {
            return Err(ErrorAnswer::new(
                400,
                21211,
                format!("The 'To' number {to} is not a valid phone number."),
            )
            .into());
        }
        let (from, service_sid) = match (call.form("From"), call.form("MessagingServiceSid")) {
            (Some(from), _) if is_whatsapp(from) != is_whatsapp(&to) => {
                return Err(ErrorAnswer::new(
                    400,
                    21910,
                    "Invalid From and To pair. From and To should be of the same channel",
                )
                .into());
            }
            (Some(from), _) if is_whatsapp(from) => {
                let Some(number) = self.whatsapp_number(from).await? else {
                    return Err(ErrorAnswer::new(400, 63007, format!("Twilio could not find a Channel with the specified From address: {from}")).into());
                };
                let service = self
                    .service_of_number(number["sid"].as_str().unwrap_or_default())
                    .await?;
                (from.to_owned(), service)
            }
            (Some(from), _) => {
                let Some(number) = self.number_by_phone(from).await? else {
                    return Err(ErrorAnswer::new(400, 21606, format!("The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account.")).into());
                };
                let service = self
                    .service_of_number(number["sid"].as_str().unwrap_or_default())
                    .await?;
                (from.to_owned(), service)
            }
            (None, Some(service_sid)) => {
                if self.service(service_sid).await?.is_none() {
                    return Err(ErrorAnswer::not_found(&format!("/Services/{service_sid}")).into());
                }
                // Sticky sender is not modelled: the service's first number sends.
                let Some(sender) = self.service_numbers(service_sid).await?.into_iter().next()
                else {
                    return Err(ErrorAnswer::new(
                        400,
                        21704,
                        "The Messaging Service contains no phone numbers",
                    )
                    .into());
                };
                (
                    sender["phone_number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    Some(service_sid.to_owned()),
                )
            }
            (None, None) => {
                return Err(ErrorAnswer::new(
                    400,
                    21603,
                    "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
                )
                .into());
            }
        };
        let scope = match &service_sid {
            Some(service) => service.clone(),
            None => from.clone(),
        };
        // Twilio keeps no opt-outs on WhatsApp (the app honors STOP there itself).
        if !is_whatsapp(&to) && self.is_opted_out(&scope, &to).await? {
            return Err(
                ErrorAnswer::new(400, 21610, "Attempt to send to unsubscribed recipient").into(),
            );
        }
        let sid = new_sid("SM");
        let at = now();
        // Accepted, then failed with 63016 (Twilio tells the status callback, not the caller):
        // free-form text outside a WhatsApp user's 24-hour window.
        if template.is_none() && !self.reaches_free_form(&from, &to).await? {
            let failed = self.sms_message(
                &sid,
                &from,
                &to,
                body,
                service_sid.as_deref(),
                "failed",
                Some(OUTSIDE_WINDOW),
                false,
                at,
            );
            self.save_sms_message(&failed).await?;
            let mut answer = failed;
            answer["status"] = json!("queued");
            answer["error_code"] = Value::Null;
            answer["error_message"] = Value::Null;
            return created(answer);
        }
        let message = self.sms_message(
            &sid,
            &from,
            &to,
            body,
            service_sid.as_deref(),
            "sent",
            None,
            false,
            at,
        );
        self.record_delivered_sms(
            &message,
            &self.inbox_item(&sid, &from, &to, body, "delivered", at),
        )
        .await?;
        // The create answer of a Messaging Service send shows it queued, as Twilio's does.
        let mut answer = message;
        answer["status"] = json!(if service_sid.is_some() {
            "accepted"
        } else {
            "queued"
        });
        created(answer)
    }

    /// Paths after `/messaging/v1`.
    pub(super) async fn serve_messaging(&self, call: &Call, rest: &[&str]) -> Answer {
        match (&call.method, rest) {
            (&Method::GET, ["Services"]) => {
                let (page, size, offset) = call.paging(50, 1000);
                let slice = self.services(offset, size).await?;
                let meta = meta_page(
                    call,
                    &self.messaging_url("/v1/Services"),
                    "services",
                    page,
                    size,
                    offset,
                    &slice,
                );
                ok(json!({"services": slice.items, "meta": meta}))
            }
            (&Method::POST, ["Services"]) => {
                let name = required(call, "FriendlyName")?;
                created(
                    self.create_service(&name, call.form("InboundRequestUrl"))
                        .await?,
                )
            }
            (&Method::GET, ["Services", sid]) => match self.service(sid).await? {
                Some(service) => ok(service),
                None => not_found(call),
            },
            (&Method::GET, ["Services", service_sid, "ChannelSenders"]) => {
                if self.service(service_sid).await?.is_none() {
                    return not_found(call);
                }
                let items = self.channel_senders(service_sid).await?;
                let slice = Slice { items, more: false };
                let url = self.messaging_url(&format!("/v1/Services/{service_sid}/ChannelSenders"));
                let size = call.paging(50, 1000).1;
                let meta = meta_page(call, &url, "senders", 0, size, 0, &slice);
                ok(json!({"senders": slice.items, "meta": meta}))
            }
            (method, ["Services", service_sid, "PhoneNumbers", rest @ ..]) => {
                if self.service(service_sid).await?.is_none() {
                    return not_found(call);
                }
                match (method, rest) {
                    (&Method::POST, []) => {
                        let number_sid = required(call, "PhoneNumberSid")?;
                        created(self.add_service_number(service_sid, &number_sid).await?)
                    }
                    (&Method::GET, []) => {
                        let items = self.service_numbers(service_sid).await?;
                        let slice = Slice { items, more: false };
                        let url =
                            self.messaging_url(&format!("/v1/Services/{service_sid}/PhoneNumbers"));
                        let size = call.paging(50, 1000).1;
                        let meta = meta_page(call, &url, "phone_numbers", 0, size, 0, &slice);
                        ok(json!({"phone_numbers": slice.items, "meta": meta}))
                    }
                    (&Method::GET, [number_sid]) => {
                        match self.service_number_entry(service_sid, number_sid).await? {
                            Some(entry) => ok(entry),
                            None => not_found(call),
                        }
                    }
                    (&Method::DELETE, [number_sid]) => {
                        if self.remove_service_number(service_sid, number_sid).await? {
                            no_content()
                        } else {
                            not_found(call)
                        }
                    }
                    _ => not_found(call),
                }
            }
            _ => not_found(call),
        }
    }
}
