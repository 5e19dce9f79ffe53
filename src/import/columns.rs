//! The header row of an import, read the way spreadsheets write it: any column order, any case,
//! stray spaces; join questions named by id or by their text; the columns of our own exports
//! recognized and left alone; anything else reported once as a warning.

use std::collections::BTreeMap;

use poem_openapi::Object;

use crate::domain::ParseError;
use crate::domain::channel::Channel;
use crate::domain::join_questions::{self, JoinQuestion};
use crate::domain::member::{self, DisplayName, street_address};
use crate::domain::phone::Phone;
use crate::export::{JOIN_REQUEST_COLUMNS, MEMBER_COLUMNS, from_spreadsheet_safe};
use crate::i18n::Language;

/// Headers that mean the neighbor's name, phone or address.
/// Google Forms' usual questions ("Your name", "Mobile number") are among them, so a form's
/// response sheet reads as a spreadsheet does.
const NAME: [&str; 6] = [
    "name",
    "display name",
    "display_name",
    "full name",
    "your name",
    "first and last name",
];
const PHONE: [&str; 8] = [
    "phone",
    "phone number",
    "mobile",
    "cell",
    "your phone number",
    "mobile number",
    "cell phone",
    "cell phone number",
];
const ADDRESS: [&str; 2] = ["address", "street address"];
/// The header of a member's channel, `sms` or `whatsapp`.
const CHANNEL: [&str; 1] = ["channel"];
/// The header of the language of their texts (`en`, `es`).
const LANGUAGE: [&str; 2] = ["language", "idioma"];

/// Problems with a header row, as (field, message) pairs.
pub type HeaderProblems = Vec<(String, String)>;

/// Where each thing the import reads sits in a row.
#[derive(Debug, Clone)]
pub struct Columns {
    name: usize,
    phone: usize,
    address: Option<usize>,
    channel: Option<usize>,
    language: Option<usize>,
    /// Columns that answer a join question.
    answers: Vec<(usize, JoinQuestion)>,
    /// Columns the header names: values past them belong to no column.
    width: usize,
}

/// A column the import does not read.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
pub struct ColumnWarning {
    /// The column as the header names it, with its spreadsheet letter: `Favorite color (D)`.
    pub column: String,
    /// Why it was left out.
    pub message: String,
}

/// A row the import can act on: a phone and a name, and what else the file says about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The spreadsheet's row number (the header is row 1).
    pub row: u32,
    pub phone: Phone,
    pub name: DisplayName,
    /// None: the file does not say (no column, or an empty cell), so a stored address stays.
    pub address: Option<String>,
    /// `sms` or `whatsapp`; None: the file does not say (a new person is on SMS, a member keeps
    /// theirs).
    pub channel: Option<Channel>,
    /// The language of their texts; None: the file does not say.
    pub language: Option<Language>,
    /// Answers given, by question text (as they are filed); unanswered questions are absent.
    pub answers: BTreeMap<String, String>,
}

/// A row the import refuses, with the phone when it could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub phone: Option<Phone>,
    pub reason: String,
}

/// Case, spaces and a byte-order mark do not matter in a header.
fn normalized(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `A`, `B`, ... `Z`, `AA`: how a spreadsheet names the column at `index`.
pub fn column_letter(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

fn described(header: &str, index: usize) -> String {
    let header = header.trim();
    if header.is_empty() {
        format!("column {}", column_letter(index))
    } else {
        format!("{header} ({})", column_letter(index))
    }
}

impl Columns {
    /// Reads the header row. Errors are (field, message) pairs: no `name` or `phone` column, or
    /// one thing named by two columns.
    pub fn from_header(
        headers: &[String],
        questions: &[JoinQuestion],
    ) -> Result<(Self, Vec<ColumnWarning>), HeaderProblems> {
        let mut name = None;
        let mut phone = None;
        let mut address = None;
        let mut channel = None;
        let mut language = None;
        let mut answers: Vec<(usize, JoinQuestion)> = Vec::new();
        let mut warnings = Vec::new();
        let mut problems = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            let key = normalized(header);
            if NAME.contains(&key.as_str()) {
                claim(&mut name, "name", index, &mut problems);
            } else if PHONE.contains(&key.as_str()) {
                claim(&mut phone, "phone", index, &mut problems);
            } else if ADDRESS.contains(&key.as_str()) {
                claim(&mut address, "address", index, &mut problems);
            } else if CHANNEL.contains(&key.as_str()) {
                claim(&mut channel, "channel", index, &mut problems);
            } else if LANGUAGE.contains(&key.as_str()) {
                claim(&mut language, "language", index, &mut problems);
            } else if let Some(question) = questions
                .iter()
                .find(|q| q.id.eq_ignore_ascii_case(&key) || normalized(&q.text) == key)
            {
                match answers.iter().find(|(_, q)| q.id == question.id) {
                    Some((first, _)) => problems.push((
                        format!("answers.{}", question.id),
                        format!(
                            "Columns {} and {} both answer \"{}\": keep one.",
                            column_letter(*first),
                            column_letter(index),
                            question.text
                        ),
                    )),
                    None => answers.push((index, question.clone())),
                }
            } else if MEMBER_COLUMNS
                .iter()
                .chain(&JOIN_REQUEST_COLUMNS)
                .any(|column| *column == key)
            {
                // A column of our own exports that describes state an import does not set.
            } else {
                let message = if key.is_empty() {
                    "Not imported: the column has no header.".to_owned()
                } else {
                    "Not imported: it is not name, phone, address, channel, language or one of the neighborhood's join questions (by id or exact text).".to_owned()
                };
                warnings.push(ColumnWarning {
                    column: described(header, index),
                    message,
                });
            }
        }
        for (slot, field) in [(name, "name"), (phone, "phone")] {
            if slot.is_none() {
                problems.push((
                    field.to_owned(),
                    format!("The header row has no `{field}` column."),
                ));
            }
        }
        match (name, phone) {
            (Some(name), Some(phone)) if problems.is_empty() => Ok((
                Self {
                    name,
                    phone,
                    address,
                    channel,
                    language,
                    answers,
                    width: headers.len(),
                },
                warnings,
            )),
            _ => Err(problems),
        }
    }

    /// Reads one data row (`cells`, already text) numbered `row`.
    pub fn candidate(&self, row: u32, cells: &[&str]) -> Result<Candidate, Refusal> {
        let cell = |index: usize| from_spreadsheet_safe(cells.get(index).copied().unwrap_or(""));
        let mut problems: Vec<String> = Vec::new();
        // A leading `'` is how spreadsheet users keep the `+` of a phone: not part of it.
        let phone_cell = cell(self.phone).trim_start_matches('\'').trim();
        let phone = if phone_cell.is_empty() {
            problems.push("No phone number.".to_owned());
            None
        } else {
            note(&mut problems, Phone::parse(phone_cell))
        };
        let name_cell = cell(self.name);
        let name = if name_cell.trim().is_empty() {
            problems.push("No name.".to_owned());
            None
        } else {
            note(&mut problems, DisplayName::parse(name_cell))
        };
        let address = match self.address {
            Some(index) => note(&mut problems, street_address(Some(cell(index)))).flatten(),
            None => None,
        };
        let channel = match self.channel.map(cell).map(str::trim) {
            None | Some("") => None,
            Some(value) => {
                let parsed = Channel::parse(value);
                if parsed.is_none() {
                    problems.push(format!(
                        "The channel is `sms` or `whatsapp`, not `{value}`."
                    ));
                }
                parsed
            }
        };
        let language = match self.language.map(cell).map(str::trim) {
            None | Some("") => None,
            Some(value) => note(&mut problems, member::language(value)),
        };
        let mut answers = BTreeMap::new();
        for (index, question) in &self.answers {
            if let Some(answer) = note(&mut problems, join_questions::answer_text(cell(*index)))
                .filter(|answer| !answer.is_empty())
            {
                answers.insert(question.text.clone(), answer.to_owned());
            }
        }
        if cells[self.width.min(cells.len())..]
            .iter()
            .any(|extra| !extra.trim().is_empty())
        {
            problems.push(format!(
                "More values than the header has columns ({}): check the quotes in this row.",
                self.width
            ));
        }
        match (phone, name) {
            (Some(phone), Some(name)) if problems.is_empty() => Ok(Candidate {
                row,
                phone,
                name,
                address,
                channel,
                language,
                answers,
            }),
            (phone, _) => Err(Refusal {
                phone,
                reason: problems.join(" "),
            }),
        }
    }
}

/// Takes `index` for `field`, or notes that an earlier column holds it already.
fn claim(slot: &mut Option<usize>, field: &str, index: usize, problems: &mut HeaderProblems) {
    match slot {
        Some(first) => problems.push((
            field.to_owned(),
            format!(
                "Columns {} and {} both hold `{field}`: keep one.",
                column_letter(*first),
                column_letter(index)
            ),
        )),
        None => *slot = Some(index),
    }
}

fn note<T>(problems: &mut Vec<String>, parsed: Result<T, ParseError>) -> Option<T> {
    parsed
        .map_err(|error| problems.push(error.into_message()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    fn questions() -> Vec<JoinQuestion> {
        vec![JoinQuestion {
            id: "street".into(),
            text: "Which street do you live on?".into(),
            required: true,
        }]
    }

    #[test]
    fn headers_match_in_any_order_case_and_spacing() {
        let (columns, warnings) = Columns::from_header(
            &headers(&[
                "\u{feff} Phone Number ",
                "which  street do you live on?",
                "NAME",
                "status",
                "Favorite color",
                "",
            ]),
            &questions(),
        )
        .unwrap();
        assert_eq!((columns.name, columns.phone, columns.address), (2, 0, None));
        assert_eq!(columns.answers[0].0, 1);
        let flagged: Vec<&str> = warnings.iter().map(|w| w.column.as_str()).collect();
        assert_eq!(flagged, ["Favorite color (E)", "column F"]);
        let (by_id, _) =
            Columns::from_header(&headers(&["name", "phone", "Street"]), &questions()).unwrap();
        assert_eq!(by_id.answers[0].0, 2);
    }

    #[test]
    fn a_header_without_name_or_phone_or_with_a_column_twice_is_refused() {
        let missing = Columns::from_header(&headers(&["phone", "address"]), &[]).unwrap_err();
        assert_eq!(missing[0].0, "name");
        let twice = Columns::from_header(&headers(&["name", "phone", "Mobile"]), &[]).unwrap_err();
        assert_eq!(twice[0].0, "phone");
        assert!(twice[0].1.contains("B and C"), "{}", twice[0].1);
    }

    #[test]
    fn rows_are_read_or_refused_with_every_reason() {
        let (columns, _) = Columns::from_header(
            &headers(&["name", "phone", "address", "street"]),
            &questions(),
        )
        .unwrap();
        let ok = columns
            .candidate(2, &["  Ana  Ruiz ", "(415) 555-0100", "", "Elm"])
            .unwrap();
        assert_eq!(ok.name.as_str(), "Ana Ruiz");
        assert_eq!(ok.phone.as_str(), "+14155550100");
        assert_eq!(ok.address, None);
        assert_eq!(ok.answers["Which street do you live on?"], "Elm");
        let quoted = columns.candidate(3, &["'-Bob-", "'+15550001111"]).unwrap();
        assert_eq!(quoted.name.as_str(), "-Bob-");
        assert_eq!(quoted.phone.as_str(), "+15550001111");
        let bad = columns.candidate(4, &["", "call me"]).unwrap_err();
        assert_eq!(bad.phone, None);
        assert!(bad.reason.contains("not a phone number"), "{}", bad.reason);
        assert!(bad.reason.contains("No name."), "{}", bad.reason);
        let long = columns
            .candidate(5, &[&"x".repeat(41), "+15550001111", &"y".repeat(201)])
            .unwrap_err();
        assert_eq!(long.phone.as_ref().map(Phone::as_str), Some("+15550001111"));
        assert!(long.reason.contains("at most 40"), "{}", long.reason);
        assert!(long.reason.contains("at most 200"), "{}", long.reason);
        let spill = columns
            .candidate(6, &["Ana", "+15550001111", "", "", "extra"])
            .unwrap_err();
        assert!(
            spill.reason.contains("check the quotes"),
            "{}",
            spill.reason
        );
        assert!(
            columns
                .candidate(7, &["Ana", "+15550001111", "", "", " "])
                .is_ok()
        );
    }

    #[test]
    fn column_letters_go_past_z() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
    }
}
