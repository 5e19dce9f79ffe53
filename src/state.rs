//! What every handler can reach: settings, the store, the Twilio account, the metrics registry.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Settings;
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
}

impl AppState {
    /// Where Twilio sends texts to a neighborhood number from people outside the group.
    pub fn sms_webhook_url(&self) -> String {
        self.public_url("webhooks/twilio/sms")
    }

    /// An absolute URL under `NT_PUBLIC_URL` (which may itself have a path).
    pub fn public_url(&self, path: &str) -> String {
        let base = self.settings.public_url.as_str().trim_end_matches('/');
        format!("{base}/{path}")
    }
}
