//! The exchange slot: how the final answer of a call reaches [`call`], which turns any outcome into
//! a precise [`Error`]. progenitor's own error type drops the status of a non-JSON error page,
//! leaves 5XX bodies unread and cannot carry this crate's errors (a rate limit with its wait, a
//! refused certificate); the slot carries what it loses.
//!
//! The contract:
//! - **Who writes it:** [`hand_over`], called by the `exec` hook once per call, after the last
//!   attempt (retries and pacing are over by then): the final status, the headers and body of an
//!   error answer, the attempts made, whether the deadline passed, the announced quota, and a
//!   failure the generated code cannot express (a pacer's refusal, an oversized body, a
//!   followed redirect).
//! - **Who reads it:** [`call`], which opens the slot (a task-local) around one generated
//!   operation and reads it when that operation's future completes.
//! - **What callers of [`crate::Client::raw`] lose:** their calls run outside [`call`], so
//!   there is no slot: writing is a no-op, and they get progenitor's errors (no
//!   [`Error::RateLimited`] with its wait, no [`Error::Certificate`], no quota, and a pacer's
//!   refusal arrives as a bodiless 429). Credentials, retries, pacing and timeouts apply alike.

use std::cell::RefCell;
use std::future::Future;

use bytes::Bytes;
use progenitor_client::ResponseValue;
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::error::{ApiError, ApiMessage};
use crate::quota::Quota;
use crate::rate_limit::Refusal;
use crate::retry::certificate_problem;
use crate::transport::{CF_RAY, Delivery, Final, MAX_BODY_BYTES, rebuild};

/// The longest decoder message kept in an error (it quotes the refused value).
const MAX_DECODE_MESSAGE: usize = 200;

/// The final exchange of one call, filled by [`hand_over`] and read by [`call`].
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

/// Records the final outcome of a call in the slot and hands the generated code what it
/// expects: the response, the transport error, or a bodiless 429 in place of a request the
/// pacer did not let out.
pub(crate) fn hand_over(delivery: Delivery) -> reqwest::Result<Response> {
    let Delivery {
        outcome,
        attempts,
        deadline_passed,
    } = delivery;
    match outcome {
        Final::Answered(head, body) => {
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
        Final::Failed(error) => {
            record(|slot| {
                slot.attempts = attempts;
                slot.deadline_passed = deadline_passed;
            });
            Err(error)
        }
        Final::Refused(refusal) => {
            let failure = match refusal {
                Refusal::LockedOut { wait, answer } => Error::RateLimited {
                    retry_after: Some(wait),
                    api: Some(answer),
                    quota: None,
                },
                Refusal::Paced { wait, quota } => Error::RateLimited {
                    retry_after: Some(wait),
                    api: None,
                    quota,
                },
                Refusal::PastDeadline => Error::Timeout {
                    deadline: true,
                    attempts,
                },
            };
            record(|slot| {
                slot.attempts = attempts;
                slot.deadline_passed = deadline_passed;
                slot.failure = Some(failure);
            });
            let (mut parts, ()) = http::Response::new(()).into_parts();
            parts.status = StatusCode::TOO_MANY_REQUESTS;
            Ok(Response::from(http::Response::from_parts(
                parts,
                reqwest::Body::from(Bytes::new()),
            )))
        }
    }
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

/// A typed API error from the final exchange; a 429 becomes [`Error::RateLimited`].
fn api_error(exchange: &Exchange) -> Error {
    let status = exchange.status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let api = ApiError::from_response(status, &exchange.headers, exchange.body.clone());
    if status == StatusCode::TOO_MANY_REQUESTS {
        Error::RateLimited {
            retry_after: api.retry_after,
            api: Some(api),
            quota: None,
        }
    } else {
        Error::Api(api)
    }
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
    if let Some(envelope) = crate::error::LenientEnvelope::read(&body)
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

/// Not part of the API: the decoding this module applies to a response body, for the fuzz
/// targets and the hardening tests, so that they exercise the runtime's own code instead of a
/// copy of it. `body` as a 2XX answer of an audit-log operation: the decoded page, or the
/// error [`call`] reports for it (an API error when the envelope says `success: false`, a
/// decode error with the JSON path otherwise).
#[doc(hidden)]
pub fn decode_page_body(
    body: &[u8],
) -> Result<crate::types::SecurityCenterAuditLogResponse, Error> {
    serde_json::from_slice(body).map_err(|error| {
        decode_error::<crate::types::SecurityCenterAuditLogResponse>(
            StatusCode::OK,
            Bytes::copy_from_slice(body),
            &error,
        )
    })
}

/// Not part of the API: the error [`call`] reports for an error answer with `status` and
/// `body` (see [`decode_page_body`]); a status outside 100-999 reads as 500.
#[doc(hidden)]
pub fn decode_error_body(status: u16, body: &[u8]) -> Error {
    let exchange = Exchange {
        status: Some(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)),
        body: Bytes::copy_from_slice(body),
        ..Exchange::default()
    };
    api_error(&exchange)
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
