//! The emulated REST API: one endpoint that checks Basic auth (20003), counts the call by
//! operation (`GET /sandbox/api/requests`), injects the configured latency and faults, and
//! dispatches on Twilio's paths. `numbers` serves api.twilio.com and
//! messaging.twilio.com, `conversations` serves conversations.twilio.com, `media` serves
//! mcs.us1.twilio.com (whose temporary content URLs are the one call served without Basic auth).

mod conversations;
mod media;
mod numbers;

use std::time::Duration;

use base64::Engine;
use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, Request, Response};
use rand::RngExt;
use serde_json::{Value, json};

use super::media::MAX_UPLOAD_BYTES;
use super::records::{EmulatorError, EmulatorResult, ErrorAnswer, Slice};
use super::{Emulator, InjectedFaults};

/// The largest request body: an upload of [`MAX_UPLOAD_BYTES`]; forms are a few KB.
const MAX_REQUEST_BYTES: usize = MAX_UPLOAD_BYTES;

/// A failure injected into one REST call (see [`InjectedFaults`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Throttled,
    Failed,
    Hung,
    AppliedThenFailed,
    AppliedThenHung,
}

impl Fault {
    /// Whether the call is carried out before its answer is lost.
    fn applies_the_call(self) -> bool {
        matches!(self, Self::AppliedThenFailed | Self::AppliedThenHung)
    }
}

/// Serves the emulated Twilio hosts under whatever path it is nested at.
pub struct RestEndpoint {
    emulator: Emulator,
}

impl Emulator {
    /// The REST API as a poem endpoint (nest it at `/sandbox/twilio` or serve it at `/`).
    pub fn rest_endpoint(&self) -> RestEndpoint {
        RestEndpoint {
            emulator: self.clone(),
        }
    }
}

/// What a handler needs from the request.
pub(super) struct Call {
    pub method: Method,
    /// Percent-decoded path segments after the mount point.
    pub segments: Vec<String>,
    /// Query and form parameters, in order, repeats kept.
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    /// `X-Twilio-Webhook-Enabled: true`.
    pub webhook_enabled: bool,
    /// The raw body and its `Content-Type` (an MCS upload is the file itself).
    pub body: bytes::Bytes,
    pub content_type: Option<String>,
}

impl Call {
    /// The first value of a form parameter.
    pub fn form(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a repeated form parameter.
    pub fn form_all(&self, name: &str) -> Vec<String> {
        self.form
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `PageSize` (bounded by `max`) and the offset encoded in `PageToken`, or `Page` * size.
    pub fn paging(&self, default_size: usize, max_size: usize) -> (usize, usize, usize) {
        let size = self
            .query("PageSize")
            .and_then(|s| s.parse().ok())
            .unwrap_or(default_size)
            .clamp(1, max_size);
        let page: usize = self.query("Page").and_then(|p| p.parse().ok()).unwrap_or(0);
        let offset = self
            .query("PageToken")
            .and_then(|token| token.strip_prefix("PT"))
            .and_then(|offset| offset.parse().ok())
            .unwrap_or(page * size);
        (page, size, offset)
    }
}

/// A handler's answer: a status and a JSON body (204 has none).
pub(super) type Answer = EmulatorResult<(StatusCode, Option<Value>)>;

/// What the endpoint sends back: JSON, or a media's bytes.
pub(super) enum Reply {
    Json(StatusCode, Option<Value>),
    Content {
        content_type: String,
        bytes: Vec<u8>,
    },
}

pub(super) fn created(value: Value) -> Answer {
    Ok((StatusCode::CREATED, Some(value)))
}

pub(super) fn ok(value: Value) -> Answer {
    Ok((StatusCode::OK, Some(value)))
}

pub(super) fn no_content() -> Answer {
    Ok((StatusCode::NO_CONTENT, None))
}

pub(super) fn not_found<T>(call: &Call) -> EmulatorResult<T> {
    let path: String = call
        .segments
        .iter()
        .skip(2)
        .map(|s| format!("/{s}"))
        .collect();
    Err(ErrorAnswer::not_found(&path).into())
}

pub(super) fn required(call: &Call, name: &str) -> EmulatorResult<String> {
    call.form(name)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            ErrorAnswer::new(
                400,
                20001,
                format!("Missing required parameter {name} in the post body"),
            )
            .into()
        })
}

/// The `meta` block of a Conversations or Messaging list. Its URLs keep the request's other
/// query parameters (`Order=desc`, `Address=...`) before the paging ones, as Twilio's do, so the
/// next page continues the same list in the same order.
pub(super) fn meta_page(
    call: &Call,
    list_url: &str,
    key: &str,
    page: usize,
    size: usize,
    offset: usize,
    slice: &Slice,
) -> Value {
    let kept: Vec<(&str, &str)> = call
        .query
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "PageSize" | "Page" | "PageToken"))
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let url = |paging: &[(&str, String)]| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(kept.iter().copied());
        query.extend_pairs(paging.iter().map(|(name, value)| (*name, value.as_str())));
        format!("{list_url}?{}", query.finish())
    };
    let page_url = |page: usize, offset: usize| {
        url(&[
            ("PageSize", size.to_string()),
            ("Page", page.to_string()),
            ("PageToken", format!("PT{offset}")),
        ])
    };
    let first = url(&[("PageSize", size.to_string()), ("Page", "0".to_owned())]);
    json!({
        "page": page,
        "page_size": size,
        "first_page_url": first,
        "previous_page_url": (page > 0).then(|| page_url(page - 1, offset.saturating_sub(size))),
        "url": if page == 0 { first.clone() } else { page_url(page, offset) },
        "next_page_url": slice.more.then(|| page_url(page + 1, offset + size)),
        "key": key,
    })
}

/// A v2010 list: the items under `key` with Twilio's relative paging URIs, which keep the
/// list's `filters` (as Twilio's do: `?To=%2B1...&DateSent%3E=2008-01-02&PageSize=...`).
pub(super) fn v2010_page(
    list_path: &str,
    filters: &[(&str, &str)],
    key: &str,
    (page, size, offset): (usize, usize, usize),
    slice: Slice,
) -> Value {
    let query = |paging: &[(&str, String)]| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(filters.iter().copied());
        query.extend_pairs(paging.iter().map(|(name, value)| (*name, value.as_str())));
        format!("{list_path}?{}", query.finish())
    };
    let page_uri = |page: usize, offset: usize| {
        query(&[
            ("PageSize", size.to_string()),
            ("Page", page.to_string()),
            ("PageToken", format!("PT{offset}")),
        ])
    };
    let first = query(&[("PageSize", size.to_string()), ("Page", "0".to_owned())]);
    let count = slice.items.len();
    json!({
        key: slice.items,
        "first_page_uri": first,
        "previous_page_uri": (page > 0).then(|| page_uri(page - 1, offset.saturating_sub(size))),
        "next_page_uri": slice.more.then(|| page_uri(page + 1, offset + size)),
        "uri": if page == 0 { first.clone() } else { page_uri(page, offset) },
        "page": page,
        "page_size": size,
        "start": offset,
        "end": (offset + count).saturating_sub(1),
    })
}

fn error_response(answer: &ErrorAnswer) -> Response {
    let body = json!({
        "code": answer.code,
        "message": answer.message,
        "more_info": format!("https://www.twilio.com/docs/errors/{}", answer.code),
        "status": answer.status,
    });
    json_response(
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST),
        Some(&body),
    )
}

/// A media's bytes. Served from the service's own origin in sandbox mode (Twilio serves them from
/// another), so never sniffed nor run: an uploaded page opens in a sandbox of its own.
fn content_response(content_type: &str, bytes: Vec<u8>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        )
        .body(bytes)
}

fn json_response(status: StatusCode, body: Option<&Value>) -> Response {
    match body {
        Some(body) => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body.to_string()),
        None => Response::builder().status(status).finish(),
    }
}

impl RestEndpoint {
    fn authorized(&self, request: &Request) -> bool {
        let Some(credentials) = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .ok()
            })
            .and_then(|decoded| String::from_utf8(decoded).ok())
        else {
            return false;
        };
        let expected = format!(
            "{}:{}",
            self.emulator.account_sid(),
            self.emulator.auth_token().expose()
        );
        // Constant time: the token is a secret even in the sandbox.
        credentials.len() == expected.len()
            && credentials
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Counts the call (see [`operation`]) and reads the faults in force: one Redis round trip.
    /// Without Redis the call goes uncounted and the configured faults apply.
    async fn count(&self, method: &Method, segments: &[String]) -> InjectedFaults {
        match self
            .emulator
            .count_request(&operation(method, segments))
            .await
        {
            Ok(faults) => faults,
            Err(error) => {
                tracing::debug!(%error, "sandbox REST call not counted");
                self.emulator.config().faults
            }
        }
    }

    /// The configured latency, then the fault drawn for this call, if any.
    async fn draw_fault(&self, faults: InjectedFaults) -> Option<Fault> {
        if faults.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
        }
        let draw: f64 = rand::rng().random_range(0.0..1.0);
        let mut bound = 0.0;
        [
            (faults.rate_429, Fault::Throttled),
            (faults.rate_500, Fault::Failed),
            (faults.rate_timeout, Fault::Hung),
            (faults.rate_applied_500, Fault::AppliedThenFailed),
            (faults.rate_applied_timeout, Fault::AppliedThenHung),
        ]
        .into_iter()
        .find_map(|(rate, fault)| {
            bound += rate;
            (draw < bound).then_some(fault)
        })
    }

    /// The answer a fault gives in place of the call's own.
    async fn faulty_answer(fault: Fault, faults: InjectedFaults) -> Response {
        match fault {
            Fault::Throttled => error_response(&ErrorAnswer::new(429, 20429, "Too Many Requests")),
            Fault::Failed | Fault::AppliedThenFailed => {
                error_response(&ErrorAnswer::new(500, 20500, "Internal Server Error"))
            }
            Fault::Hung | Fault::AppliedThenHung => {
                tokio::time::sleep(Duration::from_millis(faults.timeout_ms.max(1))).await;
                error_response(&ErrorAnswer::new(504, 20504, "Gateway Timeout"))
            }
        }
    }

    async fn dispatch(&self, call: &Call) -> EmulatorResult<Reply> {
        let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
        let answer = match segments.as_slice() {
            ["api", "2010-04-01", "Accounts", account, rest @ ..] => {
                if *account != self.emulator.account_sid()
                    && *account != format!("{}.json", self.emulator.account_sid())
                {
                    return not_found(call);
                }
                self.emulator.serve_api(call, rest).await
            }
            ["messaging", "v1", rest @ ..] => self.emulator.serve_messaging(call, rest).await,
            ["conversations", "v1", rest @ ..] => {
                self.emulator.serve_conversations(call, rest).await
            }
            ["mcs", "v1", rest @ ..] => return self.emulator.serve_mcs(call, rest).await,
            _ => not_found(call),
        };
        answer.map(|(status, body)| Reply::Json(status, body))
    }
}

impl Endpoint for RestEndpoint {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let method = request.method().clone();
        let segments: Vec<String> = request
            .uri()
            .path()
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(percent_decode)
            .collect();
        let query: Vec<(String, String)> = request
            .uri()
            .query()
            .map(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        if !self.authorized(&request) {
            // A temporary media URL carries its own credential, good for one media a while.
            match self
                .emulator
                .signed_content_holds(&method, &segments, &query)
            {
                Some(true) => {}
                Some(false) => {
                    return Ok(error_response(&ErrorAnswer::new(
                        403,
                        20403,
                        "Forbidden: the media URL expired or its signature is wrong",
                    )));
                }
                None => {
                    let answer = ErrorAnswer::new(401, 20003, "Authenticate");
                    let mut response = error_response(&answer);
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        poem::http::HeaderValue::from_static("Basic realm=\"Twilio API\""),
                    );
                    return Ok(response);
                }
            }
        }
        let faults = self.count(&method, &segments).await;
        let fault = self.draw_fault(faults).await;
        if let Some(fault) = fault.filter(|fault| !fault.applies_the_call()) {
            return Ok(Self::faulty_answer(fault, faults).await);
        }
        let webhook_enabled = request
            .headers()
            .get("X-Twilio-Webhook-Enabled")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = match request
            .into_body()
            .into_bytes_limit(MAX_REQUEST_BYTES)
            .await
        {
            Ok(body) => body,
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                return Ok(error_response(&ErrorAnswer::new(
                    413,
                    20413,
                    format!(
                        "The request body is larger than the emulator takes ({} MiB)",
                        MAX_REQUEST_BYTES / (1024 * 1024)
                    ),
                )));
            }
            Err(_) => bytes::Bytes::new(),
        };
        // Every host takes forms but MCS, whose uploads are the file itself.
        let form = if segments.first().is_some_and(|host| host == "mcs") {
            Vec::new()
        } else {
            url::form_urlencoded::parse(&body).into_owned().collect()
        };
        let call = Call {
            method,
            segments,
            query,
            form,
            webhook_enabled,
            body,
            content_type,
        };
        let answer = self.dispatch(&call).await;
        if let Some(fault) = fault {
            // Carried out, but the caller never learns how it went.
            return Ok(Self::faulty_answer(fault, faults).await);
        }
        Ok(match answer {
            Ok(Reply::Json(status, body)) => json_response(status, body.as_ref()),
            Ok(Reply::Content {
                content_type,
                bytes,
            }) => content_response(&content_type, bytes),
            Err(EmulatorError::Twilio(answer)) => error_response(&answer),
            Err(EmulatorError::Store(error)) => {
                tracing::error!(%error, "sandbox emulator storage failed");
                error_response(&ErrorAnswer::new(503, 20503, "Service Unavailable"))
            }
        })
    }
}

/// What a call does, for counting: the method and Twilio's path on its own host, with
/// identifiers replaced so calls to different resources count together, e.g.
/// `POST /v1/Conversations/{sid}/Messages` or
/// `GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json`. SIDs (two capitals and 32 hex
/// digits) become `{sid}`, a Conversation named by its unique name too, phone numbers `{phone}`.
pub(super) fn operation(method: &Method, segments: &[String]) -> String {
    let host = matches!(
        segments.first().map(String::as_str),
        Some("api" | "conversations" | "messaging" | "mcs")
    );
    let mut path = String::new();
    let mut previous = "";
    for segment in &segments[usize::from(host).min(segments.len())..] {
        let (stem, json) = match segment.strip_suffix(".json") {
            Some(stem) => (stem, ".json"),
            None => (segment.as_str(), ""),
        };
        path.push('/');
        if is_sid(stem) || previous == "Conversations" {
            path.push_str("{sid}");
            path.push_str(json);
        } else if stem.starts_with('+') {
            path.push_str("{phone}");
            path.push_str(json);
        } else {
            path.push_str(segment);
        }
        previous = segment;
    }
    if path.is_empty() {
        path.push('/');
    }
    format!("{method} {path}")
}

fn is_sid(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    bytes.len() == 34
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..].iter().all(u8::is_ascii_hexdigit)
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, path: &str) -> String {
        let segments: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        operation(&method, &segments)
    }

    #[test]
    fn operations_name_twilios_paths_with_placeholders_for_identifiers() {
        let ch = "CH0123456789abcdef0123456789abcdef";
        let ac = "AC5a4db0c05a4db0c05a4db0c05a4db0c0";
        assert_eq!(
            op(
                Method::POST,
                &format!("/conversations/v1/Conversations/{ch}/Messages")
            ),
            "POST /v1/Conversations/{sid}/Messages"
        );
        assert_eq!(
            op(Method::GET, "/conversations/v1/Conversations/nb-1-shard-0"),
            "GET /v1/Conversations/{sid}",
            "a unique name stands for the Conversation"
        );
        assert_eq!(
            op(
                Method::DELETE,
                &format!(
                    "/api/2010-04-01/Accounts/{ac}/IncomingPhoneNumbers/PN0123456789abcdef0123456789abcdef.json"
                )
            ),
            "DELETE /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{sid}.json"
        );
        assert_eq!(
            op(Method::GET, &format!("/api/2010-04-01/Accounts/{ac}.json")),
            "GET /2010-04-01/Accounts/{sid}.json"
        );
        assert_eq!(
            op(
                Method::POST,
                "/messaging/v1/Services/MG5a4db0c05a4db0c05a4db0c05a4db0c0/PhoneNumbers"
            ),
            "POST /v1/Services/{sid}/PhoneNumbers"
        );
        assert_eq!(
            op(Method::GET, "/conversations/v1/ParticipantConversations"),
            "GET /v1/ParticipantConversations"
        );
        assert_eq!(
            op(Method::GET, "/elsewhere/%2B15550001111"),
            "GET /elsewhere/{phone}"
        );
        assert_eq!(
            op(
                Method::GET,
                "/mcs/v1/Services/IS5a4db0c05a4db0c05a4db0c05a4db0c0/Media/ME0123456789abcdef0123456789abcdef/Content"
            ),
            "GET /v1/Services/{sid}/Media/{sid}/Content"
        );
        assert_eq!(op(Method::GET, "/"), "GET /");
    }
}
