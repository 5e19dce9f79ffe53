//! How often a captain is texted about new join requests, and the digest text itself. A captain
//! on a digest gets at most one text per interval, naming the requests still waiting, instead of
//! one text per request (the usability review counted 120 texts in 2 minutes).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::i18n::Language;

/// How a captain hears about new join requests.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum, Default,
)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum JoinRequestNotices {
    /// A text for each request, as it arrives.
    Each,
    /// At most one text every 15 minutes, naming the requests waiting (the default: a busy day
    /// of requests must not flood a captain's phone).
    #[default]
    #[serde(rename = "every_15_minutes")]
    #[oai(rename = "every_15_minutes")]
    Every15Minutes,
    /// At most one text an hour, naming the requests waiting.
    Hourly,
    /// No texts; the admin app and `#pending` still list the requests.
    Never,
}

impl JoinRequestNotices {
    /// The shortest time between two digests; None for `each` (no digest) and `never`.
    pub fn interval(self) -> Option<Duration> {
        match self {
            Self::Each | Self::Never => None,
            Self::Every15Minutes => Some(Duration::from_secs(15 * 60)),
            Self::Hourly => Some(Duration::from_secs(60 * 60)),
        }
    }
}

/// A request as a digest names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestItem {
    pub number: u64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// Names a digest lists before "and N more": the text stays within about two SMS segments.
const NAMED: usize = 5;

/// The text for `items` (requests still waiting, oldest first); None when there are none. One
/// request reads exactly like the per-request notice.
pub fn digest_text(items: &[DigestItem], language: Language) -> Option<String> {
    match items {
        [] => None,
        [one] => Some(single_notice(one, language)),
        many => {
            let names: Vec<String> = many
                .iter()
                .take(NAMED)
                .map(|item| format!("#{} {}", item.number, item.name))
                .collect();
            let more = many.len().saturating_sub(NAMED);
            let id = if more > 0 {
                "join-requests-and-more"
            } else {
                "join-requests"
            };
            Some(crate::i18n::text(
                language,
                id,
                &[
                    ("count", many.len().into()),
                    ("names", names.join(", ").into()),
                    ("more", more.into()),
                ],
            ))
        }
    }
}

/// The "new join request" text captains who want each request get.
pub fn single_notice(item: &DigestItem, language: Language) -> String {
    let mut args = vec![
        ("number", item.number.into()),
        ("name", item.name.as_str().into()),
    ];
    let id = match item.address.as_deref() {
        Some(address) => {
            args.push(("address", address.into()));
            "join-request-with-address"
        }
        None => "join-request",
    };
    crate::i18n::text(language, id, &args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(number: u64, name: &str) -> DigestItem {
        DigestItem {
            number,
            name: name.to_owned(),
            address: None,
        }
    }

    #[test]
    fn one_request_reads_like_the_per_request_notice() {
        let one = DigestItem {
            address: Some("12 Elm".into()),
            ..item(4, "Ana P.")
        };
        assert_eq!(
            digest_text(&[one], Language::ENGLISH).as_deref(),
            Some("New join request #4: Ana P., 12 Elm. Reply #approve 4 or #deny 4")
        );
    }

    #[test]
    fn many_requests_name_five_and_count_the_rest() {
        let items: Vec<_> = (1..=7).map(|n| item(n, &format!("N{n}"))).collect();
        let text = digest_text(&items, Language::ENGLISH).expect("a text");
        assert!(
            text.starts_with("7 new join requests: #1 N1, #2 N2, #3 N3, #4 N4, #5 N5 and 2 more."),
            "{text}"
        );
        assert!(text.contains("#pending"), "{text}");
    }

    #[test]
    fn nothing_waiting_is_no_text() {
        assert_eq!(digest_text(&[], Language::ENGLISH), None);
    }

    #[test]
    fn only_digests_have_an_interval() {
        assert_eq!(JoinRequestNotices::Each.interval(), None);
        assert_eq!(JoinRequestNotices::Never.interval(), None);
        assert_eq!(
            JoinRequestNotices::Hourly.interval(),
            Some(Duration::from_secs(3600))
        );
    }
}
