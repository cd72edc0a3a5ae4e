//! Every problem the generator finds in a spec, not only the first: each with its JSON pointer,
//! what is wrong and an overlay action that fixes it, so that one run over a large document (the
//! whole Cloudflare API) gives the complete list to work through instead of one problem per run.
//!
//! The checks of [`validate`](crate::validate) report [`Finding`]s; [`into_result`] turns them
//! into nothing (no finding), the finding's own error (one: its message is unchanged), or
//! [`Error::Problems`] listing all of them sorted by location.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::Error;

/// The kinds of problem the checks find. Each has a stable name (see [`Kind::name`]), which
/// summaries count by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A `$ref` whose target does not exist in the document.
    DanglingRef,
    /// A `$ref` to another file or URL.
    ExternalRef,
    /// Schemas that only alias each other in a circle.
    RefCycle,
    /// A schema that contains itself through `allOf`/`anyOf`/`oneOf` alone.
    CompositionCycle,
    /// An `allOf` that merges the component it is part of.
    SelfMerge,
    /// An empty `allOf`, `anyOf` or `oneOf`.
    EmptyComposition,
    /// A schema's `default` that is not of the schema's `type`.
    DefaultMismatch,
    /// A value that does not read as OpenAPI 3.0 (the reader stops at the first such value).
    NotOpenApi,
    /// A path item given by `$ref`.
    PathItemRef,
    /// An operation without an operationId.
    MissingOperationId,
    /// An operationId used by two operations.
    DuplicateOperationId,
    /// A path parameter that is not required, or that does not match the path template.
    PathParameter,
    /// A request body the generator cannot express (several media types, an `encoding`, a
    /// `$ref` outside `#/components/requestBodies`).
    RequestBody,
    /// A response the generator cannot express (JSON without a schema, an `encoding`, a `$ref`
    /// outside `#/components/responses`).
    Response,
    /// Several different success response shapes on one operation.
    SuccessResponses,
    /// Several different error response shapes on one operation.
    ErrorResponses,
}

impl Kind {
    /// The kind's stable name, e.g. `error-responses`.
    pub fn name(self) -> &'static str {
        match self {
            Self::DanglingRef => "dangling-ref",
            Self::ExternalRef => "external-ref",
            Self::RefCycle => "ref-cycle",
            Self::CompositionCycle => "composition-cycle",
            Self::SelfMerge => "self-merge",
            Self::EmptyComposition => "empty-composition",
            Self::DefaultMismatch => "default-mismatch",
            Self::NotOpenApi => "not-openapi",
            Self::PathItemRef => "path-item-ref",
            Self::MissingOperationId => "missing-operation-id",
            Self::DuplicateOperationId => "duplicate-operation-id",
            Self::PathParameter => "path-parameter",
            Self::RequestBody => "request-body",
            Self::Response => "response",
            Self::SuccessResponses => "success-responses",
            Self::ErrorResponses => "error-responses",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// What removes a problem: overlay actions where one applies mechanically, advice otherwise.
#[derive(Clone, Debug, PartialEq)]
pub enum Fix {
    /// Overlay actions `remove: true`, one per target (RFC 9535 JSONPath).
    Remove {
        /// The nodes to remove.
        targets: Vec<String>,
        /// What stays, when that is worth saying (e.g. the response shape kept).
        keeps: Option<String>,
    },
    /// An overlay action merging `update` into the node at `target`.
    Update {
        /// The node to update (RFC 9535 JSONPath).
        target: String,
        /// What to merge into it.
        update: Value,
    },
    /// No single overlay action fits; what to do instead.
    Advice(String),
}

impl fmt::Display for Fix {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Remove { targets, keeps } => {
                let shown = targets
                    .iter()
                    .map(|target| format!("`{target}`"))
                    .collect::<Vec<_>>();
                match shown.as_slice() {
                    [one] => write!(formatter, "add an overlay action `remove: true` on {one}")?,
                    _ => write!(
                        formatter,
                        "add overlay actions `remove: true` on {}",
                        shown.join(", ")
                    )?,
                }
                if let Some(keeps) = keeps {
                    write!(formatter, " (keeps {keeps})")?;
                }
                Ok(())
            }
            Self::Update { target, update } => write!(
                formatter,
                "add an overlay action on `{target}` with `update: {update}`"
            ),
            Self::Advice(text) => formatter.write_str(text),
        }
    }
}

/// One problem of a spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// What kind of problem it is.
    pub kind: Kind,
    /// JSON pointer to where it is (`/` for the whole document).
    pub pointer: String,
    /// What is wrong, without the file and the pointer.
    pub message: String,
    /// How to fix it.
    pub fix: Fix,
}

/// A problem as a check finds it: the error it is on its own, with its kind and fix.
#[derive(Debug)]
pub struct Finding {
    /// The error reported when this is the only problem.
    pub error: Error,
    /// Its kind.
    pub kind: Kind,
    /// How to fix it.
    pub fix: Fix,
}

impl Finding {
    /// A finding.
    pub fn new(error: Error, kind: Kind, fix: Fix) -> Self {
        Self { error, kind, fix }
    }

    /// The finding as a [`Problem`] of `file`.
    pub fn to_problem(&self, file: &str) -> Problem {
        let (pointer, message) = located(file, &self.error);
        Problem {
            kind: self.kind,
            pointer,
            message,
            fix: self.fix.clone(),
        }
    }
}

/// No finding is success; one is its own error, unchanged; several are [`Error::Problems`],
/// sorted by location (array indices as numbers), with exact repeats dropped.
pub fn into_result(file: &str, mut findings: Vec<Finding>) -> Result<(), Error> {
    if findings.len() <= 1 {
        return findings.pop().map_or(Ok(()), |finding| Err(finding.error));
    }
    let mut problems: Vec<Problem> = findings
        .iter()
        .map(|finding| finding.to_problem(file))
        .collect();
    problems.sort_by(|a, b| {
        crate::json_pointer::sort_key(&a.pointer)
            .cmp(&crate::json_pointer::sort_key(&b.pointer))
            .then_with(|| a.message.cmp(&b.message))
    });
    problems.dedup();
    if problems.len() == 1 {
        return findings.pop().map_or(Ok(()), |finding| Err(finding.error));
    }
    Err(Error::Problems {
        file: file.to_owned(),
        problems,
    })
}

/// The report of several problems: a heading, one entry per problem, a count by kind.
pub(crate) fn render(file: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "{file}: {} problems the generator cannot handle, sorted by location, each with an \
         overlay action (or advice) that fixes it:",
        problems.len()
    );
    for problem in problems {
        out.push_str(&format!(
            "\n  {}: {}\n    fix: {}",
            problem.pointer, problem.message, problem.fix
        ));
    }
    out.push_str(&format!("\n{}", summary(problems)));
    out
}

/// `N problems: 3 error-responses, 1 dangling-ref`, kinds in order of their count, largest first.
pub fn summary(problems: &[Problem]) -> String {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for problem in problems {
        *counts.entry(problem.kind).or_default() += 1;
    }
    let mut counts: Vec<(Kind, usize)> = counts.into_iter().collect();
    counts.sort_by(|(a, m), (b, n)| n.cmp(m).then(a.cmp(b)));
    format!(
        "{} problems: {}",
        problems.len(),
        counts
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The pointer an error names (`/` when it names none) and its message without the file and
/// the pointer. Every located error reads `{file}: {pointer}: {message}`, so the pointer is
/// taken from there, which also holds for variants added later.
fn located(file: &str, error: &Error) -> (String, String) {
    let text = error.to_string();
    let rest = text.strip_prefix(&format!("{file}: ")).unwrap_or(&text);
    match rest.split_once(": ") {
        Some((pointer, message)) if pointer.starts_with('/') => {
            (pointer.to_owned(), message.to_owned())
        }
        _ => ("/".to_owned(), rest.to_owned()),
    }
}

/// An RFC 9535 JSONPath naming one node, as overlay actions target it: `$.paths['/x'].get`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target(String);

impl Target {
    /// The document root, `$`.
    pub fn root() -> Self {
        Self("$".to_owned())
    }

    /// The member `name` of this node: `.name` when it is a plain identifier, `['name']`
    /// otherwise (with `\` and `'` escaped).
    pub fn key(&self, name: &str) -> Self {
        let plain = name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || character == '_');
        if plain {
            return Self(format!("{}.{name}", self.0));
        }
        Self(format!("{}[{}]", self.0, quote(name)))
    }

    /// The element `index` of this array node.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    /// The elements of this array node whose member `member` is the string `value`, as a filter
    /// (`[?@.name=='id']`), so that the target does not depend on the element's position.
    pub fn element_where(&self, member: &str, value: &str) -> Self {
        let selector = Self(String::from("@")).key(member).0;
        Self(format!("{}[?{selector}=={}]", self.0, quote(value)))
    }

    /// The node at JSON `pointer` in `document`: tokens are array indices where the document
    /// has an array, member names otherwise (also past a part that does not exist).
    pub fn of_pointer(document: &Value, pointer: &str) -> Self {
        let mut target = Self::root();
        let mut node = Some(document);
        for token in pointer.split('/').skip(1) {
            let token = crate::json_pointer::unescape(token);
            match (node, token.parse::<usize>()) {
                (Some(Value::Array(items)), Ok(index)) => {
                    target = target.index(index);
                    node = items.get(index);
                }
                (current, _) => {
                    node = current.and_then(|value| value.get(&token));
                    target = target.key(&token);
                }
            }
        }
        target
    }

    /// The JSONPath text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` as an RFC 9535 string literal in single quotes (`\\` and `'` escaped, control
/// characters as `\\uXXXX`).
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for character in text.chars() {
        match character {
            '\\' => quoted.push_str("\\\\"),
            '\'' => quoted.push_str("\\'"),
            '\u{0}'..='\u{1f}' => quoted.push_str(&format!("\\u{:04x}", character as u32)),
            other => quoted.push(other),
        }
    }
    quoted.push('\'');
    quoted
}

impl fmt::Display for Target {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl From<Target> for String {
    fn from(target: Target) -> Self {
        target.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use serde_json_path::JsonPath;

    use super::*;

    #[test]
    fn targets_select_exactly_their_node() {
        // Keys with slashes, quotes, backslashes, braces and digits, and an array element.
        let document = json!({"paths": {"/a/{id}": {"get": {"responses": {
            "4XX": 1, "200": 2, "it's \\ here": 3, "list": [10, 11]
        }}}}, "params": [{"name": "it's", "in": "path"}, {"$ref": "#/x"}, {"name": "b"}]});
        let responses = Target::root()
            .key("paths")
            .key("/a/{id}")
            .key("get")
            .key("responses");
        for (target, expected) in [
            (responses.key("4XX"), json!(1)),
            (responses.key("200"), json!(2)),
            (responses.key("it's \\ here"), json!(3)),
            (responses.key("list").index(1), json!(11)),
            (
                Target::root().key("params").element_where("name", "it's"),
                json!({"name": "it's", "in": "path"}),
            ),
            (
                Target::root().key("params").element_where("$ref", "#/x"),
                json!({"$ref": "#/x"}),
            ),
        ] {
            let path = JsonPath::parse(target.as_str()).expect("valid JSONPath");
            let found = path.query(&document).all();
            assert_eq!(found, vec![&expected], "{target}");
        }
        assert_eq!(
            Target::of_pointer(&document, "/paths/~1a~1{id}/get/responses/list/0").as_str(),
            "$.paths['/a/{id}'].get.responses.list[0]"
        );
    }

    #[test]
    fn pointers_sort_with_numeric_indices() {
        let mut pointers = vec!["/a/10", "/a/9", "/a/b", "/a/200"];
        pointers.sort_by_key(|pointer| crate::json_pointer::sort_key(pointer));
        assert_eq!(pointers, vec!["/a/9", "/a/10", "/a/200", "/a/b"]);
    }
}
