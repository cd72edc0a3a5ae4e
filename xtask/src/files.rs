//! The one way generated files are written or checked: atomically, or as a diff in check mode.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// What [`ensure_file_contents`] found or did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The file already had the wanted contents; nothing was written.
    Fresh,
    /// The file was (re)written.
    Written,
    /// Check mode: the file differs; the unified diff from the file to the wanted contents.
    Stale(String),
}

/// Makes `path` hold `contents`, or in `check` mode reports how it differs without writing.
///
/// Writing goes through a temporary file in the same folder that is renamed over `path`, so a
/// failure never leaves a half-written file behind.
pub fn ensure_file_contents(path: &Path, contents: &str, check: bool) -> anyhow::Result<Outcome> {
    let shown = crate::display_path(path);
    let current = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).with_context(|| format!("cannot read {shown}")),
    };
    if current.as_deref() == Some(contents) {
        return Ok(Outcome::Fresh);
    }
    if check {
        let old = current.unwrap_or_default();
        let diff = similar::TextDiff::from_lines(old.as_str(), contents)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{shown}"), &format!("b/{shown}"))
            .to_string();
        return Ok(Outcome::Stale(diff));
    }
    write_atomically(path, contents).with_context(|| format!("cannot write {shown}"))?;
    Ok(Outcome::Written)
}

fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".regenerate-")
        .suffix(".tmp")
        .tempfile_in(folder)?;
    temporary.write_all(contents.as_bytes())?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}
