//! Traces over OTLP/HTTP (OpenTelemetry), when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! The spans are the ones the code opens for logging anyway (`tracing`), exported by
//! `tracing-opentelemetry`: each request, each outbox effect, each Twilio call. An effect runs
//! later, in another task and maybe on another instance, so the request that queued it writes
//! its trace context (W3C `traceparent`) into the outbox entry, and the effect's span continues
//! that trace: one webhook's trace shows the request, the effect it queued and the Twilio call the
//! effect made.
//!
//! Spans carry operations, statuses and ids, never a phone number or a message body.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry::{Context, SpanId};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use url::Url;

/// How long one export may take: a collector that hangs must not hold spans (and memory) long.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from a collector (it answers a few bytes).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Set once the exporter is installed: the spans' trace-only fields and the outbox's trace
/// context are written only then.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether traces leave the process.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The exporter's pipeline; flushed and stopped by [`Traces::shutdown`] as the process exits.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Builds the pipeline posting to `{endpoint}/v1/traces`. Export requests run on `runtime`
    /// (the exporter's own thread has no reactor).
    pub fn start(
        endpoint: &Url,
        runtime: tokio::runtime::Handle,
    ) -> Result<(Self, opentelemetry_sdk::trace::SdkTracer), String> {
        let client = RuntimeClient {
            http: reqwest::Client::builder()
                .timeout(EXPORT_TIMEOUT)
                .build()
                .map_err(|error| format!("the OTLP client could not be built: {error}"))?,
            runtime,
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(signal_url(endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|error| format!("OTEL_EXPORTER_OTLP_ENDPOINT: {error}"))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service_name())
                    .build(),
            )
            .build();
        let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
        EXPORTING.store(true, Ordering::Relaxed);
        Ok((Self { provider }, tracer))
    }

    /// Exports what is still buffered, then stops. Call with the runtime still running.
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("traces not all exported at exit: {error}");
        }
    }
}

/// `OTEL_SERVICE_NAME` when set (the standard name), else this crate's.
fn service_name() -> String {
    std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| env!("CARGO_PKG_NAME").to_owned())
}

/// The traces URL under a base endpoint, as the OTLP specification builds it.
fn signal_url(endpoint: &Url) -> String {
    format!("{}/v1/traces", endpoint.as_str().trim_end_matches('/'))
}

/// The service's own HTTP client (rustls, no second TLS stack), run on the service's runtime.
#[derive(Debug)]
struct RuntimeClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let http = self.http.clone();
        let sent = self.runtime.spawn(async move {
            let (parts, body) = request.into_parts();
            let mut answer = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = answer.status();
            let mut read = Vec::new();
            while let Some(chunk) = answer.chunk().await? {
                let room = MAX_ANSWER_BYTES.saturating_sub(read.len());
                read.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok::<_, reqwest::Error>((status, read))
        });
        let (status, body) = sent.await??;
        Ok(Response::builder().status(status).body(Bytes::from(body))?)
    }
}

/// The current span's trace context as a W3C `traceparent`, when traces are exported and the
/// span is sampled; `None` otherwise (so nothing is stored for nothing).
pub fn current_traceparent() -> Option<String> {
    if !exporting() {
        return None;
    }
    let context = tracing::Span::current().context();
    let span = context.span();
    let span = span.span_context();
    span.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            span.trace_id(),
            span.span_id(),
            span.trace_flags().to_u8()
        )
    })
}

/// A remote parent from a `traceparent` (version 00), or `None` for anything malformed.
pub fn parent_from(traceparent: &str) -> Option<Context> {
    let mut parts = traceparent.split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || parts.next().is_some() || trace.len() != 32 || span.len() != 16 {
        return None;
    }
    let trace_id = TraceId::from_hex(trace).ok()?;
    let span_id = SpanId::from_hex(span).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    let remote = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    remote
        .is_valid()
        .then(|| Context::new().with_remote_span_context(remote))
}

/// Continues the trace of `traceparent` in `span` (a no-op without one, or without export).
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(parent) = traceparent.and_then(parent_from) {
        // Fails only when the span is disabled; then there is nothing to link.
        let _ = span.set_parent(parent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_read_back_as_written() {
        let written = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parent = parent_from(written).expect("valid");
        let span = parent.span();
        let span = span.span_context();
        assert_eq!(
            span.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(span.span_id().to_string(), "00f067aa0ba902b7");
        assert!(span.is_sampled());
        assert!(span.is_remote());
    }

    #[test]
    fn a_malformed_traceparent_is_no_parent() {
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(parent_from(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_traces_url_is_the_base_and_v1_traces() {
        for base in ["http://collector:4318", "http://collector:4318/"] {
            let url = Url::parse(base).expect("url");
            assert_eq!(signal_url(&url), "http://collector:4318/v1/traces");
        }
        let url = Url::parse("https://otlp.example.com/otlp").expect("url");
        assert_eq!(signal_url(&url), "https://otlp.example.com/otlp/v1/traces");
    }

    #[test]
    fn without_an_exporter_there_is_no_traceparent_to_store() {
        let span = tracing::info_span!("request");
        assert_eq!(span.in_scope(current_traceparent), None);
    }
}
