//! The spec against upstream's real document: a vendored copy of the Security Center section of
//! cloudflare/api-schemas' `openapi.json` at commit c92b9b0 (`fixtures/cloudflare-security-center-c92b9b0.*`,
//! with the repository's licence). Syncing the workspace's spec from it again changes nothing, and a
//! document with `"paths": {}` (upstream published one on 2025-07-30, commit 7069123c) is refused
//! without writing anything, naming every tracked operation it lacks.

use xtask::spec_sync::{self, Options, Outcome};

use crate::support::fixtures;

/// The vendored document.
const DOCUMENT: &str = "cloudflare-security-center-c92b9b0.openapi.json";

/// The revision it is from.
const REVISION: &str = "c92b9b0fde23ae00fece2025662f96dc8e2d6283";

/// A copy of the workspace's `spec/` in a temporary folder.
fn workspace_spec_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let spec = xtask::workspace_root().join("spec");
    for name in ["upstream.toml", "openapi.yaml", "overlay.yaml"] {
        std::fs::copy(spec.join(name), dir.path().join(name)).expect("copy the spec folder");
    }
    dir
}

/// `spec-sync --check` from the vendored document finds the workspace's spec fresh, and so does
/// a sync with the recorded revision: it rewrites the spec byte for byte.
#[test]
fn syncing_the_real_revision_again_is_a_no_op() {
    let spec_dir = xtask::workspace_root().join("spec");
    let pin = xtask::pin::Pin::load(&spec_dir).expect("spec/upstream.toml");
    assert_eq!(pin.upstream.revision, REVISION);
    let check = spec_sync::run(&Options {
        from: fixtures().join(DOCUMENT),
        revision: None,
        check: true,
        spec_dir: spec_dir.clone(),
        today: None,
    })
    .expect("the check runs");
    assert_eq!(check.outcome, Outcome::Fresh, "{:?}", check.outcome);

    let copy = workspace_spec_copy();
    let before = std::fs::read_to_string(copy.path().join("openapi.yaml")).expect("the spec");
    spec_sync::run(&Options {
        from: fixtures().join(DOCUMENT),
        revision: Some(REVISION.to_owned()),
        check: false,
        spec_dir: copy.path().to_path_buf(),
        today: Some(pin.upstream.retrieved.clone()),
    })
    .expect("the sync");
    let after = std::fs::read_to_string(copy.path().join("openapi.yaml")).expect("the spec");
    assert_eq!(before, after);
}

/// Upstream's empty document of 2025-07-30 is not the removal of every operation: the sync
/// refuses it, names each tracked operation, and leaves the spec and its record as they were.
#[test]
fn a_document_without_paths_is_refused_naming_the_tracked_operations() {
    let copy = workspace_spec_copy();
    let text = std::fs::read_to_string(fixtures().join(DOCUMENT)).expect("the document");
    let mut document: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    document["paths"] = serde_json::json!({});
    let empty = copy.path().join("openapi-7069123c.json");
    std::fs::write(&empty, serde_json::to_vec(&document).expect("JSON")).expect("written");
    let (spec, record) = (
        std::fs::read_to_string(copy.path().join("openapi.yaml")).expect("the spec"),
        std::fs::read_to_string(copy.path().join("upstream.toml")).expect("the record"),
    );
    let error = spec_sync::run(&Options {
        from: empty,
        revision: Some("7069123c".to_owned()),
        check: false,
        spec_dir: copy.path().to_path_buf(),
        today: None,
    })
    .expect_err("refused");
    let message = format!("{error:#}");
    let pin = xtask::pin::Pin::load(copy.path()).expect("the record");
    let tracked = pin.upstream.operations.expect("operations");
    assert_eq!(tracked.len(), 6);
    for operation in &tracked {
        assert!(
            message.contains(operation.as_str()),
            "{operation}: {message}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(copy.path().join("openapi.yaml")).expect("the spec"),
        spec
    );
    assert_eq!(
        std::fs::read_to_string(copy.path().join("upstream.toml")).expect("the record"),
        record
    );
}
