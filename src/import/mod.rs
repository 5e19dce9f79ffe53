//! CSV import of neighbors, as a captain exports them from a spreadsheet: a header row naming
//! `name`, `phone`, `address` and join questions, then one person per row. Each phone is one
//! person: a phone already stored updates that member or open join request (see `plan` for the
//! rules), a new one becomes a join request or, with the captain's attested consent, a member.
//!
//! The upload is parsed as it arrives and handled in batches of [`BATCH`] rows: each batch is
//! read from Redis in a few round trips and written in one script, so a file of tens of
//! thousands of rows holds one batch in memory, plus the phones seen so far (to catch a phone
//! twice in the file) and the members' names (to keep them unique). A dry run reads and
//! decides exactly as the real run does, and writes nothing.

pub mod columns;
pub mod plan;

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use csv_async::{AsyncReaderBuilder, ByteRecord, Trim};
use futures::StreamExt;
use poem_openapi::{Enum, Object};
use tokio::io::{AsyncRead, AsyncReadExt};
use uuid::Uuid;

use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;
use crate::services::additions::{self, Adder, Reserved};
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::import::ImportWrite;
use crate::store::member_changes::write_in_rounds;
use crate::store::{Store, StoreError};
use columns::{Candidate, ColumnWarning, Columns, Refusal};
use plan::{Change, Context, Names, Record};

/// The largest upload taken: some 100,000 rows of a typical sheet.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;
/// The most data rows one import takes; split larger files.
pub const MAX_ROWS: u32 = 20_000;
/// Rows read, decided and written together.
pub const BATCH: usize = 500;
/// Rows listed in a report; the counts always cover every row.
pub const MAX_LISTED: usize = 1_000;

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Decide and report only; write nothing.
    pub dry_run: bool,
    /// The captain attests that the new people in the file agreed to the group's texts: they
    /// become members rather than join requests.
    pub attest_consent: bool,
    /// Who imports, as the audit log names them.
    pub actor: String,
    /// Where from.
    pub ip: String,
    /// Whether a captain imports (their new members count against the day's additions) or a
    /// platform admin.
    pub adder: Adder,
    /// Whether the import is its own entry in the audit log (`members.import`); the spreadsheet
    /// hub audits each sync as one entry of its own instead.
    pub audited: bool,
}

/// What an import did, or in a dry run would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Object)]
pub struct ImportReport {
    /// True when nothing was changed: the report says what `dry_run=false` will do.
    pub dry_run: bool,
    /// Whether new people become members (consent attested) rather than join requests.
    pub attest_consent: bool,
    /// Data rows read (blank rows are skipped and not counted).
    pub rows: u32,
    /// New join requests, or new members when consent is attested.
    pub added: u32,
    /// Members or open join requests whose name, address or answers changed.
    pub updated: u32,
    /// Rows that match what is stored already.
    pub unchanged: u32,
    /// Rows not imported; `details` says why.
    pub rejected: u32,
    /// Of `rejected`, new members past today's additions (`NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD`):
    /// the same rows are taken on a later day.
    pub held_back: u32,
    /// In file order, every row added, updated or rejected, and unchanged rows with a note; at
    /// most 1,000 (see `details_truncated`).
    pub details: Vec<RowReport>,
    /// True when more rows than `details` holds were added, updated or rejected.
    pub details_truncated: bool,
    /// Columns the import did not read.
    pub warnings: Vec<ColumnWarning>,
}

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum RowOutcome {
    /// A new join request, or a new member when consent is attested.
    Added,
    /// An existing member or open join request got the row's name, address or answers.
    Updated,
    /// The row matches what is stored.
    Unchanged,
    /// Not imported; `reason` says why.
    Rejected,
}

/// One row of the file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RowReport {
    /// The row number a spreadsheet shows: the header is row 1, the first person row 2.
    pub row: u32,
    pub outcome: RowOutcome,
    /// The phone in E.164, when the row's could be read.
    pub phone: Option<String>,
    /// What the row is or becomes: a `member` or a `join_request`.
    pub record: Option<Record>,
    /// What an update changes: `name`, `address`, `answers`.
    pub changed: Vec<String>,
    /// Why the row was rejected, or why an unchanged row stays out of the group.
    pub reason: Option<String>,
}

/// Which limit an upload went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Bytes,
    Rows,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The header row cannot be imported: (field, message) pairs.
    #[error("the header row cannot be imported")]
    Header(columns::HeaderProblems),
    /// Past a limit. In a real run the batches before it were written: `report` says what
    /// they did and `imported_through` the last row they held.
    #[error("the upload is past the {limit:?} limit")]
    TooLarge {
        limit: Limit,
        imported_through: Option<u32>,
        report: Box<ImportReport>,
    },
    /// Redis failed (down, or full) during a real run. The rows up to `imported_through` were
    /// written; the rows of `in_doubt` (first, last) were being written and may be partly;
    /// none after. Running the same file again finishes it.
    #[error("the import stopped: {cause}")]
    Interrupted {
        cause: StoreError,
        imported_through: Option<u32>,
        in_doubt: Option<(u32, u32)>,
        report: Box<ImportReport>,
    },
    /// The upload broke off (the client went away, or sent something that is not a file).
    #[error("the upload could not be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The request body as a reader that fails once it has given more than [`MAX_BYTES`], so an
/// oversized upload is refused as it streams in, whatever it declared.
pub fn body_reader(body: poem::Body) -> impl AsyncRead + Send + Unpin + 'static {
    let mut seen = 0u64;
    let chunks = body.into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > MAX_BYTES {
            Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "upload too large",
            ))
        } else {
            Ok(chunk)
        }
    });
    tokio_util::io::StreamReader::new(chunks)
}

/// Drops a UTF-8 byte-order mark (Excel's "CSV UTF-8" starts with one) before the CSV parser
/// sees it, so the first header reads `name`, not `\u{feff}name`.
async fn without_bom(
    mut body: impl AsyncRead + Send + Unpin,
) -> io::Result<impl AsyncRead + Send + Unpin> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut start = Vec::with_capacity(BOM.len());
    while start.len() < BOM.len() {
        let wanted = (BOM.len() - start.len()) as u64;
        if (&mut body).take(wanted).read_to_end(&mut start).await? == 0 {
            break;
        }
    }
    if start == BOM {
        start.clear();
    }
    Ok(io::Cursor::new(start).chain(body))
}

/// A row on its way through a batch: readable, or refused already (kept so the report stays in
/// file order).
enum Entry {
    Read(Candidate),
    Refused { row: u32, refusal: Refusal },
}

impl Entry {
    fn row(&self) -> u32 {
        match self {
            Self::Read(candidate) => candidate.row,
            Self::Refused { row, .. } => *row,
        }
    }
}

/// Imports the CSV in `body` into `neighborhood` (which the caller checked is active). A real
/// run that wrote anything is audited once, with its counts, even when it stopped early.
pub async fn run(
    state: &AppState,
    neighborhood: &Neighborhood,
    body: impl AsyncRead + Send + Unpin,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let body = without_bom(body).await.map_err(read_error)?;
    let mut reader = AsyncReaderBuilder::new()
        .flexible(true)
        .trim(Trim::All)
        .create_reader(body);
    let headers: Vec<String> = reader
        .byte_headers()
        .await
        .map_err(csv_error)?
        .iter()
        .map(|header| String::from_utf8_lossy(header).into_owned())
        .collect();
    let (columns, warnings) = Columns::from_header(&headers, &neighborhood.join_questions)
        .map_err(ImportError::Header)?;
    let mut import = Import {
        state,
        neighborhood,
        options,
        names: Names::new(state.store.member_names(neighborhood.id).await?),
        report: ImportReport {
            dry_run: options.dry_run,
            attest_consent: options.attest_consent,
            warnings,
            ..ImportReport::default()
        },
        imported_through: None,
        in_doubt: None,
    };
    let outcome = import.read_rows(&mut reader, &columns).await;
    if import.imported_through.is_some() && options.audited {
        import.audit(outcome.is_ok()).await;
    }
    match outcome {
        Ok(()) => Ok(import.report),
        Err(error) => Err(import.stopped(error)),
    }
}

fn too_large(limit: Limit) -> ImportError {
    ImportError::TooLarge {
        limit,
        imported_through: None,
        report: Box::default(),
    }
}

fn read_error(error: io::Error) -> ImportError {
    if error.kind() == io::ErrorKind::FileTooLarge {
        too_large(Limit::Bytes)
    } else {
        ImportError::Unreadable(error.to_string())
    }
}

fn csv_error(error: csv_async::Error) -> ImportError {
    match error.into_kind() {
        csv_async::ErrorKind::Io(error) => read_error(error),
        other => ImportError::Unreadable(format!("{other:?}")),
    }
}

/// One import under way.
struct Import<'a> {
    state: &'a AppState,
    neighborhood: &'a Neighborhood,
    options: &'a ImportOptions,
    names: Names,
    report: ImportReport,
    /// The last row of the last batch written (real runs).
    imported_through: Option<u32>,
    /// The first and last rows of the batch being written (real runs), until it is.
    in_doubt: Option<(u32, u32)>,
}

impl Import<'_> {
    /// Reads, decides and (unless a dry run) writes every row, a batch at a time.
    async fn read_rows<R>(
        &mut self,
        reader: &mut csv_async::AsyncReader<R>,
        columns: &Columns,
    ) -> Result<(), ImportError>
    where
        R: AsyncRead + Send + Unpin,
    {
        // The first row of each phone: a phone twice in the file is one person listed twice.
        let mut first_row_of: HashMap<Phone, u32> = HashMap::new();
        let mut batch: Vec<Entry> = Vec::with_capacity(BATCH);
        let mut record = ByteRecord::new();
        let mut row = 1u32;
        while reader
            .read_byte_record(&mut record)
            .await
            .map_err(csv_error)?
        {
            row += 1;
            if record.iter().all(<[u8]>::is_empty) {
                continue;
            }
            self.report.rows += 1;
            if self.report.rows > MAX_ROWS {
                return Err(too_large(Limit::Rows));
            }
            let entry = match record
                .iter()
                .map(std::str::from_utf8)
                .collect::<Result<Vec<&str>, _>>()
            {
                Err(_) => Entry::Refused {
                    row,
                    refusal: Refusal {
                        phone: None,
                        reason: "Not UTF-8 text: save the sheet as \"CSV UTF-8\".".to_owned(),
                    },
                },
                Ok(cells) => match columns.candidate(row, &cells) {
                    Err(refusal) => Entry::Refused { row, refusal },
                    // A phone outside `NT_SMS_COUNTRIES` could never be texted: refused here,
                    // so a spreadsheet cannot fill the group with premium-rate numbers.
                    Ok(candidate)
                        if !crate::services::sending::country_allowed(
                            self.state,
                            &candidate.phone,
                        ) =>
                    {
                        Entry::Refused {
                            row,
                            refusal: Refusal {
                                reason: crate::services::sending::country_refusal(
                                    self.state,
                                    crate::i18n::Language::ENGLISH,
                                ),
                                phone: Some(candidate.phone),
                            },
                        }
                    }
                    Ok(candidate) => match first_row_of.get(&candidate.phone) {
                        Some(first) => Entry::Refused {
                            row,
                            refusal: Refusal {
                                phone: Some(candidate.phone),
                                reason: format!(
                                    "Same phone as row {first}: only the first row of a phone is imported."
                                ),
                            },
                        },
                        None => {
                            first_row_of.insert(candidate.phone.clone(), row);
                            Entry::Read(candidate)
                        }
                    },
                },
            };
            batch.push(entry);
            if batch.len() == BATCH {
                self.apply(std::mem::take(&mut batch)).await?;
            }
        }
        Ok(self.apply(batch).await?)
    }

    /// One audit entry for the whole import, with its counts.
    async fn audit(&self, completed: bool) {
        let report = &self.report;
        let detail = serde_json::json!({
            "rows": report.rows,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
            "attest_consent": report.attest_consent,
            "completed": completed,
        });
        let entry = AuditEntry::now(
            self.options.actor.clone(),
            "members.import",
            format!("neighborhood:{}", self.neighborhood.id),
            format!("ip:{}", self.options.ip),
            detail,
        );
        self.state
            .store
            .record_audit(Some(self.neighborhood.id), &entry)
            .await;
    }

    /// Ends the import with `error`, saying what was written before it.
    fn stopped(self, error: ImportError) -> ImportError {
        match error {
            ImportError::TooLarge { limit, .. } => ImportError::TooLarge {
                limit,
                imported_through: self.imported_through,
                report: Box::new(self.report),
            },
            ImportError::Store(cause) if cause.is_transient() && !self.options.dry_run => {
                ImportError::Interrupted {
                    cause,
                    imported_through: self.imported_through,
                    in_doubt: self.in_doubt,
                    report: Box::new(self.report),
                }
            }
            other => other,
        }
    }

    /// Decides a batch against what is stored and, unless this is a dry run, writes it; then
    /// reports its rows in file order.
    async fn apply(&mut self, batch: Vec<Entry>) -> Result<(), StoreError> {
        let (Some(first_row), Some(last_row)) =
            (batch.first().map(Entry::row), batch.last().map(Entry::row))
        else {
            return Ok(());
        };
        // Set just before the batch's first write: a failure before it left the batch unwritten.
        let writing = &AtomicBool::new(false);
        let store = &self.state.store;
        let neighborhood_id = self.neighborhood.id;
        let mut outcomes: Vec<Option<RowReport>> = vec![None; batch.len()];
        let mut pending: Vec<usize> = Vec::new();
        for (index, entry) in batch.iter().enumerate() {
            match entry {
                Entry::Read(_) => pending.push(index),
                Entry::Refused { row, refusal } => {
                    outcomes[index] = Some(RowReport {
                        row: *row,
                        outcome: RowOutcome::Rejected,
                        phone: refusal.phone.as_ref().map(|p| p.as_str().to_owned()),
                        record: None,
                        changed: Vec::new(),
                        reason: Some(refusal.reason.clone()),
                    });
                }
            }
        }
        let candidate = |index: usize| match &batch[index] {
            Entry::Read(candidate) => Some(candidate),
            Entry::Refused { .. } => None,
        };
        let (state, neighborhood, options) = (self.state, self.neighborhood, &self.options);
        let names = std::mem::take(&mut self.names);
        let round = |(mut names, mut outcomes): (Names, Vec<Option<RowReport>>),
                     rows: Vec<usize>| async move {
            let read: Vec<&Candidate> = rows.iter().filter_map(|&i| candidate(i)).collect();
            let phones: Vec<&Phone> = read.iter().map(|c| &c.phone).collect();
            let stored = store.stored_for_phones(neighborhood_id, &phones).await?;
            let context = Context {
                neighborhood,
                attest_consent: options.attest_consent,
                actor: &options.actor,
                ip: &options.ip,
                // To the second, as members' times are stored (see `domain::stored_time`).
                now: crate::domain::stored_time::now_to_the_second(),
            };
            let mut changes: Vec<Change> = read
                .iter()
                .zip(stored)
                .map(|(candidate, stored)| plan::plan(candidate, stored, &mut names, &context))
                .collect();
            let reserved =
                hold_back_over_the_day(state, neighborhood_id, options, &mut changes).await?;
            let made = if options.dry_run {
                vec![true; changes.len()]
            } else {
                writing.store(true, Ordering::Relaxed);
                // On a failure the batch may be partly written: its additions stay counted, on
                // the safe side of the cap.
                write(&state.store, neighborhood_id, &mut changes).await?
            };
            let unmade = changes
                .iter()
                .zip(&made)
                .filter(|(change, made)| matches!(change, Change::AddMember { .. }) && !**made)
                .count() as u64;
            reserved.release(state, unmade).await;
            for ((index, change), made) in rows.iter().zip(&changes).zip(&made) {
                if *made {
                    outcomes[*index] = candidate(*index).map(|c| report_of(c, change));
                }
            }
            Ok::<_, StoreError>(((names, outcomes), made))
        };
        let ((names, written), pending) =
            match write_in_rounds((names, outcomes), pending, round).await {
                Ok(done) => done,
                Err(error) => {
                    if writing.load(Ordering::Relaxed) {
                        self.in_doubt = Some((first_row, last_row));
                    }
                    return Err(error);
                }
            };
        self.names = names;
        let mut outcomes = written;
        for index in pending {
            // Someone kept changing these phones while we wrote: nothing of them was written.
            outcomes[index] = candidate(index).map(|c| RowReport {
                row: c.row,
                outcome: RowOutcome::Rejected,
                phone: Some(c.phone.as_str().to_owned()),
                record: None,
                changed: Vec::new(),
                reason: Some("Changed by someone else during the import: import it again.".into()),
            });
        }
        for outcome in outcomes.into_iter().flatten() {
            self.count(outcome);
        }
        if !self.options.dry_run {
            self.imported_through = Some(last_row);
        }
        Ok(())
    }

    fn count(&mut self, outcome: RowReport) {
        let report = &mut self.report;
        *match outcome.outcome {
            RowOutcome::Added => &mut report.added,
            RowOutcome::Updated => &mut report.updated,
            RowOutcome::Unchanged => &mut report.unchanged,
            RowOutcome::Rejected => &mut report.rejected,
        } += 1;
        if outcome
            .reason
            .as_deref()
            .is_some_and(|reason| reason.starts_with(OVER_THE_DAY))
        {
            report.held_back += 1;
        }
        let listed = outcome.outcome != RowOutcome::Unchanged || outcome.reason.is_some();
        if !listed {
            return;
        }
        if report.details.len() < MAX_LISTED {
            report.details.push(outcome);
        } else {
            report.details_truncated = true;
        }
    }
}

/// Turns the new members past what the importer may add today into rejected rows (finding 12:
/// see `services::additions`); the rest are reserved, and given back if not written.
async fn hold_back_over_the_day(
    state: &AppState,
    neighborhood_id: Uuid,
    options: &ImportOptions,
    changes: &mut [Change],
) -> Result<Reserved, StoreError> {
    let wanted = changes
        .iter()
        .filter(|c| matches!(c, Change::AddMember { .. }))
        .count() as u64;
    let reserved = additions::reserve_up_to(
        state,
        neighborhood_id,
        wanted,
        options.adder,
        options.dry_run,
    )
    .await?;
    let mut granted = reserved.granted(wanted);
    for change in changes.iter_mut() {
        if matches!(change, Change::AddMember { .. }) {
            if granted == 0 {
                *change = Change::Rejected {
                    reason: over_the_day(state.settings.daily_additions_per_neighborhood),
                };
            } else {
                granted -= 1;
            }
        }
    }
    Ok(reserved)
}

/// How a row held back by the day's additions is told, and known.
const OVER_THE_DAY: &str = "Past today's additions";

fn over_the_day(cap: u64) -> String {
    format!(
        "{OVER_THE_DAY}: captains may add {cap} people a day who did not ask to join themselves (NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD). Import this row again tomorrow, or ask a platform admin to."
    )
}

/// The store write a change needs, if any.
fn write_of(change: &Change) -> Option<ImportWrite<'_>> {
    Some(match change {
        Change::AddMember { member, effects } => ImportWrite::NewMember { member, effects },
        Change::AddRequest(request) => ImportWrite::NewRequest(request),
        Change::UpdateMember { before, after, .. } => ImportWrite::Member { before, after },
        Change::UpdateRequest { before, after, .. } => ImportWrite::Request { before, after },
        Change::Unchanged { .. } | Change::Rejected { .. } => return None,
    })
}

/// Writes the batch's changes (numbering new requests first); answers which were made.
async fn write(store: &Store, id: Uuid, changes: &mut [Change]) -> Result<Vec<bool>, StoreError> {
    let new_requests = changes
        .iter()
        .filter(|c| matches!(c, Change::AddRequest(_)))
        .count() as u64;
    if new_requests > 0 {
        let mut number = store.reserve_join_request_numbers(id, new_requests).await?;
        for change in changes.iter_mut() {
            if let Change::AddRequest(request) = change {
                request.number = number;
                number += 1;
            }
        }
    }
    let writes: Vec<(usize, ImportWrite)> = changes
        .iter()
        .enumerate()
        .filter_map(|(index, change)| Some((index, write_of(change)?)))
        .collect();
    let to_write: Vec<ImportWrite> = writes.iter().map(|(_, write)| *write).collect();
    let written = store.write_import_batch(id, &to_write).await?;
    let mut made = vec![true; changes.len()];
    for ((index, _), written) in writes.iter().zip(written) {
        made[*index] = written;
    }
    Ok(made)
}

fn report_of(candidate: &Candidate, change: &Change) -> RowReport {
    let (outcome, record, changed, reason) = match change {
        Change::AddMember { .. } => (RowOutcome::Added, Some(Record::Member), &[][..], None),
        Change::AddRequest(_) => (RowOutcome::Added, Some(Record::JoinRequest), &[][..], None),
        Change::UpdateMember { changed, .. } => (
            RowOutcome::Updated,
            Some(Record::Member),
            &changed[..],
            None,
        ),
        Change::UpdateRequest { changed, .. } => (
            RowOutcome::Updated,
            Some(Record::JoinRequest),
            &changed[..],
            None,
        ),
        Change::Unchanged { record, note } => {
            (RowOutcome::Unchanged, Some(*record), &[][..], note.clone())
        }
        Change::Rejected { reason } => (RowOutcome::Rejected, None, &[][..], Some(reason.clone())),
    };
    RowReport {
        row: candidate.row,
        outcome,
        phone: Some(candidate.phone.as_str().to_owned()),
        record,
        changed: changed.iter().map(|field| (*field).to_owned()).collect(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_past_the_byte_limit_fails_as_it_streams_in() {
        const MIB: usize = 1024 * 1024;
        let chunks = (0..=MAX_BYTES as usize / MIB).map(|_| Ok::<_, io::Error>(vec![b'x'; MIB]));
        let body = poem::Body::from_bytes_stream(futures::stream::iter(chunks));
        let mut read = Vec::new();
        let error = body_reader(body)
            .read_to_end(&mut read)
            .await
            .expect_err("too large");
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        assert!(read.len() as u64 <= MAX_BYTES);
    }

    #[tokio::test]
    async fn a_byte_order_mark_is_dropped_and_short_files_are_kept_whole() {
        for (input, expected) in [
            (&b"\xEF\xBB\xBFname,phone"[..], &b"name,phone"[..]),
            (b"\xEF\xBBname", b"\xEF\xBBname"),
            (b"na", b"na"),
            (b"", b""),
        ] {
            let mut read = Vec::new();
            without_bom(input)
                .await
                .expect("readable")
                .read_to_end(&mut read)
                .await
                .expect("readable");
            assert_eq!(read, expected);
        }
    }
}
