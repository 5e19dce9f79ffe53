//! The spreadsheet hub (issue 27): a neighborhood's Google Sheet, connected by a captain, that
//! the group is kept in step with. These are its records: the connection (whose refresh token is
//! sealed), the captains' configuration, and where syncing stands.
//!
//! A pause is tied to the connection and configuration it happened under (their `epoch`):
//! reconnecting or saving the configuration again is what a captain does to fix a refusal, and
//! either one ends the pause without anyone having to clear it.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Minutes between scheduled syncs, by default and at the extremes.
pub const DEFAULT_INTERVAL_MINUTES: u32 = 15;
pub const MIN_INTERVAL_MINUTES: u32 = 5;
pub const MAX_INTERVAL_MINUTES: u32 = 1_440;

/// A captain's Google account, connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The refresh token, sealed (`google::crypto`), bound to the neighborhood.
    pub refresh_token: String,
    /// Who connected it, as the audit log names them.
    pub connected_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub connected_at: OffsetDateTime,
}

/// What a sheet's rows are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum HubMode {
    /// The organizers' list of people: one row per person, edited over time.
    #[default]
    Roster,
    /// A Google Form's responses: one row per response, each new one a join request.
    Form,
}

/// What the captains chose to sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubConfig {
    pub spreadsheet: String,
    /// A1 notation: a sheet's name (`Sheet1`) or a range of it (`'Form Responses 1'!A1:Z`).
    pub range: String,
    pub mode: HubMode,
    /// Roster mode: the captain attests the people in the sheet agreed to the group's texts,
    /// so new rows become members rather than join requests.
    pub attest_consent: bool,
    /// Form mode: the consent question as the form asks it, which heads its column; each
    /// response filed keeps it as the evidence of consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_question: Option<String>,
    pub interval_minutes: u32,
    pub saved_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
}

/// Why syncing stopped or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum ProblemCode {
    /// Google no longer honors the connection (revoked, expired): connect again.
    Revoked,
    /// The connected account may not read the spreadsheet (no longer shared with it).
    Forbidden,
    /// No such spreadsheet (deleted, or a wrong link).
    NotFound,
    /// No such sheet or range (a tab renamed or removed).
    RangeNotFound,
    /// The header row cannot be read as the import reads one (no name or phone column).
    Header,
    /// Google's quota for now: tried again later.
    RateLimited,
    /// Google failing or unreachable: tried again later.
    Unavailable,
}

impl ProblemCode {
    /// Whether syncing waits for a captain (reconnecting, sharing the sheet, saving the range)
    /// rather than trying again by itself.
    pub fn pauses(self) -> bool {
        !matches!(self, Self::RateLimited | Self::Unavailable)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RangeNotFound => "range_not_found",
            Self::Header => "header",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: ProblemCode,
    /// What went wrong, as Google or the import said it.
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The connection and configuration it happened under (see the module's note).
    pub epoch: String,
    /// Failures in a row, for the backoff of problems that do not pause.
    #[serde(default)]
    pub failures: u32,
}

/// Who started a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum SyncTrigger {
    Schedule,
    Captain,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    pub rows: u32,
    pub added: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub rejected: u32,
    /// Of `rejected`, new members past today's additions: a later sync takes them.
    #[serde(default)]
    pub held_back: u32,
    /// Phones of the last sync the sheet no longer has: reported, never removed.
    pub removed_from_sheet: u32,
    pub removed_phones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSync {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub trigger: SyncTrigger,
    /// The sheet read as it was last time: nothing further was done.
    pub sheet_unchanged: bool,
    pub counts: SyncCounts,
}

/// Where syncing stands; written only by the instance holding the sync lease.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// The digest of the epoch and the cells last synced: the same again means nothing to do.
    pub digest: Option<String>,
    /// The epoch a captain last synced: the schedule runs only a configuration whose preview a
    /// captain has seen and synced.
    pub epoch: Option<String>,
    pub last_sync: Option<LastSync>,
    pub problem: Option<Problem>,
    /// Unix milliseconds of the next scheduled sync.
    pub next_at_ms: Option<i64>,
}

/// A neighborhood's hub, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SheetHub {
    pub connection: Option<Connection>,
    pub config: Option<HubConfig>,
    pub sync: SyncState,
}

impl SheetHub {
    /// The connection and configuration a pause or a digest belongs to.
    pub fn epoch(&self) -> String {
        let time = |at: Option<OffsetDateTime>| at.map_or(0, |at| at.unix_timestamp_nanos());
        format!(
            "{}.{}",
            time(self.connection.as_ref().map(|c| c.connected_at)),
            time(self.config.as_ref().map(|c| c.saved_at))
        )
    }

    /// The problem that stops syncing until a captain acts, if any.
    pub fn pause(&self) -> Option<&Problem> {
        self.sync
            .problem
            .as_ref()
            .filter(|problem| problem.code.pauses() && problem.epoch == self.epoch())
    }

    /// The problem to show: the last sync's, unless a captain has acted since it paused.
    pub fn current_problem(&self) -> Option<&Problem> {
        self.sync
            .problem
            .as_ref()
            .filter(|problem| !problem.code.pauses() || problem.epoch == self.epoch())
    }

    /// Whether the schedule syncs it: connected, configured, that configuration synced once by
    /// a captain, and not paused.
    pub fn scheduled(&self) -> bool {
        self.connection.is_some()
            && self.config.is_some()
            && self.sync.epoch.as_deref() == Some(self.epoch().as_str())
            && self.pause().is_none()
    }

    /// Whether a scheduled sync is due at `now_ms`.
    pub fn due(&self, now_ms: i64) -> bool {
        self.scheduled() && self.sync.next_at_ms.is_none_or(|next| next <= now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> SheetHub {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        let mut hub = SheetHub {
            connection: Some(Connection {
                refresh_token: "v1.x".into(),
                connected_by: "phone:+15550000001".into(),
                connected_at: at,
            }),
            config: Some(HubConfig {
                spreadsheet: "abc".into(),
                range: "Sheet1".into(),
                mode: HubMode::Roster,
                attest_consent: false,
                consent_question: None,
                interval_minutes: 15,
                saved_by: "phone:+15550000001".into(),
                saved_at: at,
            }),
            sync: SyncState::default(),
        };
        hub.sync.epoch = Some(hub.epoch());
        hub
    }

    fn problem(code: ProblemCode, epoch: String) -> Problem {
        Problem {
            code,
            message: "no".into(),
            at: OffsetDateTime::UNIX_EPOCH,
            epoch,
            failures: 1,
        }
    }

    #[test]
    fn a_pause_lasts_until_a_captain_reconnects_or_saves_the_configuration() {
        let mut hub = hub();
        hub.sync.problem = Some(problem(ProblemCode::Revoked, hub.epoch()));
        assert!(hub.pause().is_some() && !hub.due(i64::MAX));
        let mut saved = hub.clone();
        if let Some(config) = saved.config.as_mut() {
            config.saved_at += time::Duration::seconds(1);
        }
        assert!(saved.pause().is_none() && saved.current_problem().is_none());
        assert!(
            !saved.due(i64::MAX),
            "not until a captain syncs the new configuration"
        );
        saved.sync.epoch = Some(saved.epoch());
        assert!(saved.due(i64::MAX));
        let mut reconnected = hub.clone();
        if let Some(connection) = reconnected.connection.as_mut() {
            connection.connected_at += time::Duration::seconds(1);
        }
        assert!(reconnected.pause().is_none());
    }

    #[test]
    fn google_failing_for_now_is_retried_without_a_pause() {
        let mut hub = hub();
        hub.sync.problem = Some(problem(ProblemCode::RateLimited, hub.epoch()));
        hub.sync.next_at_ms = Some(1_000);
        assert!(hub.pause().is_none() && hub.current_problem().is_some());
        assert!(!hub.due(999) && hub.due(1_000));
    }
}
