//! The client itself: configuration, base URLs per Twilio host, authentication, retries,
//! paging and metrics. The endpoint methods live in `numbers.rs` and `conversations.rs`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::RngExt;
use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;
use url::Url;

use super::error::{TOO_MANY_REQUESTS, TwilioError};
use super::urls::{Bases, Host, rebase_next_page};
use crate::secret::Secret;
use crate::telemetry::metric_names;

/// How we authenticate to Twilio (HTTP Basic either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Basic auth with the Account SID and its Auth Token.
    AuthToken(Secret),
    /// Basic auth with an API key (SK...) and its secret; the account SID still goes in v2010 paths.
    ApiKey { key_sid: String, secret: Secret },
}

/// Exponential backoff with full jitter for 429 / 5xx / connection failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (0 is treated as 1).
    pub max_attempts: u32,
    /// Upper bound of the first random wait; doubled after each retry.
    pub initial_backoff: Duration,
    /// Cap of a single wait, `Retry-After` included.
    pub max_backoff: Duration,
    /// No wait is started that would end after this much time since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            max_elapsed: Duration::from_secs(20),
        }
    }
}

/// Everything needed to build a [`TwilioClient`].
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    pub credentials: Credentials,
    /// NT_TWILIO_API_BASE: when set, each Twilio host becomes a path segment under it named after the
    /// host's first label: `{base}/api/2010-04-01/...`, `{base}/conversations/v1/...`, `{base}/messaging/v1/...`.
    /// When None: https://api.twilio.com, https://conversations.twilio.com, https://messaging.twilio.com.
    pub api_base: Option<Url>,
    /// Per HTTP attempt, from connecting to the end of the body.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

/// Talks to Twilio's REST APIs. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct TwilioClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    account_sid: String,
    /// The Basic-auth user: the account SID or the API key SID.
    username: String,
    password: Secret,
    bases: Bases,
    request_timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for TwilioClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioClient")
            .field("account_sid", &self.inner.account_sid)
            .field("username", &self.inner.username)
            .field("password", &self.inner.password)
            .field("bases", &self.inner.bases)
            .field("request_timeout", &self.inner.request_timeout)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

/// A 2xx answer: status and raw body.
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// What a POST carries: Twilio's form parameters, or a file as it is.
#[derive(Clone, Copy)]
enum Payload<'a> {
    Form(&'a [(&'a str, String)]),
    File {
        content_type: &'a str,
        data: &'a [u8],
    },
}

/// Which failed calls the retry loop repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// 429s, 5xx, and connection failures of calls that are safe to repeat.
    Whatever,
    /// Only what Twilio surely did not apply: 429s and connections never made.
    OnlyIfNotApplied,
}

/// A failed attempt and whether the retry loop may try again.
struct Failure {
    error: TwilioError,
    retry: bool,
    retry_after: Option<Duration>,
}

/// Guards against a server that keeps handing out next-page links.
const MAX_PAGES: usize = 200;

/// Conversations / Messaging list envelope: `{"<key>": [...], "meta": {"next_page_url": ...}}`.
#[derive(Deserialize)]
pub(crate) struct ListPage<T> {
    #[serde(
        default = "Vec::new",
        alias = "participants",
        alias = "conversations",
        alias = "messages"
    )]
    pub(crate) items: Vec<T>,
    #[serde(default)]
    pub(crate) meta: ListMeta,
}

#[derive(Default, Deserialize)]
pub(crate) struct ListMeta {
    #[serde(default)]
    pub(crate) next_page_url: Option<String>,
}

impl TwilioClient {
    pub fn new(config: TwilioConfig) -> Result<Self, TwilioError> {
        if config.account_sid.trim().is_empty() {
            return Err(TwilioError::Config("the account SID is empty".to_owned()));
        }
        let bases = Bases::new(config.api_base.as_ref())?;
        let (username, password) = match config.credentials {
            Credentials::AuthToken(token) => (config.account_sid.clone(), token),
            Credentials::ApiKey { key_sid, secret } => (key_sid, secret),
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("neighborhood-text/", env!("CARGO_PKG_VERSION")))
            // Twilio never redirects API calls; refusing keeps credentials on the configured host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| {
                TwilioError::Config(format!("cannot build the HTTP client: {error}"))
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                account_sid: config.account_sid,
                username,
                password,
                bases,
                request_timeout: config.request_timeout,
                retry: config.retry,
            }),
        })
    }

    pub fn account_sid(&self) -> &str {
        &self.inner.account_sid
    }

    pub(crate) fn base(&self, host: Host) -> &Url {
        self.inner.bases.get(host)
    }

    /// `{host base}/{segments...}`, each segment percent-encoded (unique names may hold anything).
    pub(crate) fn url(&self, host: Host, segments: &[&str]) -> Result<Url, TwilioError> {
        let mut url = self.base(host).clone();
        url.path_segments_mut()
            .map_err(|()| TwilioError::Config("base URL cannot hold a path".to_owned()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// `https://api.twilio.com/2010-04-01/Accounts/{AC}/{tail...}`.
    pub(crate) fn v2010_url(&self, tail: &[&str]) -> Result<Url, TwilioError> {
        let mut segments = vec!["2010-04-01", "Accounts", self.account_sid()];
        segments.extend_from_slice(tail);
        self.url(Host::Api, &segments)
    }

    /// Sends one call with retries. POST sends `form` as `application/x-www-form-urlencoded`
    /// (repeated keys for arrays); GET and DELETE ignore it.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        form: &[(&str, String)],
        webhook_enabled: bool,
    ) -> Result<RawResponse, TwilioError> {
        self.send_with(
            method,
            url,
            Payload::Form(form),
            webhook_enabled,
            Repeat::Whatever,
        )
        .await
    }

    /// POSTs `data` as it is, typed `content_type` (an upload to the Media Content Service),
    /// retried only when Twilio surely did not take it, as [`Self::send_unrepeated`].
    pub(crate) async fn send_file(
        &self,
        url: Url,
        content_type: &str,
        data: &[u8],
    ) -> Result<RawResponse, TwilioError> {
        self.send_with(
            Method::POST,
            url,
            Payload::File { content_type, data },
            false,
            Repeat::OnlyIfNotApplied,
        )
        .await
    }

    /// Sends a create that must not be carried out twice: retried only when Twilio surely did
    /// not apply it (429, no connection). A 5xx may come after Twilio applied it, so the caller
    /// gets the error and checks before trying again.
    pub(crate) async fn send_unrepeated(
        &self,
        url: Url,
        form: &[(&str, String)],
        webhook_enabled: bool,
    ) -> Result<RawResponse, TwilioError> {
        self.send_with(
            Method::POST,
            url,
            Payload::Form(form),
            webhook_enabled,
            Repeat::OnlyIfNotApplied,
        )
        .await
    }

    async fn send_with(
        &self,
        method: Method,
        url: Url,
        payload: Payload<'_>,
        webhook_enabled: bool,
        repeat: Repeat,
    ) -> Result<RawResponse, TwilioError> {
        let policy = self.inner.retry;
        let max_attempts = policy.max_attempts.max(1);
        let started = Instant::now();
        let mut backoff = policy.initial_backoff;
        let mut attempt = 1;
        // A create that failed in a way that may have applied it, then was throttled: the caller
        // must hear that it may have been applied, not only the last 429.
        let mut unsure: Option<TwilioError> = None;
        loop {
            let failure = match self
                .attempt(&method, &url, payload, webhook_enabled, repeat)
                .await
            {
                Ok(raw) => return Ok(raw),
                Err(failure) => failure,
            };
            let throttled = failure.error.status() == Some(429)
                || failure.error.code() == Some(TOO_MANY_REQUESTS);
            if method == Method::POST && failure.error.may_have_been_applied() {
                unsure.get_or_insert_with(|| failure.error.clone());
            }
            let give_up = |error: TwilioError| match &unsure {
                Some(unsure) if throttled => unsure.clone(),
                _ => error,
            };
            if !failure.retry || attempt >= max_attempts {
                return Err(give_up(failure.error));
            }
            let delay = retry_delay(&policy, backoff, failure.retry_after, jitter());
            if started.elapsed() + delay > policy.max_elapsed {
                return Err(give_up(failure.error));
            }
            tracing::warn!(
                attempt,
                kind = failure.error.outcome(),
                status = failure.error.status(),
                code = failure.error.code(),
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "Twilio call failed; retrying"
            );
            tokio::time::sleep(delay).await;
            backoff = backoff.saturating_mul(2).min(policy.max_backoff);
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        payload: Payload<'_>,
        webhook_enabled: bool,
        repeat: Repeat,
    ) -> Result<RawResponse, Failure> {
        // A POST that timed out or lost its connection mid-flight may have been applied.
        let idempotent = *method != Method::POST;
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .basic_auth(&self.inner.username, Some(self.inner.password.expose()))
            .timeout(self.inner.request_timeout)
            .header(ACCEPT, "application/json");
        if webhook_enabled {
            request = request.header("X-Twilio-Webhook-Enabled", "true");
        }
        if *method == Method::POST {
            request = match payload {
                Payload::Form(form) => request.form(form),
                Payload::File { content_type, data } => request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(data.to_vec()),
            };
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                // Nothing reached Twilio when the connection could not even be set up.
                let retry = idempotent || error.is_connect();
                return Err(Failure {
                    error: TwilioError::from_reqwest(error),
                    retry,
                    retry_after: None,
                });
            }
        };
        let status = response.status().as_u16();
        // The call's span (see `observe`) shows the last attempt's status.
        tracing::Span::current().record("http.response.status_code", status);
        let retry_after = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(error) if (200..300).contains(&status) => {
                return Err(Failure {
                    error: TwilioError::from_reqwest(error),
                    retry: idempotent,
                    retry_after: None,
                });
            }
            // The status already says what went wrong; the body was only for detail.
            Err(_) => Vec::new(),
        };
        if (200..300).contains(&status) {
            return Ok(RawResponse { status, body });
        }
        let error = TwilioError::from_response(status, &body);
        let throttled = status == 429 || error.code() == Some(TOO_MANY_REQUESTS);
        Err(Failure {
            retry: throttled || (status >= 500 && repeat == Repeat::Whatever),
            retry_after: retry_after.filter(|_| throttled),
            error,
        })
    }

    /// GETs a pre-signed address Twilio handed out (a picture's temporary content URL): without
    /// our credentials, which it does not need and whose host may not be Twilio's API; at most
    /// `max_bytes`, read as it arrives. Not retried: the caller asks Twilio for a fresh address.
    pub(crate) async fn fetch_anonymously(
        &self,
        address: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, TwilioError> {
        let url = self.inner.bases.content_address(address)?;
        let mut response = self
            .inner
            .http
            .get(url)
            .timeout(self.inner.request_timeout)
            .send()
            .await
            .map_err(TwilioError::from_reqwest)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(TwilioError::from_response(status, &[]));
        }
        let too_large = || TwilioError::Malformed {
            status,
            detail: format!("the content is larger than {max_bytes} bytes"),
        };
        if response
            .content_length()
            .is_some_and(|length| length > max_bytes)
        {
            return Err(too_large());
        }
        let mut data = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(TwilioError::from_reqwest)? {
            data.extend_from_slice(&chunk);
            if data.len() as u64 > max_bytes {
                return Err(too_large());
            }
        }
        Ok(data)
    }

    /// GETs `first` and every following page (`meta.next_page_url`), at most [`MAX_PAGES`].
    pub(crate) async fn collect_pages<T: DeserializeOwned>(
        &self,
        host: Host,
        first: Url,
    ) -> Result<Vec<T>, TwilioError> {
        let mut items = Vec::new();
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let page: ListPage<T> = decode(&self.send(Method::GET, url, &[], false).await?)?;
            items.extend(page.items);
            match page.meta.next_page_url.filter(|next| !next.is_empty()) {
                Some(next) => url = rebase_next_page(self.base(host), &next)?,
                None => return Ok(items),
            }
        }
        Err(TwilioError::Malformed {
            status: 200,
            detail: format!("more than {MAX_PAGES} pages"),
        })
    }
}

/// Decodes a 2xx JSON body.
pub(crate) fn decode<T: DeserializeOwned>(raw: &RawResponse) -> Result<T, TwilioError> {
    serde_json::from_slice(&raw.body).map_err(|error| TwilioError::Malformed {
        status: raw.status,
        detail: error.to_string(),
    })
}

/// Adds `name=value` to a form only when the value is set.
pub(crate) fn push_some<'a>(form: &mut Vec<(&'a str, String)>, name: &'a str, value: Option<&str>) {
    if let Some(value) = value {
        form.push((name, value.to_owned()));
    }
}

/// Runs one public call and records its final outcome and duration, in a span of its own: the
/// operation, the outcome and Twilio's status, never the address (its query may hold a phone
/// number) or the form (a body).
pub(crate) async fn observe<T>(
    operation: &'static str,
    call: impl Future<Output = Result<T, TwilioError>>,
) -> Result<T, TwilioError> {
    let started = Instant::now();
    let span = tracing::info_span!(
        "twilio",
        otel.name = operation,
        otel.kind = "client",
        twilio.operation = operation,
        twilio.outcome = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    let result = call.instrument(span.clone()).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(error) => error.outcome(),
    };
    span.record("twilio.outcome", outcome);
    if result.is_err() {
        span.record("otel.status_code", "ERROR");
    }
    metrics::counter!(metric_names::TWILIO_REQUESTS, "operation" => operation, "outcome" => outcome)
        .increment(1);
    metrics::histogram!(metric_names::TWILIO_REQUEST_DURATION, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    result
}

/// `Retry-After` in whole seconds (Twilio does not send the HTTP-date form).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// A uniform fraction in [0, 1) for full jitter.
fn jitter() -> f64 {
    rand::rng().random::<f64>()
}

/// Full jitter: `fraction` of the current backoff; a server's `Retry-After` wins. Both capped.
fn retry_delay(
    policy: &RetryPolicy,
    backoff: Duration,
    retry_after: Option<Duration>,
    fraction: f64,
) -> Duration {
    match retry_after {
        Some(wait) => wait.min(policy.max_backoff),
        None => backoff
            .min(policy.max_backoff)
            .mul_f64(fraction.clamp(0.0, 1.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_is_a_fraction_of_the_capped_backoff_and_honours_retry_after() {
        let policy = RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            max_elapsed: Duration::from_secs(20),
        };
        let backoff = Duration::from_secs(8);
        assert_eq!(
            retry_delay(&policy, backoff, None, 0.5),
            Duration::from_secs(2)
        );
        assert_eq!(retry_delay(&policy, backoff, None, 0.0), Duration::ZERO);
        assert_eq!(
            retry_delay(&policy, backoff, Some(Duration::from_secs(1)), 0.0),
            Duration::from_secs(1)
        );
        assert_eq!(
            retry_delay(&policy, backoff, Some(Duration::from_secs(60)), 0.0),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().expect("header value"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT"
                .parse()
                .expect("header value"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn the_debug_output_never_shows_the_secret() {
        let client = TwilioClient::new(TwilioConfig {
            account_sid: "AC123".to_owned(),
            credentials: Credentials::ApiKey {
                key_sid: "SK456".to_owned(),
                secret: Secret::new("very-secret-value"),
            },
            api_base: None,
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        })
        .expect("client builds");
        let debug = format!("{client:?}");
        assert!(debug.contains("SK456"));
        assert!(!debug.contains("very-secret-value"));
    }
}
