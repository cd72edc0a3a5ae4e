//! Typed Rust client for Cloudflare's Security Center insight audit-log API.
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
//! The operations and types are generated from `spec/openapi.yaml` (with `spec/overlay.yaml`
//! applied) by `cargo xtask regenerate` into a private module; the modules beside it are
//! hand-written and add what a generator cannot: [`Scope`] and input checks, [`Credentials`],
//! [`RetryPolicy`], one [`Error`] type, forward-compatible enums ([`FieldChanged`]) and cursor
//! pagination as streams ([`AuditLogRequest::pages`], [`AuditLogRequest::items`]).

mod audit_log;
mod auth;
mod config;
mod error;
mod forward_compat;
pub mod pagination;
mod retry;
mod runtime;

#[rustfmt::skip]
#[allow(missing_docs, unused_imports, private_interfaces, clippy::all)]
mod generated;

pub use audit_log::{
    AuditLogEntry, AuditLogRequest, Client, MAX_PER_PAGE, Order, PAGER_PER_PAGE, Page, ResultInfo,
    Scope,
};
pub use auth::{Credentials, ENV_API_KEY, ENV_API_TOKEN, ENV_EMAIL};
pub use config::{ClientBuilder, DEFAULT_BASE_URL, ENV_BASE_URL};
pub use error::{ApiError, ApiMessage, Error};
pub use forward_compat::FieldChanged;
pub use generated::types;
pub use retry::RetryPolicy;
pub use runtime::Runtime;

/// The generated operations, one builder per upstream operation (reached through
/// [`Client::generated`]).
pub mod raw {
    pub use crate::generated::builder;
    pub use crate::generated::{Client, Error, ResponseValue};
}
