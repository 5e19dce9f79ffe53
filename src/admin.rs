//! `neighborhood-text admin create`: the first platform admin, and a platform token to start with.

use time::OffsetDateTime;

use crate::auth::tokens::mint;
use crate::domain::access::{PlatformAdmin, TokenScope};
use crate::domain::phone::Phone;
use crate::store::audit::AuditEntry;
use crate::store::{Store, StoreError};

/// What `admin create` did.
pub struct Bootstrap {
    /// False when the phone was a platform admin already (nothing about it changed).
    pub created: bool,
    /// A new platform token; only its hash is stored.
    pub secret: String,
}

/// Makes `phone` a platform admin unless it is one, and mints a platform token either way.
pub async fn create_platform_admin(
    store: &Store,
    phone: Phone,
    name: &str,
) -> Result<Bootstrap, StoreError> {
    let admin = PlatformAdmin {
        phone: phone.clone(),
        name: name.to_owned(),
        created_at: OffsetDateTime::now_utc(),
    };
    let created = store.insert_platform_admin(&admin).await?;
    let (token, secret) = mint(
        store,
        &format!("bootstrap for {name}"),
        TokenScope::Platform,
        "cli".into(),
        None,
    )
    .await?;
    let at = OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    for (action, target) in [
        ("admin.create", format!("phone:{phone}")),
        ("token.create", format!("token:{}", token.id)),
    ] {
        if action == "admin.create" && !created {
            continue;
        }
        let entry = AuditEntry {
            actor: "cli".into(),
            action: action.into(),
            target,
            source: "cli".into(),
            detail: serde_json::json!({"name": name}),
            at: at.clone(),
        };
        store.append_audit(None, &entry).await?;
    }
    Ok(Bootstrap { created, secret })
}
