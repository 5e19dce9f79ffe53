//! Building and running the app: the same path for production and tests.
//!
//! [`App::build`] binds the listener first (so port 0 works and tests learn the real port), then
//! wires the store, the Twilio client and the routes without touching the network: the service
//! starts, and answers `/health`, while Redis or Twilio are still unreachable.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::middleware::Compression;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, Server};

use crate::api;
use crate::api::error::render_framework_error;
use crate::config::Settings;
use crate::state::{AppState, TwilioAccount};
use crate::store::Store;
use crate::telemetry;
use crate::twilio::{Credentials, RetryPolicy, TwilioClient, TwilioConfig};
use crate::ui;

/// How often Redis is pinged: to report it coming and going, and to keep idle connections open
/// through proxies that close them (managed Redis does).
const REDIS_WATCH_INTERVAL: Duration = Duration::from_secs(2);
/// Twilio's REST API answers in well under this; a slower answer is treated as a failure.
const TWILIO_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

pub struct App {
    acceptor: TcpAcceptor,
    port: u16,
    state: AppState,
}

impl App {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let twilio_settings = settings.twilio()?;
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("could not listen on {} (NT_BIND)", settings.bind))?;
        let acceptor = TcpAcceptor::from_tokio(listener)?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|addr| addr.port()))
            .context("the listener has no TCP address")?;

        let store = Store::connect(
            &settings.redis_url,
            &settings.redis_prefix,
            settings.redis_timeout(),
        )?;
        let twilio = match twilio_settings {
            Some(twilio) => {
                let credentials = match (twilio.api_key, twilio.auth_token) {
                    (Some((key_sid, secret)), _) => Credentials::ApiKey { key_sid, secret },
                    (None, Some(token)) => Credentials::AuthToken(token),
                    // `Settings::twilio` refuses an account with neither.
                    (None, None) => anyhow::bail!("no Twilio credentials"),
                };
                let client = TwilioClient::new(TwilioConfig {
                    account_sid: twilio.account_sid,
                    credentials,
                    api_base: twilio.api_base,
                    request_timeout: TWILIO_REQUEST_TIMEOUT,
                    retry: RetryPolicy::default(),
                })?;
                Some(TwilioAccount {
                    client,
                    messaging_service_sid: twilio.messaging_service_sid,
                })
            }
            None => None,
        };
        let state = AppState {
            settings: Arc::new(settings),
            store,
            twilio,
            metrics: telemetry::metrics_handle(),
        };
        Ok(Self {
            acceptor,
            port,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting and gives in-flight requests
    /// `NT_SHUTDOWN_GRACE_SECS` to finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let grace = self.state.settings.shutdown_grace();
        if self.state.twilio.is_none() {
            tracing::warn!(
                "no Twilio account configured (NT_TWILIO_ACCOUNT_SID unset): the API answers, but creating neighborhoods is refused"
            );
        }
        let watcher = tokio::spawn(watch_redis(self.state.clone()));
        tracing::info!(
            port = self.port,
            bind = %self.state.settings.bind,
            public_url = %self.state.settings.public_url,
            "listening"
        );
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(routes(self.state), shutdown, Some(grace))
            .await;
        watcher.abort();
        tracing::info!("stopped");
        result
    }
}

/// Every route of the service.
pub fn routes(state: AppState) -> impl Endpoint + 'static {
    let service = api::service();
    let docs = service.swagger_ui();
    let spec = service.spec_endpoint();
    // One API endpoint answers under /api and at the probe paths outside it.
    let api = Arc::new(service.into_endpoint());
    Route::new()
        .nest_no_strip("/api", api.clone())
        .at("/health", api.clone())
        .at("/ready", api.clone())
        .at("/metrics", api)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", ui::endpoint())
        .around(telemetry::observe)
        .catch_all_error(render_framework_error)
        .with(Compression::new())
        .data(state)
}

/// Reports Redis becoming unreachable or reachable again, once per change.
async fn watch_redis(state: AppState) {
    let redis = state.settings.redis_url.redacted();
    let mut reachable = None;
    let mut ticks = tokio::time::interval(REDIS_WATCH_INTERVAL);
    loop {
        ticks.tick().await;
        match state.store.ping().await {
            Ok(()) if reachable != Some(true) => {
                tracing::info!(redis, "Redis is reachable");
                reachable = Some(true);
            }
            Err(error) if reachable != Some(false) => {
                tracing::error!(
                    redis,
                    %error,
                    "Redis is unreachable; /ready answers 503 and retrying every {} s",
                    REDIS_WATCH_INTERVAL.as_secs()
                );
                reachable = Some(false);
            }
            _ => {}
        }
    }
}
