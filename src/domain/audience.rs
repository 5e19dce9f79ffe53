//! Who an announcement goes to: the whole group (its Conversations, as every group message), or
//! a chosen set of members, each texted 1:1 from the neighborhood's number.
//!
//! A chosen set is named by rule (streets, roles) or by member id, and is resolved against the
//! members when the announcement goes out: a neighbor who moved onto the street since it was
//! scheduled gets it, one who left does not. Only active members are texted (a member who texted
//! STOP, left, was removed or is paused is not).
//!
//! Streets come from the free-text addresses members gave: the house number and any unit are
//! dropped and the usual suffixes abbreviated, so "12 Elm Avenue" and "40 elm ave., Apt 2" are
//! both on "Elm Ave".

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ParseError;
use super::member::{Member, MemberStatus, Role};

/// At most this many streets, or members picked by id, in one audience.
pub const MAX_STREETS: usize = 50;
pub const MAX_PICKED: usize = 2_000;

/// A chosen set of members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// Members living on any of these streets (street keys, see [`Street::key`]).
    Streets { streets: BTreeSet<String> },
    /// Members holding any of these roles.
    Roles { roles: BTreeSet<Role> },
    /// These members.
    Members { member_ids: BTreeSet<Uuid> },
}

/// A street as parsed from an address: a key to match on and a name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Street {
    /// Lower case, suffix abbreviated: `elm ave`.
    pub key: String,
    /// As people read it: `Elm Ave`.
    pub name: String,
}

/// Usual street suffixes and directions, written out, with their abbreviation.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("street", "st"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("road", "rd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("boulevard", "blvd"),
    ("place", "pl"),
    ("terrace", "ter"),
    ("circle", "cir"),
    ("parkway", "pkwy"),
    ("highway", "hwy"),
    ("square", "sq"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
];

/// Words that start a unit rather than a street ("Apt 4", "Unit B", "#3").
const UNIT_WORDS: &[&str] = &[
    "apt",
    "apartment",
    "unit",
    "suite",
    "ste",
    "fl",
    "floor",
    "#",
];

fn is_unit_word(word: &str) -> bool {
    let word = word.trim_end_matches('.').to_lowercase();
    UNIT_WORDS.contains(&word.as_str()) || word.starts_with('#')
}

/// A house number: `12`, `12B`, `12-14`, `1/2`.
fn is_house_number(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit()) && !is_ordinal(word)
}

/// `5th`, `21st`: part of a street name, not a house number.
fn is_ordinal(word: &str) -> bool {
    let lower = word.to_lowercase();
    let digits = lower.trim_start_matches(|c: char| c.is_ascii_digit());
    digits.len() < lower.len() && ["st", "nd", "rd", "th"].contains(&digits)
}

fn title(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Street {
    /// The street of an address, or None when it names none (a bare number, a PO box line).
    pub fn of(address: &str) -> Option<Self> {
        let line = address.split([',', '\n']).map(str::trim).find(|part| {
            part.split_whitespace()
                .next()
                .is_some_and(|w| !is_unit_word(w))
        })?;
        let words: Vec<&str> = line
            .split_whitespace()
            .skip_while(|w| is_house_number(w))
            .take_while(|w| !is_unit_word(w))
            .collect();
        if !words
            .iter()
            .any(|w| w.chars().any(char::is_alphabetic) && !is_ordinal(w))
        {
            return None;
        }
        let normalized: Vec<String> = words
            .iter()
            .map(|word| {
                let lower = word.trim_end_matches(['.', ';']).to_lowercase();
                ABBREVIATIONS
                    .iter()
                    .find(|(long, _)| *long == lower)
                    .map_or(lower.clone(), |(_, short)| (*short).to_owned())
            })
            .filter(|word| !word.is_empty())
            .collect();
        Some(Self {
            key: normalized.join(" "),
            name: normalized
                .iter()
                .map(|w| title(w))
                .collect::<Vec<_>>()
                .join(" "),
        })
    }
}

/// Whether texts go to this member at all: active (not left, removed, paused or opted out).
pub fn reachable(member: &Member) -> bool {
    member.status == MemberStatus::Active
}

impl Audience {
    /// Streets named by a captain (as shown or as keyed), checked: 1 to [`MAX_STREETS`].
    pub fn streets(names: &[String]) -> Result<Self, ParseError> {
        let streets: BTreeSet<String> = names
            .iter()
            .filter_map(|name| Street::of(name).map(|street| street.key))
            .collect();
        if streets.is_empty() || names.len() > MAX_STREETS {
            return Err(ParseError::new(format!(
                "Choose 1 to {MAX_STREETS} streets, as the list of streets names them."
            )));
        }
        Ok(Self::Streets { streets })
    }

    pub fn roles(roles: &[Role]) -> Result<Self, ParseError> {
        if roles.is_empty() {
            return Err(ParseError::new("Choose at least one role."));
        }
        Ok(Self::Roles {
            roles: roles.iter().copied().collect(),
        })
    }

    pub fn members(ids: &[Uuid]) -> Result<Self, ParseError> {
        if ids.is_empty() || ids.len() > MAX_PICKED {
            return Err(ParseError::new(format!("Pick 1 to {MAX_PICKED} members.")));
        }
        Ok(Self::Members {
            member_ids: ids.iter().copied().collect(),
        })
    }

    /// Whether `member` belongs to the audience (reachable or not).
    pub fn includes(&self, member: &Member) -> bool {
        match self {
            Self::Streets { streets } => member
                .address
                .as_deref()
                .and_then(Street::of)
                .is_some_and(|street| streets.contains(&street.key)),
            Self::Roles { roles } => roles.contains(&member.role),
            Self::Members { member_ids } => member_ids.contains(&member.id),
        }
    }

    /// The members it texts, as they are now.
    pub fn recipients<'a>(&self, members: &'a [Member]) -> Vec<&'a Member> {
        members
            .iter()
            .filter(|member| reachable(member) && self.includes(member))
            .collect()
    }

    /// "14 people on Elm Ave", "2 captains or moderators", "3 chosen people": the history's
    /// line for it, with `count` recipients.
    pub fn describe(&self, count: usize, members: &[Member]) -> String {
        let people = if count == 1 { "person" } else { "people" };
        match self {
            Self::Streets { streets } => {
                let names: Vec<String> = streets
                    .iter()
                    .map(|key| street_name(key, members))
                    .collect();
                format!("{count} {people} on {}", either(&names))
            }
            Self::Roles { roles } => {
                let names: Vec<String> = roles
                    .iter()
                    .map(|role| plural(*role, count).to_owned())
                    .collect();
                format!("{count} {}", either(&names))
            }
            Self::Members { .. } => format!("{count} chosen {people}"),
        }
    }
}

/// How a street key is shown: as parsed from a member's address, or title-cased.
fn street_name(key: &str, members: &[Member]) -> String {
    members
        .iter()
        .filter_map(|m| m.address.as_deref().and_then(Street::of))
        .find(|street| street.key == key)
        .map_or_else(
            || key.split(' ').map(title).collect::<Vec<_>>().join(" "),
            |street| street.name,
        )
}

fn plural(role: Role, count: usize) -> &'static str {
    match (role, count == 1) {
        (Role::Member, true) => "member",
        (Role::Member, false) => "members",
        (Role::Moderator, true) => "moderator",
        (Role::Moderator, false) => "moderators",
        (Role::Captain, true) => "captain",
        (Role::Captain, false) => "captains",
        (Role::Owner, _) => "owner",
    }
}

/// "A", "A or B", "A, B or C".
fn either(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The streets of the reachable members, with how many live on each, by name.
pub fn streets_with_counts(members: &[Member]) -> Vec<(Street, usize)> {
    let mut counted: Vec<(Street, usize)> = Vec::new();
    for street in members
        .iter()
        .filter(|m| reachable(m))
        .filter_map(|m| m.address.as_deref().and_then(Street::of))
    {
        match counted
            .iter_mut()
            .find(|(known, _)| known.key == street.key)
        {
            Some((_, count)) => *count += 1,
            None => counted.push((street, 1)),
        }
    }
    counted.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name));
    counted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::DisplayName;
    use crate::domain::phone::Phone;

    fn street(address: &str) -> Option<(String, String)> {
        Street::of(address).map(|s| (s.key, s.name))
    }

    fn on(key: &str, name: &str) -> Option<(String, String)> {
        Some((key.to_owned(), name.to_owned()))
    }

    #[test]
    fn the_house_number_and_unit_are_dropped_and_suffixes_abbreviated() {
        assert_eq!(street("12 Elm Ave"), on("elm ave", "Elm Ave"));
        assert_eq!(street("40 elm avenue, Apt 2"), on("elm ave", "Elm Ave"));
        assert_eq!(street("12B Elm Ave."), on("elm ave", "Elm Ave"));
        assert_eq!(street("12-14 Elm Ave #3"), on("elm ave", "Elm Ave"));
        assert_eq!(street("Apt 4, 7 Oak Street"), on("oak st", "Oak St"));
        assert_eq!(
            street("221 North Maple Drive\nSpringfield"),
            on("n maple dr", "N Maple Dr")
        );
        assert_eq!(street("5 5th Street"), on("5th st", "5th St"));
        assert_eq!(street("Elm Ave"), on("elm ave", "Elm Ave"));
    }

    #[test]
    fn an_address_without_a_street_has_none() {
        assert_eq!(street("12"), None);
        assert_eq!(street("  "), None);
        assert_eq!(street("Apt 4"), None);
        assert_eq!(street("5th"), None);
    }

    fn member(address: Option<&str>, role: Role, status: MemberStatus) -> Member {
        let phone = format!("+1555000{:04}", rand_suffix());
        let mut member = Member::joining(
            Uuid::nil(),
            Phone::parse(&phone).unwrap(),
            DisplayName::parse("Neighbor").unwrap(),
            role,
        );
        member.address = address.map(str::to_owned);
        member.status = status;
        member
    }

    fn rand_suffix() -> u16 {
        (Uuid::now_v7().as_u128() % 10_000) as u16
    }

    #[test]
    fn an_audience_texts_its_active_members_only() {
        let members = vec![
            member(Some("1 Elm Ave"), Role::Member, MemberStatus::Active),
            member(Some("3 Elm Avenue"), Role::Captain, MemberStatus::Active),
            member(Some("5 Elm Ave"), Role::Member, MemberStatus::OptedOut),
            member(Some("2 Oak St"), Role::Member, MemberStatus::Active),
            member(None, Role::Moderator, MemberStatus::Active),
        ];
        let elm = Audience::streets(&["Elm Ave".to_owned()]).unwrap();
        let ids = |picked: Vec<&Member>| picked.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(
            ids(elm.recipients(&members)),
            [members[0].id, members[1].id]
        );
        assert_eq!(elm.describe(2, &members), "2 people on Elm Ave");
        let roles = Audience::roles(&[Role::Captain, Role::Moderator]).unwrap();
        assert_eq!(
            ids(roles.recipients(&members)),
            [members[1].id, members[4].id]
        );
        assert_eq!(roles.describe(2, &members), "2 moderators or captains");
        let picked = Audience::members(&[members[2].id, members[3].id]).unwrap();
        assert_eq!(ids(picked.recipients(&members)), [members[3].id]);
        assert_eq!(picked.describe(1, &members), "1 chosen person");
        let both = Audience::streets(&["elm ave".to_owned(), "2 Oak Street".to_owned()]).unwrap();
        assert_eq!(both.describe(3, &members), "3 people on Elm Ave or Oak St");
        assert_eq!(
            streets_with_counts(&members)
                .iter()
                .map(|(s, n)| (s.name.as_str(), *n))
                .collect::<Vec<_>>(),
            [("Elm Ave", 2), ("Oak St", 1)]
        );
    }

    #[test]
    fn an_empty_audience_is_refused() {
        assert!(Audience::streets(&[]).is_err());
        assert!(Audience::streets(&["12".to_owned()]).is_err());
        assert!(Audience::roles(&[]).is_err());
        assert!(Audience::members(&[]).is_err());
    }
}
