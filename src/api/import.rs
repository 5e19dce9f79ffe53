//! `POST /api/v1/neighborhoods/{id}/import`: neighbors from a spreadsheet's CSV, upserted by
//! phone (see `crate::import`). A dry run unless the captain says otherwise.

use std::str::FromStr;

use poem::http::header;
use poem::web::{CompressionAlgo, Data};
use poem::{Body, Endpoint, FromRequest, IntoResponse, Request, RequestBody};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::statuses::{Conflict, Invalid, NotFound, SignedIn};
use super::error::{ApiError, ErrorBody, import_too_large};
use super::security::Auth;
use crate::auth::policy;
use crate::import::{self, ImportError, ImportOptions, ImportReport, Limit, MAX_BYTES};
use crate::services::additions::Adder;
use crate::state::AppState;

pub struct ImportApi;

/// A CSV upload, handed on unread: the import parses it as it streams in. Spreadsheets and
/// tools label CSV many ways (`text/csv`, `application/vnd.ms-excel`, `text/plain`, curl's form
/// type), so the body is read as CSV whatever its `Content-Type` says.
pub struct CsvUpload(Body);

impl<'a> ApiExtractor<'a> for CsvUpload {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: "text/csv",
                schema: MetaSchemaRef::Inline(Box::new(MetaSchema {
                    format: Some("binary"),
                    ..MetaSchema::new("string")
                })),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        Ok(Self(
            <Body as FromRequest>::from_request(request, body).await?,
        ))
    }
}

#[derive(ApiResponse)]
enum ImportResponse {
    /// What the import did or, in a dry run, would do: counts, and the rows added, updated or
    /// rejected (with reasons) by their spreadsheet row number.
    #[oai(status = 200)]
    Ok(Json<ImportReport>),
    /// The file is over 16 MiB or 20,000 rows (`payload_too_large`): split it. In a real run
    /// the rows before the limit were imported already, as `message` says; importing them again
    /// changes nothing.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
}

fn too_large(limit: Limit, imported_through: Option<u32>, report: &ImportReport) -> ImportResponse {
    ImportResponse::TooLarge(Json(import_too_large(limit, imported_through, report)))
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::ImportExport")]
impl ImportApi {
    /// Import neighbors from CSV
    ///
    /// The body is a CSV file as a spreadsheet exports it (UTF-8, a byte-order mark and CRLF
    /// are fine): a header row, then one neighbor per row. Columns, in any order and any case:
    /// `name` and `phone` (required), `address`, and one column per join question, headed by its
    /// id or its exact text; the columns of the member export are recognized and ignored, and
    /// any other column is reported in `warnings`. Each phone is one person: a phone that is
    /// already a member (active or paused) or has an open join request updates that record's
    /// name, address and answers (an empty cell changes nothing), never a second record. A new
    /// phone becomes a join request (channel `import`, waiting for a captain's approval
    /// whatever the join policy; no texts are sent), or with `attest_consent=true` a member,
    /// added to the group text and welcomed by text as when a captain adds one directly. People
    /// who left, were removed or texted STOP are never added back (a row that would change
    /// them is rejected, one that matches them is unchanged). Rows are rejected, with their
    /// spreadsheet row number (the header is row 1) and the reason, for a missing or bad
    /// phone, a missing or too long name, a too long address or answer, or a phone already in
    /// an earlier row. Blank rows are skipped.
    ///
    /// New members count against the captains' daily additions
    /// (`NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD`, not for platform admins): rows past it are
    /// rejected with that reason, and importing the file again later adds them.
    ///
    /// **A dry run by default**: without `dry_run=false` nothing changes and the report says
    /// what the real run will do. At most 16 MiB and 20,000 rows (413). The file is read as it
    /// arrives and written in batches; a real run is audited once with its counts. If Redis
    /// becomes unreachable or full midway, the answer is 503 (`store_unavailable` or
    /// `store_full`, with `Retry-After`) naming the rows written: `details` holds
    /// `imported_through` (the last row written, absent when none was) and `in_doubt`
    /// (`first-last`, the batch being written, which may be partly); importing the same file
    /// again finishes it.
    #[oai(
        path = "/:id/import",
        method = "post",
        operation_id = "import_members",
        transform = "inflate"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn import(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        /// `false` to make the changes; by default (`true`) only report what they would be.
        dry_run: Query<Option<bool>>,
        /// `true`: you attest that the new people in the file agreed to receive the group's
        /// texts, so they become members at once; otherwise each becomes a join request.
        attest_consent: Query<Option<bool>>,
        body: CsvUpload,
    ) -> Result<ImportResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "import_members", Some(id.0)).await?;
        let neighborhood = crate::services::neighborhoods::active(&state, id.0).await?;
        let declared = request
            .header("content-length")
            .and_then(|length| length.parse::<u64>().ok());
        if declared.is_some_and(|length| length > MAX_BYTES) {
            return Ok(too_large(Limit::Bytes, None, &ImportReport::default()));
        }
        let options = ImportOptions {
            dry_run: dry_run.0.unwrap_or(true),
            attest_consent: attest_consent.0.unwrap_or(false),
            actor: auth.principal().actor(),
            ip: state.client_ip(request),
            adder: Adder::platform_admin(auth.principal().is_platform_admin()),
            audited: true,
        };
        let state = state.0.clone();
        let reader = import::body_reader(body.0);
        // On a task of its own: if the client goes away, the batch being written is finished
        // and the import audited, rather than dropped between two writes.
        let outcome =
            tokio::spawn(async move { import::run(&state, &neighborhood, reader, &options).await })
                .await
                .map_err(|error| {
                    ApiError::internal_message(&format!("import task failed: {error}"))
                })?;
        match outcome {
            Ok(report) => Ok(ImportResponse::Ok(Json(report))),
            Err(ImportError::TooLarge {
                limit,
                imported_through,
                report,
            }) => Ok(too_large(limit, imported_through, &report)),
            Err(error) => Err(error.into()),
        }
    }
}

/// An upload may arrive compressed (`Content-Encoding: gzip`, `br`, ...): it is inflated here as
/// it streams, and `import::body_reader` caps what comes out at 16 MiB. The only route that
/// inflates a request body (see `crate::limits`). A coding poem cannot inflate is 415, rather
/// than compressed bytes read as CSV.
fn inflate<E: poem::Endpoint + 'static>(endpoint: E) -> impl poem::Endpoint {
    poem::EndpointExt::around(
        poem::EndpointExt::with(endpoint, poem::middleware::Compression::new()),
        |next, request| async move {
            let encoding = request.header(header::CONTENT_ENCODING).unwrap_or_default();
            let inflatable = encoding.is_empty()
                || encoding == "identity"
                || CompressionAlgo::from_str(encoding).is_ok();
            if !inflatable {
                return Ok(super::error::unsupported_encoding(
                    "Send the file uncompressed, or compressed as gzip, deflate, br or zstd.",
                    "gzip, deflate, br, zstd, identity",
                ));
            }
            next.call(request).await.map(IntoResponse::into_response)
        },
    )
}
