//! `cargo xtask spec-sync --from FILE [--revision REV] [--check]`: turns upstream's whole API
//! document (Cloudflare's `openapi.json`, every product in one file) into `spec/openapi.yaml`,
//! the operations `spec/upstream.toml` lists and every component they reach, and records where
//! it came from in `spec/upstream.toml`.
//!
//! The extraction itself is `codegen::extract` (pure); this module reads the files, writes both
//! atomically, and in check mode compares instead of writing.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;

use crate::files::{Outcome as FileOutcome, ensure_file_contents};
use crate::pin::{Pin, RECORD};
use crate::{display_path, workspace_root};

/// The command, as named in the spec's header and in hints.
pub const COMMAND: &str = "cargo xtask spec-sync";

/// The comment block the extracted spec starts with.
pub const HEADER: &str = "\
# Written by `cargo xtask spec-sync` from upstream's whole API document: the operations that
# spec/upstream.toml lists and every component they reach, with upstream's names and content.
# Do not edit: adjust generation in spec/overlay.yaml, and update this file with spec-sync
# (see docs/reviewing-spec-changes.md).
";

/// How many lines of the unified diff `--check` shows.
pub const DIFF_HEAD_LINES: usize = 40;

/// Options of `cargo xtask spec-sync`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Upstream's whole document (JSON or YAML).
    pub from: PathBuf,
    /// The upstream revision (commit) the document is from.
    pub revision: Option<String>,
    /// Write nothing; report whether the spec is what `from` extracts to.
    pub check: bool,
    /// The folder holding `upstream.toml` and the spec (the workspace's `spec/` by default).
    pub spec_dir: PathBuf,
    /// The date to record, `YYYY-MM-DD` (today in UTC by default).
    pub today: Option<String>,
}

impl Options {
    /// Options for the workspace's own `spec/`.
    pub fn new(from: PathBuf) -> Self {
        Self {
            from,
            revision: None,
            check: false,
            spec_dir: workspace_root().join("spec"),
            today: None,
        }
    }
}

/// What a run found or did.
#[derive(Debug)]
pub struct Report {
    /// The spec, as shown to people.
    pub spec: String,
    /// Its record (`spec/upstream.toml`), as shown to people.
    pub record: String,
    /// The upstream document, as shown to people.
    pub from: String,
    /// SHA-256 of the upstream document.
    pub upstream_sha256: String,
    /// What was kept.
    pub extraction: codegen::extract::Extraction,
    /// What happened.
    pub outcome: Outcome,
}

/// What happened to the spec and its record.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written (or rewritten); `changed` says whether the spec's bytes changed.
    Written {
        /// Whether `spec/openapi.yaml` changed.
        changed: bool,
    },
    /// Check mode: the spec is what the document extracts to.
    Fresh,
    /// Check mode: it is not.
    Stale {
        /// One line saying how it differs.
        reason: String,
        /// The first [`DIFF_HEAD_LINES`] lines of the unified diff from the spec to the
        /// extraction.
        diff_head: String,
    },
}

impl Report {
    /// Whether the run should exit with success.
    pub fn is_ok(&self) -> bool {
        !matches!(self.outcome, Outcome::Stale { .. })
    }

    /// What was kept, on one line: `4 operations under 4 paths, 17 components (3 parameters,
    /// ...)`.
    pub fn summary(&self) -> String {
        let extraction = &self.extraction;
        let total: usize = extraction.components.values().sum();
        let sections = extraction
            .components
            .iter()
            .map(|(section, count)| format!("{count} {section}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{} operations under {} paths, {total} components ({sections})",
            extraction.operations, extraction.paths
        )
    }
}

/// Runs `cargo xtask spec-sync` with `options`. Nothing is written unless the extraction
/// succeeds, and nothing at all in check mode.
pub fn run(options: &Options) -> anyhow::Result<Report> {
    let pin = Pin::load(&options.spec_dir)?;
    let record_path = options.spec_dir.join(RECORD);
    let record_name = display_path(&record_path);
    let operations = pin.upstream.operations.clone().with_context(|| {
        format!(
            "{record_name}: [upstream] has no `operations` list; name the operationIds to keep, \
             e.g. operations = [\"get-security-center-issue-audit-log\"]"
        )
    })?;
    if operations.is_empty() {
        anyhow::bail!(
            "{record_name}: [upstream] `operations` is empty; name the operationIds to keep"
        );
    }
    let from = display_path(&options.from);
    let bytes = std::fs::read(&options.from).with_context(|| format!("cannot read {from}"))?;
    let upstream_sha256 = codegen::sha256_hex(&bytes);
    let text = String::from_utf8(bytes).with_context(|| format!("{from} is not UTF-8"))?;
    let extraction = codegen::extract::extract(codegen::Source::new(&from, &text), &operations)?;
    drop(text);
    let spec_text = format!("{HEADER}{}", extraction.text);
    let spec_path = pin.spec_path(&options.spec_dir);
    let spec = display_path(&spec_path);

    let outcome = if options.check {
        compare(&spec_path, &spec_text, &from)?
    } else {
        let record = render_record(&pin, options, &upstream_sha256, &operations, &spec_text)?;
        let changed = ensure_file_contents(&spec_path, &spec_text, false)? != FileOutcome::Fresh;
        ensure_file_contents(&record_path, &record, false)?;
        Outcome::Written { changed }
    };
    Ok(Report {
        spec,
        record: record_name,
        from,
        upstream_sha256,
        extraction,
        outcome,
    })
}

/// Check mode: whether the spec at `path` holds `wanted`.
fn compare(path: &Path, wanted: &str, from: &str) -> anyhow::Result<Outcome> {
    let shown = display_path(path);
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error).with_context(|| format!("cannot read {shown}")),
    };
    if current == wanted {
        return Ok(Outcome::Fresh);
    }
    let diff = similar::TextDiff::from_lines(current.as_str(), wanted);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{shown}"), &format!("b/{shown} (from {from})"))
        .to_string();
    let mut diff_head: String = unified
        .lines()
        .take(DIFF_HEAD_LINES)
        .map(|line| format!("{line}\n"))
        .collect();
    let total = unified.lines().count();
    if total > DIFF_HEAD_LINES {
        diff_head.push_str(&format!(
            "... ({} more diff lines)\n",
            total - DIFF_HEAD_LINES
        ));
    }
    Ok(Outcome::Stale {
        reason: format!(
            "{shown} is not what {from} extracts to ({removed} lines would go, {added} would \
             come); `{COMMAND} --from {from}` writes it"
        ),
        diff_head,
    })
}

/// The new `spec/upstream.toml`: the origin as recorded before, the revision (given, kept
/// when the document is the one recorded, else marked as not recorded), the date (kept when
/// the document and revision are unchanged), both hashes and the tracked operations.
fn render_record(
    pin: &Pin,
    options: &Options,
    upstream_sha256: &str,
    operations: &[String],
    spec_text: &str,
) -> anyhow::Result<String> {
    let same_document = pin.upstream.sha256.as_deref() == Some(upstream_sha256);
    let revision = match &options.revision {
        Some(revision) => revision.clone(),
        None if same_document => pin.upstream.revision.clone(),
        None => "not recorded: spec-sync ran without --revision".to_owned(),
    };
    let retrieved = match &options.today {
        Some(today) => today.clone(),
        None if same_document && revision == pin.upstream.revision => {
            pin.upstream.retrieved.clone()
        }
        None => today_utc(),
    };
    let spec_sha256 = codegen::sha256_hex(spec_text.as_bytes());
    let listed: String = operations
        .iter()
        .map(|id| format!("    {},\n", toml_string(id)))
        .collect();
    let text = format!(
        "# Where spec/openapi.yaml came from, written by `{COMMAND}`. `cargo xtask\n\
         # regenerate` refuses a spec whose sha256 differs from the one recorded here: replacing\n\
         # the spec is a deliberate, recorded step (docs/reviewing-spec-changes.md).\n\
         [upstream]\n\
         repository = {}\n\
         path = {}\n\
         revision = {}\n\
         retrieved = {}\n\
         # sha256 of upstream's whole document the spec was extracted from.\n\
         sha256 = {}\n\
         # The operations kept, by operationId; spec-sync keeps them and every component they \
         reach.\n\
         operations = [\n{listed}]\n\
         \n\
         [spec]\n\
         file = {}\n\
         sha256 = {}\n\
         overlay = {}\n",
        toml_string(&pin.upstream.repository),
        toml_string(&pin.upstream.path),
        toml_string(&revision),
        toml_string(&retrieved),
        toml_string(upstream_sha256),
        toml_string(&pin.spec.file),
        toml_string(&spec_sha256),
        toml_string(&pin.spec.overlay),
    );
    // The record must read back as what it says.
    let back = Pin::parse(RECORD, &text)?;
    let faithful = back.upstream.revision == revision
        && back.upstream.operations.as_deref() == Some(operations)
        && back.spec.sha256 == spec_sha256
        && back.upstream.sha256.as_deref() == Some(upstream_sha256);
    anyhow::ensure!(
        faithful,
        "the new {RECORD} does not read back as written; nothing was written"
    );
    Ok(text)
}

/// `text` as a TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            other if other.is_control() => out.push_str(&format!("\\u{:04X}", other as u32)),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today_utc() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    civil_date(i64::try_from(seconds / 86_400).unwrap_or(0))
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_the_calendar() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(19_941), "2024-08-06");
        assert_eq!(civil_date(20_785), "2026-11-28");
    }

    #[test]
    fn toml_strings_escape_quotes_and_controls() {
        assert_eq!(toml_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
        let parsed: toml::Value =
            toml::from_str(&format!("k = {}", toml_string("x\"\\\n\u{7f}é"))).expect("parses");
        assert_eq!(parsed["k"].as_str(), Some("x\"\\\n\u{7f}é"));
    }
}
