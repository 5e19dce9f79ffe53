//! Pure types and rules, no I/O: values are parsed here once, at the edge, and trusted after.

pub mod access;
pub mod announcement;
pub mod audience;
pub mod catch_up;
pub mod channel;
pub mod client_ip;
pub mod clock;
pub mod consent_terms;
pub mod content_template;
pub mod costs;
pub mod destinations;
pub mod event_endpoint;
pub mod integrator_event;
pub mod integrator_event_payload;
pub mod join_digest;
pub mod join_questions;
pub mod join_request;
pub mod keywords;
pub mod media;
pub mod member;
pub mod member_list;
pub mod neighborhood;
pub mod phone;
pub mod quiet_hours;
pub mod segments;
pub mod sheet_hub;
pub mod stored_id;
pub mod stored_time;
pub mod template;

use crate::i18n::{self, FluentValue, Language};

/// Why an input value was refused, phrased for the person who typed it. A refusal a neighbor
/// can meet on the public pages is a catalog message, so it can be said in their language; the
/// rest (settings, captains' forms) is English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    message: String,
    said: Option<Said>,
}

/// A catalog message and its variables, kept to say it again in another language.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Said {
    id: &'static str,
    args: Vec<(&'static str, String)>,
}

impl ParseError {
    /// A refusal in English only.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            said: None,
        }
    }

    /// The catalog's message `id` with `args`: English here, any language through [`Self::in_language`].
    pub fn said(id: &'static str, args: &[(&'static str, String)]) -> Self {
        let said = Said {
            id,
            args: args.to_vec(),
        };
        Self {
            message: said.in_language(Language::ENGLISH),
            said: Some(said),
        }
    }

    /// The sentence in English.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn into_message(self) -> String {
        self.message
    }

    /// The sentence in `language` where the catalogs have it, else in English.
    pub fn in_language(&self, language: Language) -> String {
        match &self.said {
            Some(said) => said.in_language(language),
            None => self.message.clone(),
        }
    }
}

impl Said {
    fn in_language(&self, language: Language) -> String {
        let args: Vec<(&str, FluentValue<'_>)> = self
            .args
            .iter()
            .map(|(name, value)| (*name, FluentValue::from(value.as_str())))
            .collect();
        i18n::text(language, self.id, &args)
    }
}
