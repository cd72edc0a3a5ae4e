//! Cutting the operations a client needs, and everything they reach, out of upstream's whole
//! API document. Cloudflare publishes one OpenAPI file for its entire API (over 1,500
//! operations and 3,700 schemas); this workspace's spec is the few operations of one product
//! with the components they use, under upstream's own names, so that a spec update is a
//! mechanical step and its diff shows only what changed for those operations.
//!
//! Pure, like the rest of the crate: the document's text goes in, the extracted spec's YAML
//! text comes out; `cargo xtask spec-sync` reads and writes the files.
//!
//! What is kept: the listed operations (by operationId) under their paths, with the path
//! item's own members (`parameters`, `summary`, `servers`, extensions) but no other method;
//! every component they reach through `$ref`, transitively, in any section (schemas,
//! parameters, responses, request bodies, headers, examples, links, callbacks); the security
//! schemes named by the kept operations' `security` and the document's top-level `security`;
//! the top-level `openapi`, `info`, `servers`, `security`, the `tags` the kept operations use,
//! and `x-` extensions of the document and of `components`. Nothing else.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::document::{self, Syntax};
use crate::json_pointer;
use crate::{Error, Source};

/// The methods of an OpenAPI 3.0 path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Top-level members kept as they are, in the order they are written (`tags` is filtered,
/// `paths` and `components` are cut, extensions follow them).
const HEAD: [&str; 4] = ["openapi", "info", "servers", "security"];

/// The extracted spec and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extraction {
    /// The spec as YAML. The same document and list always give the same bytes: keys are
    /// sorted (JSON and YAML inputs give the same text), top-level members come in the usual
    /// order (`openapi`, `info`, `servers`, `security`, `tags`, `paths`, `components`).
    pub text: String,
    /// How many operations were kept.
    pub operations: usize,
    /// How many paths they are under.
    pub paths: usize,
    /// How many components were kept, by section (`schemas`, `parameters`, ...).
    pub components: BTreeMap<String, usize>,
}

/// A component: its section (`schemas`, `responses`, ...) and its name, both unescaped.
type Component = (String, String);

/// Keeps the operations whose operationIds `operations` lists, and every component they
/// reach, from the OpenAPI document `upstream` (JSON or YAML).
///
/// Fails, writing nothing, on an operationId the document does not have (all of them are
/// named), an operationId two kept operations share, a `$ref` that points at nothing, a `$ref`
/// to another file or URL, a `$ref` outside `#/components/`, a security requirement naming an
/// undefined scheme, and a cycle of references through components that are not schemas
/// (schemas may be recursive). Each error names the JSON pointer in `upstream`.
///
/// A JSON document is read lazily: its syntax and keys are checked in full, but only what is
/// kept is built as values, so memory stays near the size of the text however large the
/// document is. A YAML document is read whole.
pub fn extract(upstream: Source<'_>, operations: &[String]) -> Result<Extraction, Error> {
    let file = upstream.name;
    let text = upstream.text.trim_start_matches('\u{feff}');
    match Syntax::detect(text) {
        Syntax::Json => {
            let root: &RawValue = serde_json::from_str(text)
                .map_err(|error| document::json_syntax_error(file, &error))?;
            document::refuse_duplicate_json_keys(file, text)?;
            cut(file, Node::Raw(root), operations)
        }
        Syntax::Yaml => {
            let value = document::parse(upstream)?;
            cut(file, Node::Parsed(&value), operations)
        }
    }
}

/// A value of the document: raw JSON text not read yet, or a value read already.
#[derive(Clone, Copy)]
enum Node<'a> {
    Raw(&'a RawValue),
    Parsed(&'a Value),
}

/// Just the operationId of an operation; serde skips the rest without building it.
#[derive(Deserialize)]
struct Peek {
    #[serde(rename = "operationId")]
    operation_id: Option<Value>,
}

impl<'a> Node<'a> {
    /// The value, built (a raw node) or copied.
    fn value(self, file: &str, pointer: &str) -> Result<Value, Error> {
        match self {
            Node::Raw(raw) => serde_json::from_str(raw.get())
                .map_err(|error| invalid(file, pointer, &format!("cannot be read: {error}"))),
            Node::Parsed(value) => Ok(value.clone()),
        }
    }

    /// The members of an object, as nodes; `None` for anything else.
    fn members(
        self,
        file: &str,
        pointer: &str,
    ) -> Result<Option<BTreeMap<String, Node<'a>>>, Error> {
        match self {
            Node::Raw(raw) => {
                if !raw.get().trim_start().starts_with('{') {
                    return Ok(None);
                }
                let members: BTreeMap<String, &'a RawValue> = serde_json::from_str(raw.get())
                    .map_err(|error| invalid(file, pointer, &format!("cannot be read: {error}")))?;
                Ok(Some(
                    members
                        .into_iter()
                        .map(|(key, raw)| (key, Node::Raw(raw)))
                        .collect(),
                ))
            }
            Node::Parsed(Value::Object(map)) => Ok(Some(
                map.iter()
                    .map(|(key, value)| (key.clone(), Node::Parsed(value)))
                    .collect(),
            )),
            Node::Parsed(_) => Ok(None),
        }
    }

    /// The operationId of an operation node, if it is an object with a string one.
    fn operation_id(self) -> Option<String> {
        match self {
            Node::Raw(raw) => serde_json::from_str::<Peek>(raw.get())
                .ok()?
                .operation_id?
                .as_str()
                .map(str::to_owned),
            Node::Parsed(value) => value.get("operationId")?.as_str().map(str::to_owned),
        }
    }
}

/// The cut itself, on a document read lazily or whole.
fn cut(file: &str, root: Node<'_>, operations: &[String]) -> Result<Extraction, Error> {
    let Some(root) = root.members(file, "")? else {
        return Err(invalid(
            file,
            "/",
            "expected an OpenAPI document (an object)",
        ));
    };
    let paths = match root.get("paths") {
        Some(node) => node.members(file, "/paths")?,
        None => None,
    };
    let Some(paths) = paths else {
        return Err(invalid(file, "/paths", "expected an object of path items"));
    };
    let mut items: BTreeMap<String, BTreeMap<String, Node<'_>>> = BTreeMap::new();
    for (path, item) in &paths {
        let pointer = format!("/paths/{}", json_pointer::escape(path));
        if let Some(members) = item.members(file, &pointer)? {
            items.insert(path.clone(), members);
        }
    }
    let found = find_operations(file, &items, operations)?;
    let sections = match root.get("components") {
        Some(node) => node.members(file, "/components")?.unwrap_or_default(),
        None => BTreeMap::new(),
    };

    let mut walk = Walk::new(file, sections);
    let mut kept_paths: Map<String, Value> = Map::new();
    let mut used_tags: BTreeSet<String> = BTreeSet::new();
    for (path, methods) in &found {
        let members = &items[path];
        let path_pointer = format!("/paths/{}", json_pointer::escape(path));
        let mut kept: Map<String, Value> = Map::new();
        for (key, node) in members {
            let pointer = format!("{path_pointer}/{}", json_pointer::escape(key));
            let is_method = METHODS.contains(&key.as_str());
            if is_method && !methods.contains(key) {
                continue;
            }
            let value = node.value(file, &pointer)?;
            walk.scan(&value, &pointer)?;
            if is_method {
                walk.security(value.get("security"), &format!("{pointer}/security"))?;
                if let Some(Value::Array(tags)) = value.get("tags") {
                    used_tags.extend(tags.iter().filter_map(Value::as_str).map(str::to_owned));
                }
            }
            kept.insert(key.clone(), value);
        }
        kept_paths.insert(path.clone(), Value::Object(kept));
    }

    let mut out: Map<String, Value> = Map::new();
    for key in HEAD {
        if let Some(node) = root.get(key) {
            let pointer = format!("/{key}");
            let value = node.value(file, &pointer)?;
            walk.scan(&value, &pointer)?;
            out.insert(key.to_owned(), value);
        }
    }
    walk.security(out.get("security"), "/security")?;
    if let Some(node) = root.get("tags")
        && let Value::Array(tags) = node.value(file, "/tags")?
    {
        let kept: Vec<Value> = tags
            .into_iter()
            .filter(|tag| {
                tag.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| used_tags.contains(name))
            })
            .collect();
        if !kept.is_empty() {
            out.insert("tags".to_owned(), Value::Array(kept));
        }
    }
    for (key, node) in root.iter().filter(|(key, _)| key.starts_with("x-")) {
        let pointer = format!("/{}", json_pointer::escape(key));
        let value = node.value(file, &pointer)?;
        walk.scan(&value, &pointer)?;
        out.insert(key.clone(), value);
    }
    let mut components: Map<String, Value> = Map::new();
    let extensions: Vec<(String, Node<'_>)> = walk
        .sections
        .iter()
        .filter(|(key, _)| key.starts_with("x-"))
        .map(|(key, node)| (key.clone(), *node))
        .collect();
    for (key, node) in extensions {
        let pointer = format!("/components/{}", json_pointer::escape(&key));
        let value = node.value(file, &pointer)?;
        walk.scan(&value, &pointer)?;
        components.insert(key, value);
    }
    walk.finish()?;
    walk.check_cycles()?;

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for ((section, name), value) in std::mem::take(&mut walk.reached) {
        *counts.entry(section.clone()).or_default() += 1;
        // The walk is over, so this is the value's only holder: moved, not copied.
        let value = Rc::try_unwrap(value).unwrap_or_else(|shared| Value::clone(&shared));
        let entry = components
            .entry(section)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(members) = entry {
            members.insert(name, value);
        }
    }
    let operation_count = found.values().map(Vec::len).sum();
    let path_count = kept_paths.len();
    out.insert("paths".to_owned(), Value::Object(kept_paths));
    if !components.is_empty() {
        out.insert("components".to_owned(), Value::Object(components));
    }
    let text = to_yaml(file, &out)?;
    Ok(Extraction {
        text,
        operations: operation_count,
        paths: path_count,
        components: counts,
    })
}

/// Path -> the methods of it that hold a listed operation.
fn find_operations(
    file: &str,
    items: &BTreeMap<String, BTreeMap<String, Node<'_>>>,
    wanted: &[String],
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let wanted_set: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
    let mut at: BTreeMap<String, String> = BTreeMap::new();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, members) in items {
        for method in METHODS {
            let Some(id) = members.get(method).and_then(|node| node.operation_id()) else {
                continue;
            };
            if !wanted_set.contains(id.as_str()) {
                continue;
            }
            let pointer = format!("/paths/{}/{method}", json_pointer::escape(path));
            if let Some(first) = at.insert(id.clone(), pointer.clone()) {
                return Err(invalid(
                    file,
                    &pointer,
                    &format!(
                        "operationId `{id}` is also used at {first}; spec-sync cannot tell which \
                         of the two to keep"
                    ),
                ));
            }
            found
                .entry(path.clone())
                .or_default()
                .push(method.to_owned());
        }
    }
    let mut missing: Vec<String> = Vec::new();
    for id in wanted {
        if !at.contains_key(id) && !missing.contains(id) {
            missing.push(id.clone());
        }
    }
    if !missing.is_empty() {
        return Err(Error::MissingOperations {
            file: file.to_owned(),
            operations: missing,
        });
    }
    Ok(found)
}

/// The reachability walk: which components the kept parts reach, and through which `$ref`s.
struct Walk<'a> {
    file: &'a str,
    /// The members of `components`: each section (still raw when the document is JSON).
    sections: BTreeMap<String, Node<'a>>,
    /// The sections read so far: name -> component (`None`: the section is not an object).
    read: BTreeMap<String, Option<BTreeMap<String, Node<'a>>>>,
    /// Every component reached so far, with its value.
    reached: BTreeMap<Component, Rc<Value>>,
    /// Reached components whose content is still to be scanned.
    pending: VecDeque<Component>,
    /// Component -> the components its content refers to, each with the pointer of the first
    /// `$ref` that does.
    edges: BTreeMap<Component, BTreeMap<Component, String>>,
    /// The component being scanned, if any.
    current: Option<Component>,
}

impl<'a> Walk<'a> {
    fn new(file: &'a str, sections: BTreeMap<String, Node<'a>>) -> Self {
        Self {
            file,
            sections,
            read: BTreeMap::new(),
            reached: BTreeMap::new(),
            pending: VecDeque::new(),
            edges: BTreeMap::new(),
            current: None,
        }
    }

    /// Follows every `$ref` inside `value`, which is at `pointer` in the document.
    fn scan(&mut self, value: &Value, pointer: &str) -> Result<(), Error> {
        let mut stack: Vec<(&Value, String)> = vec![(value, pointer.to_owned())];
        while let Some((value, pointer)) = stack.pop() {
            match value {
                Value::Object(members) => {
                    for (key, member) in members.iter().rev() {
                        let at = format!("{pointer}/{}", json_pointer::escape(key));
                        match (key.as_str(), member) {
                            ("$ref", Value::String(target)) => self.reference(&at, target)?,
                            _ => stack.push((member, at)),
                        }
                    }
                }
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate().rev() {
                        stack.push((item, format!("{pointer}/{index}")));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The value of a component, read on first use; `None` when there is no such component.
    fn component(&mut self, component: &Component) -> Result<Option<Rc<Value>>, Error> {
        if let Some(value) = self.reached.get(component) {
            return Ok(Some(Rc::clone(value)));
        }
        let (section, name) = component;
        let section_pointer = format!("/components/{}", json_pointer::escape(section));
        if !self.read.contains_key(section) {
            let members = match self.sections.get(section) {
                Some(node) => node.members(self.file, &section_pointer)?,
                None => None,
            };
            self.read.insert(section.clone(), members);
        }
        let node = self
            .read
            .get(section)
            .and_then(Option::as_ref)
            .and_then(|members| members.get(name))
            .copied();
        let Some(node) = node else {
            return Ok(None);
        };
        let pointer = format!("{section_pointer}/{}", json_pointer::escape(name));
        let value = Rc::new(node.value(self.file, &pointer)?);
        self.reached.insert(component.clone(), Rc::clone(&value));
        self.pending.push_back(component.clone());
        Ok(Some(value))
    }

    /// A `$ref` at `pointer` to `target`: must be local, lie in a component, and resolve.
    fn reference(&mut self, pointer: &str, target: &str) -> Result<(), Error> {
        let Some(fragment) = target.strip_prefix('#') else {
            return Err(Error::ExternalRef {
                file: self.file.to_owned(),
                pointer: pointer.to_owned(),
                target: target.to_owned(),
            });
        };
        let tokens: Vec<&str> = fragment.split('/').skip(1).collect();
        let [components, section, name, rest @ ..] = tokens.as_slice() else {
            return Err(self.outside(pointer, target));
        };
        if !fragment.starts_with('/') || *components != "components" {
            return Err(self.outside(pointer, target));
        }
        let component = (
            json_pointer::unescape(section),
            json_pointer::unescape(name),
        );
        let inside: String = rest.iter().map(|token| format!("/{token}")).collect();
        let resolves = self
            .component(&component)?
            .is_some_and(|value| value.pointer(&inside).is_some());
        if !resolves {
            return Err(Error::DanglingRef {
                file: self.file.to_owned(),
                pointer: pointer.to_owned(),
                target: target.to_owned(),
            });
        }
        if let Some(from) = &self.current {
            self.edges
                .entry(from.clone())
                .or_default()
                .entry(component)
                .or_insert_with(|| pointer.to_owned());
        }
        Ok(())
    }

    /// The error for a local `$ref` outside `#/components/`.
    fn outside(&self, pointer: &str, target: &str) -> Error {
        invalid(
            self.file,
            pointer,
            &format!(
                "$ref `{target}` points outside #/components/; spec-sync keeps whole components \
                 only, so the extracted spec could not hold what it points at"
            ),
        )
    }

    /// The schemes a `security` list (at `pointer`) names are reached; each must exist.
    fn security(&mut self, requirements: Option<&Value>, pointer: &str) -> Result<(), Error> {
        let Some(Value::Array(requirements)) = requirements else {
            return Ok(());
        };
        for (index, requirement) in requirements.iter().enumerate() {
            let Some(schemes) = requirement.as_object() else {
                continue;
            };
            for scheme in schemes.keys() {
                let component = ("securitySchemes".to_owned(), scheme.clone());
                if self.component(&component)?.is_none() {
                    return Err(invalid(
                        self.file,
                        &format!("{pointer}/{index}/{}", json_pointer::escape(scheme)),
                        &format!(
                            "the security requirement names the scheme `{scheme}`, which \
                             #/components/securitySchemes does not define"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Scans every reached component until no new one turns up.
    fn finish(&mut self) -> Result<(), Error> {
        while let Some(component) = self.pending.pop_front() {
            let Some(value) = self.reached.get(&component).map(Rc::clone) else {
                continue;
            };
            let pointer = format!(
                "/components/{}/{}",
                json_pointer::escape(&component.0),
                json_pointer::escape(&component.1)
            );
            self.current = Some(component);
            let result = self.scan(&value, &pointer);
            self.current = None;
            result?;
        }
        Ok(())
    }

    /// Refuses a cycle of references that passes through a component other than a schema.
    fn check_cycles(&self) -> Result<(), Error> {
        let name = |(section, name): &Component| {
            format!(
                "#/components/{}/{}",
                json_pointer::escape(section),
                json_pointer::escape(name)
            )
        };
        for start in self
            .reached
            .keys()
            .filter(|(section, _)| section != "schemas")
        {
            // Breadth-first from `start`'s targets back to `start`: the shortest cycle.
            let mut parent: BTreeMap<&Component, &Component> = BTreeMap::new();
            let mut queue: VecDeque<&Component> = VecDeque::from([start]);
            let mut closed = false;
            while let Some(node) = queue.pop_front() {
                for next in self.edges.get(node).into_iter().flat_map(BTreeMap::keys) {
                    if parent.contains_key(next) {
                        continue;
                    }
                    parent.insert(next, node);
                    if next == start {
                        closed = true;
                        break;
                    }
                    queue.push_back(next);
                }
                if closed {
                    break;
                }
            }
            if !closed {
                continue;
            }
            // Walk the parents back from `start` to `start`, then put the path in order.
            let mut between = Vec::new();
            let mut node = parent[start];
            while node != start {
                between.push(node);
                node = parent[node];
            }
            between.reverse();
            let mut cycle = vec![start];
            cycle.extend(between);
            cycle.push(start);
            return Err(Error::ComponentCycle {
                file: self.file.to_owned(),
                pointer: self.edges[start][cycle[1]].clone(),
                cycle: cycle
                    .iter()
                    .map(|component| name(component))
                    .collect::<Vec<_>>()
                    .join(" -> "),
            });
        }
        Ok(())
    }
}

/// The document as YAML, its top-level members in the usual order, and checked to read back
/// as the same document.
fn to_yaml(file: &str, document: &Map<String, Value>) -> Result<String, Error> {
    let mut order: Vec<&str> = HEAD.to_vec();
    order.extend(["tags", "paths", "components"]);
    let extensions = document
        .keys()
        .filter(|key| !order.contains(&key.as_str()))
        .map(String::as_str)
        .collect::<Vec<_>>();
    order.extend(extensions);
    let mut text = String::new();
    for key in order {
        let Some(value) = document.get(key) else {
            continue;
        };
        let part = serde_yaml_ng::to_string(&Member(key, value)).map_err(|error| {
            invalid(
                file,
                &format!("/{}", json_pointer::escape(key)),
                &format!("cannot be written as YAML: {error}"),
            )
        })?;
        text.push_str(&part);
    }
    // Read back straight into JSON values: no key may need converting (a number key would
    // fail here), so what the generator's reader sees is exactly what was written.
    let back: Result<Map<String, Value>, _> = serde_yaml_ng::from_str(&text);
    if back.as_ref().ok() != Some(document) {
        return Err(invalid(
            file,
            "/",
            "the extracted spec does not read back as the document written (a YAML writer \
             problem); nothing was written",
        ));
    }
    Ok(text)
}

/// A one-member mapping `key: value`, written without copying the value.
struct Member<'a>(&'a str, &'a Value);

impl serde::Serialize for Member<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, self.1)?;
        map.end()
    }
}

fn invalid(file: &str, pointer: &str, message: &str) -> Error {
    Error::InvalidDocument {
        file: file.to_owned(),
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}
