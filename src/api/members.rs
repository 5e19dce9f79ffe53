//! `/api/v1/neighborhoods/{id}/members` and `/ownership`: who is in, their roles, and handing
//! the neighborhood over.

use std::collections::BTreeMap;

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, ErrorCode, FieldErrors};
use crate::auth::policy::{self, Grant};
use crate::auth::principal::Auth;
use crate::domain::join_request::{Consent, JoinChannel};
use crate::domain::member::{
    ConsentRecord, DeliveryHealth, DisplayName, Member, MemberStatus, Role, SyncState,
    street_address,
};
use crate::domain::neighborhood::Shard;
use crate::domain::phone::Phone;
use crate::membership;
use crate::state::AppState;
use crate::store::outbox::Effect;

pub struct MembersApi;

/// A member of the neighborhood.
#[derive(Debug, Object)]
pub struct MemberOut {
    /// Id.
    pub id: Uuid,
    /// The name on their messages.
    pub display_name: String,
    /// Their phone, shown to captains and the owner only.
    pub phone: Option<String>,
    /// Their role.
    pub role: Role,
    /// Where they stand.
    pub status: MemberStatus,
    /// When they joined.
    pub joined_at: OffsetDateTime,
    /// When their record last changed.
    pub updated_at: OffsetDateTime,
    /// The Conversation (shard) that carries their texts, once they are in it.
    pub conversation_sid: Option<String>,
    /// `done` when Twilio matches this record, `pending` while a change is on its way, `failed`
    /// when Twilio kept refusing (see `sync_error`).
    pub sync: String,
    /// Why the last change failed at Twilio, when `sync` is `failed`.
    pub sync_error: Option<String>,
    /// Which of the neighborhood's Conversations carries their texts (1 for the first), once in.
    pub shard: Option<u32>,
    /// Why the status is what it is ("Texted LEAVE", "Removed by ...").
    pub status_reason: Option<String>,
    /// Whether they get a text for each new join request (captains and the owner).
    pub join_request_texts: bool,
    /// Muted: they receive the group's texts, but theirs are kept from the group.
    pub muted: bool,
    /// How the group's texts to them have been faring, once Twilio has reported on one.
    pub delivery: Option<DeliveryHealth>,
    /// Their street address; captains and the owner only.
    pub address: Option<String>,
    /// Their answers to the join questions, by question; captains and the owner only.
    pub answers: Option<BTreeMap<String, String>>,
    /// How they came in and what they agreed to; captains and the owner only.
    pub consent: Option<ConsentOut>,
}

/// A member's opt-in evidence.
#[derive(Debug, Object)]
pub struct ConsentOut {
    /// `web`, `sms`, `invite`, `import`, or `captain` (added directly, consent attested).
    pub channel: JoinChannel,
    /// The exact text they agreed to (or the captain's attestation).
    pub text: String,
    /// When.
    pub at: OffsetDateTime,
    /// The address the web form came from.
    pub ip: Option<String>,
    /// The inbound text that asked to join.
    pub message_sid: Option<String>,
    /// Who approved them, or the captain who added them.
    pub approved_by: Option<String>,
}

/// A member a captain adds directly (their consent is attested by that captain).
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MemberIn {
    /// Their phone, e.g. `+15551234567`.
    pub phone: String,
    /// The name on their messages (1 to 40 characters); a number is added if another member has it.
    pub display_name: String,
    /// Their street address, for the captains (at most 200 characters).
    pub address: Option<String>,
}

/// One page of members.
#[derive(Debug, Object)]
pub struct MemberList {
    /// In joining order (oldest first).
    pub items: Vec<MemberOut>,
    /// How many members match the filters, over all pages.
    pub total: u32,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

/// Changes to a member; omitted fields stay.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MemberPatch {
    /// New role: `member`, `moderator` or `captain` (ownership moves by transfer).
    pub role: Option<Role>,
    /// New display name (1 to 40 characters, unique in the neighborhood).
    pub display_name: Option<String>,
    /// `paused` takes them out of the group text for now (they stay a member); `active` puts
    /// them back. Left, removed and opted-out members come back only through a join request.
    pub status: Option<MemberStatus>,
    /// Whether they get a text for each new join request (captains and the owner).
    pub join_request_texts: Option<bool>,
    /// Mute (their texts stop reaching the group; they still receive it) or unmute.
    pub muted: Option<bool>,
}

/// Who becomes the owner.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OwnershipIn {
    /// An active member; the current owner becomes a captain.
    pub member_id: Uuid,
}

#[derive(ApiResponse)]
enum ListResponse {
    /// The members.
    #[oai(status = 200)]
    Ok(Json<MemberList>),
}

#[derive(ApiResponse)]
enum AddResponse {
    /// The member is in; joining the group text is under way (`sync` is `pending`).
    #[oai(status = 202)]
    Accepted(Json<MemberOut>),
}

#[derive(ApiResponse)]
enum MemberResponse {
    /// The member as it is now.
    #[oai(status = 200)]
    Ok(Json<MemberOut>),
}

/// How often a change is retried when the members changed under it.
const ATTEMPTS: usize = 5;

pub(super) fn to_out(member: &Member, grant: &Grant) -> MemberOut {
    to_out_in(member, grant, &[])
}

/// The member as the API shows it; `shards` (the neighborhood's) numbers their Conversation.
fn to_out_in(member: &Member, grant: &Grant, shards: &[Shard]) -> MemberOut {
    let captain_view = policy::may_see_phones(grant);
    let conversation_sid = member
        .participant
        .as_ref()
        .map(|p| p.conversation_sid.clone());
    let shard = conversation_sid.as_ref().and_then(|sid| {
        shards
            .iter()
            .position(|shard| &shard.conversation_sid == sid)
            .map(|index| index as u32 + 1)
    });
    MemberOut {
        id: member.id,
        display_name: member.display_name.as_str().to_owned(),
        phone: captain_view.then(|| member.phone.as_str().to_owned()),
        role: member.role,
        status: member.status,
        joined_at: member.joined_at,
        updated_at: member.updated_at,
        conversation_sid,
        sync: match member.sync {
            SyncState::Done => "done",
            SyncState::Pending => "pending",
            SyncState::Failed { .. } => "failed",
        }
        .to_owned(),
        sync_error: match &member.sync {
            SyncState::Failed { error } => Some(error.clone()),
            _ => None,
        },
        shard,
        status_reason: member.status_reason.clone(),
        join_request_texts: member.join_request_texts,
        muted: member.muted,
        delivery: member.delivery.clone(),
        address: captain_view.then(|| member.address.clone()).flatten(),
        answers: captain_view.then(|| member.answers.clone()),
        consent: captain_view
            .then(|| member.consent.as_ref().map(consent_out))
            .flatten(),
    }
}

fn consent_out(consent: &ConsentRecord) -> ConsentOut {
    ConsentOut {
        channel: consent.channel,
        text: consent.evidence.text.clone(),
        at: consent.evidence.at,
        ip: consent.evidence.ip.clone(),
        message_sid: consent.evidence.message_sid.clone(),
        approved_by: consent.approved_by.clone(),
    }
}

/// Whether a member matches the list filters. `q` matches the name, and for captains the phone.
fn matches(member: &Member, filters: &MemberFilters, captain_view: bool) -> bool {
    let query = filters.q.as_deref().map(str::to_lowercase);
    let text_matches = query.as_deref().is_none_or(|q| {
        member.display_name.as_str().to_lowercase().contains(q)
            || (captain_view && member.phone.as_str().contains(q.trim_start_matches('+')))
    });
    text_matches
        && filters.status.is_none_or(|status| member.status == status)
        && filters.role.is_none_or(|role| member.role == role)
}

/// What the member list is narrowed to.
struct MemberFilters {
    q: Option<String>,
    status: Option<MemberStatus>,
    role: Option<Role>,
}

impl MemberFilters {
    fn is_empty(&self) -> bool {
        self.q.is_none() && self.status.is_none() && self.role.is_none()
    }
}

/// A removal notice fits in two SMS segments.
const MAX_NOTICE_CHARS: usize = 320;
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;

async fn existing_member<S>(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<Member, ApiError<S>> {
    state
        .store
        .member(neighborhood_id, member_id)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))
}

/// Pauses an active member (out of the group text, still a member) or resumes a paused one;
/// returns the Twilio effects. Other status changes have their own ways (LEAVE, STOP, remove,
/// a join request).
fn pause_or_resume<S>(
    member: &mut Member,
    status: MemberStatus,
    actor: &str,
) -> Result<Vec<Effect>, ApiError<S>> {
    match (member.status, status) {
        (MemberStatus::Active, MemberStatus::Paused) => {
            member.status = MemberStatus::Paused;
            member.status_reason = Some(format!("Paused by {actor}"));
            let removal = membership::removal(member);
            member.sync = if removal.is_some() {
                SyncState::Pending
            } else {
                // Not in a Conversation yet: a queued join finds them paused and does nothing.
                SyncState::Done
            };
            Ok(removal.into_iter().collect())
        }
        (MemberStatus::Paused, MemberStatus::Active) => {
            member.status = MemberStatus::Active;
            member.status_reason = Some(format!("Resumed by {actor}"));
            member.sync = SyncState::Pending;
            Ok(vec![Effect::AddParticipant {
                member_id: member.id,
            }])
        }
        _ => {
            let mut errors = FieldErrors::default();
            errors.add(
                "status",
                "Only an active member can be paused, and only a paused one resumed.",
            );
            Err(errors.into_error())
        }
    }
}

/// Someone else kept changing the same member meanwhile.
fn kept_changing<S>() -> ApiError<S> {
    ApiError::member_kept_changing()
}

fn role_rule<S>(message: &str) -> ApiError<S> {
    ApiError::role_rule(message)
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Members")]
impl MembersApi {
    /// List members
    ///
    /// Everyone in the neighborhood, oldest first. Phone numbers are shown to captains and the
    /// owner only.
    #[oai(path = "/:id/members", method = "get", operation_id = "list_members")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// Part of a name (any case), or for captains part of a phone number.
        q: Query<Option<String>>,
        /// Only members in this status.
        status: Query<Option<MemberStatus>>,
        /// Only members with this role.
        role: Query<Option<Role>>,
        /// Members after this id (the previous page's `next_after`).
        after: Query<Option<Uuid>>,
        /// Page size, 1 to 500 (default 100).
        limit: Query<Option<u32>>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid)>> {
        let grant = policy::authorize(&state, auth.principal(), "list_members", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_PAGE, MAX_PAGE);
        errors.finish()?;
        let shards = state
            .store
            .get_neighborhood(id.0)
            .await?
            .map(|n| n.shards)
            .unwrap_or_default();
        let filters = MemberFilters {
            q: q.0.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
            status: status.0,
            role: role.0,
        };
        let captain_view = policy::may_see_phones(&grant);
        // Ids are time-ordered (v7): joining order, stable for paging.
        let (mut page, total) = if filters.is_empty() {
            // The admin app's first view: only the page is read, whatever the neighborhood's size.
            state
                .store
                .member_page(id.0, after.0, limit as usize + 1)
                .await?
        } else {
            let mut members: Vec<Member> = state
                .store
                .members(id.0)
                .await?
                .into_iter()
                .filter(|member| matches(member, &filters, captain_view))
                .collect();
            let total = members.len();
            members.sort_by_key(|member| member.id);
            members.retain(|member| after.0.is_none_or(|after| member.id > after));
            members.truncate(limit as usize + 1);
            (members, total)
        };
        let total = total as u32;
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        Ok(ListResponse::Ok(Json(MemberList {
            items: page
                .iter()
                .map(|member| to_out_in(member, &grant, &shards))
                .collect(),
            total,
            next_after: more.then(|| page.last().map(|m| m.id)).flatten(),
        })))
    }

    /// Add a member directly
    ///
    /// Captains add a neighbor who asked in person; the captain attests their consent, which is
    /// audited. The answer comes at once; adding them to the group text happens in the background
    /// (`sync` goes from `pending` to `done`).
    #[oai(path = "/:id/members", method = "post", operation_id = "add_member")]
    async fn add(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<MemberIn>,
    ) -> Result<AddResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        let grant = policy::authorize(&state, auth.principal(), "add_member", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let phone = errors.check("phone", Phone::parse(&body.0.phone));
        let name = errors.check("display_name", DisplayName::parse(&body.0.display_name));
        let address = errors
            .check("address", street_address(body.0.address.as_deref()))
            .flatten();
        let (Some(phone), Some(name)) = (phone, name) else {
            return Err(errors.into_error());
        };
        errors.finish()?;
        let neighborhood = crate::provisioning::active_neighborhood(&state, id.0).await?;
        let actor = auth.principal().actor();
        let consent = ConsentRecord {
            channel: JoinChannel::Captain,
            evidence: Consent {
                text: format!(
                    "A captain ({actor}) attests this neighbor agreed to receive {}'s group texts.",
                    neighborhood.name.as_str()
                ),
                at: OffsetDateTime::now_utc(),
                ip: Some(state.client_ip(request)),
                message_sid: None,
            },
            approved_by: Some(actor),
        };
        for _ in 0..ATTEMPTS {
            let members = state.store.members(id.0).await?;
            let former = members.iter().find(|m| m.phone == phone);
            if let Some(active) = former.filter(|m| m.status == MemberStatus::Active) {
                return Err(ApiError::conflict(
                    ErrorCode::Conflict,
                    &format!(
                        "That phone is already a member ({}).",
                        active.display_name.as_str()
                    ),
                ));
            }
            let others: Vec<&Member> = members
                .iter()
                .filter(|m| Some(m.id) != former.map(|f| f.id))
                .collect();
            let member = Member {
                display_name: name.clone().unique_among(&others),
                address: address.clone(),
                consent: Some(consent.clone()),
                status_reason: former.map(|_| "Added back by a captain".to_owned()),
                ..match former {
                    Some(former) => Member {
                        status: MemberStatus::Active,
                        sync: SyncState::Pending,
                        joined_at: OffsetDateTime::now_utc(),
                        updated_at: OffsetDateTime::now_utc(),
                        ..former.clone()
                    },
                    None => Member::joining(id.0, phone.clone(), name.clone(), Role::Member),
                }
            };
            let effects = [
                Effect::AddParticipant {
                    member_id: member.id,
                },
                Effect::SendSms {
                    to: member.phone.as_str().to_owned(),
                    body: crate::joining::welcome_text(&neighborhood),
                },
            ];
            if state
                .store
                .save_member_with_effects(former, &member, &effects)
                .await?
            {
                let detail =
                    json!({"consent": "attested by captain", "display_name": member.display_name});
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "member.add",
                    format!("member:{}", member.id),
                    detail,
                )
                .await;
                return Ok(AddResponse::Accepted(Json(to_out(&member, &grant))));
            }
        }
        Err(kept_changing())
    }

    /// Change a member
    ///
    /// Captains and the owner promote and demote (`member`, `moderator`, `captain`; the owner's
    /// role changes only by a transfer), rename, pause or resume a member (`status`), and turn
    /// join-request texts on or off. Pausing and resuming change the group text in the
    /// background (`sync`).
    #[oai(
        path = "/:id/members/:member_id",
        method = "patch",
        operation_id = "update_member"
    )]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        member_id: Path<Uuid>,
        body: Json<MemberPatch>,
    ) -> Result<MemberResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "update_member", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let name = body
            .0
            .display_name
            .as_deref()
            .and_then(|name| errors.check("display_name", DisplayName::parse(name)));
        errors.finish()?;
        for _ in 0..ATTEMPTS {
            let before = existing_member(&state, id.0, member_id.0).await?;
            let mut after = before.clone();
            if let Some(role) = body.0.role.filter(|role| *role != before.role) {
                policy::may_change_role(&grant, before.role, role).map_err(role_rule)?;
                after.role = role;
            }
            if let Some(name) = &name {
                let taken = state.store.members(id.0).await?.iter().any(|other| {
                    other.id != before.id
                        && other
                            .display_name
                            .as_str()
                            .eq_ignore_ascii_case(name.as_str())
                });
                if taken {
                    return Err(ApiError::conflict(
                        ErrorCode::Conflict,
                        "Another member already uses that name.",
                    ));
                }
                after.display_name = name.clone();
            }
            if let Some(texts) = body.0.join_request_texts {
                after.join_request_texts = texts;
            }
            if let Some(muted) = body.0.muted {
                after.muted = muted;
            }
            let effects = match body.0.status.filter(|status| *status != before.status) {
                Some(status) => pause_or_resume(&mut after, status, &auth.principal().actor())?,
                None => Vec::new(),
            };
            if after == before {
                return Ok(MemberResponse::Ok(Json(to_out(&before, &grant))));
            }
            after.updated_at = OffsetDateTime::now_utc();
            if state
                .store
                .save_member_with_effects(Some(&before), &after, &effects)
                .await?
            {
                let detail = json!({
                    "role": {"from": before.role, "to": after.role},
                    "display_name": {"from": before.display_name, "to": after.display_name},
                    "status": {"from": before.status, "to": after.status},
                });
                let action = if before.role == after.role {
                    "member.update"
                } else {
                    "member.role_change"
                };
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    action,
                    format!("member:{}", after.id),
                    detail,
                )
                .await;
                return Ok(MemberResponse::Ok(Json(to_out(&after, &grant))));
            }
        }
        Err(kept_changing())
    }

    /// Remove a member
    ///
    /// They are taken out of the group text and listed as `removed`; with `notice`, that text is
    /// sent to them first. The owner cannot be removed: transfer ownership first.
    #[oai(
        path = "/:id/members/:member_id",
        method = "delete",
        operation_id = "remove_member"
    )]
    async fn remove(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        member_id: Path<Uuid>,
        /// A text for the removed neighbor (1 to 320 characters), e.g. why.
        notice: Query<Option<String>>,
    ) -> Result<MemberResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "remove_member", Some(id.0)).await?;
        let notice = notice.0.map(|n| n.trim().to_owned());
        if notice
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > MAX_NOTICE_CHARS)
        {
            let mut errors = FieldErrors::default();
            errors.add(
                "notice",
                format!("A notice has 1 to {MAX_NOTICE_CHARS} characters."),
            );
            errors.finish()?;
        }
        let removed = membership::remove(
            &state,
            id.0,
            member_id.0,
            &auth.principal().actor(),
            notice.as_deref(),
        )
        .await?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "member.remove",
            format!("member:{}", removed.id),
            json!({"role": removed.role, "notice": notice.is_some()}),
        )
        .await;
        Ok(MemberResponse::Ok(Json(to_out(&removed, &grant))))
    }

    /// Retry a failed sync
    ///
    /// When Twilio kept refusing a member's change (`sync` is `failed`), queues it again: adding
    /// an active member to the group text, or taking an inactive one out. 409 when nothing failed.
    #[oai(
        path = "/:id/members/:member_id/retry",
        method = "post",
        operation_id = "retry_member_sync"
    )]
    async fn retry(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        member_id: Path<Uuid>,
    ) -> Result<AddResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "retry_member_sync", Some(id.0)).await?;
        crate::provisioning::active_neighborhood(&state, id.0).await?;
        for _ in 0..ATTEMPTS {
            let before = existing_member(&state, id.0, member_id.0).await?;
            if !matches!(before.sync, SyncState::Failed { .. }) {
                return Err(ApiError::conflict(
                    ErrorCode::Conflict,
                    "Nothing to retry: this member's last change did not fail.",
                ));
            }
            let active = before.status == MemberStatus::Active;
            let effect = match (membership::removal(&before), active) {
                (None, true) => Effect::AddParticipant {
                    member_id: before.id,
                },
                (Some(removal), false) => removal,
                // Twilio already matches the record: only the failure mark is stale.
                _ => {
                    let after = Member {
                        sync: SyncState::Done,
                        ..before.clone()
                    };
                    if state
                        .store
                        .replace_members(id.0, &[(&before, &after)])
                        .await?
                    {
                        return Ok(AddResponse::Accepted(Json(to_out(&after, &grant))));
                    }
                    continue;
                }
            };
            let after = Member {
                sync: SyncState::Pending,
                updated_at: OffsetDateTime::now_utc(),
                ..before.clone()
            };
            if state
                .store
                .save_member_with_effects(Some(&before), &after, &[effect])
                .await?
            {
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "member.retry_sync",
                    format!("member:{}", after.id),
                    json!({}),
                )
                .await;
                return Ok(AddResponse::Accepted(Json(to_out(&after, &grant))));
            }
        }
        Err(kept_changing())
    }

    /// Transfer ownership
    ///
    /// Makes an active member the owner; the current owner becomes a captain. Only the owner (or
    /// a platform admin) can do this, and it is audited.
    #[oai(
        path = "/:id/ownership",
        method = "post",
        operation_id = "transfer_ownership"
    )]
    async fn transfer(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<OwnershipIn>,
    ) -> Result<MemberResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "transfer_ownership", Some(id.0)).await?;
        for _ in 0..ATTEMPTS {
            let members = state.store.members(id.0).await?;
            let Some(new_owner) = members.iter().find(|member| member.id == body.0.member_id)
            else {
                return Err(ApiError::not_found("member"));
            };
            if new_owner.status != MemberStatus::Active {
                return Err(role_rule("Only an active member can become the owner."));
            }
            if new_owner.role == Role::Owner {
                return Ok(MemberResponse::Ok(Json(to_out(new_owner, &grant))));
            }
            let Some(old_owner) = members.iter().find(|member| member.role == Role::Owner) else {
                return Err(ApiError::internal_message("neighborhood without an owner"));
            };
            let now = OffsetDateTime::now_utc();
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
            if state
                .store
                .replace_members(id.0, &[(new_owner, &promoted), (old_owner, &stepped_down)])
                .await?
            {
                let detail = json!({"from": format!("member:{}", old_owner.id), "to": format!("member:{}", promoted.id)});
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "ownership.transfer",
                    format!("member:{}", promoted.id),
                    detail,
                )
                .await;
                return Ok(MemberResponse::Ok(Json(to_out(&promoted, &grant))));
            }
        }
        Err(kept_changing())
    }
}
