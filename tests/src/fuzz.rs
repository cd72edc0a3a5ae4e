//! The checks the fuzz targets run, kept free of libFuzzer in this library so that the fuzz
//! crate (`fuzz/`, whose targets call these) and the replay test (`tests/hardening`) run every
//! input through one copy of the same code, the replay under `catch_unwind`.
//!
//! Four checks, one per target:
//! - [`decode_page`]: response bytes through the decode the client runtime performs;
//! - [`decode_structured`]: an [`arbitrary`]-built page, serialised to JSON, through the same;
//! - [`codegen_text`]: text through `codegen::generate` (which runs `codegen::prepare` first),
//!   optionally with an overlay after a `#overlay` line;
//! - [`codegen_structured`]: an [`arbitrary`]-built OpenAPI document, serialised to JSON or
//!   YAML, through the same.
//!
//! A check panics only on a real defect: a panic escaping the decoder or the generator, or a
//! broken invariant (a decoded page that does not survive re-encoding, generated output without
//! its header).

use arbitrary::Arbitrary;
use cloudflare_security_center::FieldChanged;
use cloudflare_security_center::types::{
    SecurityCenterApiResponseCommonFailure, SecurityCenterAuditLogResponse,
};
use serde_json::{Map, Value, json};

/// The workspace overlay, applied when a [`codegen_text`] input carries no overlay of its own
/// but names the schema the overlay adjusts.
const WORKSPACE_OVERLAY: &str = include_str!("../../spec/overlay.yaml");

/// The seed folders of `target`, relative to the workspace root, in the order a libFuzzer run
/// takes them after its corpus folder (see `docs/hardening.md`). The generator is seeded from
/// the specs the workspace keeps anyway (`spec/`, the test fixtures), never from copies that
/// would go stale at the next spec update; libFuzzer reads each folder recursively and files
/// that are not specs are inputs like any other.
pub fn seed_folders(target: &str) -> &'static [&'static str] {
    match target {
        "decode_page" => &["fuzz/seeds/decode_page"],
        "codegen_text" => &[
            "spec",
            "tests/codegen/fixtures",
            "tests/diff/fixtures",
            "tests/generated-clients",
        ],
        _ => &[],
    }
}

/// The line that separates a spec from its overlay in a [`codegen_text`] input.
pub const OVERLAY_SEPARATOR: &str = "\n#overlay\n";

/// The schema the workspace replaces with the hand-written `FieldChanged`.
const FIELD_CHANGED_SCHEMA: &str = "security-center_auditLogFieldChanged";

/// Decodes `data` as the client runtime does.
///
/// `exchange::call` gets the page from progenitor's `ResponseValue::from_response`, which is
/// `serde_json::from_slice::<SecurityCenterAuditLogResponse>` of the body; on failure
/// `exchange::decode_error` reads the body as the lenient envelope and then again through
/// `serde_path_to_error` for the failing path; error statuses are read as the lenient envelope.
/// The runtime's own code runs here, through the client's hidden
/// `decode_page_body` and `decode_error_body`. The error envelope type and `FieldChanged` on
/// their own are decoded too.
///
/// Invariants: nothing panics; the path-reporting decoder and the runtime's decode agree with
/// the plain one; a decoded page re-encodes to JSON that decodes to the same page; a decoded
/// `FieldChanged` keeps its wire value.
pub fn decode_page(data: &[u8]) {
    let plain = serde_json::from_slice::<SecurityCenterAuditLogResponse>(data);
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let located =
        serde_path_to_error::deserialize::<_, SecurityCenterAuditLogResponse>(&mut deserializer)
            .map_err(|error| error.to_string())
            .and_then(|page| {
                deserializer
                    .end()
                    .map(|()| page)
                    .map_err(|error| error.to_string())
            });
    assert_eq!(
        plain.is_ok(),
        located.is_ok(),
        "the decoders disagree: {:?} vs {:?}",
        plain.as_ref().err(),
        located.as_ref().err()
    );
    let runtime = cloudflare_security_center::decode_page_body(data);
    assert_eq!(
        plain.is_ok(),
        runtime.is_ok(),
        "the runtime's decode disagrees: {:?} vs {:?}",
        plain.as_ref().err(),
        runtime.as_ref().err()
    );
    match plain {
        Ok(page) => {
            let _ = format!("{page:?}");
            let once = serde_json::to_value(&page).expect("a decoded page encodes");
            let again: SecurityCenterAuditLogResponse =
                serde_json::from_value(once.clone()).expect("an encoded page decodes");
            let twice = serde_json::to_value(&again).expect("a decoded page encodes");
            assert_eq!(once, twice, "a page changed on re-encoding");
        }
        Err(error) => {
            let _ = error.to_string();
            if let Err(error) = runtime {
                let _ = format!("{error} {error:?}");
            }
            for status in [400, 429, 500] {
                let error = cloudflare_security_center::decode_error_body(status, data);
                let _ = format!("{error} {error:?}");
            }
        }
    }
    if let Ok(failure) = serde_json::from_slice::<SecurityCenterApiResponseCommonFailure>(data) {
        let _ = format!("{failure:?}");
    }
    if let Ok(field) = serde_json::from_slice::<FieldChanged>(data) {
        let wire = serde_json::to_string(&field).expect("a field encodes");
        let back: FieldChanged = serde_json::from_str(&wire).expect("a field decodes");
        assert_eq!(back, field, "FieldChanged did not round-trip");
        assert_eq!(back.to_string(), field.as_str());
    }
}

/// Runs `codegen::generate` on `data` read as (lossy) UTF-8.
///
/// Text after a line `#overlay` is the overlay; without one, the workspace overlay and the
/// workspace's settings (the `FieldChanged` replacement) apply when the text names the schema
/// they adjust, so mutations of `spec/openapi.yaml` reach the generator the way the real run
/// does.
///
/// Invariants: nothing panics outside progenitor (whose panics `codegen` turns into errors);
/// an error's message is not empty; generated output starts with its header.
pub fn codegen_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (spec, overlay) = match text.split_once(OVERLAY_SEPARATOR) {
        Some((spec, overlay)) => (spec, Some(overlay)),
        None if text.contains(FIELD_CHANGED_SCHEMA) => (&*text, Some(WORKSPACE_OVERLAY)),
        None => (&*text, None),
    };
    generate(spec, overlay);
}

/// Generates from `spec` (and `overlay`) and checks the invariants of [`codegen_text`].
///
/// With `FUZZ_LAST_INPUT=FILE` set, the spec text is written to `FILE` before each run: a stack
/// overflow kills the process before libFuzzer can save the input, and this keeps it.
pub fn generate(spec: &str, overlay: Option<&str>) {
    let mut settings = codegen::Settings {
        command: "cargo fuzz run".to_owned(),
        // The workspace's date-time pass runs on every input, not only on workspace-like ones.
        date_time_decoder: Some("crate::rfc3339".to_owned()),
        ..Default::default()
    };
    if spec.contains(FIELD_CHANGED_SCHEMA) {
        settings.replacements.push(codegen::Replacement {
            schema: FIELD_CHANGED_SCHEMA.to_owned(),
            rust_type: "crate::FieldChanged".to_owned(),
            impls: vec![
                codegen::generate::ReplacementImpl::FromStr,
                codegen::generate::ReplacementImpl::Display,
            ],
        });
        settings.inner_type = Some("crate::settings::ClientSettings".to_owned());
    }
    if let Some(path) = std::env::var_os("FUZZ_LAST_INPUT") {
        let _ = std::fs::write(path, spec);
    }
    let result = codegen::generate(
        codegen::Source::new("fuzz.yaml", spec),
        overlay.map(|text| codegen::Source::new("overlay.yaml", text)),
        &settings,
    );
    match result {
        Ok(code) => assert!(
            code.starts_with("// @generated by `cargo fuzz run`"),
            "output without its header"
        ),
        Err(error) => assert!(!error.to_string().is_empty(), "an empty error message"),
    }
}

// ---------------------------------------------------------------------------------------------
// Structure-aware inputs.

/// Deepest nesting the structured models produce (deeper input becomes a leaf), so that the
/// targets explore shapes rather than stack depth; depth is tested on its own in
/// `tests/hardening`.
const MAX_DEPTH: usize = 6;

/// Any JSON value.
#[derive(Arbitrary, Debug, Clone)]
pub enum JsonModel {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A large unsigned integer.
    Big(u64),
    /// A float (non-finite ones become `null`).
    Float(f64),
    /// A string.
    Text(String),
    /// An array.
    Array(Vec<JsonModel>),
    /// An object.
    Object(Vec<(String, JsonModel)>),
}

impl JsonModel {
    fn to_json(&self, depth: usize) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(flag) => Value::Bool(*flag),
            Self::Int(int) => Value::from(*int),
            Self::Big(int) => Value::from(*int),
            Self::Float(float) => {
                serde_json::Number::from_f64(*float).map_or(Value::Null, Value::Number)
            }
            Self::Text(text) => Value::String(text.clone()),
            Self::Array(_) | Self::Object(_) if depth >= MAX_DEPTH => Value::Null,
            Self::Array(items) => items.iter().map(|item| item.to_json(depth + 1)).collect(),
            Self::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, item)| (key.clone(), item.to_json(depth + 1)))
                    .collect(),
            ),
        }
    }
}

/// A field that is usually well-formed but may be missing, `null` or any other JSON.
#[derive(Arbitrary, Debug, Clone)]
pub enum Field<T> {
    /// A value of the expected shape.
    Valid(T),
    /// Left out of its object.
    Missing,
    /// `null`.
    Null,
    /// Any JSON value.
    Other(JsonModel),
}

impl<T> Field<T> {
    fn put(&self, object: &mut Map<String, Value>, key: &str, valid: impl FnOnce(&T) -> Value) {
        let value = match self {
            Self::Valid(inner) => valid(inner),
            Self::Missing => return,
            Self::Null => Value::Null,
            Self::Other(other) => other.to_json(1),
        };
        object.insert(key.to_owned(), value);
    }
}

/// A timestamp built from parts, valid or not (month 13, offset `+25:00`, ...).
#[derive(Arbitrary, Debug, Clone)]
pub struct TimeModel {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    fraction: Option<u32>,
    offset: Option<i8>,
}

impl TimeModel {
    fn text(&self) -> String {
        let mut text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year % 10000,
            self.month % 14,
            self.day % 33,
            self.hour % 25,
            self.minute % 61,
            self.second % 62
        );
        if let Some(fraction) = self.fraction {
            text.push_str(&format!(".{fraction}"));
        }
        match self.offset {
            None => text.push('Z'),
            Some(hours) => text.push_str(&format!("{:+03}:00", hours % 26)),
        }
        text
    }
}

/// `field_changed`: a known value, or any other string.
#[derive(Arbitrary, Debug, Clone)]
pub enum FieldModel {
    /// `status`.
    Status,
    /// `user_classification`.
    UserClassification,
    /// Anything else.
    Other(String),
}

/// One audit-log entry.
#[derive(Arbitrary, Debug, Clone)]
pub struct EntryModel {
    id: Field<u128>,
    issue_id: Field<String>,
    changed_at: Field<TimeModel>,
    changed_by: Field<String>,
    field_changed: Field<FieldModel>,
    current_value: Field<String>,
    previous_value: Field<String>,
    rationale: Field<String>,
    zone_id: Field<i64>,
    extra: Vec<(String, JsonModel)>,
}

/// A message of `errors` or `messages`.
#[derive(Arbitrary, Debug, Clone)]
pub struct MessageModel {
    code: Field<i64>,
    message: Field<String>,
    documentation_url: Field<String>,
    source_pointer: Field<String>,
}

/// `result_info`.
#[derive(Arbitrary, Debug, Clone)]
pub struct InfoModel {
    count: Field<i64>,
    cursor: Field<String>,
    per_page: Field<i64>,
}

/// A response body: the Cloudflare envelope around audit-log entries, possibly malformed.
#[derive(Arbitrary, Debug, Clone)]
pub struct PageModel {
    success: Field<bool>,
    errors: Field<Vec<MessageModel>>,
    messages: Field<Vec<MessageModel>>,
    result: Field<Vec<EntryModel>>,
    result_info: Field<InfoModel>,
    extra: Vec<(String, JsonModel)>,
}

fn extras(object: &mut Map<String, Value>, extra: &[(String, JsonModel)]) {
    for (key, value) in extra {
        object
            .entry(key.clone())
            .or_insert_with(|| value.to_json(1));
    }
}

impl MessageModel {
    fn to_json(&self) -> Value {
        let mut object = Map::new();
        self.code.put(&mut object, "code", |code| json!(code));
        self.message.put(&mut object, "message", |text| json!(text));
        self.documentation_url
            .put(&mut object, "documentation_url", |text| json!(text));
        self.source_pointer.put(
            &mut object,
            "source",
            |pointer| json!({ "pointer": pointer }),
        );
        Value::Object(object)
    }
}

impl EntryModel {
    fn to_json(&self) -> Value {
        let mut object = Map::new();
        self.id.put(&mut object, "id", |id| {
            let hex = format!("{id:032x}");
            json!(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ))
        });
        self.issue_id
            .put(&mut object, "issue_id", |text| json!(text));
        self.changed_at
            .put(&mut object, "changed_at", |time| json!(time.text()));
        self.changed_by
            .put(&mut object, "changed_by", |text| json!(text));
        self.field_changed
            .put(&mut object, "field_changed", |field| match field {
                FieldModel::Status => json!("status"),
                FieldModel::UserClassification => json!("user_classification"),
                FieldModel::Other(text) => json!(text),
            });
        self.current_value
            .put(&mut object, "current_value", |text| json!(text));
        self.previous_value
            .put(&mut object, "previous_value", |text| json!(text));
        self.rationale
            .put(&mut object, "rationale", |text| json!(text));
        self.zone_id.put(&mut object, "zone_id", |id| json!(id));
        extras(&mut object, &self.extra);
        Value::Object(object)
    }
}

impl PageModel {
    /// The body as JSON text.
    pub fn to_json(&self) -> Value {
        let messages = |list: &Vec<MessageModel>| -> Value {
            list.iter().map(MessageModel::to_json).collect()
        };
        let mut object = Map::new();
        self.success.put(&mut object, "success", |flag| json!(flag));
        self.errors.put(&mut object, "errors", messages);
        self.messages.put(&mut object, "messages", messages);
        self.result.put(&mut object, "result", |entries| {
            entries.iter().map(EntryModel::to_json).collect()
        });
        self.result_info.put(&mut object, "result_info", |info| {
            let mut inner = Map::new();
            info.count.put(&mut inner, "count", |count| json!(count));
            info.cursor
                .put(&mut inner, "cursor", |cursor| json!(cursor));
            info.per_page
                .put(&mut inner, "per_page", |per_page| json!(per_page));
            Value::Object(inner)
        });
        extras(&mut object, &self.extra);
        Value::Object(object)
    }
}

/// Serialises `page` to JSON and runs [`decode_page`] on it; a page whose every field is
/// well-formed must decode.
pub fn decode_structured(page: &PageModel) {
    let bytes = serde_json::to_vec(&page.to_json()).expect("a JSON value serialises");
    decode_page(&bytes);
}

/// A name drawn from a pool of awkward ones (path tricks, Rust keywords, attribute- and
/// comment-like text), or any string.
#[derive(Arbitrary, Debug, Clone)]
pub enum NameModel {
    /// One of [`AWKWARD_NAMES`].
    Pool(u8),
    /// Any text.
    Free(String),
}

/// Names that have broken generators: path traversal, keywords, attribute or comment syntax,
/// characters that are not identifiers, case collisions.
pub const AWKWARD_NAMES: &[&str] = &[
    "thing",
    "Thing",
    "thing_",
    "../../etc/passwd",
    "..",
    "type",
    "self",
    "Self",
    "crate",
    "super",
    "r#fn",
    "fn",
    "async",
    "#[cfg(any())]",
    "#![no_std]",
    "*/ fn injected() {} /*",
    "\" ); fn injected() { (\"",
    "a b",
    "a-b",
    "1abc",
    "",
    "_",
    "__",
    "é",
    "日本",
    "default",
    "Default",
    "Option",
    "Result",
    "String",
    "Client",
    "builder",
    "types",
];

impl NameModel {
    fn text(&self) -> String {
        match self {
            Self::Pool(index) => {
                AWKWARD_NAMES[usize::from(*index) % AWKWARD_NAMES.len()].to_owned()
            }
            Self::Free(text) => text.clone(),
        }
    }
}

/// A JSON schema.
#[derive(Arbitrary, Debug, Clone)]
pub enum SchemaModel {
    /// `{}`.
    Any,
    /// A string, maybe with a format, an enum or a pattern.
    String {
        /// `format`.
        format: Option<NameModel>,
        /// `enum`.
        values: Vec<NameModel>,
        /// `pattern`.
        pattern: Option<String>,
        /// `minLength` / `maxLength`.
        length: Option<(u32, u32)>,
    },
    /// An integer with a format and bounds.
    Integer {
        /// `format`.
        format: Option<NameModel>,
        /// `minimum`.
        minimum: Option<i64>,
        /// `maximum`.
        maximum: Option<i64>,
    },
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// An array of something.
    Array(Box<SchemaModel>),
    /// An object.
    Object {
        /// Properties, each maybe required.
        properties: Vec<(NameModel, SchemaModel, bool)>,
        /// `additionalProperties`.
        additional: Option<Box<SchemaModel>>,
    },
    /// `$ref` to `#/components/schemas/<name>`.
    Ref(NameModel),
    /// `allOf`.
    AllOf(Vec<SchemaModel>),
    /// `oneOf`.
    OneOf(Vec<SchemaModel>),
    /// `anyOf`.
    AnyOf(Vec<SchemaModel>),
    /// `nullable: true` on a schema.
    Nullable(Box<SchemaModel>),
    /// `not`.
    Not(Box<SchemaModel>),
    /// A schema with a description and a title.
    Described(Box<SchemaModel>, String, String),
    /// Any JSON as the schema.
    Raw(JsonModel),
}

impl SchemaModel {
    fn to_json(&self, depth: usize) -> Value {
        if depth >= MAX_DEPTH {
            return json!({ "type": "string" });
        }
        let next = depth + 1;
        match self {
            Self::Any => json!({}),
            Self::String {
                format,
                values,
                pattern,
                length,
            } => {
                let mut object = Map::new();
                object.insert("type".into(), json!("string"));
                if let Some(format) = format {
                    object.insert("format".into(), json!(format.text()));
                }
                if !values.is_empty() {
                    object.insert(
                        "enum".into(),
                        values.iter().map(|value| json!(value.text())).collect(),
                    );
                }
                if let Some(pattern) = pattern {
                    object.insert("pattern".into(), json!(pattern));
                }
                if let Some((min, max)) = length {
                    object.insert("minLength".into(), json!(min));
                    object.insert("maxLength".into(), json!(max));
                }
                Value::Object(object)
            }
            Self::Integer {
                format,
                minimum,
                maximum,
            } => {
                let mut object = Map::new();
                object.insert("type".into(), json!("integer"));
                if let Some(format) = format {
                    object.insert("format".into(), json!(format.text()));
                }
                if let Some(minimum) = minimum {
                    object.insert("minimum".into(), json!(minimum));
                }
                if let Some(maximum) = maximum {
                    object.insert("maximum".into(), json!(maximum));
                }
                Value::Object(object)
            }
            Self::Number => json!({ "type": "number" }),
            Self::Boolean => json!({ "type": "boolean" }),
            Self::Array(items) => json!({ "type": "array", "items": items.to_json(next) }),
            Self::Object {
                properties,
                additional,
            } => {
                let mut props = Map::new();
                let mut required = Vec::new();
                for (name, schema, is_required) in properties {
                    let name = name.text();
                    if *is_required && !required.contains(&name) {
                        required.push(name.clone());
                    }
                    props.insert(name, schema.to_json(next));
                }
                let mut object = json!({ "type": "object", "properties": props });
                if !required.is_empty() {
                    object["required"] = json!(required);
                }
                if let Some(additional) = additional {
                    object["additionalProperties"] = additional.to_json(next);
                }
                object
            }
            Self::Ref(name) => json!({ "$ref": format!("#/components/schemas/{}", name.text()) }),
            Self::AllOf(list) => json!({ "allOf": list_json(list, next) }),
            Self::OneOf(list) => json!({ "oneOf": list_json(list, next) }),
            Self::AnyOf(list) => json!({ "anyOf": list_json(list, next) }),
            Self::Nullable(inner) => {
                let mut value = inner.to_json(next);
                if let Value::Object(object) = &mut value {
                    object.insert("nullable".into(), json!(true));
                }
                value
            }
            Self::Not(inner) => json!({ "not": inner.to_json(next) }),
            Self::Described(inner, description, title) => {
                let mut value = inner.to_json(next);
                if let Value::Object(object) = &mut value {
                    object.insert("description".into(), json!(description));
                    object.insert("title".into(), json!(title));
                }
                value
            }
            Self::Raw(raw) => raw.to_json(next),
        }
    }
}

fn list_json(list: &[SchemaModel], depth: usize) -> Value {
    list.iter().map(|schema| schema.to_json(depth)).collect()
}

/// Where a parameter goes.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum LocationModel {
    /// `path`.
    Path,
    /// `query`.
    Query,
    /// `header`.
    Header,
    /// `cookie`.
    Cookie,
}

/// A parameter.
#[derive(Arbitrary, Debug, Clone)]
pub struct ParameterModel {
    name: NameModel,
    location: LocationModel,
    required: bool,
    style: Option<NameModel>,
    explode: Option<bool>,
    schema: SchemaModel,
}

/// An HTTP method.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum MethodModel {
    /// `get`.
    Get,
    /// `post`.
    Post,
    /// `put`.
    Put,
    /// `delete`.
    Delete,
    /// `patch`.
    Patch,
}

/// A response: status key, media type, schema.
#[derive(Arbitrary, Debug, Clone)]
pub struct ResponseModel {
    status: u16,
    range: bool,
    media: Option<(NameModel, Option<SchemaModel>)>,
}

/// An operation.
#[derive(Arbitrary, Debug, Clone)]
pub struct OperationModel {
    method: MethodModel,
    operation_id: Option<NameModel>,
    description: Option<String>,
    parameters: Vec<ParameterModel>,
    body: Option<SchemaModel>,
    responses: Vec<ResponseModel>,
}

/// A path and its operations.
#[derive(Arbitrary, Debug, Clone)]
pub struct PathModel {
    segments: Vec<(bool, NameModel)>,
    operations: Vec<OperationModel>,
}

/// The `openapi` (or `swagger`) version line.
#[derive(Arbitrary, Debug, Clone)]
pub enum VersionModel {
    /// `3.0.3`.
    V303,
    /// `3.0.0`.
    V300,
    /// `3.1.0`.
    V310,
    /// `swagger: "2.0"`.
    Swagger,
    /// Anything.
    Other(JsonModel),
}

/// A whole OpenAPI document.
#[derive(Arbitrary, Debug, Clone)]
pub struct SpecModel {
    version: VersionModel,
    yaml: bool,
    paths: Vec<PathModel>,
    schemas: Vec<(NameModel, SchemaModel)>,
}

impl SpecModel {
    /// The document as a JSON value.
    pub fn to_json(&self) -> Value {
        let mut root = Map::new();
        match &self.version {
            VersionModel::V303 => root.insert("openapi".into(), json!("3.0.3")),
            VersionModel::V300 => root.insert("openapi".into(), json!("3.0.0")),
            VersionModel::V310 => root.insert("openapi".into(), json!("3.1.0")),
            VersionModel::Swagger => root.insert("swagger".into(), json!("2.0")),
            VersionModel::Other(other) => root.insert("openapi".into(), other.to_json(1)),
        };
        root.insert("info".into(), json!({ "title": "fuzz", "version": "1" }));
        let mut paths = Map::new();
        for path in &self.paths {
            let mut template = String::new();
            for (is_parameter, name) in &path.segments {
                if *is_parameter {
                    template.push_str(&format!("/{{{}}}", name.text()));
                } else {
                    template.push_str(&format!("/{}", name.text()));
                }
            }
            if template.is_empty() {
                template.push('/');
            }
            let mut item = Map::new();
            for operation in &path.operations {
                let method = match operation.method {
                    MethodModel::Get => "get",
                    MethodModel::Post => "post",
                    MethodModel::Put => "put",
                    MethodModel::Delete => "delete",
                    MethodModel::Patch => "patch",
                };
                item.insert(method.into(), operation.to_json());
            }
            paths.insert(template, Value::Object(item));
        }
        root.insert("paths".into(), Value::Object(paths));
        if !self.schemas.is_empty() {
            let schemas: Map<String, Value> = self
                .schemas
                .iter()
                .map(|(name, schema)| (name.text(), schema.to_json(0)))
                .collect();
            root.insert("components".into(), json!({ "schemas": schemas }));
        }
        Value::Object(root)
    }

    /// The document as text, YAML or JSON as the model says.
    pub fn to_text(&self) -> String {
        let value = self.to_json();
        if self.yaml {
            serde_yaml_ng::to_string(&value).expect("a JSON value serialises as YAML")
        } else {
            serde_json::to_string_pretty(&value).expect("a JSON value serialises")
        }
    }
}

impl OperationModel {
    fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(id) = &self.operation_id {
            object.insert("operationId".into(), json!(id.text()));
        }
        if let Some(description) = &self.description {
            object.insert("description".into(), json!(description));
        }
        if !self.parameters.is_empty() {
            let parameters: Vec<Value> = self
                .parameters
                .iter()
                .map(|parameter| {
                    let location = match parameter.location {
                        LocationModel::Path => "path",
                        LocationModel::Query => "query",
                        LocationModel::Header => "header",
                        LocationModel::Cookie => "cookie",
                    };
                    let mut value = json!({
                        "name": parameter.name.text(),
                        "in": location,
                        "required": parameter.required || matches!(parameter.location, LocationModel::Path),
                        "schema": parameter.schema.to_json(1),
                    });
                    if let Some(style) = &parameter.style {
                        value["style"] = json!(style.text());
                    }
                    if let Some(explode) = parameter.explode {
                        value["explode"] = json!(explode);
                    }
                    value
                })
                .collect();
            object.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(body) = &self.body {
            object.insert(
                "requestBody".into(),
                json!({ "content": { "application/json": { "schema": body.to_json(1) } } }),
            );
        }
        let mut responses = Map::new();
        for response in &self.responses {
            let key = if response.range {
                format!("{}XX", response.status % 10)
            } else {
                (response.status % 1000).to_string()
            };
            let mut value = json!({ "description": "r" });
            if let Some((media, schema)) = &response.media {
                let media = match media {
                    NameModel::Pool(index) if index % 2 == 0 => "application/json".to_owned(),
                    other => other.text(),
                };
                let mut content = Map::new();
                if let Some(schema) = schema {
                    content.insert("schema".into(), schema.to_json(1));
                }
                value["content"] = json!({ media: content });
            }
            responses.insert(key, value);
        }
        object.insert("responses".into(), Value::Object(responses));
        Value::Object(object)
    }
}

/// Serialises `spec` and generates from it with [`generate`] (no overlay).
pub fn codegen_structured(spec: &SpecModel) {
    generate(&spec.to_text(), None);
}
