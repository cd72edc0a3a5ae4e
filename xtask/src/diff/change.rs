//! The report's vocabulary: what a classified change is, how it is classified and what it is
//! reported under, and the two shapes a change has before it reaches the report (a rule's
//! `Verdict` and a change `Found` in one operation).
//!
//! It lives apart from the walk that finds changes and the merge that groups them because all
//! of them, and the renderers, speak it.

use super::rule::Rule;

/// How a change affects people who depend on the generated client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Downstream code stops compiling, the server rejects a request the client sends, or the
    /// client can no longer parse a response.
    Breaking,
    /// The client changes, but code and traffic that worked keep working.
    NonBreaking,
    /// Documentation or metadata only; nothing to do.
    Informational,
}

impl Class {
    /// `breaking`, `non-breaking` or `informational`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Breaking => "breaking",
            Self::NonBreaking => "non-breaking",
            Self::Informational => "informational",
        }
    }
}

/// What a change is reported under.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// Document-wide things: security schemes.
    Document,
    /// One or more operations (identical changes of several operations are merged).
    Operations(Vec<String>),
    /// A component schema, i.e. a public Rust type.
    Schema(String),
}

/// One classified change.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// What it is reported under.
    pub subject: Subject,
    /// Whether the overlay hides this upstream change from the generated client.
    pub hidden_by_overlay: bool,
    /// Where inside the subject, e.g. ``query parameter `per_page` `` or ``property `rationale` ``.
    pub location: String,
    /// The rule that found it; [`Rule::as_str`] is its stable id, e.g.
    /// `request-parameter-max-decreased`.
    pub rule: Rule,
    /// What changed, e.g. `maximum lowered from 1000 to 500`.
    pub message: String,
    /// The classification.
    pub class: Class,
    /// Why, in terms of the generated client.
    pub reason: String,
    /// The operations in which the change is seen (for schema and document subjects).
    pub operations: Vec<String>,
}

/// What a rule concluded, before it is placed.
pub(super) struct Verdict {
    pub(super) rule: Rule,
    pub(super) message: String,
    pub(super) class: Class,
    pub(super) reason: String,
    /// The breaking effect is only a compile break of regenerated code (no wire effect).
    pub(super) compile_only: bool,
}

/// The verdict of a rule that always has the same class (its only one in [`Rule::classes`]).
pub(super) fn verdict(
    rule: Rule,
    message: impl Into<String>,
    reason: impl Into<String>,
) -> Verdict {
    let classes = rule.classes();
    debug_assert_eq!(
        classes.len(),
        1,
        "{rule} has several classes; use `classed`"
    );
    classed(rule, classes[0], message, reason)
}

/// The verdict of a rule whose class depends on the change; `class` is one of
/// [`Rule::classes`].
pub(super) fn classed(
    rule: Rule,
    class: Class,
    message: impl Into<String>,
    reason: impl Into<String>,
) -> Verdict {
    debug_assert!(
        rule.classes().contains(&class),
        "{rule} is not documented as {}",
        class.label()
    );
    Verdict {
        rule,
        message: message.into(),
        class,
        reason: reason.into(),
        compile_only: false,
    }
}

/// A breaking verdict whose only effect is that code built against the old client stops
/// compiling: it becomes non-breaking for a hand-written schema and informational when the
/// overlay hides it.
pub(super) fn compile_break(
    rule: Rule,
    message: impl Into<String>,
    reason: impl Into<String>,
) -> Verdict {
    Verdict {
        compile_only: true,
        ..classed(rule, Class::Breaking, message, reason)
    }
}

/// A change as found in one operation, before identical ones are merged.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Found {
    pub(super) operation: Option<String>,
    /// Where in the operation (used to match upstream changes with generated ones).
    pub(super) operation_location: String,
    /// The component schema that owns the change, and the location inside it.
    pub(super) owner: Option<(String, String)>,
    pub(super) rule: Rule,
    pub(super) message: String,
    pub(super) class: Class,
    pub(super) reason: String,
    pub(super) compile_only: bool,
}

impl Found {
    /// A document-wide change at `location` (no operation).
    pub(super) fn in_document(location: String, verdict: Verdict) -> Self {
        Self {
            operation: None,
            operation_location: location,
            owner: None,
            rule: verdict.rule,
            message: verdict.message,
            class: verdict.class,
            reason: verdict.reason,
            compile_only: verdict.compile_only,
        }
    }

    /// A change at `location` of operation `id`.
    pub(super) fn at_operation(id: &str, location: &str, verdict: Verdict) -> Self {
        Self {
            operation: Some(id.to_owned()),
            ..Self::in_document(location.to_owned(), verdict)
        }
    }
}
