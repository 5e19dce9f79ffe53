//! Deciding join requests, whichever way they came in. Approving makes the neighbor a member (or
//! brings a former member back), then queues their participant and a welcome text; denying queues
//! a polite text. A request whose phone is confirmed reaches the captains, or, where the join
//! policy is `open`, is approved on the spot. Each decision, its member and its texts are written
//! in one step, so two captains deciding at once make one member.

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::channel::Channel;
use crate::domain::join_request::{
    BlockedPhone, Consent, JoinChannel, JoinRequest, JoinState, consent_text,
};
use crate::domain::member::{
    Admission, ConsentRecord, DisplayName, Member, MemberStatus, name_key,
};
use crate::domain::neighborhood::{JoinPolicy, Neighborhood};
use crate::domain::phone::Phone;
use crate::i18n::Language;
use crate::services::additions::{self, Adder, AdditionError};
use crate::services::codes;
use crate::services::neighborhoods::{self, NeighborhoodError};
use crate::services::{costs, join_digests, members, sending};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::join_requests::{Advance, Digests, MemberChange};
use crate::store::outbox::Effect;

/// Who decides when the join policy is `open`.
pub const OPEN_POLICY: &str = "policy:open";

/// How often a decision is retried when the request changed under it.
const ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("no such neighborhood")]
    NeighborhoodNotFound,
    #[error("no such join request")]
    NotFound,
    #[error("the neighborhood is archived")]
    Archived,
    /// Only pending requests (phone confirmed, not decided) can be decided.
    #[error("the request is {0:?}")]
    NotPending(JoinState),
    #[error("the phone is an active member already")]
    AlreadyMember,
    #[error("the request kept changing")]
    KeptChanging,
    /// An imported request (someone else listed the phone) past the day's additions.
    #[error(transparent)]
    Additions(#[from] AdditionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An approved request and the member it made (pending in Twilio until the outbox adds them).
#[derive(Debug, Clone)]
pub struct Approval {
    pub request: JoinRequest,
    pub member: Member,
    /// False when the request had been approved before this call.
    pub newly: bool,
}

/// A denied request.
#[derive(Debug, Clone)]
pub struct Denial {
    pub request: JoinRequest,
    /// False when the request had been denied before this call.
    pub newly: bool,
}

async fn neighborhood_taking_members(
    state: &AppState,
    neighborhood_id: Uuid,
) -> Result<Neighborhood, DecisionError> {
    neighborhoods::active(state, neighborhood_id)
        .await
        .map_err(|error| match error {
            NeighborhoodError::NotFound => DecisionError::NeighborhoodNotFound,
            NeighborhoodError::Archived => DecisionError::Archived,
            NeighborhoodError::Store(error) => DecisionError::Store(error),
        })
}

/// Lets the neighbor in: their member record, their participant and a welcome text. Approving an
/// approved request again answers the same approval.
pub async fn approve(
    state: &AppState,
    neighborhood_id: Uuid,
    request_id: Uuid,
    decided_by: (&str, Adder),
) -> Result<Approval, DecisionError> {
    let neighborhood = neighborhood_taking_members(state, neighborhood_id).await?;
    let roster = Roster::default();
    approve_against(state, &neighborhood, request_id, decided_by, &roster).await
}

/// Approves many requests at once, several side by side, reading the neighborhood's members once
/// for all of them (one at a time, each approval reads them all). Each approval stands on its own:
/// one that cannot be made (Redis failing for it included) is answered as such while the others
/// go ahead, so the approvals made are all reported. Answers in the order asked.
pub async fn approve_many(
    state: &AppState,
    neighborhood_id: Uuid,
    request_ids: &[Uuid],
    decided_by: (&str, Adder),
) -> Result<Vec<(Uuid, Result<Approval, DecisionError>)>, DecisionError> {
    let neighborhood = neighborhood_taking_members(state, neighborhood_id).await?;
    let roster = Roster::default();
    let approvals: Vec<_> = request_ids
        .iter()
        .map(|request_id| approve_against(state, &neighborhood, *request_id, decided_by, &roster))
        .collect();
    let answers = futures::stream::iter(approvals)
        .buffered(APPROVALS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    Ok(request_ids.iter().copied().zip(answers).collect())
}

/// Approvals of one batch carried out side by side (each is a few Redis round trips).
const APPROVALS_AT_ONCE: usize = 8;

/// The members approvals check a request against: as last read (None: not read yet), plus the
/// members approvals of the same batch are making, so their names stay unique.
#[derive(Default)]
struct Roster(tokio::sync::Mutex<Option<RosterMembers>>);

/// The members, and who holds each name (by [`name_key`]): computed once per read, since
/// checking each approval's name against every member's made a big batch quadratic.
struct RosterMembers {
    members: Vec<Member>,
    names: HashMap<String, Vec<Uuid>>,
}

impl RosterMembers {
    fn new(members: Vec<Member>) -> Self {
        let mut names: HashMap<String, Vec<Uuid>> = HashMap::new();
        for member in &members {
            names
                .entry(member.display_name.key())
                .or_default()
                .push(member.id);
        }
        Self { members, names }
    }

    /// Whether a member other than `except` goes by `name`.
    fn name_taken(&self, name: &str, except: Option<Uuid>) -> bool {
        self.names
            .get(&name_key(name))
            .is_some_and(|holders| holders.iter().any(|id| Some(*id) != except))
    }

    /// Puts `member` in place of the record with its id, if any.
    fn replace(&mut self, member: Member) {
        if let Some(old) = self.members.iter().position(|m| m.id == member.id) {
            let old = self.members.swap_remove(old);
            if let Some(holders) = self.names.get_mut(&old.display_name.key()) {
                holders.retain(|id| *id != old.id);
            }
        }
        self.names
            .entry(member.display_name.key())
            .or_default()
            .push(member.id);
        self.members.push(member);
    }
}

impl Roster {
    /// Forgets the members read (and any an approval was making but did not make), so the next
    /// approval reads them again.
    async fn forget(&self) {
        *self.0.lock().await = None;
    }
}

/// Approves one request, checking it against the roster. A request that changed meanwhile is read
/// again, with the members.
async fn approve_against(
    state: &AppState,
    neighborhood: &Neighborhood,
    request_id: Uuid,
    (decided_by, adder): (&str, Adder),
    roster: &Roster,
) -> Result<Approval, DecisionError> {
    let neighborhood_id = neighborhood.id;
    for _ in 0..ATTEMPTS {
        let before = state
            .store
            .join_request(neighborhood_id, request_id)
            .await?
            .ok_or(DecisionError::NotFound)?;
        if before.state == JoinState::Approved {
            let member_id = before.member_id.ok_or(DecisionError::NotFound)?;
            let member = state
                .store
                .member(neighborhood_id, member_id)
                .await?
                .ok_or(DecisionError::NotFound)?;
            return Ok(Approval {
                request: before,
                member,
                newly: false,
            });
        }
        if before.state != JoinState::Pending {
            return Err(DecisionError::NotPending(before.state));
        }
        // The member the approval makes (already in the roster) and the former one it replaces;
        // None when the phone is an active member.
        let checked = {
            let mut guard = roster.0.lock().await;
            let roster = match guard.as_mut() {
                Some(roster) => roster,
                None => guard.insert(RosterMembers::new(
                    state.store.members(neighborhood_id).await?,
                )),
            };
            let former = roster.members.iter().find(|m| m.phone == before.phone);
            // Active, or paused (which only a captain's resume ends): not let in again.
            if former
                .is_some_and(|m| matches!(m.status, MemberStatus::Active | MemberStatus::Paused))
            {
                None
            } else {
                let except = former.map(|f| f.id);
                let member = member_from(&before, former, decided_by, |name| {
                    roster.name_taken(name, except)
                });
                let former = former.cloned();
                roster.replace(member.clone());
                Some((member, former))
            }
        };
        let (member, former) = match checked {
            Some(made) => made,
            None => {
                let now = state
                    .store
                    .join_request(neighborhood_id, request_id)
                    .await?;
                if now.as_ref() != Some(&before) {
                    // Approved by someone else a moment ago: answer their approval.
                    roster.forget().await;
                    continue;
                }
                return Err(DecisionError::AlreadyMember);
            }
        };
        let after = JoinRequest {
            state: JoinState::Approved,
            decided_by: Some(decided_by.to_owned()),
            decided_at: Some(OffsetDateTime::now_utc()),
            member_id: Some(member.id),
            ..before.clone()
        };
        let effects = members::admission_effects(neighborhood, &member);
        // Someone else listed an imported phone: letting it in counts as a captain's addition.
        let unasked = if before.channel == JoinChannel::Import {
            1
        } else {
            0
        };
        let reserved = match additions::reserve(state, neighborhood_id, unasked, adder).await {
            Ok(reserved) => reserved,
            Err(error) => {
                roster.forget().await;
                return Err(error.into());
            }
        };
        let advanced = advance(
            state,
            neighborhood,
            &before,
            &after,
            former.as_ref(),
            &member,
            effects,
        )
        .await;
        let made = matches!(advanced, Ok(Advance::Done));
        reserved
            .release(state, if made { 0 } else { unasked })
            .await;
        match advanced {
            Ok(Advance::Done) => {
                return Ok(Approval {
                    request: after,
                    member,
                    newly: true,
                });
            }
            Ok(Advance::MemberExists) => {
                roster.forget().await;
                return Err(DecisionError::AlreadyMember);
            }
            Ok(Advance::Changed) => roster.forget().await,
            Err(error) => {
                // The member it was making stays out of the roster.
                roster.forget().await;
                return Err(error.into());
            }
        }
    }
    Err(DecisionError::KeptChanging)
}

/// Writes an approval: the request decided, the member made, the participant, welcome and
/// catch-up queued, in one step.
async fn advance(
    state: &AppState,
    neighborhood: &Neighborhood,
    before: &JoinRequest,
    after: &JoinRequest,
    former: Option<&Member>,
    member: &Member,
    mut effects: Vec<Effect>,
) -> Result<Advance, StoreError> {
    let language = neighborhood.language_for(member.language);
    effects.extend(
        crate::services::catch_up::effect(state, neighborhood, &before.address(), language).await?,
    );
    let change = MemberChange {
        before: former,
        after: member,
    };
    state
        .store
        .advance_join_request(before, after, Some(change), true, &effects)
        .await
}

/// The member an approval makes: a new one, or the former member (same id, role and history)
/// back in the group.
fn member_from(
    request: &JoinRequest,
    former: Option<&Member>,
    decided_by: &str,
    name_taken: impl Fn(&str) -> bool,
) -> Member {
    let admission = Admission {
        neighborhood_id: request.neighborhood_id,
        phone: request.phone.clone(),
        channel: Some(request.member_channel),
        language: request.language,
        name: request.name.clone(),
        address: request.address.clone(),
        answers: request.answers.clone(),
        consent: Some(ConsentRecord {
            channel: request.channel,
            evidence: request.consent.clone(),
            approved_by: Some(decided_by.to_owned()),
        }),
        back_in: format!("Back in: request #{} approved", request.number),
    };
    admission.member(former, name_taken)
}

/// How a neighbor asking to join proves their phone and shows an invitation.
#[derive(Debug, Clone)]
pub enum Asked {
    /// On the join page, maybe with a personal invite code; the phone is confirmed by a texted
    /// code.
    Web { invite: Option<String>, ip: String },
    /// By texting `JOIN Name` (inbound message `message_sid`): the phone proved itself, and an
    /// invitation is one texted to that phone.
    Text { message_sid: String },
    /// By texting START after STOP: a former member asking back in, who needs no invitation.
    Back { message_sid: String },
    /// A response to the captains' own Google Form, read by the spreadsheet hub: its consent
    /// question (`question`, kept word for word as the evidence) answered yes. Nobody confirmed
    /// the phone, so it waits for a captain whatever the join policy.
    Form { question: String },
}

/// A neighbor asking to join.
#[derive(Debug, Clone)]
pub struct Asking {
    pub phone: Phone,
    /// The channel they will be in the group on.
    pub channel: Channel,
    /// The language they asked in, when known.
    pub language: Option<Language>,
    pub name: DisplayName,
    pub address: Option<String>,
    pub answers: BTreeMap<String, String>,
    pub asked: Asked,
}

/// Why a request was not filed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the phone is in the group already")]
    AlreadyMember,
    /// The phone's member is paused by a captain.
    #[error("the phone's member is paused")]
    Paused,
    /// The captains blocked the phone.
    #[error("the phone is blocked")]
    Blocked,
    /// The `invite_only` policy, and no invitation for this phone.
    #[error("the neighborhood takes members by invitation only")]
    InviteOnly,
    /// The phone is outside the countries texts may go to (`NT_SMS_COUNTRIES`).
    /// Carries the sentence for the neighbor, in their language.
    #[error("the phone is outside the countries we text")]
    Country(String),
    /// The neighborhood cannot text a code now: its daily cap on 1:1 texts is reached (or the
    /// deployment's), or its month is over budget.
    #[error("the neighborhood's codes are paused")]
    TextsPaused,
    /// Asked on the web for WhatsApp where the join page cannot send a WhatsApp code.
    #[error("the neighborhood takes no WhatsApp requests on the web")]
    NoWhatsapp,
    #[error(transparent)]
    Decision(#[from] DecisionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How long a request waits for its phone's code before it is deleted (finding 9): the code's
/// lifetime and a margin, so a request whose code was just sent never vanishes under its
/// neighbor, and a flood of unconfirmed requests does not pile up.
pub const UNVERIFIED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Deletes the neighborhood's requests left unverified past [`UNVERIFIED_LIFETIME`].
pub async fn expire_unverified(state: &AppState, neighborhood_id: Uuid) -> Result<(), StoreError> {
    let before = OffsetDateTime::now_utc() - UNVERIFIED_LIFETIME;
    state
        .store
        .expire_unverified_join_requests(neighborhood_id, before)
        .await?;
    Ok(())
}

/// Whether the join page offers WhatsApp: the neighborhood has a WhatsApp sender, and the
/// account an approved authentication template to carry the code (a neighbor who never wrote
/// to the sender is outside WhatsApp's 24-hour window, where only a template gets through).
pub fn whatsapp_on_the_web(state: &AppState, neighborhood: &Neighborhood) -> bool {
    neighborhood.whatsapp_sender.is_some()
        && state
            .twilio
            .as_ref()
            .is_some_and(|twilio| twilio.whatsapp_templates.code.is_some())
}

/// Files a join request, whichever way it came in. A phone with a verified open request gets
/// that request back, never a second one; an unverified one gets this one's fields (finding 9).
/// A request on the web waits for the code texted to its phone (sent from here); one by text is
/// confirmed at once, reaching the captains (or, under the `open` policy, approved).
pub async fn file(
    state: &AppState,
    neighborhood: &Neighborhood,
    asking: Asking,
) -> Result<JoinRequest, FileError> {
    if !sending::country_allowed(state, &asking.phone) {
        let language = neighborhood.language_for(asking.language);
        return Err(FileError::Country(sending::country_refusal(
            state, language,
        )));
    }
    if matches!(asking.asked, Asked::Web { .. })
        && asking.channel == Channel::Whatsapp
        && !whatsapp_on_the_web(state, neighborhood)
    {
        return Err(FileError::NoWhatsapp);
    }
    let blocked = state
        .store
        .blocked_phone(neighborhood.id, &asking.phone)
        .await?
        .is_some();
    let former = state
        .store
        .member_by_phone(neighborhood.id, &asking.phone)
        .await?;
    let on_the_web = matches!(asking.asked, Asked::Web { .. });
    // Finding 14: on the web, a member's, a paused member's or a blocked phone is answered like
    // anyone's, so the form tells no one who is in the group, paused or blocked; the phone is told
    // by text instead of getting a code.
    let note = if blocked {
        Some(WebNote::Blocked)
    } else {
        match former.as_ref().map(|m| m.status) {
            Some(MemberStatus::Active) => Some(WebNote::AlreadyIn),
            // Paused by a captain: only a captain's resume lets them back.
            Some(MemberStatus::Paused) => Some(WebNote::Paused),
            _ => None,
        }
    };
    match note {
        Some(_) if on_the_web => {}
        Some(WebNote::Blocked) => return Err(FileError::Blocked),
        Some(WebNote::AlreadyIn) => return Err(FileError::AlreadyMember),
        Some(WebNote::Paused) => return Err(FileError::Paused),
        None => {}
    }
    let previously = former
        .filter(|m| m.status == MemberStatus::Removed)
        .map(|m| removal_note(&m));
    let invited = match &asking.asked {
        Asked::Web {
            invite: Some(code), ..
        } => {
            state
                .store
                .invited_phone(neighborhood.id, code)
                .await?
                .as_deref()
                == Some(asking.phone.as_str())
        }
        Asked::Web { invite: None, .. } => false,
        Asked::Text { .. } if neighborhood.join_policy == JoinPolicy::InviteOnly => {
            state
                .store
                .was_invited(neighborhood.id, &asking.phone)
                .await?
        }
        Asked::Text { .. } => false,
        Asked::Back { .. } | Asked::Form { .. } => true,
    };
    // A former member asking back in, and a response to the captains' own form, need none.
    let needs_invitation = !matches!(asking.asked, Asked::Back { .. } | Asked::Form { .. });
    if neighborhood.join_policy == JoinPolicy::InviteOnly && needs_invitation && !invited {
        return Err(FileError::InviteOnly);
    }
    // After the invitation check, so the form answers these phones exactly as a stranger's.
    if let Some(note) = note {
        return Ok(answered_by_text(state, neighborhood, asking, note));
    }
    let now = OffsetDateTime::now_utc();
    let (channel, consent) = match &asking.asked {
        Asked::Web { ip, .. } => (
            if invited {
                JoinChannel::Invite
            } else {
                JoinChannel::Web
            },
            Consent {
                text: consent_text(
                    neighborhood.name.as_str(),
                    asking.channel,
                    neighborhood.language_for(asking.language),
                ),
                at: now,
                ip: Some(ip.clone()),
                message_sid: None,
            },
        ),
        Asked::Form { question } => (
            JoinChannel::Form,
            Consent {
                text: question.clone(),
                at: now,
                ip: None,
                message_sid: None,
            },
        ),
        Asked::Text { message_sid } | Asked::Back { message_sid } => (
            JoinChannel::Sms,
            Consent {
                text: match asking.channel {
                    Channel::Sms => format!("Texted to ask to join {}", neighborhood.name.as_str()),
                    Channel::Whatsapp => format!(
                        "Wrote on WhatsApp to ask to join {}",
                        neighborhood.name.as_str()
                    ),
                },
                at: now,
                ip: None,
                message_sid: Some(message_sid.clone()),
            },
        ),
    };
    let new = JoinRequest {
        id: Uuid::now_v7(),
        number: state
            .store
            .next_join_request_number(neighborhood.id)
            .await?,
        neighborhood_id: neighborhood.id,
        phone: asking.phone.clone(),
        member_channel: asking.channel,
        language: asking.language,
        name: asking.name,
        address: asking.address,
        answers: asking.answers,
        channel,
        state: JoinState::PendingVerification,
        consent,
        created_at: now,
        decided_by: None,
        decided_at: None,
        member_id: None,
        previously,
    };
    expire_unverified(state, neighborhood.id).await?;
    let id = state.store.insert_join_request(&new).await?;
    let Some(stored) = state.store.join_request(neighborhood.id, id).await? else {
        return Ok(new);
    };
    if stored.state != JoinState::PendingVerification {
        return Ok(stored);
    }
    match asking.asked {
        Asked::Web { .. } => {
            send_join_code(state, neighborhood, &stored).await?;
            Ok(stored)
        }
        Asked::Text { .. } | Asked::Back { .. } | Asked::Form { .. } => {
            Ok(confirmed(state, neighborhood, &stored).await?)
        }
    }
}

/// The answer to a web request for a phone already in the group (finding 14): the same
/// "we texted you a code" request any neighbor gets, never stored (its id verifies nothing, and a
/// wrong id answers like a wrong code), while the member's phone gets a note instead of a code:
/// if they asked themselves they learn they are in; if someone else used their number, they
/// learn that, and the asker learns nothing. The per-phone limit on join requests, checked before
/// this, bounds these notes like it bounds codes.
/// Why a phone that asked on the web is texted a note rather than a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WebNote {
    AlreadyIn,
    Paused,
    Blocked,
}

impl WebNote {
    /// In the language they asked in; a blocked phone is answered politely, and the captains
    /// are not told.
    fn text(self, neighborhood: &str, language: Language) -> String {
        let id = match self {
            Self::AlreadyIn => "web-already-in",
            Self::Paused => "web-paused",
            Self::Blocked => "blocked",
        };
        crate::i18n::text(language, id, &[("neighborhood", neighborhood.into())])
    }
}

/// The form's usual answer, with nothing filed: the phone gets `note` by text in place of a code.
fn answered_by_text(
    state: &AppState,
    neighborhood: &Neighborhood,
    asking: Asking,
    note: WebNote,
) -> JoinRequest {
    tokio::spawn(codes::send_note_in_place_of_code(
        state.clone(),
        asking.phone.clone(),
        neighborhood.phone_number.clone(),
        note.text(
            neighborhood.name.as_str(),
            neighborhood.language_for(asking.language),
        ),
    ));
    let now = OffsetDateTime::now_utc();
    JoinRequest {
        id: Uuid::now_v7(),
        number: 0,
        neighborhood_id: neighborhood.id,
        phone: asking.phone,
        member_channel: asking.channel,
        language: asking.language,
        name: asking.name,
        address: None,
        answers: BTreeMap::new(),
        channel: JoinChannel::Web,
        state: JoinState::PendingVerification,
        consent: Consent {
            text: String::new(),
            at: now,
            ip: None,
            message_sid: None,
        },
        created_at: now,
        decided_by: None,
        decided_at: None,
        member_id: None,
        previously: None,
    }
}

/// The captains block `phone` from asking to join (`by`: who, as the audit log names them).
pub async fn block(
    state: &AppState,
    neighborhood_id: Uuid,
    phone: Phone,
    by: String,
    note: Option<String>,
) -> Result<BlockedPhone, StoreError> {
    let blocked = BlockedPhone {
        phone,
        blocked_by: by,
        blocked_at: OffsetDateTime::now_utc(),
        note,
    };
    state.store.block_phone(neighborhood_id, &blocked).await?;
    Ok(blocked)
}

/// What a request from a removed member says about it: who removed them, and when.
fn removal_note(member: &Member) -> String {
    let reason = member.status_reason.as_deref().unwrap_or("Removed");
    let date = member.updated_at.date();
    format!(
        "{reason} on {} {}, {}",
        &date.month().to_string()[..3],
        date.day(),
        date.year()
    )
}

/// Texts a fresh code to confirm the phone behind `request`; only its hash is kept.
async fn send_join_code(
    state: &AppState,
    neighborhood: &Neighborhood,
    request: &JoinRequest,
) -> Result<(), FileError> {
    // Each code is a text a stranger triggers: none once the month is over budget, and each one
    // counts against the day's caps.
    if costs::month_over_budget(state, neighborhood).await? {
        return Err(FileError::TextsPaused);
    }
    match sending::clear(state, neighborhood.id, &request.phone).await? {
        Ok(()) => {}
        Err(sending::Refusal::Country) => {
            let language = neighborhood.language_for(request.language);
            return Err(FileError::Country(sending::country_refusal(
                state, language,
            )));
        }
        Err(_) => return Err(FileError::TextsPaused),
    }
    let code = codes::new_code();
    let hash = codes::hash(state.session_key.expose(), &request.phone, &code);
    state
        .store
        .store_join_code(
            neighborhood.id,
            request.id,
            &hash,
            codes::CODE_ATTEMPTS,
            codes::CODE_TTL,
        )
        .await?;
    tokio::spawn(codes::send_join_code(
        state.clone(),
        neighborhood.clone(),
        request.member_channel,
        neighborhood.language_for(request.language),
        request.phone.clone(),
        code,
    ));
    Ok(())
}

/// Turns the neighbor down, with a polite text. Denying a denied request again answers it again.
pub async fn deny(
    state: &AppState,
    neighborhood_id: Uuid,
    request_id: Uuid,
    decided_by: &str,
) -> Result<Denial, DecisionError> {
    let neighborhood = neighborhood_taking_members(state, neighborhood_id).await?;
    deny_in(state, &neighborhood, request_id, decided_by).await
}

/// Denies many requests at once, each on its own (one that cannot be denied is answered as
/// such and the others go ahead), in the order asked.
pub async fn deny_many(
    state: &AppState,
    neighborhood_id: Uuid,
    request_ids: &[Uuid],
    decided_by: &str,
) -> Result<Vec<(Uuid, Result<Denial, DecisionError>)>, DecisionError> {
    let neighborhood = neighborhood_taking_members(state, neighborhood_id).await?;
    let denials: Vec<_> = request_ids
        .iter()
        .map(|request_id| deny_in(state, &neighborhood, *request_id, decided_by))
        .collect();
    let answers = futures::stream::iter(denials)
        .buffered(APPROVALS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    Ok(request_ids.iter().copied().zip(answers).collect())
}

async fn deny_in(
    state: &AppState,
    neighborhood: &Neighborhood,
    request_id: Uuid,
    decided_by: &str,
) -> Result<Denial, DecisionError> {
    let neighborhood_id = neighborhood.id;
    for _ in 0..ATTEMPTS {
        let before = state
            .store
            .join_request(neighborhood_id, request_id)
            .await?
            .ok_or(DecisionError::NotFound)?;
        if before.state == JoinState::Denied {
            return Ok(Denial {
                request: before,
                newly: false,
            });
        }
        if !before.state.is_open() {
            return Err(DecisionError::NotPending(before.state));
        }
        let after = JoinRequest {
            state: JoinState::Denied,
            decided_by: Some(decided_by.to_owned()),
            decided_at: Some(OffsetDateTime::now_utc()),
            ..before.clone()
        };
        let note = crate::i18n::text(
            neighborhood.language_for(before.language),
            "denied",
            &[("neighborhood", neighborhood.name.as_str().into())],
        );
        let effects = [Effect::SendSms {
            to: before.address(),
            body: note,
        }];
        if state
            .store
            .advance_join_request(&before, &after, None, true, &effects)
            .await?
            == Advance::Done
        {
            return Ok(Denial {
                request: after,
                newly: true,
            });
        }
    }
    Err(DecisionError::KeptChanging)
}

/// The phone behind a request is confirmed (by code, or by texting): the request goes to the
/// captains, who are told by text; under the `open` policy it is approved at once.
pub async fn confirmed(
    state: &AppState,
    neighborhood: &Neighborhood,
    before: &JoinRequest,
) -> Result<JoinRequest, DecisionError> {
    let after = JoinRequest {
        state: JoinState::Pending,
        ..before.clone()
    };
    // A phone a captain removed, and a form's response (its phone unconfirmed), wait for a
    // captain whatever the policy.
    let open = neighborhood.join_policy == JoinPolicy::Open
        && before.previously.is_none()
        && before.channel != JoinChannel::Form;
    let notices = if open {
        join_digests::Notices::default()
    } else {
        join_digests::notices_for(state, neighborhood.id, &after).await?
    };
    let digests = notices.item.as_ref().map(|item| Digests {
        captains: &notices.digest_captains,
        item,
    });
    let advanced = state
        .store
        .advance_join_request_into_digests(before, &after, None, false, &notices.texts, digests)
        .await?;
    if advanced == Advance::Done && !notices.digest_captains.is_empty() {
        join_digests::schedule(state, neighborhood.id, &notices.digest_captains).await?;
    }
    match advanced {
        Advance::Done if open => Ok(approve(
            state,
            neighborhood.id,
            after.id,
            (OPEN_POLICY, Adder::Captain),
        )
        .await?
        .request),
        Advance::Done => Ok(after),
        _ => Err(DecisionError::KeptChanging),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::member::Role;

    fn member(name: &str, phone: &str) -> Member {
        Member::joining(
            Uuid::nil(),
            Phone::parse(phone).expect("phone"),
            DisplayName::parse(name).expect("name"),
            Role::Member,
        )
    }

    #[test]
    fn a_batchs_roster_knows_each_name_however_it_is_written_and_follows_replacements() {
        let ana = member("Ana Ruiz", "+15550100001");
        let ben = member("Ben Ode", "+15550100002");
        let mut roster = RosterMembers::new(vec![ana.clone(), ben.clone()]);
        // Look-alikes and case count as the same name; the member themself does not.
        assert!(roster.name_taken("ANA RUIZ", None));
        assert!(roster.name_taken("Аna Ruiz", None));
        assert!(!roster.name_taken("Ana Ruiz", Some(ana.id)));
        assert!(!roster.name_taken("Cy Lee", None));

        let mut renamed = ana.clone();
        renamed.display_name = DisplayName::parse("Ana R.").expect("name");
        roster.replace(renamed);
        assert!(!roster.name_taken("Ana Ruiz", None));
        assert!(roster.name_taken("ana r.", None));
        let cy = member("Cy Lee", "+15550100003");
        roster.replace(cy.clone());
        assert!(roster.name_taken("Cy Lee", None));
        assert_eq!(roster.members.len(), 3);
    }
}
