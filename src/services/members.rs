//! Who is in the group, and every change to a member: admitting someone (whichever way they came
//! in), a captain's add, edit, pause, removal and ownership transfer, a sync retry, and what
//! neighbors do by text (LEAVE here; STOP, which Twilio applies to the whole Messaging Service).
//! Each change and its Twilio side effects are written together through the outbox, with
//! [`Store::update_member`](crate::store::Store::update_member) or `update_roster`.

use uuid::Uuid;

use crate::domain::access::{may_change_role, may_move_channel, may_pause_or_mute, may_remove};
use crate::domain::channel::Channel;
use crate::domain::join_digest::JoinRequestNotices;
use crate::domain::join_request::{Consent, JoinChannel};
use crate::domain::member::{
    Admission, ConsentRecord, DisplayName, Member, MemberStatus, Role, SyncState, name_in_use,
};
use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;
use crate::i18n::{self, Language};
use crate::services::additions::{self, Adder, AdditionError};
use crate::services::{join_digests, texts};
use crate::state::AppState;
use crate::store::member_changes::{MemberUpdate, RosterChange};
use crate::store::outbox::Effect;
use crate::store::{StoreError, UpdateError};

/// Why a change to a member was not made.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("no such member")]
    NotFound,
    /// A role rule forbids it (the owner cannot be removed), phrased for people.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The change is not one this member can take, phrased for people (for the field `status`).
    #[error("{0}")]
    InvalidStatus(&'static str),
    /// The phone is an active member already, under this name.
    #[error("That phone is already a member ({0}).")]
    AlreadyMember(String),
    #[error("Another member already uses that name.")]
    NameTaken,
    /// WhatsApp members need the neighborhood's WhatsApp sender.
    #[error(
        "This neighborhood has no WhatsApp sender yet: a captain sets one in Settings (whatsapp_sender) before members can be on WhatsApp."
    )]
    NoWhatsappSender,
    #[error("Nothing to retry: this member's last change did not fail.")]
    NothingToRetry,
    #[error("the neighborhood has no owner")]
    NoOwner,
    #[error("the member kept changing")]
    KeptChanging,
    #[error(transparent)]
    Additions(#[from] AdditionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UpdateError<MemberError>> for MemberError {
    fn from(error: UpdateError<MemberError>) -> Self {
        match error {
            UpdateError::NotFound => Self::NotFound,
            UpdateError::Contended => Self::KeptChanging,
            UpdateError::Rejected(error) => error,
            UpdateError::Store(error) => Self::Store(error),
        }
    }
}

/// The effect that takes a member's participant out of the group, if they have one.
pub fn removal(member: &Member) -> Option<Effect> {
    member
        .participant
        .as_ref()
        .map(|participant| Effect::RemoveParticipant {
            member_id: member.id,
            conversation_sid: participant.conversation_sid.clone(),
            participant_sid: participant.participant_sid.clone(),
        })
}

/// What admitting `member` sets off: their participant in a Conversation with room, and the
/// welcome text.
pub fn admission_effects(neighborhood: &Neighborhood, member: &Member) -> Vec<Effect> {
    vec![
        Effect::AddParticipant {
            member_id: member.id,
        },
        Effect::SendSms {
            to: member.address(),
            body: texts::welcome_text(neighborhood, neighborhood.language_for(member.language)),
        },
    ]
}

/// A member out of the group, as `status` says why: their participant leaves, or, not in a
/// Conversation yet, a queued join finds them inactive and does nothing.
fn take_out(member: &mut Member, status: MemberStatus, reason: String) -> Vec<Effect> {
    member.status = status;
    member.status_reason = Some(reason);
    let removal = removal(member);
    member.sync = if removal.is_some() {
        SyncState::Pending
    } else {
        SyncState::Done
    };
    removal.into_iter().collect()
}

/// A neighbor a captain adds directly: their phone, name and address.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub phone: Phone,
    pub channel: Channel,
    pub name: DisplayName,
    pub address: Option<String>,
}

/// A captain (`actor`, from `ip`) adds a neighbor who asked in person, attesting their consent; a
/// former member is added back as themselves.
pub async fn add(
    state: &AppState,
    neighborhood: &Neighborhood,
    new: NewMember,
    (actor, adder): (&str, Adder),
    ip: String,
) -> Result<Member, MemberError> {
    if neighborhood.proxy_address(new.channel).is_none() {
        return Err(MemberError::NoWhatsappSender);
    }
    let reserved = additions::reserve(state, neighborhood.id, 1, adder).await?;
    let consent = ConsentRecord {
        channel: JoinChannel::Captain,
        evidence: Consent {
            text: format!(
                "A captain ({actor}) attests this neighbor agreed to receive {}'s group texts.",
                neighborhood.name.as_str()
            ),
            at: time::OffsetDateTime::now_utc(),
            ip: Some(ip),
            message_sid: None,
        },
        approved_by: Some(actor.to_owned()),
    };
    let admission = Admission {
        language: None,
        neighborhood_id: neighborhood.id,
        phone: new.phone,
        channel: Some(new.channel),
        name: new.name,
        address: new.address,
        answers: Default::default(),
        consent: Some(consent),
        back_in: "Added back by a captain".to_owned(),
    };
    let added = state
        .store
        .update_roster(neighborhood.id, |members| {
            let former = members.iter().find(|m| m.phone == admission.phone);
            if let Some(active) = former.filter(|m| m.status == MemberStatus::Active) {
                return Err(MemberError::AlreadyMember(
                    active.display_name.as_str().to_owned(),
                ));
            }
            let member = admission
                .clone()
                .member(former, name_in_use(members, former.map(|f| f.id)));
            let effects = admission_effects(neighborhood, &member);
            Ok(RosterChange::one(
                former.cloned(),
                member.clone(),
                effects,
                member,
            ))
        })
        .await;
    reserved
        .release(state, if added.is_ok() { 0 } else { 1 })
        .await;
    Ok(added?)
}

/// A neighbor someone added as a participant in Twilio directly (`placed`): a member now, or a
/// former member back, already in the group (so no participant to add and no welcome).
pub async fn admit_added_in_twilio(
    state: &AppState,
    neighborhood_id: Uuid,
    phone: Phone,
    placed: crate::domain::member::Participant,
) -> Result<Option<Member>, StoreError> {
    let last_digits: String = phone
        .as_str()
        .chars()
        .skip(phone.as_str().len().saturating_sub(4))
        .collect();
    let Ok(stranger_name) = DisplayName::parse(&format!("Neighbor {last_digits}")) else {
        return Ok(None);
    };
    let admitted = state
        .store
        .update_roster(neighborhood_id, |members| {
            let former = members.iter().find(|m| m.phone == phone);
            if former.is_some_and(|m| m.participant.as_ref() == Some(&placed)) {
                return Ok::<_, StoreError>(RosterChange::none(None));
            }
            let admission = Admission {
                language: None,
                neighborhood_id,
                phone: phone.clone(),
                channel: None,
                name: former.map_or_else(|| stranger_name.clone(), |f| f.display_name.clone()),
                address: None,
                answers: Default::default(),
                consent: None,
                back_in: "Added in Twilio, outside the service".to_owned(),
            };
            let mut member = admission.member(former, name_in_use(members, former.map(|f| f.id)));
            member.status_reason = Some("Added in Twilio, outside the service".to_owned());
            member.participant = Some(placed.clone());
            member.sync = SyncState::Done;
            Ok(RosterChange::one(
                former.cloned(),
                member.clone(),
                Vec::new(),
                Some(member),
            ))
        })
        .await;
    // Kept changing: the periodic reconciliation with Twilio settles it.
    let Some(Some(member)) = UpdateError::unless_gone(admitted)? else {
        return Ok(None);
    };
    state
        .store
        .index_participant(neighborhood_id, &placed.participant_sid, member.id)
        .await?;
    Ok(Some(member))
}

/// What a captain changes about a member; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct MemberChanges {
    pub role: Option<Role>,
    pub display_name: Option<DisplayName>,
    pub join_request_texts: Option<bool>,
    /// How often they hear about join requests; wins over `join_request_texts`.
    pub join_request_notices: Option<JoinRequestNotices>,
    pub muted: Option<bool>,
    /// `paused` or `active`: pause or resume.
    pub status: Option<MemberStatus>,
    /// Moves them between SMS and WhatsApp.
    pub channel: Option<Channel>,
    /// The language of the texts we send them.
    pub language: Option<Language>,
}

/// Someone whose role here is `acting` (a platform admin acts as the owner) changes a member;
/// `actor` is how captains know them (a member's display name), for the status they read later
/// ("Paused by Olive"). The answer holds the member before and after (equal when nothing changed).
pub async fn update(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    changes: &MemberChanges,
    acting: Role,
    actor: &str,
) -> Result<MemberUpdate, MemberError> {
    if let Some(name) = &changes.display_name {
        let taken = state
            .store
            .members(neighborhood_id)
            .await?
            .iter()
            .any(|other| other.id != member_id && other.display_name.key() == name.key());
        if taken {
            return Err(MemberError::NameTaken);
        }
    }
    if let Some(channel) = changes.channel {
        let neighborhood = super::neighborhoods::active(state, neighborhood_id)
            .await
            .map_err(|error| match error {
                super::neighborhoods::NeighborhoodError::Store(error) => MemberError::Store(error),
                _ => MemberError::NotFound,
            })?;
        if neighborhood.proxy_address(channel).is_none() {
            return Err(MemberError::NoWhatsappSender);
        }
    }
    // Only a promotion needs the neighborhood, for the text that tells them.
    let promoting_in = match changes.role {
        Some(role) if role.can_sign_in() => state.store.get_neighborhood(neighborhood_id).await?,
        _ => None,
    };
    let sign_in_url = state.public_url("");
    let updated = state
        .store
        .update_member(neighborhood_id, member_id, |member| {
            let mut effects = Vec::new();
            if let Some(role) = changes.role.filter(|role| *role != member.role) {
                may_change_role(acting >= Role::Captain, member.role, role)
                    .map_err(MemberError::Forbidden)?;
                let promoted = role > member.role && role.can_sign_in();
                member.role = role;
                if let (true, Some(neighborhood)) = (promoted, &promoting_in) {
                    let name = neighborhood.name.as_str();
                    let language = neighborhood.language_for(member.language);
                    effects.push(Effect::SendSms {
                        to: member.address(),
                        body: promotion_text(actor, role, name, &sign_in_url, language),
                    });
                }
            }
            let pausing = changes.status.is_some_and(|status| status != member.status);
            let muting = changes.muted.is_some_and(|muted| muted != member.muted);
            if pausing || muting {
                may_pause_or_mute(acting, member.role).map_err(MemberError::Forbidden)?;
            }
            if let Some(name) = &changes.display_name {
                member.display_name = name.clone();
            }
            if let Some(texts) = changes.join_request_texts {
                member.join_request_texts = texts;
            }
            if let Some(notices) = changes.join_request_notices {
                member.set_join_request_notices(notices);
            }
            if let Some(muted) = changes.muted {
                member.muted = muted;
            }
            if let Some(language) = changes.language {
                member.language = Some(language);
            }
            if let Some(status) = changes.status.filter(|status| *status != member.status) {
                effects.extend(pause_or_resume(member, status, actor)?);
            }
            if let Some(channel) = changes.channel.filter(|channel| *channel != member.channel) {
                may_move_channel(acting).map_err(MemberError::Forbidden)?;
                effects.extend(move_channel(member, channel));
            }
            Ok(effects)
        })
        .await?;
    if updated.before.join_request_notices() != updated.after.join_request_notices() {
        // A digest waiting for the old interval is looked at again under the new one.
        join_digests::reconsider(state, neighborhood_id, member_id).await?;
    }
    Ok(updated)
}

/// The text a newly made captain or moderator gets: who made them one, and where to sign in
/// (with this phone: the code comes by text).
fn promotion_text(
    actor: &str,
    role: Role,
    neighborhood: &str,
    sign_in_url: &str,
    language: Language,
) -> String {
    let id = match role {
        Role::Moderator => "promoted-moderator",
        _ => "promoted-captain",
    };
    i18n::text(
        language,
        id,
        &[
            ("actor", actor.into()),
            ("neighborhood", neighborhood.into()),
            ("link", sign_in_url.into()),
        ],
    )
}

/// Moves a member to `channel`. One in the group gets a new participant on it, after the old one
/// is taken out (the outbox carries out a member's effects in order); the record forgets the old
/// participant at once, so its removal is not mistaken for one a resume made moot.
fn move_channel(member: &mut Member, channel: Channel) -> Vec<Effect> {
    member.channel = channel;
    if member.status != MemberStatus::Active {
        // Out of the group: they come back on the new channel.
        return Vec::new();
    }
    member.sync = SyncState::Pending;
    let removal = member
        .participant
        .take()
        .map(|old| Effect::RemoveParticipant {
            member_id: member.id,
            conversation_sid: old.conversation_sid,
            participant_sid: old.participant_sid,
        });
    removal
        .into_iter()
        .chain([Effect::AddParticipant {
            member_id: member.id,
        }])
        .collect()
}

fn pause_or_resume(
    member: &mut Member,
    status: MemberStatus,
    actor: &str,
) -> Result<Vec<Effect>, MemberError> {
    match (member.status, status) {
        (MemberStatus::Active, MemberStatus::Paused) => Ok(take_out(
            member,
            MemberStatus::Paused,
            format!("Paused by {actor}"),
        )),
        (MemberStatus::Paused, MemberStatus::Active) => {
            member.status = MemberStatus::Active;
            member.status_reason = Some(format!("Resumed by {actor}"));
            member.sync = SyncState::Pending;
            Ok(vec![Effect::AddParticipant {
                member_id: member.id,
            }])
        }
        _ => Err(MemberError::InvalidStatus(
            "Only an active member can be paused, and only a paused one resumed.",
        )),
    }
}

/// Queues a member's failed change again (`sync` is `failed`): adding an active member to the
/// group text, or taking an inactive one out. Where Twilio already matches the record, only the
/// failure mark goes. True when something was queued.
pub async fn retry_sync(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<(Member, bool), MemberError> {
    let mut queued = false;
    let updated = state
        .store
        .update_member(neighborhood_id, member_id, |member| {
            if !matches!(member.sync, SyncState::Failed { .. }) {
                return Err(MemberError::NothingToRetry);
            }
            let active = member.status == MemberStatus::Active;
            let effect = match (removal(member), active) {
                (None, true) => Effect::AddParticipant {
                    member_id: member.id,
                },
                (Some(removal), false) => removal,
                _ => {
                    member.sync = SyncState::Done;
                    queued = false;
                    return Ok(Vec::new());
                }
            };
            member.sync = SyncState::Pending;
            queued = true;
            Ok(vec![effect])
        })
        .await?;
    Ok((updated.after, queued))
}

/// A handover: the owner now, and the one who stepped down to captain (None when the member
/// asked for was the owner already, so nothing changed).
#[derive(Debug, Clone)]
pub struct Transfer {
    pub owner: Member,
    pub previous_owner: Option<Member>,
}

/// Makes an active member the owner; the current owner becomes a captain, in one write.
pub async fn transfer_ownership(
    state: &AppState,
    neighborhood_id: Uuid,
    new_owner_id: Uuid,
) -> Result<Transfer, MemberError> {
    let transferred = state
        .store
        .update_roster(neighborhood_id, |members| {
            let new_owner = members
                .iter()
                .find(|member| member.id == new_owner_id)
                .ok_or(MemberError::NotFound)?;
            if new_owner.status != MemberStatus::Active {
                return Err(MemberError::Forbidden(
                    "Only an active member can become the owner.",
                ));
            }
            if new_owner.role == Role::Owner {
                return Ok(RosterChange::none(Transfer {
                    owner: new_owner.clone(),
                    previous_owner: None,
                }));
            }
            let old_owner = members
                .iter()
                .find(|member| member.role == Role::Owner)
                .ok_or(MemberError::NoOwner)?;
            let now = time::OffsetDateTime::now_utc();
            let promoted = Member {
                role: Role::Owner,
                updated_at: now,
                ..new_owner.clone()
            };
            let stepped_down = Member {
                role: Role::Captain,
                updated_at: now,
                ..old_owner.clone()
            };
            Ok(RosterChange {
                writes: vec![
                    (Some(new_owner.clone()), promoted.clone()),
                    (Some(old_owner.clone()), stepped_down.clone()),
                ],
                effects: Vec::new(),
                answer: Transfer {
                    owner: promoted,
                    previous_owner: Some(stepped_down),
                },
            })
        })
        .await?;
    Ok(transferred)
}

/// A captain removes a member: listed as `removed`, out of the group text, and first sent
/// `notice` if there is one. Removing a removed member again changes nothing. `remover` is how
/// the captains know who did it (a member's display name), kept in the member's status.
pub async fn remove(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    remover: &str,
    notice: Option<&str>,
) -> Result<Member, MemberError> {
    Ok(
        remove_member(state, neighborhood_id, member_id, remover, notice)
            .await?
            .after,
    )
}

/// [`remove`], answering with the member before and after (equal when they were removed
/// already).
async fn remove_member(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
    remover: &str,
    notice: Option<&str>,
) -> Result<MemberUpdate, MemberError> {
    let removed = state
        .store
        .update_member(neighborhood_id, member_id, |member| {
            may_remove(member.role).map_err(MemberError::Forbidden)?;
            if member.status == MemberStatus::Removed {
                return Ok(Vec::new());
            }
            let mut effects: Vec<Effect> = notice
                .map(|notice| Effect::SendSms {
                    to: member.address(),
                    body: notice.to_owned(),
                })
                .into_iter()
                .collect();
            effects.extend(take_out(
                member,
                MemberStatus::Removed,
                format!("Removed by {remover}"),
            ));
            Ok(effects)
        })
        .await?;
    Ok(removed)
}

/// One change a captain makes to many members at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Pause,
    Resume,
    Remove,
    SetRole(Role),
}

/// What became of one member in a bulk change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkOutcome {
    /// Changed.
    Done(Box<Member>),
    /// Left as it was, and why, phrased for people.
    Skipped(String),
}

/// How many members a bulk change is applied to at the same time: each is its own write, and a
/// few at once keep a 500-member change quick without crowding the store.
const BULK_CONCURRENCY: usize = 8;

/// Applies `action` to each of `member_ids` with the same rules as changing them one by one
/// ([`update`], [`remove`]): a member a rule protects (the owner cannot be removed or paused),
/// one not in the neighborhood, or one already as asked is skipped with the reason. Answers per
/// member, in the order asked; only a store failure stops it.
pub async fn apply_bulk(
    state: &AppState,
    neighborhood_id: Uuid,
    member_ids: &[Uuid],
    action: BulkAction,
    (acting, actor): (Role, &str),
) -> Result<Vec<(Uuid, BulkOutcome)>, MemberError> {
    use futures::{StreamExt, TryStreamExt};
    futures::stream::iter(member_ids.iter().copied())
        .map(|member_id| async move {
            let changed = match action {
                BulkAction::Remove => {
                    remove_member(state, neighborhood_id, member_id, actor, None).await
                }
                BulkAction::Pause | BulkAction::Resume | BulkAction::SetRole(_) => {
                    let changes = MemberChanges {
                        role: match action {
                            BulkAction::SetRole(role) => Some(role),
                            _ => None,
                        },
                        status: match action {
                            BulkAction::Pause => Some(MemberStatus::Paused),
                            BulkAction::Resume => Some(MemberStatus::Active),
                            _ => None,
                        },
                        ..MemberChanges::default()
                    };
                    update(state, neighborhood_id, member_id, &changes, acting, actor).await
                }
            };
            let outcome = match changed {
                Ok(MemberUpdate { before, after }) if before == after => {
                    BulkOutcome::Skipped(unchanged_reason(action).to_owned())
                }
                Ok(MemberUpdate { after, .. }) => BulkOutcome::Done(Box::new(after)),
                Err(MemberError::NotFound) => {
                    BulkOutcome::Skipped("Not a member of this neighborhood.".to_owned())
                }
                Err(MemberError::Forbidden(reason) | MemberError::InvalidStatus(reason)) => {
                    BulkOutcome::Skipped(reason.to_owned())
                }
                Err(MemberError::KeptChanging) => {
                    BulkOutcome::Skipped("Their record kept changing; try them again.".to_owned())
                }
                Err(error) => return Err(error),
            };
            Ok((member_id, outcome))
        })
        .buffered(BULK_CONCURRENCY)
        .try_collect()
        .await
}

/// Why a member a bulk change did not change was left alone.
fn unchanged_reason(action: BulkAction) -> &'static str {
    match action {
        BulkAction::Pause => "Already paused.",
        BulkAction::Resume => "Already in the group.",
        BulkAction::Remove => "Already removed.",
        BulkAction::SetRole(_) => "Already has that role.",
    }
}

/// LEAVE: out of this neighborhood's group only, with a confirming text. The owner cannot leave
/// without handing the neighborhood over first.
pub async fn leave(
    state: &AppState,
    neighborhood: &Neighborhood,
    member: &Member,
    language: Language,
) -> Result<(), StoreError> {
    let args = [("neighborhood", neighborhood.name.as_str().into())];
    if member.role == Role::Owner {
        let reply = i18n::text(language, "owner-cannot-leave", &args);
        return texts::queue_text(state, neighborhood.id, &member.address(), reply).await;
    }
    // The confirmation is queued with the change, and only by the one who makes it: a LEAVE
    // heard by two webhooks at once (see `inbound`) is carried out and confirmed once.
    let confirmation = Effect::SendSms {
        to: member.address(),
        body: i18n::text(language, "left", &args),
    };
    let left = state
        .store
        .update_read_member(member.clone(), |member| {
            if member.status == MemberStatus::Left {
                return Ok::<_, StoreError>(Vec::new());
            }
            let mut effects = take_out(member, MemberStatus::Left, "Texted LEAVE".to_owned());
            effects.push(confirmation.clone());
            Ok(effects)
        })
        .await;
    UpdateError::unless_gone(left).map(drop)
}

/// ENGLISH, ESPAÑOL: the member's texts are in `language` from now on, which a text in it says.
pub async fn set_language(
    state: &AppState,
    neighborhood: &Neighborhood,
    member: &Member,
    language: Language,
) -> Result<(), StoreError> {
    let confirmation = Effect::SendSms {
        to: member.address(),
        body: i18n::text(
            language,
            "language-set",
            &[("neighborhood", neighborhood.name.as_str().into())],
        ),
    };
    let changed = state
        .store
        .update_member(neighborhood.id, member.id, |member| {
            member.language = Some(language);
            Ok::<_, std::convert::Infallible>(vec![confirmation.clone()])
        })
        .await;
    match changed {
        Ok(_) | Err(UpdateError::NotFound) => Ok(()),
        Err(UpdateError::Contended) => {
            tracing::warn!("a member's language change kept meeting other changes; not made");
            Ok(())
        }
        Err(UpdateError::Store(error)) => Err(error),
        Err(UpdateError::Rejected(never)) => match never {},
    }
}

/// STOP: Twilio now blocks every text to this phone from the Messaging Service, so the phone is
/// marked opted out, and taken out of the group, in every neighborhood of the deployment.
pub async fn opt_out_everywhere(state: &AppState, phone: &Phone) -> Result<(), StoreError> {
    for (neighborhood_id, _) in state.store.roles_of(phone).await? {
        if let Some(member) = state.store.member_by_phone(neighborhood_id, phone).await? {
            take_out_by_text(
                state,
                &member,
                MemberStatus::OptedOut,
                "Texted STOP: no texts from any neighborhood until START",
            )
            .await?;
        }
    }
    Ok(())
}

/// A member out by their own text. One that kept changing is left as it is (they can text again).
async fn take_out_by_text(
    state: &AppState,
    member: &Member,
    status: MemberStatus,
    reason: &str,
) -> Result<(), StoreError> {
    let taken_out = state
        .store
        .update_read_member(member.clone(), |member| {
            Ok::<_, StoreError>(take_out(member, status, reason.to_owned()))
        })
        .await;
    UpdateError::unless_gone(taken_out).map(drop)
}
