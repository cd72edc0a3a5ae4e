//! How one call travels: paced under the rate limit, sent, its body read under the attempt's
//! timeout, and retried per the [`RetryPolicy`] until an answer is final. Depends on reqwest, the
//! retry policy and the pacer only; what the final outcome means for callers is
//! [`crate::exchange`]'s business.
//!
//! Each attempt is a `tracing` span named after OpenTelemetry's HTTP client conventions, and ends
//! with one event that says whether it was final; the names are a contract (the crate
//! documentation lists them, and the exporter's metrics read them).

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Request, Response, ResponseBuilderExt as _, StatusCode};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::error::ApiError;
use crate::quota::Quota;
use crate::rate_limit::{Refusal, Ticket};
use crate::retry::{RetryPolicy, is_retryable_status, is_transient, retry_after};
use crate::settings::Settings;

/// Response bodies larger than this are refused rather than buffered (a page of 1000 entries is
/// well under 1 MiB).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The header naming the Cloudflare data centre and request, logged with each response.
pub(crate) const CF_RAY: HeaderName = HeaderName::from_static("cf-ray");

/// The final outcome of one call.
pub(crate) struct Delivery {
    pub(crate) outcome: Final,
    /// Requests sent.
    pub(crate) attempts: u32,
    /// Whether the call's deadline had passed when it ended.
    pub(crate) deadline_passed: bool,
}

/// What ended a call.
// Moved once per call; boxing the answer would cost an allocation per request instead.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Final {
    /// An answer, its body read.
    Answered(Head, Bytes),
    /// The last attempt failed without an answer.
    Failed(reqwest::Error),
    /// The pacer did not let the next request out.
    Refused(Refusal),
}

type Outcome = reqwest::Result<(Head, Bytes)>;

/// Sends `original`, retrying per the policy, and returns the final outcome with the body
/// already read (so the attempt timeout covers the body too).
pub(crate) async fn execute(
    settings: &Settings,
    http: &reqwest::Client,
    original: Request,
    operation: &str,
) -> Delivery {
    // A deadline too far to represent is no deadline.
    let deadline = settings
        .deadline
        .and_then(|limit| Instant::now().checked_add(limit));
    let may_retry = settings.retry.allows_method(original.method());
    let done = |outcome: Outcome, attempts: u32| Delivery {
        outcome: match outcome {
            Ok((head, body)) => Final::Answered(head, body),
            Err(error) => Final::Failed(error),
        },
        attempts,
        deadline_passed: deadline.is_some_and(|end| Instant::now() >= end),
    };
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let ticket = match admit(settings, deadline).await {
            Ok(ticket) => ticket,
            Err(refusal) => {
                let deadline_passed = matches!(refusal, Refusal::PastDeadline);
                return Delivery {
                    outcome: Final::Refused(refusal),
                    attempts: attempt - 1,
                    deadline_passed,
                };
            }
        };
        // Every attempt but the last sends a copy; the last one sends the original.
        let copy = if may_retry && attempt <= settings.retry.max_retries() {
            original.try_clone()
        } else {
            None
        };
        let Some(request) = copy else {
            let span = attempt_span(&original, operation, attempt);
            let outcome = send_once(settings, http, original, deadline, operation, attempt)
                .instrument(span.clone())
                .await;
            settle(ticket, &outcome);
            attempt_ended(&span, &outcome, false, operation, attempt);
            return done(outcome, attempt);
        };
        let span = attempt_span(&request, operation, attempt);
        let outcome = send_once(settings, http, request, deadline, operation, attempt)
            .instrument(span.clone())
            .await;
        settle(ticket, &outcome);
        let delay = retry_delay(&settings.retry, &outcome, attempt, deadline);
        attempt_ended(&span, &outcome, delay.is_some(), operation, attempt);
        match delay {
            Some(delay) => tokio::time::sleep(delay).await,
            None => return done(outcome, attempt),
        }
    }
}

/// Waits for the pacer's leave to send (at once when pacing is off). A lock-out longer than
/// the retry policy's cap on `Retry-After` is refused at once, as the 429 itself would be.
async fn admit(
    settings: &Settings,
    deadline: Option<Instant>,
) -> Result<Option<Ticket<'_>>, Refusal> {
    match &settings.pacer {
        Some(pacer) => pacer
            .admit(deadline, settings.retry.max_retry_after())
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// Tells the pacer what an attempt's response said about the rate limit; an attempt without a
/// response just gives its ticket back.
fn settle(ticket: Option<Ticket<'_>>, outcome: &Outcome) {
    let (Some(ticket), Ok((head, body))) = (ticket, outcome) else {
        return;
    };
    let lockout = (head.status == StatusCode::TOO_MANY_REQUESTS).then(|| {
        let answer = ApiError::from_response(head.status, &head.headers, body.clone());
        (answer.retry_after, answer)
    });
    ticket.answered(head.quota, lockout);
}

/// One attempt, bounded by the attempt timeout and what is left of the deadline.
async fn send_once(
    settings: &Settings,
    http: &reqwest::Client,
    mut request: Request,
    deadline: Option<Instant>,
    operation: &str,
    attempt: u32,
) -> Outcome {
    let timeout = match deadline {
        Some(end) => {
            let left = end.saturating_duration_since(Instant::now());
            settings
                .attempt_timeout
                .min(left.max(Duration::from_millis(1)))
        }
        None => settings.attempt_timeout,
    };
    settings.timer_anchor.arm(timeout);
    *request.timeout_mut() = Some(timeout);
    tracing::debug!(
        operation,
        attempt,
        path = request.url().path(),
        "sending request"
    );
    let sent_to = request.url().clone();
    match http.execute(request).await {
        Ok(response) => read_body(response).await.map(|(mut head, body)| {
            head.quota = Quota::from_headers(&head.headers, SystemTime::now());
            head.redirected = head.url != sent_to;
            (head, body)
        }),
        Err(error) => Err(error),
    }
}

/// The span of one attempt, with OpenTelemetry's HTTP client attribute names: the method, the
/// server, the path without the query (filters and cursors stay out of traces), and, on a
/// resend, how many sends came before. The status and error are recorded when it ends.
fn attempt_span(request: &Request, operation: &str, attempt: u32) -> tracing::Span {
    let url = request.url();
    let span = tracing::info_span!(
        "http_request",
        otel.name = request.method().as_str(),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        http.request.method = request.method().as_str(),
        http.request.resend_count = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
        server.address = url.host_str(),
        server.port = url.port_or_known_default(),
        url.scheme = url.scheme(),
        url.path = url.path(),
        operation,
        attempt,
    );
    if attempt > 1 {
        span.record("http.request.resend_count", attempt - 1);
    }
    span
}

/// How an attempt ended, for the `outcome` field: its answer was the call's success, a retry
/// follows it, or it was the call's last and did not succeed.
fn outcome_name(outcome: &Outcome, retried: bool) -> &'static str {
    match outcome {
        _ if retried => "retried",
        Ok((head, _)) if head.status.is_success() && !head.redirected && !head.oversize => "ok",
        _ => "failed",
    }
}

/// Records the end of an attempt on its span and says it with one event inside it: "response"
/// when the server answered, "request failed" when it did not.
fn attempt_ended(
    span: &tracing::Span,
    outcome: &Outcome,
    retried: bool,
    operation: &str,
    attempt: u32,
) {
    let name = outcome_name(outcome, retried);
    let _entered = span.enter();
    match outcome {
        Ok((head, _)) => {
            let status = head.status.as_u16();
            span.record("http.response.status_code", status);
            if !head.status.is_success() {
                span.record("error.type", head.status.as_str());
                span.record("otel.status_code", "ERROR");
            }
            // Field values are only computed when the event is enabled.
            tracing::debug!(
                operation,
                attempt,
                status,
                http.response.status_code = status,
                outcome = name,
                ratelimit.remaining = head.quota.as_ref().map(|quota| quota.remaining),
                cf_ray = head
                    .headers
                    .get(CF_RAY)
                    .and_then(|value| value.to_str().ok()),
                "response"
            );
        }
        Err(error) => {
            let kind = if error.is_timeout() {
                "timeout"
            } else if error.is_connect() {
                "connect"
            } else {
                "transport"
            };
            span.record("error.type", kind);
            span.record("otel.status_code", "ERROR");
            tracing::debug!(
                operation,
                attempt,
                timeout = error.is_timeout(),
                transient = is_transient(error),
                error.type = kind,
                outcome = name,
                "request failed"
            );
        }
    }
}

/// How long to wait before retrying `outcome`, or `None` to stop: the failure is not transient,
/// the server asked for more than the cap, or the wait would overrun the deadline.
fn retry_delay(
    policy: &RetryPolicy,
    outcome: &Outcome,
    attempt: u32,
    deadline: Option<Instant>,
) -> Option<Duration> {
    let delay = match outcome {
        Err(error) if is_transient(error) => policy.backoff(attempt - 1),
        Ok((head, _)) if head.redirected => return None,
        Ok((head, _)) if is_retryable_status(head.status) => {
            match retry_after(&head.headers, SystemTime::now()) {
                Some(asked) if asked > policy.max_retry_after() => return None,
                // A delay below the backoff (`Retry-After: 1e-300`) waits the backoff.
                Some(asked) => asked.max(policy.backoff(attempt - 1)),
                None => policy.backoff(attempt - 1),
            }
        }
        _ => return None,
    };
    deadline
        .is_none_or(|end| Instant::now().checked_add(delay).is_some_and(|at| at < end))
        .then_some(delay)
}

/// The parts of a response that outlive its body.
pub(crate) struct Head {
    pub(crate) status: StatusCode,
    version: reqwest::Version,
    pub(crate) headers: HeaderMap,
    url: reqwest::Url,
    /// The rate-limit state the response announced.
    pub(crate) quota: Option<Quota>,
    /// The body exceeded [`MAX_BODY_BYTES`] and was dropped.
    pub(crate) oversize: bool,
    /// The HTTP client followed a redirect: the answer comes from another URL.
    pub(crate) redirected: bool,
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
async fn read_body(mut response: Response) -> reqwest::Result<(Head, Bytes)> {
    let head = Head {
        status: response.status(),
        version: response.version(),
        headers: std::mem::take(response.headers_mut()),
        url: response.url().clone(),
        quota: None,
        oversize: false,
        redirected: false,
    };
    let expected = response.content_length().unwrap_or(0) as usize;
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.is_empty() && expected > 0 && chunk.len() == expected && head.status.is_success() {
            // The whole body in one chunk (any small page): kept as it is, without a copy. It
            // shares the connection's read buffer, so error answers, which errors keep, are
            // copied below instead.
            return Ok(if expected <= MAX_BODY_BYTES {
                (head, chunk)
            } else {
                too_large(head)
            });
        }
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Ok(too_large(head));
        }
        if body.is_empty() {
            body.reserve(expected.min(MAX_BODY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((head, body.freeze()))
}

/// Marks `head`'s body as over [`MAX_BODY_BYTES`] and hands back an empty body in its place.
fn too_large(mut head: Head) -> (Head, Bytes) {
    head.oversize = true;
    (head, Bytes::new())
}

/// A response again, from its head and the body already read.
pub(crate) fn rebuild(head: Head, body: Bytes) -> Response {
    // Carrying the URL over also spares reqwest parsing a placeholder one.
    let (mut parts, ()) = http::Response::builder()
        .url(head.url)
        .body(())
        .unwrap_or_default()
        .into_parts();
    parts.status = head.status;
    parts.version = head.version;
    parts.headers = head.headers;
    Response::from(http::Response::from_parts(parts, reqwest::Body::from(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: reqwest::Body) -> Response {
        Response::from(http::Response::new(body))
    }

    #[tokio::test]
    async fn a_body_in_one_chunk_is_kept_without_a_copy() {
        let sent = Bytes::from(vec![7u8; 4096]);
        let (head, body) = read_body(response(reqwest::Body::from(sent.clone())))
            .await
            .expect("the body is read");
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(body, sent);
        assert_eq!(body.as_ptr(), sent.as_ptr(), "the buffer as received");
    }

    #[tokio::test]
    async fn an_error_answer_is_copied_out_of_the_buffer_it_came_in() {
        let sent = Bytes::from(vec![7u8; 4096]);
        let answer = http::Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(reqwest::Body::from(sent.clone()))
            .expect("a response");
        let (head, body) = read_body(Response::from(answer))
            .await
            .expect("the body is read");
        assert_eq!(head.status, StatusCode::NOT_FOUND);
        assert_eq!(body, sent);
        assert_ne!(body.as_ptr(), sent.as_ptr(), "a buffer of its own");
    }

    #[tokio::test]
    async fn a_body_in_several_chunks_is_joined_in_order() {
        let chunks = ["{\"result\":", " [1, 2", "]}"].map(Ok::<_, std::io::Error>);
        let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let (_, body) = read_body(response(streamed))
            .await
            .expect("the body is read");
        assert_eq!(&body[..], b"{\"result\": [1, 2]}");
    }

    #[tokio::test]
    async fn an_empty_body_reads_as_empty() {
        let (_, body) = read_body(response(reqwest::Body::from(Bytes::new())))
            .await
            .expect("the body is read");
        assert!(body.is_empty());
    }
}
