//! `GET /api/v1/neighborhoods/{id}/costs`: what the neighborhood's texting cost, month by month,
//! priced from the configured price table (`NT_PRICES`), with the budget and any announcements
//! it holds. Money is a decimal string of US dollars, exact (never a float).

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiTags;
use super::error::ApiError;
use super::error::statuses::{Invalid, NotFound, SignedIn};
use super::security::Auth;
use crate::auth::policy;
use crate::domain::costs::{CostItem, PriceTable, over_budget, projection};
use crate::services::costs::{self, MonthCost};
use crate::services::provisioning::ProvisionError;
use crate::state::AppState;

pub struct CostsApi;

/// One priced line of a month.
#[derive(Debug, Object)]
pub struct CostLineOut {
    /// What it is for.
    pub item: CostItem,
    /// How many: number months, segments, or active users charged.
    pub quantity: u64,
    /// Price of one, in US dollars.
    pub unit_price: String,
    /// `quantity` × `unit_price`, in US dollars.
    pub amount: String,
}

/// One UTC month of the ledger.
#[derive(Debug, Object)]
pub struct MonthCostOut {
    /// `YYYY-MM`, UTC.
    pub month: String,
    /// 1 when the neighborhood held its number during the month (charged a full month).
    pub number_months: u64,
    /// Outbound SMS segments, summed over every recipient.
    pub sms_segments_out: u64,
    /// Outbound texts: one per recipient of a group message or announcement, one per 1:1 text.
    pub sms_recipients: u64,
    /// Inbound SMS segments.
    pub sms_segments_in: u64,
    /// Inbound texts.
    pub sms_messages_in: u64,
    /// Outbound MMS (messages with pictures), one per SMS recipient.
    pub mms_out: u64,
    /// Inbound MMS.
    pub mms_in: u64,
    /// Members who sent or received a group message (Conversations active users).
    pub active_users: u64,
    /// WhatsApp messages out: group copies, 1:1 texts and templates, one per recipient.
    pub whatsapp_messages_out: u64,
    /// WhatsApp messages in.
    pub whatsapp_messages_in: u64,
    /// WhatsApp templates sent to members outside the 24-hour window.
    pub whatsapp_templates: u64,
    /// The month priced, line by line.
    pub lines: Vec<CostLineOut>,
    /// Sum of the lines, in US dollars.
    pub total: String,
}

/// The prices in use.
#[derive(Debug, Object)]
pub struct PricesOut {
    /// A phone number, per month.
    pub number_month: String,
    /// One outbound SMS segment.
    pub sms_segment_out: String,
    /// One inbound SMS segment.
    pub sms_segment_in: String,
    /// One outbound MMS.
    pub mms_out: String,
    /// One inbound MMS.
    pub mms_in: String,
    /// One Conversations active user, per month.
    pub active_user: String,
    /// Twilio's fee for one WhatsApp message, in or out.
    pub whatsapp_message: String,
    /// Meta's fee for one template outside the 24-hour window.
    pub whatsapp_template: String,
    /// Active users a month not charged.
    pub free_active_users: u64,
    /// When the prices were read (`YYYY-MM-DD`), or where they come from.
    pub as_of: String,
}

/// An announcement waiting for the budget.
#[derive(Debug, Object)]
pub struct HeldAnnouncementOut {
    /// The id it will have in the history.
    pub message_sid: String,
    /// Who it is signed by.
    pub sender_name: String,
    /// The text.
    pub body: String,
    /// When it was held (RFC 3339).
    pub held_at: String,
}

/// The neighborhood's costs.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CostsOut {
    /// Always `USD`.
    pub currency: String,
    /// This month so far, in US dollars.
    pub this_month_total: String,
    /// Where this month is headed at the pace so far: number rental and active users as they
    /// are, texts scaled to the whole month (at least one day counts as elapsed).
    pub projected_month_total: String,
    /// The monthly cap in US dollars; absent when there is none.
    pub monthly_budget: Option<String>,
    /// This month's cost as a whole percent of the cap.
    pub budget_used_percent: Option<u64>,
    /// True when this month's cost is at or over the cap: announcements are held (the group
    /// chat goes on).
    pub announcements_held: bool,
    /// Announcements waiting for the cap to be raised or the month to end, oldest first; they
    /// go out by themselves, once each.
    pub held_announcements: Vec<HeldAnnouncementOut>,
    /// This month and up to 11 before it, newest first (none before the neighborhood existed).
    pub months: Vec<MonthCostOut>,
    /// The price table the months are priced with.
    pub prices: PricesOut,
}

#[derive(ApiResponse)]
enum CostsResponse {
    /// The ledger.
    #[oai(status = 200)]
    Ok(Json<CostsOut>),
}

#[OpenApi(prefix_path = "/api/v1/neighborhoods", tag = "ApiTags::Costs")]
impl CostsApi {
    /// Cost ledger
    ///
    /// What the neighborhood's texting cost, per UTC month, counted as it happened: number
    /// rental, outbound segments times recipients, inbound segments, Conversations active
    /// users, each priced from the configured price table. With the running total and a
    /// projection for this month, the budget, and announcements it holds. Captains and above.
    #[oai(
        path = "/:id/costs",
        method = "get",
        operation_id = "neighborhood_costs"
    )]
    async fn costs(
        &self,
        auth: Auth,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> Result<CostsResponse, ApiError<(SignedIn, Invalid, NotFound)>> {
        policy::authorize(&state, auth.principal(), "neighborhood_costs", Some(id.0)).await?;
        let neighborhood = state
            .store
            .get_neighborhood(id.0)
            .await?
            .ok_or(ProvisionError::NotFound)?;
        let months = costs::months(&state, &neighborhood).await?;
        let held = state.store.held_announcements(id.0).await?;
        let current = months
            .first()
            .ok_or_else(|| ApiError::internal_message("the ledger has no current month"))?;
        let total = current.bill.total;
        let budget = neighborhood.monthly_budget;
        Ok(CostsResponse::Ok(Json(CostsOut {
            currency: "USD".to_owned(),
            this_month_total: total.to_string(),
            projected_month_total: projection(
                &current.bill,
                current.month,
                OffsetDateTime::now_utc(),
            )
            .to_string(),
            monthly_budget: budget.map(|budget| budget.to_string()),
            budget_used_percent: budget.and_then(|budget| total.percent_of(budget)),
            announcements_held: over_budget(total, budget),
            held_announcements: held
                .into_iter()
                .map(|(_, held)| HeldAnnouncementOut {
                    message_sid: held.message_sid,
                    sender_name: held.sender_name,
                    body: held.body,
                    held_at: held.held_at,
                })
                .collect(),
            months: months.iter().map(month_out).collect(),
            prices: prices_out(&state.settings.prices),
        })))
    }
}

fn month_out(month: &MonthCost) -> MonthCostOut {
    MonthCostOut {
        month: month.month.key(),
        number_months: month.usage.number_months,
        sms_segments_out: month.usage.segments_out,
        sms_recipients: month.usage.messages_out,
        sms_segments_in: month.usage.segments_in,
        sms_messages_in: month.usage.messages_in,
        mms_out: month.usage.mms_out,
        mms_in: month.usage.mms_in,
        active_users: month.usage.active_users,
        whatsapp_messages_out: month.usage.whatsapp_out,
        whatsapp_messages_in: month.usage.whatsapp_in,
        whatsapp_templates: month.usage.whatsapp_templates,
        lines: month
            .bill
            .lines
            .iter()
            .map(|line| CostLineOut {
                item: line.item,
                quantity: line.quantity,
                unit_price: line.unit_price.to_string(),
                amount: line.amount.to_string(),
            })
            .collect(),
        total: month.bill.total.to_string(),
    }
}

fn prices_out(prices: &PriceTable) -> PricesOut {
    PricesOut {
        number_month: prices.number_month.to_string(),
        sms_segment_out: prices.sms_segment_out.to_string(),
        sms_segment_in: prices.sms_segment_in.to_string(),
        mms_out: prices.mms_out.to_string(),
        mms_in: prices.mms_in.to_string(),
        active_user: prices.active_user.to_string(),
        whatsapp_message: prices.whatsapp_message.to_string(),
        whatsapp_template: prices.whatsapp_template.to_string(),
        free_active_users: prices.free_active_users,
        as_of: prices.as_of.clone(),
    }
}
