//! How a client waits before it tries again (a `Retry-After`, a backoff, a rate limit's reset):
//! tokio's timer in the product.
//!
//! In the crate's unit tests the wait is recorded instead of slept, so a test asserts the exact
//! wait a server asked for (`waited`) without spending it on the real clock. tokio's paused
//! clock cannot do this there: with nothing else to run while a loopback server answers, it
//! would jump ahead and fire the client's own timeouts.

use std::time::Duration;

/// Wait `wait` before trying again.
pub async fn pause(wait: Duration) {
    #[cfg(not(test))]
    tokio::time::sleep(wait).await;
    #[cfg(test)]
    WAITS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(wait);
}

/// Every wait asked for so far in this test process (nextest runs each test in a process of
/// its own; under `cargo test`, other tests' waits may be there too).
#[cfg(test)]
pub fn waited() -> Vec<Duration> {
    WAITS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

#[cfg(test)]
static WAITS: std::sync::Mutex<Vec<Duration>> = std::sync::Mutex::new(Vec::new());
