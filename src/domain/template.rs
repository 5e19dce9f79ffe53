//! A saved announcement text a captain reuses ("Street sweeping Tuesday, move your cars"): a
//! name to find it by and the text, per neighborhood, a few dozen at most.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ParseError;
use super::announcement::AnnouncementBody;

/// Templates one neighborhood may keep: enough for the recurring notices, few enough to pick
/// from a list on a phone.
pub const MAX_TEMPLATES: usize = 50;
/// Characters of a template's name.
pub const MAX_NAME_CHARS: usize = 60;

/// A template's name: 1 to 60 characters, trimmed, on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TemplateName(String);

impl TemplateName {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let name = input.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.contains(['\n', '\r']) {
            return Err(ParseError::new(format!(
                "A template's name has 1 to {MAX_NAME_CHARS} characters on one line."
            )));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TemplateName {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TemplateName> for String {
    fn from(value: TemplateName) -> Self {
        value.0
    }
}

/// One saved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// UUID v7: ordered by creation.
    pub id: Uuid,
    pub name: TemplateName,
    /// The text, as an announcement's (1 to 1,600 characters).
    pub body: AnnouncementBody,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_single_lines() {
        assert_eq!(
            TemplateName::parse("  Street sweeping ").unwrap().as_str(),
            "Street sweeping"
        );
        assert!(TemplateName::parse(" ").is_err());
        assert!(TemplateName::parse(&"n".repeat(61)).is_err());
        assert!(TemplateName::parse(&"n".repeat(60)).is_ok());
        assert!(TemplateName::parse("two\nlines").is_err());
    }
}
