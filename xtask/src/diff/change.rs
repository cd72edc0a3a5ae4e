//! The report's vocabulary: what a classified change is and what it is reported under (its
//! class is the rule catalogue's, [`Class`]), and the two shapes a change has before it reaches the report (a rule's
//! `Verdict` and a change `Found` in one operation).
//!
//! It lives apart from the walk that finds changes and the merge that groups them because all
//! of them, and the renderers, speak it.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use super::rule::{Class, Rule};

/// A location or message of the report: prose, and the names and values the spec gives (paths,
/// schema and property names, enum values, media types, patterns) as code. The rules say which
/// is which; the renderers ([`super::render`]) decide how code is shown.
///
/// Texts are equal, and order, as their plain rendering (its `Display`, what the text report
/// shows), so that the report lists changes in the order of what it shows.
#[derive(Clone, Debug, Default)]
pub struct Text(Vec<Piece>);

/// A piece of a [`Text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Words of the report.
    Prose(String),
    /// A name or value from the spec, shown literally.
    Code(String),
}

impl Text {
    /// A text of prose alone.
    pub fn prose(prose: impl Into<String>) -> Self {
        Self(vec![Piece::Prose(prose.into())])
    }

    /// This text followed by more prose.
    pub fn and(mut self, prose: &str) -> Self {
        match self.0.last_mut() {
            Some(Piece::Prose(last)) => last.push_str(prose),
            _ => self.0.push(Piece::Prose(prose.to_owned())),
        }
        self
    }

    /// This text followed by a name or value from the spec.
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.0.push(Piece::Code(code.into()));
        self
    }

    /// This text followed by `other`.
    pub fn then(mut self, other: &Text) -> Self {
        for piece in &other.0 {
            self = match piece {
                Piece::Prose(prose) => self.and(prose),
                Piece::Code(code) => self.code(code.clone()),
            };
        }
        self
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(prose: &str) -> Self {
        Self::prose(prose)
    }
}

impl From<String> for Text {
    fn from(prose: String) -> Self {
        Self::prose(prose)
    }
}

impl From<&Text> for Text {
    fn from(text: &Text) -> Self {
        text.clone()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        self.to_string().cmp(&other.to_string())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_string().hash(state);
    }
}

/// A text equals the string it renders as.
impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.to_string().as_str() == other
    }
}

/// A text equals the string it renders as.
impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.to_string().as_str() == *other
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
    pub location: Text,
    /// The rule that found it; [`Rule::as_str`] is its stable id, e.g.
    /// `request-parameter-max-decreased`.
    pub rule: Rule,
    /// What changed, e.g. `maximum lowered from 1000 to 500`.
    pub message: Text,
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
    pub(super) message: Text,
    pub(super) class: Class,
    pub(super) reason: String,
    /// The breaking effect is only a compile break of regenerated code (no wire effect).
    pub(super) compile_only: bool,
}

/// The verdict of a rule that always has the same class (its only one in [`Rule::classes`]).
pub(super) fn verdict(rule: Rule, message: impl Into<Text>, reason: impl Into<String>) -> Verdict {
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
    message: impl Into<Text>,
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
    message: impl Into<Text>,
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
    pub(super) operation_location: Text,
    /// The component schema that owns the change, and the location inside it.
    pub(super) owner: Option<(String, Text)>,
    pub(super) rule: Rule,
    pub(super) message: Text,
    pub(super) class: Class,
    pub(super) reason: String,
    pub(super) compile_only: bool,
}

impl Found {
    /// A document-wide change at `location` (no operation).
    pub(super) fn in_document(location: impl Into<Text>, verdict: Verdict) -> Self {
        Self {
            operation: None,
            operation_location: location.into(),
            owner: None,
            rule: verdict.rule,
            message: verdict.message,
            class: verdict.class,
            reason: verdict.reason,
            compile_only: verdict.compile_only,
        }
    }

    /// A change at `location` of operation `id`.
    pub(super) fn at_operation(id: &str, location: impl Into<Text>, verdict: Verdict) -> Self {
        Self {
            operation: Some(id.to_owned()),
            ..Self::in_document(location, verdict)
        }
    }
}
