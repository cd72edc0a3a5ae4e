//! Running progenitor on a prepared document and turning its tokens into a formatted file.

use std::panic::{AssertUnwindSafe, catch_unwind};

use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

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
    /// `inner_type`), e.g. `crate::runtime::Runtime`.
    pub inner_type: Option<String>,
    /// A module whose `deserialize` and `deserialize_option` functions decode the generated
    /// `DateTime<Utc>` fields (e.g. `crate::rfc3339`); `None` keeps chrono's serde impl. See
    /// [`timestamps`](crate::timestamps) for why.
    pub date_time_decoder: Option<String>,
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
        .with_tag(TagStyle::Merged);
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
    if let Some(module) = &date_time_decoder {
        crate::timestamps::route_date_time_decoding(&mut file, module);
    }
    let body = prettyplease::unparse(&file);
    Ok(format!("{}\n{body}", header(spec, overlay, settings)))
}

/// The comment block every generated file starts with.
fn header(spec: Source<'_>, overlay: Option<Source<'_>>, settings: &Settings) -> String {
    let mut lines = vec![
        format!(
            "// @generated by `{}` with progenitor {PROGENITOR_VERSION}. Do not edit.",
            settings.command
        ),
        format!("// Spec:    {} (sha256 {})", spec.name, spec.sha256()),
    ];
    if let Some(overlay) = overlay {
        lines.push(format!(
            "// Overlay: {} (sha256 {})",
            overlay.name,
            overlay.sha256()
        ));
    }
    lines.push(format!(
        "// To change this file, change the spec, the overlay or the generator, then run `{}`.",
        settings.command
    ));
    lines.join("\n") + "\n"
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
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    let mut previous_lower = false;
    for character in name.chars() {
        if character.is_ascii_alphanumeric() {
            if upper {
                out.extend(character.to_uppercase());
            } else if character.is_ascii_uppercase() && !previous_lower {
                out.extend(character.to_lowercase());
            } else {
                out.push(character);
            }
            previous_lower = character.is_ascii_lowercase() || character.is_ascii_digit();
            upper = false;
        } else {
            upper = true;
            previous_lower = false;
        }
    }
    out
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
