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
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, RateLimited, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy::{self, Grant};
use crate::domain::join_digest::JoinRequestNotices;
use crate::domain::join_request::JoinChannel;
use crate::domain::member::{
    ConsentRecord, DeliveryHealth, DisplayName, Member, MemberStatus, Role, SyncState,
    street_address,
};
use crate::domain::neighborhood::Shard;
use crate::domain::phone::Phone;
use crate::services::additions::Adder;
use crate::services::members::{self, MemberChanges, NewMember, Transfer};
use crate::services::{neighborhoods, sending};
use crate::state::AppState;
use crate::store::member_changes::MemberUpdate;

pub struct MembersApi;

/// A member of the neighborhood.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
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
    /// Why the last change failed at Twilio, when `sync` is `failed`: Twilio's code, and for
    /// captains and above also Twilio's own words.
    pub sync_error: Option<String>,
    /// Which of the neighborhood's Conversations carries their texts (1 for the first), once in.
    pub shard: Option<u32>,
    /// Why the status is what it is ("Texted LEAVE", "Removed by Olive").
    pub status_reason: Option<String>,
    /// Whether they get texts about new join requests at all (captains and the owner); see
    /// `join_request_notices` for how often.
    pub join_request_texts: bool,
    /// How they hear about new join requests: `each` (a text per request), `every_15_minutes` or
    /// `hourly` (at most one digest text per interval, naming the requests waiting), or `never`
    /// (then `join_request_texts` is false).
    pub join_request_notices: JoinRequestNotices,
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
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct MemberPatch {
    /// New role: `member`, `moderator` or `captain` (ownership moves by transfer).
    pub role: Option<Role>,
    /// New display name (1 to 40 characters, unique in the neighborhood).
    pub display_name: Option<String>,
    /// `paused` takes them out of the group text for now (they stay a member); `active` puts
    /// them back. Left, removed and opted-out members come back only through a join request.
    pub status: Option<MemberStatus>,
    /// Whether they get texts about new join requests (captains and the owner): false is
    /// `join_request_notices: never`; true turns them back on at the cadence they had.
    pub join_request_texts: Option<bool>,
    /// How they hear about new join requests: `each`, `every_15_minutes`, `hourly` or `never`.
    /// Given with `join_request_texts`, the two must agree.
    pub join_request_notices: Option<JoinRequestNotices>,
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
        // Twilio's own words can quote a phone number: captains only, like phones.
        sync_error: match &member.sync {
            SyncState::Failed { error, detail } => Some(match detail {
                Some(detail) if captain_view => detail.clone(),
                _ => error.clone(),
            }),
            _ => None,
        },
        shard,
        status_reason: member.status_reason.clone(),
        join_request_texts: member.join_request_texts,
        join_request_notices: member.join_request_notices(),
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

/// The role someone acts with here; a platform admin acts as the owner.
fn acting_role(grant: &Grant) -> Role {
    if grant.platform_admin {
        Role::Owner
    } else {
        grant.role.unwrap_or(Role::Member)
    }
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
    /// (`sync` goes from `pending` to `done`). Captains add up to
    /// `NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD` such neighbors a day (429 `daily_additions_reached`
    /// past it); platform admins are not counted.
    #[oai(path = "/:id/members", method = "post", operation_id = "add_member")]
    async fn add(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<MemberIn>,
    ) -> Result<AddResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict, RateLimited)>> {
        let grant = policy::authorize(&state, auth.principal(), "add_member", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let phone = errors.check("phone", Phone::parse(&body.0.phone));
        if phone
            .as_ref()
            .is_some_and(|phone| !sending::country_allowed(&state, phone))
        {
            errors.add("phone", sending::country_refusal(&state));
        }
        let name = errors.check("display_name", DisplayName::parse(&body.0.display_name));
        let address = errors
            .check("address", street_address(body.0.address.as_deref()))
            .flatten();
        let (Some(phone), Some(name)) = (phone, name) else {
            return Err(errors.into_error());
        };
        errors.finish()?;
        let neighborhood = neighborhoods::active(&state, id.0).await?;
        let new = NewMember {
            phone,
            name,
            address,
        };
        let actor = auth.principal().actor();
        let adder = Adder::platform_admin(auth.principal().is_platform_admin());
        let member = members::add(
            &state,
            &neighborhood,
            new,
            (&actor, adder),
            state.client_ip(request),
        )
        .await?;
        let detail = json!({"consent": "attested by captain", "display_name": member.display_name});
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
        Ok(AddResponse::Accepted(Json(to_out(&member, &grant))))
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
        if let (Some(texts), Some(notices)) =
            (body.0.join_request_texts, body.0.join_request_notices)
            && texts != (notices != JoinRequestNotices::Never)
        {
            errors.add(
                "join_request_notices",
                "join_request_texts and join_request_notices disagree; give one of them.",
            );
        }
        errors.finish()?;
        let changes = MemberChanges {
            role: body.0.role,
            display_name: name,
            join_request_texts: body.0.join_request_texts,
            join_request_notices: body.0.join_request_notices,
            muted: body.0.muted,
            status: body.0.status,
        };
        let MemberUpdate { before, after } = members::update(
            &state,
            id.0,
            member_id.0,
            &changes,
            acting_role(&grant),
            &auth.principal().name_in(&state, id.0).await?,
        )
        .await?;
        if after != before {
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
        }
        Ok(MemberResponse::Ok(Json(to_out(&after, &grant))))
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
        let remover = auth.principal().name_in(&state, id.0).await?;
        let removed =
            members::remove(&state, id.0, member_id.0, &remover, notice.as_deref()).await?;
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
        neighborhoods::active(&state, id.0).await?;
        let (member, queued) = members::retry_sync(&state, id.0, member_id.0).await?;
        if queued {
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "member.retry_sync",
                format!("member:{}", member.id),
                json!({}),
            )
            .await;
        }
        Ok(AddResponse::Accepted(Json(to_out(&member, &grant))))
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
        let Transfer {
            owner,
            previous_owner,
        } = members::transfer_ownership(&state, id.0, body.0.member_id).await?;
        if let Some(previous) = previous_owner {
            let detail = json!({"from": format!("member:{}", previous.id), "to": format!("member:{}", owner.id)});
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "ownership.transfer",
                format!("member:{}", owner.id),
                detail,
            )
            .await;
        }
        Ok(MemberResponse::Ok(Json(to_out(&owner, &grant))))
    }
}
