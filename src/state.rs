//! What every handler can reach: settings, the store, the Twilio account, the metrics registry.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Settings;
use crate::domain::content_template::ContentTemplate;
use crate::sandbox::Emulator;
use crate::secret::Secret;
use crate::store::Store;
use crate::twilio::TwilioClient;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    /// None when no Twilio account is configured: the API answers, provisioning refuses.
    pub twilio: Option<TwilioAccount>,
    /// The built-in Twilio emulator, in sandbox mode.
    pub sandbox: Option<Emulator>,
    pub metrics: PrometheusHandle,
    /// Signs session tokens and sign-in code hashes: `NT_SESSION_SECRET`, or random per start.
    pub session_key: Secret,
    /// The live-update streams open on this instance.
    pub streams: Arc<StreamSlots>,
    /// The requests in flight on this instance, per kind of route.
    pub budgets: Arc<RequestBudgets>,
    /// Whether this instance turned a webhook away because Redis failed, and the backfill passes
    /// it ran since.
    pub backfill: Arc<BackfillSignal>,
    /// The client that posts events to integrators' endpoints.
    pub endpoints: crate::outbound::Sender,
    /// Google, for the spreadsheet hub; None when the operator set no Google OAuth client.
    pub google: Option<Arc<crate::google::GoogleAccess>>,
}

/// How many requests an instance serves at once, with a separate budget for Twilio's webhooks:
/// a flood of slow or many requests on the public routes must not leave the pre-event webhook
/// waiting past Twilio's 5 s, after which Twilio publishes the message unchecked (security
/// review, finding 11).
#[derive(Debug)]
pub struct RequestBudgets {
    /// Every route but the webhooks and the probes (`NT_MAX_PUBLIC_REQUESTS`).
    pub public: Arc<tokio::sync::Semaphore>,
    /// `/webhooks/twilio/...` (`NT_MAX_WEBHOOK_REQUESTS`).
    pub webhooks: Arc<tokio::sync::Semaphore>,
}

impl RequestBudgets {
    pub fn new(public: usize, webhooks: usize) -> Self {
        Self {
            public: Arc::new(tokio::sync::Semaphore::new(public)),
            webhooks: Arc::new(tokio::sync::Semaphore::new(webhooks)),
        }
    }
}

/// Set when a webhook was answered 503 because Redis was down or full: what Twilio told us then
/// is read back from Twilio (`crate::jobs::backfill`) as soon as Redis answers again. Kept in
/// memory, since Redis is what is failing when it is set.
#[derive(Debug, Default)]
pub struct BackfillSignal {
    due: std::sync::atomic::AtomicBool,
    turned_away: std::sync::atomic::AtomicU64,
    passes: std::sync::atomic::AtomicU64,
}

impl BackfillSignal {
    /// A webhook was turned away (503) because Redis failed.
    pub fn turned_away_one(&self) {
        self.turned_away
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.mark_due();
    }

    /// Webhooks this instance turned away because Redis failed.
    pub fn turned_away(&self) -> u64 {
        self.turned_away.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn mark_due(&self) {
        self.due.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_due(&self) -> bool {
        self.due.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Clears the flag; true when it was set.
    pub fn take_due(&self) -> bool {
        self.due.swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// Backfill passes this instance completed.
    pub fn passes(&self) -> u64 {
        self.passes.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn count_pass(&self) {
        self.passes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Counts the live-update streams open on this instance, in all and per caller, so neither one
/// caller nor everyone together can hold every connection slot (or Redis connection).
#[derive(Debug, Default)]
pub struct StreamSlots {
    open: std::sync::Mutex<(usize, std::collections::HashMap<String, usize>)>,
}

/// Why a stream was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRefused {
    /// The caller has `per_caller` streams open already.
    Caller,
    /// The instance holds its maximum.
    Instance,
}

/// One open stream; dropping it frees the slot.
#[derive(Debug)]
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    caller: String,
}

impl StreamSlots {
    /// A slot for `caller`, unless they hold `per_caller` or the instance `total` already.
    pub fn take(
        self: &Arc<Self>,
        caller: String,
        per_caller: usize,
        total: usize,
    ) -> Result<StreamSlot, SlotRefused> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let held = open.1.get(&caller).copied().unwrap_or(0);
        if held >= per_caller {
            return Err(SlotRefused::Caller);
        }
        if open.0 >= total {
            return Err(SlotRefused::Instance);
        }
        open.0 += 1;
        open.1.insert(caller.clone(), held + 1);
        Ok(StreamSlot {
            slots: self.clone(),
            caller,
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.0 = open.0.saturating_sub(1);
        if let Some(held) = open.1.get_mut(&self.caller) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                open.1.remove(&self.caller);
            }
        }
    }
}

/// The Twilio account neighborhoods are provisioned in.
#[derive(Clone)]
pub struct TwilioAccount {
    pub client: TwilioClient,
    /// Every number joins it and every Conversation is pinned to it (one A2P campaign).
    pub messaging_service_sid: String,
    /// The account's Auth Token, which signs Twilio's webhook requests. None when only an API
    /// key is configured: webhooks cannot be verified then, and are refused.
    pub webhook_auth_token: Option<Secret>,
    /// The approved WhatsApp templates for members outside their 24-hour window.
    pub whatsapp_templates: WhatsappTemplates,
}

/// Content templates approved for the account's WhatsApp senders, each with its languages.
#[derive(Debug, Clone, Default)]
pub struct WhatsappTemplates {
    /// "There are new messages in {{1}}. Reply READ to read them."
    pub new_messages: Option<ContentTemplate>,
    /// "{{1}}: {{2}} Reply READ to read the group."
    pub announcement: Option<ContentTemplate>,
    /// Meta's authentication template, "{{1}} is your verification code. ...": the join page's
    /// code to a neighbor joining on WhatsApp, who has never written to the sender.
    pub code: Option<ContentTemplate>,
    /// "{{1}} invited you to {{2}}'s neighborhood group on WhatsApp. Join at {{3}} or reply JOIN
    /// and your name.": a captain's invite to a phone on WhatsApp.
    pub invite: Option<ContentTemplate>,
}

impl AppState {
    /// The phone made a platform admin at start in sandbox mode (`NT_SANDBOX_ADMIN_PHONE`).
    pub fn sandbox_admin_phone(&self) -> Option<crate::domain::phone::Phone> {
        self.sandbox.as_ref()?;
        // Checked when the settings were read, and canonical since: only its shape is checked
        // again (`/health` says it on every call).
        crate::domain::phone::Phone::try_from(self.settings.sandbox_admin_phone.clone()).ok()
    }

    /// Where Twilio sends texts to a neighborhood number from people outside the group.
    pub fn sms_webhook_url(&self) -> String {
        self.public_url("webhooks/twilio/sms")
    }

    /// The client's address: the connection's peer, or, when the peer is a trusted proxy
    /// (`NT_TRUSTED_PROXIES`), what it says in `NT_CLIENT_IP_HEADER`, read from the right.
    pub fn client_ip(&self, request: &poem::Request) -> String {
        let Some(peer) = request.remote_addr().as_socket_addr().map(|addr| addr.ip()) else {
            return "unknown".to_owned();
        };
        let header = self
            .settings
            .client_ip_header
            .as_deref()
            .and_then(|name| request.headers().get(name)?.to_str().ok());
        self.settings
            .trusted_proxies
            .client(peer, header)
            .to_string()
    }

    /// What per-IP rate limits count for this request: the client's address, or its /64 for
    /// IPv6.
    pub fn client_rate_subject(&self, request: &poem::Request) -> String {
        crate::domain::client_ip::rate_subject(&self.client_ip(request))
    }

    /// An absolute URL under `NT_PUBLIC_URL` (which may itself have a path).
    pub fn public_url(&self, path: &str) -> String {
        let base = self.settings.public_url.as_str().trim_end_matches('/');
        format!("{base}/{path}")
    }
}
