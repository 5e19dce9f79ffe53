//! Logs, request spans and metrics.
//!
//! Logs are JSON lines in production and human-readable in a terminal. Every request gets a span
//! (method, path, request id) and one line when it ends; probes log at debug so they do not drown
//! the rest. Metrics go to one process-wide Prometheus recorder rendered at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use poem::{Endpoint, Request, Response};
use poem_openapi::OperationId;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use traces::Traces;

pub mod traces;

/// The names of every metric the service exports, in one place: the Grafana dashboard in
/// `deploy/grafana/` queries these, and a test holds it to them.
pub mod metric_names {
    /// Requests answered, by `route` (the operation), `method` and `status`.
    pub const HTTP_REQUESTS: &str = "http_requests_total";
    /// Request latency by `route` and `method` (a summary: quantiles 0, 0.5, 0.9, 0.95, 0.99,
    /// 0.999, 1 per instance).
    pub const HTTP_REQUEST_DURATION: &str = "http_request_duration_seconds";
    /// Twilio calls by `operation` and `outcome` (`ok`, `api_error`, `timeout`, `transport`, ...).
    pub const TWILIO_REQUESTS: &str = "twilio_requests_total";
    /// Twilio call latency by `operation`, retries included (a summary).
    pub const TWILIO_REQUEST_DURATION: &str = "twilio_request_duration_seconds";
    /// 1:1 texts not sent, by `reason`.
    pub const TEXTS_REFUSED: &str = "texts_refused_total";
    /// Daily caps on 1:1 texts reached, by `scope` (`neighborhood`, `deployment`).
    pub const TEXT_CAP_TRIPS: &str = "text_cap_trips_total";

    pub const ALL: [&str; 6] = [
        HTTP_REQUESTS,
        HTTP_REQUEST_DURATION,
        TWILIO_REQUESTS,
        TWILIO_REQUEST_DURATION,
        TEXTS_REFUSED,
        TEXT_CAP_TRIPS,
    ];
}

/// Installs the global log subscriber, JSON lines or human-readable. Call once, from `main`.
pub fn init_logging(log: &str, json: bool) {
    init(log, json, None);
}

/// Installs the global log subscriber and, with an OTLP endpoint, the trace exporter posting on
/// `runtime`. Call once, from `main`; keep what it returns until the runtime stops, then
/// [`Traces::shutdown`] it.
pub fn init(
    log: &str,
    json: bool,
    otlp: Option<(&url::Url, tokio::runtime::Handle)>,
) -> Option<Traces> {
    let filter = EnvFilter::try_new(log).unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };
    let (traces, exported) = match otlp.map(|(endpoint, runtime)| Traces::start(endpoint, runtime))
    {
        Some(Ok((traces, tracer))) => (
            Some(traces),
            Some(tracing_opentelemetry::layer().with_tracer(tracer)),
        ),
        Some(Err(error)) => {
            eprintln!("traces are not exported: {error}");
            (None, None)
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .with(exported)
        .init();
    traces
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
    let span = if traces::exporting() {
        // `otel.*` and `http.*` name the span for trace viewers (OpenTelemetry's HTTP
        // conventions); the route is known once the request is routed. Only when exported: every
        // log line of the request would carry them too.
        // Named before routing (the exporter fixes a span's name when it starts), after the path
        // with its ids left out.
        let span = tracing::info_span!(
            "request",
            %method,
            %path,
            %request_id,
            otel.name = %format_args!("{method} {}", path_template(&path)),
            otel.kind = "server",
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
        );
        // A caller's own trace (W3C `traceparent`) is continued, so an integrator sees our part.
        traces::continue_trace(
            &span,
            request
                .headers()
                .get("traceparent")
                .and_then(|value| value.to_str().ok()),
        );
        span
    } else {
        tracing::info_span!("request", %method, %path, %request_id)
    };
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
        metric_names::HTTP_REQUESTS,
        "route" => route,
        "method" => method.clone(),
        "status" => status.as_u16().to_string()
    )
    .increment(1);
    metrics::histogram!(metric_names::HTTP_REQUEST_DURATION, "route" => route, "method" => method)
        .record(elapsed.as_secs_f64());

    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let status = status.as_u16();
    if traces::exporting() {
        span.record("http.route", route);
        span.record("http.response.status_code", status);
    }
    span.in_scope(|| {
        if matches!(route, "health" | "ready" | "metrics") {
            tracing::debug!(status, latency_ms, "request finished");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
    });
    result
}

/// A path with each segment that names one thing (an id, a phone, a code: anything with six
/// characters or more and a digit) written `{id}`, so that span names stay few.
fn path_template(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let names_one = segment.len() >= 6 && segment.bytes().any(|b| b.is_ascii_digit());
            if names_one || segment == "-" {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
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
    fn a_span_is_named_after_the_path_without_its_ids() {
        use super::path_template;
        assert_eq!(
            path_template("/api/v1/neighborhoods/01a24a2e-f3f8-7322-a769-8539568af265/members"),
            "/api/v1/neighborhoods/{id}/members"
        );
        assert_eq!(
            path_template("/webhooks/twilio/sms"),
            "/webhooks/twilio/sms"
        );
        assert_eq!(
            path_template("/sandbox/api/phones/%2B15550071234/messages"),
            "/sandbox/api/phones/{id}/messages"
        );
        assert_eq!(path_template("/history/abc/-"), "/history/abc/{id}");
        assert_eq!(path_template("/api/v1/auth/me"), "/api/v1/auth/me");
    }

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
