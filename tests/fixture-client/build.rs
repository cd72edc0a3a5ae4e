//! Generates the fixture client from `openapi.yaml` into `OUT_DIR` with the workspace's
//! generator, so that building this crate proves the generated code compiles.

use std::path::PathBuf;
use std::process::ExitCode;

/// How the spec is named in errors and in the generated header (stable across machines).
const SPEC_NAME: &str = "tests/fixture-client/openapi.yaml";

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed=openapi.yaml");
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
    let spec = PathBuf::from(manifest).join("openapi.yaml");
    let text = std::fs::read_to_string(&spec)
        .map_err(|error| format!("cannot read {}: {error}", spec.display()))?;
    let settings = codegen::Settings {
        command: "cargo build -p fixture-client".to_owned(),
        ..Default::default()
    };
    let source = codegen::generate(codegen::Source::new(SPEC_NAME, &text), None, &settings)
        .map_err(|error| error.to_string())?;
    let target = PathBuf::from(out).join("fixture_client.rs");
    std::fs::write(&target, source)
        .map_err(|error| format!("cannot write {}: {error}", target.display()))
}
