//! Issue 26: the deliveries an endpoint receives verify under an implementation of the Standard
//! Webhooks specification other than the service's own Rust library: the specification's
//! Python library (PyPI `standardwebhooks`, pinned in `scripts/python-deps`, which installs it
//! once per test process), through `scripts/verify-webhooks`. A wiremock receiver captures each
//! request as it came (headers, body bytes); the script verifies them and refuses copies with
//! one byte of the body changed, another id, another timestamp or a wrong secret; the test
//! itself checks that a secret which did not sign a delivery, and a body changed in transit,
//! fail it.

use crate::event_endpoints::header;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::OnceCell;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, Who, poll_until, spawn_sandbox_app};

/// Installing python3 with apt-get and the library with pip on a fresh machine takes a while; a
/// ready machine, no time.
const DEPS_TIMEOUT: Duration = Duration::from_secs(600);
/// One run of the verifier: a Python start and a few HMACs, on a machine that may be compiling.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an event may take to leave the deliverer for the receiver.
const DELIVERY_WAIT: Duration = Duration::from_secs(60);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scripts/python-deps` once per test process: the interpreter of the venv holding the
/// library, or why there is none. Every later call gets the same outcome.
async fn python() -> &'static Result<PathBuf, String> {
    static PYTHON: OnceCell<Result<PathBuf, String>> = OnceCell::const_new();
    PYTHON
        .get_or_init(|| async {
            let script = repo().join("scripts/python-deps");
            let run = Command::new(&script)
                .current_dir(repo())
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output();
            match tokio::time::timeout(DEPS_TIMEOUT, run).await {
                Err(_) => Err(format!("{} took over {DEPS_TIMEOUT:?}", script.display())),
                Ok(Err(error)) => Err(format!("could not run {}: {error}", script.display())),
                Ok(Ok(output)) if output.status.success() => {
                    let python = String::from_utf8_lossy(&output.stdout).trim().to_owned();
                    if python.is_empty() {
                        Err(format!("{} named no interpreter", script.display()))
                    } else {
                        Ok(PathBuf::from(python))
                    }
                }
                Ok(Ok(output)) => Err(format!(
                    "{} failed ({}):\n{}{}",
                    script.display(),
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                )),
            }
        })
        .await
}

/// What `scripts/verify-webhooks` said of some captured requests.
#[derive(Debug)]
struct Verdict {
    /// Exit status 0: every request verified and every copy that must fail was refused.
    passed: bool,
    /// Its JSON summary (`verified`, `failed`, `refused`, `wrongly_accepted`).
    summary: Value,
}

/// A captured request as the script reads it: its headers and its body, exactly as received.
fn captured(request: &wiremock::Request) -> Value {
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| {
            let value = value.to_str().expect("a printable header value");
            (name.as_str().to_owned(), Value::from(value))
        })
        .collect();
    let body = String::from_utf8(request.body.clone()).expect("a UTF-8 body");
    json!({"headers": headers, "body": body})
}

/// Runs `scripts/verify-webhooks <secret>` on `requests` (given on stdin) with the library's
/// interpreter; fails the test when the script cannot run or answers no summary (exit 2).
async fn verify(secret: &str, requests: &[Value]) -> Verdict {
    let python = match python().await {
        Ok(python) => python,
        Err(problem) => panic!("the Python verifier cannot run: {problem}"),
    };
    let mut child = Command::new(python)
        .arg(repo().join("scripts/verify-webhooks"))
        .arg(secret)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the verifier starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = serde_json::to_vec(requests).expect("JSON");
    let feed = async move {
        // A script that stops early says why on stderr; a broken pipe here adds nothing.
        let _ = stdin.write_all(&input).await;
    };
    let run = async { tokio::join!(feed, child.wait_with_output()).1 };
    let output = match tokio::time::timeout(VERIFY_TIMEOUT, run).await {
        Ok(output) => output.expect("the verifier runs"),
        Err(_) => panic!("scripts/verify-webhooks took over {VERIFY_TIMEOUT:?}; it was stopped"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = match serde_json::from_str(&stdout) {
        Ok(summary) if output.status.code() != Some(2) => summary,
        _ => panic!(
            "scripts/verify-webhooks answered no summary ({}):\n{stdout}{stderr}",
            output.status
        ),
    };
    Verdict {
        passed: output.status.success(),
        summary,
    }
}

/// Asserts that every one of `count` requests verified and every copy that must fail was refused.
fn assert_all_verified(verdict: &Verdict, count: usize, what: &str) {
    let summary = &verdict.summary;
    assert!(verdict.passed, "{what}: {summary}");
    assert_eq!(summary["deliveries"], count, "{what}: {summary}");
    assert_eq!(summary["verified"], count, "{what}: {summary}");
    assert_eq!(summary["failed"], json!([]), "{what}: {summary}");
    assert_eq!(summary["wrongly_accepted"], json!([]), "{what}: {summary}");
    for check in [
        "tampered_body",
        "tampered_id",
        "tampered_timestamp",
        "wrong_secret",
    ] {
        assert_eq!(
            summary["refused"][check], count,
            "{what}: {check} refused each time: {summary}"
        );
    }
    assert!(
        summary["library"]
            .as_str()
            .is_some_and(|library| library.starts_with("standardwebhooks ")),
        "{summary}"
    );
}

/// The indexes of the requests that failed to verify.
fn failed_indexes(verdict: &Verdict) -> Vec<u64> {
    verdict.summary["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .map(|failure| failure["index"].as_u64().expect("index"))
        .collect()
}

fn signatures(request: &wiremock::Request) -> usize {
    header(request, "webhook-signature").split(' ').count()
}

fn event_type(request: &wiremock::Request) -> String {
    let payload: Value = serde_json::from_slice(&request.body).expect("JSON payload");
    payload["type"].as_str().unwrap_or_default().to_owned()
}

/// Sends a test event to the endpoint; it is delivered before the answer comes.
async fn send_test_event(app: &TestApp, base: &str, endpoint: &str) {
    let sent = app
        .post(
            &Who::Admin,
            &format!("{base}/{endpoint}/test"),
            &json!({}),
            200,
        )
        .await;
    assert_eq!(sent["delivered"], true, "{sent}");
}

#[tokio::test]
async fn deliveries_verify_under_the_specifications_python_library_before_and_after_rotation() {
    // First, so a machine without the library fails here and not with an app running.
    if let Err(problem) = python().await {
        panic!("the Python verifier cannot run: {problem}");
    }
    let app = spawn_sandbox_app().await;
    let id = app
        .create_neighborhood(
            &json!({"name": "Verified Vale", "area_code": "212", "owner_phone": "+15550082000"}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let base = format!("/api/v1/neighborhoods/{id}/event-endpoints");
    let created = app
        .post(
            &Who::Admin,
            &base,
            &json!({"url": format!("{}/hooks", receiver.uri()), "events": ["member.joined"]}),
            201,
        )
        .await;
    let old = created["secret"].as_str().expect("secret").to_owned();
    let endpoint = created["endpoint"]["id"].as_str().expect("id").to_owned();

    // An event from the deliverer, then two test events sent at once.
    app.add_member_by_api(&id, "+15550082001", "Vera Vale")
        .await;
    poll_until(DELIVERY_WAIT, "the member.joined delivery", || async {
        let count = receiver.received_requests().await.unwrap_or_default().len();
        (count >= 1).then_some(())
    })
    .await;
    send_test_event(&app, &base, &endpoint).await;
    send_test_event(&app, &base, &endpoint).await;
    let before = receiver.received_requests().await.expect("recorded");
    let kinds: Vec<String> = before.iter().map(event_type).collect();
    assert_eq!(kinds, ["member.joined", "webhook.test", "webhook.test"]);
    assert!(before.iter().all(|request| signatures(request) == 1));
    let before: Vec<Value> = before.iter().map(captured).collect();
    assert_all_verified(&verify(&old, &before).await, 3, "under the secret shown");

    // After a rotation a delivery carries two signatures: each secret verifies it.
    let rotated = app
        .post(
            &Who::Admin,
            &format!("{base}/{endpoint}/rotate-secret"),
            &json!({}),
            200,
        )
        .await;
    let new = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    send_test_event(&app, &base, &endpoint).await;
    let requests = receiver.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 4, "one more delivery");
    assert_eq!(signatures(&requests[3]), 2, "the new secret's and the old");
    let after = [captured(&requests[3])];
    assert_all_verified(&verify(&new, &after).await, 1, "under the new secret");
    assert_all_verified(&verify(&old, &after).await, 1, "under the old secret");

    // Not vacuous: the new secret signed none of the earlier deliveries, so it verifies none...
    let unsigned = verify(&new, &before).await;
    assert!(!unsigned.passed, "{}", unsigned.summary);
    assert_eq!(unsigned.summary["verified"], 0, "{}", unsigned.summary);
    assert_eq!(failed_indexes(&unsigned), [0, 1, 2]);
    // ...and one byte of a body changed on the way fails it alone.
    let mut tampered = before.clone();
    let body = tampered[1]["body"].as_str().expect("body").to_owned();
    let changed = body.replacen("webhook.test", "webhook.tesT", 1);
    assert_ne!(changed, body);
    tampered[1]["body"] = Value::from(changed);
    let refused = verify(&old, &tampered).await;
    assert!(!refused.passed, "{}", refused.summary);
    assert_eq!(refused.summary["verified"], 2, "{}", refused.summary);
    assert_eq!(failed_indexes(&refused), [1]);
    assert_eq!(
        refused.summary["failed"][0]["webhook_id"],
        tampered[1]["headers"]["webhook-id"]
    );
}
