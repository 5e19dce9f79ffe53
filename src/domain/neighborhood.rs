//! A neighborhood: one Twilio number and 1..K Conversations ("shards") of at most 50 SMS members.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ParseError;
use super::catch_up::CatchUp;
use super::channel::Channel;
use super::costs::Money;
use super::join_questions::JoinQuestion;
use super::phone::Phone;
use super::quiet_hours::QuietHours;
use crate::i18n::Language;

/// Who may post to the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum, Default)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Mode {
    /// Every member's text goes to the whole group.
    #[default]
    Open,
    /// Only captains post; members' replies go privately to the captains.
    AnnounceOnly,
}

/// How a neighbor gets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum, Default)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum JoinPolicy {
    /// Anyone may ask; a captain approves each request.
    #[default]
    Approval,
    /// Only people a captain invited may ask.
    InviteOnly,
    /// Requests are approved as soon as the phone is verified.
    Open,
}

/// Lifecycle of a neighborhood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum NeighborhoodState {
    /// Texting works.
    Active,
    /// Closed for good: its Conversations are closed; its number released or handed back.
    Archived,
}

/// One Twilio Conversation of a neighborhood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub conversation_sid: String,
    pub unique_name: String,
}

/// The stored neighborhood. `version` guards read-modify-write against concurrent updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighborhood {
    pub id: Uuid,
    pub version: u64,
    pub slug: Slug,
    pub name: NeighborhoodName,
    pub description: Description,
    pub phone_number: Phone,
    pub phone_number_sid: String,
    /// A number of the account registered as a WhatsApp sender, through which WhatsApp members
    /// are in the group; none: every member is on SMS.
    #[serde(default)]
    pub whatsapp_sender: Option<Phone>,
    /// The language of texts to people whose own we do not know yet.
    #[serde(default)]
    pub default_language: Language,
    /// True when we bought the number for this neighborhood, false when the account already owned it.
    pub number_bought: bool,
    pub shards: Vec<Shard>,
    pub mode: Mode,
    pub join_policy: JoinPolicy,
    /// What the join page asks beyond name, phone and address.
    #[serde(default)]
    pub join_questions: Vec<JoinQuestion>,
    /// What a newly approved member gets of the recent messages.
    #[serde(default)]
    pub catch_up: CatchUp,
    /// The monthly cost cap (in micro-dollars); None: no cap. At 80 % and 100 % the captains
    /// are told; at 100 % announcements are held.
    #[serde(default, rename = "monthly_budget_micros")]
    pub monthly_budget: Option<Money>,
    /// When announcements wait (None: they never do).
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    pub state: NeighborhoodState,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Conversation UniqueName of a shard: derived from the neighborhood id, so a retried or
/// repeated create finds the Conversation it already made instead of making a second one.
impl Neighborhood {
    /// Where members on `channel` are reached from: the number, or `whatsapp:` and the WhatsApp
    /// sender; None on WhatsApp while the neighborhood has no sender.
    /// The language to text someone in: theirs when known, else the neighborhood's default.
    pub fn language_for(&self, known: Option<Language>) -> Language {
        known.unwrap_or(self.default_language)
    }

    pub fn proxy_address(&self, channel: Channel) -> Option<String> {
        match channel {
            Channel::Sms => Some(self.phone_number.as_str().to_owned()),
            Channel::Whatsapp => self
                .whatsapp_sender
                .as_ref()
                .map(|sender| channel.address(sender)),
        }
    }
}

pub fn shard_unique_name(id: Uuid, index: usize) -> String {
    format!("nb-{}-{index}", id.simple())
}

macro_rules! text_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

/// A neighborhood's display name: 1 to 80 characters, no line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NeighborhoodName(String);

impl NeighborhoodName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(ParseError::new("Give the neighborhood a name."));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "A name has at most {} characters.",
                Self::MAX_CHARS
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(ParseError::new("A name is one line of text."));
        }
        Ok(Self(name.to_owned()))
    }
}
text_newtype!(NeighborhoodName);

/// What the neighborhood is about: at most 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let text = input.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(format!(
                "A description has at most {} characters.",
                Self::MAX_CHARS
            )));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ParseError::new(
                "A description may not contain control characters.",
            ));
        }
        Ok(Self(text.to_owned()))
    }
}
text_newtype!(Description);

/// The part of `/join/{slug}`: 3 to 40 lowercase letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub const MAX_CHARS: usize = 40;

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let valid = (3..=Self::MAX_CHARS).contains(&input.len())
            && input
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !input.starts_with('-')
            && !input.ends_with('-')
            && !input.contains("--");
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(ParseError::new(
                "A link name is 3 to 40 lowercase letters, digits and single hyphens, like `elm-street`.",
            ))
        }
    }

    /// A slug made from a name (`Elm Street Block Club!` → `elm-street-block-club`); names with
    /// too few ASCII letters fall back to `neighborhood`.
    pub fn from_name(name: &NeighborhoodName) -> Self {
        let mut slug = String::new();
        for c in name.as_str().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug: String = slug.chars().take(Self::MAX_CHARS - 8).collect();
        while slug.ends_with('-') {
            slug.pop();
        }
        Self::parse(&slug).unwrap_or_else(|_| Self("neighborhood".into()))
    }

    /// An alternative when this slug is taken: `elm-street-2`, `elm-street-3`, ... The base is
    /// at most 32 characters, so a suffix of up to 7 characters keeps a valid slug.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }
}
text_newtype!(Slug);

/// A US area code to buy a local number in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaCode(String);

impl AreaCode {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let code = input.trim();
        let valid = code.len() == 3
            && code.bytes().all(|b| b.is_ascii_digit())
            && !code.starts_with(['0', '1']);
        if valid {
            Ok(Self(code.to_owned()))
        } else {
            Err(ParseError::new(
                "An area code is three digits and does not start with 0 or 1, like 415.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            NeighborhoodName::parse("  Elm Street ").unwrap().as_str(),
            "Elm Street"
        );
        assert!(NeighborhoodName::parse("   ").is_err());
        assert!(NeighborhoodName::parse(&"x".repeat(81)).is_err());
        assert!(NeighborhoodName::parse("two\nlines").is_err());
    }

    #[test]
    fn slugs_come_from_names() {
        let name = NeighborhoodName::parse("Elm Street — Block Club!").unwrap();
        assert_eq!(Slug::from_name(&name).as_str(), "elm-street-block-club");
        let name = NeighborhoodName::parse("Ñ").unwrap();
        assert_eq!(Slug::from_name(&name).as_str(), "neighborhood");
        let long = NeighborhoodName::parse(&"abc ".repeat(20)).unwrap();
        assert!(Slug::from_name(&long).as_str().len() <= Slug::MAX_CHARS - 4);
        assert_eq!(Slug::parse("elm").unwrap().with_suffix(2).as_str(), "elm-2");
        let longest = Slug::from_name(&NeighborhoodName::parse(&"word ".repeat(15)).unwrap());
        assert!(
            Slug::parse(longest.with_suffix(999_999).as_str()).is_ok(),
            "a suffixed slug stays valid"
        );
    }

    #[test]
    fn bad_slugs_and_area_codes_are_refused() {
        for slug in ["ab", "Elm", "elm--st", "-elm", "elm-", "elm st"] {
            assert!(Slug::parse(slug).is_err(), "{slug}");
        }
        assert!(AreaCode::parse("415").is_ok());
        for code in ["015", "4155", "41a", ""] {
            assert!(AreaCode::parse(code).is_err(), "{code}");
        }
    }

    #[test]
    fn shard_names_are_stable() {
        let id = Uuid::nil();
        assert_eq!(
            shard_unique_name(id, 0),
            "nb-00000000000000000000000000000000-0"
        );
    }
}
