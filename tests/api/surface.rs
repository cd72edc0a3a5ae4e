//! Reads a generated client's public surface out of its source with `syn`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quote::ToTokens as _;
use syn::{Fields, FnArg, GenericArgument, Item, PathArguments, ReturnType, Type, Visibility};

/// The listing: public types of `mod types`, then the client's public methods, each operation
/// method followed by its builder's parameters and `send()`.
pub(crate) fn list(source: &str) -> syn::Result<String> {
    let file = syn::parse_file(source)?;
    let mut out = String::new();
    let mut builders: BTreeMap<String, (Vec<String>, Option<String>)> = BTreeMap::new();
    for item in &file.items {
        if let Item::Mod(module) = item
            && module.ident == "builder"
        {
            builders = read_builders(module);
        }
    }
    for item in &file.items {
        if let Item::Mod(module) = item
            && module.ident == "types"
            && let Some((_, items)) = &module.content
        {
            for item in items {
                list_type(item, &mut out);
            }
        }
    }
    for item in &file.items {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() || type_text(&block.self_ty) != "Client" {
            continue;
        }
        for item in &block.items {
            let syn::ImplItem::Fn(method) = item else {
                continue;
            };
            if !is_public(&method.vis) {
                continue;
            }
            let arguments: Vec<String> = method
                .sig
                .inputs
                .iter()
                .filter_map(|argument| match argument {
                    FnArg::Receiver(_) => None,
                    FnArg::Typed(typed) => Some(format!(
                        "{}: {}",
                        compact(&typed.pat.to_token_stream().to_string()),
                        type_text(&typed.ty)
                    )),
                })
                .collect();
            let output = return_text(&method.sig.output);
            let _ = writeln!(
                out,
                "fn Client::{}({}){}",
                method.sig.ident,
                arguments.join(", "),
                output
            );
            // `builder::Name<'_>` names the builder whose parameters follow.
            let builder = output
                .trim_start_matches(" -> builder::")
                .split('<')
                .next()
                .unwrap_or_default()
                .to_owned();
            if let Some((parameters, send)) = builders.get(&builder) {
                for parameter in parameters {
                    let _ = writeln!(out, "    {parameter}");
                }
                if let Some(send) = send {
                    let _ = writeln!(out, "    send(){send}");
                }
            }
        }
    }
    Ok(out)
}

fn list_type(item: &Item, out: &mut String) {
    match item {
        Item::Struct(item) if is_public(&item.vis) => match &item.fields {
            Fields::Named(fields) => {
                let _ = writeln!(out, "struct types::{}", item.ident);
                for field in fields.named.iter().filter(|field| is_public(&field.vis)) {
                    if let Some(name) = &field.ident {
                        let _ = writeln!(out, "    {name}: {}", type_text(&field.ty));
                    }
                }
            }
            Fields::Unnamed(fields) => {
                let inner: Vec<String> = fields
                    .unnamed
                    .iter()
                    .map(|field| type_text(&field.ty))
                    .collect();
                let _ = writeln!(out, "struct types::{}({})", item.ident, inner.join(", "));
            }
            Fields::Unit => {
                let _ = writeln!(out, "struct types::{}", item.ident);
            }
        },
        Item::Enum(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "enum types::{}", item.ident);
            for variant in &item.variants {
                let fields = match &variant.fields {
                    Fields::Unit => String::new(),
                    Fields::Unnamed(fields) => {
                        let inner: Vec<String> = fields
                            .unnamed
                            .iter()
                            .map(|field| type_text(&field.ty))
                            .collect();
                        format!("({})", inner.join(", "))
                    }
                    Fields::Named(fields) => {
                        let inner: Vec<String> = fields
                            .named
                            .iter()
                            .filter_map(|field| {
                                field
                                    .ident
                                    .as_ref()
                                    .map(|name| format!("{name}: {}", type_text(&field.ty)))
                            })
                            .collect();
                        format!(" {{ {} }}", inner.join(", "))
                    }
                };
                let _ = writeln!(out, "    {}{fields}", variant.ident);
            }
        }
        Item::Type(item) if is_public(&item.vis) => {
            let _ = writeln!(out, "type types::{} = {}", item.ident, type_text(&item.ty));
        }
        _ => {}
    }
}

/// Each builder's parameters (`name: Type (required|optional)`) and its `send()` return type.
fn read_builders(module: &syn::ItemMod) -> BTreeMap<String, (Vec<String>, Option<String>)> {
    let mut builders: BTreeMap<String, (Vec<String>, Option<String>)> = BTreeMap::new();
    let Some((_, items)) = &module.content else {
        return builders;
    };
    for item in items {
        match item {
            Item::Struct(item) if is_public(&item.vis) => {
                let mut parameters = Vec::new();
                for field in &item.fields {
                    let Some(name) = &field.ident else { continue };
                    if name == "client" {
                        continue;
                    }
                    // Parameters are stored as `Result<T, String>`; `T` is `Option<U>` when optional.
                    let stored = first_argument(&field.ty, "Result").unwrap_or(&field.ty);
                    let parameter = match first_argument(stored, "Option") {
                        Some(inner) => format!("{name}: {} (optional)", type_text(inner)),
                        None => format!("{name}: {} (required)", type_text(stored)),
                    };
                    parameters.push(parameter);
                }
                builders.entry(item.ident.to_string()).or_default().0 = parameters;
            }
            Item::Impl(block) if block.trait_.is_none() => {
                let name = type_text(&block.self_ty);
                let name = name.split('<').next().unwrap_or_default().to_owned();
                for item in &block.items {
                    if let syn::ImplItem::Fn(method) = item
                        && method.sig.ident == "send"
                    {
                        builders.entry(name.clone()).or_default().1 =
                            Some(return_text(&method.sig.output));
                    }
                }
            }
            _ => {}
        }
    }
    builders
}

/// The single generic argument of `ty` when its last path segment is `wrapper`.
fn first_argument<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

fn is_public(visibility: &Visibility) -> bool {
    matches!(visibility, Visibility::Public(_))
}

fn return_text(output: &ReturnType) -> String {
    match output {
        ReturnType::Default => String::new(),
        ReturnType::Type(_, ty) => format!(" -> {}", type_text(ty)),
    }
}

/// A type as people write it: no spaces inside paths, and the prelude's `std` paths shortened.
fn type_text(ty: &Type) -> String {
    let text = compact(&ty.to_token_stream().to_string());
    let text = text
        .replace("::std::", "std::")
        .replace("::chrono::", "chrono::");
    let text = text
        .replace("::uuid::", "uuid::")
        .replace("::serde_json::", "serde_json::");
    [
        "std::option::",
        "std::string::",
        "std::vec::",
        "std::num::",
        "std::collections::",
        "std::boxed::",
    ]
    .iter()
    .fold(text, |text, prefix| text.replace(prefix, ""))
}

/// Removes the spaces the token printer puts between punctuation, keeping those between words.
pub(crate) fn compact(tokens: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '\'';
    let chars: Vec<char> = tokens.chars().collect();
    let mut out = String::new();
    for (index, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let before = index.checked_sub(1).map(|i| chars[i]);
            let after = chars.get(index + 1).copied();
            match (before, after) {
                (Some(before), Some(after)) if word(before) && word(after) => out.push(' '),
                (Some(','), _) => out.push(' '),
                _ => {}
            }
        } else {
            out.push(c);
        }
    }
    // A trailing comma inside generic arguments or parentheses.
    out.replace(", >", ">")
        .replace(",>", ">")
        .replace(", )", ")")
}
