//! Defaults of their schema's type: typify refuses any other default with an unlocated "value
//! does not conform to the given schema", so the check names the pointer instead.

use serde_json::Value;

use super::graph::keyword_objects;
use crate::Error;
use crate::problems::{Finding, Fix, Kind, Target};

/// Schemas whose `default` is not of their `type` (a string default of an array, ...): typify
/// refuses them with an unlocated "value does not conform to the given schema". Only schemas
/// that name a single `type` are checked; `null` is accepted where the schema is nullable.
/// Example values, enums and `x-` extensions are not schemas and are not searched; a schema or
/// property *named* `default`, `enum` or `x-...` is.
pub fn default_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (pointer, map) in keyword_objects(document) {
        let (Some(Value::String(kind)), Some(default)) = (map.get("type"), map.get("default"))
        else {
            continue;
        };
        let nullable = map.get("nullable") == Some(&Value::Bool(true));
        if fits_type(kind, default, nullable) {
            continue;
        }
        let at = format!("{pointer}/default");
        let target = Target::of_pointer(document, &at);
        findings.push(Finding::new(
            Error::InvalidDocument {
                file: file.to_owned(),
                pointer: at,
                message: format!(
                    "default {default} is not of the schema's type `{kind}`; the generator \
                     refuses a default its schema does not accept"
                ),
            },
            Kind::DefaultMismatch,
            Fix::Remove {
                targets: vec![target.into()],
                keeps: None,
            },
        ));
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
