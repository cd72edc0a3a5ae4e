//! `$ref`s: every one local and resolving, and no chain of pure references (aliases) in a
//! circle; one finding per broken target, at its first `$ref`, and one per cycle.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::Error;
use crate::json_pointer;
use crate::problems::{Finding, Fix, Kind, Target};

/// Every `$ref` must be local and resolve, and no chain of pure references may loop: one
/// finding per external or dangling target (at its first `$ref`), one per cycle of aliases.
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
