//! Form mode: the sheet is a Google Form's responses, one row per response, appended over time.
//! Each new response is filed as a join request the way a texted JOIN is (blocked phones, members
//! and open requests answered as there), with its consent question kept word for word as the
//! evidence, and reaches the captains as any request does. Nobody confirmed the phone, so it
//! waits for a captain whatever the join policy.
//!
//! A response is known by a fingerprint of its cells: one seen before is not filed again, so a
//! denied neighbor's old response does not come back each sync; an edited response is a new one.

use std::collections::HashSet;

use base64::Engine;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::domain::channel::Channel;
use crate::domain::member::MemberStatus;
use crate::domain::neighborhood::Neighborhood;
use crate::domain::sheet_hub::ProblemCode;
use crate::import::columns::Columns;
use crate::import::plan::Record;
use crate::import::{ImportReport, MAX_LISTED, RowOutcome, RowReport};
use crate::services::joining::{self, Asked, Asking, FileError};
use crate::state::AppState;
use crate::store::StoreError;

use super::Failure;

/// The column Google Forms puts first in a response sheet: read, not warned about.
const TIMESTAMP: &str = "timestamp";

/// What a form pass found: its report, and the fingerprints of every response read (to keep).
pub struct FormPass {
    pub report: ImportReport,
    pub responses: Vec<String>,
}

/// A response's fingerprint: a digest of its cells.
fn fingerprint(cells: &[String]) -> String {
    let digest = Sha256::digest(serde_json::to_vec(cells).unwrap_or_default());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Whether an answer to the consent question says yes: a checked box or a chosen option does;
/// an empty cell, "No" or "False" does not.
fn agrees(answer: &str) -> bool {
    let answer = answer.trim().to_lowercase();
    !answer.is_empty() && !matches!(answer.as_str(), "no" | "n" | "false" | "0" | "non")
}

/// Files (or, in a `dry_run`, tells what filing would do with) every response not `seen`.
pub async fn run(
    state: &AppState,
    neighborhood: &Neighborhood,
    rows: &[Vec<String>],
    question: &str,
    seen: &HashSet<String>,
    dry_run: bool,
) -> Result<FormPass, Result<Failure, StoreError>> {
    let Some((header, responses)) = rows.split_first() else {
        return Err(Ok(Failure::new(
            ProblemCode::Header,
            "The sheet is empty: a form's response sheet starts with its questions.",
        )));
    };
    let (columns, warnings) =
        Columns::from_header(header, &neighborhood.join_questions).map_err(|problems| {
            Ok(Failure::new(
                ProblemCode::Header,
                problems
                    .into_iter()
                    .map(|(_, message)| message)
                    .collect::<Vec<_>>()
                    .join(" "),
            ))
        })?;
    let Some(consent_at) = header.iter().position(|h| h.trim() == question.trim()) else {
        return Err(Ok(Failure::new(
            ProblemCode::Header,
            format!("No column is headed with the consent question \"{question}\"."),
        )));
    };
    let read_anyway = |column: &str| {
        [question.trim(), TIMESTAMP].iter().any(|header| {
            column
                .to_lowercase()
                .starts_with(&format!("{} (", header.to_lowercase()))
        })
    };
    let mut report = ImportReport {
        dry_run,
        attest_consent: false,
        warnings: warnings
            .into_iter()
            .filter(|warning| !read_anyway(&warning.column))
            .collect(),
        ..ImportReport::default()
    };
    let started = OffsetDateTime::now_utc();
    let mut fingerprints = Vec::with_capacity(responses.len());
    for (index, cells) in responses.iter().enumerate() {
        if cells.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let row = index as u32 + 2;
        report.rows += 1;
        let response = fingerprint(cells);
        fingerprints.push(response.clone());
        if seen.contains(&response) {
            report.unchanged += 1;
            continue;
        }
        let text: Vec<&str> = cells.iter().map(String::as_str).collect();
        let outcome = match columns.candidate(row, &text) {
            Err(refusal) => {
                Outcome::rejected(refusal.phone.map(|p| p.as_str().to_owned()), refusal.reason)
            }
            Ok(_) if !agrees(cells.get(consent_at).map_or("", String::as_str)) => {
                Outcome::rejected(None, format!("Did not agree to \"{question}\"."))
            }
            Ok(candidate) => {
                let phone = candidate.phone.as_str().to_owned();
                let asking = Asking {
                    phone: candidate.phone,
                    channel: candidate.channel.unwrap_or(Channel::Sms),
                    language: candidate.language,
                    name: candidate.name,
                    address: candidate.address,
                    answers: candidate.answers,
                    asked: Asked::Form {
                        question: question.trim().to_owned(),
                    },
                };
                if dry_run {
                    would_file(state, neighborhood, &asking)
                        .await
                        .map_err(Err)?
                } else {
                    file(state, neighborhood, asking, started)
                        .await
                        .map_err(Err)?
                }
                .with_phone(phone)
            }
        };
        outcome.count(&mut report, row);
    }
    Ok(FormPass {
        report,
        responses: fingerprints,
    })
}

/// What became of one new response.
struct Outcome {
    outcome: RowOutcome,
    phone: Option<String>,
    reason: Option<String>,
}

impl Outcome {
    fn added() -> Self {
        Self {
            outcome: RowOutcome::Added,
            phone: None,
            reason: None,
        }
    }

    fn unchanged(reason: &str) -> Self {
        Self {
            outcome: RowOutcome::Unchanged,
            phone: None,
            reason: Some(reason.to_owned()),
        }
    }

    fn rejected(phone: Option<String>, reason: String) -> Self {
        Self {
            outcome: RowOutcome::Rejected,
            phone,
            reason: Some(reason),
        }
    }

    fn with_phone(mut self, phone: String) -> Self {
        self.phone = Some(phone);
        self
    }

    fn count(self, report: &mut ImportReport, row: u32) {
        match self.outcome {
            RowOutcome::Added => report.added += 1,
            RowOutcome::Updated => report.updated += 1,
            RowOutcome::Unchanged => report.unchanged += 1,
            RowOutcome::Rejected => report.rejected += 1,
        }
        if report.details.len() >= MAX_LISTED {
            report.details_truncated = true;
            return;
        }
        report.details.push(RowReport {
            row,
            outcome: self.outcome,
            phone: self.phone,
            record: Some(Record::JoinRequest),
            changed: Vec::new(),
            reason: self.reason,
        });
    }
}

async fn file(
    state: &AppState,
    neighborhood: &Neighborhood,
    asking: Asking,
    started: OffsetDateTime,
) -> Result<Outcome, StoreError> {
    Ok(match joining::file(state, neighborhood, asking).await {
        Ok(request) if request.created_at >= started => Outcome::added(),
        Ok(_) => Outcome::unchanged("Has an open join request already."),
        Err(FileError::AlreadyMember | FileError::Paused) => {
            Outcome::unchanged("Already in the group.")
        }
        Err(FileError::Store(error)) => return Err(error),
        Err(FileError::Decision(joining::DecisionError::Store(error))) => return Err(error),
        Err(refused) => Outcome::rejected(None, sentence(&refused.to_string())),
    })
}

/// What filing would do, without filing: the checks that need no writing.
async fn would_file(
    state: &AppState,
    neighborhood: &Neighborhood,
    asking: &Asking,
) -> Result<Outcome, StoreError> {
    if state
        .store
        .blocked_phone(neighborhood.id, &asking.phone)
        .await?
        .is_some()
    {
        return Ok(Outcome::rejected(
            None,
            "A captain blocked this phone.".to_owned(),
        ));
    }
    let member = state
        .store
        .member_by_phone(neighborhood.id, &asking.phone)
        .await?;
    Ok(match member.map(|member| member.status) {
        Some(MemberStatus::Active | MemberStatus::Paused) => {
            Outcome::unchanged("Already in the group.")
        }
        _ => Outcome::added(),
    })
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checked_box_or_a_yes_agrees_and_an_empty_cell_or_a_no_does_not() {
        for yes in ["I agree", "Yes", "yes, text me", "TRUE"] {
            assert!(agrees(yes), "{yes}");
        }
        for no in ["", "  ", "No", "no", "FALSE", "0"] {
            assert!(!agrees(no), "{no:?}");
        }
    }

    #[test]
    fn a_response_edited_is_a_new_one() {
        let response = vec!["12/6/2026 10:00:00".to_owned(), "Ana".to_owned()];
        let mut edited = response.clone();
        edited[1] = "Ana R.".to_owned();
        assert_eq!(fingerprint(&response), fingerprint(&response.clone()));
        assert_ne!(fingerprint(&response), fingerprint(&edited));
    }
}
