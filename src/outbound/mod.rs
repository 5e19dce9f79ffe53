//! Calls to integrators' endpoints (issue 26): one signed POST per delivery, as the Standard
//! Webhooks specification says (`webhook-id`, `webhook-timestamp`, `webhook-signature` with one
//! `v1,<base64 HMAC-SHA256>` per live secret), over a client that reaches public addresses only
//! ([`address`]), follows no redirect, gives up after a few seconds and reads at most a few
//! hundred bytes of the answer.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

pub mod address;

use crate::domain::event_endpoint::SigningSecret;
pub use address::{Reach, Refusal};

/// How long one delivery may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer is kept for the delivery log.
pub const ANSWER_KEPT: usize = 512;

/// The endpoints' HTTP client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Sender {
    http: reqwest::Client,
    reach: Reach,
}

/// One delivery, ready to send.
pub struct Delivery<'a> {
    pub url: &'a str,
    /// The event's id: the same on every attempt, so the receiver can tell a repeat.
    pub id: &'a str,
    /// The JSON payload.
    pub payload: &'a str,
    pub secrets: Vec<&'a SigningSecret>,
}

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status; `None` when no answer came (refused address, timeout, no connection).
    pub status: Option<u16>,
    /// Its first bytes, or what went wrong.
    pub body: String,
    pub latency: Duration,
}

impl Answer {
    /// Whether the endpoint took it (any 2xx).
    pub fn accepted(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

impl Sender {
    pub fn new(reach: Reach) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .dns_resolver(address::Resolver::shared(reach))
                .redirect(reqwest::redirect::Policy::none())
                .timeout(TIMEOUT)
                .user_agent(concat!("neighborhood-text/", env!("CARGO_PKG_VERSION")))
                .build()?,
            reach,
        })
    }

    /// Posts `delivery`, signed now; never fails: a failure is an answer without a status.
    pub async fn send(&self, delivery: &Delivery<'_>) -> Answer {
        let started = Instant::now();
        // Checked again as sent: an address literal never reaches the resolver, and an endpoint
        // registered in sandbox mode may be read by a service that is not.
        if let Err(why) = address::check(delivery.url, self.reach) {
            return Answer {
                status: None,
                body: format!("refused: the URL {why}"),
                latency: started.elapsed(),
            };
        }
        let timestamp = OffsetDateTime::now_utc().unix_timestamp();
        let signature = match sign(delivery, timestamp) {
            Ok(signature) => signature,
            Err(why) => {
                return Answer {
                    status: None,
                    body: why,
                    latency: started.elapsed(),
                };
            }
        };
        let sent = self
            .http
            .post(delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(standardwebhooks::HEADER_WEBHOOK_ID, delivery.id)
            .header(
                standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
                timestamp.to_string(),
            )
            .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
            .body(delivery.payload.to_owned())
            .send()
            .await;
        let mut answer = match sent {
            Ok(answer) => answer,
            Err(error) => {
                return Answer {
                    status: None,
                    body: failure(&error),
                    latency: started.elapsed(),
                };
            }
        };
        let status = answer.status().as_u16();
        let mut kept = Vec::new();
        while kept.len() < ANSWER_KEPT {
            match answer.chunk().await {
                Ok(Some(chunk)) => {
                    let room = ANSWER_KEPT - kept.len();
                    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) | Err(_) => break,
            }
        }
        Answer {
            status: Some(status),
            body: String::from_utf8_lossy(&kept).into_owned(),
            latency: started.elapsed(),
        }
    }
}

/// `v1,<signature>` for each secret, space-separated: a receiver holding either of two secrets
/// (during a rotation) verifies it.
fn sign(delivery: &Delivery<'_>, timestamp: i64) -> Result<String, String> {
    let mut signatures = Vec::new();
    for secret in &delivery.secrets {
        let webhook = standardwebhooks::Webhook::new(&secret.shown())
            .map_err(|error| format!("a signing secret is unusable: {error}"))?;
        signatures.push(
            webhook
                .sign(delivery.id, timestamp, delivery.payload.as_bytes())
                .map_err(|error| format!("the payload could not be signed: {error}"))?,
        );
    }
    Ok(signatures.join(" "))
}

/// What went wrong, without the URL (it may carry a token of the integrator's).
fn failure(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(error) = source {
        if error.downcast_ref::<Refusal>().is_some() {
            return "refused: the endpoint's host resolves to an internal address".to_owned();
        }
        source = error.source();
    }
    if error.is_timeout() {
        "no answer within 10 s".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_internal_address_is_refused_as_sent_without_a_connection() {
        let sender = Sender::new(Reach::Public).expect("client");
        for url in ["https://127.0.0.1:9/hooks", "http://127.0.0.1:9/hooks"] {
            let answer = sender
                .send(&Delivery {
                    url,
                    id: "evt_1",
                    payload: "{}",
                    secrets: Vec::new(),
                })
                .await;
            assert_eq!(answer.status, None, "{url}");
            assert!(answer.body.starts_with("refused"), "{url}: {}", answer.body);
        }
    }

    /// The Standard Webhooks specification's own example: secret, id, timestamp, payload and the
    /// signature they make.
    #[test]
    fn the_specifications_example_signs_as_it_says() {
        let webhook = standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .expect("secret");
        let signature = webhook
            .sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#,
            )
            .expect("signed");
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
