//! Building and running the app: the same path for production and tests.
//!
//! [`App::build`] binds the listener first (so port 0 works and tests learn the real port), then
//! wires the store, the Twilio client and the routes without touching the network: the service
//! starts, and answers `/health`, while Redis or Twilio are still unreachable. In sandbox mode the
//! client talks over HTTP to the emulator mounted in this same server, exactly as it would talk to
//! Twilio. [`EmulatorApp`] runs the emulator alone (`twilio-emulator`).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::TcpAcceptor;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, Server};
use serde_json::json;

use crate::api;
use crate::api::error::render_framework_error;
use crate::config::{EmulatorSettings, Settings, TwilioMode};
use crate::limits;
use crate::on_first_use::OnFirstUse;
use crate::sandbox::phones::PhoneNames;
use crate::sandbox::{self, Emulator, EmulatorConfig, WebhookTargets};
use crate::secret::Secret;
use crate::state::{AppState, TwilioAccount, WhatsappTemplates};
use crate::store::Store;
use crate::store::keys::Keys;
use crate::telemetry;
use crate::twilio::{Credentials, RetryPolicy, TwilioClient, TwilioConfig};
use crate::ui;
use crate::webhooks;

/// How often Redis is pinged: to report it coming and going, and to keep idle connections open
/// through proxies that close them (managed Redis does).
const REDIS_WATCH_INTERVAL: Duration = Duration::from_secs(2);
/// Twilio's REST API answers in well under this; a slower answer is treated as a failure.
const TWILIO_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Events the sandbox asks its emulated account to send to our webhooks (the ones the service
/// acts on, which an operator subscribes to in Twilio's console).
pub const SANDBOX_WEBHOOK_FILTERS: [&str; 5] = [
    "onMessageAdd",
    "onMessageAdded",
    "onDeliveryUpdated",
    "onParticipantAdded",
    "onParticipantRemoved",
];

pub struct App {
    listener: tokio::net::TcpListener,
    port: u16,
    state: AppState,
}

/// Binds `bind` and returns the listener with the port actually bound.
async fn bind(bind: SocketAddr) -> anyhow::Result<(tokio::net::TcpListener, u16)> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("could not listen on {bind} (NT_BIND)"))?;
    let port = listener
        .local_addr()
        .context("the listener has no TCP address")?
        .port();
    Ok((listener, port))
}

/// Where this process can reach itself: the bound address, or loopback when bound to all.
fn loopback(bind: SocketAddr, port: u16) -> SocketAddr {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, port)
}

impl App {
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let mode = settings.twilio_mode()?;
        let (listener, port) = bind(settings.bind).await?;
        // A public URL on port 0 means "wherever we are bound" (tests, browser tests): links,
        // webhook URLs and their signatures must name the port that really answers.
        if settings.public_url.port() == Some(0) {
            settings
                .public_url
                .set_port(Some(port))
                .map_err(|()| anyhow::anyhow!("NT_PUBLIC_URL cannot take a port"))?;
        }
        // Sandbox data lives under a prefix of its own, never in a production keyspace.
        let key_prefix = match mode {
            TwilioMode::Sandbox => Keys::sandbox_prefix(&settings.redis_prefix),
            _ => settings.redis_prefix.clone(),
        };
        let endpoint = settings
            .redis_reach
            .endpoint(&settings.redis_url)
            .map_err(anyhow::Error::msg)?;
        let store = Store::connect(&endpoint, &key_prefix, settings.redis_timeout())?;
        let public_base = settings
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let (twilio, sandbox) = match mode {
            TwilioMode::Real(twilio) => {
                let twilio = *twilio;
                let credentials = match (twilio.api_key, twilio.auth_token.clone()) {
                    (Some((key_sid, secret)), _) => Credentials::ApiKey { key_sid, secret },
                    (None, Some(token)) => Credentials::AuthToken(token),
                    // `Settings::twilio` refuses an account with neither.
                    (None, None) => anyhow::bail!("no Twilio credentials"),
                };
                let client = twilio_client(twilio.account_sid, credentials, twilio.api_base)?;
                let account = TwilioAccount {
                    client,
                    messaging_service_sid: twilio.messaging_service_sid,
                    webhook_auth_token: twilio.auth_token,
                    whatsapp_templates: WhatsappTemplates {
                        new_messages: settings.whatsapp_template_sid.clone(),
                        announcement: settings.whatsapp_announcement_template_sid.clone(),
                        code: settings.whatsapp_code_template_sid.clone(),
                        invite: settings.whatsapp_invite_template_sid.clone(),
                    },
                };
                (Some(account), None)
            }
            TwilioMode::Sandbox => {
                let account = &settings.emulator;
                let self_address = format!("http://{}", loopback(settings.bind, port));
                let emulator = Emulator::new(
                    store.clone(),
                    &key_prefix,
                    EmulatorConfig {
                        account_sid: account.account_sid.clone(),
                        auth_token: account.auth_token.clone(),
                        public_base: format!("{public_base}/sandbox/twilio"),
                        // Webhooks addressed to our public URL reach us on loopback, signed for the public URL.
                        webhook_redirect: Some((public_base.clone(), self_address.clone())),
                        faults: account.faults(),
                        webhook_targets: WebhookTargets {
                            bases: [settings.public_url.clone(), self_address.parse()?]
                                .into_iter()
                                .chain(account.webhook_urls.iter().cloned())
                                .collect(),
                            any_loopback: false,
                        },
                        clock: settings.clock.clone(),
                    },
                );
                let client = twilio_client(
                    account.account_sid.clone(),
                    Credentials::AuthToken(account.auth_token.clone()),
                    Some(format!("{self_address}/sandbox/twilio/").parse()?),
                )?;
                let twilio = TwilioAccount {
                    client,
                    messaging_service_sid: sandbox::DEFAULT_MESSAGING_SERVICE_SID.to_owned(),
                    webhook_auth_token: Some(account.auth_token.clone()),
                    // The sandbox account has each template approved in every shipped
                    // language; a setting names other ones.
                    whatsapp_templates: WhatsappTemplates {
                        new_messages: Some(settings.whatsapp_template_sid.clone().unwrap_or_else(
                            || sandbox::approved_template(sandbox::NOTICE_TEMPLATE_SID),
                        )),
                        announcement: Some(
                            settings
                                .whatsapp_announcement_template_sid
                                .clone()
                                .unwrap_or_else(|| {
                                    sandbox::approved_template(sandbox::ANNOUNCEMENT_TEMPLATE_SID)
                                }),
                        ),
                        code: Some(settings.whatsapp_code_template_sid.clone().unwrap_or_else(
                            || sandbox::approved_template(sandbox::CODE_TEMPLATE_SID),
                        )),
                        invite: Some(
                            settings
                                .whatsapp_invite_template_sid
                                .clone()
                                .unwrap_or_else(|| {
                                    sandbox::approved_template(sandbox::INVITE_TEMPLATE_SID)
                                }),
                        ),
                    },
                };
                (Some(twilio), Some(emulator))
            }
            TwilioMode::Disabled => (None, None),
        };
        let session_key = match &settings.session_secret {
            Some(secret) => secret.clone(),
            None => {
                tracing::warn!(
                    "NT_SESSION_SECRET is unset: sessions end at restart and do not carry across instances"
                );
                Secret::new(crate::auth::tokens::new_secret())
            }
        };
        let budgets = crate::state::RequestBudgets::new(
            settings.max_public_requests,
            settings.max_webhook_requests,
        );
        let endpoints =
            crate::outbound::Sender::new(crate::outbound::Reach::for_mode(sandbox.is_some()))
                .map_err(|error| {
                    std::io::Error::other(format!("the endpoints' HTTP client: {error}"))
                })?;
        let google = google_access(&settings)?;
        let state = AppState {
            budgets: Arc::new(budgets),
            session_key,
            settings: Arc::new(settings),
            store,
            twilio,
            sandbox,
            metrics: telemetry::metrics_handle(),
            streams: Arc::default(),
            backfill: Arc::default(),
            endpoints,
            google,
        };
        Ok(Self {
            listener,
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
        let consumer = format!("worker-{}", uuid::Uuid::new_v4().simple());
        let mut background = vec![
            tokio::spawn(watch_redis(self.state.clone())),
            tokio::spawn(crate::jobs::outbox::run(
                self.state.clone(),
                consumer.clone(),
            )),
            tokio::spawn(crate::jobs::event_deliveries::run(
                self.state.clone(),
                consumer,
            )),
            tokio::spawn(crate::jobs::held::run(self.state.clone())),
            tokio::spawn(crate::jobs::scheduler::run(self.state.clone())),
            tokio::spawn(crate::jobs::digests::run(self.state.clone())),
            // Beside `/ready`, not before it.
            tokio::task::spawn_blocking(crate::domain::phone::load_metadata),
        ];
        if self.state.twilio.is_some() {
            background.push(tokio::spawn(crate::jobs::backfill::run(self.state.clone())));
        }
        if self.state.google.is_some() {
            background.push(tokio::spawn(crate::jobs::sheet_hub::run(
                self.state.clone(),
            )));
        }
        if let (Some(every), Some(_)) = (self.state.settings.reconcile_every(), &self.state.twilio)
        {
            background.push(tokio::spawn(crate::jobs::reconcile::run_periodically(
                self.state.clone(),
                every,
            )));
        }
        match (&self.state.sandbox, &self.state.twilio) {
            (Some(emulator), _) => {
                tracing::warn!(
                    account_sid = emulator.account_sid(),
                    emulator = %self.state.public_url("sandbox/twilio"),
                    phones = %self.state.public_url("sandbox"),
                    "sandbox mode: no real SMS is sent; Twilio is emulated and phones are simulated"
                );
                background.push(tokio::spawn(prepare_sandbox(
                    self.state.clone(),
                    emulator.clone(),
                )));
            }
            (None, None) => tracing::warn!(
                "no Twilio account configured and NT_SANDBOX=off: the API answers, but creating neighborhoods is refused"
            ),
            (None, Some(_)) => {}
        }
        tracing::info!(
            port = self.port,
            bind = %self.state.settings.bind,
            public_url = %self.state.settings.public_url,
            "listening"
        );
        let read_timeout = self.state.settings.request_read_timeout();
        let result = crate::serve::serve(
            self.listener,
            routes(self.state),
            read_timeout,
            shutdown,
            grace,
        )
        .await;
        background.iter().for_each(|task| task.abort());
        tracing::info!("stopped");
        result
    }
}

fn twilio_client(
    account_sid: String,
    credentials: Credentials,
    api_base: Option<url::Url>,
) -> anyhow::Result<TwilioClient> {
    Ok(TwilioClient::new(TwilioConfig {
        account_sid,
        credentials,
        api_base,
        request_timeout: TWILIO_REQUEST_TIMEOUT,
        retry: RetryPolicy::default(),
    })?)
}

/// Every route of the service.
pub fn routes(state: AppState) -> impl Endpoint + 'static {
    // The document and the docs page are generated on first use (see `on_first_use`).
    let spec = OnFirstUse::new(|| {
        let spec = bytes::Bytes::from(api::service().spec());
        poem::endpoint::make_sync(move |_| {
            poem::Response::builder()
                .content_type("application/json")
                .body(spec.clone())
        })
    });
    let docs = OnFirstUse::new(|| {
        let page = bytes::Bytes::from(api::service().swagger_ui_html());
        Route::new().at(
            "/",
            poem::endpoint::make_sync(move |_| {
                poem::Response::builder()
                    .content_type("text/html; charset=utf-8")
                    .body(page.clone())
            }),
        )
    });
    // One API endpoint answers under /api and at the probe paths outside it.
    let api = Arc::new(api::service().into_endpoint());
    let mut route = Route::new()
        .at("/api/v1/google/callback", api::sheet_hub::google_callback)
        .nest_no_strip("/api", api.clone())
        .at("/health", api.clone())
        .at("/ready", api.clone())
        .at("/metrics", api)
        .at("/openapi.json", spec)
        .nest("/docs", ui::docs(docs))
        .nest("/webhooks/twilio", webhooks::routes());
    if let Some(emulator) = &state.sandbox {
        route = with_sandbox_pages(route, emulator, member_names(&state))
            .nest("/sandbox/twilio", emulator.rest_endpoint());
    }
    route
        .at("/join/:slug", ui::join_page())
        .at("/locales/:code", ui::page_messages())
        .at("/favicon.ico", ui::page("favicon.svg"))
        .at("/history/:id/:code", ui::page("history.html"))
        .nest("/", ui::endpoint())
        .around(crate::auth::session::rotate)
        .around(crate::replication::acknowledge_when_replicated)
        // Boxed: each layer nests its type in the next, and the compiler's depth has a limit.
        .boxed()
        .with(poem::middleware::CookieJarManager::new())
        .around(limits::bound_requests)
        .around(limits::within_budget)
        .around(crate::auth::session::accept_host_cookies)
        .around(telemetry::observe)
        .catch_all_error(render_framework_error)
        .around(limits::compress_responses)
        .data(state)
}

/// The members' names for the simulated phones page, read from the app's store.
fn member_names(state: &AppState) -> PhoneNames {
    let store = state.store.clone();
    Arc::new(move || {
        let store = store.clone();
        Box::pin(async move {
            crate::services::phone_names::member_names(&store)
                .await
                .map_err(|error| error.to_string())
        })
    })
}

/// The simulated phones' page and its control API, which names each phone after its member.
fn with_sandbox_pages(route: Route, emulator: &Emulator, names: PhoneNames) -> Route {
    route
        .nest("/sandbox/api", emulator.control_routes(names))
        .at("/sandbox", ui::page("sandbox.html"))
        .at("/sandbox.js", ui::page("sandbox.js"))
        .at("/sandbox.css", ui::page("sandbox.css"))
}

/// Creates the sandbox's Messaging Service and points the emulated account's webhooks at our own
/// endpoints, retrying until Redis answers.
async fn prepare_sandbox(state: AppState, emulator: Emulator) {
    let configuration = json!({
        "method": "POST",
        "filters": SANDBOX_WEBHOOK_FILTERS,
        "pre_webhook_url": state.public_url("webhooks/twilio/conversations/pre"),
        "post_webhook_url": state.public_url("webhooks/twilio/conversations/post"),
        "target": "webhook",
    });
    let mut ticks = tokio::time::interval(REDIS_WATCH_INTERVAL);
    loop {
        ticks.tick().await;
        let prepared = async {
            emulator
                .ensure_messaging_service(
                    sandbox::DEFAULT_MESSAGING_SERVICE_SID,
                    "neighborhood-text sandbox",
                )
                .await?;
            // The admin first: once the webhooks are configured, the sandbox is ready to use.
            seed_sandbox_admin(&state).await?;
            emulator.configure_webhooks_directly(&configuration).await?;
            anyhow::Ok(())
        }
        .await;
        match prepared {
            Ok(()) => {
                tracing::info!("sandbox ready: emulated account's webhooks point at this service");
                return;
            }
            Err(error) => tracing::debug!(%error, "sandbox not prepared yet; retrying"),
        }
    }
}

/// Makes `NT_SANDBOX_ADMIN_PHONE` a platform admin (once), so the admin app can be tried at once.
async fn seed_sandbox_admin(state: &AppState) -> anyhow::Result<()> {
    let Some(phone) = state.sandbox_admin_phone() else {
        return Ok(());
    };
    let admin = crate::domain::access::PlatformAdmin {
        phone,
        name: "Sandbox admin".into(),
        created_at: time::OffsetDateTime::now_utc(),
    };
    state.store.insert_platform_admin(&admin).await?;
    Ok(())
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
                let hint = crate::store::connection::hint(&error).unwrap_or("is it running?");
                tracing::error!(
                    redis,
                    %error,
                    "Redis is unreachable ({hint}); /ready answers 503 and retrying every {} s",
                    REDIS_WATCH_INTERVAL.as_secs()
                );
                reachable = Some(false);
            }
            _ => {}
        }
    }
}

/// The Twilio emulator alone (`twilio-emulator`): REST at the root, phones under /sandbox.
pub struct EmulatorApp {
    acceptor: TcpAcceptor,
    port: u16,
    emulator: Emulator,
}

impl EmulatorApp {
    pub async fn build(settings: EmulatorSettings) -> anyhow::Result<Self> {
        let (listener, port) = bind(settings.bind).await?;
        let acceptor = TcpAcceptor::from_tokio(listener)?;
        let endpoint = settings
            .redis_reach
            .endpoint(&settings.redis_url)
            .map_err(anyhow::Error::msg)?;
        let store = Store::connect(&endpoint, &settings.redis_prefix, Duration::from_secs(2))?;
        let public_base = match &settings.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", loopback(settings.bind, port)),
        };
        let emulator = Emulator::new(
            store,
            &settings.redis_prefix,
            EmulatorConfig {
                account_sid: settings.account.account_sid.clone(),
                auth_token: settings.account.auth_token.clone(),
                public_base,
                webhook_redirect: None,
                faults: settings.account.faults(),
                webhook_targets: WebhookTargets {
                    bases: settings.account.webhook_urls.clone(),
                    any_loopback: true,
                },
                clock: crate::domain::clock::Clock::default(),
            },
        );
        Ok(Self {
            acceptor,
            port,
            emulator,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let emulator = self.emulator.clone();
        let prepare = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(REDIS_WATCH_INTERVAL);
            loop {
                ticks.tick().await;
                match emulator
                    .ensure_messaging_service(
                        sandbox::DEFAULT_MESSAGING_SERVICE_SID,
                        "Default Messaging Service",
                    )
                    .await
                {
                    Ok(()) => return,
                    Err(error) => tracing::warn!(%error, "emulator waiting for Redis"),
                }
            }
        });
        tracing::info!(
            port = self.port,
            account_sid = self.emulator.account_sid(),
            auth_token = self.emulator.auth_token().expose(),
            messaging_service_sid = sandbox::DEFAULT_MESSAGING_SERVICE_SID,
            "Twilio emulator listening"
        );
        // On its own the emulator serves no members, so no phone has a name.
        let unnamed: PhoneNames = Arc::new(|| Box::pin(async { Ok(Default::default()) }));
        let routes = with_sandbox_pages(Route::new(), &self.emulator, unnamed)
            .nest("/", self.emulator.rest_endpoint())
            .around(telemetry::observe)
            .catch_all_error(render_framework_error);
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(Duration::from_secs(5)))
            .await;
        prepare.abort();
        result
    }
}

/// Google for the spreadsheet hub, when the operator set an OAuth client. Its refresh tokens are
/// sealed under `NT_GOOGLE_TOKEN_KEY`, else `NT_SESSION_SECRET`: with neither, a token sealed
/// under a key made up at start could not be read after a restart, so the service refuses to
/// start rather than lose every connection then.
fn google_access(settings: &Settings) -> std::io::Result<Option<Arc<crate::google::GoogleAccess>>> {
    let (Some(client_id), Some(client_secret)) =
        (&settings.google_client_id, &settings.google_client_secret)
    else {
        return Ok(None);
    };
    let key = settings
        .google_token_key
        .as_ref()
        .or(settings.session_secret.as_ref())
        .ok_or_else(|| {
            std::io::Error::other(
                "NT_GOOGLE_CLIENT_ID is set, but neither NT_GOOGLE_TOKEN_KEY nor NT_SESSION_SECRET is: one of them must seal the Google refresh tokens kept in Redis.",
            )
        })?;
    let mut config = crate::google::GoogleConfig::new(client_id.clone(), client_secret.clone());
    config.auth_base = settings.google_auth_base.clone();
    config.token_base = settings.google_token_base.clone();
    config.sheets_base = settings.google_sheets_base.clone();
    let client = crate::google::GoogleClient::new(config)
        .map_err(|error| std::io::Error::other(error.to_string()))?;
    let cipher =
        crate::google::crypto::TokenCipher::new(key, crate::google::crypto::REFRESH_TOKEN_CONTEXT);
    Ok(Some(Arc::new(crate::google::GoogleAccess {
        client,
        cipher,
    })))
}
