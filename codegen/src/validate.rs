//! Checks made before progenitor runs, so that inputs it would panic on, or reject with an
//! unlocated message, fail with an error that names the file and the JSON pointer instead.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, Response, StatusCode};
use serde_json::Value;

use crate::Error;
use crate::json_pointer;
use crate::problems::{Finding, Fix, Kind, Target};

mod merges;

pub use merges::merged_recursion_findings;

/// Accepts OpenAPI 3.0.x only, with a clear message for 3.1 and Swagger 2.0.
pub fn check_version(file: &str, document: &Value) -> Result<(), Error> {
    let unsupported = |message: String| Error::UnsupportedVersion {
        file: file.to_owned(),
        message,
    };
    if let Some(swagger) = document.get("swagger") {
        return Err(unsupported(format!(
            "Swagger (OpenAPI 2.0) is not supported (found swagger: {swagger}); this generator \
             reads OpenAPI 3.0.x"
        )));
    }
    match document.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.0.") || version == "3.0" => Ok(()),
        Some(Value::String(version)) => {
            let minor = version.split('.').take(2).collect::<Vec<_>>().join(".");
            Err(unsupported(format!(
                "OpenAPI {minor} is not supported (found {version}); this generator reads \
                 OpenAPI 3.0.x"
            )))
        }
        Some(other) => Err(unsupported(format!(
            "expected a version string such as \"3.0.3\", found {other}"
        ))),
        None => Err(unsupported(
            "missing: this is not an OpenAPI document (no `openapi` version field)".to_owned(),
        )),
    }
}

/// Every `$ref` must be local and resolve, and no chain of pure references may loop.
pub fn check_refs(file: &str, document: &Value) -> Result<(), Error> {
    first(ref_findings(file, document))
}

/// The findings of [`check_refs`], all of them: one per external or dangling target (at its
/// first `$ref`), one per cycle of aliases.
pub fn ref_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut refs = Vec::new();
    collect_refs(document, &mut String::new(), &mut refs);
    let mut findings = Vec::new();
    // Target -> (index of its finding, how many `$ref`s point at it).
    let mut broken: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (pointer, target) in &refs {
        let external = !target.starts_with('#');
        if !external && document.pointer(&target[1..]).is_some() {
            continue;
        }
        if let Some((_, count)) = broken.get_mut(target.as_str()) {
            *count += 1;
            continue;
        }
        broken.insert(target, (findings.len(), 1));
        let at = Target::of_pointer(document, pointer.strip_suffix("/$ref").unwrap_or(pointer));
        findings.push(if external {
            Finding::new(
                Error::ExternalRef {
                    file: file.to_owned(),
                    pointer: pointer.clone(),
                    target: target.clone(),
                },
                Kind::ExternalRef,
                Fix::Advice(format!(
                    "put what `{target}` holds in the document: an overlay action `remove: true` \
                     on `{}` and one on `{at}` with `update:` that content",
                    at.key("$ref")
                )),
            )
        } else {
            Finding::new(
                Error::DanglingRef {
                    file: file.to_owned(),
                    pointer: pointer.clone(),
                    target: target.clone(),
                },
                Kind::DanglingRef,
                Fix::Advice(dangling_advice(target, &at)),
            )
        });
    }
    for (target, (index, count)) in broken {
        if count > 1
            && let Some(Fix::Advice(text)) = findings.get_mut(index).map(|found| &mut found.fix)
        {
            text.push_str(&format!(
                " ({count} `$ref`s point at `{target}`; this is the first)"
            ));
        }
    }
    // A value with a `$ref` is an alias: OpenAPI 3.0 ignores the keys beside `$ref` (and so does
    // the reader), so `{$ref, description}` defines no more than a bare `$ref`. Follow aliases
    // looking for a loop; report each loop once.
    let alias_of = |value: &Value| -> Option<String> {
        Some(value.as_object()?.get("$ref")?.as_str()?.to_owned())
    };
    let mut cycles: BTreeSet<Vec<String>> = BTreeSet::new();
    for (_, start) in &refs {
        let mut seen = vec![start.clone()];
        let mut current = start.clone();
        while let Some(next) = document
            .pointer(current.trim_start_matches('#'))
            .and_then(alias_of)
        {
            if let Some(at) = seen.iter().position(|node| *node == next) {
                let mut members = seen[at..].to_vec();
                members.sort();
                seen.push(next);
                if cycles.insert(members) {
                    let pointer = start.trim_start_matches('#').to_owned();
                    let at = Target::of_pointer(document, &pointer);
                    findings.push(Finding::new(
                        Error::RefCycle {
                            file: file.to_owned(),
                            pointer,
                            cycle: seen.join(" -> "),
                        },
                        Kind::RefCycle,
                        Fix::Advice(format!(
                            "give one schema of the cycle a definition of its own, e.g. an \
                             overlay action `remove: true` on `{}` and one on `{at}` with \
                             `update:` a schema",
                            at.key("$ref")
                        )),
                    ));
                }
                break;
            }
            seen.push(next.clone());
            current = next;
        }
    }
    findings
}

/// What to do about a `$ref` to `target` that points at nothing, from the object at `at`.
fn dangling_advice(target: &str, at: &Target) -> String {
    let component = target
        .strip_prefix("#/components/")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(_, name)| !name.contains('/'));
    match component {
        Some((section, name)) => {
            let name = json_pointer::unescape(name);
            format!(
                "add the missing component (an overlay action on `{}` with `update: \
                 {{{name:?}: ...}}`) or point the `$ref` at one that exists (an overlay action \
                 `remove: true` on `{}`, then one on `{at}` with `update: {{\"$ref\": ...}}`)",
                Target::root().key("components").key(section),
                at.key("$ref")
            )
        }
        None => format!(
            "point the `$ref` at something that exists: an overlay action `remove: true` on \
             `{}`, then one on `{at}` with `update: {{\"$ref\": ...}}`",
            at.key("$ref")
        ),
    }
}

/// The first finding's error, if any.
fn first(findings: Vec<Finding>) -> Result<(), Error> {
    findings
        .into_iter()
        .next()
        .map_or(Ok(()), |finding| Err(finding.error))
}

/// The findings of the checks that read the document as a JSON value: [`ref_findings`],
/// [`composition_cycle_findings`], [`self_merge_findings`],
/// [`empty_composition_findings`] and [`default_findings`]. A cycle of pure aliases is reported
/// once, as a `$ref` cycle.
pub fn document_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = ref_findings(file, document);
    findings.extend(composition_cycle_findings(file, document));
    findings.extend(self_merge_findings(file, document));
    findings.extend(merged_recursion_findings(file, document));
    findings.extend(empty_composition_findings(file, document));
    findings.extend(default_findings(file, document));
    findings
}

/// Schemas whose `default` is not of their `type` (a string default of an array, ...): typify
/// refuses them with an unlocated "value does not conform to the given schema". Only schemas
/// that name a single `type` are checked; `null` is accepted where the schema is nullable.
/// Example values, enums and `x-` extensions are not schemas and are not searched.
pub fn default_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut pending: Vec<(String, &Value)> = vec![(String::new(), document)];
    while let Some((pointer, value)) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(kind)), Some(default)) =
                    (map.get("type"), map.get("default"))
                {
                    let nullable = map.get("nullable") == Some(&Value::Bool(true));
                    if !fits_type(kind, default, nullable) {
                        let at = format!("{pointer}/default");
                        let target = Target::of_pointer(document, &at);
                        findings.push(Finding::new(
                            Error::InvalidDocument {
                                file: file.to_owned(),
                                pointer: at,
                                message: format!(
                                    "default {default} is not of the schema's type `{kind}`; \
                                     the generator refuses a default its schema does not accept"
                                ),
                            },
                            Kind::DefaultMismatch,
                            Fix::Remove {
                                targets: vec![target.into()],
                                keeps: None,
                            },
                        ));
                    }
                }
                for (key, item) in map {
                    let opaque = ["example", "examples", "default", "enum"].contains(&key.as_str())
                        || key.starts_with("x-");
                    if !opaque {
                        pending.push((format!("{pointer}/{}", json_pointer::escape(key)), item));
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    pending.push((format!("{pointer}/{index}"), item));
                }
            }
            _ => {}
        }
    }
    findings
}

/// Whether `value` is of the JSON Schema type `kind` (an unknown type name accepts anything).
fn fits_type(kind: &str, value: &Value, nullable: bool) -> bool {
    match (kind, value) {
        (_, Value::Null) => nullable || kind == "null",
        ("string", Value::String(_))
        | ("number", Value::Number(_))
        | ("boolean", Value::Bool(_))
        | ("array", Value::Array(_))
        | ("object", Value::Object(_)) => true,
        ("integer", Value::Number(number)) => {
            number.is_i64() || number.is_u64() || number.as_f64().is_some_and(|n| n.fract() == 0.0)
        }
        ("string" | "number" | "integer" | "boolean" | "array" | "object" | "null", _) => false,
        _ => true,
    }
}

/// Refuses a component schema that contains itself through `allOf`, `anyOf`, `oneOf`, `not` and
/// aliases alone (e.g. `A: {allOf: [{$ref: A}, {type: object}]}`, or
/// `A: {allOf: [{}, {not: {$ref: A}}]}`): typify would merge or expand it without end and
/// overflow the stack. Recursion through a property, an array item or
/// `additionalProperties` is fine (the generated type boxes it) and is not followed here.
///
/// Runs after [`check_refs`], so every local `$ref` resolves.
pub fn check_composition_cycles(file: &str, document: &Value) -> Result<(), Error> {
    first(composition_cycle_findings(file, document))
}

/// The findings of [`check_composition_cycles`], all of them, each cycle once; cycles of pure
/// aliases are left to [`ref_findings`].
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
/// schemas and are not searched.
pub fn check_empty_compositions(file: &str, document: &Value) -> Result<(), Error> {
    first(empty_composition_findings(file, document))
}

/// The findings of [`check_empty_compositions`], all of them.
pub fn empty_composition_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut pending: Vec<(String, &Value)> = vec![(String::new(), document)];
    while let Some((pointer, value)) = pending.pop() {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    let at = format!("{pointer}/{}", json_pointer::escape(key));
                    if ["allOf", "anyOf", "oneOf"].contains(&key.as_str())
                        && item.as_array().is_some_and(Vec::is_empty)
                    {
                        let target = Target::of_pointer(document, &at);
                        findings.push(Finding::new(
                            Error::InvalidDocument {
                                file: file.to_owned(),
                                pointer: at.clone(),
                                message: format!(
                                    "{key} is empty; it must list at least one schema"
                                ),
                            },
                            Kind::EmptyComposition,
                            Fix::Remove {
                                targets: vec![target.into()],
                                keeps: None,
                            },
                        ));
                        continue;
                    }
                    let opaque = ["example", "examples", "default", "enum"].contains(&key.as_str())
                        || key.starts_with("x-");
                    if !opaque {
                        pending.push((at, item));
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    pending.push((format!("{pointer}/{index}"), item));
                }
            }
            _ => {}
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
/// stays allowed.
///
/// Runs after [`check_refs`], so every local `$ref` resolves.
pub fn check_self_merges(file: &str, document: &Value) -> Result<(), Error> {
    first(self_merge_findings(file, document))
}

/// The findings of [`check_self_merges`], all of them.
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

/// The schemas nested inside the component at `component` (through properties, items,
/// `additionalProperties`, `not` and composition, not through references), with their
/// pointers; the component itself is left to [`check_composition_cycles`].
fn inner_schemas<'a>(document: &'a Value, component: &str) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    let mut pending: Vec<(String, &Value)> = document
        .pointer(component.trim_start_matches('#'))
        .map(|schema| (component.to_owned(), schema))
        .into_iter()
        .collect();
    while let Some((pointer, schema)) = pending.pop() {
        let Some(map) = schema.as_object() else {
            continue;
        };
        if map.contains_key("$ref") {
            continue;
        }
        if pointer != component {
            out.push((pointer.clone(), schema));
        }
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, property) in properties {
                let at = format!("{pointer}/properties/{}", json_pointer::escape(name));
                pending.push((at, property));
            }
        }
        for keyword in ["items", "additionalProperties", "not"] {
            if let Some(inner) = map.get(keyword) {
                pending.push((format!("{pointer}/{keyword}"), inner));
            }
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(members)) = map.get(keyword) {
                for (index, member) in members.iter().enumerate() {
                    pending.push((format!("{pointer}/{keyword}/{index}"), member));
                }
            }
        }
    }
    out
}

/// The `#/components/schemas/...` pointer of every component schema, in key order.
fn component_schemas(document: &Value) -> Vec<String> {
    document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .keys()
                .map(|name| format!("#/components/schemas/{}", json_pointer::escape(name)))
                .collect()
        })
        .unwrap_or_default()
}

/// The members of `schema`'s `allOf`, with inline members that have an `allOf` of their own
/// replaced by their members (what typify merges together).
fn all_of_members(schema: &Value) -> Vec<&Value> {
    let mut members = Vec::new();
    let mut pending = vec![schema];
    while let Some(current) = pending.pop() {
        let Some(Value::Array(items)) = current.get("allOf") else {
            continue;
        };
        for item in items {
            if item.get("allOf").is_some() && item.get("$ref").is_none() {
                pending.push(item);
            } else {
                members.push(item);
            }
        }
    }
    members
}

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

/// Whether the schema `target` refers to (through any aliases) has an `allOf` of its own.
fn is_merge(document: &Value, target: &str) -> bool {
    let mut current = target.to_owned();
    // `check_refs` has refused alias cycles; the bound only keeps this total.
    for _ in 0..64 {
        let Some(schema) = document.pointer(current.trim_start_matches('#')) else {
            return false;
        };
        match schema.get("$ref") {
            Some(Value::String(next)) => current = next.clone(),
            _ => return schema.get("allOf").is_some(),
        }
    }
    true
}

/// The distinct local `$ref` targets among `members`.
fn local_refs(members: &[&Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for member in members {
        if let Some(Value::String(target)) = member.get("$ref")
            && target.starts_with('#')
            && !out.contains(target)
        {
            out.push(target.clone());
        }
    }
    out
}

/// `start` and every schema their `allOf` members reach, following references.
fn merged_closure(document: &Value, start: Vec<String>) -> Vec<String> {
    let mut seen = start.clone();
    let mut pending = start;
    while let Some(target) = pending.pop() {
        let Some(schema) = document.pointer(target.trim_start_matches('#')) else {
            continue;
        };
        for next in local_refs(&all_of_members(schema)) {
            if !seen.contains(&next) {
                seen.push(next.clone());
                pending.push(next);
            }
        }
    }
    seen
}

/// The `$ref` targets the schema at `target` reaches through `$ref`, `allOf`, `anyOf`, `oneOf`
/// and `not` alone, following inline schemas of those keywords.
fn composed(document: &Value, target: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Vec<&Value> = document
        .pointer(target.trim_start_matches('#'))
        .into_iter()
        .collect();
    while let Some(schema) = pending.pop() {
        let Some(map) = schema.as_object() else {
            continue;
        };
        if let Some(Value::String(next)) = map.get("$ref") {
            if next.starts_with('#') && !out.contains(next) {
                out.push(next.clone());
            }
            continue;
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(items)) = map.get(keyword) {
                pending.extend(items);
            }
        }
        pending.extend(map.get("not"));
    }
    out
}

fn collect_refs(value: &Value, pointer: &mut String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&json_pointer::escape(key));
                if key == "$ref"
                    && let Value::String(target) = item
                {
                    out.push((pointer.clone(), target.clone()));
                } else {
                    collect_refs(item, pointer, out);
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                collect_refs(item, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Reads the value as an OpenAPI 3.0 document; on failure, says where.
pub fn to_openapi(file: &str, document: Value) -> Result<OpenAPI, Error> {
    serde_path_to_error::deserialize(document).map_err(|error| Error::InvalidDocument {
        file: file.to_owned(),
        pointer: json_pointer::of_path(error.path()),
        message: error.inner().to_string(),
    })
}

/// Checks each operation for what progenitor cannot generate: a missing or repeated
/// operationId, a path item given by reference, path parameters that do not match the path
/// template, a request body progenitor cannot express, a JSON response without a schema, and
/// more than one distinct success or error response shape (progenitor asserts or panics on
/// these instead of returning an error).
pub fn check_operations(file: &str, api: &OpenAPI) -> Result<(), Error> {
    first(operation_findings(file, api))
}

/// A problem of one operation, before it is tied to the operation.
struct Unsupported {
    message: String,
    kind: Kind,
    fix: Fix,
}

impl Unsupported {
    fn new(kind: Kind, message: impl Into<String>, fix: Fix) -> Self {
        Self {
            message: message.into(),
            kind,
            fix,
        }
    }
}

/// The findings of [`check_operations`], all of them: every problem of every operation.
pub fn operation_findings(file: &str, api: &OpenAPI) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen_ids: BTreeMap<&str, String> = BTreeMap::new();
    for (path, item) in api.paths.iter() {
        let path_pointer = format!("/paths/{}", json_pointer::escape(path));
        let path_target = Target::root().key("paths").key(path);
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { reference } => {
                findings.push(Finding::new(
                    Error::UnsupportedOperation {
                        file: file.to_owned(),
                        pointer: path_pointer,
                        operation: path.clone(),
                        message: "path items given by $ref are not supported".to_owned(),
                    },
                    Kind::PathItemRef,
                    Fix::Advice(format!(
                        "put the path item `{reference}` in its place: an overlay action \
                         `remove: true` on `{}` and one on `{path_target}` with `update:` the \
                         path item",
                        path_target.key("$ref")
                    )),
                ));
                continue;
            }
        };
        for (method, operation) in item.iter() {
            let pointer = format!("{path_pointer}/{method}");
            let target = path_target.key(method);
            let unsupported = |operation: &str, problem: Unsupported| {
                Finding::new(
                    Error::UnsupportedOperation {
                        file: file.to_owned(),
                        pointer: pointer.clone(),
                        operation: operation.to_owned(),
                        message: problem.message,
                    },
                    problem.kind,
                    problem.fix,
                )
            };
            let label = match operation.operation_id.as_deref() {
                Some(id) => {
                    if let Some(first) = seen_ids.insert(id, pointer.clone()) {
                        findings.push(unsupported(
                            id,
                            Unsupported::new(
                                Kind::DuplicateOperationId,
                                format!("operationId is used twice (also at {first})"),
                                Fix::Update {
                                    target: target.clone().into(),
                                    update: serde_json::json!({
                                        "operationId": format!("{id}-{method}")
                                    }),
                                },
                            ),
                        ));
                    }
                    id.to_owned()
                }
                None => {
                    let label = format!("{} {path}", method.to_uppercase());
                    findings.push(unsupported(
                        &label,
                        Unsupported::new(
                            Kind::MissingOperationId,
                            "has no operationId, which names its client method",
                            Fix::Update {
                                target: target.clone().into(),
                                update: serde_json::json!({
                                    "operationId": suggested_operation_id(method, path)
                                }),
                            },
                        ),
                    ));
                    label
                }
            };
            let mut problems = Vec::new();
            let places = Places {
                path: &path_target,
                operation: &target,
            };
            check_path_parameters(
                api,
                path,
                &item.parameters,
                &operation.parameters,
                &places,
                &mut problems,
            );
            check_request_body(api, operation, &target, &mut problems);
            check_responses(api, operation, Group::Success, &target, &mut problems);
            check_responses(api, operation, Group::Error, &target, &mut problems);
            findings.extend(
                problems
                    .into_iter()
                    .map(|problem| unsupported(&label, problem)),
            );
        }
    }
    findings
}

/// An operationId for an operation without one: `get-accounts-account_id-things`.
fn suggested_operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        let segment: String = segment
            .chars()
            .filter(|character| !matches!(character, '{' | '}'))
            .collect();
        id.push('-');
        id.push_str(&segment);
    }
    id
}

/// Where an operation and its path item are, as overlay targets.
struct Places<'a> {
    path: &'a Target,
    operation: &'a Target,
}

/// Follows `$ref`s through `#/components/<section>/<name>` until an item is reached, and says
/// where it is: `at` for an item given in place, the component holding it for a reference.
///
/// Returns `None` for a reference that does not resolve; `check_refs` has already rejected
/// dangling references and cycles, so that only happens for a `$ref` to the wrong section.
fn resolve_at<'a, T>(
    section: &str,
    lookup: impl Fn(&str) -> Option<&'a ReferenceOr<T>>,
    mut item: &'a ReferenceOr<T>,
    at: &Target,
) -> Option<(Target, &'a T)> {
    let prefix = format!("#/components/{section}/");
    let mut place = at.clone();
    // A chain of more links than this is a cycle; stop rather than loop.
    for _ in 0..64 {
        match item {
            ReferenceOr::Item(value) => return Some((place, value)),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix(&prefix)?;
                item = lookup(name)?;
                place = Target::root()
                    .key("components")
                    .key(section)
                    .key(&json_pointer::unescape(name));
            }
        }
    }
    None
}

/// Path parameters must be required and match the names in the path template one to one
/// (progenitor panics on a template name with no parameter and on a parameter not in the
/// template). Operation parameters override path-item parameters of the same name and place.
fn check_path_parameters(
    api: &OpenAPI,
    path: &str,
    item_parameters: &[ReferenceOr<Parameter>],
    operation_parameters: &[ReferenceOr<Parameter>],
    places: &Places<'_>,
    out: &mut Vec<Unsupported>,
) {
    let components = &|name: &str| api.components.as_ref()?.parameters.get(name);
    // Name -> (required, where the parameter is defined, its entry in a `parameters` list).
    let mut declared: BTreeMap<String, (bool, Target, Target)> = BTreeMap::new();
    let lists = [
        (item_parameters, places.path),
        (operation_parameters, places.operation),
    ];
    for (parameters, owner) in lists {
        let list = owner.key("parameters");
        for (index, parameter) in parameters.iter().enumerate() {
            let entry = list.index(index);
            if let Some((defined, Parameter::Path { parameter_data, .. })) =
                resolve_at("parameters", components, parameter, &entry)
            {
                let entry = match parameter {
                    ReferenceOr::Reference { reference } => list.element_where("$ref", reference),
                    ReferenceOr::Item(_) => list.element_where("name", &parameter_data.name),
                };
                declared.insert(
                    parameter_data.name.clone(),
                    (parameter_data.required, defined, entry),
                );
            }
        }
    }
    let in_template: BTreeSet<String> = template_names(path);
    for (name, (_, defined, _)) in declared.iter().filter(|(_, (required, ..))| !*required) {
        out.push(Unsupported::new(
            Kind::PathParameter,
            format!(
                "path parameter `{name}` is not `required: true`; OpenAPI requires path \
                 parameters to be required"
            ),
            Fix::Update {
                target: defined.clone().into(),
                update: serde_json::json!({"required": true}),
            },
        ));
    }
    for name in in_template
        .iter()
        .filter(|name| !declared.contains_key(*name))
    {
        out.push(Unsupported::new(
            Kind::PathParameter,
            format!(
                "path template `{path}` names `{{{name}}}`, but no path parameter `{name}` is \
                 declared"
            ),
            Fix::Update {
                target: places.operation.clone().into(),
                update: serde_json::json!({"parameters": [{
                    "name": name, "in": "path", "required": true, "schema": {"type": "string"}
                }]}),
            },
        ));
    }
    for (name, (_, _, entry)) in declared
        .iter()
        .filter(|(name, _)| !in_template.contains(*name))
    {
        out.push(Unsupported::new(
            Kind::PathParameter,
            format!("path parameter `{name}` does not appear in the path template `{path}`"),
            Fix::Remove {
                targets: vec![entry.clone().into()],
                keeps: None,
            },
        ));
    }
}

/// The `{name}` segments of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        names.insert(after[..close].to_owned());
        rest = &after[close + 1..];
    }
    names
}

/// One media type, with a schema, and no `encoding` for JSON (progenitor `todo!`s on the rest,
/// or refuses a body without a schema with an unlocated error).
fn check_request_body(
    api: &OpenAPI,
    operation: &Operation,
    at: &Target,
    out: &mut Vec<Unsupported>,
) {
    let Some(body) = &operation.request_body else {
        return;
    };
    let components = |name: &str| api.components.as_ref()?.request_bodies.get(name);
    let Some((place, body)) = resolve_at("requestBodies", components, body, &at.key("requestBody"))
    else {
        out.push(Unsupported::new(
            Kind::RequestBody,
            "its request body $ref does not point into #/components/requestBodies",
            Fix::Advice(
                "point the request body's `$ref` into #/components/requestBodies, or put the \
                 request body in its place"
                    .to_owned(),
            ),
        ));
        return;
    };
    let content = place.key("content");
    if body.content.len() > 1 {
        // Keep the media type the generator prefers among those it can send.
        let kept = BODY_MEDIA_TYPES.iter().find_map(|wanted| {
            body.content
                .keys()
                .find(|media| media.split(';').next().map(str::trim) == Some(*wanted))
        });
        let fix = match kept {
            Some(kept) => Fix::Remove {
                targets: body
                    .content
                    .keys()
                    .filter(|media| *media != kept)
                    .map(|media| content.key(media).into())
                    .collect(),
                keeps: Some(format!("`{kept}`")),
            },
            None => Fix::Advice(unsendable_advice(&content)),
        };
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body offers {} media types ({}); the generator supports one",
                body.content.len(),
                body.content.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            fix,
        ));
        return;
    }
    if let Some((media, _)) = body.content.first()
        && !BODY_MEDIA_TYPES.contains(&media.split(';').next().map_or("", str::trim))
    {
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body `{media}` is not a media type the generator can send ({})",
                BODY_MEDIA_TYPES.join(", ")
            ),
            Fix::Advice(unsendable_advice(&content)),
        ));
        return;
    }
    if let Some((media, media_type)) = body.content.first()
        && media_type.schema.is_none()
    {
        let schema = if is_json(media) {
            serde_json::json!({})
        } else {
            serde_json::json!({"type": "string", "format": "binary"})
        };
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body `{media}` has no schema; the generator needs one (e.g. `{{}}` for \
                 any JSON value)"
            ),
            Fix::Update {
                target: content.key(media).into(),
                update: serde_json::json!({ "schema": schema }),
            },
        ));
        return;
    }
    if let Some((media, media_type)) = body.content.first()
        && !media_type.encoding.is_empty()
        && (is_json(media) || media == "application/x-www-form-urlencoded")
    {
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body `{media}` has an `encoding`, which the generator does not support"
            ),
            Fix::Remove {
                targets: vec![content.key(media).key("encoding").into()],
                keeps: None,
            },
        ));
    }
}

/// The request body media types progenitor can send, in the order a fix prefers them.
const BODY_MEDIA_TYPES: [&str; 5] = [
    "application/json",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "text/plain",
    "text/x-markdown",
];

/// What to do about a request body (whose `content` is at `content`) in no media type the
/// generator can send.
fn unsendable_advice(content: &Target) -> String {
    format!(
        "describe the body in a media type the generator can send ({}): an overlay action \
         `remove: true` on each entry of `{content}`, then one on `{content}` with `update:` \
         the new entry; or remove the operation",
        BODY_MEDIA_TYPES.join(", ")
    )
}

/// progenitor's test for a typed (JSON) body: exactly `application/json`, parameters allowed.
fn is_json(media: &str) -> bool {
    media == "application/json" || media.starts_with("application/json;")
}

/// The two groups progenitor sorts responses into.
#[derive(Clone, Copy)]
enum Group {
    Success,
    Error,
}

/// The key of a status code in a `responses` object.
fn status_key(code: &StatusCode) -> String {
    match code {
        StatusCode::Code(code) => code.to_string(),
        StatusCode::Range(range) => format!("{range}XX"),
    }
}

/// Mirrors progenitor's grouping of responses (default counts for both groups, and a `2XX`
/// range makes `default` unreachable for success) and requires one response shape per group.
fn check_responses(
    api: &OpenAPI,
    operation: &Operation,
    group: Group,
    at: &Target,
    out: &mut Vec<Unsupported>,
) {
    let responses = &operation.responses;
    let listed = at.key("responses");
    let has_success_range = responses
        .responses
        .keys()
        .any(|code| matches!(code, StatusCode::Range(2)));
    // Shape -> the statuses that have it (in document order), with their targets.
    let mut shapes: BTreeMap<String, Vec<(String, Target)>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut add = |status: String, key: String, response: &ReferenceOr<Response>| {
        let target = listed.key(&key);
        match shape_of(api, response, &target) {
            Ok(shape) => {
                if !shapes.contains_key(&shape) {
                    order.push(shape.clone());
                }
                shapes.entry(shape).or_default().push((status, target));
            }
            Err(problem) => out.push(Unsupported {
                message: format!("response {status} {}", problem.message),
                ..problem
            }),
        }
    };
    for (code, response) in &responses.responses {
        let wanted = matches!(
            (group, code),
            (
                Group::Success,
                StatusCode::Code(101 | 200..=299) | StatusCode::Range(2)
            ) | (
                Group::Error,
                StatusCode::Code(400..=599) | StatusCode::Range(4..=5)
            )
        );
        if wanted {
            add(code.to_string(), status_key(code), response);
        }
    }
    if let Some(default) = &responses.default
        && !(matches!(group, Group::Success) && has_success_range)
    {
        add("default".to_owned(), "default".to_owned(), default);
    }
    if shapes.len() > 1 {
        let statuses: BTreeSet<String> = shapes
            .values()
            .flatten()
            .map(|(status, _)| status.clone())
            .collect();
        let name = match group {
            Group::Success => "success",
            Group::Error => "error",
        };
        // Success keeps the shape of its first status; errors keep their most common shape.
        let kept = match group {
            Group::Success => order.first(),
            Group::Error => order
                .iter()
                .rev()
                .max_by_key(|shape| shapes.get(*shape).map_or(0, Vec::len)),
        }
        .cloned()
        .unwrap_or_default();
        let kept_statuses = shapes
            .get(&kept)
            .map(|list| {
                list.iter()
                    .map(|(status, _)| status.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let targets = order
            .iter()
            .filter(|shape| **shape != kept)
            .flat_map(|shape| shapes.get(shape).into_iter().flatten())
            .map(|(_, target)| target.clone().into())
            .collect();
        out.push(Unsupported::new(
            match group {
                Group::Success => Kind::SuccessResponses,
                Group::Error => Kind::ErrorResponses,
            },
            format!(
                "has {} different {name} response schemas (responses {}); the generator \
                 supports one per operation, so give them one schema or drop the extra \
                 responses in the overlay",
                shapes.len(),
                statuses.into_iter().collect::<Vec<_>>().join(", ")
            ),
            Fix::Remove {
                targets,
                keeps: Some(format!("{kept_statuses}: {}", describe_shape(&kept))),
            },
        ));
    }
}

/// A shape of [`shape_of`] in words.
fn describe_shape(shape: &str) -> String {
    match shape {
        "none" => "no body".to_owned(),
        "raw" => "a body that is not JSON".to_owned(),
        _ => match shape.strip_prefix("schema #") {
            Some(reference) => format!("schema `#{reference}`"),
            None => "an inline schema".to_owned(),
        },
    }
}

/// What progenitor turns a response into: no body, a raw body, or a typed JSON body.
///
/// Response `$ref`s are resolved first, so a `#/components/responses/X` and an inline copy of
/// the same response are one shape. A JSON media type is typed only when it is exactly
/// `application/json` (as progenitor decides), so `application/problem+json` is raw. `at` is
/// where the response is listed in its operation.
fn shape_of(
    api: &OpenAPI,
    response: &ReferenceOr<Response>,
    at: &Target,
) -> Result<String, Unsupported> {
    let components = |name: &str| api.components.as_ref()?.responses.get(name);
    let Some((place, response)) = resolve_at("responses", components, response, at) else {
        return Err(Unsupported::new(
            Kind::Response,
            "is a $ref that does not point into #/components/responses",
            Fix::Advice(
                "point the response's `$ref` into #/components/responses, or put the response \
                 in its place"
                    .to_owned(),
            ),
        ));
    };
    let json = response.content.iter().find(|(media, _)| is_json(media));
    Ok(match json {
        Some((media, content)) => {
            let here = place.key("content").key(media);
            if !content.encoding.is_empty() {
                return Err(Unsupported::new(
                    Kind::Response,
                    "has a JSON `encoding`, which the generator does not support",
                    Fix::Remove {
                        targets: vec![here.key("encoding").into()],
                        keeps: None,
                    },
                ));
            }
            match &content.schema {
                Some(ReferenceOr::Reference { reference }) => format!("schema {reference}"),
                Some(ReferenceOr::Item(schema)) => format!(
                    "schema {}",
                    serde_json::to_string(schema).unwrap_or_default()
                ),
                None => {
                    return Err(Unsupported::new(
                        Kind::Response,
                        "is `application/json` without a schema; give it one (e.g. `{}` for \
                         any JSON value) in the overlay",
                        Fix::Update {
                            target: here.into(),
                            update: serde_json::json!({"schema": {}}),
                        },
                    ));
                }
            }
        }
        None if response.content.is_empty() => "none".to_owned(),
        None => "raw".to_owned(),
    })
}
