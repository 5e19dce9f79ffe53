//! Liveness, readiness with Redis coming and going, metrics, docs and the committed spec.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{
    RedisGate, Who, eventually, parse_redis_url, spawn_app, spawn_app_with, test_settings,
};

#[tokio::test]
async fn ready_follows_redis_while_health_stays_up() {
    let gate = RedisGate::start(false).await;
    let twilio = wiremock::MockServer::start().await;
    let mut settings = test_settings(&twilio);
    settings.redis_url = parse_redis_url(&gate.url);
    settings.redis_timeout_ms = 500;
    let app = spawn_app_with(twilio, settings).await;

    // Redis unreachable at boot: the service is up, but not ready.
    assert_eq!(app.get_raw("/health").await.status(), 200);
    let body = app.get(&Who::Admin, "/ready", 503).await;
    assert_eq!(body["code"], "store_unavailable");

    gate.open();
    eventually(Duration::from_secs(10), "/ready to answer 200", || async {
        app.get_raw("/ready").await.status() == 200
    })
    .await;

    gate.close();
    eventually(Duration::from_secs(10), "/ready to answer 503", || async {
        app.get_raw("/ready").await.status() == 503
    })
    .await;
    assert_eq!(app.get_raw("/health").await.status(), 200);
}

#[tokio::test]
async fn a_dropped_redis_connection_is_retried_once_without_the_caller_noticing() {
    let gate = RedisGate::start(true).await;
    let twilio = wiremock::MockServer::start().await;
    let mut settings = test_settings(&twilio);
    settings.redis_url = parse_redis_url(&gate.url);
    let app = spawn_app_with(twilio, settings).await;
    app.get(&Who::Admin, "/api/v1/neighborhoods", 200).await;

    for _ in 0..3 {
        gate.cut_connections();
        // A read after a dropped connection still succeeds.
        app.get(&Who::Admin, "/api/v1/neighborhoods", 200).await;
    }
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_twilio_calls_by_outcome() {
    let app = spawn_app().await;
    crate::helpers::mount_working_twilio(&app.twilio).await;
    app.create_neighborhood(
        &json!({"owner_phone": "+15550000999", "name": "Metrics Street", "area_code": "415"}),
    )
    .await;
    let _ = app.get_raw("/api/v1/neighborhoods").await;

    let text = app
        .get_raw("/metrics")
        .await
        .text()
        .await
        .expect("metrics text");

    assert!(
        text.contains(
            r#"http_requests_total{route="list_neighborhoods",method="GET",status="200"}"#
        ),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("twilio_requests_total{")
                && line.contains(r#"outcome="ok""#)),
        "a Twilio call counted as ok: {text}"
    );
}

#[tokio::test]
async fn the_docs_and_the_spec_are_served() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app
        .get_raw("/openapi.json")
        .await
        .json()
        .await
        .expect("spec");
    assert_eq!(
        spec["paths"]["/api/v1/neighborhoods"]["post"]["operationId"],
        "create_neighborhood"
    );
    let docs = app.get_raw("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.expect("html").contains("swagger"));
}

#[test]
fn the_committed_openapi_document_is_current() {
    let spec = neighborhood_text::api::spec_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &spec).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == spec,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}
