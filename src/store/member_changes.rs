//! The one way a member record changes: read, change, compare-and-set, and on a conflict read
//! again and change again, with the change's outbox effects queued in the same write. Services
//! say what changes; only this file retries.

use uuid::Uuid;

use super::outbox::Effect;
use super::{Store, UpdateError};
use crate::domain::member::Member;

/// A member as read and as written (equal when the change left them as they were).
#[derive(Debug, Clone)]
pub struct MemberUpdate {
    pub before: Member,
    pub after: Member,
}

impl MemberUpdate {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// What a change of the roster writes: members as read (None for a new one) and as they become,
/// the effects that go with them, and what the caller answers.
#[derive(Debug)]
pub struct RosterChange<T> {
    pub writes: Vec<(Option<Member>, Member)>,
    pub effects: Vec<Effect>,
    pub answer: T,
}

impl<T> RosterChange<T> {
    /// Nothing to write: answer `answer`.
    pub fn none(answer: T) -> Self {
        Self {
            writes: Vec::new(),
            effects: Vec::new(),
            answer,
        }
    }

    /// One member made or changed, with its effects.
    pub fn one(before: Option<Member>, after: Member, effects: Vec<Effect>, answer: T) -> Self {
        Self {
            writes: vec![(before, after)],
            effects,
            answer,
        }
    }
}

/// How many times a member change is tried when other writers got there first: the outbox, the
/// webhooks and captains may all change one member at the same moment.
const ATTEMPTS: usize = 10;

/// Writes many members in rounds, for a batch decided against what is stored: `round` gets the
/// rows still to write (their indexes) and the caller's `carried` state, reads what is stored for
/// them, decides and writes them together, and says which were written. The others (changed by
/// another writer since they were read) go round again, a few times. Answers the state and the
/// rows never written.
pub async fn write_in_rounds<S, E, F>(
    mut carried: S,
    mut pending: Vec<usize>,
    mut round: impl FnMut(S, Vec<usize>) -> F,
) -> Result<(S, Vec<usize>), E>
where
    F: Future<Output = Result<(S, Vec<bool>), E>>,
{
    for _ in 0..ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let (back, written) = round(carried, pending.clone()).await?;
        carried = back;
        pending = pending
            .iter()
            .zip(written)
            .filter(|(_, written)| !written)
            .map(|(row, _)| *row)
            .collect();
    }
    Ok((carried, pending))
}

impl Store {
    /// Changes one member: `change` gets the record as stored, edits it and returns the effects to
    /// queue with it, or refuses. It may run more than once (after a conflicting write), so it
    /// must not do anything but compute. A change that leaves the member as it was, with no
    /// effects, writes nothing.
    pub async fn update_member<E>(
        &self,
        neighborhood_id: Uuid,
        member_id: Uuid,
        change: impl FnMut(&mut Member) -> Result<Vec<Effect>, E>,
    ) -> Result<MemberUpdate, UpdateError<E>> {
        self.change_member(neighborhood_id, member_id, None, change)
            .await
    }

    /// [`Store::update_member`] for a caller that has just read the member: the first try
    /// changes `read` without reading it again (the compare-and-set still refuses it if it is no
    /// longer what is stored; then the record is read afresh).
    pub async fn update_read_member<E>(
        &self,
        read: Member,
        change: impl FnMut(&mut Member) -> Result<Vec<Effect>, E>,
    ) -> Result<MemberUpdate, UpdateError<E>> {
        self.change_member(read.neighborhood_id, read.id, Some(read), change)
            .await
    }

    async fn change_member<E>(
        &self,
        neighborhood_id: Uuid,
        member_id: Uuid,
        mut read: Option<Member>,
        mut change: impl FnMut(&mut Member) -> Result<Vec<Effect>, E>,
    ) -> Result<MemberUpdate, UpdateError<E>> {
        for _ in 0..ATTEMPTS {
            let before = match read.take() {
                Some(member) => member,
                None => self
                    .member(neighborhood_id, member_id)
                    .await?
                    .ok_or(UpdateError::NotFound)?,
            };
            let mut after = before.clone();
            let effects = change(&mut after).map_err(UpdateError::Rejected)?;
            if after == before && effects.is_empty() {
                return Ok(MemberUpdate { before, after });
            }
            // To the second: ten digits in the record where nanoseconds took nineteen.
            after.updated_at = crate::domain::stored_time::now_to_the_second();
            if self
                .save_member_with_effects(Some(&before), &after, &effects)
                .await?
            {
                return Ok(MemberUpdate { before, after });
            }
        }
        Err(UpdateError::Contended)
    }

    /// Changes members with the whole roster in view (a unique name, one owner): `change` gets
    /// every member and says what to write. Like [`Store::update_member`] it may run more than
    /// once. Several members are written together only without effects (a transfer of
    /// ownership); one member (new or changed) may bring effects.
    pub async fn update_roster<T, E>(
        &self,
        neighborhood_id: Uuid,
        mut change: impl FnMut(&[Member]) -> Result<RosterChange<T>, E>,
    ) -> Result<T, UpdateError<E>> {
        for _ in 0..ATTEMPTS {
            let members = self.members(neighborhood_id).await?;
            let RosterChange {
                writes,
                effects,
                answer,
            } = change(&members).map_err(UpdateError::Rejected)?;
            let written = match writes.as_slice() {
                [] => true,
                [(before, after)] => {
                    self.save_member_with_effects(before.as_ref(), after, &effects)
                        .await?
                }
                many => {
                    assert!(
                        effects.is_empty() && many.iter().all(|(before, _)| before.is_some()),
                        "several members are written together only as changes without effects"
                    );
                    let pairs: Vec<(&Member, &Member)> = many
                        .iter()
                        .filter_map(|(before, after)| before.as_ref().map(|b| (b, after)))
                        .collect();
                    self.replace_members(neighborhood_id, &pairs).await?
                }
            };
            if written {
                return Ok(answer);
            }
        }
        Err(UpdateError::Contended)
    }
}
