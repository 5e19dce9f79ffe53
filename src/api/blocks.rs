//! `/api/v1/neighborhoods/{id}/blocked-phones`: phones the captains blocked from asking to join.
//! A blocked phone's requests, by text or on the web, are refused politely and reach no captain.

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
use super::error::statuses::{Conflict, Invalid, JsonBody, NotFound, SignedIn};
use super::error::{ApiError, FieldErrors};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::join_request::BlockedPhone;
use crate::domain::phone::Phone;
use crate::services::{joining, neighborhoods};
use crate::state::AppState;

pub struct BlocksApi;

/// The longest note a captain keeps with a block.
const MAX_NOTE_CHARS: usize = 200;

/// A phone to block.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct BlockIn {
    /// The phone, as people write it.
    pub phone: String,
    /// Why, for the captains (up to 200 characters); the phone is never told.
    pub note: Option<String>,
}

/// A blocked phone.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct BlockedPhoneOut {
    /// The phone (E.164).
    pub phone: String,
    /// Who blocked it (`phone:+1...` or `token:<id>`).
    pub blocked_by: String,
    /// When.
    pub blocked_at: OffsetDateTime,
    /// The captains' note.
    pub note: Option<String>,
}

/// The blocked phones, most recently blocked first.
#[derive(Debug, Object)]
pub struct BlockedPhones {
    pub items: Vec<BlockedPhoneOut>,
}

#[derive(ApiResponse)]
enum ListResponse {
    /// The blocked phones.
    #[oai(status = 200)]
    Ok(Json<BlockedPhones>),
}

#[derive(ApiResponse)]
enum BlockResponse {
    /// Blocked: its requests are refused from now on.
    #[oai(status = 200)]
    Ok(Json<BlockedPhoneOut>),
}

#[derive(ApiResponse)]
enum UnblockResponse {
    /// Unblocked (or it was not blocked): it may ask to join again.
    #[oai(status = 204)]
    NoContent,
}

fn to_out(blocked: BlockedPhone) -> BlockedPhoneOut {
    BlockedPhoneOut {
        phone: blocked.phone.as_str().to_owned(),
        blocked_by: blocked.blocked_by,
        blocked_at: blocked.blocked_at,
        note: blocked.note,
    }
}

fn phone_field<S>(raw: &str) -> Result<Phone, ApiError<S>> {
    let mut errors = FieldErrors::default();
    let phone = errors.check("phone", Phone::parse(raw));
    errors.finish()?;
    phone.ok_or_else(|| ApiError::internal_message("a parsed phone went missing"))
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Members")]
impl BlocksApi {
    /// List blocked phones
    ///
    /// Phones whose requests to join are refused. Captains and the owner only.
    #[oai(
        path = "/:id/blocked-phones",
        method = "get",
        operation_id = "list_blocked_phones"
    )]
    async fn list(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<ListResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "list_blocked_phones", Some(id.0)).await?;
        neighborhoods::any(&state, id.0).await?;
        let items = state.store.blocked_phones(id.0).await?;
        Ok(ListResponse::Ok(Json(BlockedPhones {
            items: items.into_iter().map(to_out).collect(),
        })))
    }

    /// Block a phone
    ///
    /// Its requests to join, by text or on the web, are refused politely from now on, and the
    /// captains are not told each time. A member with that phone stays a member: remove them
    /// too if that is meant.
    #[oai(
        path = "/:id/blocked-phones",
        method = "post",
        operation_id = "block_phone"
    )]
    async fn block(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        body: Json<BlockIn>,
    ) -> Result<BlockResponse, ApiError<(SignedIn, JsonBody, NotFound, Conflict)>> {
        policy::authorize(&state, auth.principal(), "block_phone", Some(id.0)).await?;
        let note = body
            .0
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        let mut errors = FieldErrors::default();
        let phone = errors.check("phone", Phone::parse(&body.0.phone));
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            errors.add(
                "note",
                format!("A note has up to {MAX_NOTE_CHARS} characters."),
            );
        }
        errors.finish()?;
        let phone =
            phone.ok_or_else(|| ApiError::internal_message("a parsed phone went missing"))?;
        neighborhoods::active(&state, id.0).await?;
        let blocked = joining::block(&state, id.0, phone, auth.principal().actor(), note).await?;
        record(
            &state,
            auth.principal(),
            request,
            Some(id.0),
            "phone.block",
            format!("phone:{}", blocked.phone.as_str()),
            json!({"note": blocked.note.is_some()}),
        )
        .await;
        Ok(BlockResponse::Ok(Json(to_out(blocked))))
    }

    /// Unblock a phone
    ///
    /// It may ask to join again.
    #[oai(
        path = "/:id/blocked-phones/:phone",
        method = "delete",
        operation_id = "unblock_phone"
    )]
    async fn unblock(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        request: &Request,
        id: Path<Uuid>,
        /// The phone (E.164, e.g. `+14155550123`).
        phone: Path<String>,
    ) -> Result<UnblockResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "unblock_phone", Some(id.0)).await?;
        let phone = phone_field(&phone.0)?;
        neighborhoods::any(&state, id.0).await?;
        if state.store.unblock_phone(id.0, &phone).await? {
            record(
                &state,
                auth.principal(),
                request,
                Some(id.0),
                "phone.unblock",
                format!("phone:{}", phone.as_str()),
                json!({}),
            )
            .await;
        }
        Ok(UnblockResponse::NoContent)
    }
}
