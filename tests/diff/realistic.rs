//! The realistic pair: upstream adds a `severity` value to `field_changed`, a `status` query
//! filter, and lowers `per_page`'s maximum to 500, checked with the workspace's overlay.

use std::collections::BTreeMap;

use xtask::diff::compare::Context;
use xtask::diff::{Class, FailOn, Format, Report, compare_texts};

use crate::support::{fixture, the_change};

fn context() -> Context {
    Context {
        hand_written: BTreeMap::from([(
            "security-center_auditLogFieldChanged".to_owned(),
            "crate::FieldChanged".to_owned(),
        )]),
    }
}

fn realistic() -> Report {
    let old = fixture("realistic_old.yaml");
    let new = fixture("realistic_new.yaml");
    let overlay = fixture("realistic_overlay.yaml");
    compare_texts(&old, &new, Some(&overlay), &context()).expect("both sides are valid")
}

/// Each of the three upstream changes gets its classification; the lowered maximum
/// is the only breaking one, and `severity` is reported as hidden by the overlay (which pins
/// `field_changed`'s values), for the filter and for the response field.
#[test]
fn realistic_pair_classifies_each_change() {
    let report = realistic();
    let all_four = [
        "get-security-center-account-audit-log",
        "get-security-center-issue-audit-log",
        "get-zone-security-center-audit-log",
        "get-zone-security-center-issue-audit-log",
    ];

    let per_page = the_change(&report, "request-parameter-max-decreased");
    assert_eq!(per_page.class, Class::Breaking);
    assert_eq!(per_page.location, "query parameter `per_page`");
    assert_eq!(per_page.message, "maximum lowered from 1000 to 500");
    assert_eq!(per_page.operations, all_four);
    assert!(!per_page.hidden_by_overlay);

    let status = the_change(&report, "new-optional-request-parameter");
    assert_eq!(status.class, Class::NonBreaking);
    assert_eq!(status.location, "query parameter `status`");
    assert_eq!(status.operations, all_four);

    let filter = the_change(&report, "request-enum-value-added");
    assert_eq!(filter.class, Class::NonBreaking);
    assert_eq!(filter.location, "query parameter `field_changed`");
    assert_eq!(filter.message, "enum value `severity` added");
    assert!(filter.hidden_by_overlay);

    let field = the_change(&report, "response-enum-value-added");
    assert_eq!(field.class, Class::NonBreaking);
    assert_eq!(
        field.location,
        "response 200 field `result[].field_changed`"
    );
    assert!(field.hidden_by_overlay);

    assert_eq!(report.all().count(), 4, "{}", report.render(Format::Text));
    assert_eq!(report.count(Class::Breaking), 1);
}

/// The same pair without the overlay: `severity` is an ordinary change of what the
/// generator would see, which is what makes the "hidden by the overlay" section trustworthy.
#[test]
fn without_the_overlay_the_severity_value_is_an_ordinary_change() {
    let old = fixture("realistic_old.yaml");
    let new = fixture("realistic_new.yaml");
    let report = compare_texts(&old, &new, None, &context()).expect("valid");
    assert!(report.hidden.is_empty());
    assert!(!the_change(&report, "request-enum-value-added").hidden_by_overlay);
    let field = the_change(&report, "response-enum-value-added");
    assert_eq!(
        field.subject,
        xtask::diff::Subject::Schema("security-center_auditLog".to_owned())
    );
    assert_eq!(field.location, "property `field_changed`");
}

/// `--fail-on breaking` on the realistic pair exits 1 (the lowered maximum).
#[test]
fn realistic_pair_fails_the_breaking_gate() {
    let report = realistic();
    assert_eq!(report.exit_code(FailOn::Breaking), 1);
    assert_eq!(report.exit_code(FailOn::Never), 0);
}

/// The terminal report of the realistic pair.
#[test]
fn realistic_pair_text_report() {
    insta::assert_snapshot!(realistic().render(Format::Text));
}

/// The Markdown report (pull-request comment) of the realistic pair.
#[test]
fn realistic_pair_markdown_report() {
    insta::assert_snapshot!(realistic().render(Format::Md));
}

/// Two runs give byte-identical reports.
#[test]
fn reports_are_deterministic() {
    assert_eq!(
        realistic().render(Format::Md),
        realistic().render(Format::Md)
    );
}
