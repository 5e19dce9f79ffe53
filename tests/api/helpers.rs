//! Test helpers: an app built exactly as production builds it, on port 0, with its own Redis key
//! prefix, and Twilio played by a wiremock server.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use neighborhood_text::config::Settings;
use neighborhood_text::domain::member::Role;
use neighborhood_text::secret::Secret;
use neighborhood_text::startup::App;
use neighborhood_text::twilio::{Credentials, RetryPolicy, TwilioClient, TwilioConfig};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
pub const AUTH_TOKEN: &str = "test-auth-token";
pub const SERVICE_SID: &str = "MG00000000000000000000000000000001";
pub const PUBLIC_URL: &str = "https://text.example.org";

/// The Redis the tests use; every test gets its own key prefix in it.
pub fn redis_url() -> String {
    std::env::var("NT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn unique_prefix() -> String {
    format!("test:{}", uuid::Uuid::new_v4().simple())
}

pub struct TestApp {
    pub address: String,
    /// Sends the platform admin's API token with every request.
    pub http: reqwest::Client,
    pub twilio: MockServer,
    pub prefix: String,
    pub state: neighborhood_text::state::AppState,
    /// The bootstrap platform token (`Authorization: Bearer ...`).
    pub admin_token: String,
}

/// Settings of a test app talking to `twilio` (a wiremock server) and the test Redis.
pub fn test_settings(twilio: &MockServer) -> Settings {
    let mut settings = Settings::defaults();
    settings.bind = "127.0.0.1:0".parse().expect("address");
    settings.public_url = PUBLIC_URL.parse().expect("url");
    settings.redis_url = parse_redis_url(&redis_url());
    settings.redis_prefix = unique_prefix();
    settings.twilio_account_sid = Some(ACCOUNT_SID.into());
    settings.twilio_auth_token = Some(Secret::new(AUTH_TOKEN));
    settings.twilio_messaging_service_sid = Some(SERVICE_SID.into());
    settings.twilio_api_base = Some(format!("{}/", twilio.uri()).parse().expect("url"));
    settings
}

pub fn parse_redis_url(url: &str) -> neighborhood_text::secret::RedisUrl {
    use clap::Parser;
    let cli =
        neighborhood_text::config::Cli::try_parse_from(["neighborhood-text", "--redis-url", url])
            .expect("valid Redis URL");
    cli.settings.redis_url
}

pub async fn spawn_app() -> TestApp {
    let twilio = MockServer::start().await;
    let settings = test_settings(&twilio);
    spawn_app_with(twilio, settings).await
}

pub async fn spawn_app_with(twilio: MockServer, settings: Settings) -> TestApp {
    let prefix = settings.redis_prefix.clone();
    let app = App::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let admin = neighborhood_text::domain::phone::Phone::parse(ADMIN_PHONE).expect("phone");
    // Apps started without a reachable Redis (readiness tests) have no admin token.
    let admin_token =
        match neighborhood_text::admin::create_platform_admin(&state.store, admin, "Test Admin")
            .await
        {
            Ok(bootstrap) => bootstrap.secret,
            Err(_) => String::new(),
        };
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    TestApp {
        address,
        http: bearer_client(&admin_token),
        twilio,
        prefix,
        state,
        admin_token,
    }
}

/// The platform admin every test app starts with.
pub const ADMIN_PHONE: &str = "+15550000999";

/// A client that sends `token` as a bearer token with every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {token}").parse().expect("header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates a neighborhood through the API, expecting success.
    pub async fn create_neighborhood(&self, body: &Value) -> Value {
        let response = self.post_json("/api/v1/neighborhoods", body).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("json body");
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Adds a member directly as the platform admin, as a captain would; expects 202 and returns
    /// the member's id.
    pub async fn add_member_by_api(&self, id: &str, phone: &str, name: &str) -> String {
        let (status, member) = json_of(
            self.post_json(
                &format!("/api/v1/neighborhoods/{id}/members"),
                &json!({"phone": phone, "display_name": name}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 202, "{member}");
        member["id"].as_str().expect("id").to_owned()
    }

    /// Entries in the neighborhood's outbox: queued, or being carried out (removed once done).
    pub async fn outbox_len(&self, id: &str) -> u64 {
        let key = neighborhood_text::store::keys::Keys::new(self.prefix.clone())
            .outbox(Uuid::parse_str(id).expect("id"));
        let mut redis = redis::Client::open(redis_url())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        redis::cmd("XLEN")
            .arg(key)
            .query_async(&mut redis)
            .await
            .expect("XLEN")
    }

    /// Waits until every queued Twilio side effect of the neighborhood has been carried out.
    pub async fn wait_for_outbox_drained(&self, id: &str, within: Duration) {
        eventually(within, "the outbox to drain", || async {
            self.outbox_len(id).await == 0
        })
        .await;
    }

    /// `DELETE` (reset, answering what it cleared) or `GET /sandbox/api/requests`: the REST calls
    /// the emulator counted, by operation.
    pub async fn rest_calls(&self, reset: bool) -> Value {
        let url = self.url("/sandbox/api/requests");
        let request = if reset {
            self.http.delete(url)
        } else {
            self.http.get(url)
        };
        let (status, counts) = json_of(request.send().await.expect("sent")).await;
        assert_eq!(status, 200, "{counts}");
        counts
    }

    /// Every Redis key under this test's prefix.
    pub async fn stored_keys(&self) -> Vec<String> {
        let client = redis::Client::open(redis_url()).expect("redis url");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut conn)
            .await
            .expect("KEYS");
        keys.sort();
        keys
    }
}

pub async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.expect("json body");
    (status, body)
}

/// A Twilio SID with the given prefix and a counter, like `PN000...0007`.
pub fn sid(prefix: &str, n: u32) -> String {
    format!("{prefix}{n:032x}")
}

fn form_value(request: &Request, name: &str) -> Option<String> {
    url::form_urlencoded::parse(&request.body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn query_value(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Mounts a Twilio that works: numbers for sale in any area code (a new one each search), number
/// purchase and lookup echoing the number asked for, Messaging Service attach, Conversations
/// create/update, number release. Tests mount stricter mocks on top (lower priority number wins).
pub async fn mount_working_twilio(server: &MockServer) {
    let account = format!("/api/2010-04-01/Accounts/{ACCOUNT_SID}");
    let counter = Arc::new(AtomicU32::new(100));

    let numbers = counter.clone();
    Mock::given(method("GET"))
        .and(path(format!(
            "{account}/AvailablePhoneNumbers/US/Local.json"
        )))
        .respond_with(move |request: &Request| {
            let area = query_value(request, "AreaCode").unwrap_or_else(|| "415".into());
            let n = numbers.fetch_add(1, Ordering::SeqCst);
            let phone = format!("+1{area}555{n:04}");
            ResponseTemplate::new(200).set_body_json(json!({
                "available_phone_numbers": [{
                    "friendly_name": phone, "phone_number": phone, "iso_country": "US",
                    "capabilities": {"voice": true, "SMS": true, "MMS": true}
                }],
                "uri": "/ignored"
            }))
        })
        .with_priority(10)
        .mount(server)
        .await;

    let sids = counter.clone();
    Mock::given(method("POST"))
        .and(path(format!("{account}/IncomingPhoneNumbers.json")))
        .respond_with(move |request: &Request| {
            let phone = form_value(request, "PhoneNumber").unwrap_or_default();
            ResponseTemplate::new(201).set_body_json(incoming_number(
                &sid("PN", sids.fetch_add(1, Ordering::SeqCst)),
                &phone,
                None,
            ))
        })
        .with_priority(10)
        .mount(server)
        .await;

    let owned = counter.clone();
    Mock::given(method("GET"))
        .and(path(format!("{account}/IncomingPhoneNumbers.json")))
        .respond_with(move |request: &Request| {
            let phone = query_value(request, "PhoneNumber").unwrap_or_default();
            let number = incoming_number(&sid("PN", owned.fetch_add(1, Ordering::SeqCst)), &phone, Some("https://old.example.org/sms"));
            ResponseTemplate::new(200).set_body_json(json!({
                "incoming_phone_numbers": [number], "next_page_uri": null, "page": 0, "page_size": 50
            }))
        })
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("POST"))
        .and(path_regex(format!(
            r"^{account}/IncomingPhoneNumbers/PN[0-9a-f]{{32}}\.json$"
        )))
        .respond_with(|request: &Request| {
            let sid = request
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .trim_end_matches(".json")
                .to_owned();
            ResponseTemplate::new(200).set_body_json(incoming_number(
                &sid,
                "+14155550000",
                form_value(request, "SmsUrl").as_deref(),
            ))
        })
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("DELETE"))
        .and(path_regex(format!(
            r"^{account}/IncomingPhoneNumbers/PN[0-9a-f]{{32}}\.json$"
        )))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("POST"))
        .and(path(format!(
            "/messaging/v1/Services/{SERVICE_SID}/PhoneNumbers"
        )))
        .respond_with(|request: &Request| {
            let sid = form_value(request, "PhoneNumberSid").unwrap_or_default();
            ResponseTemplate::new(201).set_body_json(json!({
                "sid": sid, "service_sid": SERVICE_SID, "account_sid": ACCOUNT_SID,
                "phone_number": "+14155550000", "country_code": "US", "capabilities": ["SMS"]
            }))
        })
        .with_priority(10)
        .mount(server)
        .await;

    let conversations = counter;
    Mock::given(method("POST"))
        .and(path("/conversations/v1/Conversations"))
        .respond_with(move |request: &Request| {
            let sid = sid("CH", conversations.fetch_add(1, Ordering::SeqCst));
            ResponseTemplate::new(201).set_body_json(conversation(&sid, request))
        })
        .with_priority(10)
        .mount(server)
        .await;

    Mock::given(method("POST"))
        .and(path_regex(
            r"^/conversations/v1/Conversations/CH[0-9a-f]{32}$",
        ))
        .respond_with(|request: &Request| {
            let sid = request
                .url
                .path()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            ResponseTemplate::new(200).set_body_json(conversation(&sid, request))
        })
        .with_priority(10)
        .mount(server)
        .await;
}

fn incoming_number(sid: &str, phone: &str, sms_url: Option<&str>) -> Value {
    json!({
        "sid": sid, "account_sid": ACCOUNT_SID, "phone_number": phone, "friendly_name": phone,
        "sms_url": sms_url, "sms_method": "POST", "status": "in-use",
        "capabilities": {"voice": true, "sms": true, "mms": true},
        "date_created": "Sat, 21 Nov 2026 10:00:00 +0000"
    })
}

fn conversation(sid: &str, request: &Request) -> Value {
    json!({
        "sid": sid, "account_sid": ACCOUNT_SID, "chat_service_sid": self::sid("IS", 1),
        "messaging_service_sid": form_value(request, "MessagingServiceSid").unwrap_or_else(|| SERVICE_SID.into()),
        "friendly_name": form_value(request, "FriendlyName"),
        "unique_name": form_value(request, "UniqueName"),
        "attributes": form_value(request, "Attributes").unwrap_or_else(|| "{}".into()),
        "state": form_value(request, "State").unwrap_or_else(|| "active".into()),
        "date_created": "2026-11-21T10:00:00Z", "date_updated": "2026-11-21T10:00:00Z",
        "timers": {}, "bindings": {}, "url": format!("https://conversations.twilio.com/v1/Conversations/{sid}"),
        "links": {}
    })
}

/// Polls `check` until it returns true, failing the test after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A TCP proxy in front of the test Redis that can refuse connections and cut open ones, so a
/// test can make Redis disappear and come back without touching the shared server.
pub struct RedisGate {
    pub url: String,
    open: watch::Sender<bool>,
    cut: watch::Sender<u64>,
    stalled: watch::Sender<bool>,
}

impl RedisGate {
    pub async fn start(open: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gate");
        let port = listener.local_addr().expect("gate address").port();
        let upstream = url::Url::parse(&redis_url()).expect("redis url");
        let upstream = format!(
            "{}:{}",
            upstream.host_str().unwrap_or("127.0.0.1"),
            upstream.port().unwrap_or(6379)
        );
        let (open_tx, open_rx) = watch::channel(open);
        let (cut_tx, cut_rx) = watch::channel(0u64);
        let (stalled_tx, stalled_rx) = watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*open_rx.borrow() {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let mut cut = cut_rx.clone();
                cut.mark_unchanged();
                let mut stalled = stalled_rx.clone();
                tokio::spawn(async move {
                    // A stalled gate holds new connections open without an answer, like a
                    // Redis that has stopped responding.
                    if *stalled.borrow_and_update() {
                        let _ = stalled.wait_for(|stalled| !stalled).await;
                    }
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            url: format!("redis://127.0.0.1:{port}"),
            open: open_tx,
            cut: cut_tx,
            stalled: stalled_tx,
        }
    }

    /// Redis stops answering: open connections are dropped and new ones hang.
    pub fn stall(&self) {
        self.stalled.send_replace(true);
        self.cut_connections();
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Refuses new connections and drops the open ones.
    pub fn close(&self) {
        self.open.send_replace(false);
        self.cut_connections();
    }

    /// Drops the open connections but keeps accepting new ones.
    pub fn cut_connections(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }
}

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

/// Settings of an app in sandbox mode (the built-in emulator stands in for Twilio) with its own
/// key prefix; `receiver` is free to play a webhook receiver.
pub fn sandbox_settings(receiver: &MockServer) -> Settings {
    let mut settings = test_settings(receiver);
    settings.twilio_account_sid = None;
    settings.twilio_auth_token = None;
    settings.twilio_messaging_service_sid = None;
    settings.twilio_api_base = None;
    settings.sandbox = neighborhood_text::config::SandboxMode::On;
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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("killable-app")
            .enable_all()
            .build()
            .expect("a runtime for the app");
        let app = runtime
            .spawn(spawn_sandbox_app())
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
        let response = self
            .http
            .post(self.url(&format!(
                "/sandbox/api/phones/{}/messages",
                from.replace('+', "%2B")
            )))
            .json(&json!({"to": to, "body": body}))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("json body");
        assert_eq!(status, 200, "{body}");
        body
    }

    /// What a simulated phone has received: (from, body, status) oldest first.
    pub async fn inbox(&self, phone: &str) -> Vec<(String, String, String)> {
        let state: Value = self
            .get("/sandbox/api/state")
            .await
            .json()
            .await
            .expect("state");
        state["phones"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["phone"] == phone)
            .flat_map(|entry| entry["inbox"].as_array().cloned().unwrap_or_default())
            .map(|item| {
                let text = |field: &str| item[field].as_str().unwrap_or_default().to_owned();
                (text("from"), text("body"), text("status"))
            })
            .collect()
    }
}

/// Adds an active member with `role` straight into the store (joining comes with its own API).
pub async fn add_member(app: &TestApp, neighborhood: Uuid, phone: &str, role: Role) -> Uuid {
    let member = neighborhood_text::domain::member::Member {
        sync: neighborhood_text::domain::member::SyncState::Done,
        ..neighborhood_text::domain::member::Member::joining(
            neighborhood,
            neighborhood_text::domain::phone::Phone::parse(phone).expect("phone"),
            neighborhood_text::domain::member::DisplayName::parse(&format!(
                "Neighbor {}",
                &phone[8..]
            ))
            .expect("name"),
            role,
        )
    };
    assert!(
        app.state
            .store
            .insert_member(&member)
            .await
            .expect("stored")
    );
    member.id
}

/// A browser-like client: the session cookie, and our own origin on every request.
pub async fn session_client(app: &TestApp, phone: &str) -> reqwest::Client {
    let cookie = neighborhood_text::auth::session::start(
        &app.state,
        &neighborhood_text::domain::phone::Phone::parse(phone).expect("phone"),
    )
    .await
    .expect("session");
    let value = cookie.split(';').next().expect("cookie pair").to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, value.parse().expect("header"));
    headers.insert(
        reqwest::header::ORIGIN,
        "https://text.example.org".parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
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
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (_, members) = json_of(
            app.get(&format!("/api/v1/neighborhoods/{id}/members?limit=500"))
                .await,
        )
        .await;
        let members = members["items"].as_array().cloned().unwrap_or_default();
        assert!(
            members.iter().all(|m| m["sync"] != "failed"),
            "a member failed to sync: {members:?}"
        );
        if members.len() == expected && members.iter().all(|m| m["sync"] == "done") {
            return members;
        }
        let pending = members.iter().filter(|m| m["sync"] != "done").count();
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pending} of {} members still pending",
            members.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Twilio's view: the SMS addresses in each Conversation of the neighborhood.
pub async fn participants_by_shard(app: &TestApp, id: &str) -> Vec<(String, Vec<String>)> {
    let (_, neighborhood) = json_of(app.get(&format!("/api/v1/neighborhoods/{id}")).await).await;
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
