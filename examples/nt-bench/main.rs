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

mod load;
mod machine;
mod report;
mod service;
mod setup;

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
    /// Run every scenario with tiny counts (20 members, ~1 s each), check there were no errors,
    /// and leave BENCHMARKS.md alone.
    #[arg(long)]
    smoke: bool,

    /// The service binary to start (a release build).
    #[arg(long, default_value = "target/release/neighborhood-text")]
    service_bin: PathBuf,

    /// Redis the service uses (and this generator reads INFO from and cleans up).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,

    /// Members of the benchmark neighborhood, the owner included [default: 1000; smoke: 20].
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

    /// Where the report goes (not written with --smoke).
    #[arg(long, default_value = "BENCHMARKS.md")]
    output: PathBuf,

    /// The command to name in the report as the one that produced it (the script passes its own).
    #[arg(long)]
    recorded_command: Option<String>,

    /// Keep the run's Redis keys (normally deleted at the end).
    #[arg(long)]
    keep_data: bool,
}

/// The run's settings once `--smoke` has picked its defaults.
#[derive(Debug, Clone)]
pub struct Plan {
    pub smoke: bool,
    pub members: usize,
    pub workers: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub max_requests: u64,
    pub open_share: f64,
}

impl Args {
    fn plan(&self) -> anyhow::Result<Plan> {
        let pick = |value: Option<f64>, full: f64, smoke: f64| {
            value.unwrap_or(if self.smoke { smoke } else { full })
        };
        let plan = Plan {
            smoke: self.smoke,
            members: self.members.unwrap_or(if self.smoke { 20 } else { 1000 }),
            workers: self.workers,
            duration: Duration::from_secs_f64(pick(self.duration, 10.0, 1.0)),
            warmup: Duration::from_secs_f64(pick(self.warmup, 2.0, 0.2)),
            max_requests: self
                .max_requests
                .unwrap_or(if self.smoke { 5_000 } else { 3_000_000 }),
            open_share: self.open_share,
        };
        if plan.members < 2 {
            bail!("--members must be at least 2 (the owner and one member to send as)");
        }
        if plan.workers == 0 || plan.max_requests == 0 || plan.duration.is_zero() {
            bail!("--workers, --max-requests and --duration must be above zero");
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
    let started = Instant::now();
    let machine = machine::Machine::describe(&args.redis_url).await;
    let redis = redis::Client::open(args.redis_url.as_str())
        .context("--redis-url")?
        .get_multiplexed_async_connection()
        .await
        .with_context(|| format!("Redis at {} is unreachable", args.redis_url))?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let env = ServiceEnv::new(&args.service_bin, &args.redis_url, &run_id)?;
    println!(
        "nt-bench: {} run {run_id}: service {} (Redis prefix {})",
        if plan.smoke { "smoke" } else { "full" },
        env.bin.display(),
        env.prefix
    );

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
        wall: started.elapsed(),
    };
    print!("{}", report.summary());
    let errors = report.results.total_errors();
    if plan.smoke {
        if errors > 0 {
            bail!("smoke: {errors} request(s) failed");
        }
        for scenario in report.results.scenarios() {
            if scenario.measured.ok == 0 {
                bail!("smoke: scenario `{}` completed no request", scenario.name);
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
const HEALTH_NAME: &str = "baseline `GET /health`";

/// Everything measured in one run.
pub struct Results {
    pub fixture: setup::Fixture,
    pub pre_max: load::Scenario,
    pub health: load::Scenario,
    pub pre_open: load::Scenario,
    pub open_rate: f64,
    pub redis_ping: load::Measured,
}

impl Results {
    pub fn scenarios(&self) -> [&load::Scenario; 3] {
        [&self.pre_max, &self.health, &self.pre_open]
    }

    pub fn total_errors(&self) -> u64 {
        self.scenarios().iter().map(|s| s.measured.errors).sum()
    }
}

async fn measure(plan: &Plan, env: &ServiceEnv, service: &Service) -> anyhow::Result<Results> {
    let client = load::client()?;
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
    let redis_ping = load::redis_round_trips(&env.redis_url, 2_000).await?;
    println!(
        "nt-bench: Redis round trip (PING): p50 {:.3} ms, p99 {:.3} ms",
        redis_ping.ms(0.5),
        redis_ping.ms(0.99)
    );

    let cpu = Cpu::connect(service, &env.redis_url).await;
    let pre = Arc::new(Target::pre(service, env, &fixture));
    let health = Arc::new(Target::health(service));

    println!("nt-bench: pre-event, closed loop, {} workers", plan.workers);
    let pre_max = load::closed_loop(&client, &pre, plan, &cpu, PRE_NAME).await?;
    println!("  {}", pre_max.measured.one_line());

    println!(
        "nt-bench: GET /health, closed loop, {} workers",
        plan.workers
    );
    let health = load::closed_loop(&client, &health, plan, &cpu, HEALTH_NAME).await?;
    println!("  {}", health.measured.one_line());

    let open_rate = (pre_max.measured.throughput() * plan.open_share).max(1.0);
    println!("nt-bench: pre-event, open loop at {open_rate:.0} req/s");
    let pre_open = load::open_loop(&client, &pre, plan, open_rate, &cpu, PRE_NAME).await?;
    println!("  {}", pre_open.measured.one_line());

    Ok(Results {
        fixture,
        pre_max,
        health,
        pre_open,
        open_rate,
        redis_ping,
    })
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
