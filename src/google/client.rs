//! One HTTP client for every Google call, so that each of them gets the same guards: a connect
//! and a total timeout (a stalled Google must not hold a sync job forever), no redirects (a bearer
//! token or client secret stays on the configured host), and a cap on the body read (a sheet of
//! many thousand rows is read whole into memory, so a runaway answer is refused, not buffered).

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use url::Url;

use crate::secret::Secret;

/// Where Google's OAuth 2.0 authorization endpoint lives (`/o/oauth2/v2/auth` below it).
pub const GOOGLE_AUTH_BASE: &str = "https://accounts.google.com";
/// Where Google's token and revocation endpoints live (`/token`, `/revoke`).
pub const GOOGLE_TOKEN_BASE: &str = "https://oauth2.googleapis.com";
/// Where the Sheets API lives (`/v4/spreadsheets/...`).
pub const GOOGLE_SHEETS_BASE: &str = "https://sheets.googleapis.com";

/// Time to set up a connection to Google.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for a whole call, the body included: a big sheet over a slow link still fits.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read. Google recommends 2 MB payloads; ten times that is a runaway.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 10 * 1024 * 1024;

/// Everything needed to build a [`GoogleClient`].
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The OAuth client's ID (`....apps.googleusercontent.com`).
    pub client_id: String,
    /// The OAuth client's secret; only ever sent in token and refresh form bodies.
    pub client_secret: Secret,
    /// Base of the authorization endpoint; [`GOOGLE_AUTH_BASE`] in production.
    pub auth_base: Url,
    /// Base of the token and revocation endpoints; [`GOOGLE_TOKEN_BASE`] in production.
    pub token_base: Url,
    /// Base of the Sheets API; [`GOOGLE_SHEETS_BASE`] in production.
    pub sheets_base: Url,
    pub connect_timeout: Duration,
    /// Per call, from connecting to the end of the body.
    pub request_timeout: Duration,
    /// Answers larger than this are refused ([`DEFAULT_MAX_RESPONSE_BYTES`] by default).
    pub max_response_bytes: u64,
}

impl GoogleConfig {
    /// Google's production endpoints and the default timeouts and cap.
    pub fn new(client_id: impl Into<String>, client_secret: Secret) -> Self {
        let parse = |base: &str| Url::parse(base).unwrap_or_else(|_| unreachable!("{base}"));
        Self {
            client_id: client_id.into(),
            client_secret,
            auth_base: parse(GOOGLE_AUTH_BASE),
            token_base: parse(GOOGLE_TOKEN_BASE),
            sheets_base: parse(GOOGLE_SHEETS_BASE),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// The configuration could not make a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Google client configuration: {0}")]
pub struct GoogleConfigError(pub String);

/// Talks to Google's OAuth endpoints and the Sheets API. Cheap to clone; clones share one
/// connection pool. OAuth calls are in [`super::oauth`], Sheets calls in [`super::sheets`].
#[derive(Clone)]
pub struct GoogleClient {
    pub(super) http: reqwest::Client,
    pub(super) config: std::sync::Arc<GoogleConfig>,
}

impl fmt::Debug for GoogleClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config's secret prints as `[redacted]`.
        f.debug_struct("GoogleClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl GoogleClient {
    pub fn new(config: GoogleConfig) -> Result<Self, GoogleConfigError> {
        if config.client_id.trim().is_empty() {
            return Err(GoogleConfigError("the OAuth client ID is empty".to_owned()));
        }
        for (name, base) in [
            ("auth", &config.auth_base),
            ("token", &config.token_base),
            ("sheets", &config.sheets_base),
        ] {
            if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
                return Err(GoogleConfigError(format!(
                    "the {name} base {base} is not an http(s) address"
                )));
            }
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("neighborhood-text/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .build()
            .map_err(|error| GoogleConfigError(format!("cannot build the HTTP client: {error}")))?;
        Ok(Self {
            http,
            config: std::sync::Arc::new(config),
        })
    }

    pub fn config(&self) -> &GoogleConfig {
        &self.config
    }

    /// Sends one request and reads its answer, whatever the status, up to the size cap.
    pub(super) async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<Answer, Failure> {
        let mut response = request.send().await.map_err(Failure::from_reqwest)?;
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let limit = self.config.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(Failure::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Failure::from_reqwest)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(Failure::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }
}

/// `{base}/{segments...}`; each segment is taken as already percent-encoded.
pub(super) fn endpoint(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    let mut path = url.path().trim_end_matches('/').to_owned();
    for segment in segments {
        path.push('/');
        path.push_str(segment);
    }
    url.set_path(&path);
    url
}

/// An HTTP exchange that happened: its status, `Retry-After` and the body read whole.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) retry_after: Option<Duration>,
    pub(super) body: Vec<u8>,
}

impl Answer {
    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// No usable answer: what every Google error enum carries in its own terms.
pub(super) enum Failure {
    Timeout,
    Transport(String),
    TooLarge { limit: u64 },
}

impl Failure {
    /// Drops the URL (it names the spreadsheet) and keeps the causes, which reqwest nests.
    fn from_reqwest(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return Self::Timeout;
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Transport(text)
    }
}

/// Where and how a JSON body failed to decode, without serde's quote of the offending value
/// (it could be a token, or a neighbor's phone number in a cell).
pub(super) fn json_error_detail(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "not the documented shape",
        serde_json::error::Category::Eof => "cut short",
    };
    format!("{kind} at line {} column {}", error.line(), error.column())
}

/// `Retry-After` in whole seconds, the form Google sends.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_keeps_the_path_of_its_base() {
        let base = Url::parse("http://127.0.0.1:9/google/").expect("a URL");
        assert_eq!(
            endpoint(&base, &["o", "oauth2", "v2", "auth"]).as_str(),
            "http://127.0.0.1:9/google/o/oauth2/v2/auth"
        );
        let root = Url::parse(GOOGLE_TOKEN_BASE).expect("a URL");
        assert_eq!(
            endpoint(&root, &["token"]).as_str(),
            "https://oauth2.googleapis.com/token"
        );
    }

    #[test]
    fn a_json_error_never_quotes_the_value_it_choked_on() {
        let error = serde_json::from_str::<u64>(r#""ya29.secret""#).expect_err("not a number");
        assert!(error.to_string().contains("ya29.secret"));
        let detail = json_error_detail(&error);
        assert_eq!(detail, "not the documented shape at line 1 column 13");
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "30".parse().expect("a header value"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(30)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT"
                .parse()
                .expect("a header value"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn the_debug_output_never_shows_the_client_secret() {
        let client = GoogleClient::new(GoogleConfig::new(
            "1234.apps.googleusercontent.com",
            Secret::new("GOCSPX-very-secret"),
        ))
        .expect("the client builds");
        let debug = format!("{client:?}");
        assert!(debug.contains("1234.apps.googleusercontent.com"));
        assert!(!debug.contains("GOCSPX-very-secret"));
    }

    #[test]
    fn a_base_that_is_not_http_is_refused() {
        let mut config = GoogleConfig::new("id", Secret::new("secret"));
        config.sheets_base = Url::parse("mailto:someone@example.com").expect("a URL");
        assert!(GoogleClient::new(config).is_err());
    }
}
