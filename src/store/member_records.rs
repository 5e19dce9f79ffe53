//! Member records in and out of Redis. Every member read goes through [`Store::decode_members`],
//! which puts the consent terms a record refers to back into it; every member write first files
//! the terms of its record ([`Store::file_consent_terms`]). Compare-and-set scripts match a
//! record read before as it is stored now ([`encode`]) or as records were stored before the
//! compact form ([`old_form`]), so a member stored long ago can still be changed.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use redis::Script;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, StoreError, encode};
use crate::domain::channel::Channel;
use crate::domain::consent_terms::{self, ConsentTerms};
use crate::domain::join_digest::JoinRequestNotices;
use crate::domain::join_request::JoinChannel;
use crate::domain::member::{DeliveryHealth, DisplayName, Member, MemberStatus, Role, SyncState};
use crate::domain::phone::Phone;
use crate::i18n::Language;

/// Files consent terms under their digests: pairs of digest and JSON in ARGV. Answers the first
/// digest already taken by other terms (never expected: see `consent_terms::DIGEST_BYTES`), or
/// false.
static FILE_TERMS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 1, #ARGV, 2 do
  local filed = redis.call('HGET', KEYS[1], ARGV[i])
  if not filed then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  elseif filed ~= ARGV[i + 1] then
    return ARGV[i]
  end
end
return false",
    )
});

/// Terms cached per instance past which the cache starts over (a few hundred bytes each).
const CACHED_TERMS: usize = 1_000;

impl Store {
    /// Member records as read from the neighborhood's members hash, decoded, with their consent
    /// terms put back in.
    pub(crate) async fn decode_members(
        &self,
        neighborhood_id: Uuid,
        raw: &[String],
    ) -> Result<Vec<Member>, StoreError> {
        let key = self.keys.members(neighborhood_id);
        let corrupt = |source| StoreError::Corrupt {
            key: key.clone(),
            source,
        };
        let values = raw
            .iter()
            .map(|json| serde_json::from_str::<serde_json::Value>(json).map_err(corrupt))
            .collect::<Result<Vec<_>, _>>()?;
        let mut wanted: Vec<String> = values
            .iter()
            .filter_map(consent_terms::terms_digest)
            .filter(|digest| self.cached_terms(digest).is_none())
            .map(str::to_owned)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if !wanted.is_empty() {
            self.load_terms(neighborhood_id, &wanted).await?;
        }
        values
            .into_iter()
            .map(|value| {
                let whole = consent_terms::with_terms(value, |digest| self.cached_terms(digest))
                    .ok_or_else(|| {
                        corrupt(serde::de::Error::custom(
                            "the consent terms a member refers to are missing",
                        ))
                    })?;
                let mut member: Member = serde_json::from_value(whole).map_err(corrupt)?;
                // The record leaves the neighborhood to the key it is stored under.
                member.neighborhood_id = neighborhood_id;
                Ok(member)
            })
            .collect()
    }

    /// One member record, decoded as [`Store::decode_members`] does.
    pub(crate) async fn decode_member(
        &self,
        neighborhood_id: Uuid,
        raw: String,
    ) -> Result<Member, StoreError> {
        let mut members = self.decode_members(neighborhood_id, &[raw]).await?;
        members.pop().ok_or_else(|| StoreError::Corrupt {
            key: self.keys.members(neighborhood_id),
            source: serde::de::Error::custom("no member decoded"),
        })
    }

    /// Files the consent terms of members about to be written, before they are: a record never
    /// refers to terms that are not there. Filing is idempotent; terms are never removed.
    pub(crate) async fn file_consent_terms<'a>(
        &self,
        neighborhood_id: Uuid,
        members: impl IntoIterator<Item = &'a Member>,
    ) -> Result<(), StoreError> {
        let mut terms: BTreeMap<String, ConsentTerms> = BTreeMap::new();
        for consent in members.into_iter().filter_map(|m| m.consent.as_ref()) {
            let shared = consent.terms();
            terms.insert(shared.digest(), shared);
        }
        if terms.is_empty() {
            return Ok(());
        }
        let key = self.keys.consent_terms(neighborhood_id);
        let taken: Option<String> = self
            .retrying_once(|mut conn| {
                let mut invocation = FILE_TERMS.key(&key);
                for (digest, shared) in &terms {
                    invocation.arg(digest).arg(encode(shared));
                }
                async move { invocation.invoke_async(&mut conn).await }
            })
            .await?;
        if let Some(digest) = taken {
            return Err(StoreError::Corrupt {
                key,
                source: serde::de::Error::custom(format!(
                    "consent terms {digest} are filed with a different text"
                )),
            });
        }
        self.cache_terms(terms);
        Ok(())
    }

    async fn load_terms(
        &self,
        neighborhood_id: Uuid,
        digests: &[String],
    ) -> Result<(), StoreError> {
        let key = self.keys.consent_terms(neighborhood_id);
        let values: Vec<Option<String>> = self
            .retrying_once(|mut conn| {
                let key = key.clone();
                async move {
                    redis::cmd("HMGET")
                        .arg(key)
                        .arg(digests)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        let mut found = BTreeMap::new();
        for (digest, json) in digests.iter().zip(values) {
            if let Some(json) = json {
                let terms: ConsentTerms = super::decode(&key, &json)?;
                // Only terms that match their digest are trusted under it.
                if terms.digest() == *digest {
                    found.insert(digest.clone(), terms);
                }
            }
        }
        self.cache_terms(found);
        Ok(())
    }

    fn cached_terms(&self, digest: &str) -> Option<ConsentTerms> {
        let cache = self.consent_terms.read().unwrap_or_else(|e| e.into_inner());
        cache.get(digest).cloned()
    }

    fn cache_terms(&self, terms: BTreeMap<String, ConsentTerms>) {
        let mut cache = self
            .consent_terms
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if cache.len() + terms.len() > CACHED_TERMS {
            cache.clear();
        }
        cache.extend(terms);
    }
}

/// A member record as records were stored before the compact form (field for field what the
/// `Member` of then serialized to), for compare-and-set against a record stored then.
pub(crate) fn old_form(member: &Member) -> String {
    encode(&OldMember::from(member))
}

#[derive(Serialize)]
struct OldMember<'a> {
    id: Uuid,
    neighborhood_id: Uuid,
    phone: &'a Phone,
    channel: Channel,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<Language>,
    display_name: &'a DisplayName,
    role: Role,
    status: MemberStatus,
    #[serde(with = "time::serde::rfc3339")]
    joined_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    participant: Option<OldParticipant<'a>>,
    sync: &'a SyncState,
    address: &'a Option<String>,
    answers: &'a BTreeMap<String, String>,
    consent: Option<OldConsent<'a>>,
    status_reason: &'a Option<String>,
    join_request_texts: bool,
    join_request_cadence: JoinRequestNotices,
    muted: bool,
    delivery: &'a Option<DeliveryHealth>,
}

#[derive(Serialize)]
struct OldParticipant<'a> {
    conversation_sid: &'a str,
    participant_sid: &'a str,
}

#[derive(Serialize)]
struct OldConsent<'a> {
    channel: JoinChannel,
    text: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    ip: &'a Option<String>,
    message_sid: &'a Option<String>,
    approved_by: &'a Option<String>,
}

impl<'a> From<&'a Member> for OldMember<'a> {
    fn from(member: &'a Member) -> Self {
        Self {
            id: member.id,
            neighborhood_id: member.neighborhood_id,
            phone: &member.phone,
            channel: member.channel,
            language: member.language,
            display_name: &member.display_name,
            role: member.role,
            status: member.status,
            joined_at: member.joined_at,
            updated_at: member.updated_at,
            participant: member.participant.as_ref().map(|p| OldParticipant {
                conversation_sid: &p.conversation_sid,
                participant_sid: &p.participant_sid,
            }),
            sync: &member.sync,
            address: &member.address,
            answers: &member.answers,
            consent: member.consent.as_ref().map(|c| OldConsent {
                channel: c.channel,
                text: &c.evidence.text,
                at: c.evidence.at,
                ip: &c.evidence.ip,
                message_sid: &c.evidence.message_sid,
                approved_by: &c.approved_by,
            }),
            status_reason: &member.status_reason,
            join_request_texts: member.join_request_texts,
            join_request_cadence: member.join_request_cadence,
            muted: member.muted,
            delivery: &member.delivery,
        }
    }
}

/// A member record stored before the compact form, byte for byte as the service wrote it.
#[cfg(test)]
pub(crate) const OLD_RECORD: &str = r#"{"id":"01a2497a-b500-71ce-9350-9b336b7caa45","neighborhood_id":"01a2497a-b31d-71fe-9242-94bfb3fa68b1","phone":"+15557000397","channel":"sms","display_name":"Neighbor 397","role":"member","status":"active","joined_at":"2026-12-06T03:51:48.22423709Z","updated_at":"2026-12-06T03:51:51.04613093Z","participant":{"conversation_sid":"CH1900a946dc12420489ba26dec7881d96","participant_sid":"MBc446cbad031e4f00988df00d76f51111"},"sync":{"state":"done"},"address":null,"answers":{},"consent":{"channel":"import","text":"A captain (token:01a2497a-b2a8-73d8-97ac-e79358b55c22) attests this neighbor agreed to receive Memory Street's group texts (imported from a spreadsheet).","at":"2026-12-06T03:51:48.214322156Z","ip":"127.0.0.1","message_sid":null,"approved_by":"token:01a2497a-b2a8-73d8-97ac-e79358b55c22"},"status_reason":null,"join_request_texts":true,"join_request_cadence":"every_15_minutes","muted":false,"delivery":null}"#;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn decode_alone(json: &str, terms: &HashMap<String, ConsentTerms>) -> Member {
        let value = serde_json::from_str(json).expect("json");
        let whole = consent_terms::with_terms(value, |digest| terms.get(digest).cloned())
            .expect("terms found");
        let mut member: Member = serde_json::from_value(whole).expect("decodes");
        member.neighborhood_id = OLD_NEIGHBORHOOD;
        member
    }

    const OLD_NEIGHBORHOOD: Uuid = uuid::uuid!("01a2497a-b31d-71fe-9242-94bfb3fa68b1");

    #[test]
    fn a_record_stored_before_the_compact_form_still_decodes_and_matches_its_old_form() {
        let member = decode_alone(OLD_RECORD, &HashMap::new());
        assert_eq!(member.phone.as_str(), "+15557000397");
        assert_eq!(member.role, Role::Member);
        let consent = member.consent.as_ref().expect("consent");
        assert_eq!(consent.channel, JoinChannel::Import);
        assert!(consent.evidence.text.starts_with("A captain (token:"));
        assert_eq!(
            consent.evidence.at,
            time::macros::datetime!(2026-12-06 03:51:48.214322156 UTC)
        );
        assert_eq!(
            member
                .participant
                .as_ref()
                .map(|p| p.participant_sid.as_str()),
            Some("MBc446cbad031e4f00988df00d76f51111")
        );
        // What compare-and-set matches it by.
        assert_eq!(old_form(&member), OLD_RECORD);
    }

    #[test]
    fn a_compact_record_round_trips_with_its_terms_kept_apart() {
        let old = decode_alone(OLD_RECORD, &HashMap::new());
        let json = encode(&old);
        assert!(json.len() < OLD_RECORD.len() / 2, "{json}");
        assert!(!json.contains("attests"), "the text is kept apart: {json}");
        let shared = old.consent.as_ref().expect("consent").terms();
        let terms = HashMap::from([(shared.digest(), shared)]);
        let back = decode_alone(&json, &terms);
        assert_eq!(back, old, "nothing lost, to the nanosecond");
        assert_eq!(encode(&back), json, "stable, for compare-and-set");
    }

    #[test]
    fn a_compact_record_without_its_terms_does_not_decode() {
        let old = decode_alone(OLD_RECORD, &HashMap::new());
        let value = serde_json::from_str(&encode(&old)).expect("json");
        assert!(consent_terms::with_terms(value, |_| None).is_none());
    }
}
