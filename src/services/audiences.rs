//! Whom a captain can address an announcement to: the streets members live on and the roles they
//! hold, counted over the members who can be texted now.

use uuid::Uuid;

use crate::domain::audience::{Street, reachable, streets_with_counts};
use crate::domain::member::Role;
use crate::state::AppState;
use crate::store::StoreError;

/// The audiences of a neighborhood, with how many members each reaches.
pub struct Choices {
    /// Every active member.
    pub everyone: usize,
    /// Streets A to Z.
    pub streets: Vec<(Street, usize)>,
    /// Roles held by active members, from member to owner.
    pub roles: Vec<(Role, usize)>,
}

pub async fn choices(state: &AppState, neighborhood_id: Uuid) -> Result<Choices, StoreError> {
    let members = state.store.members(neighborhood_id).await?;
    let active: Vec<_> = members.iter().filter(|m| reachable(m)).collect();
    let roles = [Role::Member, Role::Moderator, Role::Captain, Role::Owner]
        .into_iter()
        .map(|role| (role, active.iter().filter(|m| m.role == role).count()))
        .filter(|(_, count)| *count > 0)
        .collect();
    Ok(Choices {
        everyone: active.len(),
        streets: streets_with_counts(&members),
        roles,
    })
}
