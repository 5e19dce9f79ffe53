//! Deciding join requests, whichever way they came in. Approving makes the neighbor a member (or
//! brings a former member back), then queues their participant and a welcome text; denying queues
//! a polite text. A request whose phone is confirmed reaches the captains, or, where the join
//! policy is `open`, is approved on the spot. Each decision, its member and its texts are written
//! in one step, so two captains deciding at once make one member.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::join_request::{JoinRequest, JoinState};
use crate::domain::member::{ConsentRecord, Member, MemberStatus, Role, SyncState};
use crate::domain::neighborhood::{JoinPolicy, Neighborhood, NeighborhoodState};
use crate::membership;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::join_requests::{Advance, MemberChange};
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
    let neighborhood = state
        .store
        .get_neighborhood(neighborhood_id)
        .await?
        .ok_or(DecisionError::NeighborhoodNotFound)?;
    if neighborhood.state == NeighborhoodState::Archived {
        return Err(DecisionError::Archived);
    }
    Ok(neighborhood)
}

/// Lets the neighbor in: their member record, their participant and a welcome text. Approving an
/// approved request again answers the same approval.
pub async fn approve(
    state: &AppState,
    neighborhood_id: Uuid,
    request_id: Uuid,
    decided_by: &str,
) -> Result<Approval, DecisionError> {
    let neighborhood = neighborhood_taking_members(state, neighborhood_id).await?;
    approve_against(state, &neighborhood, request_id, decided_by, &mut None).await
}

/// Approves many requests at once, reading the neighborhood's members once for all of them (one
/// at a time, each approval reads them all). Each approval stands on its own: one that cannot be
/// made is answered as such while the others go ahead. Answers in the order asked.
pub async fn approve_many(
    state: &AppState,
    neighborhood_id: Uuid,
    request_ids: &[Uuid],
    decided_by: &str,
) -> Result<Vec<(Uuid, Result<Approval, DecisionError>)>, DecisionError> {
    let neighborhood = neighborhood_taking_members(state, neighborhood_id).await?;
    let mut roster = None;
    let mut answers = Vec::with_capacity(request_ids.len());
    for request_id in request_ids {
        let approval =
            approve_against(state, &neighborhood, *request_id, decided_by, &mut roster).await;
        if let Err(DecisionError::Store(error)) = approval {
            return Err(DecisionError::Store(error));
        }
        answers.push((*request_id, approval));
    }
    Ok(answers)
}

/// Approves one request, checking it against `roster`: the members as last read (None: not read
/// yet), kept up to date with the member this approval makes. A request that changed meanwhile
/// is read again, with the members.
async fn approve_against(
    state: &AppState,
    neighborhood: &Neighborhood,
    request_id: Uuid,
    decided_by: &str,
    roster: &mut Option<Vec<Member>>,
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
        let members = match roster {
            Some(members) => members,
            None => roster.insert(state.store.members(neighborhood_id).await?),
        };
        let former = members.iter().find(|m| m.phone == before.phone);
        if former.is_some_and(|m| m.status == MemberStatus::Active) {
            let now = state
                .store
                .join_request(neighborhood_id, request_id)
                .await?;
            if now.as_ref() != Some(&before) {
                // Approved by someone else a moment ago: answer their approval.
                *roster = None;
                continue;
            }
            return Err(DecisionError::AlreadyMember);
        }
        let member = member_from(&before, former, members, decided_by);
        let after = JoinRequest {
            state: JoinState::Approved,
            decided_by: Some(decided_by.to_owned()),
            decided_at: Some(OffsetDateTime::now_utc()),
            member_id: Some(member.id),
            ..before.clone()
        };
        let mut effects = vec![
            Effect::AddParticipant {
                member_id: member.id,
            },
            Effect::SendSms {
                to: before.phone.as_str().to_owned(),
                body: welcome_text(neighborhood),
            },
        ];
        effects.extend(crate::catch_up::effect(state, neighborhood, &before.phone).await?);
        let change = MemberChange {
            before: former,
            after: &member,
        };
        match state
            .store
            .advance_join_request(&before, &after, Some(change), true, &effects)
            .await?
        {
            Advance::Done => {
                members.retain(|m| m.id != member.id);
                members.push(member.clone());
                return Ok(Approval {
                    request: after,
                    member,
                    newly: true,
                });
            }
            Advance::MemberExists => return Err(DecisionError::AlreadyMember),
            Advance::Changed => *roster = None,
        }
    }
    Err(DecisionError::KeptChanging)
}

/// The member an approval makes: a new one, or the former member (same id, role and history)
/// back in the group.
fn member_from(
    request: &JoinRequest,
    former: Option<&Member>,
    members: &[Member],
    decided_by: &str,
) -> Member {
    let others: Vec<&Member> = members
        .iter()
        .filter(|m| Some(m.id) != former.map(|f| f.id))
        .collect();
    let consent = ConsentRecord {
        channel: request.channel,
        evidence: request.consent.clone(),
        approved_by: Some(decided_by.to_owned()),
    };
    let now = OffsetDateTime::now_utc();
    let base = match former {
        Some(former) => Member {
            status: MemberStatus::Active,
            status_reason: Some(format!("Back in: request #{} approved", request.number)),
            joined_at: now,
            updated_at: now,
            sync: SyncState::Pending,
            ..former.clone()
        },
        None => Member::joining(
            request.neighborhood_id,
            request.phone.clone(),
            request.name.clone(),
            Role::Member,
        ),
    };
    Member {
        display_name: base.display_name.clone().unique_among(&others),
        address: request.address.clone().or(base.address.clone()),
        answers: request.answers.clone(),
        consent: Some(consent),
        ..base
    }
}

/// The first text a new member gets: what the number is and how to get out.
pub fn welcome_text(neighborhood: &Neighborhood) -> String {
    format!(
        "Welcome to {}! Texts to this number go to all your neighbors in the group, signed with your name. Reply LEAVE to leave this group, STOP to stop all texts, HELP for help.",
        neighborhood.name.as_str()
    )
}

/// Turns the neighbor down, with a polite text. Denying a denied request again answers it again.
pub async fn deny(
    state: &AppState,
    neighborhood_id: Uuid,
    request_id: Uuid,
    decided_by: &str,
) -> Result<Denial, DecisionError> {
    let neighborhood = neighborhood_taking_members(state, neighborhood_id).await?;
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
        let note = format!(
            "Thanks for asking to join {}. The captains could not add you this time.",
            neighborhood.name.as_str()
        );
        let effects = [Effect::SendSms {
            to: before.phone.as_str().to_owned(),
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
    let open = neighborhood.join_policy == JoinPolicy::Open;
    let effects = if open {
        Vec::new()
    } else {
        captain_notices(state, neighborhood.id, &after).await?
    };
    match state
        .store
        .advance_join_request(before, &after, None, false, &effects)
        .await?
    {
        Advance::Done if open => Ok(approve(state, neighborhood.id, after.id, OPEN_POLICY)
            .await?
            .request),
        Advance::Done => Ok(after),
        _ => Err(DecisionError::KeptChanging),
    }
}

/// The "new join request" texts to every owner and captain who has not turned them off.
async fn captain_notices(
    state: &AppState,
    neighborhood_id: Uuid,
    request: &JoinRequest,
) -> Result<Vec<Effect>, StoreError> {
    let address = request
        .address
        .as_deref()
        .map(|a| format!(", {a}"))
        .unwrap_or_default();
    let notice = format!(
        "New join request #{}: {}{address}. Reply #approve {} or #deny {}",
        request.number,
        request.name.as_str(),
        request.number,
        request.number
    );
    membership::texts_to_captains(state, neighborhood_id, &notice, |m| m.join_request_texts).await
}
