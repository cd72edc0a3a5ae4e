//! Conventions held by tests instead of good manners: every hand-written file says why it
//! exists, comments keep the workspace's width, every integration test says in a doc comment
//! what it checks, and the generated file's header names the progenitor release the lock file
//! pins.

use std::path::{Path, PathBuf};

/// The widest a comment line may be, in characters (code is rustfmt's 100).
const COMMENT_WIDTH: usize = 120;

/// The repository's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Every hand-written `.rs` file of the repository: under the workspace members and `fuzz/`,
/// without build output and without the generated client.
fn hand_written_sources() -> Vec<PathBuf> {
    fn walk(folder: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(name.as_ref(), "target" | ".git" | "corpus" | "artifacts") {
                    walk(&path, out);
                }
            } else if name.ends_with(".rs") && name != "generated.rs" {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &mut out);
    out.sort();
    assert!(out.len() > 50, "the walk found the sources: {}", out.len());
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Read the first line of every hand-written source: each opens with a `//!`
/// paragraph saying what the file adds and why.
#[test]
fn every_hand_written_file_opens_with_its_reason() {
    let missing: Vec<String> = hand_written_sources()
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|path| relative(path))
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` opening: {missing:#?}"
    );
}

/// Measure every comment line of the hand-written sources: none is wider than the
/// workspace's comment width.
#[test]
fn comments_keep_the_workspace_width() {
    let mut wide = Vec::new();
    for path in hand_written_sources() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (index, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") && line.chars().count() > COMMENT_WIDTH {
                wide.push(format!(
                    "{}:{} ({} characters)",
                    relative(&path),
                    index + 1,
                    line.chars().count()
                ));
            }
        }
    }
    assert!(
        wide.is_empty(),
        "comment lines over {COMMENT_WIDTH} characters: {wide:#?}"
    );
}

/// Find every `#[test]` and `#[tokio::test]` function of the integration tests (the files below
/// a `tests` folder): each has a doc comment above its attributes saying what it checks. The
/// comment is the scenario itself, with no label before it.
#[test]
fn every_integration_test_says_what_it_checks() {
    let mut tests = 0;
    let mut silent = Vec::new();
    for path in hand_written_sources() {
        let relative = relative(&path);
        if !relative.split('/').any(|folder| folder == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().map(str::trim_start).collect();
        for (index, line) in lines.iter().enumerate() {
            if *line != "#[test]" && !line.starts_with("#[tokio::test") {
                continue;
            }
            tests += 1;
            let above = lines[..index]
                .iter()
                .rev()
                .find(|line| !line.starts_with("#["));
            if !above.is_some_and(|line| line.starts_with("///")) {
                silent.push(format!("{relative}:{}", index + 1));
            }
        }
    }
    assert!(tests > 300, "the walk found the tests: {tests}");
    assert!(
        silent.is_empty(),
        "tests without a doc comment: {silent:#?}"
    );
}

/// Read the progenitor version named in the generated file's header and the one
/// `Cargo.lock` pins: they are the same release.
#[test]
fn the_generated_header_names_the_locked_progenitor_version() {
    let generated = std::fs::read_to_string(root().join("generated-client/src/generated.rs"))
        .expect("the generated client");
    let header = generated.lines().next().unwrap_or_default();
    // `... with progenitor 0.15.1. Do not edit.`
    let named = header
        .split("with progenitor ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .map(|version| version.trim_end_matches('.').to_owned())
        .expect("the header names progenitor's version");
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).expect("Cargo.lock");
    let locked: Vec<&str> = lock
        .split("[[package]]")
        .filter(|package| package.contains("\nname = \"progenitor\"\n"))
        .filter_map(|package| {
            package
                .lines()
                .find_map(|line| line.strip_prefix("version = \""))
                .map(|version| version.trim_end_matches('"'))
        })
        .collect();
    assert_eq!(locked, [named.as_str()], "header: {header}");
    assert_eq!(
        codegen::generate::PROGENITOR_VERSION,
        named,
        "the generator's pinned version"
    );
}

/// The value of the first line `key = "value"` of a TOML text (enough for the flat keys read here).
fn toml_string(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == key).then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The workspace's member folders, from the root manifest's `members` list.
fn members() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let list = toml_string(&manifest, "members").expect("a members list");
    let members: Vec<String> = list
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|member| member.trim().trim_matches('"').to_owned())
        .filter(|member| !member.is_empty())
        .collect();
    assert!(members.len() > 5, "the members were read: {members:?}");
    members
}

/// Read every member's `rust-version` and the clippy.toml clippy uses for it (its folder's, else the root's):
/// clippy's `msrv` is the manifest's, so that `incompatible_msrv` holds the version the crate declares.
#[test]
fn clippy_holds_the_rust_version_each_crate_declares() {
    let root_manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let workspace_version =
        toml_string(&root_manifest, "rust-version").expect("a workspace rust-version");
    for member in members() {
        let folder = root().join(&member);
        let manifest =
            std::fs::read_to_string(folder.join("Cargo.toml")).expect("a member manifest");
        let declared = match toml_string(&manifest, "rust-version") {
            Some(version) => version,
            None if manifest.contains("rust-version.workspace = true") => workspace_version.clone(),
            None => panic!("{member} declares no rust-version"),
        };
        let clippy = [folder.join("clippy.toml"), root().join("clippy.toml")]
            .into_iter()
            .find(|path| path.exists())
            .expect("a clippy.toml");
        let text = std::fs::read_to_string(&clippy).expect("clippy.toml");
        assert_eq!(
            toml_string(&text, "msrv").as_deref(),
            Some(declared.as_str()),
            "{member}: {} must say msrv = \"{declared}\"",
            relative(&clippy)
        );
    }
}

/// Read every published member's manifest (those without `publish = false`): it packages a README and a changelog
/// of its own, and the changelog has a section for the manifest's version, so a release cannot go out unrecorded.
#[test]
fn every_published_crate_has_a_readme_and_a_changelog_entry_for_its_version() {
    let mut published = Vec::new();
    let mut names = Vec::new();
    for member in members() {
        let folder = root().join(&member);
        let manifest =
            std::fs::read_to_string(folder.join("Cargo.toml")).expect("a member manifest");
        if manifest.contains("\npublish = false") {
            continue;
        }
        let version = toml_string(&manifest, "version").expect("a version");
        names.push(toml_string(&manifest, "name").expect("a name"));
        assert_eq!(
            toml_string(&manifest, "readme").as_deref(),
            Some("README.md"),
            "{member}"
        );
        let include = toml_string(&manifest, "include").unwrap_or_default();
        for file in ["/README.md", "/CHANGELOG.md"] {
            assert!(include.contains(file), "{member}: `include` lacks {file}");
            assert!(folder.join(&file[1..]).exists(), "{member} lacks {file}");
        }
        let changelog = std::fs::read_to_string(folder.join("CHANGELOG.md")).expect("CHANGELOG.md");
        assert!(
            changelog
                .lines()
                .any(|line| line.starts_with(&format!("## [{version}]"))),
            "{member}/CHANGELOG.md has no `## [{version}]` section"
        );
        assert!(
            changelog.contains("## [Unreleased]"),
            "{member}/CHANGELOG.md"
        );
        published.push(member);
    }
    // The CI scripts package, build downstream and install exactly these (`.ci/published`).
    let listed = std::fs::read_to_string(root().join(".ci/published")).expect(".ci/published");
    let listed = toml_string(&listed, "PUBLISHED").expect("a PUBLISHED list");
    let listed: Vec<&str> = listed
        .trim_matches(|c| c == '(' || c == ')')
        .split_whitespace()
        .collect();
    assert_eq!(published, ["generated-client", "mock-server", "exporter"]);
    assert_eq!(
        listed, names,
        ".ci/published lists the published packages, in dependency order"
    );
}
