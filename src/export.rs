//! Exports: a neighborhood's members, join requests, messages and audit log as CSV or JSON
//! tables, streamed as they are read from Redis a page at a time, so a neighborhood of any size
//! is exported in the memory of one page.
//!
//! Every table has a fixed, documented column order and a header row; the JSON form is an array
//! of objects with the same columns as keys (in the same order) and the same values as strings,
//! `null` where the CSV cell is empty. The member table is importable as it is (see `import`):
//! its `name`, `phone`, `address` and answer columns are what the import reads, the rest it
//! recognizes and leaves alone.

use std::io;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use poem_openapi::Enum;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::domain::join_questions::JoinQuestion;
use crate::domain::join_request::JoinRequest;
use crate::domain::media::MediaItem;
use crate::domain::member::{Member, SyncState};
use crate::domain::neighborhood::Neighborhood;
use crate::store::audit::AuditRecord;
use crate::store::messages::StoredMessage;
use crate::store::{Store, StoreError};

/// Rows read from Redis per round trip, and written out per chunk.
pub const PAGE: usize = 500;

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ExportFormat {
    /// Comma-separated values with a header row (UTF-8), for spreadsheets.
    #[default]
    Csv,
    /// A JSON array of objects keyed by the CSV's column names.
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// One row: a value per column, `None` for an empty cell.
pub type Row = Vec<Option<String>>;

/// A table on its way out: its columns, then its rows in pages as Redis gives them.
pub struct Table {
    pub columns: Vec<String>,
    pub pages: BoxStream<'static, Result<Vec<Row>, StoreError>>,
}

/// Columns of the member export, before one column per join question.
pub const MEMBER_COLUMNS: [&str; 19] = [
    "id",
    "name",
    "phone",
    "channel",
    "language",
    "address",
    "role",
    "status",
    "status_reason",
    "joined_at",
    "updated_at",
    "muted",
    "sync",
    "consent_channel",
    "consent_text",
    "consent_at",
    "consent_ip",
    "consent_message_sid",
    "approved_by",
];

/// Columns of the join-request export, before one column per join question.
pub const JOIN_REQUEST_COLUMNS: [&str; 17] = [
    "id",
    "number",
    "name",
    "phone",
    "channel",
    "language",
    "address",
    "asked_by",
    "state",
    "consent_text",
    "consent_at",
    "consent_ip",
    "consent_message_sid",
    "created_at",
    "decided_by",
    "decided_at",
    "member_id",
];

/// Columns of the message export.
pub const MESSAGE_COLUMNS: [&str; 8] = [
    "id",
    "at",
    "message_sid",
    "sender_member_id",
    "sender_name",
    "body",
    "shard",
    "media",
];

/// Columns of the audit-log export.
pub const AUDIT_COLUMNS: [&str; 7] = ["id", "at", "actor", "action", "target", "source", "detail"];

/// The header of a join question's answer column: its text, or its id when the text is also
/// the name of a fixed column (so an import reads it back as the answer).
pub fn answer_column(question: &JoinQuestion) -> String {
    let text = question.text.trim();
    let fixed = MEMBER_COLUMNS
        .iter()
        .chain(&JOIN_REQUEST_COLUMNS)
        .any(|column| column.eq_ignore_ascii_case(text));
    if fixed {
        question.id.clone()
    } else {
        text.to_owned()
    }
}

fn columns_with_answers(fixed: &[&str], questions: &[JoinQuestion]) -> Vec<String> {
    fixed
        .iter()
        .map(|column| (*column).to_owned())
        .chain(questions.iter().map(answer_column))
        .collect()
}

/// Every member, oldest first (ids are time-ordered). Phones, addresses, answers and consent
/// evidence stay empty unless `captain_view`, as in the member list.
pub async fn members(
    store: &Store,
    neighborhood: &Neighborhood,
    captain_view: bool,
) -> Result<Table, StoreError> {
    let ids = store.member_ids(neighborhood.id).await?;
    let questions = neighborhood.join_questions.clone();
    let columns = columns_with_answers(&MEMBER_COLUMNS, &questions);
    let (store, id) = (store.clone(), neighborhood.id);
    let pages = stream::iter(chunks(ids))
        .then(move |page| {
            let store = store.clone();
            async move { store.members_by_ids(id, &page).await }
        })
        .map_ok(move |members| {
            members
                .iter()
                .map(|member| member_row(member, &questions, captain_view))
                .collect()
        })
        .boxed();
    Ok(Table { columns, pages })
}

/// Every join request, oldest first, with its consent evidence. Phones and the consent IP stay
/// empty unless `captain_view`.
pub async fn join_requests(
    store: &Store,
    neighborhood: &Neighborhood,
    captain_view: bool,
) -> Result<Table, StoreError> {
    let ids = store.join_request_ids(neighborhood.id).await?;
    let questions = neighborhood.join_questions.clone();
    let columns = columns_with_answers(&JOIN_REQUEST_COLUMNS, &questions);
    let (store, id) = (store.clone(), neighborhood.id);
    let pages = stream::iter(chunks(ids))
        .then(move |page| {
            let store = store.clone();
            async move { store.join_requests_by_ids(id, &page).await }
        })
        .map_ok(move |requests| {
            requests
                .iter()
                .map(|request| join_request_row(request, &questions, captain_view))
                .collect()
        })
        .boxed();
    Ok(Table { columns, pages })
}

/// The message history, oldest first. It never holds phone numbers.
pub fn messages(store: &Store, neighborhood: &Neighborhood) -> Table {
    let shards: Vec<String> = neighborhood
        .shards
        .iter()
        .map(|shard| shard.conversation_sid.clone())
        .collect();
    let (store, id) = (store.clone(), neighborhood.id);
    let pages = after_cursor(move |after| {
        let (store, shards) = (store.clone(), shards.clone());
        async move {
            let page = store.messages_after(id, after.as_deref(), PAGE).await?;
            Ok(page.last().map(|last| last.id.clone()).map(|cursor| {
                let rows = page.iter().map(|m| message_row(m, &shards)).collect();
                (rows, cursor)
            }))
        }
    });
    Table {
        columns: owned(&MESSAGE_COLUMNS),
        pages,
    }
}

/// The audit log, oldest first.
pub fn audit(store: &Store, neighborhood_id: Uuid) -> Table {
    let store = store.clone();
    let pages = after_cursor(move |after| {
        let store = store.clone();
        async move {
            let page = store
                .audit_after(neighborhood_id, after.as_deref(), PAGE)
                .await?;
            Ok(page.last().map(|last| last.id.clone()).map(|cursor| {
                let rows = page.iter().map(audit_row).collect();
                (rows, cursor)
            }))
        }
    });
    Table {
        columns: owned(&AUDIT_COLUMNS),
        pages,
    }
}

/// Pages read after a cursor (a stream id) until a read comes back empty.
fn after_cursor<F, Fut>(read: F) -> BoxStream<'static, Result<Vec<Row>, StoreError>>
where
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<(Vec<Row>, String)>, StoreError>> + Send + 'static,
{
    stream::try_unfold((read, None), |(read, after)| async move {
        let page = read(after).await?;
        Ok(page.map(|(rows, last)| (rows, (read, Some(last)))))
    })
    .boxed()
}

fn chunks(ids: Vec<String>) -> Vec<Vec<String>> {
    ids.chunks(PAGE).map(<[String]>::to_vec).collect()
}

fn owned(columns: &[&str]) -> Vec<String> {
    columns.iter().map(|column| (*column).to_owned()).collect()
}

fn member_row(member: &Member, questions: &[JoinQuestion], captain_view: bool) -> Row {
    let private = |value: Option<String>| value.filter(|_| captain_view);
    let consent = member.consent.as_ref().filter(|_| captain_view);
    let mut row = vec![
        Some(member.id.to_string()),
        Some(member.display_name.as_str().to_owned()),
        private(Some(member.phone.as_str().to_owned())),
        Some(member.channel.as_str().to_owned()),
        member.language.map(|language| language.code().to_owned()),
        private(member.address.clone()),
        Some(member.role.as_str().to_owned()),
        label(&member.status),
        member.status_reason.clone(),
        rfc3339(member.joined_at),
        rfc3339(member.updated_at),
        Some(member.muted.to_string()),
        Some(
            match member.sync {
                SyncState::Done => "done",
                SyncState::Pending => "pending",
                SyncState::Failed { .. } => "failed",
            }
            .to_owned(),
        ),
        consent.and_then(|c| label(&c.channel)),
        consent.map(|c| c.evidence.text.clone()),
        consent.and_then(|c| rfc3339(c.evidence.at)),
        consent.and_then(|c| c.evidence.ip.clone()),
        consent.and_then(|c| c.evidence.message_sid.clone()),
        consent.and_then(|c| c.approved_by.clone()),
    ];
    row.extend(
        questions
            .iter()
            .map(|question| private(member.answers.get(&question.text).cloned())),
    );
    row
}

fn join_request_row(request: &JoinRequest, questions: &[JoinQuestion], captain_view: bool) -> Row {
    let private = |value: Option<String>| value.filter(|_| captain_view);
    let mut row = vec![
        Some(request.id.to_string()),
        Some(request.number.to_string()),
        Some(request.name.as_str().to_owned()),
        private(Some(request.phone.as_str().to_owned())),
        Some(request.member_channel.as_str().to_owned()),
        request.language.map(|language| language.code().to_owned()),
        private(request.address.clone()),
        label(&request.channel),
        label(&request.state),
        Some(request.consent.text.clone()),
        rfc3339(request.consent.at),
        private(request.consent.ip.clone()),
        request.consent.message_sid.clone(),
        rfc3339(request.created_at),
        request.decided_by.clone(),
        request.decided_at.and_then(rfc3339),
        request.member_id.map(|id| id.to_string()),
    ];
    row.extend(
        questions
            .iter()
            .map(|question| private(request.answers.get(&question.text).cloned())),
    );
    row
}

fn message_row(message: &StoredMessage, shards: &[String]) -> Row {
    let entry = &message.entry;
    let shard = shards
        .iter()
        .position(|sid| *sid == entry.conversation_sid)
        .map(|index| (index + 1).to_string());
    vec![
        Some(message.id.clone()),
        Some(entry.at.clone()),
        Some(entry.message_sid.clone()),
        entry.member_id.map(|id| id.to_string()),
        Some(entry.sender_name.clone()),
        Some(entry.body.clone()),
        shard,
        media_cell(&entry.media),
    ]
}

/// A message's pictures as `image/jpeg 48000; image/png 1200` (type and bytes, in the order
/// sent); none when it has none. Their SIDs stay out: a picture is read through the service
/// (`GET .../media/{media_sid}`), and an export is read by people and spreadsheets.
fn media_cell(media: &[MediaItem]) -> Option<String> {
    (!media.is_empty()).then(|| {
        media
            .iter()
            .map(|item| format!("{} {}", item.content_type, item.size))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn audit_row(record: &AuditRecord) -> Row {
    let entry = &record.entry;
    vec![
        Some(record.id.clone()),
        Some(entry.at.clone()),
        Some(entry.actor.clone()),
        Some(entry.action.clone()),
        Some(entry.target.clone()),
        Some(entry.source.clone()),
        Some(entry.detail.to_string()),
    ]
}

/// An enum's wire name (`opted_out`), as the API spells it.
fn label<T: Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => Some(text),
        _ => None,
    }
}

fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.format(&Rfc3339).ok()
}

/// The file's bytes: the header (or `[`), then one chunk per page, then `]` for JSON. A Redis
/// failure midway ends the stream with an error, so the client sees a broken download rather
/// than a short file that looks whole.
pub fn encode(table: Table, format: ExportFormat) -> BoxStream<'static, io::Result<Vec<u8>>> {
    let Table { columns, pages } = table;
    let head = match format {
        ExportFormat::Csv => csv_chunk(std::iter::once(columns.iter().map(|c| Some(c.as_str())))),
        ExportFormat::Json => b"[".to_vec(),
    };
    let mut first = true;
    let body = pages.map(move |page| match page {
        Ok(rows) => Ok(match format {
            ExportFormat::Csv => csv_chunk(
                rows.iter()
                    .map(|row| row.iter().map(|value| value.as_deref())),
            ),
            ExportFormat::Json => json_chunk(&columns, &rows, &mut first),
        }),
        Err(error) => {
            tracing::warn!(%error, "export broke off");
            Err(io::Error::other(error))
        }
    });
    let tail = match format {
        ExportFormat::Csv => None,
        ExportFormat::Json => Some(Ok(b"]\n".to_vec())),
    };
    stream::once(async move { Ok(head) })
        .chain(body)
        .chain(stream::iter(tail))
        .boxed()
}

fn csv_chunk<'a, R, C>(rows: R) -> Vec<u8>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = Option<&'a str>>,
{
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        let cells: Vec<_> = row
            .into_iter()
            .map(|value| spreadsheet_safe(value.unwrap_or_default()))
            .collect();
        // Writing into a Vec cannot fail.
        let _ = writer.write_record(cells.iter().map(|cell| cell.as_bytes()));
    }
    writer.into_inner().unwrap_or_default()
}

fn json_chunk(columns: &[String], rows: &[Row], first: &mut bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 256);
    for row in rows {
        if !std::mem::take(first) {
            out.push(b',');
        }
        out.extend_from_slice(b"\n{");
        for (index, (column, value)) in columns.iter().zip(row).enumerate() {
            if index > 0 {
                out.push(b',');
            }
            // Strings and options of strings always serialize.
            let _ = serde_json::to_writer(&mut out, column);
            out.push(b':');
            let _ = serde_json::to_writer(&mut out, value);
        }
        out.push(b'}');
    }
    out
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and messages and
/// names come from anyone who texts the number: such a cell gets a leading `'` (OWASP's advice),
/// which the import takes off again. Numbers (`+15551234567`, `-3`) are left as they are.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = match cell.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !cell[1..].bytes().all(|b| b.is_ascii_digit()) || cell.len() == 1,
        _ => false,
    };
    if risky {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Undoes [`spreadsheet_safe`] for a cell read back by the import.
pub fn from_spreadsheet_safe(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if spreadsheet_safe(rest).len() > rest.len() => rest,
        _ => cell,
    }
}

/// The download's file name: `elm-street-members-2026-11-21.csv`.
pub fn file_name(neighborhood: &Neighborhood, what: &str, format: ExportFormat) -> String {
    let date = OffsetDateTime::now_utc().date();
    format!(
        "{}-{what}-{date}.{}",
        neighborhood.slug.as_str(),
        format.extension()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_and_read_back_unchanged() {
        for (cell, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-Bob-", "'-Bob-"),
            ("+", "'+"),
            ("+15551234567", "+15551234567"),
            ("-3", "-3"),
            ("Ana", "Ana"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), written, "{cell}");
            assert_eq!(from_spreadsheet_safe(written), cell, "{written}");
        }
        assert_eq!(from_spreadsheet_safe("'quoted'"), "'quoted'");
    }

    #[test]
    fn a_messages_pictures_are_listed_by_type_and_size() {
        let item = |content_type: &str, size| MediaItem {
            sid: "ME1".into(),
            content_type: content_type.into(),
            filename: Some("dog.jpg".into()),
            size,
        };
        assert_eq!(media_cell(&[]), None);
        assert_eq!(
            media_cell(&[item("image/jpeg", 48_000)]).as_deref(),
            Some("image/jpeg 48000")
        );
        assert_eq!(
            media_cell(&[item("image/jpeg", 48_000), item("image/png", 1_200)]).as_deref(),
            Some("image/jpeg 48000; image/png 1200")
        );
    }

    #[test]
    fn csv_and_json_chunks_carry_the_same_cells() {
        let columns = owned(&["a", "b"]);
        let rows: Vec<Row> = vec![
            vec![Some("x, y".into()), None],
            vec![Some("line\nbreak".into()), Some("\"q\"".into())],
        ];
        let csv = csv_chunk(rows.iter().map(|r| r.iter().map(|v| v.as_deref())));
        assert_eq!(
            std::str::from_utf8(&csv).unwrap(),
            "\"x, y\",\n\"line\nbreak\",\"\"\"q\"\"\"\n"
        );
        let mut first = true;
        let json = json_chunk(&columns, &rows, &mut first);
        let parsed: Vec<serde_json::Value> =
            serde_json::from_str(&format!("[{}]", std::str::from_utf8(&json).unwrap())).unwrap();
        assert_eq!(parsed[0]["a"], "x, y");
        assert!(parsed[0]["b"].is_null());
        assert_eq!(parsed[1]["b"], "\"q\"");
    }
}
