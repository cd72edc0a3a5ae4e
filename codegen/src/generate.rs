//! Running progenitor on a prepared document and turning its tokens into a formatted file.

use std::panic::{AssertUnwindSafe, catch_unwind};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

use crate::{Error, Source, prepare};

/// The progenitor release this crate pins; named in every generated header.
pub const PROGENITOR_VERSION: &str = "0.15.1";

/// How to generate: everything that is not in the spec or the overlay.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The command that regenerates the output, named in its header.
    pub command: String,
    /// Schemas to take from hand-written code instead of generating them.
    pub replacements: Vec<Replacement>,
    /// A type stored in the generated `Client` and handed to its hooks (progenitor's
    /// `inner_type`), e.g. `crate::settings::ClientSettings`.
    pub inner_type: Option<String>,
    /// A module whose `deserialize` and `deserialize_option` functions decode the generated
    /// `DateTime<Utc>` fields (e.g. `crate::rfc3339`); `None` keeps chrono's serde impl. See
    /// [`timestamps`](crate::timestamps) for why.
    pub date_time_decoder: Option<String>,
    /// Whether the crate the code is generated into must implement progenitor's `ClientHooks`
    /// for the generated `Client` (by default it may, and the generated code supplies hooks
    /// that do nothing).
    pub hooks: Hooks,
}

/// Who provides the generated `Client`'s `ClientHooks<Inner>` (progenitor's `HooksMode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hooks {
    /// The generated code implements them, doing nothing, for `&Client`; a hand-written
    /// implementation for `Client` takes precedence where there is one, and where there is
    /// none the hooks silently do nothing.
    #[default]
    Optional,
    /// The crate must implement them for `Client`: the generated code asserts it, so a crate
    /// without them does not compile (one error, at the assertion).
    Expected,
}

/// Use a hand-written type wherever a component schema is referenced.
#[derive(Clone, Debug)]
pub struct Replacement {
    /// The component schema's name, e.g. `security-center_auditLogFieldChanged`.
    pub schema: String,
    /// The Rust path used instead, e.g. `crate::FieldChanged`.
    pub rust_type: String,
    /// Traits the replacement implements that generated code may rely on.
    pub impls: Vec<ReplacementImpl>,
}

/// Traits a replacement type can promise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplacementImpl {
    /// `std::str::FromStr`.
    FromStr,
    /// `std::fmt::Display`.
    Display,
    /// `Default`.
    Default,
}

/// Generates formatted Rust source for `spec` with `overlay` applied.
///
/// The output begins with a header naming `settings.command`, the spec and overlay with their
/// SHA-256, and the progenitor version; the rest depends only on the prepared document, so two
/// equivalent specs generate identical code apart from the header.
pub fn generate(
    spec: Source<'_>,
    overlay: Option<Source<'_>>,
    settings: &Settings,
) -> Result<String, Error> {
    let api = prepare(spec, overlay)?;
    let mut generation = GenerationSettings::new();
    generation
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(match settings.hooks {
            Hooks::Optional => HooksMode::Optional,
            Hooks::Expected => HooksMode::Expected,
        });
    if let Some(inner) = &settings.inner_type {
        generation.with_inner_type(parse_type(inner)?);
    }
    let date_time_decoder = settings
        .date_time_decoder
        .as_deref()
        .map(parse_path)
        .transpose()?;
    for replacement in &settings.replacements {
        parse_type(&replacement.rust_type)?;
        let known = api
            .components
            .as_ref()
            .is_some_and(|components| components.schemas.contains_key(&replacement.schema));
        if !known {
            return Err(Error::Settings {
                message: format!(
                    "replacement for schema `{}`: {} has no such component schema",
                    replacement.schema, spec.name
                ),
            });
        }
        let impls: Vec<TypeImpl> = replacement
            .impls
            .iter()
            .map(|implemented| match implemented {
                ReplacementImpl::FromStr => TypeImpl::FromStr,
                ReplacementImpl::Display => TypeImpl::Display,
                ReplacementImpl::Default => TypeImpl::Default,
            })
            .collect();
        generation.with_replacement(
            pascal_case(&replacement.schema),
            &replacement.rust_type,
            impls.into_iter(),
        );
    }

    // progenitor asserts on some inputs instead of returning an error; `prepare` rejects the
    // known ones, and this turns any other panic into an error rather than a crash.
    let tokens = catch_unwind(AssertUnwindSafe(|| {
        Generator::new(&generation).generate_tokens(&api)
    }))
    .map_err(|panic| Error::Generator {
        file: spec.name.to_owned(),
        message: format!("progenitor panicked: {}", panic_message(&panic)),
    })?
    .map_err(|error| Error::Generator {
        file: spec.name.to_owned(),
        message: one_line(&error.to_string()),
    })?;

    let mut file: syn::File = syn::parse2(tokens).map_err(|error| Error::InvalidOutput {
        file: spec.name.to_owned(),
        message: error.to_string(),
    })?;
    crate::doc_comments::neutralise_doc_comments(&mut file);
    crate::redirects::refuse_redirects(&mut file);
    if let Some(module) = &date_time_decoder {
        crate::timestamps::route_date_time_decoding(&mut file, module);
    }
    let body = prettyplease::unparse(&file);
    Ok(format!("{}\n{body}", header(spec, overlay, settings)))
}

/// The comment block every generated file starts with.
///
/// The command and the file names are shown through [`comment_safe`], so none of them can end
/// a `//` line and turn the rest of itself into code.
fn header(spec: Source<'_>, overlay: Option<Source<'_>>, settings: &Settings) -> String {
    let command = comment_safe(&settings.command);
    let mut lines = vec![
        format!("// @generated by `{command}` with progenitor {PROGENITOR_VERSION}. Do not edit."),
        format!(
            "// Spec:    {} (sha256 {})",
            comment_safe(spec.name),
            spec.sha256()
        ),
    ];
    if let Some(overlay) = overlay {
        lines.push(format!(
            "// Overlay: {} (sha256 {})",
            comment_safe(overlay.name),
            overlay.sha256()
        ));
    }
    lines.push(format!(
        "// To change this file, change the spec, the overlay or the generator, then run `{command}`."
    ));
    lines.join("\n") + "\n"
}

/// `text` fit for a `//` comment line: control characters (line feed, carriage return, ...),
/// Unicode line and paragraph separators and bidirectional overrides (which rustc refuses in
/// comments, and which reorder what a reviewer sees) are written as Rust escapes (`\n`,
/// `\u{2028}`); a backslash is doubled so the escapes stay unambiguous. Ordinary text is
/// unchanged.
pub fn comment_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        let unsafe_in_comment = character.is_control()
            || matches!(
                character,
                '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
            );
        if character == '\\' || unsafe_in_comment {
            out.extend(character.escape_default());
        } else {
            out.push(character);
        }
    }
    out
}

fn parse_type(text: &str) -> Result<proc_macro2::TokenStream, Error> {
    syn::parse_str::<syn::Type>(text)
        .map(|parsed| quote::quote!(#parsed))
        .map_err(|error| Error::Settings {
            message: format!("`{text}` is not a Rust type: {error}"),
        })
}

fn parse_path(text: &str) -> Result<syn::Path, Error> {
    syn::parse_str::<syn::Path>(text).map_err(|error| Error::Settings {
        message: format!("`{text}` is not a Rust path: {error}"),
    })
}

/// The type name typify gives a component schema (`security-center_auditLog` →
/// `SecurityCenterAuditLog`), which is how replacements are keyed.
pub fn pascal_case(name: &str) -> String {
    // typify's `sanitize` drops apostrophes before casing with heck.
    heck::ToPascalCase::to_pascal_case(name.replace('\'', "").as_str())
}

/// The panic's message on one line (typify's messages embed multi-line `{:#?}` dumps).
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = if let Some(text) = panic.downcast_ref::<&str>() {
        text
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.as_str()
    } else {
        "unknown panic"
    };
    one_line(text)
}

/// `text` on one line: progenitor's and typify's messages embed multi-line `{:#?}` dumps.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n";

    #[test]
    fn pascal_case_names_schemas_as_typify_does() {
        // Separators, camel-case humps, acronyms and apostrophes, cased as typify's names.
        assert_eq!(
            pascal_case("security-center_auditLogFieldChanged"),
            "SecurityCenterAuditLogFieldChanged"
        );
        assert_eq!(pascal_case("HTTPStatus"), "HttpStatus");
        assert_eq!(pascal_case("user's name"), "UsersName");
    }

    #[test]
    fn header_fields_cannot_end_their_comment() {
        // A spec name, an overlay name and a command that each carry a line break and code.
        let overlay = "overlay: 1.0.0\ninfo: {title: o, version: '1'}\nactions: []\n";
        let settings = Settings {
            command: "cargo run\nfn from_command() {}".to_owned(),
            ..Default::default()
        };
        let out = generate(
            Source::new("spec\nfn from_spec() {}\r\n//\u{2028}.yaml", SPEC),
            Some(Source::new("o\u{202e}\nfn from_overlay() {}", overlay)),
            &settings,
        )
        .expect("generates");
        let header: Vec<&str> = out
            .lines()
            .take_while(|line| line.starts_with("//"))
            .collect();
        assert_eq!(header.len(), 4, "{out}");
        assert_eq!(
            header[1],
            format!(
                "// Spec:    spec\\nfn from_spec() {{}}\\r\\n//\\u{{2028}}.yaml (sha256 {})",
                crate::sha256_hex(SPEC.as_bytes())
            )
        );
        let file: syn::File = syn::parse_str(&out).expect("the output parses");
        let names: Vec<String> = file
            .items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Fn(function) => Some(function.sig.ident.to_string()),
                _ => None,
            })
            .collect();
        assert!(names.is_empty(), "code escaped the header: {names:?}");
        assert!(!out.contains('\u{202e}') && !out.contains('\u{2028}'));
    }

    #[test]
    fn ordinary_header_fields_are_unchanged() {
        assert_eq!(
            comment_safe("cargo xtask regenerate"),
            "cargo xtask regenerate"
        );
        assert_eq!(comment_safe("spec/openapi.yaml"), "spec/openapi.yaml");
        assert_eq!(comment_safe("spec/日本.yaml"), "spec/日本.yaml");
        assert_eq!(comment_safe("a\\b\tc"), "a\\\\b\\tc");
    }
}
