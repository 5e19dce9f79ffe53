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
use crate::domain::channel::Channel;
use crate::domain::join_digest::JoinRequestNotices;
use crate::domain::join_request::JoinChannel;
use crate::domain::member::{
    ConsentRecord, DeliveryHealth, DisplayName, Member, MemberStatus, Role, SyncState,
    street_address,
};
use crate::domain::member_list::{Lookalike, MemberFilter, MemberSort, Sameness, StatusCounts};
use crate::domain::neighborhood::Shard;
use crate::domain::phone::Phone;
use crate::services::additions::Adder;
use crate::services::member_list::{self, ListRequest};
use crate::services::members::{self, BulkAction, BulkOutcome, MemberChanges, NewMember, Transfer};
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
    /// How they get the group's texts: `sms` or `whatsapp`.
    pub channel: Channel,
    /// The language of the texts we send them (`en`, `es`); absent: the neighborhood's
    /// `default_language`.
    pub language: Option<String>,
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
    /// Another member in (or paused from) the group with the same name, or for captains the same
    /// street address, ignoring case, accents and punctuation: perhaps one neighbor twice. Set in
    /// the member list only.
    pub possible_duplicate_of: Option<DuplicateOut>,
}

/// The member someone may be a duplicate of.
#[derive(Debug, Object)]
pub struct DuplicateOut {
    /// Their id.
    pub id: Uuid,
    /// Their name.
    pub display_name: String,
    /// What the two share: `name` or `address`.
    pub same: Sameness,
}

/// How many members stand where, over the whole neighborhood whatever the filters.
#[derive(Debug, Object)]
pub struct MemberCountsOut {
    /// In the group text (status `active`): the members the neighborhood's summary counts.
    pub active: u32,
    /// Paused.
    pub paused: u32,
    /// Left with LEAVE.
    pub left: u32,
    /// Removed by a captain.
    pub removed: u32,
    /// Texted STOP.
    pub opted_out: u32,
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
    /// How they get the group's texts: `sms` (the default), or `whatsapp` from the
    /// neighborhood's WhatsApp sender (`whatsapp_sender`, which must be set).
    pub channel: Option<Channel>,
}

/// One page of members.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MemberList {
    /// In the order asked for with `sort` (joining order by default).
    pub items: Vec<MemberOut>,
    /// How many members match the filters, over all pages.
    pub total: u32,
    /// Pass as `after` (with the same `sort` and filters) for the next page; absent on the last
    /// page.
    pub next_after: Option<Uuid>,
    /// Everyone in the neighborhood by status, whatever the filters.
    pub counts: MemberCountsOut,
}

/// A change to many members at once.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct BulkIn {
    /// The members to change: 1 to 500 ids (repeats count once).
    pub member_ids: Vec<Uuid>,
    /// `pause`, `resume`, `remove` or `set_role`.
    pub action: BulkActionIn,
    /// With `set_role` only: `member`, `moderator` or `captain`.
    pub role: Option<Role>,
}

/// What a bulk change does to each member; the same rules as changing them one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum BulkActionIn {
    /// Out of the group text for now, as `PATCH` with `status: paused`.
    Pause,
    /// Back in the group text, as `PATCH` with `status: active`.
    Resume,
    /// Removed, as `DELETE` (no notice is texted).
    Remove,
    /// A new role (`role`), as `PATCH` with `role`.
    SetRole,
}

/// What became of one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum BulkOutcomeOut {
    /// Changed.
    Done,
    /// Left as it was; `reason` says why.
    Skipped,
}

/// One member's result in a bulk change.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BulkResultOut {
    /// The member.
    pub member_id: Uuid,
    /// `done` or `skipped`.
    pub outcome: BulkOutcomeOut,
    /// Why they were skipped, phrased for people ("The owner cannot be removed: ...").
    pub reason: Option<String>,
    /// The member as they are now, when changed.
    pub member: Option<MemberOut>,
}

/// The results of a bulk change.
#[derive(Debug, Object)]
pub struct BulkOut {
    /// How many members were changed.
    pub done: u32,
    /// How many were left as they were.
    pub skipped: u32,
    /// Per member, in the order asked.
    pub results: Vec<BulkResultOut>,
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
    /// Move them between `sms` and `whatsapp` (captains and the owner; WhatsApp needs the
    /// neighborhood's `whatsapp_sender`): their participant is replaced in the background.
    pub channel: Option<Channel>,
    /// The language of the texts we send them: `en` or `es`.
    pub language: Option<String>,
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
enum BulkResponse {
    /// What became of each member.
    #[oai(status = 200)]
    Ok(Json<BulkOut>),
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
        channel: member.channel,
        language: member.language.map(|language| language.code().to_owned()),
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
        possible_duplicate_of: None,
    }
}

fn duplicate_out(lookalike: &Lookalike) -> DuplicateOut {
    DuplicateOut {
        id: lookalike.id,
        display_name: lookalike.display_name.clone(),
        same: lookalike.same,
    }
}

fn counts_out(counts: StatusCounts) -> MemberCountsOut {
    MemberCountsOut {
        active: counts.active,
        paused: counts.paused,
        left: counts.left,
        removed: counts.removed,
        opted_out: counts.opted_out,
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

/// A removal notice fits in two SMS segments.
const MAX_NOTICE_CHARS: usize = 320;
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 500;
/// The most members one bulk change may name.
const MAX_BULK: usize = 500;

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
    /// Everyone in the neighborhood, in joining order unless `sort` says otherwise; `counts`
    /// gives everyone by status. Phone numbers and addresses are shown to captains and the owner
    /// only.
    #[oai(path = "/:id/members", method = "get", operation_id = "list_members")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
        /// Part of a name, ignoring case and accents ("nunez" finds "Núñez"); for captains also
        /// part of a phone number however it is written ("(415) 555-2042", "555-2042") or of a
        /// street address.
        q: Query<Option<String>>,
        /// Only members in this status (`active` is "in the group").
        status: Query<Option<MemberStatus>>,
        /// Only members with this role.
        role: Query<Option<Role>>,
        /// `name` (A to Z, ignoring case and accents), `newest` or `oldest` (joining order, the
        /// default).
        sort: Query<Option<MemberSort>>,
        /// Members after this one in the chosen order (the previous page's `next_after`).
        after: Query<Option<Uuid>>,
        /// Page size, 1 to 500 (default 100).
        limit: Query<Option<u32>>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid)>> {
        let grant = policy::authorize(&state, auth.principal(), "list_members", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_PAGE, MAX_PAGE);
        errors.finish()?;
        let request = ListRequest {
            filter: MemberFilter {
                text: q.0.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
                status: status.0,
                role: role.0,
            },
            sort: sort.0.unwrap_or_default(),
            after: after.0,
            limit: limit as usize,
            captain_view: policy::may_see_phones(&grant),
        };
        let listing = member_list::list(&state, id.0, &request).await?;
        let items = listing
            .page
            .iter()
            .map(|member| MemberOut {
                possible_duplicate_of: listing.duplicates.get(&member.id).map(duplicate_out),
                ..to_out_in(member, &grant, &listing.shards)
            })
            .collect();
        Ok(ListResponse::Ok(Json(MemberList {
            items,
            total: listing.total as u32,
            next_after: listing.next_after,
            counts: counts_out(listing.counts),
        })))
    }

    /// Change many members
    ///
    /// Pauses, resumes, removes or gives a role to up to 500 members at once, with the same
    /// rules as changing each one (`PATCH`, `DELETE`): a member a rule protects (the owner cannot
    /// be removed), one not in the neighborhood, or one already as asked is skipped, with the
    /// reason. Answers per member; the change is one entry in the audit log.
    #[oai(
        path = "/:id/members/bulk",
        method = "post",
        operation_id = "bulk_update_members"
    )]
    async fn bulk(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<BulkIn>,
    ) -> Result<BulkResponse, ApiError<(SignedIn, JsonBody, NotFound)>> {
        let grant =
            policy::authorize(&state, auth.principal(), "bulk_update_members", Some(id.0)).await?;
        let BulkIn {
            member_ids,
            action,
            role,
        } = body.0;
        let mut errors = FieldErrors::default();
        let mut seen = std::collections::HashSet::new();
        let member_ids: Vec<Uuid> = member_ids.into_iter().filter(|m| seen.insert(*m)).collect();
        if member_ids.is_empty() || member_ids.len() > MAX_BULK {
            errors.add(
                "member_ids",
                format!("Choose 1 to {MAX_BULK} members at a time."),
            );
        }
        let action = match (action, role) {
            (BulkActionIn::SetRole, Some(role)) => Some(BulkAction::SetRole(role)),
            (BulkActionIn::SetRole, None) => {
                errors.add("role", "Choose the role to give them.");
                None
            }
            (_, Some(_)) => {
                errors.add("role", "A role goes only with the action `set_role`.");
                None
            }
            (BulkActionIn::Pause, None) => Some(BulkAction::Pause),
            (BulkActionIn::Resume, None) => Some(BulkAction::Resume),
            (BulkActionIn::Remove, None) => Some(BulkAction::Remove),
        };
        let Some(action) = action else {
            return Err(errors.into_error());
        };
        errors.finish()?;
        let actor = auth.principal().name_in(&state, id.0).await?;
        let outcomes = members::apply_bulk(
            &state,
            id.0,
            &member_ids,
            action,
            (acting_role(&grant), &actor),
        )
        .await?;
        let changed: Vec<String> = outcomes
            .iter()
            .filter(|(_, outcome)| matches!(outcome, BulkOutcome::Done(_)))
            .map(|(member_id, _)| format!("member:{member_id}"))
            .collect();
        if !changed.is_empty() {
            let (verb, role) = match action {
                BulkAction::Pause => ("pause", None),
                BulkAction::Resume => ("resume", None),
                BulkAction::Remove => ("remove", None),
                BulkAction::SetRole(role) => ("role_change", Some(role)),
            };
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                &format!("member.bulk_{verb}"),
                format!("neighborhood:{}", id.0),
                json!({
                    "changed": changed.len(),
                    "skipped": outcomes.len() - changed.len(),
                    "role": role,
                    "members": changed,
                }),
            )
            .await;
        }
        let results: Vec<BulkResultOut> = outcomes
            .into_iter()
            .map(|(member_id, outcome)| match outcome {
                BulkOutcome::Done(member) => BulkResultOut {
                    member_id,
                    outcome: BulkOutcomeOut::Done,
                    reason: None,
                    member: Some(to_out(&member, &grant)),
                },
                BulkOutcome::Skipped(reason) => BulkResultOut {
                    member_id,
                    outcome: BulkOutcomeOut::Skipped,
                    reason: Some(reason),
                    member: None,
                },
            })
            .collect();
        let done = results
            .iter()
            .filter(|r| r.outcome == BulkOutcomeOut::Done)
            .count() as u32;
        Ok(BulkResponse::Ok(Json(BulkOut {
            done,
            skipped: results.len() as u32 - done,
            results,
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
            errors.add(
                "phone",
                sending::country_refusal(&state, crate::i18n::Language::ENGLISH),
            );
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
            channel: body.0.channel.unwrap_or_default(),
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
        let language = body
            .0
            .language
            .as_deref()
            .and_then(|tag| errors.check("language", crate::domain::member::language(tag)));
        errors.finish()?;
        let changes = MemberChanges {
            role: body.0.role,
            display_name: name,
            join_request_texts: body.0.join_request_texts,
            join_request_notices: body.0.join_request_notices,
            muted: body.0.muted,
            status: body.0.status,
            channel: body.0.channel,
            language,
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
                "channel": {"from": before.channel, "to": after.channel},
                "language": {"from": before.language, "to": after.language},
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
