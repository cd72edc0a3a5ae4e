//! Workspace automation behind `cargo xtask`: regenerating the client, checking it is fresh,
//! cutting the spec out of upstream's whole document, reviewing a spec change, and running the
//! mock server.
//!
//! A library as well as a binary so that the workspace's tests run exactly the code path the
//! command runs.

pub mod bench;
pub mod client;
pub mod diff;
pub mod files;
pub mod generation;
pub mod mock;
pub mod pin;
pub mod regenerate;
pub mod spec_sync;

use std::path::{Path, PathBuf};

/// The workspace root (the folder holding `spec/`, `codegen/`, `generated-client/`, ...).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Shows `path` relative to the workspace root when it lies inside it, with `/` separators.
pub fn display_path(path: &Path) -> String {
    let root = workspace_root();
    let shown = path.strip_prefix(&root).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}
