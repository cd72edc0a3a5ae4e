//! What a downstream crate writes with the client: a small function over its public API, built from the package
//! as crates.io would serve it.

use cloudflare_security_center::{Client, Error, Order, Scope};

/// The ids of the entries in `account`'s audit log that `actor` made, oldest first.
pub async fn changes_by(client: &Client, account: &str, actor: &str) -> Result<Vec<String>, Error> {
    let mut entries = client
        .audit_log(Scope::account(account))
        .changed_by(actor)
        .order(Order::Asc)
        .per_page(50)
        .items();
    let mut ids = Vec::new();
    while let Some(entry) = entries.next().await {
        if let Some(id) = entry?.id {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}
