//! The principal behind a request: an API token (`Authorization: Bearer`) or a session cookie.
//! The HTTP side, which reads them off a request, is `api::security`.

use uuid::Uuid;

use super::session::Session;
use crate::domain::access::{ApiToken, TokenScope};

use crate::domain::member::Role;
use crate::domain::phone::Phone;
use crate::state::AppState;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub enum Principal {
    /// A captain (or admin) signed in with an SMS code.
    Session {
        session: Session,
        platform_admin: bool,
    },
    /// An integrator's API token.
    Token { token: ApiToken },
}

impl Principal {
    pub fn is_platform_admin(&self) -> bool {
        match self {
            Self::Session { platform_admin, .. } => *platform_admin,
            Self::Token { token } => token.scope == TokenScope::Platform,
        }
    }

    pub fn phone(&self) -> Option<&Phone> {
        match self {
            Self::Session { session, .. } => Some(&session.phone),
            Self::Token { .. } => None,
        }
    }

    /// How the audit log names this principal.
    pub fn actor(&self) -> String {
        match self {
            Self::Session { session, .. } => format!("phone:{}", session.phone),
            Self::Token { token } => format!("token:{}", token.id),
        }
    }

    /// How captains know this principal in a neighborhood, for notes they read later ("Removed
    /// by Olive"): a member by their display name, others by what they are.
    pub async fn name_in(
        &self,
        state: &AppState,
        neighborhood_id: Uuid,
    ) -> Result<String, StoreError> {
        if let Some(name) = self.member_name_in(state, neighborhood_id).await? {
            return Ok(name);
        }
        Ok(match self {
            Self::Session {
                platform_admin: true,
                ..
            } => "a platform admin".to_owned(),
            Self::Session { session, .. } => format!("phone {}", session.phone),
            Self::Token { token } => format!("the API token \"{}\"", token.name),
        })
    }

    /// The display name of the member this principal is in a neighborhood, if it is one: how a
    /// neighbor knows them ("Olive invited you").
    pub async fn member_name_in(
        &self,
        state: &AppState,
        neighborhood_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        Ok(match self {
            Self::Session { session, .. } => state
                .store
                .member_by_phone(neighborhood_id, &session.phone)
                .await?
                .map(|member| member.display_name.as_str().to_owned()),
            Self::Token { .. } => None,
        })
    }

    /// The principal's role in a neighborhood (an admin's is not a role: see `policy`).
    pub async fn role_in(
        &self,
        state: &AppState,
        neighborhood_id: Uuid,
    ) -> Result<Option<Role>, StoreError> {
        match self {
            Self::Session { session, .. } => {
                state.store.role_in(neighborhood_id, &session.phone).await
            }
            Self::Token { token } => Ok(match token.scope {
                TokenScope::Neighborhood {
                    neighborhood_id: scope,
                    role,
                } if scope == neighborhood_id => Some(role),
                _ => None,
            }),
        }
    }
}
