//! Reading the rate-limit state a response announces: the IETF `RateLimit` and
//! `RateLimit-Policy` fields (RFC 9651 structured-field lists, the format of
//! draft-ietf-httpapi-ratelimit-headers from -08 on, which Cloudflare sends on every REST
//! response), and the older `X-RateLimit-*` fields as a fallback.
//!
//! The spec does not describe these headers, so the generator cannot type them; the pacer and
//! [`crate::Page::quota`] read them here. A malformed field is ignored, never an error.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName};
use sfv::{BareItem, List, ListEntry, Parameters, Parser};

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// The legacy field names, newest convention first: `{prefix}-remaining`, `-reset`, `-limit`.
const LEGACY_PREFIXES: [&str; 2] = ["x-ratelimit", "ratelimit"];

/// Epoch seconds above this in a legacy `*-reset` field are a time, not a delay.
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// The rate-limit state one response announced.
///
/// Cloudflare sends `Ratelimit: "default";r=50;t=30` (50 requests left, the quota resets in
/// 30 s) and `Ratelimit-Policy: "default";q=1200;w=300` (1200 requests per 300 s).
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
    Some(Quota {
        remaining: saturate(remaining),
        reset: Duration::from_secs(reset),
        limit: policy.map(|policy| policy.quota),
        window: policy.map(|policy| policy.window),
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
    let reset = match number("reset") {
        Some(at) if at > EPOCH_THRESHOLD => (SystemTime::UNIX_EPOCH + Duration::from_secs(at))
            .duration_since(now)
            .unwrap_or_default(),
        Some(seconds) => Duration::from_secs(seconds),
        None => Duration::ZERO,
    };
    Some(Quota {
        remaining: saturate(remaining),
        reset,
        limit: number("limit").filter(|limit| *limit > 0).map(saturate),
        window: None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    use super::Quota;

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
}
