//! The Media Content Service's records: each Media resource (JSON) in one hash and its bytes under
//! a key of their own (both in `store::keys::SandboxKeys`), and attaching a media to the one
//! message it belongs to.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use serde_json::{Value, json};

use super::{EmulatorResult, ErrorAnswer};
use crate::sandbox::Emulator;
use crate::sandbox::resources::{iso, new_sid, now};

/// How long a media's bytes stay. The emulator's other state never expires: it is small JSON a
/// sandbox needs for as long as it runs. Pictures are up to megabytes each, and every test run
/// stores some under a fresh prefix in a shared Redis, so their bytes drain away after a week,
/// far longer than anyone looks at a sandbox picture (and the resource stays; its content then
/// answers 404, as a deleted one would).
pub const CONTENT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Attaches a media to a message, once. `KEYS`: the media hash. `ARGV`: the ME sid, the chat
/// service it must belong to, the message and conversation SIDs, the update's date. Answers the
/// updated JSON, `missing`, or `taken:IM...`.
static ATTACH_MEDIA: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 'missing' end
local media = cjson.decode(current)
if media['service_sid'] ~= ARGV[2] then return 'missing' end
if type(media['message_sid']) == 'string' then return 'taken:' .. media['message_sid'] end
media['message_sid'] = ARGV[3]
media['channel_sid'] = ARGV[4]
media['date_updated'] = ARGV[5]
local encoded = cjson.encode(media)
redis.call('HSET', KEYS[1], ARGV[1], encoded)
return encoded",
    )
});

impl Emulator {
    /// The account's one Conversations service (`IS...`), which holds every media.
    pub(in crate::sandbox) fn chat_service_sid(&self) -> String {
        format!("IS{}", &self.account_sid()[2..])
    }

    /// Stores an upload: its resource and bytes in one step. Media a phone sends are stored
    /// already attached (`channel_sid`, `message_sid`); uploads over REST are not.
    pub(in crate::sandbox) async fn create_media(
        &self,
        content_type: &str,
        bytes: &[u8],
        channel_sid: Option<&str>,
        message_sid: Option<&str>,
    ) -> EmulatorResult<Value> {
        let sid = new_sid("ME");
        let service_sid = self.chat_service_sid();
        let at = iso(now());
        let path = format!("/v1/Services/{service_sid}/Media/{sid}");
        let media = json!({
            "sid": sid,
            "account_sid": self.account_sid(),
            "service_sid": service_sid,
            "date_created": at,
            "date_updated": at,
            "date_upload_updated": at,
            "channel_sid": channel_sid,
            "message_sid": message_sid,
            "content_type": content_type,
            "filename": null,
            "size": bytes.len(),
            "author": "system",
            "category": "media",
            "is_multipart_upstream": false,
            "url": path,
            "links": {"content": format!("{path}/Content"), "content_direct_temporary": null},
        });
        redis::pipe()
            .atomic()
            .hset(self.keys().media(), &sid, media.to_string())
            .set_ex(
                self.keys().media_content(&sid),
                bytes,
                CONTENT_TTL.as_secs(),
            )
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(media)
    }

    pub(in crate::sandbox) async fn media_entry(
        &self,
        media_sid: &str,
    ) -> EmulatorResult<Option<Value>> {
        self.hget_json(&self.keys().media(), media_sid).await
    }

    pub(in crate::sandbox) async fn media_content(
        &self,
        media_sid: &str,
    ) -> EmulatorResult<Option<Vec<u8>>> {
        Ok(redis::cmd("GET")
            .arg(self.keys().media_content(media_sid))
            .query_async(&mut self.conn())
            .await?)
    }

    /// Sets the media's `message_sid` and `channel_sid`, refusing (400) a media of another service
    /// or one attached already. The emulator's conservative reading of Twilio: an MCS media
    /// belongs to one message, since its resource has room for one `message_sid`.
    pub(in crate::sandbox) async fn attach_media(
        &self,
        media_sid: &str,
        service_sid: &str,
        conversation_sid: &str,
        message_sid: &str,
    ) -> EmulatorResult<Value> {
        let outcome: String = ATTACH_MEDIA
            .key(self.keys().media())
            .arg(media_sid)
            .arg(service_sid)
            .arg(message_sid)
            .arg(conversation_sid)
            .arg(iso(now()))
            .invoke_async(&mut self.conn())
            .await?;
        if outcome == "missing" {
            return Err(ErrorAnswer::new(
                400,
                20001,
                format!("Media {media_sid} was not found in Conversations service {service_sid}"),
            )
            .into());
        }
        if let Some(other) = outcome.strip_prefix("taken:") {
            return Err(ErrorAnswer::new(
                400,
                20001,
                format!("Media {media_sid} is already attached to message {other}"),
            )
            .into());
        }
        Ok(serde_json::from_str(&outcome).unwrap_or(Value::Null))
    }
}
