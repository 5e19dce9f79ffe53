//! Finding 12 of the security review: every phone a captain brings into a neighborhood's group
//! without the phone asking (a direct add, an import with attested consent, the approval of an
//! imported request) receives every group text, so a stolen captain account could otherwise fill
//! a neighborhood with thousands of premium-rate numbers. Captains may add
//! `NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD` such phones per UTC day, counted across instances; past
//! it a platform admin adds them, uncounted: the approval above a threshold the review asks for.
//! Phones that asked themselves (a confirmed web request, a `JOIN` text) are not counted here:
//! their own request is the consent, and the daily caps on 1:1 texts bound the codes.

use uuid::Uuid;

use crate::state::AppState;
use crate::store::StoreError;

/// Who is adding: a captain (counted and capped) or a platform admin (neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adder {
    Captain,
    PlatformAdmin,
}

impl Adder {
    pub fn platform_admin(is: bool) -> Self {
        if is {
            Self::PlatformAdmin
        } else {
            Self::Captain
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdditionError {
    /// The day's additions are used up: `left` of `cap` remain (fewer than asked).
    #[error("the day's additions are used up")]
    OverCap { cap: u64, left: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AdditionError {
    /// The sentence for the captain: what the cap is, how many are left, and the way past it.
    pub fn sentence(cap: u64, left: u64) -> String {
        format!(
            "Captains may add {cap} people a day who did not ask to join themselves ({left} left today, NT_DAILY_ADDITIONS_PER_NEIGHBORHOOD): add the rest tomorrow, ask a platform admin to add them, or let them join with the join link."
        )
    }
}

/// Additions reserved for one change; give back the ones that did not happen.
#[derive(Debug)]
#[must_use]
pub struct Reserved {
    neighborhood_id: Uuid,
    date: String,
    /// How many were reserved (counted against the cap).
    pub count: u64,
    /// Whether the adder is a platform admin, whose additions are not counted.
    uncounted: bool,
    /// Whether `count` is held in Redis (false for a dry run's look, which holds nothing).
    held: bool,
}

impl Reserved {
    /// How many of `wanted` may go ahead.
    pub fn granted(&self, wanted: u64) -> u64 {
        if self.uncounted {
            wanted
        } else {
            self.count.min(wanted)
        }
    }

    /// Gives back `unused` of the reserved additions (the change made fewer, or none).
    pub async fn release(self, state: &AppState, unused: u64) {
        let unused = unused.min(self.count);
        if unused == 0 || !self.held {
            return;
        }
        if let Err(error) = state
            .store
            .release_daily_additions(self.neighborhood_id, &self.date, unused)
            .await
        {
            // Errs on the safe side: the day's cap is a little tighter until midnight UTC.
            tracing::warn!(%error, "reserved additions could not be given back");
        }
    }
}

/// Reserves as many of `wanted` additions to the neighborhood as `adder` has left today (all of
/// them for a platform admin); `peek` (a dry run) only reads how many there would be.
pub async fn reserve_up_to(
    state: &AppState,
    neighborhood_id: Uuid,
    wanted: u64,
    adder: Adder,
    peek: bool,
) -> Result<Reserved, StoreError> {
    let date = crate::services::sending::today();
    let cap = state.settings.daily_additions_per_neighborhood;
    let mut reserved = Reserved {
        neighborhood_id,
        date,
        count: 0,
        uncounted: adder == Adder::PlatformAdmin,
        held: false,
    };
    if reserved.uncounted || wanted == 0 {
        return Ok(reserved);
    }
    if peek {
        let used = state
            .store
            .daily_additions(neighborhood_id, &reserved.date)
            .await?;
        reserved.count = cap.saturating_sub(used).min(wanted);
        return Ok(reserved);
    }
    reserved.held = true;
    reserved.count = state
        .store
        .reserve_daily_additions(neighborhood_id, &reserved.date, wanted, cap)
        .await?;
    Ok(reserved)
}

/// Reserves `count` additions for `adder`, all or none.
pub async fn reserve(
    state: &AppState,
    neighborhood_id: Uuid,
    count: u64,
    adder: Adder,
) -> Result<Reserved, AdditionError> {
    let reserved = reserve_up_to(state, neighborhood_id, count, adder, false).await?;
    if reserved.granted(count) == count {
        return Ok(reserved);
    }
    let cap = state.settings.daily_additions_per_neighborhood;
    let left = reserved.count;
    reserved.release(state, left).await;
    Err(AdditionError::OverCap { cap, left })
}
