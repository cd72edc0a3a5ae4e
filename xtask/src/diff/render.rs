//! The two presentations of a [`Report`]: plain text for a terminal and Markdown for a
//! pull-request comment. Both group changes by subject (operation set or schema), list breaking
//! changes first, and end (text) or start (Markdown) with the counts.
//!
//! Names and values from the spec (operationIds, schema and property names, enum values, media
//! types, patterns, paths) reach the report as the code pieces of a [`Text`], which both
//! renderers show as inline code made by [`code`], holding any text literally: a backtick cannot
//! end it early and a line break cannot leave it. The Markdown renderer then escapes everything
//! outside inline code (`<`, backticks, `|`, emphasis and link characters) and `|` inside it,
//! and puts every cell and heading on one line, so nothing a spec says can add HTML (a `<!--`
//! hiding the rest of the comment), break a table row or mention someone.

use std::fmt::{self, Write as _};

use super::change::{Piece, Text};
use super::{Change, Class, Report, Subject};

/// The plain rendering: prose as it is, each name or value from the spec as [`code`].
impl fmt::Display for Text {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in self.pieces() {
            match piece {
                Piece::Prose(prose) => formatter.write_str(prose)?,
                Piece::Code(text) => formatter.write_str(&code(text))?,
            }
        }
        Ok(())
    }
}

/// The report as plain text.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Spec changes: {} -> {}", report.old, report.new);
    let _ = writeln!(out, "Overlay applied to both: {}", report.overlay);
    if report.is_empty() {
        let _ = writeln!(out, "\nNo changes.");
    }
    text_groups(&mut out, &report.changes, "");
    if !report.hidden.is_empty() {
        let _ = writeln!(
            out,
            "\nHidden by the overlay: upstream changed these, but the overlay keeps the old \
             definitions, so the generated client does not change"
        );
        text_groups(&mut out, &report.hidden, "  ");
    }
    let _ = writeln!(out, "\n{}", summary(report));
    out
}

fn text_groups(out: &mut String, changes: &[Change], indent: &str) {
    for (subject, group) in groups(changes) {
        let _ = writeln!(out, "\n{indent}{}", subject_title(subject));
        for change in group {
            let label = match change.class {
                Class::Breaking => "BREAKING",
                other => other.label(),
            };
            let _ = writeln!(
                out,
                "{indent}  {label:<14}{}: {}",
                change.location, change.message
            );
            let _ = writeln!(out, "{indent}  {:<14}why: {}", "", change.reason);
            if !matches!(change.subject, Subject::Operations(_)) && !change.operations.is_empty() {
                let _ = writeln!(
                    out,
                    "{indent}  {:<14}in: {}",
                    "",
                    change.operations.join(", ")
                );
            }
        }
    }
}

/// The report as Markdown for a pull-request comment.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Spec changes\n");
    let _ = writeln!(
        out,
        "{} → {}, with the overlay {} applied to both.\n",
        inline(&code(&report.old), false),
        inline(&code(&report.new), false),
        inline(&code(&report.overlay), false)
    );
    let _ = writeln!(out, "| Class | Changes |");
    let _ = writeln!(out, "|---|---:|");
    for class in [Class::Breaking, Class::NonBreaking, Class::Informational] {
        let _ = writeln!(out, "| {} | {} |", class.label(), report.count(class));
    }
    if !report.hidden.is_empty() {
        let _ = writeln!(
            out,
            "\nOf these, {} are hidden by the overlay.",
            report.hidden.len()
        );
    }
    if report.is_empty() {
        let _ = writeln!(out, "\nNo changes.");
    }
    markdown_groups(&mut out, &report.changes, "####");
    if !report.hidden.is_empty() {
        let _ = writeln!(out, "\n#### Hidden by the overlay\n");
        let _ = writeln!(
            out,
            "Upstream changed these, but the overlay keeps the old definitions, so the generated \
             client does not change."
        );
        markdown_groups(&mut out, &report.hidden, "#####");
    }
    out
}

fn markdown_groups(out: &mut String, changes: &[Change], heading: &str) {
    for (subject, group) in groups(changes) {
        let _ = writeln!(
            out,
            "\n{heading} {}\n",
            inline(&subject_title(subject), false)
        );
        let with_operations = !matches!(subject, Subject::Operations(_));
        if with_operations {
            let _ = writeln!(out, "| Class | Where | Change | Why | Operations |");
            let _ = writeln!(out, "|---|---|---|---|---|");
        } else {
            let _ = writeln!(out, "| Class | Where | Change | Why |");
            let _ = writeln!(out, "|---|---|---|---|");
        }
        for change in group {
            let class = match change.class {
                Class::Breaking => "**breaking**".to_owned(),
                other => other.label().to_owned(),
            };
            let _ = write!(
                out,
                "| {class} | {} | {} | {} |",
                cell(&change.location.to_string()),
                cell(&change.message.to_string()),
                cell(&change.reason)
            );
            if with_operations {
                let operations: Vec<String> = change
                    .operations
                    .iter()
                    .map(|operation| code(operation))
                    .collect();
                let _ = write!(out, " {} |", cell(&operations.join(", ")));
            }
            let _ = writeln!(out);
        }
    }
}

/// `N changes: B breaking, N non-breaking, I informational (H hidden by the overlay)`.
pub fn summary(report: &Report) -> String {
    let total = report.all().count();
    let mut line = format!(
        "Summary: {total} change{}: {} breaking, {} non-breaking, {} informational",
        if total == 1 { "" } else { "s" },
        report.count(Class::Breaking),
        report.count(Class::NonBreaking),
        report.count(Class::Informational)
    );
    if !report.hidden.is_empty() {
        let _ = write!(line, " ({} hidden by the overlay)", report.hidden.len());
    }
    line
}

/// Changes grouped by subject in subject order, breaking changes first within a group.
fn groups(changes: &[Change]) -> Vec<(&Subject, Vec<&Change>)> {
    let mut grouped: Vec<(&Subject, Vec<&Change>)> = Vec::new();
    for change in changes {
        match grouped.last_mut() {
            Some((subject, group)) if *subject == &change.subject => group.push(change),
            _ => grouped.push((&change.subject, vec![change])),
        }
    }
    grouped.sort_by(|a, b| a.0.cmp(b.0));
    for (_, group) in &mut grouped {
        group.sort_by(|a, b| {
            (a.class, &a.location, &a.message, a.rule).cmp(&(
                b.class,
                &b.location,
                &b.message,
                b.rule,
            ))
        });
    }
    grouped
}

fn subject_title(subject: &Subject) -> String {
    match subject {
        Subject::Document => "Document".to_owned(),
        Subject::Operations(operations) => {
            let names: Vec<String> = operations.iter().map(|operation| code(operation)).collect();
            if operations.len() == 1 {
                format!("Operation {}", names.join(", "))
            } else {
                format!("Operations {}", names.join(", "))
            }
        }
        Subject::Schema(name) => format!("Schema {}", code(name)),
    }
}

/// A table cell: [`inline`] with `|` escaped everywhere.
fn cell(text: &str) -> String {
    inline(text, true)
}

/// `text` as inline code that shows it literally, in plain text and in Markdown: the fence is
/// one backtick longer than the longest run of backticks inside, padded with a space where the
/// text starts or ends with a backtick (or with a space at both ends), and control characters
/// (line breaks, escape sequences) and Unicode line separators are written as Rust escapes
/// (`\n`, `\u{1b}`), so the code stays on its line and a terminal shows what the spec holds.
pub fn code(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_control() || matches!(character, '\u{2028}' | '\u{2029}') {
            shown.extend(character.escape_default());
        } else {
            shown.push(character);
        }
    }
    let longest = shown
        .split(|character| character != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if shown.is_empty() {
        return "` `".to_owned();
    }
    let pad = shown.starts_with('`')
        || shown.ends_with('`')
        || (shown.starts_with(' ') && shown.ends_with(' ') && shown.trim() != "");
    let space = if pad { " " } else { "" };
    format!("{fence}{space}{shown}{space}{fence}")
}

/// Markdown characters escaped outside inline code: those that start HTML, code, emphasis,
/// links, strikethrough, math, entities and table cells, and the backslash itself.
const ESCAPED: &[char] = &[
    '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '!', '$', '#', '@',
];

/// `text` (prose with inline code made by [`code`]) as one line of Markdown that renders as
/// written: inline code spans are found as CommonMark finds them (a run of backticks up to the
/// next run of the same length); outside them every [`ESCAPED`] character gets a backslash,
/// inside them only `|` in a table cell (GitHub splits rows on `|` before reading code, and
/// reads `\|` there as `|`). Line breaks become spaces everywhere.
fn inline(text: &str, in_table: bool) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|character| {
            if character.is_control() || matches!(character, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                character
            }
        })
        .collect();
    let run_at = |at: usize| chars[at..].iter().take_while(|&&c| c == '`').count();
    let mut out = String::with_capacity(text.len() + 8);
    let mut at = 0;
    while at < chars.len() {
        if chars[at] != '`' {
            if ESCAPED.contains(&chars[at]) {
                out.push('\\');
            }
            out.push(chars[at]);
            at += 1;
            continue;
        }
        let open = run_at(at);
        // The closing run: the next run of exactly `open` backticks.
        let mut probe = at + open;
        let mut close = None;
        while probe < chars.len() {
            if chars[probe] == '`' {
                let run = run_at(probe);
                if run == open {
                    close = Some(probe);
                    break;
                }
                probe += run;
            } else {
                probe += 1;
            }
        }
        match close {
            Some(close) => {
                out.extend(&chars[at..at + open]);
                let mut backslashes = 0;
                for &character in &chars[at + open..close] {
                    if character == '|' && in_table {
                        // A backslash before the `|` would pair with the one added here.
                        if backslashes % 2 == 1 {
                            out.push('\\');
                        }
                        out.push('\\');
                    }
                    backslashes = if character == '\\' {
                        backslashes + 1
                    } else {
                        0
                    };
                    out.push(character);
                }
                out.extend(&chars[close..close + open]);
                at = close + open;
            }
            None => {
                // Not code: literal backticks.
                for _ in 0..open {
                    out.push_str("\\`");
                }
                at += open;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_show_code_as_inline_code_and_order_as_shown() {
        let text = Text::prose("enum value ").code("a`b").and(" added");
        assert_eq!(text.to_string(), "enum value ``a`b`` added");
        assert_eq!(text, "enum value ``a`b`` added");
        // As shown, "a`x`" comes after "a!", although its prose "a" comes before "a!".
        assert!(Text::prose("a").code("x") > Text::prose("a!"));
        assert_eq!(Text::prose("a ").code("b"), Text::prose("a `b`"));
    }

    #[test]
    fn code_holds_any_text_on_one_line() {
        assert_eq!(code("per_page"), "`per_page`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\nb\u{1b}[31m"), "`a\\nb\\u{1b}[31m`");
        assert_eq!(code(""), "` `");
        assert_eq!(code(" a "), "`  a  `");
    }

    #[test]
    fn inline_escapes_prose_and_keeps_code() {
        assert_eq!(
            inline("enum value `<!--` added <b>", false),
            "enum value `<!--` added \\<b\\>"
        );
        assert_eq!(inline("a | `b|c`", true), "a \\| `b\\|c`");
        assert_eq!(inline("a | `b|c`", false), "a \\| `b|c`");
        assert_eq!(inline("one ` tick", false), "one \\` tick");
        assert_eq!(inline("`a\\|b`", true), "`a\\\\\\|b`");
        assert_eq!(inline("x\ny", false), "x y");
    }
}
