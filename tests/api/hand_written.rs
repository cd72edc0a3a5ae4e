//! Reads the public surface of the client crate's hand-written modules out of their source with
//! `syn`: everything `pub` that a user can name (the `unreachable_pub` lint keeps `pub` from
//! meaning anything else), with signatures, fields and variants, so that every addition or
//! removal shows in review as a one-line snapshot diff.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use syn::{Attribute, Fields, ImplItem, Item, TraitItem, Visibility};

use crate::surface::compact;

/// The names of the public structs, enums and traits of `source`: trait implementations are
/// listed for these types only.
pub(crate) fn public_types(source: &str) -> syn::Result<BTreeSet<String>> {
    let file = syn::parse_file(source)?;
    Ok(file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(item) if is_public(&item.vis) => Some(item.ident.to_string()),
            Item::Enum(item) if is_public(&item.vis) => Some(item.ident.to_string()),
            Item::Macro(item) => open_enum(item).map(|item| item.ident.to_string()),
            _ => None,
        })
        .collect())
}

/// The listing of one file, its items named under `module` (e.g. `error` for `src/error.rs`);
/// `public` names the crate's public types.
pub(crate) fn list(module: &str, source: &str, public: &BTreeSet<String>) -> syn::Result<String> {
    let file = syn::parse_file(source)?;
    let mut out = String::new();
    list_items(module, &file.items, public, &mut out);
    Ok(out)
}

fn list_items(module: &str, items: &[Item], public: &BTreeSet<String>, out: &mut String) {
    for item in items {
        list_item(module, item, public, out);
    }
}

/// The enum an `open_enum! { pub enum Name { Variant = "wire", ... } }` invocation defines (see
/// the client's `forward_compat`), as written: its variants get an `Unknown(String)` besides.
fn open_enum(item: &syn::ItemMacro) -> Option<syn::ItemEnum> {
    let named = item
        .mac
        .path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "open_enum");
    named
        .then(|| syn::parse2(item.mac.tokens.clone()).ok())
        .flatten()
}

/// What `open_enum!` implements for each enum it defines.
const OPEN_ENUM_IMPLS: [&str; 6] = [
    "From<&str>",
    "From<String>",
    "FromStr",
    "fmt::Display",
    "Serialize",
    "Deserialize<'de>",
];

fn list_item(module: &str, item: &Item, public: &BTreeSet<String>, out: &mut String) {
    let path = |name: &dyn std::fmt::Display| format!("{module}::{name}");
    match item {
        Item::Macro(item) => {
            let Some(item) = open_enum(item) else {
                return;
            };
            let name = &item.ident;
            let _ = writeln!(out, "enum {}{}", path(name), marks(&item.attrs));
            for variant in &item.variants {
                let _ = writeln!(out, "    {}{}", variant.ident, marks(&variant.attrs));
            }
            let _ = writeln!(out, "    Unknown\n        0: String");
            let _ = writeln!(out, "fn {name}::as_str(&self) -> &str");
            for implemented in OPEN_ENUM_IMPLS {
                let _ = writeln!(out, "impl {implemented} for {name}");
            }
        }
        Item::Struct(item) if is_public(&item.vis) => {
            let generics = tokens(&item.generics);
            let _ = writeln!(
                out,
                "struct {}{generics}{}",
                path(&item.ident),
                marks(&item.attrs)
            );
            list_fields(&item.fields, "    ", false, out);
        }
        Item::Enum(item) if is_public(&item.vis) => {
            let generics = tokens(&item.generics);
            let _ = writeln!(
                out,
                "enum {}{generics}{}",
                path(&item.ident),
                marks(&item.attrs)
            );
            for variant in &item.variants {
                let _ = writeln!(out, "    {}{}", variant.ident, marks(&variant.attrs));
                list_fields(&variant.fields, "        ", true, out);
            }
        }
        Item::Fn(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "{}", signature(Some(module), &item.sig));
        }
        Item::Const(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "const {}: {}", path(&item.ident), tokens(&item.ty));
        }
        Item::Static(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "static {}: {}", path(&item.ident), tokens(&item.ty));
        }
        Item::Type(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "type {} = {}", path(&item.ident), tokens(&item.ty));
        }
        Item::Trait(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "trait {}{}", path(&item.ident), tokens(&item.generics));
            for member in &item.items {
                match member {
                    TraitItem::Fn(function) => {
                        let _ = writeln!(out, "    {}", signature(None, &function.sig));
                    }
                    TraitItem::Type(ty) => {
                        let _ = writeln!(out, "    type {}", ty.ident);
                    }
                    _ => {}
                }
            }
        }
        Item::Use(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "{module}: pub use {}", tokens(&item.tree));
        }
        Item::Mod(item) if is_public(&item.vis) => {
            if let Some((_, items)) = &item.content {
                list_items(&path(&item.ident), items, public, out);
            }
        }
        Item::Impl(item) => {
            let self_ty = tokens(&item.self_ty);
            let base = self_ty.split('<').next().unwrap_or_default();
            if !public.contains(base) {
                return;
            }
            if let Some((_, trait_path, _)) = &item.trait_ {
                let _ = writeln!(out, "impl {} for {self_ty}", tokens(trait_path));
                return;
            }
            for member in &item.items {
                if let ImplItem::Fn(function) = member
                    && is_public(&function.vis)
                {
                    let _ = writeln!(out, "{}", signature(Some(&self_ty), &function.sig));
                }
                if let ImplItem::Const(constant) = member
                    && is_public(&constant.vis)
                {
                    let _ = writeln!(
                        out,
                        "const {self_ty}::{}: {}",
                        constant.ident,
                        tokens(&constant.ty)
                    );
                }
            }
        }
        _ => {}
    }
}

/// The fields users can name: the public ones, or all of an enum variant's (`in_variant`).
fn list_fields(fields: &Fields, indent: &str, in_variant: bool, out: &mut String) {
    for (index, field) in fields.iter().enumerate() {
        if !in_variant && !is_public(&field.vis) {
            continue;
        }
        let name = field
            .ident
            .as_ref()
            .map_or_else(|| index.to_string(), ToString::to_string);
        let _ = writeln!(out, "{indent}{name}: {}", tokens(&field.ty));
    }
}

/// `fn Owner::name(arguments) -> Output`, with `async`, generics and bounds.
fn signature(owner: Option<&str>, sig: &syn::Signature) -> String {
    let mut head = String::new();
    if sig.asyncness.is_some() {
        head.push_str("async ");
    }
    let inputs: Vec<String> = sig.inputs.iter().map(tokens).collect();
    let output = match &sig.output {
        syn::ReturnType::Default => String::new(),
        syn::ReturnType::Type(_, ty) => format!(" -> {}", tokens(ty)),
    };
    let bounds = sig
        .generics
        .where_clause
        .as_ref()
        .map(|clause| format!(" {}", tokens(clause)))
        .unwrap_or_default();
    let owner = owner.map(|owner| format!("{owner}::")).unwrap_or_default();
    format!(
        "{head}fn {owner}{}{}({}){output}{bounds}",
        sig.ident,
        tokens(&sig.generics),
        inputs.join(", ")
    )
}

/// Attributes that change what users may do: `#[non_exhaustive]`, `#[must_use]`.
fn marks(attrs: &[Attribute]) -> String {
    let mut out = String::new();
    for attribute in attrs {
        if attribute.path().is_ident("non_exhaustive") {
            out.push_str(" #[non_exhaustive]");
        }
    }
    out
}

fn is_public(visibility: &Visibility) -> bool {
    matches!(visibility, Visibility::Public(_))
}

/// A syntax node as compact text, with a space after each `:` that is not part of a path.
fn tokens(node: &impl quote::ToTokens) -> String {
    let text = compact(&node.to_token_stream().to_string());
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (index, &character) in chars.iter().enumerate() {
        out.push(character);
        let before = index.checked_sub(1).map(|i| chars[i]);
        let after = chars.get(index + 1).copied();
        if character == ':'
            && before != Some(':')
            && after.is_some_and(|next| next != ':' && next != ' ')
        {
            out.push(' ');
        }
    }
    out
}
