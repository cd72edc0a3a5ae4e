//! The accounts and zones one run covers: repeated `--account` / `--zone` flags and `--scopes-file` lines, each
//! named `account:ID` or `zone:ID` (the name records and state files use).

use std::fmt;
use std::path::Path;

use cloudflare_security_center::Scope;

/// One account or zone to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The client's scope.
    pub scope: Scope,
    /// `account:ID` or `zone:ID`.
    pub name: String,
}

impl Target {
    /// An account.
    pub fn account(id: &str) -> Self {
        Self {
            scope: Scope::account(id),
            name: format!("account:{id}"),
        }
    }

    /// A zone.
    pub fn zone(id: &str) -> Self {
        Self {
            scope: Scope::zone(id),
            name: format!("zone:{id}"),
        }
    }

    /// The flag that selects this scope alone: `--account ID` or `--zone ID`.
    pub fn flag(&self) -> String {
        match &self.scope {
            Scope::Account(id) => format!("--account {id}"),
            Scope::Zone(id) => format!("--zone {id}"),
        }
    }

    /// Reads `account:ID` or `zone:ID`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            Some(("account", id)) if !id.trim().is_empty() => Ok(Self::account(id.trim())),
            Some(("zone", id)) if !id.trim().is_empty() => Ok(Self::zone(id.trim())),
            _ => Err(format!("expected account:ID or zone:ID, found {text:?}")),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name)
    }
}

/// The scopes of `--scopes-file`: one `account:ID` or `zone:ID` per line; blank lines and `#` comments (whole
/// lines, or after the scope) are ignored. Errors name the file and line.
pub fn read_scopes_file(path: &Path) -> Result<Vec<Target>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("--scopes-file {}: {error}", path.display()))?;
    let mut targets = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let target = Target::parse(content).map_err(|reason| {
            format!("--scopes-file {}:{}: {reason}", path.display(), index + 1)
        })?;
        targets.push(target);
    }
    Ok(targets)
}

/// The scopes in the order given, each once.
pub fn dedup(targets: Vec<Target>) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    targets
        .into_iter()
        .filter(|target| seen.insert(target.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Target, dedup, read_scopes_file};

    /// Lines with scopes, comments and blanks; a bad line is named with its number.
    #[test]
    fn a_scopes_file_lists_accounts_and_zones() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("scopes.txt");
        std::fs::write(
            &path,
            "# production\naccount:aaa\n\n  zone:bbb   # the shop\naccount:aaa\n",
        )
        .expect("written");
        let targets = dedup(read_scopes_file(&path).expect("valid"));
        assert_eq!(targets, [Target::account("aaa"), Target::zone("bbb")]);

        std::fs::write(&path, "account:aaa\norganisation:ccc\n").expect("written");
        let error = read_scopes_file(&path).expect_err("a bad line");
        assert!(error.contains("scopes.txt:2"), "{error}");
        assert!(error.contains("organisation:ccc"), "{error}");
    }
}
