//! How many SMS segments a text costs: GSM-7 fits 160 characters in one segment and 153 per part
//! when split; one character outside GSM-7 makes the whole text UCS-2, 70 and 67 per part,
//! counted in UTF-16 code units (an emoji is two).

/// GSM 03.38 basic character set.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Extension table characters: each costs two septets (escape + character).
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{000C}";

/// The encoding a text is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// Encoding and number of segments of `body` (an empty text still costs one).
pub fn count(body: &str) -> (Encoding, u32) {
    let mut septets = 0u32;
    let mut gsm = true;
    for c in body.chars() {
        if GSM_BASIC.contains(c) {
            septets += 1;
        } else if GSM_EXTENSION.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    if gsm {
        return (Encoding::Gsm7, parts(septets, 160, 153));
    }
    let units = body.encode_utf16().count() as u32;
    (Encoding::Ucs2, parts(units, 70, 67))
}

fn parts(length: u32, single: u32, per_part: u32) -> u32 {
    if length <= single {
        1
    } else {
        length.div_ceil(per_part)
    }
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
    }

    #[test]
    fn extension_characters_cost_two_septets() {
        assert_eq!(count(&"€".repeat(80)), (Encoding::Gsm7, 1));
        assert_eq!(count(&"€".repeat(81)), (Encoding::Gsm7, 2));
    }

    #[test]
    fn one_non_gsm_character_makes_the_whole_text_ucs2() {
        assert_eq!(count(&format!("{}’", "a".repeat(69))), (Encoding::Ucs2, 1));
        assert_eq!(count(&format!("{}’", "a".repeat(70))), (Encoding::Ucs2, 2));
        // An emoji is two UTF-16 code units.
        assert_eq!(count(&"🙂".repeat(35)), (Encoding::Ucs2, 1));
        assert_eq!(count(&"🙂".repeat(36)), (Encoding::Ucs2, 2));
        assert_eq!(count(&"é".repeat(10)), (Encoding::Gsm7, 1));
    }
}
