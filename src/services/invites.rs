//! Personal invites: a captain sends a phone its own join link, by SMS from the neighborhood's
//! number or on WhatsApp from its sender (as an approved template: the phone has never written
//! to the sender, so nothing else gets through). Members and repeats are skipped, and a
//! neighborhood sends at most its daily share.

use rand::RngExt;

use crate::domain::channel::Channel;
use crate::domain::member::MemberStatus;
use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::outbox::{Effect, WhatsappTemplate};
use crate::store::rate_limits::{self, RateDecision};

/// Why a phone was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    AlreadyMember,
    Duplicate,
    DailyLimit,
}

impl Skipped {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlreadyMember => "already_member",
            Self::Duplicate => "duplicate",
            Self::DailyLimit => "daily_limit",
        }
    }
}

/// What an invite round did: the phones invited, and the ones left out with why.
#[derive(Debug, Default)]
pub struct Sent {
    pub invited: Vec<Phone>,
    pub skipped: Vec<(Phone, Skipped)>,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// The neighborhood's daily invites were used up before the first one.
    #[error("the neighborhood's invites for today are used up")]
    Limited { retry_after_secs: u64 },
    /// Invites on WhatsApp need the neighborhood's sender and the account's invite template.
    #[error("this neighborhood cannot invite on WhatsApp")]
    NoWhatsapp,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether invites may go on WhatsApp: a sender, and the invite template to carry them.
pub fn whatsapp_invites(state: &AppState, neighborhood: &Neighborhood) -> bool {
    neighborhood.whatsapp_sender.is_some()
        && state
            .twilio
            .as_ref()
            .is_some_and(|twilio| twilio.whatsapp_templates.invite.is_some())
}

/// The public join page of `neighborhood`.
pub fn join_url(state: &AppState, neighborhood: &Neighborhood) -> String {
    state.public_url(&format!("join/{}", neighborhood.slug.as_str()))
}

/// "Olive invited you to Oak Hollow's neighborhood group text. Join at …": named after the
/// captain who sent it when they are a member, as a neighbor would say it.
fn invite_text(inviter: Option<&str>, neighborhood: &str, link: &str) -> String {
    let opening = match inviter {
        Some(name) => format!("{name} invited you to"),
        None => "You're invited to".to_owned(),
    };
    format!(
        "{opening} {neighborhood}'s neighborhood group text. Join at {link} or reply JOIN and your name."
    )
}

/// Sends each of `phones` a personal invite on `channel`, from `inviter` (their name in the
/// group, if they are in it).
pub async fn send(
    state: &AppState,
    neighborhood: &Neighborhood,
    inviter: Option<&str>,
    phones: Vec<Phone>,
    channel: Channel,
) -> Result<Sent, InviteError> {
    if channel == Channel::Whatsapp && !whatsapp_invites(state, neighborhood) {
        return Err(InviteError::NoWhatsapp);
    }
    let id = neighborhood.id;
    let page = join_url(state, neighborhood);
    let mut sent = Sent::default();
    let mut effects = Vec::new();
    for phone in phones {
        if sent.invited.contains(&phone) {
            sent.skipped.push((phone, Skipped::Duplicate));
            continue;
        }
        if state
            .store
            .member_by_phone(id, &phone)
            .await?
            .is_some_and(|m| m.status == MemberStatus::Active)
        {
            sent.skipped.push((phone, Skipped::AlreadyMember));
            continue;
        }
        if let RateDecision::Limited { retry_after } = state
            .store
            .hit_rate_limit(&rate_limits::INVITES_PER_NEIGHBORHOOD, &id.to_string())
            .await?
        {
            if sent.invited.is_empty() {
                return Err(InviteError::Limited {
                    retry_after_secs: rate_limits::retry_after_secs(retry_after),
                });
            }
            sent.skipped.push((phone, Skipped::DailyLimit));
            continue;
        }
        let code = format!("{:08x}", rand::rng().random::<u32>());
        state.store.store_invite(id, &code, &phone).await?;
        let link = format!("{page}?invite={code}");
        effects.push(invite(neighborhood, inviter, &phone, link, channel));
        sent.invited.push(phone);
    }
    state.store.enqueue_effects(id, &effects).await?;
    Ok(sent)
}

fn invite(
    neighborhood: &Neighborhood,
    inviter: Option<&str>,
    phone: &Phone,
    link: String,
    channel: Channel,
) -> Effect {
    match channel {
        Channel::Sms => Effect::SendSms {
            to: phone.as_str().to_owned(),
            body: invite_text(inviter, neighborhood.name.as_str(), &link),
        },
        Channel::Whatsapp => Effect::SendWhatsappTemplate {
            to: channel.address(phone),
            template: WhatsappTemplate::Invite {
                inviter: inviter.unwrap_or("A neighbor").to_owned(),
                link,
            },
            // Nobody knows the invitee's language yet: the neighborhood's default.
            language: None,
        },
    }
}

/// The line for flyers: what to text, and where on WhatsApp when the neighborhood has a sender.
pub fn flyer_text(neighborhood: &Neighborhood) -> String {
    match &neighborhood.whatsapp_sender {
        Some(sender) => format!(
            "Text JOIN and your name to {}, or send it on WhatsApp to {sender}",
            neighborhood.phone_number
        ),
        None => format!("Text JOIN and your name to {}", neighborhood.phone_number),
    }
}
