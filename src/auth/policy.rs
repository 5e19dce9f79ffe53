//! The one table of who may do what. Every operation of the API has an entry, keyed by its
//! OpenAPI operation id; handlers call [`authorize`] with their own id, and the permission-matrix
//! test walks the generated spec so an operation without an entry cannot ship.

use uuid::Uuid;

use super::principal::Principal;
use crate::domain::access::TokenScope;
use crate::domain::member::Role;
use crate::state::AppState;
use crate::store::StoreError;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any principal; the operation itself narrows what it shows or changes.
    SignedIn,
    /// A phone signed in with a session cookie (API tokens have no sessions).
    Session,
    /// Platform admins only.
    PlatformAdmin,
    /// At least this role in the neighborhood of the path (platform admins always).
    Neighborhood(Role),
    /// A token's own scope decides: a captain or owner of its neighborhood holding at least its
    /// role; platform tokens for platform admins only (see [`may_manage_token`]).
    TokenScope,
}

/// Every operation and who may call it.
pub const OPERATIONS: &[(&str, Access)] = &[
    ("health", Access::Public),
    ("ready", Access::Public),
    ("metrics", Access::Public),
    ("request_login_code", Access::Public),
    ("create_session", Access::Public),
    ("delete_session", Access::SignedIn),
    ("delete_all_sessions", Access::Session),
    ("whoami", Access::SignedIn),
    ("list_neighborhoods", Access::SignedIn),
    ("create_neighborhood", Access::PlatformAdmin),
    ("get_neighborhood", Access::Neighborhood(Role::Member)),
    ("update_neighborhood", Access::Neighborhood(Role::Captain)),
    ("archive_neighborhood", Access::Neighborhood(Role::Owner)),
    ("delete_neighborhood", Access::Neighborhood(Role::Owner)),
    ("list_members", Access::Neighborhood(Role::Moderator)),
    ("add_member", Access::Neighborhood(Role::Captain)),
    ("update_member", Access::Neighborhood(Role::Captain)),
    ("remove_member", Access::Neighborhood(Role::Captain)),
    ("bulk_update_members", Access::Neighborhood(Role::Captain)),
    ("retry_member_sync", Access::Neighborhood(Role::Captain)),
    ("sync_neighborhood", Access::Neighborhood(Role::Captain)),
    (
        "neighborhood_summary",
        Access::Neighborhood(Role::Moderator),
    ),
    ("list_messages", Access::Neighborhood(Role::Moderator)),
    ("get_message_picture", Access::Neighborhood(Role::Moderator)),
    ("upload_picture", Access::Neighborhood(Role::Captain)),
    ("neighborhood_events", Access::Neighborhood(Role::Moderator)),
    ("post_announcement", Access::Neighborhood(Role::Captain)),
    ("estimate_announcement", Access::Neighborhood(Role::Captain)),
    ("neighborhood_costs", Access::Neighborhood(Role::Captain)),
    ("list_announcements", Access::Neighborhood(Role::Moderator)),
    ("get_announcement", Access::Neighborhood(Role::Moderator)),
    ("update_announcement", Access::Neighborhood(Role::Captain)),
    ("cancel_announcement", Access::Neighborhood(Role::Captain)),
    ("list_audiences", Access::Neighborhood(Role::Captain)),
    ("list_templates", Access::Neighborhood(Role::Captain)),
    ("create_template", Access::Neighborhood(Role::Captain)),
    ("update_template", Access::Neighborhood(Role::Captain)),
    ("delete_template", Access::Neighborhood(Role::Captain)),
    ("transfer_ownership", Access::Neighborhood(Role::Owner)),
    ("list_audit", Access::Neighborhood(Role::Captain)),
    ("import_members", Access::Neighborhood(Role::Captain)),
    ("export_members", Access::Neighborhood(Role::Moderator)),
    (
        "export_join_requests",
        Access::Neighborhood(Role::Moderator),
    ),
    ("export_messages", Access::Neighborhood(Role::Moderator)),
    ("export_audit", Access::Neighborhood(Role::Captain)),
    ("join_card", Access::Public),
    ("open_catch_up", Access::Public),
    ("open_shared_picture", Access::Public),
    ("submit_join_request", Access::Public),
    ("verify_join_request", Access::Public),
    ("list_join_requests", Access::Neighborhood(Role::Moderator)),
    ("approve_join_request", Access::Neighborhood(Role::Captain)),
    ("approve_join_requests", Access::Neighborhood(Role::Captain)),
    ("list_blocked_phones", Access::Neighborhood(Role::Captain)),
    ("block_phone", Access::Neighborhood(Role::Captain)),
    ("unblock_phone", Access::Neighborhood(Role::Captain)),
    ("deny_join_request", Access::Neighborhood(Role::Captain)),
    ("deny_join_requests", Access::Neighborhood(Role::Captain)),
    ("send_invites", Access::Neighborhood(Role::Captain)),
    ("create_event_endpoint", Access::Neighborhood(Role::Captain)),
    ("list_event_endpoints", Access::Neighborhood(Role::Captain)),
    ("delete_event_endpoint", Access::Neighborhood(Role::Captain)),
    (
        "rotate_event_endpoint_secret",
        Access::Neighborhood(Role::Captain),
    ),
    ("test_event_endpoint", Access::Neighborhood(Role::Captain)),
    ("enable_event_endpoint", Access::Neighborhood(Role::Captain)),
    ("replay_event_endpoint", Access::Neighborhood(Role::Captain)),
    ("list_event_deliveries", Access::Neighborhood(Role::Captain)),
    (
        "list_integrator_events",
        Access::Neighborhood(Role::Captain),
    ),
    ("get_sheet_hub", Access::Neighborhood(Role::Captain)),
    ("connect_sheet_hub", Access::Neighborhood(Role::Captain)),
    ("configure_sheet_hub", Access::Neighborhood(Role::Captain)),
    ("preview_sheet_hub", Access::Neighborhood(Role::Captain)),
    ("sync_sheet_hub", Access::Neighborhood(Role::Captain)),
    ("disconnect_sheet_hub", Access::Neighborhood(Role::Captain)),
    ("invite_link", Access::Neighborhood(Role::Moderator)),
    ("invite_qr", Access::Neighborhood(Role::Moderator)),
    ("list_tokens", Access::SignedIn),
    ("create_token", Access::TokenScope),
    ("revoke_token", Access::TokenScope),
];

pub fn access_for(operation_id: &str) -> Option<Access> {
    OPERATIONS
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map(|(_, access)| *access)
}

/// What a principal turned out to be allowed, for the finer decisions below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub platform_admin: bool,
    /// The principal's role in the neighborhood asked about, if any.
    pub role: Option<Role>,
}

impl Grant {
    /// At least `role` here, or a platform admin.
    pub fn at_least(&self, role: Role) -> bool {
        self.platform_admin || self.role.is_some_and(|held| held >= role)
    }
}

/// Why a principal may not run an operation.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// A programming error: the operation is missing from [`OPERATIONS`].
    #[error("operation {0} has no entry in the policy table")]
    Unlisted(&'static str),
    #[error("You do not have the role this needs.")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Decides whether `principal` may run `operation_id` (on `neighborhood`, for per-neighborhood
/// operations): 403 when not. An unknown operation id is refused too, as a programming error.
pub async fn authorize(
    state: &AppState,
    principal: &Principal,
    operation_id: &'static str,
    neighborhood: Option<Uuid>,
) -> Result<Grant, Refusal> {
    let Some(access) = access_for(operation_id) else {
        return Err(Refusal::Unlisted(operation_id));
    };
    let platform_admin = principal.is_platform_admin();
    let role = match neighborhood {
        Some(id) => principal.role_in(state, id).await?,
        None => None,
    };
    let grant = Grant {
        platform_admin,
        role,
    };
    let allowed = match access {
        // Token operations check the token's scope once they have read it.
        Access::Public | Access::SignedIn | Access::TokenScope => true,
        Access::Session => matches!(principal, Principal::Session { .. }),
        Access::PlatformAdmin => platform_admin,
        Access::Neighborhood(needed) => grant.at_least(needed),
    };
    if allowed {
        Ok(grant)
    } else {
        Err(Refusal::Forbidden)
    }
}

/// Members' phone numbers are shown to captains and above only.
pub fn may_see_phones(grant: &Grant) -> bool {
    grant.at_least(Role::Captain)
}

/// Whether a captain may give a member `new_role`. The owner's role changes only by a transfer,
/// and nobody becomes owner any other way.
pub fn may_change_role(grant: &Grant, current: Role, new_role: Role) -> Result<(), &'static str> {
    crate::domain::access::may_change_role(grant.at_least(Role::Captain), current, new_role)
}

/// Whether a principal may create a token of `scope`: platform tokens are for platform
/// admins; a neighborhood token needs a captain there holding at least the token's role.
pub fn may_manage_token(platform_admin: bool, held: Option<Role>, scope: &TokenScope) -> bool {
    match scope {
        TokenScope::Platform => platform_admin,
        TokenScope::Neighborhood { role, .. } => {
            platform_admin || held.is_some_and(|held| held >= Role::Captain && held >= *role)
        }
    }
}

/// Whether a principal may see or revoke a token of `scope`: any captain or owner of its
/// neighborhood (cutting off a leaked token must not need a higher role), platform admins always.
pub fn may_revoke_token(platform_admin: bool, held: Option<Role>, scope: &TokenScope) -> bool {
    match scope {
        TokenScope::Platform => platform_admin,
        TokenScope::Neighborhood { .. } => {
            platform_admin || held.is_some_and(|held| held >= Role::Captain)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_unique() {
        let mut ids: Vec<&str> = OPERATIONS.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), OPERATIONS.len());
    }

    #[test]
    fn role_changes_never_touch_the_owner() {
        let captain = Grant {
            platform_admin: false,
            role: Some(Role::Captain),
        };
        assert!(may_change_role(&captain, Role::Member, Role::Captain).is_ok());
        assert!(may_change_role(&captain, Role::Owner, Role::Captain).is_err());
        assert!(may_change_role(&captain, Role::Member, Role::Owner).is_err());
        let moderator = Grant {
            platform_admin: false,
            role: Some(Role::Moderator),
        };
        assert!(may_change_role(&moderator, Role::Member, Role::Moderator).is_err());
    }

    #[test]
    fn tokens_never_exceed_their_maker() {
        let id = Uuid::nil();
        let captain_token = TokenScope::Neighborhood {
            neighborhood_id: id,
            role: Role::Captain,
        };
        let owner_token = TokenScope::Neighborhood {
            neighborhood_id: id,
            role: Role::Owner,
        };
        assert!(may_manage_token(false, Some(Role::Captain), &captain_token));
        assert!(!may_manage_token(false, Some(Role::Captain), &owner_token));
        assert!(!may_manage_token(
            false,
            Some(Role::Moderator),
            &TokenScope::Neighborhood {
                neighborhood_id: id,
                role: Role::Member
            }
        ));
        assert!(!may_manage_token(
            false,
            Some(Role::Owner),
            &TokenScope::Platform
        ));
        assert!(may_manage_token(true, None, &TokenScope::Platform));
    }
}
