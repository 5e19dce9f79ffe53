//! The spreadsheet hub (issue 27): a captain connects a Google account (`consent`), picks a
//! sheet, previews it as the CSV import's dry run, syncs it once, and from then on it is synced
//! every few minutes. Each sync reads the sheet in one request (`reading`); a sheet unchanged
//! since the last sync ends there. A changed roster goes through the CSV import whole, so its
//! header rules and its upsert by phone are the hub's too: new rows become join requests (or
//! members, when the captain attested consent), changed rows update, and rows gone from the sheet
//! are reported, never removed. A Google Form's responses are filed one by one (`form`).
//!
//! One instance syncs a neighborhood at a time (a lease in Redis). A refusal that needs a captain
//! (access revoked, the sheet no longer shared or gone, a tab renamed, an unreadable header)
//! pauses syncing and texts the captains once; Google's quota and outages are retried later,
//! further apart each time.

mod consent;
mod form;
mod reading;

use consent::revoke;
pub use consent::{ConsentRefusal, connect, consent_neighborhood, finish_consent, redirect_uri};
use reading::read_sheet;

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::clock::unix_ms;
use crate::domain::neighborhood::Neighborhood;
use crate::domain::sheet_hub::{
    Connection, HubConfig, HubMode, LastSync, MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES, Problem,
    ProblemCode, SheetHub, SyncCounts, SyncState, SyncTrigger,
};
use crate::google::GoogleAccess;
use crate::google::sheets::SpreadsheetId;
use crate::import::columns::Columns;
use crate::import::{self, ImportError, ImportOptions, ImportReport};
use crate::services::additions::Adder;
use crate::services::neighborhoods::{self, NeighborhoodError};
use crate::services::texts;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::AuditEntry;

/// A sync holds its lease this long at most (reading a sheet is bounded at 30 s by the client,
/// and the import of 20,000 rows takes seconds).
const LEASE_TTL: Duration = Duration::from_secs(5 * 60);
/// Phones gone from the sheet listed in a sync's report (all are counted).
const REMOVED_LISTED: usize = 100;
/// Failures in a row (1, 2, 4 ... 32 minutes apart: about an hour) after which the captains are
/// told that Google keeps failing.
const STILL_FAILING: u32 = 6;
/// The longest wait between tries while Google is failing.
const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);
const MAX_RANGE_CHARS: usize = 200;
const MAX_QUESTION_CHARS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("the operator has not set up Google")]
    Unavailable,
    #[error("no Google account is connected")]
    NotConnected,
    #[error("choose a spreadsheet and save first")]
    NotConfigured,
    #[error("spreadsheet: {0}")]
    Spreadsheet(String),
    #[error("range: {0}")]
    Range(String),
    #[error("interval_minutes: from {MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES}")]
    Interval,
    #[error("attest_consent: a form's responses become join requests")]
    AttestInFormMode,
    #[error("consent_question: a form's consent question, as it heads its column")]
    ConsentQuestion,
    #[error("another sync of this sheet is under way")]
    Busy,
    /// Google or the sheet refused (a preview; a sync records it instead).
    #[error("{}", .0.message)]
    Refused(Failure),
    /// Sealing a token failed, which AES-GCM does only for absurd lengths.
    #[error("a Google token could not be sealed: {0}")]
    Seal(#[from] crate::google::crypto::CryptoError),
    #[error(transparent)]
    Neighborhood(#[from] NeighborhoodError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why reading the sheet failed.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: ProblemCode,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl Failure {
    fn new(code: ProblemCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }
}

pub(super) fn google(state: &AppState) -> Result<&GoogleAccess, HubError> {
    state.google.as_deref().ok_or(HubError::Unavailable)
}

/// What a captain asks to sync.
pub struct NewConfig {
    pub spreadsheet: String,
    pub range: String,
    pub mode: HubMode,
    pub attest_consent: bool,
    /// Form mode: the consent question, as it heads its column.
    pub consent_question: Option<String>,
    pub interval_minutes: Option<u32>,
}

/// Saves what to sync. Syncing on schedule starts once a captain has synced this configuration
/// (after its preview); a pause ends with it.
pub async fn configure(
    state: &AppState,
    neighborhood_id: Uuid,
    new: NewConfig,
    actor: &str,
) -> Result<SheetHub, HubError> {
    google(state)?;
    let spreadsheet = SpreadsheetId::parse(&new.spreadsheet)
        .map_err(|why| HubError::Spreadsheet(why.to_string()))?;
    let range = new.range.trim().to_owned();
    if range.is_empty()
        || range.chars().count() > MAX_RANGE_CHARS
        || range.chars().any(char::is_control)
    {
        return Err(HubError::Range(format!(
            "Name the sheet (tab) as it is spelled, like Sheet1 or 'Form Responses 1', in at most {MAX_RANGE_CHARS} characters."
        )));
    }
    let interval_minutes = new
        .interval_minutes
        .unwrap_or(crate::domain::sheet_hub::DEFAULT_INTERVAL_MINUTES);
    if !(MIN_INTERVAL_MINUTES..=MAX_INTERVAL_MINUTES).contains(&interval_minutes) {
        return Err(HubError::Interval);
    }
    if new.mode == HubMode::Form && new.attest_consent {
        return Err(HubError::AttestInFormMode);
    }
    let consent_question = match new.mode {
        HubMode::Roster => None,
        HubMode::Form => Some(
            new.consent_question
                .map(|question| question.trim().to_owned())
                .filter(|question| {
                    !question.is_empty() && question.chars().count() <= MAX_QUESTION_CHARS
                })
                .ok_or(HubError::ConsentQuestion)?,
        ),
    };
    let mut hub = state.store.sheet_hub(neighborhood_id).await?;
    if hub.connection.is_none() {
        return Err(HubError::NotConnected);
    }
    let config = HubConfig {
        spreadsheet: spreadsheet.as_str().to_owned(),
        range,
        mode: new.mode,
        attest_consent: new.attest_consent,
        consent_question,
        interval_minutes,
        saved_by: actor.to_owned(),
        saved_at: OffsetDateTime::now_utc(),
    };
    state
        .store
        .save_sheet_hub_config(neighborhood_id, &config)
        .await?;
    hub.config = Some(config);
    Ok(hub)
}

/// The sheet as the import would take it now, changing nothing.
pub async fn preview(state: &AppState, neighborhood_id: Uuid) -> Result<ImportReport, HubError> {
    let google = google(state)?;
    let neighborhood = neighborhoods::active(state, neighborhood_id).await?;
    let hub = state.store.sheet_hub(neighborhood_id).await?;
    let (connection, config) = configured(&hub)?;
    let rows = read_sheet(state, google, neighborhood_id, connection, config)
        .await
        .map_err(HubError::Refused)?;
    match take_rows(state, &neighborhood, config, &config.saved_by, &rows, true).await {
        Ok(report) => Ok(report),
        Err(Ok(failure)) => Err(HubError::Refused(failure)),
        Err(Err(error)) => Err(HubError::Store(error)),
    }
}

/// Takes the sheet's rows as the mode says: through the import (a roster), or as a form's
/// responses; a `dry_run` changes nothing. An error is the sheet's fault, or Redis's.
async fn take_rows(
    state: &AppState,
    neighborhood: &Neighborhood,
    config: &HubConfig,
    actor: &str,
    rows: &[Vec<String>],
    dry_run: bool,
) -> Result<ImportReport, Result<Failure, StoreError>> {
    match (config.mode, config.consent_question.as_deref()) {
        (HubMode::Form, Some(question)) => {
            let seen: HashSet<String> = state
                .store
                .sheet_hub_responses(neighborhood.id)
                .await
                .map_err(Err)?
                .into_iter()
                .collect();
            let pass = form::run(state, neighborhood, rows, question, &seen, dry_run).await?;
            if !dry_run {
                state
                    .store
                    .save_sheet_hub_responses(neighborhood.id, &pass.responses)
                    .await
                    .map_err(Err)?;
            }
            Ok(pass.report)
        }
        _ => {
            let options = import_options(config, actor, dry_run);
            import::run(state, neighborhood, csv_of(rows).as_slice(), &options)
                .await
                .map_err(import_failure)
        }
    }
}

fn configured(hub: &SheetHub) -> Result<(&Connection, &HubConfig), HubError> {
    let connection = hub.connection.as_ref().ok_or(HubError::NotConnected)?;
    let config = hub.config.as_ref().ok_or(HubError::NotConfigured)?;
    Ok((connection, config))
}

fn import_options(config: &HubConfig, actor: &str, dry_run: bool) -> ImportOptions {
    ImportOptions {
        dry_run,
        attest_consent: config.mode == HubMode::Roster && config.attest_consent,
        actor: actor.to_owned(),
        ip: "google-sheets".to_owned(),
        adder: Adder::Captain,
        audited: false,
    }
}

/// An import that could not run, as the hub tells it; a store failure stays one.
fn import_failure(error: ImportError) -> Result<Failure, StoreError> {
    match error {
        ImportError::Header(problems) => Ok(Failure::new(
            ProblemCode::Header,
            problems
                .into_iter()
                .map(|(_, message)| message)
                .collect::<Vec<_>>()
                .join(" "),
        )),
        ImportError::TooLarge { .. } => Ok(Failure::new(
            ProblemCode::Header,
            format!(
                "The sheet has more than {} rows: choose a smaller range.",
                import::MAX_ROWS
            ),
        )),
        ImportError::Unreadable(why) => Ok(Failure::new(ProblemCode::Header, why)),
        ImportError::Interrupted { cause, .. } | ImportError::Store(cause) => Err(cause),
    }
}

/// The rows as the CSV the import reads: the first row is the header.
fn csv_of(rows: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail.
        let _ = writer.write_record(row);
    }
    writer.into_inner().unwrap_or_default()
}

/// The phones (E.164) of the rows the import can read, in sheet order.
fn phones_of(rows: &[Vec<String>], neighborhood: &Neighborhood) -> Vec<String> {
    let Some((header, people)) = rows.split_first() else {
        return Vec::new();
    };
    let Ok((columns, _)) = Columns::from_header(header, &neighborhood.join_questions) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    people
        .iter()
        .enumerate()
        .filter_map(|(index, cells)| {
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            columns
                .candidate(index as u32 + 2, &cells)
                .ok()
                .map(|candidate| candidate.phone.as_str().to_owned())
        })
        .filter(|phone| seen.insert(phone.clone()))
        .collect()
}

fn digest_of(epoch: &str, rows: &[Vec<String>]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(epoch.as_bytes());
    hasher.update(serde_json::to_vec(rows).unwrap_or_default());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize())
}

fn now_ms() -> i64 {
    unix_ms(OffsetDateTime::now_utc())
}

/// Syncs the neighborhood's sheet now (`actor`: the captain who asked, for a captain's sync),
/// unless another instance is syncing it. A refusal from Google is recorded in the answer.
pub async fn sync(
    state: &AppState,
    neighborhood_id: Uuid,
    trigger: SyncTrigger,
    actor: Option<&str>,
) -> Result<SheetHub, HubError> {
    google(state)?;
    let holder = Uuid::new_v4().simple().to_string();
    if !state
        .store
        .take_sheet_hub_lease(neighborhood_id, &holder, LEASE_TTL)
        .await?
    {
        return Err(HubError::Busy);
    }
    let synced = sync_holding(state, neighborhood_id, trigger, actor).await;
    if let Err(error) = state
        .store
        .release_sheet_hub_lease(neighborhood_id, &holder)
        .await
    {
        tracing::warn!(%error, "the sheet sync's lease is left to expire");
    }
    synced
}

async fn sync_holding(
    state: &AppState,
    neighborhood_id: Uuid,
    trigger: SyncTrigger,
    actor: Option<&str>,
) -> Result<SheetHub, HubError> {
    let google = google(state)?;
    let neighborhood = neighborhoods::active(state, neighborhood_id).await?;
    let mut hub = state.store.sheet_hub(neighborhood_id).await?;
    // Read again under the lease: another instance may have synced since this one saw it due.
    if trigger == SyncTrigger::Schedule && !hub.due(now_ms()) {
        return Ok(hub);
    }
    let (connection, config) = configured(&hub)?;
    let actor = actor.unwrap_or(&config.saved_by).to_owned();
    let epoch = hub.epoch();
    let at = OffsetDateTime::now_utc();
    let rows = match read_sheet(state, google, neighborhood_id, connection, config).await {
        Ok(rows) => rows,
        Err(failure) => {
            return failed(state, &neighborhood, hub, failure, trigger, &actor).await;
        }
    };
    let next_at_ms = Some(now_ms() + i64::from(config.interval_minutes) * 60_000);
    let digest = digest_of(&epoch, &rows);
    if hub.sync.digest.as_deref() == Some(digest.as_str()) {
        hub.sync = SyncState {
            last_sync: Some(LastSync {
                at,
                trigger,
                sheet_unchanged: true,
                counts: SyncCounts::default(),
            }),
            problem: None,
            next_at_ms,
            ..hub.sync
        };
        state
            .store
            .save_sheet_hub_sync(neighborhood_id, &hub.sync)
            .await?;
        // A scheduled sync of an unchanged sheet is no entry of its own: it would be dozens a day.
        if trigger == SyncTrigger::Captain {
            audit_sync(state, neighborhood_id, &actor, hub.sync.last_sync.as_ref()).await;
        }
        return Ok(hub);
    }
    let report = match take_rows(state, &neighborhood, config, &actor, &rows, false).await {
        Ok(report) => report,
        Err(Ok(failure)) => {
            return failed(state, &neighborhood, hub, failure, trigger, &actor).await;
        }
        Err(Err(error)) => return Err(error.into()),
    };
    let phones = phones_of(&rows, &neighborhood);
    let still: HashSet<&str> = phones.iter().map(String::as_str).collect();
    let removed: Vec<String> = state
        .store
        .sheet_hub_phones(neighborhood_id)
        .await?
        .into_iter()
        .filter(|phone| !still.contains(phone.as_str()))
        .collect();
    state
        .store
        .save_sheet_hub_phones(neighborhood_id, &phones)
        .await?;
    hub.sync = SyncState {
        // Rows held back by the day's additions are taken by a later sync of the same sheet.
        digest: (report.held_back == 0).then_some(digest),
        epoch: Some(epoch),
        last_sync: Some(LastSync {
            at,
            trigger,
            sheet_unchanged: false,
            counts: SyncCounts {
                rows: report.rows,
                added: report.added,
                updated: report.updated,
                unchanged: report.unchanged,
                rejected: report.rejected,
                held_back: report.held_back,
                removed_from_sheet: removed.len() as u32,
                removed_phones: removed.into_iter().take(REMOVED_LISTED).collect(),
            },
        }),
        problem: None,
        next_at_ms,
    };
    state
        .store
        .save_sheet_hub_sync(neighborhood_id, &hub.sync)
        .await?;
    audit_sync(state, neighborhood_id, &actor, hub.sync.last_sync.as_ref()).await;
    Ok(hub)
}

/// Records a failed sync: a refusal that needs a captain pauses syncing (texting the captains
/// once), anything else is tried again later, further apart each time.
async fn failed(
    state: &AppState,
    neighborhood: &Neighborhood,
    mut hub: SheetHub,
    failure: Failure,
    trigger: SyncTrigger,
    actor: &str,
) -> Result<SheetHub, HubError> {
    let epoch = hub.epoch();
    let failures = hub
        .sync
        .problem
        .as_ref()
        .filter(|problem| problem.code == failure.code)
        .map_or(1, |problem| problem.failures.saturating_add(1));
    let backoff = Duration::from_secs(60)
        .saturating_mul(1 << failures.min(6).saturating_sub(1))
        .max(failure.retry_after.unwrap_or_default())
        .min(MAX_BACKOFF);
    let interval = hub
        .config
        .as_ref()
        .map_or(Duration::from_secs(900), |config| {
            Duration::from_secs(u64::from(config.interval_minutes) * 60)
        });
    let wait = if failure.code.pauses() {
        interval
    } else {
        backoff
    };
    hub.sync.problem = Some(Problem {
        code: failure.code,
        message: failure.message.clone(),
        at: OffsetDateTime::now_utc(),
        epoch: epoch.clone(),
        failures,
    });
    hub.sync.next_at_ms = Some(now_ms() + wait.as_millis() as i64);
    state
        .store
        .save_sheet_hub_sync(neighborhood.id, &hub.sync)
        .await?;
    let detail = serde_json::json!({
        "trigger": trigger,
        "problem": failure.code.as_str(),
        "message": failure.message,
    });
    let action = if failure.code.pauses() {
        tell_captains(
            state,
            neighborhood,
            "sheet-hub-paused",
            failure.code,
            &epoch,
        )
        .await?;
        "sheet_hub.paused"
    } else {
        // Google's quota or an outage mends itself, so a first failure texts nobody; one that
        // lasts about an hour is worth the captains knowing, once.
        if failures == STILL_FAILING {
            tell_captains(
                state,
                neighborhood,
                "sheet-hub-failing",
                failure.code,
                &epoch,
            )
            .await?;
        }
        "sheet_hub.sync_failed"
    };
    // Retried failures are many while Google is down: one entry when they start.
    if failure.code.pauses() || failures == 1 {
        let entry = AuditEntry::now(
            actor.to_owned(),
            action,
            format!("neighborhood:{}", neighborhood.id),
            "google-sheets".to_owned(),
            detail,
        );
        state
            .store
            .record_audit(Some(neighborhood.id), &entry)
            .await;
    }
    Ok(hub)
}

/// Texts the captains the message `id` about `code`, once per connection and configuration.
async fn tell_captains(
    state: &AppState,
    neighborhood: &Neighborhood,
    id: &str,
    code: ProblemCode,
    epoch: &str,
) -> Result<(), StoreError> {
    let text = |language| {
        crate::i18n::text(
            language,
            id,
            &[
                ("neighborhood", neighborhood.name.as_str().into()),
                ("code", code.as_str().into()),
            ],
        )
    };
    let texts = texts::texts_to_captains(state, neighborhood, text, |_| true).await?;
    state
        .store
        .enqueue_effects_once(
            neighborhood.id,
            &format!("{id}:{epoch}:{}", code.as_str()),
            &texts,
        )
        .await
}

async fn audit_sync(
    state: &AppState,
    neighborhood_id: Uuid,
    actor: &str,
    last_sync: Option<&LastSync>,
) {
    let Some(last_sync) = last_sync else {
        return;
    };
    let counts = &last_sync.counts;
    let entry = AuditEntry::now(
        actor.to_owned(),
        "sheet_hub.sync",
        format!("neighborhood:{neighborhood_id}"),
        "google-sheets".to_owned(),
        serde_json::json!({
            "trigger": last_sync.trigger,
            "sheet_unchanged": last_sync.sheet_unchanged,
            "rows": counts.rows,
            "added": counts.added,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "rejected": counts.rejected,
            "held_back": counts.held_back,
            "removed_from_sheet": counts.removed_from_sheet,
        }),
    );
    state
        .store
        .record_audit(Some(neighborhood_id), &entry)
        .await;
}

/// Disconnects: revokes the token at Google and forgets the hub.
pub async fn disconnect(state: &AppState, neighborhood_id: Uuid) -> Result<(), HubError> {
    let hub = state.store.sheet_hub(neighborhood_id).await?;
    let Some(connection) = hub.connection else {
        return Err(HubError::NotConnected);
    };
    if let Some(google) = state.google.as_deref() {
        revoke(google, neighborhood_id, &connection).await;
    }
    state.store.delete_sheet_hub(neighborhood_id).await?;
    Ok(())
}

/// The hub as stored.
pub async fn get(state: &AppState, neighborhood_id: Uuid) -> Result<SheetHub, HubError> {
    Ok(state.store.sheet_hub(neighborhood_id).await?)
}

/// Syncs every hub that is due, one neighborhood after another (each under its lease); answers
/// how many were synced. Hubs of neighborhoods gone or archived are taken off the list.
pub async fn sync_due(state: &AppState) -> Result<usize, StoreError> {
    let mut synced = 0;
    for neighborhood_id in state.store.sheet_hub_neighborhoods().await? {
        let hub = state.store.sheet_hub(neighborhood_id).await?;
        if hub.connection.is_none() {
            state.store.unlist_sheet_hub(neighborhood_id).await?;
            continue;
        }
        if !hub.due(now_ms()) {
            continue;
        }
        match sync(state, neighborhood_id, SyncTrigger::Schedule, None).await {
            Ok(_) => synced += 1,
            Err(HubError::Busy) => {}
            Err(HubError::Neighborhood(NeighborhoodError::NotFound)) => {
                state.store.unlist_sheet_hub(neighborhood_id).await?;
            }
            // Archived: the group has ended for now; it syncs again if brought back.
            Err(HubError::Neighborhood(NeighborhoodError::Archived)) => {}
            Err(HubError::Store(error)) => return Err(error),
            Err(error) => tracing::warn!(%error, "a scheduled sheet sync did not run"),
        }
    }
    Ok(synced)
}
