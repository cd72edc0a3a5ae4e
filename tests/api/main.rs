//! The generated client's public surface as an insta snapshot: types with their fields and Rust
//! types, enums with their variants, and the client's methods with their builder parameters.
//!
//! The listing is read from `generated-client/src/generated.rs` with `syn`, never written by
//! hand, so a spec change shows up in review as a short API diff beside the full generated diff.
//! After `cargo xtask regenerate`, re-accept it with
//! `INSTA_UPDATE=always cargo test -p tests --test api` (or `cargo insta review`).

mod surface;

use std::path::PathBuf;

fn generated_source() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../generated-client/src/generated.rs");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Scenario: list the public surface of the checked-in generated client.
#[test]
fn public_api() {
    let listing = surface::list(&generated_source()).expect("the generated client parses as Rust");
    insta::assert_snapshot!("public_api", listing);
}

/// Scenario: the listing sees what it claims to: a struct's field, an enum's variants, and a
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
