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
    /// Signs session tokens and sign-in code hashes: `NT_SESSION_SECRET`, or random per start.
    pub session_key: Secret,
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
    /// The phone made a platform admin at start in sandbox mode (`NT_SANDBOX_ADMIN_PHONE`).
    pub fn sandbox_admin_phone(&self) -> Option<crate::domain::phone::Phone> {
        self.sandbox.as_ref()?;
        crate::domain::phone::Phone::parse(&self.settings.sandbox_admin_phone).ok()
    }

    /// Where Twilio sends texts to a neighborhood number from people outside the group.
    pub fn sms_webhook_url(&self) -> String {
        self.public_url("webhooks/twilio/sms")
    }

    /// The client's address: the configured proxy header (`NT_CLIENT_IP_HEADER`) when set,
    /// otherwise the connection's peer.
    pub fn client_ip(&self, request: &poem::Request) -> String {
        let from_header = self.settings.client_ip_header.as_deref().and_then(|name| {
            let value = request.headers().get(name)?.to_str().ok()?;
            value.split(',').next().map(|first| first.trim().to_owned())
        });
        from_header.filter(|ip| !ip.is_empty()).unwrap_or_else(|| {
            match request.remote_addr().as_socket_addr() {
                Some(addr) => addr.ip().to_string(),
                None => "unknown".to_owned(),
            }
        })
    }

    /// An absolute URL under `NT_PUBLIC_URL` (which may itself have a path).
    pub fn public_url(&self, path: &str) -> String {
        let base = self.settings.public_url.as_str().trim_end_matches('/');
        format!("{base}/{path}")
    }
}
