//! The walk over two flattened documents side by side: security schemes, component schemas,
//! operations, and in each operation its security, parameters, request body and responses,
//! down to the schema nodes of each, where [`super::schema`] judges what changed.
//!
//! The walk decides where a change is reported (the operation, the location inside it, and the
//! component schema that owns a node), and the structural rules: what was added, removed or
//! became required. A change to a schema the client replaces with a hand-written type is placed
//! here too, since only the place knows the schema.

use std::collections::{BTreeMap, BTreeSet};

use super::change::{Found, Text, Verdict, compile_break, verdict};
use super::model::{Body, Direction, Member, Model, Nodes, Operation, Owner, Parameter};
use super::rule::{Class, Rule};
use super::schema::{Place, facets, optionality, property_added, property_removed};

/// Inputs of a comparison besides the two documents.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Component schemas the generated client replaces with hand-written types: a change to one
    /// of them does not change the Rust type, so it cannot break compilation.
    pub hand_written: BTreeMap<String, String>,
}

/// Every change between `old` and `new`, per operation, unmerged.
pub(super) fn find(old: &Model, new: &Model, context: &Context) -> Vec<Found> {
    let mut out = Vec::new();
    security_schemes(old, new, &mut out);
    for (id, operation) in &old.operations {
        if !new.operations.contains_key(id) {
            out.push(Found::at_operation(
                id,
                "operation",
                verdict(
                    Rule::OperationRemoved,
                    Text::prose(format!("removed ({} ", operation.method))
                        .code(&operation.path)
                        .and(")"),
                    "its client method disappears (compile break) and the server no longer serves it",
                ),
            ));
        }
    }
    for (id, operation) in &new.operations {
        match old.operations.get(id) {
            None => out.push(Found::at_operation(
                id,
                "operation",
                verdict(
                    Rule::OperationAdded,
                    Text::prose(format!("added ({} ", operation.method))
                        .code(&operation.path)
                        .and(")"),
                    "a new client method; existing code is unaffected",
                ),
            )),
            Some(before) => compare_operation(id, before, operation, context, &mut out),
        }
    }
    for name in old.schemas.difference(&new.schemas) {
        out.push(Found::in_document(
            Text::prose("schema ").code(name),
            compile_break(
                Rule::SchemaRemoved,
                Text::prose("component schema ").code(name).and(" removed"),
                "its public Rust type disappears; code naming it stops compiling",
            ),
        ));
    }
    for name in new.schemas.difference(&old.schemas) {
        out.push(Found::in_document(
            Text::prose("schema ").code(name),
            verdict(
                Rule::SchemaAdded,
                Text::prose("component schema ").code(name).and(" added"),
                "a new public Rust type",
            ),
        ));
    }
    out
}

fn security_schemes(old: &Model, new: &Model, out: &mut Vec<Found>) {
    for (name, scheme) in &old.security_schemes {
        let found = match new.security_schemes.get(name) {
            None => verdict(
                Rule::SecuritySchemeRemoved,
                "removed",
                "requests authenticated with it are rejected",
            ),
            Some(after) if after != scheme => verdict(
                Rule::SecuritySchemeChanged,
                Text::prose("changed from ")
                    .code(scheme)
                    .and(" to ")
                    .code(after),
                "credentials sent the old way are rejected",
            ),
            Some(_) => continue,
        };
        out.push(Found::in_document(
            Text::prose("security scheme ").code(name),
            found,
        ));
    }
    for name in new.security_schemes.keys() {
        if !old.security_schemes.contains_key(name) {
            out.push(Found::in_document(
                Text::prose("security scheme ").code(name),
                verdict(
                    Rule::SecuritySchemeAdded,
                    "added",
                    "a new way to authenticate; existing credentials keep working",
                ),
            ));
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
    let push = |out: &mut Vec<Found>, location: &Text, verdict: Verdict| {
        out.push(Found::at_operation(id, location, verdict))
    };
    let operation = Text::prose("operation");
    let request_body = Text::prose("request body");
    if old.path != new.path || old.method != new.method {
        push(
            out,
            &operation,
            verdict(
                Rule::OperationPathChanged,
                Text::prose(format!("moved from {} ", old.method))
                    .code(&old.path)
                    .and(&format!(" to {} ", new.method))
                    .code(&new.path),
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
            &operation,
            verdict(
                Rule::OperationDeprecated,
                message,
                "the method keeps working; plan a migration before upstream removes it",
            ),
        );
    }
    if old.summary != new.summary || old.description != new.description {
        push(
            out,
            &operation,
            verdict(
                Rule::OperationDescriptionChanged,
                "summary or description changed",
                "documentation only (the method's doc comment changes)",
            ),
        );
    }
    security(old, new, &mut |location, verdict| {
        push(out, &Text::prose(location), verdict)
    });

    for key in old.parameters.keys() {
        if !new.parameters.contains_key(key) {
            push(
                out,
                &parameter_location(key),
                verdict(
                    Rule::RequestParameterRemoved,
                    "removed",
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
                    Rule::NewRequiredRequestParameter,
                    "added (required)",
                    "the server rejects requests without it, and the builder's send() fails until it is set",
                ),
            ),
            None => push(
                out,
                &location,
                verdict(
                    Rule::NewOptionalRequestParameter,
                    "added (optional)",
                    "a new builder method; requests without it stay valid",
                ),
            ),
            Some(before) => compare_parameter(id, &location, before, parameter, context, out),
        }
    }

    match (&old.body, &new.body) {
        (Some(_), None) => push(
            out,
            &request_body,
            verdict(
                Rule::RequestBodyRemoved,
                "removed",
                "its builder method disappears (compile break)",
            ),
        ),
        (None, Some(body)) => push(
            out,
            &request_body,
            if body.required {
                verdict(
                    Rule::RequestBodyAddedRequired,
                    "added (required)",
                    "the server rejects requests without it",
                )
            } else {
                verdict(
                    Rule::RequestBodyAddedOptional,
                    "added (optional)",
                    "requests without it stay valid",
                )
            },
        ),
        (Some(before), Some(after)) => {
            if !before.required && after.required {
                push(
                    out,
                    &request_body,
                    verdict(
                        Rule::RequestBodyBecameRequired,
                        "became required",
                        "the server rejects requests without it",
                    ),
                );
            } else if before.required && !after.required {
                push(
                    out,
                    &request_body,
                    verdict(
                        Rule::RequestBodyBecameOptional,
                        "became optional",
                        "requests with a body stay valid",
                    ),
                );
            }
            compare_content(
                id,
                &request_body,
                before,
                after,
                Place::RequestBody,
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
                &Text::prose(format!("response {status}")),
                if success {
                    verdict(
                        Rule::ResponseSuccessStatusRemoved,
                        "removed",
                        "the method's success type changes or disappears (compile break)",
                    )
                } else {
                    verdict(
                        Rule::ResponseNonSuccessStatusRemoved,
                        "removed",
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
                &Text::prose(format!("response {status}")),
                verdict(
                    Rule::ResponseStatusAdded,
                    "added",
                    "a new documented response; the client already handles undocumented ones as errors",
                ),
            ),
            Some(before) => {
                let location = Text::prose(format!("response {status}"));
                if before.description != response.description {
                    push(
                        out,
                        &location,
                        verdict(
                            Rule::ResponseDescriptionChanged,
                            "description changed",
                            "documentation only",
                        ),
                    );
                }
                compare_content(
                    id,
                    &location,
                    before,
                    response,
                    Place::Response,
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
                    Rule::SecurityRequirementRelaxed,
                    Text::prose("alternative ")
                        .code(show(alternative))
                        .and(" removed; a weaker one remains"),
                    "the same credentials are still accepted",
                )
            } else {
                verdict(
                    Rule::SecurityRequirementRemoved,
                    Text::prose("alternative ")
                        .code(show(alternative))
                        .and(" removed"),
                    "requests authenticated only this way are rejected",
                )
            },
        );
    }
    for alternative in new.security.difference(&old.security) {
        push(
            "security",
            verdict(
                Rule::SecurityRequirementAdded,
                Text::prose("alternative ")
                    .code(show(alternative))
                    .and(" added"),
                "a new way to authenticate; existing credentials keep working unless an alternative was also removed",
            ),
        );
    }
}

fn parameter_location(key: &(String, String)) -> Text {
    Text::prose(format!("{} parameter ", key.0)).code(&key.1)
}

fn compare_parameter(
    id: &str,
    location: &Text,
    old: &Parameter,
    new: &Parameter,
    context: &Context,
    out: &mut Vec<Found>,
) {
    let mut push = |verdict: Verdict| out.push(Found::at_operation(id, location, verdict));
    if !old.required && new.required {
        push(verdict(
            Rule::RequestParameterBecameRequired,
            "became required",
            "the server rejects requests without it, and the builder's send() fails until it is set",
        ));
    } else if old.required && !new.required {
        push(verdict(
            Rule::RequestParameterBecameOptional,
            "became optional",
            "the builder method stays; requests without it become valid",
        ));
    }
    if old.deprecated != new.deprecated {
        push(verdict(
            Rule::RequestParameterDeprecated,
            if new.deprecated {
                "deprecated"
            } else {
                "no longer deprecated"
            },
            "the builder method keeps working",
        ));
    }
    if old.description != new.description {
        push(verdict(
            Rule::RequestParameterDescriptionChanged,
            "description changed",
            "documentation only",
        ));
    }
    compare_nodes(
        id,
        location,
        &old.schema,
        &new.schema,
        Place::Parameter,
        context,
        out,
    );
}

fn compare_content(
    id: &str,
    location: &Text,
    old: &Body,
    new: &Body,
    place: Place,
    context: &Context,
    out: &mut Vec<Found>,
) {
    for media in old.content.keys() {
        if !new.content.contains_key(media) {
            out.push(Found::at_operation(
                id,
                location,
                verdict(
                    Rule::MediaTypeRemoved,
                    Text::prose("media type ").code(media).and(" removed"),
                    match place.direction() {
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
            None => out.push(Found::at_operation(
                id,
                location,
                verdict(
                    Rule::MediaTypeAdded,
                    Text::prose("media type ").code(media).and(" added"),
                    "an additional representation",
                ),
            )),
            Some(before) => {
                // One media type (the usual case) needs no label.
                let location = if new.content.len() == 1 {
                    location.clone()
                } else {
                    location.clone().and(" (").code(media).and(")")
                };
                compare_nodes(id, &location, before, nodes, place, context, out);
            }
        }
    }
}

/// Compares two flattened schemas seen at `location` of operation `id`.
fn compare_nodes(
    id: &str,
    location: &Text,
    old: &Nodes,
    new: &Nodes,
    place: Place,
    context: &Context,
    out: &mut Vec<Found>,
) {
    let direction = place.direction();
    let field = |path: &str| {
        if path.is_empty() {
            location.clone()
        } else {
            location.clone().and(" field ").code(path)
        }
    };
    let placed = |path: &str, owner: &Option<Owner>, verdict: Verdict| -> Found {
        let owner = owner.as_ref().map(|owner| {
            let inside = if owner.path.is_empty() {
                Text::prose("the schema itself")
            } else {
                Text::prose("property ").code(&owner.path)
            };
            (owner.schema.clone(), inside)
        });
        let mut found = Found::at_operation(id, field(path), verdict);
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
            out.push(placed(
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
            out.push(placed(
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
                out.push(placed(path, &after.declared_in, verdict));
            }
        }
        for verdict in facets(before, after, place, path.is_empty()) {
            out.push(placed(path, &after.defined_in, verdict));
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
