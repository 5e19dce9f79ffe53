//! An approved WhatsApp Content template as the operator sets it: Meta approves each language of
//! a template as a template of its own, with its own SID, so a setting names one SID for every
//! language (`HX…`) or one per language after the default (`HX…,es=HX…`). A member gets their
//! language's copy, or the default's where none was approved.

use crate::i18n::Language;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTemplate {
    default: String,
    by_language: Vec<(Language, String)>,
}

impl ContentTemplate {
    /// One template for every language.
    pub fn new(sid: impl Into<String>) -> Self {
        Self {
            default: sid.into(),
            by_language: Vec::new(),
        }
    }

    /// This template with `language`'s own copy.
    pub fn with(mut self, language: Language, sid: impl Into<String>) -> Self {
        self.by_language.retain(|(known, _)| *known != language);
        self.by_language.push((language, sid.into()));
        self
    }

    /// Reads `HX…` or `HX…,es=HX…`, each SID checked by `valid_sid`; the error says what is wrong.
    pub fn parse(value: &str, valid_sid: impl Fn(&str) -> bool) -> Result<Self, String> {
        let mut entries = value.split(',').map(str::trim);
        let default = entries.next().unwrap_or_default();
        if default.contains('=') || !valid_sid(default) {
            return Err(format!(
                "`{default}` is not a template SID: start with the default template's SID (HX and 32 hexadecimal digits), then language=SID pairs such as es=HX…"
            ));
        }
        let mut template = Self::new(default);
        for entry in entries {
            let Some((code, sid)) = entry.split_once('=') else {
                return Err(format!(
                    "`{entry}` is not a language=SID pair such as es=HX…"
                ));
            };
            let Some(language) = Language::parse(code.trim()) else {
                return Err(format!(
                    "`{}` is not one of the shipped languages: {}.",
                    code.trim(),
                    Language::codes().join(", ")
                ));
            };
            if !valid_sid(sid.trim()) {
                return Err(format!("`{}` is not a template SID.", sid.trim()));
            }
            template = template.with(language, sid.trim());
        }
        Ok(template)
    }

    /// The SID of `language`'s copy, else the default's.
    pub fn sid(&self, language: Language) -> &str {
        self.by_language
            .iter()
            .find(|(known, _)| *known == language)
            .map_or(self.default.as_str(), |(_, sid)| sid.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EN: &str = "HX00000000000000000000000000000001";
    const ES: &str = "HX00000000000000000000000000000002";

    fn valid(sid: &str) -> bool {
        sid.len() == 34 && sid.starts_with("HX")
    }

    #[test]
    fn one_sid_serves_every_language_and_a_language_may_have_its_own() {
        let one = ContentTemplate::parse(EN, valid).unwrap();
        assert_eq!(one.sid(Language::SPANISH), EN);
        let two = ContentTemplate::parse(&format!("{EN}, es={ES}"), valid).unwrap();
        assert_eq!(two.sid(Language::ENGLISH), EN);
        assert_eq!(two.sid(Language::SPANISH), ES);
    }

    #[test]
    fn a_wrong_setting_says_what_is_wrong() {
        assert!(
            ContentTemplate::parse(&format!("es={ES}"), valid)
                .unwrap_err()
                .contains("start with the default")
        );
        assert!(
            ContentTemplate::parse(&format!("{EN},fr={ES}"), valid)
                .unwrap_err()
                .contains("`fr` is not one of the shipped languages")
        );
        assert!(ContentTemplate::parse(&format!("{EN},es"), valid).is_err());
        assert!(ContentTemplate::parse(&format!("{EN},es=HX1"), valid).is_err());
    }
}
