//! An app in sandbox mode (the built-in emulator stands in for Twilio): spawning one, a second
//! instance or a killable one, and reading the emulator's view (phones' inboxes, participants).

use std::time::Duration;

use neighborhood_text::config::Settings;
use neighborhood_text::secret::Secret;
use neighborhood_text::twilio::{Credentials, RetryPolicy, TwilioClient, TwilioConfig};
use serde_json::{Value, json};
use wiremock::MockServer;

use super::{TestApp, Who, eventually, poll_until, spawn_app_with, test_settings};

/// How long a text may take to reach a simulated phone: it goes through the outbox, on a machine
/// that may be compiling too.
const TEXT_WAIT: Duration = Duration::from_secs(20);

pub const SANDBOX_ACCOUNT_SID: &str = neighborhood_text::sandbox::DEFAULT_ACCOUNT_SID;
pub const SANDBOX_AUTH_TOKEN: &str = neighborhood_text::sandbox::DEFAULT_AUTH_TOKEN;
pub const SANDBOX_SERVICE_SID: &str = neighborhood_text::sandbox::DEFAULT_MESSAGING_SERVICE_SID;

/// An app in sandbox mode (the built-in emulator stands in for Twilio). Its `twilio` mock server
/// is free to play a webhook receiver. Returns once the sandbox has configured its webhooks.
pub async fn spawn_sandbox_app() -> TestApp {
    let receiver = MockServer::start().await;
    let settings = sandbox_settings(&receiver);
    spawn_sandbox_app_with(receiver, settings).await
}

/// A sandbox app without the periodic reconciliation (whose REST calls would blur the counts a
/// test makes at the emulator), with `adjust` applied to its settings.
pub async fn spawn_counting_sandbox_app(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let receiver = MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.reconcile_every_secs = 0;
    adjust(&mut settings);
    spawn_sandbox_app_with(receiver, settings).await
}

/// Settings of an app in sandbox mode (the built-in emulator stands in for Twilio) with its own
/// key prefix; `receiver` is free to play a webhook receiver, and the emulator may call it.
pub fn sandbox_settings(receiver: &MockServer) -> Settings {
    let mut settings = test_settings(receiver);
    settings.twilio_account_sid = None;
    settings.twilio_auth_token = None;
    settings.twilio_messaging_service_sid = None;
    settings.twilio_api_base = None;
    settings.sandbox = neighborhood_text::config::SandboxMode::On;
    // The emulator calls no webhook outside the service unless told: let it call the receiver.
    settings.emulator.webhook_urls = vec![receiver.uri().parse().expect("url")];
    settings
}

/// A sandbox app with `settings`, once the sandbox has configured its webhooks.
pub async fn spawn_sandbox_app_with(receiver: MockServer, settings: Settings) -> TestApp {
    let app = spawn_app_with(receiver, settings).await;
    eventually(
        Duration::from_secs(10),
        "the sandbox to configure its webhooks",
        || async {
            let configuration: Value = app
                .emulator_get("/conversations/v1/Configuration/Webhooks")
                .await
                .json()
                .await
                .unwrap_or_default();
            configuration["pre_webhook_url"].is_string()
        },
    )
    .await;
    app
}

/// A second sandbox instance sharing `first`'s Redis prefix: the same emulated account and data.
pub async fn spawn_second_sandbox_instance(first: &TestApp) -> TestApp {
    spawn_sandbox_instance(&first.prefix, |_| {}).await
}

/// Another sandbox instance on an existing Redis `prefix` (the same emulated account and data),
/// with its settings changed by `adjust`.
pub async fn spawn_sandbox_instance(prefix: &str, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let receiver = MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.redis_prefix = prefix.to_owned();
    adjust(&mut settings);
    spawn_app_with(receiver, settings).await
}

/// A sandbox app on a Tokio runtime of its own (its own OS threads), so that a test can kill it
/// the hard way: [`KillableApp::kill`] shuts that runtime down at once, dropping requests, Redis
/// round trips and outbox work in flight, with no graceful shutdown, as a crash or SIGKILL would.
///
/// Use it through its [`TestApp`] (`Deref`) for HTTP only: its `state` lives on the app's own
/// runtime and is unusable once the app is killed.
pub struct KillableApp {
    app: TestApp,
    /// Taken when killed.
    runtime: Option<tokio::runtime::Runtime>,
}

impl KillableApp {
    /// Builds and starts a sandbox app (fresh key prefix) inside its own runtime.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// [`KillableApp::spawn`] with its settings changed by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings) + Send + 'static) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("killable-app")
            .enable_all()
            .build()
            .expect("a runtime for the app");
        let app = runtime
            .spawn(async move {
                let receiver = MockServer::start().await;
                let mut settings = sandbox_settings(&receiver);
                adjust(&mut settings);
                spawn_sandbox_app_with(receiver, settings).await
            })
            .await
            .expect("the app starts");
        Self {
            app,
            runtime: Some(runtime),
        }
    }

    /// Kills the app: its runtime stops with whatever it was doing; the port closes. Returns its
    /// Redis key prefix, for a new instance to take over.
    pub fn kill(mut self) -> String {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        self.app.prefix.clone()
    }
}

impl Drop for KillableApp {
    /// A runtime cannot be dropped (waiting for its threads) inside the test's async context.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::ops::Deref for KillableApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}
impl TestApp {
    /// A URL of the emulated Twilio REST API (`/api/2010-04-01/...`, `/conversations/v1/...`).
    pub fn emulator_url(&self, path: &str) -> String {
        format!("{}/sandbox/twilio{path}", self.address)
    }

    pub async fn emulator_get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.emulator_url(path))
            .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn emulator_post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.emulator_url(path))
            .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
            .form(form)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn emulator_delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(self.emulator_url(path))
            .basic_auth(SANDBOX_ACCOUNT_SID, Some(SANDBOX_AUTH_TOKEN))
            .send()
            .await
            .expect("request sent")
    }

    /// Texts `to` as the simulated phone `from`; returns the control API's answer.
    pub async fn text(&self, from: &str, to: &str, body: &str) -> Value {
        self.post(
            &Who::Admin,
            &format!("/sandbox/api/phones/{}/messages", from.replace('+', "%2B")),
            &json!({"to": to, "body": body}),
            200,
        )
        .await
    }

    /// Texts `to` as the simulated phone `from` with pictures, each (content type, bytes);
    /// returns the control API's answer.
    pub async fn text_with_media(
        &self,
        from: &str,
        to: &str,
        body: &str,
        media: &[(&str, Vec<u8>)],
    ) -> Value {
        use base64::Engine;
        let media: Vec<Value> = media
            .iter()
            .map(|(content_type, bytes)| {
                json!({
                    "content_type": content_type,
                    "data_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
                })
            })
            .collect();
        self.post(
            &Who::Admin,
            &format!("/sandbox/api/phones/{}/messages", from.replace('+', "%2B")),
            &json!({"to": to, "body": body, "media": media}),
            200,
        )
        .await
    }

    /// What a simulated phone has received, with each message's pictures: (from, body,
    /// [(content type, size)]), oldest first.
    pub async fn inbox_media(&self, phone: &str) -> Vec<(String, String, Vec<(String, u64)>)> {
        self.inboxes_media().await.remove(phone).unwrap_or_default()
    }

    /// Every simulated phone's inbox with the pictures, from one read of the emulator's state.
    pub async fn inboxes_media(
        &self,
    ) -> std::collections::HashMap<String, Vec<(String, String, Vec<(String, u64)>)>> {
        let state = self.get(&Who::Admin, "/sandbox/api/state", 200).await;
        let read = |item: &Value| {
            let text = |field: &str| item[field].as_str().unwrap_or_default().to_owned();
            let media = item["media"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|media| {
                    (
                        media["content_type"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        media["size"].as_u64().unwrap_or_default(),
                    )
                })
                .collect();
            (text("from"), text("body"), media)
        };
        state["phones"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                let phone = entry["phone"].as_str().unwrap_or_default().to_owned();
                let inbox = entry["inbox"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(read)
                    .collect();
                (phone, inbox)
            })
            .collect()
    }

    /// What a simulated phone (or WhatsApp address) has received: (from, body, status) oldest
    /// first.
    pub async fn inbox(&self, phone: &str) -> Vec<(String, String, String)> {
        self.inboxes().await.remove(phone).unwrap_or_default()
    }

    /// Every simulated phone's inbox, by its address, from one read of the emulator's state (no
    /// REST call, so none is counted).
    pub async fn inboxes(
        &self,
    ) -> std::collections::HashMap<String, Vec<(String, String, String)>> {
        let state = self.get(&Who::Admin, "/sandbox/api/state", 200).await;
        state["phones"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|entry| {
                let inbox = entry["inbox"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| {
                        let text =
                            |field: &str| item[field].as_str().unwrap_or_default().to_owned();
                        (text("from"), text("body"), text("status"))
                    })
                    .collect();
                (entry["phone"].as_str().expect("phone").to_owned(), inbox)
            })
            .collect()
    }

    /// Registers the account's number `number` as a WhatsApp sender at the emulated Twilio
    /// (Meta's part, at Twilio).
    pub async fn register_whatsapp_sender(&self, number: &str) {
        self.post(
            &Who::Admin,
            "/sandbox/api/whatsapp-senders",
            &json!({"phone": number}),
            201,
        )
        .await;
    }

    /// The newest text in `phone`'s inbox containing `needle`, polling until one arrives (20 s).
    pub async fn wait_for_text(&self, phone: &str, needle: &str) -> String {
        poll_until(
            TEXT_WAIT,
            &format!("a text with `{needle}` to reach {phone}"),
            || async {
                self.inbox(phone)
                    .await
                    .into_iter()
                    .rev()
                    .find(|(_, body, _)| body.contains(needle))
                    .map(|(_, body, _)| body)
            },
        )
        .await
    }

    /// `DELETE` (reset, answering what it cleared) or `GET /sandbox/api/requests`: the REST calls
    /// the emulator counted, by operation.
    pub async fn rest_calls(&self, reset: bool) -> Value {
        let path = "/sandbox/api/requests";
        if reset {
            self.delete(&Who::Admin, path, 200).await
        } else {
            self.get(&Who::Admin, path, 200).await
        }
    }
}

/// The project's own client, pointed at an app's emulator, to read Twilio's view.
pub fn emulator_client(app: &TestApp) -> TwilioClient {
    TwilioClient::new(TwilioConfig {
        account_sid: SANDBOX_ACCOUNT_SID.into(),
        credentials: Credentials::AuthToken(Secret::new(SANDBOX_AUTH_TOKEN)),
        api_base: Some(app.emulator_url("/").parse().expect("url")),
        request_timeout: Duration::from_secs(10),
        retry: RetryPolicy::default(),
    })
    .expect("client")
}

/// Waits until every member's Twilio side is done; fails on a failed one.
pub async fn wait_until_synced(
    app: &TestApp,
    id: &str,
    expected: usize,
    within: Duration,
) -> Vec<Value> {
    let path = format!("/api/v1/neighborhoods/{id}/members?limit=500");
    poll_until(
        within,
        &format!("{expected} members to be in sync"),
        || async {
            let members = app.get(&Who::Admin, &path, 200).await;
            let members = members["items"].as_array().cloned().unwrap_or_default();
            assert!(
                members.iter().all(|m| m["sync"] != "failed"),
                "a member failed to sync: {members:?}"
            );
            (members.len() == expected && members.iter().all(|m| m["sync"] == "done"))
                .then_some(members)
        },
    )
    .await
}

/// Adds `phones` by the API, eight at a time, named "Neighbor {first}", "Neighbor {first + 1}", ...
pub async fn add_members(app: &TestApp, id: &str, phones: &[String], first: usize) {
    use futures::stream::{self, StreamExt};
    stream::iter(phones.iter().enumerate())
        .map(|(n, phone)| async move {
            app.add_member_by_api(id, phone, &format!("Neighbor {}", first + n))
                .await;
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
}

/// Twilio's view: the SMS addresses in each Conversation of the neighborhood.
pub async fn participants_by_shard(app: &TestApp, id: &str) -> Vec<(String, Vec<String>)> {
    let neighborhood = app
        .get(&Who::Admin, &format!("/api/v1/neighborhoods/{id}"), 200)
        .await;
    let client = emulator_client(app);
    let mut shards = Vec::new();
    for shard in neighborhood["shards"].as_array().expect("shards") {
        let sid = shard["conversation_sid"].as_str().expect("sid").to_owned();
        let addresses = client
            .list_participants(&sid)
            .await
            .expect("participants")
            .into_iter()
            .filter_map(|p| p.messaging_binding.and_then(|binding| binding.address))
            .collect();
        shards.push((sid, addresses));
    }
    shards
}

/// POSTs `params` to one of the sandbox app's Twilio webhooks (`path`, e.g. `/webhooks/twilio/sms`)
/// signed as Twilio signs them, with `delivery` as its `I-Twilio-Idempotency-Token`.
pub async fn deliver_webhook(
    app: &TestApp,
    path: &str,
    params: &[(&str, &str)],
    delivery: &str,
) -> reqwest::Response {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    let signature = neighborhood_text::twilio::signature::sign(
        SANDBOX_AUTH_TOKEN,
        &format!("{}{path}", super::PUBLIC_URL),
        &params,
    );
    reqwest::Client::new()
        .post(app.url(path))
        .header("X-Twilio-Signature", signature)
        .header("I-Twilio-Idempotency-Token", delivery)
        .form(&params)
        .send()
        .await
        .expect("sent")
}
