//! Quiet hours: a daily window, in the neighborhood's own time zone, when announcements wait.
//!
//! The window is wall-clock time (22:00 to 07:00 means that on every local day, whatever the
//! UTC offset that night), so every computation goes through the IANA time zone database
//! (`jiff`, with the database bundled into the binary so a container without tzdata computes the
//! same). A window may cross midnight. On a daylight-saving night the end is the local end time
//! as it really happens: a 07:00 end after "spring forward" comes one hour sooner in UTC.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ParseError;

/// A time of day, `HH:MM` (24-hour clock), as minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let refused = || {
            ParseError::new(format!(
                "Use a time like 22:00 (HH:MM, 24-hour), not `{input}`."
            ))
        };
        let (hours, minutes) = input.trim().split_once(':').ok_or_else(refused)?;
        if hours.len() != 2 || minutes.len() != 2 {
            return Err(refused());
        }
        let hours: u16 = hours.parse().map_err(|_| refused())?;
        let minutes: u16 = minutes.parse().map_err(|_| refused())?;
        if hours > 23 || minutes > 59 {
            return Err(refused());
        }
        Ok(Self(hours * 60 + minutes))
    }

    fn hour(self) -> i8 {
        (self.0 / 60) as i8
    }

    fn minute(self) -> i8 {
        (self.0 % 60) as i8
    }

    fn on(self, date: Date) -> DateTime {
        date.at(self.hour(), self.minute(), 0, 0)
    }
}

impl std::fmt::Display for ClockTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

/// An IANA time zone name that the bundled database knows, in its canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let name = input.trim();
        let refused = || {
            ParseError::new(format!(
                "`{name}` is not a time zone: use an IANA name like America/Los_Angeles."
            ))
        };
        let zone = TimeZone::get(name).map_err(|_| refused())?;
        if zone.is_unknown() {
            return Err(refused());
        }
        Ok(Self(zone.iana_name().unwrap_or(name).to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn zone(&self) -> TimeZone {
        // Parsed against the same bundled database, so the lookup cannot fail; UTC only guards
        // a stored name that a future database dropped.
        TimeZone::get(&self.0).unwrap_or(TimeZone::UTC)
    }
}

/// Quiet hours of a neighborhood: from `start` to `end` local time, every day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredQuietHours", into = "StoredQuietHours")]
pub struct QuietHours {
    pub start: ClockTime,
    pub end: ClockTime,
    pub time_zone: TimeZoneName,
}

/// How quiet hours are stored (and shown): plain strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredQuietHours {
    pub start: String,
    pub end: String,
    pub time_zone: String,
}

impl TryFrom<StoredQuietHours> for QuietHours {
    type Error = ParseError;

    fn try_from(stored: StoredQuietHours) -> Result<Self, Self::Error> {
        QuietHours::new(
            ClockTime::parse(&stored.start)?,
            ClockTime::parse(&stored.end)?,
            TimeZoneName::parse(&stored.time_zone)?,
        )
    }
}

impl From<QuietHours> for StoredQuietHours {
    fn from(quiet: QuietHours) -> Self {
        Self {
            start: quiet.start.to_string(),
            end: quiet.end.to_string(),
            time_zone: quiet.time_zone.0,
        }
    }
}

impl QuietHours {
    /// A window of at least one minute: equal start and end would mean "never" or "always".
    pub fn new(
        start: ClockTime,
        end: ClockTime,
        time_zone: TimeZoneName,
    ) -> Result<Self, ParseError> {
        if start == end {
            return Err(ParseError::new(
                "Quiet hours need different start and end times.",
            ));
        }
        Ok(Self {
            start,
            end,
            time_zone,
        })
    }

    /// Whether `at` falls inside quiet hours.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.ends_after(at).is_some()
    }

    /// When `at` falls inside quiet hours, the instant they end; None outside them.
    pub fn ends_after(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        let zone = self.time_zone.zone();
        let instant = Timestamp::from_nanosecond(at.unix_timestamp_nanos()).ok()?;
        let local: Zoned = instant.to_zoned(zone.clone());
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let (start, end) = (self.start.0, self.end.0);
        let end_date = if start < end {
            (start..end).contains(&minute).then(|| local.date())?
        } else if minute >= start {
            local.date().tomorrow().ok()?
        } else if minute < end {
            local.date()
        } else {
            return None;
        };
        let ambiguous = zone.to_ambiguous_timestamp(self.end.on(end_date));
        // An end inside a DST gap (02:30 on "spring forward") is taken as the moment the clock
        // shows it after the jump; inside a repeated hour ("fall back"), the first pass, unless
        // `at` is already in the second pass of that hour.
        let end = [ambiguous.compatible().ok(), ambiguous.later().ok()]
            .into_iter()
            .flatten()
            .find(|end| *end > instant)?;
        OffsetDateTime::from_unix_timestamp_nanos(end.as_nanosecond()).ok()
    }

    /// `at`, or the end of the quiet hours it falls in.
    pub fn next_allowed(&self, at: OffsetDateTime) -> OffsetDateTime {
        self.ends_after(at).unwrap_or(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn quiet(start: &str, end: &str, zone: &str) -> QuietHours {
        QuietHours::new(
            ClockTime::parse(start).unwrap(),
            ClockTime::parse(end).unwrap(),
            TimeZoneName::parse(zone).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn clock_times_are_hh_mm() {
        assert_eq!(ClockTime::parse("07:05").unwrap().to_string(), "07:05");
        assert_eq!(ClockTime::parse("23:59").unwrap().0, 23 * 60 + 59);
        for bad in ["7:00", "24:00", "12:60", "noon", "12-00", "", "12:5"] {
            assert!(ClockTime::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_must_be_known_iana_names() {
        assert_eq!(
            TimeZoneName::parse("america/los_angeles").unwrap().as_str(),
            "America/Los_Angeles"
        );
        assert!(TimeZoneName::parse("UTC").is_ok());
        for bad in ["Mars/Olympus_Mons", "", "Etc/Unknown", "PST8"] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn equal_start_and_end_are_refused() {
        let time = ClockTime::parse("22:00").unwrap();
        let zone = TimeZoneName::parse("UTC").unwrap();
        assert!(QuietHours::new(time, time, zone).is_err());
    }

    #[test]
    fn a_daytime_window_holds_only_inside_it() {
        let nap = quiet("13:00", "15:30", "Europe/Berlin");
        // Berlin is UTC+1 in January.
        assert!(!nap.contains(datetime!(2026-01-10 11:59 UTC)));
        assert_eq!(
            nap.ends_after(datetime!(2026-01-10 12:00 UTC)),
            Some(datetime!(2026-01-10 14:30 UTC))
        );
        assert!(nap.contains(datetime!(2026-01-10 14:29 UTC)));
        assert!(
            !nap.contains(datetime!(2026-01-10 14:30 UTC)),
            "the end is outside"
        );
        assert_eq!(
            nap.next_allowed(datetime!(2026-01-10 16:00 UTC)),
            datetime!(2026-01-10 16:00 UTC)
        );
    }

    #[test]
    fn a_window_crossing_midnight_ends_the_next_morning() {
        let night = quiet("22:00", "07:00", "America/New_York");
        // New York is UTC-5 in January: 22:00 local is 03:00 UTC the next day.
        assert!(!night.contains(datetime!(2026-01-10 02:59 UTC)));
        assert_eq!(
            night.ends_after(datetime!(2026-01-10 03:00 UTC)),
            Some(datetime!(2026-01-10 12:00 UTC)),
            "22:00 on the 9th ends at 07:00 on the 10th"
        );
        assert_eq!(
            night.ends_after(datetime!(2026-01-10 10:00 UTC)),
            Some(datetime!(2026-01-10 12:00 UTC)),
            "05:00 after midnight ends the same morning"
        );
        assert!(!night.contains(datetime!(2026-01-10 12:00 UTC)));
        assert!(!night.contains(datetime!(2026-01-10 20:00 UTC)));
    }

    #[test]
    fn the_spring_forward_night_is_an_hour_shorter() {
        // Los Angeles moves from UTC-8 to UTC-7 at 02:00 on 8 March 2026.
        let night = quiet("22:00", "07:00", "America/Los_Angeles");
        let at_2300_pst = datetime!(2026-03-08 07:00 UTC);
        assert_eq!(
            night.ends_after(at_2300_pst),
            Some(datetime!(2026-03-08 14:00 UTC)),
            "07:00 PDT, eight hours later, not nine"
        );
        // An end inside the skipped hour comes when the clock first shows it after the jump.
        let odd = quiet("23:00", "02:30", "America/Los_Angeles");
        assert_eq!(
            odd.ends_after(at_2300_pst),
            Some(datetime!(2026-03-08 10:30 UTC)),
            "03:30 PDT"
        );
    }

    #[test]
    fn the_fall_back_night_is_an_hour_longer() {
        // Los Angeles moves from UTC-7 to UTC-8 at 02:00 on 1 November 2026.
        let night = quiet("22:00", "07:00", "America/Los_Angeles");
        assert_eq!(
            night.ends_after(datetime!(2026-11-01 06:00 UTC)),
            Some(datetime!(2026-11-01 15:00 UTC)),
            "23:00 PDT to 07:00 PST is nine hours"
        );
        // 01:15 happens twice; both passes are inside a window ending 01:30, each ending at its own.
        let short = quiet("00:00", "01:30", "America/Los_Angeles");
        assert_eq!(
            short.ends_after(datetime!(2026-11-01 08:15 UTC)),
            Some(datetime!(2026-11-01 08:30 UTC)),
            "first pass (PDT)"
        );
        assert_eq!(
            short.ends_after(datetime!(2026-11-01 09:15 UTC)),
            Some(datetime!(2026-11-01 09:30 UTC)),
            "second pass (PST)"
        );
    }

    #[test]
    fn stored_quiet_hours_round_trip() {
        let night = quiet("22:00", "07:00", "America/Los_Angeles");
        let json = serde_json::to_string(&night).unwrap();
        assert_eq!(
            json,
            r#"{"start":"22:00","end":"07:00","time_zone":"America/Los_Angeles"}"#
        );
        assert_eq!(serde_json::from_str::<QuietHours>(&json).unwrap(), night);
    }
}
