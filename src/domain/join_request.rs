//! A neighbor's request to join, and the consent evidence carriers ask for.

use std::collections::BTreeMap;

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::channel::Channel;
use super::member::DisplayName;
use super::phone::Phone;
use crate::i18n::Language;

/// How the request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum JoinChannel {
    /// The public join page.
    Web,
    /// Texting `JOIN Name` to the number.
    Sms,
    /// An invite link.
    Invite,
    /// A captain's import.
    Import,
    /// Added directly by a captain, who attests the neighbor's consent.
    Captain,
    /// A response to the captains' Google Form, read by the spreadsheet hub.
    Form,
}

/// Where the request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum JoinState {
    /// Waiting for the phone's 6-digit code.
    PendingVerification,
    /// Waiting for a captain.
    Pending,
    /// A captain let them in.
    Approved,
    /// A captain said no.
    Denied,
}

impl JoinState {
    /// Still open: a second request for the same phone returns this one.
    pub fn is_open(self) -> bool {
        matches!(self, Self::PendingVerification | Self::Pending)
    }
}

/// What the neighbor agreed to, when and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// The exact text they agreed to.
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The address the web form came from.
    pub ip: Option<String>,
    /// The inbound text that asked to join (texted requests).
    #[serde(default)]
    pub message_sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub id: Uuid,
    /// Short number captains use by SMS (`#approve 12`).
    pub number: u64,
    pub neighborhood_id: Uuid,
    pub phone: Phone,
    /// The channel they will be in the group on: SMS, or WhatsApp when they asked there.
    #[serde(default)]
    pub member_channel: Channel,
    /// The language they asked in (the join page's, or their JOIN/UNIRME), for every text to
    /// them; their member takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    pub name: DisplayName,
    pub address: Option<String>,
    /// Answers to the captains' join questions, by question text.
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
    pub channel: JoinChannel,
    pub state: JoinState,
    pub consent: Consent,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who decided (`phone:+1...` or `token:<id>`), and when.
    pub decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub decided_at: Option<OffsetDateTime>,
    /// The member an approval made.
    pub member_id: Option<Uuid>,
    /// How the phone's last membership ended, when a captain took it away ("Removed by ... on
    /// 2026-12-04"): such a request waits for a captain whatever the join policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previously: Option<String>,
}

impl JoinRequest {
    /// The address Twilio reaches the asker at on their channel (see `Member::address`).
    pub fn address(&self) -> String {
        self.member_channel.address(&self.phone)
    }
}

/// A phone the captains blocked: its join requests, by text or on the web, are refused politely,
/// and the captains are not told each time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedPhone {
    pub phone: Phone,
    /// Who blocked it (`phone:+1...` or `token:<id>`).
    pub blocked_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub blocked_at: OffsetDateTime,
    /// The captains' own note, never shown to the phone.
    pub note: Option<String>,
}

/// The consent text shown on the join page and stored with each request.
pub fn consent_text(neighborhood_name: &str, channel: Channel, language: Language) -> String {
    let id = match channel {
        Channel::Sms => "consent-sms",
        Channel::Whatsapp => "consent-whatsapp",
    };
    crate::i18n::text(language, id, &[("neighborhood", neighborhood_name.into())])
}
