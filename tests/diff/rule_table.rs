//! The table of rules in `docs/reviewing-spec-changes.md` is rendered from `xtask::diff::Rule`:
//! this test fails when the two differ, listing the rows to add and to remove, and rewrites the
//! table when run with `UPDATE_DOCS=1`.

use std::collections::BTreeSet;

use xtask::diff::rule::{TABLE_END, TABLE_START, with_table};
use xtask::files::{Outcome, ensure_file_contents};

/// The command that rewrites the table.
const FIX: &str = "UPDATE_DOCS=1 cargo test -p tests --test diff rule_table";

/// The rows of the table between the markers of `document`.
fn rows(document: &str) -> BTreeSet<String> {
    document
        .split(TABLE_START)
        .nth(1)
        .and_then(|rest| rest.split(TABLE_END).next())
        .unwrap_or_default()
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(str::to_owned)
        .collect()
}

/// Render the table from `Rule::ALL` into the document's marked section; the document
/// already holds exactly that (or, with `UPDATE_DOCS=1`, is rewritten to).
#[test]
fn the_documented_rule_table_is_the_rule_enum() {
    let path = xtask::workspace_root().join("docs/reviewing-spec-changes.md");
    let current = std::fs::read_to_string(&path).expect("docs/reviewing-spec-changes.md");
    let wanted = with_table(&current).unwrap_or_else(|error| {
        panic!("docs/reviewing-spec-changes.md: {error}; the rule table sits between them")
    });
    let update = std::env::var_os("UPDATE_DOCS").is_some_and(|value| value == "1");
    match ensure_file_contents(&path, &wanted, !update).expect("the doc can be read and written") {
        Outcome::Fresh | Outcome::Written => {}
        Outcome::Stale(diff) => {
            let (have, want) = (rows(&current), rows(&wanted));
            let missing: Vec<&String> = want.difference(&have).collect();
            let extra: Vec<&String> = have.difference(&want).collect();
            panic!(
                "the rule table in docs/reviewing-spec-changes.md differs from xtask::diff::Rule\n\
                 rows to add: {missing:#?}\nrows to remove: {extra:#?}\n{diff}\n\
                 fix: {FIX} (the table is rendered from the rules' ids, classes and doc comments)"
            );
        }
    }
}
