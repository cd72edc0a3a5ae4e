//! The generator reports every problem of a spec in one run, sorted by location, each with an
//! overlay action that fixes it, instead of stopping at the first.

use codegen::problems::{Fix, Kind, Problem};
use insta::assert_snapshot;
use serde_json::{Value, json};

use crate::support::{fixture, generate};

/// The problems of `spec`, which must fail with several of them.
fn problems_of(spec: &str) -> Vec<Problem> {
    match generate(spec, None) {
        Err(codegen::Error::Problems { problems, .. }) => problems,
        Err(other) => panic!("{spec} failed with one error: {other}"),
        Ok(_) => panic!("{spec} generated"),
    }
}

/// An overlay made of the fixes that are overlay actions.
fn overlay_of(problems: &[Problem]) -> String {
    let mut actions: Vec<Value> = Vec::new();
    for problem in problems {
        match &problem.fix {
            Fix::Remove { targets, .. } => actions.extend(
                targets
                    .iter()
                    .map(|target| json!({"target": target, "remove": true})),
            ),
            Fix::Update { target, update } => {
                actions.push(json!({"target": target, "update": update}));
            }
            other => panic!("{}: no overlay action: {other}", problem.pointer),
        }
    }
    json!({"overlay": "1.0.0", "info": {"title": "fixes", "version": "1"}, "actions": actions})
        .to_string()
}

/// Three operations with one unsupported construct each (three error shapes, a
/// request body in two media types, JSON without a schema) beside one that is fine.
#[test]
fn three_unsupported_operations_are_reported_in_one_run() {
    let problems = problems_of("three_unsupported.yaml");
    let found: Vec<(&str, Kind)> = problems
        .iter()
        .map(|problem| (problem.pointer.as_str(), problem.kind))
        .collect();
    assert_eq!(
        found,
        [
            ("/paths/~1things~1{id}/delete", Kind::Response),
            ("/paths/~1things~1{id}/get", Kind::ErrorResponses),
            ("/paths/~1things~1{id}/put", Kind::RequestBody),
        ]
    );
    let error = generate("three_unsupported.yaml", None).expect_err("fails");
    assert_snapshot!("three_unsupported_report", error.to_string());
}

/// The overlay actions the report names are applied; the spec then generates, with
/// the kept error shape, the JSON body and the operation that was fine.
#[test]
fn suggested_overlay_actions_make_the_spec_generate() {
    let problems = problems_of("three_unsupported.yaml");
    let overlay = overlay_of(&problems);
    let spec = fixture("three_unsupported.yaml");
    let source = codegen::generate(
        codegen::Source::new("three_unsupported.yaml", &spec),
        Some(codegen::Source::new("fixes.json", &overlay)),
        &codegen::Settings::default(),
    )
    .unwrap_or_else(|error| panic!("the fixes do not fix it: {error}\n{overlay}"));
    for method in ["list_things", "get_thing", "put_thing", "delete_thing"] {
        assert!(source.contains(&format!("pub fn {method}(")), "{method}");
    }
    syn::parse_file(&source).expect("the output parses");
}

/// An overlay drops two of the three operations; the one problem left keeps its own
/// error and message (no list around it).
#[test]
fn a_single_problem_is_its_own_error() {
    let spec = fixture("three_unsupported.yaml");
    let overlay = json!({"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": [
        {"target": "$.paths['/things/{id}'].put", "remove": true},
        {"target": "$.paths['/things/{id}'].delete", "remove": true},
    ]})
    .to_string();
    let error = codegen::generate(
        codegen::Source::new("one.yaml", &spec),
        Some(codegen::Source::new("overlay.json", &overlay)),
        &codegen::Settings::default(),
    )
    .expect_err("one problem is left");
    assert!(
        matches!(error, codegen::Error::UnsupportedOperation { .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "one.yaml: /paths/~1things~1{id}/get: operation `get-thing`: has 3 different error \
         response schemas (responses 400, 409, 429, 4XX); the generator supports one per \
         operation, so give them one schema or drop the extra responses in the overlay"
    );
}

/// A string default on an array property and a JSON request body without a schema,
/// both refused by progenitor or typify without a location, are listed with their pointers and
/// fixes; applying the fixes makes the spec generate.
#[test]
fn mistyped_default_and_schemaless_body_are_located() {
    let spec = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /checks/{id}:\n    \
                delete:\n      operationId: delete-check\n      parameters:\n        \
                - {name: id, in: path, required: true, schema: {type: string}}\n      \
                requestBody:\n        content:\n          application/json: {}\n      \
                responses:\n        '200':\n          description: OK.\n          content:\n            \
                application/json:\n              schema: {$ref: '#/components/schemas/check'}\n\
                components:\n  schemas:\n    check:\n      type: object\n      properties:\n        \
                expected_codes:\n          type: array\n          items: {type: string}\n          \
                default: '200'\n";
    let problems = match codegen::generate(
        codegen::Source::new("checks.yaml", spec),
        None,
        &codegen::Settings::default(),
    ) {
        Err(codegen::Error::Problems { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    let found: Vec<(&str, Kind, String)> = problems
        .iter()
        .map(|problem| {
            (
                problem.pointer.as_str(),
                problem.kind,
                problem.fix.to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "/components/schemas/check/properties/expected_codes/default",
                Kind::DefaultMismatch,
                "add an overlay action `remove: true` on \
                 `$.components.schemas.check.properties.expected_codes.default`"
                    .to_owned()
            ),
            (
                "/paths/~1checks~1{id}/delete",
                Kind::RequestBody,
                "add an overlay action on \
                 `$.paths['/checks/{id}'].delete.requestBody.content['application/json']` with \
                 `update: {\"schema\":{}}`"
                    .to_owned()
            ),
        ]
    );
    let overlay = overlay_of(&problems);
    codegen::generate(
        codegen::Source::new("checks.yaml", spec),
        Some(codegen::Source::new("fixes.json", &overlay)),
        &codegen::Settings::default(),
    )
    .unwrap_or_else(|error| panic!("the fixes do not fix it: {error}"));
}
