//! Webhook requests as Twilio sends them: form parameters (or a query for `GET`), signed with
//! `X-Twilio-Signature` over the configured URL, carrying `I-Twilio-Idempotency-Token`, and tried a
//! second time, with the same token, when the connection fails; only to the allowed
//! [`WebhookTargets`].

use std::time::Duration;

use poem::http::StatusCode;
use serde_json::Value;

use super::{Emulator, WebhookTargets};
use crate::twilio::signature;

/// Twilio's own limit for webhooks other than the pre-event ones.
const POST_EVENT_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause before the second try of a connection that failed.
const CONNECT_RETRY_PAUSE: Duration = Duration::from_millis(200);

/// What a webhook answered.
#[derive(Debug)]
pub(super) struct WebhookAnswer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

/// Why no answer came.
#[derive(Debug)]
pub(super) enum WebhookFailure {
    /// No answer in time: a pre-event webhook then publishes the message unchanged.
    Timeout,
    /// The connection failed twice (logged where it happened).
    Unreachable,
    /// The URL is outside the emulator's [`WebhookTargets`]: never fetched.
    Refused,
}

impl WebhookTargets {
    /// Whether the emulator may send a webhook to `url`.
    pub fn allow(&self, url: &str) -> bool {
        let Ok(url) = url::Url::parse(url) else {
            return false;
        };
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        (self.any_loopback && loopback) || self.bases.iter().any(|base| under(&url, base))
    }
}

/// `url` on `base`'s origin, at or below its path.
fn under(url: &url::Url, base: &url::Url) -> bool {
    let path = base.path().trim_end_matches('/');
    url.scheme() == base.scheme()
        && url.host() == base.host()
        && url.port_or_known_default() == base.port_or_known_default()
        && url
            .path()
            .strip_prefix(path)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Emulator {
    /// Sends one signed webhook request and returns its answer.
    pub(super) async fn call_webhook(
        &self,
        url: &str,
        method: &str,
        params: Vec<(String, String)>,
        timeout: Duration,
    ) -> Result<WebhookAnswer, WebhookFailure> {
        if !self.config().webhook_targets.allow(url) {
            tracing::warn!(
                url,
                "webhook not sent: the sandbox calls only this service's own URLs (NT_SANDBOX_WEBHOOK_URLS adds more)"
            );
            return Err(WebhookFailure::Refused);
        }
        let get = method.eq_ignore_ascii_case("GET");
        // For GET the parameters travel in the query, and the signature covers that full URL.
        let signed_url = if get {
            with_query(url, &params)
        } else {
            url.to_owned()
        };
        let signed_params: &[(String, String)] = if get { &[] } else { &params };
        let signature = signature::sign(self.auth_token().expose(), &signed_url, signed_params);
        let target = self.delivery_url(&signed_url);
        let token = uuid::Uuid::new_v4().to_string();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let request = if get {
                self.inner.http.get(&target)
            } else {
                self.inner.http.post(&target).form(&params)
            };
            let outcome = request
                .header("X-Twilio-Signature", &signature)
                .header("I-Twilio-Idempotency-Token", &token)
                .timeout(timeout)
                .send()
                .await;
            match outcome {
                Ok(response) => {
                    let status = StatusCode::from_u16(response.status().as_u16())
                        .unwrap_or(StatusCode::BAD_GATEWAY);
                    let content_type = response
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let body = response.text().await.unwrap_or_default();
                    return Ok(WebhookAnswer {
                        status,
                        content_type,
                        body,
                    });
                }
                Err(error) if error.is_timeout() => return Err(WebhookFailure::Timeout),
                Err(error) if error.is_connect() && attempt < 2 => {
                    tracing::debug!(%error, url, "webhook connection failed; trying once more");
                    tokio::time::sleep(CONNECT_RETRY_PAUSE).await;
                }
                Err(error) => {
                    tracing::warn!(%error, url, "webhook unreachable (Twilio error 11205)");
                    return Err(WebhookFailure::Unreachable);
                }
            }
        }
    }

    /// Where a request for `url` actually goes: the configured redirect applies to URLs under the
    /// service's public URL, as a proxy in front of the service would.
    fn delivery_url(&self, url: &str) -> String {
        match &self.config().webhook_redirect {
            Some((from, to)) if url.starts_with(from.as_str()) => {
                format!("{to}{}", &url[from.len()..])
            }
            _ => url.to_owned(),
        }
    }

    /// Posts a post-event webhook in the background, if the account asked for this event.
    pub(super) fn post_event(&self, event: &'static str, params: Vec<(String, String)>) {
        let emulator = self.clone();
        tokio::spawn(async move {
            let configuration = match emulator.stored_webhook_configuration().await {
                Ok(Some(configuration)) => configuration,
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(%error, "sandbox webhook configuration unreadable");
                    return;
                }
            };
            let Some(url) = configured_url(&configuration, "post_webhook_url", event) else {
                return;
            };
            let method = configuration["method"]
                .as_str()
                .unwrap_or("POST")
                .to_owned();
            let mut params = params;
            params.extend(emulator.common_params(event));
            if let Err(failure) = emulator
                .call_webhook(&url, &method, params, POST_EVENT_TIMEOUT)
                .await
            {
                tracing::warn!(?failure, event, "post-event webhook not delivered");
            }
        });
    }

    /// Parameters Twilio puts on every Conversations webhook.
    pub(super) fn common_params(&self, event: &str) -> Vec<(String, String)> {
        vec![
            ("AccountSid".into(), self.account_sid().to_owned()),
            ("EventType".into(), event.to_owned()),
            ("RetryCount".into(), "0".into()),
            (
                "ChatServiceSid".into(),
                format!("IS{}", &self.account_sid()[2..]),
            ),
        ]
    }

    /// Fires `onConversationAdded` / `Updated` / `Removed` for a REST call that asked for webhooks.
    pub(super) fn conversation_event(&self, event: &'static str, conversation: &Value) {
        let mut params = vec![("Source".into(), "API".into())];
        for (param, field) in [
            ("ConversationSid", "sid"),
            ("FriendlyName", "friendly_name"),
            ("UniqueName", "unique_name"),
            ("Attributes", "attributes"),
            ("MessagingServiceSid", "messaging_service_sid"),
            ("State", "state"),
            ("DateCreated", "date_created"),
            ("DateUpdated", "date_updated"),
        ] {
            if let Some(value) = conversation[field].as_str() {
                params.push((param.into(), value.to_owned()));
            }
        }
        self.post_event(event, params);
    }

    /// Fires `onParticipantAdded` / `Removed` for a REST call that asked for webhooks.
    pub(super) fn participant_event(&self, event: &'static str, participant: &Value) {
        let binding = &participant["messaging_binding"];
        let mut params = vec![("Source".into(), "API".into())];
        for (param, value) in [
            ("ConversationSid", &participant["conversation_sid"]),
            ("ParticipantSid", &participant["sid"]),
            ("Attributes", &participant["attributes"]),
            ("DateCreated", &participant["date_created"]),
            ("MessagingBinding.Address", &binding["address"]),
            ("MessagingBinding.ProxyAddress", &binding["proxy_address"]),
        ] {
            if let Some(value) = value.as_str() {
                params.push((param.into(), value.to_owned()));
            }
        }
        params.push(("MessagingBinding.Type".into(), "SMS".into()));
        self.post_event(event, params);
    }
}

/// The URL configured for this kind of event, if the event is among the configured filters.
pub(super) fn configured_url(configuration: &Value, field: &str, event: &str) -> Option<String> {
    let wanted = configuration["filters"]
        .as_array()
        .is_some_and(|filters| filters.iter().any(|f| f == event));
    configuration[field]
        .as_str()
        .filter(|url| wanted && !url.is_empty())
        .map(str::to_owned)
}

fn with_query(url: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return url.to_owned();
    }
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(bases: &[&str], any_loopback: bool) -> WebhookTargets {
        WebhookTargets {
            bases: bases
                .iter()
                .map(|base| base.parse().expect("url"))
                .collect(),
            any_loopback,
        }
    }

    #[test]
    fn webhooks_go_only_under_the_allowed_bases() {
        let ours = targets(
            &["https://text.example.org/app", "http://127.0.0.1:8080"],
            false,
        );
        for allowed in [
            "https://text.example.org/app/webhooks/twilio/sms",
            "https://text.example.org:443/app",
            "http://127.0.0.1:8080/webhooks/twilio/conversations/pre?x=1",
        ] {
            assert!(ours.allow(allowed), "{allowed}");
        }
        for refused in [
            "https://text.example.org/application",
            "https://text.example.org/other",
            "http://text.example.org/app/webhooks",
            "https://text.example.org.attacker.net/app",
            "https://text.example.org@attacker.net/app",
            "http://127.0.0.1:6379/",
            "http://localhost:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/admin",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(!ours.allow(refused), "{refused}");
        }
    }

    #[test]
    fn the_standalone_emulator_also_calls_any_loopback_address() {
        let standalone = targets(&[], true);
        for allowed in [
            "http://127.0.0.1:3000/sms",
            "http://localhost:8080/",
            "http://[::1]:9000/",
        ] {
            assert!(standalone.allow(allowed), "{allowed}");
        }
        for refused in [
            "http://169.254.169.254/",
            "http://192.168.1.1/",
            "https://example.org/",
        ] {
            assert!(!standalone.allow(refused), "{refused}");
        }
    }
}
