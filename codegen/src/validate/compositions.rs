//! `allOf`, `anyOf`, `oneOf` and `not`: schemas that contain themselves through composition
//! alone, empty compositions, and `allOf`s that merge the component holding them. typify
//! expands or merges each of these without end (a stack overflow) or panics on them.
//! (Recursion through a place where an `allOf` merges several schemas is [`super::merges`].)

use std::collections::BTreeSet;

use serde_json::Value;

use super::graph::{
    all_of_members, component_schemas, composed, inner_schemas, is_merge, keyword_objects,
    local_refs, merged_closure,
};
use crate::Error;
use crate::json_pointer;
use crate::problems::{Finding, Fix, Kind, Target};

/// Refuses a component schema that contains itself through `allOf`, `anyOf`, `oneOf`, `not` and
/// aliases alone (e.g. `A: {allOf: [{$ref: A}, {type: object}]}`, or
/// `A: {allOf: [{}, {not: {$ref: A}}]}`): typify would merge or expand it without end and
/// overflow the stack. Recursion through a property, an array item or
/// `additionalProperties` is fine (the generated type boxes it) and is not followed here.
///
/// Each cycle is reported once; cycles of pure aliases are left to
/// [`ref_findings`](super::ref_findings), and a `$ref` that does not resolve is not followed.
pub fn composition_cycle_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut cycles: BTreeSet<Vec<String>> = BTreeSet::new();
    // Depth-first search without recursion: `stack` holds the path being explored, each node
    // with the targets it still has to visit.
    let mut done: BTreeSet<String> = BTreeSet::new();
    for start in component_schemas(document) {
        if done.contains(&start) {
            continue;
        }
        let mut stack: Vec<(String, Vec<String>)> =
            vec![(start.clone(), composed(document, &start))];
        while let Some((_, pending)) = stack.last_mut() {
            let Some(next) = pending.pop() else {
                let (node, _) = stack.pop().expect("the stack is not empty");
                done.insert(node);
                continue;
            };
            if let Some(at) = stack.iter().position(|(node, _)| *node == next) {
                let mut cycle: Vec<&str> =
                    stack[at..].iter().map(|(node, _)| node.as_str()).collect();
                let mut members: Vec<String> =
                    cycle.iter().map(|node| (*node).to_owned()).collect();
                members.sort();
                let aliases_only = cycle.iter().all(|node| {
                    document
                        .pointer(node.trim_start_matches('#'))
                        .and_then(|schema| schema.get("$ref"))
                        .is_some()
                });
                cycle.push(&next);
                if !aliases_only && cycles.insert(members) {
                    let pointer = next.trim_start_matches('#').to_owned();
                    let target = Target::of_pointer(document, &pointer);
                    findings.push(Finding::new(
                        Error::CompositionCycle {
                            file: file.to_owned(),
                            pointer,
                            cycle: cycle.join(" -> "),
                        },
                        Kind::CompositionCycle,
                        Fix::Advice(format!(
                            "break the cycle: remove the `allOf`/`anyOf`/`oneOf` member that \
                             leads back to `{next}` (an overlay action `remove: true` on it, \
                             e.g. under `{target}`), or reach it through a property"
                        )),
                    ));
                }
                continue;
            }
            if !done.contains(&next) {
                let targets = composed(document, &next);
                stack.push((next, targets));
            }
        }
    }
    findings
}

/// Refuses an empty `allOf`, `anyOf` or `oneOf` anywhere in the document (JSON Schema requires
/// at least one member): typify panics on some and, merged beside a schema that refers to itself,
/// recurses without end on others. Example values, defaults, enums and `x-` extensions are not
/// schemas and are not searched; a schema or property *named* `default`, `enum` or `x-...` is.
pub fn empty_composition_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (pointer, map) in keyword_objects(document) {
        for (key, item) in map {
            if ["allOf", "anyOf", "oneOf"].contains(&key.as_str())
                && item.as_array().is_some_and(Vec::is_empty)
            {
                let at = format!("{pointer}/{}", json_pointer::escape(key));
                let target = Target::of_pointer(document, &at);
                findings.push(Finding::new(
                    Error::InvalidDocument {
                        file: file.to_owned(),
                        pointer: at,
                        message: format!("{key} is empty; it must list at least one schema"),
                    },
                    Kind::EmptyComposition,
                    Fix::Remove {
                        targets: vec![target.into()],
                        keeps: None,
                    },
                ));
            }
        }
    }
    findings
}

/// Refuses an `allOf` inside a component schema (in a property, array items, ... at any depth)
/// that merges that same component, e.g.
/// `Node: {properties: {parent: {allOf: [{$ref: Node}, {required: [id]}]}}}`, directly or
/// through the `allOf` of the schemas it merges (also an `allOf` nested in an `allOf`): typify
/// may merge the component into itself without end and overflow the stack. An `allOf` that
/// only annotates one reference (a single `$ref` member, beside members with just
/// `description`, `nullable` and the like) is not a merge, and recursion through plain `$ref`s
/// stays allowed. A `$ref` that does not resolve is not followed.
pub fn self_merge_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for component in component_schemas(document) {
        for (pointer, inner) in inner_schemas(document, &component) {
            if annotates_one_reference(document, inner) {
                continue;
            }
            let merged = local_refs(&all_of_members(inner));
            if merged.is_empty() {
                continue;
            }
            if merged_closure(document, merged).contains(&component) {
                let pointer = pointer.trim_start_matches('#').to_owned();
                let target = Target::of_pointer(document, &pointer);
                let fix = Fix::Advice(format!(
                    "refer to `{component}` with a plain `$ref`: an overlay action `remove: true` \
                     on `{}`, then one on `{target}` with `update: {{\"$ref\": \"{component}\"}}`",
                    target.key("allOf")
                ));
                findings.push(Finding::new(
                    Error::SelfMerge {
                        file: file.to_owned(),
                        pointer,
                        component: component.clone(),
                    },
                    Kind::SelfMerge,
                    fix,
                ));
            }
        }
    }
    findings
}

/// Keys that annotate a schema without constraining the values it accepts.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "nullable",
    "example",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "default",
    "externalDocs",
];

/// Whether `schema`'s own `allOf` only annotates one reference, which typify reads as the
/// reference rather than as a merge: either the `allOf` is that single `$ref`, or its one member
/// that constrains values is a `$ref` (the others only annotate: `description`, `nullable`,
/// `{}`) to a schema that is not a merge itself. (typify merges an annotated reference to an
/// `allOf` schema, and so merges a schema holding such a reference into itself.) Members are
/// counted as written, not flattened and not deduplicated: `allOf: [{allOf: [...]}]` and
/// `allOf: [A, A]` are merges.
fn annotates_one_reference(document: &Value, schema: &Value) -> bool {
    let Some(Value::Array(members)) = schema.get("allOf") else {
        return false;
    };
    if let [only] = members.as_slice() {
        return only.get("$ref").is_some();
    }
    let mut constraining = members.iter().filter(|member| {
        member
            .as_object()
            .is_some_and(|map| map.keys().any(|key| !ANNOTATIONS.contains(&key.as_str())))
    });
    match (constraining.next(), constraining.next()) {
        (Some(only), None) => match only.get("$ref") {
            Some(Value::String(target)) => !is_merge(document, target),
            _ => false,
        },
        _ => false,
    }
}
