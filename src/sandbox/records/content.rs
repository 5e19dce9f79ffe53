//! Content templates, as WhatsApp needs them outside the 24-hour window: a message sent with
//! `ContentSid` and `ContentVariables` instead of `Body`. At Twilio a template is made with the
//! Content API and approved by Meta (hours to days); the sandbox account has four approved ones,
//! each in every shipped language: the texts the README asks operators to submit.

use serde_json::Value;

use crate::domain::content_template::ContentTemplate;
use crate::i18n::Language;

use super::{EmulatorResult, ErrorAnswer};

/// "There are new messages in {{1}}. Reply READ to read them."
pub const NOTICE_TEMPLATE_SID: &str = "HX5a4db0c05a4db0c05a4db0c05a4db0c1";
/// "{{1}}: {{2}} Reply READ to read the group."
pub const ANNOUNCEMENT_TEMPLATE_SID: &str = "HX5a4db0c05a4db0c05a4db0c05a4db0c2";

/// Meta's fixed authentication text (a `whatsapp/authentication` Content template): "{{1}} is
/// your verification code. For your security, do not share this code."
pub const CODE_TEMPLATE_SID: &str = "HX5a4db0c05a4db0c05a4db0c05a4db0c3";

/// "{{1}} invited you to {{2}}'s neighborhood group on WhatsApp. Join at {{3}} or reply JOIN and
/// your name."
pub const INVITE_TEMPLATE_SID: &str = "HX5a4db0c05a4db0c05a4db0c05a4db0c4";

/// Each approved template in every shipped language, in `i18n`'s order (English, Spanish): its
/// SID and text. Meta approves each language as a template of its own.
const TEMPLATES: [[(&str, &str); 2]; 4] = [
    [
        (
            NOTICE_TEMPLATE_SID,
            "There are new messages in {{1}}. Reply READ to read them.",
        ),
        (
            "HX5a4db0c05a4db0c05a4db0c05a4db0c5",
            "Hay mensajes nuevos en {{1}}. Responde LEER para leerlos.",
        ),
    ],
    [
        (
            ANNOUNCEMENT_TEMPLATE_SID,
            "{{1}}: {{2}} Reply READ to read the group.",
        ),
        (
            "HX5a4db0c05a4db0c05a4db0c05a4db0c6",
            "{{1}}: {{2}} Responde LEER para leer el grupo.",
        ),
    ],
    [
        (
            CODE_TEMPLATE_SID,
            "{{1}} is your verification code. For your security, do not share this code.",
        ),
        (
            "HX5a4db0c05a4db0c05a4db0c05a4db0c7",
            "Tu código de verificación es {{1}}. Por tu seguridad, no lo compartas.",
        ),
    ],
    [
        (
            INVITE_TEMPLATE_SID,
            "{{1}} invited you to {{2}}'s neighborhood group on WhatsApp. Join at {{3}} or reply JOIN and your name.",
        ),
        (
            "HX5a4db0c05a4db0c05a4db0c05a4db0c8",
            "{{1}} te invitó al grupo de vecinos de {{2}} en WhatsApp. Únete en {{3}} o responde UNIRME y tu nombre.",
        ),
    ],
];

/// The sandbox's approved template whose English copy is `sid`, with its other languages.
pub fn approved_template(sid: &str) -> ContentTemplate {
    let copies = TEMPLATES
        .iter()
        .find(|copies| copies[0].0 == sid)
        .map(|copies| copies.as_slice())
        .unwrap_or_default();
    copies.iter().zip(Language::all()).skip(1).fold(
        ContentTemplate::new(sid),
        |template, ((copy, _), language)| template.with(language, *copy),
    )
}

/// Twilio's errors for an unknown template and for variables that are not a JSON object of
/// strings.
const INVALID_CONTENT_SID: u32 = 21655;
const INVALID_CONTENT_VARIABLES: u32 = 21656;

/// The text a template sends with `variables` (`{"1": "Elm Street"}`); a variable left out keeps
/// its placeholder, as a template without sample values does.
pub(in crate::sandbox) fn render(sid: &str, variables: Option<&str>) -> EmulatorResult<String> {
    let Some((_, template)) = TEMPLATES.iter().flatten().find(|(known, _)| *known == sid) else {
        return Err(ErrorAnswer::new(400, INVALID_CONTENT_SID, "The ContentSid is Invalid").into());
    };
    let values: serde_json::Map<String, Value> = match variables {
        None => serde_json::Map::new(),
        Some(json) => match serde_json::from_str(json) {
            Ok(Value::Object(values)) => values,
            _ => {
                return Err(ErrorAnswer::new(
                    400,
                    INVALID_CONTENT_VARIABLES,
                    "The ContentVariables Parameter is invalid",
                )
                .into());
            }
        },
    };
    let mut text = (*template).to_owned();
    for (name, value) in &values {
        let Some(value) = value.as_str() else {
            return Err(ErrorAnswer::new(
                400,
                INVALID_CONTENT_VARIABLES,
                "The ContentVariables Parameter is invalid",
            )
            .into());
        };
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_fill_the_placeholders_and_bad_ones_are_refused() {
        let text = render(NOTICE_TEMPLATE_SID, Some(r#"{"1": "Elm Street"}"#)).unwrap();
        assert_eq!(
            text,
            "There are new messages in Elm Street. Reply READ to read them."
        );
        assert!(render(NOTICE_TEMPLATE_SID, Some("[1]")).is_err());
        assert!(render(NOTICE_TEMPLATE_SID, Some(r#"{"1": 2}"#)).is_err());
        assert!(render("HX00000000000000000000000000000000", None).is_err());
    }
}
