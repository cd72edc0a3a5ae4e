//! Keeps spec text in doc comments inert: no code block in a generated doc comment is a doctest.
//!
//! progenitor and typify copy descriptions from the spec into `#[doc]` attributes verbatim, and
//! rustdoc runs every Rust code block it finds there as a doctest: a fenced block with no info
//! string or a Rust one (`rust`, `ignore`, `should_panic`, ...), and every indented block. A spec
//! update carrying one would run its code in `cargo test --workspace`, and generated diffs are
//! collapsed in review. This pass edits the generated syntax tree so that
//!
//! - every fenced code block (``` or ~~~, any info string, also inside lists and block quotes)
//!   is a `text` block,
//! - every indented code block becomes a paragraph (its first indentation is replaced by the
//!   entity `&#32;`, so the lines no longer start a code block),
//! - raw HTML (blocks and inline tags, comments included) is escaped (`<` as `&lt;`, also a
//!   `<` in plain text), so it shows as text instead of hiding what follows; code spans and
//!   `text` blocks keep theirs.
//!
//! rustdoc joins all doc attributes of an item into one Markdown text and removes their common
//! indentation (and a common ` * ` column of block comments), so each item's doc attributes are
//! read together and in each of those forms. The code blocks are found with pulldown-cmark,
//! the parser rustdoc itself uses, and the pass repeats until a parse finds nothing left to
//! change; should that not settle, the text falls back to a form with no backtick, tilde, `<`,
//! `*` or leading white space, which can hold no code block at all. Docs without code blocks or
//! HTML are left byte for byte as they were.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta};

/// The info string every fenced code block gets.
const TEXT: &str = "text";

/// How many rounds of edits a doc may take before the fallback applies.
const MAX_ROUNDS: usize = 8;

/// Makes every code block in `file`'s doc attributes a non-running `text` block and escapes
/// raw HTML (see the module documentation).
pub(crate) fn neutralise_doc_comments(file: &mut syn::File) {
    neutralise_attrs(&mut file.attrs);
    DocComments.visit_file_mut(file);
}

struct DocComments;

/// Implements `VisitMut` methods that neutralise the docs of a node before walking into it.
macro_rules! with_docs {
    ($($method:ident: $node:ty;)*) => {
        $(
            fn $method(&mut self, node: &mut $node) {
                neutralise_attrs(&mut node.attrs);
                visit_mut::$method(self, node);
            }
        )*
    };
}

impl VisitMut for DocComments {
    with_docs! {
        visit_item_const_mut: syn::ItemConst;
        visit_item_enum_mut: syn::ItemEnum;
        visit_item_extern_crate_mut: syn::ItemExternCrate;
        visit_item_fn_mut: syn::ItemFn;
        visit_item_foreign_mod_mut: syn::ItemForeignMod;
        visit_item_impl_mut: syn::ItemImpl;
        visit_item_macro_mut: syn::ItemMacro;
        visit_item_mod_mut: syn::ItemMod;
        visit_item_static_mut: syn::ItemStatic;
        visit_item_struct_mut: syn::ItemStruct;
        visit_item_trait_mut: syn::ItemTrait;
        visit_item_trait_alias_mut: syn::ItemTraitAlias;
        visit_item_type_mut: syn::ItemType;
        visit_item_union_mut: syn::ItemUnion;
        visit_item_use_mut: syn::ItemUse;
        visit_impl_item_const_mut: syn::ImplItemConst;
        visit_impl_item_fn_mut: syn::ImplItemFn;
        visit_impl_item_type_mut: syn::ImplItemType;
        visit_impl_item_macro_mut: syn::ImplItemMacro;
        visit_trait_item_const_mut: syn::TraitItemConst;
        visit_trait_item_fn_mut: syn::TraitItemFn;
        visit_trait_item_type_mut: syn::TraitItemType;
        visit_trait_item_macro_mut: syn::TraitItemMacro;
        visit_foreign_item_fn_mut: syn::ForeignItemFn;
        visit_foreign_item_static_mut: syn::ForeignItemStatic;
        visit_foreign_item_type_mut: syn::ForeignItemType;
        visit_foreign_item_macro_mut: syn::ForeignItemMacro;
        visit_field_mut: syn::Field;
        visit_variant_mut: syn::Variant;
    }
}

/// Neutralises the doc attributes of one item, read together as rustdoc reads them.
fn neutralise_attrs(attrs: &mut [Attribute]) {
    let mut docs: Vec<(usize, String)> = attrs
        .iter()
        .enumerate()
        .filter_map(|(index, attr)| doc_text(attr).map(|text| (index, text)))
        .collect();
    if docs.is_empty() {
        return;
    }
    let texts: Vec<String> = docs.iter().map(|(_, text)| text.clone()).collect();
    let Some(neutral) = neutralise_texts(&texts) else {
        return;
    };
    for ((index, text), new) in docs.iter_mut().zip(neutral) {
        if *text != new {
            let span = attrs[*index].pound_token.span;
            let literal = LitStr::new(&new, span);
            attrs[*index] = syn::parse_quote_spanned!(span=> #[doc = #literal]);
        }
    }
}

/// The text of a `#[doc = "..."]` attribute.
fn doc_text(attr: &Attribute) -> Option<String> {
    if !attr.path().is_ident("doc") {
        return None;
    }
    match &attr.meta {
        Meta::NameValue(pair) => match &pair.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Some(text.value()),
            _ => None,
        },
        _ => None,
    }
}

/// The doc texts of one item (one per attribute) with every code block made inert, or `None`
/// when nothing needs to change.
pub fn neutralise_texts(texts: &[String]) -> Option<Vec<String>> {
    // Markdown also ends lines at CR; rustdoc would, the line scan below would not.
    let normalised: Vec<String> = texts
        .iter()
        .map(|text| text.replace("\r\n", "\n").replace('\r', "\n"))
        .collect();
    let mut joined = normalised.join("\n");
    let mut changed = normalised.as_slice() != texts;
    let mut settled = false;
    for _ in 0..MAX_ROUNDS {
        let edits = edits(&joined);
        if edits.is_empty() {
            settled = true;
            break;
        }
        joined = apply(&joined, &edits);
        changed = true;
    }
    if !settled {
        joined = inert_fallback(&joined);
        changed = true;
    }
    if !changed {
        return None;
    }
    // No edit adds or removes a line break, so the attributes keep their line counts.
    let mut lines = joined.split('\n');
    Some(
        normalised
            .iter()
            .map(|text| {
                let count = text.split('\n').count();
                lines.by_ref().take(count).collect::<Vec<_>>().join("\n")
            })
            .collect(),
    )
}

/// The edits `text` needs, as byte ranges of `text` and their replacements, sorted and not
/// overlapping. Empty when every view of the text is inert.
fn edits(text: &str) -> Vec<(Range<usize>, String)> {
    let mut found: Vec<(Range<usize>, String)> = Vec::new();
    for view in views(text) {
        for (range, replacement) in view_edits(&view.text) {
            found.push((view.to_source(range), replacement));
        }
    }
    found.sort_by_key(|(range, _)| (range.start, range.end));
    let mut out: Vec<(Range<usize>, String)> = Vec::new();
    for (range, replacement) in found {
        match out.last() {
            // The same edit found in two views, or one that overlaps: the next round decides.
            Some((last, _)) if range.start < last.end || range == *last => {}
            _ => out.push((range, replacement)),
        }
    }
    out
}

fn apply(text: &str, edits: &[(Range<usize>, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 16 * edits.len());
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(&text[at..range.start]);
        out.push_str(replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The parser options of rustdoc.
fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
}

/// The edits one Markdown text needs, in its own byte offsets.
fn view_edits(text: &str) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    let mut in_code_block = false;
    let escape_tags = |range: Range<usize>, out: &mut Vec<(Range<usize>, String)>| {
        for (offset, _) in text[range.clone()].match_indices('<') {
            let at = range.start + offset;
            out.push((at..at + 1, "&lt;".to_owned()));
        }
    };
    for (event, range) in Parser::new_ext(text, markdown_options()).into_offset_iter() {
        match &event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            _ => {}
        }
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) if info.trim() != TEXT => {
                let info = fence_info(text, range.start);
                out.extend(info.map(|info| (info, TEXT.to_owned())));
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => {
                out.extend(first_indentation(text, range.start).map(|ws| (ws, "&#32;".to_owned())));
            }
            Event::Html(_) | Event::InlineHtml(_) => escape_tags(range, &mut out),
            // A `<` the parser reads as text (e.g. a comment opener cut by a blank line) is
            // escaped too: it renders the same, and no other reader can take it for a tag.
            Event::Text(_) if !in_code_block => escape_tags(range, &mut out),
            _ => {}
        }
    }
    out
}

/// The range of the info string of the fence that opens at or after `start` on its line
/// (possibly empty, at the end of the fence).
fn fence_info(text: &str, start: usize) -> Option<Range<usize>> {
    let line_end = text[start..].find('\n').map_or(text.len(), |at| start + at);
    let line = &text[start..line_end];
    let fence_at = line.find(['`', '~'])?;
    let fence_char = line[fence_at..].chars().next()?;
    let run = line[fence_at..]
        .find(|c| c != fence_char)
        .unwrap_or(line.len() - fence_at);
    Some(start + fence_at + run..line_end)
}

/// The white space before the first character of an indented code block that starts at
/// `start`.
fn first_indentation(text: &str, start: usize) -> Option<Range<usize>> {
    let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |at| start + at);
    let content = start + text[start..line_end].find(|c: char| c != ' ' && c != '\t')?;
    let white = text[line_start..content]
        .rfind(|c: char| c != ' ' && c != '\t')
        .map_or(line_start, |at| line_start + at + 1);
    Some(white..content)
}

/// A form of the text rustdoc may parse, with the way back to the text's offsets: each line
/// of the view is its line of the text without a prefix.
struct View {
    text: String,
    /// Per line: where it starts in the source and how many bytes of prefix were removed.
    lines: Vec<(usize, usize)>,
    /// Per line: where it starts in the view.
    starts: Vec<usize>,
}

impl View {
    fn new(source: &str, prefix: impl Fn(&str) -> usize) -> Self {
        let mut text = String::with_capacity(source.len());
        let mut lines = Vec::new();
        let mut starts = Vec::new();
        let mut at = 0;
        for line in source.split('\n') {
            let cut = prefix(line).min(line.len());
            if !starts.is_empty() {
                text.push('\n');
            }
            starts.push(text.len());
            lines.push((at, cut));
            text.push_str(&line[cut..]);
            at += line.len() + 1;
        }
        Self {
            text,
            lines,
            starts,
        }
    }

    /// Maps a range of the view back to the source (both ends on the same line).
    fn to_source(&self, range: Range<usize>) -> Range<usize> {
        let line = self.starts.partition_point(|&start| start <= range.start) - 1;
        let (source_start, cut) = self.lines[line];
        let shift = source_start + cut - self.starts[line];
        range.start + shift..range.end + shift
    }
}

/// The text as written, without its common indentation, and (when every line has one) without
/// a leading ` * ` column and then the common indentation.
fn views(text: &str) -> Vec<View> {
    let mut out = vec![View::new(text, |_| 0)];
    let indent = common_indent(text.split('\n'));
    if indent > 0 {
        out.push(View::new(text, |line| leading_white(line).min(indent)));
    }
    let starred = text
        .split('\n')
        .filter(|line| !line.trim().is_empty())
        .all(|line| line.trim_start_matches([' ', '\t']).starts_with('*'));
    if starred {
        let star = |line: &str| {
            let white = leading_white(line);
            if line[white..].starts_with('*') {
                white + 1
            } else {
                line.len()
            }
        };
        let rest = text
            .split('\n')
            .map(|line| &line[star(line).min(line.len())..]);
        let indent = common_indent(rest);
        out.push(View::new(text, |line| {
            let cut = star(line).min(line.len());
            cut + leading_white(&line[cut..]).min(indent)
        }));
    }
    out
}

/// Bytes of leading spaces and tabs.
fn leading_white(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// The smallest indentation of the lines that are not blank.
fn common_indent<'a>(lines: impl Iterator<Item = &'a str>) -> usize {
    lines
        .filter(|line| !line.trim().is_empty())
        .map(leading_white)
        .min()
        .unwrap_or(0)
}

/// A form of `text` that can hold no code block and no HTML: no backtick, tilde, `<` or `*`
/// (written as entities), and no leading white space.
fn inert_fallback(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            line.trim_start()
                .replace('`', "&#96;")
                .replace('~', "&#126;")
                .replace('<', "&lt;")
                .replace('*', "&#42;")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> String {
        neutralise_texts(&[text.to_owned()])
            .map(|mut texts| texts.remove(0))
            .unwrap_or_else(|| text.to_owned())
    }

    /// Every code block rustdoc would find in `texts` joined, in each view: (kind, info).
    fn blocks(text: &str) -> Vec<String> {
        views(text)
            .iter()
            .flat_map(|view| {
                Parser::new_ext(&view.text, markdown_options())
                    .filter_map(|event| match event {
                        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                            Some(format!("fenced {info}"))
                        }
                        Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => {
                            Some("indented".to_owned())
                        }
                        Event::Html(_) | Event::InlineHtml(_) => Some("html".to_owned()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn assert_inert(text: &str) {
        for block in blocks(text) {
            assert_eq!(block, "fenced text", "in {text:?}");
        }
    }

    #[test]
    fn fences_of_any_info_become_text() {
        for fence in [
            "```",
            "```rust",
            "``` rust",
            "```ignore",
            "```should_panic",
            "~~~",
            "~~~rust",
            "````rust,no_run",
            "```text",
        ] {
            let close = &fence[..fence.find(|c| c != '`' && c != '~').unwrap_or(fence.len())];
            let text = format!("Intro.\n{fence}\nstd::process::exit(1);\n{close}\nAfter.");
            let out = one(&text);
            assert_inert(&out);
            assert!(out.contains("std::process::exit(1);"), "{out}");
            assert!(out.ends_with(&format!("{close}\nAfter.")), "{out}");
        }
        assert_eq!(one("a\n```rust\nx\n```"), "a\n```text\nx\n```");
    }

    #[test]
    fn fences_in_lists_and_quotes_become_text() {
        let out =
            one("- item\n\n  ```rust\n  x\n  ```\n\n> ```\n> y\n> ```\n\n1. ~~~\n   z\n   ~~~");
        assert_inert(&out);
        assert_eq!(out.matches("text").count(), 3, "{out}");
    }

    #[test]
    fn a_fence_outside_the_list_it_seems_to_close_is_neutralised_too() {
        // The bare fence ends the list item, so it opens a new block rather than closing one.
        let out = one("- x\n  ```rust\n  a\n```\nfn main() {}\n```");
        assert_inert(&out);
    }

    #[test]
    fn indented_code_becomes_a_paragraph() {
        let out = one("Example:\n\n    std::process::exit(1);\n    more();\n\nEnd.");
        assert_inert(&out);
        assert!(out.contains("&#32;std::process::exit(1);"), "{out}");
        // Also at the very start, with tabs, and where only the common indentation hides it.
        assert_inert(&one("\tx();"));
        assert_inert(&one("    x();"));
        assert_inert(&one("  a\n\n        b();"));
    }

    #[test]
    fn raw_html_is_escaped() {
        let out = one("Name `x`<!-- hidden\n\nrest -->\n\n<script>alert(1)</script>\n\nok");
        assert_inert(&out);
        assert!(!out.contains("<!--"), "{out}");
        assert!(out.contains("&lt;script>"), "{out}");
        // Inline code stays as it is.
        assert_eq!(one("Use `Option<T>` here."), "Use `Option<T>` here.");
    }

    #[test]
    fn docs_without_code_are_unchanged() {
        for text in [
            "Whether the API call was successful.",
            " Create a new client.\n\n `baseurl` is the base URL.",
            "`SecurityCenterAuditLog`",
            "",
        ] {
            assert_eq!(neutralise_texts(&[text.to_owned()]), None, "{text:?}");
        }
    }

    #[test]
    fn docs_split_over_attributes_are_read_together() {
        // One block spread over three attributes; the closer is in the last one.
        let texts = ["Intro", "````", "```", "x", "```", "````"].map(str::to_owned);
        let out = neutralise_texts(&texts).expect("changed");
        assert_eq!(out.len(), texts.len());
        assert_eq!(out[1], "````text");
        assert_eq!(&out[2..], &texts[2..]);
        assert_inert(&out.join("\n"));
    }

    #[test]
    fn carriage_returns_end_lines() {
        let out = one("a\r```rust\rx\r```");
        assert_inert(&out);
        assert_eq!(out, "a\n```text\nx\n```");
    }

    #[test]
    fn starred_block_comments_are_read_without_their_stars() {
        let out = one(" * Text\n *\n *     code();\n * ```rust\n * x\n * ```");
        assert_inert(&out);
    }

    #[test]
    fn the_pass_is_idempotent() {
        let text = "a\n```rust\nx\n```\n\n    y\n\n<b>z</b>";
        let once = one(text);
        assert_eq!(one(&once), once);
    }

    #[test]
    fn the_fallback_holds_no_code() {
        let out = inert_fallback("  ```rust\n\tx\n<a>*b*");
        assert_eq!(blocks(&out), Vec::<String>::new());
    }
}
