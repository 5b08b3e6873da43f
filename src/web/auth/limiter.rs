//! Failed sign-ins counted per client address and per user name: past a
//! limit within a window, further tries are refused (429) until the
//! window ends, right password or not, so guessing stays slow.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::lock;

/// Failed sign-ins one client address may make per window.
pub(crate) const PER_CLIENT: u32 = 20;
/// Failed sign-ins into one account per window, from anywhere.
pub(crate) const PER_USER: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept before the stale ones are dropped.
const PRUNE_AT: usize = 10_000;

#[derive(Default)]
pub(crate) struct Limiter {
    failures: Mutex<HashMap<Key, (u32, Instant)>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Client(IpAddr),
    User(String),
}

impl Limiter {
    /// Whether a sign-in by `client` as `user` may be tried now; if not,
    /// how long until it may.
    pub(crate) fn check(&self, client: IpAddr, user: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let map = lock(&self.failures);
        let blocked = |key: Key, limit: u32| match map.get(&key) {
            Some((n, since)) if *n >= limit && now.duration_since(*since) < WINDOW => {
                Some(WINDOW - now.duration_since(*since))
            }
            _ => None,
        };
        match blocked(Key::Client(client), PER_CLIENT)
            .or_else(|| blocked(Key::User(user.to_string()), PER_USER))
        {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub(crate) fn failed(&self, client: IpAddr, user: &str) {
        let now = Instant::now();
        let mut map = lock(&self.failures);
        if map.len() >= PRUNE_AT {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        for key in [Key::Client(client), Key::User(user.to_string())] {
            let entry = map.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// A successful sign-in clears the user's count (not the client's).
    pub(crate) fn succeeded(&self, user: &str) {
        lock(&self.failures).remove(&Key::User(user.to_string()));
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_user_locks_after_the_limit() {
        let l = Limiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..PER_USER {
            assert!(l.check(a, "ann").is_ok());
            l.failed(a, "ann");
        }
        assert!(l.check(a, "ann").is_err());
        assert!(l.check(b, "ann").is_err(), "per user, from any client");
        assert!(l.check(a, "bob").is_ok());
    }

    #[test]
    fn a_client_locks_across_users() {
        let l = Limiter::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        for i in 0..PER_CLIENT {
            l.failed(a, &format!("user{i}"));
        }
        assert!(l.check(a, "someone").is_err());
        assert!(l.check([10, 0, 0, 9].into(), "someone").is_ok());
    }
}
