//! Typed Rust client for Cloudflare's Security Center insight audit-log API.
//!
//! The operations and types are generated from `spec/openapi.yaml` (with `spec/overlay.yaml`
//! applied) by `cargo xtask regenerate`; this file and its sibling modules are hand-written and
//! decide what is public.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudflare_security_center::Client;
//!
//! let client = Client::new("https://api.cloudflare.com/client/v4");
//! let page = client
//!     .get_security_center_issue_audit_log()
//!     .account_id("023e105f4ecef8ad9ca31a8372d0c353")
//!     .issue_id("example-issue")
//!     .per_page(100)
//!     .send()
//!     .await?;
//! for entry in &page.result {
//!     println!("{:?} {:?}", entry.changed_at, entry.field_changed);
//! }
//! # Ok(())
//! # }
//! ```

#[rustfmt::skip]
#[allow(missing_docs, unused_imports, clippy::all)]
mod generated;

pub use generated::{Client, types};

/// Request builders returned by the [`Client`] operation methods.
pub mod builder {
    pub use crate::generated::builder::*;
}

/// Errors and response wrappers of the generated operations.
pub use generated::{Error, ResponseValue};
