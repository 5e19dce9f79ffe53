//! The requests, the two ways of sending them (closed and open loop), and what is recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use neighborhood_text::twilio::signature;
use redis::aio::MultiplexedConnection;
use serde_json::{Value, json};

use crate::Plan;
use crate::machine;
use crate::service::{Service, ServiceEnv};
use crate::setup::Fixture;

const PRE_PATH: &str = "/webhooks/twilio/conversations/pre";
const POST_PATH: &str = "/webhooks/twilio/conversations/post";
/// Anything slower is an error (Twilio itself gives up on the pre-event webhook at 5 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The open loop's most requests in flight (its connections).
const OPEN_LOOP_CONNECTIONS: usize = 256;
/// Error messages kept per scenario, to show what went wrong.
const ERROR_SAMPLES: usize = 5;
/// The header a proxy in front of the service (Fly.io's) names the client's address in; the
/// service is started trusting it, so each join request can come from a neighbor of its own.
pub const CLIENT_IP_HEADER: &str = "Fly-Client-IP";
/// Numbers of the neighbors who ask to join, well apart from the members' (`setup`).
pub(crate) const JOINING_PHONES_FROM: u64 = 5_000_000;

/// One HTTP/1.1 client for every scenario: connections are kept and reused, like Twilio's.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(300))
        .build()?)
}

/// What a scenario sends, and how an answer is checked.
pub struct Target {
    pub(crate) url: String,
    pub(crate) kind: Kind,
    /// Numbers the requests of every scenario: a new body and idempotency token each time.
    pub(crate) sequence: AtomicU64,
    /// The `route` label of the service's own latency metrics for this request.
    pub(crate) route: &'static str,
}

pub(crate) enum Kind {
    Webhook(Box<Webhook>),
    Health,
    Join,
    MemberPage { token: String, expected: usize },
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// `onMessageAdd`: answered with the body rewritten to carry the author's name.
    Pre,
    /// `onMessageAdded`: recorded in the history and relayed into the other shards.
    Post,
}

/// A Conversations webhook as Twilio sends it (the emulator's parameters), signed over
/// `NT_PUBLIC_URL` + path with the account's auth token.
pub(crate) struct Webhook {
    pub(crate) event: Event,
    pub(crate) signed_url: String,
    pub(crate) auth_token: String,
    /// Every parameter but the per-request ones (`Body`, and `MessageSid`/`Index` after the fact).
    pub(crate) params: Vec<(String, String)>,
    pub(crate) author_name: String,
    pub(crate) run: String,
}

impl Target {
    pub fn pre(service: &Service, env: &ServiceEnv, fixture: &Fixture) -> Self {
        Self::webhook(Event::Pre, service, env, fixture)
    }

    pub fn post(service: &Service, env: &ServiceEnv, fixture: &Fixture) -> Self {
        Self::webhook(Event::Post, service, env, fixture)
    }

    fn webhook(event: Event, service: &Service, env: &ServiceEnv, fixture: &Fixture) -> Self {
        let (path, event_type) = match event {
            Event::Pre => (PRE_PATH, "onMessageAdd"),
            Event::Post => (POST_PATH, "onMessageAdded"),
        };
        let params = [
            ("AccountSid", env.account_sid.clone()),
            ("Attributes", "{}".to_owned()),
            ("Author", fixture.author_phone.clone()),
            ("ChatServiceSid", format!("IS{}", &env.account_sid[2..])),
            ("ConversationSid", fixture.conversation_sid.clone()),
            ("EventType", event_type.to_owned()),
            (
                "MessagingServiceSid",
                neighborhood_text::sandbox::DEFAULT_MESSAGING_SERVICE_SID.to_owned(),
            ),
            ("ParticipantSid", fixture.participant_sid.clone()),
            ("RetryCount", "0".to_owned()),
            ("Source", "SMS".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        Self {
            url: format!("{}{path}", service.base),
            kind: Kind::Webhook(Box::new(Webhook {
                event,
                signed_url: format!("{}{path}", service.public_url.trim_end_matches('/')),
                auth_token: env.auth_token.clone(),
                params,
                author_name: fixture.author_name.clone(),
                run: env.prefix.clone(),
            })),
            sequence: AtomicU64::new(0),
            route: "twilio_webhooks",
        }
    }

    pub fn health(service: &Service) -> Self {
        Self {
            url: format!("{}/health", service.base),
            kind: Kind::Health,
            sequence: AtomicU64::new(0),
            route: "health",
        }
    }

    /// The public join form, submitted by a different neighbor from a different address each
    /// time (the per-address and per-phone limits are per person, not per load generator).
    pub fn join(service: &Service, slug: &str) -> Self {
        Self {
            url: format!("{}/api/v1/join/{slug}", service.base),
            kind: Kind::Join,
            sequence: AtomicU64::new(0),
            route: "submit_join_request",
        }
    }

    /// The first page of the member list in joining order, every status.
    pub fn member_page(service: &Service, fixture: &Fixture, token: &str) -> Self {
        Self::member_page_where(service, fixture, token, "")
    }

    /// The first page of the member list as the admin app opens it: in the group, A to Z.
    pub fn member_page_a_to_z(service: &Service, fixture: &Fixture, token: &str) -> Self {
        Self::member_page_where(service, fixture, token, "?status=active&sort=name")
    }

    /// The first page of the member list narrowed by `query` (which every member matches).
    fn member_page_where(service: &Service, fixture: &Fixture, token: &str, query: &str) -> Self {
        Self {
            url: format!(
                "{}/api/v1/neighborhoods/{}/members{query}",
                service.base, fixture.neighborhood_id
            ),
            kind: Kind::MemberPage {
                token: token.to_owned(),
                expected: fixture.members.min(crate::setup::MEMBER_PAGE),
            },
            sequence: AtomicU64::new(0),
            route: "list_members",
        }
    }

    /// Sends one request and checks its answer, as every request of a scenario nt-bench sends
    /// itself is checked.
    pub async fn check_one(&self, client: &reqwest::Client) -> Result<(), String> {
        self.send(client).await
    }

    /// Sends one request and checks its answer; `Err` says what was wrong.
    async fn send(&self, client: &reqwest::Client) -> Result<(), String> {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        match &self.kind {
            Kind::Webhook(webhook) => webhook.send(client, &self.url, n).await,
            Kind::Health => {
                let response = client.get(&self.url).send().await.map_err(describe)?;
                let (status, answer) = read(response).await?;
                match serde_json::from_slice::<Value>(&answer) {
                    Ok(value) if status == 200 && value["status"] == "ok" => Ok(()),
                    _ => Err(unexpected("/health", status, &answer)),
                }
            }
            Kind::Join => {
                let person = JOINING_PHONES_FROM + n;
                let body = json!({
                    "name": format!("Neighbor {n}"),
                    "phone": format!("+1555{person:07}"),
                    "address": format!("{} Bench Street", 1 + n % 900),
                    "consent": true,
                });
                let response = client
                    .post(&self.url)
                    .header(CLIENT_IP_HEADER, client_ip(n))
                    .json(&body)
                    .send()
                    .await
                    .map_err(describe)?;
                let (status, answer) = read(response).await?;
                match serde_json::from_slice::<Value>(&answer) {
                    Ok(value) if status == 202 && value["request_id"].is_string() => Ok(()),
                    _ => Err(unexpected("join", status, &answer)),
                }
            }
            Kind::MemberPage { token, expected } => {
                let response = client
                    .get(&self.url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(describe)?;
                let (status, answer) = read(response).await?;
                match serde_json::from_slice::<Value>(&answer) {
                    Ok(value)
                        if status == 200
                            && value["items"].as_array().map(Vec::len) == Some(*expected) =>
                    {
                        Ok(())
                    }
                    _ => Err(unexpected("member list", status, &answer)),
                }
            }
        }
    }
}

impl Webhook {
    /// Request `n`'s form body and signature, and the body the pre-event answer should carry.
    pub(crate) fn form(&self, n: u64) -> (String, String, String) {
        let text = format!("Block party on Saturday at 7, bring a chair ({n})");
        let named = format!("{}: {text}", self.author_name);
        let mut params = self.params.clone();
        match self.event {
            Event::Pre => params.push(("Body".to_owned(), text)),
            Event::Post => {
                // After the fact Twilio reports the body as the pre-event webhook rewrote it.
                params.push(("Body".to_owned(), named.clone()));
                params.push(("MessageSid".to_owned(), message_sid(&self.run, n)));
                params.push(("Index".to_owned(), n.to_string()));
            }
        }
        let signature = signature::sign(&self.auth_token, &self.signed_url, &params);
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        (form, signature, named)
    }

    async fn send(&self, client: &reqwest::Client, url: &str, n: u64) -> Result<(), String> {
        let (form, signature, named) = self.form(n);
        let response = client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header("X-Twilio-Signature", signature)
            .header("I-Twilio-Idempotency-Token", format!("{}-{n}", self.run))
            .body(form)
            .send()
            .await
            .map_err(describe)?;
        let (status, answer) = read(response).await?;
        match self.event {
            Event::Pre => {
                let expected = json!({ "body": named });
                match serde_json::from_slice::<Value>(&answer) {
                    Ok(value) if status == 200 && value == expected => Ok(()),
                    _ => Err(unexpected("pre-event", status, &answer)),
                }
            }
            Event::Post if status == 200 => Ok(()),
            Event::Post => Err(unexpected("post-event", status, &answer)),
        }
    }
}

/// A message SID of Twilio's shape (`IM` and 32 hex digits), different for every request.
fn message_sid(run: &str, n: u64) -> String {
    let run_hex: String = run.bytes().map(|b| format!("{b:02x}")).collect();
    let tail = format!("{run_hex:0>16}");
    format!("IM{}{n:016x}", &tail[tail.len() - 16..])
}

/// A private address per request: 10.x.y.z, 16 million of them.
fn client_ip(n: u64) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

async fn read(response: reqwest::Response) -> Result<(u16, Vec<u8>), String> {
    let status = response.status().as_u16();
    let answer = response.bytes().await.map_err(describe)?;
    Ok((status, answer.to_vec()))
}

fn unexpected(what: &str, status: u16, answer: &[u8]) -> String {
    format!(
        "{what} answered {status} {}",
        String::from_utf8_lossy(answer)
    )
}

/// An error with its causes (reqwest's own message leaves them out).
fn describe(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn histogram() -> Histogram<u64> {
    // Microseconds, from 1 µs to 2 minutes, 3 significant digits.
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Latencies of the requests that were answered correctly, and the errors.
pub struct Measured {
    pub latency: Histogram<u64>,
    pub ok: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// From the first request sent to the last answer.
    pub elapsed: Duration,
}

impl Measured {
    fn new() -> Self {
        Self {
            latency: histogram(),
            ok: 0,
            errors: 0,
            error_samples: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// `ok` answers whose latencies (microseconds) at each of `steps` evenly spaced quantiles
    /// are `quantiles` (step number, value): each step's share of the answers is recorded at its
    /// value.
    pub fn from_quantiles(ok: u64, quantiles: &[(u64, u64)], steps: u64) -> Self {
        let mut measured = Self::new();
        measured.ok = ok;
        let mut recorded = 0;
        for &(step, micros) in quantiles {
            let upto = ok * step.min(steps) / steps;
            if upto > recorded {
                measured
                    .latency
                    .saturating_record_n(micros.max(1), upto - recorded);
                recorded = upto;
            }
        }
        measured
    }

    fn record(&mut self, latency: Duration, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                self.ok += 1;
                self.latency.saturating_record(micros(latency));
            }
            Err(error) => self.error(error),
        }
    }

    fn error(&mut self, error: String) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(error);
        }
    }

    fn merge(&mut self, other: Self) {
        self.ok += other.ok;
        self.errors += other.errors;
        for error in other.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES {
                self.error_samples.push(error);
            }
        }
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }

    pub fn requests(&self) -> u64 {
        self.ok + self.errors
    }

    /// Correct answers per second.
    pub fn throughput(&self) -> f64 {
        if self.elapsed.is_zero() {
            0.0
        } else {
            self.ok as f64 / self.elapsed.as_secs_f64()
        }
    }

    /// A latency percentile in milliseconds.
    pub fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }

    pub fn mean_ms(&self) -> f64 {
        self.latency.mean() / 1000.0
    }

    pub fn one_line(&self) -> String {
        let mut line = format!(
            "{} requests, {} errors, {:.0} req/s; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.requests(),
            self.errors,
            self.throughput(),
            self.ms(0.5),
            self.ms(0.9),
            self.ms(0.99),
            self.max_ms()
        );
        for error in &self.error_samples {
            line.push_str(&format!("\n    error: {error}"));
        }
        line
    }
}

/// CPU time spent by each party while a scenario was measured, and the service's own view of
/// its latency (the middleware's histogram sum and count at `/metrics`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub service_cpu: f64,
    pub generator_cpu: f64,
    pub redis_cpu: Option<f64>,
    /// Twilio's stand-in and its own Redis, when they run apart from the service.
    pub emulator_cpu: Option<f64>,
    pub server_seconds: f64,
    pub server_requests: f64,
}

impl Usage {
    pub(crate) fn since(before: &Self, after: &Self) -> Self {
        Self {
            service_cpu: after.service_cpu - before.service_cpu,
            generator_cpu: after.generator_cpu - before.generator_cpu,
            redis_cpu: after.redis_cpu.zip(before.redis_cpu).map(|(a, b)| a - b),
            emulator_cpu: after
                .emulator_cpu
                .zip(before.emulator_cpu)
                .map(|(a, b)| a - b),
            server_seconds: after.server_seconds - before.server_seconds,
            server_requests: after.server_requests - before.server_requests,
        }
    }

    /// Mean time the service spent on a request, in milliseconds, as its middleware measures it
    /// (from routing to the response, without the HTTP parsing and the network).
    pub fn server_mean_ms(&self) -> Option<f64> {
        (self.server_requests > 0.0).then(|| self.server_seconds / self.server_requests * 1000.0)
    }
}

/// Takes [`Usage`] snapshots.
pub struct Cpu {
    pid: u32,
    redis: Option<MultiplexedConnection>,
    /// The emulator's process and its Redis server's, when they run apart from the service.
    emulator_pids: Option<(u32, u32)>,
    metrics_url: String,
}

impl Cpu {
    pub async fn connect(service: &Service, env: &ServiceEnv) -> Self {
        let redis = match redis::Client::open(env.redis_url.as_str()) {
            Ok(client) => client.get_multiplexed_async_connection().await.ok(),
            Err(_) => None,
        };
        Self {
            redis,
            ..Self::service_only(service, env)
        }
    }

    /// The service's CPU (and the emulator's) only: on a cluster, Redis's CPU is spread over
    /// nodes this does not read.
    pub fn service_only(service: &Service, env: &ServiceEnv) -> Self {
        Self {
            pid: service.pid,
            redis: None,
            emulator_pids: env
                .emulator
                .as_ref()
                .map(|emulator| (emulator.pid, emulator.redis_pid)),
            metrics_url: format!("{}/metrics", service.base),
        }
    }

    pub(crate) async fn snapshot(&self, client: &reqwest::Client, route: &str) -> Usage {
        let redis_cpu = match self.redis.clone() {
            Some(mut conn) => machine::redis_cpu_seconds(&mut conn).await,
            None => None,
        };
        let (server_seconds, server_requests) = match client.get(&self.metrics_url).send().await {
            Ok(response) => {
                let text = response.text().await.unwrap_or_default();
                (
                    metric_sum(&text, "http_request_duration_seconds_sum", route),
                    metric_sum(&text, "http_request_duration_seconds_count", route),
                )
            }
            Err(_) => (0.0, 0.0),
        };
        let emulator_cpu = self.emulator_pids.and_then(|(emulator, redis)| {
            Some(
                machine::process_cpu_seconds(Some(emulator))?
                    + machine::process_cpu_seconds(Some(redis))?,
            )
        });
        Usage {
            service_cpu: machine::process_cpu_seconds(Some(self.pid)).unwrap_or(0.0),
            generator_cpu: machine::process_cpu_seconds(None).unwrap_or(0.0),
            redis_cpu,
            emulator_cpu,
            server_seconds,
            server_requests,
        }
    }
}

/// The sum of a Prometheus series over every label set that has `route="<route>"`.
fn metric_sum(text: &str, name: &str, route: &str) -> f64 {
    let label = format!("route=\"{route}\"");
    text.lines()
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with('{'))
        .filter(|line| line.contains(&label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Round trips to Redis from this generator (`PING`, one at a time, with nothing else running):
/// the floor under any request that waits for Redis.
pub async fn redis_round_trips(redis_url: &str, count: u64) -> anyhow::Result<Measured> {
    let mut conn = redis::Client::open(redis_url)?
        .get_multiplexed_async_connection()
        .await?;
    let mut measured = Measured::new();
    let started = Instant::now();
    for _ in 0..count {
        let sent = Instant::now();
        let outcome: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
        measured.record(sent.elapsed(), outcome.map(drop).map_err(|e| e.to_string()));
    }
    measured.elapsed = started.elapsed();
    Ok(measured)
}

/// One scenario's figures.
pub struct Scenario {
    pub name: String,
    pub load: String,
    pub measured: Measured,
    pub usage: Usage,
    /// Open loop only: latency from the moment the request actually left, and how late the
    /// dispatcher was at most against its schedule.
    pub from_send: Option<Measured>,
    pub max_dispatch_lag: Option<Duration>,
}

impl Scenario {
    /// CPU microseconds per answered request: service, generator, Redis.
    pub fn cpu_per_request(&self) -> (f64, f64, Option<f64>) {
        let per = |seconds: f64| seconds * 1e6 / self.measured.ok.max(1) as f64;
        (
            per(self.usage.service_cpu),
            per(self.usage.generator_cpu),
            self.usage.redis_cpu.map(per),
        )
    }
}

/// N workers, each sending its next request as soon as the previous one is answered, until the
/// duration is up or the scenario's request budget is spent; after an unmeasured warm-up.
pub async fn closed_loop(
    client: &reqwest::Client,
    target: &Arc<Target>,
    plan: &Plan,
    cpu: &Cpu,
    name: &str,
) -> anyhow::Result<Scenario> {
    let warmup = run_closed(client, target, plan.workers, plan.warmup, plan.max_requests).await?;
    let before = cpu.snapshot(client, target.route).await;
    let mut measured = run_closed(
        client,
        target,
        plan.workers,
        plan.duration,
        plan.max_requests,
    )
    .await?;
    let after = cpu.snapshot(client, target.route).await;
    // Errors while warming up are errors too.
    measured.errors += warmup.errors;
    for error in warmup.error_samples {
        if measured.error_samples.len() < ERROR_SAMPLES {
            measured.error_samples.push(format!("(warm-up) {error}"));
        }
    }
    Ok(Scenario {
        name: name.to_owned(),
        load: format!(
            "closed loop, {} workers, {}",
            plan.workers,
            seconds(plan.duration)
        ),
        measured,
        usage: Usage::since(&before, &after),
        from_send: None,
        max_dispatch_lag: None,
    })
}

async fn run_closed(
    client: &reqwest::Client,
    target: &Arc<Target>,
    workers: usize,
    duration: Duration,
    budget: u64,
) -> anyhow::Result<Measured> {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (client, target, issued) = (client.clone(), target.clone(), issued.clone());
        tasks.spawn(async move {
            let mut measured = Measured::new();
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < budget {
                let sent = Instant::now();
                let outcome = target.send(&client).await;
                measured.record(sent.elapsed(), outcome);
            }
            measured
        });
    }
    let mut total = Measured::new();
    while let Some(measured) = tasks.join_next().await {
        total.merge(measured?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Requests at a fixed rate whatever the answers do (a tokio timer per send, a task per
/// request), latency counted from each one's scheduled send time.
pub async fn open_loop(
    client: &reqwest::Client,
    target: &Arc<Target>,
    plan: &Plan,
    rate: f64,
    cpu: &Cpu,
    name: &str,
) -> anyhow::Result<Scenario> {
    let count = ((rate * plan.duration.as_secs_f64()).round() as u64).clamp(1, plan.max_requests);
    let before = cpu.snapshot(client, target.route).await;
    let (sender, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let start = tokio::time::Instant::now() + Duration::from_millis(5);
    // At most this many requests in flight (so connections), as a real sender keeps a bounded
    // pool: past it, a request waits for a connection, and that wait counts in its latency
    // (measured from its scheduled time) rather than opening ever more connections.
    let connections = Arc::new(tokio::sync::Semaphore::new(OPEN_LOOP_CONNECTIONS));
    let dispatcher = {
        let (client, target) = (client.clone(), target.clone());
        tokio::spawn(async move {
            let mut max_lag = Duration::ZERO;
            for i in 0..count {
                let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(scheduled).await;
                max_lag = max_lag.max(scheduled.elapsed());
                let (client, target, sender) = (client.clone(), target.clone(), sender.clone());
                let connections = connections.clone();
                tokio::spawn(async move {
                    let Ok(_connection) = connections.acquire().await else {
                        return;
                    };
                    let sent = tokio::time::Instant::now();
                    let outcome = target.send(&client).await;
                    let done = tokio::time::Instant::now();
                    let _ = sender.send((done - scheduled, done - sent, done, outcome));
                });
            }
            max_lag
        })
    };
    let mut measured = Measured::new();
    let mut from_send = Measured::new();
    let mut last = start;
    while let Some((from_schedule, from_sent, done, outcome)) = answers.recv().await {
        last = last.max(done);
        if outcome.is_ok() {
            from_send.record(from_sent, Ok(()));
        }
        measured.record(from_schedule, outcome);
    }
    let max_lag = dispatcher.await?;
    let after = cpu.snapshot(client, target.route).await;
    measured.elapsed = last.saturating_duration_since(start);
    from_send.elapsed = measured.elapsed;
    Ok(Scenario {
        name: name.to_owned(),
        load: format!(
            "open loop, {rate:.0} req/s offered ({:.0} % of the maximum), {}",
            plan.open_share * 100.0,
            seconds(plan.duration)
        ),
        measured,
        usage: Usage::since(&before, &after),
        from_send: Some(from_send),
        max_dispatch_lag: Some(max_lag),
    })
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}
