//! Keeps the generated client from following redirects: a redirect would carry the credentials
//! its hooks add (`X-Auth-Key` and `X-Auth-Email`, which reqwest does not strip across hosts)
//! to whatever host the redirect names.
//!
//! progenitor's `Client::new` builds a `reqwest::Client` with reqwest's default policy (follow
//! up to ten redirects), and `Client::new_with_client` takes any client. This pass adds
//! `.redirect(reqwest::redirect::Policy::none())` to every `reqwest::ClientBuilder::new()` the
//! generated code calls, and narrows `new_with_client` to `pub(crate)`, so the only clients
//! that reach a generated `Client` are the ones it builds and the ones the hand-written crate
//! builds with redirects off.

use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ImplItem, ItemImpl, Local, Visibility, parse_quote};

/// Applies the pass to `file`.
pub(crate) fn refuse_redirects(file: &mut syn::File) {
    NoRedirects.visit_file_mut(file);
}

struct NoRedirects;

impl VisitMut for NoRedirects {
    fn visit_item_impl_mut(&mut self, item: &mut ItemImpl) {
        if item.trait_.is_none() {
            for member in &mut item.items {
                if let ImplItem::Fn(function) = member
                    && function.sig.ident == "new_with_client"
                    && matches!(function.vis, Visibility::Public(_))
                {
                    function.vis = parse_quote!(pub(crate));
                }
            }
        }
        visit_mut::visit_item_impl_mut(self, item);
    }

    fn visit_local_mut(&mut self, local: &mut Local) {
        // reqwest's wasm32 builder has no redirect policy: the browser's fetch decides.
        let wasm_only = local.attrs.iter().any(|attribute| {
            let condition = quote::ToTokens::to_token_stream(&attribute.meta).to_string();
            attribute.path().is_ident("cfg")
                && condition.contains("wasm32")
                && !condition.contains("not")
        });
        if !wasm_only {
            visit_mut::visit_local_mut(self, local);
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if is_client_builder_new(expr) {
            *expr = parse_quote!(#expr.redirect(reqwest::redirect::Policy::none()));
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// Whether `expr` is the call `reqwest::ClientBuilder::new()`.
fn is_client_builder_new(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else {
        return false;
    };
    let Expr::Path(path) = &*call.func else {
        return false;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    call.args.is_empty() && segments == ["reqwest", "ClientBuilder", "new"]
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::refuse_redirects;

    /// The builder call gains the no-redirect policy (not on wasm32, whose builder has none),
    /// and `new_with_client` leaves the public API; other functions are untouched.
    #[test]
    fn client_builders_refuse_redirects_and_new_with_client_is_crate_private() {
        let mut file: syn::File = syn::parse_quote! {
            impl Client {
                pub fn new(baseurl: &str) -> Self {
                    #[cfg(not(target_arch = "wasm32"))]
                    let client = reqwest::ClientBuilder::new().connect_timeout(dur);
                    #[cfg(target_arch = "wasm32")]
                    let client = reqwest::ClientBuilder::new();
                    Self::new_with_client(baseurl, client.build().unwrap())
                }
                pub fn new_with_client(baseurl: &str, client: reqwest::Client) -> Self {
                    Self { baseurl: baseurl.to_string(), client }
                }
                pub fn baseurl(&self) -> &String { &self.baseurl }
            }
        };
        refuse_redirects(&mut file);
        let text = file.to_token_stream().to_string().replace(' ', "");
        assert!(
            text.contains(
                "reqwest::ClientBuilder::new().redirect(reqwest::redirect::Policy::none()).connect_timeout(dur)"
            ),
            "{text}"
        );
        assert_eq!(
            text.matches(".redirect(").count(),
            1,
            "not on wasm32: {text}"
        );
        assert!(text.contains("pub(crate)fnnew_with_client"), "{text}");
        assert!(text.contains("pubfnbaseurl"), "{text}");
        assert!(text.contains("pubfnnew("), "{text}");
    }
}
