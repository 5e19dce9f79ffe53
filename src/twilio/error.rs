//! Errors from the Twilio REST client.
//!
//! Policy: Twilio's own error body (`{code, message, more_info, status}`) is kept as
//! [`TwilioError::Api`] so callers can branch on the code (50416 binding conflict, 20404 gone, ...).
//! No variant ever carries a credential, a request body or a full URL: transport errors are
//! rendered without their URL because query strings hold neighbors' phone numbers.

use std::error::Error as StdError;

/// A failed call to Twilio, after any automatic retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwilioError {
    /// Twilio answered with a non-2xx status. `code` is Twilio's error code, or 0 when the body
    /// was not a Twilio error document (an HTML 502 from a proxy, an empty 404).
    #[error("Twilio error {code} (HTTP {status}): {message}")]
    Api {
        status: u16,
        code: u32,
        message: String,
    },
    /// Twilio answered 2xx but the body was not the JSON we expected.
    #[error("unreadable Twilio response (HTTP {status}): {detail}")]
    Malformed { status: u16, detail: String },
    /// An attempt exceeded `request_timeout`. A timed-out create may still have been applied.
    #[error("Twilio request timed out")]
    Timeout,
    /// No usable HTTP exchange: connection refused or reset, TLS or DNS failure.
    #[error("Twilio transport error: {0}")]
    Transport(String),
    /// The client could not be built or a request URL could not be formed.
    #[error("invalid Twilio client configuration: {0}")]
    Config(String),
}

/// Codes Twilio uses for "this thing does not exist" besides a plain 404.
const NOT_FOUND_CODES: [u32; 2] = [20404, 50432];
/// "Too Many Requests": Twilio documents it as never processed and always safe to retry.
pub(crate) const TOO_MANY_REQUESTS: u32 = 20429;

impl TwilioError {
    /// Twilio's error code, when Twilio sent one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Api { code, .. } if *code != 0 => Some(*code),
            _ => None,
        }
    }

    /// The error without Twilio's own words, which can quote a neighbor's phone number: what
    /// logs at info level and above, and people below captain, get. Twilio's code stays.
    pub fn redacted(&self) -> String {
        match self {
            Self::Api { status, code, .. } => format!("Twilio error {code} (HTTP {status})"),
            Self::Malformed { status, .. } => format!("unreadable Twilio response (HTTP {status})"),
            other => other.to_string(),
        }
    }

    /// The HTTP status of a Twilio answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::Malformed { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The resource does not exist (HTTP 404, or codes 20404 / 50432).
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Api { status, code, .. } => *status == 404 || NOT_FOUND_CODES.contains(code),
            _ => false,
        }
    }

    /// A transient failure worth trying again later: 429 / 20429, any 5xx, a timeout or a
    /// transport error. A timed-out or interrupted create may have been applied, so check
    /// before repeating a non-idempotent call.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, code, .. } => {
                *status == 429 || *code == TOO_MANY_REQUESTS || *status >= 500
            }
            Self::Timeout | Self::Transport(_) => true,
            Self::Malformed { .. } | Self::Config(_) => false,
        }
    }

    /// Whether the call may have been carried out although it failed: Twilio failed (5xx) or
    /// timed out after receiving it, the connection broke, or its answer was unreadable. A 429
    /// was never processed; any other refusal was not applied.
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            Self::Api { status, code, .. } => *status >= 500 && *code != TOO_MANY_REQUESTS,
            Self::Timeout | Self::Transport(_) | Self::Malformed { .. } => true,
            Self::Config(_) => false,
        }
    }

    /// The `outcome` label of the `twilio_requests_total` metric.
    pub(crate) fn outcome(&self) -> &'static str {
        match self {
            Self::Api { .. } => "api_error",
            Self::Malformed { .. } => "malformed",
            Self::Timeout => "timeout",
            Self::Transport(_) => "transport",
            Self::Config(_) => "config",
        }
    }

    /// Builds the error for a non-2xx answer from its status and raw body.
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Body {
            code: Option<u32>,
            message: Option<String>,
        }
        match serde_json::from_slice::<Body>(body) {
            Ok(Body { code, message }) if code.is_some() || message.is_some() => Self::Api {
                status,
                code: code.unwrap_or(0),
                message: message.unwrap_or_else(|| format!("HTTP {status}")),
            },
            _ => Self::Api {
                status,
                code: 0,
                message: format!("HTTP {status} without a Twilio error body"),
            },
        }
    }

    /// Converts a reqwest failure, dropping the URL (it may hold phone numbers).
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return Self::Timeout;
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Transport(text)
    }
}

#[cfg(test)]
mod tests {
    use super::TwilioError;

    #[test]
    fn a_twilio_error_body_keeps_its_code_and_message() {
        let body = br#"{"code": 50416, "message": "A binding for this participant and proxy address already exists in Conversation CH123", "more_info": "https://www.twilio.com/docs/errors/50416", "status": 409}"#;
        let error = TwilioError::from_response(409, body);
        assert_eq!(error.code(), Some(50416));
        assert_eq!(error.status(), Some(409));
        assert!(error.to_string().contains("CH123"));
        assert!(!error.is_retryable());
    }

    #[test]
    fn a_body_that_is_not_a_twilio_error_gives_code_zero() {
        let error = TwilioError::from_response(502, b"<html>Bad gateway</html>");
        assert!(matches!(
            error,
            TwilioError::Api {
                status: 502,
                code: 0,
                ..
            }
        ));
        assert_eq!(error.code(), None);
        assert!(error.is_retryable());
    }

    #[test]
    fn not_found_covers_404_and_the_participant_code() {
        assert!(TwilioError::from_response(404, b"").is_not_found());
        assert!(TwilioError::from_response(400, br#"{"code":50432,"message":"x"}"#).is_not_found());
        assert!(
            !TwilioError::from_response(400, br#"{"code":21211,"message":"x"}"#).is_not_found()
        );
        assert!(!TwilioError::Timeout.is_not_found());
    }

    #[test]
    fn code_20429_is_retryable_whatever_the_status() {
        assert!(TwilioError::from_response(400, br#"{"code":20429,"message":"x"}"#).is_retryable());
        assert!(TwilioError::from_response(429, b"").is_retryable());
        assert!(
            !TwilioError::from_response(400, br#"{"code":50422,"message":"x"}"#).is_retryable()
        );
    }

    #[test]
    fn the_redacted_form_keeps_the_code_and_drops_twilios_words() {
        let error = TwilioError::from_response(
            400,
            br#"{"code":21211,"message":"The 'To' number +15551234567 is not a valid phone number."}"#,
        );
        assert_eq!(error.redacted(), "Twilio error 21211 (HTTP 400)");
        assert!(error.to_string().contains("+15551234567"));
    }
}
