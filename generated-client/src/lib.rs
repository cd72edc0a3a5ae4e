//! Typed Rust client for Cloudflare's Security Center insight audit-log API: the change
//! history (status, user classification) of Security Center insights, per insight or for a
//! whole account or zone, with cursor pagination as streams; and the insight lists that say what
//! each insight is (type, class, severity, subject), with page-number pagination as streams.
//!
//! The operations and types are generated from `spec/openapi.yaml` (with `spec/overlay.yaml`
//! applied) by `cargo xtask regenerate` into a private module; the modules beside it are
//! hand-written and add what a generator cannot: [`Scope`] and input checks, [`Credentials`],
//! [`RetryPolicy`], one [`Error`] type, forward-compatible enums ([`FieldChanged`]) and cursor
//! pagination ([`AuditLogRequest::pages`], [`AuditLogRequest::items`]).
//!
//! # Every entry of one insight since a time, newest first
//!
//! ```no_run
//! # async fn run() -> Result<(), cloudflare_security_center::Error> {
//! use chrono::{Duration, Utc};
//! use cloudflare_security_center::{Client, Order, Scope};
//!
//! // CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY + CLOUDFLARE_EMAIL), CLOUDFLARE_BASE_URL.
//! let client = Client::from_env()?;
//! let mut entries = client
//!     .issue_audit_log(Scope::account("023e105f4ecef8ad9ca31a8372d0c353"), "issue-id")
//!     .since(Utc::now() - Duration::days(7))
//!     .order(Order::Desc)
//!     .items();
//! while let Some(entry) = entries.next().await {
//!     let entry = entry?;
//!     println!("{:?} {:?} -> {:?}", entry.changed_at, entry.field_changed, entry.current_value);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # A scope's critical insights, then one insight's audit log
//!
//! ```no_run
//! # async fn run(client: cloudflare_security_center::Client)
//! # -> Result<(), cloudflare_security_center::Error> {
//! use cloudflare_security_center::{Scope, SeverityFilter};
//!
//! let scope = Scope::account("023e105f4ecef8ad9ca31a8372d0c353");
//! let mut insights = client
//!     .insights(scope.clone())
//!     .severity([SeverityFilter::Critical]) // the filter is lowercase upstream, the field is not
//!     .dismissed(false)
//!     .items();
//! let mut first = None;
//! while let Some(insight) = insights.next().await {
//!     let insight = insight?;
//!     println!("{:?} {:?} {:?}", insight.issue_type, insight.subject, insight.status);
//!     first = first.or(insight.id);
//! }
//! if let Some(issue_id) = first {
//!     let mut entries = client.issue_audit_log(scope, issue_id).items();
//!     while let Some(entry) = entries.next().await {
//!         let entry = entry?;
//!         println!("{:?} {:?} -> {:?}", entry.changed_at, entry.previous_value, entry.current_value);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The insight lists are paged by number, not by cursor: a walk trusts the first page's `count`
//! and ends after the page that reaches it; a server that changes `count` mid-walk, serves an
//! insight twice, runs past `count` or falls short of it ends the walk with
//! [`Error::PaginationInconsistent`] (see [`InsightsRequest::pages`]). `issue_type`, `severity`,
//! `status` and `user_classification` are open enums ([`IssueType`], [`Severity`],
//! [`InsightStatus`], [`UserClassification`]), like [`FieldChanged`].
//!
//! The streams also implement [`futures_core::Stream`], for `StreamExt`/`TryStreamExt`.
//! A walk asks for 1000 entries per page unless [`AuditLogRequest::per_page`] says otherwise,
//! keeps its filters on every page, ends when the cursor is absent or empty, and ends with
//! [`Error::PaginationLoop`] if the server repeats a cursor. Dropping a stream stops it.
//!
//! # Pages, resuming from a cursor, limits and prefetch
//!
//! ```no_run
//! # async fn run(client: cloudflare_security_center::Client, saved_cursor: String)
//! # -> Result<(), cloudflare_security_center::Error> {
//! use cloudflare_security_center::{FieldChanged, Scope};
//!
//! let mut pages = client
//!     .audit_log(Scope::zone("9a7806061c88ada191ed06f989cc3dac"))
//!     .field_changed(FieldChanged::Status)
//!     .cursor(saved_cursor) // resume where an earlier walk stopped
//!     .with_max_items(50_000)
//!     .with_prefetch(true) // fetch page n+1 while page n is processed
//!     .pages();
//! while let Some(page) = pages.next().await {
//!     let page = page?;
//!     println!("{} entries, cf-ray {:?}", page.entries().len(), page.cf_ray());
//!     if let Some(cursor) = page.next_cursor() {
//!         // Persist `cursor`: a new walk from it yields exactly the entries after this page.
//!         let _ = cursor;
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Configuration: credentials, base URL, timeouts, retries
//!
//! ```no_run
//! # fn run() -> Result<(), cloudflare_security_center::Error> {
//! use std::time::Duration;
//! use cloudflare_security_center::{Client, Credentials, RetryPolicy};
//!
//! let client = Client::builder()
//!     .with_credentials(Credentials::api_key("user@example.com", "144c9defac04969c7bfad8efaa8ea194")?)
//!     .with_base_url("https://api.cloudflare.com/client/v4") // https only, or loopback
//!     .with_retry(RetryPolicy::default().with_max_retries(4).with_max_retry_after(Duration::from_secs(30)))
//!     .with_attempt_timeout(Duration::from_secs(30)) // per attempt, body included (default 60 s)
//!     .with_deadline(Duration::from_secs(120)) // per call, retries and waits included
//!     .with_user_agent_suffix("siem-export/2.1")
//!     .build()?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```
//!
//! Requests go over TLS (HTTP/2 when the server offers it) with the platform's roots;
//! [`ClientBuilder::with_root_certificate`] adds one, for a TLS-inspecting proxy
//! (`HTTPS_PROXY` is honoured). A refused certificate is [`Error::Certificate`], never retried.
//!
//! Secrets never appear in `Debug` output or errors, and their header values are marked
//! sensitive. Redirects are not followed, so credentials never reach another host. Retries
//! (2 by default) cover every transport failure (a connection refused or reset, a body cut
//! short, an HTTP/2 stream reset, a timeout) and the statuses 408, 429, 500, 502-504, 520-527
//! and 530 ([`RetryPolicy`] has the table), with backoff `min(0.5 s × 2^n, 8 s)` minus up to
//! 25 % jitter; a `Retry-After` above the cap ends the call at once with
//! [`Error::RateLimited`]. Only GET and HEAD are retried unless
//! [`RetryPolicy::with_non_idempotent_retries`] says otherwise.
//!
//! # The rate limit
//!
//! Cloudflare allows 1200 requests per 5 minutes per token and locks the token out for five
//! minutes once that is exceeded. The client paces itself so that it does not cause that: one
//! pacer per client, shared by its clones and every concurrent walk, reads the `Ratelimit` and
//! `Ratelimit-Policy` fields of each response, lets requests go at once while plenty is left,
//! spreads the last tenth of the budget over the time to the reset, and waits for the reset
//! when nothing is left. Until a response announces the budget, 1200 per 300 s is assumed. A
//! 429 holds back every request of the client until its `Retry-After` has passed. Waits count
//! against [`ClientBuilder::with_deadline`]; each one is a `tracing` event ("pacing under the
//! rate limit", `info` above 5 s, else `debug`). No wait is longer than
//! [`RateLimit::with_max_wait`] (by default the retry policy's cap on `Retry-After`): a request
//! the quota would hold back longer ends its call at once with [`Error::RateLimited`], `api`
//! `None`. The announced figures are bounded first: a window is at most [`MAX_WINDOW`] (an hour),
//! a reset never later than its window, and [`Quota::bounded`] says when one was changed.
//! [`Page::quota`] tells what the last response announced.
//!
//! ```no_run
//! # async fn run() -> Result<(), cloudflare_security_center::Error> {
//! use std::time::Duration;
//! use cloudflare_security_center::{Client, RateLimit, Scope};
//!
//! let client = Client::builder()
//!     .with_credentials(cloudflare_security_center::Credentials::from_env()?.expect("set"))
//!     // The budget to assume until the API announces its own (here: an account on a
//!     // smaller plan); `RateLimit::disabled()` turns pacing off.
//!     .with_rate_limit(RateLimit::new(300, Duration::from_secs(300)))
//!     .build()?;
//! let page = client.audit_log(Scope::account("023e105f4ecef8ad9ca31a8372d0c353")).send().await?;
//! if let Some(quota) = page.quota() {
//!     println!("{} requests left, reset in {:?}", quota.remaining, quota.reset);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Tracing
//!
//! The client's one observation channel is [`tracing`]: it keeps no counters, and the names
//! below are stable (renaming one is a breaking change), so a metrics layer or an
//! OpenTelemetry pipeline (`tracing-opentelemetry`) can rely on them. No span or event carries
//! a header, a credential or a query string.
//!
//! Each attempt of a request is a span `http_request` (level `info`, target
//! `cloudflare_security_center::transport`) with OpenTelemetry's HTTP client attributes:
//!
//! | field | value |
//! | --- | --- |
//! | `otel.name`, `http.request.method` | the method, e.g. `GET` (the span name OpenTelemetry wants) |
//! | `otel.kind` | `client` |
//! | `server.address`, `server.port`, `url.scheme` | the API's host, port and scheme |
//! | `url.path` | the path, without the query (filters and cursors stay out of traces) |
//! | `http.request.resend_count` | on a retry only: the sends before this one (1 for the first retry) |
//! | `http.response.status_code` | recorded when the answer arrives |
//! | `error.type`, `otel.status_code` | on failure: the status (`503`) or `timeout`, `connect`, `transport`; `ERROR` |
//! | `operation`, `attempt` | the API operation's id, and the attempt's number from 1 |
//!
//! Inside it, at `debug`: "sending request"; then one event that ends the attempt, "response"
//! (fields `http.response.status_code`, `status`, `cf_ray`, `ratelimit.remaining` when the
//! answer announced it) or "request failed" (`error.type`, `timeout`, `transient`), both with
//! `outcome`: `ok` (the call's final answer, a 2XX), `retried` (another attempt follows) or
//! `failed` (final, without a 2XX). Target `cloudflare_security_center::rate_limit`: "pacing
//! under the rate limit" before the pacer holds a request back (`wait_s`, seconds as `f64`;
//! `remaining`; `reason`), and a `warn` when an announced figure was bounded (`field`,
//! `announced`).
//!
//! # Errors
//!
//! ```no_run
//! # async fn run(client: cloudflare_security_center::Client) {
//! use cloudflare_security_center::{Error, Scope};
//!
//! match client.audit_log(Scope::account("023e105f4ecef8ad9ca31a8372d0c353")).send().await {
//!     Ok(page) => println!("{} entries", page.entries().len()),
//!     Err(Error::RateLimited { retry_after, .. }) => println!("slow down for {retry_after:?}"),
//!     Err(Error::Api(api)) => println!("HTTP {}: {:?} (cf-ray {:?})", api.status, api.errors, api.cf_ray),
//!     Err(error) if error.is_retryable() => println!("transient: {error}"),
//!     Err(error) => println!("failed: {error}"),
//! }
//! # }
//! ```
//!
//! A non-JSON error page keeps its status and body, a 5XX body is read, and `success: false`
//! inside a 200 is an [`Error::Api`]; a body that does not decode is an [`Error::Decode`] with
//! the raw body and the JSON path that failed.
//!
//! # Forward compatibility
//!
//! A `field_changed` value added to the API later arrives as [`FieldChanged::Unknown`] and is
//! sent back unchanged; unknown fields are ignored.
//!
//! ```
//! use cloudflare_security_center::FieldChanged;
//!
//! let field: FieldChanged = serde_json::from_str("\"severity\"").unwrap();
//! assert_eq!(field, FieldChanged::Unknown("severity".into()));
//! assert_eq!(serde_json::to_string(&field).unwrap(), "\"severity\"");
//! ```
//!
//! # The raw layer
//!
//! [`Client::raw`] exposes the generated client ([`raw::Client`]), one builder per upstream
//! operation, with the same credentials, retries, pacing and timeouts; its errors are
//! progenitor's, so it lacks [`Error`]'s detail (see the exchange slot in `ARCHITECTURE.md`).

mod audit_log;
mod auth;
mod config;
mod error;
mod exchange;
mod forward_compat;
mod hooks;
mod insights;
mod pagination;
mod quota;
mod rate_limit;
mod retry;
mod rfc3339;
mod settings;
mod timer_anchor;
mod transport;

#[rustfmt::skip]
#[allow(
    missing_docs,
    unreachable_pub,
    unused_imports,
    private_interfaces,
    clippy::all,
    clippy::unwrap_used
)]
mod generated;

/// The crate README's examples (the README crates.io shows, packaged with the crate), compiled as doctests so that
/// they cannot rot. The repository's README is compiled by `tests`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

pub use audit_log::{
    AuditLogEntry, AuditLogRequest, Client, MAX_PER_PAGE, Order, PAGER_PER_PAGE, Page, ResultInfo,
    Scope,
};
pub use auth::{Credentials, ENV_API_KEY, ENV_API_TOKEN, ENV_EMAIL};
pub use config::{ClientBuilder, DEFAULT_BASE_URL, ENV_BASE_URL};
pub use error::{ApiError, ApiMessage, Error};
#[doc(hidden)]
pub use exchange::{decode_error_body, decode_page_body};
pub use forward_compat::{FieldChanged, InsightStatus, IssueType, Severity, UserClassification};
pub use generated::types;
pub use insights::{
    INSIGHTS_PAGER_PER_PAGE, Insight, InsightPage, InsightsRequest, SeverityFilter,
};
pub use pagination::{Items, Pages};
pub use quota::{BoundReason, Bounded, MAX_WINDOW, Quota};
pub use rate_limit::RateLimit;
pub use retry::RetryPolicy;
pub use settings::ClientSettings;

/// The generated operations, one builder per upstream operation (reached through
/// [`Client::raw`]).
pub mod raw {
    pub use crate::generated::builder;
    pub use crate::generated::{Client, Error, ResponseValue};
}
