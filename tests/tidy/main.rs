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
