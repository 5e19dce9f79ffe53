//! Media as Twilio carries it: the limits that apply to it, the shapes it takes on a Conversation
//! Message (`media`), in webhooks (`Media`) and in a phone's inbox, and the signed, time-limited
//! content URLs of the Media Content Service (MCS).
//!
//! Twilio's own temporary URLs live on another host and are signed by its CDN; the emulator's are
//! its own `/Content` path with `Expires` (Unix seconds, by the emulator's clock, so a test moves
//! it) and `Signature`, a hex HMAC-SHA256 under the account's auth token of the service, media and
//! expiry: a URL cannot be stretched or pointed at another media.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// How long a `content_direct_temporary` URL works (Twilio: 300 seconds).
pub const TEMPORARY_URL_SECS: i64 = 300;
/// What carriers take in one MMS (Twilio: 10 items, 5 MB in total); past either, an SMS
/// participant's copy fails with [`CONTENT_TOO_LARGE`].
pub const MMS_MAX_ITEMS: usize = 10;
pub const MMS_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Twilio's error "Content size exceeds carrier limit".
pub const CONTENT_TOO_LARGE: u32 = 30019;
/// The largest upload the emulated MCS keeps (its records live in Redis). Twilio's own bound is
/// far larger; anything past the MMS limit is already undeliverable by SMS.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// One media item as a message carries it: its MCS SID, type and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub sid: String,
    pub content_type: String,
    pub size: u64,
}

impl Item {
    /// From an MCS Media resource.
    pub fn of_resource(media: &Value) -> Self {
        Self {
            sid: media["sid"].as_str().unwrap_or_default().to_owned(),
            content_type: media["content_type"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            size: media["size"].as_u64().unwrap_or(0),
        }
    }
}

/// A Conversation Message's `media`: `null` without media, else Twilio's
/// `[{"sid", "content_type", "filename", "size"}]`.
pub fn message_media(items: &[Item]) -> Value {
    if items.is_empty() {
        return Value::Null;
    }
    items
        .iter()
        .map(|item| {
            json!({"sid": item.sid, "content_type": item.content_type, "filename": null, "size": item.size})
        })
        .collect()
}

/// The items of a stored Conversation Message (`media` as [`message_media`] wrote it).
pub fn items_of_message(message: &Value) -> Vec<Item> {
    message["media"]
        .as_array()
        .into_iter()
        .flatten()
        .map(Item::of_resource)
        .collect()
}

/// The `Media` parameter of `onMessageAdd` and `onMessageAdded`: a JSON string, or `None` without
/// media (Twilio leaves the parameter out).
pub fn webhook_param(items: &[Item]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let list: Vec<Value> = items
        .iter()
        .map(|item| {
            json!({"Sid": item.sid, "Filename": null, "ContentType": item.content_type, "Size": item.size, "Category": "media"})
        })
        .collect();
    Some(Value::Array(list).to_string())
}

/// What a simulated phone's inbox shows of a message's media: `[{"sid", "content_type", "size"}]`.
pub fn inbox_media(items: &[Item]) -> Value {
    items
        .iter()
        .map(|item| json!({"sid": item.sid, "content_type": item.content_type, "size": item.size}))
        .collect()
}

/// Whether the media fit in one MMS; `Some(30019)` when a carrier would refuse them.
pub fn mms_refusal(items: &[Item]) -> Option<u32> {
    let total: u64 = items.iter().map(|item| item.size).sum();
    (items.len() > MMS_MAX_ITEMS || total > MMS_MAX_BYTES).then_some(CONTENT_TOO_LARGE)
}

/// `ME` and 32 hex digits, as Twilio's spec constrains `MediaSid`.
pub fn is_media_sid(sid: &str) -> bool {
    sid.len() == 34
        && sid.starts_with("ME")
        && sid.as_bytes()[2..].iter().all(u8::is_ascii_hexdigit)
}

/// The signature of a temporary content URL.
pub fn sign(auth_token: &str, service_sid: &str, media_sid: &str, expires: i64) -> String {
    // HMAC takes a key of any length: an empty signature never holds (see below).
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{service_sid}/{media_sid}/{expires}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Whether a temporary URL's `Expires` and `Signature` hold at `now` (Unix seconds).
pub fn signature_holds(
    auth_token: &str,
    service_sid: &str,
    media_sid: &str,
    expires: &str,
    signature: &str,
    now: i64,
) -> bool {
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    let expected = sign(auth_token, service_sid, media_sid, expires);
    // Constant time, like the Basic auth check: the signature is a credential.
    let same = !expected.is_empty()
        && expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same && now <= expires
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(size: u64) -> Item {
        Item {
            sid: format!("ME{}", "ab".repeat(16)),
            content_type: "image/jpeg".into(),
            size,
        }
    }

    #[test]
    fn a_message_without_media_has_null_media_and_no_webhook_parameter() {
        assert_eq!(message_media(&[]), Value::Null);
        assert_eq!(webhook_param(&[]), None);
        assert_eq!(items_of_message(&json!({"media": null})), Vec::new());
    }

    #[test]
    fn media_read_back_from_a_message_as_written() {
        let items = vec![item(12345)];
        let message = json!({"media": message_media(&items)});
        assert_eq!(
            message["media"][0],
            json!({"sid": items[0].sid, "content_type": "image/jpeg", "filename": null, "size": 12345})
        );
        assert_eq!(items_of_message(&message), items);
        let param: Value =
            serde_json::from_str(&webhook_param(&items).expect("param")).expect("JSON");
        assert_eq!(
            param,
            json!([{"Sid": items[0].sid, "Filename": null, "ContentType": "image/jpeg", "Size": 12345, "Category": "media"}])
        );
    }

    #[test]
    fn carriers_take_ten_items_and_five_megabytes() {
        assert_eq!(mms_refusal(&vec![item(1); 10]), None);
        assert_eq!(mms_refusal(&vec![item(1); 11]), Some(30019));
        assert_eq!(mms_refusal(&[item(MMS_MAX_BYTES)]), None);
        assert_eq!(
            mms_refusal(&[item(MMS_MAX_BYTES - 1), item(2)]),
            Some(30019)
        );
    }

    #[test]
    fn a_temporary_url_holds_until_it_expires_and_only_as_signed() {
        let (is, me) = ("IS1", "ME1");
        let signature = sign("token", is, me, 1_000);
        assert!(signature_holds("token", is, me, "1000", &signature, 1_000));
        assert!(!signature_holds("token", is, me, "1000", &signature, 1_001));
        assert!(!signature_holds("token", is, me, "1300", &signature, 1_000));
        assert!(!signature_holds(
            "token", is, "ME2", "1000", &signature, 1_000
        ));
        assert!(!signature_holds("other", is, me, "1000", &signature, 1_000));
        assert!(!signature_holds("token", is, me, "soon", &signature, 1_000));
    }

    #[test]
    fn media_sids_are_me_and_32_hex_digits() {
        assert!(is_media_sid(&format!("ME{}", "0a".repeat(16))));
        assert!(!is_media_sid(&format!("MM{}", "0a".repeat(16))));
        assert!(!is_media_sid("ME123"));
        assert!(!is_media_sid(&format!("ME{}", "zz".repeat(16))));
    }
}
