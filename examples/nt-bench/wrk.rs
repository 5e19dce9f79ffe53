//! The closed-loop request scenarios driven by wrk (Debian's `wrk` package): a C load generator
//! whose own cost per request is a small fraction of the service's, so a closed loop measures
//! the service rather than the generator (nt-bench's own Rust client, a reqwest client on tokio,
//! topped out near the service's `/health` rate). A Lua script per scenario makes every request
//! what the scenario needs: a new text and idempotency token, a new neighbor, a token.
//!
//! wrk's own CPU time is read from `/proc/<pid>/stat` once it has exited and before it is
//! reaped, so every scenario says what the generator cost and, from that, its ceiling.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::Plan;
use crate::load::{
    CLIENT_IP_HEADER, Cpu, Event, JOINING_PHONES_FROM, Kind, Measured, Scenario, Target, Usage,
};

/// Distinct signed texts a pre-event script cycles through (each request still carries a new
/// idempotency token, so each is a first delivery).
const SIGNED_TEXTS: u64 = 512;
/// Neighbors numbered per wrk run of the join scenario, apart from every other run's.
const NEIGHBORS_PER_RUN: u64 = 1_000_000;
/// Latency quantiles wrk reports (0.1 % steps), from which the histogram is rebuilt.
const QUANTILE_STEPS: u64 = 1000;

/// wrk's threads: one per CPU, as wrk's own guide says.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Whether wrk is installed (`./scripts/bench` installs it).
pub fn check_installed() -> anyhow::Result<()> {
    match std::process::Command::new("wrk").arg("--version").output() {
        Ok(_) => Ok(()),
        Err(error) => bail!(
            "wrk is not installed ({error}): `apt-get install wrk`, or run ./scripts/bench, which installs it"
        ),
    }
}

/// Like [`crate::load::closed_loop`], with wrk sending: `plan.workers` connections over one
/// thread per CPU, after an unmeasured warm-up run. One request is sent and checked by nt-bench
/// itself first (wrk counts a status of 400 or more as an error, but reads no body).
pub async fn closed_loop(
    client: &reqwest::Client,
    target: &Arc<Target>,
    plan: &Plan,
    cpu: &Cpu,
    name: &str,
) -> anyhow::Result<Scenario> {
    target
        .check_one(client)
        .await
        .map_err(|error| anyhow::anyhow!("{name}: the first request failed: {error}"))?;
    let dir = std::env::temp_dir().join(format!("nt-bench-wrk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let warmup = whole_seconds(plan.warmup);
    let measured_for = whole_seconds(plan.duration);
    let warm = run(target, plan, &dir, warmup).await?;
    let before = cpu.snapshot(client, target.route).await;
    let (mut measured, wrk_cpu) = run(target, plan, &dir, measured_for).await?;
    let after = cpu.snapshot(client, target.route).await;
    let _ = std::fs::remove_dir_all(&dir);
    let (warm, _) = warm;
    if warm.errors > 0 {
        measured.errors += warm.errors;
        measured
            .error_samples
            .push(format!("(warm-up) {} errors", warm.errors));
    }
    let mut usage = Usage::since(&before, &after);
    usage.generator_cpu += wrk_cpu;
    Ok(Scenario {
        name: name.to_owned(),
        load: format!(
            "closed loop (wrk), {} connections, {} s",
            plan.workers,
            measured_for.as_secs()
        ),
        measured,
        usage,
        from_send: None,
        max_dispatch_lag: None,
    })
}

/// wrk takes whole seconds.
fn whole_seconds(duration: Duration) -> Duration {
    Duration::from_secs(duration.as_secs_f64().ceil().max(1.0) as u64)
}

/// One wrk run: what it measured, and the CPU seconds it used.
async fn run(
    target: &Arc<Target>,
    plan: &Plan,
    dir: &Path,
    duration: Duration,
) -> anyhow::Result<(Measured, f64)> {
    // Each run numbers its requests apart from every other run's.
    let first = target
        .sequence
        .fetch_add(NEIGHBORS_PER_RUN, Ordering::Relaxed);
    let results = dir.join(format!("results-{first}.txt"));
    let script = dir.join(format!("script-{first}.lua"));
    std::fs::write(&script, lua(target, first, &results)?)
        .with_context(|| format!("writing {}", script.display()))?;
    let mut command = std::process::Command::new("wrk");
    command
        .arg(format!("--threads={}", threads().min(plan.workers)))
        .arg(format!("--connections={}", plan.workers))
        .arg(format!("--duration={}s", duration.as_secs()))
        .arg("--timeout=10s")
        .arg(format!("--script={}", script.display()))
        .arg(&target.url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let (output, cpu) = tokio::task::spawn_blocking(move || run_measured(command))
        .await
        .context("waiting for wrk")??;
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = std::fs::read_to_string(&results).with_context(|| {
        format!(
            "wrk wrote no results ({}); it said: {}{}",
            results.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    Ok((parse(&text)?, cpu))
}

/// Runs `command` to its end and returns its output and the CPU seconds it used, read while it
/// is a zombie (exited, not yet reaped), when `/proc` still has its final times.
fn run_measured(mut command: std::process::Command) -> anyhow::Result<(std::process::Output, f64)> {
    use std::io::Read;
    let mut child = command.spawn().context("starting wrk")?;
    let pid = child.id();
    // wrk writes little (its summary); the results go to a file.
    let mut stdout = child.stdout.take().context("wrk's stdout")?;
    let mut stderr = child.stderr.take().context("wrk's stderr")?;
    let readers = std::thread::spawn(move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let _ = stdout.read_to_end(&mut out);
        let _ = stderr.read_to_end(&mut err);
        (out, err)
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut cpu = 0.0;
    loop {
        match crate::machine::process_state(Some(pid)) {
            Some(('Z', seconds)) => {
                cpu = seconds;
                break;
            }
            Some((_, seconds)) => cpu = seconds,
            None => break,
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("wrk ran for more than 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = child.wait().context("waiting for wrk")?;
    let (stdout, stderr) = readers.join().unwrap_or_default();
    Ok((
        std::process::Output {
            status,
            stdout,
            stderr,
        },
        cpu,
    ))
}

/// The scenario's Lua script: `request()` builds each request, `done()` writes the results.
fn lua(target: &Target, first: u64, results: &Path) -> anyhow::Result<String> {
    let path = url::Url::parse(&target.url)?;
    let path = match path.query() {
        Some(query) => format!("{}?{query}", path.path()),
        None => path.path().to_owned(),
    };
    let mut lua = String::new();
    // `setup` runs in wrk's main Lua state before the threads start: each thread gets a number.
    let _ = writeln!(
        lua,
        "local threads = 0
function setup(thread)
  thread:set(\"thread_number\", threads)
  threads = threads + 1
end
local counter = 0
local path = {path}
local first = {first}",
        path = quoted(&path),
    );
    match &target.kind {
        Kind::Health => {
            let _ = writeln!(lua, "wrk.method = \"GET\"\nwrk.path = path");
        }
        Kind::MemberPage { token, .. } => {
            let _ = writeln!(
                lua,
                "wrk.method = \"GET\"\nwrk.path = path\nwrk.headers[\"Authorization\"] = {}",
                quoted(&format!("Bearer {token}"))
            );
        }
        Kind::Webhook(webhook) => {
            if webhook.event != Event::Pre {
                bail!("wrk runs only the pre-event webhook (the post-event scenario is bounded)");
            }
            lua.push_str("local texts = {\n");
            for n in 0..SIGNED_TEXTS {
                let (form, signature, _) = webhook.form(first + n);
                let _ = writeln!(lua, "  {{{}, {}}},", quoted(&form), quoted(&signature));
            }
            let _ = writeln!(
                lua,
                "}}
local run = {run}
function request()
  counter = counter + 1
  local text = texts[(counter % #texts) + 1]
  return wrk.format(\"POST\", path, {{
    [\"Content-Type\"] = \"application/x-www-form-urlencoded\",
    [\"X-Twilio-Signature\"] = text[2],
    [\"I-Twilio-Idempotency-Token\"] = run .. \"-\" .. first .. \"-\" .. thread_number .. \"-\" .. counter,
  }}, text[1])
end",
                run = quoted(&webhook.run),
            );
        }
        Kind::Join => {
            // The same neighbors as `Target::send` builds, numbered from `first` per thread.
            let _ = writeln!(
                lua,
                "function request()
  counter = counter + 1
  local n = first + counter * threads_total + thread_number
  local body = string.format(
    '{{\"name\":\"Neighbor %d\",\"phone\":\"+1555%07d\",\"address\":\"%d Bench Street\",\"consent\":true}}',
    n, {from} + n, 1 + n % 900)
  local ip = string.format(\"10.%d.%d.%d\", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  return wrk.format(\"POST\", path, {{
    [\"Content-Type\"] = \"application/json\",
    [{header}] = ip,
  }}, body)
end",
                from = JOINING_PHONES_FROM,
                header = quoted(CLIENT_IP_HEADER),
            );
        }
    }
    // A thread learns how many there are once all are set up (`threads` is the main state's).
    let _ = writeln!(
        lua,
        "threads_total = {threads}
function done(summary, latency, requests)
  local out = io.open({results}, \"w\")
  out:write(string.format(\"requests %d\\nduration_us %d\\nconnect %d\\nread %d\\nwrite %d\\nstatus %d\\ntimeout %d\\n\",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
  for i = 1, {steps} do
    out:write(string.format(\"q %d %d\\n\", i, latency:percentile(i * 100 / {steps})))
  end
  out:close()
end",
        threads = threads(),
        results = quoted(&results.display().to_string()),
        steps = QUANTILE_STEPS,
    );
    Ok(lua)
}

/// A Lua string literal.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The results `done()` wrote, as [`Measured`]: the latency histogram rebuilt from wrk's
/// quantiles (0.1 % steps; enough for the p50, p90, p99 and max reported).
fn parse(text: &str) -> anyhow::Result<Measured> {
    let mut fields = std::collections::HashMap::new();
    let mut quantiles = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["q", step, micros] => quantiles.push((step.parse::<u64>()?, micros.parse::<u64>()?)),
            [name, value] => {
                fields.insert(*name, value.parse::<u64>()?);
            }
            _ => bail!("unexpected line in wrk's results: {line}"),
        }
    }
    let field = |name: &str| {
        fields
            .get(name)
            .copied()
            .with_context(|| format!("wrk's results have no {name}"))
    };
    let answered = field("requests")?;
    let status_errors = field("status")?;
    let errors =
        status_errors + field("connect")? + field("read")? + field("write")? + field("timeout")?;
    let ok = answered.saturating_sub(status_errors);
    let mut measured = Measured::from_quantiles(ok, &quantiles, QUANTILE_STEPS);
    measured.elapsed = Duration::from_micros(field("duration_us")?);
    if errors > 0 {
        measured.errors = errors;
        measured.error_samples.push(format!(
            "wrk: {status_errors} answers with status 400 or more, {} connect, {} read, {} write, {} timeouts",
            field("connect")?,
            field("read")?,
            field("write")?,
            field("timeout")?
        ));
    }
    Ok(measured)
}
