//! `/api/v1/neighborhoods/{id}/members` and `/ownership`: who is in, their roles, and handing
//! the neighborhood over.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::{ApiError, ErrorCode, FieldErrors};
use crate::auth::policy::{self, Grant};
use crate::auth::principal::Auth;
use crate::domain::join_request::{Consent, JoinChannel};
use crate::domain::member::{
    ConsentRecord, DisplayName, Member, MemberStatus, Role, SyncState, street_address,
};
use crate::domain::phone::Phone;
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

/// Members of a neighborhood.
#[derive(Debug, Object)]
pub struct MemberList {
    /// Oldest first.
    pub items: Vec<MemberOut>,
}

/// Changes to a member; omitted fields stay.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MemberPatch {
    /// New role: `member`, `moderator` or `captain` (ownership moves by transfer).
    pub role: Option<Role>,
    /// New display name (1 to 40 characters, unique in the neighborhood).
    pub display_name: Option<String>,
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
    MemberOut {
        id: member.id,
        display_name: member.display_name.as_str().to_owned(),
        phone: policy::may_see_phones(grant).then(|| member.phone.as_str().to_owned()),
        role: member.role,
        status: member.status,
        joined_at: member.joined_at,
        updated_at: member.updated_at,
        conversation_sid: member
            .participant
            .as_ref()
            .map(|p| p.conversation_sid.clone()),
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
    }
}

async fn existing_member(
    state: &AppState,
    neighborhood_id: Uuid,
    member_id: Uuid,
) -> Result<Member, ApiError> {
    state
        .store
        .member(neighborhood_id, member_id)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))
}

fn role_rule(message: &str) -> ApiError {
    ApiError::conflict(ErrorCode::RoleRule, message)
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Members")]
impl MembersApi {
    /// List members
    ///
    /// Everyone in the neighborhood, oldest first. Phone numbers are shown to captains and the
    /// owner only.
    #[oai(path = "/:id/members", method = "get", operation_id = "list_members")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<ListResponse, ApiError> {
        let grant = policy::authorize(&state, auth.principal(), "list_members", Some(id.0)).await?;
        let members = state.store.members(id.0).await?;
        Ok(ListResponse::Ok(Json(MemberList {
            items: members
                .iter()
                .map(|member| to_out(member, &grant))
                .collect(),
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
    ) -> Result<AddResponse, ApiError> {
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
        Err(ApiError::conflict(
            ErrorCode::Conflict,
            "The members kept changing; try again.",
        ))
    }

    /// Change a member's role or name
    ///
    /// Captains and the owner promote and demote (`member`, `moderator`, `captain`); the owner's
    /// role changes only by a transfer.
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
    ) -> Result<MemberResponse, ApiError> {
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
                let taken = state
                    .store
                    .members(id.0)
                    .await?
                    .iter()
                    .any(|other| other.id != before.id && other.display_name == *name);
                if taken {
                    return Err(ApiError::conflict(
                        ErrorCode::Conflict,
                        "Another member already uses that name.",
                    ));
                }
                after.display_name = name.clone();
            }
            if after == before {
                return Ok(MemberResponse::Ok(Json(to_out(&before, &grant))));
            }
            after.updated_at = OffsetDateTime::now_utc();
            if state
                .store
                .replace_members(id.0, &[(&before, &after)])
                .await?
            {
                let detail = json!({
                    "role": {"from": before.role, "to": after.role},
                    "display_name": {"from": before.display_name, "to": after.display_name},
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
        Err(ApiError::conflict(
            ErrorCode::Conflict,
            "The member kept changing; try again.",
        ))
    }

    /// Remove a member
    ///
    /// They leave the neighborhood's member list. The owner cannot be removed: transfer
    /// ownership first.
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
    ) -> Result<MemberResponse, ApiError> {
        let grant =
            policy::authorize(&state, auth.principal(), "remove_member", Some(id.0)).await?;
        for _ in 0..ATTEMPTS {
            let before = existing_member(&state, id.0, member_id.0).await?;
            policy::may_remove(before.role).map_err(role_rule)?;
            if before.status == MemberStatus::Removed {
                return Ok(MemberResponse::Ok(Json(to_out(&before, &grant))));
            }
            let mut after = before.clone();
            after.status = MemberStatus::Removed;
            after.updated_at = OffsetDateTime::now_utc();
            // Out of the group text too: their participant goes through the outbox.
            let saved = match &before.participant {
                Some(participant) => {
                    after.sync = SyncState::Pending;
                    let effect = Effect::RemoveParticipant {
                        member_id: before.id,
                        conversation_sid: participant.conversation_sid.clone(),
                        participant_sid: participant.participant_sid.clone(),
                    };
                    state
                        .store
                        .save_member_with_effects(Some(&before), &after, &[effect])
                        .await?
                }
                None => {
                    state
                        .store
                        .replace_members(id.0, &[(&before, &after)])
                        .await?
                }
            };
            if saved {
                record(
                    &state,
                    auth.principal(),
                    request,
                    Some(id.0),
                    "member.remove",
                    format!("member:{}", after.id),
                    json!({"role": before.role}),
                )
                .await;
                return Ok(MemberResponse::Ok(Json(to_out(&after, &grant))));
            }
        }
        Err(ApiError::conflict(
            ErrorCode::Conflict,
            "The member kept changing; try again.",
        ))
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
    ) -> Result<MemberResponse, ApiError> {
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
        Err(ApiError::conflict(
            ErrorCode::Conflict,
            "The members kept changing; try again.",
        ))
    }
}
