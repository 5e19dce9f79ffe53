//! Issue 25, item 5: traces over OTLP/HTTP. The real binary (its subscriber is global, so it runs
//! alone), in sandbox mode, exporting to a local OTLP endpoint; a stranger texts `JOIN` to the
//! number, and that webhook's trace holds the request, the reply the request queued in the
//! outbox, and the Twilio call that sent it, linked parent to child, with no phone number or
//! message body anywhere in it.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::cli::{command, listening_port};
use crate::helpers::{poll_until, redis_url, unique_prefix};

const STRANGER: &str = "+15550071234";
const OWNER: &str = "+15550071200";
const JOIN: &str = "JOIN Dee Traced";

#[tokio::test]
async fn a_webhooks_trace_links_its_request_to_the_outbox_effect_and_the_twilio_call() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let prefix = unique_prefix();
    let token = sandbox_admin(&prefix).await;

    let mut serve = command(&["serve"]);
    serve.envs([
        ("NT_BIND", "127.0.0.1:0".to_owned()),
        ("NT_LOG_FORMAT", "json".to_owned()),
        ("NT_REDIS_URL", redis_url()),
        ("NT_REDIS_PREFIX", prefix),
        ("NT_SANDBOX", "on".to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.uri()),
        ("OTEL_SERVICE_NAME", "nt-traces-test".to_owned()),
        // Batches go out every 100 ms rather than every 5 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ]);
    let mut child = serve.spawn().expect("binary starts");
    let base = format!("http://127.0.0.1:{}", listening_port(&mut child).await);
    let http = reqwest::Client::new();

    let created: Value = http
        .post(format!("{base}/api/v1/neighborhoods"))
        .bearer_auth(&token)
        .json(&json!({"name": "Traced Terrace", "area_code": "212", "owner_phone": OWNER}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let number = created["phone_number"].as_str().expect("number").to_owned();
    let texted = http
        .post(format!(
            "{base}/sandbox/api/phones/{}/messages",
            STRANGER.replace('+', "%2B")
        ))
        .json(&json!({"to": number, "body": JOIN}))
        .send()
        .await
        .expect("sent");
    assert_eq!(texted.status(), 200);

    // The webhook's trace, once its request, the reply's effect and the Twilio call are in.
    let (trace, request, effect, call) = poll_until(
        Duration::from_secs(30),
        "the webhook's whole trace",
        || async {
            let spans = exported_spans(&collector).await;
            let request = spans.iter().find(|span| {
                span.kind == SpanKind::Server as i32
                    && attribute(span, "path").as_deref() == Some("/webhooks/twilio/sms")
            })?;
            let trace: Vec<Span> = spans
                .iter()
                .filter(|span| span.trace_id == request.trace_id)
                .cloned()
                .collect();
            let effect = trace
                .iter()
                .find(|span| attribute(span, "effect.kind").as_deref() == Some("send_sms"))?
                .clone();
            let call = trace
                .iter()
                .find(|span| {
                    attribute(span, "twilio.operation").as_deref() == Some("send_sms")
                        && descends_from(span, &effect, &trace)
                })?
                .clone();
            Some((trace.clone(), request.clone(), effect, call))
        },
    )
    .await;

    assert_eq!(request.name, "POST /webhooks/twilio/sms", "{request:?}");
    assert_eq!(
        attribute(&request, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(effect.name, "outbox send_sms");
    assert_eq!(effect.kind, SpanKind::Consumer as i32);
    assert!(
        descends_from(&effect, &request, &trace),
        "the effect continues the request's trace: {effect:?}"
    );
    assert_eq!(call.name, "send_sms");
    assert_eq!(call.kind, SpanKind::Client as i32);
    assert_eq!(
        attribute(&call, "http.response.status_code").as_deref(),
        Some("201")
    );
    assert_eq!(attribute(&call, "twilio.outcome").as_deref(), Some("ok"));

    // Nothing in the trace names the stranger or repeats what anyone texted.
    let digits = STRANGER.trim_start_matches('+');
    for span in &trace {
        let said = format!("{} {:?}", span.name, span.attributes);
        assert!(!said.contains(digits), "a phone number in {said}");
        assert!(!said.contains("Dee Traced"), "a message body in {said}");
        assert!(!said.contains("Thanks"), "a reply's body in {said}");
    }
    let _ = child.kill().await;
}

/// Runs `admin create` against the sandbox and returns the platform token it printed.
async fn sandbox_admin(prefix: &str) -> String {
    let mut create = command(&[
        "admin",
        "create",
        "--phone",
        "+15550071299",
        "--name",
        "Tracy",
    ]);
    create
        .env("NT_REDIS_URL", redis_url())
        .env("NT_REDIS_PREFIX", prefix);
    let output = create.output().await.expect("admin create runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}");
    stdout
        .lines()
        .find(|line| line.starts_with("ntk_"))
        .expect("a token is printed")
        .to_owned()
}

/// Every span the collector has received so far, decoded from OTLP/HTTP protobuf.
async fn exported_spans(collector: &MockServer) -> Vec<Span> {
    let requests = collector.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter_map(|request| ExportTraceServiceRequest::decode(request.body.as_slice()).ok())
        .flat_map(|export| export.resource_spans)
        .flat_map(|resource| resource.scope_spans)
        .flat_map(|scope| scope.spans)
        .collect()
}

/// A span attribute as text.
fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span
        .attributes
        .iter()
        .find(|attribute| attribute.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match value {
        AnyValue::StringValue(text) => text.clone(),
        AnyValue::IntValue(number) => number.to_string(),
        AnyValue::BoolValue(flag) => flag.to_string(),
        AnyValue::DoubleValue(number) => number.to_string(),
        other => format!("{other:?}"),
    })
}

/// Whether `ancestor` is `span`'s parent, or its parent's, and so on, within `trace`.
fn descends_from(span: &Span, ancestor: &Span, trace: &[Span]) -> bool {
    let by_id: HashMap<&[u8], &Span> = trace
        .iter()
        .map(|span| (span.span_id.as_slice(), span))
        .collect();
    let mut parent = span.parent_span_id.as_slice();
    for _ in 0..trace.len() {
        if parent == ancestor.span_id.as_slice() {
            return true;
        }
        match by_id.get(parent) {
            Some(next) => parent = next.parent_span_id.as_slice(),
            None => return false,
        }
    }
    false
}
