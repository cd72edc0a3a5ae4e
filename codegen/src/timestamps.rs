//! Routes the decoding of generated `date-time` fields through a caller-chosen module.
//!
//! typify types `format: date-time` as `chrono::DateTime<Utc>`, whose serde impl parses with
//! chrono's generic, relaxed parser: about five times slower than its dedicated RFC 3339 one,
//! and on a page of audit-log entries the largest single cost of decoding. progenitor offers no
//! per-field hook, so this pass edits the generated syntax tree: every named field of a
//! `Deserialize` struct whose type is `DateTime<Utc>` or `Option<DateTime<Utc>>` gets
//! `#[serde(deserialize_with = "…")]` naming the module's `deserialize` or `deserialize_option`.
//! Field types, serialisation and every other item stay as generated.

use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Field, GenericArgument, ItemStruct, PathArguments, Type, parse_quote};

/// Adds the `deserialize_with` attributes to `file`; `module` is a Rust path such as
/// `crate::rfc3339`.
pub(crate) fn route_date_time_decoding(file: &mut syn::File, module: &syn::Path) {
    DateTimeFields { module }.visit_file_mut(file);
}

struct DateTimeFields<'a> {
    module: &'a syn::Path,
}

impl VisitMut for DateTimeFields<'_> {
    fn visit_item_struct_mut(&mut self, item: &mut ItemStruct) {
        if derives_deserialize(&item.attrs) {
            for field in item.fields.iter_mut() {
                if field.ident.is_some() {
                    self.route(field);
                }
            }
        }
        visit_mut::visit_item_struct_mut(self, item);
    }
}

impl DateTimeFields<'_> {
    fn route(&self, field: &mut Field) {
        if has_serde_key(&field.attrs, &["deserialize_with", "with"]) {
            return;
        }
        let module = self.module;
        let (function, needs_default) = if is_date_time(&field.ty) {
            (quote::quote!(#module::deserialize), false)
        } else if option_inner(&field.ty).is_some_and(is_date_time) {
            // `deserialize_with` turns off serde's "a missing Option is None" rule.
            let needs_default = !has_serde_key(&field.attrs, &["default"]);
            (quote::quote!(#module::deserialize_option), needs_default)
        } else {
            return;
        };
        let function = function.to_string().replace(' ', "");
        field.attrs.push(if needs_default {
            parse_quote!(#[serde(default, deserialize_with = #function)])
        } else {
            parse_quote!(#[serde(deserialize_with = #function)])
        });
    }
}

/// Whether a `#[derive(...)]` among `attrs` names `Deserialize` (by any path).
fn derives_deserialize(attrs: &[Attribute]) -> bool {
    any_nested(attrs, "derive", |path| {
        path.segments
            .last()
            .is_some_and(|segment| segment.ident == "Deserialize")
    })
}

/// Whether a `#[serde(...)]` among `attrs` sets one of `keys`.
fn has_serde_key(attrs: &[Attribute], keys: &[&str]) -> bool {
    any_nested(attrs, "serde", |path| {
        keys.iter().any(|key| path.is_ident(key))
    })
}

/// Whether an `#[outer(...)]` attribute among `attrs` lists an item whose path matches.
fn any_nested(attrs: &[Attribute], outer: &str, matches: impl Fn(&syn::Path) -> bool) -> bool {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident(outer))
        .any(|attr| {
            let mut found = false;
            let _ = attr.parse_nested_meta(|meta| {
                found |= matches(&meta.path);
                // Skip a `= value` so the next item parses.
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Expr>()?;
                }
                Ok(())
            });
            found
        })
}

/// The last path segment of `ty` with its generic arguments, if `ty` is a plain path.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// The single type argument of `segment` (`T` in `Name<T>`).
fn only_type_argument(segment: &syn::PathSegment) -> Option<&Type> {
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    match arguments.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// `T` when `ty` is `Option<T>` (by any path).
fn option_inner(ty: &Type) -> Option<&Type> {
    last_segment(ty)
        .filter(|segment| segment.ident == "Option")
        .and_then(only_type_argument)
}

/// Whether `ty` is `DateTime<Utc>` (by any path), the type typify gives `format: date-time`.
fn is_date_time(ty: &Type) -> bool {
    last_segment(ty)
        .filter(|segment| segment.ident == "DateTime")
        .and_then(only_type_argument)
        .and_then(last_segment)
        .is_some_and(|segment| segment.ident == "Utc")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(source: &str) -> String {
        let mut file: syn::File = syn::parse_str(source).expect("test source parses");
        route_date_time_decoding(&mut file, &parse_quote!(crate::rfc3339));
        prettyplease::unparse(&file)
    }

    #[test]
    fn required_and_optional_date_times_are_routed() {
        let out = routed(
            "#[derive(::serde::Deserialize)] pub struct Entry {
                pub at: ::chrono::DateTime<::chrono::offset::Utc>,
                #[serde(skip_serializing_if = \"::std::option::Option::is_none\")]
                pub maybe: ::std::option::Option<::chrono::DateTime<::chrono::offset::Utc>>,
                pub name: ::std::string::String,
            }",
        );
        assert!(
            out.contains(
                "#[serde(deserialize_with = \"crate::rfc3339::deserialize\")]\n    pub at:"
            ),
            "{out}"
        );
        assert!(
            out.contains(
                "#[serde(default, deserialize_with = \"crate::rfc3339::deserialize_option\")]\n    pub maybe:"
            ),
            "{out}"
        );
        assert_eq!(out.matches("deserialize_with").count(), 2, "{out}");
    }

    #[test]
    fn other_types_and_structs_are_left_alone() {
        let source = "#[derive(::serde::Serialize)] pub struct Out { pub at: ::chrono::DateTime<::chrono::offset::Utc> }
            #[derive(::serde::Deserialize)] pub struct In {
                pub list: ::std::vec::Vec<::chrono::DateTime<::chrono::offset::Utc>>,
                pub local: ::chrono::DateTime<::chrono::offset::Local>,
                #[serde(with = \"other\")] pub custom: ::chrono::DateTime<::chrono::offset::Utc>,
            }
            #[derive(::serde::Deserialize)] pub struct Tuple(pub ::chrono::DateTime<::chrono::offset::Utc>);";
        let out = routed(source);
        assert!(!out.contains("deserialize_with"), "{out}");
    }

    #[test]
    fn an_existing_default_is_not_repeated() {
        let out = routed(
            "#[derive(Deserialize)] pub struct Entry {
                #[serde(default, skip_serializing_if = \"Option::is_none\")]
                pub maybe: Option<DateTime<Utc>>,
            }",
        );
        assert_eq!(out.matches("default").count(), 1, "{out}");
        assert!(out.contains("crate::rfc3339::deserialize_option"), "{out}");
    }
}
