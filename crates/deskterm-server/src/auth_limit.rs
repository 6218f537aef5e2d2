//! Slowing down token guessing: after too many failed sign-ins within a
//! window, per presented token and per client address, requests are answered
//! 429 without the token even being looked up.
//!
//! Successful requests are never limited. On a shared jump host every
//! operator comes from one address, so one client with a stale token must
//! not lock the others out: a token that worked within the last hours
//! passes a blocked address (it is still checked, so a revoked one fails).
//! A guesser cannot get onto that list without a valid token.
//!
//! Memory is bounded: both tables are capped, and when full the stalest
//! entry makes room.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits; [`AuthLimits::default`] is what a server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Failures with one token within `window` before it is refused.
    pub per_token: u32,
    /// Failures from one address within `window` before it is refused.
    pub per_address: u32,
    /// How long failures are remembered, counted from the first one.
    pub window: Duration,
}

impl Default for AuthLimits {
    fn default() -> AuthLimits {
        AuthLimits {
            per_token: 5,
            per_address: 20,
            window: Duration::from_secs(60),
        }
    }
}

/// Most tokens and addresses with failures remembered at once.
const FAILURE_ENTRIES_MAX: usize = 10_000;
/// Most recently good tokens remembered at once.
const GOOD_TOKENS_MAX: usize = 1_000;
/// How long a token that worked may pass a blocked address: a working day,
/// so an operator back from a break is not locked out by a neighbour's
/// misconfigured client.
const GOOD_TOKEN_MEMORY: Duration = Duration::from_secs(12 * 3600);

/// A token as the limiter knows it: its SHA-256, never the token itself.
pub(crate) type TokenKey = [u8; 32];

/// Failures counted since `first`.
#[derive(Debug, Clone, Copy)]
struct Failures {
    first: Instant,
    count: u32,
}

/// The failed-sign-in counters of one server.
#[derive(Debug)]
pub(crate) struct FailedAuth {
    limits: AuthLimits,
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    tokens: HashMap<TokenKey, Failures>,
    addresses: HashMap<IpAddr, Failures>,
    /// Tokens that signed in lately, with when they last did.
    good: HashMap<TokenKey, Instant>,
}

impl FailedAuth {
    pub(crate) fn new(limits: AuthLimits) -> FailedAuth {
        FailedAuth {
            limits,
            tables: Mutex::new(Tables::default()),
        }
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // Counters are plain numbers: a panic elsewhere cannot leave them inconsistent.
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long to wait when a request with `token` from `address` must be
    /// refused without looking at the token; `None` lets it through.
    pub(crate) fn refused(
        &self,
        address: Option<IpAddr>,
        token: Option<&TokenKey>,
    ) -> Option<Duration> {
        let now = Instant::now();
        let window = self.limits.window;
        let mut t = self.tables();
        if let Some(token) = token
            && let Some(wait) = blocked(&mut t.tokens, token, self.limits.per_token, window, now)
        {
            return Some(wait);
        }
        let known_good = token
            .and_then(|k| t.good.get(k))
            .is_some_and(|at| now.duration_since(*at) < GOOD_TOKEN_MEMORY);
        if known_good {
            return None;
        }
        let address = address?;
        blocked(
            &mut t.addresses,
            &address,
            self.limits.per_address,
            window,
            now,
        )
    }

    /// Counts a failed sign-in.
    pub(crate) fn failed(&self, address: Option<IpAddr>, token: Option<&TokenKey>) {
        let now = Instant::now();
        let window = self.limits.window;
        let mut t = self.tables();
        if let Some(token) = token {
            t.good.remove(token);
            count(&mut t.tokens, *token, window, now);
        }
        if let Some(address) = address {
            count(&mut t.addresses, address, window, now);
        }
    }

    /// Notes a successful sign-in: the token may pass a blocked address for a while.
    pub(crate) fn succeeded(&self, token: &TokenKey) {
        let now = Instant::now();
        let mut t = self.tables();
        if t.good.len() >= GOOD_TOKENS_MAX && !t.good.contains_key(token) {
            t.good
                .retain(|_, at| now.duration_since(*at) < GOOD_TOKEN_MEMORY);
            if t.good.len() >= GOOD_TOKENS_MAX
                && let Some(stalest) = t.good.iter().min_by_key(|(_, at)| **at).map(|(k, _)| *k)
            {
                t.good.remove(&stalest);
            }
        }
        t.good.insert(*token, now);
    }

    /// How many tokens and addresses have failures remembered (for tests).
    #[cfg(test)]
    fn remembered(&self) -> usize {
        let t = self.tables();
        t.tokens.len() + t.addresses.len()
    }
}

/// The wait left when `key` has `max` failures within the window.
fn blocked<K: Eq + Hash>(
    table: &mut HashMap<K, Failures>,
    key: &K,
    max: u32,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let f = *table.get(key)?;
    let elapsed = now.duration_since(f.first);
    if elapsed >= window {
        table.remove(key);
        return None;
    }
    (f.count >= max).then(|| window - elapsed)
}

/// Adds a failure for `key`, making room when the table is full.
fn count<K: Eq + Hash + Copy>(
    table: &mut HashMap<K, Failures>,
    key: K,
    window: Duration,
    now: Instant,
) {
    if let Some(f) = table.get_mut(&key) {
        if now.duration_since(f.first) >= window {
            *f = Failures {
                first: now,
                count: 1,
            };
        } else {
            f.count = f.count.saturating_add(1);
        }
        return;
    }
    if table.len() >= FAILURE_ENTRIES_MAX {
        table.retain(|_, f| now.duration_since(f.first) < window);
        if table.len() >= FAILURE_ENTRIES_MAX
            && let Some(stalest) = table.iter().min_by_key(|(_, f)| f.first).map(|(k, _)| *k)
        {
            table.remove(&stalest);
        }
    }
    table.insert(
        key,
        Failures {
            first: now,
            count: 1,
        },
    );
}

/// `Retry-After` seconds for a wait: rounded up, at least one.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> AuthLimits {
        AuthLimits {
            per_token: 3,
            per_address: 5,
            window: Duration::from_secs(3600),
        }
    }

    const HOST: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_token_is_refused_after_its_failures() {
        let f = FailedAuth::new(limits());
        let bad = [1u8; 32];
        for _ in 0..3 {
            assert_eq!(f.refused(None, Some(&bad)), None);
            f.failed(None, Some(&bad));
        }
        let wait = f.refused(None, Some(&bad)).expect("refused");
        assert!(wait <= Duration::from_secs(3600));
        assert_eq!(f.refused(None, Some(&[2u8; 32])), None, "other tokens pass");
    }

    #[test]
    fn an_address_is_refused_but_a_recently_good_token_passes() {
        let f = FailedAuth::new(limits());
        let good = [9u8; 32];
        f.succeeded(&good);
        for i in 0..5u8 {
            f.failed(HOST, Some(&[i; 32]));
        }
        assert!(f.refused(HOST, Some(&[100u8; 32])).is_some());
        assert!(f.refused(HOST, None).is_some());
        assert_eq!(f.refused(HOST, Some(&good)), None);
    }

    #[test]
    fn failures_are_forgotten_after_the_window() {
        let f = FailedAuth::new(AuthLimits {
            window: Duration::ZERO,
            ..limits()
        });
        let bad = [1u8; 32];
        for _ in 0..10 {
            f.failed(HOST, Some(&bad));
        }
        assert_eq!(f.refused(HOST, Some(&bad)), None);
    }

    #[test]
    fn memory_is_bounded() {
        let f = FailedAuth::new(limits());
        for i in 0..(FAILURE_ENTRIES_MAX as u32 + 50) {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            f.failed(None, Some(&key));
        }
        assert_eq!(f.remembered(), FAILURE_ENTRIES_MAX);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
    }
}
