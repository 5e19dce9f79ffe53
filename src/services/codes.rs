//! Codes that prove a phone, for signing in and for joining: six digits by SMS, valid 10
//! minutes, 5 attempts, single use, stored as an HMAC.

use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::RngExt;
use sha2::Sha256;

use crate::domain::channel::Channel;
use crate::domain::neighborhood::Neighborhood;
use crate::domain::phone::Phone;
use crate::i18n::Language;
use crate::state::AppState;
use crate::twilio::types::{SendSms, SendTemplate, SmsSender};

pub const CODE_TTL: Duration = Duration::from_secs(10 * 60);
pub const CODE_ATTEMPTS: u32 = 5;

/// A fresh six-digit code (leading zeros kept).
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// HMAC-SHA256 of the code under the session key, bound to the phone: a dump of Redis does not
/// reveal codes, and a code for one phone is worthless for another.
pub fn hash(key: &str, phone: &Phone, code: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(phone.as_str().as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether `phone` may sign in: a platform admin, or a moderator or above somewhere. Also
/// returns the neighborhood number to text the code from, when there is one.
pub async fn sign_in_route(
    state: &AppState,
    phone: &Phone,
) -> Result<Option<Option<Phone>>, crate::store::StoreError> {
    for (neighborhood_id, role) in state.store.roles_of(phone).await? {
        if role.can_sign_in()
            && let Some(neighborhood) = state.store.get_neighborhood(neighborhood_id).await?
            && neighborhood.state == crate::domain::neighborhood::NeighborhoodState::Active
        {
            return Ok(Some(Some(neighborhood.phone_number)));
        }
    }
    if state.store.platform_admin(phone).await?.is_some() {
        return Ok(Some(None));
    }
    Ok(None)
}

/// Texts a sign-in code. Runs in the background so the answer takes as long for unknown phones.
pub async fn send(state: AppState, phone: Phone, from: Option<Phone>, code: String) {
    let body = format!(
        "{code} is your neighborhood-text sign-in code. It expires in 10 minutes. Never share it."
    );
    deliver(&state, phone, from, body).await;
}

/// Tells a phone, once, that sign-in from new devices is locked after too many wrong codes.
pub async fn send_lock_warning(state: AppState, phone: Phone, from: Option<Phone>) {
    let body = "Someone entered too many wrong neighborhood-text sign-in codes for this phone. \
        New devices are locked out for now; yours still work. Never share a code."
        .to_owned();
    deliver(&state, phone, from, body).await;
}

/// Sends the code that confirms a join request's phone from the neighborhood: by SMS from its
/// number, or on WhatsApp from its sender as the approved authentication template (the neighbor
/// has never written to the sender, so only a template gets through).
pub async fn send_join_code(
    state: AppState,
    neighborhood: Neighborhood,
    channel: Channel,
    language: Language,
    phone: Phone,
    code: String,
) {
    match channel {
        Channel::Sms => {
            let body = crate::i18n::text(
                language,
                "join-code",
                &[
                    ("code", code.as_str().into()),
                    ("neighborhood", neighborhood.name.as_str().into()),
                ],
            );
            deliver(&state, phone, Some(neighborhood.phone_number), body).await;
        }
        Channel::Whatsapp => {
            deliver_on_whatsapp(&state, &neighborhood, &phone, language, code).await;
        }
    }
}

async fn deliver_on_whatsapp(
    state: &AppState,
    neighborhood: &Neighborhood,
    phone: &Phone,
    language: Language,
    code: String,
) {
    let Some(twilio) = &state.twilio else {
        tracing::error!("a code could not be sent: no Twilio account is configured");
        return;
    };
    let (Some(from), Some(template)) = (
        neighborhood.proxy_address(Channel::Whatsapp),
        &twilio.whatsapp_templates.code,
    ) else {
        tracing::warn!("a WhatsApp code could not be sent: no sender or no code template");
        return;
    };
    let request = SendTemplate {
        to: Channel::Whatsapp.address(phone),
        from,
        content_sid: template.sid(language).to_owned(),
        variables: vec![("1".to_owned(), code)],
    };
    if let Err(error) = twilio.client.send_template(&request).await {
        tracing::warn!(error = %error.redacted(), "code template failed");
        tracing::debug!(%error, "code template failed: Twilio's words");
        return;
    }
    let charge = crate::services::costs::Charge::whatsapp_template();
    if let Err(error) = crate::services::costs::record(state, neighborhood.id, None, charge).await {
        tracing::warn!(%error, "a code template was not counted in the cost ledger");
    }
}

/// Texts `body` to a phone that asked on the join form but gets no code (finding 14: a member,
/// a paused member or a blocked phone): the form answered it like anyone, the phone learns why.
pub async fn send_note_in_place_of_code(state: AppState, phone: Phone, from: Phone, body: String) {
    deliver(&state, phone, Some(from), body).await;
}

async fn deliver(state: &AppState, to: Phone, from: Option<Phone>, body: String) {
    let Some(twilio) = &state.twilio else {
        tracing::error!("a code could not be sent: no Twilio account is configured");
        return;
    };
    // The last guard: whatever asked for it, no code goes outside `NT_SMS_COUNTRIES`.
    if crate::services::sending::clear_country(state, &to).is_err() {
        return;
    }
    let sender = match &from {
        Some(number) => SmsSender::Number(number.clone().into()),
        None => SmsSender::MessagingService(twilio.messaging_service_sid.clone()),
    };
    let request = SendSms {
        to: to.as_str().to_owned(),
        from: sender,
        body,
    };
    // The code is never logged, and neither is the body that carries it.
    if let Err(error) = twilio.client.send_sms(&request).await {
        tracing::warn!(error = %error.redacted(), "code SMS failed");
        tracing::debug!(%error, "code SMS failed: Twilio's words");
        return;
    }
    // Sent from a neighborhood's number: that neighborhood pays for it. Codes sent from the
    // Messaging Service (platform admins) belong to no neighborhood's ledger.
    if let Some(number) = from {
        let charge = crate::services::costs::Charge::text_out(&request.body);
        let counted = match state.store.neighborhood_of_number(&number).await {
            Ok(Some(id)) => crate::services::costs::record(state, id, None, charge).await,
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        if let Err(error) = counted {
            tracing::warn!(%error, "a code text was not counted in the cost ledger");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_hashes_depend_on_phone_and_key() {
        let code = new_code();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        let ana = Phone::parse("+15550001001").unwrap();
        let ben = Phone::parse("+15550001002").unwrap();
        assert_eq!(hash("k", &ana, "123456"), hash("k", &ana, "123456"));
        assert_ne!(hash("k", &ana, "123456"), hash("k", &ben, "123456"));
        assert_ne!(hash("k", &ana, "123456"), hash("other", &ana, "123456"));
        assert!(!hash("k", &ana, "123456").contains("123456"));
    }
}
