//! `cargo xtask regenerate`: spec + overlay → `generated-client/src/generated.rs`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::files::{Outcome, ensure_file_contents};
use crate::generation::Isolation;
use crate::pin::{Pin, RECORD};
use crate::{display_path, workspace_root};

/// Where the generated client lives, relative to the workspace root.
pub const OUTPUT: &str = "generated-client/src/generated.rs";

/// Options of `cargo xtask regenerate`.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Write nothing; report whether the output is stale.
    pub check: bool,
    /// Generate from this copy of the spec instead of the pinned one (its hash is not checked).
    pub spec: Option<PathBuf>,
    /// The overlay applied: the pinned one, another file, or none.
    pub overlay: OverlayChoice,
    /// Write (or check) this file instead of the client's generated module.
    pub out: Option<PathBuf>,
    /// Where the generator runs: `cargo xtask regenerate` runs it in a child process, so that a
    /// crash inside progenitor or typify is an error; the default runs it in this process.
    pub isolation: Isolation,
}

/// Which overlay `regenerate` applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OverlayChoice {
    /// The overlay `spec/upstream.toml` names (`spec/overlay.yaml`).
    #[default]
    Pinned,
    /// Another overlay file (`--overlay FILE`).
    File(PathBuf),
    /// No overlay (`--no-overlay`): the spec as it is, e.g. to list everything upstream's whole
    /// document needs adjusting.
    None,
}

/// What a run found or did.
#[derive(Debug)]
pub struct Report {
    /// The generated file, as shown to people.
    pub output: String,
    /// Whether it was fresh, written, or (check mode) stale.
    pub outcome: Outcome,
    /// Check mode only: the pinned spec no longer matches its recorded sha256.
    pub pin_mismatch: Option<codegen::Error>,
}

impl Report {
    /// Whether the run should exit with success.
    pub fn is_ok(&self) -> bool {
        !matches!(self.outcome, Outcome::Stale(_)) && self.pin_mismatch.is_none()
    }
}

/// Generates the client source for the spec at `spec_path` with the workspace's overlay, in
/// this process.
pub fn generate_source(spec_path: &Path, overlay_path: &Path) -> anyhow::Result<String> {
    crate::generation::generate_here(spec_path, Some(overlay_path))
}

/// Runs `cargo xtask regenerate` with `options`.
///
/// Writing refuses a pinned spec whose hash differs from `spec/upstream.toml`; checking reports
/// both a stale output (as a diff) and such a mismatch, so one run shows every problem.
pub fn run(options: &Options) -> anyhow::Result<Report> {
    let root = workspace_root();
    let spec_dir = root.join("spec");
    let pin = Pin::load(&spec_dir)?;
    let spec_path = options
        .spec
        .clone()
        .unwrap_or_else(|| pin.spec_path(&spec_dir));
    let output_path = options.out.clone().unwrap_or_else(|| root.join(OUTPUT));

    let pin_mismatch = if options.spec.is_none() {
        let text = read(&spec_path)?;
        let record = display_path(&spec_dir.join(RECORD));
        let name = display_path(&spec_path);
        codegen::verify_pin(
            codegen::Source::new(&name, &text),
            &pin.spec.sha256,
            &record,
        )
        .err()
    } else {
        None
    };
    let pin_mismatch = match pin_mismatch {
        Some(mismatch) if !options.check => return Err(mismatch.into()),
        other => other,
    };

    let overlay_path = match &options.overlay {
        OverlayChoice::Pinned => Some(pin.overlay_path(&spec_dir)),
        OverlayChoice::File(path) => Some(path.clone()),
        OverlayChoice::None => None,
    };
    let source =
        crate::generation::generate(&options.isolation, &spec_path, overlay_path.as_deref())?;
    let outcome = ensure_file_contents(&output_path, &source, options.check)?;
    Ok(Report {
        output: display_path(&output_path),
        outcome,
        pin_mismatch,
    })
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", display_path(path)))
}
