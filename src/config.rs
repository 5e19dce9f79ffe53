//! Typed settings from `NT_*` environment variables (or the matching flags), validated at boot.
//!
//! One clap struct gives `--help`, the flags and the environment variables. Each value parser
//! fails with one sentence naming the variable, so a bad deployment stops with a message an
//! operator can act on. Secrets are held in [`Secret`] and print as `[redacted]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use url::Url;

use crate::domain::client_ip::TrustedProxies;
pub use crate::domain::clock::Clock;
use crate::domain::content_template::ContentTemplate;
use crate::domain::costs::PriceTable;
use crate::domain::destinations::SmsCountries;
use crate::secret::{RedisUrl, Secret};
use crate::store::connection::NodeAddress;

/// The `neighborhood-text` command line.
#[derive(Debug, Parser)]
#[command(
    name = "neighborhood-text",
    version,
    about = "A neighborhood's own SMS group chat on one phone number.",
    long_about = "A neighborhood's own SMS group chat on one phone number.\n\n\
        Without a subcommand it runs `serve`. Every setting is read from its NT_* environment \
        variable or the matching flag."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(Box<Settings>),
    /// Print the OpenAPI document of the REST API to standard output.
    Openapi,
    /// Run the Twilio emulator alone, for anyone's tests: the REST API at the root
    /// ({base}/api/2010-04-01/..., {base}/conversations/v1/..., {base}/messaging/v1/...),
    /// the simulated phones' control API at /sandbox/api and their page at /sandbox.
    TwilioEmulator(Box<EmulatorSettings>),
    /// Manage platform admins.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a platform admin (or find the existing one for this phone) and print a new
    /// platform API token, shown once.
    Create(Box<AdminCreate>),
}

#[derive(Debug, Clone, Args)]
pub struct AdminCreate {
    /// The admin's phone, e.g. +15551234567 (sign-in codes are texted to it).
    #[arg(long)]
    pub phone: String,

    /// The admin's name.
    #[arg(long)]
    pub name: String,

    /// Redis URL.
    #[arg(long, env = "NT_REDIS_URL", default_value = "redis://127.0.0.1:6379", value_parser = parse_redis_url, hide_env_values = true)]
    pub redis_url: RedisUrl,

    #[command(flatten)]
    pub redis_reach: RedisReach,

    /// Prefix of every Redis key (the same as the service's).
    #[arg(long, env = "NT_REDIS_PREFIX", default_value = "nt", value_parser = parse_redis_prefix)]
    pub redis_prefix: String,

    /// Whether the service runs the sandbox, as it reads `NT_SANDBOX`: a sandbox keeps its data
    /// under a prefix of its own, so its admins are created there.
    #[arg(long, env = "NT_SANDBOX", value_enum, default_value = "auto")]
    pub sandbox: SandboxMode,

    /// The Twilio account the service uses, if any: with `NT_SANDBOX=auto`, none means sandbox.
    #[arg(long, env = "NT_TWILIO_ACCOUNT_SID", hide = true)]
    pub twilio_account_sid: Option<String>,
}

impl AdminCreate {
    /// The key prefix of the service this admin is for: the sandbox's own one when the service
    /// would run the sandbox (`NT_SANDBOX=on`, or `auto` without a Twilio account).
    pub fn key_prefix(&self) -> String {
        let sandbox = match self.sandbox {
            SandboxMode::On => true,
            SandboxMode::Auto => self.twilio_account_sid.is_none(),
            SandboxMode::Off => false,
        };
        if sandbox {
            crate::store::keys::Keys::sandbox_prefix(&self.redis_prefix)
        } else {
            self.redis_prefix.clone()
        }
    }
}

/// How Redis is reached beyond its URL: as a cluster, and which CA to trust over TLS.
#[derive(Debug, Clone, Args)]
pub struct RedisReach {
    /// `on` when NT_REDIS_URL names a node of a Redis Cluster, or a managed cluster's
    /// configuration endpoint: the slot map is learned from it, and `MOVED` and failovers are
    /// followed.
    #[arg(long, env = "NT_REDIS_CLUSTER", default_value = "off", value_parser = BoolishValueParser::new(), action = ArgAction::Set)]
    pub redis_cluster: bool,

    /// More nodes of the Redis Cluster to start from, `host:port` separated by commas, reached
    /// with NT_REDIS_URL's scheme, user and password: the service learns the cluster from
    /// whichever answers first, so it starts while the node NT_REDIS_URL names is down. With
    /// NT_REDIS_CLUSTER=on only.
    #[arg(long, env = "NT_REDIS_CLUSTER_NODES", value_delimiter = ',', value_parser = parse_node_address)]
    pub redis_cluster_nodes: Vec<NodeAddress>,

    /// A CA certificate (PEM file) to trust for rediss:// instead of the system's roots, e.g. a
    /// provider's own CA.
    #[arg(long, env = "NT_REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,

    /// How many Redis replicas must hold a change before the service acknowledges it (`WAIT`
    /// after every request that changed something, for at most half of NT_REDIS_TIMEOUT_MS;
    /// short of it, the answer is a 503 that says so). 0: acknowledge once the primary has it.
    #[arg(long, env = "NT_REDIS_WAIT_REPLICAS", default_value_t = 0)]
    pub redis_wait_replicas: u32,
}

impl RedisReach {
    /// The Redis endpoint these settings and `url` describe; reads the CA file, if one is named.
    pub fn endpoint(
        &self,
        url: &RedisUrl,
    ) -> Result<crate::store::connection::RedisEndpoint, String> {
        if !self.redis_cluster_nodes.is_empty() && !self.redis_cluster {
            return Err(
                "NT_REDIS_CLUSTER_NODES lists nodes of a Redis Cluster: set NT_REDIS_CLUSTER=on too."
                    .into(),
            );
        }
        crate::store::connection::RedisEndpoint::configured(
            url,
            self.redis_cluster,
            &self.redis_cluster_nodes,
            self.redis_ca_file.as_deref(),
            self.redis_wait_replicas,
        )
    }
}

/// Whether the built-in Twilio emulator stands in for Twilio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxMode {
    /// On when no Twilio account is configured.
    Auto,
    /// Always on; a configured Twilio account is then an error.
    On,
    /// Off: without a Twilio account, creating neighborhoods is refused.
    Off,
}

/// The emulated Twilio account and its injected faults (sandbox mode and `twilio-emulator`).
#[derive(Debug, Clone, Args)]
pub struct EmulatorAccount {
    /// Account SID of the emulated Twilio account.
    #[arg(long = "account-sid", env = "NT_SANDBOX_ACCOUNT_SID", default_value = crate::sandbox::DEFAULT_ACCOUNT_SID, value_parser = sid("NT_SANDBOX_ACCOUNT_SID", "AC"))]
    pub account_sid: String,

    /// Auth token of the emulated account: checks REST calls (Basic auth) and signs webhooks.
    #[arg(long = "auth-token", env = "NT_SANDBOX_AUTH_TOKEN", default_value = crate::sandbox::DEFAULT_AUTH_TOKEN, hide_env_values = true)]
    pub auth_token: Secret,

    /// Milliseconds added to every emulated REST answer.
    #[arg(long = "latency-ms", env = "NT_SANDBOX_LATENCY_MS", default_value = "0", value_parser = WholeNumber::milliseconds("NT_SANDBOX_LATENCY_MS", 0, 60_000).parser::<u64>())]
    pub latency_ms: u64,

    /// Share (0 to 1) of emulated REST calls answered 429 / 20429.
    #[arg(long = "fault-429", env = "NT_SANDBOX_FAULT_429", default_value = "0", value_parser = parse_fault_share)]
    pub fault_429: f64,

    /// Share (0 to 1) of emulated REST calls answered 500.
    #[arg(long = "fault-500", env = "NT_SANDBOX_FAULT_500", default_value = "0", value_parser = parse_fault_share)]
    pub fault_500: f64,

    /// Share (0 to 1) of emulated REST calls that hang for 30 s, then answer 504.
    #[arg(long = "fault-timeout", env = "NT_SANDBOX_FAULT_TIMEOUT", default_value = "0", value_parser = parse_fault_share)]
    pub fault_timeout: f64,

    /// Base URLs, comma-separated, the emulator may send webhooks to besides its own service's
    /// (sandbox mode: NT_PUBLIC_URL; `twilio-emulator`: any loopback address). Webhook URLs
    /// elsewhere are never fetched, so the sandbox cannot be made to request internal addresses.
    #[arg(long = "webhook-url", env = "NT_SANDBOX_WEBHOOK_URLS", value_delimiter = ',', value_parser = parse_webhook_base)]
    pub webhook_urls: Vec<Url>,
}

impl EmulatorAccount {
    pub fn faults(&self) -> crate::sandbox::InjectedFaults {
        crate::sandbox::InjectedFaults {
            latency_ms: self.latency_ms,
            rate_429: self.fault_429,
            rate_500: self.fault_500,
            rate_timeout: self.fault_timeout,
            timeout_ms: 30_000,
            ..crate::sandbox::InjectedFaults::default()
        }
    }
}

/// Settings of `twilio-emulator`.
#[derive(Debug, Clone, Args)]
pub struct EmulatorSettings {
    /// Address and port the emulator listens on.
    #[arg(long, env = "NT_EMULATOR_BIND", default_value = "127.0.0.1:4010", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// URL clients reach the emulator at, used in the `url` fields and paging links it returns.
    /// Unset: http:// and the bound address.
    #[arg(long = "public-url", env = "NT_EMULATOR_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<Url>,

    #[command(flatten)]
    pub account: EmulatorAccount,

    /// Redis URL, where the emulator keeps its state.
    #[arg(long, env = "NT_REDIS_URL", default_value = "redis://127.0.0.1:6379", value_parser = parse_redis_url, hide_env_values = true)]
    pub redis_url: RedisUrl,

    #[command(flatten)]
    pub redis_reach: RedisReach,

    /// Prefix of the emulator's Redis keys.
    #[arg(long, env = "NT_REDIS_PREFIX", default_value = "nt-emulator", value_parser = parse_redis_prefix)]
    pub redis_prefix: String,

    /// Log filter.
    #[arg(long, env = "NT_LOG", default_value = "info", value_parser = parse_log_filter)]
    pub log: String,

    /// Log format.
    #[arg(
        long,
        env = "NT_LOG_FORMAT",
        value_name = "NT_LOG_FORMAT",
        value_enum,
        default_value = "auto"
    )]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON when standard error is not a terminal, human-readable otherwise.
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable, for a terminal.
    Pretty,
}

impl LogFormat {
    /// Whether lines are written as JSON.
    pub fn is_json(self) -> bool {
        match self {
            Self::Json => true,
            Self::Pretty => false,
            Self::Auto => !std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
}

/// Every setting of the service. Field docs are the `--help` text.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "NT_BIND", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// Public base URL of this service, as Twilio and browsers reach it. Webhook signatures are
    /// checked against it and links are built from it. Port 0 takes the port actually bound,
    /// like NT_BIND.
    #[arg(long, env = "NT_PUBLIC_URL", default_value = "http://localhost:8080", value_parser = parse_public_url)]
    pub public_url: Url,

    /// Redis URL: redis://[user:password@]host:port[/db], or rediss:// for TLS (Upstash).
    #[arg(long, env = "NT_REDIS_URL", default_value = "redis://127.0.0.1:6379", value_parser = parse_redis_url, hide_env_values = true)]
    pub redis_url: RedisUrl,

    #[command(flatten)]
    pub redis_reach: RedisReach,

    /// Prefix of every Redis key, so several deployments or tests can share one Redis.
    #[arg(long, env = "NT_REDIS_PREFIX", default_value = "nt", value_parser = parse_redis_prefix)]
    pub redis_prefix: String,

    /// Milliseconds to wait for a Redis answer before giving up (raise it for Redis over a WAN).
    #[arg(long, env = "NT_REDIS_TIMEOUT_MS", default_value = "2000", value_parser = WholeNumber::milliseconds("NT_REDIS_TIMEOUT_MS", 50, 60_000).parser::<u64>())]
    pub redis_timeout_ms: u64,

    /// Twilio Account SID (AC...). Unset: no Twilio account is configured.
    #[arg(long, env = "NT_TWILIO_ACCOUNT_SID", value_parser = sid("NT_TWILIO_ACCOUNT_SID", "AC"))]
    pub twilio_account_sid: Option<String>,

    /// Twilio Auth Token: authenticates REST calls (unless an API key is set) and signs webhooks.
    #[arg(long, env = "NT_TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<Secret>,

    /// Twilio API key SID (SK...), used instead of the Auth Token for REST calls.
    #[arg(long, env = "NT_TWILIO_API_KEY_SID", value_parser = sid("NT_TWILIO_API_KEY_SID", "SK"))]
    pub twilio_api_key_sid: Option<String>,

    /// Secret of the Twilio API key.
    #[arg(long, env = "NT_TWILIO_API_KEY_SECRET", hide_env_values = true)]
    pub twilio_api_key_secret: Option<Secret>,

    /// Messaging Service SID (MG...) that every neighborhood number joins and every Conversation
    /// is pinned to (the A2P 10DLC campaign is bound to it).
    #[arg(long, env = "NT_TWILIO_MESSAGING_SERVICE_SID", value_parser = sid("NT_TWILIO_MESSAGING_SERVICE_SID", "MG"))]
    pub twilio_messaging_service_sid: Option<String>,

    /// Content template (HX...) sent to a WhatsApp member outside WhatsApp's 24-hour window
    /// when the group wrote to them, at most once a day: one variable, the neighborhood's name
    /// ("There are new messages in {{1}}. Reply READ to read them."). Unset: no such notice (the
    /// sandbox uses its own approved copy).
    /// Per language: `HX...,es=HX...` (the default's SID, then each approved translation's).
    #[arg(long, env = "NT_WHATSAPP_TEMPLATE_SID", value_parser = content_template("NT_WHATSAPP_TEMPLATE_SID"))]
    pub whatsapp_template_sid: Option<ContentTemplate>,

    /// Content template (HX...) that carries an announcement to a WhatsApp member outside the
    /// window: two variables, the neighborhood's name and the announcement ("{{1}}: {{2}} Reply
    /// READ to read the group."). Unset, or an announcement that cannot be a variable (a line
    /// break, over 900 characters): the new-messages notice instead.
    /// Per language: `HX...,es=HX...` (the default's SID, then each approved translation's).
    #[arg(long, env = "NT_WHATSAPP_ANNOUNCEMENT_TEMPLATE_SID", value_parser = content_template("NT_WHATSAPP_ANNOUNCEMENT_TEMPLATE_SID"))]
    pub whatsapp_announcement_template_sid: Option<ContentTemplate>,

    /// Content template (HX...) of the authentication category that carries the join page's
    /// 6-digit code to a neighbor joining on WhatsApp: one variable, the code ("{{1}} is your
    /// verification code. For your security, do not share this code."). Unset: the join page
    /// offers WhatsApp only by texting JOIN to the sender (the sandbox uses its own copy).
    /// Per language: `HX...,es=HX...` (the default's SID, then each approved translation's).
    #[arg(long, env = "NT_WHATSAPP_CODE_TEMPLATE_SID", value_parser = content_template("NT_WHATSAPP_CODE_TEMPLATE_SID"))]
    pub whatsapp_code_template_sid: Option<ContentTemplate>,

    /// Content template (HX...) that carries a captain's invite to a phone on WhatsApp: three
    /// variables, the inviter, the neighborhood and the personal join link ("{{1}} invited you to
    /// {{2}}'s neighborhood group on WhatsApp. Join at {{3}} or reply JOIN and your name.").
    /// Unset: invites go by SMS only (the sandbox uses its own copy).
    /// Per language: `HX...,es=HX...` (the default's SID, then each approved translation's).
    #[arg(long, env = "NT_WHATSAPP_INVITE_TEMPLATE_SID", value_parser = content_template("NT_WHATSAPP_INVITE_TEMPLATE_SID"))]
    pub whatsapp_invite_template_sid: Option<ContentTemplate>,

    /// Base URL standing in for all Twilio hosts (an emulator or a test server); each host is a
    /// path segment under it: {base}/api/2010-04-01/..., {base}/conversations/v1/...,
    /// {base}/messaging/v1/.... Unset: Twilio itself.
    #[arg(long, env = "NT_TWILIO_API_BASE", value_parser = parse_api_base)]
    pub twilio_api_base: Option<Url>,

    /// Key that signs session cookies (at least 32 characters). Unset: a random key per start,
    /// so sessions end when the process restarts.
    #[arg(long, env = "NT_SESSION_SECRET", value_parser = parse_session_secret, hide_env_values = true)]
    pub session_secret: Option<Secret>,

    /// Days a session lasts at most from its sign-in, however often it is used (each use
    /// extends it by 14 days, up to this cap). Then the phone signs in again.
    #[arg(long, env = "NT_SESSION_MAX_AGE_DAYS", default_value = "30", value_parser = WholeNumber::new("NT_SESSION_MAX_AGE_DAYS", "days", 1, 365).parser::<u64>())]
    pub session_max_age_days: u64,

    /// Wrong sign-in codes a phone may get in 24 hours from devices it never signed in on;
    /// the last one locks sign-in from new devices and texts the phone once.
    #[arg(long, env = "NT_SIGNIN_MAX_WRONG_CODES", default_value = "10", value_parser = WholeNumber::count("NT_SIGNIN_MAX_WRONG_CODES", 1, 1000).parser::<u32>())]
    pub signin_max_wrong_codes: u32,

    /// Minutes sign-in from new devices stays locked once a phone reached its ceiling of wrong
    /// codes. Devices that signed in as the phone before are never locked out.
    #[arg(long, env = "NT_SIGNIN_LOCK_MINUTES", default_value = "720", value_parser = WholeNumber::new("NT_SIGNIN_LOCK_MINUTES", "minutes", 1, 10_080).parser::<u64>())]
    pub signin_lock_minutes: u64,

    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this>` (at
    /// least 16 characters). Unset: `/metrics` is public.
    #[arg(long, env = "NT_METRICS_TOKEN", value_parser = parse_metrics_token, hide_env_values = true)]
    pub metrics_token: Option<Secret>,

    /// Header holding the client's IP as set by the proxy in front (e.g. `Fly-Client-IP`).
    /// Unset: the connection's peer address (right when nothing sits in front).
    #[arg(long, env = "NT_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,

    /// Addresses and CIDR ranges of the proxies in front (comma-separated). Only a request from
    /// one of them may name the client in `NT_CLIENT_IP_HEADER`; a list header such as
    /// `X-Forwarded-For` is read from the right, skipping these. The default, loopback and
    /// private ranges, fits Fly.io (`Fly-Client-IP`) and a Kubernetes ingress.
    #[arg(long, env = "NT_TRUSTED_PROXIES", default_value = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: TrustedProxies,

    /// Countries 1:1 texts (codes, welcomes, invitations, notices) may go to: ISO codes,
    /// comma-separated. A phone elsewhere cannot join or be added, and no text is sent to it.
    #[arg(long, env = "NT_SMS_COUNTRIES", default_value = "US,CA", value_parser = SmsCountries::parse)]
    pub sms_countries: SmsCountries,

    /// 1:1 texts (join codes, welcomes, invitations, notices) one neighborhood may send per UTC
    /// day. Past it they are dropped until midnight UTC and the captains are told once.
    #[arg(long, env = "NT_DAILY_TEXTS_PER_NEIGHBORHOOD", default_value = "500", value_parser = WholeNumber::count("NT_DAILY_TEXTS_PER_NEIGHBORHOOD", 1, 1_000_000).parser::<u64>())]
    pub daily_texts_per_neighborhood: u64,

    /// Phones captains may bring into one neighborhood's group per UTC day without the phone
    /// asking: direct adds, imports with attested consent, approvals of imported requests. Past
    /// it a platform admin adds them (their additions are not counted).
    #[arg(long, env = "NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD", default_value = "300", value_parser = WholeNumber::count("NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD", 1, 1_000_000).parser::<u64>())]
    pub daily_additions_per_neighborhood: u64,

    /// 1:1 texts the whole deployment may send per UTC day, every neighborhood together. Past it
    /// they are dropped until midnight UTC and the platform admins are told once.
    #[arg(long, env = "NT_DAILY_TEXTS_PER_DEPLOYMENT", default_value = "5000", value_parser = WholeNumber::count("NT_DAILY_TEXTS_PER_DEPLOYMENT", 1, 10_000_000).parser::<u64>())]
    pub daily_texts_per_deployment: u64,

    /// Log filter, in tracing's EnvFilter syntax (e.g. `info` or `neighborhood_text=debug,info`).
    #[arg(long, env = "NT_LOG", default_value = "info", value_parser = parse_log_filter)]
    pub log: String,

    /// Log format.
    #[arg(
        long,
        env = "NT_LOG_FORMAT",
        value_name = "NT_LOG_FORMAT",
        value_enum,
        default_value = "auto"
    )]
    pub log_format: LogFormat,

    /// OpenTelemetry: where traces go over OTLP/HTTP (protobuf), e.g. `http://collector:4318`;
    /// spans are posted to its `/v1/traces`. Unset: no traces leave the process. The exporter
    /// also reads the standard `OTEL_EXPORTER_OTLP_HEADERS` (a vendor's API key),
    /// `OTEL_SERVICE_NAME` and `OTEL_BSP_*` settings.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_parser = parse_otlp_endpoint)]
    pub otlp_endpoint: Option<Url>,

    /// Sandbox mode: the built-in Twilio emulator and simulated phones stand in for Twilio, and
    /// no real SMS is sent. `auto` turns it on when no Twilio account is configured.
    #[arg(
        long,
        env = "NT_SANDBOX",
        value_name = "NT_SANDBOX",
        value_enum,
        default_value = "auto"
    )]
    pub sandbox: SandboxMode,

    #[command(flatten)]
    pub emulator: EmulatorAccount,

    /// Sandbox mode only: this phone is made a platform admin at start, so the admin app can be
    /// tried at once (sign in with it; the code arrives in its simulated phone). Empty: none.
    #[arg(long, env = "NT_SANDBOX_ADMIN_PHONE", default_value = "+15550000001", value_parser = parse_sandbox_admin_phone)]
    pub sandbox_admin_phone: String,

    /// Seconds to let in-flight requests finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "NT_SHUTDOWN_GRACE_SECS", default_value = "10", value_parser = WholeNumber::seconds("NT_SHUTDOWN_GRACE_SECS", 0, 300).parser::<u64>())]
    pub shutdown_grace_secs: u64,

    /// Seconds an outbox entry may stay unacknowledged before another instance takes it over
    /// (its worker is presumed dead).
    #[arg(long, env = "NT_OUTBOX_RECLAIM_SECS", default_value = "30", value_parser = WholeNumber::seconds("NT_OUTBOX_RECLAIM_SECS", 1, 3600).parser::<u64>())]
    pub outbox_reclaim_secs: u64,

    /// Seconds between attempts to deliver an event to an integrator's endpoint that failed,
    /// one per retry: after the last, the endpoint is turned off and the captains are told. The
    /// default retries over about a day (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    #[arg(long, env = "NT_EVENT_RETRY_SECS", value_delimiter = ',', default_value = "5,300,1800,7200,18000,36000,36000", value_parser = WholeNumber::seconds("NT_EVENT_RETRY_SECS", 0, 86_400).parser::<u64>())]
    pub event_retry_secs: Vec<u64>,

    /// The Google OAuth client (`....apps.googleusercontent.com`) captains connect a Google
    /// Sheet with (the spreadsheet hub). Unset, with its secret: the hub is off.
    #[arg(long, env = "NT_GOOGLE_CLIENT_ID")]
    pub google_client_id: Option<String>,

    /// The Google OAuth client's secret.
    #[arg(long, env = "NT_GOOGLE_CLIENT_SECRET", hide_env_values = true)]
    pub google_client_secret: Option<Secret>,

    /// Key that seals the hub's Google refresh tokens in Redis (at least 32 characters). Unset:
    /// `NT_SESSION_SECRET`; with neither, the hub does not start, since a token sealed under a
    /// random key could not be read after a restart.
    #[arg(long, env = "NT_GOOGLE_TOKEN_KEY", value_parser = parse_token_key, hide_env_values = true)]
    pub google_token_key: Option<Secret>,

    /// Base URL of Google's OAuth consent page (tests stand in for Google here).
    #[arg(long, env = "NT_GOOGLE_AUTH_BASE", default_value = crate::google::client::GOOGLE_AUTH_BASE, value_parser = google_base("NT_GOOGLE_AUTH_BASE"))]
    pub google_auth_base: Url,

    /// Base URL of Google's OAuth token and revocation endpoints.
    #[arg(long, env = "NT_GOOGLE_TOKEN_BASE", default_value = crate::google::client::GOOGLE_TOKEN_BASE, value_parser = google_base("NT_GOOGLE_TOKEN_BASE"))]
    pub google_token_base: Url,

    /// Base URL of the Google Sheets API.
    #[arg(long, env = "NT_GOOGLE_SHEETS_BASE", default_value = crate::google::client::GOOGLE_SHEETS_BASE, value_parser = google_base("NT_GOOGLE_SHEETS_BASE"))]
    pub google_sheets_base: Url,

    /// Messages kept in each neighborhood's history (older ones are dropped).
    #[arg(long, env = "NT_HISTORY_MESSAGES", default_value = "10000", value_parser = WholeNumber::count("NT_HISTORY_MESSAGES", 100, 1_000_000).parser::<u64>())]
    pub history_messages: u64,

    /// Failed deliveries in a row (carrier errors 30003, 30005, 30006, 30007) after which a member
    /// is paused and the captains are told; 0 never pauses.
    #[arg(long, env = "NT_PAUSE_AFTER_FAILURES", default_value = "3", value_parser = WholeNumber::count("NT_PAUSE_AFTER_FAILURES", 0, 100).or_zero_meaning("never").parser::<u32>())]
    pub pause_after_failures: u32,

    /// Seconds between reconciliations of every neighborhood's members with Twilio's
    /// participants; 0 turns the periodic run off (`POST .../sync` still works).
    #[arg(long, env = "NT_RECONCILE_EVERY_SECS", default_value = "3600", value_parser = WholeNumber::seconds("NT_RECONCILE_EVERY_SECS", 60, 604_800).or_zero_meaning("off").parser::<u64>())]
    pub reconcile_every_secs: u64,

    /// Minutes between backfill passes: each shard's newest messages and each number's inbound
    /// texts are read back from Twilio, and what was missed (a webhook answered 503 while Redis
    /// was down) is recorded, relayed and answered, once. A quiet shard costs one small page.
    /// 0 turns the periodic pass off; a pass still runs once Redis is back after an outage.
    #[arg(long, env = "NT_BACKFILL_MINUTES", default_value = "10", value_parser = WholeNumber::count("NT_BACKFILL_MINUTES", 1, 1440).or_zero_meaning("off").parser::<u64>())]
    pub backfill_minutes: u64,

    /// Prices the cost ledger uses, as a JSON object overriding any of the defaults (US long
    /// code, read 2026-11-09): {"number_month": "1.15", "sms_segment_out": "0.0083",
    /// "sms_segment_in": "0.0083", "mms_out": "0.022", "mms_in": "0.0165", "active_user": "0.05",
    /// "free_active_users": 0, "as_of": "2026-11-09"}. Prices are dollar strings;
    /// free_active_users is how many Conversations active users a neighborhood's month is not
    /// charged for (Twilio's 200 free are per account).
    #[arg(long, env = "NT_PRICES", default_value = "{}", value_parser = parse_prices)]
    pub prices: PriceTable,
    /// Milliseconds between two looks for scheduled announcements that are due (on every
    /// instance; each due announcement is claimed by one). A scheduled announcement goes out at
    /// most about this late.
    #[arg(long, env = "NT_SCHEDULER_TICK_MS", default_value = "1000", value_parser = WholeNumber::milliseconds("NT_SCHEDULER_TICK_MS", 50, 60_000).parser::<u64>())]
    pub scheduler_tick_ms: u64,

    /// Seconds a client has to send a request's headers, and then its body (JSON and webhook
    /// bodies; imports get longer). A slower client gets 408 or is disconnected, so slow
    /// connections cannot hold the instance's connection slots.
    #[arg(long, env = "NT_REQUEST_READ_SECS", default_value = "10", value_parser = WholeNumber::seconds("NT_REQUEST_READ_SECS", 1, 300).parser::<u64>())]
    pub request_read_secs: u64,

    /// Live-update streams (`.../events`) this instance holds open at once; past it, new ones
    /// get 503. Each holds a connection slot (Fly's `hard_limit`).
    #[arg(long, env = "NT_MAX_STREAMS", default_value = "200", value_parser = WholeNumber::count("NT_MAX_STREAMS", 1, 100_000).parser::<usize>())]
    pub max_streams: usize,

    /// Requests this instance serves at once on every route but the Twilio webhooks and the
    /// probes (`/health`, `/ready`): the join form, sign-in, the admin app and API. Past it, 503
    /// with Retry-After, so a flood of slow or many requests cannot take the room the webhooks
    /// need.
    #[arg(long, env = "NT_MAX_PUBLIC_REQUESTS", default_value = "100", value_parser = WholeNumber::count("NT_MAX_PUBLIC_REQUESTS", 1, 100_000).parser::<usize>())]
    pub max_public_requests: usize,

    /// Twilio webhook requests (`/webhooks/twilio/...`) this instance serves at once; past it,
    /// 503. A budget of their own: the public routes never use it up.
    #[arg(long, env = "NT_MAX_WEBHOOK_REQUESTS", default_value = "100", value_parser = WholeNumber::count("NT_MAX_WEBHOOK_REQUESTS", 1, 100_000).parser::<usize>())]
    pub max_webhook_requests: usize,

    /// The time join-request digests go by: the system's, which tests move forward to pass a
    /// digest's interval without waiting. Not a flag.
    #[arg(skip)]
    pub clock: Clock,
}

/// The Twilio credentials, once validated as a whole.
#[derive(Debug, Clone)]
pub struct TwilioSettings {
    pub account_sid: String,
    /// Signs webhooks; may be absent when REST calls use an API key and no webhook is checked yet.
    pub auth_token: Option<Secret>,
    pub api_key: Option<(String, Secret)>,
    pub messaging_service_sid: String,
    pub api_base: Option<Url>,
}

/// Which Twilio the service talks to.
#[derive(Debug, Clone)]
pub enum TwilioMode {
    Real(Box<TwilioSettings>),
    /// The built-in emulator; no real SMS is sent.
    Sandbox,
    /// No Twilio at all (`NT_SANDBOX=off` without an account).
    Disabled,
}

/// A setting that is valid alone but not together with the others.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Cross-checks the settings that only make sense together. `Ok(None)`: no Twilio account.
    pub fn twilio(&self) -> Result<Option<TwilioSettings>, ConfigError> {
        let Some(account_sid) = self.twilio_account_sid.clone() else {
            for (name, set) in [
                ("NT_TWILIO_AUTH_TOKEN", self.twilio_auth_token.is_some()),
                ("NT_TWILIO_API_KEY_SID", self.twilio_api_key_sid.is_some()),
                (
                    "NT_TWILIO_API_KEY_SECRET",
                    self.twilio_api_key_secret.is_some(),
                ),
                (
                    "NT_TWILIO_MESSAGING_SERVICE_SID",
                    self.twilio_messaging_service_sid.is_some(),
                ),
            ] {
                if set {
                    return Err(ConfigError(format!(
                        "{name} is set but NT_TWILIO_ACCOUNT_SID is not; set the Account SID (AC...) too."
                    )));
                }
            }
            return Ok(None);
        };
        let api_key = match (&self.twilio_api_key_sid, &self.twilio_api_key_secret) {
            (Some(sid), Some(secret)) => Some((sid.clone(), secret.clone())),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError(
                    "NT_TWILIO_API_KEY_SID is set but NT_TWILIO_API_KEY_SECRET is not; set both or neither."
                        .into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError(
                    "NT_TWILIO_API_KEY_SECRET is set but NT_TWILIO_API_KEY_SID is not; set both or neither."
                        .into(),
                ));
            }
        };
        if api_key.is_none() && self.twilio_auth_token.is_none() {
            return Err(ConfigError(
                "NT_TWILIO_ACCOUNT_SID is set but neither NT_TWILIO_AUTH_TOKEN nor an API key (NT_TWILIO_API_KEY_SID and NT_TWILIO_API_KEY_SECRET) is."
                    .into(),
            ));
        }
        let Some(messaging_service_sid) = self.twilio_messaging_service_sid.clone() else {
            return Err(ConfigError(
                "NT_TWILIO_MESSAGING_SERVICE_SID is required when NT_TWILIO_ACCOUNT_SID is set: every number and Conversation is pinned to that Messaging Service."
                    .into(),
            ));
        };
        Ok(Some(TwilioSettings {
            account_sid,
            auth_token: self.twilio_auth_token.clone(),
            api_key,
            messaging_service_sid,
            api_base: self.twilio_api_base.clone(),
        }))
    }

    /// Which Twilio the service talks to: a real account, the built-in emulator, or none.
    pub fn twilio_mode(&self) -> Result<TwilioMode, ConfigError> {
        let account = self.twilio()?;
        match (self.sandbox, account) {
            (SandboxMode::On, Some(_)) => Err(ConfigError(
                "NT_SANDBOX=on and NT_TWILIO_ACCOUNT_SID are both set: sandbox mode and a real Twilio account cannot be mixed; unset one of them."
                    .into(),
            )),
            (_, Some(account)) => Ok(TwilioMode::Real(Box::new(account))),
            (SandboxMode::Off, None) => Ok(TwilioMode::Disabled),
            (_, None) if self.twilio_api_base.is_some() => Err(ConfigError(
                "NT_TWILIO_API_BASE is set without NT_TWILIO_ACCOUNT_SID: a stand-in for Twilio needs the account it emulates (and NT_TWILIO_AUTH_TOKEN)."
                    .into(),
            )),
            (SandboxMode::Auto, None) if !self.sandbox_is_local() => Err(ConfigError(format!(
                "no Twilio account is configured and NT_SANDBOX=auto, but NT_PUBLIC_URL ({}) or NT_BIND ({}) is not a loopback http address: refusing sandbox mode (its emulator is open to anyone) on a public host. Set NT_SANDBOX=off and the NT_TWILIO_* settings for production, or NT_SANDBOX=on to run the sandbox there on purpose.",
                self.public_url, self.bind
            ))),
            (_, None) => Ok(TwilioMode::Sandbox),
        }
    }

    /// Whether this instance is only reachable from this machine: a plain-http loopback public
    /// URL and a loopback bind address (finding 5: `auto` never turns a public host into a sandbox).
    fn sandbox_is_local(&self) -> bool {
        let url_is_loopback = match self.public_url.host() {
            Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        self.public_url.scheme() == "http" && url_is_loopback && self.bind.ip().is_loopback()
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn outbox_reclaim_after(&self) -> Duration {
        Duration::from_secs(self.outbox_reclaim_secs)
    }

    /// The pauses before each retry of a failed event delivery.
    pub fn event_retry_delays(&self) -> Vec<Duration> {
        self.event_retry_secs
            .iter()
            .map(|secs| Duration::from_secs(*secs))
            .collect()
    }

    pub fn scheduler_tick(&self) -> Duration {
        Duration::from_millis(self.scheduler_tick_ms)
    }

    pub fn request_read_timeout(&self) -> Duration {
        Duration::from_secs(self.request_read_secs)
    }

    pub fn session_max_age(&self) -> Duration {
        Duration::from_secs(self.session_max_age_days * 24 * 3600)
    }

    pub fn signin_lock(&self) -> Duration {
        Duration::from_secs(self.signin_lock_minutes * 60)
    }

    /// None when the periodic reconciliation is off.
    /// How often the backfill runs when nothing calls for it sooner; `None`: only after outages.
    pub fn backfill_every(&self) -> Option<Duration> {
        (self.backfill_minutes > 0).then(|| Duration::from_secs(self.backfill_minutes * 60))
    }

    pub fn reconcile_every(&self) -> Option<Duration> {
        (self.reconcile_every_secs > 0).then(|| Duration::from_secs(self.reconcile_every_secs))
    }

    /// The settings with every default, as `--help` lists them; tests start from here.
    pub fn defaults() -> Self {
        let cli = Cli::try_parse_from(["neighborhood-text"]);
        match cli {
            Ok(cli) => cli.settings,
            // Only reachable if an NT_* variable in the environment is invalid.
            Err(error) => panic!("invalid NT_* environment for defaults: {error}"),
        }
    }
}

fn parse_bind(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        format!("NT_BIND must be an IP address and port such as 0.0.0.0:8080, not `{value}`.")
    })
}

fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|_| {
        format!(
            "NT_PUBLIC_URL must be an absolute URL such as https://text.example.org, not `{value}`."
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "NT_PUBLIC_URL must be an http:// or https:// URL with a host, not `{value}`."
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("NT_PUBLIC_URL must not carry a query or fragment.".into());
    }
    Ok(url)
}

fn parse_otlp_endpoint(value: &str) -> Result<Url, String> {
    match Url::parse(value) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.query().is_none() =>
        {
            Ok(url)
        }
        _ => Err(format!(
            "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL with a host, such as http://collector:4318, not `{value}`."
        )),
    }
}

fn parse_webhook_base(value: &str) -> Result<Url, String> {
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(format!(
            "NT_SANDBOX_WEBHOOK_URLS must list http:// or https:// URLs with a host, not `{value}`."
        )),
    }
}

fn parse_node_address(value: &str) -> Result<NodeAddress, String> {
    NodeAddress::parse(value)
}

fn parse_redis_url(value: &str) -> Result<RedisUrl, String> {
    let invalid = || {
        "NT_REDIS_URL must look like redis://host:6379 or rediss://user:password@host:6379."
            .to_string()
    };
    let url = Url::parse(value).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "redis" | "rediss") || url.host().is_none() {
        return Err(invalid());
    }
    if url.fragment() == Some("insecure") {
        return Err(
            "NT_REDIS_URL must not use #insecure: TLS certificates are always verified.".into(),
        );
    }
    redis::Client::open(value).map_err(|_| invalid())?;
    Ok(RedisUrl::new(url))
}

fn parse_redis_prefix(value: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    if valid {
        Ok(value.to_owned())
    } else {
        // Braces would become a Redis Cluster hash tag and pin every key to one slot.
        Err(
            "NT_REDIS_PREFIX must be 1 to 64 letters, digits or - _ : . (no braces or spaces)."
                .into(),
        )
    }
}

/// The bounds of a whole-number setting. Every such setting fails the same way: one sentence
/// naming the variable, its unit and the numbers it accepts.
#[derive(Debug, Clone, Copy)]
struct WholeNumber {
    variable: &'static str,
    /// `milliseconds`, `seconds`, or empty for a count.
    unit: &'static str,
    min: u64,
    max: u64,
    /// What 0 means, when it is accepted for something special (such as "off") below `min`.
    zero_meaning: Option<&'static str>,
}

impl WholeNumber {
    const fn milliseconds(variable: &'static str, min: u64, max: u64) -> Self {
        Self::new(variable, "milliseconds", min, max)
    }

    const fn seconds(variable: &'static str, min: u64, max: u64) -> Self {
        Self::new(variable, "seconds", min, max)
    }

    const fn count(variable: &'static str, min: u64, max: u64) -> Self {
        Self::new(variable, "", min, max)
    }

    const fn new(variable: &'static str, unit: &'static str, min: u64, max: u64) -> Self {
        Self {
            variable,
            unit,
            min,
            max,
            zero_meaning: None,
        }
    }

    const fn or_zero_meaning(self, meaning: &'static str) -> Self {
        Self {
            zero_meaning: Some(meaning),
            ..self
        }
    }

    /// The clap value parser; `T` is the field's type, which every bound fits.
    fn parser<T: TryFrom<u64>>(self) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync {
        move |value| {
            value
                .parse::<u64>()
                .ok()
                .filter(|&n| self.accepts(n))
                .and_then(|n| T::try_from(n).ok())
                .ok_or_else(|| self.refusal(value))
        }
    }

    fn accepts(&self, n: u64) -> bool {
        (n == 0 && self.zero_meaning.is_some()) || (self.min..=self.max).contains(&n)
    }

    fn refusal(&self, value: &str) -> String {
        let (variable, min, max) = (self.variable, self.min, self.max);
        let unit = match self.unit {
            "" => String::new(),
            unit => format!(" of {unit}"),
        };
        let accepted = match self.zero_meaning {
            Some(meaning) if min == 0 => {
                format!("a whole number{unit} from 0 ({meaning}) to {max}")
            }
            Some(meaning) => format!("0 ({meaning}) or a whole number{unit} from {min} to {max}"),
            None => format!("a whole number{unit} from {min} to {max}"),
        };
        format!("{variable} must be {accepted}, not `{value}`.")
    }
}

/// The clap value parser of a Twilio SID setting: `prefix` and 32 hexadecimal digits.
fn sid(
    variable: &'static str,
    prefix: &'static str,
) -> impl Fn(&str) -> Result<String, String> + Clone + Send + Sync {
    move |value| {
        if is_sid(value, prefix) {
            Ok(value.to_owned())
        } else {
            Err(format!(
                "{variable} must be {prefix} followed by 32 hexadecimal digits."
            ))
        }
    }
}

/// A Content template setting: `HX...`, or `HX...,es=HX...` with each language's own copy.
fn content_template(
    variable: &'static str,
) -> impl Fn(&str) -> Result<ContentTemplate, String> + Clone + Send + Sync {
    move |value| {
        ContentTemplate::parse(value, |sid| is_sid(sid, "HX"))
            .map_err(|problem| format!("{variable}: {problem}"))
    }
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Read whatever the mode, so the default is taken as written (already E.164) rather than
/// through libphonenumber, whose metadata takes longer to load than the rest of start-up; any
/// other value is parsed in full.
fn parse_sandbox_admin_phone(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Ok(String::new());
    }
    crate::domain::phone::Phone::try_from(value.trim().to_owned())
        .map(String::from)
        .map_err(|error| error.to_string())
}

fn parse_fault_share(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!(
            "NT_SANDBOX_FAULT_* settings are shares from 0 to 1 (e.g. 0.05), not `{value}`."
        )),
    }
}

fn parse_api_base(value: &str) -> Result<Url, String> {
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(format!(
            "NT_TWILIO_API_BASE must be an http:// or https:// URL, not `{value}`."
        )),
    }
}

fn google_base(name: &'static str) -> impl Fn(&str) -> Result<Url, String> + Clone {
    move |value| match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(format!(
            "{name} must be an http:// or https:// URL, not `{value}`."
        )),
    }
}

fn parse_token_key(value: &str) -> Result<Secret, String> {
    if value.chars().count() >= 32 {
        Ok(Secret::new(value))
    } else {
        Err(
            "NT_GOOGLE_TOKEN_KEY must be at least 32 characters (try `openssl rand -hex 32`)."
                .into(),
        )
    }
}

fn parse_session_secret(value: &str) -> Result<Secret, String> {
    if value.chars().count() >= 32 {
        Ok(Secret::new(value))
    } else {
        Err("NT_SESSION_SECRET must be at least 32 characters (try `openssl rand -hex 32`).".into())
    }
}

fn parse_metrics_token(value: &str) -> Result<Secret, String> {
    if value.chars().count() >= 16 {
        Ok(Secret::new(value))
    } else {
        Err("NT_METRICS_TOKEN must be at least 16 characters (try `openssl rand -hex 32`).".into())
    }
}

fn parse_prices(value: &str) -> Result<PriceTable, String> {
    PriceTable::with_overrides(value).map_err(|error| error.into_message())
}

fn parse_log_filter(value: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(value)
        .map(|_| value.to_owned())
        .map_err(|_| format!("NT_LOG must be a log filter such as `info` or `neighborhood_text=debug,info`, not `{value}`."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        let mut argv = vec!["neighborhood-text"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| cli.settings)
    }

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
    const SERVICE: &str = "MG0123456789abcdef0123456789abcdef";

    #[test]
    fn a_bad_value_names_its_variable() {
        let error = parse(&["--redis-url", "http://localhost"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("NT_REDIS_URL must look like"), "{error}");
        let error = parse(&["--bind", "localhost"]).unwrap_err().to_string();
        assert!(error.contains("NT_BIND must be"), "{error}");
        let error = parse(&["--redis-prefix", "a{b}"]).unwrap_err().to_string();
        assert!(error.contains("NT_REDIS_PREFIX"), "{error}");
        let error = parse(&["--twilio-account-sid", "AC123"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("NT_TWILIO_ACCOUNT_SID"), "{error}");
    }

    #[test]
    fn a_whole_number_out_of_bounds_is_refused_in_one_sentence() {
        let refusal = |args: &[&str]| parse(args).unwrap_err().to_string();
        let error = refusal(&["--redis-timeout-ms", "10"]);
        assert!(
            error.contains("NT_REDIS_TIMEOUT_MS must be a whole number of milliseconds from 50 to 60000, not `10`."),
            "{error}"
        );
        let error = refusal(&["--history-messages", "ten"]);
        assert!(
            error.contains(
                "NT_HISTORY_MESSAGES must be a whole number from 100 to 1000000, not `ten`."
            ),
            "{error}"
        );
        let error = refusal(&["--pause-after-failures", "101"]);
        assert!(
            error.contains(
                "NT_PAUSE_AFTER_FAILURES must be a whole number from 0 (never) to 100, not `101`."
            ),
            "{error}"
        );
        let error = refusal(&["--reconcile-every-secs", "59"]);
        assert!(
            error.contains("NT_RECONCILE_EVERY_SECS must be 0 (off) or a whole number of seconds from 60 to 604800, not `59`."),
            "{error}"
        );
        let settings =
            parse(&["--reconcile-every-secs", "0", "--pause-after-failures", "0"]).unwrap();
        assert_eq!(settings.reconcile_every(), None);
        assert_eq!(settings.pause_after_failures, 0);
        let error = refusal(&["--twilio-api-key-sid", "SK12"]);
        assert!(
            error.contains("NT_TWILIO_API_KEY_SID must be SK followed by 32 hexadecimal digits."),
            "{error}"
        );
    }

    #[test]
    fn twilio_credentials_must_come_as_a_set() {
        let settings = parse(&["--twilio-account-sid", ACCOUNT]).unwrap();
        let error = settings.twilio().unwrap_err().0;
        assert!(error.contains("NT_TWILIO_AUTH_TOKEN"), "{error}");

        let settings =
            parse(&["--twilio-account-sid", ACCOUNT, "--twilio-auth-token", "t"]).unwrap();
        let error = settings.twilio().unwrap_err().0;
        assert!(
            error.starts_with("NT_TWILIO_MESSAGING_SERVICE_SID is required"),
            "{error}"
        );

        let settings = parse(&["--twilio-auth-token", "t"]).unwrap();
        assert!(
            settings
                .twilio()
                .unwrap_err()
                .0
                .contains("NT_TWILIO_ACCOUNT_SID is not")
        );

        let settings = parse(&[
            "--twilio-account-sid",
            ACCOUNT,
            "--twilio-auth-token",
            "t",
            "--twilio-messaging-service-sid",
            SERVICE,
        ])
        .unwrap();
        let twilio = settings.twilio().unwrap().unwrap();
        assert_eq!(twilio.account_sid, ACCOUNT);
        assert!(parse(&[]).unwrap().twilio().unwrap().is_none());
    }

    #[test]
    fn debug_output_redacts_every_secret() {
        let settings = parse(&[
            "--twilio-auth-token",
            "tok-very-secret",
            "--session-secret",
            "0123456789abcdef0123456789abcdef-secret",
            "--redis-url",
            "rediss://default:pw-secret@example.upstash.io:6379",
        ])
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("tok-very-secret"), "{shown}");
        assert!(!shown.contains("-secret"), "{shown}");
        assert!(!shown.contains("pw-secret"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn prices_are_overridden_by_nt_prices() {
        let settings = parse(&[]).unwrap();
        assert_eq!(settings.prices, PriceTable::default());
        let settings = parse(&[
            "--prices",
            r#"{"sms_segment_out": "0.01", "as_of": "2027-01-05"}"#,
        ])
        .unwrap();
        assert_eq!(settings.prices.sms_segment_out.micros(), 10_000);
        assert_eq!(settings.prices.as_of, "2027-01-05");
        let error = parse(&["--prices", r#"{"sms_segment_out": "cheap"}"#])
            .unwrap_err()
            .to_string();
        assert!(error.contains("NT_PRICES.sms_segment_out"), "{error}");
    }

    #[test]
    fn rediss_urls_are_accepted() {
        let settings = parse(&["--redis-url", "rediss://default:pw@eu1.upstash.io:6379"]).unwrap();
        assert_eq!(
            settings.redis_url.redacted(),
            "rediss://default:redacted@eu1.upstash.io:6379"
        );
    }
}
