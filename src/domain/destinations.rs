//! Where 1:1 texts may go (`NT_SMS_COUNTRIES`): an allow-list of countries, so nobody can use the
//! join form or a captain's account to pump texts to premium-rate numbers abroad (security
//! review, finding 2).

use std::fmt;

use super::phone::Phone;
use crate::i18n::{self, Language};

/// The ISO 3166 codes of the countries texts may go to, upper case (`US`, `CA`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsCountries(Vec<String>);

impl SmsCountries {
    /// Parses a comma-separated list of two-letter codes (`US,CA`); refuses unknown codes.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut codes = Vec::new();
        for code in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let code = code.to_ascii_uppercase();
            if code.parse::<phonenumber::country::Id>().is_err() {
                return Err(format!(
                    "NT_SMS_COUNTRIES must be two-letter country codes such as US,CA; `{code}` is not one."
                ));
            }
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        if codes.is_empty() {
            return Err("NT_SMS_COUNTRIES must name at least one country, such as US.".into());
        }
        Ok(Self(codes))
    }

    /// The countries for people in `language`: `the US or Canada`, else the codes (`GB, IE or FR`).
    pub fn names(&self, language: Language) -> String {
        let named: Vec<String> = self
            .0
            .iter()
            .map(|code| match code.as_str() {
                "US" => i18n::text(language, "api-country-us", &[]),
                "CA" => i18n::text(language, "api-country-ca", &[]),
                other => other.to_owned(),
            })
            .collect();
        match named.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => i18n::text(
                language,
                "api-countries-or",
                &[
                    ("first", rest.join(", ").into()),
                    ("last", last.as_str().into()),
                ],
            ),
            None => String::new(),
        }
    }

    /// Whether a text to `phone` may be sent.
    pub fn allows(&self, phone: &Phone) -> bool {
        country_of(phone).is_some_and(|country| self.0.contains(&country))
    }
}

impl fmt::Display for SmsCountries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// The country a phone number belongs to (`US`, `JM`, `GB`), as libphonenumber knows it. A
/// structurally sound +1 number libphonenumber does not know (the fictional 555 numbers used in
/// examples and the sandbox) counts as `US`, as `Phone::parse` reads it; the Caribbean and Canada
/// share +1 but have area codes libphonenumber knows.
pub fn country_of(phone: &Phone) -> Option<String> {
    let number = phonenumber::parse(None, phone.as_str()).ok()?;
    if let Some(id) = number.country().id() {
        return Some(format!("{id:?}"));
    }
    phone.as_str().starts_with("+1").then(|| "US".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(s: &str) -> Phone {
        Phone::parse(s).unwrap()
    }

    #[test]
    fn us_and_canada_pass_the_default_and_the_rest_of_the_world_does_not() {
        let list = SmsCountries::parse("us, CA").unwrap();
        assert_eq!(list.to_string(), "US,CA");
        assert!(list.allows(&phone("+14155550123")));
        assert!(list.allows(&phone("+15550001001")));
        assert!(list.allows(&phone("+16135550123")));
        assert!(!list.allows(&phone("+442079460958")));
        assert!(!list.allows(&phone("+18765550123")));
        assert!(SmsCountries::parse("XX").is_err());
        assert!(SmsCountries::parse("").is_err());
    }
}
