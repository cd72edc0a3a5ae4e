//! Generates the clients of this crate into `OUT_DIR` with the workspace's generator, as progenitor builds all its
//! test outputs in one crate: `fixture.rs` from `fixture.yaml`, and `upstream.rs` from ten operations of six
//! products cut out of `tests/spec_sync/fixtures/upstream-trimmed.json` (a trimmed copy of Cloudflare's real API
//! document) with `codegen::extract`, as `cargo xtask spec-sync` does, with no overlay. Building the crate proves
//! that both generate code that compiles.

use std::path::PathBuf;
use std::process::ExitCode;

/// The fixture spec, relative to this crate; named in errors and in the generated header from the workspace root
/// (stable across machines).
const FIXTURE: (&str, &str) = ("fixture.yaml", "tests/generated-clients/fixture.yaml");

/// Upstream's trimmed document, relative to this crate and from the workspace root.
const UPSTREAM: (&str, &str) = (
    "../spec_sync/fixtures/upstream-trimmed.json",
    "tests/spec_sync/fixtures/upstream-trimmed.json",
);

/// The operations cut out of upstream's document, by operationId; `tests/spec_sync/upstream.rs` calls each method.
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
    for (relative, _) in [FIXTURE, UPSTREAM] {
        println!("cargo::rerun-if-changed={relative}");
    }
    match fixture().and_then(|()| upstream()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The fixture client, from the whole fixture spec.
fn fixture() -> Result<(), String> {
    let (relative, name) = FIXTURE;
    generate(name, &read(relative)?, "fixture.rs")
}

/// The upstream client, from the operations cut out of upstream's document.
fn upstream() -> Result<(), String> {
    let (relative, name) = UPSTREAM;
    let text = read(relative)?;
    let operations: Vec<String> = OPERATIONS.iter().map(|id| (*id).to_owned()).collect();
    let extraction = codegen::extract::extract(codegen::Source::new(name, &text), &operations)
        .map_err(|error| error.to_string())?;
    let spec_name = format!("the spec cut from {name}");
    generate(&spec_name, &extraction.text, "upstream.rs")
}

/// Reads a file given relative to this crate.
fn read(relative: &str) -> Result<String, String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let path = PathBuf::from(manifest).join(relative);
    std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// Generates the client of the spec `text` (named `spec_name`) with the workspace's settings and writes it to
/// `OUT_DIR/file`.
fn generate(spec_name: &str, text: &str, file: &str) -> Result<(), String> {
    let settings = codegen::Settings {
        command: "cargo build -p generated-clients".to_owned(),
        ..Default::default()
    };
    let source = codegen::generate(codegen::Source::new(spec_name, text), None, &settings)
        .map_err(|error| error.to_string())?;
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let target = PathBuf::from(out).join(file);
    std::fs::write(&target, source)
        .map_err(|error| format!("cannot write {}: {error}", target.display()))
}
