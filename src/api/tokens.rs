//! `/api/v1/tokens`: API tokens for integrators. The secret is shown once; only its hash is kept.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::audit::record;
use super::error::statuses::{Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::auth::principal::Principal;
use crate::auth::tokens;
use crate::domain::access::{ApiToken, TokenScope};
use crate::domain::member::Role;
use crate::state::AppState;

pub struct TokensApi;

/// A new API token.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct TokenIn {
    /// What it is for, e.g. `newsletter sync` (1 to 80 characters).
    pub name: String,
    /// The neighborhood it may act in. Omit only for a platform token (platform admins).
    pub neighborhood_id: Option<Uuid>,
    /// Its role in that neighborhood, at most your own. Ignored for platform tokens.
    pub role: Option<Role>,
    /// When it stops working (RFC 3339); never, when omitted.
    pub expires_at: Option<OffsetDateTime>,
}

/// An API token, without its secret.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TokenOut {
    /// Id, used to revoke it.
    pub id: Uuid,
    /// What it is for.
    pub name: String,
    /// The neighborhood it acts in; absent for platform tokens.
    pub neighborhood_id: Option<Uuid>,
    /// Its role there; absent for platform tokens.
    pub role: Option<Role>,
    /// True for a platform token (acts as a platform admin).
    pub platform: bool,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was last used (to the minute), if ever.
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token just created, with its secret: shown this once and never again.
#[derive(Debug, Object)]
pub struct TokenCreatedOut {
    /// The token.
    pub token: TokenOut,
    /// Send it as `Authorization: Bearer <secret>`. Store it now: it cannot be shown again.
    pub secret: String,
}

/// Tokens visible to you.
#[derive(Debug, Object)]
pub struct TokenList {
    /// Newest first.
    pub items: Vec<TokenOut>,
}

#[derive(ApiResponse)]
enum CreateResponse {
    /// Created; the secret is in this answer only.
    #[oai(status = 201)]
    Created(Json<TokenCreatedOut>),
}

#[derive(ApiResponse)]
enum ListResponse {
    /// Tokens of the neighborhoods you are a captain of (all of them for platform admins).
    #[oai(status = 200)]
    Ok(Json<TokenList>),
}

#[derive(ApiResponse)]
enum RevokeResponse {
    /// Revoked: it no longer works.
    #[oai(status = 200)]
    Revoked(Json<TokenOut>),
}

pub fn to_out(token: &ApiToken) -> TokenOut {
    let (neighborhood_id, role) = match token.scope {
        TokenScope::Platform => (None, None),
        TokenScope::Neighborhood {
            neighborhood_id,
            role,
        } => (Some(neighborhood_id), Some(role)),
    };
    TokenOut {
        id: token.id,
        name: token.name.clone(),
        neighborhood_id,
        role,
        platform: token.scope == TokenScope::Platform,
        created_by: token.created_by.clone(),
        created_at: token.created_at,
        expires_at: token.expires_at,
        last_used_at: token.last_used_at,
        revoked_at: token.revoked_at,
    }
}

/// The principal's role in a token's neighborhood, for the policy's token rules.
async fn role_for<S>(
    state: &AppState,
    principal: &Principal,
    scope: &TokenScope,
) -> Result<Option<Role>, ApiError<S>> {
    Ok(match scope {
        TokenScope::Neighborhood {
            neighborhood_id, ..
        } => principal.role_in(state, *neighborhood_id).await?,
        TokenScope::Platform => None,
    })
}

#[OpenApi(prefix_path = "/api/v1/tokens", tag = "ApiTags::Tokens")]
impl TokensApi {
    /// Create an API token
    ///
    /// For a neighborhood where you are a captain or the owner, with a role up to your own; or,
    /// for platform admins, a platform token. The secret is in this answer only.
    #[oai(path = "/", method = "post", operation_id = "create_token")]
    async fn create(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        body: Json<TokenIn>,
    ) -> Result<CreateResponse, ApiError<(SignedIn, JsonBody, NotFound)>> {
        let principal = auth.principal();
        policy::authorize(&state, principal, "create_token", None).await?;
        let body = body.0;
        let mut errors = FieldErrors::default();
        let name = body.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 80 {
            errors.add("name", "Name the token in 1 to 80 characters.");
        }
        if body
            .expires_at
            .is_some_and(|at| at <= OffsetDateTime::now_utc())
        {
            errors.add("expires_at", "Give a time in the future.");
        }
        let scope = match (body.neighborhood_id, body.role) {
            (Some(neighborhood_id), Some(role)) => Some(TokenScope::Neighborhood {
                neighborhood_id,
                role,
            }),
            (Some(_), None) => {
                errors.add("role", "Give the token's role in the neighborhood.");
                None
            }
            (None, _) => Some(TokenScope::Platform),
        };
        // A token made by a token never outlives it (and, made by it, ends with it).
        let expires_at = match principal {
            Principal::Token { token: parent } => {
                match tokens::child_expiry(parent, body.expires_at) {
                    Ok(at) => at,
                    Err(rule) => {
                        errors.add("expires_at", rule);
                        None
                    }
                }
            }
            Principal::Session { .. } => body.expires_at,
        };
        errors.finish()?;
        let Some(scope) = scope else {
            return Err(ApiError::internal_message(
                "token scope missing after validation",
            ));
        };
        if !policy::may_manage_token(
            principal.is_platform_admin(),
            role_for(&state, principal, &scope).await?,
            &scope,
        ) {
            return Err(ApiError::forbidden(
                "You may only create tokens for neighborhoods you run, with a role up to your own.",
            ));
        }
        if let TokenScope::Neighborhood {
            neighborhood_id, ..
        } = scope
            && state
                .store
                .get_neighborhood(neighborhood_id)
                .await?
                .is_none()
        {
            return Err(ApiError::not_found("neighborhood"));
        }
        let (token, secret) =
            tokens::mint(&state.store, &name, scope, principal.actor(), expires_at).await?;
        let neighborhood = match scope {
            TokenScope::Neighborhood {
                neighborhood_id, ..
            } => Some(neighborhood_id),
            TokenScope::Platform => None,
        };
        record(
            &state,
            principal,
            request,
            neighborhood,
            "token.create",
            format!("token:{}", token.id),
            json!({"name": token.name}),
        )
        .await;
        Ok(CreateResponse::Created(Json(TokenCreatedOut {
            token: to_out(&token),
            secret,
        })))
    }

    /// List API tokens
    ///
    /// Tokens of the neighborhoods where you are a captain or the owner; every token for
    /// platform admins. Secrets are never listed.
    #[oai(path = "/", method = "get", operation_id = "list_tokens")]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
    ) -> Result<ListResponse, ApiError<SignedIn>> {
        let principal = auth.principal();
        policy::authorize(&state, principal, "list_tokens", None).await?;
        let mut items = Vec::new();
        for token in state.store.api_tokens().await? {
            if policy::may_revoke_token(
                principal.is_platform_admin(),
                role_for(&state, principal, &token.scope).await?,
                &token.scope,
            ) {
                items.push(to_out(&token));
            }
        }
        Ok(ListResponse::Ok(Json(TokenList { items })))
    }

    /// Revoke an API token
    ///
    /// It stops working at once. Revoking twice is harmless.
    #[oai(path = "/:token_id", method = "delete", operation_id = "revoke_token")]
    async fn revoke(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        token_id: Path<Uuid>,
    ) -> Result<RevokeResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        let principal = auth.principal();
        policy::authorize(&state, principal, "revoke_token", None).await?;
        let Some(mut token) = state.store.api_token(token_id.0).await? else {
            return Err(ApiError::not_found("token"));
        };
        if !policy::may_revoke_token(
            principal.is_platform_admin(),
            role_for(&state, principal, &token.scope).await?,
            &token.scope,
        ) {
            return Err(ApiError::forbidden(
                "You may only revoke tokens of neighborhoods you run.",
            ));
        }
        if token.revoked_at.is_none() {
            token.revoked_at = Some(OffsetDateTime::now_utc());
            state.store.save_api_token(&token).await?;
            let neighborhood = match token.scope {
                TokenScope::Neighborhood {
                    neighborhood_id, ..
                } => Some(neighborhood_id),
                TokenScope::Platform => None,
            };
            record(
                &state,
                principal,
                request,
                neighborhood,
                "token.revoke",
                format!("token:{}", token.id),
                json!({"name": token.name}),
            )
            .await;
        }
        Ok(RevokeResponse::Revoked(Json(to_out(&token))))
    }
}
