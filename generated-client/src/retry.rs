//! The retry policy: which failures are retried, how long to wait, and when to give up.
//!
//! Defaults follow the official Cloudflare SDKs (2 retries, exponential backoff from 0.5 s to
//! 8 s with jitter) but honour the server's `Retry-After` only up to a cap, returning a typed
//! rate-limit error at once above it instead of blocking for minutes. [`RetryPolicy`]'s
//! documentation holds the one table of what is retried.
//!
//! Transport failures are classified on the whole error chain (the I/O error kinds, hyper's
//! and h2's own errors), not on one reqwest predicate: reqwest reports a body cut short as a
//! decode error, and a reset before the head as a request error.

use std::error::Error as StdError;
use std::io;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// When and how a failed attempt is tried again.
///
/// What is retried ([`crate::Error::is_retryable`] says the same of the error that ends a
/// call):
///
/// | failure | retried |
/// | --- | --- |
/// | connection refused or failed, DNS failure, TLS handshake cut off | yes |
/// | connection reset or closed before the response head | yes |
/// | end of file or reset in the middle of the body | yes |
/// | HTTP/2 stream reset (`REFUSED_STREAM`, `INTERNAL_ERROR`, `CANCEL`), `GOAWAY` | yes |
/// | attempt timeout (connecting, waiting, or reading the body) | yes |
/// | 408, 429, 500, 502, 503, 504, and Cloudflare's 520-527 and 530 | yes |
/// | any other status (400, 401, 403, 404, 501, 505, ...) | no |
/// | a complete body that does not decode, a refused certificate | no |
///
/// A 429 (or 503) is retried after its `Retry-After` if that is within
/// [`with_max_retry_after`](Self::with_max_retry_after), else the call ends at once with
/// [`crate::Error::RateLimited`]; every other retry waits the backoff.
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

/// Statuses worth retrying: 408, 429, 500, 502, 503, 504, and Cloudflare's 520-527 (origin
/// errors) and 530; not 501 or 505, which a retry cannot change.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        408 | 429 | 500 | 502 | 503 | 504 | 520..=527 | 530
    )
}

/// Whether a failed request may succeed when sent again: connection failures, resets and ends
/// of file before or inside the response, HTTP/2 stream resets and `GOAWAY`, and timeouts.
/// Not: a request that could not be built, a refused certificate, a complete body that does
/// not decode.
pub(crate) fn is_transient(error: &reqwest::Error) -> bool {
    if certificate_problem(error).is_some() {
        return false;
    }
    if error.is_timeout() || error.is_connect() {
        return true;
    }
    if error.is_builder() || error.is_redirect() || error.is_status() {
        return false;
    }
    causes(error).any(is_transient_cause)
}

/// Why the server's TLS certificate was refused (untrusted issuer, wrong name, expired, ...),
/// when that is what failed: not a transport failure, since every retry meets the same
/// certificate. Each TLS backend reports it in its own error type; a handshake cut off by the
/// network is none of these (its cause is an I/O error) and stays a transport failure.
pub(crate) fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    causes(error).find_map(certificate_refusal)
}

/// One link of an error chain that says the server's certificate was refused, in the words of
/// the TLS library that refused it.
fn certificate_refusal(cause: &(dyn StdError + 'static)) -> Option<String> {
    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs"))]
    if let Some(tls @ rustls::Error::InvalidCertificate(_)) = cause.downcast_ref::<rustls::Error>()
    {
        return Some(tls.to_string());
    }
    #[cfg(feature = "native-tls")]
    if let Some(tls) = cause.downcast_ref::<native_tls::Error>()
        && native::refuses_certificate(tls)
    {
        return Some(tls.to_string());
    }
    let _ = cause;
    None
}

/// native-tls reports every handshake failure as one opaque error; which library is under it
/// depends on the platform, and so does how a refused certificate is told apart.
#[cfg(feature = "native-tls")]
mod native {
    /// Whether `error` (a failed handshake) is the server's certificate failing verification.
    ///
    /// OpenSSL (every platform but Windows and Apple's): the error stack under it holds
    /// `SSL_R_CERTIFICATE_VERIFY_FAILED`, whatever the reason (issuer, name, expiry); a handshake
    /// cut off has an I/O error there instead.
    #[cfg(not(any(windows, target_vendor = "apple")))]
    pub(super) fn refuses_certificate(error: &native_tls::Error) -> bool {
        /// `ERR_LIB_SSL`, the library of the TLS state machine's errors.
        const LIB_SSL: i32 = 20;
        /// `SSL_R_CERTIFICATE_VERIFY_FAILED` (the same number in OpenSSL 1.1, 3 and LibreSSL).
        const CERTIFICATE_VERIFY_FAILED: i32 = 134;
        std::error::Error::source(error)
            .and_then(|cause| cause.downcast_ref::<openssl::error::ErrorStack>())
            .is_some_and(|stack| {
                stack.errors().iter().any(|error| {
                    error.library_code() == LIB_SSL
                        && error.reason_code() == CERTIFICATE_VERIFY_FAILED
                })
            })
    }

    /// SChannel and Secure Transport: their error carries no cause to inspect, only the
    /// platform's status code, which appears in its text; see [`refusing_status`].
    #[cfg(any(windows, target_vendor = "apple"))]
    pub(super) fn refuses_certificate(error: &native_tls::Error) -> bool {
        refusing_status(&format!("{error:?}"))
    }

    /// Whether `text` (the `Debug` form of a native-tls error: `Os { code: N, .. }` on Windows,
    /// `Error { code: N, .. }` on Apple systems) names a status that refuses a certificate.
    #[cfg_attr(not(any(windows, target_vendor = "apple", test)), allow(dead_code))]
    pub(super) fn refusing_status(text: &str) -> bool {
        /// SChannel's and CryptoAPI's (HRESULTs, as i32) and Secure Transport's (OSStatus)
        /// certificate refusals: untrusted root, chain, name, expiry, revocation, bad
        /// certificate.
        const REFUSALS: &[i32] = &[
            0x800B_0109_u32 as i32, // CERT_E_UNTRUSTEDROOT
            0x800B_010A_u32 as i32, // CERT_E_CHAINING
            0x800B_010F_u32 as i32, // CERT_E_CN_NO_MATCH
            0x800B_0101_u32 as i32, // CERT_E_EXPIRED
            0x800B_010C_u32 as i32, // CERT_E_REVOKED
            0x8009_0325_u32 as i32, // SEC_E_UNTRUSTED_ROOT
            0x8009_0322_u32 as i32, // SEC_E_WRONG_PRINCIPAL
            0x8009_0328_u32 as i32, // SEC_E_CERT_EXPIRED
            0x8009_0327_u32 as i32, // SEC_E_CERT_UNKNOWN
            -9807,                  // errSSLXCertChainInvalid
            -9808,                  // errSSLBadCert
            -9812,                  // errSSLUnknownRootCert
            -9813,                  // errSSLNoRootCert
            -9814,                  // errSSLCertExpired
            -9815,                  // errSSLCertNotYetValid
            -9843,                  // errSSLHostNameMismatch
            -67843,                 // errSecNotTrusted
        ];
        let Some(start) = text.find("code: ") else {
            return false;
        };
        let digits: String = text[start + "code: ".len()..]
            .chars()
            .take_while(|c| *c == '-' || c.is_ascii_digit())
            .collect();
        digits
            .parse::<i32>()
            .is_ok_and(|code| REFUSALS.contains(&code))
    }
}

/// The chain of causes under `error`. An I/O error's own `source` skips the error it wraps
/// (hyper and rustls report through wrapped I/O errors), so the walk goes into the wrapped
/// error instead.
fn causes(error: &reqwest::Error) -> impl Iterator<Item = &(dyn StdError + 'static)> {
    std::iter::successors(error.source(), |&current| next_cause(current))
}

/// The cause under `current`; see [`causes`].
fn next_cause<'a>(current: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    match current.downcast_ref::<io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => current.source(),
    }
}

/// One link of an error chain that marks a transport failure.
fn is_transient_cause(cause: &(dyn StdError + 'static)) -> bool {
    if let Some(io) = cause.downcast_ref::<io::Error>() {
        return matches!(
            io.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::NotConnected
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted
        );
    }
    if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
        return hyper.is_incomplete_message()
            || hyper.is_closed()
            || hyper.is_canceled()
            || hyper.is_timeout()
            || hyper.is_body_write_aborted();
    }
    if let Some(h2) = cause.downcast_ref::<h2::Error>() {
        return h2.is_io()
            || h2.is_go_away()
            || matches!(
                h2.reason(),
                Some(
                    h2::Reason::REFUSED_STREAM
                        | h2::Reason::INTERNAL_ERROR
                        | h2::Reason::CANCEL
                        | h2::Reason::ENHANCE_YOUR_CALM
                )
            );
    }
    false
}

/// The delay the server asked for: `retry-after-ms` (milliseconds), else `Retry-After` (seconds
/// or an HTTP date). Zero, negative or unparsable values count as not given; a delay too long
/// to represent saturates to [`Duration::MAX`] (so the cap turns it into an error).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(millis) = text("retry-after-ms").and_then(|value| value.trim().parse::<f64>().ok())
        && millis.is_finite()
        && millis > 0.0
    {
        return Some(saturating_seconds(millis / 1000.0));
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds > 0.0).then(|| saturating_seconds(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    at.duration_since(now).ok().filter(|delay| !delay.is_zero())
}

/// A positive, finite number of seconds as a duration, saturating.
fn saturating_seconds(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::{RetryPolicy, is_retryable_status, is_transient_cause, retry_after};

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
        // Too long to represent: the longest delay, not "not given".
        for huge in ["99999999999999999999999", "1e300"] {
            assert_eq!(
                read(&[("retry-after", huge)]),
                Some(Duration::MAX),
                "{huge}"
            );
        }
        assert_eq!(read(&[("retry-after-ms", "1e300")]), Some(Duration::MAX));
    }

    /// SChannel's and Secure Transport's certificate refusals are told by their status code in
    /// the error's `Debug` text (these platforms' errors have no cause to inspect); other codes,
    /// such as a reset connection's, and text without a code are not refusals.
    #[cfg(feature = "native-tls")]
    #[test]
    fn native_certificate_refusals_are_told_by_their_status_code() {
        use super::native::refusing_status;
        for refused in [
            "Os { code: -2146762487, kind: Uncategorized, message: \"A certificate chain processed, but \
             terminated in a root certificate which is not trusted by the trust provider.\" }",
            "Os { code: -2146893022, kind: Uncategorized, message: \"The target principal name is incorrect.\" }",
            "Error { code: -9807, message: \"invalid certificate chain\" }",
            "Error { code: -9843, message: \"peer hostname mismatch\" }",
        ] {
            assert!(refusing_status(refused), "{refused}");
        }
        for other in [
            "Os { code: 104, kind: ConnectionReset, message: \"Connection reset by peer\" }",
            "Os { code: -2146893048, kind: Uncategorized, message: \"The token supplied to the function is invalid\" }",
            "Error { code: -9806, message: \"connection closed via error\" }",
            "no code here",
            "code: -",
        ] {
            assert!(!refusing_status(other), "{other}");
        }
    }

    /// The retried statuses, exactly: the table in the module documentation.
    #[test]
    fn retryable_statuses_are_the_documented_table() {
        let retried: Vec<u16> = (100..=599)
            .filter(|code| is_retryable_status(StatusCode::from_u16(*code).expect("a status")))
            .collect();
        let mut expected = vec![408, 429, 500, 502, 503, 504];
        expected.extend(520..=527);
        expected.push(530);
        assert_eq!(retried, expected);
    }

    /// I/O resets and ends of file, hyper's closed or incomplete messages and h2's resets of
    /// kinds a new stream may not meet again are transport failures; a refused certificate
    /// (invalid data) and a protocol error are not.
    #[test]
    fn transport_failures_are_classified_on_their_cause() {
        use std::io::{Error, ErrorKind};
        for kind in [
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
            ErrorKind::UnexpectedEof,
            ErrorKind::BrokenPipe,
            ErrorKind::TimedOut,
        ] {
            assert!(is_transient_cause(&Error::from(kind)), "{kind:?}");
        }
        for kind in [
            ErrorKind::InvalidData,
            ErrorKind::PermissionDenied,
            ErrorKind::Other,
        ] {
            assert!(!is_transient_cause(&Error::from(kind)), "{kind:?}");
        }
        for reason in [
            h2::Reason::REFUSED_STREAM,
            h2::Reason::INTERNAL_ERROR,
            h2::Reason::CANCEL,
        ] {
            assert!(is_transient_cause(&h2::Error::from(reason)), "{reason:?}");
        }
        for reason in [h2::Reason::PROTOCOL_ERROR, h2::Reason::FRAME_SIZE_ERROR] {
            assert!(!is_transient_cause(&h2::Error::from(reason)), "{reason:?}");
        }
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
