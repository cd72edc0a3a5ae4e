//! The extraction (`codegen::extract`): exactly the listed operations and what they reach, the
//! same bytes for the same input whatever its syntax, and a clear error for each input it
//! cannot cut.

use insta::assert_snapshot;
use serde_json::Value;

use crate::support::{extract_err, extract_ok, fixture, ids};

/// The operations the closure fixture keeps.
const KEPT: [&str; 3] = ["list-widgets", "get-widget", "create-widget"];

/// Three operations of the closure fixture, which reach shared, nested and
/// recursive schemas, a parameter, a request body, a response with a header and an example,
/// a link, a callback and two security schemes; the unreachable components, the other
/// operation of a kept path and the unused tag are left out.
#[test]
fn closure_is_exact() {
    let text = extract_ok("closure.yaml", &KEPT);
    assert_snapshot!("closure", text);
    let spec: Value = serde_yaml_ng::from_str(&text).expect("YAML");
    let names = |section: &str| -> Vec<&str> {
        spec["components"][section]
            .as_object()
            .map(|members| members.keys().map(String::as_str).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        names("schemas"),
        ["Error", "Event", "Id", "Part", "Tag", "Widget"]
    );
    assert_eq!(names("parameters"), ["PerPage", "WidgetId"]);
    assert_eq!(names("responses"), ["NotFound"]);
    assert_eq!(names("headers"), ["RequestId"]);
    assert_eq!(names("examples"), ["NotFoundExample"]);
    assert_eq!(names("links"), ["WidgetLink"]);
    assert_eq!(names("callbacks"), ["WidgetEvents"]);
    assert_eq!(names("requestBodies"), ["WidgetBody"]);
    assert_eq!(names("securitySchemes"), ["api_token", "oauth"]);
    let paths: Vec<(&str, Vec<&str>)> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .map(|(path, item)| {
            let members = item.as_object().expect("a path item");
            (path.as_str(), members.keys().map(String::as_str).collect())
        })
        .collect();
    assert_eq!(
        paths,
        [
            ("/widgets", vec!["get", "post"]),
            ("/widgets/{id}", vec!["get", "parameters", "x-path-note"]),
        ]
    );
    assert_eq!(spec["tags"].as_array().map(Vec::len), Some(1));
    assert_eq!(spec["x-top-level"], "kept with the document");
    assert_eq!(
        spec["components"]["x-components-note"],
        "kept with the components"
    );
}

/// The same extraction twice gives the same bytes.
#[test]
fn extraction_is_deterministic() {
    let first = extract_ok("closure.yaml", &KEPT);
    let second = extract_ok("closure.yaml", &KEPT);
    assert_eq!(first, second);
}

/// The closure fixture as JSON with every object's keys in reverse order gives the
/// same bytes as the YAML original.
#[test]
fn json_and_yaml_inputs_extract_the_same() {
    let yaml = fixture("closure.yaml");
    let value: Value = serde_yaml_ng::from_str(&yaml).expect("YAML");
    let mut json = String::new();
    write_reversed(&value, &mut json);
    let from_json =
        codegen::extract::extract(codegen::Source::new("closure.json", &json), &ids(&KEPT))
            .expect("the JSON copy extracts");
    assert_eq!(from_json.text, extract_ok("closure.yaml", &KEPT));
}

/// `value` as JSON text, every object's members written last key first.
fn write_reversed(value: &Value, out: &mut String) {
    match value {
        Value::Object(members) => {
            out.push('{');
            for (index, (key, member)) in members.iter().rev().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_reversed(member, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_reversed(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The extracted spec, read by the generator's own reader, is exactly the document
/// the extraction meant (a recursive schema and an unquoted `yes`-like string included).
#[test]
fn extracted_spec_reads_back_through_the_generator() {
    let text = extract_ok("closure.yaml", &KEPT);
    let read = codegen::document::parse(codegen::Source::new("openapi.yaml", &text))
        .expect("the generator's reader reads it");
    let direct: Value = serde_yaml_ng::from_str(&text).expect("YAML");
    assert_eq!(read, direct);
}

/// Two operationIds of the list are not in the document: both are named at once.
#[test]
fn missing_operations_are_all_named() {
    let message = extract_err(
        &fixture("closure.yaml"),
        &["get-widget", "get-sprocket", "list-sprockets"],
    );
    assert_eq!(
        message,
        "upstream.yaml: no operation has operationId `get-sprocket`, `list-sprockets`; if \
         upstream renamed or removed it, change the list of tracked operations"
    );
}

/// A small document around one kept operation `get-thing` whose 200 response has `schema`.
fn one_operation(schema: &str, components: &str) -> String {
    format!(
        "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /things:\n    get:\n      \
         operationId: get-thing\n      responses:\n        '200':\n          description: OK.\n          \
         content:\n            application/json:\n              schema: {schema}\n\
         components:\n{components}"
    )
}

/// The kept operation refers to a schema the document lacks; the `$ref` is named.
#[test]
fn dangling_ref_names_its_pointer() {
    let text = one_operation(
        "{$ref: '#/components/schemas/Missing'}",
        "  schemas:\n    Thing: {type: object}\n",
    );
    assert_eq!(
        extract_err(&text, &["get-thing"]),
        "upstream.yaml: /paths/~1things/get/responses/200/content/application~1json/schema/$ref: \
         $ref `#/components/schemas/Missing` points at nothing in the document"
    );
}

/// A reached schema refers into a part of another schema that does not exist.
#[test]
fn dangling_ref_inside_a_component_names_its_pointer() {
    let text = one_operation(
        "{$ref: '#/components/schemas/Thing'}",
        "  schemas:\n    Thing: {type: object, properties: {part: {$ref: '#/components/schemas/Other/properties/nope'}}}\n    \
         Other: {type: object}\n",
    );
    assert_eq!(
        extract_err(&text, &["get-thing"]),
        "upstream.yaml: /components/schemas/Thing/properties/part/$ref: $ref \
         `#/components/schemas/Other/properties/nope` points at nothing in the document"
    );
}

/// A reached schema refers to another file.
#[test]
fn external_ref_names_its_pointer() {
    let text = one_operation(
        "{$ref: '#/components/schemas/Thing'}",
        "  schemas:\n    Thing: {type: object, properties: {id: {$ref: 'common.yaml#/Id'}}}\n",
    );
    assert_eq!(
        extract_err(&text, &["get-thing"]),
        "upstream.yaml: /components/schemas/Thing/properties/id/$ref: $ref `common.yaml#/Id` is \
         not local; only `#/...` references are supported"
    );
}

/// A kept operation refers to a part of another path, which the cut drops.
#[test]
fn ref_outside_components_is_refused() {
    let text = one_operation(
        "{$ref: '#/paths/~1other/get/responses/200/content/application~1json/schema'}",
        "  schemas: {}\n",
    );
    assert_eq!(
        extract_err(&text, &["get-thing"]),
        "upstream.yaml: /paths/~1things/get/responses/200/content/application~1json/schema/$ref: \
         $ref `#/paths/~1other/get/responses/200/content/application~1json/schema` points \
         outside #/components/; spec-sync keeps whole components only, so the extracted spec \
         could not hold what it points at"
    );
}

/// A response and a header that refer to each other; the cycle is named from the
/// first `$ref` on it.
#[test]
fn cycle_through_non_schema_components_is_refused() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n      \
                operationId: get-thing\n      responses:\n        '200': {$ref: '#/components/responses/Ok'}\n\
                components:\n  responses:\n    Ok:\n      description: OK.\n      headers:\n        \
                X-Next: {$ref: '#/components/headers/Next'}\n  headers:\n    Next:\n      \
                schema: {type: string}\n      examples:\n        again: {$ref: '#/components/examples/Loop'}\n  \
                examples:\n    Loop: {$ref: '#/components/responses/Ok'}\n";
    assert_eq!(
        extract_err(text, &["get-thing"]),
        "upstream.yaml: /components/examples/Loop/$ref: reference cycle through components that \
         are not schemas: #/components/examples/Loop -> #/components/responses/Ok -> \
         #/components/headers/Next -> #/components/examples/Loop; only schemas may refer to \
         themselves"
    );
}

/// A callback that contains itself.
#[test]
fn callback_containing_itself_is_refused() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    post:\n      \
                operationId: watch-things\n      callbacks:\n        changed: {$ref: '#/components/callbacks/Changed'}\n      \
                responses:\n        '201': {description: Created.}\n\
                components:\n  callbacks:\n    Changed:\n      '{$request.body#/url}':\n        post:\n          \
                callbacks:\n            again: {$ref: '#/components/callbacks/Changed'}\n          \
                responses:\n            '200': {description: OK.}\n";
    assert_eq!(
        extract_err(text, &["watch-things"]),
        "upstream.yaml: /components/callbacks/Changed/{$request.body#~1url}/post/callbacks/again/$ref: \
         reference cycle through components that are not schemas: #/components/callbacks/Changed \
         -> #/components/callbacks/Changed; only schemas may refer to themselves"
    );
}

/// A kept operation names a security scheme the document does not define.
#[test]
fn undefined_security_scheme_is_refused() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n      \
                operationId: get-thing\n      security:\n        - api_token: []\n      \
                responses:\n        '204': {description: Done.}\ncomponents: {}\n";
    assert_eq!(
        extract_err(text, &["get-thing"]),
        "upstream.yaml: /paths/~1things/get/security/0/api_token: the security requirement names \
         the scheme `api_token`, which #/components/securitySchemes does not define"
    );
}

/// Two operations share one listed operationId; the cut cannot choose.
#[test]
fn shared_operation_id_is_refused() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      \
                operationId: get-thing\n      responses: {'204': {description: Done.}}\n  /b:\n    \
                get:\n      operationId: get-thing\n      responses: {'204': {description: Done.}}\n";
    assert_eq!(
        extract_err(text, &["get-thing"]),
        "upstream.yaml: /paths/~1b/get: operationId `get-thing` is also used at /paths/~1a/get; \
         spec-sync cannot tell which of the two to keep"
    );
}

/// A JSON document whose unreached schema `Deep`, before `paths`, nests `depth` arrays, and
/// whose kept operation `get-thing` gives response `"200"` twice.
fn deep_then_repeated(depth: usize) -> String {
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    format!(
        "{{\"openapi\": \"3.0.3\", \"info\": {{\"title\": \"t\", \"version\": \"1\"}},\n\
         \"components\": {{\"schemas\": {{\"Deep\": {{\"x-deep\": {deep}}}}}}},\n\
         \"paths\": {{\"/things\": {{\"get\": {{\"operationId\": \"get-thing\", \"responses\": {{\n\
         \"200\": {{\"description\": \"First.\"}},\n\
         \"200\": {{\"description\": \"Second.\"}}}}}}}}}}}}"
    )
}

/// A value nested deeper than serde_json's 128 levels comes before a response given twice:
/// the repeated key is still found and named, rather than kept last-wins.
#[test]
fn duplicate_key_after_deep_nesting_is_refused() {
    for depth in [100, 129, 5_000] {
        let text = deep_then_repeated(depth);
        assert_eq!(
            extract_err(&text, &["get-thing"]),
            "upstream.yaml:5:5: /paths/~1things/get/responses/200: key \"200\" is given twice in \
             one mapping (first at line 4 column 5); as JSON keys they are the same, so one would \
             silently replace the other (in YAML, 200 and '200' are the same key)",
            "nested {depth} deep"
        );
    }
}

/// Without the repeated key, the unreached deep schema is no obstacle; a deep value that is
/// kept cannot be built and is refused, naming its pointer.
#[test]
fn deep_nesting_is_cut_away_or_refused_where_it_is_kept() {
    let text = deep_then_repeated(5_000).replacen(
        "\"200\": {\"description\": \"Second.\"}",
        "\"204\": {\"description\": \"Second.\"}",
        1,
    );
    let extraction = codegen::extract::extract(
        codegen::Source::new("upstream.json", &text),
        &ids(&["get-thing"]),
    )
    .expect("the deep schema is not reached");
    assert!(!extraction.text.contains("Deep"), "{}", extraction.text);
    let kept = text.replacen(
        "\"responses\": {",
        "\"x-deep\": {\"$ref\": \"#/components/schemas/Deep\"}, \"responses\": {",
        1,
    );
    // (The position serde_json gives is within the value.)
    let message = extract_err(&kept, &["get-thing"]);
    assert!(
        message.starts_with(
            "upstream.yaml: /components/schemas/Deep: cannot be read: recursion limit exceeded"
        ),
        "{message}"
    );
}
