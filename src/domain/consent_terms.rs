//! How a member's consent evidence is stored. The part everyone who joined the same way shares
//! (the channel, the exact text they agreed to and who approved them: one import's ten thousand
//! rows agree on all three) is kept once per neighborhood under its digest, and the member's
//! record keeps the digest with what is theirs alone (when, from which address, which text).
//! The store writes the terms beside the record and puts them back into it when read
//! ([`with_terms`]), so the rest of the service only ever sees a whole [`ConsentRecord`].
//!
//! Records stored before keep the whole evidence inline; those still read.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::join_request::{Consent, JoinChannel};
use super::member::ConsentRecord;

/// The shared part of a consent record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentTerms {
    pub channel: JoinChannel,
    pub text: String,
    pub approved_by: Option<String>,
}

/// Bytes of SHA-256 kept in a digest: 128 bits, 22 characters. The store refuses to file other
/// terms under a digest already taken, so even a collision could not swap one text for another.
const DIGEST_BYTES: usize = 16;

impl ConsentTerms {
    /// The name the terms are kept under: a digest of their JSON, base64url.
    pub fn digest(&self) -> String {
        let hash = Sha256::digest(serde_json::to_vec(self).unwrap_or_default());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..DIGEST_BYTES])
    }
}

impl ConsentRecord {
    /// The part of this record others who joined the same way share.
    pub fn terms(&self) -> ConsentTerms {
        ConsentTerms {
            channel: self.channel,
            text: self.evidence.text.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}

/// A consent record as stored: by the digest of its terms (`t`), or, in records stored before,
/// with them inline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredConsent {
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    terms: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channel: Option<JoinChannel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(with = "super::stored_time")]
    at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(
        rename = "ms",
        alias = "message_sid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    message_sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    approved_by: Option<String>,
}

/// The JSON field of a stored member that holds its consent record.
const MEMBER_CONSENT: &str = "c";

impl From<ConsentRecord> for StoredConsent {
    fn from(record: ConsentRecord) -> Self {
        Self {
            terms: Some(record.terms().digest()),
            channel: None,
            text: None,
            approved_by: None,
            at: record.evidence.at,
            ip: record.evidence.ip,
            message_sid: record.evidence.message_sid,
        }
    }
}

impl TryFrom<StoredConsent> for ConsentRecord {
    type Error = String;

    fn try_from(stored: StoredConsent) -> Result<Self, Self::Error> {
        let (Some(channel), Some(text)) = (stored.channel, stored.text) else {
            return Err(format!(
                "consent terms {} were not put back into the record",
                stored.terms.unwrap_or_default()
            ));
        };
        Ok(Self {
            channel,
            evidence: Consent {
                text,
                at: stored.at,
                ip: stored.ip,
                message_sid: stored.message_sid,
            },
            approved_by: stored.approved_by,
        })
    }
}

/// The digest of the terms a stored member record refers to, if it refers to any.
pub fn terms_digest(member: &serde_json::Value) -> Option<&str> {
    member.get(MEMBER_CONSENT)?.get("t")?.as_str()
}

/// A stored member record with the terms it refers to put back in, ready to decode into a
/// `Member`; `terms` finds them by digest. None when they cannot be found.
pub fn with_terms(
    mut member: serde_json::Value,
    terms: impl Fn(&str) -> Option<ConsentTerms>,
) -> Option<serde_json::Value> {
    let Some(digest) = terms_digest(&member).map(str::to_owned) else {
        return Some(member);
    };
    let found = terms(&digest)?;
    let consent = member.get_mut(MEMBER_CONSENT)?.as_object_mut()?;
    consent.insert("channel".into(), serde_json::to_value(found.channel).ok()?);
    consent.insert("text".into(), found.text.into());
    if let Some(approved_by) = found.approved_by {
        consent.insert("approved_by".into(), approved_by.into());
    }
    Some(member)
}
