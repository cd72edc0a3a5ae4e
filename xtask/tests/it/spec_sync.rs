//! `cargo xtask spec-sync` as a maintainer and CI run it: exit 0 when it writes or when
//! `--check` finds the spec fresh, 1 with a one-line reason and the head of the diff when
//! `--check` finds it stale, 2 with nothing written when the input is bad.
//!
//! These tests run the built `xtask` executable on a spec folder in a temporary directory.

use std::path::Path;
use std::process::Command;

/// An upstream-shaped document with two operations; `get-thing` is tracked.
const UPSTREAM: &str = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    \
                        get:\n      operationId: get-thing\n      responses:\n        '200':\n          \
                        description: OK.\n          content:\n            application/json:\n              \
                        schema: {$ref: '#/components/schemas/Thing'}\n    delete:\n      \
                        operationId: delete-thing\n      responses: {'204': {description: Gone.}}\n\
                        components:\n  schemas:\n    Thing: {type: object}\n    Unused: {type: string}\n";

/// A spec folder tracking `get-thing`, with a placeholder spec.
fn spec_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("upstream.toml"),
        "[upstream]\nrepository = \"example/api\"\npath = \"openapi.yaml\"\nrevision = \"r\"\n\
         retrieved = \"2026-01-01\"\noperations = [\"get-thing\"]\n\n[spec]\nfile = \
         \"openapi.yaml\"\nsha256 = \"0\"\noverlay = \"overlay.yaml\"\n",
    )
    .expect("write the record");
    std::fs::write(dir.path().join("openapi.yaml"), "placeholder\n").expect("write the spec");
    std::fs::write(dir.path().join("upstream.yaml"), UPSTREAM).expect("write the document");
    dir
}

/// Runs `xtask spec-sync --spec-dir DIR --from DIR/upstream.yaml` with `args`: exit code,
/// standard output, standard error.
fn spec_sync(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("spec-sync")
        .arg("--spec-dir")
        .arg(dir)
        .arg("--from")
        .arg(dir.join("upstream.yaml"))
        .args(args)
        .output()
        .expect("xtask runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `--check` on the placeholder fails with exit 1, one reason line and the diff head
/// on standard output; a sync then writes (exit 0); `--check` then passes (exit 0).
#[test]
fn check_exits_one_when_stale_and_zero_when_fresh() {
    let dir = spec_dir();
    let (code, stdout, stderr) = spec_sync(dir.path(), &["--check"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(" is not what "),
        "{stderr}"
    );
    assert!(stdout.starts_with("--- a/"), "{stdout}");
    assert!(stdout.contains("\n-placeholder\n"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("openapi.yaml")).expect("spec"),
        "placeholder\n"
    );

    let (code, _, stderr) = spec_sync(dir.path(), &["--revision", "abc123"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.starts_with("wrote "), "{stderr}");
    let spec = std::fs::read_to_string(dir.path().join("openapi.yaml")).expect("spec");
    assert!(spec.contains("operationId: get-thing") && !spec.contains("delete-thing"));
    assert!(spec.contains("Thing:") && !spec.contains("Unused"));

    let (code, stdout, stderr) = spec_sync(dir.path(), &["--check"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

/// A tracked operation upstream lacks: exit 2, the operation named, nothing written.
#[test]
fn missing_operation_exits_two_and_writes_nothing() {
    let dir = spec_dir();
    let document = UPSTREAM.replace("operationId: get-thing", "operationId: get-things");
    std::fs::write(dir.path().join("upstream.yaml"), document).expect("rewrite the document");
    let record = std::fs::read_to_string(dir.path().join("upstream.toml")).expect("record");
    let (code, _, stderr) = spec_sync(dir.path(), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no operation has operationId `get-thing`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("openapi.yaml")).expect("spec"),
        "placeholder\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("upstream.toml")).expect("record"),
        record
    );
}

/// `--revision` with `--check` is a usage error (exit 2): a check records nothing.
#[test]
fn revision_with_check_is_a_usage_error() {
    let dir = spec_dir();
    let (code, _, stderr) = spec_sync(dir.path(), &["--check", "--revision", "abc"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

/// Runs `xtask bench-spec-sync --runs 1` with `args`: exit code, standard output and error.
fn bench(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bench-spec-sync", "--runs", "1"])
        .args(args)
        .output()
        .expect("xtask runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The benchmark without its document says it skipped, and succeeds.
#[test]
fn bench_skips_without_its_document() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("openapi.json");
    let (code, stdout, stderr) = bench(&["--from", missing.to_str().expect("UTF-8")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.starts_with("skipped: "), "{stderr}");
}

/// The benchmark on a small document measures both cases in child processes and
/// reports what the generator says.
#[test]
fn bench_reports_both_cases_and_the_generator() {
    let dir = spec_dir();
    let from = dir.path().join("upstream.yaml");
    let (code, stdout, stderr) = bench(&["--from", from.to_str().expect("UTF-8")]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("| a handful (get-thing, delete-thing) | 2 | 1 |"),
        "{stdout}"
    );
    assert!(stdout.contains("| every operation | 2 | 1 |"), "{stdout}");
    assert!(stdout.contains("`regenerate --no-overlay`"), "{stdout}");
}
