//! The record beside the spec (`spec/upstream.toml`) of where it came from and its sha256.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

/// Name of the record, inside `spec/`.
pub const RECORD: &str = "upstream.toml";

/// The parsed `spec/upstream.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// Where the spec came from.
    pub upstream: Upstream,
    /// The pinned spec file and the overlay applied to it.
    pub spec: PinnedSpec,
}

/// Provenance of the spec.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// GitHub `owner/name`.
    pub repository: String,
    /// File inside that repository.
    pub path: String,
    /// Commit or description of the revision.
    pub revision: String,
    /// Date of retrieval.
    pub retrieved: String,
    /// Lower-case hex SHA-256 of upstream's whole document the spec was extracted from (absent
    /// until `cargo xtask spec-sync` has run).
    #[serde(default)]
    pub sha256: Option<String>,
    /// The operationIds `cargo xtask spec-sync` keeps from upstream's document.
    #[serde(default)]
    pub operations: Option<Vec<String>>,
}

/// The spec file as pinned.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedSpec {
    /// File name inside `spec/`.
    pub file: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// Overlay file name inside `spec/`.
    pub overlay: String,
}

impl Pin {
    /// Reads `spec_dir/upstream.toml`.
    pub fn load(spec_dir: &Path) -> anyhow::Result<Self> {
        let path = spec_dir.join(RECORD);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", crate::display_path(&path)))?;
        Self::parse(&crate::display_path(&path), &text)
    }

    /// Parses the text of a record shown as `name`.
    pub fn parse(name: &str, text: &str) -> anyhow::Result<Self> {
        toml::from_str(text)
            .map_err(|error| anyhow::anyhow!("{name}: {}", error.to_string().trim_end()))
    }

    /// Path of the pinned spec.
    pub fn spec_path(&self, spec_dir: &Path) -> PathBuf {
        spec_dir.join(&self.spec.file)
    }

    /// Path of the overlay.
    pub fn overlay_path(&self, spec_dir: &Path) -> PathBuf {
        spec_dir.join(&self.spec.overlay)
    }
}
