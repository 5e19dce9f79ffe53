//! `/api/v1/neighborhoods`: create (provisions a number and the first Conversation), list, get,
//! update, archive.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{
    Conflict, Invalid, JsonBody, NotFound, SignedIn, Twilio, Unprocessable,
};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::auth::principal::Principal;
use crate::domain::catch_up::CatchUp;
use crate::domain::costs::Money;
use crate::domain::join_questions::{self, JoinQuestion};
use crate::domain::member::{self, DisplayName, Member, Role};
use crate::domain::neighborhood::{
    AreaCode, Description, JoinPolicy, Mode, Neighborhood, NeighborhoodName, NeighborhoodState,
    Slug,
};
use crate::domain::phone::Phone;
use crate::domain::quiet_hours::{ClockTime, QuietHours, StoredQuietHours, TimeZoneName};
use crate::services::announcements;
use crate::services::costs;
use crate::services::provisioning::{
    self, NeighborhoodChanges, NewNeighborhood, NumberChoice, ProvisionError,
};
use crate::state::AppState;
use crate::store::outbox::Effect;

pub struct NeighborhoodsApi;

/// A new neighborhood. Give exactly one of `area_code` (buy a new local number) or
/// `phone_number` (use a number the Twilio account already owns).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct NeighborhoodIn {
    /// Required. Display name, 1 to 80 characters; also the Conversation's friendly name.
    pub name: Option<String>,
    /// What the neighborhood is about, at most 500 characters.
    pub description: Option<String>,
    /// Name in the join link `/join/{slug}`: 3 to 40 lowercase letters, digits and hyphens.
    /// Derived from the name when omitted.
    pub slug: Option<String>,
    /// US area code to buy a new local, SMS-capable number in (e.g. `415`).
    pub area_code: Option<String>,
    /// A number the Twilio account already owns, in E.164 (`+14155550100`).
    pub phone_number: Option<String>,
    /// Who may post; `open` when omitted.
    pub mode: Option<Mode>,
    /// How neighbors get in; `approval` when omitted.
    pub join_policy: Option<JoinPolicy>,
    /// Questions the join page asks beyond name, phone and address (at most 10).
    pub join_questions: Option<Vec<JoinQuestion>>,
    /// The owner's phone. Omitted: the platform admin creating it (sessions only).
    pub owner_phone: Option<String>,
    /// The owner's display name (1 to 40 characters); `Owner` when omitted.
    pub owner_name: Option<String>,
}

/// Changes to a neighborhood; omitted fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NeighborhoodPatch {
    /// New display name (also renames the Conversations).
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Who may post.
    pub mode: Option<Mode>,
    /// How neighbors get in.
    pub join_policy: Option<JoinPolicy>,
    /// Replaces the join questions (at most 10; `[]` removes them all).
    pub join_questions: Option<Vec<JoinQuestion>>,
    /// Catch-up for new members: `{"mode": "off" | "text" | "link", "messages": 1..20}`.
    pub catch_up: Option<CatchUp>,
    /// The monthly cost cap in US dollars (`"25"`, `"25.00"`), or `null` for none. At 80 % and
    /// 100 % of it the captains get a text (once each a month); from 100 % announcements are held,
    /// and raising the cap above the month's cost sends them.
    pub monthly_budget: MaybeUndefined<String>,
    /// Quiet hours, when announcements wait (unless urgent); `null` removes them.
    pub quiet_hours: MaybeUndefined<QuietHoursIn>,
    /// A number of the account registered as a WhatsApp sender on the Messaging Service
    /// (E.164), through which members can be in the group on WhatsApp; `null` removes it. It
    /// cannot change while members are on WhatsApp through it.
    pub whatsapp_sender: MaybeUndefined<String>,
    /// The language of texts to people whose own we do not know yet: `en` or `es`.
    pub default_language: Option<String>,
}

/// A daily window, in the neighborhood's time zone, when announcements wait for its end (unless
/// urgent). It may cross midnight (22:00 to 07:00); daylight saving time is followed.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct QuietHoursIn {
    /// Local time they start, `HH:MM` (24-hour), e.g. `22:00`.
    pub start: String,
    /// Local time they end, `HH:MM`, e.g. `07:00`; differs from `start`.
    pub end: String,
    /// IANA time zone name, e.g. `America/Los_Angeles`.
    pub time_zone: String,
}

/// The neighborhood's quiet hours.
#[derive(Debug, Object)]
pub struct QuietHoursOut {
    /// Local time they start, `HH:MM`.
    pub start: String,
    /// Local time they end, `HH:MM`.
    pub end: String,
    /// IANA time zone name.
    pub time_zone: String,
    /// Whether it is quiet hours right now.
    pub now: bool,
}

/// How to archive.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct ArchiveIn {
    /// `true`: release the number to Twilio (it stops costing money and cannot be recovered).
    /// `false`: keep it in the account, free for a new neighborhood.
    pub release_number: bool,
    /// A last text to the whole group before it closes (1 to 1,600 characters), signed with the
    /// neighborhood's name. None: the group closes without a word.
    pub farewell: Option<String>,
}

/// Confirms deleting a neighborhood.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct DeleteIn {
    /// The neighborhood's name, typed out: deleting cannot be undone.
    pub confirm_name: String,
}

/// What deleting removed.
#[derive(Debug, Object)]
pub struct DeletedOut {
    /// Keys of the neighborhood removed from Redis.
    pub removed_keys: u64,
    /// True when the number went back to Twilio now (false: archiving released it already, or
    /// another neighborhood uses it).
    pub released_number: bool,
}

/// One Conversation of the neighborhood (each holds at most 50 SMS members).
#[derive(Debug, Object)]
pub struct ShardOut {
    /// Twilio Conversation SID (`CH...`).
    pub conversation_sid: String,
    /// The Conversation's unique name.
    pub unique_name: String,
}

/// A neighborhood.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NeighborhoodOut {
    /// Id (UUID v7).
    pub id: Uuid,
    /// Name in the join link.
    pub slug: String,
    /// Public join page.
    pub join_url: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The number neighbors text, in E.164.
    pub phone_number: String,
    /// Twilio SID of the number (`PN...`).
    pub phone_number_sid: String,
    /// The WhatsApp sender members on WhatsApp are in the group through (E.164), if any.
    pub whatsapp_sender: Option<String>,
    /// The language of texts to people whose own we do not know yet (`en`, `es`).
    pub default_language: String,
    /// Conversations that carry the group text.
    pub shards: Vec<ShardOut>,
    /// Who may post.
    pub mode: Mode,
    /// How neighbors get in.
    pub join_policy: JoinPolicy,
    /// What the join page asks beyond name, phone and address.
    pub join_questions: Vec<JoinQuestion>,
    /// What a newly approved member gets of the recent messages.
    pub catch_up: CatchUp,
    /// The monthly cost cap in US dollars; absent when there is none.
    pub monthly_budget: Option<String>,
    /// When announcements wait (unless urgent); absent when they never do.
    pub quiet_hours: Option<QuietHoursOut>,
    /// `active` or `archived`.
    pub state: NeighborhoodState,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A page of neighborhoods.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NeighborhoodPage {
    /// The neighborhoods, oldest first.
    pub items: Vec<NeighborhoodOut>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<Uuid>,
}

#[derive(ApiResponse)]
enum CreateResponse {
    /// Created: the number is provisioned and the first Conversation exists.
    #[oai(status = 201)]
    Created(Json<NeighborhoodOut>),
}

#[derive(ApiResponse)]
enum ListResponse {
    /// One page of neighborhoods.
    #[oai(status = 200)]
    Ok(Json<NeighborhoodPage>),
}

#[derive(ApiResponse)]
enum NeighborhoodResponse {
    /// The neighborhood.
    #[oai(status = 200)]
    Ok(Json<NeighborhoodOut>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// Deleted: nothing of it is left in Redis.
    #[oai(status = 200)]
    Deleted(Json<DeletedOut>),
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;
/// The farewell is one text; Twilio takes at most 1,600 characters.
const MAX_FAREWELL_CHARS: usize = 1600;

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Neighborhoods")]
impl NeighborhoodsApi {
    /// Create a neighborhood
    ///
    /// Platform admins only. Buys a local number in `area_code` (or adopts `phone_number`), points
    /// its SMS webhook at this service, adds it to the Messaging Service, and creates the first
    /// Conversation; the owner becomes its first member. If any Twilio step fails, the earlier
    /// ones are undone (a bought number is released) and the answer is 502 with nothing stored.
    #[oai(path = "/", method = "post", operation_id = "create_neighborhood")]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        body: Json<NeighborhoodIn>,
    ) -> Result<CreateResponse, ApiError<(SignedIn, JsonBody, Conflict, Unprocessable, Twilio)>>
    {
        let principal = auth.principal();
        policy::authorize(&state, principal, "create_neighborhood", None).await?;
        let (new, owner) = parse_new(body.0, principal)?;
        let neighborhood = provisioning::create_neighborhood(&state, new).await?;
        let owner = Member::joining(neighborhood.id, owner.0, owner.1, Role::Owner);
        // The owner joins the group text like anyone else: through the outbox.
        let effect = Effect::AddParticipant {
            member_id: owner.id,
        };
        state
            .store
            .save_member_with_effects(None, &owner, &[effect])
            .await?;
        let target = format!("neighborhood:{}", neighborhood.id);
        let detail = serde_json::json!({"name": neighborhood.name, "phone_number": neighborhood.phone_number, "owner": format!("member:{}", owner.id)});
        record(
            &state,
            principal,
            request,
            Some(neighborhood.id),
            "neighborhood.create",
            target,
            detail,
        )
        .await;
        Ok(CreateResponse::Created(Json(to_out(&state, neighborhood))))
    }

    /// List neighborhoods
    ///
    /// The neighborhoods you hold a role in (every one for platform admins), oldest first, in
    /// pages. Archived neighborhoods are listed with `state=archived`.
    #[oai(path = "/", method = "get", operation_id = "list_neighborhoods")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        /// `active` (default) or `archived`.
        #[oai(name = "state")]
        wanted: Query<Option<NeighborhoodState>>,
        /// Return neighborhoods after this id (the previous page's `next_after`).
        after: Query<Option<Uuid>>,
        /// Page size, 1 to 200 (default 50).
        limit: Query<Option<u32>>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid)>> {
        let principal = auth.principal();
        policy::authorize(&state, principal, "list_neighborhoods", None).await?;
        let mut errors = FieldErrors::default();
        let limit = errors.page_size(limit.0, DEFAULT_PAGE, MAX_PAGE);
        errors.finish()?;
        let wanted = wanted.0.unwrap_or(NeighborhoodState::Active);
        let neighborhoods = if principal.is_platform_admin() {
            state
                .store
                .list_neighborhoods(wanted, after.0, limit as usize)
                .await?
        } else {
            visible_neighborhoods(&state, principal, wanted, after.0, limit as usize).await?
        };
        let next_after = (neighborhoods.len() == limit as usize)
            .then(|| neighborhoods.last().map(|last| last.id))
            .flatten();
        let items = neighborhoods
            .into_iter()
            .map(|n| to_out(&state, n))
            .collect();
        Ok(ListResponse::Ok(Json(NeighborhoodPage {
            items,
            next_after,
        })))
    }

    /// Get a neighborhood
    #[oai(path = "/:id", method = "get", operation_id = "get_neighborhood")]
    async fn get(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<NeighborhoodResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "get_neighborhood", Some(id.0)).await?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        Ok(NeighborhoodResponse::Ok(Json(to_out(&state, neighborhood))))
    }

    /// Update a neighborhood
    ///
    /// Captains and the owner. A new name also renames the neighborhood's Conversations at Twilio.
    /// A new `monthly_budget` takes effect at once: announcements it held go out if this month's
    /// cost is now under it.
    /// New quiet hours move every scheduled announcement that is not urgent at once.
    #[oai(path = "/:id", method = "patch", operation_id = "update_neighborhood")]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<NeighborhoodPatch>,
    ) -> Result<NeighborhoodResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict, Twilio)>>
    {
        policy::authorize(&state, auth.principal(), "update_neighborhood", Some(id.0)).await?;
        let changes = parse_patch(body.0)?;
        let mut detail = serde_json::json!({
            "name": changes.name.as_ref().map(|n| n.as_str().to_owned()),
            "description": changes.description.as_ref().map(|d| d.as_str().to_owned()),
            "mode": changes.mode,
            "join_policy": changes.join_policy,
            "quiet_hours": changes.quiet_hours.as_ref().map(|quiet| quiet.clone().map(StoredQuietHours::from)),
            "whatsapp_sender": changes.whatsapp_sender.as_ref().map(|sender| sender.as_ref().map(|phone| phone.as_str().to_owned())),
            "default_language": changes.default_language,
            "join_questions": changes.join_questions.as_ref().map(|questions| {
                questions.iter().map(|q| q.text.clone()).collect::<Vec<_>>()
            }),
        });
        let budget_changed = changes.monthly_budget.is_some();
        if let Some(budget) = changes.monthly_budget {
            detail["monthly_budget"] = serde_json::json!(budget.map(|b| b.to_string()));
        }
        let quiet_hours_changed = changes.quiet_hours.is_some();
        let before = state.store.get_neighborhood(id.0).await?;
        let neighborhood = provisioning::update_neighborhood(&state, id.0, changes).await?;
        // Usability review B9: saving what is already there is not a change to audit.
        let unchanged = before.is_some_and(|before| {
            before
                == Neighborhood {
                    version: before.version,
                    updated_at: before.updated_at,
                    ..neighborhood.clone()
                }
        });
        if budget_changed {
            // A raised cap sends what it held; a lowered one may call for an alert.
            costs::budget_changed(&state, &neighborhood).await?;
        }
        // Scheduled announcements the budget held are due again at once; new quiet hours move
        // every waiting one.
        if budget_changed || quiet_hours_changed {
            // Waiting announcements go out at a new time: tell the due index now.
            announcements::reschedule_neighborhood(&state, &neighborhood).await?;
        }
        if !unchanged {
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "neighborhood.update",
                format!("neighborhood:{}", id.0),
                detail,
            )
            .await;
        }
        Ok(NeighborhoodResponse::Ok(Json(to_out(&state, neighborhood))))
    }

    /// Archive a neighborhood
    ///
    /// The owner only. Closes its Conversations (members stop receiving the group text) and
    /// releases or keeps the number. Archiving cannot be undone. If Twilio fails midway the answer
    /// is 502 and repeating the request finishes the job.
    #[oai(
        path = "/:id/archive",
        method = "post",
        operation_id = "archive_neighborhood"
    )]
    async fn archive(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<ArchiveIn>,
    ) -> Result<NeighborhoodResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict, Twilio)>>
    {
        policy::authorize(&state, auth.principal(), "archive_neighborhood", Some(id.0)).await?;
        let farewell = match body.0.farewell.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) if text.chars().count() > MAX_FAREWELL_CHARS => {
                let mut errors = FieldErrors::default();
                errors.add(
                    "farewell",
                    format!("A farewell has at most {MAX_FAREWELL_CHARS} characters."),
                );
                return Err(errors.into_error());
            }
            Some(text) => Some(text),
        };
        let neighborhood =
            provisioning::archive_neighborhood(&state, id.0, body.0.release_number, farewell)
                .await?;
        let detail = serde_json::json!({
            "release_number": body.0.release_number,
            "farewell": farewell.is_some(),
        });
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "neighborhood.archive",
            format!("neighborhood:{}", id.0),
            detail,
        )
        .await;
        Ok(NeighborhoodResponse::Ok(Json(to_out(&state, neighborhood))))
    }

    /// Delete an archived neighborhood
    ///
    /// The owner only, after archiving, with the name typed out in `confirm_name`. Deletes its
    /// Conversations at Twilio, releases the number (unless archiving did, or another
    /// neighborhood took it over), revokes its API tokens and removes all its data from Redis:
    /// members, join requests, history, audit log. A platform-wide audit entry remains. If
    /// Twilio fails midway the answer is 502 and repeating the request finishes the job.
    #[oai(path = "/:id", method = "delete", operation_id = "delete_neighborhood")]
    async fn delete(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<DeleteIn>,
    ) -> Result<DeleteResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict, Twilio)>> {
        policy::authorize(&state, auth.principal(), "delete_neighborhood", Some(id.0)).await?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or(ProvisionError::NotFound)?;
        if body.0.confirm_name.trim() != neighborhood.name.as_str() {
            let mut errors = FieldErrors::default();
            errors.add(
                "confirm_name",
                format!(
                    "Type the neighborhood's name, {}, exactly.",
                    neighborhood.name.as_str()
                ),
            );
            return Err(errors.into_error());
        }
        let deletion = provisioning::delete_neighborhood(&state, id.0).await?;
        // The neighborhood's own audit log is gone with it: this entry is platform-wide.
        record(
            &state,
            auth.principal(),
            request,
            None,
            "neighborhood.delete",
            format!("neighborhood:{}", id.0),
            serde_json::json!({
                "name": neighborhood.name.as_str(),
                "released_number": deletion.released_number,
            }),
        )
        .await;
        Ok(DeleteResponse::Deleted(Json(DeletedOut {
            removed_keys: deletion.keys as u64,
            released_number: deletion.released_number,
        })))
    }
}

/// The neighborhoods a principal holds a role in, as one page.
async fn visible_neighborhoods<S>(
    state: &AppState,
    principal: &Principal,
    wanted: NeighborhoodState,
    after: Option<Uuid>,
    limit: usize,
) -> Result<Vec<Neighborhood>, ApiError<S>> {
    let mut ids: Vec<Uuid> = match principal {
        Principal::Session { session, .. } => state
            .store
            .roles_of(&session.phone)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
        Principal::Token { token } => match token.scope {
            crate::domain::access::TokenScope::Neighborhood {
                neighborhood_id, ..
            } => vec![neighborhood_id],
            crate::domain::access::TokenScope::Platform => Vec::new(),
        },
    };
    // Uuid v7 order is creation order, the same order as the full list.
    ids.sort();
    let mut page = Vec::new();
    for id in ids
        .into_iter()
        .filter(|id| after.is_none_or(|after| *id > after))
    {
        if page.len() == limit {
            break;
        }
        if let Some(neighborhood) = state
            .store
            .get_neighborhood(id)
            .await?
            .filter(|n| n.state == wanted)
        {
            page.push(neighborhood);
        }
    }
    Ok(page)
}

fn parse_new<S>(
    body: NeighborhoodIn,
    principal: &Principal,
) -> Result<(NewNeighborhood, (Phone, DisplayName)), ApiError<S>> {
    let mut errors = FieldErrors::default();
    let name = match &body.name {
        Some(name) => errors.check("name", NeighborhoodName::parse(name)),
        None => {
            errors.add("name", "Give the neighborhood a name.");
            None
        }
    };
    let description = errors.check(
        "description",
        Description::parse(body.description.as_deref().unwrap_or("")),
    );
    let slug = body
        .slug
        .as_deref()
        .and_then(|slug| errors.check("slug", Slug::parse(slug)));
    let join_questions = errors
        .check(
            "join_questions",
            join_questions::validate(body.join_questions.clone().unwrap_or_default()),
        )
        .unwrap_or_default();
    let number = match (&body.area_code, &body.phone_number) {
        (Some(code), None) => errors
            .check("area_code", AreaCode::parse(code))
            .map(NumberChoice::Buy),
        (None, Some(phone)) => errors
            .check("phone_number", Phone::parse(phone))
            .map(NumberChoice::Existing),
        (Some(_), Some(_)) => {
            errors.add(
                "area_code",
                "Give either an area code or a phone number, not both.",
            );
            None
        }
        (None, None) => {
            errors.add(
                "area_code",
                "Give an area code to buy a number in, or an owned phone_number.",
            );
            None
        }
    };
    let owner_phone = match (&body.owner_phone, principal.phone()) {
        (Some(phone), _) => errors.check("owner_phone", Phone::parse(phone)),
        (None, Some(phone)) => Some(phone.clone()),
        (None, None) => {
            errors.add(
                "owner_phone",
                "Give the owner's phone: an API token has none of its own.",
            );
            None
        }
    };
    let owner_name = errors.check(
        "owner_name",
        DisplayName::parse(body.owner_name.as_deref().unwrap_or("Owner")),
    );
    // A missing value always comes with its field error, so `finish` reports it.
    let (Some(name), Some(description), Some(number), Some(owner_phone), Some(owner_name)) =
        (name, description, number, owner_phone, owner_name)
    else {
        return Err(errors.into_error());
    };
    errors.finish()?;
    let new = NewNeighborhood {
        name,
        description,
        slug,
        number,
        mode: body.mode.unwrap_or_default(),
        join_policy: body.join_policy.unwrap_or_default(),
        join_questions,
    };
    Ok((new, (owner_phone, owner_name)))
}

fn parse_patch<S>(body: NeighborhoodPatch) -> Result<NeighborhoodChanges, ApiError<S>> {
    let mut errors = FieldErrors::default();
    let name = body
        .name
        .as_deref()
        .and_then(|name| errors.check("name", NeighborhoodName::parse(name)));
    let description = body
        .description
        .as_deref()
        .and_then(|text| errors.check("description", Description::parse(text)));
    let join_questions = body
        .join_questions
        .and_then(|questions| errors.check("join_questions", join_questions::validate(questions)));
    let catch_up = body
        .catch_up
        .and_then(|catch_up| errors.check("catch_up.messages", catch_up.validate()));
    let monthly_budget = match body.monthly_budget {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(text) if text.trim().is_empty() => Some(None),
        MaybeUndefined::Value(text) => match Money::parse_dollars(&text) {
            Ok(budget) if budget > Money::ZERO => Some(Some(budget)),
            Ok(_) => {
                errors.add(
                    "monthly_budget",
                    "A budget is more than $0; send null to have none.",
                );
                None
            }
            Err(error) => {
                errors.add("monthly_budget", error.into_message());
                None
            }
        },
    };
    let quiet_hours = match body.quiet_hours {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(quiet) => parse_quiet_hours(&quiet, &mut errors).map(Some),
    };
    let whatsapp_sender = match body.whatsapp_sender {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(phone) => errors
            .check("whatsapp_sender", Phone::parse(&phone))
            .map(Some),
    };
    let default_language = body
        .default_language
        .as_deref()
        .and_then(|tag| errors.check("default_language", member::language(tag)));
    errors.finish()?;
    Ok(NeighborhoodChanges {
        name,
        description,
        mode: body.mode,
        join_policy: body.join_policy,
        join_questions,
        catch_up,
        monthly_budget,
        quiet_hours,
        whatsapp_sender,
        default_language,
    })
}

/// Quiet hours from the request, each bad field named (`quiet_hours.start`, ...).
fn parse_quiet_hours(quiet: &QuietHoursIn, errors: &mut FieldErrors) -> Option<QuietHours> {
    let start = errors.check("quiet_hours.start", ClockTime::parse(&quiet.start));
    let end = errors.check("quiet_hours.end", ClockTime::parse(&quiet.end));
    let zone = errors.check(
        "quiet_hours.time_zone",
        TimeZoneName::parse(&quiet.time_zone),
    );
    let (start, end, zone) = (start?, end?, zone?);
    errors.check("quiet_hours.end", QuietHours::new(start, end, zone))
}

fn quiet_hours_out(quiet: QuietHours) -> QuietHoursOut {
    let now = quiet.contains(OffsetDateTime::now_utc());
    let stored = StoredQuietHours::from(quiet);
    QuietHoursOut {
        start: stored.start,
        end: stored.end,
        time_zone: stored.time_zone,
        now,
    }
}

fn to_out(state: &AppState, neighborhood: Neighborhood) -> NeighborhoodOut {
    NeighborhoodOut {
        id: neighborhood.id,
        join_url: crate::services::invites::join_url(state, &neighborhood),
        slug: neighborhood.slug.into(),
        name: neighborhood.name.into(),
        description: neighborhood.description.into(),
        phone_number: neighborhood.phone_number.into(),
        phone_number_sid: neighborhood.phone_number_sid,
        whatsapp_sender: neighborhood
            .whatsapp_sender
            .as_ref()
            .map(|sender| sender.as_str().to_owned()),
        default_language: neighborhood.default_language.code().to_owned(),
        shards: neighborhood
            .shards
            .into_iter()
            .map(|shard| ShardOut {
                conversation_sid: shard.conversation_sid,
                unique_name: shard.unique_name,
            })
            .collect(),
        mode: neighborhood.mode,
        join_policy: neighborhood.join_policy,
        join_questions: neighborhood.join_questions,
        catch_up: neighborhood.catch_up,
        monthly_budget: neighborhood.monthly_budget.map(|budget| budget.to_string()),
        quiet_hours: neighborhood.quiet_hours.map(quiet_hours_out),
        state: neighborhood.state,
        created_at: neighborhood.created_at,
        updated_at: neighborhood.updated_at,
    }
}
