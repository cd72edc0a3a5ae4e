//! An Elastic Common Schema validator built from ECS's own field list (the vendored `ecs_flat.yml`), so that the
//! `--format ecs` documents are checked against ECS 9.4.0 itself rather than against what the mapping believes.
//!
//! A document is flattened into dotted leaf paths (an array of scalars is one field with many values, objects in
//! an array flatten under the array's path, as Elasticsearch reads them). Each path must be under the custom
//! namespace or be an ECS field; an ECS field's values must have its type, be an array where ECS normalises the
//! field to one, match its `pattern` and be among its `allowed_values`; `event.type` must be expected for the
//! `event.category` given (the categories' `expected_event_types`); the fields ECS marks `required` must be there
//! and `ecs.version` must be the vendored version.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use super::{Violation, standards_dir};

/// The vendored ECS release: its folder, whose name carries the version (`ecs_flat.yml` does not).
pub(crate) const DIR: &str = "ecs-9.4.0";
/// The documents' one custom namespace: fields ECS does not define go under it, and only there.
pub(crate) const CUSTOM: &str = "cloudflare.security_center.";

#[derive(Deserialize)]
struct RawField {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    normalize: Vec<String>,
    #[serde(default)]
    allowed_values: Option<Vec<Allowed>>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    object_type: Option<String>,
    #[serde(default)]
    required: bool,
}

/// One of a field's allowed values.
#[derive(Deserialize)]
struct Allowed {
    name: String,
    /// For an `event.category` value: the `event.type` values expected with it.
    #[serde(default)]
    expected_event_types: Option<Vec<String>>,
}

/// One ECS field, as the checks need it.
struct Field {
    kind: String,
    /// `normalize: [array]`: the values are always an array.
    array: bool,
    allowed: Option<Vec<Allowed>>,
    pattern: Option<(String, regress::Regex)>,
    object_type: Option<String>,
    required: bool,
}

/// ECS, loaded from the vendored field list.
pub(crate) struct Ecs {
    /// The vendored version (`9.4.0`).
    pub(crate) version: String,
    fields: BTreeMap<String, Field>,
}

/// The vendored ECS, read once per test binary.
pub(crate) fn schema() -> &'static Ecs {
    static SCHEMA: LazyLock<Ecs> = LazyLock::new(Ecs::load);
    &SCHEMA
}

/// One flattened leaf: a dotted path and its values.
struct Leaf<'a> {
    path: String,
    values: Vec<&'a Value>,
    /// The values came as a JSON array.
    array: bool,
}

impl Ecs {
    fn load() -> Ecs {
        let path = standards_dir().join(DIR).join("ecs_flat.yml");
        let text = std::fs::read_to_string(&path).expect("the vendored ecs_flat.yml");
        let raw: BTreeMap<String, RawField> =
            serde_yaml_ng::from_str(&text).expect("ecs_flat.yml as ECS writes it");
        let fields = raw
            .into_iter()
            .map(|(name, field)| {
                let pattern = field.pattern.map(|pattern| {
                    let regex =
                        regress::Regex::new(&pattern).expect("an ECS pattern regress compiles");
                    (pattern, regex)
                });
                let field = Field {
                    kind: field.kind,
                    array: field.normalize.iter().any(|rule| rule == "array"),
                    allowed: field.allowed_values,
                    pattern,
                    object_type: field.object_type,
                    required: field.required,
                };
                (name, field)
            })
            .collect();
        let version = DIR
            .strip_prefix("ecs-")
            .expect("the folder names the version")
            .to_owned();
        Ecs { version, fields }
    }

    /// Whether ECS defines `name` as a field (or as the parent of fields).
    pub(crate) fn defines(&self, name: &str) -> bool {
        let parent = format!("{name}.");
        self.fields
            .keys()
            .any(|field| field == name || field.starts_with(&parent))
    }

    /// Every way `document` breaks ECS; empty when it conforms.
    pub(crate) fn validate(&self, document: &Value) -> Vec<Violation> {
        let mut found = Vec::new();
        if !document.is_object() {
            found.push(Violation::new(
                "",
                "document_not_object",
                "an ECS document is a JSON object",
            ));
            return found;
        }
        let mut leaves = Vec::new();
        self.flatten("", document, &mut leaves);
        for leaf in &leaves {
            self.check_leaf(leaf, &mut found);
        }
        for (name, field) in &self.fields {
            if field.required
                && !leaves
                    .iter()
                    .any(|leaf| leaf.path == *name && !leaf.values.is_empty())
            {
                found.push(Violation::new(
                    name,
                    "field_missing",
                    "ECS requires this field in every event",
                ));
            }
        }
        for leaf in leaves.iter().filter(|leaf| leaf.path == "ecs.version") {
            for value in &leaf.values {
                if value.as_str() != Some(self.version.as_str()) {
                    let detail =
                        format!("{value} is not the vendored ECS version {}", self.version);
                    found.push(Violation::new("ecs.version", "version_mismatch", &detail));
                }
            }
        }
        self.check_event_types(&leaves, &mut found);
        found
    }

    fn flatten<'a>(&self, prefix: &str, value: &'a Value, leaves: &mut Vec<Leaf<'a>>) {
        let leaf = |values, array| Leaf {
            path: prefix.to_owned(),
            values,
            array,
        };
        match value {
            Value::Object(map) => {
                let whole = !prefix.is_empty()
                    && (map.is_empty()
                        || self.fields.get(prefix).is_some_and(|field| {
                            matches!(field.kind.as_str(), "object" | "flattened")
                        }));
                if whole {
                    leaves.push(leaf(vec![value], false));
                    return;
                }
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    self.flatten(&path, child, leaves);
                }
            }
            Value::Array(items) => {
                let scalars: Vec<&Value> = items.iter().filter(|item| !item.is_object()).collect();
                if !scalars.is_empty() || items.is_empty() {
                    leaves.push(leaf(scalars, true));
                }
                for item in items.iter().filter(|item| item.is_object()) {
                    self.flatten(prefix, item, leaves);
                }
            }
            _ => leaves.push(leaf(vec![value], false)),
        }
    }

    fn check_leaf(&self, leaf: &Leaf<'_>, found: &mut Vec<Violation>) {
        if leaf.path.starts_with(CUSTOM) {
            return;
        }
        let Some(field) = self.fields.get(&leaf.path) else {
            let detail = format!("not an ECS field, and not under the custom namespace {CUSTOM}*");
            found.push(Violation::new(&leaf.path, "field_unknown", &detail));
            return;
        };
        if field.array && !leaf.array {
            let detail = "ECS normalises this field to an array";
            found.push(Violation::new(&leaf.path, "not_array", detail));
        }
        for value in &leaf.values {
            if value.is_null() {
                found.push(Violation::new(
                    &leaf.path,
                    "null_value",
                    "a null where ECS wants a value",
                ));
                continue;
            }
            if let Err(detail) = check_type(field, value) {
                found.push(Violation::new(&leaf.path, "wrong_type", &detail));
                continue;
            }
            let Some(text) = value.as_str() else { continue };
            if let Some((pattern, regex)) = &field.pattern
                && regex.find(text).is_none()
            {
                let detail = format!("{value} does not match ECS's pattern {pattern}");
                found.push(Violation::new(&leaf.path, "pattern_mismatch", &detail));
            }
            if let Some(allowed) = &field.allowed
                && !allowed.iter().any(|allowed| allowed.name == text)
            {
                let names: Vec<&str> = allowed
                    .iter()
                    .map(|allowed| allowed.name.as_str())
                    .collect();
                let detail = format!("{value} is not among ECS's allowed values {names:?}");
                found.push(Violation::new(&leaf.path, "value_not_allowed", &detail));
            }
        }
    }

    /// Each `event.type` value must be expected by one of the `event.category` values given.
    fn check_event_types(&self, leaves: &[Leaf<'_>], found: &mut Vec<Violation>) {
        let strings = |path: &str| -> Vec<&str> {
            leaves
                .iter()
                .filter(|leaf| leaf.path == path)
                .flat_map(|leaf| leaf.values.iter().filter_map(|value| value.as_str()))
                .collect()
        };
        let categories = strings("event.category");
        let Some(allowed) = self
            .fields
            .get("event.category")
            .and_then(|field| field.allowed.as_ref())
        else {
            return;
        };
        for kind in strings("event.type") {
            let expected = categories.iter().any(|category| {
                allowed.iter().any(|allowed| {
                    allowed.name == *category
                        && allowed
                            .expected_event_types
                            .as_ref()
                            .is_some_and(|types| types.iter().any(|expected| expected == kind))
                })
            });
            if !expected {
                let detail = format!(
                    "{kind:?} is not an expected event.type of event.category {categories:?}"
                );
                found.push(Violation::new(
                    "event.type",
                    "event_type_not_expected",
                    &detail,
                ));
            }
        }
    }
}

/// Whether `value` is of the field's ECS type.
fn check_type(field: &Field, value: &Value) -> Result<(), String> {
    let integer = |min: i64, max: i64| {
        value
            .as_i64()
            .is_some_and(|number| (min..=max).contains(&number))
    };
    let ok = match field.kind.as_str() {
        "keyword" | "constant_keyword" | "wildcard" | "text" | "match_only_text" => {
            value.is_string()
        }
        "ip" => value
            .as_str()
            .is_some_and(|text| text.parse::<IpAddr>().is_ok()),
        "date" => value
            .as_str()
            .is_some_and(|text| chrono::DateTime::parse_from_rfc3339(text).is_ok()),
        "long" => value.is_i64(),
        "integer" => integer(i32::MIN.into(), i32::MAX.into()),
        "short" => integer(i16::MIN.into(), i16::MAX.into()),
        "byte" => integer(i8::MIN.into(), i8::MAX.into()),
        "unsigned_long" => value.is_u64(),
        "float" | "double" | "half_float" | "scaled_float" => value.is_number(),
        "boolean" => value.is_boolean(),
        "flattened" => value.is_object(),
        "object" => {
            let mut leaves = Vec::new();
            scalars(value, &mut leaves);
            value.is_object()
                && match field.object_type.as_deref() {
                    Some("keyword") => leaves.iter().all(|leaf| leaf.is_string()),
                    Some("long") => leaves.iter().all(|leaf| leaf.is_i64()),
                    _ => true,
                }
        }
        other => {
            return Err(format!(
                "{value} is of ECS type {other}, which these checks do not cover"
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{value} is not of ECS type {}", field.kind))
    }
}

/// The scalar values inside `value`.
fn scalars<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => map.values().for_each(|child| scalars(child, out)),
        Value::Array(items) => items.iter().for_each(|child| scalars(child, out)),
        _ => out.push(value),
    }
}

/// Each check catches a document that breaks it.
#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::schema;
    use crate::standards::Violation;
    use crate::standards::sources::{ACCOUNT, entries, full_insight, source};
    use insight_audit_log::siem::{self, Enrichment};

    /// A conforming document (checked), changed by `breaking`, and what the validator then finds.
    fn broken(breaking: impl FnOnce(&mut Value)) -> Vec<Violation> {
        let insight = full_insight();
        let (_, entry) = &entries()[0];
        let mut document =
            siem::ecs(&source(ACCOUNT, entry, Enrichment::Found(&insight))).expect("a document");
        assert_eq!(
            schema().validate(&document),
            [],
            "the document before breaking it conforms"
        );
        breaking(&mut document);
        schema().validate(&document)
    }

    #[track_caller]
    fn assert_finds(found: &[Violation], path: &str, rule: &str) {
        assert!(
            found
                .iter()
                .any(|violation| violation.path == path && violation.rule == rule),
            "expected {rule} at {path}, found {found:#?}"
        );
    }

    /// A string or a float for a `long`, a number or prose for a `date`, a number among keywords, a null, and a scalar
    /// where ECS has an object: each is a wrong type.
    #[test]
    fn standards_ecs_rejects_a_value_of_the_wrong_type() {
        assert_finds(
            &broken(|doc| doc["event"]["severity"] = json!("high")),
            "event.severity",
            "wrong_type",
        );
        assert_finds(
            &broken(|doc| doc["event"]["severity"] = json!(4.5)),
            "event.severity",
            "wrong_type",
        );
        assert_finds(
            &broken(|doc| doc["@timestamp"] = json!(1_717_229_730_123_i64)),
            "@timestamp",
            "wrong_type",
        );
        assert_finds(
            &broken(|doc| doc["@timestamp"] = json!("yesterday")),
            "@timestamp",
            "wrong_type",
        );
        assert_finds(
            &broken(|doc| doc["user"]["name"] = json!(["alice", 7])),
            "user.name",
            "wrong_type",
        );
        assert_finds(
            &broken(|doc| doc["event"]["id"] = json!(null)),
            "event.id",
            "null_value",
        );
        assert_finds(
            &broken(|doc| doc["cloud"]["account"] = json!("x")),
            "cloud.account",
            "field_unknown",
        );
    }

    /// A field ECS does not define, outside `cloudflare.security_center.*` (also elsewhere under `cloudflare.*`), is
    /// unknown.
    #[test]
    fn standards_ecs_rejects_a_field_outside_ecs_and_the_namespace() {
        assert_finds(
            &broken(|doc| doc["event"]["status"] = json!("resolved")),
            "event.status",
            "field_unknown",
        );
        assert_finds(
            &broken(|doc| doc["insight"] = json!({ "id": "x" })),
            "insight.id",
            "field_unknown",
        );
        let found = broken(|doc| doc["cloudflare"]["zone_tag"] = json!("9f18"));
        assert_finds(&found, "cloudflare.zone_tag", "field_unknown");
        assert_finds(
            &broken(|doc| doc["event"]["extra"] = json!({})),
            "event.extra",
            "field_unknown",
        );
    }

    /// A category, kind or outcome ECS does not list, an event.type not expected with the category, a scalar where ECS
    /// normalises to an array, and a value against the field's pattern are each rejected.
    #[test]
    fn standards_ecs_rejects_values_ecs_does_not_allow() {
        let found = broken(|doc| doc["event"]["category"] = json!(["audit"]));
        assert_finds(&found, "event.category", "value_not_allowed");
        assert_finds(
            &broken(|doc| doc["event"]["kind"] = json!("finding")),
            "event.kind",
            "value_not_allowed",
        );
        let found = broken(|doc| doc["event"]["outcome"] = json!("resolved"));
        assert_finds(&found, "event.outcome", "value_not_allowed");
        // `start` is an allowed event.type, but not one expected with `configuration`.
        let found = broken(|doc| doc["event"]["type"] = json!(["start"]));
        assert_finds(&found, "event.type", "event_type_not_expected");
        let found = broken(|doc| doc["event"]["category"] = json!("configuration"));
        assert_finds(&found, "event.category", "not_array");
        assert_finds(
            &broken(|doc| doc["host"] = json!({ "mac": "aa:bb" })),
            "host.mac",
            "pattern_mismatch",
        );
    }

    /// A document without `@timestamp`, one saying another ECS version, and one that is not an object are rejected.
    #[test]
    fn standards_ecs_rejects_a_missing_required_field_and_another_version() {
        let found = broken(|doc| {
            doc.as_object_mut().expect("an object").remove("@timestamp");
        });
        assert_finds(&found, "@timestamp", "field_missing");
        let found = broken(|doc| doc["ecs"]["version"] = json!("8.11.0"));
        assert_finds(&found, "ecs.version", "version_mismatch");
        assert_finds(&schema().validate(&json!([1])), "", "document_not_object");
    }

    /// ECS defines nothing under `cloudflare`, and anything under `cloudflare.security_center.*` passes.
    #[test]
    fn standards_ecs_leaves_the_custom_namespace_to_the_exporter() {
        assert!(
            !schema().defines("cloudflare"),
            "ECS 9.4.0 defines no cloudflare.* field"
        );
        assert!(schema().defines("event.category") && schema().defines("cloud.account"));
        let found = broken(|doc| {
            doc["cloudflare"]["security_center"]["anything"] = json!([1, "two", null, {}])
        });
        assert_eq!(found, []);
    }
}
