//! Code in spec descriptions never becomes a doctest: every code block that reaches a generated
//! doc comment is a `text` block, indented code is a paragraph, and raw HTML is escaped.

use std::path::{Path, PathBuf};
use std::process::Command;

use syn::visit_mut::{self, VisitMut};

use crate::support::generate_ok;

/// The doc attribute texts of every item that has some, in order.
#[derive(Default)]
struct Docs(Vec<Vec<String>>);

impl Docs {
    fn add(&mut self, attrs: &[syn::Attribute]) {
        let texts: Vec<String> = attrs
            .iter()
            .filter(|attr| attr.path().is_ident("doc"))
            .filter_map(|attr| match &attr.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(text),
                            ..
                        }),
                    ..
                }) => Some(text.value()),
                _ => None,
            })
            .collect();
        if !texts.is_empty() {
            self.0.push(texts);
        }
    }
}

impl VisitMut for Docs {
    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        if let syn::Item::Struct(syn::ItemStruct { attrs, .. })
        | syn::Item::Enum(syn::ItemEnum { attrs, .. })
        | syn::Item::Impl(syn::ItemImpl { attrs, .. })
        | syn::Item::Mod(syn::ItemMod { attrs, .. })
        | syn::Item::Fn(syn::ItemFn { attrs, .. })
        | syn::Item::Type(syn::ItemType { attrs, .. })
        | syn::Item::Const(syn::ItemConst { attrs, .. }) = item
        {
            self.add(attrs);
        }
        visit_mut::visit_item_mut(self, item);
    }

    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        self.add(&function.attrs);
        visit_mut::visit_impl_item_fn_mut(self, function);
    }

    fn visit_field_mut(&mut self, field: &mut syn::Field) {
        self.add(&field.attrs);
        visit_mut::visit_field_mut(self, field);
    }

    fn visit_variant_mut(&mut self, variant: &mut syn::Variant) {
        self.add(&variant.attrs);
        visit_mut::visit_variant_mut(self, variant);
    }
}

/// A crate with nothing but the docs of `source`'s items, each on a unit struct of its own,
/// printed the way the generated file prints them.
fn docs_only_crate(source: &str) -> String {
    let mut file: syn::File = syn::parse_str(source).expect("generated code parses");
    let mut docs = Docs::default();
    docs.visit_file_mut(&mut file);
    let items = docs.0.iter().enumerate().map(|(index, texts)| {
        let name = quote::format_ident!("Item{index}");
        quote::quote! {
            #(#[doc = #texts])*
            pub struct #name;
        }
    });
    let tokens = quote::quote! {
        //! Docs of generated items.
        #(#items)*
    };
    prettyplease::unparse(&syn::parse2(tokens).expect("the docs crate parses"))
}

/// The rustdoc of the toolchain running the tests.
fn rustdoc() -> PathBuf {
    std::env::var_os("RUSTDOC")
        .map(PathBuf::from)
        .or_else(|| {
            let cargo = PathBuf::from(std::env::var_os("CARGO")?);
            let beside = cargo.with_file_name("rustdoc");
            beside.exists().then_some(beside)
        })
        .unwrap_or_else(|| PathBuf::from("rustdoc"))
}

/// Runs `rustdoc --test` on `crate_source`; its standard output.
fn doctests(crate_source: &str, folder: &Path) -> String {
    let path = folder.join("docs.rs");
    std::fs::write(&path, crate_source).expect("write the docs crate");
    let output = Command::new(rustdoc())
        .args(["--test", "--edition", "2024", "--crate-name", "docs"])
        .arg(&path)
        .current_dir(folder)
        .output()
        .expect("rustdoc runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "rustdoc --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Descriptions hold fenced blocks (backticks and tildes; no info, `rust`, `ignore`,
/// `should_panic`; in a list and a block quote; after bare CRs), an indented block and raw
/// HTML, each `compile_error!`; rustdoc finds no doctest at all in the generated docs (not even
/// progenitor's own examples), and the source shows only `text` fences and escaped HTML.
#[test]
fn spec_code_blocks_never_become_doctests() {
    let source = generate_ok("doc_code.yaml", None);
    let folder = tempfile::tempdir().expect("a temporary folder");
    let stdout = doctests(&docs_only_crate(&source), folder.path());
    assert!(stdout.contains("running 0 tests"), "{stdout}");
    // The texts are still there, as text.
    for ran in [
        "info description",
        "tilde fence",
        "list fence",
        "quoted fence",
        "bare fence",
        "indented block",
    ] {
        assert!(source.contains(&format!("{ran} ran as a doctest")), "{ran}");
    }
    for line in source.lines() {
        // A `///` line, or a line of a `/** ... */` block (whose last line ends in `*/`).
        let doc = line.trim_start().trim_start_matches("///").trim_start();
        let doc = doc.strip_suffix("*/").unwrap_or(doc);
        let doc = doc.trim_start_matches(['>', '-', ' ']);
        if doc.starts_with("```") || doc.starts_with("~~~") {
            let info = doc.trim_start_matches(['`', '~']).trim();
            assert!(
                info.is_empty() || info == "text",
                "a fence that is not text: {line}"
            );
        }
    }
    assert!(!source.contains("<!--"), "raw HTML comment left");
    assert!(!source.contains("<script>"), "raw HTML left");
    assert!(
        source.contains("&#32;compile_error!("),
        "the indented block is left"
    );
}

/// The check above can fail: the same crate with one Rust fence holds a doctest.
#[test]
fn the_docs_crate_finds_a_rust_fence() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let crate_source = "//! Docs.\n/// ```\n/// let _ = 1;\n/// ```\npub struct Item;\n";
    let stdout = doctests(crate_source, folder.path());
    assert!(stdout.contains("running 1 test"), "{stdout}");
}
