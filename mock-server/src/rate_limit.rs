//! Emulation of Cloudflare's API rate limit: fixed windows of a quota of requests, a lock-out with 429 once the
//! quota is spent, and the IETF `Ratelimit` / `Ratelimit-Policy` fields on every response, so that a client's
//! throttling and back-off can be tested against the real protocol rather than a canned 429.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::journal::lock;

/// A rate limit: at most `quota` requests per fixed window of `window`; the request over budget starts a lock-out
/// of `lockout` during which every request is answered 429.
///
/// The first request counted starts a window; up to `quota` requests in it are served. The next one, and every
/// request in the `lockout` that starts with it, gets 429 with `Retry-After`; no request counts towards a new window
/// during the lock-out, and the first request after it starts one. Every request that reaches the server counts,
/// authorised or not.
///
/// The text form (`--rate-limit` on the binary) is `Q:W[:LOCKOUT]`, all in whole seconds, `LOCKOUT` defaulting
/// to `W`; e.g. Cloudflare's documented global limit is `1200:300:300`. Durations are meant as whole seconds: the
/// headers and [`fmt::Display`] round sub-second parts up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MockRateLimit {
    /// Requests served per window.
    pub quota: u32,
    /// Length of a window, from its first request.
    pub window: Duration,
    /// Length of the lock-out, from the request over budget.
    pub lockout: Duration,
}

impl MockRateLimit {
    /// `quota` requests per `window`, with a lock-out as long as the window.
    pub fn new(quota: u32, window: Duration) -> Self {
        MockRateLimit {
            quota,
            window,
            lockout: window,
        }
    }

    /// The `Ratelimit-Policy` field value: `"default";q=<quota>;w=<window seconds>`.
    pub fn policy_header(&self) -> String {
        format!("\"default\";q={};w={}", self.quota, ceil_secs(self.window))
    }

    /// The message of the 429's failure envelope: `More than <Q> requests per <W> seconds reached`.
    pub fn exceeded_message(&self) -> String {
        format!(
            "More than {} requests per {} seconds reached",
            self.quota,
            ceil_secs(self.window)
        )
    }
}

impl fmt::Display for MockRateLimit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}:{}",
            self.quota,
            ceil_secs(self.window),
            ceil_secs(self.lockout)
        )
    }
}

impl FromStr for MockRateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split(':').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(format!(
                "{text:?}: expected QUOTA:WINDOW[:LOCKOUT] (a request count, then seconds)"
            ));
        }
        let num = |index: usize, what: &str| -> Result<u64, String> {
            let count = parts[index].parse::<u64>().map_err(|_| {
                format!(
                    "{text:?}: {what} must be a whole number, not {:?}",
                    parts[index]
                )
            })?;
            if count == 0 {
                return Err(format!("{text:?}: {what} must be at least 1"));
            }
            Ok(count)
        };
        let quota = u32::try_from(num(0, "quota (requests per window)")?)
            .map_err(|_| format!("{text:?}: quota must be at most {}", u32::MAX))?;
        let window = Duration::from_secs(num(1, "window (seconds)")?);
        let lockout = match parts.get(2) {
            Some(_) => Duration::from_secs(num(2, "lock-out (seconds)")?),
            None => window,
        };
        Ok(MockRateLimit {
            quota,
            window,
            lockout,
        })
    }
}

/// Whole seconds, rounded up.
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// What the limiter decided for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Serve it; `remaining` requests are left in the window, which resets in `reset_secs`.
    Allowed { remaining: u32, reset_secs: u64 },
    /// Answer 429; the lock-out ends in `retry_after_secs`.
    Limited { retry_after_secs: u64 },
}

impl Admission {
    /// The `Ratelimit` field value: `"default";r=<remaining>;t=<seconds>`.
    pub(crate) fn header(&self) -> String {
        let (r, t) = match *self {
            Admission::Allowed {
                remaining,
                reset_secs,
            } => (remaining, reset_secs),
            Admission::Limited { retry_after_secs } => (0, retry_after_secs),
        };
        format!("\"default\";r={r};t={t}")
    }
}

/// Where the limiter is in its cycle.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// No window open: the next request starts one.
    Idle,
    /// A window started at `start`, with `used` requests served in it.
    Open { start: Instant, used: u32 },
    /// Locked out until `until`.
    Locked { until: Instant },
}

/// The limiter shared by all connections: one small state behind a mutex.
#[derive(Debug)]
pub(crate) struct Limiter {
    pub(crate) limit: MockRateLimit,
    phase: Mutex<Phase>,
}

impl Limiter {
    pub(crate) fn new(limit: MockRateLimit) -> Self {
        Limiter {
            limit,
            phase: Mutex::new(Phase::Idle),
        }
    }

    /// Counts one request arriving at `now` and decides its fate.
    pub(crate) fn admit(&self, now: Instant) -> Admission {
        let limit = &self.limit;
        let mut phase = lock(&self.phase);
        let (start, used) = match *phase {
            Phase::Locked { until } if now < until => {
                return Admission::Limited {
                    retry_after_secs: ceil_secs(until - now).max(1),
                };
            }
            Phase::Open { start, used } if now < start + limit.window => (start, used),
            Phase::Idle | Phase::Locked { .. } | Phase::Open { .. } => (now, 0),
        };
        if used < limit.quota {
            *phase = Phase::Open {
                start,
                used: used + 1,
            };
            Admission::Allowed {
                remaining: limit.quota - used - 1,
                reset_secs: ceil_secs((start + limit.window).saturating_duration_since(now)).max(1),
            }
        } else {
            *phase = Phase::Locked {
                until: now + limit.lockout,
            };
            Admission::Limited {
                retry_after_secs: ceil_secs(limit.lockout).max(1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    fn allowed(remaining: u32, reset_secs: u64) -> Admission {
        Admission::Allowed {
            remaining,
            reset_secs,
        }
    }

    fn limited(retry_after_secs: u64) -> Admission {
        Admission::Limited { retry_after_secs }
    }

    /// A full cycle on a synthetic clock: a window of 3, the over-budget request, the lock-out, a new window.
    #[test]
    fn windows_and_lockout_follow_the_clock() {
        let limiter = Limiter::new(MockRateLimit {
            quota: 3,
            window: secs(10),
            lockout: secs(20),
        });
        let t0 = Instant::now();
        let at = |millis: u64| t0 + Duration::from_millis(millis);
        assert_eq!(limiter.admit(at(0)), allowed(2, 10));
        assert_eq!(limiter.admit(at(1_500)), allowed(1, 9));
        assert_eq!(limiter.admit(at(9_999)), allowed(0, 1));
        // Over budget at 9.999 s: locked out until 29.999 s.
        assert_eq!(limiter.admit(at(9_999)), limited(20));
        // The window would have reset at 10 s, but the lock-out holds and counts nothing.
        assert_eq!(limiter.admit(at(10_000)), limited(20));
        assert_eq!(limiter.admit(at(29_000)), limited(1));
        // The first request after the lock-out opens a new window.
        assert_eq!(limiter.admit(at(29_999)), allowed(2, 10));
        assert_eq!(limiter.admit(at(35_000)), allowed(1, 5));
        // A window that ran out without being exceeded simply starts over.
        assert_eq!(limiter.admit(at(40_000)), allowed(2, 10));
    }

    /// Durations that are not whole seconds round up in the headers and never show `t=0` or `Retry-After: 0`.
    #[test]
    fn seconds_round_up_and_never_reach_zero() {
        let limiter = Limiter::new(MockRateLimit {
            quota: 1,
            window: Duration::from_millis(1_500),
            lockout: Duration::ZERO,
        });
        let t0 = Instant::now();
        assert_eq!(limiter.admit(t0), allowed(0, 2));
        assert_eq!(limiter.admit(t0), limited(1));
        assert_eq!(allowed(4, 60).header(), "\"default\";r=4;t=60");
        assert_eq!(limited(7).header(), "\"default\";r=0;t=7");
        let limit = MockRateLimit::new(5, Duration::from_millis(2_100));
        assert_eq!(limit.policy_header(), "\"default\";q=5;w=3");
        assert_eq!(
            limit.exceeded_message(),
            "More than 5 requests per 3 seconds reached"
        );
    }
}
