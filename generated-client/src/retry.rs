//! The retry policy: which failures are retried, how long to wait, and when to give up.
//!
//! Defaults follow the official Cloudflare SDKs (2 retries, exponential backoff from 0.5 s to
//! 8 s with jitter) but honour the server's `Retry-After` only up to a cap, returning a typed
//! rate-limit error at once above it instead of blocking for minutes.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// When and how a failed attempt is tried again.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure is returned at once.
    pub fn disabled() -> Self {
        Self::default().with_max_retries(0)
    }

    /// Retries after the first attempt (default 2, so 3 attempts in all).
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first backoff delay and its ceiling (defaults 0.5 s and 8 s).
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest server-requested delay (`Retry-After`) that is waited out (default 60 s).
    /// A longer one ends the call with [`crate::Error::RateLimited`] carrying the delay.
    pub fn with_max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// Also retry methods other than GET/HEAD (off by default: they may not be idempotent).
    pub fn with_non_idempotent_retries(mut self, enabled: bool) -> Self {
        self.retry_non_idempotent = enabled;
        self
    }

    /// Retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The longest `Retry-After` that is waited out.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether requests with `method` may be retried at all.
    pub(crate) fn allows_method(&self, method: &reqwest::Method) -> bool {
        self.retry_non_idempotent || matches!(*method, reqwest::Method::GET | reqwest::Method::HEAD)
    }

    /// Backoff before retry number `retry` (0-based): `min(initial * 2^retry, max)`, reduced by
    /// up to a quarter at random so that many clients do not retry in step.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        let base = self
            .initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff);
        base.mul_f64(1.0 - 0.25 * fastrand::f64())
    }
}

/// Statuses worth retrying: 408, 429, 500, 502, 503, 504.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// The delay the server asked for: `retry-after-ms` (milliseconds), else `Retry-After` (seconds
/// or an HTTP date). Zero, negative or unparsable values count as not given.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(millis) = text("retry-after-ms").and_then(|value| value.trim().parse::<f64>().ok())
        && millis.is_finite()
        && millis > 0.0
    {
        return Duration::try_from_secs_f64(millis / 1000.0).ok();
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds > 0.0)
            .then(|| Duration::try_from_secs_f64(seconds).ok())
            .flatten();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    at.duration_since(now).ok().filter(|delay| !delay.is_zero())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::header::{HeaderMap, HeaderValue};

    use super::{RetryPolicy, retry_after};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// `retry-after-ms` wins over `Retry-After`; seconds and HTTP dates are read; zero,
    /// negative, past and garbage values count as not given.
    #[test]
    fn retry_after_reads_milliseconds_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let read = |pairs: &[(&'static str, &str)]| retry_after(&headers(pairs), now);
        assert_eq!(
            read(&[("retry-after-ms", "1500"), ("retry-after", "9")]),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(read(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        assert_eq!(
            read(&[("retry-after", "0.25")]),
            Some(Duration::from_millis(250))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            read(&[("retry-after", &later)]),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(read(&[("retry-after", &earlier)]), None);
        for junk in ["0", "-3", "soon", "NaN", "inf"] {
            assert_eq!(read(&[("retry-after", junk)]), None, "{junk}");
        }
        assert_eq!(
            read(&[("retry-after-ms", "0"), ("retry-after", "2")]),
            Some(Duration::from_secs(2))
        );
        assert_eq!(read(&[]), None);
    }

    /// Backoff doubles from 0.5 s up to 8 s, minus at most a quarter of jitter.
    #[test]
    fn backoff_doubles_up_to_the_ceiling_with_bounded_jitter() {
        let policy = RetryPolicy::default();
        for (retry, full) in [
            (0, 0.5),
            (1, 1.0),
            (2, 2.0),
            (3, 4.0),
            (4, 8.0),
            (5, 8.0),
            (40, 8.0),
        ] {
            for _ in 0..50 {
                let delay = policy.backoff(retry).as_secs_f64();
                assert!(
                    delay <= full && delay >= full * 0.75,
                    "retry {retry}: {delay}"
                );
            }
        }
    }

    /// Only GET and HEAD are retried unless the caller opts in.
    #[test]
    fn only_idempotent_methods_are_retried_by_default() {
        let policy = RetryPolicy::default();
        assert!(policy.allows_method(&reqwest::Method::GET));
        assert!(!policy.allows_method(&reqwest::Method::POST));
        assert!(
            policy
                .with_non_idempotent_retries(true)
                .allows_method(&reqwest::Method::POST)
        );
    }
}
