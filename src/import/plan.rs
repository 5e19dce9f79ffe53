//! What an import does with one row, given what is stored for its phone. Pure: a dry run and the
//! real run decide alike, and the real run decides again (from a fresh read) only when a row
//! changed under it.
//!
//! The rules: a phone is one person. An active or paused member, or an open join request, is
//! updated in place (name, address, answers; an empty cell changes nothing). A former member
//! (left, removed, opted out) is never added back or changed by an import: a row that matches
//! them is reported unchanged, with why they stay out, and any other row is rejected. A new phone
//! becomes a join request waiting for a captain, or, when the captain attests consent, a member.

use std::collections::{BTreeMap, HashSet};

use poem_openapi::Enum;
use time::OffsetDateTime;
use uuid::Uuid;

use super::columns::Candidate;
use crate::domain::join_request::{Consent, JoinChannel, JoinRequest, JoinState};
use crate::domain::member::{
    Admission, ConsentRecord, DisplayName, Member, MemberStatus, name_key,
};
use crate::domain::neighborhood::Neighborhood;
use crate::i18n::Language;
use crate::services::members;
pub use crate::store::import::Stored;
use crate::store::outbox::Effect;

/// Who imports, and how.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub neighborhood: &'a Neighborhood,
    /// The captain attests that everyone new in the file agreed to the group's texts.
    pub attest_consent: bool,
    /// The importing principal, as the audit log names it.
    pub actor: &'a str,
    /// Where the import came from.
    pub ip: &'a str,
    pub now: OffsetDateTime,
}

/// What a row is, or becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Record {
    /// A member of the neighborhood.
    Member,
    /// A join request waiting for a captain.
    JoinRequest,
}

/// What one row changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new member with consent attested by the importing captain; their joining the group
    /// text and a welcome text go through the outbox.
    AddMember {
        member: Member,
        effects: Vec<Effect>,
    },
    /// A new join request waiting for a captain; its short number is given when it is written.
    AddRequest(JoinRequest),
    UpdateMember {
        before: String,
        after: Member,
        changed: Vec<&'static str>,
    },
    UpdateRequest {
        before: String,
        after: JoinRequest,
        changed: Vec<&'static str>,
    },
    Unchanged {
        record: Record,
        /// Why the row changes nothing though it differs from what a captain may expect.
        note: Option<String>,
    },
    Rejected {
        reason: String,
    },
}

/// The display names members use (by their `name_key`), kept up to date as rows are planned so that new
/// and renamed members get a name no other member has, as joining does.
#[derive(Debug, Clone, Default)]
pub struct Names(HashSet<String>);

impl Names {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        Self(names.into_iter().map(|n| name_key(&n)).collect())
    }

    /// The name `wanted` becomes for a member called `current` (None: a new member).
    fn unique(&self, wanted: &DisplayName, current: Option<&DisplayName>) -> DisplayName {
        if current.is_some_and(|current| current == wanted) {
            return wanted.clone();
        }
        wanted.clone().unique_where(|candidate| {
            let candidate = name_key(candidate);
            self.0.contains(&candidate) && current.is_none_or(|current| current.key() != candidate)
        })
    }

    fn rename(&mut self, old: Option<&DisplayName>, new: &DisplayName) {
        if let Some(old) = old {
            self.0.remove(&old.key());
        }
        self.0.insert(new.key());
    }
}

/// Decides what `candidate` changes, given what is `stored` for its phone.
pub fn plan(candidate: &Candidate, stored: Stored, names: &mut Names, context: &Context) -> Change {
    let Stored { member, request } = stored;
    if let Some(reason) = channel_refusal(candidate, member.as_ref().map(|(_, m)| m), context) {
        return Change::Rejected { reason };
    }
    match (member, request) {
        (Some((before, member)), _)
            if matches!(member.status, MemberStatus::Active | MemberStatus::Paused) =>
        {
            let (after, changed) = edited_member(&member, candidate, names, context.now);
            if changed.is_empty() {
                return Change::Unchanged {
                    record: Record::Member,
                    note: None,
                };
            }
            names.rename(Some(&member.display_name), &after.display_name);
            Change::UpdateMember {
                before,
                after,
                changed,
            }
        }
        (_, Some((before, request))) => {
            let (after, changed) = edited_request(&request, candidate);
            if changed.is_empty() {
                Change::Unchanged {
                    record: Record::JoinRequest,
                    note: None,
                }
            } else {
                Change::UpdateRequest {
                    before,
                    after,
                    changed,
                }
            }
        }
        (Some((_, former)), None) => {
            let reason = why_they_stay_out(former.status);
            let (_, changed) = edited_member(&former, candidate, names, context.now);
            if changed.is_empty() {
                Change::Unchanged {
                    record: Record::Member,
                    note: Some(reason),
                }
            } else {
                Change::Rejected { reason }
            }
        }
        (None, None) if context.attest_consent => new_member(candidate, names, context),
        (None, None) => Change::AddRequest(new_request(candidate, context)),
    }
}

/// Why the row's channel cannot be taken: WhatsApp without the neighborhood's WhatsApp sender,
/// or a member moved between channels (their participant would have to be replaced).
fn channel_refusal(
    candidate: &Candidate,
    member: Option<&Member>,
    context: &Context,
) -> Option<String> {
    let wanted = candidate.channel?;
    if let Some(member) = member.filter(|m| m.channel != wanted) {
        return Some(format!(
            "{} is on {}: an import does not move a member to {}.",
            member.display_name.as_str(),
            member.channel.label(),
            wanted.label()
        ));
    }
    context
        .neighborhood
        .proxy_address(wanted)
        .is_none()
        .then(|| "WhatsApp: this neighborhood has no WhatsApp sender yet (Settings).".to_owned())
}

fn why_they_stay_out(status: MemberStatus) -> String {
    match status {
        MemberStatus::OptedOut => {
            "Texted STOP: an import never adds them back (they can text START to ask in again)."
        }
        MemberStatus::Left => {
            "Left the group (texted LEAVE): an import never adds them back; they can text JOIN to ask in again."
        }
        _ => {
            "Removed by a captain: an import never adds them back; add them directly if that was a mistake."
        }
    }
    .to_owned()
}

/// The member with the row's details, and the fields that changed.
fn edited_member(
    member: &Member,
    candidate: &Candidate,
    names: &Names,
    now: OffsetDateTime,
) -> (Member, Vec<&'static str>) {
    let mut after = member.clone();
    let mut changed = Vec::new();
    let name = names.unique(&candidate.name, Some(&member.display_name));
    if name != member.display_name {
        after.display_name = name;
        changed.push("name");
    }
    edit_details(
        (&mut after.address, &mut after.language),
        &mut after.answers,
        candidate,
        &mut changed,
    );
    if !changed.is_empty() {
        after.updated_at = now;
    }
    (after, changed)
}

/// The request with the row's details, and the fields that changed.
fn edited_request(
    request: &JoinRequest,
    candidate: &Candidate,
) -> (JoinRequest, Vec<&'static str>) {
    let mut after = request.clone();
    let mut changed = Vec::new();
    if candidate.name != request.name {
        after.name = candidate.name.clone();
        changed.push("name");
    }
    edit_details(
        (&mut after.address, &mut after.language),
        &mut after.answers,
        candidate,
        &mut changed,
    );
    (after, changed)
}

/// Applies the row's address and answers, noting which changed. Empty cells change nothing.
fn edit_details(
    (address, language): (&mut Option<String>, &mut Option<Language>),
    answers: &mut BTreeMap<String, String>,
    candidate: &Candidate,
    changed: &mut Vec<&'static str>,
) {
    if let Some(new) = candidate.language
        && *language != Some(new)
    {
        *language = Some(new);
        changed.push("language");
    }
    if let Some(new) = &candidate.address
        && address.as_ref() != Some(new)
    {
        *address = Some(new.clone());
        changed.push("address");
    }
    let mut answers_changed = false;
    for (question, answer) in &candidate.answers {
        if answers.get(question) != Some(answer) {
            answers.insert(question.clone(), answer.clone());
            answers_changed = true;
        }
    }
    if answers_changed {
        changed.push("answers");
    }
}

fn new_member(candidate: &Candidate, names: &mut Names, context: &Context) -> Change {
    let name = names.unique(&candidate.name, None);
    names.rename(None, &name);
    let neighborhood = context.neighborhood;
    let consent = ConsentRecord {
        channel: JoinChannel::Import,
        evidence: Consent {
            text: format!(
                "A captain ({}) attests this neighbor agreed to receive {}'s group texts (imported from a spreadsheet).",
                context.actor,
                neighborhood.name.as_str()
            ),
            at: context.now,
            ip: Some(context.ip.to_owned()),
            message_sid: None,
        },
        approved_by: Some(context.actor.to_owned()),
    };
    let admission = Admission {
        language: candidate.language,
        channel: candidate.channel,
        neighborhood_id: neighborhood.id,
        phone: candidate.phone.clone(),
        name,
        address: candidate.address.clone(),
        answers: candidate.answers.clone(),
        consent: Some(consent),
        back_in: String::new(),
    };
    // Made unique by `names` already, which keeps the names of thousands of rows as a set.
    let member = admission.member(None, |_| false);
    // As a captain adding a member directly: into a Conversation with room, and welcomed.
    let effects = members::admission_effects(neighborhood, &member);
    Change::AddMember { member, effects }
}

fn new_request(candidate: &Candidate, context: &Context) -> JoinRequest {
    let neighborhood = context.neighborhood;
    JoinRequest {
        language: candidate.language,
        id: Uuid::now_v7(),
        number: 0,
        neighborhood_id: neighborhood.id,
        phone: candidate.phone.clone(),
        member_channel: candidate.channel.unwrap_or_default(),
        name: candidate.name.clone(),
        address: candidate.address.clone(),
        answers: candidate.answers.clone(),
        channel: JoinChannel::Import,
        // The captain vouches for the phone: no code is texted to confirm it.
        state: JoinState::Pending,
        consent: Consent {
            text: format!(
                "Imported from a spreadsheet by a captain ({}) without attested consent: approving this request attests the neighbor agreed to receive {}'s group texts.",
                context.actor,
                neighborhood.name.as_str()
            ),
            at: context.now,
            ip: Some(context.ip.to_owned()),
            message_sid: None,
        },
        created_at: context.now,
        decided_by: None,
        decided_at: None,
        member_id: None,
        previously: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::Role;
    use crate::domain::phone::Phone;

    fn neighborhood() -> Neighborhood {
        serde_json::from_value(serde_json::json!({
            "id": Uuid::nil(), "version": 1, "slug": "elm", "name": "Elm Street",
            "description": "", "phone_number": "+14155550000", "phone_number_sid": "PN1",
            "number_bought": true, "shards": [], "mode": "open", "join_policy": "approval",
            "state": "active", "created_at": "2026-11-21T10:00:00Z",
            "updated_at": "2026-11-21T10:00:00Z"
        }))
        .expect("a neighborhood")
    }

    fn candidate(phone: &str, name: &str) -> Candidate {
        Candidate {
            row: 2,
            phone: Phone::parse(phone).unwrap(),
            name: DisplayName::parse(name).unwrap(),
            address: None,
            channel: None,
            language: None,
            answers: BTreeMap::new(),
        }
    }

    fn member(phone: &str, name: &str, status: MemberStatus) -> Stored {
        let member = Member {
            status,
            ..Member::joining(
                Uuid::nil(),
                Phone::parse(phone).unwrap(),
                DisplayName::parse(name).unwrap(),
                Role::Member,
            )
        };
        Stored {
            member: Some((crate::store::encode(&member), member)),
            request: None,
        }
    }

    fn context(neighborhood: &Neighborhood, attest_consent: bool) -> Context<'_> {
        Context {
            neighborhood,
            attest_consent,
            actor: "phone:+15550000001",
            ip: "127.0.0.1",
            now: OffsetDateTime::now_utc(),
        }
    }

    #[test]
    fn a_member_is_updated_in_place_and_the_same_row_again_changes_nothing() {
        let place = neighborhood();
        let context = context(&place, true);
        let mut names = Names::new(["Ana".to_owned(), "Ben".to_owned()]);
        let mut row = candidate("+15550001111", "Ana");
        row.address = Some("1 Elm".into());
        let stored = member("+15550001111", "Ana", MemberStatus::Active);
        let Change::UpdateMember { after, changed, .. } = plan(&row, stored, &mut names, &context)
        else {
            panic!("expected an update");
        };
        assert_eq!(changed, ["address"]);
        let again = Stored {
            member: Some((crate::store::encode(&after), after)),
            request: None,
        };
        assert_eq!(
            plan(&row, again, &mut names, &context),
            Change::Unchanged {
                record: Record::Member,
                note: None
            }
        );
        let renamed = plan(
            &candidate("+15550001111", "ben"),
            member("+15550001111", "Ana", MemberStatus::Active),
            &mut names,
            &context,
        );
        let Change::UpdateMember { after, .. } = renamed else {
            panic!("expected a rename");
        };
        assert_eq!(after.display_name.as_str(), "ben 2", "names stay unique");
    }

    #[test]
    fn former_members_are_never_added_back() {
        let place = neighborhood();
        let context = context(&place, true);
        let mut names = Names::default();
        let same = plan(
            &candidate("+15550001111", "Ana"),
            member("+15550001111", "Ana", MemberStatus::OptedOut),
            &mut names,
            &context,
        );
        assert!(
            matches!(&same, Change::Unchanged { note: Some(note), .. } if note.starts_with("Texted STOP")),
            "{same:?}"
        );
        let different = plan(
            &candidate("+15550001111", "Ana Ruiz"),
            member("+15550001111", "Ana", MemberStatus::Left),
            &mut names,
            &context,
        );
        assert!(
            matches!(&different, Change::Rejected { reason } if reason.contains("LEAVE")),
            "{different:?}"
        );
    }

    #[test]
    fn new_phones_become_requests_or_with_attested_consent_members() {
        let place = neighborhood();
        let mut names = Names::new(["Ana".to_owned()]);
        let row = candidate("+15550002222", "Ana");
        let Change::AddRequest(request) =
            plan(&row, Stored::default(), &mut names, &context(&place, false))
        else {
            panic!("expected a request");
        };
        assert_eq!(
            (request.channel, request.state, request.name.as_str()),
            (JoinChannel::Import, JoinState::Pending, "Ana")
        );
        let Change::AddMember { member, effects } =
            plan(&row, Stored::default(), &mut names, &context(&place, true))
        else {
            panic!("expected a member");
        };
        assert_eq!(member.display_name.as_str(), "Ana 2");
        let consent = member.consent.expect("consent");
        assert_eq!(consent.channel, JoinChannel::Import);
        assert!(consent.evidence.text.contains("attests"));
        assert_eq!(effects.len(), 2);
    }

    #[test]
    fn an_open_request_is_updated_not_duplicated() {
        let place = neighborhood();
        let context = context(&place, true);
        let mut names = Names::default();
        let request = new_request(&candidate("+15550003333", "Cy"), &context);
        let stored = Stored {
            member: None,
            request: Some((crate::store::encode(&request), request)),
        };
        let Change::UpdateRequest { after, changed, .. } = plan(
            &candidate("+15550003333", "Cyrus"),
            stored,
            &mut names,
            &context,
        ) else {
            panic!("expected an update");
        };
        assert_eq!((after.name.as_str(), changed), ("Cyrus", vec!["name"]));
    }
}
