//! Saved announcement templates: listed, created under the neighborhood's cap, edited, deleted.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::announcement::AnnouncementBody;
use crate::domain::template::{MAX_TEMPLATES, Template, TemplateName};
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no such template")]
    NotFound,
    #[error("the neighborhood has {MAX_TEMPLATES} templates already")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn list(state: &AppState, neighborhood_id: Uuid) -> Result<Vec<Template>, StoreError> {
    state.store.templates(neighborhood_id).await
}

/// Saves a new template, unless the neighborhood keeps [`MAX_TEMPLATES`] already.
pub async fn create(
    state: &AppState,
    neighborhood_id: Uuid,
    name: TemplateName,
    body: AnnouncementBody,
) -> Result<Template, TemplateError> {
    let now = OffsetDateTime::now_utc();
    let template = Template {
        id: Uuid::now_v7(),
        name,
        body,
        created_at: now,
        updated_at: now,
    };
    if state
        .store
        .create_template(neighborhood_id, &template, MAX_TEMPLATES)
        .await?
    {
        Ok(template)
    } else {
        Err(TemplateError::TooMany)
    }
}

/// Changes a template's name or text; None keeps it.
pub async fn update(
    state: &AppState,
    neighborhood_id: Uuid,
    id: Uuid,
    name: Option<TemplateName>,
    body: Option<AnnouncementBody>,
) -> Result<Template, TemplateError> {
    let current = state
        .store
        .template(neighborhood_id, id)
        .await?
        .ok_or(TemplateError::NotFound)?;
    let updated = Template {
        name: name.unwrap_or(current.name),
        body: body.unwrap_or(current.body),
        updated_at: OffsetDateTime::now_utc(),
        ..current
    };
    // Last write wins: a template is one captain's wording, not a record two edit together.
    if state
        .store
        .replace_template(neighborhood_id, &updated)
        .await?
    {
        Ok(updated)
    } else {
        Err(TemplateError::NotFound)
    }
}

pub async fn delete(
    state: &AppState,
    neighborhood_id: Uuid,
    id: Uuid,
) -> Result<(), TemplateError> {
    if state.store.delete_template(neighborhood_id, id).await? {
        Ok(())
    } else {
        Err(TemplateError::NotFound)
    }
}
