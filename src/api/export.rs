//! `GET /api/v1/neighborhoods/{id}/export/...`: members, join requests, messages and the audit
//! log as CSV or JSON files, streamed as they are read (see `crate::export`).

use poem::web::Data;
use poem::{Body, IntoResponse, Response};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::{ApiResponse, OpenApi, ResponseContent};
use uuid::Uuid;

use super::ApiTags;
use super::error::ApiError;
use super::error::statuses::{Invalid, NotFound, SignedIn};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::neighborhood::Neighborhood;
use crate::export::{self, ExportFormat, Table};
use crate::services::neighborhoods;
use crate::state::AppState;

pub struct ExportApi;

/// The file, in the format asked for.
#[derive(ResponseContent)]
pub enum ExportFile {
    Csv(CsvFile),
    Json(JsonRows),
}

/// CSV text with a header row, streamed.
pub struct CsvFile(Body);

impl Payload for CsvFile {
    const CONTENT_TYPE: &'static str = "text/csv; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("CSV (RFC 4180) with a header row naming the columns."),
            ..MetaSchema::new("string")
        }))
    }
}

impl IntoResponse for CsvFile {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.0)
    }
}

/// A JSON array of rows, streamed: each row an object with a key per column, whose value is the
/// cell as text or `null` for an empty cell (as `crate::export::encode` writes it).
pub struct JsonRows(Body);

impl Payload for JsonRows {
    const CONTENT_TYPE: &'static str = "application/json";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            items: Some(Box::new(MetaSchemaRef::Reference("ExportRow".into()))),
            ..MetaSchema::new("array")
        }))
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>("ExportRow".into(), |_| MetaSchema {
            description: Some(
                "One exported row: a key per column the operation lists, the cell as text, or \
                 null for an empty cell.",
            ),
            additional_properties: Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema {
                nullable: true,
                ..MetaSchema::new("string")
            })))),
            ..MetaSchema::new("object")
        });
    }
}

impl IntoResponse for JsonRows {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.0)
    }
}

#[derive(ApiResponse)]
enum ExportResponse {
    /// The file, streamed as it is read, to save (`attachment; filename="..."`). Should reading
    /// fail midway, the download breaks off rather than ending short.
    #[oai(status = 200)]
    Ok(
        ExportFile,
        /// `attachment; filename="<slug>-<what>-<date>.<csv|json>"`.
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

fn file(
    neighborhood: &Neighborhood,
    what: &str,
    format: ExportFormat,
    table: Table,
) -> ExportResponse {
    let name = export::file_name(neighborhood, what, format);
    let body = Body::from_bytes_stream(export::encode(table, format));
    let content = match format {
        ExportFormat::Csv => ExportFile::Csv(CsvFile(body)),
        ExportFormat::Json => ExportFile::Json(JsonRows(body)),
    };
    ExportResponse::Ok(content, format!("attachment; filename=\"{name}\""))
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::ImportExport")]
impl ExportApi {
    /// Export members
    ///
    /// Every member, whatever their status, oldest first. Columns, always in this order: `id`,
    /// `name`, `phone`, `address`, `role`, `status`, `status_reason`, `joined_at`, `updated_at`,
    /// `muted`, `sync`, `consent_channel`, `consent_text`, `consent_at`, `consent_ip`,
    /// `consent_message_sid`, `approved_by`, then one column per join question, headed by its
    /// text (by its id if the text is one of these names). For moderators `phone`, `address`,
    /// the consent columns and the answers are empty (the columns stay, so files line up).
    /// The CSV imports as it is: importing it back changes nothing. CSV cells a spreadsheet
    /// would run as a formula (starting `=`, `+`, `-`, `@`) begin with `'`; the import takes
    /// it off.
    #[oai(
        path = "/:id/export/members",
        method = "get",
        operation_id = "export_members"
    )]
    async fn members(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// `csv` (the default) or `json`.
        format: Query<Option<ExportFormat>>,
    ) -> Result<ExportResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "export_members", Some(id.0)).await?;
        let neighborhood = neighborhoods::any(&state, id.0).await?;
        let format = format.0.unwrap_or_default();
        let table =
            export::members(&state.store, &neighborhood, policy::may_see_phones(&grant)).await?;
        Ok(file(&neighborhood, "members", format, table))
    }

    /// Export join requests
    ///
    /// Every join request, oldest first, with its consent evidence, as a carrier vetting the
    /// opt-in process asks for it. Columns, in this order: `id`, `number`, `name`, `phone`,
    /// `address`, `channel` (`web`, `sms`, `invite`, `import`), `state`, `consent_text` (the
    /// exact text agreed to), `consent_at`, `consent_ip` (web requests), `consent_message_sid`
    /// (texted requests), `created_at`, `decided_by` (who approved or denied), `decided_at`,
    /// `member_id`, then one column per join question. For moderators `phone`, `address`,
    /// `consent_ip` and the answers are empty.
    #[oai(
        path = "/:id/export/join-requests",
        method = "get",
        operation_id = "export_join_requests"
    )]
    async fn join_requests(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// `csv` (the default) or `json`.
        format: Query<Option<ExportFormat>>,
    ) -> Result<ExportResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "export_join_requests", Some(id.0)).await?;
        let neighborhood = neighborhoods::any(&state, id.0).await?;
        let format = format.0.unwrap_or_default();
        let table =
            export::join_requests(&state.store, &neighborhood, policy::may_see_phones(&grant))
                .await?;
        Ok(file(&neighborhood, "join-requests", format, table))
    }

    /// Export messages
    ///
    /// The message history (the newest `NT_HISTORY_MESSAGES`), oldest first. Columns, in this
    /// order: `id`, `at`, `message_sid`, `sender_member_id`, `sender_name`, `body`, `shard`,
    /// `media` (the message's pictures as content type and size in bytes, in the order sent,
    /// separated by `; `: `image/jpeg 48000; image/png 1200`; empty, or `null` in JSON, when it
    /// has none; `GET .../messages` gives each one's `media_sid`). Never phone numbers. Not an
    /// import format: only the member table is read back.
    #[oai(
        path = "/:id/export/messages",
        method = "get",
        operation_id = "export_messages"
    )]
    async fn messages(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// `csv` (the default) or `json`.
        format: Query<Option<ExportFormat>>,
    ) -> Result<ExportResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "export_messages", Some(id.0)).await?;
        let neighborhood = neighborhoods::any(&state, id.0).await?;
        let format = format.0.unwrap_or_default();
        let table = export::messages(&state.store, &neighborhood);
        Ok(file(&neighborhood, "messages", format, table))
    }

    /// Export the audit log
    ///
    /// Every privileged action in the neighborhood, oldest first. Columns, in this order:
    /// `id`, `at`, `actor`, `action`, `target`, `source`, `detail` (JSON).
    #[oai(
        path = "/:id/export/audit",
        method = "get",
        operation_id = "export_audit"
    )]
    async fn audit(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// `csv` (the default) or `json`.
        format: Query<Option<ExportFormat>>,
    ) -> Result<ExportResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "export_audit", Some(id.0)).await?;
        let neighborhood = neighborhoods::any(&state, id.0).await?;
        let format = format.0.unwrap_or_default();
        let table = export::audit(&state.store, neighborhood.id);
        Ok(file(&neighborhood, "audit", format, table))
    }
}
