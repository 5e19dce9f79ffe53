//! Who may act: platform admins and API tokens (roles in a neighborhood are in `member`), and
//! what a role protects its holder from.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::member::Role;
use super::phone::Phone;

/// Someone who runs the deployment: creates neighborhoods and sees all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformAdmin {
    pub phone: Phone,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What an API token may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenScope {
    /// Everything, as a platform admin.
    Platform,
    /// One neighborhood, with one role there.
    Neighborhood { neighborhood_id: Uuid, role: Role },
}

/// A stored API token: the SHA-256 of its secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub secret_hash: String,
    pub scope: TokenScope,
    /// Who created it (a phone, or `cli` for the bootstrap token).
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiToken {
    /// Usable now: not revoked, not expired.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires| expires > now)
    }
}

/// Whether a member in `role` may be removed: never the owner (transfer first).
pub fn may_remove(role: Role) -> Result<(), &'static str> {
    if role == Role::Owner {
        Err("The owner cannot be removed: transfer ownership first.")
    } else {
        Ok(())
    }
}

/// Whether someone (`by_captain`: a captain or more) may give a member in `current` the role
/// `new_role`. The owner's role changes only by a transfer, and nobody becomes owner any other way.
pub fn may_change_role(
    by_captain: bool,
    current: Role,
    new_role: Role,
) -> Result<(), &'static str> {
    if !by_captain {
        return Err("Only captains and the owner change roles.");
    }
    if current == Role::Owner {
        return Err("The owner's role changes only by transferring ownership.");
    }
    if new_role == Role::Owner {
        return Err("Transfer ownership to make someone the owner.");
    }
    Ok(())
}

/// Whether someone acting with `acting` (a platform admin acts as the owner) may pause or mute a
/// member in `target`: never the owner, whose access would end; a captain only by the owner.
/// Moving a member between SMS and WhatsApp replaces their participant: captains and the owner.
pub fn may_move_channel(acting: Role) -> Result<(), &'static str> {
    if acting >= Role::Captain {
        Ok(())
    } else {
        Err("Only captains and the owner move a member between SMS and WhatsApp.")
    }
}

pub fn may_pause_or_mute(acting: Role, target: Role) -> Result<(), &'static str> {
    match target {
        Role::Owner => Err("The owner cannot be paused or muted."),
        Role::Captain if acting < Role::Owner => Err("Only the owner pauses or mutes a captain."),
        _ => Ok(()),
    }
}
