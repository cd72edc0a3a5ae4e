//! The vendored OCSF 1.8.0 schema compiled the way the OCSF server compiles it, so that the validator checks events
//! against the schema's own definitions: a class or object file's `$include`d files are merged under its own
//! attributes (a profile's attributes marked with `profile: NAME`, which an including file may clear with
//! `profile: null`), `extends` merges the parent first, and every attribute is merged over its `dictionary.json`
//! entry (type, `is_array`, enum, sibling). The class also gets the enums the server derives: `category_uid` and
//! `class_uid` of the class alone, `type_uid` as `class_uid * 100 + activity_id` with `Class: Activity` captions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::standards_dir;

/// The vendored OCSF release.
pub(crate) const DIR: &str = "ocsf-1.8.0";
/// The class of the exporter's events.
pub(crate) const CLASS: &str = "detection_finding";

/// A compiled class or object.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) name: String,
    pub(crate) caption: String,
    /// The class's uid within its category (classes only).
    pub(crate) uid: Option<i64>,
    /// The class's category (classes only).
    pub(crate) category: Option<String>,
    pub(crate) attributes: Map<String, Value>,
    pub(crate) constraints: Map<String, Value>,
    /// The profiles the item names (through `extends` too).
    pub(crate) profiles: BTreeSet<String>,
}

/// The schema as the validator needs it.
pub(crate) struct Schema {
    /// `version.json`'s version.
    pub(crate) version: String,
    /// The data types (`dictionary.json`'s `types`).
    pub(crate) types: Map<String, Value>,
    /// Detection Finding, compiled.
    pub(crate) class: Item,
    /// The class's category uid and caption (`categories.json`).
    pub(crate) category: (i64, String),
    /// The vendored objects, compiled, by name.
    pub(crate) objects: BTreeMap<String, Item>,
    /// Every profile the schema defines.
    pub(crate) profiles: BTreeSet<String>,
    /// The data types' regular expressions, compiled.
    pub(crate) regexes: BTreeMap<String, regress::Regex>,
}

/// The vendored OCSF, compiled once per test binary.
pub(crate) fn schema() -> &'static Schema {
    static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::load(&standards_dir().join(DIR)));
    &SCHEMA
}

fn read(root: &Path, file: &str) -> Value {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `right` merged over `left`, objects key by key, anything else (null included) replaced: the server's deep merge.
pub(crate) fn deep_merge(
    mut left: Map<String, Value>,
    right: Map<String, Value>,
) -> Map<String, Value> {
    for (key, value) in right {
        let merged = match (left.remove(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => Value::Object(deep_merge(old, new)),
            (_, new) => new,
        };
        left.insert(key, merged);
    }
    left
}

fn object(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A schema file with its `$include`d attributes merged under its own.
fn with_includes(root: &Path, file: &str) -> Value {
    let mut data = read(root, file);
    let mut attributes = object(data.get("attributes"));
    let includes = match attributes.remove("$include") {
        Some(Value::String(one)) => vec![one],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|one| one.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    for include in includes {
        attributes = deep_merge(included_attributes(root, &include), attributes);
    }
    data["attributes"] = Value::Object(attributes);
    data
}

/// An included file's attributes: a profile's marked with its name, each over the file's `annotations`.
fn included_attributes(root: &Path, file: &str) -> Map<String, Value> {
    let data = with_includes(root, file);
    let profile = (data["meta"] == "profile").then(|| data["name"].clone());
    let annotations = object(data.get("annotations"));
    object(data.get("attributes"))
        .into_iter()
        .map(|(name, attribute)| {
            let mut attribute = object(Some(&attribute));
            if let Some(profile) = &profile {
                attribute.insert("profile".to_owned(), profile.clone());
            }
            (
                name,
                Value::Object(deep_merge(annotations.clone(), attribute)),
            )
        })
        .collect()
}

/// The schema files under `dir` by their `name`, as paths relative to the root.
fn index(root: &Path, dir: &str) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, found: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(root.join(dir)).expect("a vendored folder") {
            let path: PathBuf = dir.join(entry.expect("an entry").file_name());
            if root.join(&path).is_dir() {
                walk(root, &path, found);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                let file = path.to_str().expect("a UTF-8 path").to_owned();
                let name = read(root, &file)["name"]
                    .as_str()
                    .expect("a named schema file")
                    .to_owned();
                found.insert(name, file);
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(root, Path::new(dir), &mut found);
    found
}

/// `name` compiled from `files`: its includes, then its parents through `extends`.
fn resolve(root: &Path, files: &BTreeMap<String, String>, name: &str) -> Item {
    let file = files
        .get(name)
        .unwrap_or_else(|| panic!("{name} is not vendored"));
    let data = with_includes(root, file);
    let own = object(data.get("attributes"));
    let profiles = data["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let mut item = Item {
        name: name.to_owned(),
        caption: data["caption"].as_str().unwrap_or(name).to_owned(),
        uid: data["uid"].as_i64(),
        category: data["category"].as_str().map(str::to_owned),
        attributes: own.clone(),
        constraints: object(data.get("constraints")),
        profiles: profiles.map(str::to_owned).collect(),
    };
    if let Some(parent) = data["extends"].as_str() {
        let parent = resolve(root, files, parent);
        item.attributes = deep_merge(parent.attributes, own);
        item.profiles.extend(parent.profiles);
        item.uid = item.uid.or(parent.uid);
        item.category = item.category.or(parent.category);
        if item.constraints.is_empty() {
            item.constraints = parent.constraints;
        }
    }
    item
}

/// Every attribute of `item` merged over its dictionary entry.
fn over_dictionary(mut item: Item, dictionary: &Map<String, Value>) -> Item {
    item.attributes = std::mem::take(&mut item.attributes)
        .into_iter()
        .map(|(name, attribute)| {
            let merged = match dictionary.get(&name) {
                Some(base) => deep_merge(object(Some(base)), object(Some(&attribute))),
                None => object(Some(&attribute)),
            };
            (name, Value::Object(merged))
        })
        .collect();
    item
}

impl Schema {
    fn load(root: &Path) -> Schema {
        let version = read(root, "version.json")["version"]
            .as_str()
            .expect("a version")
            .to_owned();
        let dictionary = read(root, "dictionary.json");
        let attributes = object(dictionary.get("attributes"));
        let types = object(dictionary["types"].get("attributes"));
        let categories = read(root, "categories.json");
        let events = index(root, "events");
        let object_files = index(root, "objects");
        let objects = object_files
            .keys()
            .map(|name| {
                (
                    name.clone(),
                    over_dictionary(resolve(root, &object_files, name), &attributes),
                )
            })
            .collect();
        let mut class = over_dictionary(resolve(root, &events, CLASS), &attributes);
        let category_name = class.category.clone().expect("a class has a category");
        let category = &categories["attributes"][&category_name];
        let category = (
            category["uid"].as_i64().expect("a category uid"),
            category["caption"]
                .as_str()
                .expect("a category caption")
                .to_owned(),
        );
        let class_uid = category.0 * 1000 + class.uid.expect("a class uid");
        let mut type_uids = Map::new();
        for (id, activity) in object(class.attributes["activity_id"].get("enum")) {
            let id: i64 = id.parse().expect("a numeric activity id");
            let caption = format!(
                "{}: {}",
                class.caption,
                activity["caption"].as_str().unwrap_or("?")
            );
            type_uids.insert(
                (class_uid * 100 + id).to_string(),
                json!({ "caption": caption }),
            );
        }
        let derived = [
            (
                "category_uid",
                json!({ category.0.to_string(): { "caption": category.1 } }),
            ),
            (
                "class_uid",
                json!({ class_uid.to_string(): { "caption": class.caption } }),
            ),
            ("type_uid", Value::Object(type_uids)),
        ];
        for (name, values) in derived {
            class.attributes[name]["enum"] = values;
        }
        let profiles = index(root, "profiles").into_keys().collect();
        let regexes = types
            .iter()
            .filter_map(|(name, kind)| {
                let regex = kind["regex"].as_str()?;
                let compiled =
                    regress::Regex::new(regex).unwrap_or_else(|e| panic!("{name}'s regex: {e}"));
                Some((name.clone(), compiled))
            })
            .collect();
        Schema {
            version,
            types,
            class,
            category,
            objects,
            profiles,
            regexes,
        }
    }

    /// The class uid events of the class carry (`category_uid * 1000 + uid`).
    pub(crate) fn class_uid(&self) -> i64 {
        self.category.0 * 1000 + self.class.uid.unwrap_or_default()
    }
}
