//! A client generated at build time from `openapi.yaml`, a larger fixture spec in Cloudflare's
//! style (several tags, path/query/JSON-body parameters, PUT/PATCH/DELETE, `oneOf`, a
//! single-branch `anyOf`, an enum listing `null`, `~neq` query names, deprecated operations,
//! `allOf` with defaults, 4XX failure envelopes).
//!
//! It is not used by the published client: it exists so that every workspace build proves the
//! generator turns such a spec into code that compiles. Nothing here is hand-edited generated
//! code; `build.rs` writes it into `OUT_DIR`.

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
    include!(concat!(env!("OUT_DIR"), "/fixture_client.rs"));
}

pub use generated::{Client, types};
