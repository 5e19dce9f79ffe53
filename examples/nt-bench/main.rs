//! `nt-bench`: the load generator behind `./scripts/bench` (not part of the service binary).
//!
//! It starts the release build of the service as a child process (sandbox mode, a key prefix of
//! its own in Redis, a free loopback port), fills a neighborhood through the service's own API
//! (a platform admin from `admin create`, a neighborhood, members until it has 20 shards), then
//! measures, in one run against one server:
//!
//! 1. the pre-event `onMessageAdd` webhook at its maximum: a closed loop of N workers, each
//!    sending signed requests one after another;
//! 2. `GET /health` the same way, as the baseline of what the stack (HTTP server, middleware,
//!    this generator, this machine) can do at all;
//! 3. the pre-event again at a fixed offered rate of half its measured maximum: an open loop
//!    whose latencies count from each request's scheduled send time, so a stall is not hidden
//!    by the generator waiting for it.
//!
//! It then rewrites `BENCHMARKS.md`. `--smoke` runs every step with tiny counts, checks that
//! every scenario ran without errors, and writes nothing.

mod approvals;
mod cluster;
mod economy;
mod emulator;
mod footprint;
mod load;
mod machine;
mod redis_view;
mod report;
mod service;
mod setup;
mod wrk;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;

use crate::load::{Cpu, Target};
use crate::report::Report;
use crate::service::{Service, ServiceEnv};

/// Load generator for neighborhood-text's benchmarks; see BENCHMARKS.md.
#[derive(Debug, Parser)]
#[command(name = "nt-bench")]
struct Args {
    /// Run every scenario with tiny counts (60 members, ~1 s each), check there were no errors,
    /// and leave BENCHMARKS.md alone.
    #[arg(long)]
    smoke: bool,

    /// The service binary to start (a release build).
    #[arg(long, default_value = "target/release/neighborhood-text")]
    service_bin: PathBuf,

    /// Redis the service uses (and this generator reads INFO from and cleans up).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,

    /// A node of a Redis Cluster to measure the service on as well (the pre-event webhook,
    /// `/health` and the approvals), beside the single node of `--redis-url`. Its keys of the
    /// run are deleted at the end, as on the single node.
    #[arg(long)]
    redis_cluster_url: Option<String>,

    /// Members of the benchmark neighborhood, the owner included [default: 1000; smoke: 60].
    #[arg(long)]
    members: Option<usize>,

    /// Concurrent workers of the closed-loop scenarios.
    #[arg(long, default_value_t = 32)]
    workers: usize,

    /// Seconds each scenario is measured [default: 10; smoke: 1].
    #[arg(long)]
    duration: Option<f64>,

    /// Seconds of unmeasured load before each closed-loop scenario [default: 2; smoke: 0.2].
    #[arg(long)]
    warmup: Option<f64>,

    /// Most requests any one scenario sends [default: 3000000; smoke: 5000].
    #[arg(long)]
    max_requests: Option<u64>,

    /// Offered rate of the open-loop scenario, as a share of the measured pre-event maximum.
    #[arg(long, default_value_t = 0.5)]
    open_share: f64,

    /// Group messages of the post-event scenario, each relayed into every other shard
    /// [default: 200; smoke: 5].
    #[arg(long)]
    post_messages: Option<u64>,

    /// Join requests approved at once in the approval scenario [default: 1000; smoke: 60].
    #[arg(long)]
    approvals: Option<usize>,

    /// Members imported to measure Redis memory per member [default: 10000; smoke: 60].
    #[arg(long)]
    memory_members: Option<usize>,

    /// Where the report goes (not written with --smoke).
    #[arg(long, default_value = "BENCHMARKS.md")]
    output: PathBuf,

    /// The command to name in the report as the one that produced it (the script passes its own).
    #[arg(long)]
    recorded_command: Option<String>,

    /// Keep the run's Redis keys (normally deleted at the end).
    #[arg(long)]
    keep_data: bool,

    /// Run Twilio's emulator inside the service (sandbox mode, as the README's quick start
    /// does) rather than as a process of its own: the service's figures then include the
    /// emulator's work.
    #[arg(long)]
    sandbox: bool,
}

/// The run's settings once `--smoke` has picked its defaults.
#[derive(Debug, Clone)]
pub struct Plan {
    pub smoke: bool,
    /// The emulator runs inside the service.
    pub sandbox: bool,
    pub members: usize,
    pub workers: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub max_requests: u64,
    pub open_share: f64,
    pub post_messages: u64,
    pub approvals: usize,
    pub memory_members: usize,
    /// Neighborhood sizes of the fan-out economy (the main neighborhood's among them).
    pub fan_out_sizes: Vec<usize>,
}

impl Args {
    fn plan(&self) -> anyhow::Result<Plan> {
        let pick = |value: Option<f64>, full: f64, smoke: f64| {
            value.unwrap_or(if self.smoke { smoke } else { full })
        };
        let members = self.members.unwrap_or(if self.smoke { 60 } else { 1000 });
        // The main neighborhood is one of the sizes: it is set up already.
        let mut fan_out_sizes = if self.smoke {
            vec![10, 51, members]
        } else {
            vec![10, 50, 51, 200, members]
        };
        fan_out_sizes.sort_unstable();
        fan_out_sizes.dedup();
        let plan = Plan {
            smoke: self.smoke,
            sandbox: self.sandbox,
            members,
            workers: self.workers,
            duration: Duration::from_secs_f64(pick(self.duration, 10.0, 1.0)),
            warmup: Duration::from_secs_f64(pick(self.warmup, 2.0, 0.2)),
            max_requests: self
                .max_requests
                .unwrap_or(if self.smoke { 5_000 } else { 3_000_000 }),
            open_share: self.open_share,
            post_messages: self
                .post_messages
                .unwrap_or(if self.smoke { 5 } else { 200 }),
            approvals: self.approvals.unwrap_or(if self.smoke { 60 } else { 1000 }),
            memory_members: self
                .memory_members
                .unwrap_or(if self.smoke { 60 } else { 10_000 }),
            fan_out_sizes,
        };
        if plan.members < 2 {
            bail!("--members must be at least 2 (the owner and one member to send as)");
        }
        if plan.workers == 0 || plan.max_requests == 0 || plan.duration.is_zero() {
            bail!("--workers, --max-requests and --duration must be above zero");
        }
        if plan.post_messages == 0 || plan.approvals == 0 || plan.memory_members == 0 {
            bail!("--post-messages, --approvals and --memory-members must be above zero");
        }
        if !(plan.open_share > 0.0 && plan.open_share <= 1.0) {
            bail!("--open-share must be above 0 and at most 1");
        }
        Ok(plan)
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("nt-bench: could not start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("nt-bench: error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let plan = args.plan()?;
    wrk::check_installed()?;
    let started = Instant::now();
    let machine = machine::Machine::describe(&args.redis_url).await;
    let redis = redis::Client::open(args.redis_url.as_str())
        .context("--redis-url")?
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("Redis at {} is unreachable", args.redis_url))?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let mut env = ServiceEnv::new(&args.service_bin, &args.redis_url, &run_id)?;
    println!(
        "nt-bench: {} run {run_id}: service {} (Redis prefix {})",
        if plan.smoke { "smoke" } else { "full" },
        env.bin.display(),
        env.prefix
    );
    if !plan.sandbox {
        env.start_emulator().await?;
        if let Some(emulator) = &env.emulator {
            println!(
                "nt-bench: Twilio's emulator: pid {} at {}, its Redis pid {} at {}",
                emulator.pid, emulator.base, emulator.redis_pid, emulator.redis_url
            );
        }
    }

    let service = match Service::start(&env).await {
        Ok(service) => service,
        Err(error) => {
            // It may have stored something before failing.
            let _ = machine::delete_prefix(redis, &env.prefix).await;
            return Err(error);
        }
    };
    println!(
        "nt-bench: service pid {} at {} (log: {})",
        service.pid,
        service.base,
        service.log_path.display()
    );
    let outcome = measure(&plan, &env, &service).await;
    let log_path = service.log_path.clone();
    if let Err(error) = service.stop().await {
        eprintln!("nt-bench: stopping the service: {error:#}");
    }
    env.stop_emulator().await;
    if args.keep_data {
        println!("nt-bench: kept the Redis keys under {}:*", env.prefix);
    } else {
        match machine::delete_prefix(redis, &env.prefix).await {
            Ok(deleted) => println!("nt-bench: deleted {deleted} Redis keys of the run"),
            Err(error) => eprintln!("nt-bench: cleaning up Redis: {error:#}"),
        }
    }
    let results = outcome.with_context(|| {
        format!(
            "the benchmark failed; the service's log is {}",
            log_path.display()
        )
    })?;
    let cluster = match &args.redis_cluster_url {
        Some(url) => Some(cluster::measure(&plan, &args.service_bin, url, &run_id).await?),
        None => None,
    };

    let report = Report {
        command: args.recorded_command.clone().unwrap_or_else(|| {
            std::env::args()
                .map(|arg| shell_quote(&arg))
                .collect::<Vec<_>>()
                .join(" ")
        }),
        plan: plan.clone(),
        machine,
        results,
        cluster,
        wall: started.elapsed(),
    };
    print!("{}", report.summary());
    let errors = report.total_errors();
    if plan.smoke {
        if errors > 0 {
            bail!("smoke: {errors} request(s) failed");
        }
        for scenario in report.scenarios() {
            if scenario.measured.ok == 0 {
                bail!("smoke: scenario `{}` completed no request", scenario.name);
            }
        }
        // Every copy is one REST call (more after a 429): fewer means the run stopped counting
        // before the outbox was done, and every figure after the webhook's answer is wrong.
        let relays = &report.results.relays;
        if relays.calls < relays.copies {
            bail!(
                "smoke: {} relay copies but {} REST calls counted",
                relays.copies,
                relays.calls
            );
        }
        for fan_out in &report.results.fan_out {
            let copies = fan_out.shards.saturating_sub(1) as u64;
            if fan_out.calls < copies {
                bail!(
                    "smoke: one message in {} shards made {} REST calls, not {copies}",
                    fan_out.shards,
                    fan_out.calls
                );
            }
            // The picture fetched once (2 calls), then uploaded and posted per other shard.
            let photo = if copies == 0 { 0 } else { 2 + 2 * copies };
            if fan_out.photo_calls < photo {
                bail!(
                    "smoke: one photo in {} shards made {} REST calls, not {photo}",
                    fan_out.shards,
                    fan_out.photo_calls
                );
            }
        }
        println!(
            "nt-bench: smoke passed: every scenario ran without errors (BENCHMARKS.md untouched)"
        );
        return Ok(());
    }
    std::fs::write(&args.output, report.markdown())
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!("nt-bench: wrote {}", args.output.display());
    if errors > 0 {
        bail!("{errors} request(s) failed; see the report");
    }
    Ok(())
}

const PRE_NAME: &str = "pre-event `onMessageAdd`";
const POST_NAME: &str = "post-event `onMessageAdded`";
const HEALTH_NAME: &str = "baseline `GET /health`";
const JOIN_NAME: &str = "public join request submit";
const MEMBERS_NAME: &str = "member list, first page";
const MEMBERS_A_TO_Z_NAME: &str = "member list, first page A to Z in the group";

/// Everything measured in one run.
pub struct Results {
    pub fixture: setup::Fixture,
    pub pre_max: load::Scenario,
    pub health: load::Scenario,
    pub pre_open: load::Scenario,
    pub open_rate: f64,
    pub post: load::Scenario,
    pub relays: Relays,
    pub join: load::Scenario,
    pub members_page: load::Scenario,
    pub members_a_to_z: load::Scenario,
    pub redis_ping: load::Measured,
    pub footprint: Footprint,
    pub fan_out: Vec<economy::FanOut>,
    pub approvals: approvals::Approvals,
    pub redis_per_member: footprint::RedisPerMember,
}

/// What the post-event scenario's messages made the service do after answering.
pub struct Relays {
    pub messages: u64,
    /// Copies into the other shards, one REST call each.
    pub copies: u64,
    /// REST calls counted at the emulator from the first message until the outbox was empty.
    pub calls: u64,
    /// From the end of the scenario until the outbox was empty.
    pub drained_after: Duration,
    /// CPU from the first message until the service was idle again: the webhooks, the relays
    /// and the copies' delivery receipts.
    pub whole: load::Usage,
}

impl Relays {
    /// The service's CPU per group message, everything it led to included, in microseconds.
    pub fn service_cpu_per_message(&self) -> f64 {
        self.whole.service_cpu * 1e6 / self.messages.max(1) as f64
    }
}

/// The service process's size and start.
pub struct Footprint {
    pub binary_bytes: u64,
    /// Its largest sections, biggest first.
    pub binary_sections: Vec<(String, u64)>,
    pub ready_after: Duration,
    /// Resident memory once ready, before anything was stored.
    pub rss_started: u64,
    /// Resident memory with the benchmark's neighborhood set up, idle.
    pub rss_idle: u64,
    /// The idle figure split into heap (`RssAnon`) and the binary's touched pages (`RssFile`).
    pub rss_idle_split: (u64, u64),
    /// The most resident memory during the load scenarios, and over the whole run.
    pub rss_peak_load: u64,
    pub rss_peak_run: u64,
}

impl Results {
    /// The request scenarios, in the order of the report's table.
    pub fn scenarios(&self) -> [&load::Scenario; 7] {
        [
            &self.pre_max,
            &self.health,
            &self.pre_open,
            &self.post,
            &self.join,
            &self.members_page,
            &self.members_a_to_z,
        ]
    }

    pub fn total_errors(&self) -> u64 {
        self.scenarios().iter().map(|s| s.measured.errors).sum()
    }
}

async fn measure(plan: &Plan, env: &ServiceEnv, service: &Service) -> anyhow::Result<Results> {
    let client = load::client()?;
    let (rss_started, _) = service.memory().unwrap_or_default();
    let fixture = setup::prepare(plan, env, service).await?;
    println!(
        "nt-bench: neighborhood {} has {} members in {} shards (set up in {:.1} s); sending as {} ({}) in shard {}",
        fixture.neighborhood_id,
        fixture.members,
        fixture.shards,
        fixture.setup.as_secs_f64(),
        fixture.author_name,
        fixture.author_phone,
        fixture.author_shard,
    );
    service.wait_until_idle().await;
    let (rss_idle, _) = service.memory().unwrap_or_default();
    let rss_idle_split = machine::resident_split(service.pid).unwrap_or_default();
    let redis_ping = load::redis_round_trips(&env.redis_url, 2_000).await?;
    println!(
        "nt-bench: Redis round trip (PING): p50 {:.3} ms, p99 {:.3} ms",
        redis_ping.ms(0.5),
        redis_ping.ms(0.99)
    );
    let api = setup::Api::new(service, &fixture.token)?;
    let redis = redis_view::RedisView::connect(env).await?;

    let cpu = Cpu::connect(service, env).await;
    let pre = Arc::new(Target::pre(service, env, &fixture));
    let health = Arc::new(Target::health(service));

    println!("nt-bench: pre-event, closed loop, {} workers", plan.workers);
    let pre_max = wrk::closed_loop(&client, &pre, plan, &cpu, PRE_NAME).await?;
    println!("  {}", pre_max.measured.one_line());

    println!(
        "nt-bench: GET /health, closed loop, {} workers",
        plan.workers
    );
    let health = wrk::closed_loop(&client, &health, plan, &cpu, HEALTH_NAME).await?;
    println!("  {}", health.measured.one_line());

    let open_rate = (pre_max.measured.throughput() * plan.open_share).max(1.0);
    println!("nt-bench: pre-event, open loop at {open_rate:.0} req/s");
    let pre_open = load::open_loop(&client, &pre, plan, open_rate, &cpu, PRE_NAME).await?;
    println!("  {}", pre_open.measured.one_line());

    println!(
        "nt-bench: post-event, {} messages, {} workers",
        plan.post_messages, plan.workers
    );
    let (post, relays) =
        post_event(plan, env, service, &fixture, &client, &cpu, &api, &redis).await?;
    println!("  {}", post.measured.one_line());
    println!(
        "  {} relay copies, {} REST calls; the outbox was empty {:.2} s after the last answer",
        relays.copies,
        relays.calls,
        relays.drained_after.as_secs_f64()
    );
    service.wait_until_idle().await;

    println!(
        "nt-bench: public join submit, closed loop, {} workers",
        plan.workers
    );
    let join = Arc::new(Target::join(service, &fixture.slug));
    let join = wrk::closed_loop(&client, &join, plan, &cpu, JOIN_NAME).await?;
    println!("  {}", join.measured.one_line());

    println!(
        "nt-bench: member list page, closed loop, {} workers",
        plan.workers
    );
    let page = Arc::new(Target::member_page(service, &fixture, &fixture.token));
    let members_page = wrk::closed_loop(&client, &page, plan, &cpu, MEMBERS_NAME).await?;
    println!("  {}", members_page.measured.one_line());
    service.wait_until_idle().await;

    println!(
        "nt-bench: member list page in the group, A to Z (the admin app's first view), closed loop, {} workers",
        plan.workers
    );
    let a_to_z = Arc::new(Target::member_page_a_to_z(
        service,
        &fixture,
        &fixture.token,
    ));
    let members_a_to_z =
        wrk::closed_loop(&client, &a_to_z, plan, &cpu, MEMBERS_A_TO_Z_NAME).await?;
    println!("  {}", members_a_to_z.measured.one_line());
    let (_, rss_peak_load) = service.memory().unwrap_or_default();
    service.wait_until_idle().await;

    println!(
        "nt-bench: fan-out economy: one group message in neighborhoods of {:?} members",
        plan.fan_out_sizes
    );
    let fan_out = economy::measure(&api, &redis, &fixture, &plan.fan_out_sizes).await?;

    println!(
        "nt-bench: {} approvals at once, Twilio answering {} ms late",
        plan.approvals,
        approvals::LATENCY.as_millis()
    );
    let approvals = approvals::measure(&api, plan.approvals).await?;
    println!(
        "  placed in {:.2} s ({:.2} s approving); lower bound {:.2} s; {} REST calls",
        approvals.wall.as_secs_f64(),
        approvals.approving.as_secs_f64(),
        approvals.lower_bound().as_secs_f64(),
        approvals.calls
    );

    println!(
        "nt-bench: Redis memory over {} members",
        plan.memory_members
    );
    let redis_per_member = footprint::redis_per_member(&api, &redis, plan.memory_members).await?;
    println!(
        "  {:.0} bytes per member ({} bytes in all, {} of them the emulator's)",
        redis_per_member.per_member(),
        redis_per_member.used_memory,
        redis_per_member.emulator
    );
    let (_, rss_peak_run) = service.memory().unwrap_or_default();

    Ok(Results {
        fixture,
        pre_max,
        health,
        pre_open,
        open_rate,
        post,
        relays,
        join,
        members_page,
        members_a_to_z,
        redis_ping,
        footprint: Footprint {
            binary_bytes: std::fs::metadata(&env.bin).map_or(0, |meta| meta.len()),
            binary_sections: machine::binary_sections(&env.bin),
            ready_after: service.ready_after,
            rss_started,
            rss_idle,
            rss_idle_split,
            rss_peak_load,
            rss_peak_run,
        },
        fan_out,
        approvals,
        redis_per_member,
    })
}

/// Group messages from one member of the main neighborhood, each relayed by the outbox into
/// every other shard: the webhook's answers are measured, then the relays until the outbox is
/// empty. Bounded by a message count rather than a duration, since every message makes a REST
/// call per other shard and the emulator delivers each copy to 50 phones.
#[allow(clippy::too_many_arguments)]
async fn post_event(
    plan: &Plan,
    env: &ServiceEnv,
    service: &Service,
    fixture: &setup::Fixture,
    client: &reqwest::Client,
    cpu: &Cpu,
    api: &setup::Api,
    redis: &redis_view::RedisView,
) -> anyhow::Result<(load::Scenario, Relays)> {
    let bounded = Plan {
        warmup: Duration::ZERO,
        duration: Duration::from_secs(600),
        max_requests: plan.post_messages,
        ..plan.clone()
    };
    api.twilio_calls(true).await?;
    let whole_before = cpu.snapshot(client, "twilio_webhooks").await;
    let target = Arc::new(Target::post(service, env, fixture));
    let mut post = load::closed_loop(client, &target, &bounded, cpu, POST_NAME).await?;
    post.load = format!(
        "closed loop, {} workers, {} messages",
        plan.workers, plan.post_messages
    );
    let drained_after = redis
        .wait_for_outbox(&fixture.neighborhood_id, Duration::from_secs(600))
        .await?;
    let (calls, _) = api.twilio_calls(false).await?;
    // The copies' delivery receipts come back as webhooks after the outbox is empty.
    service.wait_until_idle().await;
    let whole = load::Usage::since(
        &whole_before,
        &cpu.snapshot(client, "twilio_webhooks").await,
    );
    let relays = Relays {
        messages: post.measured.ok,
        copies: post.measured.ok * fixture.shards.saturating_sub(1) as u64,
        calls,
        drained_after,
        whole,
    };
    Ok((post, relays))
}

/// Quotes an argument for the recorded command line when it needs it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
