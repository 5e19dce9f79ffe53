//! Phone numbers in E.164, the identity of every neighbor.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// A phone number in E.164 form (`+15551234567`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Accepts what people type (`(415) 555-0123`, `+44 20 7946 0958`); numbers without a country
    /// code are read as US numbers, since that is where our Twilio numbers live.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let refused =
            || ParseError::said("input-phone-invalid", &[("phone", input.trim().to_owned())]);
        let number = phonenumber::parse(Some(phonenumber::country::Id::US), input.trim())
            .map_err(|_| refused())?;
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        // libphonenumber rejects the fictional 555 numbers used in examples and in the sandbox;
        // any structurally sound North American number is accepted so those work end to end.
        let national = e164.strip_prefix("+1").unwrap_or_default();
        let north_american = national.len() == 10
            && national.starts_with(['2', '3', '4', '5', '6', '7', '8', '9'])
            && national.bytes().all(|b| b.is_ascii_digit());
        if number.is_valid() || north_american {
            Ok(Self(e164))
        } else {
            Err(refused())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Loads libphonenumber's metadata, which compiles its regexes on first use (longer than the
/// rest of start-up), so that the first neighbor to type a number does not wait for it.
pub fn load_metadata() {
    let _ = Phone::parse("+12025550123");
}

/// Phones read back from Redis, and the addresses Twilio reports, are already canonical E.164:
/// checking that shape is enough. Anything else is parsed in full (which runs libphonenumber's
/// regexes, a quarter of the pre-event webhook's time when every member read did it).
impl TryFrom<String> for Phone {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if is_canonical_e164(&value) {
            Ok(Self(value))
        } else {
            Self::parse(&value)
        }
    }
}

/// `+` and 8 to 15 digits, the first not 0.
fn is_canonical_e164(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

impl From<Phone> for String {
    fn from(phone: Phone) -> Self {
        phone.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Phone;

    #[test]
    fn canonical_numbers_are_taken_as_they_are_and_others_are_parsed() {
        let stored = Phone::try_from("+15550001234".to_owned()).expect("canonical");
        assert_eq!(stored.as_str(), "+15550001234");
        let typed = Phone::try_from("(415) 555-0123".to_owned()).expect("parsed");
        assert_eq!(typed.as_str(), "+14155550123");
        assert!(Phone::try_from("+0123456789".to_owned()).is_err());
        assert!(Phone::try_from("call me".to_owned()).is_err());
    }

    #[test]
    fn common_spellings_become_e164() {
        assert_eq!(
            Phone::parse("(415) 555-0123").unwrap().as_str(),
            "+14155550123"
        );
        assert_eq!(
            Phone::parse(" +1 415 555 0123 ").unwrap().as_str(),
            "+14155550123"
        );
        assert_eq!(
            Phone::parse("+15551234567").unwrap().as_str(),
            "+15551234567"
        );
        assert_eq!(
            Phone::parse("+44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        for input in ["", "hello", "123", "+1 055 123 4567", "+999 1234"] {
            assert!(Phone::parse(input).is_err(), "{input} was accepted");
        }
    }
}
