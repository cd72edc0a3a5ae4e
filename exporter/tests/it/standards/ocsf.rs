//! An OCSF validator over the vendored OCSF 1.8.0 schema (compiled in `ocsf_schema`), so that the `--format ocsf`
//! events are checked against Detection Finding as OCSF defines it rather than against what the mapping believes.
//!
//! It follows the OCSF server's own validator: the profiles an event applies (`metadata.profiles`, each one the
//! schema defines and the class names) decide which profile attributes exist; every attribute emitted, at the top
//! and inside each object, must be one of the class's or object's; its value must have the attribute's type (the
//! data types' base types and their regex, length and range constraints; objects recursively; `is_array` as an
//! array), with `object`-typed attributes such as `unmapped` free-form; every `required` attribute must be there,
//! each `at_least_one` / `just_one` constraint hold, every enum carry a defined id, and a sibling caption equal the
//! id's caption unless the id is 99 (Other). `category_uid`, `class_uid` (`category_uid * 1000 + uid`) and
//! `type_uid` (`class_uid * 100 + activity_id`) must be the class's, and `metadata.version` the schema's.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::Violation;
use super::ocsf_schema::{Item, Schema};

impl Schema {
    /// Every way `event` breaks OCSF's Detection Finding; empty when it conforms.
    pub(crate) fn validate(&self, event: &Value) -> Vec<Violation> {
        let mut found = Vec::new();
        let Some(top) = event.as_object() else {
            found.push(Violation::new(
                "",
                "event_not_object",
                "an OCSF event is a JSON object",
            ));
            return found;
        };
        let metadata = top.get("metadata");
        let applied: BTreeSet<String> = metadata
            .and_then(|metadata| metadata["profiles"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|profile| profile.as_str().map(str::to_owned))
            .collect();
        for profile in &applied {
            if !self.profiles.contains(profile) {
                let detail = format!("OCSF defines no profile {profile:?}");
                found.push(Violation::new(
                    "metadata.profiles",
                    "profile_unknown",
                    &detail,
                ));
            } else if !self.class.profiles.contains(profile) {
                let detail = format!("{} does not take the {profile} profile", self.class.caption);
                found.push(Violation::new(
                    "metadata.profiles",
                    "profile_not_in_class",
                    &detail,
                ));
            }
        }
        if let Some(version) = metadata.and_then(|metadata| metadata.get("version"))
            && version.as_str() != Some(self.version.as_str())
        {
            let detail = format!(
                "{version} is not the vendored OCSF version {}",
                self.version
            );
            found.push(Violation::new(
                "metadata.version",
                "version_incorrect",
                &detail,
            ));
        }
        let number = |name: &str| top.get(name).and_then(Value::as_i64);
        if let Some(category) = number("category_uid")
            && category != self.category.0
        {
            let detail = format!(
                "{category} is not {}'s category {}",
                self.class.caption, self.category.0
            );
            found.push(Violation::new(
                "category_uid",
                "category_uid_incorrect",
                &detail,
            ));
        }
        if let Some(class) = number("class_uid")
            && class != self.class_uid()
        {
            let detail = format!(
                "{class} is not category_uid * 1000 + uid = {}",
                self.class_uid()
            );
            found.push(Violation::new("class_uid", "class_uid_incorrect", &detail));
        }
        if let (Some(class), Some(activity), Some(kind)) = (
            number("class_uid"),
            number("activity_id"),
            number("type_uid"),
        ) && kind != class * 100 + activity
        {
            let detail = format!(
                "{kind} is not class_uid * 100 + activity_id = {}",
                class * 100 + activity
            );
            found.push(Violation::new("type_uid", "type_uid_incorrect", &detail));
        }
        self.check_item(&self.class, top, "", &applied, &mut found);
        found
    }

    /// The attributes of `item` that exist with the `applied` profiles (and the `_dt` ones of the datetime profile).
    fn applicable(&self, item: &Item, applied: &BTreeSet<String>) -> Map<String, Value> {
        let mut attributes: Map<String, Value> = item
            .attributes
            .iter()
            .filter(|(_, attribute)| match &attribute["profile"] {
                Value::String(profile) => applied.contains(profile),
                _ => true,
            })
            .map(|(name, attribute)| (name.clone(), attribute.clone()))
            .collect();
        if applied.contains("datetime") {
            let times: Vec<String> = attributes
                .iter()
                .filter(|(_, attribute)| attribute["type"] == "timestamp_t")
                .map(|(name, _)| format!("{name}_dt"))
                .collect();
            for name in times {
                attributes
                    .entry(name)
                    .or_insert_with(|| json!({ "type": "datetime_t", "requirement": "optional" }));
            }
        }
        attributes
    }

    fn check_item(
        &self,
        item: &Item,
        value: &Map<String, Value>,
        path: &str,
        applied: &BTreeSet<String>,
        found: &mut Vec<Violation>,
    ) {
        if item.attributes.is_empty() {
            // `object`: OCSF's free-form object (`unmapped`), any attributes at all.
            return;
        }
        let attributes = self.applicable(item, applied);
        let at = |name: &str| {
            if path.is_empty() {
                name.to_owned()
            } else {
                format!("{path}.{name}")
            }
        };
        for (name, child) in value {
            match attributes.get(name) {
                Some(attribute) => self.check_value(attribute, &at(name), child, applied, found),
                None => {
                    let detail = format!(
                        "{} {:?} has no attribute {name:?}",
                        kind_of(item),
                        item.name
                    );
                    found.push(Violation::new(&at(name), "attribute_unknown", &detail));
                }
            }
        }
        for (name, attribute) in &attributes {
            if attribute["requirement"] == "required" && value.get(name).is_none_or(Value::is_null)
            {
                let detail = format!("{} {:?} requires it", kind_of(item), item.name);
                found.push(Violation::new(
                    &at(name),
                    "attribute_required_missing",
                    &detail,
                ));
            }
        }
        for (constraint, names) in &item.constraints {
            let names: Vec<&str> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let present = names
                .iter()
                .filter(|name| value.contains_key(**name))
                .count();
            let holds = match constraint.as_str() {
                "at_least_one" => present >= 1,
                "just_one" => present == 1,
                _ => false,
            };
            if !holds {
                let detail = format!(
                    "{constraint} of {names:?} ({present} present) in {:?}",
                    item.name
                );
                found.push(Violation::new(path, "constraint_failed", &detail));
            }
        }
        for (name, attribute) in &attributes {
            if let (Some(values), Some(child)) = (attribute["enum"].as_object(), value.get(name)) {
                self.check_enum(name, attribute, values, child, value, &at(name), found);
            }
        }
    }

    /// An enum value (or each of an array's) is a defined id; its sibling, if there, has the id's caption (not for
    /// 99, Other, whose sibling is the source's own value).
    #[allow(clippy::too_many_arguments)]
    fn check_enum(
        &self,
        name: &str,
        attribute: &Value,
        values: &Map<String, Value>,
        child: &Value,
        parent: &Map<String, Value>,
        path: &str,
        found: &mut Vec<Violation>,
    ) {
        let ids: Vec<&Value> = match child {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for id in ids {
            let key = match id {
                Value::Number(number) => number.to_string(),
                Value::String(text) => text.clone(),
                // A wrong type, already said.
                _ => continue,
            };
            let Some(defined) = values.get(&key) else {
                let ids: Vec<&String> = values.keys().collect();
                let detail = format!("{key} is not one of {name}'s ids {ids:?}");
                found.push(Violation::new(
                    path,
                    "attribute_enum_value_unknown",
                    &detail,
                ));
                continue;
            };
            let other = key == "99"
                || (name == "type_uid" && id.as_i64().is_some_and(|uid| uid % 100 == 99));
            let sibling = attribute["sibling"].as_str();
            if let Some((sibling, caption)) =
                sibling.and_then(|sibling| Some((sibling, parent.get(sibling)?)))
                && !other
                && !child.is_array()
                && *caption != defined["caption"]
            {
                let sibling_path = match path.rsplit_once('.') {
                    Some((parent, _)) => format!("{parent}.{sibling}"),
                    None => sibling.to_owned(),
                };
                let detail = format!(
                    "{caption} is not the caption {} of {name} {key}",
                    defined["caption"]
                );
                found.push(Violation::new(
                    &sibling_path,
                    "attribute_enum_sibling_incorrect",
                    &detail,
                ));
            }
        }
    }

    fn check_value(
        &self,
        attribute: &Value,
        path: &str,
        value: &Value,
        applied: &BTreeSet<String>,
        found: &mut Vec<Violation>,
    ) {
        let Some(kind) = attribute["type"].as_str() else {
            found.push(Violation::new(
                path,
                "attribute_type_unknown",
                "the dictionary gives it no type",
            ));
            return;
        };
        match (attribute["is_array"] == true, value) {
            (_, Value::Null) => found.push(Violation::new(
                path,
                "attribute_null",
                "a null where OCSF wants a value",
            )),
            (true, Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let path = format!("{path}[{index}]");
                    if item.is_null() {
                        found.push(Violation::new(
                            &path,
                            "attribute_null",
                            "a null where OCSF wants a value",
                        ));
                    } else {
                        self.check_one(kind, &path, item, applied, found);
                    }
                }
            }
            (true, _) => {
                let detail = format!("{value} is not an array of {kind}");
                found.push(Violation::new(path, "attribute_wrong_type", &detail));
            }
            (false, Value::Array(_)) => {
                let detail = format!("{value} is an array; the attribute is one {kind}");
                found.push(Violation::new(path, "attribute_wrong_type", &detail));
            }
            (false, _) => self.check_one(kind, path, value, applied, found),
        }
    }

    fn check_one(
        &self,
        kind: &str,
        path: &str,
        value: &Value,
        applied: &BTreeSet<String>,
        found: &mut Vec<Violation>,
    ) {
        if self.types.contains_key(kind) {
            if let Err(detail) = self.check_type(kind, value) {
                found.push(Violation::new(path, "attribute_wrong_type", &detail));
            }
        } else if let Some(object) = self.objects.get(kind) {
            match value.as_object() {
                Some(fields) => self.check_item(object, fields, path, applied, found),
                None => {
                    let detail = format!("{value} is not an object {kind}");
                    found.push(Violation::new(path, "attribute_wrong_type", &detail));
                }
            }
        } else {
            let detail = format!("the object {kind} is not vendored under tests/standards");
            found.push(Violation::new(path, "object_not_vendored", &detail));
        }
    }

    /// `value` against data type `kind`: its base type, and each constraint along the way (`regex`, `max_len`,
    /// `range`, `values`).
    fn check_type(&self, kind: &str, value: &Value) -> Result<(), String> {
        let mut chain = vec![kind];
        while let Some(base) = self.types[*chain.last().expect("a type")]["type"].as_str() {
            chain.push(base);
        }
        let base = *chain.last().expect("a base type");
        let ok = match base {
            "string_t" => value.is_string(),
            "integer_t" => value
                .as_i64()
                .and_then(|number| i32::try_from(number).ok())
                .is_some(),
            "long_t" => value.is_i64(),
            "float_t" => value.is_number(),
            "boolean_t" => value.is_boolean(),
            "json_t" => true,
            other => {
                return Err(format!(
                    "{kind} rests on {other}, which these checks do not cover"
                ));
            }
        };
        if !ok {
            return Err(format!("{value} is not a {kind} ({base})"));
        }
        for name in chain {
            let spec = &self.types[name];
            if let (Some(regex), Some(text)) = (self.regexes.get(name), value.as_str())
                && regex.find(text).is_none()
            {
                return Err(format!("{value} does not match {name}'s regex"));
            }
            if let (Some(max), Some(text)) = (spec["max_len"].as_u64(), value.as_str())
                && text.chars().count() as u64 > max
            {
                return Err(format!("{value} is longer than {name}'s {max} characters"));
            }
            if let (Some([min, max]), Some(number)) =
                (spec["range"].as_array().map(Vec::as_slice), value.as_f64())
                && !(min.as_f64().unwrap_or(f64::MIN)..=max.as_f64().unwrap_or(f64::MAX))
                    .contains(&number)
            {
                return Err(format!("{value} is outside {name}'s range [{min}, {max}]"));
            }
            if let Some(values) = spec["values"].as_array()
                && !values.contains(value)
            {
                return Err(format!("{value} is not one of {name}'s values"));
            }
        }
        Ok(())
    }
}

fn kind_of(item: &Item) -> &'static str {
    if item.uid.is_some() {
        "class"
    } else {
        "object"
    }
}

/// Each check catches an event that breaks it.
#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::standards::Violation;
    use crate::standards::ocsf_schema::schema;
    use crate::standards::sources::{ACCOUNT, entries, full_insight, source};
    use insight_audit_log::siem::{self, Enrichment};

    /// A conforming event (checked), changed by `breaking`, and what the validator then finds.
    fn broken(breaking: impl FnOnce(&mut Value)) -> Vec<Violation> {
        let insight = full_insight();
        let (_, entry) = &entries()[0];
        let mut event =
            siem::ocsf(&source(ACCOUNT, entry, Enrichment::Found(&insight))).expect("an event");
        assert_eq!(
            schema().validate(&event),
            [],
            "the event before breaking it conforms"
        );
        breaking(&mut event);
        schema().validate(&event)
    }

    fn remove(value: &mut Value, name: &str) {
        value.as_object_mut().expect("an object").remove(name);
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

    /// A string or a float for a timestamp, a string for an integer, an integer over 32 bits, a scalar for an array
    /// or an object, a number for a user name, and a null: each is a wrong type.
    #[test]
    fn standards_ocsf_rejects_a_value_of_the_wrong_type() {
        let wrong = "attribute_wrong_type";
        assert_finds(
            &broken(|event| event["time"] = json!("2025-06-01T08:15:30Z")),
            "time",
            wrong,
        );
        assert_finds(
            &broken(|event| event["time"] = json!(1_748_765_730.5)),
            "time",
            wrong,
        );
        assert_finds(
            &broken(|event| event["severity_id"] = json!("5")),
            "severity_id",
            wrong,
        );
        assert_finds(
            &broken(|event| event["class_uid"] = json!(3_000_000_000_u64)),
            "class_uid",
            wrong,
        );
        assert_finds(
            &broken(|event| event["finding_info"]["types"] = json!("x")),
            "finding_info.types",
            wrong,
        );
        assert_finds(
            &broken(|event| event["resources"] = json!({ "name": "x" })),
            "resources",
            wrong,
        );
        let found = broken(|event| event["actor"]["user"]["name"] = json!(42));
        assert_finds(&found, "actor.user.name", wrong);
        assert_finds(
            &broken(|event| event["cloud"] = json!("Cloudflare")),
            "cloud",
            wrong,
        );
        assert_finds(
            &broken(|event| event["comment"] = Value::Null),
            "comment",
            "attribute_null",
        );
    }

    /// An attribute the class or an object lacks, or a profile's attribute without its profile applied, is unknown;
    /// `unmapped` takes anything.
    #[test]
    fn standards_ocsf_rejects_an_attribute_the_class_or_object_lacks() {
        let unknown = "attribute_unknown";
        assert_finds(
            &broken(|event| event["insight"] = json!({})),
            "insight",
            unknown,
        );
        let found = broken(|event| event["finding_info"]["severity"] = json!("Critical"));
        assert_finds(&found, "finding_info.severity", unknown);
        assert_finds(
            &broken(|event| event["metadata"]["zone"] = json!("x")),
            "metadata.zone",
            unknown,
        );
        // A profile's attributes exist only when the event applies the profile.
        assert_finds(
            &broken(|event| event["metadata"]["profiles"] = json!(["cloud"])),
            "actor",
            unknown,
        );
        assert_finds(
            &broken(|event| event["metadata"]["profiles"] = json!(["host"])),
            "cloud",
            unknown,
        );
        assert_finds(
            &broken(|event| event["osint"] = json!([])),
            "osint",
            unknown,
        );
        // Free-form: anything goes under `unmapped`.
        assert_eq!(
            broken(|event| event["unmapped"]["x"] = json!({ "y": [null, 1, "z"] })),
            []
        );
    }

    /// A required attribute of the class, of an object or of an applied profile missing, and an object without any of
    /// its `at_least_one` attributes, are rejected.
    #[test]
    fn standards_ocsf_rejects_a_missing_required_attribute_and_a_broken_constraint() {
        let missing = "attribute_required_missing";
        assert_finds(
            &broken(|event| remove(event, "finding_info")),
            "finding_info",
            missing,
        );
        assert_finds(&broken(|event| remove(event, "time")), "time", missing);
        assert_finds(
            &broken(|event| remove(&mut event["finding_info"], "uid")),
            "finding_info.uid",
            missing,
        );
        assert_finds(
            &broken(|event| remove(&mut event["cloud"], "provider")),
            "cloud.provider",
            missing,
        );
        assert_finds(
            &broken(|event| remove(&mut event["metadata"], "product")),
            "metadata.product",
            missing,
        );
        // The cloud profile requires `cloud`; osint, once applied, requires `osint`.
        assert_finds(&broken(|event| remove(event, "cloud")), "cloud", missing);
        let found =
            broken(|event| event["metadata"]["profiles"] = json!(["cloud", "host", "osint"]));
        assert_finds(&found, "osint", missing);
        // actor needs one of process, user, ...; user one of account, name, uid.
        assert_finds(
            &broken(|event| event["actor"] = json!({})),
            "actor",
            "constraint_failed",
        );
        let found =
            broken(|event| event["actor"]["user"] = json!({ "email_addr": "a@example.com" }));
        assert_finds(&found, "actor.user", "constraint_failed");
        let found = broken(|event| event["resources"][0] = json!({ "region": "eu" }));
        assert_finds(&found, "resources[0]", "constraint_failed");
    }

    /// A type_uid other than class_uid * 100 + activity_id, another class or category, another OCSF version, and a
    /// profile OCSF or the class does not define are rejected.
    #[test]
    fn standards_ocsf_rejects_wrong_uids_and_versions() {
        let found = broken(|event| event["type_uid"] = json!(200_409));
        assert_finds(&found, "type_uid", "type_uid_incorrect");
        assert_finds(&found, "type_uid", "attribute_enum_value_unknown");
        assert_finds(
            &broken(|event| event["class_uid"] = json!(2005)),
            "class_uid",
            "class_uid_incorrect",
        );
        assert_finds(
            &broken(|event| event["category_uid"] = json!(1)),
            "category_uid",
            "category_uid_incorrect",
        );
        let found = broken(|event| event["metadata"]["version"] = json!("1.7.0"));
        assert_finds(&found, "metadata.version", "version_incorrect");
        let found =
            broken(|event| event["metadata"]["profiles"] = json!(["cloud", "host", "made_up"]));
        assert_finds(&found, "metadata.profiles", "profile_unknown");
        // A profile OCSF defines but Detection Finding does not name.
        let found =
            broken(|event| event["metadata"]["profiles"] = json!(["cloud", "host", "container"]));
        assert_finds(&found, "metadata.profiles", "profile_not_in_class");
    }

    /// An id the enum does not define, and a sibling whose caption is not the id's (activity, status, severity,
    /// category, class, type), are rejected; 99 (Other) keeps the source's value.
    #[test]
    fn standards_ocsf_rejects_an_undefined_enum_id_and_a_caption_that_does_not_match() {
        let unknown = "attribute_enum_value_unknown";
        assert_finds(
            &broken(|event| event["status_id"] = json!(7)),
            "status_id",
            unknown,
        );
        assert_finds(
            &broken(|event| event["severity_id"] = json!(42)),
            "severity_id",
            unknown,
        );
        assert_finds(
            &broken(|event| event["activity_id"] = json!(4)),
            "activity_id",
            unknown,
        );
        let incorrect = "attribute_enum_sibling_incorrect";
        assert_finds(
            &broken(|event| event["activity_name"] = json!("Update")),
            "activity_name",
            incorrect,
        );
        assert_finds(
            &broken(|event| event["status"] = json!("Closed")),
            "status",
            incorrect,
        );
        assert_finds(
            &broken(|event| event["severity"] = json!("Moderate")),
            "severity",
            incorrect,
        );
        assert_finds(
            &broken(|event| event["category_name"] = json!("Finding")),
            "category_name",
            incorrect,
        );
        assert_finds(
            &broken(|event| event["class_name"] = json!("Finding")),
            "class_name",
            incorrect,
        );
        let found = broken(|event| event["type_name"] = json!("Detection Finding: Update"));
        assert_finds(&found, "type_name", incorrect);
        // 99 (Other) carries the source's own value.
        assert_eq!(broken(|event| event["status_id"] = json!(99)), []);
    }

    /// With the datetime profile, `time_dt` exists and must be an RFC 3339 `datetime_t`; without it, it is unknown.
    #[test]
    fn standards_ocsf_applies_the_datetime_profile_with_its_types() {
        let dated = |value: Value| {
            broken(move |event| {
                event["metadata"]["profiles"] = json!(["cloud", "host", "datetime"]);
                event["time_dt"] = value;
            })
        };
        assert_eq!(dated(json!("2025-06-01T08:15:30.123Z")), []);
        assert_finds(&dated(json!("June 1st")), "time_dt", "attribute_wrong_type");
        assert_finds(
            &broken(|event| event["time_dt"] = json!("2025-06-01T08:15:30Z")),
            "time_dt",
            "attribute_unknown",
        );
    }
}
