//! `cargo xtask regenerate --overlay FILE` and `--no-overlay` choose the overlay without editing
//! `spec/overlay.yaml`, and a run lists every problem of the spec (through the child process
//! the generator runs in), not only the first.
//!
//! These tests run the built `xtask` executable, as a maintainer does.

use std::path::PathBuf;
use std::process::Command;

use crate::support::SENTINEL;

/// The generator fixture with three unsupported operations.
fn three_unsupported() -> PathBuf {
    xtask::workspace_root().join("tests/codegen/fixtures/three_unsupported.yaml")
}

/// Runs `xtask regenerate` with `args` and `--out` a sentinel file in a temporary folder: the
/// exit code, the standard error, and the output file's contents afterwards.
fn regenerate(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("generated.rs");
    std::fs::write(&out, SENTINEL).expect("write the sentinel");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("regenerate")
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("xtask runs");
    let written = std::fs::read_to_string(&out).expect("the output exists");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        written,
    )
}

/// `--no-overlay` on a spec with three unsupported operations: one run names all
/// three, sorted by location, each with its fix, exits 1 and writes nothing.
#[test]
fn no_overlay_run_lists_every_problem() {
    let spec = three_unsupported();
    let (code, stderr, written) =
        regenerate(&["--spec", spec.to_str().expect("UTF-8"), "--no-overlay"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(written, SENTINEL);
    let located: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("  /paths/"))
        .map(|line| line.trim_start().split(": ").next().unwrap_or_default())
        .collect();
    assert_eq!(
        located,
        [
            "/paths/~1things~1{id}/delete",
            "/paths/~1things~1{id}/get",
            "/paths/~1things~1{id}/put",
        ],
        "{stderr}"
    );
    assert_eq!(stderr.matches("\n    fix: ").count(), 3, "{stderr}");
    assert!(
        stderr
            .trim_end()
            .ends_with("3 problems: 1 request-body, 1 response, 1 error-responses"),
        "{stderr}"
    );
}

/// `--overlay FILE` with the actions the report names (and the schemas the client's
/// settings replace, which regenerate requires): the same spec generates.
#[test]
fn overlay_file_replaces_the_workspace_overlay() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let overlay = dir.path().join("fixes.yaml");
    std::fs::write(
        &overlay,
        "overlay: 1.0.0\ninfo: {title: fixes, version: '1'}\nactions:\n\
         - {target: \"$.paths['/things/{id}'].get.responses['409']\", remove: true}\n\
         - {target: \"$.paths['/things/{id}'].get.responses['429']\", remove: true}\n\
         - {target: \"$.paths['/things/{id}'].put.requestBody.content['multipart/form-data']\", remove: true}\n\
         - target: \"$.paths['/things/{id}'].delete.responses['200'].content['application/json']\"\n  \
           update: {schema: {}}\n\
         - target: $.components.schemas\n  \
           update: {security-center_auditLogFieldChanged: {type: string, enum: [status]}, \
           security-center_issueType: {type: string}, security-center_insightSeverity: {type: string}, \
           security-center_insightStatus: {type: string}, security-center_userClassification: {type: string}}\n",
    )
    .expect("write the overlay");
    let spec = three_unsupported();
    let (code, stderr, written) = regenerate(&[
        "--spec",
        spec.to_str().expect("UTF-8"),
        "--overlay",
        overlay.to_str().expect("UTF-8"),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(written.contains("pub fn delete_thing("), "{written}");
    assert!(
        written.contains("// Overlay: "),
        "the header names the overlay"
    );
}

/// `--overlay` and `--no-overlay` together are a usage error (exit 2).
#[test]
fn overlay_and_no_overlay_conflict() {
    let (code, stderr, written) = regenerate(&["--overlay", "x.yaml", "--no-overlay"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    assert_eq!(written, SENTINEL);
}
