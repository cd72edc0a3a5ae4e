//! Snapshots of the code generated for small fixture specs, one behaviour each.
//!
//! Each snapshot holds only the items the behaviour shows, so a change to the generator or to
//! progenitor shows up as a small, readable diff; reviewing that diff is reviewing the change.

use insta::assert_snapshot;

use crate::support::{fixture, generate_ok, slice};

/// Nullable properties: required+nullable and optional+nullable both become `Option`, and only
/// optional ones are skipped when absent.
#[test]
fn nullable_fields() {
    let source = generate_ok("nullable.yaml", None);
    assert_snapshot!(slice(&source, &["types::Thing"]));
}

/// The success envelope `allOf [common, {result, result_info}]` becomes one flat struct with
/// the common fields, a typed `result` list and a `result_info` struct.
#[test]
fn envelope_allof_flattens() {
    let source = generate_ok("envelope.yaml", None);
    assert_snapshot!(slice(
        &source,
        &[
            "types::ItemsResponse",
            "types::ItemsResponseResultInfo",
            "types::ApiResponseCommon",
        ]
    ));
}

/// A `4XX` range response becomes the operation's typed error, matched as `400..=499`.
#[test]
fn ranges_4xx_is_typed_error() {
    let source = generate_ok("ranges.yaml", None);
    assert_snapshot!(slice(&source, &["builder::GetThings"]));
}

/// A `4XX` given as `$ref: #/components/responses/...` and a `5XX` given inline with the same
/// schema are one error shape: the operation generates, with one error type for both ranges.
#[test]
fn ranges_ref_and_inline_share_error_type() {
    let source = generate_ok("ranges.yaml", None);
    assert_snapshot!(slice(&source, &["builder::GetOtherThings"]));
}

/// A component enum referenced from a query parameter and from a property is one Rust enum,
/// used in both places.
#[test]
fn enums_shared_ref() {
    let source = generate_ok("enums.yaml", None);
    assert_snapshot!(slice(
        &source,
        &[
            "types::FieldChanged+impls",
            "types::SharedEntry",
            "builder::GetShared"
        ]
    ));
}

/// Inline enums become one Rust enum per place they appear (named after the operation or the
/// containing schema), which is why the workspace overlay turns them into shared `$ref`s.
#[test]
fn enums_inline() {
    let source = generate_ok("enums.yaml", None);
    assert_snapshot!(slice(
        &source,
        &[
            "types::GetInlineOrder",
            "types::InlineEntryFieldChanged",
            "types::InlineEntry"
        ]
    ));
}

/// Path parameters (from the path item and the operation, in template order) are required
/// builder setters; query parameters are optional unless `required`, with component `$ref`s
/// resolved, and are encoded under their spec names.
#[test]
fn params_path_and_query() {
    let source = generate_ok("params.yaml", None);
    assert_snapshot!(slice(&source, &["builder::GetThing"]));
}

/// Query names that are not Rust identifiers (`issue_class~neq`, `type`) get sanitized setter
/// names (`issue_class_neq`, `type_`) but are still sent under their original names.
#[test]
fn tilde_query_names() {
    let source = generate_ok("tilde.yaml", None);
    assert_snapshot!(slice(&source, &["builder::GetInsights"]));
}

/// The fixture without an overlay: the baseline the overlay snapshots differ from.
#[test]
fn overlay_none() {
    let source = generate_ok("overlay_base.yaml", None);
    assert_snapshot!(slice(&source, &["types::Widget"]));
}

/// An `update` action merges into the target: `required` is added (so `id` is no longer an
/// `Option`), and a nested property's description and `maxLength` are replaced and added.
#[test]
fn overlay_update() {
    let source = generate_ok("overlay_base.yaml", Some("overlay_update.yaml"));
    assert_snapshot!(slice(&source, &["types::Widget", "types::WidgetName"]));
}

/// A `remove` action deletes exactly the targeted property.
#[test]
fn overlay_remove() {
    let source = generate_ok("overlay_base.yaml", Some("overlay_remove.yaml"));
    assert_snapshot!(slice(&source, &["types::Widget"]));
}

/// A JSONPath filter target (`[?@['x-internal'] == true]`) removes every matching property
/// and keeps the ones whose flag is false or absent.
#[test]
fn overlay_filter() {
    let source = generate_ok("overlay_base.yaml", Some("overlay_filter.yaml"));
    assert_snapshot!(slice(&source, &["types::Widget"]));
}

/// The top-level items of `source` that say where the client's hooks come from: its
/// `ClientHooks` impls and its anonymous consts (where progenitor asserts an impl exists).
fn hooks_items(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).expect("generated code parses");
    let items = file
        .items
        .into_iter()
        .filter(|item| match item {
            syn::Item::Impl(block) => block.trait_.as_ref().is_some_and(|(_, path, _)| {
                path.segments
                    .last()
                    .is_some_and(|segment| segment.ident == "ClientHooks")
            }),
            syn::Item::Const(constant) => constant.ident == "_",
            _ => false,
        })
        .collect();
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items,
    })
}

/// Generates the envelope fixture with `hooks`.
fn generate_with_hooks(hooks: codegen::generate::Hooks) -> String {
    let text = fixture("envelope.yaml");
    let settings = codegen::Settings {
        command: "cargo test".to_owned(),
        hooks,
        ..Default::default()
    };
    codegen::generate(
        codegen::Source::new("envelope.yaml", &text),
        None,
        &settings,
    )
    .expect("the envelope fixture generates")
}

/// By default the generated code implements hooks that do nothing for `&Client`, which a
/// hand-written impl for `Client` overrides.
#[test]
fn hooks_optional() {
    let source = generate_with_hooks(codegen::generate::Hooks::Optional);
    assert_snapshot!(hooks_items(&source));
}

/// With hooks expected, the generated code implements none and asserts that the crate does, so
/// a client crate without them does not compile.
#[test]
fn hooks_expected() {
    let source = generate_with_hooks(codegen::generate::Hooks::Expected);
    assert_snapshot!(hooks_items(&source));
}
