//! `/api/v1/neighborhoods/{id}/audiences`: whom an announcement can go to besides everyone (the
//! streets members live on, the roles they hold, with how many can be texted in each), and the
//! `audience` object announcements and estimates take.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::error::statuses::{Invalid, NotFound, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::audience::{Audience, Street};
use crate::domain::member::Role;
use crate::services::audiences;
use crate::state::AppState;

pub struct AudiencesApi;

/// Which members an announcement goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AudienceKind {
    /// The whole group, through its Conversations (the same as leaving `audience` out).
    Everyone,
    /// Members living on any of `streets`.
    Streets,
    /// Members holding any of `roles`.
    Roles,
    /// The members `member_ids` names.
    Members,
}

impl AudienceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Streets => "streets",
            Self::Roles => "roles",
            Self::Members => "members",
        }
    }
}

/// Whom an announcement goes to. Anyone but everyone is texted one to one from the
/// neighborhood's number (only active members: not those who left, were removed, are paused or
/// texted STOP), and who that is is decided when it goes out.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct AudienceBody {
    /// `everyone`, `streets`, `roles` or `members`; give the list that goes with it.
    pub kind: AudienceKind,
    /// With `streets`: street names as `GET .../audiences` lists them (`Elm Ave`); a house
    /// number or suffix written out (`12 Elm Avenue`) names the same street. 1 to 50.
    pub streets: Option<Vec<String>>,
    /// With `roles`: the roles texted.
    pub roles: Option<Vec<Role>>,
    /// With `members`: the members texted, by id (1 to 2,000; each a member of the
    /// neighborhood).
    pub member_ids: Option<Vec<Uuid>>,
}

/// A street members live on.
#[derive(Debug, Object)]
pub struct StreetOut {
    /// The street as announcements name it: house number dropped, suffix abbreviated.
    pub name: String,
    /// Active members with an address on it.
    pub members: u64,
}

/// A role and how many hold it.
#[derive(Debug, Object)]
pub struct RoleCount {
    pub role: Role,
    /// Active members holding it.
    pub members: u64,
}

/// Whom announcements can go to.
#[derive(Debug, Object)]
pub struct AudienceChoices {
    /// Active members: everyone an announcement to the whole group reaches.
    pub everyone: u64,
    /// The streets of members' addresses, A to Z.
    pub streets: Vec<StreetOut>,
    /// Each role held by an active member.
    pub roles: Vec<RoleCount>,
}

#[derive(ApiResponse)]
enum ChoicesResponse {
    /// The choices.
    #[oai(status = 200)]
    Ok(Json<AudienceChoices>),
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Messages")]
impl AudiencesApi {
    /// Audiences for announcements
    ///
    /// Captains and the owner. The streets members live on (parsed from their addresses) and
    /// the roles they hold, with how many active members each reaches: the choices for an
    /// announcement's `audience`.
    #[oai(
        path = "/:id/audiences",
        method = "get",
        operation_id = "list_audiences"
    )]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<ChoicesResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "list_audiences", Some(id.0)).await?;
        state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("neighborhood"))?;
        let choices = audiences::choices(&state, id.0).await?;
        Ok(ChoicesResponse::Ok(Json(AudienceChoices {
            everyone: choices.everyone as u64,
            streets: choices
                .streets
                .into_iter()
                .map(|(street, members)| StreetOut {
                    name: street.name,
                    members: members as u64,
                })
                .collect(),
            roles: choices
                .roles
                .into_iter()
                .map(|(role, members)| RoleCount {
                    role,
                    members: members as u64,
                })
                .collect(),
        })))
    }
}

/// The audience asked for, checked (None: everyone), noting field errors under `audience`.
pub fn parse(body: Option<&AudienceBody>, errors: &mut FieldErrors) -> Option<Audience> {
    let body = body?;
    let stray = |errors: &mut FieldErrors, field: &str, given: bool| {
        if given {
            errors.add(
                &format!("audience.{field}"),
                "Give only the list that goes with `kind`.",
            );
        }
    };
    match body.kind {
        AudienceKind::Everyone => {
            stray(errors, "streets", body.streets.is_some());
            stray(errors, "roles", body.roles.is_some());
            stray(errors, "member_ids", body.member_ids.is_some());
            None
        }
        AudienceKind::Streets => {
            stray(errors, "roles", body.roles.is_some());
            stray(errors, "member_ids", body.member_ids.is_some());
            let streets = body.streets.as_deref().unwrap_or_default();
            errors.check("audience.streets", Audience::streets(streets))
        }
        AudienceKind::Roles => {
            stray(errors, "streets", body.streets.is_some());
            stray(errors, "member_ids", body.member_ids.is_some());
            let roles = body.roles.as_deref().unwrap_or_default();
            errors.check("audience.roles", Audience::roles(roles))
        }
        AudienceKind::Members => {
            stray(errors, "streets", body.streets.is_some());
            stray(errors, "roles", body.roles.is_some());
            let ids = body.member_ids.as_deref().unwrap_or_default();
            errors.check("audience.member_ids", Audience::members(ids))
        }
    }
}

/// A stored audience as the API shows it.
pub fn to_body(audience: &Audience) -> AudienceBody {
    let mut body = AudienceBody {
        kind: AudienceKind::Everyone,
        streets: None,
        roles: None,
        member_ids: None,
    };
    match audience {
        Audience::Streets { streets } => {
            body.kind = AudienceKind::Streets;
            body.streets = Some(
                streets
                    .iter()
                    .map(|key| Street::of(key).map_or_else(|| key.clone(), |s| s.name))
                    .collect(),
            );
        }
        Audience::Roles { roles } => {
            body.kind = AudienceKind::Roles;
            body.roles = Some(roles.iter().copied().collect());
        }
        Audience::Members { member_ids } => {
            body.kind = AudienceKind::Members;
            body.member_ids = Some(member_ids.iter().copied().collect());
        }
    }
    body
}
