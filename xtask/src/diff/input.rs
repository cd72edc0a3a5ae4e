//! Reading the two sides of `cargo xtask diff`: a spec file or a git revision of the pinned spec,
//! prepared with the workspace overlay exactly as `cargo xtask regenerate` prepares it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::{display_path, workspace_root};

/// Where the pinned spec lives inside the repository; `git show REV:` reads this path.
pub const SPEC_IN_REPO: &str = "spec/openapi.yaml";

/// Where the workspace overlay lives inside the repository.
pub const OVERLAY_IN_REPO: &str = "spec/overlay.yaml";

/// Which side of the comparison an input is; named in every error about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The spec before the change (`--old`).
    Old,
    /// The spec after the change (`--new`).
    New,
}

impl Side {
    /// `old` or `new`, as the flags name them.
    pub fn name(self) -> &'static str {
        match self {
            Self::Old => "old",
            Self::New => "new",
        }
    }
}

/// One side's text and the label it is shown under.
#[derive(Clone, Debug)]
pub struct SpecText {
    /// How the side is shown to people: a path, or `REV:spec/openapi.yaml`.
    pub label: String,
    /// The spec's full text.
    pub text: String,
}

/// One side, parsed twice: as upstream wrote it, and with the workspace overlay applied.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// How the side is shown to people.
    pub label: String,
    /// The document the generator sees (overlay applied, canonical), as JSON.
    pub generated: Value,
    /// The document as upstream wrote it (no overlay), as JSON; `None` when it cannot be read
    /// without the overlay, in which case changes hidden by the overlay are not reported.
    pub upstream: Option<Value>,
}

/// Reads `spec` as a file when such a path exists (or it ends in `.yaml`, `.yml` or `.json`),
/// else as a git revision of the repository at `root`, whose [`SPEC_IN_REPO`] is read with
/// `git show`.
pub fn read_side(side: Side, spec: &str, root: &Path) -> anyhow::Result<SpecText> {
    let path = PathBuf::from(spec);
    let path = if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map(|dir| dir.join(&path))
            .unwrap_or(path)
    };
    if path.exists() || looks_like_path(spec) {
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "--{}: cannot read spec file {}",
                side.name(),
                display_path(&path)
            )
        })?;
        return Ok(SpecText {
            label: display_path(&path),
            text,
        });
    }
    read_revision(side, spec, root)
}

/// Reads [`SPEC_IN_REPO`] at git revision `revision` of the repository at `root`.
pub fn read_revision(side: Side, revision: &str, root: &Path) -> anyhow::Result<SpecText> {
    if revision.starts_with('-') {
        bail!(
            "--{}: `{revision}` is neither a spec file nor a git revision",
            side.name()
        );
    }
    let object = format!("{revision}:{SPEC_IN_REPO}");
    let output = Command::new("git")
        .arg("show")
        .arg(&object)
        .current_dir(root)
        .output()
        .with_context(|| format!("--{}: cannot run `git show {object}`", side.name()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let git_says = stderr.lines().next().unwrap_or("").trim();
        bail!(
            "--{}: `{revision}` is not a spec file, and `git show {object}` failed: {git_says}",
            side.name()
        );
    }
    let text = String::from_utf8(output.stdout)
        .with_context(|| format!("--{}: {object} is not UTF-8", side.name()))?;
    Ok(SpecText {
        label: object,
        text,
    })
}

/// Prepares a side: the overlay applied (an error naming the side when it no longer applies),
/// and, separately, the spec as upstream wrote it.
pub fn prepare(
    side: Side,
    spec: &SpecText,
    overlay: Option<&SpecText>,
) -> anyhow::Result<Prepared> {
    let source = codegen::Source::new(&spec.label, &spec.text);
    let overlay_source = overlay.map(|overlay| codegen::Source::new(&overlay.label, &overlay.text));
    let api =
        codegen::prepare(source, overlay_source).map_err(|error| match (&error, overlay) {
            (codegen::Error::Overlay { .. }, Some(overlay)) => anyhow::anyhow!(
                "the overlay {} no longer applies to the {} spec ({}): {error}",
                overlay.label,
                side.name(),
                spec.label
            ),
            _ => anyhow::anyhow!(
                "the {} spec ({}) is not usable: {error}",
                side.name(),
                spec.label
            ),
        })?;
    let generated = serde_json::to_value(&api)
        .with_context(|| format!("cannot re-serialise the {} spec", side.name()))?;
    Ok(Prepared {
        label: spec.label.clone(),
        generated,
        upstream: upstream_document(source),
    })
}

/// The spec as upstream wrote it, read as OpenAPI without the overlay or the generator's checks.
fn upstream_document(source: codegen::Source<'_>) -> Option<Value> {
    let mut value = codegen::document::parse(source).ok()?;
    codegen::document::canonicalize(&mut value);
    let api = codegen::validate::to_openapi(source.name, value).ok()?;
    serde_json::to_value(&api).ok()
}

/// Reads the workspace overlay from the working tree.
pub fn read_overlay(root: &Path) -> anyhow::Result<SpecText> {
    let path = root.join(OVERLAY_IN_REPO);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the overlay {}", display_path(&path)))?;
    Ok(SpecText {
        label: display_path(&path),
        text,
    })
}

/// The working tree's pinned spec, the default `--new`.
pub fn default_new_spec() -> PathBuf {
    workspace_root().join(SPEC_IN_REPO)
}

fn looks_like_path(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}
