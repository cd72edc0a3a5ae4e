//! Fixture loading and small helpers shared by the diff tests.

use std::path::PathBuf;

use xtask::diff::compare::Context;
use xtask::diff::input::SpecText;
use xtask::diff::{Change, Class, Report, Rule, compare_texts};

/// Folder of the diff fixtures.
pub(crate) fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("diff/fixtures")
}

/// A fixture file as a labelled text (labels are stable, so snapshots are too).
pub(crate) fn fixture(name: &str) -> SpecText {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read fixture {}: {error}", path.display()));
    SpecText {
        label: format!("fixtures/{name}"),
        text,
    }
}

/// `base` with each `(from, to)` replacement applied; each `from` must occur exactly once, so a
/// fixture edit that no longer matches fails instead of silently testing nothing.
pub(crate) fn edited(base: &SpecText, edits: &[(&str, &str)]) -> SpecText {
    let mut text = base.text.clone();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "the edit target must occur exactly once in {}: {from:?}",
            base.label
        );
        text = text.replacen(from, to, 1);
    }
    SpecText {
        label: format!("{} (edited)", base.label),
        text,
    }
}

/// Compares the base fixture with an edit of it, without an overlay.
pub(crate) fn diff_base(edits: &[(&str, &str)]) -> Report {
    let base = fixture("base.yaml");
    let new = edited(&base, edits);
    compare_texts(&base, &new, None, &Context::default()).expect("both fixture sides are valid")
}

/// The rule with the stable id `id`; fails when no rule has it, so a mistyped id in a test
/// cannot pass by finding nothing.
pub(crate) fn rule(id: &str) -> Rule {
    Rule::from_id(id).unwrap_or_else(|| panic!("no rule has the id `{id}`"))
}

/// The one change of `report` with the rule `id`; fails listing every change when there is not
/// exactly one.
pub(crate) fn the_change<'a>(report: &'a Report, id: &str) -> &'a Change {
    let rule = rule(id);
    let matching: Vec<&Change> = report.all().filter(|change| change.rule == rule).collect();
    assert_eq!(
        matching.len(),
        1,
        "expected exactly one `{rule}` change, got:\n{}",
        report.render(xtask::diff::Format::Text)
    );
    matching[0]
}

/// Asserts that `report` holds exactly one change besides informational ones, with the rule `id`
/// and `class`, and returns it.
pub(crate) fn only_change<'a>(report: &'a Report, id: &str, class: Class) -> &'a Change {
    let rule = rule(id);
    let relevant: Vec<&Change> = report
        .all()
        .filter(|change| change.class != Class::Informational || change.rule == rule)
        .collect();
    assert_eq!(
        relevant.len(),
        1,
        "expected only a `{rule}` change, got:\n{}",
        report.render(xtask::diff::Format::Text)
    );
    let change = relevant[0];
    assert_eq!(change.rule, rule, "{change:#?}");
    assert_eq!(change.class, class, "{change:#?}");
    change
}
