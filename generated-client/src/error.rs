//! The crate's one error type: every failure of a request, a page or a stream is an [`Error`].
//!
//! progenitor's own error type loses information that matters here (the status of a non-JSON
//! error page, the body of a 5XX, a `success: false` inside a 200), so the runtime maps every
//! outcome into this enum instead.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::quota::Quota;
use crate::types::SecurityCenterMessagesItem;

/// A message from the Cloudflare response envelope (`errors` or `messages`).
pub type ApiMessage = SecurityCenterMessagesItem;

/// Why a call failed.
///
/// `Debug` shows every field but raw bodies, which appear as their length (as in
/// [`ApiError`]): a body can be megabytes and can quote anything the server saw.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request was refused before anything was sent: a bad id, an out-of-range `per_page`, ...
    #[error("invalid request: {parameter}: {reason}")]
    #[non_exhaustive]
    InvalidRequest {
        /// The parameter or input at fault.
        parameter: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The client could not be configured: bad base URL, half-set credentials, ...
    #[error("invalid configuration: {setting}: {reason}")]
    #[non_exhaustive]
    InvalidConfig {
        /// The setting at fault (e.g. `CLOUDFLARE_EMAIL`, `base_url`).
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The connection failed or broke (after any retries).
    #[error("transport error after {attempts} attempt(s): {source}")]
    #[non_exhaustive]
    Transport {
        /// How many attempts were made.
        attempts: u32,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The server's TLS certificate was refused: not issued by a trusted root (see
    /// [`crate::ClientBuilder::with_root_certificate`]), for another name, expired, ... Not
    /// retried: every attempt would meet the same certificate.
    #[error("the TLS certificate of {host} was refused: {reason}")]
    #[non_exhaustive]
    Certificate {
        /// The host whose certificate it was.
        host: String,
        /// What was wrong with it, as the TLS library says.
        reason: String,
    },
    /// An attempt, or the overall deadline, ran out of time.
    #[error("{}", timeout_message(*.deadline, *.attempts))]
    #[non_exhaustive]
    Timeout {
        /// Whether the overall deadline (rather than one attempt's timeout) was exceeded.
        deadline: bool,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The API answered with an error status, a non-JSON body, or `success: false`.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The API asked to slow down (429), or announced a quota that lets the next request go
    /// only later, and waiting was not possible within the caller's caps
    /// ([`crate::RetryPolicy::with_max_retry_after`], [`crate::RateLimit::with_max_wait`]).
    #[error("rate limited{}: {}", retry_after_suffix(*.retry_after), rate_limit_cause(.api.as_deref(), .quota.as_ref()))]
    #[non_exhaustive]
    RateLimited {
        /// How long the server asked to wait (or the quota it announced makes the client wait),
        /// when known.
        retry_after: Option<Duration>,
        /// The 429 response; `None` when the client held the request back for the quota a
        /// response announced, without sending it.
        api: Option<Box<ApiError>>,
        /// The last quota the API announced, when the client held the request back.
        quota: Option<Quota>,
    },
    /// A success response whose body does not match the expected shape.
    #[error("cannot decode the {status} response body at {path}: {message}")]
    #[non_exhaustive]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// JSON path of the value that failed (`.` for the whole document).
        path: String,
        /// What the decoder said.
        message: String,
        /// The raw body, for diagnosis.
        body: bytes::Bytes,
    },
    /// A walk stopped before its end for a reason of the caller's side (the runtime running its
    /// prefetching task shut down); resume from the last page's cursor.
    #[error("walk interrupted: {reason}")]
    #[non_exhaustive]
    Interrupted {
        /// What stopped it.
        reason: String,
    },
    /// The server handed back a cursor it had already given in this walk.
    #[error("pagination loop: page {page} returned cursor {cursor:?}, which was already followed")]
    #[non_exhaustive]
    PaginationLoop {
        /// The 1-based number of the page that returned the repeated cursor.
        page: u64,
        /// The repeated cursor.
        cursor: String,
    },
    /// The server kept answering empty pages, each with a new cursor, more times in a row than
    /// the walk allows (see [`crate::AuditLogRequest::with_max_empty_pages`]).
    #[error(
        "pagination stalled: {empty_pages} empty pages in a row, each with a new cursor; the \
         last one was {cursor:?}"
    )]
    #[non_exhaustive]
    PaginationStalled {
        /// How many empty pages came in a row.
        empty_pages: u64,
        /// The cursor the last empty page handed back (a walk can resume from it).
        cursor: String,
    },
    /// A page-numbered walk (the insight lists) met a page that breaks its stop rule: another
    /// `count`, an item served twice, more items than `count`, a short page before the end, or
    /// a page that says it is another page; going on could loop or silently skip items.
    #[error("pagination inconsistent at page {page}: {reason}")]
    #[non_exhaustive]
    PaginationInconsistent {
        /// The 1-based number of the page that broke the rule.
        page: u64,
        /// What it broke.
        reason: String,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRequest { parameter, reason } => formatter
                .debug_struct("InvalidRequest")
                .field("parameter", parameter)
                .field("reason", reason)
                .finish(),
            Self::InvalidConfig { setting, reason } => formatter
                .debug_struct("InvalidConfig")
                .field("setting", setting)
                .field("reason", reason)
                .finish(),
            Self::Transport { attempts, source } => formatter
                .debug_struct("Transport")
                .field("attempts", attempts)
                .field("source", source)
                .finish(),
            Self::Certificate { host, reason } => formatter
                .debug_struct("Certificate")
                .field("host", host)
                .field("reason", reason)
                .finish(),
            Self::Timeout { deadline, attempts } => formatter
                .debug_struct("Timeout")
                .field("deadline", deadline)
                .field("attempts", attempts)
                .finish(),
            Self::Api(api) => formatter.debug_tuple("Api").field(api).finish(),
            Self::RateLimited {
                retry_after,
                api,
                quota,
            } => formatter
                .debug_struct("RateLimited")
                .field("retry_after", retry_after)
                .field("api", api)
                .field("quota", quota)
                .finish(),
            Self::Decode {
                status,
                path,
                message,
                body,
            } => formatter
                .debug_struct("Decode")
                .field("status", status)
                .field("path", path)
                .field("message", message)
                .field("body_len", &body.len())
                .finish(),
            Self::Interrupted { reason } => formatter
                .debug_struct("Interrupted")
                .field("reason", reason)
                .finish(),
            Self::PaginationLoop { page, cursor } => formatter
                .debug_struct("PaginationLoop")
                .field("page", page)
                .field("cursor", cursor)
                .finish(),
            Self::PaginationStalled {
                empty_pages,
                cursor,
            } => formatter
                .debug_struct("PaginationStalled")
                .field("empty_pages", empty_pages)
                .field("cursor", cursor)
                .finish(),
            Self::PaginationInconsistent { page, reason } => formatter
                .debug_struct("PaginationInconsistent")
                .field("page", page)
                .field("reason", reason)
                .finish(),
        }
    }
}

impl Error {
    /// Whether trying the same call again later may succeed: the failures the client itself
    /// retries (see [`crate::RetryPolicy`]): connection failures and resets, bodies cut short,
    /// timeouts, rate limits, and the statuses 408, 429, 500, 502-504, 520-527 and 530.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { source, .. } => crate::retry::is_transient(source),
            Self::Timeout { .. } | Self::RateLimited { .. } | Self::Interrupted { .. } => true,
            Self::Api(api) => crate::retry::is_retryable_status(api.status),
            Self::InvalidRequest { .. }
            | Self::InvalidConfig { .. }
            | Self::Certificate { .. }
            | Self::Decode { .. }
            | Self::PaginationLoop { .. }
            | Self::PaginationStalled { .. }
            | Self::PaginationInconsistent { .. } => false,
        }
    }

    /// The HTTP status, when the failure came from a response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::RateLimited { api, .. } => api.as_ref().map(|api| api.status),
            Self::Decode { status, .. } => Some(*status),
            Self::Transport { source, .. } => source.status(),
            _ => None,
        }
    }

    pub(crate) fn invalid_request(parameter: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidRequest {
            parameter,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_config(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            setting,
            reason: reason.into(),
        }
    }
}

/// An error answer of the API, with everything it said.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The envelope's `errors`, when the body was a Cloudflare envelope.
    pub errors: Vec<ApiMessage>,
    /// The envelope's `messages`.
    pub messages: Vec<ApiMessage>,
    /// The `cf-ray` header: quote it to Cloudflare support.
    pub cf_ray: Option<String>,
    /// The delay the server asked for (`retry-after-ms` or `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The `content-type` of the body.
    pub content_type: Option<String>,
    /// The raw body.
    pub body: bytes::Bytes,
}

impl ApiError {
    /// The body as text (lossy), for logs and diagnosis.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ApiError")
            .field("status", &self.status)
            .field("errors", &self.errors)
            .field("messages", &self.messages)
            .field("cf_ray", &self.cf_ray)
            .field("retry_after", &self.retry_after)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "HTTP {}", self.status)?;
        if self.status.is_success() {
            write!(formatter, " with success: false")?;
        }
        if self.errors.is_empty() {
            let kind = self.content_type.as_deref().unwrap_or("no content type");
            let excerpt = excerpt(&self.body_text(), 120);
            if excerpt.is_empty() {
                write!(formatter, " ({kind}, empty body)")?;
            } else {
                write!(formatter, " ({kind}, {} bytes): {excerpt}", self.body.len())?;
            }
        } else {
            let errors: Vec<String> = self
                .errors
                .iter()
                .map(|error| format!("[{}] {}", error.code, error.message))
                .collect();
            write!(formatter, ": {}", errors.join("; "))?;
        }
        if let Some(ray) = &self.cf_ray {
            write!(formatter, " (cf-ray {ray})")?;
        }
        Ok(())
    }
}

impl ApiError {
    /// An error answer read from its status, headers and body.
    pub(crate) fn from_response(
        status: StatusCode,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Box<ApiError> {
        let envelope = LenientEnvelope::read(&body);
        let (errors, messages) = envelope
            .map(|envelope| (envelope.errors, envelope.messages))
            .unwrap_or_default();
        Box::new(ApiError {
            status,
            errors,
            messages,
            cf_ray: header_text(headers, "cf-ray"),
            retry_after: crate::retry::retry_after(headers, std::time::SystemTime::now()),
            content_type: header_text(headers, "content-type"),
            body,
        })
    }
}

/// The envelope read leniently, for error bodies that may be partial or not JSON at all.
#[derive(serde::Deserialize)]
pub(crate) struct LenientEnvelope {
    #[serde(default)]
    pub(crate) success: Option<bool>,
    #[serde(default)]
    pub(crate) errors: Vec<ApiMessage>,
    #[serde(default)]
    pub(crate) messages: Vec<ApiMessage>,
}

impl LenientEnvelope {
    /// The envelope of `body`, when it is one.
    pub(crate) fn read(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// One line of at most `limit` characters, control characters replaced.
pub(crate) fn excerpt(text: &str, limit: usize) -> String {
    let flat: String = text
        .chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > limit {
        let cut: String = flat.chars().take(limit).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

fn timeout_message(deadline: bool, attempts: u32) -> String {
    if deadline {
        format!("the overall deadline passed after {attempts} attempt(s)")
    } else {
        format!("the request timed out after {attempts} attempt(s)")
    }
}

/// What made a call rate limited: the 429, or the announced quota the client paced on.
fn rate_limit_cause(api: Option<&ApiError>, quota: Option<&Quota>) -> String {
    match (api, quota) {
        (Some(api), _) => api.to_string(),
        (None, Some(quota)) => format!(
            "the API's announced quota leaves {} requests until its reset in {} s",
            quota.remaining,
            quota.reset.as_secs()
        ),
        (None, None) => "the client's rate-limit budget is spent".to_owned(),
    }
}

fn retry_after_suffix(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(delay) => format!(" (retry after {:.3} s)", delay.as_secs_f64()),
        None => String::new(),
    }
}
