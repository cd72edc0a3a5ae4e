//! Bad inputs give errors that say which side is wrong and why.

use xtask::diff::compare::Context;
use xtask::diff::input::{Side, SpecText, read_side};
use xtask::diff::{Options, compare_texts};

use crate::support::{fixture, fixtures};

fn message(error: anyhow::Error) -> String {
    format!("{error:#}")
}

/// `--old` names a file that does not exist.
#[test]
fn a_missing_spec_file_is_a_clear_error() {
    let root = xtask::workspace_root();
    let missing = fixtures().join("no-such-spec.yaml");
    let error = read_side(Side::Old, &missing.to_string_lossy(), &root).expect_err("missing");
    let text = message(error);
    assert!(text.starts_with("--old: cannot read spec file "), "{text}");
    assert!(text.contains("no-such-spec.yaml"), "{text}");
}

/// `--new` names a folder, which exists but is not a readable file.
#[test]
fn an_unreadable_spec_file_is_a_clear_error() {
    let root = xtask::workspace_root();
    let error = read_side(Side::New, &fixtures().to_string_lossy(), &root).expect_err("a folder");
    let text = message(error);
    assert!(
        text.starts_with("--new: cannot read spec file tests/diff/fixtures"),
        "{text}"
    );
}

/// `--old` is neither a file nor a revision of the repository.
#[test]
fn an_unknown_git_revision_is_a_clear_error() {
    let root = xtask::workspace_root();
    let error = read_side(Side::Old, "no-such-revision-0d1e", &root).expect_err("unknown");
    let text = message(error);
    assert!(
        text.starts_with(
            "--old: `no-such-revision-0d1e` is not a spec file, and `git show \
             no-such-revision-0d1e:spec/openapi.yaml` failed: "
        ),
        "{text}"
    );
}

/// `--old HEAD` reads the pinned spec as committed.
#[test]
fn a_git_revision_reads_the_pinned_spec_at_that_revision() {
    let root = xtask::workspace_root();
    let side = read_side(Side::Old, "HEAD", &root).expect("HEAD has a spec");
    assert_eq!(side.label, "HEAD:spec/openapi.yaml");
    // spec-sync's header comment comes first.
    let first = side.text.lines().find(|line| !line.starts_with('#'));
    assert_eq!(first, Some("openapi: 3.0.3"), "{}", &side.text[..200]);
}

/// The new side is not valid YAML.
#[test]
fn an_invalid_spec_is_a_clear_error_naming_the_side() {
    let old = fixture("base.yaml");
    let new = SpecText {
        label: "broken.yaml".to_owned(),
        text: "openapi: 3.0.3\npaths: [\n".to_owned(),
    };
    let error = compare_texts(&old, &new, None, &Context::default()).expect_err("invalid");
    let text = message(error);
    assert!(
        text.starts_with("the new spec (broken.yaml) is not usable: broken.yaml:"),
        "{text}"
    );
    assert!(text.contains("invalid YAML"), "{text}");
}

/// The new side is YAML but not OpenAPI 3.0.
#[test]
fn a_document_that_is_not_openapi_3_0_is_a_clear_error() {
    let old = fixture("base.yaml");
    let new = SpecText {
        label: "swagger.yaml".to_owned(),
        text: "swagger: '2.0'\npaths: {}\n".to_owned(),
    };
    let text = message(compare_texts(&old, &new, None, &Context::default()).expect_err("invalid"));
    assert!(
        text.starts_with("the new spec (swagger.yaml) is not usable: swagger.yaml: /openapi:"),
        "{text}"
    );
}

/// The workspace overlay targets schemas the old side does not have.
#[test]
fn an_overlay_that_no_longer_applies_is_a_clear_error_naming_the_side() {
    let old = fixture("base.yaml");
    let new = fixture("realistic_new.yaml");
    let overlay = fixture("realistic_overlay.yaml");
    let error = compare_texts(&old, &new, Some(&overlay), &Context::default()).expect_err("drift");
    let text = message(error);
    assert!(
        text.starts_with(
            "the overlay fixtures/realistic_overlay.yaml no longer applies to the old spec \
             (fixtures/base.yaml): "
        ),
        "{text}"
    );
    assert!(text.contains("target matches nothing"), "{text}");
}

/// The command's entry point with a revision on the old side and a file on the new
/// side, with the working tree's overlay.
#[test]
fn run_compares_a_revision_with_a_file_using_the_workspace_overlay() {
    // The working tree's spec, named as a file: the overlay follows the spec, so a fixture
    // without the operations it adjusts would not take it.
    let new = xtask::workspace_root().join("spec/openapi.yaml");
    let options = Options {
        old: "HEAD".to_owned(),
        new: Some(new.to_string_lossy().into_owned()),
        ..Options::default()
    };
    let report =
        xtask::diff::run(&options).expect("HEAD's spec and the working tree's take the overlay");
    assert_eq!(report.old, "HEAD:spec/openapi.yaml");
    assert_eq!(report.new, "spec/openapi.yaml");
    assert_eq!(report.overlay, "spec/overlay.yaml");
}

/// The command's entry point with an unknown revision.
#[test]
fn run_reports_an_unknown_revision() {
    let options = Options {
        old: "no-such-revision-0d1e".to_owned(),
        ..Options::default()
    };
    let text = message(xtask::diff::run(&options).expect_err("unknown revision"));
    assert!(
        text.contains("`git show no-such-revision-0d1e:spec/openapi.yaml` failed"),
        "{text}"
    );
}
