//! Test helpers: an app built exactly as production builds it, on port 0, with its own Redis key
//! prefix, and Twilio played by a wiremock server (`twilio_mock`) or the built-in emulator
//! (`sandbox`). Requests as someone with the status checked in one line are in `requests`, waiting
//! for the background in `poll`, a Redis that goes away in `redis_gate` (a proxy) or
//! `redis_server` (a `redis-server` of the test's own, killed, restarted or filled), `TEST_LOG=1` in `log`.

mod log;
mod poll;
mod redis_gate;
mod redis_server;
mod requests;
mod sandbox;
pub mod standalone_twilio;
mod twilio_mock;

use std::time::Duration;

use neighborhood_text::config::Settings;
use neighborhood_text::domain::member::Role;
use neighborhood_text::secret::Secret;
use neighborhood_text::startup::App;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::MockServer;

pub use poll::{eventually, poll_until};
pub use redis_gate::RedisGate;
pub use redis_server::{OwnCluster, OwnRedis};
pub use requests::Who;
pub use sandbox::{
    KillableApp, SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_SERVICE_SID, add_members,
    deliver_webhook, emulator_client, participants_by_shard, sandbox_settings,
    spawn_counting_sandbox_app, spawn_sandbox_app, spawn_sandbox_app_with, spawn_sandbox_instance,
    spawn_second_sandbox_instance, wait_until_synced,
};
pub use twilio_mock::mount_working_twilio;

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
    /// Sends no credentials.
    pub anonymous: reqwest::Client,
    pub twilio: MockServer,
    pub prefix: String,
    /// The prefix the app's keys really carry (a sandbox app's differs from `prefix`).
    pub keys_prefix: String,
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
    settings.redis_reach.redis_cluster = on_test_cluster();
    settings.twilio_account_sid = Some(ACCOUNT_SID.into());
    settings.twilio_auth_token = Some(Secret::new(AUTH_TOKEN));
    settings.twilio_messaging_service_sid = Some(SERVICE_SID.into());
    settings.twilio_api_base = Some(format!("{}/", twilio.uri()).parse().expect("url"));
    settings
}

/// Whether the tests' Redis is a Redis Cluster (`NT_TEST_REDIS_CLUSTER=on`, as
/// `scripts/with-redis-cluster` sets it): apps and the tests' own connections then speak to it as
/// a cluster, and every command the suite makes must touch one hash slot.
pub fn on_test_cluster() -> bool {
    std::env::var("NT_TEST_REDIS_CLUSTER").is_ok_and(|value| value == "on")
}

/// The tests' Redis, as the store connects to it.
pub fn redis_endpoint() -> neighborhood_text::store::connection::RedisEndpoint {
    let mut endpoint =
        neighborhood_text::store::connection::RedisEndpoint::single(parse_redis_url(&redis_url()));
    endpoint.cluster = on_test_cluster();
    endpoint
}

/// A connection of the test's own to the tests' Redis (a node or a cluster), for looking at
/// and changing keys behind the app's back.
pub async fn test_redis() -> neighborhood_text::store::connection::RedisConnection {
    neighborhood_text::store::connection::RedisConnection::open(
        &redis_endpoint(),
        Duration::from_secs(5),
    )
    .expect("a connection to the tests' Redis")
}

/// Points `settings` at a single Redis of the test's own (or a gate in front of one), whatever
/// the tests' Redis is.
pub fn use_single_redis(settings: &mut Settings, url: &str) {
    settings.redis_url = parse_redis_url(url);
    settings.redis_reach.redis_cluster = false;
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
    log::init();
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
        anonymous: reqwest::Client::new(),
        twilio,
        prefix,
        keys_prefix: state.store.keys().prefix().to_owned(),
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

    /// Creates a neighborhood through the API, expecting success.
    pub async fn create_neighborhood(&self, body: &Value) -> Value {
        self.post(&Who::Admin, "/api/v1/neighborhoods", body, 201)
            .await
    }

    /// Adds a member directly as the platform admin, as a captain would; expects 202 and returns
    /// the member's id.
    pub async fn add_member_by_api(&self, id: &str, phone: &str, name: &str) -> String {
        let member = self
            .post(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/members"),
                &json!({"phone": phone, "display_name": name}),
                202,
            )
            .await;
        member["id"].as_str().expect("id").to_owned()
    }

    /// The member of neighborhood `id` whose `field` (`phone`, `display_name`) is `value`, as the
    /// members list shows it to the platform admin (any status); fails when none is listed.
    pub async fn listed_member(&self, id: &str, field: &str, value: &str) -> Value {
        let members = self
            .get(
                &Who::Admin,
                &format!("/api/v1/neighborhoods/{id}/members?limit=500"),
                200,
            )
            .await;
        members["items"]
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m[field] == value)
            .cloned()
            .unwrap_or_else(|| panic!("no member with {field} {value}: {members}"))
    }

    /// Entries in the neighborhood's outbox: queued, or being carried out (removed once done).
    pub async fn outbox_len(&self, id: &str) -> u64 {
        let key = neighborhood_text::store::keys::Keys::new(self.keys_prefix.clone())
            .outbox(Uuid::parse_str(id).expect("id"));
        let mut redis = crate::helpers::test_redis().await;
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

    /// Every Redis key under this test's prefix.
    pub async fn stored_keys(&self) -> Vec<String> {
        let mut conn = test_redis().await;
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
