//! The last guard before a 1:1 text reaches Twilio (security review, findings 2 and 12): the
//! destination must be in an allowed country (`NT_SMS_COUNTRIES`), and the neighborhood and the
//! deployment must be under their daily caps (`NT_DAILY_TEXTS_PER_NEIGHBORHOOD`,
//! `NT_DAILY_TEXTS_PER_DEPLOYMENT`). A refused text is dropped, with a warning and a metric.
//!
//! When a cap first refuses a text on a UTC day (the breaker trips), the captains of the
//! neighborhood (or the platform admins, for the deployment's cap) get one text saying so, and
//! the audit log an entry. The text is sent past the cap: it goes to a handful of known phones,
//! once per scope and day (the flag is set atomically with the refusal, so two instances never
//! both send it), and without it nobody would learn why joining stopped until they looked.
//! Sign-in codes are not capped, only country-checked: they go only to phones holding a role, so
//! they cannot be pumped, and capping them would let strangers lock the captains out.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::member::{MemberStatus, Role};
use crate::domain::phone::Phone;
use crate::i18n::{self, Language};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::AuditEntry;
use crate::store::daily_texts::{DailyCount, Scope};
use crate::telemetry::metric_names;
use crate::twilio::types::{SendSms, SmsSender};

/// Why a text was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The phone is outside `NT_SMS_COUNTRIES`.
    Country,
    /// The neighborhood sent its daily 1:1 texts.
    NeighborhoodCap,
    /// The deployment sent its daily 1:1 texts.
    DeploymentCap,
}

impl Refusal {
    fn label(self) -> &'static str {
        match self {
            Self::Country => "country",
            Self::NeighborhoodCap => "neighborhood_cap",
            Self::DeploymentCap => "deployment_cap",
        }
    }
}

/// Today (UTC) as `YYYY-MM-DD`, the day caps count.
pub fn today() -> String {
    let date = OffsetDateTime::now_utc().date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Whether texts may go to `phone` at all (the country allow-list only).
pub fn country_allowed(state: &AppState, phone: &Phone) -> bool {
    state.settings.sms_countries.allows(phone)
}

/// The sentence a neighbor or captain reads when a phone is outside the allowed countries (the
/// README names the setting, `NT_SMS_COUNTRIES`; a neighbor cannot change it).
pub fn country_refusal(state: &AppState, language: Language) -> String {
    let countries = state.settings.sms_countries.names(language);
    i18n::text(
        language,
        "api-country-refused",
        &[("countries", countries.into())],
    )
}

/// Checks a country only, for texts that are not capped (sign-in codes): logs and counts a
/// refusal.
pub fn clear_country(state: &AppState, to: &Phone) -> Result<(), Refusal> {
    if country_allowed(state, to) {
        Ok(())
    } else {
        refused(Refusal::Country);
        Err(Refusal::Country)
    }
}

/// Clears one capped 1:1 text from `neighborhood_id`'s number to `to`, counting it against the
/// day's caps; tells whoever must know when a cap trips.
pub async fn clear(
    state: &AppState,
    neighborhood_id: Uuid,
    to: &Phone,
) -> Result<Result<(), Refusal>, StoreError> {
    if let Err(refusal) = clear_country(state, to) {
        return Ok(Err(refusal));
    }
    let date = today();
    let store = &state.store;
    let settings = &state.settings;
    let local = Scope::Neighborhood(neighborhood_id);
    match store
        .count_daily_text(local, &date, settings.daily_texts_per_neighborhood)
        .await?
    {
        DailyCount::Counted(_) => {}
        counted => {
            if counted == DailyCount::Tripped {
                tripped(state, Some(neighborhood_id)).await;
            }
            refused(Refusal::NeighborhoodCap);
            return Ok(Err(Refusal::NeighborhoodCap));
        }
    }
    // The deployment's counter has its own hash tag, so it cannot share the script: a text the
    // deployment refuses is taken back from the neighborhood's count.
    match store
        .count_daily_text(
            Scope::Deployment,
            &date,
            settings.daily_texts_per_deployment,
        )
        .await?
    {
        DailyCount::Counted(_) => Ok(Ok(())),
        counted => {
            store.uncount_daily_text(local, &date).await?;
            if counted == DailyCount::Tripped {
                tripped(state, None).await;
            }
            refused(Refusal::DeploymentCap);
            Ok(Err(Refusal::DeploymentCap))
        }
    }
}

fn refused(refusal: Refusal) {
    tracing::warn!(reason = refusal.label(), "a 1:1 text was not sent");
    metrics::counter!(metric_names::TEXTS_REFUSED, "reason" => refusal.label()).increment(1);
}

/// A cap tripped: one text to the captains (or platform admins), an audit entry, a metric.
async fn tripped(state: &AppState, neighborhood_id: Option<Uuid>) {
    let scope = if neighborhood_id.is_some() {
        "neighborhood"
    } else {
        "deployment"
    };
    metrics::counter!(metric_names::TEXT_CAP_TRIPS, "scope" => scope).increment(1);
    tracing::warn!(scope, "a daily cap on 1:1 texts was reached");
    let (cap, setting) = match neighborhood_id {
        Some(_) => (
            state.settings.daily_texts_per_neighborhood,
            "NT_DAILY_TEXTS_PER_NEIGHBORHOOD",
        ),
        None => (
            state.settings.daily_texts_per_deployment,
            "NT_DAILY_TEXTS_PER_DEPLOYMENT",
        ),
    };
    let entry = AuditEntry::now(
        "system".to_owned(),
        "texts.daily_cap_reached",
        scope.to_owned(),
        "system".to_owned(),
        serde_json::json!({ "cap": cap, "setting": setting, "day": today() }),
    );
    state.store.record_audit(neighborhood_id, &entry).await;
    if let Err(error) = tell(state, neighborhood_id, cap).await {
        tracing::warn!(%error, "the captains could not be told a daily cap was reached");
    }
}

async fn tell(state: &AppState, neighborhood_id: Option<Uuid>, cap: u64) -> Result<(), StoreError> {
    let Some(twilio) = &state.twilio else {
        return Ok(());
    };
    let (from, to, body) = match neighborhood_id {
        Some(id) => {
            let Some(neighborhood) = state.store.get_neighborhood(id).await? else {
                return Ok(());
            };
            let captains: Vec<String> = state
                .store
                .members(id)
                .await?
                .into_iter()
                .filter(|m| m.role >= Role::Captain && m.status == MemberStatus::Active)
                .map(|m| m.phone.as_str().to_owned())
                .collect();
            let body = format!(
                "{} sent its {cap} one-to-one texts for today (join codes, welcomes, invitations). No more go out until midnight UTC; group texts are not affected.",
                neighborhood.name.as_str()
            );
            (
                SmsSender::Number(neighborhood.phone_number.into()),
                captains,
                body,
            )
        }
        None => (
            SmsSender::MessagingService(twilio.messaging_service_sid.clone()),
            state.store.platform_admin_phones().await?,
            format!(
                "neighborhood-text sent its {cap} one-to-one texts for today across all neighborhoods. No more go out until midnight UTC."
            ),
        ),
    };
    for phone in to {
        if Phone::parse(&phone).is_ok_and(|p| country_allowed(state, &p)) {
            let request = SendSms {
                to: phone,
                from: from.clone(),
                body: body.clone(),
            };
            if let Err(error) = twilio.client.send_sms(&request).await {
                tracing::warn!(error = %error.redacted(), "a daily-cap notice failed");
            }
        }
    }
    Ok(())
}
