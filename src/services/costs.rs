//! The cost ledger and the budget: what each neighborhood's texting costs, counted as it
//! happens, and what happens when it reaches the captains' monthly cap.
//!
//! What is counted, and where (each at the moment Twilio carried it):
//! - a group message: in the post-event webhook, once per recipient in the shard it was written
//!   in (everyone placed there but its author), and once per recipient of each relay into another
//!   shard when the relay is posted (`jobs::outbox`); announcements are relays too;
//! - our own 1:1 texts (welcomes, notices, replies, alerts, sign-in and join codes) when Twilio
//!   accepted them;
//! - every inbound text in the number's SMS webhook, which Twilio calls for every text to the
//!   number, members' included ("it will always fire regardless"), so each is counted exactly once
//!   there, with Twilio's own `NumSegments`;
//! - active users: every member who received a group message, and its author.
//!
//! Budget: at 80 % and at 100 % of the month's cap the captains get a text, each once a month
//! (an atomic flag in the month's ledger decides which instance sends it), and the audit log an
//! entry. From 100 % announcements are held, in order, and released (each exactly once) when a
//! captain raises or removes the cap, or when the month rolls over (`jobs::held`). The group chat
//! itself goes on: Twilio carries it, and stopping neighbors mid-conversation is not ours to do.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::audience::Audience;
use crate::domain::costs::{
    self, Bill, Money, Month, Threshold, Usage, charged_active_users, over_budget,
};
use crate::domain::integrator_event::IntegratorEvent;
use crate::domain::media::MediaItem;
use crate::domain::member::Member;
use crate::domain::neighborhood::{Neighborhood, NeighborhoodState};
use crate::domain::segments::{self, Encoding};
use crate::i18n::Language;
use crate::services::relay::Original;
use crate::services::texts;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::audit::{AuditEntry, rfc3339_now};
use crate::store::costs::{
    HeldAnnouncement, LedgerMonth, MESSAGES_IN, MESSAGES_OUT, MMS_IN, MMS_OUT, SEGMENTS_IN,
    SEGMENTS_OUT, UsageDelta, WHATSAPP_IN, WHATSAPP_OUT, WHATSAPP_TEMPLATES,
};
use crate::store::messages::HistoryEntry;
use crate::store::outbox::Effect;

/// How many months the ledger shows, this one included.
pub const MONTHS_SHOWN: usize = 12;

/// One billable event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Charge(UsageDelta);

impl Charge {
    /// A group message as Twilio delivers it, one copy to each of `sms` and of `whatsapp`
    /// recipients, who become active users of the month.
    pub fn group_copy(body: &str, sms: &[Uuid], whatsapp: &[Uuid]) -> Self {
        let (_, segments) = segments::count(body);
        let copies = sms.len() as u64;
        Self(UsageDelta {
            counters: vec![
                (SEGMENTS_OUT, u64::from(segments) * copies),
                (MESSAGES_OUT, copies),
                (WHATSAPP_OUT, whatsapp.len() as u64),
            ],
            active: sms.iter().chain(whatsapp).copied().collect(),
        })
    }

    /// A group message with pictures as Twilio delivers it: `messages` of them (one per picture
    /// in a relay, which posts them one by one; one in the shard it was written in) to each of
    /// `sms` recipients as MMS (priced per message, words included) and of `whatsapp` recipients.
    pub fn group_mms(messages: u64, sms: &[Uuid], whatsapp: &[Uuid]) -> Self {
        let copies = messages * sms.len() as u64;
        Self(UsageDelta {
            counters: vec![
                (MMS_OUT, copies),
                (MESSAGES_OUT, copies),
                (WHATSAPP_OUT, messages * whatsapp.len() as u64),
            ],
            active: sms.iter().chain(whatsapp).copied().collect(),
        })
    }

    /// A member's message with pictures, received from their phone.
    pub fn mms_in() -> Self {
        Self(UsageDelta {
            counters: vec![(MMS_IN, 1)],
            active: Vec::new(),
        })
    }

    /// This charge and `other`'s, as one.
    pub fn and(mut self, other: Self) -> Self {
        self.0.counters.extend(other.0.counters);
        self.0.active.extend(other.0.active);
        self
    }

    /// A 1:1 WhatsApp message from the neighborhood's sender (in the window: no Meta fee).
    pub fn whatsapp_out() -> Self {
        Self(UsageDelta {
            counters: vec![(WHATSAPP_OUT, 1)],
            active: Vec::new(),
        })
    }

    /// An approved template to a WhatsApp member outside their window: Twilio's and Meta's fee.
    pub fn whatsapp_template() -> Self {
        Self(UsageDelta {
            counters: vec![(WHATSAPP_OUT, 1), (WHATSAPP_TEMPLATES, 1)],
            active: Vec::new(),
        })
    }

    /// A WhatsApp message to the neighborhood's sender.
    pub fn whatsapp_in() -> Self {
        Self(UsageDelta {
            counters: vec![(WHATSAPP_IN, 1)],
            active: Vec::new(),
        })
    }

    /// A 1:1 text from the neighborhood's number (not a Conversations message: nobody becomes
    /// an active user).
    pub fn text_out(body: &str) -> Self {
        let (_, segments) = segments::count(body);
        Self(UsageDelta {
            counters: vec![(SEGMENTS_OUT, u64::from(segments)), (MESSAGES_OUT, 1)],
            active: Vec::new(),
        })
    }

    /// A text to the neighborhood's number, of `segments` segments.
    pub fn text_in(segments: u64) -> Self {
        Self(UsageDelta {
            counters: vec![(SEGMENTS_IN, segments.max(1)), (MESSAGES_IN, 1)],
            active: Vec::new(),
        })
    }

    /// Also counts `member` active (the author of a group message).
    pub fn with_active(mut self, member: Uuid) -> Self {
        self.0.active.push(member);
        self
    }
}

/// Counts `charge` in this month's ledger (once per `event`, when given), then tells the
/// captains if the month just crossed a budget threshold.
pub async fn record(
    state: &AppState,
    neighborhood_id: Uuid,
    event: Option<&str>,
    charge: Charge,
) -> Result<(), StoreError> {
    let month = Month::now();
    let Some(recorded) = state
        .store
        .record_usage(neighborhood_id, &month.key(), event, &charge.0)
        .await?
    else {
        return Ok(());
    };
    match recorded.neighborhood {
        Some(neighborhood) => check_budget(state, &neighborhood, month, &recorded.month).await,
        None => Ok(()),
    }
}

/// One month of a neighborhood: what happened and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthCost {
    pub month: Month,
    pub usage: Usage,
    pub bill: Bill,
}

/// When an archived neighborhood stopped holding its number: its last change (an archived
/// neighborhood refuses every other change).
fn archived_at(neighborhood: &Neighborhood) -> Option<OffsetDateTime> {
    (neighborhood.state == NeighborhoodState::Archived).then_some(neighborhood.updated_at)
}

fn usage(neighborhood: &Neighborhood, month: Month, ledger: &LedgerMonth) -> Usage {
    Usage {
        number_months: u64::from(costs::holds_number(
            month,
            neighborhood.created_at,
            archived_at(neighborhood),
        )),
        segments_out: ledger.counter(SEGMENTS_OUT),
        messages_out: ledger.counter(MESSAGES_OUT),
        segments_in: ledger.counter(SEGMENTS_IN),
        messages_in: ledger.counter(MESSAGES_IN),
        mms_out: ledger.counter(MMS_OUT),
        mms_in: ledger.counter(MMS_IN),
        active_users: ledger.active_users,
        whatsapp_out: ledger.counter(WHATSAPP_OUT),
        whatsapp_in: ledger.counter(WHATSAPP_IN),
        whatsapp_templates: ledger.counter(WHATSAPP_TEMPLATES),
    }
}

fn month_cost(
    state: &AppState,
    neighborhood: &Neighborhood,
    month: Month,
    ledger: &LedgerMonth,
) -> MonthCost {
    let usage = usage(neighborhood, month, ledger);
    MonthCost {
        month,
        bill: costs::price(&usage, &state.settings.prices),
        usage,
    }
}

/// The neighborhood's months, newest first: this one and up to `MONTHS_SHOWN - 1` before it,
/// none before the month it was created.
pub async fn months(
    state: &AppState,
    neighborhood: &Neighborhood,
) -> Result<Vec<MonthCost>, StoreError> {
    let first = Month::of(neighborhood.created_at);
    let mut shown = vec![Month::now()];
    while shown.len() < MONTHS_SHOWN {
        let previous = shown[shown.len() - 1].previous();
        if previous < first {
            break;
        }
        shown.push(previous);
    }
    let keys: Vec<String> = shown.iter().map(Month::key).collect();
    let ledgers = state.store.ledger_months(neighborhood.id, &keys).await?;
    Ok(shown
        .into_iter()
        .zip(&ledgers)
        .map(|(month, ledger)| month_cost(state, neighborhood, month, ledger))
        .collect())
}

/// This month so far, with its ledger's alert flags.
async fn this_month(
    state: &AppState,
    neighborhood: &Neighborhood,
) -> Result<(MonthCost, LedgerMonth), StoreError> {
    let month = Month::now();
    let ledger = state
        .store
        .ledger_months(neighborhood.id, &[month.key()])
        .await?
        .pop()
        .unwrap_or_default();
    Ok((month_cost(state, neighborhood, month, &ledger), ledger))
}

/// Sends the budget alerts the month has earned and not had yet.
async fn check_budget(
    state: &AppState,
    neighborhood: &Neighborhood,
    month: Month,
    ledger: &LedgerMonth,
) -> Result<(), StoreError> {
    let Some(budget) = neighborhood.monthly_budget else {
        return Ok(());
    };
    let cost = month_cost(state, neighborhood, month, ledger).bill.total;
    for threshold in Threshold::ALL {
        if threshold.is_reached(cost, budget) && !ledger.flags.contains(threshold.flag()) {
            alert(state, neighborhood, month, threshold, cost, budget).await?;
        }
    }
    Ok(())
}

/// Texts the captains that the month reached `threshold`, unless another call (on any
/// instance) already did this month.
async fn alert(
    state: &AppState,
    neighborhood: &Neighborhood,
    month: Month,
    threshold: Threshold,
    cost: Money,
    budget: Money,
) -> Result<(), StoreError> {
    let text = |language| alert_text(neighborhood, threshold, cost, budget, language);
    let alerts = texts::texts_to_captains(state, neighborhood, text, |_| true).await?;
    let captains_texted = alerts.len();
    let told = Effect::Publish {
        event: IntegratorEvent::budget_alert(
            neighborhood.id,
            &month.key(),
            threshold.percent(),
            &cost.to_string(),
            &budget.to_string(),
        ),
    };
    let effects: Vec<Effect> = alerts.into_iter().chain([told]).collect();
    if !state
        .store
        .claim_budget_alert(neighborhood.id, &month.key(), threshold.flag(), &effects)
        .await?
    {
        return Ok(());
    }
    tracing::info!(
        threshold = threshold.percent(),
        "budget alert sent to the captains"
    );
    let entry = AuditEntry::now(
        "system".to_owned(),
        "neighborhood.budget_alert",
        format!("neighborhood:{}", neighborhood.id),
        "cost ledger".to_owned(),
        serde_json::json!({
            "threshold_percent": threshold.percent(),
            "month": month.key(),
            "cost": cost.to_string(),
            "monthly_budget": budget.to_string(),
            "captains_texted": captains_texted,
        }),
    );
    state
        .store
        .record_audit(Some(neighborhood.id), &entry)
        .await;
    Ok(())
}

fn alert_text(
    neighborhood: &Neighborhood,
    threshold: Threshold,
    cost: Money,
    budget: Money,
    language: Language,
) -> String {
    let id = match threshold {
        Threshold::Warning => "budget-warning",
        Threshold::Reached => "budget-reached",
    };
    crate::i18n::text(
        language,
        id,
        &[
            ("neighborhood", neighborhood.name.as_str().into()),
            ("percent", threshold.percent().into()),
            ("budget", budget.in_cents().into()),
            ("cost", cost.in_cents().into()),
        ],
    )
}

/// What an announcement will cost before it goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub encoding: Encoding,
    /// With UCS-2: the first character outside GSM-7, which made it so.
    pub ucs2_character: Option<char>,
    /// Segments of the signed text.
    pub segments: u32,
    /// Members it reaches, in every shard (or texted 1:1, for a chosen audience).
    pub recipients: u64,
    /// Of those, members not yet counted active this month (each adds an active user charge).
    pub new_active_users: u64,
    pub sms: Money,
    /// WhatsApp recipients × Twilio's per-message fee.
    pub whatsapp: Money,
    pub active_users: Money,
    /// `sms` + `active_users`.
    pub cost: Money,
    /// This month's cost so far.
    pub month_cost: Money,
    /// True when the month is at or over the budget, so it would be held.
    pub held: bool,
    /// For a chosen audience, who it reaches in words ("14 people on Elm Ave").
    pub audience: Option<String>,
}

/// An announcement ready to go: its estimate and the effects that carry it (relays into every
/// Conversation, or one 1:1 text per member of a chosen audience).
#[derive(Debug, Clone)]
pub struct Announcement {
    pub estimate: Estimate,
    pub effects: Vec<Effect>,
}

/// The effects that carry a signed announcement, and the members they reach.
struct Delivery {
    effects: Vec<Effect>,
    reached: Vec<Uuid>,
    audience: Option<String>,
}

fn delivery(
    neighborhood: &Neighborhood,
    members: &[Member],
    signed: &str,
    message_sid: &str,
    audience: Option<&Audience>,
    media: Option<&MediaItem>,
) -> Delivery {
    match audience {
        None => {
            let original = Original {
                media: media.map(std::slice::from_ref).unwrap_or_default(),
                ..Original::text("system", signed, message_sid)
            };
            let effects = super::relay::relays(neighborhood, members, &original);
            let reached = effects
                .iter()
                .flat_map(|relay| match relay {
                    Effect::Relay {
                        recipients,
                        whatsapp_recipients,
                        ..
                    } => recipients
                        .iter()
                        .chain(whatsapp_recipients)
                        .copied()
                        .collect(),
                    _ => Vec::new(),
                })
                .collect();
            Delivery {
                effects,
                reached,
                audience: None,
            }
        }
        // 1:1 texts through the outbox, each sent once (see `jobs::outbox::send_sms`).
        Some(audience) => {
            let recipients = audience.recipients(members);
            Delivery {
                effects: recipients
                    .iter()
                    .map(|member| Effect::SendSms {
                        to: member.address(),
                        body: signed.to_owned(),
                    })
                    .collect(),
                reached: recipients.iter().map(|member| member.id).collect(),
                audience: Some(audience.describe(recipients.len(), members)),
            }
        }
    }
}

/// Prices a signed announcement (`message_sid` names it) to the whole group or to `audience`,
/// and builds the effects that carry it. A chosen audience is texted 1:1: SMS segments only,
/// nobody becomes a Conversations active user.
pub async fn plan_announcement(
    state: &AppState,
    neighborhood: &Neighborhood,
    signed: &str,
    message_sid: &str,
    audience: Option<&Audience>,
    media: Option<&MediaItem>,
) -> Result<Announcement, StoreError> {
    let members = state.store.members(neighborhood.id).await?;
    let Delivery {
        effects,
        reached,
        audience,
    } = delivery(neighborhood, &members, signed, message_sid, audience, media);
    let (current, _) = this_month(state, neighborhood).await?;
    let new_active_users = if audience.is_some() {
        0
    } else {
        state
            .store
            .not_yet_active(neighborhood.id, &current.month.key(), &reached)
            .await?
    };
    let prices = &state.settings.prices;
    let (encoding, segments) = segments::count(signed);
    let (on_whatsapp, on_sms) = super::relay::by_channel(&members, reached.clone());
    // With a picture, one MMS to each SMS phone in place of the segments.
    let sms = match media {
        Some(_) => prices.mms_out.times(on_sms.len() as u64),
        None => prices
            .sms_segment_out
            .times(u64::from(segments) * on_sms.len() as u64),
    };
    let whatsapp = prices.whatsapp_message.times(on_whatsapp.len() as u64);
    let active = current.usage.active_users;
    let active_users = prices.active_user.times(
        charged_active_users(active + new_active_users, prices)
            - charged_active_users(active, prices),
    );
    let estimate = Estimate {
        encoding,
        ucs2_character: segments::first_non_gsm(signed),
        segments,
        recipients: reached.len() as u64,
        new_active_users,
        sms,
        whatsapp,
        active_users,
        cost: sms.saturating_add(whatsapp).saturating_add(active_users),
        month_cost: current.bill.total,
        held: over_budget(current.bill.total, neighborhood.monthly_budget),
        audience,
    };
    Ok(Announcement { estimate, effects })
}

/// Holds an announcement until the budget allows it.
pub async fn hold(
    state: &AppState,
    neighborhood_id: Uuid,
    held: &HeldAnnouncement,
) -> Result<(), StoreError> {
    state.store.hold_announcement(neighborhood_id, held).await
}

/// Sends the held announcements, oldest first, if this month is under the budget (or there is
/// none); returns how many went out. Each goes out once: releasing takes it off the list in the
/// same step that queues it, so instances racing here split the work rather than repeat it.
pub async fn release_held(state: &AppState, neighborhood_id: Uuid) -> Result<usize, StoreError> {
    let held = state.store.held_announcements(neighborhood_id).await?;
    let neighborhood = state.store.get_neighborhood(neighborhood_id).await?;
    let Some(neighborhood) = neighborhood.filter(|_| !held.is_empty()) else {
        state.store.forget_held_if_empty(neighborhood_id).await?;
        return Ok(0);
    };
    if neighborhood.state == NeighborhoodState::Archived {
        return Ok(0);
    }
    let (current, _) = this_month(state, &neighborhood).await?;
    if over_budget(current.bill.total, neighborhood.monthly_budget) {
        return Ok(0);
    }
    let members = state.store.members(neighborhood_id).await?;
    let mut released = 0;
    for (raw, announcement) in held {
        let Delivery {
            effects: relays,
            audience,
            ..
        } = delivery(
            &neighborhood,
            &members,
            &announcement.signed,
            &announcement.message_sid,
            announcement.audience.as_ref(),
            announcement.media.as_ref(),
        );
        let entry = HistoryEntry {
            message_sid: announcement.message_sid.clone(),
            member_id: announcement.member_id,
            sender_name: announcement.sender_name.clone(),
            body: announcement.body.clone(),
            conversation_sid: String::new(),
            at: rfc3339_now(),
            audience,
            media: announcement.media.clone().into_iter().collect(),
        };
        if !state
            .store
            .release_announcement(
                neighborhood_id,
                &raw,
                &entry,
                &relays,
                state.settings.history_messages,
            )
            .await?
        {
            // Another instance is releasing them; it carries on from here.
            break;
        }
        released += 1;
        let audit = AuditEntry::now(
            "system".to_owned(),
            "message.release",
            format!("message:{}", announcement.message_sid),
            "cost ledger".to_owned(),
            match &entry.audience {
                None => {
                    serde_json::json!({"held_at": announcement.held_at, "shards": relays.len()})
                }
                Some(audience) => {
                    serde_json::json!({"held_at": announcement.held_at, "audience": audience})
                }
            },
        );
        state
            .store
            .record_audit(Some(neighborhood_id), &audit)
            .await;
    }
    state.store.forget_held_if_empty(neighborhood_id).await?;
    Ok(released)
}

/// After a captain changed the budget: alerts the new cap calls for, and held announcements
/// released if the month is now under it.
pub async fn budget_changed(
    state: &AppState,
    neighborhood: &Neighborhood,
) -> Result<(), StoreError> {
    let (current, ledger) = this_month(state, neighborhood).await?;
    check_budget(state, neighborhood, current.month, &ledger).await?;
    release_held(state, neighborhood.id).await?;
    Ok(())
}

/// Whether the neighborhood's month so far costs more than its budget (no budget: never).
/// Join codes stop then: each one is a text someone outside the group triggers.
pub async fn month_over_budget(
    state: &AppState,
    neighborhood: &Neighborhood,
) -> Result<bool, StoreError> {
    if neighborhood.monthly_budget.is_none() {
        return Ok(false);
    }
    let (current, _) = this_month(state, neighborhood).await?;
    Ok(over_budget(current.bill.total, neighborhood.monthly_budget))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_one_mms_per_message_and_sms_recipient_whatever_the_words() {
        let (ana, bo, cy) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let Charge(delta) = Charge::group_mms(3, &[ana, bo], &[cy]).and(Charge::mms_in());
        assert_eq!(
            delta.counters,
            vec![
                (MMS_OUT, 6),
                (MESSAGES_OUT, 6),
                (WHATSAPP_OUT, 3),
                (MMS_IN, 1)
            ]
        );
        assert_eq!(delta.active, vec![ana, bo, cy]);
        let bill = costs::price(
            &costs::Usage {
                mms_out: 6,
                mms_in: 1,
                ..costs::Usage::default()
            },
            &costs::PriceTable::default(),
        );
        assert_eq!(
            bill.amount(costs::CostItem::MmsOutbound).to_string(),
            "0.132"
        );
        assert_eq!(
            bill.amount(costs::CostItem::MmsInbound).to_string(),
            "0.0165"
        );
    }

    #[test]
    fn a_group_copy_charges_every_recipient_and_makes_them_active() {
        let (ana, bo) = (Uuid::now_v7(), Uuid::now_v7());
        let cy = Uuid::now_v7();
        let Charge(delta) = Charge::group_copy(&"a".repeat(161), &[ana, bo], &[cy]);
        assert_eq!(
            delta.counters,
            vec![(SEGMENTS_OUT, 4), (MESSAGES_OUT, 2), (WHATSAPP_OUT, 1)]
        );
        assert_eq!(delta.active, vec![ana, bo, cy]);
        let Charge(delta) = Charge::text_in(0);
        assert_eq!(delta.counters, vec![(SEGMENTS_IN, 1), (MESSAGES_IN, 1)]);
        let Charge(delta) = Charge::text_out("🙂").with_active(ana);
        assert_eq!(delta.counters, vec![(SEGMENTS_OUT, 1), (MESSAGES_OUT, 1)]);
        assert_eq!(delta.active, vec![ana]);
    }
}
