//! The Twilio side of a neighborhood's life: buy or adopt its number, create its first
//! Conversation, rename it, archive it.
//!
//! Creation runs a chain of Twilio calls; when a later step fails, the earlier ones are undone in
//! reverse (a bought number is released) so the caller gets a clear error and nothing is left
//! half-made, in Twilio or in Redis. Archiving is a chain of idempotent steps, so a failed archive
//! is finished by simply asking again.

use rand::RngExt;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::access::TokenScope;
use crate::domain::catch_up::CatchUp;
use crate::domain::channel::Channel;
use crate::domain::costs::Money;
use crate::domain::join_questions::JoinQuestion;
use crate::domain::member::MemberStatus;
use crate::domain::neighborhood::{
    AreaCode, Description, JoinPolicy, Mode, Neighborhood, NeighborhoodName, NeighborhoodState,
    Shard, Slug, shard_unique_name,
};
use crate::domain::phone::Phone;
use crate::domain::quiet_hours::QuietHours;
use crate::i18n::Language;
use crate::services::neighborhoods::NeighborhoodError;
use crate::state::{AppState, TwilioAccount};
use crate::store::StoreError;
use crate::store::UpdateError;
use crate::twilio::TwilioError;
use crate::twilio::types::{
    BuyNumber, ConversationParams, ConversationState, CreateConversationMessage,
    UpdateIncomingNumber,
};

/// Which number a new neighborhood texts from.
#[derive(Debug, Clone)]
pub enum NumberChoice {
    /// Buy a new local number in this area code.
    Buy(AreaCode),
    /// Use a number the Twilio account already owns.
    Existing(Phone),
}

#[derive(Debug, Clone)]
pub struct NewNeighborhood {
    pub name: NeighborhoodName,
    pub description: Description,
    /// None: derived from the name, with a numeric suffix if taken.
    pub slug: Option<Slug>,
    pub number: NumberChoice,
    pub mode: Mode,
    pub join_policy: JoinPolicy,
    pub join_questions: Vec<JoinQuestion>,
}

/// Fields of a neighborhood a captain may change; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NeighborhoodChanges {
    pub name: Option<NeighborhoodName>,
    pub description: Option<Description>,
    pub mode: Option<Mode>,
    pub join_policy: Option<JoinPolicy>,
    pub join_questions: Option<Vec<JoinQuestion>>,
    pub catch_up: Option<CatchUp>,
    /// `Some(None)` removes the cap.
    pub monthly_budget: Option<Option<Money>>,
    /// `Some(None)` clears quiet hours.
    pub quiet_hours: Option<Option<QuietHours>>,
    /// `Some(None)` removes the WhatsApp sender.
    pub whatsapp_sender: Option<Option<Phone>>,
    pub default_language: Option<Language>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("no Twilio account is configured")]
    TwilioNotConfigured,
    #[error("no local number with SMS is available in area code {0}")]
    NoNumberAvailable(String),
    #[error("the Twilio account does not own {0}")]
    NumberNotOwned(Phone),
    #[error(
        "{0} is not a WhatsApp sender of the Messaging Service: register it with WhatsApp in Twilio (Messaging > Senders > WhatsApp senders) and add it to the service first"
    )]
    NotWhatsappSender(Phone),
    #[error(
        "{0} members are on WhatsApp through the current sender, bound to it at Twilio: it cannot change or go while they are in the group (paused ones included)"
    )]
    WhatsappMembersIn(usize),
    #[error("{0} is the WhatsApp sender of another neighborhood")]
    WhatsappSenderTaken(Phone),
    #[error("{0} already belongs to another neighborhood")]
    NumberTaken(Phone),
    #[error("the link name `{0}` is taken")]
    SlugTaken(String),
    #[error("no such neighborhood")]
    NotFound,
    #[error("the neighborhood is archived")]
    Archived,
    #[error("only an archived neighborhood can be deleted")]
    NotArchived,
    #[error("the neighborhood is being changed by someone else; try again")]
    Contended,
    #[error("Twilio failed: {0}")]
    Twilio(#[from] TwilioError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<NeighborhoodError> for ProvisionError {
    fn from(error: NeighborhoodError) -> Self {
        match error {
            NeighborhoodError::NotFound => Self::NotFound,
            NeighborhoodError::Archived => Self::Archived,
            NeighborhoodError::Store(error) => Self::Store(error),
        }
    }
}

impl From<UpdateError<ProvisionError>> for ProvisionError {
    fn from(error: UpdateError<ProvisionError>) -> Self {
        match error {
            UpdateError::NotFound => Self::NotFound,
            UpdateError::Contended => Self::Contended,
            UpdateError::Rejected(error) => error,
            UpdateError::Store(error) => Self::Store(error),
        }
    }
}

/// How many numbers of an area code are tried when the first is bought by someone else first.
const NUMBER_CANDIDATES: u32 = 3;
/// How many `-2`, `-3`, ... suffixes are tried for a slug derived from the name.
const SLUG_SUFFIXES: u32 = 20;
/// Twilio codes meaning "nothing left to undo": already gone, already closed.
const ALREADY_CLOSED: u32 = 50377;

/// A step to undo if a later one fails.
enum Undo {
    ReleaseSlug(Slug),
    ReleaseNumberClaim(Phone),
    ReleaseBoughtNumber(String),
    RestoreSmsUrl {
        sid: String,
        sms_url: Option<String>,
    },
    DeleteConversation(String),
}

fn twilio(state: &AppState) -> Result<&TwilioAccount, ProvisionError> {
    state
        .twilio
        .as_ref()
        .ok_or(ProvisionError::TwilioNotConfigured)
}

#[tracing::instrument(skip_all, fields(neighborhood_id))]
pub async fn create_neighborhood(
    state: &AppState,
    new: NewNeighborhood,
) -> Result<Neighborhood, ProvisionError> {
    let account = twilio(state)?;
    let id = Uuid::now_v7();
    tracing::Span::current().record("neighborhood_id", tracing::field::display(id));
    let mut undo = Vec::new();
    match provision(state, account, id, new, &mut undo).await {
        Ok(neighborhood) => {
            tracing::info!(slug = neighborhood.slug.as_str(), "neighborhood created");
            Ok(neighborhood)
        }
        Err(error) => {
            tracing::warn!(%error, "creating a neighborhood failed; undoing what was done");
            roll_back(state, account, id, undo).await;
            Err(error)
        }
    }
}

async fn provision(
    state: &AppState,
    account: &TwilioAccount,
    id: Uuid,
    new: NewNeighborhood,
    undo: &mut Vec<Undo>,
) -> Result<Neighborhood, ProvisionError> {
    let slug = claim_slug(state, id, &new).await?;
    undo.push(Undo::ReleaseSlug(slug.clone()));

    let (number, number_sid, number_bought) = match &new.number {
        NumberChoice::Buy(area_code) => {
            buy_number(state, account, area_code, &new.name, undo).await?
        }
        NumberChoice::Existing(phone) => adopt_number(state, account, id, phone, undo).await?,
    };
    if number_bought {
        // A number Twilio just sold us cannot be anyone else's, unless our records are stale.
        if !state.store.claim_number(&number, id).await? {
            return Err(ProvisionError::NumberTaken(number));
        }
        undo.push(Undo::ReleaseNumberClaim(number.clone()));
    }

    match account
        .client
        .add_number_to_messaging_service(&account.messaging_service_sid, &number_sid)
        .await
    {
        Ok(_) => {}
        // 21710: the number is already in this Messaging Service, which is what we want.
        Err(error) if error.code() == Some(21710) => {}
        Err(error) => return Err(error.into()),
    }

    let unique_name = shard_unique_name(id, 0);
    let conversation = account
        .client
        .create_conversation(&ConversationParams {
            friendly_name: Some(new.name.as_str().to_owned()),
            unique_name: Some(unique_name.clone()),
            attributes: Some(serde_json::json!({ "neighborhood_id": id, "shard": 0 }).to_string()),
            messaging_service_sid: Some(account.messaging_service_sid.clone()),
            state: Some(ConversationState::Active),
            ..ConversationParams::default()
        })
        .await?;
    undo.push(Undo::DeleteConversation(conversation.sid.clone()));

    let now = OffsetDateTime::now_utc();
    let neighborhood = Neighborhood {
        default_language: Default::default(),
        id,
        version: 1,
        slug,
        name: new.name,
        description: new.description,
        phone_number: number.clone(),
        phone_number_sid: number_sid,
        whatsapp_sender: None,
        number_bought,
        shards: vec![Shard {
            conversation_sid: conversation.sid,
            unique_name,
        }],
        mode: new.mode,
        join_policy: new.join_policy,
        join_questions: new.join_questions,
        catch_up: CatchUp::default(),
        monthly_budget: None,
        quiet_hours: None,
        state: NeighborhoodState::Active,
        created_at: now,
        updated_at: now,
    };
    state
        .store
        .index_conversation(&neighborhood.shards[0].conversation_sid, id)
        .await?;
    if !state.store.insert_neighborhood(&neighborhood).await? {
        return Err(ProvisionError::NumberTaken(number));
    }
    Ok(neighborhood)
}

async fn claim_slug(
    state: &AppState,
    id: Uuid,
    new: &NewNeighborhood,
) -> Result<Slug, ProvisionError> {
    if let Some(slug) = &new.slug {
        return if state.store.claim_slug(slug, id).await? {
            Ok(slug.clone())
        } else {
            Err(ProvisionError::SlugTaken(slug.as_str().to_owned()))
        };
    }
    let base = Slug::from_name(&new.name);
    // Readable suffixes first (`elm-street-2`), then random ones, which cannot run out.
    let random =
        (0..SLUG_SUFFIXES).map(|_| base.with_suffix(rand::rng().random_range(1000..1_000_000)));
    let candidates = std::iter::once(base.clone())
        .chain((2..SLUG_SUFFIXES + 2).map(|n| base.with_suffix(n)))
        .chain(random);
    for candidate in candidates {
        if state.store.claim_slug(&candidate, id).await? {
            return Ok(candidate);
        }
    }
    Err(ProvisionError::SlugTaken(base.as_str().to_owned()))
}

async fn buy_number(
    state: &AppState,
    account: &TwilioAccount,
    area_code: &AreaCode,
    name: &NeighborhoodName,
    undo: &mut Vec<Undo>,
) -> Result<(Phone, String, bool), ProvisionError> {
    let candidates = account
        .client
        .search_local_numbers("US", area_code.as_str(), NUMBER_CANDIDATES)
        .await?;
    let mut last_error = None;
    for candidate in candidates {
        let request = BuyNumber {
            phone_number: candidate.phone_number.clone(),
            friendly_name: Some(name.as_str().to_owned()),
            sms_url: Some(state.sms_webhook_url()),
        };
        match account.client.buy_number(&request).await {
            Ok(bought) => {
                undo.push(Undo::ReleaseBoughtNumber(bought.sid.clone()));
                let phone =
                    Phone::parse(&bought.phone_number).map_err(|_| TwilioError::Malformed {
                        status: 201,
                        detail: "bought number is not E.164".into(),
                    })?;
                return Ok((phone, bought.sid, true));
            }
            // 21422: someone else bought this one between our search and our purchase.
            Err(error) if error.code() == Some(21422) => last_error = Some(error),
            Err(error) => return Err(error.into()),
        }
    }
    match last_error {
        Some(error) => Err(error.into()),
        None => Err(ProvisionError::NoNumberAvailable(
            area_code.as_str().to_owned(),
        )),
    }
}

async fn adopt_number(
    state: &AppState,
    account: &TwilioAccount,
    id: Uuid,
    phone: &Phone,
    undo: &mut Vec<Undo>,
) -> Result<(Phone, String, bool), ProvisionError> {
    if !state.store.claim_number(phone, id).await? {
        return Err(ProvisionError::NumberTaken(phone.clone()));
    }
    undo.push(Undo::ReleaseNumberClaim(phone.clone()));
    let Some(owned) = account.client.find_incoming_number(phone.as_str()).await? else {
        return Err(ProvisionError::NumberNotOwned(phone.clone()));
    };
    let update = UpdateIncomingNumber {
        sms_url: Some(state.sms_webhook_url()),
        ..UpdateIncomingNumber::default()
    };
    account
        .client
        .update_incoming_number(&owned.sid, &update)
        .await?;
    undo.push(Undo::RestoreSmsUrl {
        sid: owned.sid.clone(),
        sms_url: owned.sms_url.clone(),
    });
    Ok((phone.clone(), owned.sid, false))
}

/// Undoes the steps in reverse. A step that cannot be undone is logged for an operator, since the
/// caller is already getting the original error.
async fn roll_back(state: &AppState, account: &TwilioAccount, id: Uuid, undo: Vec<Undo>) {
    for step in undo.into_iter().rev() {
        let outcome = match &step {
            Undo::ReleaseSlug(slug) => state
                .store
                .release_slug(slug, id)
                .await
                .map_err(|e| e.to_string()),
            Undo::ReleaseNumberClaim(phone) => state
                .store
                .release_number(phone, id)
                .await
                .map_err(|e| e.to_string()),
            Undo::ReleaseBoughtNumber(sid) => ignore_gone(account.client.release_number(sid).await),
            Undo::RestoreSmsUrl { sid, sms_url } => {
                let update = UpdateIncomingNumber {
                    sms_url: Some(sms_url.clone().unwrap_or_default()),
                    ..UpdateIncomingNumber::default()
                };
                account
                    .client
                    .update_incoming_number(sid, &update)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
            Undo::DeleteConversation(sid) => {
                ignore_gone(account.client.delete_conversation(sid).await)
            }
        };
        if let Err(error) = outcome {
            let what = match step {
                Undo::ReleaseSlug(_) | Undo::ReleaseNumberClaim(_) => {
                    "a Redis claim (it expires by itself)".to_owned()
                }
                Undo::ReleaseBoughtNumber(sid) => {
                    format!("bought number {sid}: release it in the Twilio console")
                }
                Undo::RestoreSmsUrl { sid, .. } => format!("the SMS URL of number {sid}"),
                Undo::DeleteConversation(sid) => {
                    format!("Conversation {sid}: delete it in the Twilio console")
                }
            };
            tracing::error!(%error, "could not undo {what}");
        }
    }
}

fn ignore_gone(result: Result<(), TwilioError>) -> Result<(), String> {
    match result {
        Err(error) if !error.is_not_found() => Err(error.to_string()),
        _ => Ok(()),
    }
}

/// Applies changes; a new name also renames every shard's Conversation (its FriendlyName).
#[tracing::instrument(skip_all, fields(neighborhood_id = %id))]
pub async fn update_neighborhood(
    state: &AppState,
    id: Uuid,
    changes: NeighborhoodChanges,
) -> Result<Neighborhood, ProvisionError> {
    let current = super::neighborhoods::active(state, id).await?;
    if let Some(sender) = changes
        .whatsapp_sender
        .as_ref()
        .filter(|sender| **sender != current.whatsapp_sender)
    {
        check_whatsapp_sender(state, &current, sender.as_ref()).await?;
    }
    if let Some(name) = changes.name.as_ref().filter(|name| **name != current.name) {
        let account = twilio(state)?;
        for shard in &current.shards {
            let params = ConversationParams {
                friendly_name: Some(name.as_str().to_owned()),
                ..ConversationParams::default()
            };
            account
                .client
                .update_conversation(&shard.conversation_sid, &params)
                .await?;
        }
    }
    // Claimed last before the change, so nothing that can fail comes between the two but the
    // change itself (whose failure gives the claim back, below).
    let new_sender = changes
        .whatsapp_sender
        .as_ref()
        .filter(|sender| **sender != current.whatsapp_sender);
    if let Some(Some(sender)) = new_sender
        && !state.store.claim_whatsapp_sender(sender, id).await?
    {
        return Err(ProvisionError::WhatsappSenderTaken(sender.clone()));
    }
    let updated = state
        .store
        .update_neighborhood(id, |neighborhood| {
            if neighborhood.state == NeighborhoodState::Archived {
                return Err(ProvisionError::Archived);
            }
            if let Some(name) = &changes.name {
                neighborhood.name = name.clone();
            }
            if let Some(description) = &changes.description {
                neighborhood.description = description.clone();
            }
            if let Some(mode) = changes.mode {
                neighborhood.mode = mode;
            }
            if let Some(policy) = changes.join_policy {
                neighborhood.join_policy = policy;
            }
            if let Some(questions) = &changes.join_questions {
                neighborhood.join_questions = questions.clone();
            }
            if let Some(catch_up) = changes.catch_up {
                neighborhood.catch_up = catch_up;
            }
            if let Some(budget) = changes.monthly_budget {
                neighborhood.monthly_budget = budget;
            }
            if let Some(quiet_hours) = &changes.quiet_hours {
                neighborhood.quiet_hours = quiet_hours.clone();
            }
            if let Some(sender) = &changes.whatsapp_sender {
                neighborhood.whatsapp_sender = sender.clone();
            }
            if let Some(language) = changes.default_language {
                neighborhood.default_language = language;
            }
            Ok(())
        })
        .await;
    // The claim follows the setting: a new sender's is dropped if the change did not land, and
    // the old one's once it did.
    if let Some(new_sender) = new_sender {
        let (kept, dropped) = match &updated {
            Ok(_) => (new_sender.as_ref(), current.whatsapp_sender.as_ref()),
            Err(_) => (current.whatsapp_sender.as_ref(), new_sender.as_ref()),
        };
        if let Some(dropped) = dropped.filter(|dropped| Some(*dropped) != kept) {
            state.store.release_whatsapp_sender(dropped, id).await?;
        }
    }
    Ok(updated?)
}

/// A new WhatsApp sender must be one of the Messaging Service's (Twilio will not send from
/// another); the current one stays while members are in the group through it, since their
/// participants are bound to it.
async fn check_whatsapp_sender(
    state: &AppState,
    current: &Neighborhood,
    sender: Option<&Phone>,
) -> Result<(), ProvisionError> {
    if current.whatsapp_sender.is_some() {
        let on_whatsapp = state
            .store
            .members(current.id)
            .await?
            .iter()
            .filter(|member| {
                member.channel == Channel::Whatsapp
                    && matches!(member.status, MemberStatus::Active | MemberStatus::Paused)
            })
            .count();
        if on_whatsapp > 0 {
            return Err(ProvisionError::WhatsappMembersIn(on_whatsapp));
        }
    }
    let Some(sender) = sender else {
        return Ok(());
    };
    let account = twilio(state)?;
    let address = Channel::Whatsapp.address(sender);
    let registered = account
        .client
        .list_channel_senders(&account.messaging_service_sid)
        .await?
        .iter()
        .any(|registered| registered.sender.as_deref() == Some(address.as_str()));
    if registered {
        Ok(())
    } else {
        Err(ProvisionError::NotWhatsappSender(sender.clone()))
    }
}

/// Closes every Conversation, releases the number or hands it back, and marks the neighborhood
/// archived. Each step tolerates having been done before, so a failed archive can be repeated.
#[tracing::instrument(skip_all, fields(neighborhood_id = %id))]
pub async fn archive_neighborhood(
    state: &AppState,
    id: Uuid,
    release_number: bool,
    farewell: Option<&str>,
) -> Result<Neighborhood, ProvisionError> {
    let current = super::neighborhoods::active(state, id).await?;
    let account = twilio(state)?;
    if let Some(text) = farewell {
        // Posted while the Conversations still carry texts; closing them comes next.
        for shard in &current.shards {
            let message = CreateConversationMessage {
                author: Some("system".to_owned()),
                body: format!("{}: {text}", current.name.as_str()),
                attributes: None,
                webhook_enabled: false,
                media_sid: None,
            };
            account
                .client
                .create_conversation_message(&shard.conversation_sid, &message)
                .await?;
        }
    }
    for shard in &current.shards {
        let close = ConversationParams {
            state: Some(ConversationState::Closed),
            ..ConversationParams::default()
        };
        match account
            .client
            .update_conversation(&shard.conversation_sid, &close)
            .await
        {
            Ok(_) => {}
            Err(error) if error.is_not_found() || error.code() == Some(ALREADY_CLOSED) => {}
            Err(error) => return Err(error.into()),
        }
    }
    if release_number {
        match account
            .client
            .release_number(&current.phone_number_sid)
            .await
        {
            Ok(()) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(error.into()),
        }
    }
    let archived = state
        .store
        .update_neighborhood(id, |neighborhood| {
            neighborhood.state = NeighborhoodState::Archived;
            Ok::<_, ProvisionError>(())
        })
        .await?;
    state.store.index_as_archived(&archived).await?;
    tracing::info!(release_number, "neighborhood archived");
    Ok(archived)
}

/// What deleting a neighborhood removed.
#[derive(Debug, Clone, Copy)]
pub struct Deletion {
    /// Redis keys of the neighborhood removed.
    pub keys: usize,
    /// Whether the number went back to Twilio now (archiving may have released it already).
    pub released_number: bool,
}

/// Deletes an archived neighborhood: its Conversations at Twilio, its number unless another
/// neighborhood took it over, its API tokens, and every key it had in Redis. Each step tolerates
/// having been done before, so a failed delete can be repeated.
#[tracing::instrument(skip_all, fields(neighborhood_id = %id))]
pub async fn delete_neighborhood(state: &AppState, id: Uuid) -> Result<Deletion, ProvisionError> {
    let neighborhood = state
        .store
        .get_neighborhood(id)
        .await?
        .ok_or(ProvisionError::NotFound)?;
    if neighborhood.state != NeighborhoodState::Archived {
        return Err(ProvisionError::NotArchived);
    }
    let account = twilio(state)?;
    for shard in &neighborhood.shards {
        match account
            .client
            .delete_conversation(&shard.conversation_sid)
            .await
        {
            Ok(()) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(error.into()),
        }
    }
    // The spreadsheet hub's Google access goes with it, revoked rather than left granted.
    if let (Some(google), Some(connection)) = (
        state.google.as_deref(),
        state.store.sheet_hub(id).await?.connection,
    ) {
        google
            .revoke_sealed(&connection.refresh_token, id.as_bytes())
            .await;
        state.store.unlist_sheet_hub(id).await?;
    }
    let taken_over = state
        .store
        .number_claimed_by(&neighborhood.phone_number)
        .await?
        .is_some_and(|owner| owner != id);
    let released_number = if taken_over {
        false
    } else {
        match account
            .client
            .release_number(&neighborhood.phone_number_sid)
            .await
        {
            Ok(()) => true,
            Err(error) if error.is_not_found() => false,
            Err(error) => return Err(error.into()),
        }
    };
    for mut token in state.store.api_tokens().await? {
        let scoped_here = matches!(token.scope, TokenScope::Neighborhood { neighborhood_id, .. } if neighborhood_id == id);
        if scoped_here && token.revoked_at.is_none() {
            token.revoked_at = Some(time::OffsetDateTime::now_utc());
            state.store.save_api_token(&token).await?;
        }
    }
    let phones: Vec<Phone> = state
        .store
        .members(id)
        .await?
        .into_iter()
        .map(|member| member.phone)
        .collect();
    let keys = state
        .store
        .erase_neighborhood(&neighborhood, &phones)
        .await?;
    tracing::info!(keys, released_number, "neighborhood deleted");
    Ok(Deletion {
        keys,
        released_number,
    })
}
