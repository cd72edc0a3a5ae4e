//! Generality on real input: `fixtures/upstream-trimmed.json` is a cut of Cloudflare's whole
//! API document at commit `cca3064f` of cloudflare/api-schemas (2024-08-06; BSD-3-Clause, see
//! `upstream-trimmed.LICENSE`): 33 operations of eight products with their components. Cutting
//! a handful of them out gives a spec that generates; the operations the generator cannot
//! express are all listed in one run, and the listed fixes make them generate too.

use codegen::problems::{Fix, Kind, Problem, Target};
use serde_json::{Value, json};

use crate::support::{fixture, ids};

/// The fixture's name.
const TRIMMED: &str = "upstream-trimmed.json";

/// Operations of several products that generate as upstream wrote them (the ones module
/// `upstream` of `tests/generated-clients` compiles).
const GENERATING: [&str; 10] = [
    "get-security-center-issues",
    "get-security-center-issue-counts-by-class",
    "archive-security-center-insight",
    "lists-get-lists",
    "lists-create-a-list",
    "lists-update-a-list",
    "zones-get",
    "user-api-tokens-verify-token",
    "cloudflare-i-ps-cloudflare-ip-details",
    "worker-script-download-worker",
];

/// Operations with constructs the generator cannot express as upstream wrote them.
const UNSUPPORTED: [&str; 6] = [
    "urlscanner-create-scan",
    "urlscanner-get-scan",
    "worker-script-delete-worker",
    "worker-script-upload-worker-module",
    "lists-delete-a-list",
    "health-checks-create-health-check",
];

/// The spec cut from the fixture for `operations`.
fn cut(operations: &[&str]) -> String {
    let text = fixture(TRIMMED);
    codegen::extract::extract(codegen::Source::new(TRIMMED, &text), &ids(operations))
        .unwrap_or_else(|error| panic!("the fixture does not extract: {error}"))
        .text
}

/// An overlay with no actions: the spec as upstream wrote it.
fn no_op_overlay() -> String {
    json!({"overlay": "1.0.0", "info": {"title": "none", "version": "1"}, "actions": []})
        .to_string()
}

/// Generates `spec` with `overlay` and the generator's default settings, on a thread with a
/// large stack (typify recurses deeply on Cloudflare's larger schemas in debug builds).
fn generate(spec: String, overlay: String) -> Result<String, codegen::Error> {
    std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            codegen::generate(
                codegen::Source::new("openapi.yaml", &spec),
                Some(codegen::Source::new("overlay.json", &overlay)),
                &codegen::Settings::default(),
            )
        })
        .expect("a thread")
        .join()
        .expect("the generator does not panic")
}

/// The Rust method progenitor names after an operationId.
fn method(operation: &str) -> String {
    operation.replace('-', "_")
}

/// Ten operations of six products are cut out with a no-op overlay; the client
/// generates, parses as Rust and has a method per operation.
#[test]
fn trimmed_upstream_operations_generate() {
    let source = generate(cut(&GENERATING), no_op_overlay())
        .unwrap_or_else(|error| panic!("does not generate: {error}"));
    syn::parse_file(&source).expect("the client parses as Rust");
    for operation in GENERATING {
        let name = method(operation);
        assert!(source.contains(&format!("pub fn {name}(")), "{name}");
    }
}

/// Compile-time only: the client module `upstream` of `tests/generated-clients` builds from the
/// same ten operations (cut by its build script, no overlay) has a method per operation whose
/// request sends: what spec-sync extracts from upstream's own document compiles.
#[allow(dead_code)]
async fn upstream_client_compiles(client: &generated_clients::upstream::Client) {
    let _ = client.get_security_center_issues().send().await;
    let _ = client
        .get_security_center_issue_counts_by_class()
        .send()
        .await;
    let _ = client.archive_security_center_insight().send().await;
    let _ = client.lists_get_lists().send().await;
    let _ = client.lists_create_a_list().send().await;
    let _ = client.lists_update_a_list().send().await;
    let _ = client.zones_get().send().await;
    let _ = client.user_api_tokens_verify_token().send().await;
    let _ = client.cloudflare_i_ps_cloudflare_ip_details().send().await;
    let _ = client.worker_script_download_worker().send().await;
}

/// The fixture is closed: cutting all of its operations keeps all of it.
#[test]
fn trimmed_fixture_is_its_own_closure() {
    let text = fixture(TRIMMED);
    let document: Value = serde_json::from_str(&text).expect("JSON");
    let operations: Vec<String> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("a path item").values())
        .filter_map(|operation| operation.get("operationId")?.as_str().map(str::to_owned))
        .collect();
    assert_eq!(operations.len(), 33);
    let extraction = codegen::extract::extract(codegen::Source::new(TRIMMED, &text), &operations)
        .expect("extracts");
    let kept: Value = serde_yaml_ng::from_str(&extraction.text).expect("YAML");
    assert_eq!(kept, document);
}

/// Six operations with nine problems between them (error and success shapes, JSON
/// responses and request bodies without a schema, a body in three media types the generator
/// cannot send, a mistyped default) are all listed in one run, sorted by location.
#[test]
fn trimmed_upstream_problems_are_listed_in_one_run() {
    let problems = match generate(cut(&UNSUPPORTED), no_op_overlay()) {
        Err(codegen::Error::Problems { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    let found: Vec<(&str, Kind)> = problems
        .iter()
        .map(|problem| (problem.pointer.as_str(), problem.kind))
        .collect();
    assert_eq!(
        found,
        [
            (
                "/components/schemas/healthchecks_http_config/properties/expected_codes/default",
                Kind::DefaultMismatch
            ),
            (
                "/paths/~1accounts~1{accountId}~1urlscanner~1scan/post",
                Kind::ErrorResponses
            ),
            (
                "/paths/~1accounts~1{accountId}~1urlscanner~1scan~1{scanId}/get",
                Kind::ErrorResponses
            ),
            (
                "/paths/~1accounts~1{accountId}~1urlscanner~1scan~1{scanId}/get",
                Kind::SuccessResponses
            ),
            (
                "/paths/~1accounts~1{account_id}~1rules~1lists~1{list_id}/delete",
                Kind::RequestBody
            ),
            (
                "/paths/~1accounts~1{account_id}~1workers~1scripts~1{script_name}/delete",
                Kind::RequestBody
            ),
            (
                "/paths/~1accounts~1{account_id}~1workers~1scripts~1{script_name}/delete",
                Kind::Response
            ),
            (
                "/paths/~1accounts~1{account_id}~1workers~1scripts~1{script_name}/delete",
                Kind::Response
            ),
            (
                "/paths/~1accounts~1{account_id}~1workers~1scripts~1{script_name}/put",
                Kind::RequestBody
            ),
        ]
    );
}

/// The overlay actions the problems name are applied, and the operation whose fix is
/// advice (a body in `application/javascript`, `multipart/form-data` or `text/javascript`) is
/// removed; the five others generate.
#[test]
fn trimmed_upstream_problems_are_fixed_by_their_overlay_actions() {
    let problems = match generate(cut(&UNSUPPORTED), no_op_overlay()) {
        Err(codegen::Error::Problems { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    let (overlay, removed) = overlay_of(&problems);
    assert_eq!(removed, ["worker-script-upload-worker-module"]);
    let source = generate(cut(&UNSUPPORTED), overlay)
        .unwrap_or_else(|error| panic!("the fixes do not fix it: {error}"));
    syn::parse_file(&source).expect("the client parses as Rust");
    for operation in UNSUPPORTED
        .iter()
        .filter(|id| !removed.contains(&id.to_string()))
    {
        let name = method(operation);
        assert!(source.contains(&format!("pub fn {name}(")), "{name}");
    }
}

/// An overlay made of the fixes that are overlay actions, removing the operation of each fix
/// that is advice; and the operationIds removed.
fn overlay_of(problems: &[Problem]) -> (String, Vec<String>) {
    let mut actions: Vec<Value> = Vec::new();
    let mut removed = Vec::new();
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
            _ => {
                let tokens: Vec<String> = problem
                    .pointer
                    .split('/')
                    .map(codegen::json_pointer::unescape)
                    .collect();
                let [_, paths, path, method] = tokens.as_slice() else {
                    panic!("advice for something other than an operation: {problem:?}");
                };
                assert_eq!(paths, "paths");
                let target = Target::root().key("paths").key(path).key(method);
                actions.push(json!({"target": target.as_str(), "remove": true}));
                let operation = problem.message.split('`').nth(1).unwrap_or_default();
                removed.push(operation.to_owned());
            }
        }
    }
    let overlay =
        json!({"overlay": "1.0.0", "info": {"title": "fixes", "version": "1"}, "actions": actions})
            .to_string();
    (overlay, removed)
}
