//! Logs, request spans and metrics.
//!
//! Logs are JSON lines in production and human-readable in a terminal. Every request gets a span
//! (method, path, request id) and one line when it ends; probes log at debug so they do not drown
//! the rest. Metrics go to one process-wide Prometheus recorder rendered at `/metrics`.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use poem::{Endpoint, Request, Response};
use poem_openapi::OperationId;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global log subscriber. Call once, from `main`.
pub fn init_logging(log: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(log).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

/// The process-wide metrics registry (installed on first use; every app in a process shares it).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed already; ours then stays unused.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// Middleware: a span per request, one log line at the end, request count and latency by route.
pub async fn observe<E: Endpoint<Output = Response>>(
    next: E,
    request: Request,
) -> poem::Result<Response> {
    let method = request.method().clone();
    let path = loggable_path(request.uri().path());
    let request_id = uuid::Uuid::new_v4();
    let span = tracing::info_span!("request", %method, %path, %request_id);
    let started = Instant::now();
    let result = next.call(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();

    let (status, operation) = match &result {
        Ok(response) => (
            response.status(),
            response.data::<OperationId>().map(|id| id.0),
        ),
        Err(error) => (error.status(), error.data::<OperationId>().map(|id| id.0)),
    };
    // Route labels come from the operation id (bounded), never from the raw path (ids in it).
    let route = operation.unwrap_or_else(|| route_of_unnamed(&path));
    let method = method.to_string();
    metrics::counter!(
        "http_requests_total",
        "route" => route,
        "method" => method.clone(),
        "status" => status.as_u16().to_string()
    )
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(elapsed.as_secs_f64());

    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let status = status.as_u16();
    span.in_scope(|| {
        if matches!(route, "health" | "ready" | "metrics") {
            tracing::debug!(status, latency_ms, "request finished");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
    });
    result
}

/// The path as logs show it: the code of a catch-up link is replaced by `-`. It is a bearer
/// secret until opened, and a log line must not be a way to open it.
pub fn loggable_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let secret_at = match segments.as_slice() {
        ["", "history", _, _] => Some(3),
        ["", "api", "v1", "neighborhoods", _, "catch-up", _] => Some(6),
        _ => None,
    };
    match secret_at {
        Some(index) => segments
            .iter()
            .enumerate()
            .map(|(at, segment)| if at == index { "-" } else { segment })
            .collect::<Vec<_>>()
            .join("/"),
        None => path.to_owned(),
    }
}

fn route_of_unnamed(path: &str) -> &'static str {
    if path == "/openapi.json" {
        "openapi"
    } else if path.starts_with("/docs") {
        "docs"
    } else if path.starts_with("/api/") {
        "api_unmatched"
    } else if path.starts_with("/webhooks/") {
        "twilio_webhooks"
    } else if path.starts_with("/sandbox") {
        "sandbox"
    } else {
        "static"
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn catch_up_codes_never_reach_a_log_line() {
        assert_eq!(loggable_path("/history/abc/s3cret"), "/history/abc/-");
        assert_eq!(
            loggable_path("/api/v1/neighborhoods/abc/catch-up/s3cret"),
            "/api/v1/neighborhoods/abc/catch-up/-"
        );
        assert_eq!(
            loggable_path("/api/v1/neighborhoods/abc/members"),
            "/api/v1/neighborhoods/abc/members"
        );
    }
}
