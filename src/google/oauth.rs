//! Google's OAuth 2.0 for web server applications, spoken directly: the hub needs one refresh
//! token per connected sheet, read-only, kept for months, so the captain's consent is asked with
//! `access_type=offline` and `prompt=consent` (Google hands out a refresh token only then), and
//! PKCE binds the returned code to the browser session that asked for it even though we are a
//! confidential client. Refusals are typed because each calls for a different reaction:
//! `invalid_grant` means the captain's grant is gone (pause, tell the captains, reconnect), a 429
//! or 5xx means later, anything else is a configuration mistake to show the operator.

use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::client::{Answer, Failure, GoogleClient, endpoint, json_error_detail};
use crate::secret::Secret;

/// The one scope the hub asks for: read the captain's spreadsheets, change nothing.
pub const SHEETS_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets.readonly";

/// Random bytes behind a code verifier: 32, as RFC 7636 §4.1 recommends (43 characters).
const VERIFIER_BYTES: usize = 32;

/// The PKCE secret kept server-side between the redirect to Google and the code exchange.
/// Prints as `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeVerifier(Secret);

/// A string that is not a PKCE code verifier (RFC 7636: 43 to 128 unreserved characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a PKCE code verifier is 43 to 128 characters from A-Z, a-z, 0-9 and \"-._~\"")]
pub struct InvalidCodeVerifier;

impl CodeVerifier {
    /// A fresh verifier from the thread's CSPRNG, base64url without padding (so only unreserved
    /// characters).
    pub fn generate() -> Self {
        let mut bytes = [0u8; VERIFIER_BYTES];
        rand::fill(&mut bytes[..]);
        Self(Secret::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ))
    }

    /// A verifier read back from storage, checked against RFC 7636's grammar.
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidCodeVerifier> {
        let value = value.into();
        let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
        if (43..=128).contains(&value.len()) && value.chars().all(unreserved) {
            Ok(Self(Secret::new(value)))
        } else {
            Err(InvalidCodeVerifier)
        }
    }

    /// The verifier itself, for storage and the token request only.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// `BASE64URL(SHA256(verifier))`, the `S256` challenge sent in the authorization URL.
    pub fn challenge(&self) -> CodeChallenge {
        let digest = Sha256::digest(self.expose().as_bytes());
        CodeChallenge(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest))
    }
}

/// The S256 challenge of a [`CodeVerifier`]: public, it travels in the browser's address bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where to send the captain's browser to ask for read-only access to their spreadsheets.
///
/// `redirect_uri` must equal, byte for byte, one registered on the OAuth client, and be sent
/// again unchanged to [`GoogleClient::exchange_code`]. `state` is the caller's anti-forgery
/// token, checked when Google redirects back.
pub fn authorization_url(
    auth_base: &Url,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    code_challenge: &CodeChallenge,
) -> Url {
    let mut url = endpoint(auth_base, &["o", "oauth2", "v2", "auth"]);
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", SHEETS_READONLY_SCOPE)
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("include_granted_scopes", "true")
        .append_pair("state", state)
        .append_pair("code_challenge", code_challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    url
}

/// What Google's token endpoint grants. Prints tokens as `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// For `Authorization: Bearer` on Sheets calls, until `expires_in` has passed.
    pub access_token: Secret,
    pub expires_in: Duration,
    /// Sent by a code exchange with `access_type=offline` and consent; a refresh usually sends
    /// none, and when it does send one, the new one replaces the stored one.
    pub refresh_token: Option<Secret>,
    /// Lifetime of the refresh token when the captain granted time-limited access.
    pub refresh_token_expires_in: Option<Duration>,
    /// The scopes granted, space-delimited: the consent screen lets people untick a scope, so
    /// check it with [`Tokens::grants`] rather than assuming.
    pub scope: String,
    /// Always `Bearer` at Google.
    pub token_type: String,
}

impl Tokens {
    /// Whether `scope` is among those granted.
    pub fn grants(&self, scope: &str) -> bool {
        self.scope.split_ascii_whitespace().any(|one| one == scope)
    }
}

/// The token endpoint's success body (RFC 6749 §5.1 plus Google's extra field).
#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: u64,
    refresh_token: Option<String>,
    refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    token_type: String,
}

/// An OAuth error body (RFC 6749 §5.2): `{"error": "...", "error_description": "..."}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

/// What a revocation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// Google revoked the token (and, for a refresh token, the access tokens made from it).
    Revoked,
    /// Google no longer knew the token as valid (`invalid_token`): already revoked or expired,
    /// which is what a disconnect wanted anyway.
    AlreadyInvalid,
}

/// A failed call to Google's token or revocation endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_grant`: on a refresh, the refresh token was revoked by the captain, expired
    /// (unused for six months, a password change, a test-mode client's 7 days) or reached
    /// Google's per-client limit; on a code exchange, the code was used, expired, or does not
    /// match the code verifier or redirect URI. Only a new consent helps.
    #[error(
        "Google refused the grant (invalid_grant){}",
        prefixed(": ", description)
    )]
    InvalidGrant { description: Option<String> },
    /// Any other refusal (`invalid_client`, `invalid_request`, `unauthorized_client`, ...):
    /// a configuration mistake, not worth retrying.
    #[error(
        "Google refused the OAuth request (HTTP {status}{}){}",
        prefixed(", ", error),
        prefixed(": ", description)
    )]
    Rejected {
        status: u16,
        error: Option<String>,
        description: Option<String>,
    },
    /// 429, 5xx, or Google's own "try again" codes: worth retrying, after `retry_after` when
    /// Google said so.
    #[error("Google's OAuth server is unavailable (HTTP {status})")]
    Unavailable {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// The call exceeded its timeout.
    #[error("Google's OAuth server did not answer in time")]
    Timeout,
    /// No usable HTTP exchange: connection refused or reset, TLS or DNS failure.
    #[error("cannot reach Google's OAuth server: {0}")]
    Transport(String),
    /// The answer was larger than the configured cap.
    #[error("Google's OAuth answer is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// A 2xx whose body was not what Google documents.
    #[error("unreadable answer from Google's OAuth server (HTTP {status}): {detail}")]
    Malformed { status: u16, detail: String },
}

/// `text` after `prefix`, or nothing when Google sent no text.
fn prefixed(prefix: &str, text: &Option<String>) -> String {
    text.as_deref()
        .map(|text| format!("{prefix}{text}"))
        .unwrap_or_default()
}

/// OAuth `error` codes that mean "later", whatever the status (Google's own libraries retry them).
const RETRYABLE_ERRORS: [&str; 3] = [
    "temporarily_unavailable",
    "server_error",
    "internal_failure",
];

impl OAuthError {
    /// Worth trying again later: 429, 5xx, a timeout or a transport failure.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. } | Self::Timeout | Self::Transport(_)
        )
    }

    /// How long Google asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    fn from_failure(failure: Failure) -> Self {
        match failure {
            Failure::Timeout => Self::Timeout,
            Failure::Transport(text) => Self::Transport(text),
            Failure::TooLarge { limit } => Self::TooLarge { limit },
        }
    }

    fn from_answer(answer: &Answer) -> Self {
        let body = serde_json::from_slice::<ErrorBody>(&answer.body).ok();
        let (error, description) = match body {
            Some(body) => (body.error, body.error_description),
            None => (None, None),
        };
        let status = answer.status;
        if status == 429
            || status >= 500
            || error
                .as_deref()
                .is_some_and(|error| RETRYABLE_ERRORS.contains(&error))
        {
            return Self::Unavailable {
                status,
                retry_after: answer.retry_after,
            };
        }
        if error.as_deref() == Some("invalid_grant") {
            return Self::InvalidGrant { description };
        }
        Self::Rejected {
            status,
            error,
            description,
        }
    }
}

impl GoogleClient {
    /// [`authorization_url`] with this client's ID and authorization base.
    pub fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        code_challenge: &CodeChallenge,
    ) -> Url {
        authorization_url(
            &self.config.auth_base,
            &self.config.client_id,
            redirect_uri,
            state,
            code_challenge,
        )
    }

    /// Trades the `code` Google put on the redirect for tokens. `redirect_uri` is the one the
    /// authorization URL carried; `verifier` the one whose challenge it carried.
    #[tracing::instrument(name = "google.oauth.exchange_code", skip_all)]
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &CodeVerifier,
        redirect_uri: &str,
    ) -> Result<Tokens, OAuthError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier.expose()),
            ("client_id", &self.config.client_id),
            ("client_secret", self.config.client_secret.expose()),
            ("redirect_uri", redirect_uri),
        ])
        .await
    }

    /// A fresh access token from a stored refresh token.
    #[tracing::instrument(name = "google.oauth.refresh", skip_all)]
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<Tokens, OAuthError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", &self.config.client_id),
            ("client_secret", self.config.client_secret.expose()),
        ])
        .await
    }

    /// Revokes a refresh or access token at Google (revoking a refresh token revokes the whole
    /// grant), so a disconnected sheet is no longer readable with anything we held.
    #[tracing::instrument(name = "google.oauth.revoke", skip_all)]
    pub async fn revoke(&self, token: &Secret) -> Result<Revocation, OAuthError> {
        let url = endpoint(&self.config.token_base, &["revoke"]);
        // In the form body rather than the query string Google's samples show: both are
        // accepted, and a body keeps the token out of every access log on the way.
        let request = self.http.post(url).form(&[("token", token.expose())]);
        let answer = self
            .fetch(request)
            .await
            .map_err(OAuthError::from_failure)?;
        if answer.is_success() {
            return Ok(Revocation::Revoked);
        }
        match OAuthError::from_answer(&answer) {
            OAuthError::Rejected {
                status: 400,
                error: Some(error),
                ..
            } if error == "invalid_token" => Ok(Revocation::AlreadyInvalid),
            error => Err(error),
        }
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<Tokens, OAuthError> {
        let url = endpoint(&self.config.token_base, &["token"]);
        let request = self.http.post(url).form(form);
        let answer = self
            .fetch(request)
            .await
            .map_err(OAuthError::from_failure)?;
        if !answer.is_success() {
            return Err(OAuthError::from_answer(&answer));
        }
        let body: TokenBody =
            serde_json::from_slice(&answer.body).map_err(|error| OAuthError::Malformed {
                status: answer.status,
                detail: json_error_detail(&error),
            })?;
        Ok(Tokens {
            access_token: Secret::new(body.access_token),
            expires_in: Duration::from_secs(body.expires_in),
            refresh_token: body.refresh_token.map(Secret::new),
            refresh_token_expires_in: body.refresh_token_expires_in.map(Duration::from_secs),
            scope: body.scope,
            token_type: body.token_type,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_generated_verifier_is_43_unreserved_characters_and_never_repeats() {
        let verifier = CodeVerifier::generate();
        assert_eq!(verifier.expose().len(), 43);
        assert_eq!(
            CodeVerifier::parse(verifier.expose()).as_ref(),
            Ok(&verifier)
        );
        assert_ne!(CodeVerifier::generate(), verifier);
        assert_eq!(format!("{verifier:?}"), "CodeVerifier([redacted])");
    }

    #[test]
    fn the_challenge_is_rfc_7636s_worked_example() {
        // RFC 7636, Appendix B.
        let verifier =
            CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("valid");
        assert_eq!(
            verifier.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_verifier_outside_the_grammar_is_refused() {
        assert_eq!(CodeVerifier::parse("short"), Err(InvalidCodeVerifier));
        assert_eq!(
            CodeVerifier::parse("a".repeat(129)),
            Err(InvalidCodeVerifier)
        );
        assert_eq!(
            CodeVerifier::parse(format!("{}+", "a".repeat(42))),
            Err(InvalidCodeVerifier)
        );
        assert!(CodeVerifier::parse("a".repeat(128)).is_ok());
    }

    #[test]
    fn the_authorization_url_asks_for_offline_read_only_access_with_s256() {
        let challenge = CodeChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned());
        let url = authorization_url(
            &Url::parse("https://accounts.google.com").expect("a URL"),
            "1234.apps.googleusercontent.com",
            "https://hood.example/api/v1/google/callback",
            "state-123",
            &challenge,
        );
        assert_eq!(url.path(), "/o/oauth2/v2/auth");
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let expected: HashMap<String, String> = [
            ("client_id", "1234.apps.googleusercontent.com"),
            (
                "redirect_uri",
                "https://hood.example/api/v1/google/callback",
            ),
            ("response_type", "code"),
            (
                "scope",
                "https://www.googleapis.com/auth/spreadsheets.readonly",
            ),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("include_granted_scopes", "true"),
            ("state", "state-123"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(query, expected);
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn refusals_are_told_apart_by_googles_error_code() {
        assert_eq!(
            OAuthError::from_answer(&answer(
                400,
                r#"{"error":"invalid_grant","error_description":"Bad Request"}"#
            )),
            OAuthError::InvalidGrant {
                description: Some("Bad Request".to_owned())
            }
        );
        let client = OAuthError::from_answer(&answer(
            401,
            r#"{"error":"invalid_client","error_description":"Unauthorized"}"#,
        ));
        assert_eq!(
            client.to_string(),
            "Google refused the OAuth request (HTTP 401, invalid_client): Unauthorized"
        );
        assert!(!client.is_retryable());
        let busy = OAuthError::from_answer(&answer(400, r#"{"error":"temporarily_unavailable"}"#));
        assert!(busy.is_retryable());
        let html = OAuthError::from_answer(&answer(502, "<html>Bad gateway</html>"));
        assert!(matches!(html, OAuthError::Unavailable { status: 502, .. }));
    }

    #[test]
    fn tokens_print_redacted_and_report_their_scopes() {
        let tokens = Tokens {
            access_token: Secret::new("ya29.access"),
            expires_in: Duration::from_secs(3599),
            refresh_token: Some(Secret::new("1//refresh")),
            refresh_token_expires_in: None,
            scope: format!("openid {SHEETS_READONLY_SCOPE}"),
            token_type: "Bearer".to_owned(),
        };
        let debug = format!("{tokens:?}");
        assert!(!debug.contains("ya29.access") && !debug.contains("1//refresh"));
        assert!(tokens.grants(SHEETS_READONLY_SCOPE));
        assert!(!tokens.grants("https://www.googleapis.com/auth/spreadsheets"));
    }
}
