//! Finding a neighborhood for whatever asks about it: the one place that decides "no such
//! neighborhood" (404 at the API) and "archived" (409): an archived neighborhood is kept for its
//! records but takes no members and no changes.

use uuid::Uuid;

use crate::domain::neighborhood::{Neighborhood, NeighborhoodState, Slug};
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NeighborhoodError {
    #[error("no such neighborhood")]
    NotFound,
    #[error("the neighborhood is archived")]
    Archived,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The neighborhood, archived or not (its records, an export).
pub async fn any(state: &AppState, id: Uuid) -> Result<Neighborhood, NeighborhoodError> {
    state
        .store
        .get_neighborhood(id)
        .await?
        .ok_or(NeighborhoodError::NotFound)
}

/// The neighborhood, unless it is missing or archived.
pub async fn active(state: &AppState, id: Uuid) -> Result<Neighborhood, NeighborhoodError> {
    let neighborhood = any(state, id).await?;
    if neighborhood.state == NeighborhoodState::Archived {
        return Err(NeighborhoodError::Archived);
    }
    Ok(neighborhood)
}

/// The active neighborhood behind a join link (`/join/{slug}`); an unreadable slug is no
/// neighborhood.
pub async fn active_by_slug(
    state: &AppState,
    slug: &str,
) -> Result<Neighborhood, NeighborhoodError> {
    let slug = Slug::parse(slug).map_err(|_| NeighborhoodError::NotFound)?;
    let id = state
        .store
        .neighborhood_id_by_slug(&slug)
        .await?
        .ok_or(NeighborhoodError::NotFound)?;
    active(state, id).await
}
