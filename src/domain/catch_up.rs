//! Catch-up: what a newly approved member gets of the group's recent messages, so they do not
//! join a conversation halfway through without context.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};

use super::ParseError;
use crate::i18n::Language;

/// How a new member catches up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum, Default)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum CatchUpMode {
    /// Nothing beyond the welcome text.
    #[default]
    Off,
    /// The last messages in one text, newest last.
    Text,
    /// A link to a read-only page of the last messages; it opens once, within 7 days.
    Link,
}

/// A captain's catch-up setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct CatchUp {
    /// `off` (the default), `text` or `link`.
    pub mode: CatchUpMode,
    /// How many of the latest messages (1 to 20).
    pub messages: u32,
}

impl Default for CatchUp {
    fn default() -> Self {
        Self {
            mode: CatchUpMode::Off,
            messages: 10,
        }
    }
}

/// More would not fit one text in any useful form.
pub const MAX_MESSAGES: u32 = 20;
/// Twilio's limit for one message body.
const MAX_TEXT_CHARS: usize = 1600;

impl CatchUp {
    pub fn validate(self) -> Result<Self, ParseError> {
        if (1..=MAX_MESSAGES).contains(&self.messages) {
            Ok(self)
        } else {
            Err(ParseError::new(format!(
                "Catch up with 1 to {MAX_MESSAGES} messages."
            )))
        }
    }
}

/// One text with the last messages (`lines`, oldest first, each `Name: text`): the oldest are
/// dropped until it fits one Twilio message.
pub fn digest(language: Language, neighborhood: &str, lines: &[String]) -> Option<String> {
    for skip in 0..lines.len() {
        let kept = &lines[skip..];
        let heading = crate::i18n::text(
            language,
            "catch-up-heading",
            &[
                ("neighborhood", neighborhood.into()),
                ("count", kept.len().into()),
            ],
        );
        let text = std::iter::once(heading)
            .chain(kept.iter().cloned())
            .collect::<Vec<_>>()
            .join("\n");
        if text.chars().count() <= MAX_TEXT_CHARS {
            return Some(text);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_lists_the_messages_oldest_first() {
        let lines = vec![
            "Ana: Street fair Saturday".to_owned(),
            "Ben: I'll bring chairs".to_owned(),
        ];
        assert_eq!(
            digest(Language::ENGLISH, "Elm Street", &lines).as_deref(),
            Some(
                "Catch up on Elm Street, the last 2 messages:\nAna: Street fair Saturday\nBen: I'll bring chairs"
            )
        );
        assert_eq!(digest(Language::ENGLISH, "Elm Street", &[]), None);
        assert_eq!(
            digest(Language::SPANISH, "Calle Olmo", &lines[..1]).as_deref(),
            Some("Resumen de Calle Olmo, el mensaje reciente:\nAna: Street fair Saturday")
        );
    }

    #[test]
    fn the_oldest_messages_give_way_until_the_digest_is_one_text() {
        let long = format!("Ana: {}", "x".repeat(1000));
        let lines = vec![long.clone(), long, "Ben: short".to_owned()];
        let text = digest(Language::ENGLISH, "Elm Street", &lines).expect("a digest");
        assert!(text.chars().count() <= MAX_TEXT_CHARS);
        assert!(
            text.starts_with("Catch up on Elm Street, the last 2 messages:"),
            "{text}"
        );
        assert!(text.ends_with("Ben: short"));
    }

    #[test]
    fn between_one_and_twenty_messages() {
        let setting = |messages| CatchUp {
            mode: CatchUpMode::Text,
            messages,
        };
        assert!(setting(0).validate().is_err());
        assert!(setting(1).validate().is_ok());
        assert!(setting(20).validate().is_ok());
        assert!(setting(21).validate().is_err());
    }
}
