//! `/api/v1/neighborhoods/{id}/templates`: announcement texts the captains saved to reuse, each
//! with a name, at most 50 per neighborhood.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::announcement::AnnouncementBody;
use crate::domain::template::{Template, TemplateName};
use crate::services::{neighborhoods, templates};
use crate::state::AppState;

pub struct TemplatesApi;

/// A saved announcement text.
#[derive(Debug, Object)]
pub struct TemplateOut {
    /// Id (UUID v7).
    pub id: Uuid,
    /// What captains call it (1 to 60 characters).
    pub name: String,
    /// The text (1 to 1,600 characters), without the name announcements are signed with.
    pub body: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The neighborhood's templates.
#[derive(Debug, Object)]
pub struct TemplateList {
    /// By name, A to Z.
    pub items: Vec<TemplateOut>,
}

/// A new template.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TemplateIn {
    /// What captains call it (1 to 60 characters, one line).
    pub name: String,
    /// The text (1 to 1,600 characters).
    pub body: String,
}

/// Changes to a template; omitted fields stay as they are.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct TemplatePatch {
    /// New name (1 to 60 characters, one line).
    pub name: Option<String>,
    /// New text (1 to 1,600 characters).
    pub body: Option<String>,
}

#[derive(ApiResponse)]
enum ListResponse {
    /// The templates.
    #[oai(status = 200)]
    Ok(Json<TemplateList>),
}

#[derive(ApiResponse)]
enum CreateResponse {
    /// Saved.
    #[oai(status = 201)]
    Created(Json<TemplateOut>),
}

#[derive(ApiResponse)]
enum UpdateResponse {
    /// Saved.
    #[oai(status = 200)]
    Ok(Json<TemplateOut>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// Deleted.
    #[oai(status = 204)]
    NoContent,
}

fn to_out(template: Template) -> TemplateOut {
    TemplateOut {
        id: template.id,
        name: template.name.into(),
        body: template.body.into(),
        created_at: template.created_at,
        updated_at: template.updated_at,
    }
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Messages")]
impl TemplatesApi {
    /// List announcement templates
    ///
    /// Captains and the owner. The texts saved to reuse in announcements, by name.
    #[oai(
        path = "/:id/templates",
        method = "get",
        operation_id = "list_templates"
    )]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "list_templates", Some(id.0)).await?;
        neighborhoods::any(&state, id.0).await?;
        let items = templates::list(&state, id.0).await?;
        Ok(ListResponse::Ok(Json(TemplateList {
            items: items.into_iter().map(to_out).collect(),
        })))
    }

    /// Save an announcement template
    ///
    /// Captains and the owner. At most 50 per neighborhood: one more answers 409
    /// (`too_many_templates`).
    #[oai(
        path = "/:id/templates",
        method = "post",
        operation_id = "create_template"
    )]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<TemplateIn>,
    ) -> Result<CreateResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "create_template", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let name = errors.check("name", TemplateName::parse(&body.0.name));
        let text = errors.check("body", AnnouncementBody::parse(&body.0.body));
        let (Some(name), Some(text)) = (name, text) else {
            return Err(errors.into_error());
        };
        neighborhoods::active(&state, id.0).await?;
        let template = templates::create(&state, id.0, name, text).await?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "template.create",
            format!("template:{}", template.id),
            serde_json::json!({"name": template.name.as_str()}),
        )
        .await;
        Ok(CreateResponse::Created(Json(to_out(template))))
    }

    /// Edit an announcement template
    ///
    /// Captains and the owner.
    #[oai(
        path = "/:id/templates/:template_id",
        method = "patch",
        operation_id = "update_template"
    )]
    async fn update(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        template_id: Path<Uuid>,
        body: Json<TemplatePatch>,
    ) -> Result<UpdateResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "update_template", Some(id.0)).await?;
        let mut errors = FieldErrors::default();
        let name = body
            .0
            .name
            .as_deref()
            .and_then(|name| errors.check("name", TemplateName::parse(name)));
        let text = body
            .0
            .body
            .as_deref()
            .and_then(|text| errors.check("body", AnnouncementBody::parse(text)));
        errors.finish()?;
        neighborhoods::active(&state, id.0).await?;
        let template = templates::update(&state, id.0, template_id.0, name, text).await?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "template.update",
            format!("template:{}", template.id),
            serde_json::json!({"name": template.name.as_str(), "body_changed": body.0.body.is_some()}),
        )
        .await;
        Ok(UpdateResponse::Ok(Json(to_out(template))))
    }

    /// Delete an announcement template
    ///
    /// Captains and the owner.
    #[oai(
        path = "/:id/templates/:template_id",
        method = "delete",
        operation_id = "delete_template"
    )]
    async fn delete(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        template_id: Path<Uuid>,
    ) -> Result<DeleteResponse, ApiError<(SignedIn, Invalid, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "delete_template", Some(id.0)).await?;
        neighborhoods::active(&state, id.0).await?;
        templates::delete(&state, id.0, template_id.0).await?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "template.delete",
            format!("template:{}", template_id.0),
            serde_json::json!({}),
        )
        .await;
        Ok(DeleteResponse::NoContent)
    }
}
