//! Fault injection: the misbehaviours a client must survive (rate limits, 5XX, broken bodies, proxy pages, slow
//! answers, connections cut or reset by the network, HTTP/2 streams reset and connections shut down, bad cursors),
//! selectable per run, plus a script of canned responses for tests that need one exact answer at one exact
//! request.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::envelope::{codes, failure_body};

/// The HTML page a proxy in front of the API answers with on a 502.
pub const HTML_ERROR_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";

/// A fault injected into normal serving.
///
/// Count-based faults fire on every `every`-th request that reaches normal serving (1-based: `every: 3` hits
/// requests 3, 6, 9, ...); requests answered from the canned script, or refused by the rate-limit emulation
/// ([`crate::MockRateLimit`]), are not counted. `GoAway` is the exception: it counts every request received on one
/// connection. When several count-based faults fire on the same request, the first in configuration order that
/// answers wins (`RateLimit`, `ServerError`, `HtmlErrorPage`, `ResetBeforeHead`), else the first that changes how
/// the normal answer is sent (`TruncatedBody`, `DropMidBody`, `ResetStream`, `Stall`); `Slow` only delays and
/// `GoAway` only ends the connection after the answer, and both combine with the others.
///
/// Every fault works over HTTP/1.1 and, with [`crate::Config::with_tls`], over HTTP/2; where the two differ, the
/// variant says what each sends. Each fault has a textual form, parsed by [`FromStr`] and used by the binary's
/// `--fault` flag: `rate-limit:K[:SECS]`, `server-error:K[:STATUS]`, `truncate:K`, `html:K`, `slow:K:MILLIS`,
/// `drop-mid-body:K`, `reset-before-head:K`, `stall:K:MILLIS`, `rst-stream:K`, `goaway:K`, `repeat-cursor`,
/// `empty-cursor`, `endless-insights`, `repeat-insights-page`, `insights-count-drift`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// 429 with `Retry-After: retry_after_secs` and a rate-limit envelope (code 971).
    RateLimit {
        /// Period in requests.
        every: u64,
        /// Value of the `Retry-After` header, in seconds.
        retry_after_secs: u64,
    },
    /// A 5XX (e.g. 503) with a failure envelope.
    ServerError {
        /// Period in requests.
        every: u64,
        /// The status to answer with (500..=599).
        status: u16,
    },
    /// 200 with the normal body cut in half (a consistent `Content-Length`, so the JSON is what breaks).
    TruncatedBody {
        /// Period in requests.
        every: u64,
    },
    /// 502 `text/html` from a "proxy" ([`HTML_ERROR_PAGE`]).
    HtmlErrorPage {
        /// Period in requests.
        every: u64,
    },
    /// Waits `delay` before answering (then answers normally, or with another fault).
    Slow {
        /// Period in requests (1 = every request).
        every: u64,
        /// How long to wait.
        delay: Duration,
    },
    /// The normal answer's head with its full `Content-Length`, about half of its body, then the connection is
    /// closed: the client reads an early end of file. HTTP/1.1: exactly the first half, then a FIN. HTTP/2: the
    /// HEADERS frame, DATA frames with the first half (less at most a few hundred bytes still in flight), then the
    /// whole TCP connection is closed (a FIN, without RST_STREAM, GOAWAY or TLS close_notify): every stream on it
    /// fails. Over TLS neither protocol sends close_notify.
    DropMidBody {
        /// Period in requests.
        every: u64,
    },
    /// The request is read, then the connection is reset (`SO_LINGER` 0) without a byte of response. HTTP/2: the
    /// whole TCP connection is reset, with no frame for the stream (no HEADERS, RST_STREAM or GOAWAY), so every
    /// stream on it fails.
    ResetBeforeHead {
        /// Period in requests.
        every: u64,
    },
    /// The normal answer's head with its full `Content-Length`, then nothing for `delay`, then the connection is
    /// closed (unlike `Slow`, which waits before the head): trips a client's timeout mid-body. HTTP/2: the HEADERS
    /// frame, nothing for `delay`, then the whole TCP connection is closed as with `DropMidBody`.
    Stall {
        /// Period in requests.
        every: u64,
        /// How long to send nothing after the head.
        delay: Duration,
    },
    /// HTTP/2: the HEADERS frame with the full `content-length`, DATA frames with about the first half of the body
    /// (less at most a few hundred bytes still in flight), then RST_STREAM with INTERNAL_ERROR on that stream; the
    /// connection and its other streams go on. HTTP/1.1 has no streams to reset: the answer is cut as by
    /// `DropMidBody` (exactly the first half, then the connection closes).
    ResetStream {
        /// Period in requests.
        every: u64,
    },
    /// After every `every`-th request received on one connection (counting every request on it, canned answers
    /// and 429s included), that connection is shut down gracefully; the request is answered normally (or by
    /// another fault). HTTP/2: GOAWAY with NO_ERROR (hyper's two steps: last stream id 2^31-1, then, after a PING,
    /// the last stream it took), in-flight requests finish, then the connection closes, and the next request needs
    /// a new connection. HTTP/1.1: the answer carries `Connection: close` and the connection closes after it.
    GoAway {
        /// Period in requests on one connection.
        every: u64,
    },
    /// A page fetched with a cursor hands back that same cursor as the next one (a pagination loop).
    RepeatedCursor,
    /// The last page carries `"cursor": ""` instead of leaving it out.
    EmptyCursorOnLastPage,
    /// The insight lists never run out: every page is full, the list starting over past its end (the `k`-th
    /// insight of a walk is insight `k mod count`), with the true `count`; pages past `count` are still full.
    EndlessInsights,
    /// Every page of an insight list holds page 1's insights (labelled as the page asked for): the same page
    /// served again and again.
    RepeatedInsightsPage,
    /// An insight list's `count` grows by one with every insight-list answer the server has sent before (the
    /// first is true), so it changes in the middle of a walk; the insights served are the true ones.
    InsightsCountDrift,
}

impl Fault {
    /// Whether this count-based fault fires on the `number`-th counted request.
    pub(crate) fn fires(&self, number: u64) -> bool {
        let every = match self {
            Fault::RateLimit { every, .. }
            | Fault::ServerError { every, .. }
            | Fault::TruncatedBody { every }
            | Fault::HtmlErrorPage { every }
            | Fault::Slow { every, .. }
            | Fault::DropMidBody { every }
            | Fault::ResetBeforeHead { every }
            | Fault::Stall { every, .. }
            | Fault::ResetStream { every } => *every,
            Fault::GoAway { .. }
            | Fault::RepeatedCursor
            | Fault::EmptyCursorOnLastPage
            | Fault::EndlessInsights
            | Fault::RepeatedInsightsPage
            | Fault::InsightsCountDrift => return false,
        };
        every != 0 && number.is_multiple_of(every)
    }

    /// Whether this fault shuts a connection down after its `number`-th request.
    pub(crate) fn fires_on_connection(&self, number: u64) -> bool {
        matches!(self, Fault::GoAway { every } if *every != 0 && number.is_multiple_of(*every))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::RateLimit {
                every,
                retry_after_secs,
            } => write!(formatter, "rate-limit:{every}:{retry_after_secs}"),
            Fault::ServerError { every, status } => {
                write!(formatter, "server-error:{every}:{status}")
            }
            Fault::TruncatedBody { every } => write!(formatter, "truncate:{every}"),
            Fault::HtmlErrorPage { every } => write!(formatter, "html:{every}"),
            Fault::Slow { every, delay } => write!(formatter, "slow:{every}:{}", delay.as_millis()),
            Fault::DropMidBody { every } => write!(formatter, "drop-mid-body:{every}"),
            Fault::ResetBeforeHead { every } => write!(formatter, "reset-before-head:{every}"),
            Fault::Stall { every, delay } => {
                write!(formatter, "stall:{every}:{}", delay.as_millis())
            }
            Fault::ResetStream { every } => write!(formatter, "rst-stream:{every}"),
            Fault::GoAway { every } => write!(formatter, "goaway:{every}"),
            Fault::RepeatedCursor => formatter.write_str("repeat-cursor"),
            Fault::EmptyCursorOnLastPage => formatter.write_str("empty-cursor"),
            Fault::EndlessInsights => formatter.write_str("endless-insights"),
            Fault::RepeatedInsightsPage => formatter.write_str("repeat-insights-page"),
            Fault::InsightsCountDrift => formatter.write_str("insights-count-drift"),
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split(':').collect();
        let num = |index: usize, what: &str| -> Result<u64, String> {
            let raw = parts
                .get(index)
                .ok_or_else(|| format!("{text:?}: missing {what}"))?;
            raw.parse::<u64>()
                .map_err(|_| format!("{text:?}: {what} must be a whole number"))
        };
        let every = |index: usize| -> Result<u64, String> {
            let k = num(index, "period K")?;
            if k == 0 {
                return Err(format!("{text:?}: period K must be at least 1"));
            }
            Ok(k)
        };
        let arity = |min: usize, max: usize, form: &str| -> Result<(), String> {
            if parts.len() < min || parts.len() > max {
                return Err(format!(
                    "{text:?}: wrong number of ':'-separated values, expected {form}"
                ));
            }
            Ok(())
        };
        match parts[0] {
            "rate-limit" => {
                arity(2, 3, "rate-limit:K[:SECS]")?;
                let retry_after_secs = if parts.len() == 3 {
                    num(2, "seconds")?
                } else {
                    1
                };
                Ok(Fault::RateLimit {
                    every: every(1)?,
                    retry_after_secs,
                })
            }
            "server-error" => {
                arity(2, 3, "server-error:K[:STATUS]")?;
                let status = if parts.len() == 3 {
                    num(2, "status")?
                } else {
                    503
                };
                if !(500..=599).contains(&status) {
                    return Err(format!("{text:?}: status must be 500..=599"));
                }
                Ok(Fault::ServerError {
                    every: every(1)?,
                    status: status as u16,
                })
            }
            "truncate" => {
                arity(2, 2, "truncate:K")?;
                Ok(Fault::TruncatedBody { every: every(1)? })
            }
            "html" => {
                arity(2, 2, "html:K")?;
                Ok(Fault::HtmlErrorPage { every: every(1)? })
            }
            "slow" => {
                arity(3, 3, "slow:K:MILLIS")?;
                Ok(Fault::Slow {
                    every: every(1)?,
                    delay: Duration::from_millis(num(2, "milliseconds")?),
                })
            }
            "drop-mid-body" => {
                arity(2, 2, "drop-mid-body:K")?;
                Ok(Fault::DropMidBody { every: every(1)? })
            }
            "reset-before-head" => {
                arity(2, 2, "reset-before-head:K")?;
                Ok(Fault::ResetBeforeHead { every: every(1)? })
            }
            "stall" => {
                arity(3, 3, "stall:K:MILLIS")?;
                Ok(Fault::Stall {
                    every: every(1)?,
                    delay: Duration::from_millis(num(2, "milliseconds")?),
                })
            }
            "rst-stream" => {
                arity(2, 2, "rst-stream:K")?;
                Ok(Fault::ResetStream { every: every(1)? })
            }
            "goaway" => {
                arity(2, 2, "goaway:K")?;
                Ok(Fault::GoAway { every: every(1)? })
            }
            "repeat-cursor" => {
                arity(1, 1, "repeat-cursor")?;
                Ok(Fault::RepeatedCursor)
            }
            "empty-cursor" => {
                arity(1, 1, "empty-cursor")?;
                Ok(Fault::EmptyCursorOnLastPage)
            }
            "endless-insights" => {
                arity(1, 1, "endless-insights")?;
                Ok(Fault::EndlessInsights)
            }
            "repeat-insights-page" => {
                arity(1, 1, "repeat-insights-page")?;
                Ok(Fault::RepeatedInsightsPage)
            }
            "insights-count-drift" => {
                arity(1, 1, "insights-count-drift")?;
                Ok(Fault::InsightsCountDrift)
            }
            other => Err(format!(
                "unknown fault {other:?}; expected rate-limit:K[:SECS], server-error:K[:STATUS], truncate:K, html:K, \
                 slow:K:MILLIS, drop-mid-body:K, reset-before-head:K, stall:K:MILLIS, rst-stream:K, goaway:K, \
                 repeat-cursor, empty-cursor, endless-insights, repeat-insights-page or insights-count-drift"
            )),
        }
    }
}

/// One answer of the canned script: consumed in order, one per request, before normal serving resumes.
///
/// Built with the constructors below and refined with `with_*`; [`CannedResponse::normal`] is a placeholder that
/// serves the request normally, so a script can say "normal, then 503, then normal".
#[derive(Clone, Debug)]
pub struct CannedResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
    pub(crate) delay: Option<Duration>,
    pub(crate) normal: bool,
}

impl CannedResponse {
    /// An empty response with this status.
    pub fn new(status: u16) -> Self {
        CannedResponse {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            delay: None,
            normal: false,
        }
    }

    /// Serve this request normally (a step of the script that injects nothing).
    pub fn normal() -> Self {
        CannedResponse {
            normal: true,
            ..CannedResponse::new(200)
        }
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(status: u16, body: &Value) -> Self {
        CannedResponse::new(status)
            .with_header("content-type", "application/json")
            .with_body(serde_json::to_vec(body).unwrap_or_default())
    }

    /// The Cloudflare failure envelope with one error.
    pub fn error(status: u16, code: u32, message: &str) -> Self {
        CannedResponse::new(status)
            .with_header("content-type", "application/json")
            .with_body(failure_body(code, message))
    }

    /// An HTML body with `Content-Type: text/html`.
    pub fn html(status: u16, html: &str) -> Self {
        CannedResponse::new(status)
            .with_header("content-type", "text/html")
            .with_body(html.to_owned())
    }

    /// 429 with `Retry-After: secs` and the rate-limit envelope.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        CannedResponse::error(
            429,
            codes::RATE_LIMITED,
            "Rate limited. Please wait and consider throttling your request speed",
        )
        .with_header("retry-after", &retry_after_secs.to_string())
    }

    /// A 302 redirect to `location` (e.g. another host, to check a client does not follow it).
    pub fn redirect(location: &str) -> Self {
        CannedResponse::new(302).with_header("location", location)
    }

    /// A 200 success page built from entries given as JSON (so a test can add unknown fields or enum values).
    /// `cursor: None` leaves `result_info.cursor` out.
    pub fn page(entries: Vec<Value>, per_page: u32, cursor: Option<&str>) -> Self {
        let mut info = json!({ "count": entries.len(), "per_page": per_page });
        if let Some(c) = cursor {
            info["cursor"] = Value::from(c);
        }
        CannedResponse::json(
            200,
            &json!({ "success": true, "errors": [], "messages": [], "result": entries, "result_info": info }),
        )
    }

    /// A 200 page of an insight list built from insights given as JSON (so a test can serve any shape a server
    /// could: a page past `count` that is still full, the same page twice, a `count` that changes mid-walk, values
    /// the client does not know): `{"success":true,"errors":[],"messages":[],"result":{"count":…,"issues":[…],
    /// "page":…,"per_page":…}}`, as upstream's schema has it (no `result_info`).
    pub fn insights_page(issues: Vec<Value>, count: u64, page: u64, per_page: u32) -> Self {
        CannedResponse::json(
            200,
            &json!({
                "success": true, "errors": [], "messages": [],
                "result": { "count": count, "issues": issues, "page": page, "per_page": per_page },
            }),
        )
    }

    /// Adds a header (names are case-insensitive; a repeated name adds another value).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Waits this long before answering (e.g. to trip a client's per-attempt timeout).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fault's text form parses back to the same fault; bad forms are errors, not panics.
    #[test]
    fn fault_text_round_trips() {
        let all = [
            Fault::RateLimit {
                every: 3,
                retry_after_secs: 2,
            },
            Fault::ServerError {
                every: 4,
                status: 502,
            },
            Fault::TruncatedBody { every: 5 },
            Fault::HtmlErrorPage { every: 6 },
            Fault::Slow {
                every: 1,
                delay: Duration::from_millis(20),
            },
            Fault::DropMidBody { every: 2 },
            Fault::ResetBeforeHead { every: 7 },
            Fault::Stall {
                every: 3,
                delay: Duration::from_millis(1500),
            },
            Fault::ResetStream { every: 4 },
            Fault::GoAway { every: 2 },
            Fault::RepeatedCursor,
            Fault::EmptyCursorOnLastPage,
            Fault::EndlessInsights,
            Fault::RepeatedInsightsPage,
            Fault::InsightsCountDrift,
        ];
        for fault in all {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
        }
        assert_eq!(
            "rate-limit:5".parse(),
            Ok(Fault::RateLimit {
                every: 5,
                retry_after_secs: 1
            })
        );
        assert_eq!(
            "server-error:2".parse(),
            Ok(Fault::ServerError {
                every: 2,
                status: 503
            })
        );
        for bad in [
            "",
            "rate-limit",
            "rate-limit:0",
            "server-error:1:404",
            "slow:1",
            "truncate:x",
            "nope:1",
            "html:1:2",
            "drop-mid-body",
            "drop-mid-body:0",
            "reset-before-head:1:2",
            "stall:1",
            "stall:1:x",
            "rst-stream",
            "rst-stream:0",
            "goaway:1:1",
            "goaway:x",
            "endless-insights:1",
            "insights-count-drift:",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad:?}");
        }
    }
}
