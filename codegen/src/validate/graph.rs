//! Walking the graph of schemas the composition checks share: the component schemas, the
//! schemas nested in one, the members an `allOf` merges, and where references and compositions
//! lead. References that do not resolve are skipped here; [`super::references`] reports them.

use serde_json::{Map, Value};

use crate::json_pointer;

/// Keys whose object value is keyed by names (of paths, properties, components, status codes,
/// media types, ...), not by keywords: a schema called `default`, a property called `enum` and
/// the `default` response are names there.
const NAME_MAPS: &[&str] = &[
    "paths",
    "properties",
    "schemas",
    "responses",
    "parameters",
    "requestBodies",
    "headers",
    "content",
    "callbacks",
    "links",
    "securitySchemes",
    "encoding",
];

/// The name maps whose `x-` keys are extensions rather than names.
const EXTENSIBLE_NAME_MAPS: &[&str] = &["paths", "responses"];

/// Keywords whose values are data (example values, defaults, enums), not schemas.
const DATA: &[&str] = &["example", "examples", "default", "enum"];

/// Every object of the document in which keys are keywords, with its pointer: all of them but
/// example values, defaults, enums and `x-` extensions, and but the name maps ([`NAME_MAPS`]),
/// whose members are walked without their names being read as keywords.
pub(super) fn keyword_objects(document: &Value) -> Vec<(String, &Map<String, Value>)> {
    let mut out = Vec::new();
    // Each value with whether it is a name map, and whether that map's `x-` keys are extensions.
    let mut pending: Vec<(String, &Value, Option<bool>)> = vec![(String::new(), document, None)];
    while let Some((pointer, value, name_map)) = pending.pop() {
        match (value, name_map) {
            (Value::Object(map), None) => {
                out.push((pointer.clone(), map));
                for (key, item) in map {
                    if DATA.contains(&key.as_str()) || key.starts_with("x-") {
                        continue;
                    }
                    let names = (NAME_MAPS.contains(&key.as_str()) && item.is_object())
                        .then(|| EXTENSIBLE_NAME_MAPS.contains(&key.as_str()));
                    pending.push((
                        format!("{pointer}/{}", json_pointer::escape(key)),
                        item,
                        names,
                    ));
                }
            }
            (Value::Object(map), Some(extensible)) => {
                for (name, item) in map {
                    if !(extensible && name.starts_with("x-")) {
                        pending.push((
                            format!("{pointer}/{}", json_pointer::escape(name)),
                            item,
                            None,
                        ));
                    }
                }
            }
            (Value::Array(items), _) => {
                for (index, item) in items.iter().enumerate() {
                    pending.push((format!("{pointer}/{index}"), item, None));
                }
            }
            _ => {}
        }
    }
    out
}

/// The schemas nested inside the component at `component` (through properties, items,
/// `additionalProperties`, `not` and composition, not through references), with their
/// pointers; the component itself is left to
/// [`composition_cycle_findings`](super::composition_cycle_findings).
pub(super) fn inner_schemas<'a>(document: &'a Value, component: &str) -> Vec<(String, &'a Value)> {
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
pub(super) fn component_schemas(document: &Value) -> Vec<String> {
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
pub(super) fn all_of_members(schema: &Value) -> Vec<&Value> {
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

/// Whether the schema `target` refers to (through any aliases) has an `allOf` of its own.
pub(super) fn is_merge(document: &Value, target: &str) -> bool {
    let mut current = target.to_owned();
    // An alias cycle is `ref_findings`' to report; the bound keeps this total.
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
pub(super) fn local_refs(members: &[&Value]) -> Vec<String> {
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
pub(super) fn merged_closure(document: &Value, start: Vec<String>) -> Vec<String> {
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
pub(super) fn composed(document: &Value, target: &str) -> Vec<String> {
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
