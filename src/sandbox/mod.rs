//! The Twilio emulator and the simulated phones (sandbox mode).
//!
//! It speaks Twilio's wire protocol: the same paths (each Twilio host a path segment:
//! `/api/2010-04-01/...`, `/conversations/v1/...`, `/messaging/v1/...`), form parameters, JSON
//! fields, SIDs, dates, paging blocks, status codes and error bodies, so our real client (or anyone
//! else's) talks to it unchanged. It enforces the Twilio rules the service must cope with (50 SMS
//! participants, one binding per pair, `closed` is final, 30 mutations/s), routes texts from
//! simulated phones like Twilio does, and calls webhooks signed like Twilio signs them.
//!
//! All state lives in Redis under its own keys (`store::keys::SandboxKeys`), so the sandbox survives
//! a restart and several instances share one emulated account.
//!
//! `rest` serves the REST API (the Media Content Service too, as `/mcs/v1/...`), `records` keeps
//! the resources, `resources` renders them as Twilio does, `media` holds what Twilio does with
//! pictures (limits, webhook and message shapes, signed content URLs), `routing` carries a text
//! from a phone to a conversation or a webhook, `delivery` hands a conversation message to its
//! participants, `twiml` reads a webhook's TwiML answer,
//! `webhooks` signs and sends webhook requests, `phones` is the control API and live feed behind
//! the `/sandbox` page.

mod delivery;
mod media;
pub mod phones;
mod records;
mod resources;
pub mod rest;
mod routing;
mod twiml;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::clock::Clock;
use crate::secret::Secret;
use crate::store::Store;
use crate::store::keys::SandboxKeys;

pub use records::EmulatorError;
pub use records::content::{
    ANNOUNCEMENT_TEMPLATE_SID, CODE_TEMPLATE_SID, INVITE_TEMPLATE_SID, NOTICE_TEMPLATE_SID,
    approved_template,
};
pub use routing::{Outcome, Routed};

/// The emulated account, unless configured otherwise. Nothing real hides behind these values.
pub const DEFAULT_ACCOUNT_SID: &str = "AC5a4db0c05a4db0c05a4db0c05a4db0c0";
pub const DEFAULT_AUTH_TOKEN: &str = "sandbox-auth-token";
/// The Messaging Service every sandbox neighborhood number joins.
pub const DEFAULT_MESSAGING_SERVICE_SID: &str = "MG5a4db0c05a4db0c05a4db0c05a4db0c0";

/// Twilio's limit of SMS participants in one Conversation.
pub const MAX_SMS_PARTICIPANTS: usize = 50;
/// Twilio's default limit of mutating actions per Conversation per second.
pub const MUTATIONS_PER_SECOND: u64 = 30;
/// Twilio gives a pre-event webhook 5 seconds, then publishes the message unchanged.
pub const PRE_EVENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Latency and faults injected into REST answers, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InjectedFaults {
    /// Added to every REST answer.
    pub latency_ms: u64,
    /// Share (0 to 1) of REST calls answered 429 / 20429.
    pub rate_429: f64,
    /// Share (0 to 1) of REST calls answered 500.
    pub rate_500: f64,
    /// Share (0 to 1) of REST calls that hang for `timeout_ms` before answering 504.
    pub rate_timeout: f64,
    /// Share (0 to 1) of REST calls carried out (the text sent, the participant added), then
    /// answered 500 instead of their answer: Twilio can fail after applying a call.
    pub rate_applied_500: f64,
    /// Share (0 to 1) of REST calls carried out, then left hanging for `timeout_ms` before a 504:
    /// the caller cannot tell whether its call was applied.
    pub rate_applied_timeout: f64,
    /// How long a simulated timeout hangs.
    pub timeout_ms: u64,
}

impl InjectedFaults {
    /// Shares outside 0..=1 and absurd delays are refused.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("rate_429", self.rate_429),
            ("rate_500", self.rate_500),
            ("rate_timeout", self.rate_timeout),
            ("rate_applied_500", self.rate_applied_500),
            ("rate_applied_timeout", self.rate_applied_timeout),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1."));
            }
        }
        let total = self.rate_429
            + self.rate_500
            + self.rate_timeout
            + self.rate_applied_500
            + self.rate_applied_timeout;
        if total > 1.0 {
            return Err("The rates add up to at most 1.".into());
        }
        if self.latency_ms > 60_000 || self.timeout_ms > 120_000 {
            return Err("latency_ms is at most 60000 and timeout_ms at most 120000.".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub account_sid: String,
    pub auth_token: Secret,
    /// Where clients reach the REST API, for the `url` fields and paging links it returns
    /// (e.g. `http://127.0.0.1:4010` or `https://text.example.org/sandbox/twilio`).
    pub public_base: String,
    /// Webhook URLs starting with `.0` are delivered to `.1` instead, while the signature still
    /// covers the original URL, as when TLS ends at a proxy. In sandbox mode: the service's
    /// public URL to its own loopback address.
    pub webhook_redirect: Option<(String, String)>,
    /// Faults in force until changed through the control API.
    pub faults: InjectedFaults,
    /// Where webhooks may be sent; any other URL is never fetched.
    pub webhook_targets: WebhookTargets,
    /// What WhatsApp's 24-hour windows are measured by; in sandbox mode the service's own, so a
    /// test moves both.
    pub clock: Clock,
}

/// The URLs the emulator will send webhooks to (security review, finding 22). Its REST API takes
/// any `SmsUrl` or Conversations webhook URL, as Twilio does, but fetching an arbitrary one would
/// let whoever reaches the sandbox make the server request internal addresses (cloud metadata,
/// private services). A URL outside these is treated as unreachable (Twilio error 11205), which
/// the service copes with as it must with real Twilio.
#[derive(Debug, Clone, Default)]
pub struct WebhookTargets {
    /// URLs under one of these (same scheme, host and port, and a path below the base's).
    pub bases: Vec<url::Url>,
    /// Also any loopback address (`twilio-emulator`, which serves whatever runs beside it).
    pub any_loopback: bool,
}

/// The emulator; cheap to clone.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    keys: SandboxKeys,
    config: EmulatorConfig,
    http: reqwest::Client,
}

impl Emulator {
    /// Keys go under `{prefix}:{sandbox}`. No I/O happens here.
    pub fn new(store: Store, prefix: &str, config: EmulatorConfig) -> Self {
        let http = reqwest::Client::builder()
            .user_agent("TwilioProxy/1.1")
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                store,
                keys: SandboxKeys::new(prefix),
                config,
                http,
            }),
        }
    }

    pub fn account_sid(&self) -> &str {
        &self.inner.config.account_sid
    }

    pub fn auth_token(&self) -> &Secret {
        &self.inner.config.auth_token
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    fn keys(&self) -> &SandboxKeys {
        &self.inner.keys
    }

    fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }
}
