//! What captains should know about the phone and name behind a join request before deciding:
//! removed before, denied before, a paused member, a blocked phone, the same name as a member.
//! Read once for a whole list, from the members, the blocked phones and the other requests.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::join_request::{BlockedPhone, JoinRequest, JoinState};
use crate::domain::member::{Member, MemberStatus};
use crate::state::AppState;
use crate::store::StoreError;

/// Someone's earlier decision about the phone: when, and who (by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastDecision {
    pub at: OffsetDateTime,
    pub by: String,
}

/// The history of one request's phone and name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHistory {
    /// How the phone's last membership ended, when a captain removed it.
    pub removed: Option<String>,
    /// The latest other request from this phone that a captain denied.
    pub denied_before: Option<PastDecision>,
    /// The phone is a member a captain paused: why ("Paused by Olive").
    pub paused: Option<String>,
    /// The captains blocked the phone.
    pub blocked: Option<PastDecision>,
    /// A current member with the same name (another phone).
    pub same_name_as: Option<String>,
    /// Who decided this request, by name, once it is decided.
    pub decided_by: Option<String>,
}

/// The history of each of `requests`, in the same order.
pub async fn histories(
    state: &AppState,
    neighborhood_id: Uuid,
    requests: &[JoinRequest],
    all_requests: &[JoinRequest],
) -> Result<Vec<RequestHistory>, StoreError> {
    let members = state.store.members(neighborhood_id).await?;
    let blocked: HashMap<String, BlockedPhone> = state
        .store
        .blocked_phones(neighborhood_id)
        .await?
        .into_iter()
        .map(|b| (b.phone.as_str().to_owned(), b))
        .collect();
    let names = Names::of(&members);
    // Indexed once, so a long list costs one pass over each source, not one per request.
    let mut denied_by_phone: HashMap<&str, Vec<(OffsetDateTime, Uuid, &str)>> = HashMap::new();
    for other in all_requests.iter().filter(|r| r.state == JoinState::Denied) {
        if let (Some(at), Some(by)) = (other.decided_at, other.decided_by.as_deref()) {
            denied_by_phone
                .entry(other.phone.as_str())
                .or_default()
                .push((at, other.id, by));
        }
    }
    let paused: HashMap<&str, &Member> = members
        .iter()
        .filter(|m| m.status == MemberStatus::Paused)
        .map(|m| (m.phone.as_str(), m))
        .collect();
    let mut by_name: HashMap<String, Vec<&Member>> = HashMap::new();
    for member in members
        .iter()
        .filter(|m| matches!(m.status, MemberStatus::Active | MemberStatus::Paused))
    {
        by_name
            .entry(member.display_name.key())
            .or_default()
            .push(member);
    }
    Ok(requests
        .iter()
        .map(|request| RequestHistory {
            removed: request.previously.clone(),
            denied_before: denied_by_phone
                .get(request.phone.as_str())
                .into_iter()
                .flatten()
                .filter(|(_, id, _)| *id != request.id)
                .max_by_key(|(at, _, _)| *at)
                .map(|(at, _, by)| PastDecision {
                    at: *at,
                    by: names.actor(by),
                }),
            paused: paused
                .get(request.phone.as_str())
                .map(|m| m.status_reason.clone().unwrap_or_else(|| "Paused".into())),
            blocked: blocked.get(request.phone.as_str()).map(|b| PastDecision {
                at: b.blocked_at,
                by: names.actor(&b.blocked_by),
            }),
            same_name_as: by_name
                .get(&request.name.key())
                .into_iter()
                .flatten()
                .find(|m| m.phone != request.phone)
                .map(|m| m.display_name.as_str().to_owned()),
            decided_by: request.decided_by.as_deref().map(|by| names.actor(by)),
        })
        .collect())
}

/// Members' names by phone, to name whoever an actor string (`phone:+1...`) points at.
struct Names(HashMap<String, String>);

impl Names {
    fn of(members: &[Member]) -> Self {
        Self(
            members
                .iter()
                .map(|m| {
                    (
                        m.phone.as_str().to_owned(),
                        m.display_name.as_str().to_owned(),
                    )
                })
                .collect(),
        )
    }

    /// "Olive" for a member's phone; what the others are, in words.
    fn actor(&self, actor: &str) -> String {
        match actor.split_once(':') {
            Some(("phone", phone)) => self
                .0
                .get(phone)
                .cloned()
                .unwrap_or_else(|| format!("phone {phone}")),
            Some(("token", _)) => "an API token".to_owned(),
            Some(("policy", _)) => "the open join policy".to_owned(),
            _ if actor == "cli" => "the command line".to_owned(),
            _ => actor.to_owned(),
        }
    }
}
