//! Times as member records store them (`#[serde(with = "stored_time")]`): a Unix timestamp in
//! whole seconds, or in nanoseconds when the time has a fraction of a second, so nothing is lost
//! either way. A number takes 10 bytes where an RFC 3339 string took about 32, and a member
//! record carries several. Records written before store RFC 3339 strings; those still read.
//!
//! Seconds and nanoseconds are told apart by size: any time after 1970-01-01T00:01:40Z in
//! nanoseconds is above 10^11, and any time before the year 5138 in seconds is below it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// Where seconds end and nanoseconds begin (see the module comment).
const NANOSECONDS_FROM: i128 = 100_000_000_000;

pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    if at.nanosecond() == 0 {
        at.unix_timestamp().serialize(serializer)
    } else {
        // i64 holds nanoseconds up to the year 2262.
        i64::try_from(at.unix_timestamp_nanos())
            .map_err(serde::ser::Error::custom)?
            .serialize(serializer)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Unix(i64),
        #[serde(with = "time::serde::rfc3339")]
        Rfc3339(OffsetDateTime),
    }
    match Stored::deserialize(deserializer)? {
        Stored::Rfc3339(at) => Ok(at),
        Stored::Unix(number) if i128::from(number).abs() < NANOSECONDS_FROM => {
            OffsetDateTime::from_unix_timestamp(number).map_err(serde::de::Error::custom)
        }
        Stored::Unix(nanos) => OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .map_err(serde::de::Error::custom),
    }
}

/// Now, to the second: what a new record stores as a 10-digit number.
pub fn now_to_the_second() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::macros::datetime;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct At(#[serde(with = "super")] time::OffsetDateTime);

    fn round_trip(at: time::OffsetDateTime) -> String {
        let json = serde_json::to_string(&At(at)).expect("encodes");
        assert_eq!(serde_json::from_str::<At>(&json).expect("decodes"), At(at));
        json
    }

    #[test]
    fn whole_seconds_store_as_seconds_and_fractions_as_nanoseconds_losslessly() {
        assert_eq!(round_trip(datetime!(2026-12-06 03:51:48 UTC)), "1796529108");
        assert_eq!(
            round_trip(datetime!(2026-12-06 03:51:48.214322156 UTC)),
            "1796529108214322156"
        );
    }

    #[test]
    fn an_rfc3339_string_of_an_older_record_still_reads() {
        let old: At = serde_json::from_str("\"2026-12-06T03:51:48.22423709Z\"").expect("decodes");
        assert_eq!(old.0, datetime!(2026-12-06 03:51:48.22423709 UTC));
    }
}
