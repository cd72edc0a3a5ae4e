//! Checks made before progenitor runs, so that inputs it would panic on, or reject with an
//! unlocated message, fail with an error that names the file and the JSON pointer instead.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, Response, StatusCode};
use serde_json::Value;

use crate::Error;
use crate::document::{display_pointer, escape_pointer_token};

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
    let mut refs = Vec::new();
    collect_refs(document, &mut String::new(), &mut refs);
    for (pointer, target) in &refs {
        let Some(fragment) = target.strip_prefix('#') else {
            return Err(Error::ExternalRef {
                file: file.to_owned(),
                pointer: pointer.clone(),
                target: target.clone(),
            });
        };
        if document.pointer(fragment).is_none() {
            return Err(Error::DanglingRef {
                file: file.to_owned(),
                pointer: pointer.clone(),
                target: target.clone(),
            });
        }
    }
    // A value with a `$ref` is an alias: OpenAPI 3.0 ignores the keys beside `$ref` (and so does
    // the reader), so `{$ref, description}` defines no more than a bare `$ref`. Follow aliases
    // looking for a loop.
    let alias_of = |value: &Value| -> Option<String> {
        Some(value.as_object()?.get("$ref")?.as_str()?.to_owned())
    };
    for (_, start) in &refs {
        let mut seen = vec![start.clone()];
        let mut current = start.clone();
        while let Some(next) = document
            .pointer(current.trim_start_matches('#'))
            .and_then(alias_of)
        {
            if seen.contains(&next) {
                seen.push(next);
                return Err(Error::RefCycle {
                    file: file.to_owned(),
                    pointer: start.trim_start_matches('#').to_owned(),
                    cycle: seen.join(" -> "),
                });
            }
            seen.push(next.clone());
            current = next;
        }
    }
    Ok(())
}

/// Refuses a component schema that contains itself through `allOf`, `anyOf`, `oneOf`, `not` and
/// aliases alone (e.g. `A: {allOf: [{$ref: A}, {type: object}]}`, or
/// `A: {allOf: [{}, {not: {$ref: A}}]}`): typify would merge or expand it without end and
/// overflow the stack. Recursion through a property, an array item or
/// `additionalProperties` is fine (the generated type boxes it) and is not followed here.
///
/// Runs after [`check_refs`], so every local `$ref` resolves.
pub fn check_composition_cycles(file: &str, document: &Value) -> Result<(), Error> {
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
                cycle.push(&next);
                return Err(Error::CompositionCycle {
                    file: file.to_owned(),
                    pointer: next.trim_start_matches('#').to_owned(),
                    cycle: cycle.join(" -> "),
                });
            }
            if !done.contains(&next) {
                let targets = composed(document, &next);
                stack.push((next, targets));
            }
        }
    }
    Ok(())
}

/// Refuses an empty `allOf`, `anyOf` or `oneOf` anywhere in the document (JSON Schema requires
/// at least one member): typify panics on some and, merged beside a schema that refers to itself,
/// recurses without end on others. Example values, defaults, enums and `x-` extensions are not
/// schemas and are not searched.
pub fn check_empty_compositions(file: &str, document: &Value) -> Result<(), Error> {
    let mut pending: Vec<(String, &Value)> = vec![(String::new(), document)];
    while let Some((pointer, value)) = pending.pop() {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    let at = format!("{pointer}/{}", escape_pointer_token(key));
                    if ["allOf", "anyOf", "oneOf"].contains(&key.as_str())
                        && item.as_array().is_some_and(Vec::is_empty)
                    {
                        return Err(Error::InvalidDocument {
                            file: file.to_owned(),
                            pointer: at,
                            message: format!("{key} is empty; it must list at least one schema"),
                        });
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
    Ok(())
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
                return Err(Error::SelfMerge {
                    file: file.to_owned(),
                    pointer: pointer.trim_start_matches('#').to_owned(),
                    component,
                });
            }
        }
    }
    Ok(())
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
                let at = format!("{pointer}/properties/{}", escape_pointer_token(name));
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
                .map(|name| format!("#/components/schemas/{}", escape_pointer_token(name)))
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
                pointer.push_str(&escape_pointer_token(key));
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
        pointer: pointer_of(error.path()),
        message: error.inner().to_string(),
    })
}

/// Turns a serde path into a JSON pointer.
pub(crate) fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape_pointer_token(key))),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    display_pointer(&pointer)
}

/// Checks each operation for what progenitor cannot generate: a missing or repeated
/// operationId, a path item given by reference, path parameters that do not match the path
/// template, a request body progenitor cannot express, a JSON response without a schema, and
/// more than one distinct success or error response shape (progenitor asserts or panics on
/// these instead of returning an error).
pub fn check_operations(file: &str, api: &OpenAPI) -> Result<(), Error> {
    let mut seen_ids: BTreeMap<&str, String> = BTreeMap::new();
    for (path, item) in api.paths.iter() {
        let path_pointer = format!("/paths/{}", escape_pointer_token(path));
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { .. } => {
                return Err(Error::UnsupportedOperation {
                    file: file.to_owned(),
                    pointer: path_pointer,
                    operation: path.clone(),
                    message: "path items given by $ref are not supported".to_owned(),
                });
            }
        };
        for (method, operation) in item.iter() {
            let pointer = format!("{path_pointer}/{method}");
            let unsupported = |operation: String, message: String| Error::UnsupportedOperation {
                file: file.to_owned(),
                pointer: pointer.clone(),
                operation,
                message,
            };
            let Some(id) = operation.operation_id.as_deref() else {
                return Err(unsupported(
                    format!("{} {path}", method.to_uppercase()),
                    "has no operationId, which names its client method".to_owned(),
                ));
            };
            if let Some(first) = seen_ids.insert(id, pointer.clone()) {
                return Err(unsupported(
                    id.to_owned(),
                    format!("operationId is used twice (also at {first})"),
                ));
            }
            check_path_parameters(api, path, &item.parameters, &operation.parameters)
                .and_then(|()| check_request_body(api, operation))
                .and_then(|()| check_responses(api, operation, Kind::Success))
                .and_then(|()| check_responses(api, operation, Kind::Error))
                .map_err(|message| unsupported(id.to_owned(), message))?;
        }
    }
    Ok(())
}

/// Follows `$ref`s through `#/components/<section>/<name>` until an item is reached.
///
/// Returns `None` for a reference that does not resolve; `check_refs` has already rejected
/// dangling references and cycles, so that only happens for a `$ref` to the wrong section.
fn resolve<'a, T>(
    section: &str,
    lookup: impl Fn(&str) -> Option<&'a ReferenceOr<T>>,
    mut item: &'a ReferenceOr<T>,
) -> Option<&'a T> {
    let prefix = format!("#/components/{section}/");
    // A chain of more links than this is a cycle; stop rather than loop.
    for _ in 0..64 {
        match item {
            ReferenceOr::Item(value) => return Some(value),
            ReferenceOr::Reference { reference } => {
                item = lookup(reference.strip_prefix(&prefix)?)?;
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
) -> Result<(), String> {
    let components = &|name: &str| api.components.as_ref()?.parameters.get(name);
    let mut declared: BTreeMap<String, bool> = BTreeMap::new();
    for parameter in item_parameters.iter().chain(operation_parameters) {
        if let Some(Parameter::Path { parameter_data, .. }) =
            resolve("parameters", components, parameter)
        {
            declared.insert(parameter_data.name.clone(), parameter_data.required);
        }
    }
    let in_template: BTreeSet<String> = template_names(path);
    if let Some((name, _)) = declared.iter().find(|(_, required)| !**required) {
        return Err(format!(
            "path parameter `{name}` is not `required: true`; OpenAPI requires path parameters \
             to be required"
        ));
    }
    if let Some(name) = in_template
        .iter()
        .find(|name| !declared.contains_key(*name))
    {
        return Err(format!(
            "path template `{path}` names `{{{name}}}`, but no path parameter `{name}` is declared"
        ));
    }
    if let Some(name) = declared.keys().find(|name| !in_template.contains(*name)) {
        return Err(format!(
            "path parameter `{name}` does not appear in the path template `{path}`"
        ));
    }
    Ok(())
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

/// One media type, with a schema, and no `encoding` for JSON (progenitor `todo!`s on the rest).
fn check_request_body(api: &OpenAPI, operation: &Operation) -> Result<(), String> {
    let Some(body) = &operation.request_body else {
        return Ok(());
    };
    let components = |name: &str| api.components.as_ref()?.request_bodies.get(name);
    let Some(body) = resolve("requestBodies", components, body) else {
        return Err("its request body $ref does not point into #/components/requestBodies".into());
    };
    if body.content.len() > 1 {
        return Err(format!(
            "request body offers {} media types ({}); the generator supports one",
            body.content.len(),
            body.content.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some((media, content)) = body.content.first()
        && !content.encoding.is_empty()
        && (is_json(media) || media == "application/x-www-form-urlencoded")
    {
        return Err(format!(
            "request body `{media}` has an `encoding`, which the generator does not support"
        ));
    }
    Ok(())
}

/// progenitor's test for a typed (JSON) body: exactly `application/json`, parameters allowed.
fn is_json(media: &str) -> bool {
    media == "application/json" || media.starts_with("application/json;")
}

#[derive(Clone, Copy)]
enum Kind {
    Success,
    Error,
}

/// Mirrors progenitor's grouping of responses (default counts for both groups, and a `2XX`
/// range makes `default` unreachable for success) and requires one response shape per group.
fn check_responses(api: &OpenAPI, operation: &Operation, kind: Kind) -> Result<(), String> {
    let responses = &operation.responses;
    let has_success_range = responses
        .responses
        .keys()
        .any(|code| matches!(code, StatusCode::Range(2)));
    let mut shapes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |status: String, response: &ReferenceOr<Response>| -> Result<(), String> {
        let shape =
            shape_of(api, response).map_err(|problem| format!("response {status} {problem}"))?;
        shapes.entry(shape).or_default().push(status);
        Ok(())
    };
    for (code, response) in &responses.responses {
        let wanted = matches!(
            (kind, code),
            (
                Kind::Success,
                StatusCode::Code(101 | 200..=299) | StatusCode::Range(2)
            ) | (
                Kind::Error,
                StatusCode::Code(400..=599) | StatusCode::Range(4..=5)
            )
        );
        if wanted {
            add(code.to_string(), response)?;
        }
    }
    if let Some(default) = &responses.default
        && !(matches!(kind, Kind::Success) && has_success_range)
    {
        add("default".to_owned(), default)?;
    }
    if shapes.len() > 1 {
        let statuses: BTreeSet<String> = shapes.values().flatten().cloned().collect();
        let group = match kind {
            Kind::Success => "success",
            Kind::Error => "error",
        };
        return Err(format!(
            "has {} different {group} response schemas (responses {}); the generator supports \
             one per operation, so give them one schema or drop the extra responses in the overlay",
            shapes.len(),
            statuses.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(())
}

/// What progenitor turns a response into: no body, a raw body, or a typed JSON body.
///
/// Response `$ref`s are resolved first, so a `#/components/responses/X` and an inline copy of
/// the same response are one shape. A JSON media type is typed only when it is exactly
/// `application/json` (as progenitor decides), so `application/problem+json` is raw.
fn shape_of(api: &OpenAPI, response: &ReferenceOr<Response>) -> Result<String, String> {
    let components = |name: &str| api.components.as_ref()?.responses.get(name);
    let Some(response) = resolve("responses", components, response) else {
        return Err("is a $ref that does not point into #/components/responses".to_owned());
    };
    let json = response
        .content
        .iter()
        .find(|(media, _)| is_json(media))
        .map(|(_, content)| content);
    Ok(match json {
        Some(content) => {
            if !content.encoding.is_empty() {
                return Err("has a JSON `encoding`, which the generator does not support".into());
            }
            match &content.schema {
                Some(ReferenceOr::Reference { reference }) => format!("schema {reference}"),
                Some(ReferenceOr::Item(schema)) => format!(
                    "schema {}",
                    serde_json::to_string(schema).unwrap_or_default()
                ),
                None => {
                    return Err(
                        "is `application/json` without a schema; give it one (e.g. `{}` for \
                         any JSON value) in the overlay"
                            .to_owned(),
                    );
                }
            }
        }
        None if response.content.is_empty() => "none".to_owned(),
        None => "raw".to_owned(),
    })
}
