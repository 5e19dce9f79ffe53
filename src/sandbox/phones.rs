//! The simulated phones: a small JSON control API and a live feed, behind the `/sandbox` page.
//!
//! - `GET  /state`: the emulated account's numbers, its WhatsApp senders (`whatsapp_senders`,
//!   `whatsapp:+1...`), and every phone (an SMS one by its number, a WhatsApp one by its
//!   `whatsapp:` address) with its inbox and, where the app knows it, the name its member goes
//!   by (`name`);
//! - `POST /phones/{phone}/messages` `{"to", "body", "media"}`: text one of our numbers as that
//!   phone, with pictures if `media` has some (`[{"content_type", "data_base64"}]`);
//! - `GET  /media/{ME...}`: a media's bytes, for the page to show (pictures inline, anything else
//!   as a download);
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
use poem::{Body, EndpointExt, IntoResponse, Response, Route, get, handler, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::records::{EmulatorError, ErrorAnswer};
use super::{Emulator, InjectedFaults};
use crate::domain::channel::Channel;

/// Keeps proxies from closing an idle event stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Longest text a phone may send (Twilio accepts 1,600 characters outbound; inbound is larger).
const MAX_BODY_CHARS: usize = 1600;
/// What a phone may attach: deliberately more than Twilio's 10 items and 5 MB, so tests can check
/// that the service refuses what Twilio would.
const MAX_PHONE_MEDIA: usize = 20;
const MAX_PHONE_MEDIA_BYTES: usize = 10 * 1024 * 1024;
/// The largest request to send a text: the media in base64 (4/3 of their size) and the rest.
const MAX_TEXT_REQUEST: usize = MAX_PHONE_MEDIA_BYTES / 3 * 4 + 1024 * 1024;
/// Media the page shows inline; SVG is left out, as it can carry script.
const INLINE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

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
            .at("/media/:sid", get(media_content))
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
    #[serde(default)]
    body: String,
    #[serde(default)]
    media: Vec<MediaIn>,
}

#[derive(Deserialize)]
struct MediaIn {
    content_type: String,
    data_base64: String,
}

/// The attached media as (content type, bytes), or why they are refused.
fn decode_media(media: &[MediaIn]) -> Result<Vec<(String, Vec<u8>)>, String> {
    use base64::Engine;
    if media.len() > MAX_PHONE_MEDIA {
        return Err(format!("A phone attaches at most {MAX_PHONE_MEDIA} items."));
    }
    let mut decoded = Vec::new();
    let mut total = 0;
    for item in media {
        let content_type = item.content_type.trim().to_ascii_lowercase();
        if !is_mime_type(&content_type) {
            return Err(format!(
                "`{}` is not a content type like image/jpeg.",
                item.content_type
            ));
        }
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(item.data_base64.trim())
        else {
            return Err("Each item's data_base64 must be base64.".into());
        };
        if bytes.is_empty() {
            return Err("An attached item is empty.".into());
        }
        total += bytes.len();
        if total > MAX_PHONE_MEDIA_BYTES {
            return Err("A phone attaches at most 10 MB in all.".into());
        }
        decoded.push((content_type, bytes));
    }
    Ok(decoded)
}

/// `type/subtype`, each of token characters: safe to serve back as a header.
fn is_mime_type(value: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    value.len() <= 100
        && value
            .split_once('/')
            .is_some_and(|(kind, subtype)| token(kind) && token(subtype))
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
async fn send_text(emulator: Data<&Emulator>, Path(phone): Path<String>, body: Body) -> Response {
    let Ok(bytes) = body.into_bytes_limit(MAX_TEXT_REQUEST).await else {
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "A text with its media is at most 10 MB (in base64, about 14 MB).",
            Some("media"),
        );
    };
    let Ok(text) = serde_json::from_slice::<TextIn>(&bytes) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Send JSON like {\"to\": \"+14155550100\", \"body\": \"hello\"}.",
            None,
        );
    };
    let media = match decode_media(&text.media) {
        Ok(media) => media,
        Err(message) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                message,
                Some("media"),
            );
        }
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
    // A picture may go without words.
    let wordless = text.body.trim().is_empty() && media.is_empty();
    if wordless || text.body.chars().count() > MAX_BODY_CHARS {
        return problem(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            format!("Write a text of 1 to {MAX_BODY_CHARS} characters."),
            Some("body"),
        );
    }
    match emulator
        .receive_text_with_media(
            &channel.address(&from),
            &channel.address(&to),
            &text.body,
            &media,
        )
        .await
    {
        Ok(routed) => Json(
            json!({"sid": routed.sid, "outcome": routed.outcome.as_str(), "detail": routed.detail}),
        )
        .into_response(),
        Err(error) => failure(error),
    }
}

/// A media's bytes for the page. The page reaches the control API without credentials, so this
/// does too; what it serves is never sniffed nor run, and only pictures show inline.
#[handler]
async fn media_content(emulator: Data<&Emulator>, Path(sid): Path<String>) -> Response {
    let found = async {
        if !crate::sandbox::media::is_media_sid(&sid) {
            return Ok(None);
        }
        let (Some(media), Some(bytes)) = (
            emulator.media_entry(&sid).await?,
            emulator.media_content(&sid).await?,
        ) else {
            return Ok(None);
        };
        Ok::<_, EmulatorError>(Some((media, bytes)))
    };
    let (media, bytes) = match found.await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return problem(StatusCode::NOT_FOUND, "not_found", "No such media.", None);
        }
        Err(error) => return failure(error),
    };
    let content_type = media["content_type"].as_str().unwrap_or_default();
    let inline = INLINE_TYPES.contains(&content_type);
    Response::builder()
        .header(
            poem::http::header::CONTENT_TYPE,
            if inline {
                content_type
            } else {
                "application/octet-stream"
            },
        )
        .header(
            poem::http::header::CONTENT_DISPOSITION,
            if inline { "inline" } else { "attachment" },
        )
        .header(poem::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            poem::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        )
        .header(poem::http::header::CACHE_CONTROL, "private, max-age=3600")
        .body(bytes)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn item(content_type: &str, data_base64: &str) -> MediaIn {
        MediaIn {
            content_type: content_type.into(),
            data_base64: data_base64.into(),
        }
    }

    #[test]
    fn a_phone_attaches_up_to_20_items_of_a_real_content_type() {
        let twenty: Vec<MediaIn> = (0..20).map(|_| item("image/jpeg", "/9j/4A==")).collect();
        let decoded = decode_media(&twenty).expect("20 items");
        assert_eq!(
            decoded[0],
            ("image/jpeg".to_owned(), vec![0xFF, 0xD8, 0xFF, 0xE0])
        );
        let more: Vec<MediaIn> = (0..21).map(|_| item("image/jpeg", "/9j/4A==")).collect();
        assert!(decode_media(&more).is_err());
        for (content_type, data) in [
            ("image/jpeg\r\nX-Evil: 1", "AA=="),
            ("jpeg", "AA=="),
            ("image/", "AA=="),
            ("image/jpeg", "not base64!"),
            ("image/jpeg", ""),
        ] {
            assert!(
                decode_media(&[item(content_type, data)]).is_err(),
                "{content_type:?} {data:?}"
            );
        }
        assert_eq!(
            decode_media(&[item(" Image/PNG ", "AA==")]).expect("one")[0].0,
            "image/png"
        );
    }
}
