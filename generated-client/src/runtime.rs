//! What every request goes through: the generated client's hooks add credentials and the
//! User-Agent, drop progenitor's `api-version` header, retry with backoff inside one call, read
//! the body under the attempt's timeout, and keep the final response so that [`call`] can turn
//! any outcome into a precise [`Error`].
//!
//! progenitor's own error type drops the status of a non-JSON error page and leaves 5XX bodies
//! unread; keeping the final exchange in a task-local slot lets this crate report both.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Request, Response, ResponseBuilderExt as _, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::error::{ApiError, ApiMessage};
use crate::quota::Quota;
use crate::rate_limit::{Pacer, Refusal, Ticket};
use crate::retry::{
    RetryPolicy, certificate_problem, is_retryable_status, is_transient, retry_after,
};
use crate::timer_anchor::TimerAnchor;
use crate::{Credentials, Error, generated};

/// Response bodies larger than this are refused rather than buffered (a page of 1000 entries is
/// well under 1 MiB).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The longest decoder message kept in an error (it quotes the refused value).
const MAX_DECODE_MESSAGE: usize = 200;

/// The header naming the Cloudflare data centre and request, quoted in errors.
const CF_RAY: HeaderName = HeaderName::from_static("cf-ray");

/// The header progenitor adds to every request and the API does not take.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// The configuration the generated client carries and its hooks read: opaque, built by
/// [`crate::ClientBuilder`], cheap to clone.
#[derive(Clone)]
pub struct Runtime(Arc<Settings>);

pub(crate) struct Settings {
    pub(crate) credentials: Credentials,
    pub(crate) retry: RetryPolicy,
    pub(crate) attempt_timeout: Duration,
    pub(crate) deadline: Option<Duration>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timer_anchor: TimerAnchor,
    /// `None` when pacing is disabled.
    pub(crate) pacer: Option<Pacer>,
}

impl Runtime {
    pub(crate) fn new(settings: Settings) -> Self {
        Self(Arc::new(settings))
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.0
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Runtime")
            .field("credentials", &self.0.credentials)
            .field("retry", &self.0.retry)
            .field("attempt_timeout", &self.0.attempt_timeout)
            .field("deadline", &self.0.deadline)
            .field("user_agent", &self.0.user_agent)
            .field("pacer", &self.0.pacer)
            .finish()
    }
}

/// The final exchange of one call, filled by the hooks and read by [`call`].
#[derive(Default)]
struct Exchange {
    status: Option<StatusCode>,
    headers: HeaderMap,
    body: Bytes,
    attempts: u32,
    deadline_passed: bool,
    quota: Option<Quota>,
    failure: Option<Error>,
}

tokio::task_local! {
    // Boxed: tokio swaps the value in and out of the thread-local slot on every poll.
    static EXCHANGE: RefCell<Box<Exchange>>;
}

fn record(update: impl FnOnce(&mut Exchange)) {
    // Outside `call` (a caller using the generated builders directly) there is no slot.
    let _ = EXCHANGE.try_with(|slot| update(&mut slot.borrow_mut()));
}

impl ClientHooks<Runtime> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let settings = self.inner().settings();
        let headers = request.headers_mut();
        headers.remove(API_VERSION);
        headers.insert(USER_AGENT, settings.user_agent.clone());
        settings.credentials.apply(headers);
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        execute(
            self.inner().settings(),
            self.client(),
            request,
            info.operation_id,
        )
        .await
    }
}

/// Sends `request`, retrying per the policy, and returns the final response with its body
/// already read (so the attempt timeout covers the body too).
async fn execute(
    settings: &Settings,
    http: &reqwest::Client,
    original: Request,
    operation: &str,
) -> reqwest::Result<Response> {
    // A deadline too far to represent is no deadline.
    let deadline = settings
        .deadline
        .and_then(|limit| Instant::now().checked_add(limit));
    let may_retry = settings.retry.allows_method(original.method());
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let ticket = match admit(settings, deadline).await {
            Ok(ticket) => ticket,
            Err(refusal) => return Ok(refused(refusal, attempt - 1)),
        };
        // Every attempt but the last sends a copy; the last one sends the original.
        let copy = if may_retry && attempt <= settings.retry.max_retries() {
            original.try_clone()
        } else {
            None
        };
        let Some(request) = copy else {
            let outcome = send_once(settings, http, original, deadline, operation, attempt).await;
            settle(ticket, &outcome);
            return conclude(outcome, attempt, deadline);
        };
        let outcome = send_once(settings, http, request, deadline, operation, attempt).await;
        settle(ticket, &outcome);
        match retry_delay(&settings.retry, &outcome, attempt, deadline) {
            Some(delay) => tokio::time::sleep(delay).await,
            None => return conclude(outcome, attempt, deadline),
        }
    }
}

type Outcome = reqwest::Result<(Head, Bytes)>;

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
        let answer = api_error_from(head.status, &head.headers, body.clone());
        (answer.retry_after, answer)
    });
    ticket.answered(head.quota, lockout);
}

/// The answer to a request the pacer did not let out: the error goes to the slot; the
/// generated code gets a bodiless 429 in its place.
fn refused(refusal: Refusal, attempts: u32) -> Response {
    let (failure, deadline_passed) = match refusal {
        Refusal::LockedOut { wait, answer } => (
            Error::RateLimited {
                retry_after: Some(wait),
                api: answer,
            },
            false,
        ),
        Refusal::PastDeadline => (
            Error::Timeout {
                deadline: true,
                attempts,
            },
            true,
        ),
    };
    record(|slot| {
        slot.attempts = attempts;
        slot.deadline_passed = deadline_passed;
        slot.failure = Some(failure);
    });
    let (mut parts, ()) = http::Response::new(()).into_parts();
    parts.status = StatusCode::TOO_MANY_REQUESTS;
    Response::from(http::Response::from_parts(
        parts,
        reqwest::Body::from(Bytes::new()),
    ))
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
    let outcome = match http.execute(request).await {
        Ok(response) => read_body(response).await.map(|(mut head, body)| {
            head.quota = Quota::from_headers(&head.headers, SystemTime::now());
            head.redirected = head.url != sent_to;
            (head, body)
        }),
        Err(error) => Err(error),
    };
    match &outcome {
        Ok((head, _)) => {
            // Field values are only computed when the event is enabled.
            tracing::debug!(
                operation,
                attempt,
                status = head.status.as_u16(),
                cf_ray = head
                    .headers
                    .get(CF_RAY)
                    .and_then(|value| value.to_str().ok()),
                "response"
            );
        }
        Err(error) => {
            tracing::debug!(
                operation,
                attempt,
                timeout = error.is_timeout(),
                transient = is_transient(error),
                "request failed"
            );
        }
    }
    outcome
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
                Some(asked) => asked,
                None => policy.backoff(attempt - 1),
            }
        }
        _ => return None,
    };
    deadline
        .is_none_or(|end| Instant::now().checked_add(delay).is_some_and(|at| at < end))
        .then_some(delay)
}

/// Records the final exchange for [`call`] and hands the response to the generated code.
fn conclude(
    outcome: Outcome,
    attempts: u32,
    deadline: Option<Instant>,
) -> reqwest::Result<Response> {
    let deadline_passed = deadline.is_some_and(|end| Instant::now() >= end);
    match outcome {
        Ok((head, body)) => {
            record(|slot| {
                slot.status = Some(head.status);
                // Only error answers are mapped from the slot's headers and body.
                if !head.status.is_success() {
                    slot.headers = head.headers.clone();
                    slot.body = body.clone();
                }
                slot.attempts = attempts;
                slot.deadline_passed = deadline_passed;
                slot.quota = head.quota;
                // Only the final attempt's body decides: an oversized body of an attempt that
                // was retried is forgotten with it.
                slot.failure = if head.redirected {
                    Some(Error::invalid_config(
                        "http_client",
                        "it followed a redirect, which carries credentials to whatever host the \
                         redirect names; build clients with ClientBuilder (redirects off), or \
                         pass one built with redirect::Policy::none()",
                    ))
                } else {
                    head.oversize.then(|| Error::Decode {
                        status: head.status,
                        path: ".".to_owned(),
                        message: format!("the body exceeds the limit of {MAX_BODY_BYTES} bytes"),
                        body: Bytes::new(),
                    })
                };
            });
            Ok(rebuild(head, body))
        }
        Err(error) => {
            record(|slot| {
                slot.attempts = attempts;
                slot.deadline_passed = deadline_passed;
            });
            Err(error)
        }
    }
}

/// The parts of a response that outlive its body.
struct Head {
    status: StatusCode,
    version: reqwest::Version,
    headers: HeaderMap,
    url: reqwest::Url,
    /// The rate-limit state the response announced.
    quota: Option<Quota>,
    /// The body exceeded [`MAX_BODY_BYTES`] and was dropped.
    oversize: bool,
    /// The HTTP client followed a redirect: the answer comes from another URL.
    redirected: bool,
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
fn rebuild(head: Head, body: Bytes) -> Response {
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

/// A decoded response with the headers that matter to callers.
pub(crate) struct Answer<T> {
    pub(crate) value: T,
    pub(crate) status: StatusCode,
    pub(crate) cf_ray: Option<String>,
    pub(crate) quota: Option<Quota>,
}

/// Runs one generated operation (`send`) and maps every outcome into this crate's [`Error`].
pub(crate) fn call<T, E, F>(send: F) -> impl Future<Output = Result<Answer<T>, Error>>
where
    T: DeserializeOwned,
    F: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
{
    // Boxed once here: held by value, the generated future would be copied into each layer
    // of this one.
    let send = Box::pin(send);
    async move {
        let (result, exchange) = EXCHANGE
            .scope(RefCell::new(Box::default()), async {
                let result = send.await;
                let exchange = EXCHANGE.with(|slot| std::mem::take(&mut *slot.borrow_mut()));
                (result, exchange)
            })
            .await;
        into_answer(result, *exchange)
    }
}

/// Maps the outcome of one generated operation and its recorded exchange into [`Answer`] or
/// [`Error`].
fn into_answer<T, E>(
    result: Result<ResponseValue<T>, progenitor_client::Error<E>>,
    exchange: Exchange,
) -> Result<Answer<T>, Error>
where
    T: DeserializeOwned,
{
    if let Some(failure) = exchange.failure {
        return Err(failure);
    }
    use progenitor_client::Error as Generated;
    match result {
        Ok(value) => Ok(Answer {
            status: value.status(),
            cf_ray: header_text(value.headers(), CF_RAY),
            quota: exchange.quota,
            value: value.into_inner(),
        }),
        Err(Generated::InvalidRequest(reason) | Generated::Custom(reason)) => {
            Err(Error::invalid_request("request", reason))
        }
        Err(
            Generated::CommunicationError(error)
            | Generated::ResponseBodyError(error)
            | Generated::InvalidUpgrade(error),
        ) => Err(transport(error, &exchange)),
        Err(Generated::InvalidResponsePayload(body, error)) => match exchange.status {
            Some(status) if status.is_success() => Err(decode_error::<T>(status, body, &error)),
            _ => Err(api_error(&exchange)),
        },
        Err(Generated::ErrorResponse(_) | Generated::UnexpectedResponse(_)) => {
            Err(api_error(&exchange))
        }
    }
}

fn transport(error: reqwest::Error, exchange: &Exchange) -> Error {
    let attempts = exchange.attempts.max(1);
    if let Some(reason) = certificate_problem(&error) {
        let host = error
            .url()
            .and_then(|url| url.host_str())
            .unwrap_or("the server")
            .to_owned();
        return Error::Certificate { host, reason };
    }
    if error.is_timeout() {
        Error::Timeout {
            deadline: exchange.deadline_passed,
            attempts,
        }
    } else {
        Error::Transport {
            attempts,
            source: error.without_url(),
        }
    }
}

/// The envelope read leniently, for error bodies that may be partial or not JSON at all.
#[derive(serde::Deserialize)]
struct LenientEnvelope {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    #[serde(default)]
    messages: Vec<ApiMessage>,
}

/// A typed API error from the final exchange; a 429 becomes [`Error::RateLimited`].
fn api_error(exchange: &Exchange) -> Error {
    let status = exchange.status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let api = api_error_from(status, &exchange.headers, exchange.body.clone());
    if status == StatusCode::TOO_MANY_REQUESTS {
        Error::RateLimited {
            retry_after: api.retry_after,
            api,
        }
    } else {
        Error::Api(api)
    }
}

/// An error answer read from its status, headers and body.
fn api_error_from(status: StatusCode, headers: &HeaderMap, body: Bytes) -> Box<ApiError> {
    let envelope = serde_json::from_slice::<LenientEnvelope>(&body).ok();
    let (errors, messages) = envelope
        .map(|envelope| (envelope.errors, envelope.messages))
        .unwrap_or_default();
    Box::new(ApiError {
        status,
        errors,
        messages,
        cf_ray: header_text(headers, CF_RAY),
        retry_after: retry_after(headers, SystemTime::now()),
        content_type: header_text(headers, CONTENT_TYPE),
        body,
    })
}

/// A 2XX body that did not decode: `success: false` is an API error, anything else a decode
/// error with the JSON path of the first value that failed.
fn decode_error<T: DeserializeOwned>(
    status: StatusCode,
    body: Bytes,
    error: &serde_json::Error,
) -> Error {
    // The error keeps its own copy: a body kept as received shares the connection's read buffer.
    let body = Bytes::copy_from_slice(&body);
    if let Ok(envelope) = serde_json::from_slice::<LenientEnvelope>(&body)
        && envelope.success == Some(false)
    {
        return Error::Api(Box::new(ApiError {
            status,
            errors: envelope.errors,
            messages: envelope.messages,
            cf_ray: None,
            retry_after: None,
            content_type: Some("application/json".to_owned()),
            body,
        }));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&body);
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(located) => (located.path().to_string(), located.into_inner().to_string()),
        Ok(_) => (".".to_owned(), error.to_string()),
    };
    // The decoder quotes the value it refused, which can be as long as the body.
    let message = crate::error::excerpt(&message, MAX_DECODE_MESSAGE);
    Error::Decode {
        status,
        path,
        message,
        body,
    }
}

/// Builds the envelope-level error for a 2XX response that says `success: false`.
pub(crate) fn unsuccessful(
    status: StatusCode,
    errors: Vec<ApiMessage>,
    messages: Vec<ApiMessage>,
    cf_ray: Option<String>,
) -> Error {
    Error::Api(Box::new(ApiError {
        status,
        errors,
        messages,
        cf_ray,
        retry_after: None,
        content_type: Some("application/json".to_owned()),
        body: Bytes::new(),
    }))
}

fn header_text(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
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
