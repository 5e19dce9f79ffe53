//! The post-event webhook: what happened in a Conversation after the fact.
//!
//! - `onMessageAdded`: the message goes into the neighborhood's history, and into every other
//!   shard (one REST call each, through the outbox), so a neighborhood past 50 members is still
//!   one group; its delivery in this shard is counted in the cost ledger
//!   (`crate::services::group_messages`, which the backfill calls too).
//! - `onDeliveryUpdated`: the recipient's delivery health; 21610 means they opted out, and too
//!   many carrier failures in a row pause them and tell the captains.
//! - `onParticipantAdded` / `onParticipantRemoved`: only changes made outside the service (the
//!   Twilio console) fire them, since our own REST calls ask for no webhooks; the directory and
//!   the audit log follow.
//!
//! Each event is acted on once, however often Twilio delivers it.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{delivery_marks, in_progress, param, receive, store_failed};
use crate::domain::media;
use crate::domain::member::{
    DeliveryHealth, DeliveryVerdict, Member, MemberStatus, Participant, SyncState,
};
use crate::domain::phone::Phone;
use crate::services::deliveries::{Once, once};
use crate::services::group_messages::{self, GroupMessage};
use crate::services::members;
use crate::services::texts;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::outbox::Effect;
use crate::store::{StoreError, UpdateError};

#[handler]
pub(super) async fn conversations_post(
    state: Data<&AppState>,
    request: &Request,
    body: Body,
) -> Response {
    let params = match receive(&state, request, body).await {
        Ok(params) => params,
        Err(refused) => return refused,
    };
    if super::replayed(&params, time::OffsetDateTime::now_utc()) {
        tracing::warn!(
            event = param(&params, "EventType"),
            "post-event dated outside the replay window refused"
        );
        return StatusCode::FORBIDDEN.into_response();
    }
    match handle(&state, request, &params).await {
        Ok(Once::Acted | Once::Repeat) => StatusCode::OK.into_response(),
        Ok(Once::InProgress) => in_progress(),
        // 503, not 200: Twilio does not call again, but it keeps the message in the
        // Conversation, and the backfill (`jobs::backfill`, due as soon as Redis answers) reads
        // it back and records and relays it under the same `added:` claim, so nothing is lost
        // and nothing doubled. A 200 would acknowledge an event we did not record.
        Err(error) => {
            tracing::error!(%error, event = param(&params, "EventType"), "post-event webhook failed");
            store_failed(&state, error)
        }
    }
}

/// Acts on one event of one of our Conversations, once however often it is delivered; others
/// are ignored.
async fn handle(
    state: &AppState,
    request: &Request,
    params: &[(String, String)],
) -> Result<Once, StoreError> {
    let event = param(params, "EventType");
    if event == "onMessageAdded" {
        return message_added(state, request, params).await;
    }
    let Some(neighborhood_id) = state
        .store
        .neighborhood_of_conversation(param(params, "ConversationSid"))
        .await?
    else {
        return Ok(Once::Acted);
    };
    // What Twilio keeps when it sends an event again with a new token.
    let sid = |name: &str| Some(param(params, name)).filter(|sid| !sid.is_empty());
    let event_mark = match event {
        "onDeliveryUpdated" => sid("DeliveryReceiptSid")
            .map(|sid| format!("receipt:{sid}:{}", param(params, "Status"))),
        "onParticipantAdded" | "onParticipantRemoved" => None,
        _ => return Ok(Once::Acted),
    };
    let act = || async move {
        match event {
            "onDeliveryUpdated" => delivery_updated(state, neighborhood_id, params).await,
            "onParticipantAdded" => participant_added(state, neighborhood_id, params).await,
            "onParticipantRemoved" => participant_removed(state, neighborhood_id, params).await,
            _ => Ok(()),
        }
    };
    let marks = delivery_marks(request, event_mark);
    if marks.is_empty() {
        act().await?;
        return Ok(Once::Acted);
    }
    once(state, neighborhood_id, &marks, act).await
}

/// A message in one of our Conversations: a member's is recorded and relayed, once, by the one
/// function the backfill calls too.
async fn message_added(
    state: &AppState,
    request: &Request,
    params: &[(String, String)],
) -> Result<Once, StoreError> {
    let media = media::from_webhook(param(params, "Media")).unwrap_or_else(|error| {
        tracing::warn!(%error, "a message's Media could not be read");
        Vec::new()
    });
    let message = GroupMessage {
        sid: param(params, "MessageSid"),
        conversation_sid: param(params, "ConversationSid"),
        index: param(params, "Index").parse().ok(),
        author: param(params, "Author"),
        body: param(params, "Body"),
        attributes: param(params, "Attributes"),
        media: &media,
        chat_service_sid: Some(param(params, "ChatServiceSid")).filter(|sid| !sid.is_empty()),
    };
    // Our own relays and announcements: nothing to do, and no Redis round trip for them.
    if message.phone_author().is_none() {
        return Ok(Once::Acted);
    }
    let Some(neighborhood_id) = state
        .store
        .neighborhood_of_conversation(message.conversation_sid)
        .await?
    else {
        return Ok(Once::Acted);
    };
    let marks = delivery_marks(request, (!message.sid.is_empty()).then(|| message.mark()));
    group_messages::added(state, neighborhood_id, &message, &marks).await
}

/// Updates the recipient's delivery health, and acts on what it says.
async fn delivery_updated(
    state: &AppState,
    neighborhood_id: Uuid,
    params: &[(String, String)],
) -> Result<(), StoreError> {
    let participant_sid = param(params, "ParticipantSid");
    let status = param(params, "Status");
    let error_code = param(params, "ErrorCode").parse::<u32>().ok();
    let Some(member) = state
        .store
        .member_by_participant(neighborhood_id, participant_sid)
        .await?
    else {
        return Ok(());
    };
    let notice = |language| {
        crate::i18n::text(
            language,
            "delivery-paused",
            &[
                ("name", member.display_name.as_str().into()),
                ("code", error_code.unwrap_or_default().to_string().into()),
            ],
        )
    };
    // The captains are read only for a pause (rare), which this first try finds out.
    let mut captains: Option<Vec<Effect>> = None;
    let mut read = Some(member.clone());
    loop {
        let mut verdict = DeliveryVerdict::Recorded;
        let change = |member: &mut Member| {
            let (health, judged) = DeliveryHealth::after(
                member.delivery.as_ref(),
                status,
                error_code,
                OffsetDateTime::now_utc(),
                state.settings.pause_after_failures,
            );
            verdict = judged;
            let failures = health.failures_in_a_row;
            member.delivery = Some(health);
            let mut effects = Vec::new();
            if judged == DeliveryVerdict::Pause && member.status == MemberStatus::Active {
                let Some(captains) = &captains else {
                    return Err(NeedsCaptains);
                };
                let code = error_code.unwrap_or_default();
                member.status = MemberStatus::Paused;
                member.status_reason = Some(format!(
                    "Paused after {failures} failed deliveries in a row (Twilio error {code})"
                ));
                if let Some(removal) = members::removal(member) {
                    member.sync = SyncState::Pending;
                    effects.push(removal);
                }
                effects.extend(captains.iter().cloned());
            }
            Ok(effects)
        };
        // A delivery report is the hot path (one per recipient of each group text): the record
        // just read is changed without reading it again.
        let updated = match read.take() {
            Some(read) => state.store.update_read_member(read, change).await,
            None => {
                state
                    .store
                    .update_member(neighborhood_id, member.id, change)
                    .await
            }
        };
        return match updated {
            Err(UpdateError::Rejected(NeedsCaptains)) => {
                let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await?
                else {
                    return Ok(());
                };
                captains =
                    Some(texts::texts_to_captains(state, &neighborhood, notice, |_| true).await?);
                continue;
            }
            Ok(_) if verdict == DeliveryVerdict::OptedOut => {
                members::opt_out_everywhere(state, &member.phone).await
            }
            Ok(_) | Err(UpdateError::NotFound | UpdateError::Contended) => Ok(()),
            Err(UpdateError::Store(error)) => Err(error),
        };
    }
}

/// A pause needs the captains' notices, which are read only then.
struct NeedsCaptains;

/// Someone added an SMS participant in Twilio directly: they are a member now.
async fn participant_added(
    state: &AppState,
    neighborhood_id: Uuid,
    params: &[(String, String)],
) -> Result<(), StoreError> {
    let Ok(phone) = Phone::parse(param(params, "MessagingBinding.Address")) else {
        return Ok(());
    };
    let placed = Participant {
        conversation_sid: param(params, "ConversationSid").to_owned(),
        participant_sid: param(params, "ParticipantSid").to_owned(),
    };
    if let Some(member) =
        members::admit_added_in_twilio(state, neighborhood_id, phone, placed).await?
    {
        audit(state, neighborhood_id, "member.added_in_twilio", &member).await;
    }
    Ok(())
}

/// Someone removed an SMS participant in Twilio directly: the member is out.
async fn participant_removed(
    state: &AppState,
    neighborhood_id: Uuid,
    params: &[(String, String)],
) -> Result<(), StoreError> {
    let participant_sid = param(params, "ParticipantSid");
    let Some(member) = state
        .store
        .member_by_participant(neighborhood_id, participant_sid)
        .await?
    else {
        return Ok(());
    };
    let removed = state
        .store
        .update_read_member(member, |member| {
            member.participant = None;
            member.sync = SyncState::Done;
            if member.status == MemberStatus::Active {
                member.status = MemberStatus::Removed;
                member.status_reason = Some("Removed in Twilio, outside the service".to_owned());
            }
            Ok::<_, StoreError>(Vec::new())
        })
        .await;
    if let Some(update) = UpdateError::unless_gone(removed)? {
        audit(
            state,
            neighborhood_id,
            "member.removed_in_twilio",
            &update.after,
        )
        .await;
    }
    Ok(())
}

async fn audit(state: &AppState, neighborhood_id: Uuid, action: &str, member: &Member) {
    let entry = AuditEntry::now(
        "twilio".to_owned(),
        action,
        format!("member:{}", member.id),
        "webhook".to_owned(),
        serde_json::json!({"display_name": member.display_name}),
    );
    state
        .store
        .record_audit(Some(neighborhood_id), &entry)
        .await;
}
