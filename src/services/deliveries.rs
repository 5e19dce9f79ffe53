//! Acting on something Twilio tells us exactly once, whoever hears of it: a webhook delivery
//! (and Twilio's repeats of it) or the backfill re-reading the same message from Twilio later.
//! Both claim it in Redis under the same marks (`added:<MessageSid>`, `sms:<MessageSid>`, the
//! idempotency token), across instances.

use std::future::Future;
use std::time::Duration;

use uuid::Uuid;

use crate::state::AppState;
use crate::store::StoreError;
use crate::store::webhooks::{CLAIM_LEASE, Claim, Delivery};

/// How long a repeat waits for the request acting on the same delivery (on this instance or
/// another) to finish, so that it is answered alike; then it gets 503 and Twilio asks again.
const REPEAT_WAIT: Duration = Duration::from_secs(2);
const REPEAT_POLL: Duration = Duration::from_millis(50);

/// What became of a delivery handed to [`once`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Once {
    /// This request acted on it.
    Acted,
    /// It was acted on before: answer as the first was.
    Repeat,
    /// Another request is still acting on it past [`REPEAT_WAIT`].
    InProgress,
}

/// How long a failed "done" mark (or release) is tried again: well within the claim's lease,
/// after which a repeat (the backfill re-reading the message, say) would act a second time. A
/// Redis failover takes seconds, so the mark lands once the new primary answers.
const LATER_RETRIES_FOR: Duration = Duration::from_secs(CLAIM_LEASE.as_secs() - 5);

/// What becomes of a claim whose first answer could not be written.
#[derive(Debug, Clone, Copy)]
enum Settle {
    /// Acted on: marked done, so no repeat acts again.
    Finish,
    /// Not acted on: let go, so the backfill (or Twilio's repeat) acts on it as soon as Redis
    /// answers, rather than once the lease ends.
    Release,
}

/// Settles a claim once Redis answers again.
async fn settle_later(state: AppState, claim: Claim, settle: Settle) {
    let deadline = tokio::time::Instant::now() + LATER_RETRIES_FOR;
    let mut pause = Duration::from_millis(200);
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(pause).await;
        let settled = match settle {
            Settle::Finish => state.store.finish_delivery(&claim).await,
            Settle::Release => state.store.release_delivery(&claim).await,
        };
        match settled {
            Ok(()) => return,
            Err(_) => pause = (pause * 2).min(Duration::from_secs(2)),
        }
    }
    match settle {
        Settle::Finish => tracing::error!(
            "a handled delivery could not be marked done within its lease: a repeat may act on it again"
        ),
        Settle::Release => tracing::warn!(
            "a delivery that failed could not be let go; it is acted on once its lease ends"
        ),
    }
}

/// Runs `act` on a delivery unless it was acted on already (by any instance): claims it under
/// `marks`, acts, and marks it done; when `act` fails the claim is let go, so a retry acts.
pub async fn once<E, Fut>(
    state: &AppState,
    neighborhood_id: Uuid,
    marks: &[String],
    act: impl FnOnce() -> Fut,
) -> Result<Once, E>
where
    E: From<StoreError>,
    Fut: Future<Output = Result<(), E>>,
{
    let deadline = tokio::time::Instant::now() + REPEAT_WAIT;
    let claim = loop {
        match state.store.claim_delivery(neighborhood_id, marks).await? {
            Delivery::First(claim) => break claim,
            Delivery::Done => return Ok(Once::Repeat),
            Delivery::InProgress if tokio::time::Instant::now() + REPEAT_POLL < deadline => {
                tokio::time::sleep(REPEAT_POLL).await;
            }
            Delivery::InProgress => return Ok(Once::InProgress),
        }
    };
    match act().await {
        Ok(()) => {
            // Acted on. Answering 503 for a mark that fails would bring a repeat sooner; the mark
            // is tried again in the background instead, within the claim's lease.
            if let Err(error) = state.store.finish_delivery(&claim).await {
                tracing::warn!(%error, "a handled delivery was not marked done yet; trying again");
                tokio::spawn(settle_later(state.clone(), claim, Settle::Finish));
            }
            Ok(Once::Acted)
        }
        Err(error) => {
            if let Err(release) = state.store.release_delivery(&claim).await {
                tracing::warn!(error = %release, "a failed delivery's claim was not let go yet; trying again");
                tokio::spawn(settle_later(state.clone(), claim, Settle::Release));
            }
            Err(error)
        }
    }
}
