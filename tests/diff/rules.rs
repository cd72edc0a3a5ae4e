//! One small fixture pair per change kind: `fixtures/base.yaml` against one edit of it, with the
//! classification the generated client's behaviour calls for.

use std::collections::BTreeMap;

use xtask::diff::compare::Context;
use xtask::diff::{Class, FailOn, Subject, compare_texts};

use crate::support::{diff_base, edited, fixture, only_change, the_change};

const NEW_PARAMETER: &str = "            maxLength: 20
        - name: sort
          in: query
          schema:
            type: string
";

const NEW_REQUIRED_PARAMETER: &str = "            maxLength: 20
        - name: sort
          in: query
          required: true
          schema:
            type: string
";

/// The same spec on both sides, for the fixture and for the real spec with its overlay.
#[test]
fn a_spec_compared_with_itself_reports_no_change() {
    let report = diff_base(&[]);
    assert!(report.is_empty(), "{report:#?}");

    let spec = fixture("realistic_old.yaml");
    let overlay = fixture("realistic_overlay.yaml");
    let report = compare_texts(&spec, &spec, Some(&overlay), &Context::default()).expect("valid");
    assert!(report.is_empty(), "{report:#?}");
    assert!(
        report
            .render(xtask::diff::Format::Text)
            .contains("No changes.")
    );
}

/// Upstream adds an optional query filter.
#[test]
fn a_new_optional_query_parameter_is_non_breaking() {
    let report = diff_base(&[("            maxLength: 20\n", NEW_PARAMETER)]);
    let change = only_change(
        &report,
        "new-optional-request-parameter",
        Class::NonBreaking,
    );
    assert_eq!(change.location, "query parameter `sort`");
    assert_eq!(
        change.subject,
        Subject::Operations(vec!["list-items".to_owned()])
    );
}

/// Upstream adds a query parameter every request must carry.
#[test]
fn a_new_required_query_parameter_is_breaking() {
    let report = diff_base(&[("            maxLength: 20\n", NEW_REQUIRED_PARAMETER)]);
    only_change(&report, "new-required-request-parameter", Class::Breaking);
}

/// Upstream drops a query parameter (its builder method disappears).
#[test]
fn a_removed_query_parameter_is_breaking() {
    let report = diff_base(&[(
        "        - name: name\n          in: query\n          schema:\n            type: string\n            maxLength: 20\n",
        "",
    )]);
    only_change(&report, "request-parameter-removed", Class::Breaking);
}

/// An optional query parameter becomes required.
#[test]
fn a_query_parameter_becoming_required_is_breaking() {
    let report = diff_base(&[(
        "        - name: kind\n          in: query\n",
        "        - name: kind\n          in: query\n          required: true\n",
    )]);
    only_change(
        &report,
        "request-parameter-became-required",
        Class::Breaking,
    );
}

/// The largest accepted `limit` goes down.
#[test]
fn a_lowered_request_maximum_is_breaking() {
    let report = diff_base(&[("            maximum: 100", "            maximum: 50")]);
    let change = only_change(&report, "request-parameter-max-decreased", Class::Breaking);
    assert_eq!(change.message, "maximum lowered from 100 to 50");
}

/// The largest accepted `limit` goes up.
#[test]
fn a_raised_request_maximum_is_non_breaking() {
    let report = diff_base(&[("            maximum: 100", "            maximum: 500")]);
    only_change(
        &report,
        "request-parameter-max-increased",
        Class::NonBreaking,
    );
}

/// The smallest accepted `limit` goes up (the Rust type stays `NonZeroU64`).
#[test]
fn a_raised_request_minimum_is_breaking() {
    let report = diff_base(&[("            minimum: 1\n", "            minimum: 5\n")]);
    only_change(&report, "request-parameter-min-increased", Class::Breaking);
}

/// `minimum: 1` becomes `minimum: 0`, so the generated integer type changes.
#[test]
fn a_lowered_request_minimum_that_changes_the_rust_integer_type_is_breaking() {
    let report = diff_base(&[("            minimum: 1\n", "            minimum: 0\n")]);
    let change = only_change(&report, "request-parameter-min-changed", Class::Breaking);
    assert!(
        change.reason.contains("NonZeroU64 to u64"),
        "{}",
        change.reason
    );
}

/// A string query parameter's `maxLength` goes down.
#[test]
fn a_lowered_request_max_length_is_breaking() {
    let report = diff_base(&[("            maxLength: 20", "            maxLength: 10")]);
    only_change(&report, "request-max-length-decreased", Class::Breaking);
}

/// A string query parameter gains a `pattern`.
#[test]
fn a_pattern_added_to_a_request_parameter_is_breaking() {
    let report = diff_base(&[(
        "            maxLength: 20",
        "            maxLength: 20\n            pattern: '^[a-z]+$'",
    )]);
    only_change(&report, "request-pattern-tightened", Class::Breaking);
}

/// A value of a request enum is withdrawn.
#[test]
fn a_removed_request_enum_value_is_breaking() {
    let report = diff_base(&[(
        "              - a\n              - b\n",
        "              - a\n",
    )]);
    let change = only_change(&report, "request-enum-value-removed", Class::Breaking);
    assert_eq!(change.message, "enum value `b` removed");
}

/// A request enum gains a value.
#[test]
fn an_added_request_enum_value_is_non_breaking() {
    let report = diff_base(&[(
        "              - a\n              - b\n",
        "              - a\n              - b\n              - c\n",
    )]);
    only_change(&report, "request-enum-value-added", Class::NonBreaking);
}

/// A response enum gains a value; response enums keep unknown values.
#[test]
fn an_added_response_enum_value_is_non_breaking() {
    let report = diff_base(&[(
        "            - open\n            - closed\n",
        "            - open\n            - closed\n            - archived\n",
    )]);
    let change = only_change(&report, "response-enum-value-added", Class::NonBreaking);
    assert_eq!(change.subject, Subject::Schema("Item".to_owned()));
    assert_eq!(change.location, "property `state`");
    assert!(change.reason.contains("Unknown"), "{}", change.reason);
}

/// A response enum loses a value, so its variant disappears.
#[test]
fn a_removed_response_enum_value_is_breaking() {
    let report = diff_base(&[(
        "            - open\n            - closed\n",
        "            - open\n",
    )]);
    only_change(&report, "response-enum-value-removed", Class::Breaking);
}

/// The same removal in a schema the client replaces with a hand-written type.
#[test]
fn a_change_to_a_hand_written_schema_cannot_break_compilation() {
    let base = fixture("base.yaml");
    let new = edited(
        &base,
        &[(
            "            - open\n            - closed\n",
            "            - open\n",
        )],
    );
    let context = Context {
        hand_written: BTreeMap::from([("Item".to_owned(), "crate::Item".to_owned())]),
    };
    let report = compare_texts(&base, &new, None, &context).expect("valid");
    let change = only_change(&report, "response-enum-value-removed", Class::NonBreaking);
    assert!(change.reason.contains("crate::Item"), "{}", change.reason);
}

/// A response field is dropped; it is reported once, under the schema, with both
/// operations that return it.
#[test]
fn a_removed_response_field_is_breaking_and_reported_once_per_schema() {
    let report = diff_base(&[("        note:\n          type: string\n", "")]);
    let change = only_change(&report, "response-property-removed", Class::Breaking);
    assert_eq!(change.subject, Subject::Schema("Item".to_owned()));
    assert_eq!(change.location, "property `note`");
    assert_eq!(change.operations, ["get-item", "list-items"]);
}

/// The envelope (reached through `$ref` and `allOf`) loses its `success` field.
#[test]
fn an_envelope_field_is_seen_through_all_of() {
    let report = diff_base(&[(
        "      required:\n        - success\n      properties:\n        success:\n          type: boolean\n",
        "      properties: {}\n",
    )]);
    let change = only_change(&report, "response-property-removed", Class::Breaking);
    assert_eq!(change.subject, Subject::Schema("Envelope".to_owned()));
    assert_eq!(change.operations, ["list-items"]);
}

/// A response gains a field.
#[test]
fn an_added_response_field_is_non_breaking() {
    let report = diff_base(&[(
        "        note:\n          type: string\n",
        "        note:\n          type: string\n        owner:\n          type: string\n",
    )]);
    only_change(&report, "response-property-added", Class::NonBreaking);
}

/// A required response field becomes nullable: `T` becomes `Option<T>`.
#[test]
fn a_required_response_field_becoming_nullable_is_breaking() {
    let report = diff_base(&[(
        "        id:\n          type: string\n",
        "        id:\n          type: string\n          nullable: true\n",
    )]);
    let change = only_change(
        &report,
        "response-property-became-nullable",
        Class::Breaking,
    );
    assert!(
        change.reason.contains("T to Option<T>"),
        "{}",
        change.reason
    );
}

/// An optional response field becomes nullable: it already is `Option<T>`.
#[test]
fn an_optional_response_field_becoming_nullable_is_non_breaking() {
    let report = diff_base(&[(
        "        note:\n          type: string\n",
        "        note:\n          type: string\n          nullable: true\n",
    )]);
    only_change(
        &report,
        "response-property-became-nullable",
        Class::NonBreaking,
    );
}

/// A required response field becomes optional: `T` becomes `Option<T>`.
#[test]
fn a_required_response_field_becoming_optional_is_breaking() {
    let report = diff_base(&[("        - id\n        - state\n", "        - state\n")]);
    only_change(
        &report,
        "response-property-became-optional",
        Class::Breaking,
    );
}

/// A response field changes type.
#[test]
fn a_response_field_type_change_is_breaking() {
    let report = diff_base(&[(
        "        note:\n          type: string\n",
        "        note:\n          type: integer\n",
    )]);
    only_change(&report, "response-type-changed", Class::Breaking);
}

/// `int64` becomes `int32`, so the field's Rust type changes from i64 to i32.
#[test]
fn a_response_format_change_that_changes_the_rust_type_is_breaking() {
    let report = diff_base(&[("          format: int64", "          format: int32")]);
    let change = only_change(&report, "response-format-changed", Class::Breaking);
    assert!(
        change.reason.contains("from i64 to i32"),
        "{}",
        change.reason
    );
}

const GET_ITEM: &str = "  /items/{id}:
    get:
      operationId: get-item
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      responses:
        '200':
          description: OK.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Item'
      security:
        - token: []
";

/// An operation disappears.
#[test]
fn a_removed_operation_is_breaking() {
    let report = diff_base(&[(GET_ITEM, "")]);
    only_change(&report, "operation-removed", Class::Breaking);
}

/// An operation appears.
#[test]
fn an_added_operation_is_non_breaking() {
    let base = fixture("base.yaml");
    let old = edited(&base, &[(GET_ITEM, "")]);
    let report = compare_texts(&old, &base, None, &Context::default()).expect("valid");
    only_change(&report, "operation-added", Class::NonBreaking);
}

/// An operation is marked deprecated.
#[test]
fn a_deprecated_operation_is_informational() {
    let report = diff_base(&[(
        "      operationId: get-item\n",
        "      operationId: get-item\n      deprecated: true\n",
    )]);
    only_change(&report, "operation-deprecated", Class::Informational);
    assert_eq!(report.exit_code(FailOn::Breaking), 0);
}

/// Only an operation's description changes.
#[test]
fn a_description_change_is_informational() {
    let report = diff_base(&[(
        "      description: Lists items.",
        "      description: Lists all items.",
    )]);
    only_change(
        &report,
        "operation-description-changed",
        Class::Informational,
    );
}

/// An operationId keeps its name but moves to another path.
#[test]
fn a_path_change_is_breaking() {
    let report = diff_base(&[("  /items/{id}:", "  /things/{id}:")]);
    let change = only_change(&report, "operation-path-changed", Class::Breaking);
    assert_eq!(
        change.message,
        "moved from GET `/items/{id}` to GET `/things/{id}`"
    );
}

/// One of two ways to authenticate is withdrawn.
#[test]
fn a_removed_security_alternative_is_breaking() {
    let report = diff_base(&[("        - email: []\n          key: []\n", "")]);
    let change = only_change(&report, "security-requirement-removed", Class::Breaking);
    assert_eq!(change.message, "alternative `email + key` removed");
}

/// An operation gains a way to authenticate.
#[test]
fn an_added_security_alternative_is_non_breaking() {
    let report = diff_base(&[(
        "                $ref: '#/components/schemas/Item'\n      security:\n        - token: []\n",
        "                $ref: '#/components/schemas/Item'\n      security:\n        - token: []\n        - key: []\n",
    )]);
    only_change(&report, "security-requirement-added", Class::NonBreaking);
}

/// The exit code of the gate for a breaking, a non-breaking and no change.
#[test]
fn fail_on_breaking_exits_1_only_when_a_breaking_change_is_found() {
    let breaking = diff_base(&[("            maximum: 100", "            maximum: 50")]);
    assert_eq!(
        breaking.exit_code(FailOn::Breaking),
        xtask::diff::EXIT_BREAKING
    );
    assert_eq!(breaking.exit_code(FailOn::Breaking), 1);
    assert_eq!(breaking.exit_code(FailOn::Never), 0);
    let loosened = diff_base(&[("            maximum: 100", "            maximum: 500")]);
    assert_eq!(loosened.exit_code(FailOn::Breaking), 0);
    let none = diff_base(&[]);
    assert_eq!(none.exit_code(FailOn::Breaking), 0);
    assert_eq!(
        the_change(&breaking, "request-parameter-max-decreased").class,
        Class::Breaking
    );
}

/// `get-item`'s path with a `put` whose JSON body has an integer field bounded at 100.
const PUT_ITEM: &str = "  /items/{id}:
    put:
      operationId: put-item
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                count:
                  type: integer
                  minimum: 1
                  maximum: 100
      responses:
        '204':
          description: Stored.
      security:
        - token: []
";

/// `PUT_ITEM` with a body that is a bare integer bounded at 100.
const PUT_COUNT: &str = "  /items/{id}:
    put:
      operationId: put-count
      parameters:
        - name: id
          in: path
          required: true
          schema:
            type: string
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: integer
              minimum: 1
              maximum: 100
      responses:
        '204':
          description: Stored.
      security:
        - token: []
";

/// `base` with `operation` added at `/items/{id}` beside `get-item`.
fn with_put(operation: &str) -> xtask::diff::input::SpecText {
    let base = fixture("base.yaml");
    let put = operation.replacen("  /items/{id}:\n", "", 1);
    edited(
        &base,
        &[("  /items/{id}:\n", &format!("  /items/{{id}}:\n{put}"))],
    )
}

/// The largest `count` a request body field accepts goes down; the rule names a
/// request property, not a parameter.
#[test]
fn a_lowered_maximum_of_a_request_body_field_is_breaking() {
    let old = with_put(PUT_ITEM);
    let new = edited(
        &old,
        &[(
            "                  maximum: 100",
            "                  maximum: 50",
        )],
    );
    let report = compare_texts(&old, &new, None, &Context::default()).expect("valid");
    let change = only_change(&report, "request-property-max-decreased", Class::Breaking);
    assert_eq!(change.location, "request body field `count`");
    assert_eq!(change.message, "maximum lowered from 100 to 50");
}

/// The same field's `minimum` goes from 1 to 0, so its Rust integer type changes.
#[test]
fn a_request_body_field_minimum_that_changes_the_rust_integer_type_is_breaking() {
    let old = with_put(PUT_ITEM);
    let new = edited(
        &old,
        &[(
            "                  minimum: 1\n",
            "                  minimum: 0\n",
        )],
    );
    let report = compare_texts(&old, &new, None, &Context::default()).expect("valid");
    only_change(&report, "request-property-min-changed", Class::Breaking);
}

/// A request body that is a bare integer gets a higher `maximum`; the rule names the
/// request body.
#[test]
fn a_raised_maximum_of_a_request_body_is_non_breaking() {
    let old = with_put(PUT_COUNT);
    let new = edited(
        &old,
        &[("              maximum: 100", "              maximum: 500")],
    );
    let report = compare_texts(&old, &new, None, &Context::default()).expect("valid");
    let change = only_change(&report, "request-body-max-increased", Class::NonBreaking);
    assert_eq!(change.location, "request body");
}
