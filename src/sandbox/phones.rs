//! The simulated phones: a small JSON control API and a live feed, behind the `/sandbox` page.
//!
//! - `GET  /state`: the emulated account's numbers, its WhatsApp senders (`whatsapp_senders`,
//!   `whatsapp:+1...`), and every phone (an SMS one by its number, a WhatsApp one by its
//!   `whatsapp:` address) with its inbox and, where the app knows it, the name its member goes
//!   by (`name`);
//! - `POST /phones/{phone}/messages` `{"to", "body"}`: text one of our numbers as that phone;
//! - `GET  /events`: Server-Sent Events of deliveries and sends, fed by Redis pub/sub so a page
//!   connected to one instance sees what another handled;
//! - `GET` / `PUT /faults`: latency and fault injection of the REST API;
//! - `POST /whatsapp-senders` `{"phone"}`: registers one of the account's numbers as a WhatsApp
//!   sender of its Messaging Service (Twilio: WhatsApp sender registration with Meta);
//! - `GET /requests`: the REST calls the emulator received since the last reset, by operation
//!   (method and Twilio's path with `{sid}` for identifiers), `{"counts": {"POST
//!   /v1/Conversations/{sid}/Messages": 2, ...}, "total": 2}`; every authenticated call counts,
//!   faulted ones too; `DELETE /requests` resets them and answers what it cleared.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use poem::http::StatusCode;
use poem::web::sse::{Event, SSE};
use poem::web::{Data, Json, Path};
use poem::{EndpointExt, IntoResponse, Response, Route, get, handler, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::records::{EmulatorError, ErrorAnswer};
use super::{Emulator, InjectedFaults};
use crate::domain::channel::Channel;

/// Keeps proxies from closing an idle event stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Longest text a phone may send (Twilio accepts 1,600 characters outbound; inbound is larger).
const MAX_BODY_CHARS: usize = 1600;

/// The app's answer to "whose phone is this": phone (E.164) -> name. Twilio knows no names, so
/// the emulator asks the app, which passes this in; a failed lookup leaves the phones unnamed.
pub type PhoneNames =
    Arc<dyn Fn() -> BoxFuture<'static, Result<HashMap<String, String>, String>> + Send + Sync>;

impl Emulator {
    /// The control API, to nest at `/sandbox/api`.
    pub fn control_routes(&self, names: PhoneNames) -> impl poem::Endpoint + 'static {
        Route::new()
            .at("/state", get(state))
            .at("/phones/:phone/messages", post(send_text))
            .at("/events", get(events))
            .at("/faults", get(read_faults).put(write_faults))
            .at("/requests", get(read_requests).delete(reset_requests))
            .at("/whatsapp-senders", post(register_whatsapp_sender))
            .data(self.clone())
            .data(names)
    }
}

#[derive(Deserialize)]
struct SenderIn {
    phone: String,
}

/// Registers one of the account's numbers as a WhatsApp sender, as Twilio's WhatsApp sender
/// registration would (there, with Meta, over days).
#[handler]
async fn register_whatsapp_sender(
    emulator: Data<&Emulator>,
    body: poem::Result<Json<SenderIn>>,
) -> Response {
    let Ok(Json(sender)) = body else {
        return problem(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send JSON like {\"phone\": \"+14155550100\"}.",
            None,
        );
    };
    let Some((Channel::Sms, phone)) = Channel::of_address(&sender.phone) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            format!("`{}` is not a phone number.", sender.phone),
            Some("phone"),
        );
    };
    match emulator.register_whatsapp_sender(phone.as_str()).await {
        Ok(sender) => (StatusCode::CREATED, Json(sender)).into_response(),
        Err(error) => failure(error),
    }
}

#[derive(Deserialize)]
struct TextIn {
    to: String,
    body: String,
}

fn problem(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    field: Option<&str>,
) -> Response {
    let details: Vec<Value> = field
        .map(|field| json!({"field": field, "message": "invalid"}))
        .into_iter()
        .collect();
    let body = json!({"code": code, "message": message.into(), "details": details});
    (status, Json(body)).into_response()
}

fn failure(error: EmulatorError) -> Response {
    match error {
        EmulatorError::Twilio(ErrorAnswer {
            status: 404,
            message,
            ..
        }) => problem(StatusCode::NOT_FOUND, "not_found", message, None),
        EmulatorError::Twilio(answer) => {
            problem(StatusCode::BAD_REQUEST, "bad_request", answer.message, None)
        }
        EmulatorError::Store(error) => {
            tracing::warn!(%error, "sandbox control API: Redis unavailable");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "The database is unreachable; try again shortly.",
                None,
            )
        }
    }
}

#[handler]
async fn state(emulator: Data<&Emulator>, names: Data<&PhoneNames>) -> Response {
    let names = names.0().await.unwrap_or_else(|error| {
        tracing::warn!(%error, "sandbox: the members' names could not be read");
        HashMap::new()
    });
    let result: Result<Value, EmulatorError> = async {
        let mut numbers = Vec::new();
        let mut offset = 0;
        loop {
            let page = emulator.numbers(offset, 200).await?;
            offset += page.items.len();
            // Only numbers that answer texts: the Messaging Service's bare sender would swallow them.
            let answering = page
                .items
                .into_iter()
                .filter(|number| number["sms_url"].as_str().is_some_and(|url| !url.is_empty()));
            numbers.extend(answering.map(|number| {
                json!({"sid": number["sid"], "phone_number": number["phone_number"], "friendly_name": number["friendly_name"]})
            }));
            if !page.more {
                break;
            }
        }
        let whatsapp_senders = emulator.whatsapp_sender_addresses().await?;
        let mut phones = Vec::new();
        for phone in emulator.phones().await? {
            let inbox = emulator.inbox(&phone).await?;
            let opted_out = emulator.is_opted_out(super::DEFAULT_MESSAGING_SERVICE_SID, &phone).await?;
            let mut entry = json!({"phone": phone, "opted_out": opted_out, "inbox": inbox});
            if let Some(name) = names.get(&phone) {
                entry["name"] = json!(name);
            }
            phones.push(entry);
        }
        Ok(json!({
            "account_sid": emulator.account_sid(),
            "numbers": numbers,
            "whatsapp_senders": whatsapp_senders,
            "phones": phones,
        }))
    }
    .await;
    match result {
        Ok(state) => Json(state).into_response(),
        Err(error) => failure(error),
    }
}

#[handler]
async fn send_text(
    emulator: Data<&Emulator>,
    Path(phone): Path<String>,
    body: poem::Result<Json<TextIn>>,
) -> Response {
    let Ok(Json(text)) = body else {
        return problem(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send JSON like {\"to\": \"+14155550100\", \"body\": \"hello\"}.",
            None,
        );
    };
    // A phone on WhatsApp texts as `whatsapp:+1...`, to a number's WhatsApp sender address.
    let Some((channel, from)) = Channel::of_address(&phone) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            format!("`{phone}` is not a phone number (or whatsapp: and one)."),
            Some("phone"),
        );
    };
    let Some((to_channel, to)) = Channel::of_address(&text.to) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            format!(
                "`{}` is not a phone number (or whatsapp: and one).",
                text.to
            ),
            Some("to"),
        );
    };
    if channel != to_channel {
        return problem(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "A phone texts on one channel: an SMS phone texts a number, a WhatsApp one (whatsapp:+1...) a WhatsApp sender (whatsapp:+1...).",
            Some("to"),
        );
    }
    if text.body.trim().is_empty() || text.body.chars().count() > MAX_BODY_CHARS {
        return problem(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            format!("Write a text of 1 to {MAX_BODY_CHARS} characters."),
            Some("body"),
        );
    }
    match emulator
        .receive_text(&channel.address(&from), &channel.address(&to), &text.body)
        .await
    {
        Ok(routed) => Json(
            json!({"sid": routed.sid, "outcome": routed.outcome.as_str(), "detail": routed.detail}),
        )
        .into_response(),
        Err(error) => failure(error),
    }
}

#[handler]
async fn events(emulator: Data<&Emulator>) -> Response {
    match emulator
        .store()
        .subscribe(&emulator.keys().events_channel())
        .await
    {
        Ok(stream) => SSE::new(stream.map(Event::message))
            .keep_alive(KEEP_ALIVE)
            .into_response(),
        Err(error) => failure(error.into()),
    }
}

#[handler]
async fn read_faults(emulator: Data<&Emulator>) -> Response {
    match emulator.faults().await {
        Ok(faults) => Json(json!(faults)).into_response(),
        Err(error) => failure(error),
    }
}

#[handler]
async fn write_faults(
    emulator: Data<&Emulator>,
    body: poem::Result<Json<InjectedFaults>>,
) -> Response {
    let Ok(Json(faults)) = body else {
        return problem(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send JSON like {\"latency_ms\": 100, \"rate_429\": 0.1}.",
            None,
        );
    };
    if let Err(message) = faults.validate() {
        return problem(StatusCode::BAD_REQUEST, "validation_failed", message, None);
    }
    match emulator.set_faults(&faults).await {
        Ok(()) => Json(json!(faults)).into_response(),
        Err(error) => failure(error),
    }
}

/// `{"counts": {operation: n}, "total": n}`.
fn request_counts(counts: &std::collections::BTreeMap<String, u64>) -> Response {
    let total: u64 = counts.values().sum();
    Json(json!({"counts": counts, "total": total})).into_response()
}

#[handler]
async fn read_requests(emulator: Data<&Emulator>) -> Response {
    match emulator.request_counts(false).await {
        Ok(counts) => request_counts(&counts),
        Err(error) => failure(error),
    }
}

#[handler]
async fn reset_requests(emulator: Data<&Emulator>) -> Response {
    match emulator.request_counts(true).await {
        Ok(counts) => request_counts(&counts),
        Err(error) => failure(error),
    }
}
