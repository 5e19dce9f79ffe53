//! The words a text can be instead of a message for the group: Twilio's own opt-out, opt-in and
//! help keywords (which Twilio answers and enforces on a Messaging Service, and the sandbox
//! emulates from these same lists), and ours, in each shipped language: LEAVE and SALIR, JOIN and
//! UNIRME, HELP's Spanish AYUDA (Twilio answers only its own words), and ENGLISH or ESPAÑOL to
//! change the language of the texts a member gets.

use crate::i18n::Language;

/// Our own words, each in the language it is written in.
const LEAVE: [(&str, Language); 2] = [("LEAVE", Language::ENGLISH), ("SALIR", Language::SPANISH)];
const JOIN: [(&str, Language); 2] = [("JOIN", Language::ENGLISH), ("UNIRME", Language::SPANISH)];
/// Help words Twilio does not know (it answers HELP and INFO itself on SMS).
const OUR_HELP: [(&str, Language); 1] = [("AYUDA", Language::SPANISH)];
/// The words that switch a member's language, each naming its language in itself.
const LANGUAGES: [(&str, Language); 4] = [
    ("ENGLISH", Language::ENGLISH),
    ("ESPAÑOL", Language::SPANISH),
    ("ESPANOL", Language::SPANISH),
    ("SPANISH", Language::SPANISH),
];

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
    /// Twilio answers HELP itself on SMS; `twilio` says whether it was one of its words.
    Help { twilio: bool },
    /// `JOIN Name`: ask to join (the name may be missing).
    Join(Option<String>),
    /// `ESPAÑOL`, `ENGLISH`: texts to this member in that language from now on.
    Language(Language),
}

impl Keyword {
    /// Whole-message and case-insensitive, as carriers match them.
    pub fn parse(body: &str) -> Option<Self> {
        Self::read(body).map(|(keyword, _)| keyword)
    }

    /// The keyword, and the language it is written in where that is one of ours (Twilio's words
    /// tell nothing: STOP is STOP in every language).
    pub fn read(body: &str) -> Option<(Self, Option<Language>)> {
        let text = body.trim();
        let upper = text.to_uppercase();
        let among = |words: &[(&str, Language)]| {
            words
                .iter()
                .find(|(word, _)| *word == upper)
                .map(|(_, language)| *language)
        };
        if let Some(language) = among(&LEAVE) {
            return Some((Self::Leave, Some(language)));
        }
        if let Some(language) = among(&LANGUAGES) {
            return Some((Self::Language(language), Some(language)));
        }
        if let Some(language) = among(&OUR_HELP) {
            return Some((Self::Help { twilio: false }, Some(language)));
        }
        match TwilioKeyword::parse(text) {
            Some(TwilioKeyword::OptOut) => return Some((Self::Stop, None)),
            Some(TwilioKeyword::OptIn) => return Some((Self::Start, None)),
            Some(TwilioKeyword::Help) => return Some((Self::Help { twilio: true }, None)),
            None => {}
        }
        let mut words = text.splitn(2, char::is_whitespace);
        let first = words.next().unwrap_or_default().to_uppercase();
        let language = JOIN
            .iter()
            .find(|(word, _)| *word == first)
            .map(|(_, language)| *language)?;
        let name = words
            .next()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        Some((Self::Join(name), Some(language)))
    }
}

/// `READ` (`LEER` in Spanish) on WhatsApp: the reply the new-messages template asks for,
/// answered privately with what the member missed (see `services::whatsapp_window`). Never a
/// keyword on SMS, where the group reaches everyone without it.
pub fn asks_to_read(body: &str) -> bool {
    let word = body.trim();
    ["READ", "LEER"]
        .iter()
        .any(|read| word.eq_ignore_ascii_case(read))
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
        assert_eq!(Keyword::parse("info"), Some(Keyword::Help { twilio: true }));
        assert_eq!(
            Keyword::parse("join Ana Ruiz"),
            Some(Keyword::Join(Some("Ana Ruiz".into())))
        );
        assert_eq!(Keyword::parse("JOIN"), Some(Keyword::Join(None)));
        assert_eq!(Keyword::parse("please stop the party"), None);
        assert_eq!(Keyword::parse("joining at 7"), None);
    }

    #[test]
    fn spanish_keywords_say_their_language_and_twilio_words_say_none() {
        use crate::i18n::Language;
        assert_eq!(
            Keyword::read("unirme Ana Ruiz"),
            Some((
                Keyword::Join(Some("Ana Ruiz".into())),
                Some(Language::SPANISH)
            ))
        );
        assert_eq!(
            Keyword::read(" Salir"),
            Some((Keyword::Leave, Some(Language::SPANISH)))
        );
        assert_eq!(
            Keyword::read("ayuda"),
            Some((Keyword::Help { twilio: false }, Some(Language::SPANISH)))
        );
        assert_eq!(
            Keyword::read("español"),
            Some((
                Keyword::Language(Language::SPANISH),
                Some(Language::SPANISH)
            ))
        );
        assert_eq!(
            Keyword::read("English"),
            Some((
                Keyword::Language(Language::ENGLISH),
                Some(Language::ENGLISH)
            ))
        );
        assert_eq!(
            Keyword::read("JOIN Bo"),
            Some((Keyword::Join(Some("Bo".into())), Some(Language::ENGLISH)))
        );
        assert_eq!(Keyword::read("STOP"), Some((Keyword::Stop, None)));
        assert_eq!(
            Keyword::read("unirme a la fiesta? no"),
            Some((
                Keyword::Join(Some("a la fiesta? no".into())),
                Some(Language::SPANISH)
            ))
        );
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
