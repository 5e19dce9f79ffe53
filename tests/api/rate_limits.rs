//! Rate limits against the real Redis: GCRA bursts and spacing, one limit shared by instances,
//! recovery after `retry_after`, refused hits that cost nothing.

use std::time::{Duration, Instant};

use neighborhood_text::store::Store;
use neighborhood_text::store::keys::Keys;
use neighborhood_text::store::rate_limits::{RateDecision, RateLimit, retry_after_secs};

use crate::helpers::{redis_endpoint, unique_prefix};

fn store_with_prefix(prefix: &str) -> Store {
    Store::connect(&redis_endpoint(), prefix, Duration::from_secs(2)).expect("store")
}

fn limit(max: u32, window: Duration) -> RateLimit {
    RateLimit {
        name: "test-limit",
        max,
        window,
    }
}

async fn hit(store: &Store, limit: &RateLimit, subject: &str) -> RateDecision {
    store.hit_rate_limit(limit, subject).await.expect("hit")
}

fn retry_after(decision: RateDecision) -> Duration {
    match decision {
        RateDecision::Limited { retry_after } => retry_after,
        RateDecision::Allowed => panic!("expected the hit to be limited"),
    }
}

/// Hits until a hit is allowed (refused hits cost nothing), failing after 5 s.
async fn poll_until_allowed(store: &Store, limit: &RateLimit, subject: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while hit(store, limit, subject).await != RateDecision::Allowed {
        assert!(
            Instant::now() < deadline,
            "{subject} still limited after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_limit_allows_its_burst_then_refuses_with_a_retry_after() {
    let store = store_with_prefix(&unique_prefix());
    let limit = limit(3, Duration::from_secs(60));

    for n in 1..=3 {
        assert_eq!(
            hit(&store, &limit, "+15550000001").await,
            RateDecision::Allowed,
            "hit {n} of a burst of 3"
        );
    }
    let wait = retry_after(hit(&store, &limit, "+15550000001").await);
    // One hit every 20 s: the next one is due 20 s after the first, which was just now.
    assert!(
        wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
        "retry_after {wait:?}"
    );

    assert_eq!(
        hit(&store, &limit, "+15550000002").await,
        RateDecision::Allowed
    );
    let other_limit = RateLimit {
        name: "another-limit",
        ..limit
    };
    assert_eq!(
        hit(&store, &other_limit, "+15550000001").await,
        RateDecision::Allowed
    );
}

#[tokio::test]
async fn the_key_expires_when_it_no_longer_constrains_anything() {
    let prefix = unique_prefix();
    let store = store_with_prefix(&prefix);
    let limit = limit(3, Duration::from_secs(60));
    let key = Keys::new(prefix.as_str()).rate_limit(limit.name, "10.0.0.1");
    let mut conn = crate::helpers::test_redis().await;
    let pttl = |conn: &mut neighborhood_text::store::connection::RedisConnection| {
        let mut conn = conn.clone();
        let key = key.clone();
        async move {
            redis::cmd("PTTL")
                .arg(&key)
                .query_async::<i64>(&mut conn)
                .await
                .expect("PTTL")
        }
    };

    assert_eq!(pttl(&mut conn).await, -2, "no key before the first hit");
    hit(&store, &limit, "10.0.0.1").await;
    let one = pttl(&mut conn).await;
    assert!(one > 15_000 && one <= 20_000, "PTTL after one hit: {one}");
    hit(&store, &limit, "10.0.0.1").await;
    hit(&store, &limit, "10.0.0.1").await;
    let full = pttl(&mut conn).await;
    assert!(full > 55_000 && full <= 60_000, "PTTL after 3 hits: {full}");
    retry_after(hit(&store, &limit, "10.0.0.1").await);
    let after_refusal = pttl(&mut conn).await;
    assert!(
        after_refusal <= full,
        "a refused hit extended the key: {after_refusal} > {full}"
    );
}

#[tokio::test]
async fn two_instances_share_one_limit() {
    let prefix = unique_prefix();
    let first = store_with_prefix(&prefix);
    let second = store_with_prefix(&prefix);
    let limit = limit(3, Duration::from_secs(60));

    // The 4th hit overall is refused, whichever instance makes it.
    for (subject, fourth_by_first) in [("198.51.100.1", false), ("198.51.100.2", true)] {
        let stores = if fourth_by_first {
            [&second, &first, &second, &first]
        } else {
            [&first, &second, &first, &second]
        };
        for (n, store) in stores[..3].iter().enumerate() {
            assert_eq!(
                hit(store, &limit, subject).await,
                RateDecision::Allowed,
                "{subject}: hit {}",
                n + 1
            );
        }
        retry_after(hit(stores[3], &limit, subject).await);
        retry_after(hit(stores[2], &limit, subject).await);
    }
}

#[tokio::test]
async fn a_limited_subject_recovers_after_its_retry_after() {
    let store = store_with_prefix(&unique_prefix());
    let limit = limit(2, Duration::from_millis(400));

    assert_eq!(hit(&store, &limit, "s").await, RateDecision::Allowed);
    assert_eq!(hit(&store, &limit, "s").await, RateDecision::Allowed);
    let told = retry_after(hit(&store, &limit, "s").await);
    let limited_at = Instant::now();
    assert!(told <= Duration::from_millis(200), "retry_after {told:?}");

    poll_until_allowed(&store, &limit, "s").await;
    let waited = limited_at.elapsed();
    assert!(
        waited >= Duration::from_millis(150),
        "recovered after {waited:?}: not because of the window"
    );
    assert!(
        waited + Duration::from_millis(10) >= told,
        "allowed after {waited:?}, before the {told:?} it was told to wait"
    );
}

#[tokio::test]
async fn refused_hits_do_not_consume_capacity() {
    let store = store_with_prefix(&unique_prefix());
    // One hit every 500 ms: a refused hit that counted would push recovery 500 ms further.
    let limit = limit(2, Duration::from_secs(1));

    assert_eq!(hit(&store, &limit, "s").await, RateDecision::Allowed);
    assert_eq!(hit(&store, &limit, "s").await, RateDecision::Allowed);
    let started = Instant::now();
    let first = retry_after(hit(&store, &limit, "s").await);
    let mut previous = first;
    for n in 1..=10 {
        let again = retry_after(hit(&store, &limit, "s").await);
        assert!(
            again <= previous,
            "refused hit {n} pushed recovery from {previous:?} to {again:?}"
        );
        previous = again;
    }

    poll_until_allowed(&store, &limit, "s").await;
    let recovered = started.elapsed();
    assert!(
        recovered <= first + Duration::from_millis(200),
        "recovered after {recovered:?}, first told {first:?}"
    );
}

#[test]
fn retry_after_secs_rounds_up() {
    assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    assert_eq!(retry_after_secs(Duration::from_secs(900)), 900);
    assert_eq!(retry_after_secs(Duration::ZERO), 1);
}
