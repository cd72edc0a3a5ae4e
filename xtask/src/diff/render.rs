//! The two presentations of a [`Report`]: plain text for a terminal and Markdown for a
//! pull-request comment. Both group changes by subject (operation set or schema), list breaking
//! changes first, and end (text) or start (Markdown) with the counts.

use std::fmt::Write as _;

use super::{Change, Class, Report, Subject};

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
        let _ = writeln!(out, "\n{indent}{}", subject_title(subject, "`"));
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
        "`{}` → `{}`, with the overlay `{}` applied to both.\n",
        report.old, report.new, report.overlay
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
        let _ = writeln!(out, "\n{heading} {}\n", subject_title(subject, "`"));
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
                cell(&change.location),
                cell(&change.message),
                cell(&change.reason)
            );
            if with_operations {
                let operations: Vec<String> = change
                    .operations
                    .iter()
                    .map(|operation| format!("`{operation}`"))
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

fn subject_title(subject: &Subject, quote: &str) -> String {
    match subject {
        Subject::Document => "Document".to_owned(),
        Subject::Operations(operations) => {
            let names: Vec<String> = operations
                .iter()
                .map(|operation| format!("{quote}{operation}{quote}"))
                .collect();
            if operations.len() == 1 {
                format!("Operation {}", names.join(", "))
            } else {
                format!("Operations {}", names.join(", "))
            }
        }
        Subject::Schema(name) => format!("Schema {quote}{name}{quote}"),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
