//! A flat, comparable view of an OpenAPI document: each operation's parameters, request body and
//! responses, with every schema walked through `$ref` and `allOf` into one node per field path.
//!
//! Walking through references is what lets a change be seen where the client sees it (the
//! envelope's `success` field is a field of every response), while each node still remembers the
//! named component schema that declares it, so a change can be reported once per Rust type.

use std::collections::{BTreeMap, BTreeSet};

use codegen::json_pointer;
use serde_json::{Map, Value};

/// Prefix of a reference to a component schema.
const SCHEMA_REF: &str = "#/components/schemas/";
/// Prefix of a reference to a component parameter.
const PARAMETER_REF: &str = "#/components/parameters/";

/// Which way data flows through a schema; the classification depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// Sent by the client: parameters and request bodies.
    Request,
    /// Sent by the server: response bodies.
    Response,
}

/// A flattened document.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Operations by operationId (`METHOD /path` when there is none).
    pub operations: BTreeMap<String, Operation>,
    /// Names of the component schemas (each becomes a Rust type).
    pub schemas: BTreeSet<String>,
    /// Security schemes by name, as canonical JSON.
    pub security_schemes: BTreeMap<String, String>,
}

/// One operation.
#[derive(Clone, Debug, Default)]
pub struct Operation {
    /// Upper-case HTTP method.
    pub method: String,
    /// The path template.
    pub path: String,
    /// Whether the operation is marked deprecated.
    pub deprecated: bool,
    /// Summary text.
    pub summary: Option<String>,
    /// Description text.
    pub description: Option<String>,
    /// Effective security: each alternative is the set of schemes it needs (empty: none).
    pub security: BTreeSet<BTreeSet<String>>,
    /// Parameters by `(location, name)`.
    pub parameters: BTreeMap<(String, String), Parameter>,
    /// The request body, if any.
    pub body: Option<Body>,
    /// Responses by status code (`200`, `4XX`, `default`).
    pub responses: BTreeMap<String, Body>,
}

/// One parameter.
#[derive(Clone, Debug, Default)]
pub struct Parameter {
    /// Whether it must be sent.
    pub required: bool,
    /// Whether it is marked deprecated.
    pub deprecated: bool,
    /// Description text.
    pub description: Option<String>,
    /// Its schema, flattened.
    pub schema: Nodes,
}

/// A request body or a response.
#[derive(Clone, Debug, Default)]
pub struct Body {
    /// Request bodies only: whether it must be sent.
    pub required: bool,
    /// Description text.
    pub description: Option<String>,
    /// Schema per media type, flattened.
    pub content: BTreeMap<String, Nodes>,
}

/// A flattened schema: nodes by field path (`""` is the root, `a.b` a property, `a[]` items,
/// `a{}` additional properties).
pub type Nodes = BTreeMap<String, Node>;

/// What a field path is to its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// The root of a parameter or body schema.
    Root,
    /// A named property of an object.
    Property,
    /// The items of an array.
    Items,
    /// The values of a map.
    Values,
}

/// A named component schema and a path inside it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    /// The component schema's name.
    pub schema: String,
    /// The path inside it (`""` for the schema itself).
    pub path: String,
}

/// The facts about one schema node that the comparison looks at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Node {
    /// What this path is to its parent.
    pub member: Option<Member>,
    /// Whether the parent object lists this property as required (always true for other nodes).
    pub required: bool,
    /// Where the property is declared (for added/removed/required changes).
    pub declared_in: Option<Owner>,
    /// Where the node's own facets (type, enum, constraints) are defined.
    pub defined_in: Option<Owner>,
    /// The component schema this node refers to, when it is a `$ref` (the Rust type's name).
    pub type_name: Option<String>,
    /// `type`, or a description of a composition (`oneOf[A, B]`).
    pub kind: Option<String>,
    /// `format`.
    pub format: Option<String>,
    /// `nullable`.
    pub nullable: bool,
    /// `enum` values, each rendered as text (strings bare, others as JSON).
    pub enumeration: Option<BTreeSet<String>>,
    /// Numeric and length constraints (`minimum`, `maxLength`, ...).
    pub bounds: BTreeMap<Bound, f64>,
    /// `exclusiveMinimum` / `exclusiveMaximum` flags.
    pub exclusive: BTreeSet<&'static str>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `default`, as JSON.
    pub default: Option<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// `description`.
    pub description: Option<String>,
}

/// A numeric keyword compared as a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bound {
    /// `minimum`.
    Minimum,
    /// `maximum`.
    Maximum,
    /// `minLength`.
    MinLength,
    /// `maxLength`.
    MaxLength,
    /// `minItems`.
    MinItems,
    /// `maxItems`.
    MaxItems,
}

impl Bound {
    /// Every bound, in the order changes to them are reported.
    pub const ALL: [Bound; 6] = [
        Self::Minimum,
        Self::Maximum,
        Self::MinLength,
        Self::MaxLength,
        Self::MinItems,
        Self::MaxItems,
    ];

    /// The keyword as the spec spells it.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Minimum => "minimum",
            Self::Maximum => "maximum",
            Self::MinLength => "minLength",
            Self::MaxLength => "maxLength",
            Self::MinItems => "minItems",
            Self::MaxItems => "maxItems",
        }
    }

    /// Whether raising it narrows what is valid (a lower bound).
    pub fn raising_narrows(self) -> bool {
        matches!(self, Self::Minimum | Self::MinLength | Self::MinItems)
    }
}

impl Model {
    /// Flattens an OpenAPI 3.0 document given as JSON.
    pub fn build(document: &Value) -> Self {
        let walker = Walker { document };
        let mut model = Model::default();
        if let Some(schemas) = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            model.schemas = schemas.keys().cloned().collect();
        }
        if let Some(schemes) = document
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object)
        {
            for (name, scheme) in schemes {
                let scheme = walker.resolve(scheme, "#/components/securitySchemes/");
                model
                    .security_schemes
                    .insert(name.clone(), scheme.to_string());
            }
        }
        let global_security = document.get("security");
        let Some(paths) = document.get("paths").and_then(Value::as_object) else {
            return model;
        };
        for (path, item) in paths {
            let shared_parameters = item.get("parameters");
            for method in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                let id = operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .map_or_else(
                        || format!("{} {path}", method.to_uppercase()),
                        str::to_owned,
                    );
                let built =
                    walker.operation(method, path, operation, shared_parameters, global_security);
                model.operations.insert(id, built);
            }
        }
        model
    }
}

struct Walker<'a> {
    document: &'a Value,
}

/// Where a schema is being walked from: the owner of its facets and of its membership.
#[derive(Clone)]
struct At {
    path: String,
    member: Member,
    required: bool,
    declared_in: Option<Owner>,
    defined_in: Option<Owner>,
}

impl<'a> Walker<'a> {
    /// Follows `$ref`s with the given prefix until a non-reference (or a dangling one).
    fn resolve(&self, value: &'a Value, prefix: &str) -> &'a Value {
        let mut current = value;
        for _ in 0..32 {
            match current.get("$ref").and_then(Value::as_str) {
                Some(target) if target.starts_with(prefix) => {
                    let pointer = &target[1..];
                    match self.document.pointer(pointer) {
                        Some(next) => current = next,
                        None => return current,
                    }
                }
                _ => return current,
            }
        }
        current
    }

    fn operation(
        &self,
        method: &str,
        path: &str,
        operation: &Value,
        shared_parameters: Option<&Value>,
        global_security: Option<&Value>,
    ) -> Operation {
        let mut built = Operation {
            method: method.to_uppercase(),
            path: path.to_owned(),
            deprecated: flag(operation, "deprecated"),
            summary: text(operation, "summary"),
            description: text(operation, "description"),
            ..Operation::default()
        };
        let security = operation.get("security").or(global_security);
        if let Some(alternatives) = security.and_then(Value::as_array) {
            for alternative in alternatives {
                let schemes = alternative
                    .as_object()
                    .map(|map| map.keys().cloned().collect())
                    .unwrap_or_default();
                built.security.insert(schemes);
            }
        }
        // Operation-level parameters override path-level ones with the same location and name.
        for list in [shared_parameters, operation.get("parameters")] {
            for parameter in list.and_then(Value::as_array).into_iter().flatten() {
                let parameter = self.resolve(parameter, PARAMETER_REF);
                let name = text(parameter, "name").unwrap_or_default();
                let location = text(parameter, "in").unwrap_or_default();
                let mut schema = Nodes::new();
                if let Some(value) = parameter.get("schema") {
                    self.schema(value, root_at(), &mut schema, &mut Vec::new());
                }
                built.parameters.insert(
                    (location.clone(), name),
                    Parameter {
                        required: flag(parameter, "required") || location == "path",
                        deprecated: flag(parameter, "deprecated"),
                        description: text(parameter, "description"),
                        schema,
                    },
                );
            }
        }
        if let Some(body) = operation.get("requestBody") {
            let body = self.resolve(body, "#/components/requestBodies/");
            built.body = Some(self.body(body));
        }
        if let Some(responses) = operation.get("responses").and_then(Value::as_object) {
            for (status, response) in responses {
                let response = self.resolve(response, "#/components/responses/");
                built.responses.insert(status.clone(), self.body(response));
            }
        }
        built
    }

    fn body(&self, body: &Value) -> Body {
        let mut built = Body {
            required: flag(body, "required"),
            description: text(body, "description"),
            content: BTreeMap::new(),
        };
        if let Some(content) = body.get("content").and_then(Value::as_object) {
            for (media_type, media) in content {
                let mut nodes = Nodes::new();
                if let Some(schema) = media.get("schema") {
                    self.schema(schema, root_at(), &mut nodes, &mut Vec::new());
                }
                built.content.insert(media_type.clone(), nodes);
            }
        }
        built
    }

    /// Walks `schema` at `at` into `out`; `stack` holds the component schemas being walked, so
    /// a recursive schema stops at its second visit.
    fn schema(&self, schema: &Value, at: At, out: &mut Nodes, stack: &mut Vec<String>) {
        let mut at = at;
        let mut schema = schema;
        let mut nullable = false;
        // An `allOf` of exactly one part with only annotations beside it is that part (the
        // generator treats it as an alias); a `nullable: true` beside it still counts.
        while let Some(inner) = single_all_of(schema) {
            nullable |= flag(schema, "nullable");
            schema = inner;
        }
        let Some(name) = schema_ref(schema) else {
            self.schema_body(schema, &at, None, nullable, out, stack);
            return;
        };
        if stack.contains(&name) {
            let node = Node {
                type_name: Some(name),
                kind: Some("recursive".to_owned()),
                nullable,
                ..self.base_node(&at)
            };
            out.insert(at.path.clone(), node);
            return;
        }
        let pointer = format!("/components/schemas/{}", json_pointer::escape(&name));
        let Some(target) = self.document.pointer(&pointer) else {
            return;
        };
        at.defined_in = Some(Owner {
            schema: name.clone(),
            path: String::new(),
        });
        stack.push(name.clone());
        self.schema(target, at.clone(), out, stack);
        stack.pop();
        if let Some(node) = out.get_mut(&at.path) {
            node.type_name = Some(name);
            node.nullable |= nullable;
        }
    }

    fn schema_body(
        &self,
        schema: &Value,
        at: &At,
        type_name: Option<String>,
        nullable: bool,
        out: &mut Nodes,
        stack: &mut Vec<String>,
    ) {
        // Gather the object's facets and properties from `allOf` parts, each property with the
        // component schema that declares it.
        let mut facets = Map::new();
        let mut properties: BTreeMap<String, (Value, Option<Owner>)> = BTreeMap::new();
        let mut required = BTreeSet::new();
        self.gather(
            schema,
            at.defined_in.clone(),
            &mut facets,
            &mut properties,
            &mut required,
            stack,
        );

        let mut node = self.base_node(at);
        node.type_name = type_name;
        node.kind = facets
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned);
        for keyword in ["oneOf", "anyOf"] {
            if let Some(parts) = facets.get(keyword).and_then(Value::as_array) {
                let names: Vec<String> = parts
                    .iter()
                    .map(|part| schema_ref(part).unwrap_or_else(|| "inline".to_owned()))
                    .collect();
                node.kind = Some(format!("{keyword}[{}]", names.join(", ")));
            }
        }
        if node.kind.is_none() && !properties.is_empty() {
            node.kind = Some("object".to_owned());
        }
        node.format = text_of(&facets, "format");
        node.nullable = nullable || facets.get("nullable").and_then(Value::as_bool) == Some(true);
        node.enumeration = facets.get("enum").and_then(Value::as_array).map(|values| {
            values
                .iter()
                .map(|value| match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect()
        });
        for bound in Bound::ALL {
            if let Some(number) = facets.get(bound.keyword()).and_then(Value::as_f64) {
                node.bounds.insert(bound, number);
            }
        }
        for keyword in ["exclusiveMinimum", "exclusiveMaximum"] {
            if facets.get(keyword).and_then(Value::as_bool) == Some(true) {
                node.exclusive.insert(keyword);
            }
        }
        node.pattern = text_of(&facets, "pattern");
        node.default = facets.get("default").map(Value::to_string);
        node.deprecated = facets.get("deprecated").and_then(Value::as_bool) == Some(true);
        node.description = text_of(&facets, "description");
        out.insert(at.path.clone(), node);

        for (name, (property, declared_in)) in &properties {
            let path = join(&at.path, name);
            let declared_in = declared_in.as_ref().map(|owner| Owner {
                schema: owner.schema.clone(),
                path: join(&owner.path, name),
            });
            let child = At {
                path,
                member: Member::Property,
                required: required.contains(name),
                defined_in: declared_in.clone(),
                declared_in,
            };
            self.schema(property, child, out, stack);
        }
        for (keyword, suffix, member) in [
            ("items", "[]", Member::Items),
            ("additionalProperties", "{}", Member::Values),
        ] {
            if let Some(inner) = facets.get(keyword).filter(|inner| inner.is_object()) {
                let defined_in = at.defined_in.as_ref().map(|owner| Owner {
                    schema: owner.schema.clone(),
                    path: format!("{}{suffix}", owner.path),
                });
                let child = At {
                    path: format!("{}{suffix}", at.path),
                    member,
                    required: true,
                    declared_in: defined_in.clone(),
                    defined_in,
                };
                self.schema(inner, child, out, stack);
            }
        }
    }

    /// Collects facets, properties and required names of `schema` and its `allOf` parts.
    fn gather(
        &self,
        schema: &Value,
        owner: Option<Owner>,
        facets: &mut Map<String, Value>,
        properties: &mut BTreeMap<String, (Value, Option<Owner>)>,
        required: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) {
        let Some(map) = schema.as_object() else {
            return;
        };
        for (key, value) in map {
            match key.as_str() {
                "properties" => {
                    for (name, property) in value.as_object().into_iter().flatten() {
                        properties.insert(name.clone(), (property.clone(), owner.clone()));
                    }
                }
                "required" => {
                    for name in value.as_array().into_iter().flatten() {
                        if let Some(name) = name.as_str() {
                            required.insert(name.to_owned());
                        }
                    }
                }
                "allOf" => {
                    for part in value.as_array().into_iter().flatten() {
                        match schema_ref(part) {
                            Some(name) if !stack.contains(&name) => {
                                let pointer =
                                    format!("/components/schemas/{}", json_pointer::escape(&name));
                                if let Some(target) = self.document.pointer(&pointer) {
                                    let part_owner = Some(Owner {
                                        schema: name.clone(),
                                        path: String::new(),
                                    });
                                    stack.push(name);
                                    self.gather(
                                        target, part_owner, facets, properties, required, stack,
                                    );
                                    stack.pop();
                                }
                            }
                            Some(_) => {}
                            None => self.gather(
                                part,
                                owner.clone(),
                                facets,
                                properties,
                                required,
                                stack,
                            ),
                        }
                    }
                }
                "$ref" => {}
                _ => {
                    // The outer schema's own facets win over those of its parts.
                    facets.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }

    fn base_node(&self, at: &At) -> Node {
        Node {
            member: Some(at.member),
            required: at.required,
            declared_in: at.declared_in.clone(),
            defined_in: at.defined_in.clone(),
            ..Node::default()
        }
    }
}

fn root_at() -> At {
    At {
        path: String::new(),
        member: Member::Root,
        required: true,
        declared_in: None,
        defined_in: None,
    }
}

/// The component schema a `{"$ref": "#/components/schemas/NAME"}` names.
fn schema_ref(schema: &Value) -> Option<String> {
    let target = schema.get("$ref")?.as_str()?;
    let name = target.strip_prefix(SCHEMA_REF)?;
    Some(json_pointer::unescape(name))
}

/// The only part of an `allOf` that has nothing else beside it but annotations.
fn single_all_of(schema: &Value) -> Option<&Value> {
    let map = schema.as_object()?;
    let parts = map.get("allOf")?.as_array()?;
    let structural = map.keys().any(|key| {
        !matches!(
            key.as_str(),
            "allOf" | "description" | "example" | "title" | "nullable" | "deprecated"
        )
    });
    match parts.as_slice() {
        [only] if !structural => Some(only),
        _ => None,
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool) == Some(true)
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn text_of(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}
