//! Cuts ten operations of six products out of `tests/spec_sync/fixtures/upstream-trimmed.json`
//! (a trimmed copy of Cloudflare's real API document) with `codegen::extract`, as
//! `cargo xtask spec-sync` does, and generates their client into `OUT_DIR` with no overlay, so
//! that building this crate proves the extracted spec generates code that compiles.

use std::path::PathBuf;
use std::process::ExitCode;

/// How the document is named in errors and in the generated header (stable across machines).
const DOCUMENT_NAME: &str = "tests/spec_sync/fixtures/upstream-trimmed.json";

/// The operations cut out, by operationId; `tests/spec_sync/upstream.rs` calls each method.
const OPERATIONS: [&str; 10] = [
    "get-security-center-issues",
    "get-security-center-issue-counts-by-class",
    "archive-security-center-insight",
    "lists-get-lists",
    "lists-create-a-list",
    "lists-update-a-list",
    "zones-get",
    "user-api-tokens-verify-token",
    "cloudflare-i-ps-cloudflare-ip-details",
    "worker-script-download-worker",
];

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed=../spec_sync/fixtures/upstream-trimmed.json");
    match generate() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate() -> Result<(), String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let document = PathBuf::from(manifest).join("../spec_sync/fixtures/upstream-trimmed.json");
    let text = std::fs::read_to_string(&document)
        .map_err(|error| format!("cannot read {}: {error}", document.display()))?;
    let operations: Vec<String> = OPERATIONS.iter().map(|id| (*id).to_owned()).collect();
    let extraction =
        codegen::extract::extract(codegen::Source::new(DOCUMENT_NAME, &text), &operations)
            .map_err(|error| error.to_string())?;
    let settings = codegen::Settings {
        command: "cargo build -p upstream-client".to_owned(),
        ..Default::default()
    };
    let spec_name = "the spec cut from tests/spec_sync/fixtures/upstream-trimmed.json";
    let source = codegen::generate(
        codegen::Source::new(spec_name, &extraction.text),
        None,
        &settings,
    )
    .map_err(|error| error.to_string())?;
    let target = PathBuf::from(out).join("upstream_client.rs");
    std::fs::write(&target, source)
        .map_err(|error| format!("cannot write {}: {error}", target.display()))
}
