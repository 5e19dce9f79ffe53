//! The binary itself: configuration errors, `--help`, graceful shutdown on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, eventually, mount_working_twilio, redis_url,
    unique_prefix,
};

const BINARY: &str = env!("CARGO_BIN_EXE_neighborhood-text");

/// The binary with a clean environment (no NT_* leaking in from the shell running the tests).
pub(crate) fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    if crate::helpers::on_test_cluster() {
        // The tests' Redis is a cluster: every run that reaches it must say so.
        command.env("NT_REDIS_CLUSTER", "on");
    }
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn fails_with(env: &[(&str, &str)], expected: &str) {
    let mut command = command(&["serve"]);
    command.envs(env.iter().copied());
    let output = command.output().await.expect("binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in: {stderr}"
    );
    assert_eq!(
        stderr
            .trim()
            .lines()
            .filter(|line| line.starts_with("error:"))
            .count(),
        1,
        "{stderr}"
    );
}

#[tokio::test]
async fn an_invalid_setting_stops_the_boot_with_one_sentence_naming_it() {
    fails_with(
        &[("NT_REDIS_URL", "http://localhost:6379")],
        "NT_REDIS_URL must look like",
    )
    .await;
    fails_with(
        &[("NT_BIND", "everywhere")],
        "NT_BIND must be an IP address and port",
    )
    .await;
    fails_with(
        &[("NT_PUBLIC_URL", "text.example.org")],
        "NT_PUBLIC_URL must be an absolute URL",
    )
    .await;
    fails_with(&[("NT_LOG_FORMAT", "xml")], "NT_LOG_FORMAT").await;
    fails_with(
        &[("NT_SESSION_SECRET", "short")],
        "NT_SESSION_SECRET must be at least 32 characters",
    )
    .await;
    fails_with(
        &[("NT_TWILIO_ACCOUNT_SID", ACCOUNT_SID)],
        "NT_TWILIO_AUTH_TOKEN",
    )
    .await;
    fails_with(
        &[
            ("NT_TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("NT_TWILIO_AUTH_TOKEN", "secret-token-value"),
        ],
        "NT_TWILIO_MESSAGING_SERVICE_SID is required",
    )
    .await;
    fails_with(
        &[
            ("NT_SANDBOX", "on"),
            ("NT_TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("NT_TWILIO_AUTH_TOKEN", "secret-token-value"),
            ("NT_TWILIO_MESSAGING_SERVICE_SID", SERVICE_SID),
        ],
        "sandbox mode and a real Twilio account cannot be mixed",
    )
    .await;
    fails_with(
        &[("NT_SANDBOX_FAULT_500", "1.5")],
        "NT_SANDBOX_FAULT_* settings are shares from 0 to 1",
    )
    .await;
    fails_with(
        &[("NT_PRICES", r#"{"sms_segment_out": "cheap"}"#)],
        "NT_PRICES.sms_segment_out",
    )
    .await;
}

#[tokio::test]
async fn help_lists_every_setting_and_never_shows_a_secret() {
    for args in [&["--help"][..], &["serve", "--help"][..]] {
        let mut command = command(args);
        command.env("NT_TWILIO_AUTH_TOKEN", "do-not-print-me").env(
            "NT_SESSION_SECRET",
            "do-not-print-me-either-0123456789abcdef",
        );
        let output = command.output().await.expect("binary runs");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{help}");
        for variable in [
            "NT_BIND",
            "NT_PUBLIC_URL",
            "NT_REDIS_URL",
            "NT_REDIS_PREFIX",
            "NT_TWILIO_ACCOUNT_SID",
            "NT_TWILIO_AUTH_TOKEN",
            "NT_TWILIO_API_KEY_SID",
            "NT_TWILIO_API_KEY_SECRET",
            "NT_TWILIO_MESSAGING_SERVICE_SID",
            "NT_TWILIO_API_BASE",
            "NT_SESSION_SECRET",
            "NT_LOG",
            "NT_LOG_FORMAT",
            "NT_SHUTDOWN_GRACE_SECS",
            "NT_SANDBOX",
            "NT_SANDBOX_ACCOUNT_SID",
            "NT_SANDBOX_AUTH_TOKEN",
            "NT_SANDBOX_LATENCY_MS",
            "NT_SANDBOX_FAULT_429",
            "NT_SANDBOX_FAULT_500",
            "NT_SANDBOX_FAULT_TIMEOUT",
            "NT_PRICES",
        ] {
            assert!(
                help.contains(&format!("[env: {variable}")),
                "{variable} missing from {args:?} help:\n{help}"
            );
        }
        assert!(!help.contains("do-not-print-me"), "{help}");
    }
}

#[tokio::test]
async fn a_port_already_taken_is_reported_clearly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let mut command = command(&["serve"]);
    command
        .env("NT_BIND", &address)
        .env("NT_REDIS_PREFIX", unique_prefix());
    let output = command.output().await.expect("binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("could not listen on {address} (NT_BIND)")),
        "{stderr}"
    );
}

/// Reads the JSON log lines of `child` until the service says which port it listens on.
pub(crate) async fn listening_port(child: &mut Child) -> u16 {
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if entry["message"] == "listening" && entry["port"].is_u64() {
                return entry["port"]
                    .as_u64()
                    .and_then(|port| u16::try_from(port).ok());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("the service logs its port");
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    port
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_then_exits_zero() {
    let twilio = MockServer::start().await;
    mount_working_twilio(&twilio).await;
    // Hold the number search long enough to send SIGTERM while the request is in flight.
    Mock::given(method("GET"))
        .and(path_regex("AvailablePhoneNumbers"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(1500))
                .set_body_json(json!({"available_phone_numbers": [{"phone_number": "+14155550177"}], "uri": "/x"})),
        )
        .with_priority(1)
        .mount(&twilio)
        .await;
    let prefix = unique_prefix();
    let token = bootstrap_admin(&prefix).await;
    let mut command = command(&["serve"]);
    command.envs([
        ("NT_BIND", "127.0.0.1:0".to_owned()),
        ("NT_LOG_FORMAT", "json".to_owned()),
        ("NT_REDIS_URL", redis_url()),
        ("NT_REDIS_PREFIX", prefix),
        ("NT_TWILIO_ACCOUNT_SID", ACCOUNT_SID.to_owned()),
        ("NT_TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("NT_TWILIO_MESSAGING_SERVICE_SID", SERVICE_SID.to_owned()),
        ("NT_TWILIO_API_BASE", format!("{}/", twilio.uri())),
    ]);
    let mut child = command.spawn().expect("binary starts");
    let port = listening_port(&mut child).await;
    let base = format!("http://127.0.0.1:{port}");

    let in_flight = tokio::spawn({
        let url = format!("{base}/api/v1/neighborhoods");
        async move {
            crate::helpers::bearer_client(&token)
                .post(url)
                .json(&json!({"owner_phone": "+15550000999", "name": "Shutdown Street", "area_code": "415"}))
                .send()
                .await
        }
    });
    eventually(
        Duration::from_secs(10),
        "the request to reach Twilio",
        || async {
            twilio
                .received_requests()
                .await
                .is_some_and(|requests| !requests.is_empty())
        },
    )
    .await;

    let pid = child.id().expect("running").to_string();
    // The shell's own `kill`: /bin/kill (procps) is missing on minimal images.
    let killed = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .expect("sh runs");
    assert!(killed.success());

    let response = in_flight
        .await
        .expect("task")
        .expect("the in-flight request got an answer");
    assert_eq!(response.status(), 201, "the in-flight request completed");
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert_eq!(status.code(), Some(0));
    assert!(
        reqwest::get(format!("{base}/health")).await.is_err(),
        "nothing listens after exit"
    );
}

/// Runs `admin create` and returns the platform token it printed.
async fn bootstrap_admin(prefix: &str) -> String {
    let mut command = command(&[
        "admin",
        "create",
        "--phone",
        "+15550000998",
        "--name",
        "Dana",
    ]);
    // For a service with a Twilio account: its keys, not a sandbox's.
    command
        .env("NT_REDIS_URL", redis_url())
        .env("NT_REDIS_PREFIX", prefix)
        .env("NT_SANDBOX", "off");
    let output = command.output().await.expect("admin create runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find(|line| line.starts_with("ntk_"))
        .expect("a token is printed")
        .to_owned()
}

#[tokio::test]
async fn admin_create_is_idempotent_and_prints_a_working_token_each_time() {
    let prefix = unique_prefix();
    let first = bootstrap_admin(&prefix).await;
    let second = bootstrap_admin(&prefix).await;
    assert_ne!(first, second, "each run prints a fresh token");
    let mut again = command(&[
        "admin",
        "create",
        "--phone",
        "+15550000998",
        "--name",
        "Dana",
    ]);
    again
        .env("NT_REDIS_URL", redis_url())
        .env("NT_REDIS_PREFIX", &prefix)
        .env("NT_SANDBOX", "off");
    let output = again.output().await.expect("runs");
    assert!(String::from_utf8_lossy(&output.stdout).contains("is already a platform admin"));
    let mut bad = command(&["admin", "create", "--phone", "call me", "--name", "Dana"]);
    bad.env("NT_REDIS_URL", redis_url())
        .env("NT_REDIS_PREFIX", &prefix);
    let output = bad.output().await.expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--phone"));
}

/// A catch-up link's code opens the group's history: the request log names the path without it.
/// The real binary, logging as in production, so no other test's logging is in the way.
#[tokio::test]
async fn catch_up_codes_never_appear_in_request_logs() {
    let mut command = command(&["serve"]);
    command.envs([
        ("NT_BIND", "127.0.0.1:0".to_owned()),
        ("NT_LOG_FORMAT", "json".to_owned()),
        ("NT_LOG", "trace".to_owned()),
        ("NT_REDIS_URL", redis_url()),
        ("NT_REDIS_PREFIX", unique_prefix()),
    ]);
    let mut child = command.spawn().expect("binary starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut logged = String::new();
    let mut port = None;
    let id = uuid::Uuid::now_v7();
    let code = "K7Q2ZXW9PLMB";
    let redacted = [
        format!("/history/{id}/-"),
        format!("/api/v1/neighborhoods/{id}/catch-up/-"),
    ];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            logged.push_str(&line);
            logged.push('\n');
            if port.is_none()
                && let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line)
                && entry["message"] == "listening"
            {
                port = entry["port"].as_u64();
                let base = format!("http://127.0.0.1:{}", port.unwrap_or_default());
                let paths = [
                    format!("/history/{id}/{code}"),
                    format!("/api/v1/neighborhoods/{id}/catch-up/{code}"),
                ];
                // Sent beside this loop, which must keep reading: a full stderr pipe would stop
                // the service mid-request (trace logging is loud).
                tokio::spawn(async move {
                    for path in paths {
                        reqwest::get(format!("{base}{path}")).await.expect("sent");
                    }
                });
            }
            if redacted.iter().all(|path| logged.contains(path.as_str())) {
                return;
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "both requests in the log, with the code replaced:\n{logged}"
    );
    assert!(
        !logged.contains(code),
        "a catch-up code reached the log:\n{logged}"
    );
}

/// Finding 5: `NT_SANDBOX=auto` with no Twilio account on a public host refuses to start, naming
/// the setting and what to set instead.
#[tokio::test]
async fn auto_sandbox_refuses_a_public_url() {
    for public_url in [
        "https://localhost:8080",
        "http://neighborhood-text.example.org",
    ] {
        fails_with(
            &[("NT_PUBLIC_URL", public_url), ("NT_BIND", "127.0.0.1:0")],
            "NT_PUBLIC_URL",
        )
        .await;
        fails_with(
            &[("NT_PUBLIC_URL", public_url), ("NT_BIND", "127.0.0.1:0")],
            "Set NT_SANDBOX=off and the NT_TWILIO_* settings",
        )
        .await;
    }
    // A public bind address is just as public.
    fails_with(
        &[("NT_BIND", "0.0.0.0:0"), ("NT_SANDBOX", "auto")],
        "refusing sandbox mode",
    )
    .await;
}

/// Finding 5 and 22: a loopback public URL still starts the sandbox under `auto`, and its log
/// never carries the emulated account's auth token.
#[tokio::test]
async fn auto_sandbox_starts_on_loopback_without_logging_its_token() {
    let mut command = command(&["serve"]);
    command.envs([
        ("NT_BIND", "127.0.0.1:0".to_owned()),
        ("NT_PUBLIC_URL", "http://127.0.0.1:0".to_owned()),
        ("NT_LOG_FORMAT", "json".to_owned()),
        ("NT_REDIS_URL", redis_url()),
        ("NT_REDIS_PREFIX", unique_prefix()),
    ]);
    let mut child = command.spawn().expect("binary starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let sandbox_started = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            seen.push(line.clone());
            if line.contains("sandbox mode: no real SMS is sent") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(sandbox_started, "{seen:#?}");
    assert!(
        seen.iter()
            .all(|line| !line.contains(neighborhood_text::sandbox::DEFAULT_AUTH_TOKEN)),
        "{seen:#?}"
    );
}

/// The README's sandbox walk-through: `admin create` with the service's settings (no Twilio
/// account, so the sandbox) makes an admin the sandbox service knows, under its own key prefix.
#[tokio::test]
async fn admin_create_without_a_twilio_account_makes_an_admin_of_the_sandbox() {
    let prefix = unique_prefix();
    let mut create = command(&[
        "admin",
        "create",
        "--phone",
        "+15550000997",
        "--name",
        "Ana",
    ]);
    create
        .env("NT_REDIS_URL", redis_url())
        .env("NT_REDIS_PREFIX", &prefix);
    let output = create.output().await.expect("admin create runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}");
    let token = stdout
        .lines()
        .find(|line| line.starts_with("ntk_"))
        .expect("a token is printed")
        .to_owned();

    let sandbox = crate::helpers::spawn_sandbox_instance(&prefix, |_| {}).await;
    let me = sandbox
        .get(&crate::helpers::Who::token(&token), "/api/v1/auth/me", 200)
        .await;
    assert_eq!(me["platform_admin"], true, "{me}");
}
