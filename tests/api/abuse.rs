//! Abuse from the open internet: bodies that are too large or compressed bombs, slow clients,
//! floods that would starve Twilio's webhooks, and live-update streams held open (security
//! review, findings 1, 10 and 11).
//!
//! Bodies go over raw TCP, so a test sees the answer while it is still sending: an answer that
//! arrives while the body never ends shows the service stopped reading, whatever it buffered.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    AUTH_TOKEN, PUBLIC_URL, TestApp, eventually, json_of, mount_working_twilio, poll_until,
    sandbox_settings, session_client, spawn_app_with, spawn_sandbox_app, spawn_sandbox_app_with,
    test_settings,
};

const JOIN: &str = "/api/v1/join/some-street";
const WEBHOOK: &str = "/webhooks/twilio/sms";
/// Well past the 64 KiB JSON cap and the 16 MiB import cap once inflated.
const INFLATED: usize = 24 * 1024 * 1024;

fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let spaces = vec![b' '; 1024 * 1024];
    for _ in 0..INFLATED / spaces.len() {
        encoder.write_all(&spaces).expect("compressed");
    }
    encoder.finish().expect("compressed")
}

fn brotli_bomb() -> Vec<u8> {
    let mut compressed = Vec::new();
    {
        let mut encoder = brotli::CompressorWriter::new(&mut compressed, 64 * 1024, 1, 22);
        let spaces = vec![b' '; 1024 * 1024];
        for _ in 0..4 {
            encoder.write_all(&spaces).expect("compressed");
        }
    }
    compressed
}

/// `bytes` as one chunk of a chunked body (the body goes on: no last chunk).
fn chunked(bytes: &[u8]) -> Vec<u8> {
    let mut body = format!("{:x}\r\n", bytes.len()).into_bytes();
    body.extend(bytes);
    body.extend(b"\r\n");
    body
}

/// Sends `head` (request line and headers, without the blank line), then `body`, then spaces
/// for ever, and returns the status and body of the answer, which must come while it still sends.
async fn answer_while_sending(app: &TestApp, head: &str, body: Vec<u8>) -> (u16, Value) {
    let port = app.address.rsplit(':').next().expect("port");
    let stream = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .expect("connected");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!("{head}\r\nHost: localhost\r\n\r\n");
    let sender = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        writer.write_all(&body).await?;
        let more = vec![b' '; 16 * 1024];
        loop {
            writer.write_all(&more).await?;
        }
        #[allow(unreachable_code)]
        std::io::Result::Ok(())
    });
    let mut received = Vec::new();
    let mut buffer = vec![0; 16 * 1024];
    let answer = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let read = reader.read(&mut buffer).await.expect("readable");
            assert!(read > 0, "closed without an answer: {received:?}");
            received.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&received).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n")
                && let Ok(json) = serde_json::from_str::<Value>(body)
            {
                let status = head[9..12].parse::<u16>().expect("status");
                return (status, json);
            }
        }
    })
    .await
    .expect("an answer while the body was still being sent");
    assert!(!sender.is_finished(), "the body was sent whole: {answer:?}");
    sender.abort();
    answer
}

#[tokio::test]
async fn a_body_past_the_cap_gets_413_before_the_service_has_read_it() {
    let app = spawn_sandbox_app().await;

    // Declared too large: refused before a byte of it is read.
    let declared = "POST /api/v1/join/some-street HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100000000";
    let (status, body) = answer_while_sending(&app, declared, b"{\"name\": ".to_vec()).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "payload_too_large");

    // Chunked, so no length is declared: reading stops at the cap, for JSON and webhooks alike.
    for path in [JOIN, WEBHOOK] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        );
        let body = chunked(&vec![b' '; 4 << 20]);
        let (status, body) = answer_while_sending(&app, &head, body).await;
        assert_eq!(status, 413, "{path}: {body}");
        assert_eq!(body["code"], "payload_too_large", "{path}");
    }

    // An ordinary request still works on a fresh connection.
    let (status, _) = json_of(app.get_raw(JOIN).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn gzip_and_brotli_bombs_to_public_routes_are_refused_without_being_inflated() {
    let app = spawn_sandbox_app().await;
    for (encoding, bomb) in [("gzip", gzip_bomb()), ("br", brotli_bomb())] {
        for (path, kind) in [
            (JOIN, "application/json"),
            (WEBHOOK, "application/x-www-form-urlencoded"),
        ] {
            // Chunked: no declared length to refuse it by, only its coding.
            let head = format!(
                "POST {path} HTTP/1.1\r\nContent-Type: {kind}\r\nContent-Encoding: {encoding}\r\nTransfer-Encoding: chunked"
            );
            let (status, body) = answer_while_sending(&app, &head, chunked(&bomb)).await;
            assert_eq!(status, 415, "{encoding} to {path}: {body}");
            assert_eq!(body["code"], "unsupported_media_type");
        }
    }
}

#[tokio::test]
async fn a_compressed_import_is_inflated_only_up_to_its_cap() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(
            &json!({"name": "Bomb Street", "area_code": "212", "owner_phone": "+15550008800"}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let head = format!(
        "POST /api/v1/neighborhoods/{id}/import HTTP/1.1\r\nAuthorization: Bearer {}\r\nContent-Type: text/csv\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked",
        app.admin_token
    );
    let (status, answer) = answer_while_sending(&app, &head, chunked(&gzip_bomb())).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["code"], "payload_too_large");
}

#[tokio::test]
async fn an_import_in_a_coding_it_cannot_inflate_is_refused_not_read_as_csv() {
    let app = spawn_sandbox_app().await;
    let created = app
        .create_neighborhood(
            &json!({"name": "Coded Street", "area_code": "212", "owner_phone": "+15550008801"}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    let response = app
        .http
        .post(app.url(&format!("/api/v1/neighborhoods/{id}/import")))
        .header("content-type", "text/csv")
        .header("content-encoding", "compress")
        .body("name,phone\nIda,+15550008802\n")
        .send()
        .await
        .expect("sent");
    let accepted = response
        .headers()
        .get("accept-encoding")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (status, body) = json_of(response).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["code"], "unsupported_media_type");
    assert!(accepted.contains("gzip"), "{accepted}");
}

#[tokio::test]
async fn a_coded_request_is_refused_415_on_any_route_as_the_document_lists() {
    let app = spawn_sandbox_app().await;
    let spec: Value = serde_json::from_str(&neighborhood_text::api::spec_json()).expect("spec");
    for (path, template) in [
        ("/health", "/health"),
        ("/api/v1/neighborhoods", "/api/v1/neighborhoods"),
    ] {
        let response = app
            .http
            .get(app.url(path))
            .header("content-encoding", "gzip")
            .send()
            .await
            .expect("sent");
        let (status, body) = json_of(response).await;
        assert_eq!(status, 415, "{path}: {body}");
        assert!(
            spec["paths"][template]["get"]["responses"]["415"].is_object(),
            "GET {template} does not list 415"
        );
    }
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_the_service_keeps_answering() {
    let receiver = wiremock::MockServer::start().await;
    let mut settings = sandbox_settings(&receiver);
    settings.request_read_secs = 1;
    let app = spawn_sandbox_app_with(receiver, settings).await;
    let port = app.address.rsplit(':').next().expect("port").to_owned();

    // Ten send half their headers, ten their headers and half a body; then nothing.
    let mut slow = Vec::new();
    for n in 0..20 {
        let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .expect("connected");
        let start = if n % 2 == 0 {
            "POST /api/v1/join/some-street HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1".to_owned()
        } else {
            "POST /api/v1/join/some-street HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": ".to_owned()
        };
        stream.write_all(start.as_bytes()).await.expect("sent");
        slow.push(stream);
    }

    // A fresh connection each time: the app's pooled one is idle for longer than the 1 s the
    // server keeps an idle connection, and a request racing its close would fail on the client.
    let health = || async {
        reqwest::get(app.url("/health"))
            .await
            .expect("sent")
            .status()
            .as_u16()
    };
    assert_eq!(health().await, 200);

    // Each is answered 408 or disconnected within a few seconds of the 1 s allowed.
    for (n, mut stream) in slow.into_iter().enumerate() {
        let mut received = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
            .await
            .unwrap_or_else(|_| panic!("slow client {n} still connected"))
            .ok();
        let text = String::from_utf8_lossy(&received);
        if n % 2 == 1 {
            assert!(text.starts_with("HTTP/1.1 408"), "client {n}: {text}");
            assert!(text.contains("request_timeout"), "client {n}: {text}");
        }
    }
    assert_eq!(health().await, 200);
}

#[tokio::test]
async fn held_public_requests_use_up_their_own_budget_and_the_pre_event_webhook_still_answers() {
    let twilio = wiremock::MockServer::start().await;
    mount_working_twilio(&twilio).await;
    let mut settings = test_settings(&twilio);
    settings.max_public_requests = 3;
    // Long enough that the held bodies outlast the test.
    settings.request_read_secs = 120;
    let app = spawn_app_with(twilio, settings).await;
    let created = app
        .create_neighborhood(
            &json!({"name": "Budget Street", "area_code": "212", "owner_phone": "+15550008700"}),
        )
        .await;
    let conversation = created["shards"][0]["conversation_sid"]
        .as_str()
        .expect("sid")
        .to_owned();

    // Three join requests whose bodies never finish hold every public place.
    let port = app.address.rsplit(':').next().expect("port").to_owned();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .expect("connected");
        let start = "POST /api/v1/join/budget-street HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": ";
        stream.write_all(start.as_bytes()).await.expect("sent");
        held.push(stream);
    }
    let public = || async {
        let response = app.anonymous.get(app.url(JOIN)).send().await.expect("sent");
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        let (status, body) = json_of(response).await;
        (status, body, retry_after)
    };
    let (body, retry_after) = poll_until(
        Duration::from_secs(10),
        "the held requests to fill the public budget",
        || async {
            let (status, body, retry_after) = public().await;
            (status == 503).then_some((body, retry_after))
        },
    )
    .await;
    assert_eq!(body["code"], "busy", "{body}");
    assert!(retry_after.is_some_and(|secs| secs > 0), "{retry_after:?}");
    // The proxy's probes are never refused.
    let probe = reqwest::get(app.url("/ready")).await.expect("sent");
    assert_eq!(probe.status(), 200);

    // The pre-event webhook has a budget of its own.
    let path = "/webhooks/twilio/conversations/pre";
    let params: Vec<(String, String)> = [
        ("EventType", "onMessageAdd"),
        ("ConversationSid", conversation.as_str()),
        ("Author", "+15550008700"),
        ("Body", "still answered"),
        ("Source", "SMS"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature = neighborhood_text::twilio::signature::sign(
        AUTH_TOKEN,
        &format!("{PUBLIC_URL}{path}"),
        &params,
    );
    let answered = reqwest::Client::new()
        .post(app.url(path))
        .header("X-Twilio-Signature", signature)
        .header("I-Twilio-Idempotency-Token", "budget-1")
        .form(&params)
        .send()
        .await
        .expect("sent");
    assert_eq!(answered.status(), 200);

    // The public budget was full all along; freed, it serves again.
    assert_eq!(public().await.0, 503);
    drop(held);
    eventually(
        Duration::from_secs(10),
        "the public budget to free up",
        || async { public().await.0 == 404 },
    )
    .await;
}

async fn neighborhood_with_captain(app: &TestApp, captain: &str) -> (String, String) {
    let created = app
        .create_neighborhood(
            &json!({"name": "Stream Street", "area_code": "212", "owner_phone": "+15550008900"}),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let member_id = app.add_member_by_api(&id, captain, "Cap").await;
    let (status, body) = json_of(
        app.patch_raw(
            &format!("/api/v1/neighborhoods/{id}/members/{member_id}"),
            &json!({"role": "captain"}),
        )
        .await,
    )
    .await;
    assert!(status < 300, "{status} {body}");
    (id, member_id)
}

#[tokio::test]
async fn one_caller_holds_at_most_five_live_streams() {
    let app = spawn_sandbox_app().await;
    let captain = "+15550008901";
    let (id, _) = neighborhood_with_captain(&app, captain).await;
    let client = session_client(&app, captain).await;
    let path = app.url(&format!("/api/v1/neighborhoods/{id}/events"));

    let mut open = Vec::new();
    for _ in 0..5 {
        let stream = client.get(&path).send().await.expect("sent");
        assert_eq!(stream.status(), 200);
        open.push(stream);
    }
    let (status, body) = json_of(client.get(&path).send().await.expect("sent")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "too_many_streams");
    // Someone else still gets theirs.
    let other = app.http.get(&path).send().await.expect("sent");
    assert_eq!(other.status(), 200);

    // Closing one frees its place.
    drop(open.pop());
    eventually(Duration::from_secs(10), "a freed stream slot", || async {
        client
            .get(&path)
            .send()
            .await
            .is_ok_and(|stream| stream.status() == 200)
    })
    .await;
}

#[tokio::test]
async fn a_stream_ends_when_its_captain_is_demoted() {
    let app = spawn_sandbox_app().await;
    let captain = "+15550008902";
    let (id, member_id) = neighborhood_with_captain(&app, captain).await;
    let client = session_client(&app, captain).await;
    let mut stream = client
        .get(app.url(&format!("/api/v1/neighborhoods/{id}/events")))
        .send()
        .await
        .expect("sent");
    assert_eq!(stream.status(), 200);

    let (status, body) = json_of(
        app.patch_raw(
            &format!("/api/v1/neighborhoods/{id}/members/{member_id}"),
            &json!({"role": "member"}),
        )
        .await,
    )
    .await;
    assert!(status < 300, "{status} {body}");

    // Well before the periodic re-check: the member change itself ends it.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the demoted captain's stream is still open");
}
