//! `TEST_LOG=1` shows the service's logs (its `tracing` events) in a test's output; without it the
//! tests stay silent. `RUST_LOG` picks what is shown (`info` when unset), e.g.
//! `TEST_LOG=1 RUST_LOG=neighborhood_text=debug cargo test --test api join -- --nocapture`.
//!
//! The service installs its own subscriber only in `main` (`telemetry::init_logging`), never when
//! a test builds an app, so this is the process's one global subscriber.

use std::io::IsTerminal;
use std::sync::LazyLock;

use tracing_subscriber::EnvFilter;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_none() {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The test writer goes through libtest's capture: a passing test's logs are hidden (unless
    // --nocapture), a failing test's are printed with its failure. Events from threads other than
    // the test's own (a multi-thread runtime's workers, a `KillableApp`) are printed as they come.
    // `try_init`: should a subscriber be set already, that one stays.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .with_test_writer()
        .try_init();
});

/// Installs the test log subscriber once per test process when `TEST_LOG` is set.
pub fn init() {
    LazyLock::force(&TRACING);
}
