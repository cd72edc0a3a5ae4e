//! The Markdown report holds whatever names and values a spec has: each stays inline code in
//! its own cell or heading, so a backtick, `<!--`, `|` or a line break in a spec can neither
//! hide the rest of a pull-request comment nor break a table row.

use xtask::diff::Format;

use crate::support::diff_base;

/// Cells of a GitHub table row: splits on `|` not escaped by a backslash, as GitHub does
/// before it reads anything inside the cells.
fn cells(row: &str) -> usize {
    let mut count = 0;
    let mut chars = row.chars();
    while let Some(character) = chars.next() {
        match character {
            '\\' => {
                chars.next();
            }
            '|' => count += 1,
            _ => {}
        }
    }
    count - 1
}

/// A new request enum value, a new operation and a new component schema carry a
/// backtick, an HTML comment opener, a tag, `|` and a line break; the Markdown report keeps each
/// inside one cell as inline code, every row has its table's cell count, and no `<` is left
/// that GitHub could read as HTML.
#[test]
fn hostile_names_stay_inside_their_cells() {
    let report = diff_base(&[
        (
            "              - a\n              - b\n",
            "              - a\n              - b\n              - \"x`<!--|y\\nz\"\n",
        ),
        (
            "  /items/{id}:\n",
            "  /other:\n    get:\n      operationId: \"op`<!-- |\"\n      responses:\n        '204':\n          description: none\n  /items/{id}:\n",
        ),
        (
            "components:\n  schemas:\n",
            "components:\n  schemas:\n    \"S`<b>|\":\n      type: string\n",
        ),
    ]);
    let markdown = report.render(Format::Md);
    // The values, as inline code (a fence longer than their backticks, `|` escaped in cells,
    // the line break written as `\n`).
    for expected in [
        "| non-breaking | query parameter `kind` | enum value ``x`<!--\\|y\\nz`` added |",
        "#### Operation ``op`<!-- |``",
        "| non-breaking | schema ``S`<b>\\|`` | component schema ``S`<b>\\|`` added |",
    ] {
        assert!(markdown.contains(expected), "missing {expected:?}");
    }
    let mut columns = None;
    for line in markdown.lines() {
        if line.starts_with('|') {
            let count = cells(line);
            let expected = *columns.get_or_insert(count);
            assert_eq!(count, expected, "a row with other cells: {line}");
        } else {
            columns = None;
        }
        // Outside the inline code above, every `<` is escaped.
        let outside = line
            .replace("``x`<!--\\|y\\nz``", "")
            .replace("``op`<!-- |``", "")
            .replace("``S`<b>\\|``", "");
        for (at, _) in outside.match_indices('<') {
            assert!(outside[..at].ends_with('\\'), "a bare `<` in {line}");
        }
    }
}
