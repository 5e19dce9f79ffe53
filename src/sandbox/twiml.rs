//! Reading a webhook's TwiML answer the way Twilio does: each `<Message>` verb becomes a text sent
//! back (entities decoded, `<Media>` ignored); any other answer, or none, sends nothing.

use serde::Deserialize;

/// One `<Message>` verb of a TwiML answer.
pub(super) struct Reply {
    pub(super) to: Option<String>,
    pub(super) from: Option<String>,
    pub(super) body: String,
}

#[derive(Deserialize)]
struct TwimlResponse {
    #[serde(rename = "Message", default)]
    messages: Vec<TwimlMessage>,
}

#[derive(Deserialize)]
struct TwimlMessage {
    #[serde(rename = "@to")]
    to: Option<String>,
    #[serde(rename = "@from")]
    from: Option<String>,
    #[serde(rename = "$value", default)]
    content: Vec<TwimlContent>,
}

#[derive(Deserialize)]
enum TwimlContent {
    Body(String),
    Media(serde::de::IgnoredAny),
    #[serde(rename = "$text")]
    Text(String),
}

/// The `<Message>` replies of a TwiML answer (an empty or non-TwiML answer has none).
pub(super) fn messages(xml: &str) -> Vec<Reply> {
    let Ok(response) = quick_xml::de::from_str::<TwimlResponse>(xml) else {
        return Vec::new();
    };
    response
        .messages
        .into_iter()
        .map(|message| {
            let body = message
                .content
                .into_iter()
                .filter_map(|part| match part {
                    TwimlContent::Body(text) | TwimlContent::Text(text) => Some(text),
                    TwimlContent::Media(_) => None,
                })
                .collect::<Vec<_>>()
                .join("");
            Reply {
                to: message.to,
                from: message.from,
                body: body.trim().to_owned(),
            }
        })
        .filter(|reply| !reply.body.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::messages;

    #[test]
    fn twiml_message_replies_are_read_with_entities() {
        let replies = messages(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hi &amp; welcome</Message><Message to="+15550001111"><Body>Second</Body></Message></Response>"#,
        );
        assert_eq!(replies.len(), 2);
        assert_eq!(replies[0].body, "Hi & welcome");
        assert_eq!(replies[1].to.as_deref(), Some("+15550001111"));
        assert_eq!(replies[1].body, "Second");
        assert!(messages("<Response/>").is_empty());
        assert!(messages("").is_empty());
        assert!(messages("not xml").is_empty());
    }
}
