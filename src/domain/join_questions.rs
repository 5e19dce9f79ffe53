//! Questions captains ask everyone who wants to join, beyond name, phone and address ("How long
//! have you lived on the street?"), and the answers a request brings.

use std::collections::BTreeMap;

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use super::ParseError;

/// At most this many questions: the join page is filled in on a phone.
pub const MAX_QUESTIONS: usize = 10;
const MAX_ID_CHARS: usize = 40;
const MAX_TEXT_CHARS: usize = 200;
const MAX_ANSWER_CHARS: usize = 500;

/// One join question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
#[oai(deny_unknown_fields)]
pub struct JoinQuestion {
    /// The key answers are filed under: 1 to 40 lowercase letters, digits or `_`, e.g. `street`.
    pub id: String,
    /// The question as the join page shows it (1 to 200 characters).
    pub text: String,
    /// Whether a neighbor must answer it to ask to join.
    #[serde(default)]
    #[oai(default)]
    pub required: bool,
}

/// Checks a whole list of questions: each well-formed, ids unique, at most [`MAX_QUESTIONS`].
pub fn validate(questions: Vec<JoinQuestion>) -> Result<Vec<JoinQuestion>, ParseError> {
    if questions.len() > MAX_QUESTIONS {
        return Err(ParseError::new(format!(
            "Ask at most {MAX_QUESTIONS} join questions."
        )));
    }
    let mut checked: Vec<JoinQuestion> = Vec::with_capacity(questions.len());
    for question in questions {
        let id = question.id.trim().to_owned();
        let id_ok = (1..=MAX_ID_CHARS).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !id_ok {
            return Err(ParseError::new(format!(
                "A question id is 1 to {MAX_ID_CHARS} lowercase letters, digits or `_`, not `{id}`."
            )));
        }
        if checked.iter().any(|q| q.id == id) {
            return Err(ParseError::new(format!(
                "Two questions have the id `{id}`."
            )));
        }
        let text = question
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
            return Err(ParseError::new(format!(
                "Question `{id}` needs a text of 1 to {MAX_TEXT_CHARS} characters."
            )));
        }
        checked.push(JoinQuestion {
            id,
            text,
            required: question.required,
        });
    }
    Ok(checked)
}

/// The answers a request brings, keyed by question text (what captains read), or the problems
/// with them as (field, message) pairs: a required question unanswered, an unknown question,
/// an answer too long.
pub fn answers(
    questions: &[JoinQuestion],
    given: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Vec<(String, ParseError)>> {
    let mut problems = Vec::new();
    for id in given.keys() {
        if !questions.iter().any(|q| &q.id == id) {
            problems.push((
                format!("answers.{id}"),
                ParseError::said("input-answer-unknown", &[]),
            ));
        }
    }
    let mut filed = BTreeMap::new();
    for question in questions {
        let answer = given
            .get(&question.id)
            .map(|a| a.trim())
            .filter(|a| !a.is_empty());
        match answer {
            None if question.required => problems.push((
                format!("answers.{}", question.id),
                ParseError::said(
                    "input-answer-missing",
                    &[("question", question.text.clone())],
                ),
            )),
            None => {}
            Some(a) => match answer_text(a) {
                Err(error) => {
                    problems.push((format!("answers.{}", question.id), error));
                }
                Ok(a) => {
                    filed.insert(question.text.clone(), a.to_owned());
                }
            },
        }
    }
    if problems.is_empty() {
        Ok(filed)
    } else {
        Err(problems)
    }
}

/// One answer as it is filed: trimmed, at most 500 characters.
pub fn answer_text(answer: &str) -> Result<&str, ParseError> {
    let answer = answer.trim();
    if answer.chars().count() > MAX_ANSWER_CHARS {
        Err(ParseError::said(
            "input-answer-too-long",
            &[("max", MAX_ANSWER_CHARS.to_string())],
        ))
    } else {
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, required: bool) -> JoinQuestion {
        JoinQuestion {
            id: id.into(),
            text: format!("What about {id}?"),
            required,
        }
    }

    #[test]
    fn questions_need_unique_well_formed_ids() {
        assert!(validate(vec![question("street", true), question("pets", false)]).is_ok());
        assert!(validate(vec![question("street", true), question("street", false)]).is_err());
        assert!(validate(vec![question("Street Name", true)]).is_err());
        assert!(validate((0..11).map(|n| question(&format!("q{n}"), false)).collect()).is_err());
        let blank = JoinQuestion {
            text: "  ".into(),
            ..question("blank", false)
        };
        assert!(validate(vec![blank]).is_err());
    }

    #[test]
    fn answers_are_filed_by_question_text_and_required_ones_are_enforced() {
        let questions = [question("street", true), question("pets", false)];
        let given = BTreeMap::from([("street".to_owned(), " Elm ".to_owned())]);
        assert_eq!(
            answers(&questions, given),
            Ok(BTreeMap::from([(
                "What about street?".to_owned(),
                "Elm".to_owned()
            )]))
        );
        let missing = answers(&questions, BTreeMap::new()).unwrap_err();
        assert_eq!(missing[0].0, "answers.street");
        let unknown = BTreeMap::from([
            ("street".to_owned(), "Elm".to_owned()),
            ("age".to_owned(), "40".to_owned()),
        ]);
        assert_eq!(
            answers(&questions, unknown).unwrap_err()[0].0,
            "answers.age"
        );
    }
}
