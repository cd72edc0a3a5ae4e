//! Size and depth: very large or deeply nested specs and responses fail cleanly (an error, no
//! stack overflow, no unbounded buffering); the 10 MB spec is a row of the catalogue. Deep
//! inputs run on a thread with a normal 2 MiB stack, so a recursion that the parsers did not
//! bound would crash the test binary.

use cloudflare_security_center::types::SecurityCenterAuditLogResponse;
use cloudflare_security_center::{Error, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockServer};

use crate::support::client;

/// How deep the nested inputs go.
const DEPTH: usize = 100_000;
/// How deep the YAML flow-style spec nests (its parsing time grows with the square of this).
const FLOW_DEPTH: usize = 10_000;
/// How deep the YAML block-style spec nests (its size grows with the square of this).
const BLOCK_DEPTH: usize = 1_000;

/// Runs `body` on a thread with a 2 MiB stack and returns its result.
fn on_normal_stack<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(body)
        .expect("a thread")
        .join()
        .expect("the thread did not panic")
}

fn generate(text: &str) -> Result<String, codegen::Error> {
    codegen::generate(
        codegen::Source::new("deep.yaml", text),
        None,
        &codegen::Settings::default(),
    )
}

/// A spec that is 100 000 arrays deep in JSON, 10,000 in YAML flow style and 1,000 in YAML
/// block style is refused by the parser's recursion limit with a positioned syntax error.
#[test]
fn deeply_nested_specs_fail_with_a_recursion_limit() {
    let messages = on_normal_stack(|| {
        let json = format!(
            "{{\"openapi\": \"3.0.3\", \"x\": {}{}}}",
            "[".repeat(DEPTH),
            "]".repeat(DEPTH)
        );
        // libyaml scans its open flow levels at every token, so a flow-style spec takes time
        // with the square of its depth: 10,000 levels, far past the limit, prove the same.
        let flow = format!(
            "openapi: 3.0.3\nx: {}{}\n",
            "[".repeat(FLOW_DEPTH),
            "]".repeat(FLOW_DEPTH)
        );
        // Block style grows with the square of its depth (each level indents further): 1,000
        // levels, far past the parser's limit of 128, are enough to prove the same.
        let block: String = (0..BLOCK_DEPTH)
            .map(|level| format!("{}- \n", "  ".repeat(level)))
            .collect();
        let block = format!("openapi: 3.0.3\nx:\n{block}");
        [json, flow, block]
            .iter()
            .map(|text| {
                generate(text)
                    .map(|_| ())
                    .map_err(|error| error.to_string())
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(
        messages[0],
        Err("deep.yaml:1:153: invalid JSON: recursion limit exceeded".to_owned())
    );
    assert_eq!(
        messages[1],
        Err("deep.yaml:2:131: invalid YAML: recursion limit exceeded".to_owned())
    );
    assert!(
        messages[2]
            .as_ref()
            .is_err_and(|error| error.contains("recursion limit exceeded")),
        "{:?}",
        messages[2]
    );
}

/// A YAML alias bomb (each level nine aliases of the previous) is refused by the parser's
/// repetition limit instead of expanding to billions of nodes.
#[test]
fn yaml_alias_bomb_is_refused() {
    let mut text = String::from("openapi: 3.0.3\na0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let previous = format!("*a{}", level - 1);
        let list = vec![previous; 9].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{list}]\n"));
    }
    let error = generate(&text).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "deep.yaml:0:0: invalid YAML: repetition limit exceeded"
    );
}

/// A response nested 100 000 arrays deep never recurses that deep: in a typed field the
/// decoder stops at the first value of the wrong type (an entry read as a sequence fails on its
/// first field, `changed_at`) (with the path, in the path-reporting
/// decode the runtime uses for its error), and in an unknown field it skips the value without
/// recursion, so the page decodes.
#[test]
fn deeply_nested_responses_decode_or_fail_without_recursing() {
    let outcomes = on_normal_stack(|| {
        let deep = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
        let typed =
            format!(r#"{{"success": true, "errors": [], "messages": [], "result": {deep}}}"#);
        let unknown = format!(r#"{{"success": true, "errors": [], "messages": [], "x": {deep}}}"#);
        let plain = |body: &str| {
            serde_json::from_slice::<SecurityCenterAuditLogResponse>(body.as_bytes())
                .map(|page| page.result.len())
                .map_err(|error| error.to_string())
        };
        let mut deserializer = serde_json::Deserializer::from_slice(typed.as_bytes());
        let located = serde_path_to_error::deserialize::<_, SecurityCenterAuditLogResponse>(
            &mut deserializer,
        )
        .map(|_| ())
        .map_err(|error| error.to_string());
        (plain(&typed), located, plain(&unknown))
    });
    assert_eq!(
        outcomes.0,
        Err("invalid type: sequence, expected an RFC 3339 formatted date and time string at line 1 column 60".to_owned())
    );
    assert_eq!(
        outcomes.1,
        Err("result[0][0]: invalid type: sequence, expected an RFC 3339 formatted date and time string at line 1 column 60".to_owned())
    );
    assert_eq!(outcomes.2, Ok(0));
}

/// The server answers 200 with a page carrying an unknown field nested 100 000
/// deep, then 200 with `result` nested that deep, then 400 with `errors` nested that deep; the
/// client, on a normal stack, reads the first page, returns a decode error naming `result[0][0]`
/// for the second and an API error with the body kept for the third.
#[test]
fn deeply_nested_responses_through_the_client_end_cleanly() {
    let results = on_normal_stack(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let deep = format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH));
            let json = |body: String| {
                CannedResponse::new(200)
                    .with_header("content-type", "application/json")
                    .with_body(body)
            };
            let failure = CannedResponse::new(400)
                .with_header("content-type", "application/json")
                .with_body(failure_body(&deep));
            let server = MockServer::start(Config::default().with_entries(1).with_script([
                json(format!(
                    r#"{{"success": true, "errors": [], "messages": [], "x": {deep}}}"#
                )),
                json(format!(
                    r#"{{"success": true, "errors": [], "messages": [], "result": {deep}}}"#
                )),
                failure,
            ]))
            .await;
            let client = client(&server);
            let mut results = Vec::new();
            for _ in 0..3 {
                results.push(client.audit_log(Scope::account(ACCOUNT_ID)).send().await);
            }
            results
        })
    });
    let mut results = results.into_iter();
    let page = results
        .next()
        .expect("three results")
        .expect("the first page decodes");
    assert!(page.entries().is_empty());
    match results.next().expect("three results") {
        Err(Error::Decode {
            status,
            path,
            message,
            body,
            ..
        }) => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(path, "result[0][0]");
            assert_eq!(
                message,
                "invalid type: sequence, expected an RFC 3339 formatted date and time string at line 1 column 60"
            );
            assert!(body.len() > 2 * DEPTH, "the body is kept");
        }
        other => panic!("{other:?}"),
    }
    match results.next().expect("three results") {
        Err(Error::Api(api)) => {
            assert_eq!(api.status.as_u16(), 400);
            assert!(api.errors.is_empty());
            assert!(api.body.len() > 2 * DEPTH, "the body is kept");
        }
        other => panic!("{other:?}"),
    }
}

fn failure_body(deep: &str) -> String {
    format!(r#"{{"success": false, "errors": {deep}, "messages": []}}"#)
}

/// The server answers 200 with a body over the client's 64 MiB limit; the client
/// stops reading there and returns a decode error naming the limit, with no body kept.
#[tokio::test]
async fn oversized_response_body_is_refused() {
    let body = vec![b' '; 64 * 1024 * 1024 + 1];
    let server = MockServer::start(
        Config::default()
            .with_entries(1)
            .with_script([CannedResponse::new(200)
                .with_header("content-type", "application/json")
                .with_body(body)]),
    )
    .await;
    let error = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect_err("refused");
    match error {
        Error::Decode {
            ref message,
            ref body,
            ..
        } => {
            assert_eq!(message, "the body exceeds the limit of 67108864 bytes");
            assert!(body.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

/// Generates every input in `fuzz/regressions/codegen_text/` whose name contains `prefix`, in
/// name order, on a normal-sized stack; each outcome as `Ok(())` or the error's message.
fn generate_regressions(prefix: &'static str) -> Vec<Result<(), String>> {
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/codegen_text");
    let mut inputs: Vec<_> = std::fs::read_dir(&folder)
        .expect("the regression inputs")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().contains(prefix))
        .collect();
    inputs.sort();
    on_normal_stack(move || {
        inputs
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).expect("an input");
                generate(&text)
                    .map(|_| ())
                    .map_err(|error| error.to_string())
            })
            .collect()
    })
}

/// Asserts that every outcome is an error whose message contains `expected`.
fn assert_each_refused_with(messages: &[Result<(), String>], expected: &str) {
    for message in messages {
        assert!(
            message.as_ref().is_err_and(|text| text.contains(expected)),
            "{message:?}"
        );
    }
}

/// Found by the `codegen_structured` fuzz target (a SIGSEGV: typify recursed until the stack
/// overflowed, which `catch_unwind` cannot stop): a schema that contains itself through
/// `allOf`, `anyOf` or `oneOf` beside other schemas, or through `not` (`not_fuzz` and the
/// reduced `not`: `A: {allOf: [{}, {not: {not: {$ref: A}}}]}`). Each such input, on a normal
/// stack, is now refused with an error naming the cycle. The inputs are in
/// `fuzz/regressions/codegen_text/composition_cycle_*.yaml`.
#[test]
fn schemas_containing_themselves_through_composition_are_refused() {
    let messages = generate_regressions("composition_cycle_");
    assert_eq!(messages.len(), 9);
    assert_each_refused_with(
        &messages,
        "schema contains itself through allOf/anyOf/oneOf/not",
    );
    assert_eq!(
        messages[0],
        Err("deep.yaml: /components/schemas/A: schema contains itself through allOf/anyOf/oneOf/not with no property or array item in between: #/components/schemas/A -> #/components/schemas/A; the generator cannot lay out such a type".to_owned())
    );
}

/// `codegen_structured` found more stack overflows in typify: an `allOf` inside a schema (in a
/// property, in array items) that merges that same schema (e.g.
/// `A.p: {allOf: [{$ref: A}, {type: object}]}`, or through the `allOf` of a schema it merges).
/// Each such input, on a normal stack, is now refused with an error naming the `allOf` and the
/// schema; the inputs are in `fuzz/regressions/codegen_text/self_merge_*` (the `fuzz`,
/// `nested_all_of` and `annotated_ref_to_merge_fuzz` files are the fuzzer's, the others
/// hand-written variants). `nested_all_of` merges the schema through an `allOf` nested in an
/// `allOf`, next to empty members, and `annotated_ref_to_merge*` annotate a reference to a
/// schema that is an `allOf` itself: the check first took both for annotated references.
#[test]
fn all_ofs_merging_their_own_schema_are_refused() {
    let messages = generate_regressions("self_merge_");
    assert_eq!(messages.len(), 10);
    assert_each_refused_with(&messages, "which contains this allOf");
    // Sorted: annotated_ref_to_merge, annotated_ref_to_merge_fuzz, fuzz, fuzz_items,
    // nested_all_of, ref_plus_object, ref_plus_same_prop, required_only, top_allof_self_prop,
    // via_compose.
    assert_eq!(
        messages[0],
        Err("deep.yaml: /components/schemas/A/allOf/0/properties/p: allOf merges #/components/schemas/A, which contains this allOf; the generator would merge it into itself without end (refer to it with a plain $ref, or move the extra constraints into #/components/schemas/A)".to_owned())
    );
    // The fuzzer's nested input has three such `allOf`s, each reported with its overlay fix.
    let nested = messages[4].as_ref().expect_err("refused");
    assert!(
        nested.starts_with("deep.yaml: 3 problems the generator cannot handle")
            && nested.contains("\n  /components/schemas//properties//properties/: allOf merges #/components/schemas/, which contains this allOf; the generator would merge it into itself without end (refer to it with a plain $ref, or move the extra constraints into #/components/schemas/)\n"),
        "{nested}"
    );
    assert_eq!(
        messages[5],
        Err("deep.yaml: /components/schemas/A/properties/p: allOf merges #/components/schemas/A, which contains this allOf; the generator would merge it into itself without end (refer to it with a plain $ref, or move the extra constraints into #/components/schemas/A)".to_owned())
    );
}

/// Recursion that typify handles stays allowed: a plain `$ref` property, an `allOf` that only
/// annotates the reference, array items holding the schema, merges of other schemas, and an
/// `allOf` of the reference alone inside a schema that is an `allOf` (or an annotated one in
/// `additionalProperties` of a schema that is not).
#[test]
fn recursion_without_self_merge_still_generates() {
    let specs = [
        "A: {type: object, properties: {p: {$ref: '#/components/schemas/A'}}}",
        "A: {type: object, properties: {p: {description: parent, allOf: [{$ref: '#/components/schemas/A'}]}}}",
        "A: {type: object, properties: {p: {allOf: [{$ref: '#/components/schemas/A'}, {nullable: true}]}}}",
        "A: {type: object, properties: {p: {type: array, items: {$ref: '#/components/schemas/A'}}}}",
        "A: {allOf: [{type: object, properties: {p: {allOf: [{$ref: '#/components/schemas/A'}]}}}]}",
        "A: {type: object, additionalProperties: {allOf: [{$ref: '#/components/schemas/A'}, {}]}}",
        "A: {allOf: [{type: array, items: {$ref: '#/components/schemas/A'}}, {type: array}]}",
        "B: {type: object, properties: {id: {type: string}}}\n    A: {allOf: [{$ref: '#/components/schemas/B'}, {type: object, properties: {children: {type: array, items: {$ref: '#/components/schemas/A'}}}}]}",
    ];
    let results = on_normal_stack(move || {
        specs
            .iter()
            .map(|schemas| {
                let text = format!(
                    "openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n    {schemas}\n"
                );
                generate(&text).map(|_| ()).map_err(|error| error.to_string())
            })
            .collect::<Vec<_>>()
    });
    for result in results {
        assert_eq!(result, Ok(()));
    }
}

/// Another typify stack overflow from `codegen_structured`: an `allOf` whose members meet at one
/// place (both have `items`, or the same property) where one schema refers back to the
/// component holding the `allOf`; typify merges the two, resolves the reference and starts
/// over. Each input is refused naming the place; the inputs are in
/// `fuzz/regressions/codegen_text/merged_recursion_*` (the fuzzer's and two reduced ones).
#[test]
fn recursion_through_a_merged_place_is_refused() {
    let messages = generate_regressions("merged_recursion_");
    assert_eq!(messages.len(), 3);
    assert_each_refused_with(&messages, "which contains this allOf");
    // Sorted: fuzz, items, property.
    assert_eq!(
        messages[1],
        Err("deep.yaml: /components/schemas/A: allOf merges several schemas at `items`, and one of them refers back to #/components/schemas/A, which contains this allOf; the generator would merge it into itself without end (keep `items` in one member only)".to_owned())
    );
    assert_eq!(
        messages[2],
        Err("deep.yaml: /components/schemas/A: allOf merges several schemas at `properties/p`, and one of them refers back to #/components/schemas/A, which contains this allOf; the generator would merge it into itself without end (keep `properties/p` in one member only)".to_owned())
    );
}

/// A third typify stack overflow from `codegen_structured`: an empty `allOf` (here in
/// `additionalProperties`) inside a schema merged beside a property that refers back to it.
/// JSON Schema requires `allOf`, `anyOf` and `oneOf` to list at least one schema, so every empty
/// one is now refused with its pointer; the inputs are in
/// `fuzz/regressions/codegen_text/empty_all_of_*` (the fuzzer's and a reduced one).
#[test]
fn empty_compositions_are_refused() {
    let messages = generate_regressions("empty_all_of_");
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[0],
        Err("deep.yaml: /components/schemas/A/allOf/0/additionalProperties/allOf: allOf is empty; it must list at least one schema".to_owned())
    );
    // The fuzzer's input has two, each reported with its overlay fix.
    let fuzzed = messages[1].as_ref().expect_err("refused");
    assert!(
        fuzzed.starts_with("deep.yaml: 2 problems the generator cannot handle")
            && fuzzed.contains("\n  /components/schemas//allOf/1/allOf: allOf is empty; it must list at least one schema\n"),
        "{fuzzed}"
    );
}
