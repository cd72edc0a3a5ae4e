//! Clients generated at build time by the workspace's generator, one module each; `build.rs` writes them into
//! `OUT_DIR`, and nothing here is hand-edited generated code.
//!
//! None is used by the published client: they exist so that every workspace build proves the generator turns more
//! than the audit-log spec into code that compiles, not only code that parses.

// The modules are the generator's output, as progenitor emits it: its lints are not this workspace's.
#![allow(
    missing_docs,
    unused_imports,
    dead_code,
    deprecated,
    clippy::all,
    rustdoc::all
)]

/// The client of `fixture.yaml`, a larger fixture spec in Cloudflare's style (several tags, path/query/JSON-body
/// parameters, PUT/PATCH/DELETE, `oneOf`, a single-branch `anyOf`, an enum listing `null`, `~neq` query names,
/// deprecated operations, `allOf` with defaults, 4XX failure envelopes).
pub mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.rs"));
}

/// The client of ten operations cut out of `tests/spec_sync/fixtures/upstream-trimmed.json`, a trimmed copy of
/// Cloudflare's real API document (cloudflare/api-schemas at `cca3064f`, 2024-08-06), exactly as upstream wrote
/// them (no overlay): what `cargo xtask spec-sync` extracts compiles.
pub mod upstream {
    include!(concat!(env!("OUT_DIR"), "/upstream.rs"));
}
