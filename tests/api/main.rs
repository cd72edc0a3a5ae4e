//! The client crate's public surface as insta snapshots: the generated layer (types with their
//! fields and Rust types, enums with their variants, the client's methods with their builder
//! parameters) and every hand-written module (what semver is about).
//!
//! The listings are read from the sources with `syn`, never written by hand, so a spec change or
//! a change of the hand-written API shows up in review as a short API diff. After a deliberate
//! change, re-accept them with `INSTA_UPDATE=always cargo test -p tests --test api` (or
//! `cargo insta review`).
//!
//! A `syn` listing rather than `cargo-public-api`: that tool reads rustdoc's JSON, which needs a
//! nightly toolchain that CI machines do not have; with `unreachable_pub` denied, `pub` in the
//! source is the public API.

mod hand_written;
mod surface;

use std::path::PathBuf;

fn generated_source() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../generated-client/src/generated.rs");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// List the public surface of the checked-in generated client.
#[test]
fn public_api() {
    let listing = surface::list(&generated_source()).expect("the generated client parses as Rust");
    insta::assert_snapshot!("public_api", listing);
}

/// The listing sees what it claims to: a struct's field, an enum's variants, and a
/// builder parameter with its type and whether it is required.
#[test]
fn the_listing_shows_fields_variants_and_builder_parameters() {
    let source = r#"
        pub mod types {
            pub struct Item { pub id: ::std::string::String, pub note: ::std::option::Option<i64>, hidden: u8 }
            pub enum State { Open, Closed, Unknown(::std::string::String) }
            pub mod builder { pub struct Item { id: u8 } }
        }
        pub struct Client { baseurl: String }
        impl Client {
            pub fn new(baseurl: &str) -> Self { todo!() }
            pub fn list_items(&self) -> builder::ListItems<'_> { todo!() }
            fn private(&self) {}
        }
        pub mod builder {
            pub struct ListItems<'a> {
                client: &'a super::Client,
                limit: Result<::std::num::NonZeroU64, String>,
                state: Result<Option<types::State>, String>,
            }
            impl<'a> ListItems<'a> {
                pub async fn send(self) -> Result<ResponseValue<types::Item>, Error<()>> { todo!() }
            }
        }
    "#;
    let listing = surface::list(source).expect("valid Rust");
    for expected in [
        "struct types::Item\n    id: String\n    note: Option<i64>\n",
        "enum types::State\n    Open\n    Closed\n    Unknown(String)\n",
        "fn Client::new(baseurl: &str) -> Self\n",
        "fn Client::list_items() -> builder::ListItems<'_>\n    limit: NonZeroU64 (required)\n    state: types::State (optional)\n    send() -> Result<ResponseValue<types::Item>, Error<()>>\n",
    ] {
        assert!(
            listing.contains(expected),
            "missing {expected:?} in:\n{listing}"
        );
    }
    assert!(!listing.contains("hidden"), "{listing}");
    assert!(!listing.contains("private"), "{listing}");
    assert!(!listing.contains("types::builder"), "{listing}");
}

/// List the public surface of every hand-written module of the client crate.
#[test]
fn hand_written_public_api() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../generated-client/src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("the client's sources")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| {
            path.extension().is_some_and(|extension| extension == "rs")
                && path.file_name().is_some_and(|name| name != "generated.rs")
        })
        .collect();
    files.sort();
    let sources: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).expect("readable");
            (path, source)
        })
        .collect();
    let mut public = std::collections::BTreeSet::new();
    for (path, source) in &sources {
        public.extend(
            hand_written::public_types(source)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display())),
        );
    }
    let mut listing = String::new();
    for (path, source) in &sources {
        let module = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .expect("a UTF-8 name");
        let module = if module == "lib" { "crate" } else { module };
        let items = hand_written::list(module, source, &public)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        if !items.is_empty() {
            listing.push_str(&format!("# {module}\n{items}\n"));
        }
    }
    insta::assert_snapshot!("hand_written_public_api", listing);
}

/// The hand-written listing sees public items with their signatures and the marks that
/// limit users, and nothing private.
#[test]
fn the_hand_written_listing_shows_public_items_only() {
    let source = r#"
        #[non_exhaustive]
        pub enum Failure { #[non_exhaustive] Refused { reason: String }, Other(u8) }
        pub struct Options { pub limit: u32, hidden: bool }
        struct Private;
        impl Options { pub fn with_limit(mut self, limit: u32) -> Self { self } fn secret(&self) {} }
        impl Default for Options { fn default() -> Self { todo!() } }
        impl Default for Private { fn default() -> Self { Private } }
        pub(crate) fn internal() {}
    "#;
    let public = hand_written::public_types(source).expect("valid Rust");
    let listing = hand_written::list("options", source, &public).expect("valid Rust");
    for expected in [
        "enum options::Failure #[non_exhaustive]\n    Refused #[non_exhaustive]\n        reason: String\n    Other\n        0: u8\n",
        "struct options::Options\n    limit: u32\n",
        "fn Options::with_limit(mut self, limit: u32) -> Self\n",
        "impl Default for Options\n",
    ] {
        assert!(
            listing.contains(expected),
            "missing {expected:?} in:\n{listing}"
        );
    }
    for absent in ["hidden", "secret", "Private", "internal"] {
        assert!(!listing.contains(absent), "{absent} in:\n{listing}");
    }
}
