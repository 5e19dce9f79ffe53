//! Liveness, readiness and metrics, for load balancers, Fly checks and Prometheus.

use std::time::Duration;

use poem::Request;
use poem::http::header;
use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::error::statuses::Baseline;
use super::error::{ApiError, ErrorBody, ErrorCode, STORE_UNAVAILABLE_RETRY_SECS};
use crate::state::AppState;

pub struct SystemApi;

/// Readiness probes give up well before a load balancer's own timeout.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's state.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StatusOut {
    /// `ok` or `ready`.
    pub status: String,
    /// True in sandbox mode: Twilio is emulated and no real SMS is sent.
    pub sandbox: bool,
    /// Sandbox mode only: the phone that may sign in as platform admin (its code arrives in the
    /// simulated phone at `/sandbox`).
    pub sandbox_admin_phone: Option<String>,
}

#[derive(ApiResponse)]
enum HealthResponse {
    /// The process is alive.
    #[oai(status = 200)]
    Ok(Json<StatusOut>),
}

#[derive(ApiResponse)]
enum ReadyResponse {
    /// Redis answers: the service can take traffic.
    #[oai(status = 200)]
    Ready(Json<StatusOut>),
    /// Redis does not answer (yet).
    #[oai(status = 503)]
    NotReady(
        Json<ErrorBody>,
        /// Seconds to wait before asking again.
        #[oai(header = "Retry-After")]
        u64,
    ),
}

#[derive(ApiResponse)]
enum MetricsResponse {
    /// Prometheus text exposition format.
    #[oai(status = 200, content_type = "text/plain; version=0.0.4")]
    Ok(PlainText<String>),
    /// The deployment sets `NT_METRICS_TOKEN` and the request did not send it as a bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
}

#[OpenApi(tag = "ApiTags::System")]
impl SystemApi {
    /// Liveness
    ///
    /// 200 as long as the process runs, whatever the state of Redis or Twilio.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    // The `Result`s here list in the document what any operation can answer (see `Baseline`).
    async fn health(&self, state: Data<&AppState>) -> Result<HealthResponse, ApiError<Baseline>> {
        Ok(HealthResponse::Ok(Json(StatusOut {
            status: "ok".into(),
            sandbox: state.sandbox.is_some(),
            sandbox_admin_phone: state.sandbox_admin_phone().map(String::from),
        })))
    }

    /// Readiness
    ///
    /// 200 when Redis answers, 503 otherwise. Twilio is not checked: the service keeps serving
    /// while Twilio is unreachable, and retries its calls.
    #[oai(path = "/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, state: Data<&AppState>) -> Result<ReadyResponse, ApiError<Baseline>> {
        Ok(
            match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
                Ok(Ok(())) => ReadyResponse::Ready(Json(StatusOut {
                    status: "ready".into(),
                    sandbox: state.sandbox.is_some(),
                    sandbox_admin_phone: state.sandbox_admin_phone().map(String::from),
                })),
                Ok(Err(error)) => not_ready(&error.to_string()),
                Err(_) => not_ready("no answer within 2 s"),
            },
        )
    }

    /// Metrics
    ///
    /// Request counts and latencies by operation, Twilio calls by outcome. When the deployment
    /// sets `NT_METRICS_TOKEN`, send it as `Authorization: Bearer <token>`.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(
        &self,
        state: Data<&AppState>,
        request: &Request,
    ) -> Result<MetricsResponse, ApiError<Baseline>> {
        if let Some(expected) = &state.settings.metrics_token {
            let sent = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .unwrap_or_default();
            if !crate::auth::tokens::constant_time_eq(sent.trim(), expected.expose()) {
                return Ok(MetricsResponse::Unauthorized(Json(ErrorBody {
                    code: ErrorCode::Unauthorized,
                    message: "Send the metrics token (NT_METRICS_TOKEN) as a bearer token.".into(),
                    details: Vec::new(),
                })));
            }
        }
        Ok(MetricsResponse::Ok(PlainText(state.metrics.render())))
    }
}

fn not_ready(cause: &str) -> ReadyResponse {
    tracing::debug!(cause, "not ready");
    ReadyResponse::NotReady(
        Json(ErrorBody {
            code: ErrorCode::StoreUnavailable,
            message: "Redis is not reachable yet.".into(),
            details: Vec::new(),
        }),
        STORE_UNAVAILABLE_RETRY_SECS,
    )
}
