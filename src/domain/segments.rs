//! How many SMS segments a text costs, as Twilio bills them.
//!
//! GSM-7 fits 160 septets in a single segment, and 153 per part once a text is split (each part
//! carries a 6-byte header). One character outside GSM-7 makes the whole text UCS-2: 70 UTF-16
//! code units single, 67 per part, an emoji counting two. Characters are never cut in half at a
//! part boundary: a GSM extension character (escape + character, two septets) and a UTF-16
//! surrogate pair (an emoji) move whole into the next part, leaving the previous one a unit short.
//! That is what the SMS standard requires (a receiving phone cannot join half a character) and
//! what Twilio's own segment calculator counts, so a text can cost one more segment than its
//! length divided by 153 or 67. A multi-character emoji (a family joined by zero-width joiners)
//! may be split between its characters here; Twilio's calculator keeps whole grapheme clusters
//! together, so such texts can cost one segment more there, never less.

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

/// GSM 03.38 basic character set.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Extension table characters: each costs two septets (escape + character).
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

/// Septets (GSM-7) or code units (UCS-2) in one unsplit segment, and in each part of a split one.
const GSM_SINGLE: u32 = 160;
const GSM_PART: u32 = 153;
const UCS2_SINGLE: u32 = 70;
const UCS2_PART: u32 = 67;

/// The encoding a text is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Encoding {
    /// GSM 03.38, 7 bits a character: 160 characters single, 153 per part.
    Gsm7,
    /// UTF-16: 70 code units single, 67 per part.
    Ucs2,
}

/// Encoding and number of segments of `body` (an empty text still costs one).
pub fn count(body: &str) -> (Encoding, u32) {
    let gsm_widths: Option<Vec<u32>> = body.chars().map(gsm_septets).collect();
    match gsm_widths {
        Some(widths) => (Encoding::Gsm7, parts(&widths, GSM_SINGLE, GSM_PART)),
        None => {
            let widths: Vec<u32> = body.chars().map(|c| c.len_utf16() as u32).collect();
            (Encoding::Ucs2, parts(&widths, UCS2_SINGLE, UCS2_PART))
        }
    }
}

/// The first character of `body` outside GSM-7: the one that makes the whole text UCS-2.
pub fn first_non_gsm(body: &str) -> Option<char> {
    body.chars().find(|c| gsm_septets(*c).is_none())
}

/// Septets of one character in GSM-7, or None when it has none (the text must be UCS-2).
fn gsm_septets(c: char) -> Option<u32> {
    if GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Segments for characters of the given widths: one when they all fit in `single`, otherwise
/// parts of `per_part` filled in order, a character that does not fit whole starting the next.
fn parts(widths: &[u32], single: u32, per_part: u32) -> u32 {
    if widths.iter().sum::<u32>() <= single {
        return 1;
    }
    let (mut parts, mut used) = (1, 0);
    for &width in widths {
        if used + width > per_part {
            parts += 1;
            used = 0;
        }
        used += width;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_texts_fit_160_then_153_per_part() {
        assert_eq!(count(""), (Encoding::Gsm7, 1));
        assert_eq!(count(&"a".repeat(160)), (Encoding::Gsm7, 1));
        assert_eq!(count(&"a".repeat(161)), (Encoding::Gsm7, 2));
        assert_eq!(count(&"a".repeat(306)), (Encoding::Gsm7, 2));
        assert_eq!(count(&"a".repeat(307)), (Encoding::Gsm7, 3));
        assert_eq!(count(&"a".repeat(459)), (Encoding::Gsm7, 3));
        assert_eq!(count(&"a".repeat(460)), (Encoding::Gsm7, 4));
    }

    #[test]
    fn extension_characters_cost_two_septets() {
        // 80 euro signs are 160 septets: one segment; 81 are 162: two.
        assert_eq!(count(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(count(&"€".repeat(81)), (Encoding::Gsm7, 2));
        assert_eq!(
            count(&format!("{}{{", "a".repeat(158))),
            (Encoding::Gsm7, 1)
        );
        assert_eq!(count(&format!("{}[", "a".repeat(159))), (Encoding::Gsm7, 2));
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{000C}'] {
            assert_eq!(
                count(&c.to_string().repeat(81)),
                (Encoding::Gsm7, 2),
                "{c:?}"
            );
        }
    }

    #[test]
    fn an_extension_character_is_not_split_across_parts() {
        // 152 + 2 + 152 = 306 septets would fill two parts of 153 exactly, but the euro sign
        // cannot start in the first part's last septet: it opens the second part, and the
        // text's tail spills into a third.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(count(&text), (Encoding::Gsm7, 3));
        let text = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(count(&text), (Encoding::Gsm7, 2));
    }

    #[test]
    fn one_non_gsm_character_makes_the_whole_text_ucs2() {
        assert_eq!(count(&"a".repeat(70)), (Encoding::Gsm7, 1));
        assert_eq!(count(&format!("{}’", "a".repeat(69))), (Encoding::Ucs2, 1));
        assert_eq!(count(&format!("{}’", "a".repeat(70))), (Encoding::Ucs2, 2));
        assert_eq!(count(&"ж".repeat(70)), (Encoding::Ucs2, 1));
        assert_eq!(count(&"ж".repeat(71)), (Encoding::Ucs2, 2));
        assert_eq!(count(&"ж".repeat(134)), (Encoding::Ucs2, 2));
        assert_eq!(count(&"ж".repeat(135)), (Encoding::Ucs2, 3));
    }

    #[test]
    fn the_character_that_forces_ucs2_is_named() {
        assert_eq!(first_non_gsm("Café at 5 {ok}"), None);
        assert_eq!(first_non_gsm("Party 🎉 at Ana’s"), Some('🎉'));
    }

    #[test]
    fn accents_in_the_gsm_set_stay_gsm_and_others_switch_to_ucs2() {
        // é is in the GSM basic set; ē (e with macron) is not.
        assert_eq!(
            count(&format!("Caf{}", "é".repeat(157))),
            (Encoding::Gsm7, 1)
        );
        assert_eq!(count(&format!("{}é", "a".repeat(159))), (Encoding::Gsm7, 1));
        assert_eq!(count(&format!("{}ē", "a".repeat(69))), (Encoding::Ucs2, 1));
        assert_eq!(count(&format!("{}ē", "a".repeat(159))), (Encoding::Ucs2, 3));
    }

    #[test]
    fn an_emoji_is_two_code_units_and_is_not_split_across_parts() {
        assert_eq!(count(&"🙂".repeat(35)), (Encoding::Ucs2, 1));
        assert_eq!(count(&"🙂".repeat(36)), (Encoding::Ucs2, 2));
        assert_eq!(count(&format!("{}🙂", "a".repeat(68))), (Encoding::Ucs2, 1));
        assert_eq!(count(&format!("{}🙂", "a".repeat(69))), (Encoding::Ucs2, 2));
        // 66 + 2 + 66 = 134 units would fill two parts of 67 exactly, but the emoji's two
        // halves stay together in the second part, and the tail spills into a third.
        let text = format!("{}🙂{}", "a".repeat(66), "a".repeat(66));
        assert_eq!(count(&text), (Encoding::Ucs2, 3));
        let text = format!("{}🙂{}", "a".repeat(65), "a".repeat(67));
        assert_eq!(count(&text), (Encoding::Ucs2, 2));
    }
}
