//! Reading the member list: one page in the order asked for, how many match, where everyone
//! stands, and who looks like a duplicate of whom. The whole roster is read once per page, so
//! the counts and the duplicate flags cover the neighborhood, not just the page.

use std::collections::HashMap;

use uuid::Uuid;

use crate::domain::member::Member;
use crate::domain::member_list::{
    Lookalike, Matcher, MemberFilter, MemberSort, StatusCounts, comes_after, lookalikes,
    sort_members,
};
use crate::domain::neighborhood::Shard;
use crate::state::AppState;
use crate::store::StoreError;

/// Which page of the list, in which order.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub filter: MemberFilter,
    pub sort: MemberSort,
    /// The last member of the previous page.
    pub after: Option<Uuid>,
    pub limit: usize,
    /// The reader sees phones and addresses (captains and up): searches and duplicate checks
    /// may use them.
    pub captain_view: bool,
}

/// One page of the member list.
#[derive(Debug, Clone)]
pub struct MemberListing {
    pub page: Vec<Member>,
    /// Members matching the filter, over all pages.
    pub total: usize,
    /// The last member of this page, when more follow.
    pub next_after: Option<Uuid>,
    /// Everyone in the neighborhood by status, whatever the filter.
    pub counts: StatusCounts,
    /// Lookalikes of the members on the page.
    pub duplicates: HashMap<Uuid, Lookalike>,
    /// The neighborhood's Conversations, to number the one each member is in.
    pub shards: Vec<Shard>,
}

/// Why a page could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// `after` names no member of the neighborhood, so there is no place to continue from.
    #[error("That member is not in this neighborhood; start again from the first page.")]
    UnknownCursor,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The page of `neighborhood_id`'s members that `request` asks for.
pub async fn list(
    state: &AppState,
    neighborhood_id: Uuid,
    request: &ListRequest,
) -> Result<MemberListing, ListError> {
    let (roster, neighborhood) = tokio::try_join!(
        state.store.members(neighborhood_id),
        state.store.get_neighborhood(neighborhood_id),
    )?;
    let mut listing = page_of(roster, request)?;
    listing.shards = neighborhood.map(|n| n.shards).unwrap_or_default();
    Ok(listing)
}

fn page_of(roster: Vec<Member>, request: &ListRequest) -> Result<MemberListing, ListError> {
    let cursor = match request.after {
        // Joining order is the id order, so any id marks a place in it.
        Some(after) if request.sort != MemberSort::Name => Some(Cursor::Id(after)),
        Some(after) => Some(Cursor::Member(Box::new(
            roster
                .iter()
                .find(|member| member.id == after)
                .cloned()
                .ok_or(ListError::UnknownCursor)?,
        ))),
        None => None,
    };
    let counts = StatusCounts::of(&roster);
    let mut duplicates = lookalikes(&roster, request.captain_view);
    let matcher = Matcher::new(&request.filter, request.captain_view);
    let mut matching: Vec<Member> = roster
        .into_iter()
        .filter(|member| matcher.matches(member))
        .collect();
    let total = matching.len();
    sort_members(&mut matching, request.sort);
    let mut page: Vec<Member> = matching
        .into_iter()
        .filter(|member| {
            cursor
                .as_ref()
                .is_none_or(|cursor| cursor.is_before(member, request.sort))
        })
        .take(request.limit + 1)
        .collect();
    let more = page.len() > request.limit;
    page.truncate(request.limit);
    duplicates.retain(|id, _| page.iter().any(|member| member.id == *id));
    Ok(MemberListing {
        next_after: more.then(|| page.last().map(|member| member.id)).flatten(),
        page,
        total,
        counts,
        duplicates,
        shards: Vec::new(),
    })
}

/// Where the previous page ended.
enum Cursor {
    Id(Uuid),
    Member(Box<Member>),
}

impl Cursor {
    fn is_before(&self, member: &Member, sort: MemberSort) -> bool {
        match (self, sort) {
            (Cursor::Member(cursor), _) => comes_after(member, cursor, sort),
            (Cursor::Id(id), MemberSort::Newest) => member.id < *id,
            (Cursor::Id(id), _) => member.id > *id,
        }
    }
}
