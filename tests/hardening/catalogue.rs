//! The catalogue of malformed and unsupported specs: each row is run through `cargo xtask
//! regenerate --spec <file> --out <file>` and either fails with its exact message, leaving the
//! output file byte for byte as it was, or generates. `docs/hardening.md` carries the same
//! table; the rows already covered by `tests/codegen/bad_inputs.rs` (invalid YAML, OpenAPI 3.1
//! and 2.0, a dangling `$ref`, `$ref` cycles, duplicate operationIds, two success schemas) are
//! listed there and not repeated here.

use xtask::regenerate::{self, Options};

use tests::Sentinel;

/// What a row must produce.
enum Expect {
    /// The run fails with exactly this message (the spec's path shown as `SPEC`).
    Error(&'static str),
    /// The run writes the output, which contains this text.
    Generates(&'static str),
}

/// The workspace spec (so the workspace overlay applies), changed by `edit`.
fn workspace(edit: impl FnOnce(&str) -> String) -> String {
    let text = std::fs::read_to_string(xtask::workspace_root().join("spec/openapi.yaml"))
        .expect("read spec/openapi.yaml");
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed nothing");
    edited
}

/// Adds parameters to the first audit-log operation (`get-security-center-account-audit-log`).
/// The rows write `block` with its list items at eight spaces; spec-sync writes the spec's at six.
fn with_parameters(block: &str) -> String {
    let block: String = block
        .lines()
        .map(|line| format!("{}\n", line.strip_prefix("  ").unwrap_or(line)))
        .collect();
    workspace(|text| {
        text.replacen(
            "      - $ref: '#/components/parameters/security-center_auditLogPerPage'\n",
            &format!(
                "      - $ref: '#/components/parameters/security-center_auditLogPerPage'\n{block}"
            ),
            1,
        )
    })
}

/// Adds component schemas.
fn with_schemas(block: &str) -> String {
    workspace(|text| text.replacen("  schemas:\n", &format!("  schemas:\n{block}"), 1))
}

/// Adds paths.
fn with_paths(block: &str) -> String {
    workspace(|text| text.replacen("paths:\n", &format!("paths:\n{block}"), 1))
}

/// progenitor's refusal of a cookie parameter, which quotes the parameter (on one line).
const COOKIE_ERROR: &str = "SPEC: progenitor cannot generate a client: unexpected or unhandled format in the OpenAPI document cookie parameters are not supported Cookie { parameter_data: ParameterData { name: \"session\", description: None, required: false, deprecated: None, format: Schema( Item( Schema { schema_data: SchemaData { nullable: false, read_only: false, write_only: false, deprecated: false, external_docs: None, example: None, title: None, description: None, discriminator: None, default: None, extensions: {}, }, schema_kind: Type( String( StringType { format: Empty, pattern: None, enumeration: [], min_length: None, max_length: None, }, ), ), }, ), ), example: None, examples: {}, explode: None, extensions: {}, }, style: Form, }";

/// The rows: name, spec file name, spec text, expected outcome.
fn rows() -> Vec<(&'static str, &'static str, String, Expect)> {
    vec![
        (
            "invalid JSON",
            "openapi.json",
            r#"{"openapi": "3.0.3", "info": }"#.to_owned(),
            Expect::Error("SPEC:1:30: invalid JSON: expected value"),
        ),
        (
            "empty file",
            "openapi.yaml",
            String::new(),
            Expect::Error(
                "SPEC: /openapi: missing: this is not an OpenAPI document (no `openapi` version field)",
            ),
        ),
        (
            "no openapi version",
            "openapi.yaml",
            workspace(|text| text.replacen("openapi: 3.0.3\n", "", 1)),
            Expect::Error(
                "SPEC: /openapi: missing: this is not an OpenAPI document (no `openapi` version field)",
            ),
        ),
        (
            "YAML tag",
            "openapi.yaml",
            workspace(|text| text.replacen("info:\n", "x-tagged: !custom value\ninfo:\n", 1)),
            Expect::Error("SPEC: /x-tagged: YAML tag `!custom` is not supported"),
        ),
        (
            "duplicate YAML key",
            "openapi.yaml",
            workspace(|text| text.replacen("info:\n", "openapi: 3.0.2\ninfo:\n", 1)),
            // Line 5: after the four lines of spec-sync's header.
            Expect::Error("SPEC:5:1: invalid YAML: duplicate entry with key \"openapi\""),
        ),
        (
            "external $ref",
            "openapi.yaml",
            workspace(|text| {
                text.replacen(
                    "$ref: '#/components/schemas/security-center_identifier'",
                    "$ref: 'common.yaml#/components/schemas/identifier'",
                    1,
                )
            }),
            Expect::Error(
                "SPEC: /paths/~1accounts~1{account_id}~1security-center~1insights/get/parameters/0/schema/$ref: $ref `common.yaml#/components/schemas/identifier` is not local; only `#/...` references are supported",
            ),
        ),
        (
            "operation without operationId",
            "openapi.yaml",
            workspace(|text| {
                text.replacen(
                    "      operationId: get-zone-security-center-audit-log\n",
                    "",
                    1,
                )
            }),
            Expect::Error(
                "SPEC: /paths/~1zones~1{zone_id}~1security-center~1insights~1audit-log/get: operation `GET /zones/{zone_id}/security-center/insights/audit-log`: has no operationId, which names its client method",
            ),
        ),
        (
            "recursive schema (through a property)",
            "openapi.yaml",
            with_schemas(
                "    security-center_node:\n      type: object\n      properties:\n        \
                 next:\n          $ref: '#/components/schemas/security-center_node'\n",
            ),
            Expect::Generates("pub struct SecurityCenterNode"),
        ),
        (
            "mutually recursive schemas (through array items)",
            "openapi.yaml",
            with_schemas(
                "    security-center_a:\n      type: object\n      properties:\n        \
                 children:\n          type: array\n          items:\n            \
                 $ref: '#/components/schemas/security-center_b'\n    security-center_b:\n      \
                 type: object\n      required: [parent]\n      properties:\n        parent:\n          \
                 $ref: '#/components/schemas/security-center_a'\n",
            ),
            Expect::Generates("pub struct SecurityCenterB"),
        ),
        (
            "query parameter with style: deepObject",
            "openapi.yaml",
            with_parameters(
                "        - name: filter\n          in: query\n          style: deepObject\n          \
                 explode: true\n          schema:\n            type: object\n            \
                 properties:\n              a: {type: string}\n",
            ),
            Expect::Error(
                "SPEC: progenitor cannot generate a client: unexpected or unhandled format in the OpenAPI document unsupported style of query parameter DeepObject",
            ),
        ),
        (
            "query array with style: form, explode: false",
            "openapi.yaml",
            with_parameters(
                "        - name: ids\n          in: query\n          style: form\n          \
                 explode: false\n          schema:\n            type: array\n            \
                 items: {type: string}\n",
            ),
            Expect::Generates("pub fn ids"),
        ),
        (
            "query parameter with style: spaceDelimited",
            "openapi.yaml",
            with_parameters(
                "        - name: ids\n          in: query\n          style: spaceDelimited\n          \
                 schema:\n            type: array\n            items: {type: string}\n",
            ),
            Expect::Error(
                "SPEC: progenitor cannot generate a client: unexpected or unhandled format in the OpenAPI document unsupported style of query parameter SpaceDelimited",
            ),
        ),
        (
            "path parameter with style: matrix",
            "openapi.yaml",
            workspace(|text| {
                text.replacen(
                    "      - in: path\n        name: account_id\n",
                    "      - in: path\n        name: account_id\n        style: matrix\n",
                    1,
                )
            }),
            Expect::Error(
                "SPEC: progenitor cannot generate a client: unexpected or unhandled format in the OpenAPI document unsupported style of path parameter Matrix",
            ),
        ),
        (
            "cookie parameter",
            "openapi.yaml",
            with_parameters(
                "        - name: session\n          in: cookie\n          schema: {type: string}\n",
            ),
            Expect::Error(COOKIE_ERROR),
        ),
        (
            "header parameter",
            "openapi.yaml",
            with_parameters(
                "        - name: x-request-id\n          in: header\n          schema: {type: string}\n",
            ),
            Expect::Generates("pub fn x_request_id"),
        ),
        (
            "form-encoded request body",
            "openapi.yaml",
            with_paths(
                "  /forms:\n    post:\n      operationId: post-form\n      requestBody:\n        \
                 content:\n          application/x-www-form-urlencoded:\n            schema:\n              \
                 type: object\n              properties:\n                a: {type: string}\n      \
                 responses:\n        '204':\n          description: Done.\n",
            ),
            Expect::Generates("pub fn post_form"),
        ),
        (
            "text/plain success response",
            "openapi.yaml",
            with_paths(
                "  /text:\n    get:\n      operationId: get-text\n      responses:\n        '200':\n          \
                 description: OK.\n          content:\n            text/plain:\n              \
                 schema: {type: string}\n",
            ),
            Expect::Generates("pub fn get_text"),
        ),
        (
            "path parameter named `../../escape`",
            "openapi.yaml",
            with_paths(
                "  /things/{../../escape}:\n    get:\n      operationId: get-thing\n      \
                 parameters:\n        - name: ../../escape\n          in: path\n          \
                 required: true\n          schema: {type: string}\n      responses:\n        \
                 '204':\n          description: Done.\n",
            ),
            Expect::Error(
                "SPEC: progenitor cannot generate a client: invalid operation path invalid parameter name \"../../escape\"",
            ),
        ),
        (
            "enum values that make the same variant name (`*/`, `/*`)",
            "openapi.yaml",
            with_schemas(
                "    security-center_comment:\n      type: string\n      enum: ['*/', '/*']\n",
            ),
            Expect::Error(
                "SPEC: progenitor cannot generate a client: progenitor panicked: Failed to make unique variant names for [*/,/*]",
            ),
        ),
        (
            "schema containing itself through allOf (found by fuzzing: was a stack overflow)",
            "openapi.yaml",
            with_schemas(
                "    security-center_a:\n      allOf:\n        - $ref: '#/components/schemas/security-center_a'\n        \
                 - type: object\n",
            ),
            Expect::Error(
                "SPEC: /components/schemas/security-center_a: schema contains itself through allOf/anyOf/oneOf/not with no property or array item in between: #/components/schemas/security-center_a -> #/components/schemas/security-center_a; the generator cannot lay out such a type",
            ),
        ),
        (
            "property whose allOf merges its own schema (found by fuzzing: was a stack overflow)",
            "openapi.yaml",
            with_schemas(
                "    security-center_node:\n      type: object\n      properties:\n        parent:\n          \
                 allOf:\n            - $ref: '#/components/schemas/security-center_node'\n            \
                 - required: [id]\n",
            ),
            Expect::Error(
                "SPEC: /components/schemas/security-center_node/properties/parent: allOf merges #/components/schemas/security-center_node, which contains this allOf; the generator would merge it into itself without end (refer to it with a plain $ref, or move the extra constraints into #/components/schemas/security-center_node)",
            ),
        ),
        (
            "empty allOf (found by fuzzing: was a stack overflow beside a self-reference)",
            "openapi.yaml",
            with_schemas("    security-center_a:\n      allOf: []\n"),
            Expect::Error(
                "SPEC: /components/schemas/security-center_a/allOf: allOf is empty; it must list at least one schema",
            ),
        ),
        (
            "10 MB spec (10 MB of extension data)",
            "openapi.yaml",
            workspace(|text| {
                let padding: String = (0..100_000)
                    .map(|index| format!("  - pad-{index:06}-{}\n", "x".repeat(86)))
                    .collect();
                format!("{text}\nx-padding:\n{padding}")
            }),
            Expect::Generates("pub fn get_security_center_issue_audit_log"),
        ),
    ]
}

/// Every row of the catalogue gives its recorded outcome; a failing run leaves the output
/// file untouched and no temporary file behind.
#[test]
fn catalogue_of_malformed_and_unsupported_specs() {
    let mut mismatches = Vec::new();
    for (name, file_name, text, expect) in rows() {
        let sentinel = Sentinel::new();
        let spec_path = sentinel.input(file_name, &text);
        let result = regenerate::run(&Options {
            check: false,
            spec: Some(spec_path.clone()),
            out: Some(sentinel.path.clone()),
            ..Default::default()
        });
        let actual = match &result {
            Ok(_) => Ok(std::fs::read_to_string(&sentinel.path).expect("the output")),
            Err(error) => {
                sentinel.assert_untouched();
                Err(format!("{error:#}").replace(&xtask::display_path(&spec_path), "SPEC"))
            }
        };
        let matches = match (&expect, &actual) {
            (Expect::Error(message), Err(actual)) => message == actual,
            (Expect::Generates(needle), Ok(code)) => {
                syn::parse_file(code).is_ok() && code.contains(needle)
            }
            _ => false,
        };
        if !matches {
            let shown = match actual {
                Ok(code) => format!("generates ({} bytes)", code.len()),
                Err(message) => format!("error: {message}"),
            };
            mismatches.push(format!("{name}: {shown}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "rows with another outcome:\n{}",
        mismatches.join("\n")
    );
}
