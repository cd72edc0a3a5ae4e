//! `cargo xtask diff`: a semantic comparison of two versions of the spec, classified for the
//! people who depend on the generated client, so a spec change is reviewed as a short list of
//! consequences instead of a diff of thousands of generated lines.
//!
//! Both sides are prepared with the workspace overlay, as `cargo xtask regenerate` prepares them,
//! so the report describes the client that would be generated. Each side is also read as upstream
//! wrote it, and upstream changes that the overlay hides are reported in a section of their own.
//!
//! Only [`input`] and [`run`] touch files and git; the engine is pure, one module per concern:
//! [`model`] flattens a document, `walk` pairs two of them and applies the structural rules,
//! `schema` the rules on one schema node, `typify` models the Rust types those rules reason
//! about, [`rule`] names every rule, [`change`] is the report's vocabulary, [`compare`] merges
//! and masks, and [`render`] writes text or Markdown.

pub mod change;
pub mod compare;
pub mod input;
pub mod model;
pub mod render;
pub mod rule;
mod schema;
mod typify;
mod walk;

use std::path::PathBuf;

pub use change::{Change, Subject};
pub use input::Side;
pub use rule::{Class, Rule};

use crate::workspace_root;

/// Exit code when the comparison ran and the `--fail-on` gate passed.
pub const EXIT_OK: u8 = 0;
/// Exit code when `--fail-on breaking` is given and a breaking change was found.
pub const EXIT_BREAKING: u8 = 1;
/// Exit code for usage and input errors (unreadable file, unknown revision, invalid spec, an
/// overlay that no longer applies).
pub const EXIT_ERROR: u8 = 2;

/// Output format of the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for a terminal.
    #[default]
    Text,
    /// Markdown for a pull-request comment.
    Md,
}

/// When the command exits non-zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Never (the default): the report is for reading.
    #[default]
    Never,
    /// When any breaking change is found (exit code 1).
    Breaking,
}

/// Options of `cargo xtask diff`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The spec before: a file, or a git revision whose `spec/openapi.yaml` is read.
    pub old: String,
    /// The spec after: a file or a git revision; `None` for the working tree's `spec/openapi.yaml`.
    pub new: Option<String>,
    /// The overlay applied to both; `None` for the working tree's `spec/overlay.yaml`.
    pub overlay: Option<PathBuf>,
    /// Output format.
    pub format: Format,
    /// Exit-code gate.
    pub fail_on: FailOn,
}

/// The outcome of a comparison.
#[derive(Clone, Debug)]
pub struct Report {
    /// How the old side is shown.
    pub old: String,
    /// How the new side is shown.
    pub new: String,
    /// How the overlay is shown.
    pub overlay: String,
    /// Changes the generated client sees, sorted.
    pub changes: Vec<Change>,
    /// Upstream changes the overlay hides from the generated client, sorted.
    pub hidden: Vec<Change>,
}

impl Report {
    /// Every change, those hidden by the overlay last.
    pub fn all(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().chain(&self.hidden)
    }

    /// How many changes have `class`.
    pub fn count(&self, class: Class) -> usize {
        self.all().filter(|change| change.class == class).count()
    }

    /// Whether nothing changed at all.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.hidden.is_empty()
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => render::text(self),
            Format::Md => render::markdown(self),
        }
    }

    /// The process exit code under `fail_on`.
    pub fn exit_code(&self, fail_on: FailOn) -> u8 {
        match fail_on {
            FailOn::Breaking if self.count(Class::Breaking) > 0 => EXIT_BREAKING,
            _ => EXIT_OK,
        }
    }
}

/// The comparison settings of this workspace's client: which schemas are hand-written.
pub fn client_context() -> compare::Context {
    compare::Context {
        hand_written: crate::client::settings()
            .replacements
            .into_iter()
            .map(|replacement| (replacement.schema, replacement.rust_type))
            .collect(),
    }
}

/// Runs `cargo xtask diff` with `options` in the repository at the workspace root.
pub fn run(options: &Options) -> anyhow::Result<Report> {
    let root = workspace_root();
    let old = input::read_side(Side::Old, &options.old, &root)?;
    let new = match &options.new {
        Some(new) => input::read_side(Side::New, new, &root)?,
        None => {
            let path = input::default_new_spec();
            input::read_side(Side::New, &path.to_string_lossy(), &root)?
        }
    };
    let overlay = match &options.overlay {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                anyhow::anyhow!(
                    "cannot read the overlay {}: {error}",
                    crate::display_path(path)
                )
            })?;
            input::SpecText {
                label: crate::display_path(path),
                text,
            }
        }
        None => input::read_overlay(&root)?,
    };
    compare_texts(&old, &new, Some(&overlay), &client_context())
}

/// Compares two spec texts, each prepared with `overlay`.
pub fn compare_texts(
    old: &input::SpecText,
    new: &input::SpecText,
    overlay: Option<&input::SpecText>,
    context: &compare::Context,
) -> anyhow::Result<Report> {
    let old = input::prepare(Side::Old, old, overlay)?;
    let new = input::prepare(Side::New, new, overlay)?;
    let generated_old = model::Model::build(&old.generated);
    let generated_new = model::Model::build(&new.generated);
    let changes = compare::compare(&generated_old, &generated_new, context);
    let hidden = match (&old.upstream, &new.upstream) {
        (Some(upstream_old), Some(upstream_new)) if overlay.is_some() => {
            compare::hidden_by_overlay(
                (
                    &model::Model::build(upstream_old),
                    &model::Model::build(upstream_new),
                ),
                (&generated_old, &generated_new),
                context,
            )
        }
        _ => Vec::new(),
    };
    Ok(Report {
        old: old.label,
        new: new.label,
        overlay: overlay.map_or_else(|| "none".to_owned(), |overlay| overlay.label.clone()),
        changes,
        hidden,
    })
}
