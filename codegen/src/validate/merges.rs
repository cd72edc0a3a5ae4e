//! Recursion through a place where an `allOf` merges several schemas.
//!
//! typify merges the members of an `allOf` place by place: when two members both have `items`
//! (or `additionalProperties`, `not`, or the same property), it merges those schemas too, and a
//! `$ref` among them is resolved and merged in. If that reference leads back to a component
//! that contains the `allOf`, the merge starts over without end and the stack overflows (found
//! by fuzzing: `A: {allOf: [{type: array, items: {$ref: A}}, {type: array, items: {}}]}`).
//! A place that only one member has is taken over as it is, so the usual recursive envelope
//! (`A: {allOf: [B, {properties: {children: {items: {$ref: A}}}}]}`) stays allowed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::graph::{all_of_members, component_schemas, inner_schemas};
use crate::Error;
use crate::problems::{Finding, Fix, Kind, Target};

/// How deep merges of merged places are followed (each level is a place inside a place).
const MAX_DEPTH: usize = 16;

/// Refuses every `allOf` (a component's own or one inside it) whose members share a place
/// (`items`, `additionalProperties`, `not`, a property) where one of the schemas merged refers,
/// through any chain of references, back to the component holding the `allOf`.
pub fn merged_recursion_findings(file: &str, document: &Value) -> Vec<Finding> {
    let reaches = Reach::new(document);
    let mut findings = Vec::new();
    for component in component_schemas(document) {
        let Some(own) = document.pointer(component.trim_start_matches('#')) else {
            continue;
        };
        let mut schemas = vec![(component.clone(), own)];
        schemas.extend(inner_schemas(document, &component));
        for (pointer, schema) in schemas {
            if schema.get("allOf").is_none() {
                continue;
            }
            let members = resolved_members(document, schema);
            if let Some(place) = recursive_place(&members, &component, &reaches, "", 0) {
                let pointer = pointer.trim_start_matches('#').to_owned();
                let target = Target::of_pointer(document, &pointer);
                findings.push(Finding::new(
                    Error::MergedRecursion {
                        file: file.to_owned(),
                        pointer,
                        place: place.clone(),
                        component: component.clone(),
                    },
                    Kind::SelfMerge,
                    Fix::Advice(format!(
                        "keep `{place}` in one member of the allOf: an overlay action \
                         `remove: true` on it in the other members of `{}`",
                        target.key("allOf")
                    )),
                ));
            }
        }
    }
    findings
}

/// The members typify merges for `schema`'s `allOf`: nested `allOf`s flattened, references
/// resolved (through aliases, and into the members of a referenced `allOf`).
fn resolved_members<'a>(document: &'a Value, schema: &'a Value) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut pending: Vec<&Value> = all_of_members(schema);
    while let Some(member) = pending.pop() {
        if let Some(Value::String(target)) = member.get("$ref") {
            if !seen.insert(target.clone()) {
                continue;
            }
            if let Some(resolved) = document.pointer(target.trim_start_matches('#')) {
                if resolved.get("allOf").is_some() {
                    pending.extend(all_of_members(resolved));
                } else {
                    pending.push(resolved);
                }
            }
        } else {
            out.push(member);
        }
    }
    out
}

/// The first place (as a path such as `items` or `properties/p/items`) where two or more of
/// `members` meet and a schema there reaches `component`.
fn recursive_place(
    members: &[&Value],
    component: &str,
    reaches: &Reach,
    prefix: &str,
    depth: usize,
) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    for (place, merged) in shared_places(members) {
        let path = if prefix.is_empty() {
            place
        } else {
            format!("{prefix}/{place}")
        };
        if merged.iter().any(|schema| reaches.to(schema, component)) {
            return Some(path);
        }
        // The merged schemas are merged in turn, place by place.
        let inner: Vec<&Value> = merged
            .iter()
            .flat_map(|schema| {
                if schema.get("allOf").is_some() {
                    all_of_members(schema)
                } else {
                    vec![*schema]
                }
            })
            .collect();
        if let Some(found) = recursive_place(&inner, component, reaches, &path, depth + 1) {
            return Some(found);
        }
    }
    None
}

/// The places that two or more `members` have, with the schemas there.
fn shared_places<'a>(members: &[&'a Value]) -> Vec<(String, Vec<&'a Value>)> {
    let mut places: BTreeMap<String, Vec<&'a Value>> = BTreeMap::new();
    for member in members {
        let Some(map) = member.as_object() else {
            continue;
        };
        for keyword in ["items", "additionalProperties", "not"] {
            if let Some(inner) = map.get(keyword).filter(|inner| inner.is_object()) {
                places.entry(keyword.to_owned()).or_default().push(inner);
            }
        }
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, property) in properties {
                let place = format!("properties/{}", crate::json_pointer::escape(name));
                places.entry(place).or_default().push(property);
            }
        }
    }
    places
        .into_iter()
        .filter(|(_, schemas)| schemas.len() > 1)
        .collect()
}

/// Which component schemas each component refers to, anywhere in it.
struct Reach {
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Reach {
    fn new(document: &Value) -> Self {
        let edges = component_schemas(document)
            .into_iter()
            .map(|component| {
                let refs = document
                    .pointer(component.trim_start_matches('#'))
                    .map(refs_in)
                    .unwrap_or_default();
                (component, refs)
            })
            .collect();
        Self { edges }
    }

    /// Whether `schema` refers to `component`, directly or through other components.
    fn to(&self, schema: &Value, component: &str) -> bool {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut pending: Vec<String> = refs_in(schema).into_iter().collect();
        while let Some(next) = pending.pop() {
            if next == component {
                return true;
            }
            if seen.insert(next.clone())
                && let Some(targets) = self.edges.get(&next)
            {
                pending.extend(targets.iter().cloned());
            }
        }
        false
    }
}

/// Every local `$ref` inside `value`.
fn refs_in(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut pending = vec![value];
    while let Some(current) = pending.pop() {
        match current {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref")
                    && target.starts_with('#')
                {
                    out.insert(target.clone());
                }
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    out
}
