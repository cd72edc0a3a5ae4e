//! A client generated at build time from ten operations cut out of
//! `tests/spec_sync/fixtures/upstream-trimmed.json`, a trimmed copy of Cloudflare's real API
//! document (cloudflare/api-schemas at `cca3064f`, 2024-08-06), exactly as upstream wrote them:
//! no overlay.
//!
//! It is not used by the published client: it exists so that every workspace build proves that
//! what `cargo xtask spec-sync` extracts from upstream's own document generates code that
//! compiles, not only code that parses. `build.rs` writes it into `OUT_DIR`.

/// The generated client, as progenitor emits it.
#[allow(
    missing_docs,
    unused_imports,
    dead_code,
    deprecated,
    clippy::all,
    rustdoc::all
)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/upstream_client.rs"));
}

pub use generated::{Client, types};
