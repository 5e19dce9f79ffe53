//! Liveness, readiness with Redis coming and going, metrics, docs and the committed spec.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{RedisGate, Who, eventually, spawn_app, spawn_app_with, test_settings};

#[tokio::test]
async fn ready_follows_redis_while_health_stays_up() {
    let gate = RedisGate::start(false).await;
    let twilio = wiremock::MockServer::start().await;
    let mut settings = test_settings(&twilio);
    crate::helpers::use_single_redis(&mut settings, &gate.url);
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
    crate::helpers::use_single_redis(&mut settings, &gate.url);
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
    // Latency is a summary with quantiles (the Grafana dashboard reads `quantile="0.99"`).
    assert!(
        text.lines()
            .any(|line| line.starts_with("http_request_duration_seconds{")
                && line.contains(r#"quantile="0.99""#)),
        "{text}"
    );
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
    // Same origin as the admin app (finding 19): it may call nothing elsewhere, nor be framed.
    let policy = docs
        .headers()
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        policy.contains("connect-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
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

/// The error statuses each operation lists in the generated document, by operation id.
fn listed_statuses() -> std::collections::BTreeMap<String, Vec<u16>> {
    let spec: serde_json::Value =
        serde_json::from_str(&neighborhood_text::api::spec_json()).expect("spec");
    let mut found = std::collections::BTreeMap::new();
    for methods in spec["paths"].as_object().expect("paths").values() {
        for operation in methods.as_object().expect("methods").values() {
            let id = operation["operationId"].as_str().expect("id").to_owned();
            let statuses = operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .map(|status| status.parse().expect("numeric status"))
                .filter(|status| *status >= 400)
                .collect();
            found.insert(id, statuses);
        }
    }
    found
}

#[test]
fn the_openapi_document_lists_only_the_error_statuses_each_operation_can_return() {
    use neighborhood_text::auth::policy::{self, Access};
    let listed = listed_statuses();
    let of = |id: &str| {
        listed
            .get(id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .clone()
    };

    // A public read of Redis: no credentials to refuse, no Twilio, no body; 415 for a request
    // sent with a `Content-Encoding`, which any route refuses.
    assert_eq!(of("join_card"), [404, 409, 415, 500, 503]);
    assert_eq!(of("whoami"), [401, 403, 415, 500, 503]);
    assert_eq!(of("health"), [415, 500]);
    assert_eq!(
        of("submit_join_request"),
        [400, 403, 404, 409, 413, 415, 429, 500, 503]
    );
    assert_eq!(
        of("create_neighborhood"),
        [400, 401, 403, 409, 413, 415, 422, 500, 502, 503]
    );
    assert_eq!(
        of("import_members"),
        [400, 401, 403, 404, 409, 413, 415, 500, 503]
    );

    // Only the operations that call Twilio (or read a Google Sheet) while the caller waits can
    // answer 502.
    let twilio = [
        "create_neighborhood",
        "update_neighborhood",
        "archive_neighborhood",
        "delete_neighborhood",
        "sync_neighborhood",
        "get_message_picture",
        "upload_picture",
        "open_shared_picture",
        "preview_sheet_hub",
    ];
    for (id, statuses) in &listed {
        assert!(statuses.contains(&415), "{id} lists {statuses:?}");
        assert_eq!(
            statuses.contains(&502),
            twilio.contains(&id.as_str()),
            "{id} lists {statuses:?}"
        );
        // Credentials: every operation that needs them can refuse them (401, 403) and needs
        // Redis to check them (503); a public one never answers 401.
        match policy::access_for(id).expect("in the policy table") {
            // `/metrics` is public unless the operator sets NT_METRICS_TOKEN; then a request
            // without it gets 401 (security finding 19).
            Access::Public if id == "metrics" => {
                assert!(statuses.contains(&401), "{id} lists {statuses:?}")
            }
            Access::Public => assert!(!statuses.contains(&401), "{id} lists {statuses:?}"),
            _ => {
                for status in [401, 403, 503] {
                    assert!(statuses.contains(&status), "{id} lists {statuses:?}");
                }
            }
        }
    }

    // What is answered before a handler runs: 400, 413 and 415 for a JSON body (unreadable, over
    // the size, not JSON), 400 for a path or query parameter that does not parse.
    let spec: serde_json::Value =
        serde_json::from_str(&neighborhood_text::api::spec_json()).expect("spec");
    for methods in spec["paths"].as_object().expect("paths").values() {
        for operation in methods.as_object().expect("methods").values() {
            let id = operation["operationId"].as_str().expect("id");
            let statuses = &listed[id];
            let json_body = operation["requestBody"]["content"]
                .as_object()
                .is_some_and(|content| content.keys().any(|t| t.starts_with("application/json")));
            if json_body {
                assert!(
                    [400, 413, 415]
                        .iter()
                        .all(|status| statuses.contains(status)),
                    "{id} takes JSON but lists {statuses:?}"
                );
            }
            let typed_parameter = operation["parameters"].as_array().is_some_and(|params| {
                params.iter().any(|param| {
                    let schema = &param["schema"];
                    schema["type"] != "string" || schema.get("format").is_some()
                })
            });
            if typed_parameter {
                assert!(
                    statuses.contains(&400),
                    "{id} has a parameter that can fail to parse but lists {statuses:?}"
                );
            }
        }
    }
}

#[test]
fn an_operation_answering_one_status_in_several_media_types_documents_each() {
    let spec: serde_json::Value =
        serde_json::from_str(&neighborhood_text::api::spec_json()).expect("spec");
    let media_types = |path: &str| -> Vec<String> {
        spec["paths"][path]["get"]["responses"]["200"]["content"]
            .as_object()
            .map(|content| content.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(
        media_types("/api/v1/neighborhoods/{id}/invites/qr"),
        ["image/png", "image/svg+xml"]
    );
    let export = spec["paths"]["/api/v1/neighborhoods/{id}/export/members"]["get"]["responses"]
        ["200"]["content"]
        .clone();
    assert_eq!(
        export["application/json"]["schema"]["type"], "array",
        "{export}"
    );
    assert_eq!(
        export["text/csv; charset=utf-8"]["schema"]["type"], "string",
        "{export}"
    );
    assert!(
        export["text/csv; charset=utf-8"]["schema"]
            .get("format")
            .is_none(),
        "CSV is text, not binary: {export}"
    );
}

/// The Grafana dashboard in `deploy/grafana/` queries only metrics the service exports, and shows
/// every one of them.
#[test]
fn the_grafana_dashboard_queries_every_metric_the_service_exports_and_no_other() {
    use neighborhood_text::telemetry::metric_names;

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana/neighborhood-text.json"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the dashboard")).expect("JSON");
    let exprs: Vec<&str> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .filter(|panel| panel["type"] != "row")
        .flat_map(|panel| panel["targets"].as_array().expect("targets").iter())
        .map(|target| target["expr"].as_str().expect("expr"))
        .collect();
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut queried = std::collections::BTreeSet::new();
    for expr in &exprs {
        // A metric is a name followed by its label matchers.
        for (at, _) in expr.match_indices('{') {
            let name: String = expr[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !name.is_empty() {
                queried.insert(name);
            }
        }
    }
    let exported: std::collections::BTreeSet<String> = metric_names::ALL
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    assert_eq!(queried, exported, "queried vs exported");
    // Every panel reads through the dashboard's data source variable, so it imports anywhere.
    for panel in dashboard["panels"].as_array().expect("panels") {
        if panel["type"] != "row" {
            assert_eq!(panel["datasource"]["uid"], "${datasource}", "{panel}");
        }
    }
}
