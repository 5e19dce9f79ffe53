//! The machine a run happened on, CPU time by process, and Redis housekeeping.

use std::sync::OnceLock;

use redis::aio::MultiplexedConnection;

/// What the report says about where it ran.
pub struct Machine {
    pub cpu_model: String,
    pub cpus: usize,
    pub memory: String,
    pub os: String,
    pub kernel: String,
    pub rustc: String,
    pub redis: String,
    pub load_at_start: String,
    pub commit: String,
}

impl Machine {
    pub async fn describe(redis_url: &str) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split_once(':'))
            .map_or_else(
                || "unknown".to_owned(),
                |(_, model)| model.trim().to_owned(),
            );
        let cpu_field = |name: &str| {
            cpuinfo
                .lines()
                .find(|line| line.split(':').next().is_some_and(|key| key.trim() == name))
                .and_then(|line| line.split_once(':'))
                .map(|(_, value)| value.trim().to_owned())
        };
        let mut details = Vec::new();
        if let (Some(family), Some(model)) = (cpu_field("cpu family"), cpu_field("model")) {
            details.push(format!("family {family} model {model}"));
        }
        if let Some(mhz) = cpu_field("cpu MHz").and_then(|mhz| mhz.parse::<f64>().ok()) {
            details.push(format!("{mhz:.0} MHz"));
        }
        if cpu_field("flags").is_some_and(|flags| flags.split(' ').any(|f| f == "hypervisor")) {
            details.push("virtual machine".to_owned());
        }
        let cpu_model = if details.is_empty() {
            cpu_model
        } else {
            format!("{cpu_model} ({})", details.join(", "))
        };
        let cpus = cpuinfo
            .lines()
            .filter(|line| line.starts_with("processor"))
            .count();
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|meminfo| {
                let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
                let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(format!("{:.1} GiB", kib / 1024.0 / 1024.0))
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|release| {
                release
                    .lines()
                    .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                    .map(|name| name.trim_matches('"').to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
        let load_at_start = std::fs::read_to_string("/proc/loadavg")
            .map(|load| {
                load.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|_| "unknown".to_owned());
        let commit = {
            let head = command_output("git", &["rev-parse", "--short=12", "HEAD"]);
            let dirty = command_output("git", &["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|status| !status.is_empty());
            match head {
                Some(head) if dirty => format!("{head} (with uncommitted changes)"),
                Some(head) => head,
                None => "unknown".to_owned(),
            }
        };
        Self {
            cpu_model,
            cpus,
            memory,
            os,
            kernel,
            rustc: command_output("rustc", &["--version"]).unwrap_or_else(|| "unknown".to_owned()),
            redis: redis_version(redis_url)
                .await
                .unwrap_or_else(|| "unknown".to_owned()),
            load_at_start,
            commit,
        }
    }
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

async fn redis_version(url: &str) -> Option<String> {
    let mut conn = redis::Client::open(url)
        .ok()?
        .get_multiplexed_async_connection()
        .await
        .ok()?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut conn)
        .await
        .ok()?;
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(|value| value.trim().to_owned())
    };
    let version = field("redis_version")?;
    Some(match field("io_threads_active") {
        Some(threads) => format!("{version} (io_threads_active:{threads})"),
        None => version,
    })
}

/// A process's resident memory now and at its highest so far (`VmRSS`, `VmHWM`), in bytes.
pub fn resident_memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some((
        status_kib(&status, "VmRSS:")?,
        status_kib(&status, "VmHWM:")?,
    ))
}

/// A process's resident memory split into its heap and stacks (`RssAnon`) and the pages of its
/// binary and libraries it has touched (`RssFile`), in bytes.
pub fn resident_split(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some((
        status_kib(&status, "RssAnon:")?,
        status_kib(&status, "RssFile:")?,
    ))
}

/// The binary's largest sections (`size -A`, binutils): code, read-only data and the rest, in
/// bytes, biggest first; empty when `size` is missing.
pub fn binary_sections(bin: &std::path::Path) -> Vec<(String, u64)> {
    let Ok(output) = std::process::Command::new("size")
        .arg("-A")
        .arg(bin)
        .output()
    else {
        return Vec::new();
    };
    let mut sections: Vec<(String, u64)> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?;
            let bytes = fields.next()?.parse().ok()?;
            (name.starts_with('.')).then(|| (name.to_owned(), bytes))
        })
        .collect();
    sections.sort_by_key(|section| std::cmp::Reverse(section.1));
    sections.truncate(5);
    sections
}

/// A `/proc/<pid>/status` field given in kB, in bytes.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Seconds of CPU (user + system) a process has used: `None` for this one.
pub fn process_cpu_seconds(pid: Option<u32>) -> Option<f64> {
    process_state(pid).map(|(_, seconds)| seconds)
}

/// A process's state letter (`R`, `S`, `Z` once it has exited unreaped, ...) and CPU seconds
/// (user + system), from `/proc/<pid>/stat`: `None` for this one.
pub fn process_state(pid: Option<u32>) -> Option<(char, f64)> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3 (`state`);
    // utime and stime are fields 14 and 15.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((state, (utime + stime) / clock_ticks()))
}

fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        command_output("getconf", &["CLK_TCK"])
            .and_then(|ticks| ticks.parse().ok())
            .unwrap_or(100.0)
    })
}

/// Seconds of CPU the Redis server has used (user + system, its main and background threads).
pub async fn redis_cpu_seconds(conn: &mut MultiplexedConnection) -> Option<f64> {
    let info: String = redis::cmd("INFO").arg("cpu").query_async(conn).await.ok()?;
    let field = |name: &str| -> Option<f64> {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))?
            .trim()
            .parse()
            .ok()
    };
    Some(field("used_cpu_user")? + field("used_cpu_sys")?)
}

/// Deletes every key under `prefix:`; returns how many.
pub async fn delete_prefix(mut conn: MultiplexedConnection, prefix: &str) -> anyhow::Result<u64> {
    let pattern = format!("{prefix}:*");
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            // One UNLINK per key: on a cluster node one command may not span two slots.
            let mut unlink = redis::pipe();
            for key in &keys {
                unlink.cmd("UNLINK").arg(key);
            }
            let removed: Vec<u64> = unlink.query_async(&mut conn).await?;
            deleted += removed.iter().sum::<u64>();
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}
