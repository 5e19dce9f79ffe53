//! What a neighborhood costs: money in exact micro-dollars, the price table, a month's usage
//! priced into lines, and the budget's thresholds. Pure: the counts come from `store::costs`.
//!
//! Rules, chosen and documented here once:
//! - A month is a UTC calendar month.
//! - Number rental: a month is charged one month of the number when the neighborhood was active
//!   at any moment of it (created before its end, not archived before its start). Twilio bills a
//!   number a full month at a time, so there is no pro-rating.
//! - Conversations active users: each member who sent or received a group message in the month,
//!   counted once. Twilio's free allowance (200 a month) is per account, shared by every
//!   neighborhood, so by default a neighborhood's ledger claims none of it
//!   (`free_active_users` = 0) and prices every active user at the marginal price.
//! - Months are priced with the price table in force when they are shown: the ledger keeps
//!   counts, not money, so a corrected price corrects every month.

use serde::{Deserialize, Serialize};
use time::{Date, Month as CalendarMonth, OffsetDateTime, Time};

use super::ParseError;

/// An amount of US dollars in whole micro-dollars: $0.0083 (one SMS segment) is 8,300. Never a
/// float, so sums are exact. Stored as the integer number of micro-dollars.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(u64);

impl Money {
    pub const ZERO: Self = Self(0);
    const PER_DOLLAR: u64 = 1_000_000;
    /// The largest amount accepted from people (a budget or a price): a million dollars.
    const MAX_DOLLARS: u64 = 1_000_000;

    pub const fn from_micros(micros: u64) -> Self {
        Self(micros)
    }

    pub const fn micros(self) -> u64 {
        self.0
    }

    /// Parses dollars as people write them: `25`, `25.5`, `$25.50`, `0.0083` (at most six
    /// decimals, no sign, at most a million).
    pub fn parse_dollars(input: &str) -> Result<Self, ParseError> {
        let invalid = || {
            ParseError::new(format!(
                "Give an amount in dollars such as 25 or 0.0083 (at most 6 decimals, at most {}), not `{input}`.",
                Self::MAX_DOLLARS
            ))
        };
        let text = input.trim();
        let text = text.strip_prefix('$').unwrap_or(text);
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 6 {
            return Err(invalid());
        }
        if text.ends_with('.') {
            return Err(invalid());
        }
        let whole: u64 = whole.parse().map_err(|_| invalid())?;
        if whole > Self::MAX_DOLLARS {
            return Err(invalid());
        }
        let fraction: u64 = format!("{fraction:0<6}").parse().map_err(|_| invalid())?;
        let money = Self(whole * Self::PER_DOLLAR + fraction);
        if money.0 > Self::MAX_DOLLARS * Self::PER_DOLLAR {
            return Err(invalid());
        }
        Ok(money)
    }

    /// `count` of something at this unit price.
    pub fn times(self, count: u64) -> Self {
        Self(self.0.saturating_mul(count))
    }

    pub fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    pub fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }

    /// Rounded to the cent, as people read it: `$1.62`.
    pub fn in_cents(self) -> String {
        let cents = self.0.saturating_add(5_000) / 10_000;
        format!("${}.{:02}", cents / 100, cents % 100)
    }

    /// Whole percent of `budget` this amount is (rounded down); None without a budget.
    pub fn percent_of(self, budget: Self) -> Option<u64> {
        (budget.0 > 0).then(|| (self.0 as u128 * 100 / budget.0 as u128) as u64)
    }
}

/// Dollars with at least two decimals and as many more as it takes to be exact:
/// `1.15`, `0.0083`, `12.345678`.
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fraction = format!("{:06}", self.0 % Self::PER_DOLLAR);
        let fraction = fraction.trim_end_matches('0');
        write!(f, "{}.{fraction:0<2}", self.0 / Self::PER_DOLLAR)
    }
}

/// Unit prices, in US dollars. Defaults: ../shared/TWILIO.md section 9 (US long code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTable {
    /// A local number, per month.
    pub number_month: Money,
    /// One outbound SMS segment (per recipient).
    pub sms_segment_out: Money,
    /// One inbound SMS segment.
    pub sms_segment_in: Money,
    /// One outbound MMS (a picture to one SMS recipient, with its words).
    pub mms_out: Money,
    /// One inbound MMS.
    pub mms_in: Money,
    /// One Conversations active user, per month.
    pub active_user: Money,
    /// Twilio's fee for one WhatsApp message, inbound or outbound.
    pub whatsapp_message: Money,
    /// Meta's fee for one utility template delivered outside the 24-hour window (US).
    pub whatsapp_template: Money,
    /// Active users a month not charged (see the module docs for why the default is 0).
    pub free_active_users: u64,
    /// When the prices were read (`YYYY-MM-DD`), or a note on where they come from.
    pub as_of: String,
}

/// When the default prices were read off Twilio's pricing pages (SMS and number, 2026-11-09;
/// Conversations transcribed 2026-09-20), as recorded in TWILIO.md section 9.
pub const DEFAULT_PRICES_AS_OF: &str = "2026-11-09";

impl Default for PriceTable {
    fn default() -> Self {
        Self {
            number_month: Money(1_150_000),
            sms_segment_out: Money(8_300),
            sms_segment_in: Money(8_300),
            // US long code MMS, per message, as TWILIO.md section 9 records it.
            mms_out: Money(22_000),
            mms_in: Money(16_500),
            active_user: Money(50_000),
            // $0.005 a message: twilio.com/whatsapp/pricing, read 2026-12-05.
            whatsapp_message: Money(5_000),
            // Meta's North America utility rate card of July 2025; Meta lowered North America
            // utility rates on 2026-01-01 and the new figure could not be read offline: set
            // NT_PRICES.whatsapp_template from Meta's current rate card.
            whatsapp_template: Money(4_000),
            free_active_users: 0,
            as_of: DEFAULT_PRICES_AS_OF.to_owned(),
        }
    }
}

/// `NT_PRICES`: any of the prices, as dollar strings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceOverrides {
    number_month: Option<String>,
    sms_segment_out: Option<String>,
    sms_segment_in: Option<String>,
    mms_out: Option<String>,
    mms_in: Option<String>,
    active_user: Option<String>,
    whatsapp_message: Option<String>,
    whatsapp_template: Option<String>,
    free_active_users: Option<u64>,
    as_of: Option<String>,
}

impl PriceTable {
    /// The defaults with the prices a JSON object gives replaced, e.g.
    /// `{"sms_segment_out": "0.0079", "as_of": "2027-01-05"}`.
    pub fn with_overrides(json: &str) -> Result<Self, ParseError> {
        let mut table = Self::default();
        if json.trim().is_empty() {
            return Ok(table);
        }
        let overrides: PriceOverrides = serde_json::from_str(json).map_err(|error| {
            ParseError::new(format!(
                "NT_PRICES must be a JSON object of number_month, sms_segment_out, sms_segment_in, mms_out, mms_in, active_user, whatsapp_message, whatsapp_template (dollar strings), free_active_users and as_of: {error}"
            ))
        })?;
        let price = |name: &str, value: Option<String>, current: Money| match value {
            Some(text) => Money::parse_dollars(&text)
                .map_err(|error| ParseError::new(format!("NT_PRICES.{name}: {}", error.message()))),
            None => Ok(current),
        };
        let changed = overrides.number_month.is_some()
            || overrides.sms_segment_out.is_some()
            || overrides.sms_segment_in.is_some()
            || overrides.mms_out.is_some()
            || overrides.mms_in.is_some()
            || overrides.active_user.is_some()
            || overrides.whatsapp_message.is_some()
            || overrides.whatsapp_template.is_some()
            || overrides.free_active_users.is_some();
        table.number_month = price("number_month", overrides.number_month, table.number_month)?;
        table.sms_segment_out = price(
            "sms_segment_out",
            overrides.sms_segment_out,
            table.sms_segment_out,
        )?;
        table.sms_segment_in = price(
            "sms_segment_in",
            overrides.sms_segment_in,
            table.sms_segment_in,
        )?;
        table.mms_out = price("mms_out", overrides.mms_out, table.mms_out)?;
        table.mms_in = price("mms_in", overrides.mms_in, table.mms_in)?;
        table.active_user = price("active_user", overrides.active_user, table.active_user)?;
        table.whatsapp_message = price(
            "whatsapp_message",
            overrides.whatsapp_message,
            table.whatsapp_message,
        )?;
        table.whatsapp_template = price(
            "whatsapp_template",
            overrides.whatsapp_template,
            table.whatsapp_template,
        )?;
        table.free_active_users = overrides
            .free_active_users
            .unwrap_or(table.free_active_users);
        table.as_of = match overrides.as_of {
            Some(as_of) => as_of,
            None if changed => "configured (NT_PRICES)".to_owned(),
            None => table.as_of,
        };
        Ok(table)
    }
}

/// A UTC calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: CalendarMonth,
}

impl Month {
    pub fn of(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(time::UtcOffset::UTC);
        Self {
            year: utc.year(),
            month: utc.month(),
        }
    }

    pub fn now() -> Self {
        Self::of(OffsetDateTime::now_utc())
    }

    /// `2026-11`: how the month appears in keys and in the API.
    pub fn key(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month as u8)
    }

    pub fn previous(&self) -> Self {
        match self.month {
            CalendarMonth::January => Self {
                year: self.year - 1,
                month: CalendarMonth::December,
            },
            month => Self {
                year: self.year,
                month: month.previous(),
            },
        }
    }

    /// The first instant of the month.
    pub fn start(&self) -> OffsetDateTime {
        Date::from_calendar_date(self.year, self.month, 1)
            .unwrap_or(Date::MIN)
            .with_time(Time::MIDNIGHT)
            .assume_utc()
    }

    /// The first instant of the next month.
    pub fn end(&self) -> OffsetDateTime {
        let next = match self.month {
            CalendarMonth::December => Self {
                year: self.year + 1,
                month: CalendarMonth::January,
            },
            month => Self {
                year: self.year,
                month: month.next(),
            },
        };
        next.start()
    }
}

/// Whether a month is charged a month of number rental: the neighborhood was active at some
/// moment of it (see the module docs).
pub fn holds_number(
    month: Month,
    created_at: OffsetDateTime,
    archived_at: Option<OffsetDateTime>,
) -> bool {
    created_at < month.end() && archived_at.is_none_or(|archived| archived >= month.start())
}

/// What happened in one month, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// 1 when the month is charged number rental.
    pub number_months: u64,
    /// Outbound segments, summed over every recipient of every text.
    pub segments_out: u64,
    /// Outbound texts: one per recipient of a group message, one per 1:1 text.
    pub messages_out: u64,
    /// Inbound segments.
    pub segments_in: u64,
    /// Inbound texts.
    pub messages_in: u64,
    /// Outbound MMS: one per SMS recipient of each message with a picture.
    pub mms_out: u64,
    /// Inbound MMS.
    pub mms_in: u64,
    /// Members who sent or received a group message.
    pub active_users: u64,
    /// WhatsApp messages out (group copies, 1:1 texts, templates) and in.
    pub whatsapp_out: u64,
    pub whatsapp_in: u64,
    /// WhatsApp templates sent outside the 24-hour window.
    pub whatsapp_templates: u64,
}

/// What a line of the bill is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub enum CostItem {
    /// The neighborhood's phone number, per month.
    NumberRental,
    /// Outbound SMS segments (group messages count once per recipient).
    SmsOutbound,
    /// Inbound SMS segments.
    SmsInbound,
    /// Outbound MMS (pictures; a group message counts once per SMS recipient).
    MmsOutbound,
    /// Inbound MMS.
    MmsInbound,
    /// Conversations active users beyond the free allowance.
    ActiveUsers,
    /// WhatsApp messages, in and out (Twilio's fee).
    WhatsappMessages,
    /// WhatsApp templates outside the 24-hour window (Meta's fee).
    WhatsappTemplates,
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub item: CostItem,
    pub quantity: u64,
    pub unit_price: Money,
    pub amount: Money,
}

/// A month's usage, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    pub lines: Vec<Line>,
    pub total: Money,
}

impl Bill {
    pub fn amount(&self, item: CostItem) -> Money {
        self.lines
            .iter()
            .find(|line| line.item == item)
            .map_or(Money::ZERO, |line| line.amount)
    }
}

/// Active users charged, after the free allowance.
pub fn charged_active_users(active_users: u64, prices: &PriceTable) -> u64 {
    active_users.saturating_sub(prices.free_active_users)
}

pub fn price(usage: &Usage, prices: &PriceTable) -> Bill {
    let line = |item, quantity, unit_price: Money| Line {
        item,
        quantity,
        unit_price,
        amount: unit_price.times(quantity),
    };
    let lines = vec![
        line(
            CostItem::NumberRental,
            usage.number_months,
            prices.number_month,
        ),
        line(
            CostItem::SmsOutbound,
            usage.segments_out,
            prices.sms_segment_out,
        ),
        line(
            CostItem::SmsInbound,
            usage.segments_in,
            prices.sms_segment_in,
        ),
        line(CostItem::MmsOutbound, usage.mms_out, prices.mms_out),
        line(CostItem::MmsInbound, usage.mms_in, prices.mms_in),
        line(
            CostItem::ActiveUsers,
            charged_active_users(usage.active_users, prices),
            prices.active_user,
        ),
        line(
            CostItem::WhatsappMessages,
            usage.whatsapp_out + usage.whatsapp_in,
            prices.whatsapp_message,
        ),
        line(
            CostItem::WhatsappTemplates,
            usage.whatsapp_templates,
            prices.whatsapp_template,
        ),
    ];
    let total = lines
        .iter()
        .fold(Money::ZERO, |sum, line| sum.saturating_add(line.amount));
    Bill { lines, total }
}

/// Where the month is headed if texting goes on at the pace so far: rental and active users as
/// they are (each is charged once a month), SMS scaled from the time elapsed to the whole month.
/// At least a day counts as elapsed, so the first hours' texts do not project wildly.
pub fn projection(bill: &Bill, month: Month, now: OffsetDateTime) -> Money {
    let whole = (month.end() - month.start()).whole_seconds().max(1) as u128;
    let elapsed = (now - month.start())
        .whole_seconds()
        .clamp(86_400, whole as i64) as u128;
    let sms = bill
        .amount(CostItem::SmsOutbound)
        .saturating_add(bill.amount(CostItem::SmsInbound));
    let scaled = Money::from_micros((sms.micros() as u128 * whole / elapsed) as u64);
    bill.total.saturating_sub(sms).saturating_add(scaled)
}

/// The budget thresholds captains are told about, once each per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Threshold {
    /// 80 % of the budget: a warning.
    Warning,
    /// 100 %: announcements are held from now on.
    Reached,
}

impl Threshold {
    pub const ALL: [Self; 2] = [Self::Warning, Self::Reached];

    pub fn percent(self) -> u64 {
        match self {
            Self::Warning => 80,
            Self::Reached => 100,
        }
    }

    /// The ledger field that records the alert was sent.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Warning => "alert_80",
            Self::Reached => "alert_100",
        }
    }

    pub fn is_reached(self, cost: Money, budget: Money) -> bool {
        cost.micros() as u128 * 100 >= budget.micros() as u128 * self.percent() as u128
    }
}

/// Whether announcements are held: the month's cost is at or over the budget.
pub fn over_budget(cost: Money, budget: Option<Money>) -> bool {
    budget.is_some_and(|budget| Threshold::Reached.is_reached(cost, budget))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn money_parses_and_prints_exact_dollars() {
        let parse = |text| Money::parse_dollars(text).map(|m| m.micros());
        assert_eq!(parse("25"), Ok(25_000_000));
        assert_eq!(parse("$25.5"), Ok(25_500_000));
        assert_eq!(parse(" 0.0083 "), Ok(8_300));
        assert_eq!(parse("1000000"), Ok(1_000_000_000_000));
        for bad in [
            "",
            "-1",
            "1.",
            ".5",
            "1.2345678",
            "1e3",
            "1,000",
            "abc",
            "1000001",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Money::from_micros(1_150_000).to_string(), "1.15");
        assert_eq!(Money::from_micros(8_300).to_string(), "0.0083");
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(Money::from_micros(12_345_678).to_string(), "12.345678");
        assert_eq!(Money::from_micros(2_000_000).to_string(), "2.00");
        assert_eq!(Money::from_micros(1_624_900).in_cents(), "$1.62");
        assert_eq!(Money::from_micros(1_625_000).in_cents(), "$1.63");
        assert_eq!(Money::from_micros(8_300).in_cents(), "$0.01");
        assert_eq!(Money::ZERO.in_cents(), "$0.00");
    }

    #[test]
    fn the_default_prices_come_from_the_twilio_notes_and_can_be_overridden() {
        let table = PriceTable::default();
        assert_eq!(table.number_month.to_string(), "1.15");
        assert_eq!(table.sms_segment_out.to_string(), "0.0083");
        assert_eq!(table.active_user.to_string(), "0.05");
        assert_eq!(PriceTable::with_overrides("").unwrap(), table);
        let changed = PriceTable::with_overrides(r#"{"sms_segment_out": "0.01"}"#).unwrap();
        assert_eq!(changed.sms_segment_out.micros(), 10_000);
        assert_eq!(changed.sms_segment_in, table.sms_segment_in);
        assert!(changed.as_of.starts_with("configured"));
        assert!(PriceTable::with_overrides(r#"{"sms": "0.01"}"#).is_err());
        assert!(PriceTable::with_overrides(r#"{"active_user": "-1"}"#).is_err());
    }

    #[test]
    fn a_month_is_priced_line_by_line_in_micro_dollars() {
        let usage = Usage {
            number_months: 1,
            segments_out: 200,
            messages_out: 150,
            segments_in: 40,
            messages_in: 30,
            active_users: 12,
            whatsapp_out: 60,
            whatsapp_in: 20,
            whatsapp_templates: 5,
            ..Usage::default()
        };
        let bill = price(&usage, &PriceTable::default());
        // 1.15 + 200 x 0.0083 + 40 x 0.0083 + 12 x 0.05 + 80 x 0.005 + 5 x 0.004
        // = 1.15 + 1.66 + 0.332 + 0.60 + 0.40 + 0.02
        assert_eq!(bill.amount(CostItem::SmsOutbound).to_string(), "1.66");
        assert_eq!(bill.amount(CostItem::SmsInbound).to_string(), "0.332");
        assert_eq!(bill.amount(CostItem::WhatsappMessages).to_string(), "0.40");
        assert_eq!(bill.amount(CostItem::WhatsappTemplates).to_string(), "0.02");
        assert_eq!(bill.total.to_string(), "4.162");
        let free = PriceTable {
            free_active_users: 10,
            ..PriceTable::default()
        };
        assert_eq!(
            price(&usage, &free)
                .amount(CostItem::ActiveUsers)
                .to_string(),
            "0.10"
        );
    }

    #[test]
    fn months_are_utc_calendar_months() {
        let month = Month::of(datetime!(2026-12-31 23:30 -02:00));
        assert_eq!(month.key(), "2027-01");
        assert_eq!(month.previous().key(), "2026-12");
        assert_eq!(
            Month::of(datetime!(2026-03-01 00:00 UTC)).previous().key(),
            "2026-02"
        );
        assert_eq!(month.end(), datetime!(2027-02-01 00:00 UTC));
    }

    #[test]
    fn a_month_is_charged_rental_when_the_neighborhood_was_active_in_it() {
        let created = datetime!(2026-10-31 23:59 UTC);
        let october = Month::of(created);
        let november = Month::of(datetime!(2026-11-15 00:00 UTC));
        assert!(holds_number(october, created, None));
        assert!(holds_number(november, created, None));
        assert!(!holds_number(october.previous(), created, None));
        let archived = Some(datetime!(2026-11-01 00:00 UTC));
        assert!(holds_number(november, created, archived));
        assert!(!holds_number(
            Month::of(datetime!(2026-12-01 00:00 UTC)),
            created,
            archived
        ));
    }

    #[test]
    fn thresholds_are_reached_at_80_and_100_percent() {
        let budget = Money::parse_dollars("10").unwrap();
        let cents = |c: u64| Money::from_micros(c * 10_000);
        assert!(!Threshold::Warning.is_reached(cents(799), budget));
        assert!(Threshold::Warning.is_reached(cents(800), budget));
        assert!(!Threshold::Reached.is_reached(cents(999), budget));
        assert!(Threshold::Reached.is_reached(cents(1000), budget));
        assert!(over_budget(cents(1000), Some(budget)));
        assert!(!over_budget(cents(1_000_000), None));
        assert_eq!(cents(850).percent_of(budget), Some(85));
    }

    #[test]
    fn the_projection_scales_texts_but_not_monthly_charges() {
        let usage = Usage {
            number_months: 1,
            segments_out: 100,
            active_users: 10,
            ..Usage::default()
        };
        let bill = price(&usage, &PriceTable::default());
        let month = Month::of(datetime!(2026-11-01 00:00 UTC));
        // Ten days of thirty: texts times three; rental and active users as they are.
        let projected = projection(&bill, month, datetime!(2026-11-11 00:00 UTC));
        assert_eq!(projected.to_string(), "4.14");
        // In the first hours a whole day counts as elapsed.
        let early = projection(&bill, month, datetime!(2026-11-01 01:00 UTC));
        assert_eq!(early.to_string(), "26.55");
    }
}
