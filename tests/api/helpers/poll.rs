//! Waiting for what happens in the background (the outbox, the scheduler, texts on the simulated
//! phones): poll with backoff until a deadline, then fail the test naming what never came.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// The first pause between two polls; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// Long enough not to hammer Redis and the app on a busy 2-core machine, short enough that a
/// test does not wait long after the thing it waits for has happened.
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// Calls `check` until it returns `Some`, and returns that value; fails the test with `what` once
/// `within` has passed. The pause between calls grows from 10 ms to 100 ms, never past the
/// deadline, and `check` runs once more at the deadline.
pub async fn poll_until<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Polls `check` until it returns true, failing the test after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    poll_until(timeout, what, || {
        let done = check();
        async move { done.await.then_some(()) }
    })
    .await
}
