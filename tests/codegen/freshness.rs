//! The checked-in client is what the generator makes of the pinned spec, the generator is
//! deterministic, and the spec's syntax and key order do not change the generated code.

use std::fmt::Write as _;

use serde_json::Value;
use xtask::files::Outcome;
use xtask::regenerate::{self, Options};

/// `cargo xtask regenerate --check` finds `generated-client/src/generated.rs` fresh and the
/// spec matching its recorded sha256.
#[test]
fn checked_in_client_is_fresh() {
    let report = regenerate::run(&Options {
        check: true,
        ..Default::default()
    })
    .unwrap_or_else(|error| panic!("regenerate --check failed: {error:#}"));
    if let Outcome::Stale(diff) = &report.outcome {
        panic!(
            "{} is stale; run `{}`:\n{diff}",
            report.output,
            xtask::client::COMMAND
        );
    }
    assert_eq!(report.outcome, Outcome::Fresh);
    assert!(
        report.pin_mismatch.is_none(),
        "spec pin mismatch: {:?}",
        report.pin_mismatch.map(|error| error.to_string())
    );
}

/// Generating twice from the same inputs gives byte-equal output.
#[test]
fn generation_is_deterministic() {
    let (spec, overlay) = workspace_inputs();
    let first = regenerate::generate_source(&spec, &overlay).expect("first generation");
    let second = regenerate::generate_source(&spec, &overlay).expect("second generation");
    assert!(first == second, "two generations differ");
}

/// A JSON copy of the spec with every object's keys in reverse order generates the same code,
/// apart from the header line that records the spec's sha256.
#[test]
fn json_copy_with_reordered_keys_generates_identical_code() {
    let (spec_path, overlay_path) = workspace_inputs();
    let yaml = std::fs::read_to_string(&spec_path).expect("read spec");
    let overlay = std::fs::read_to_string(&overlay_path).expect("read overlay");
    let value: Value = serde_yaml_ng::from_str(&yaml).expect("spec is YAML");
    let mut json = String::new();
    write_reversed(&value, &mut json);
    assert!(json.starts_with('{') && !json.starts_with("{\"openapi\""));

    let folder = tempfile::tempdir().expect("temporary folder");
    let json_path = folder.path().join("openapi.json");
    std::fs::write(&json_path, &json).expect("write JSON copy");
    let json = std::fs::read_to_string(&json_path).expect("read JSON copy");

    // Same display names as the real run, so only the hash can differ.
    let settings = xtask::client::settings();
    let overlay_source = codegen::Source::new("spec/overlay.yaml", &overlay);
    let from_yaml = codegen::generate(
        codegen::Source::new("spec/openapi.yaml", &yaml),
        Some(overlay_source),
        &settings,
    )
    .expect("generate from YAML");
    let from_json = codegen::generate(
        codegen::Source::new("spec/openapi.yaml", &json),
        Some(overlay_source),
        &settings,
    )
    .expect("generate from JSON");

    let differing: Vec<(&str, &str)> = from_yaml
        .lines()
        .zip(from_json.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(from_yaml.lines().count(), from_json.lines().count());
    assert_eq!(
        differing.len(),
        1,
        "more than the hash line differs: {differing:#?}"
    );
    let (yaml_line, json_line) = differing[0];
    assert!(yaml_line.starts_with("// Spec:") && json_line.starts_with("// Spec:"));
    assert!(json_line.contains(&codegen::sha256_hex(json.as_bytes())));
}

fn workspace_inputs() -> (std::path::PathBuf, std::path::PathBuf) {
    let spec = xtask::workspace_root().join("spec");
    let pin = xtask::pin::Pin::load(&spec).expect("spec/upstream.toml");
    (pin.spec_path(&spec), pin.overlay_path(&spec))
}

/// Writes `value` as JSON with each object's keys in reverse order of how they are stored.
fn write_reversed(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().rev().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(key.clone()));
                write_reversed(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_reversed(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}
