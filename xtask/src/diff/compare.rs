//! The comparison of two flattened documents and the classification of each change for the
//! people who depend on the generated client.
//!
//! Every rule here models what the generated client actually does: builders take parameters by
//! `TryInto`, optional fields are `Option<T>`, string constraints become validating newtypes,
//! response enums keep values they do not know, and a component schema is a public Rust type.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{
    BOUNDS, Body, Direction, Member, Model, Node, Nodes, Operation, Owner, Parameter,
};
use super::render::code;

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
    /// A stable identifier of the rule, e.g. `request-parameter-max-decreased`.
    pub rule: &'static str,
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
struct Verdict {
    rule: &'static str,
    message: String,
    class: Class,
    reason: String,
    /// The breaking effect is only a compile break of regenerated code (no wire effect).
    compile_only: bool,
}

fn verdict(
    rule: &'static str,
    message: impl Into<String>,
    class: Class,
    reason: impl Into<String>,
) -> Verdict {
    Verdict {
        rule,
        message: message.into(),
        class,
        reason: reason.into(),
        compile_only: false,
    }
}

fn compile_break(
    rule: &'static str,
    message: impl Into<String>,
    reason: impl Into<String>,
) -> Verdict {
    Verdict {
        compile_only: true,
        ..verdict(rule, message, Class::Breaking, reason)
    }
}

/// A change as found in one operation, before identical ones are merged.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    operation: Option<String>,
    /// Where in the operation (used to match upstream changes with generated ones).
    operation_location: String,
    /// The component schema that owns the change, and the location inside it.
    owner: Option<(String, String)>,
    rule: &'static str,
    message: String,
    class: Class,
    reason: String,
    compile_only: bool,
}

/// Inputs of a comparison besides the two documents.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Component schemas the generated client replaces with hand-written types: a change to one
    /// of them does not change the Rust type, so it cannot break compilation.
    pub hand_written: BTreeMap<String, String>,
}

/// Compares two flattened documents; the result is sorted and identical changes of several
/// operations are merged.
pub fn compare(old: &Model, new: &Model, context: &Context) -> Vec<Change> {
    merge(find(old, new, context))
}

/// Changes upstream made that the overlay hides from the generated client: found between the
/// documents as upstream wrote them, but not between the documents the generator sees.
pub fn hidden_by_overlay(
    upstream: (&Model, &Model),
    generated: (&Model, &Model),
    context: &Context,
) -> Vec<Change> {
    let seen: BTreeSet<(Option<String>, String, &'static str, String)> =
        find(generated.0, generated.1, context)
            .into_iter()
            .map(|found| {
                (
                    found.operation,
                    found.operation_location,
                    found.rule,
                    found.message,
                )
            })
            .collect();
    let hidden: Vec<Found> = find(upstream.0, upstream.1, context)
        .into_iter()
        .filter(|found| {
            !seen.contains(&(
                found.operation.clone(),
                found.operation_location.clone(),
                found.rule,
                found.message.clone(),
            ))
        })
        // Only wire effects remain: the overlay keeps the generated Rust code as it was.
        .map(|mut found| {
            if found.compile_only {
                found.class = Class::Informational;
                found.reason = "the overlay keeps the old definition, so the generated code does \
                                not change; update spec/overlay.yaml if the client should follow"
                    .to_owned();
            } else {
                let wire = match found.rule {
                    "request-enum-value-added" => {
                        "the server accepts a new value that the client cannot send yet".to_owned()
                    }
                    "response-enum-value-added" => "the server may send a new value; the client's \
                                                    enum keeps it as `Unknown`, so responses still parse"
                        .to_owned(),
                    _ => found.reason.clone(),
                };
                found.reason = format!(
                    "{wire}; the overlay keeps the old definition, so update spec/overlay.yaml if \
                     the client should follow"
                );
            }
            // Reported per operation: the overlay changes which schema owns what.
            found.owner = None;
            found
        })
        .collect();
    merge(hidden)
        .into_iter()
        .map(|change| Change {
            hidden_by_overlay: true,
            ..change
        })
        .collect()
}

fn merge(found: Vec<Found>) -> Vec<Change> {
    type Key = (
        Option<(String, String)>,
        String,
        &'static str,
        String,
        Class,
        String,
    );
    let mut merged: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    let mut document = Vec::new();
    for item in found {
        let Some(operation) = item.operation.clone() else {
            document.push(Change {
                subject: Subject::Document,
                hidden_by_overlay: false,
                location: item.operation_location,
                rule: item.rule,
                message: item.message,
                class: item.class,
                reason: item.reason,
                operations: Vec::new(),
            });
            continue;
        };
        let location = match &item.owner {
            Some((_, location)) => location.clone(),
            None => item.operation_location.clone(),
        };
        merged
            .entry((
                item.owner,
                location,
                item.rule,
                item.message,
                item.class,
                item.reason,
            ))
            .or_default()
            .insert(operation);
    }
    let mut changes = document;
    for ((owner, location, rule, message, class, reason), operations) in merged {
        let operations: Vec<String> = operations.into_iter().collect();
        let subject = match owner {
            Some((schema, _)) => Subject::Schema(schema),
            None => Subject::Operations(operations.clone()),
        };
        changes.push(Change {
            subject,
            hidden_by_overlay: false,
            location,
            rule,
            message,
            class,
            reason,
            operations,
        });
    }
    changes.sort();
    changes.dedup();
    changes
}

fn find(old: &Model, new: &Model, context: &Context) -> Vec<Found> {
    let mut out = Vec::new();
    security_schemes(old, new, &mut out);
    for (id, operation) in &old.operations {
        if !new.operations.contains_key(id) {
            out.push(at_operation(
                id,
                "operation",
                verdict(
                    "operation-removed",
                    format!("removed ({} {})", operation.method, code(&operation.path)),
                    Class::Breaking,
                    "its client method disappears (compile break) and the server no longer serves it",
                ),
            ));
        }
    }
    for (id, operation) in &new.operations {
        match old.operations.get(id) {
            None => out.push(at_operation(
                id,
                "operation",
                verdict(
                    "operation-added",
                    format!("added ({} {})", operation.method, code(&operation.path)),
                    Class::NonBreaking,
                    "a new client method; existing code is unaffected",
                ),
            )),
            Some(before) => compare_operation(id, before, operation, context, &mut out),
        }
    }
    for name in old.schemas.difference(&new.schemas) {
        out.push(Found {
            operation: None,
            operation_location: format!("schema {}", code(name)),
            owner: None,
            ..from_verdict(compile_break(
                "schema-removed",
                format!("component schema {} removed", code(name)),
                "its public Rust type disappears; code naming it stops compiling",
            ))
        });
    }
    for name in new.schemas.difference(&old.schemas) {
        out.push(Found {
            operation: None,
            operation_location: format!("schema {}", code(name)),
            owner: None,
            ..from_verdict(verdict(
                "schema-added",
                format!("component schema {} added", code(name)),
                Class::NonBreaking,
                "a new public Rust type",
            ))
        });
    }
    out
}

fn from_verdict(verdict: Verdict) -> Found {
    Found {
        operation: None,
        operation_location: String::new(),
        owner: None,
        rule: verdict.rule,
        message: verdict.message,
        class: verdict.class,
        reason: verdict.reason,
        compile_only: verdict.compile_only,
    }
}

fn at_operation(id: &str, location: &str, verdict: Verdict) -> Found {
    Found {
        operation: Some(id.to_owned()),
        operation_location: location.to_owned(),
        ..from_verdict(verdict)
    }
}

fn security_schemes(old: &Model, new: &Model, out: &mut Vec<Found>) {
    for (name, scheme) in &old.security_schemes {
        let found = match new.security_schemes.get(name) {
            None => verdict(
                "security-scheme-removed",
                "removed",
                Class::Breaking,
                "requests authenticated with it are rejected",
            ),
            Some(after) if after != scheme => verdict(
                "security-scheme-changed",
                format!("changed from {} to {}", code(scheme), code(after)),
                Class::Breaking,
                "credentials sent the old way are rejected",
            ),
            Some(_) => continue,
        };
        out.push(Found {
            operation_location: format!("security scheme {}", code(name)),
            ..from_verdict(found)
        });
    }
    for name in new.security_schemes.keys() {
        if !old.security_schemes.contains_key(name) {
            out.push(Found {
                operation_location: format!("security scheme {}", code(name)),
                ..from_verdict(verdict(
                    "security-scheme-added",
                    "added",
                    Class::NonBreaking,
                    "a new way to authenticate; existing credentials keep working",
                ))
            });
        }
    }
}

fn compare_operation(
    id: &str,
    old: &Operation,
    new: &Operation,
    context: &Context,
    out: &mut Vec<Found>,
) {
    let push = |out: &mut Vec<Found>, location: &str, verdict: Verdict| {
        out.push(at_operation(id, location, verdict))
    };
    if old.path != new.path || old.method != new.method {
        push(
            out,
            "operation",
            verdict(
                "operation-path-changed",
                format!(
                    "moved from {} {} to {} {}",
                    old.method,
                    code(&old.path),
                    new.method,
                    code(&new.path)
                ),
                Class::Breaking,
                "clients generated from the old spec call an endpoint the server no longer serves",
            ),
        );
    }
    if old.deprecated != new.deprecated {
        let message = if new.deprecated {
            "deprecated"
        } else {
            "no longer deprecated"
        };
        push(
            out,
            "operation",
            verdict(
                "operation-deprecated",
                message,
                Class::Informational,
                "the method keeps working; plan a migration before upstream removes it",
            ),
        );
    }
    if old.summary != new.summary || old.description != new.description {
        push(
            out,
            "operation",
            verdict(
                "operation-description-changed",
                "summary or description changed",
                Class::Informational,
                "documentation only (the method's doc comment changes)",
            ),
        );
    }
    security(old, new, &mut |location, verdict| {
        push(out, location, verdict)
    });

    for key in old.parameters.keys() {
        if !new.parameters.contains_key(key) {
            push(
                out,
                &parameter_location(key),
                verdict(
                    "request-parameter-removed",
                    "removed",
                    Class::Breaking,
                    "its builder method disappears (compile break) and the server no longer reads it",
                ),
            );
        }
    }
    for (key, parameter) in &new.parameters {
        let location = parameter_location(key);
        match old.parameters.get(key) {
            None if parameter.required => push(
                out,
                &location,
                verdict(
                    "new-required-request-parameter",
                    "added (required)",
                    Class::Breaking,
                    "the server rejects requests without it, and the builder's send() fails until it is set",
                ),
            ),
            None => push(
                out,
                &location,
                verdict(
                    "new-optional-request-parameter",
                    "added (optional)",
                    Class::NonBreaking,
                    "a new builder method; requests without it stay valid",
                ),
            ),
            Some(before) => compare_parameter(id, &location, before, parameter, context, out),
        }
    }

    match (&old.body, &new.body) {
        (Some(_), None) => push(
            out,
            "request body",
            verdict(
                "request-body-removed",
                "removed",
                Class::Breaking,
                "its builder method disappears (compile break)",
            ),
        ),
        (None, Some(body)) => push(
            out,
            "request body",
            if body.required {
                verdict(
                    "request-body-added-required",
                    "added (required)",
                    Class::Breaking,
                    "the server rejects requests without it",
                )
            } else {
                verdict(
                    "request-body-added-optional",
                    "added (optional)",
                    Class::NonBreaking,
                    "requests without it stay valid",
                )
            },
        ),
        (Some(before), Some(after)) => {
            if !before.required && after.required {
                push(
                    out,
                    "request body",
                    verdict(
                        "request-body-became-required",
                        "became required",
                        Class::Breaking,
                        "the server rejects requests without it",
                    ),
                );
            } else if before.required && !after.required {
                push(
                    out,
                    "request body",
                    verdict(
                        "request-body-became-optional",
                        "became optional",
                        Class::NonBreaking,
                        "requests with a body stay valid",
                    ),
                );
            }
            compare_content(
                id,
                "request body",
                before,
                after,
                Direction::Request,
                context,
                out,
            );
        }
        (None, None) => {}
    }

    for status in old.responses.keys() {
        if !new.responses.contains_key(status) {
            let success = status.starts_with('2');
            push(
                out,
                &format!("response {status}"),
                if success {
                    verdict(
                        "response-success-status-removed",
                        "removed",
                        Class::Breaking,
                        "the method's success type changes or disappears (compile break)",
                    )
                } else {
                    verdict(
                        "response-non-success-status-removed",
                        "removed",
                        Class::NonBreaking,
                        "the server no longer documents this error; error handling keeps working",
                    )
                },
            );
        }
    }
    for (status, response) in &new.responses {
        match old.responses.get(status) {
            None => push(
                out,
                &format!("response {status}"),
                verdict(
                    "response-status-added",
                    "added",
                    Class::NonBreaking,
                    "a new documented response; the client already handles undocumented ones as errors",
                ),
            ),
            Some(before) => {
                let location = format!("response {status}");
                if before.description != response.description {
                    push(
                        out,
                        &location,
                        verdict(
                            "response-description-changed",
                            "description changed",
                            Class::Informational,
                            "documentation only",
                        ),
                    );
                }
                compare_content(
                    id,
                    &location,
                    before,
                    response,
                    Direction::Response,
                    context,
                    out,
                );
            }
        }
    }
}

fn security(old: &Operation, new: &Operation, push: &mut dyn FnMut(&str, Verdict)) {
    let show = |alternative: &BTreeSet<String>| {
        if alternative.is_empty() {
            "no authentication".to_owned()
        } else {
            alternative.iter().cloned().collect::<Vec<_>>().join(" + ")
        }
    };
    for alternative in old.security.difference(&new.security) {
        // Credentials of a removed alternative still work if a remaining one needs no more.
        let still_accepted = new.security.iter().any(|kept| kept.is_subset(alternative));
        push(
            "security",
            if still_accepted {
                verdict(
                    "security-requirement-relaxed",
                    format!(
                        "alternative {} removed; a weaker one remains",
                        code(&show(alternative))
                    ),
                    Class::NonBreaking,
                    "the same credentials are still accepted",
                )
            } else {
                verdict(
                    "security-requirement-removed",
                    format!("alternative {} removed", code(&show(alternative))),
                    Class::Breaking,
                    "requests authenticated only this way are rejected",
                )
            },
        );
    }
    for alternative in new.security.difference(&old.security) {
        push(
            "security",
            verdict(
                "security-requirement-added",
                format!("alternative {} added", code(&show(alternative))),
                Class::NonBreaking,
                "a new way to authenticate; existing credentials keep working unless an alternative was also removed",
            ),
        );
    }
}

fn parameter_location(key: &(String, String)) -> String {
    format!("{} parameter {}", key.0, code(&key.1))
}

fn compare_parameter(
    id: &str,
    location: &str,
    old: &Parameter,
    new: &Parameter,
    context: &Context,
    out: &mut Vec<Found>,
) {
    let mut push = |verdict: Verdict| out.push(at_operation(id, location, verdict));
    if !old.required && new.required {
        push(verdict(
            "request-parameter-became-required",
            "became required",
            Class::Breaking,
            "the server rejects requests without it, and the builder's send() fails until it is set",
        ));
    } else if old.required && !new.required {
        push(verdict(
            "request-parameter-became-optional",
            "became optional",
            Class::NonBreaking,
            "the builder method stays; requests without it become valid",
        ));
    }
    if old.deprecated != new.deprecated {
        push(verdict(
            "request-parameter-deprecated",
            if new.deprecated {
                "deprecated"
            } else {
                "no longer deprecated"
            },
            Class::Informational,
            "the builder method keeps working",
        ));
    }
    if old.description != new.description {
        push(verdict(
            "request-parameter-description-changed",
            "description changed",
            Class::Informational,
            "documentation only",
        ));
    }
    compare_nodes(
        id,
        location,
        &old.schema,
        &new.schema,
        Direction::Request,
        context,
        out,
    );
}

fn compare_content(
    id: &str,
    location: &str,
    old: &Body,
    new: &Body,
    direction: Direction,
    context: &Context,
    out: &mut Vec<Found>,
) {
    for media in old.content.keys() {
        if !new.content.contains_key(media) {
            out.push(at_operation(
                id,
                location,
                verdict(
                    "media-type-removed",
                    format!("media type {} removed", code(media)),
                    Class::Breaking,
                    match direction {
                        Direction::Request => "the server no longer accepts bodies of this type",
                        Direction::Response => {
                            "the client can no longer read the body the server sends"
                        }
                    },
                ),
            ));
        }
    }
    for (media, nodes) in &new.content {
        match old.content.get(media) {
            None => out.push(at_operation(
                id,
                location,
                verdict(
                    "media-type-added",
                    format!("media type {} added", code(media)),
                    Class::NonBreaking,
                    "an additional representation",
                ),
            )),
            Some(before) => {
                // One media type (the usual case) needs no label.
                let location = if new.content.len() == 1 {
                    location.to_owned()
                } else {
                    format!("{location} ({})", code(media))
                };
                compare_nodes(id, &location, before, nodes, direction, context, out);
            }
        }
    }
}

/// Compares two flattened schemas seen at `location` of operation `id`.
fn compare_nodes(
    id: &str,
    location: &str,
    old: &Nodes,
    new: &Nodes,
    direction: Direction,
    context: &Context,
    out: &mut Vec<Found>,
) {
    let field = |path: &str| {
        if path.is_empty() {
            location.to_owned()
        } else {
            format!("{location} field {}", code(path))
        }
    };
    let place = |path: &str, owner: &Option<Owner>, verdict: Verdict| -> Found {
        let owner = owner.as_ref().map(|owner| {
            let inside = if owner.path.is_empty() {
                "the schema itself".to_owned()
            } else {
                format!("property {}", code(&owner.path))
            };
            (owner.schema.clone(), inside)
        });
        let mut found = at_operation(id, &field(path), verdict);
        // A hand-written replacement does not change when the schema does.
        if let Some((schema, _)) = &owner
            && let Some(rust_type) = context.hand_written.get(schema)
            && found.compile_only
        {
            found.class = Class::NonBreaking;
            found.reason = format!(
                "the client uses the hand-written `{rust_type}` for this schema, so its Rust type \
                 does not change; update it by hand if it should follow"
            );
            found.compile_only = false;
        }
        found.owner = owner;
        found
    };

    // Removed and added properties: only the outermost one of a removed or added subtree.
    for (path, node) in old {
        if node.member == Some(Member::Property)
            && !new.contains_key(path)
            && !parent_missing(path, new)
        {
            out.push(place(
                path,
                &node.declared_in,
                property_removed(node, direction),
            ));
        }
    }
    for (path, node) in new {
        if node.member == Some(Member::Property)
            && !old.contains_key(path)
            && !parent_missing(path, old)
        {
            out.push(place(
                path,
                &node.declared_in,
                property_added(node, direction),
            ));
        }
    }
    for (path, after) in new {
        let Some(before) = old.get(path) else {
            continue;
        };
        if before.member == Some(Member::Property) {
            for verdict in optionality(before, after, direction) {
                out.push(place(path, &after.declared_in, verdict));
            }
        }
        for verdict in facets(before, after, direction) {
            out.push(place(path, &after.defined_in, verdict));
        }
    }
}

/// Whether `path`'s parent node is absent from `nodes` (so the parent is the one reported).
fn parent_missing(path: &str, nodes: &Nodes) -> bool {
    let parent = if let Some(parent) = path.strip_suffix("[]").or_else(|| path.strip_suffix("{}")) {
        parent
    } else {
        path.rfind('.').map_or("", |index| &path[..index])
    };
    !nodes.contains_key(parent)
}

fn property_removed(node: &Node, direction: Direction) -> Verdict {
    match direction {
        Direction::Response => compile_break(
            "response-property-removed",
            "removed",
            "the struct field disappears, so code reading it stops compiling",
        ),
        Direction::Request if node.required => verdict(
            "request-property-removed",
            "removed (it was required)",
            Class::Breaking,
            "the struct field disappears (compile break), and a strict server may reject it",
        ),
        Direction::Request => compile_break(
            "request-property-removed",
            "removed",
            "the struct field disappears, so code setting it stops compiling",
        ),
    }
}

fn property_added(node: &Node, direction: Direction) -> Verdict {
    match direction {
        Direction::Response => verdict(
            "response-property-added",
            if node.required {
                "added (required)"
            } else {
                "added (optional)"
            },
            Class::NonBreaking,
            "clients built from the old spec ignore it; code that builds the struct with a literal \
             instead of its builder must add the field",
        ),
        Direction::Request if node.required && !node.nullable => verdict(
            "new-required-request-property",
            "added (required)",
            Class::Breaking,
            "the server rejects bodies without it, and struct literals must add it",
        ),
        Direction::Request => verdict(
            "new-optional-request-property",
            "added (optional)",
            Class::NonBreaking,
            "bodies without it stay valid",
        ),
    }
}

/// Whether a field's Rust type is `Option<T>`: not required, or nullable.
fn is_option(node: &Node) -> bool {
    !node.required || node.nullable
}

/// Required-ness and nullability of a property, judged by the Rust type they produce.
fn optionality(before: &Node, after: &Node, direction: Direction) -> Vec<Verdict> {
    let mut found = Vec::new();
    let type_change = is_option(before) != is_option(after);
    let shape = |node: &Node| if is_option(node) { "Option<T>" } else { "T" };
    if before.required != after.required {
        let message = if after.required {
            "became required"
        } else {
            "became optional"
        };
        found.push(match direction {
            Direction::Response if type_change => compile_break(
                if after.required {
                    "response-property-became-required"
                } else {
                    "response-property-became-optional"
                },
                message,
                format!(
                    "the field's Rust type changes from {} to {}",
                    shape(before),
                    shape(after)
                ),
            ),
            Direction::Response if !after.required => verdict(
                "response-property-became-optional",
                message,
                Class::NonBreaking,
                "the field is already Option<T> (it is nullable)",
            ),
            Direction::Response => verdict(
                "response-property-became-required",
                message,
                Class::NonBreaking,
                "the field stays Option<T> (it is nullable); the server now always sends it",
            ),
            Direction::Request if after.required => verdict(
                "request-property-became-required",
                message,
                Class::Breaking,
                "the server rejects bodies without it",
            ),
            Direction::Request => verdict(
                "request-property-became-optional",
                message,
                Class::NonBreaking,
                "bodies with it stay valid; the builder accepts the value as before",
            ),
        });
    }
    if before.nullable != after.nullable {
        let message = if after.nullable {
            "became nullable"
        } else {
            "no longer nullable"
        };
        let rule = match (direction, after.nullable) {
            (Direction::Response, true) => "response-property-became-nullable",
            (Direction::Response, false) => "response-property-became-not-nullable",
            (Direction::Request, true) => "request-property-became-nullable",
            (Direction::Request, false) => "request-property-became-not-nullable",
        };
        found.push(match (direction, after.nullable) {
            (_, true) if type_change && before.required == after.required => verdict(
                rule,
                message,
                Class::Breaking,
                "the field's Rust type changes from T to Option<T> (compile break), and clients \
                 built from the old spec fail to parse a null",
            ),
            (Direction::Response, true) => verdict(
                rule,
                message,
                Class::NonBreaking,
                "the field is already Option<T> (it is optional), and null reads as None",
            ),
            (Direction::Request, true) => verdict(
                rule,
                message,
                Class::NonBreaking,
                "the field is already Option<T> (it is optional); the server now also accepts null",
            ),
            (Direction::Response, false) if type_change && before.required == after.required => {
                compile_break(
                    rule,
                    message,
                    "the field's Rust type changes from Option<T> to T",
                )
            }
            (Direction::Response, false) => verdict(
                rule,
                message,
                Class::NonBreaking,
                "the field stays Option<T> (it is optional); the server no longer sends null",
            ),
            (Direction::Request, false) => verdict(
                rule,
                message,
                Class::Breaking,
                "the server rejects a null the client may send",
            ),
        });
    }
    found
}

/// Type, format, enum values, bounds and pattern of one node.
fn facets(before: &Node, after: &Node, direction: Direction) -> Vec<Verdict> {
    let mut found = Vec::new();
    let request = direction == Direction::Request;
    if before.type_name != after.type_name
        && before.type_name.is_some()
        && after.type_name.is_some()
    {
        found.push(compile_break(
            "schema-reference-changed",
            format!(
                "refers to {} instead of {}",
                code(after.type_name.as_deref().unwrap_or_default()),
                code(before.type_name.as_deref().unwrap_or_default())
            ),
            "the Rust type of the value changes",
        ));
    }
    if before.kind != after.kind {
        found.push(verdict(
            if request { "request-type-changed" } else { "response-type-changed" },
            format!("type changed from {} to {}", show(&before.kind), show(&after.kind)),
            Class::Breaking,
            if request {
                "the Rust type changes (compile break) and the server rejects values of the old type"
            } else {
                "the Rust type changes (compile break) and clients built from the old spec fail to parse the new values"
            },
        ));
    } else if before.format != after.format {
        let rust_changes = rust_scalar(before) != rust_scalar(after);
        let message = format!(
            "format changed from {} to {}",
            code_or_none(&before.format),
            code_or_none(&after.format)
        );
        found.push(match (rust_changes, request) {
            (true, true) => verdict(
                "request-format-changed",
                message,
                Class::Breaking,
                format!(
                    "the Rust type changes from {} to {} (compile break), and the server checks the new format",
                    rust_scalar(before),
                    rust_scalar(after)
                ),
            ),
            (true, false) => verdict(
                "response-format-changed",
                message,
                Class::Breaking,
                format!(
                    "the Rust type changes from {} to {} (compile break), and clients built from the old spec may fail to parse the new values",
                    rust_scalar(before),
                    rust_scalar(after)
                ),
            ),
            (false, true) if after.format.is_none() => verdict(
                "request-format-removed",
                message,
                Class::NonBreaking,
                "the Rust type stays; the server accepts more",
            ),
            (false, true) => verdict(
                "request-format-changed",
                message,
                Class::Breaking,
                "the Rust type stays, but the server checks the new format and may reject values it used to accept",
            ),
            (false, false) => verdict(
                "response-format-changed",
                message,
                Class::NonBreaking,
                "the Rust type stays the same",
            ),
        });
    }
    enums(before, after, request, &mut found);
    bounds(before, after, request, &mut found);
    if before.pattern != after.pattern {
        let message = match (&before.pattern, &after.pattern) {
            (None, Some(new)) => format!("pattern {} added", code(new)),
            (Some(old), None) => format!("pattern {} removed", code(old)),
            (old, new) => format!(
                "pattern changed from {} to {}",
                code_or_none(old),
                code_or_none(new)
            ),
        };
        let loosened = after.pattern.is_none();
        found.push(string_constraint("pattern", message, loosened, request));
    }
    if before.default != after.default {
        found.push(verdict(
            if request {
                "request-default-changed"
            } else {
                "response-default-changed"
            },
            format!(
                "default changed from {} to {}",
                code_or_none(&before.default),
                code_or_none(&after.default)
            ),
            if request {
                Class::NonBreaking
            } else {
                Class::Informational
            },
            if request {
                "requests that leave it unset now get the new default behaviour from the server"
            } else {
                "documentation of the value sent"
            },
        ));
    }
    if before.deprecated != after.deprecated {
        found.push(verdict(
            "schema-deprecated",
            if after.deprecated {
                "deprecated"
            } else {
                "no longer deprecated"
            },
            Class::Informational,
            "the value keeps working",
        ));
    }
    if before.description != after.description {
        found.push(verdict(
            "description-changed",
            "description changed",
            Class::Informational,
            "documentation only (doc comments change)",
        ));
    }
    found
}

fn enums(before: &Node, after: &Node, request: bool, found: &mut Vec<Verdict>) {
    match (&before.enumeration, &after.enumeration) {
        (Some(old), Some(new)) => {
            for value in new.difference(old) {
                found.push(if request {
                    verdict(
                        "request-enum-value-added",
                        format!("enum value {} added", code(value)),
                        Class::NonBreaking,
                        "the server accepts a new value (a new variant; a `match` without a wildcard arm must handle it)",
                    )
                } else {
                    verdict(
                        "response-enum-value-added",
                        format!("enum value {} added", code(value)),
                        Class::NonBreaking,
                        "response enums keep values they do not know (`Unknown`), so clients built from the old spec still parse it; a `match` without a wildcard arm must handle the new variant",
                    )
                });
            }
            for value in old.difference(new) {
                found.push(if request {
                    verdict(
                        "request-enum-value-removed",
                        format!("enum value {} removed", code(value)),
                        Class::Breaking,
                        "the server rejects the value, and its variant disappears (compile break)",
                    )
                } else {
                    compile_break(
                        "response-enum-value-removed",
                        format!("enum value {} removed", code(value)),
                        "its variant disappears, so code naming it stops compiling",
                    )
                });
            }
        }
        (None, Some(_)) => found.push(verdict(
            if request {
                "request-enum-added"
            } else {
                "response-enum-added"
            },
            "restricted to an enum",
            Class::Breaking,
            if request {
                "the Rust type becomes an enum (compile break) and the server rejects other values"
            } else {
                "the Rust type becomes an enum (compile break)"
            },
        )),
        (Some(_), None) => found.push(compile_break(
            if request {
                "request-enum-removed"
            } else {
                "response-enum-removed"
            },
            "no longer an enum",
            "the Rust enum becomes a plain value type",
        )),
        (None, None) => {}
    }
}

fn bounds(before: &Node, after: &Node, request: bool, found: &mut Vec<Verdict>) {
    for (keyword, raising_narrows) in BOUNDS {
        let old = before.bounds.get(keyword).copied();
        let new = after.bounds.get(keyword).copied();
        if old == new {
            continue;
        }
        let narrowed = match (old, new) {
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => (new > old) == raising_narrows,
            (None, None) => continue,
        };
        let message = match (old, new) {
            (None, Some(new)) => format!("{keyword} {} added", number(new)),
            (Some(old), None) => format!("{keyword} {} removed", number(old)),
            (Some(old), Some(new)) => format!(
                "{keyword} {} from {} to {}",
                if new > old { "raised" } else { "lowered" },
                number(old),
                number(new)
            ),
            (None, None) => continue,
        };
        let is_string = keyword.ends_with("Length");
        if is_string {
            found.push(string_constraint(keyword, message, !narrowed, request));
            continue;
        }
        // typify picks an unsigned or non-zero integer type from `minimum`.
        if keyword == "minimum" && before.kind.as_deref() == Some("integer") {
            let (old_type, new_type) = (integer_type(old), integer_type(new));
            if old_type != new_type {
                found.push(verdict(
                    if request { "request-parameter-min-changed" } else { "response-property-min-changed" },
                    message,
                    Class::Breaking,
                    format!("the Rust integer type changes from {old_type} to {new_type} (compile break)"),
                ));
                continue;
            }
        }
        let direction = if request { "request" } else { "response" };
        let rule = match (keyword, narrowed, request) {
            ("maximum", true, true) => "request-parameter-max-decreased",
            ("maximum", false, true) => "request-parameter-max-increased",
            ("minimum", true, true) => "request-parameter-min-increased",
            ("minimum", false, true) => "request-parameter-min-decreased",
            ("maximum", true, false) => "response-property-max-decreased",
            ("maximum", false, false) => "response-property-max-increased",
            ("minimum", true, false) => "response-property-min-increased",
            ("minimum", false, false) => "response-property-min-decreased",
            ("maxItems", ..) | ("minItems", ..) => {
                if narrowed {
                    "items-bound-tightened"
                } else {
                    "items-bound-loosened"
                }
            }
            _ => "bound-changed",
        };
        let _ = direction;
        found.push(match (narrowed, request) {
            (true, true) => verdict(
                rule,
                message,
                Class::Breaking,
                "the server rejects values the client could send before",
            ),
            (false, true) => verdict(rule, message, Class::NonBreaking, "the server accepts more values"),
            (true, false) => verdict(
                rule,
                message,
                Class::NonBreaking,
                "the server sends a narrower range, which the client already accepts",
            ),
            (false, false) => verdict(
                rule,
                message,
                Class::NonBreaking,
                "the client does not check numeric bounds in responses, so wider values still parse",
            ),
        });
    }
}

/// Length and pattern constraints: the generated client validates them in a newtype, in both
/// directions, so a loosened one in a response is breaking too.
fn string_constraint(keyword: &str, message: String, loosened: bool, request: bool) -> Verdict {
    let rule = match (keyword, loosened, request) {
        ("pattern", false, true) => "request-pattern-tightened",
        ("pattern", true, true) => "request-pattern-loosened",
        ("pattern", false, false) => "response-pattern-tightened",
        ("pattern", true, false) => "response-pattern-loosened",
        ("maxLength", false, true) => "request-max-length-decreased",
        ("maxLength", true, true) => "request-max-length-increased",
        ("maxLength", false, false) => "response-max-length-decreased",
        ("maxLength", true, false) => "response-max-length-increased",
        ("minLength", false, true) => "request-min-length-increased",
        ("minLength", true, true) => "request-min-length-decreased",
        ("minLength", false, false) => "response-min-length-increased",
        _ => "response-min-length-decreased",
    };
    match (loosened, request) {
        (false, true) => verdict(
            rule,
            message,
            Class::Breaking,
            "the server and the generated newtype's validation reject values accepted before",
        ),
        (true, true) => verdict(
            rule,
            message,
            Class::NonBreaking,
            "more values are accepted",
        ),
        (false, false) => verdict(
            rule,
            message,
            Class::NonBreaking,
            "the server sends a narrower set of values, which the client already accepts",
        ),
        (true, false) => verdict(
            rule,
            message,
            Class::Breaking,
            "the generated newtype validates this when parsing, so clients built from the old spec reject values the server may now send",
        ),
    }
}

/// The Rust scalar type typify generates for a node's type and format (approximate; enough to
/// tell whether a format change changes the Rust type).
fn rust_scalar(node: &Node) -> String {
    let format = node.format.as_deref().unwrap_or("");
    match (node.kind.as_deref().unwrap_or(""), format) {
        ("string", "date-time") => "chrono::DateTime<Utc>",
        ("string", "date") => "chrono::NaiveDate",
        ("string", "uuid") => "uuid::Uuid",
        ("string", "ip") => "std::net::IpAddr",
        ("string", "ipv4") => "std::net::Ipv4Addr",
        ("string", "ipv6") => "std::net::Ipv6Addr",
        ("string", _) => "String",
        ("integer", "int8") => "i8",
        ("integer", "int16") => "i16",
        ("integer", "int32") => "i32",
        ("integer", "uint8") => "u8",
        ("integer", "uint16") => "u16",
        ("integer", "uint32") => "u32",
        ("integer", "uint64") => "u64",
        ("integer", _) => return integer_type(node.bounds.get("minimum").copied()).to_owned(),
        ("number", "float") => "f32",
        ("number", _) => "f64",
        (other, _) => other,
    }
    .to_owned()
}

/// typify's choice for an `int64` (or unformatted) integer with this `minimum`.
fn integer_type(minimum: Option<f64>) -> &'static str {
    match minimum {
        Some(minimum) if minimum >= 1.0 => "NonZeroU64",
        Some(minimum) if minimum >= 0.0 => "u64",
        _ => "i64",
    }
}

fn show(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "none".to_owned())
}

/// The value as inline code, or `none` when there is none.
fn code_or_none(value: &Option<String>) -> String {
    value.as_deref().map_or_else(|| "none".to_owned(), code)
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
