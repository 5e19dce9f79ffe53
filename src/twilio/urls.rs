//! Base URLs: one per Twilio host, or path segments under a stand-in's `api_base`, and the
//! re-basing of next-page links onto them.

use url::Url;

use super::error::TwilioError;

/// The Twilio hosts we call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    Api,
    Conversations,
    Messaging,
    /// The Media Content Service, where Conversations keep pictures.
    Mcs,
}

/// Base URL of each host, always ending in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bases {
    api: Url,
    conversations: Url,
    messaging: Url,
    mcs: Url,
    /// Every host is a path under one stand-in (`NT_TWILIO_API_BASE`).
    stand_in: bool,
}

impl Bases {
    pub(crate) fn new(api_base: Option<&Url>) -> Result<Self, TwilioError> {
        match api_base {
            None => Ok(Self {
                api: parse_base("https://api.twilio.com/")?,
                conversations: parse_base("https://conversations.twilio.com/")?,
                messaging: parse_base("https://messaging.twilio.com/")?,
                mcs: parse_base("https://mcs.us1.twilio.com/")?,
                stand_in: false,
            }),
            Some(base) => Ok(Self {
                api: under(base, "api")?,
                conversations: under(base, "conversations")?,
                messaging: under(base, "messaging")?,
                mcs: under(base, "mcs")?,
                stand_in: true,
            }),
        }
    }

    /// A picture's temporary content address as given: Twilio's own host for it, or, behind a
    /// stand-in, the same path under the stand-in's MCS base (a stand-in names itself by the
    /// address the public reaches it at, which the service may not).
    pub(crate) fn content_address(&self, address: &str) -> Result<Url, TwilioError> {
        if self.stand_in {
            rebase_next_page(&self.mcs, address)
        } else {
            Url::parse(address).map_err(|error| TwilioError::Malformed {
                status: 200,
                detail: format!("bad content address: {error}"),
            })
        }
    }

    pub(crate) fn get(&self, host: Host) -> &Url {
        match host {
            Host::Api => &self.api,
            Host::Conversations => &self.conversations,
            Host::Messaging => &self.messaging,
            Host::Mcs => &self.mcs,
        }
    }
}

fn parse_base(text: &str) -> Result<Url, TwilioError> {
    Url::parse(text).map_err(|error| TwilioError::Config(format!("bad base URL: {error}")))
}

/// `{base}/{label}/`, whether or not `base` ends in a slash.
fn under(base: &Url, label: &str) -> Result<Url, TwilioError> {
    if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
        return Err(TwilioError::Config(
            "the Twilio API base must be an http(s) URL".to_owned(),
        ));
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| TwilioError::Config("the Twilio API base cannot hold a path".to_owned()))?
        .pop_if_empty()
        .push(label)
        .push("");
    Ok(url)
}

/// Resolves a next-page link against our configured base for that host, so credentials only
/// ever go to the configured host even when a stand-in echoes real Twilio URLs. Links under the
/// base are used as they are; otherwise the path (minus the base's own path, if it carries it)
/// and query are re-based. v2010 `next_page_uri` values are relative and take the same route.
pub(crate) fn rebase_next_page(base: &Url, next: &str) -> Result<Url, TwilioError> {
    let malformed = |detail: String| TwilioError::Malformed {
        status: 200,
        detail,
    };
    if next.starts_with(base.as_str()) {
        return Url::parse(next).map_err(|error| malformed(format!("bad next page URL: {error}")));
    }
    let (path, query) = match Url::parse(next) {
        Ok(absolute) => (
            absolute.path().to_owned(),
            absolute.query().map(str::to_owned),
        ),
        Err(url::ParseError::RelativeUrlWithoutBase) => match next.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (next.to_owned(), None),
        },
        Err(error) => return Err(malformed(format!("bad next page URL: {error}"))),
    };
    let relative = path
        .strip_prefix(base.path())
        .unwrap_or_else(|| path.trim_start_matches('/'));
    let mut url = Url::parse(&format!("{}{relative}", base.as_str()))
        .map_err(|error| malformed(format!("bad next page URL: {error}")))?;
    url.set_query(query.as_deref());
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("test URL parses")
    }

    #[test]
    fn without_an_api_base_each_host_is_the_real_twilio_host() {
        let bases = Bases::new(None).expect("bases");
        assert_eq!(bases.get(Host::Api).as_str(), "https://api.twilio.com/");
        assert_eq!(
            bases.get(Host::Conversations).as_str(),
            "https://conversations.twilio.com/"
        );
        assert_eq!(
            bases.get(Host::Messaging).as_str(),
            "https://messaging.twilio.com/"
        );
    }

    #[test]
    fn an_api_base_gets_one_path_segment_per_host_with_or_without_a_trailing_slash() {
        for base in ["http://127.0.0.1:4010", "http://127.0.0.1:4010/"] {
            let bases = Bases::new(Some(&url(base))).expect("bases");
            assert_eq!(bases.get(Host::Api).as_str(), "http://127.0.0.1:4010/api/");
            assert_eq!(
                bases.get(Host::Conversations).as_str(),
                "http://127.0.0.1:4010/conversations/"
            );
        }
        let nested = Bases::new(Some(&url("http://emulator/twilio"))).expect("bases");
        assert_eq!(
            nested.get(Host::Messaging).as_str(),
            "http://emulator/twilio/messaging/"
        );
    }

    #[test]
    fn an_api_base_that_is_not_http_is_refused() {
        assert!(matches!(
            Bases::new(Some(&url("mailto:someone@example.com"))),
            Err(TwilioError::Config(_))
        ));
    }

    #[test]
    fn a_next_page_under_our_base_is_followed_as_is() {
        let base = url("http://127.0.0.1:4010/conversations/");
        let next = "http://127.0.0.1:4010/conversations/v1/Conversations/CH1/Participants?PageSize=50&Page=1&PageToken=PT1";
        assert_eq!(
            rebase_next_page(&base, next).expect("rebased").as_str(),
            next
        );
    }

    #[test]
    fn a_real_twilio_next_page_url_is_rebased_onto_the_configured_base() {
        let base = url("http://127.0.0.1:4010/conversations/");
        let next = "https://conversations.twilio.com/v1/ParticipantConversations?Address=%2B15551234567&PageSize=50&Page=1&PageToken=PT1";
        assert_eq!(
            rebase_next_page(&base, next).expect("rebased").as_str(),
            "http://127.0.0.1:4010/conversations/v1/ParticipantConversations?Address=%2B15551234567&PageSize=50&Page=1&PageToken=PT1"
        );
    }

    #[test]
    fn a_stand_in_url_on_another_host_name_keeps_a_single_host_segment() {
        let base = url("http://127.0.0.1:4010/conversations/");
        let next = "http://localhost:4010/conversations/v1/Conversations?Page=1";
        assert_eq!(
            rebase_next_page(&base, next).expect("rebased").as_str(),
            "http://127.0.0.1:4010/conversations/v1/Conversations?Page=1"
        );
    }

    #[test]
    fn a_relative_v2010_next_page_uri_goes_under_the_api_base() {
        let base = url("https://api.twilio.com/");
        let next =
            "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?PageSize=50&Page=1&PageToken=PA1";
        assert_eq!(
            rebase_next_page(&base, next).expect("rebased").as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?PageSize=50&Page=1&PageToken=PA1"
        );
    }
}
