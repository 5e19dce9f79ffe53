//! The console summary and BENCHMARKS.md.

use std::fmt::Write as _;
use std::time::Duration;

use crate::load::Scenario;
use crate::machine::Machine;
use crate::{Plan, Results};

/// The issue's targets.
const TARGET_RATIO: f64 = 0.5;
const TARGET_P99_MS: f64 = 5.0;

pub struct Report {
    pub command: String,
    pub plan: Plan,
    pub machine: Machine,
    pub results: Results,
    pub wall: Duration,
}

impl Report {
    fn ratio(&self) -> f64 {
        let baseline = self.results.health.measured.throughput();
        if baseline > 0.0 {
            self.results.pre_max.measured.throughput() / baseline
        } else {
            0.0
        }
    }

    fn p99_at_share(&self) -> f64 {
        self.results.pre_open.measured.ms(0.99)
    }

    fn verdicts(&self) -> (bool, bool) {
        (
            self.ratio() >= TARGET_RATIO,
            self.p99_at_share() < TARGET_P99_MS,
        )
    }

    /// What is printed at the end of every run.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let (ratio_met, p99_met) = self.verdicts();
        let _ = writeln!(out, "\nnt-bench results");
        for scenario in self.results.scenarios() {
            let _ = writeln!(out, "  {} ({}):", scenario.name, scenario.load);
            let _ = writeln!(out, "    {}", scenario.measured.one_line());
        }
        let _ = writeln!(
            out,
            "  pre-event / baseline throughput: {:.2} (target >= {TARGET_RATIO}: {})",
            self.ratio(),
            met(ratio_met)
        );
        let _ = writeln!(
            out,
            "  pre-event p99 at {:.0} % load: {:.2} ms (target < {TARGET_P99_MS} ms: {})",
            self.plan.open_share * 100.0,
            self.p99_at_share(),
            met(p99_met)
        );
        out
    }

    pub fn markdown(&self) -> String {
        let results = &self.results;
        let fixture = &results.fixture;
        let machine = &self.machine;
        let (ratio_met, p99_met) = self.verdicts();
        let date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap_or_default();
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Benchmarks

Run them with one command (it builds the release service and the load generator
`examples/nt-bench`, starts Redis like the README's commands if none answers on 127.0.0.1:6379,
and rewrites this file):

```sh
./scripts/bench
```

`./scripts/bench --smoke` runs every scenario with tiny counts in seconds, checks that none had
errors, and leaves this file alone; `./scripts/bench --help` lists the knobs (workers, duration,
members, ...).

This file was produced by `{command}` on {date}, at commit `{commit}`; the run took {wall:.0} s
(setup included). Figures from a shared machine are noisy (other work shows in the load average
below): compare runs on one machine, and repeat a run before trusting a difference of less than
a few tens of percent.

## Machine

| | |
|---|---|
| CPU | {cpu} x {cpus} (load average {load} when the run began; other work shares them) |
| Memory | {memory} |
| OS | {os}, Linux {kernel} |
| Rust | {rustc}; {builds} |
| Redis | {redis} on 127.0.0.1:6379, same machine |

The service, Redis and the generator all run on these CPUs, so the generator's own work counts
against the service's: the figures are for the whole stack on one box, not for the service
alone.

## Results

The neighborhood has {members} members (its owner and {added} added through the API) in {shards}
shards (Conversations of at most 50); setting it up took {setup:.1} s ({adding:.1} s adding
members, {syncing:.1} s until the outbox had placed them all). Every pre-event request is a
different text from one member, {author} (shard {shard}), with a new idempotency token.
",
            command = self.command,
            commit = machine.commit,
            wall = self.wall.as_secs_f64(),
            cpu = machine.cpu_model,
            cpus = machine.cpus,
            load = machine.load_at_start,
            memory = machine.memory,
            os = machine.os,
            kernel = machine.kernel,
            rustc = machine.rustc,
            builds = if cfg!(debug_assertions) {
                "the generator is a DEBUG build: these figures are not comparable with others"
            } else {
                "the service and the generator are release builds (`lto = \"fat\"`, `codegen-units = 1`)"
            },
            redis = machine.redis,
            members = fixture.members,
            added = fixture.members.saturating_sub(1),
            shards = fixture.shards,
            setup = fixture.setup.as_secs_f64(),
            adding = fixture.adding.as_secs_f64(),
            syncing = fixture.syncing.as_secs_f64(),
            author = fixture.author_name,
            shard = fixture.author_shard,
        );
        let _ = writeln!(
            md,
            "| Scenario | Load | Requests | Errors | Throughput (req/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|");
        for scenario in results.scenarios() {
            let m = &scenario.measured;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
                scenario.name,
                scenario.load,
                m.requests(),
                m.errors,
                m.throughput(),
                m.ms(0.5),
                m.ms(0.9),
                m.ms(0.99),
                m.max_ms()
            );
        }
        let _ = writeln!(
            md,
            "
Against the targets:

- The pre-event webhook's maximum throughput is **{ratio:.2}** of the `/health` baseline's
  (target: at least {TARGET_RATIO}): **{ratio_met}**.
- At {share:.0} % of that maximum ({rate:.0} req/s offered), its p99 latency is **{p99:.2} ms**
  (target: under {TARGET_P99_MS} ms): **{p99_met}**.",
            ratio = self.ratio(),
            ratio_met = met(ratio_met),
            share = self.plan.open_share * 100.0,
            rate = results.open_rate,
            p99 = self.p99_at_share(),
            p99_met = met(p99_met),
        );
        if results.total_errors() > 0 {
            let _ = writeln!(md, "\nErrors seen (first few per scenario):\n");
            for scenario in results.scenarios() {
                for error in &scenario.measured.error_samples {
                    let _ = writeln!(md, "- {}: `{error}`", scenario.name);
                }
            }
        }
        md.push_str(&self.where_time_goes());
        md.push_str(&self.explanation());
        md
    }

    fn where_time_goes(&self) -> String {
        let mut md = String::from(
            "
### Where the time goes

CPU time per answered request over each measured window (the service and the generator from
`/proc/<pid>/stat`, Redis from `INFO cpu`, which also counts anyone else's use of that Redis),
how busy that kept the machine's CPUs, and the service's own mean time per request from its
`/metrics` (the `http_request_duration_seconds` summary, from its middleware in to the response
out: without HTTP parsing, the network and the client) against the mean the generator saw.

| Scenario | Load | Service CPU (µs/req) | Generator CPU (µs/req) | Redis CPU (µs/req) | CPUs busy | Service mean (ms) | Client mean (ms) |
|---|---|--:|--:|--:|--:|--:|--:|
",
        );
        for scenario in self.results.scenarios() {
            let (service, generator, redis) = scenario.cpu_per_request();
            let elapsed = scenario.measured.elapsed.as_secs_f64();
            let busy = if elapsed > 0.0 {
                (scenario.usage.service_cpu
                    + scenario.usage.generator_cpu
                    + scenario.usage.redis_cpu.unwrap_or(0.0))
                    / elapsed
            } else {
                0.0
            };
            let _ = writeln!(
                md,
                "| {} | {} | {service:.0} | {generator:.0} | {} | {busy:.2} of {} | {} | {:.2} |",
                scenario.name,
                short_load(scenario),
                redis.map_or_else(|| "?".to_owned(), |r| format!("{r:.0}")),
                self.machine.cpus,
                scenario
                    .usage
                    .server_mean_ms()
                    .map_or_else(|| "?".to_owned(), |ms| format!("{ms:.3}")),
                scenario.measured.mean_ms(),
            );
        }
        md.push_str(&self.cpu_bound_note());
        let ping = &self.results.redis_ping;
        let _ = writeln!(
            md,
            "
Before the load, a Redis round trip (`PING` from the generator, one at a time) took p50
{:.3} ms, p99 {:.3} ms: the floor under each pre-event request, which waits for one Redis
script.",
            ping.ms(0.5),
            ping.ms(0.99),
        );
        let open = &self.results.pre_open;
        if let (Some(from_send), Some(lag)) = (&open.from_send, open.max_dispatch_lag) {
            let _ = writeln!(
                md,
                "
In the open loop, latency counted from when each request actually left (rather than from its
scheduled time) is p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; the dispatcher was
at most {:.2} ms behind its schedule (tokio's timer has a 1 ms resolution, so up to about 1 ms
of each scheduled-time latency is the generator's own).",
                from_send.ms(0.5),
                from_send.ms(0.9),
                from_send.ms(0.99),
                from_send.max_ms(),
                lag.as_secs_f64() * 1000.0,
            );
        }
        md
    }

    /// What the CPU figures imply for the throughput ratio, when the closed loops were CPU-bound.
    fn cpu_bound_note(&self) -> String {
        let (pre_service, pre_generator, pre_redis) = self.results.pre_max.cpu_per_request();
        let (health_service, health_generator, health_redis) =
            self.results.health.cpu_per_request();
        let health_total = health_service + health_generator + health_redis.unwrap_or(0.0);
        let pre_others = pre_generator + pre_redis.unwrap_or(0.0);
        if health_service <= 0.0 || pre_others <= 0.0 {
            return String::new();
        }
        format!(
            "
Per request, the pre-event webhook costs the service {times:.1} times the CPU of `/health`
({pre_service:.0} against {health_service:.0} µs). When the closed loops keep the CPUs busy, the
throughput ratio is roughly the inverse ratio of all CPU per request (service, generator and
Redis together): {health_total:.0} µs for `/health` against {pre_total:.0} µs here. The
generator and Redis alone take {pre_others:.0} µs per pre-event request, so with a service that
cost nothing the ratio could reach about {bound:.2} on this box{verdict}.
",
            times = pre_service / health_service,
            pre_total = pre_service + pre_others,
            bound = health_total / pre_others,
            verdict = if health_total / pre_others < TARGET_RATIO {
                format!(
                    ": the {TARGET_RATIO} target cannot be met with the generator and Redis on the \
                     service's CPUs"
                )
            } else {
                String::new()
            },
        )
    }

    fn explanation(&self) -> String {
        format!(
            "
## What this measures

Twilio holds every group text until the pre-event `onMessageAdd` webhook
(`POST /webhooks/twilio/conversations/pre`, `src/webhooks/pre.rs`) answers, and gives up after
5 s; so its throughput caps how many texts the deployment can take, and its latency is added to
every text's delivery. The benchmark exercises the whole of it over real HTTP against the
release binary: the `X-Twilio-Signature` check over `NT_PUBLIC_URL` + path and the form
parameters (signed by the generator with `neighborhood_text::twilio::signature::sign`, exactly
as Twilio and the built-in emulator sign), the Conversation-to-neighborhood lookup (cached in the
process after the first request), the one Redis script that reads the author's member record and
the neighborhood and marks the delivery token, the keyword and command checks, and the JSON
answer `{{\"body\": \"<Name>: <text>\"}}`, which the generator checks on every answer (anything
else, or a status other than 200, counts as an error). The service runs as in production: JSON
logs at `info` (one line per webhook request, to a file), metrics on, sandbox mode only standing
in for Twilio's REST API, which the webhook does not call.

- **Closed loop** ({workers} workers, {duration} measured after {warmup} of warm-up, at most
  {max} requests): each worker sends its next request when the previous one is answered, on a
  kept-alive HTTP/1.1 connection of its own. This finds the maximum throughput; its latencies
  are those of a saturated server.
- **Baseline**: `GET /health` the same way against the same server in the same run: the HTTP
  server, the middleware (request span, metrics, session rotation, compression), the generator
  and the machine, with no signature, no form parsing and no Redis. The ratio of the two
  throughputs says how much the webhook's own work costs, largely independent of how fast the
  machine is.
- **Open loop** at {share:.0} % of the measured pre-event maximum: requests go out on a fixed
  schedule whatever the answers do, and latency counts from each request's scheduled send time,
  so a slow answer cannot hold back the requests behind it and hide their wait (no coordinated
  omission). This is the latency a text sees when the service is busy but not saturated.

To see where the service's own time goes, profile an unstripped build of the same code under
the same load: `CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
cargo build --release --bin neighborhood-text --target-dir target/prof`, then run the generator
with `--service-bin target/prof/release/neighborhood-text` (it prints the service's pid) and
`perf record --call-graph dwarf -p <pid> -- sleep 5` during the first scenario.

## Targets

From the issue that started this suite:

- the pre-event webhook's throughput is at least {TARGET_RATIO} of the `/health` baseline's,
  measured in the same run (so the webhook's own work costs no more than the HTTP stack's);
- at {share:.0} % of its maximum throughput, its p99 latency is under {TARGET_P99_MS} ms (well
  inside Twilio's 5 s limit, and the service's own 1.5 s deadline, so a busy deployment adds
  nothing a neighbor would notice).
",
            workers = self.plan.workers,
            duration = format_seconds(self.plan.duration),
            warmup = format_seconds(self.plan.warmup),
            max = self.plan.max_requests,
            share = self.plan.open_share * 100.0,
        )
    }
}

fn short_load(scenario: &Scenario) -> &'static str {
    if scenario.from_send.is_some() {
        "open loop"
    } else {
        "closed loop"
    }
}

fn met(yes: bool) -> &'static str {
    if yes { "met" } else { "missed" }
}

fn format_seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}
