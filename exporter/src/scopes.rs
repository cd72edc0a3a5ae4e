//! The accounts and zones one run covers: repeated `--account` / `--zone` flags and `--scopes-file` lines, each
//! named `account:ID` or `zone:ID` (the name records and state files use).

use std::fmt;
use std::path::Path;

use cloudflare_security_center::Scope;

use crate::args::Cli;
use crate::exit::shell_word;

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

    /// The flag that selects this scope alone, ready to paste into a shell: `--account ID` or `--zone ID`, the id
    /// quoted when it holds anything a shell would read.
    pub fn flag(&self) -> String {
        match &self.scope {
            Scope::Account(id) => format!("--account {}", shell_word(id)),
            Scope::Zone(id) => format!("--zone {}", shell_word(id)),
        }
    }

    /// Reads `account:ID` or `zone:ID`, where the id is a Cloudflare id: 32 hexadecimal digits.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, id) = match text.split_once(':') {
            Some((kind @ ("account" | "zone"), id)) if !id.trim().is_empty() => (kind, id.trim()),
            _ => return Err(format!("expected account:ID or zone:ID, found {:?}", text)),
        };
        if !is_cloudflare_id(id) {
            return Err(format!(
                "{kind} id {id:?} is not a Cloudflare id (32 hexadecimal digits)"
            ));
        }
        Ok(if kind == "account" {
            Self::account(id)
        } else {
            Self::zone(id)
        })
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

/// The scopes of this run, in the order given, each once.
pub fn targets(cli: &Cli) -> Result<Vec<Target>, String> {
    let mut targets: Vec<Target> = cli
        .account
        .iter()
        .map(|id| Target::account(id))
        .chain(cli.zone.iter().map(|id| Target::zone(id)))
        .collect();
    if let Some(path) = &cli.scopes_file {
        targets.extend(read_scopes_file(path)?);
    }
    let targets = dedup(targets);
    if targets.is_empty() {
        return Err("no scope: give --account ID, --zone ID or --scopes-file FILE".to_owned());
    }
    if targets.len() > 1 {
        if cli.issue.is_some() {
            return Err(format!(
                "--issue needs exactly one scope; this run has {}",
                targets.len()
            ));
        }
        if cli.cursor.is_some() {
            return Err(format!(
                "--cursor belongs to the walk of one scope; this run has {}",
                targets.len()
            ));
        }
    }
    Ok(targets)
}

/// Whether `id` has the shape of a Cloudflare account or zone id: 32 hexadecimal digits.
fn is_cloudflare_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|byte| byte.is_ascii_hexdigit())
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

    const A: &str = "023e105f4ecef8ad9ca31a8372d0c353";
    const B: &str = "9a7806061c88ada191ed06f989cc3dac";

    /// Lines with scopes, comments and blanks; a bad line is named with its number.
    #[test]
    fn a_scopes_file_lists_accounts_and_zones() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("scopes.txt");
        std::fs::write(
            &path,
            format!("# production\naccount:{A}\n\n  zone:{B}   # the shop\naccount:{A}\n"),
        )
        .expect("written");
        let targets = dedup(read_scopes_file(&path).expect("valid"));
        assert_eq!(targets, [Target::account(A), Target::zone(B)]);

        std::fs::write(&path, format!("account:{A}\norganisation:ccc\n")).expect("written");
        let error = read_scopes_file(&path).expect_err("a bad line");
        assert!(error.contains("scopes.txt:2"), "{error}");
        assert!(error.contains("organisation:ccc"), "{error}");
    }

    /// An id that cannot be a Cloudflare id (here one that a shell would run) is refused with its line, and the
    /// flag printed for a scope quotes what a shell would read.
    #[test]
    fn ids_that_are_not_cloudflare_ids_are_refused_and_flags_are_quoted() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("scopes.txt");
        std::fs::write(
            &path,
            format!("zone:{B}\naccount:abc$(touch${{IFS}}pwned)\n"),
        )
        .expect("written");
        let error = read_scopes_file(&path).expect_err("not an id");
        assert!(error.contains("scopes.txt:2"), "{error}");
        assert!(error.contains("not a Cloudflare id"), "{error}");
        assert_eq!(Target::account(A).flag(), format!("--account {A}"));
        assert_eq!(
            Target::account("abc$(touch${IFS}pwned)").flag(),
            "--account 'abc$(touch${IFS}pwned)'"
        );
    }
}
