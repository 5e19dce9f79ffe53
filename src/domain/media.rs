//! Pictures in the group: what Twilio says a message carries, and which of it the group takes.
//!
//! Twilio's limits for a message to phones: at most 10 items and 5 MB in all (carriers resize
//! images). The group takes the picture types every MMS phone shows; anything else, too many
//! or too much is refused before anyone gets it, with a note to the sender, never half-sent.

use serde::{Deserialize, Serialize};

/// At most this many items in one message (Twilio's MMS limit).
pub const MAX_ITEMS: usize = 10;
/// At most this many bytes in all (Twilio's MMS limit, 5 MB).
pub const MAX_TOTAL_BYTES: u64 = 5 * 1024 * 1024;
/// The types MMS carries to every phone (Twilio's "fully supported" image types).
pub const PICTURE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/gif"];

/// One item of a message as Twilio describes it: in a Conversation message's `media`
/// (`sid`, `content_type`, `filename`, `size`) and in a webhook's `Media` JSON (`Sid`,
/// `ContentType`, `Filename`, `Size`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaItem {
    #[serde(alias = "Sid")]
    pub sid: String,
    #[serde(alias = "ContentType")]
    pub content_type: String,
    #[serde(default, alias = "Filename")]
    pub filename: Option<String>,
    #[serde(default, alias = "Size")]
    pub size: u64,
}

/// Why the group does not take a message's media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRefusal {
    TooMany { count: usize },
    TooLarge { bytes: u64 },
    Unsupported { content_type: String },
}

/// The items of a webhook's `Media` parameter; none when it is absent or empty. Unreadable
/// media is an error: the message is not passed on as if it had none.
pub fn from_webhook(param: &str) -> Result<Vec<MediaItem>, serde_json::Error> {
    if param.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(param)
}

/// Whether the group takes these items: pictures only, at most [`MAX_ITEMS`] and
/// [`MAX_TOTAL_BYTES`] in all.
pub fn check(items: &[MediaItem]) -> Result<(), MediaRefusal> {
    if items.len() > MAX_ITEMS {
        return Err(MediaRefusal::TooMany { count: items.len() });
    }
    let bytes: u64 = items.iter().map(|item| item.size).sum();
    if bytes > MAX_TOTAL_BYTES {
        return Err(MediaRefusal::TooLarge { bytes });
    }
    match items
        .iter()
        .find(|item| !PICTURE_TYPES.contains(&item.content_type.to_ascii_lowercase().as_str()))
    {
        Some(item) => Err(MediaRefusal::Unsupported {
            content_type: item.content_type.clone(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(content_type: &str, size: u64) -> MediaItem {
        MediaItem {
            sid: "ME00000000000000000000000000000001".into(),
            content_type: content_type.into(),
            filename: None,
            size,
        }
    }

    #[test]
    fn the_webhook_and_the_rest_shapes_both_read() {
        let webhook = r#"[{"Sid":"ME1","ContentType":"image/jpeg","Filename":null,"Size":42,"Category":"media"}]"#;
        let rest = r#"[{"sid":"ME1","content_type":"image/jpeg","filename":null,"size":42}]"#;
        assert_eq!(from_webhook(webhook).unwrap(), from_webhook(rest).unwrap());
        assert_eq!(from_webhook("").unwrap(), Vec::new());
        assert!(from_webhook("not json").is_err());
    }

    #[test]
    fn pictures_within_twilios_limits_are_taken_and_the_rest_refused() {
        assert_eq!(
            check(&[item("image/jpeg", 1000), item("image/PNG", 10)]),
            Ok(())
        );
        assert_eq!(
            check(&vec![item("image/gif", 1); 11]),
            Err(MediaRefusal::TooMany { count: 11 })
        );
        assert_eq!(
            check(&[item("image/jpeg", MAX_TOTAL_BYTES), item("image/jpeg", 1)]),
            Err(MediaRefusal::TooLarge {
                bytes: MAX_TOTAL_BYTES + 1
            })
        );
        assert_eq!(
            check(&[item("video/mp4", 10)]),
            Err(MediaRefusal::Unsupported {
                content_type: "video/mp4".into()
            })
        );
    }
}
