//! OpenAPI Overlay 1.0: the one place where the upstream-shaped spec is adjusted for generation.
//!
//! Each action selects nodes with an RFC 9535 JSONPath `target` and either merges `update` into
//! them or removes them. Unlike the Overlay specification, an action whose target matches nothing
//! is an error here: it means the upstream spec changed under the overlay, which a maintainer must
//! see rather than get a silently different client.

use serde::Deserialize;
use serde_json::Value;
use serde_json_path::JsonPath;

use crate::{Error, Source, document};

/// A parsed overlay document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// The overlay format version; `1.0.x` is supported.
    pub overlay: String,
    /// Title and version of the overlay.
    pub info: OverlayInfo,
    /// The document the overlay was written for (informational).
    #[serde(default)]
    pub extends: Option<String>,
    /// The actions, applied in order.
    pub actions: Vec<Action>,
    #[serde(skip)]
    file: String,
}

/// The overlay's `info` object.
#[derive(Debug, Deserialize)]
pub struct OverlayInfo {
    /// Human title.
    pub title: String,
    /// Version of the overlay itself.
    pub version: String,
}

/// One overlay action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// JSONPath selecting the nodes to change.
    pub target: String,
    /// Why the action exists.
    #[serde(default)]
    pub description: Option<String>,
    /// Merged into each selected node.
    #[serde(default)]
    pub update: Option<Value>,
    /// Removes each selected node.
    #[serde(default)]
    pub remove: bool,
}

impl Overlay {
    /// Parses an overlay (YAML or JSON) and checks its shape.
    pub fn parse(source: Source<'_>) -> Result<Self, Error> {
        let value = document::parse(source)?;
        let mut overlay: Overlay =
            serde_path_to_error::deserialize(value).map_err(|error| Error::Overlay {
                file: source.name.to_owned(),
                location: crate::json_pointer::of_path(error.path()),
                message: error.inner().to_string(),
            })?;
        overlay.file = source.name.to_owned();
        if !overlay.overlay.starts_with("1.0.") && overlay.overlay != "1.0" {
            return Err(overlay.error(
                "/overlay".to_owned(),
                format!(
                    "overlay version {} is not supported; expected 1.0.x",
                    overlay.overlay
                ),
            ));
        }
        for (index, action) in overlay.actions.iter().enumerate() {
            let problem = match (&action.update, action.remove) {
                (Some(_), true) => Some("has both `update` and `remove: true`"),
                (None, false) => Some("has neither `update` nor `remove: true`"),
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(overlay.error(overlay.locate(index), problem.to_owned()));
            }
        }
        Ok(overlay)
    }

    /// Applies every action, in order, to `document` (the spec named `spec_name`).
    pub fn apply(&self, spec_name: &str, document: &mut Value) -> Result<(), Error> {
        for (index, action) in self.actions.iter().enumerate() {
            let path = JsonPath::parse(&action.target).map_err(|error| {
                self.error(self.locate(index), format!("invalid JSONPath: {error}"))
            })?;
            let mut pointers: Vec<String> = path
                .query_located(document)
                .locations()
                .map(|location| location.to_json_pointer())
                .collect();
            if pointers.is_empty() {
                return Err(self.error(
                    self.locate(index),
                    format!(
                        "target matches nothing in {spec_name}; the spec changed under the \
                         overlay, so update or drop this action"
                    ),
                ));
            }
            if action.remove {
                // Remove later array elements first so earlier indices stay valid.
                pointers.sort_by_key(|pointer| {
                    std::cmp::Reverse(crate::json_pointer::sort_key(pointer))
                });
                pointers.dedup();
                for pointer in &pointers {
                    remove_at(document, pointer);
                }
            } else if let Some(update) = &action.update {
                // A query may select a node twice (`$['a','a']`); update each node once.
                let mut seen = std::collections::BTreeSet::new();
                pointers.retain(|pointer| seen.insert(pointer.clone()));
                for pointer in &pointers {
                    let Some(node) = document.pointer_mut(pointer) else {
                        return Err(self.error(self.locate(index), format!("{pointer} vanished")));
                    };
                    merge(node, update).map_err(|message| {
                        self.error(self.locate(index), format!("at {pointer}: {message}"))
                    })?;
                }
            }
        }
        Ok(())
    }

    fn locate(&self, index: usize) -> String {
        format!("/actions/{index} (target {})", self.actions[index].target)
    }

    fn error(&self, location: String, message: String) -> Error {
        Error::Overlay {
            file: self.file.clone(),
            location,
            message,
        }
    }
}

/// Overlay 1.0 merge into a selected node: an object takes the update's properties, merged
/// recursively; an array gets the update appended as one more entry.
fn merge(target: &mut Value, update: &Value) -> Result<(), String> {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => merge_properties(target, update, ""),
        (Value::Array(target), update) => {
            target.push(update.clone());
            Ok(())
        }
        (Value::Object(_), _) => Err("an object can only be updated with an object".to_owned()),
        _ => Err("only objects and arrays can be updated".to_owned()),
    }
}

/// Merges properties as the Overlay specification says: objects merge recursively, arrays are
/// concatenated, primitives replace primitives, and any other combination (an object replaced
/// by an array, a list of enum values by an object, ...) is an error naming the property, since
/// it is almost always a mistake in the overlay. To replace a node wholesale, remove it first.
fn merge_properties(
    target: &mut serde_json::Map<String, Value>,
    update: &serde_json::Map<String, Value>,
    at: &str,
) -> Result<(), String> {
    for (key, value) in update {
        let here = format!("{at}/{}", crate::json_pointer::escape(key));
        match (target.get_mut(key), value) {
            (None, _) => {
                target.insert(key.clone(), value.clone());
            }
            (Some(Value::Object(existing)), Value::Object(value)) => {
                merge_properties(existing, value, &here)?;
            }
            (Some(Value::Array(existing)), Value::Array(value)) => {
                existing.extend(value.iter().cloned());
            }
            (Some(existing @ (Value::Object(_) | Value::Array(_))), _)
            | (Some(existing), Value::Object(_) | Value::Array(_)) => {
                return Err(format!(
                    "property {here} is {} and the update gives {}; these do not merge (remove \
                     the property in an earlier action to replace it)",
                    kind(existing),
                    kind(value)
                ));
            }
            (Some(existing), _) => *existing = value.clone(),
        }
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn remove_at(document: &mut Value, pointer: &str) {
    let Some(split) = pointer.rfind('/') else {
        // The root itself: an empty document remains.
        *document = Value::Null;
        return;
    };
    let (parent, token) = (&pointer[..split], &pointer[split + 1..]);
    let token = crate::json_pointer::unescape(token);
    match document.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&token);
        }
        Some(Value::Array(items)) => {
            if let Ok(index) = token.parse::<usize>()
                && index < items.len()
            {
                items.remove(index);
            }
        }
        _ => {}
    }
}
