//! Members of a neighborhood and their roles.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use std::collections::BTreeMap;

use super::ParseError;
use super::channel::Channel;
use super::join_digest::JoinRequestNotices;
use super::join_request::{Consent, JoinChannel};
use super::phone::Phone;
use crate::i18n::Language;

/// What a member may do in their neighborhood, from least to most.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Enum,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Role {
    /// A neighbor in the group text.
    #[default]
    Member,
    /// Helps keep the group civil: can see who is in it.
    Moderator,
    /// Runs the neighborhood: approves, removes, promotes, changes settings.
    Captain,
    /// The one captain who can archive the neighborhood and hand it over.
    Owner,
}

impl Role {
    /// Roles that may sign in (members never have an account).
    pub fn can_sign_in(self) -> bool {
        self >= Role::Moderator
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Moderator => "moderator",
            Self::Captain => "captain",
            Self::Owner => "owner",
        }
    }
}

/// Where a member stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum MemberStatus {
    /// In the group text.
    #[default]
    Active,
    /// Left with LEAVE.
    Left,
    /// Removed by a captain.
    Removed,
    /// Texted STOP: Twilio will not deliver to them.
    OptedOut,
    /// Temporarily out of the group text.
    Paused,
}

/// A member as stored: one JSON record in the neighborhood's members hash. Ten thousand members
/// are ten thousand records, so the record is kept small: short field names (each with its
/// older long name as an alias, so records stored before still read), fields at their default
/// left out, the neighborhood left to the key, ids in simple form, times as Unix numbers (see
/// [`stored_time`]), and the consent text kept once per neighborhood (see [`ConsentRecord`]).
///
/// [`stored_time`]: super::stored_time
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    #[serde(with = "super::stored_id")]
    pub id: Uuid,
    /// Not in the record: the key it is stored under names the neighborhood, and the store sets
    /// it on reading (records stored before carry it; it reads the same).
    #[serde(skip_serializing, alias = "neighborhood_id", default)]
    pub neighborhood_id: Uuid,
    #[serde(rename = "p", alias = "phone")]
    pub phone: Phone,
    /// How they get the group's texts: SMS, or WhatsApp from the neighborhood's sender.
    #[serde(
        rename = "ch",
        alias = "channel",
        default,
        skip_serializing_if = "is_default"
    )]
    pub channel: Channel,
    /// The language of the texts we send them; unknown: the neighborhood's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    #[serde(rename = "n", alias = "display_name")]
    pub display_name: DisplayName,
    #[serde(
        rename = "r",
        alias = "role",
        default,
        skip_serializing_if = "is_default"
    )]
    pub role: Role,
    #[serde(
        rename = "s",
        alias = "status",
        default,
        skip_serializing_if = "is_default"
    )]
    pub status: MemberStatus,
    #[serde(rename = "j", alias = "joined_at", with = "super::stored_time")]
    pub joined_at: OffsetDateTime,
    #[serde(rename = "u", alias = "updated_at", with = "super::stored_time")]
    pub updated_at: OffsetDateTime,
    /// Where the member sits in Twilio: their SMS participant, once added.
    #[serde(
        rename = "pt",
        alias = "participant",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub participant: Option<Participant>,
    /// Whether Twilio matches this record yet.
    #[serde(
        rename = "sy",
        alias = "sync",
        default,
        skip_serializing_if = "is_default"
    )]
    pub sync: SyncState,
    /// Their street address, from their join request.
    #[serde(
        rename = "a",
        alias = "address",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub address: Option<String>,
    /// Their answers to the captains' join questions, by question.
    #[serde(
        rename = "q",
        alias = "answers",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub answers: BTreeMap<String, String>,
    /// How they came in and what they agreed to: the opt-in evidence carriers ask for.
    #[serde(
        rename = "c",
        alias = "consent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub consent: Option<ConsentRecord>,
    /// Why the status is what it is, for captains ("Texted LEAVE", "Removed by ...").
    #[serde(
        rename = "why",
        alias = "status_reason",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub status_reason: Option<String>,
    /// Whether a captain or owner gets a text for each new join request.
    #[serde(
        rename = "jt",
        alias = "join_request_texts",
        default = "texts_by_default",
        skip_serializing_if = "is_true"
    )]
    pub join_request_texts: bool,
    /// How often, while `join_request_texts` is on: each request, or a digest at most every so
    /// often. Kept when texts are turned off, so turning them on again restores it.
    #[serde(
        rename = "jc",
        alias = "join_request_cadence",
        default,
        skip_serializing_if = "is_default"
    )]
    pub join_request_cadence: JoinRequestNotices,
    /// A captain muted them: they still receive the group's texts, but theirs do not go out.
    #[serde(
        rename = "m",
        alias = "muted",
        default,
        skip_serializing_if = "is_default"
    )]
    pub muted: bool,
    /// How the group's texts to them have been faring, once Twilio has reported on one.
    #[serde(
        rename = "d",
        alias = "delivery",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub delivery: Option<DeliveryHealth>,
}

/// Whether a field is at its default, so a record can leave it out (it reads back as the default).
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn is_true(value: &bool) -> bool {
    *value
}

/// What a delivery receipt means for the member it was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryVerdict {
    /// Nothing to do beyond recording it.
    Recorded,
    /// 21610: the phone opted out of the Messaging Service (STOP); treat it as such.
    OptedOut,
    /// Too many carrier failures in a row: stop sending to them and tell the captains.
    Pause,
}

/// Carrier errors that say the phone cannot get texts (unreachable, unknown, landline, filtered).
const CARRIER_FAILURES: [u32; 4] = [30003, 30005, 30006, 30007];
const OPTED_OUT: u32 = 21610;

impl DeliveryHealth {
    /// The health after a receipt with `status` and `error_code` (0 or None: no error), and what
    /// it calls for; `pause_after` carrier failures in a row pause a member (0: never).
    pub fn after(
        previous: Option<&DeliveryHealth>,
        status: &str,
        error_code: Option<u32>,
        at: OffsetDateTime,
        pause_after: u32,
    ) -> (DeliveryHealth, DeliveryVerdict) {
        let error_code = error_code.filter(|code| *code != 0);
        let failed = matches!(status, "failed" | "undelivered");
        let mut health = previous.cloned().unwrap_or(DeliveryHealth {
            last_status: String::new(),
            last_error_code: None,
            failures: 0,
            failures_in_a_row: 0,
            updated_at: at,
        });
        health.last_status = status.to_owned();
        health.updated_at = at;
        let mut verdict = DeliveryVerdict::Recorded;
        if failed {
            health.failures += 1;
            health.last_error_code = error_code;
            match error_code {
                Some(OPTED_OUT) => verdict = DeliveryVerdict::OptedOut,
                Some(code) if CARRIER_FAILURES.contains(&code) => {
                    health.failures_in_a_row += 1;
                    if pause_after > 0 && health.failures_in_a_row >= pause_after {
                        verdict = DeliveryVerdict::Pause;
                    }
                }
                _ => {}
            }
        } else if matches!(status, "delivered" | "read") {
            health.failures_in_a_row = 0;
        }
        (health, verdict)
    }
}

/// How the group's texts to a member have been faring, from Twilio's delivery receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Object)]
#[oai(skip_serializing_if_is_none)]
pub struct DeliveryHealth {
    /// The last receipt's status: `sent`, `delivered`, `read`, `undelivered` or `failed`.
    pub last_status: String,
    /// The last failure's Twilio error code (30003 unreachable, 30005 unknown number, 30006
    /// landline, 30007 carrier filtering, 21610 opted out).
    pub last_error_code: Option<u32>,
    /// Failed deliveries, all told.
    pub failures: u32,
    /// Carrier failures since the last delivered text.
    pub failures_in_a_row: u32,
    /// When the last receipt came.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn texts_by_default() -> bool {
    true
}

/// A street address as neighbors give it: trimmed, at most 200 characters; blank is none.
pub fn street_address(input: Option<&str>) -> Result<Option<String>, ParseError> {
    const MAX_CHARS: usize = 200;
    let address = input.map(str::trim).filter(|a| !a.is_empty());
    match address {
        Some(a) if a.chars().count() > MAX_CHARS => Err(ParseError::said(
            "input-address-too-long",
            &[("max", MAX_CHARS.to_string())],
        )),
        _ => Ok(address.map(str::to_owned)),
    }
}

/// A member's opt-in evidence: the consent of their join request, and who let them in. Stored
/// with the shared part by digest: see [`super::consent_terms`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    into = "super::consent_terms::StoredConsent",
    try_from = "super::consent_terms::StoredConsent"
)]
pub struct ConsentRecord {
    pub channel: JoinChannel,
    pub evidence: Consent,
    /// Who approved the request, or the captain who added them and attests their consent.
    pub approved_by: Option<String>,
}

impl Member {
    /// The address Twilio reaches them at: their phone, or `whatsapp:` and their phone.
    pub fn address(&self) -> String {
        self.channel.address(&self.phone)
    }

    /// How this member hears about new join requests (captains and the owner only hear at all).
    pub fn join_request_notices(&self) -> JoinRequestNotices {
        if self.join_request_texts {
            self.join_request_cadence
        } else {
            JoinRequestNotices::Never
        }
    }

    /// Sets how this member hears about new join requests; `never` keeps the cadence for later.
    pub fn set_join_request_notices(&mut self, notices: JoinRequestNotices) {
        self.join_request_texts = notices != JoinRequestNotices::Never;
        if notices != JoinRequestNotices::Never {
            self.join_request_cadence = notices;
        }
    }

    /// A member who has just joined: active, not yet in Twilio (their participant is queued).
    pub fn joining(
        neighborhood_id: Uuid,
        phone: Phone,
        display_name: DisplayName,
        role: Role,
    ) -> Self {
        // To the second: the record stores it as 10 digits (see `stored_time`).
        let now = super::stored_time::now_to_the_second();
        Self {
            language: None,
            id: Uuid::now_v7(),
            neighborhood_id,
            phone,
            channel: Channel::Sms,
            display_name,
            role,
            status: MemberStatus::Active,
            joined_at: now,
            updated_at: now,
            participant: None,
            sync: SyncState::Pending,
            address: None,
            answers: BTreeMap::new(),
            consent: None,
            status_reason: None,
            join_request_texts: true,
            join_request_cadence: JoinRequestNotices::default(),
            muted: false,
            delivery: None,
        }
    }
}

/// Someone becoming a member, however they came in (an approved request, a captain's add, an
/// import, a participant added in Twilio): the one admission rule.
#[derive(Debug, Clone)]
pub struct Admission {
    pub neighborhood_id: Uuid,
    pub phone: Phone,
    /// The channel they are in the group on; None: a former member's own, or SMS.
    pub channel: Option<Channel>,
    /// The language of their texts; None: a former member's own, or the neighborhood's default.
    pub language: Option<Language>,
    pub name: DisplayName,
    pub address: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub consent: Option<ConsentRecord>,
    /// Why a former member is in again ("Back in: request #12 approved").
    pub back_in: String,
}

impl Admission {
    /// The member it makes: a new one, or `former` (same id, role and history) active again. The
    /// name is made unique where `taken` says a name is in use; the address, answers and consent
    /// given replace the former member's, who keeps theirs where none is given.
    pub fn member(self, former: Option<&Member>, taken: impl Fn(&str) -> bool) -> Member {
        let now = super::stored_time::now_to_the_second();
        let base = match former {
            Some(former) => Member {
                // A role ends with the membership: a former captain comes back as a member.
                // The owner keeps theirs (they can only be out by STOP, and someone must own).
                role: if former.role == Role::Owner {
                    Role::Owner
                } else {
                    Role::Member
                },
                status: MemberStatus::Active,
                status_reason: Some(self.back_in),
                joined_at: now,
                updated_at: now,
                sync: SyncState::Pending,
                ..former.clone()
            },
            None => Member::joining(
                self.neighborhood_id,
                self.phone,
                self.name.clone(),
                Role::Member,
            ),
        };
        Member {
            display_name: self.name.unique_where(taken),
            address: self.address.or(base.address.clone()),
            answers: if self.answers.is_empty() {
                base.answers.clone()
            } else {
                self.answers
            },
            consent: self.consent.or(base.consent.clone()),
            channel: self.channel.unwrap_or(base.channel),
            language: self.language.or(base.language),
            ..base
        }
    }
}

/// A language of the texts we send, as an API or an import names it (`es`, `es-MX`).
pub fn language(tag: &str) -> Result<Language, ParseError> {
    Language::parse(tag).ok_or_else(|| {
        ParseError::said(
            "input-language-unknown",
            &[
                ("tag", tag.trim().to_owned()),
                ("languages", Language::codes().join(", ")),
            ],
        )
    })
}

/// Whether `name` is used by one of `members` other than `except` (compared by [`name_key`]).
pub fn name_in_use(members: &[Member], except: Option<Uuid>) -> impl Fn(&str) -> bool + '_ {
    move |name| {
        let key = name_key(name);
        members
            .iter()
            .any(|member| Some(member.id) != except && member.display_name.key() == key)
    }
}

/// A member's SMS participant in one of the neighborhood's Conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Participant {
    #[serde(rename = "c", alias = "conversation_sid")]
    pub conversation_sid: String,
    #[serde(rename = "p", alias = "participant_sid")]
    pub participant_sid: String,
}

/// The few fields of a member record a group message needs (who wrote it, whom each shard
/// reaches), read from the same JSON without the rest: every group message reads the whole
/// neighborhood, so skipping the consent record, dates and the like matters.
#[derive(Debug, Clone, Deserialize)]
pub struct RosterEntry {
    pub id: Uuid,
    #[serde(rename = "p", alias = "phone")]
    pub phone: Phone,
    #[serde(rename = "n", alias = "display_name")]
    pub display_name: DisplayName,
    #[serde(rename = "s", alias = "status", default)]
    pub status: MemberStatus,
    #[serde(rename = "pt", alias = "participant", default)]
    pub participant: Option<PlacedIn>,
    #[serde(rename = "ch", alias = "channel", default)]
    pub channel: Channel,
    #[serde(default)]
    pub language: Option<Language>,
}

/// The Conversation a member is placed in.
#[derive(Debug, Clone, Deserialize)]
pub struct PlacedIn {
    #[serde(rename = "c", alias = "conversation_sid")]
    pub conversation_sid: String,
}

/// Who a shard delivers to: what the relays read of a member to pick their recipients.
pub trait Placed {
    fn member_id(&self) -> Uuid;
    fn status(&self) -> MemberStatus;
    fn conversation_sid(&self) -> Option<&str>;
    fn phone(&self) -> &Phone;
    fn channel(&self) -> Channel;
    fn language(&self) -> Option<Language>;
}

impl Placed for Member {
    fn member_id(&self) -> Uuid {
        self.id
    }
    fn phone(&self) -> &Phone {
        &self.phone
    }
    fn channel(&self) -> Channel {
        self.channel
    }
    fn language(&self) -> Option<Language> {
        self.language
    }
    fn status(&self) -> MemberStatus {
        self.status
    }
    fn conversation_sid(&self) -> Option<&str> {
        self.participant
            .as_ref()
            .map(|placed| placed.conversation_sid.as_str())
    }
}

impl Placed for RosterEntry {
    fn member_id(&self) -> Uuid {
        self.id
    }
    fn phone(&self) -> &Phone {
        &self.phone
    }
    fn channel(&self) -> Channel {
        self.channel
    }
    fn language(&self) -> Option<Language> {
        self.language
    }
    fn status(&self) -> MemberStatus {
        self.status
    }
    fn conversation_sid(&self) -> Option<&str> {
        self.participant
            .as_ref()
            .map(|placed| placed.conversation_sid.as_str())
    }
}

/// Whether the Twilio side of a member's last change is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// Nothing waits: Twilio matches the record.
    #[default]
    Done,
    /// A change is queued for Twilio.
    Pending,
    /// Twilio kept refusing; a captain can retry. `error` names the failure without Twilio's
    /// words (which can quote a phone number); `detail` has them, for captains only.
    Failed {
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
}

/// The name other members see on every message: 1 to 40 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 40;

    /// This name, or `name 2`, `name 3`, ... whichever none of `others` has (compared by
    /// [`name_key`]).
    pub fn unique_among(self, others: &[&Member]) -> DisplayName {
        self.unique_where(|candidate| {
            let key = name_key(candidate);
            others.iter().any(|member| member.display_name.key() == key)
        })
    }

    /// What this name is compared by for uniqueness: see [`name_key`].
    pub fn key(&self) -> String {
        name_key(&self.0)
    }

    /// This name, or `name 2`, `name 3`, ... whichever is not `taken`. For callers that keep
    /// the names in use as a set rather than as members (an import of thousands).
    pub fn unique_where(self, taken: impl Fn(&str) -> bool) -> DisplayName {
        if !taken(self.as_str()) {
            return self;
        }
        let base: String = self.0.chars().take(Self::MAX_CHARS - 6).collect();
        (2..)
            .filter_map(|n| DisplayName::parse(&format!("{base} {n}")).ok())
            .find(|candidate| !taken(candidate.as_str()))
            .unwrap_or(self)
    }

    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(ParseError::said("input-name-blank", &[]));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::said(
                "input-name-too-long",
                &[("max", Self::MAX_CHARS.to_string())],
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ParseError::said("input-name-one-line", &[]));
        }
        if name.chars().any(is_invisible) {
            return Err(ParseError::said("input-name-invisible", &[]));
        }
        Ok(Self(name))
    }

    /// A name read back from Redis: one stored before invisible characters were refused loads
    /// with them dropped rather than making its member unreadable.
    fn stored(value: &str) -> Result<Self, ParseError> {
        let visible: String = value.chars().filter(|c| !is_invisible(*c)).collect();
        Self::parse(&visible)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        // Every record read back holds a name that was parsed before it was stored: kept as it
        // is, in one pass and without copying (a group message reads every member's).
        if is_parsed_form(&value) {
            return Ok(Self(value));
        }
        Self::stored(&value)
    }
}

/// Whether `value` is what [`DisplayName::parse`] returns for it: words of visible characters
/// joined by single spaces, 1 to `MAX_CHARS` characters.
fn is_parsed_form(value: &str) -> bool {
    let mut chars = 0;
    let mut after_space = true;
    for c in value.chars() {
        chars += 1;
        if c.is_whitespace() {
            if c != ' ' || after_space {
                return false;
            }
            after_space = true;
        } else if c.is_control() || is_invisible(c) {
            return false;
        } else {
            after_space = false;
        }
    }
    chars > 0 && !after_space && chars <= DisplayName::MAX_CHARS
}

/// Characters a name must not hold (finding 18): Unicode format characters (category Cf:
/// zero-width spaces and joiners, bidi embeddings, overrides and isolates, the BOM, invisible
/// operators, tag characters) and private-use characters (Co), which render as anything. From
/// a table: the standard library has no general category (unassigned code points, Cn, pass).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061C}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{115F}'..='\u{1160}'
        | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
        | '\u{E000}'..='\u{F8FF}'
        | '\u{F0000}'..='\u{10FFFF}'
    )
}

/// Letters that look alike, each with the ASCII letter it folds to (lowercase forms: a name is
/// lowercased first). Accented Latin letters, then Cyrillic and Greek look-alikes. `i`, `l`,
/// `1` and `|` all fold to `l`, since a capital I and a small l are one glyph in many fonts.
const LOOK_ALIKES: &[(char, &str)] = &[
    ('a', "àáâãäåāăąǎаα"),
    ('b', "вβ"),
    ('c', "çćĉċčсϲ"),
    ('d', "ďđԁ"),
    ('e', "èéêëēĕėęěеёεє"),
    ('g', "ĝğġģɡ"),
    ('h', "ĥħһнη"),
    ('j', "ĵј"),
    ('k', "ķкκ"),
    ('l', "iìíîïĩīĭįıіїιĺļľŀłӏ1|"),
    ('m', "мμ"),
    ('n', "ñńņňŉ"),
    ('o', "òóôõöøōŏőǒоο0"),
    ('p', "рρ"),
    ('q', "ԛ"),
    ('r', "ŕŗř"),
    ('s', "śŝşšșѕ"),
    ('t', "ţťŧțтτ"),
    ('u', "ùúûüũūŭůűųǔυ"),
    ('v', "ν"),
    ('w', "ŵԝ"),
    ('x', "хχ"),
    ('y', "ýÿŷу"),
    ('z', "źżžζ"),
];

/// The key display names are compared by for uniqueness (finding 18), so that "Аna R." (with a
/// Cyrillic А), "ana r." and "Ána R." are one name: fullwidth forms to ASCII, letter case
/// folded, combining accents dropped, look-alike letters folded ([`LOOK_ALIKES`]), then `rn`
/// to `m` and `vv` to `w`. A small table in the spirit of the UTS #39 skeleton, not all of it:
/// the `unicode-security` crate is not in the offline registry. Only for comparing; a name is
/// shown as typed.
pub fn name_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        for lower in c.to_lowercase() {
            if matches!(lower, '\u{0300}'..='\u{036F}') || is_invisible(lower) {
                continue;
            }
            let folded = LOOK_ALIKES
                .iter()
                .find(|(_, alikes)| alikes.contains(lower))
                .map_or(lower, |(ascii, _)| *ascii);
            key.push(folded);
        }
    }
    key.replace("rn", "m").replace("vv", "w")
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> Self {
        name.0
    }
}

#[cfg(test)]
mod delivery_tests {
    use super::{DeliveryHealth, DeliveryVerdict};
    use time::OffsetDateTime;

    #[test]
    fn carrier_failures_in_a_row_pause_and_a_delivery_resets_the_count() {
        let now = OffsetDateTime::now_utc();
        let (one, verdict) = DeliveryHealth::after(None, "undelivered", Some(30005), now, 3);
        assert_eq!(
            (one.failures_in_a_row, verdict),
            (1, DeliveryVerdict::Recorded)
        );
        let (two, _) = DeliveryHealth::after(Some(&one), "failed", Some(30003), now, 3);
        let (reset, _) = DeliveryHealth::after(Some(&two), "delivered", None, now, 3);
        assert_eq!((reset.failures_in_a_row, reset.failures), (0, 2));
        let mut health = reset;
        let mut verdict = DeliveryVerdict::Recorded;
        for _ in 0..3 {
            (health, verdict) = DeliveryHealth::after(Some(&health), "failed", Some(30007), now, 3);
        }
        assert_eq!(verdict, DeliveryVerdict::Pause);
        let (_, never) = DeliveryHealth::after(Some(&health), "failed", Some(30007), now, 0);
        assert_eq!(never, DeliveryVerdict::Recorded, "0 never pauses");
        let (_, opted_out) = DeliveryHealth::after(None, "failed", Some(21610), now, 3);
        assert_eq!(opted_out, DeliveryVerdict::OptedOut);
        let (other, _) = DeliveryHealth::after(None, "failed", Some(30008), now, 1);
        assert_eq!(
            other.failures_in_a_row, 0,
            "an unknown error is no carrier verdict"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_name_reads_back_as_parsing_it_would_make_it() {
        let long = "a".repeat(DisplayName::MAX_CHARS);
        let too_long = "a".repeat(DisplayName::MAX_CHARS + 1);
        for stored in [
            "Ana R.",
            "Zoë Ñúñez-Ölçer",
            "李 小龍",
            long.as_str(),
            too_long.as_str(),
            "",
            " ",
            " Ana",
            "Ana ",
            "Ana  R.",
            "Ana\tR.",
            "Ana\u{00A0}R.",
            "Ana\nR.",
            "A\u{200B}na",
            "\u{200B}",
            "Ana\u{202E}R.",
        ] {
            let read = DisplayName::try_from(stored.to_owned()).map(|name| name.0);
            let parsed = DisplayName::stored(stored).map(|name| name.0);
            assert_eq!(read.is_ok(), parsed.is_ok(), "{stored:?}");
            if let (Ok(read), Ok(parsed)) = (&read, &parsed) {
                assert_eq!(read, parsed, "{stored:?}");
            }
        }
    }

    #[test]
    fn roles_are_ordered_from_member_to_owner() {
        assert!(
            Role::Member < Role::Moderator
                && Role::Moderator < Role::Captain
                && Role::Captain < Role::Owner
        );
        assert!(!Role::Member.can_sign_in());
        assert!(Role::Moderator.can_sign_in());
    }

    #[test]
    fn display_names_are_one_tidy_line() {
        assert_eq!(
            DisplayName::parse("  Ana   R. ").unwrap().as_str(),
            "Ana R."
        );
        assert!(DisplayName::parse(" ").is_err());
        assert!(DisplayName::parse(&"a".repeat(41)).is_err());
    }

    #[test]
    fn display_names_refuse_invisible_characters() {
        for name in [
            "Ana\u{200B} R.",      // zero-width space
            "Ana\u{202E}.R",       // right-to-left override
            "\u{2066}Ana\u{2069}", // isolates
            "Ana\u{200D}",         // zero-width joiner
            "\u{FEFF}Ana",         // byte order mark
            "Ana\u{E000}",         // private use
            "Ana\u{E0041}",        // tag character
        ] {
            assert!(DisplayName::parse(name).is_err(), "{name:?}");
        }
        // Letters of every script are welcome.
        for name in ["Zoë", "Ольга", "李小龍", "عائشة", "José María"] {
            assert!(DisplayName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_stored_name_with_invisible_characters_still_loads_without_them() {
        let name: DisplayName = serde_json::from_str("\"Ana\u{200B} R.\"").expect("loads");
        assert_eq!(name.as_str(), "Ana R.");
    }

    #[test]
    fn names_are_compared_by_a_confusable_folded_key() {
        let captain = "Ana R.";
        for alike in [
            "ana r.",
            "ANA R.",
            "\u{0410}na R.",        // Cyrillic capital A
            "An\u{0430} R.",        // Cyrillic small a
            "\u{0391}na R.",        // Greek capital alpha
            "Ána R.",               // precomposed accent
            "A\u{0301}na R.",       // combining accent
            "\u{FF21}\u{FF4E}a R.", // fullwidth
        ] {
            assert_eq!(name_key(alike), name_key(captain), "{alike}");
        }
        assert_eq!(name_key("Bill"), name_key("BiII"));
        assert_eq!(name_key("Kim"), name_key("Kirn"));
        assert_eq!(name_key("Olga"), name_key("0lga"));
        assert_ne!(name_key("Ana R."), name_key("Ana B."));
        assert_ne!(name_key("Ann"), name_key("Anna"));
    }

    #[test]
    fn a_look_alike_name_is_made_unique_or_refused() {
        let captain = Member::joining(
            Uuid::now_v7(),
            Phone::parse("+15550001234").expect("phone"),
            DisplayName::parse("Ana R.").expect("name"),
            Role::Captain,
        );
        let impostor = DisplayName::parse("\u{0410}na R.").expect("name");
        assert_eq!(
            impostor.clone().unique_among(&[&captain]).as_str(),
            "\u{0410}na R. 2"
        );
        let members = [captain];
        assert!(name_in_use(&members, None)(impostor.as_str()));
        assert!(!name_in_use(&members, Some(members[0].id))(
            impostor.as_str()
        ));
    }
}
