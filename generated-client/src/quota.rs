//! Reading the rate-limit state a response announces: the IETF `RateLimit` and
//! `RateLimit-Policy` fields (RFC 9651 structured-field lists, the format of
//! draft-ietf-httpapi-ratelimit-headers from -08 on, which Cloudflare sends on every REST
//! response), and the older `X-RateLimit-*` fields as a fallback.
//!
//! The spec does not describe these headers, so the generator cannot type them; the pacer and
//! [`crate::Page::quota`] read them here. A malformed field is ignored, never an error, and an
//! implausible figure is bounded (see [`Quota`]), so that one wrong header cannot hold a client
//! back for years.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName};
use sfv::{BareItem, List, ListEntry, Parameters, Parser};

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The legacy field names, newest convention first: `{prefix}-remaining`, `-reset`, `-limit`.
const LEGACY_PREFIXES: [&str; 2] = ["x-ratelimit", "ratelimit"];

/// Epoch seconds above this in a legacy `*-reset` field are a time, not a delay.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// The longest window a policy may announce: longer ones are read as this (Cloudflare's is
/// five minutes; no HTTP API documents a rate-limit window of more than an hour).
pub const MAX_WINDOW: Duration = Duration::from_secs(3600);

/// The reset assumed when a legacy epoch reset lies more than [`MAX_WINDOW`] away and is
/// ignored: Cloudflare's window.
const ASSUMED_RESET: Duration = Duration::from_secs(300);

/// The rate-limit state one response announced.
///
/// Cloudflare sends `Ratelimit: "default";r=50;t=30` (50 requests left, the quota resets in
/// 30 s) and `Ratelimit-Policy: "default";q=1200;w=300` (1200 requests per 300 s).
///
/// The figures are bounded by what is plausible: a window is at most [`MAX_WINDOW`], a reset
/// never later than the policy's window (or [`MAX_WINDOW`] without one), and a legacy epoch
/// reset further away than that is ignored. [`Quota::bounded`] says when a figure was changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quota {
    /// Requests left before the quota resets.
    pub remaining: u32,
    /// Time from the response until the quota resets.
    pub reset: Duration,
    /// Requests allowed per window, when the policy was announced.
    pub limit: Option<u32>,
    /// The policy's window, when announced.
    pub window: Option<Duration>,
    /// The implausible figure the response announced, when one was bounded.
    pub bounded: Option<Bounded>,
}

/// An implausible figure of a rate-limit field, and what was used instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bounded {
    /// The field and parameter, e.g. `Ratelimit t` or `X-RateLimit-Reset`.
    pub field: &'static str,
    /// The number the server sent.
    pub announced: u64,
    /// The figure used instead.
    pub used: Duration,
    /// Why the number was not used as it was.
    pub reason: BoundReason,
}

/// Why a rate-limit figure was bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoundReason {
    /// A window longer than [`MAX_WINDOW`].
    WindowTooLong,
    /// A reset later than the policy's window (or [`MAX_WINDOW`]).
    ResetPastWindow,
    /// An epoch reset more than [`MAX_WINDOW`] away: ignored, the assumed window used.
    EpochTooFar,
}

impl fmt::Display for Bounded {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            BoundReason::WindowTooLong => "a window longer than an hour",
            BoundReason::ResetPastWindow => "a reset later than the rate-limit window",
            BoundReason::EpochTooFar => "a reset time more than an hour away",
        };
        write!(
            formatter,
            "the API announced {why} ({}={}); {} s used instead",
            self.field,
            self.announced,
            self.used.as_secs()
        )
    }
}

impl Quota {
    /// Reads the quota from a response's headers: the `RateLimit` list (its most restrictive
    /// member) with the matching `RateLimit-Policy` member, else the `X-RateLimit-*` fields.
    /// Malformed or absent fields give `None`.
    pub(crate) fn from_headers(headers: &HeaderMap, now: SystemTime) -> Option<Quota> {
        if let Some(quota) = structured(headers) {
            return Some(quota);
        }
        LEGACY_PREFIXES
            .iter()
            .find_map(|prefix| legacy(headers, prefix, now))
    }
}

/// A policy read from `RateLimit-Policy`: its name, quota and window.
struct Policy {
    name: Option<String>,
    quota: u32,
    window: Duration,
}

fn structured(headers: &HeaderMap) -> Option<Quota> {
    let limits = parse_list(headers, &RATELIMIT)?;
    let (name, remaining, reset) = limits
        .iter()
        .filter_map(|entry| {
            let (name, params) = member(entry)?;
            let remaining = integer(params, "r")?;
            let reset = integer(params, "t").unwrap_or(0);
            Some((name, remaining, reset))
        })
        .min_by_key(|(_, remaining, _)| *remaining)?;
    let policies: Vec<Policy> = parse_list(headers, &RATELIMIT_POLICY)
        .map(|list| {
            list.iter()
                .filter_map(|entry| {
                    let (name, params) = member(entry)?;
                    Some(Policy {
                        name,
                        quota: saturate(integer(params, "q").filter(|quota| *quota > 0)?),
                        window: Duration::from_secs(integer(params, "w").filter(|w| *w > 0)?),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let policy = policies
        .iter()
        .find(|policy| name.is_some() && policy.name == name)
        .or_else(|| (policies.len() == 1).then(|| &policies[0]));
    let mut bounded = None;
    let window = policy.map(|policy| {
        let announced = policy.window;
        if announced > MAX_WINDOW {
            bounded = Some(Bounded {
                field: "Ratelimit-Policy w",
                announced: announced.as_secs(),
                used: MAX_WINDOW,
                reason: BoundReason::WindowTooLong,
            });
        }
        announced.min(MAX_WINDOW)
    });
    let longest = window.unwrap_or(MAX_WINDOW);
    // A window bounded already explains its reset.
    if reset > longest.as_secs() && bounded.is_none() {
        bounded = Some(Bounded {
            field: "Ratelimit t",
            announced: reset,
            used: longest,
            reason: BoundReason::ResetPastWindow,
        });
    }
    Some(Quota {
        remaining: saturate(remaining),
        reset: Duration::from_secs(reset).min(longest),
        limit: policy.map(|policy| policy.quota),
        window,
        bounded,
    })
}

/// Every line of `name` joined as one list, as RFC 9651 section 4.2 prescribes; `None` when
/// absent or malformed.
fn parse_list(headers: &HeaderMap, name: &HeaderName) -> Option<List> {
    let mut joined = String::new();
    for value in headers.get_all(name) {
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        joined.push_str(value.to_str().ok()?);
    }
    if joined.is_empty() {
        return None;
    }
    Parser::new(joined.as_str()).parse::<List>().ok()
}

/// An item member's name (a string or token) and parameters; inner lists are not members of
/// these fields.
fn member(entry: &ListEntry) -> Option<(Option<String>, &Parameters)> {
    let ListEntry::Item(item) = entry else {
        return None;
    };
    let name = match &item.bare_item {
        BareItem::String(text) => Some(text.as_str().to_owned()),
        BareItem::Token(token) => Some(token.as_str().to_owned()),
        _ => None,
    };
    Some((name, &item.params))
}

/// A non-negative integer parameter.
fn integer(params: &Parameters, key: &str) -> Option<u64> {
    let value = params.get(sfv::KeyRef::from_str(key).ok()?)?;
    let number = i64::from(value.as_integer()?);
    u64::try_from(number).ok()
}

fn saturate(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// `{prefix}-remaining` with `{prefix}-reset` (seconds, or epoch seconds) and `{prefix}-limit`.
fn legacy(headers: &HeaderMap, prefix: &str, now: SystemTime) -> Option<Quota> {
    let number = |suffix: &str| {
        let value = headers.get(format!("{prefix}-{suffix}"))?.to_str().ok()?;
        // Early drafts allowed `100, 100;w=60`: the first number is the value.
        let first = value.split([',', ';']).next()?.trim();
        first.parse::<u64>().ok()
    };
    let remaining = number("remaining")?;
    let field = if prefix == "x-ratelimit" {
        "X-RateLimit-Reset"
    } else {
        "RateLimit-Reset"
    };
    let mut bounded = None;
    let reset = match number("reset") {
        Some(at) if at > EPOCH_THRESHOLD => {
            let reset = SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_secs(at))
                .and_then(|time| time.duration_since(now).ok())
                .unwrap_or_default();
            if reset > MAX_WINDOW {
                bounded = Some(Bounded {
                    field,
                    announced: at,
                    used: ASSUMED_RESET,
                    reason: BoundReason::EpochTooFar,
                });
                ASSUMED_RESET
            } else {
                reset
            }
        }
        Some(seconds) if seconds > MAX_WINDOW.as_secs() => {
            bounded = Some(Bounded {
                field,
                announced: seconds,
                used: MAX_WINDOW,
                reason: BoundReason::ResetPastWindow,
            });
            MAX_WINDOW
        }
        Some(seconds) => Duration::from_secs(seconds),
        None => Duration::ZERO,
    };
    Some(Quota {
        remaining: saturate(remaining),
        reset,
        limit: number("limit").filter(|limit| *limit > 0).map(saturate),
        window: None,
        bounded,
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    use super::{BoundReason, Bounded, MAX_WINDOW, Quota};

    fn read(pairs: &[(&'static str, &str)]) -> Option<Quota> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        Quota::from_headers(&headers, now)
    }

    fn quota(remaining: u32, reset: u64, policy: Option<(u32, u64)>) -> Option<Quota> {
        Some(Quota {
            remaining,
            reset: Duration::from_secs(reset),
            limit: policy.map(|(quota, _)| quota),
            window: policy.map(|(_, window)| Duration::from_secs(window)),
            bounded: None,
        })
    }

    /// Cloudflare's own pair of fields, as documented.
    #[test]
    fn cloudflare_fields_give_remaining_reset_and_policy() {
        assert_eq!(
            read(&[
                ("ratelimit", "\"default\";r=50;t=30"),
                ("ratelimit-policy", "\"default\";q=1200;w=300"),
            ]),
            quota(50, 30, Some((1200, 300)))
        );
        // A policy of another name, alone, still describes the limit.
        assert_eq!(
            read(&[
                ("ratelimit", "\"default\";r=50;t=30"),
                ("ratelimit-policy", "\"burst\";q=100;w=60"),
            ]),
            quota(50, 30, Some((100, 60)))
        );
        assert_eq!(
            read(&[("ratelimit", "default;r=0;t=12")]),
            quota(0, 12, None)
        );
    }

    /// With several limits the most restrictive is read, with the policy of its name.
    #[test]
    fn the_most_restrictive_of_several_limits_is_read() {
        assert_eq!(
            read(&[
                ("ratelimit", "\"hour\";r=900;t=3000, \"burst\";r=3;t=20"),
                (
                    "ratelimit-policy",
                    "\"hour\";q=1000;w=3600, \"burst\";q=100;w=60"
                ),
            ]),
            quota(3, 20, Some((100, 60)))
        );
        // The same, split over two header lines.
        assert_eq!(
            read(&[
                ("ratelimit", "\"hour\";r=900;t=3000"),
                ("ratelimit", "\"burst\";r=3;t=20"),
            ]),
            quota(3, 20, None)
        );
    }

    /// Malformed fields are ignored: no quota rather than a wrong one.
    #[test]
    fn malformed_fields_are_ignored() {
        for junk in [
            "\"default\";r=-1;t=30",
            "\"default\";r=ten;t=30",
            "\"default\";r=5.5;t=30",
            "\"default\";t=30",
            "\"default\" r=5",
            "(\"a\" \"b\");r=5",
            "\"unterminated;r=5",
            "",
        ] {
            assert_eq!(read(&[("ratelimit", junk)]), None, "{junk:?}");
        }
        // A malformed policy leaves the limit readable.
        assert_eq!(
            read(&[
                ("ratelimit", "\"default\";r=7;t=3"),
                ("ratelimit-policy", "\"default\";q=0;w=60, broken;;"),
            ]),
            quota(7, 3, None)
        );
        // Huge counts saturate instead of wrapping.
        assert_eq!(
            read(&[("ratelimit", "\"default\";r=99999999999;t=1")]),
            quota(u32::MAX, 1, None)
        );
    }

    /// The older `X-RateLimit-*` fields are read when the structured ones are absent, with a
    /// reset given as seconds or as an epoch time.
    #[test]
    fn legacy_fields_are_tolerated() {
        assert_eq!(
            read(&[
                ("x-ratelimit-limit", "1200"),
                ("x-ratelimit-remaining", "17"),
                ("x-ratelimit-reset", "42"),
            ]),
            Some(Quota {
                remaining: 17,
                reset: Duration::from_secs(42),
                limit: Some(1200),
                window: None,
                bounded: None,
            })
        );
        assert_eq!(
            read(&[
                ("x-ratelimit-remaining", "4"),
                ("x-ratelimit-reset", "1700000090"),
            ]),
            quota(4, 90, None)
        );
        assert_eq!(
            read(&[("ratelimit-remaining", "9"), ("ratelimit-reset", "5")]),
            quota(9, 5, None)
        );
        assert_eq!(read(&[("x-ratelimit-remaining", "lots")]), None);
        // The structured fields win over the legacy ones.
        assert_eq!(
            read(&[
                ("ratelimit", "\"default\";r=1;t=2"),
                ("x-ratelimit-remaining", "100"),
            ]),
            quota(1, 2, None)
        );
    }

    /// A reset later than the policy's window, a window longer than an hour, and a legacy
    /// reset years away are bounded, and say so; none holds the pacer back for longer than the
    /// window it belongs to.
    #[test]
    fn implausible_resets_and_windows_are_bounded() {
        let read_bounded = |pairs: &[(&'static str, &str)]| {
            let quota = read(pairs).expect("a quota");
            (
                quota.reset,
                quota.window,
                quota.bounded.map(|bound| bound.reason),
            )
        };
        let hour = MAX_WINDOW;
        assert_eq!(
            read_bounded(&[("ratelimit", "\"default\";r=0;t=999999999")]),
            (hour, None, Some(BoundReason::ResetPastWindow))
        );
        assert_eq!(
            read_bounded(&[
                ("ratelimit", "\"default\";r=0;t=999999999"),
                ("ratelimit-policy", "\"default\";q=1200;w=300"),
            ]),
            (
                Duration::from_secs(300),
                Some(Duration::from_secs(300)),
                Some(BoundReason::ResetPastWindow)
            )
        );
        assert_eq!(
            read_bounded(&[
                ("ratelimit", "\"default\";r=0;t=30"),
                ("ratelimit-policy", "\"default\";q=1;w=999999999"),
            ]),
            (
                Duration::from_secs(30),
                Some(hour),
                Some(BoundReason::WindowTooLong)
            )
        );
        assert_eq!(
            read_bounded(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "4102444800"),
            ]),
            (
                Duration::from_secs(300),
                None,
                Some(BoundReason::EpochTooFar)
            )
        );
        assert_eq!(
            read_bounded(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "86400"),
            ]),
            (hour, None, Some(BoundReason::ResetPastWindow))
        );
        // At the bound exactly, nothing is changed.
        assert_eq!(
            read_bounded(&[
                ("ratelimit", "\"default\";r=0;t=300"),
                ("ratelimit-policy", "\"default\";q=1200;w=300"),
            ]),
            (
                Duration::from_secs(300),
                Some(Duration::from_secs(300)),
                None
            )
        );
        let said = read(&[("ratelimit", "\"default\";r=0;t=999999999")])
            .and_then(|quota| quota.bounded)
            .map(|bound: Bounded| bound.to_string());
        assert_eq!(
            said.as_deref(),
            Some(
                "the API announced a reset later than the rate-limit window (Ratelimit t=999999999); \
                 3600 s used instead"
            )
        );
    }
}
