//! The rules of the member list: what a search matches (accents, case and phone formatting
//! ignored), the orders it can be read in, how many members stand where, and which members look
//! like the same person twice. Pure: the service reads the roster and applies these.

use std::cmp::Ordering;
use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

use super::member::{Member, MemberStatus, Role};

/// The orders the member list can be read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum MemberSort {
    /// By display name, A to Z, ignoring case and accents.
    Name,
    /// Most recently joined first.
    Newest,
    /// In joining order, the first member first.
    #[default]
    Oldest,
}

/// Text as it is compared in searches and duplicate checks: compatibility forms unfolded
/// (fullwidth letters, ligatures), accents dropped, lower case. "Núñez" and "NUNEZ" fold alike.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The digits of `text`, for comparing phone numbers however they are written.
fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Whether `text` is written like (part of) a phone number: digits and the usual separators.
fn looks_like_phone(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// What the member list is narrowed to; `None` matches everyone.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Part of a name, or for captains of a phone number or street address.
    pub text: Option<String>,
    pub status: Option<MemberStatus>,
    pub role: Option<Role>,
}

/// A search prepared once for the whole roster.
pub struct Matcher<'a> {
    filter: &'a MemberFilter,
    folded: Option<String>,
    phone_digits: Option<String>,
    captain_view: bool,
}

impl<'a> Matcher<'a> {
    /// `captain_view`: the reader sees phones and addresses, so the search may match them.
    pub fn new(filter: &'a MemberFilter, captain_view: bool) -> Self {
        let text = filter
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        Matcher {
            filter,
            folded: text.map(fold),
            phone_digits: text.filter(|t| looks_like_phone(t)).map(digits),
            captain_view,
        }
    }

    pub fn matches(&self, member: &Member) -> bool {
        self.filter
            .status
            .is_none_or(|status| member.status == status)
            && self.filter.role.is_none_or(|role| member.role == role)
            && self.text_matches(member)
    }

    fn text_matches(&self, member: &Member) -> bool {
        let Some(folded) = &self.folded else {
            return true;
        };
        if fold(member.display_name.as_str()).contains(folded.as_str()) {
            return true;
        }
        if !self.captain_view {
            return false;
        }
        let phone_matches = self
            .phone_digits
            .as_deref()
            .is_some_and(|wanted| digits(member.phone.as_str()).contains(wanted));
        phone_matches
            || member
                .address
                .as_deref()
                .is_some_and(|address| fold(address).contains(folded.as_str()))
    }
}

/// Puts `members` in `sort` order. Every order ends in the id, so it is total and stable for
/// paging.
pub fn sort_members(members: &mut [Member], sort: MemberSort) {
    match sort {
        MemberSort::Name => {
            members.sort_by_cached_key(|member| (fold(member.display_name.as_str()), member.id))
        }
        MemberSort::Newest => members.sort_by_key(|member| std::cmp::Reverse(member.id)),
        MemberSort::Oldest => members.sort_by_key(|member| member.id),
    }
}

/// Whether `member` comes after `cursor` (the last member of the previous page) in `sort` order.
pub fn comes_after(member: &Member, cursor: &Member, sort: MemberSort) -> bool {
    let order = match sort {
        MemberSort::Name => fold(member.display_name.as_str())
            .cmp(&fold(cursor.display_name.as_str()))
            .then(member.id.cmp(&cursor.id)),
        MemberSort::Newest => cursor.id.cmp(&member.id),
        MemberSort::Oldest => member.id.cmp(&cursor.id),
    };
    order == Ordering::Greater
}

/// How many members stand where, over the whole neighborhood.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// In the group text: what the home page calls the neighborhood's members.
    pub active: u32,
    pub paused: u32,
    pub left: u32,
    pub removed: u32,
    pub opted_out: u32,
}

impl StatusCounts {
    pub fn of(members: &[Member]) -> Self {
        let mut counts = StatusCounts::default();
        for member in members {
            *match member.status {
                MemberStatus::Active => &mut counts.active,
                MemberStatus::Paused => &mut counts.paused,
                MemberStatus::Left => &mut counts.left,
                MemberStatus::Removed => &mut counts.removed,
                MemberStatus::OptedOut => &mut counts.opted_out,
            } += 1;
        }
        counts
    }
}

/// What two members have in common that makes them look like one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum Sameness {
    /// The same name, ignoring case, accents and the number added to tell names apart
    /// ("Maria Garcia" and "María García 2").
    Name,
    /// The same street address, ignoring case, accents and punctuation.
    Address,
}

/// The member someone looks like a duplicate of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    pub id: Uuid,
    pub display_name: String,
    pub same: Sameness,
}

/// A name as compared for duplicates: folded, and without the " 2" a second "Maria Garcia" is
/// given to keep names unique (at most two digits, so "Neighbor 2042" stays itself).
fn name_likeness(name: &str) -> String {
    let folded = fold(name);
    let words: Vec<&str> = folded.split_whitespace().collect();
    let without_number = match words.split_last() {
        Some((last, rest))
            if !rest.is_empty() && last.len() <= 2 && last.chars().all(|c| c.is_ascii_digit()) =>
        {
            rest
        }
        _ => &words[..],
    };
    without_number.join(" ")
}

/// An address as compared for duplicates: folded, letters and digits only, single-spaced.
fn address_likeness(address: &str) -> String {
    fold(address)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// For each member in or paused from the group who shares a name (or, when `by_address`, a street
/// address) with another such member, the first other one in joining order. Members who left or
/// were removed are not compared: they are not in the group twice.
pub fn lookalikes(members: &[Member], by_address: bool) -> HashMap<Uuid, Lookalike> {
    let mut current: Vec<&Member> = members
        .iter()
        .filter(|m| matches!(m.status, MemberStatus::Active | MemberStatus::Paused))
        .collect();
    current.sort_by_key(|m| m.id);
    let mut by_name: HashMap<String, Vec<&Member>> = HashMap::new();
    let mut by_place: HashMap<String, Vec<&Member>> = HashMap::new();
    for member in &current {
        by_name
            .entry(name_likeness(member.display_name.as_str()))
            .or_default()
            .push(member);
        if let Some(address) = member.address.as_deref().filter(|_| by_address) {
            let key = address_likeness(address);
            if !key.is_empty() {
                by_place.entry(key).or_default().push(member);
            }
        }
    }
    let mut found = HashMap::new();
    for (groups, same) in [(by_name, Sameness::Name), (by_place, Sameness::Address)] {
        for group in groups.values().filter(|group| group.len() > 1) {
            for member in group {
                let Some(other) = group.iter().find(|other| other.id != member.id) else {
                    continue;
                };
                found.entry(member.id).or_insert_with(|| Lookalike {
                    id: other.id,
                    display_name: other.display_name.as_str().to_owned(),
                    same,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::{DisplayName, SyncState};
    use crate::domain::phone::Phone;

    fn member(name: &str, phone: &str, address: Option<&str>) -> Member {
        let now = time::OffsetDateTime::now_utc();
        Member {
            language: None,
            id: Uuid::now_v7(),
            neighborhood_id: Uuid::nil(),
            phone: Phone::parse(phone).expect("a phone"),
            channel: Default::default(),
            display_name: DisplayName::parse(name).expect("a name"),
            role: Role::Member,
            status: MemberStatus::Active,
            joined_at: now,
            updated_at: now,
            participant: None,
            sync: SyncState::Done,
            address: address.map(str::to_owned),
            answers: Default::default(),
            consent: None,
            status_reason: None,
            join_request_texts: false,
            join_request_cadence: crate::domain::join_digest::JoinRequestNotices::Each,
            muted: false,
            delivery: None,
        }
    }

    fn search(text: &str, captain_view: bool, member: &Member) -> bool {
        let filter = MemberFilter {
            text: Some(text.to_owned()),
            ..Default::default()
        };
        Matcher::new(&filter, captain_view).matches(member)
    }

    #[test]
    fn a_search_ignores_accents_case_and_phone_formatting() {
        let nunez = member("José Núñez", "+14155552042", Some("5 Álamo Way"));
        for text in ["nunez", "NÚÑEZ", "jose n", "Ｎｕｎｅｚ"] {
            assert!(search(text, false, &nunez), "{text}");
        }
        for text in [
            "555-2042",
            "(415) 555-2042",
            "+1 415 555 2042",
            "4155552042",
            "alamo",
        ] {
            assert!(search(text, true, &nunez), "{text}");
            assert!(!search(text, false, &nunez), "{text} needs a captain");
        }
        for text in ["555-2043", "nunes", "2042 x"] {
            assert!(!search(text, true, &nunez), "{text}");
        }
    }

    #[test]
    fn the_name_order_ignores_case_and_accents_and_pages_after_any_member() {
        let mut members = vec![
            member("zoe", "+14155550001", None),
            member("Émile", "+14155550002", None),
            member("adam", "+14155550003", None),
            member("Bea", "+14155550004", None),
        ];
        sort_members(&mut members, MemberSort::Name);
        let names: Vec<&str> = members.iter().map(|m| m.display_name.as_str()).collect();
        assert_eq!(names, ["adam", "Bea", "Émile", "zoe"]);
        assert!(comes_after(&members[2], &members[1], MemberSort::Name));
        assert!(!comes_after(&members[1], &members[1], MemberSort::Name));
        let mut newest = members.clone();
        sort_members(&mut newest, MemberSort::Newest);
        assert_eq!(newest[0].display_name.as_str(), "Bea");
        assert!(comes_after(&newest[1], &newest[0], MemberSort::Newest));
    }

    #[test]
    fn same_names_and_addresses_are_flagged_but_not_numbered_strangers() {
        let maria = member("Maria Garcia", "+14155550001", Some("12 Elm St."));
        let maria_again = member("María García 2", "+14155550002", None);
        let housemate = member("Ben Ng", "+14155550003", Some("12 elm st"));
        let stranger = member("Neighbor 2042", "+14155552042", None);
        let other_stranger = member("Neighbor 2043", "+14155552043", None);
        let mut gone = member("Ben Ng 2", "+14155550004", None);
        gone.status = MemberStatus::Removed;
        let members = [
            maria.clone(),
            maria_again.clone(),
            housemate.clone(),
            stranger.clone(),
            other_stranger,
            gone,
        ];
        let found = lookalikes(&members, true);
        assert_eq!(found[&maria.id].id, maria_again.id);
        assert_eq!(found[&maria_again.id].id, maria.id);
        assert_eq!(found[&maria.id].same, Sameness::Name);
        assert_eq!(found[&housemate.id].id, maria.id);
        assert_eq!(found[&housemate.id].same, Sameness::Address);
        assert!(!found.contains_key(&stranger.id), "{found:?}");
        assert_eq!(found.len(), 3, "{found:?}");
        let without_addresses = lookalikes(&members, false);
        assert!(!without_addresses.contains_key(&housemate.id));
    }

    #[test]
    fn counts_by_status_cover_everyone() {
        let mut paused = member("P", "+14155550001", None);
        paused.status = MemberStatus::Paused;
        let counts = StatusCounts::of(&[member("A", "+14155550002", None), paused]);
        assert_eq!((counts.active, counts.paused, counts.removed), (1, 1, 0));
    }
}
