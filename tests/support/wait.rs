//! Waiting on a condition instead of sleeping a fixed time: poll until it
//! holds, and fail saying what never happened.

use std::time::{Duration, Instant};

/// Polls `check` every 20 ms until it holds; panics after `within` with
/// "timed out after ..: waiting for {what}".
pub fn wait_until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
