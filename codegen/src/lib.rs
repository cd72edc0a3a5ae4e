//! Turns an OpenAPI 3.0 description and an [OpenAPI Overlay 1.0] into formatted Rust client source.
//!
//! The crate is pure: text goes in, text comes out, and every failure is an [`Error`] that names
//! the file and the place in it. Reading and writing files is the caller's job (see `xtask`).
//!
//! The pipeline, one module each:
//! 1. [`document`]: parse YAML or JSON (detected) into a JSON value, with line numbers on errors;
//! 2. [`overlay`]: apply the overlay's actions in order;
//! 3. [`validate`]: check what progenitor would otherwise panic or fail obscurely on, then read
//!    the value as an `openapiv3::OpenAPI` with the failing JSON pointer on error; every problem
//!    found is reported, not only the first ([`problems`]: each with its JSON pointer and an
//!    overlay action that fixes it);
//! 4. [`generate`](mod@generate): run progenitor (builder style), make spec text in doc comments
//!    inert ([`doc_comments`]: no code block becomes a doctest), keep the generated client from
//!    following redirects (they would carry credentials elsewhere), optionally route `date-time`
//!    decoding through a faster parser ([`timestamps`]), and format the tokens with prettyplease.
//!
//! Beside the pipeline, [`extract`] cuts the operations a client needs, and every component they
//! reach, out of upstream's whole API document (what `cargo xtask spec-sync` writes to
//! `spec/openapi.yaml`).
//!
//! [OpenAPI Overlay 1.0]: https://spec.openapis.org/overlay/v1.0.0.html

pub mod doc_comments;
pub mod document;
mod error;
pub mod extract;
pub mod generate;
pub mod json_pointer;
pub mod overlay;
pub mod problems;
mod redirects;
pub mod timestamps;
pub mod validate;

pub use error::Error;
pub use generate::{Replacement, Settings, generate};

use sha2::{Digest, Sha256};

/// A named input text: `name` is how errors and the generated header refer to it.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// Path or label shown to people, e.g. `spec/openapi.yaml`.
    pub name: &'a str,
    /// The file's full text.
    pub text: &'a str,
}

impl<'a> Source<'a> {
    /// Names a text.
    pub fn new(name: &'a str, text: &'a str) -> Self {
        Self { name, text }
    }

    /// Lower-case hex SHA-256 of the text's bytes.
    pub fn sha256(&self) -> String {
        sha256_hex(self.text.as_bytes())
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Parses `spec`, applies `overlay` and validates the result: the document the generator sees.
///
/// Object keys are sorted, so two copies of a spec that differ only in key order or in syntax
/// (JSON or YAML) give the same document and therefore the same generated code.
///
/// Unreadable text, an unsupported version or an overlay that does not apply stop at once;
/// after that every check runs and all their problems are reported together: one problem as its
/// own error, several as [`Error::Problems`] (see [`problems`]).
pub fn prepare(spec: Source<'_>, overlay: Option<Source<'_>>) -> Result<openapiv3::OpenAPI, Error> {
    let mut value = document::parse(spec)?;
    validate::check_version(spec.name, &value)?;
    if let Some(overlay) = overlay {
        overlay::Overlay::parse(overlay)?.apply(spec.name, &mut value)?;
    }
    document::canonicalize(&mut value);
    let mut findings = validate::document_findings(spec.name, &value);
    let api = match validate::to_openapi(spec.name, value) {
        Ok(api) => {
            findings.extend(validate::operation_findings(spec.name, &api));
            Some(api)
        }
        Err(error) => {
            findings.push(problems::Finding::new(
                error,
                problems::Kind::NotOpenApi,
                problems::Fix::Advice(
                    "correct the value (an overlay action `remove: true` on it, then one that \
                     `update`s its parent with a valid value); the reader stops at the first such \
                     value, so run again to see the next"
                        .to_owned(),
                ),
            ));
            None
        }
    };
    problems::into_result(spec.name, findings)?;
    api.ok_or_else(|| Error::InvalidDocument {
        file: spec.name.to_owned(),
        pointer: "/".to_owned(),
        message: "the document does not read as OpenAPI 3.0".to_owned(),
    })
}

/// Checks that `spec` hashes to the `expected` lower-case hex SHA-256.
pub fn verify_pin(spec: Source<'_>, expected: &str, record: &str) -> Result<(), Error> {
    let actual = spec.sha256();
    if actual.eq_ignore_ascii_case(expected.trim()) {
        Ok(())
    } else {
        Err(Error::PinMismatch {
            file: spec.name.to_owned(),
            record: record.to_owned(),
            expected: expected.trim().to_owned(),
            actual,
        })
    }
}
