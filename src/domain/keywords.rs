//! The words a text can be instead of a message for the group: Twilio's own opt-out, opt-in and
//! help keywords (which Twilio answers and enforces on a Messaging Service, and the sandbox
//! emulates from these same lists), and ours, LEAVE and JOIN.

/// Twilio's default opt-out words on a Messaging Service.
const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "CANCEL",
    "REVOKE",
    "OPTOUT",
];
/// Its opt-in words.
const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];
/// Its help words.
const HELP: [&str; 2] = ["HELP", "INFO"];

/// A keyword Twilio acts on itself, before the service sees the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwilioKeyword {
    /// No more texts from the Messaging Service.
    OptOut,
    /// Texts again.
    OptIn,
    /// Twilio answers with its help text.
    Help,
}

impl TwilioKeyword {
    /// Whole-message and case-insensitive, as Twilio matches them.
    pub fn parse(body: &str) -> Option<Self> {
        let upper = body.trim().to_ascii_uppercase();
        let is = |words: &[&str]| words.contains(&upper.as_str());
        if is(&OPT_OUT) {
            Some(Self::OptOut)
        } else if is(&OPT_IN) {
            Some(Self::OptIn)
        } else if is(&HELP) {
            Some(Self::Help)
        } else {
            None
        }
    }
}

/// A text that is a keyword rather than a message for the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keyword {
    /// Leave this neighborhood only.
    Leave,
    /// Twilio's opt-out: no texts from any neighborhood of this deployment.
    Stop,
    /// Twilio's opt-in.
    Start,
    /// Twilio answers HELP itself.
    Help,
    /// `JOIN Name`: ask to join (the name may be missing).
    Join(Option<String>),
}

impl Keyword {
    /// Whole-message and case-insensitive, as carriers match them.
    pub fn parse(body: &str) -> Option<Self> {
        let text = body.trim();
        if text.eq_ignore_ascii_case("LEAVE") {
            return Some(Self::Leave);
        }
        match TwilioKeyword::parse(text) {
            Some(TwilioKeyword::OptOut) => return Some(Self::Stop),
            Some(TwilioKeyword::OptIn) => return Some(Self::Start),
            Some(TwilioKeyword::Help) => return Some(Self::Help),
            None => {}
        }
        let mut words = text.splitn(2, char::is_whitespace);
        if words
            .next()
            .is_some_and(|first| first.eq_ignore_ascii_case("JOIN"))
        {
            let name = words
                .next()
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned);
            return Some(Self::Join(name));
        }
        None
    }
}

/// `READ` on WhatsApp: the reply the new-messages template asks for, answered privately with
/// what the member missed (see `services::whatsapp_window`). Never a keyword on SMS, where the
/// group reaches everyone without it.
pub fn asks_to_read(body: &str) -> bool {
    body.trim().eq_ignore_ascii_case("READ")
}

#[cfg(test)]
mod tests {
    use super::{Keyword, TwilioKeyword};

    #[test]
    fn keywords_are_whole_message_and_case_insensitive() {
        assert_eq!(Keyword::parse(" leave "), Some(Keyword::Leave));
        assert_eq!(Keyword::parse("Stop"), Some(Keyword::Stop));
        assert_eq!(Keyword::parse("unsubscribe"), Some(Keyword::Stop));
        assert_eq!(Keyword::parse("yes"), Some(Keyword::Start));
        assert_eq!(Keyword::parse("info"), Some(Keyword::Help));
        assert_eq!(
            Keyword::parse("join Ana Ruiz"),
            Some(Keyword::Join(Some("Ana Ruiz".into())))
        );
        assert_eq!(Keyword::parse("JOIN"), Some(Keyword::Join(None)));
        assert_eq!(Keyword::parse("please stop the party"), None);
        assert_eq!(Keyword::parse("joining at 7"), None);
    }

    #[test]
    fn twilio_keywords_are_its_default_lists() {
        assert_eq!(
            TwilioKeyword::parse(" stopall"),
            Some(TwilioKeyword::OptOut)
        );
        assert_eq!(TwilioKeyword::parse("UNSTOP"), Some(TwilioKeyword::OptIn));
        assert_eq!(TwilioKeyword::parse("Info"), Some(TwilioKeyword::Help));
        assert_eq!(TwilioKeyword::parse("LEAVE"), None);
    }
}
