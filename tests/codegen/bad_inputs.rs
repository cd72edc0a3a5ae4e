//! Each bad input fails with one clear message naming the file and the place (line and column,
//! or JSON pointer), and the output file is left exactly as it was.

use codegen::overlay::Overlay;
use serde_json::json;
use xtask::regenerate::{self, Options};

use crate::support::Sentinel;

/// Runs `cargo xtask regenerate --spec <file> --out <sentinel>` on `spec`, asserts it fails
/// without touching the sentinel, and returns the message with the spec's path shown as
/// `SPEC`.
fn regenerate_fails(file_name: &str, spec: &str) -> String {
    let sentinel = Sentinel::new();
    let spec_path = sentinel.input(file_name, spec);
    let result = regenerate::run(&Options {
        check: false,
        spec: Some(spec_path.clone()),
        out: Some(sentinel.path.clone()),
        ..Default::default()
    });
    sentinel.assert_untouched();
    let error = match result {
        Ok(report) => panic!("{file_name} generated: {:?}", report.outcome),
        Err(error) => format!("{error:#}"),
    };
    error.replace(&xtask::display_path(&spec_path), "SPEC")
}

/// The workspace's spec (so the workspace overlay applies), changed by `edit`.
fn workspace_spec(edit: impl FnOnce(String) -> String) -> String {
    let path = xtask::workspace_root().join("spec/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("read spec/openapi.yaml");
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing");
    edited
}

/// Inserts `block` before the first response range of `get-security-center-account-audit-log`.
fn add_response(block: &str) -> String {
    workspace_spec(|text| {
        let operation = "  /accounts/{account_id}/security-center/insights/audit-log:\n";
        let start = text
            .find(operation)
            .expect("the account audit-log operation");
        let (before, after) = text.split_at(start);
        let after = after.replacen("        4XX:\n", &format!("{block}        4XX:\n"), 1);
        format!("{before}{after}")
    })
}

/// Adds component schemas at the top of `components/schemas`.
fn add_schemas(block: &str) -> String {
    workspace_spec(|text| text.replacen("  schemas:\n", &format!("  schemas:\n{block}"), 1))
}

/// The unchanged workspace spec generates through `--spec` and `--out`, so each failure below
/// is caused by its one change.
#[test]
fn workspace_spec_copy_generates() {
    let sentinel = Sentinel::new();
    let text = workspace_spec(|text| text + "\n");
    let spec_path = sentinel.input("openapi.yaml", &text);
    let report = regenerate::run(&Options {
        check: false,
        spec: Some(spec_path),
        out: Some(sentinel.path.clone()),
        ..Default::default()
    })
    .unwrap_or_else(|error| panic!("{error:#}"));
    assert_eq!(report.outcome, xtask::files::Outcome::Written);
    let written = std::fs::read_to_string(&sentinel.path).expect("output");
    assert!(written.contains("pub fn get_security_center_issue_audit_log"));
}

/// Invalid YAML names the line and column of the syntax error.
#[test]
fn invalid_yaml_names_line_and_column() {
    let message = regenerate_fails(
        "openapi.yaml",
        "openapi: 3.0.3\ninfo:\n  title: [unclosed\n",
    );
    assert_eq!(
        message,
        "SPEC:4:1: invalid YAML: did not find expected ',' or ']'"
    );
}

/// An OpenAPI 3.1 document is refused up front, not with a bare serde error.
#[test]
fn openapi_3_1_is_not_supported() {
    let text = workspace_spec(|text| text.replace("openapi: 3.0.3", "openapi: 3.1.0"));
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /openapi: OpenAPI 3.1 is not supported (found 3.1.0); this generator reads OpenAPI 3.0.x"
    );
}

/// A Swagger 2.0 document is refused and named as such.
#[test]
fn swagger_2_is_not_supported() {
    let message = regenerate_fails(
        "swagger.json",
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
    );
    assert_eq!(
        message,
        "SPEC: /openapi: Swagger (OpenAPI 2.0) is not supported (found swagger: \"2.0\"); this generator reads OpenAPI 3.0.x"
    );
}

/// A `$ref` to a schema that does not exist names the pointer of the `$ref`.
#[test]
fn dangling_ref_names_its_pointer() {
    let text = workspace_spec(|text| {
        text.replace(
            "$ref: '#/components/schemas/security-center_auditLogResponse'",
            "$ref: '#/components/schemas/security-center_auditLogResponses'",
        )
    });
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /paths/~1accounts~1{account_id}~1security-center~1insights~1audit-log/get/responses/200/content/application~1json/schema/$ref: $ref `#/components/schemas/security-center_auditLogResponses` points at nothing in the document"
    );
}

/// A response `200:` beside the spec's `'200':`; YAML keeps them apart, JSON cannot,
/// and instead of the later one silently replacing the earlier, both are named by line.
#[test]
fn yaml_keys_that_become_one_json_key_name_both_lines() {
    let text = add_response("        200:\n          description: Replaced.\n");
    // Lines are counted from the operation the response was added to.
    let operation = text
        .find("  /accounts/{account_id}/security-center/insights/audit-log:\n")
        .expect("the account audit-log operation");
    let line_of = |needle: &str| {
        let at = operation + text[operation..].find(needle).expect("in the spec");
        1 + text[..at].lines().count()
    };
    let first = line_of("        '200':\n");
    let second = line_of("        200:\n");
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        format!(
            "SPEC:{second}:9: /paths/~1accounts~1{{account_id}}~1security-center~1insights~1audit-log/get/responses/200: key \"200\" is given twice in one mapping (first at line {first} column 9); as JSON keys they are the same, so one would silently replace the other (in YAML, 200 and '200' are the same key)"
        )
    );
}

/// Two different success schemas (progenitor would assert) name the operation and statuses.
#[test]
fn two_success_schemas_name_the_operation() {
    let text = add_response(
        "        '201':\n          description: Created.\n          content:\n            \
         application/json:\n              schema:\n                type: string\n",
    );
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /paths/~1accounts~1{account_id}~1security-center~1insights~1audit-log/get: operation `get-security-center-account-audit-log`: has 2 different success response schemas (responses 200, 201); the generator supports one per operation, so give them one schema or drop the extra responses in the overlay"
    );
}

/// `application/problem+json` is not typed by progenitor, so beside an `application/json`
/// success it is a second response shape, caught before progenitor asserts.
#[test]
fn problem_json_beside_json_is_a_second_shape() {
    let text = add_response(
        "        '202':\n          description: Accepted.\n          content:\n            \
         application/problem+json:\n              schema:\n                \
         $ref: '#/components/schemas/security-center_auditLogResponse'\n",
    );
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /paths/~1accounts~1{account_id}~1security-center~1insights~1audit-log/get: operation `get-security-center-account-audit-log`: has 2 different success response schemas (responses 200, 202); the generator supports one per operation, so give them one schema or drop the extra responses in the overlay"
    );
}

/// An `application/json` response without a schema (progenitor would `todo!`) is an error.
#[test]
fn json_response_without_schema_names_the_operation() {
    let text = add_response(
        "        '400':\n          description: Bad request.\n          content:\n            \
         application/json: {}\n",
    );
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /paths/~1accounts~1{account_id}~1security-center~1insights~1audit-log/get: operation `get-security-center-account-audit-log`: response 400 is `application/json` without a schema; give it one (e.g. `{}` for any JSON value) in the overlay"
    );
}

/// A path template name without a declared path parameter (progenitor would panic).
#[test]
fn path_template_without_parameter_names_the_operation() {
    let text = workspace_spec(|text| {
        text.replacen(
            "  /zones/{zone_id}/security-center/insights/audit-log:",
            "  /zones/{zone_id}/security-center/insights/{part}/log:",
            1,
        )
    });
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /paths/~1zones~1{zone_id}~1security-center~1insights~1{part}~1log/get: operation `get-zone-security-center-audit-log`: path template `/zones/{zone_id}/security-center/insights/{part}/log` names `{part}`, but no path parameter `part` is declared"
    );
}

/// Two operations sharing an operationId name the id and both places.
#[test]
fn duplicate_operation_ids_name_both_places() {
    let text = workspace_spec(|text| {
        text.replace(
            "operationId: get-zone-security-center-audit-log",
            "operationId: get-security-center-account-audit-log",
        )
    });
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /paths/~1zones~1{zone_id}~1security-center~1insights~1audit-log/get: operation `get-security-center-account-audit-log`: operationId is used twice (also at /paths/~1accounts~1{account_id}~1security-center~1insights~1audit-log/get)"
    );
}

/// Schemas that only alias each other in a circle name the cycle.
#[test]
fn cyclic_aliases_name_the_cycle() {
    let text = add_schemas(
        "    security-center_a:\n      $ref: '#/components/schemas/security-center_b'\n    \
         security-center_b:\n      $ref: '#/components/schemas/security-center_a'\n",
    );
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /components/schemas/security-center_b: $ref cycle with no schema in it: #/components/schemas/security-center_b -> #/components/schemas/security-center_a -> #/components/schemas/security-center_b"
    );
}

/// A `$ref` with sibling keys is still only a reference (OpenAPI 3.0 ignores the siblings), so a
/// circle of them is a cycle too, not an unconstructible pair of types.
#[test]
fn cyclic_aliases_with_descriptions_name_the_cycle() {
    let text = add_schemas(
        "    security-center_a:\n      description: A.\n      \
         $ref: '#/components/schemas/security-center_b'\n    security-center_b:\n      \
         description: B.\n      $ref: '#/components/schemas/security-center_a'\n",
    );
    let message = regenerate_fails("openapi.yaml", &text);
    assert_eq!(
        message,
        "SPEC: /components/schemas/security-center_b: $ref cycle with no schema in it: #/components/schemas/security-center_b -> #/components/schemas/security-center_a -> #/components/schemas/security-center_b"
    );
}

/// An overlay action whose target matches nothing in a valid spec (one without the audit-log
/// schemas the workspace overlay adjusts) fails with the overlay file, the action and its
/// target.
#[test]
fn overlay_target_matching_nothing_names_the_action() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  \
                schemas:\n    thing: {type: object}\n";
    let message = regenerate_fails("openapi.yaml", text);
    assert_eq!(
        message,
        "spec/overlay.yaml: /actions/1 (target $.components.parameters['security-center_auditLogFieldChanged'].schema): target matches nothing in SPEC; the spec changed under the overlay, so update or drop this action"
    );
}

/// An input that gets past every check but makes progenitor (here typify, inside it) panic is
/// returned as an error, not a crash.
#[test]
fn progenitor_panic_becomes_an_error() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /things:\n    get:\n      \
                operationId: get-thing\n      responses:\n        '200':\n          \
                description: OK.\n          content:\n            application/json:\n              \
                schema: {not: {enum: [null]}}\n";
    let error = codegen::generate(
        codegen::Source::new("openapi.yaml", text),
        None,
        &codegen::Settings::default(),
    )
    .expect_err("typify panics on `not` of an untyped null enum");
    assert_eq!(
        error.to_string(),
        "openapi.yaml: progenitor cannot generate a client: progenitor panicked: not yet implemented: unhandled not schema Object( SchemaObject { metadata: None, instance_type: Some( Single( Null, ), ), format: None, enum_values: None, const_value: None, subschemas: None, number: None, string: None, array: None, object: None, reference: None, extensions: {}, }, )"
    );
}

/// A setting that is not a Rust path is refused before anything is generated.
#[test]
fn date_time_decoder_must_be_a_path() {
    let text = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n";
    let settings = codegen::Settings {
        date_time_decoder: Some("crate::not a path".to_owned()),
        ..Default::default()
    };
    let error = codegen::generate(codegen::Source::new("openapi.yaml", text), None, &settings)
        .expect_err("a path with spaces is not a path");
    assert_eq!(
        error.to_string(),
        "invalid generator setting: `crate::not a path` is not a Rust path: unexpected token"
    );
}

fn overlay(actions: serde_json::Value) -> Overlay {
    let text =
        json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": actions})
            .to_string();
    Overlay::parse(codegen::Source::new("overlay.json", &text)).expect("overlay parses")
}

/// An update that would merge an object into a list (or a list into an object) is an error
/// naming the property, instead of appending the object to the list.
#[test]
fn overlay_update_of_incompatible_property_names_it() {
    let mut document = json!({"components": {"schemas": {"a": {"enum": ["x"]}}}});
    let error =
        overlay(json!([{"target": "$.components.schemas.a", "update": {"enum": {"y": 1}}}]))
            .apply("openapi.yaml", &mut document)
            .expect_err("an object does not merge into an array");
    assert_eq!(
        error.to_string(),
        "overlay.json: /actions/0 (target $.components.schemas.a): at /components/schemas/a: property /enum is an array and the update gives an object; these do not merge (remove the property in an earlier action to replace it)"
    );
    assert_eq!(
        document,
        json!({"components": {"schemas": {"a": {"enum": ["x"]}}}})
    );
}

/// Objects merge recursively, arrays concatenate, primitives are replaced, and a node that a
/// query selects twice is updated once.
#[test]
fn overlay_update_merges_once_per_node() {
    let mut document = json!({"a": {"required": ["x"], "title": "old", "nested": {"keep": 1}}});
    overlay(json!([{
        "target": "$['a','a']",
        "update": {"required": ["y"], "title": "new", "nested": {"add": 2}}
    }]))
    .apply("openapi.yaml", &mut document)
    .expect("update applies");
    assert_eq!(
        document,
        json!({"a": {"required": ["x", "y"], "title": "new", "nested": {"keep": 1, "add": 2}}})
    );
}

/// Removing several array elements removes exactly those, whatever their order in the query.
#[test]
fn overlay_remove_of_several_array_elements() {
    let mut document = json!({"list": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]});
    overlay(json!([{"target": "$.list[2,10,3]", "remove": true}]))
        .apply("openapi.yaml", &mut document)
        .expect("remove applies");
    assert_eq!(document, json!({"list": [0, 1, 4, 5, 6, 7, 8, 9, 11]}));
}

/// A component schema named `default` holding an empty `anyOf` (the shape fuzzing found: typify's
/// memory runs away on it), a property named `enum` whose default is not of its type, and an
/// empty `oneOf` in a `default` response: names are not keywords, so all three are refused.
#[test]
fn schemas_and_responses_named_like_keywords_are_checked() {
    let text = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
      "paths": {"/a": {"get": {"operationId": "get-a", "responses": {"default": {
        "description": "d", "content": {"application/json": {"schema": {"oneOf": []}}}}}}}},
      "components": {"schemas": {
        "default": {"allOf": [{"anyOf": []}, {"type": "object"}]},
        "Thing": {"type": "object", "properties": {"enum": {"type": "integer", "default": "x"}}}}}}"#;
    let message = codegen::prepare(codegen::Source::new("openapi.json", text), None)
        .expect_err("the three problems are found")
        .to_string();
    for problem in [
        "/components/schemas/default/allOf/0/anyOf: anyOf is empty",
        "/components/schemas/Thing/properties/enum/default: default \"x\" is not of the schema's \
         type `integer`",
        "/paths/~1a/get/responses/default/content/application~1json/schema/oneOf: oneOf is empty",
    ] {
        assert!(message.contains(problem), "{problem}\n{message}");
    }
}
