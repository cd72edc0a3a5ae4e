//! The sentinel output file: a run of the generator that must fail is pointed at it, and the
//! test checks afterwards that the run left it (and its folder) as it was. Shared by the
//! generator tests and the hardening tests.

use std::path::PathBuf;

/// A temporary folder holding `sentinel.rs` with known contents, standing in for the output
/// file of a run that must fail without touching it.
pub struct Sentinel {
    /// Keeps the folder alive.
    pub dir: tempfile::TempDir,
    /// The sentinel file.
    pub path: PathBuf,
}

/// What the sentinel holds until something overwrites it.
pub const SENTINEL: &str = "// sentinel: a failed run must leave this file as it is\n";

impl Sentinel {
    /// Creates the folder and the sentinel file.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("sentinel.rs");
        std::fs::write(&path, SENTINEL).expect("write sentinel");
        Self { dir, path }
    }

    /// Writes `text` into the folder as `name` and returns its path.
    pub fn input(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write input");
        path
    }

    /// Asserts the sentinel still holds exactly what it was created with.
    pub fn assert_untouched(&self) {
        let now = std::fs::read_to_string(&self.path).expect("sentinel still exists");
        assert_eq!(now, SENTINEL, "the output file was changed by a failed run");
        let others: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("list folder")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".regenerate-"))
            .collect();
        assert!(
            others.is_empty(),
            "a temporary file was left behind: {others:?}"
        );
    }
}

impl Default for Sentinel {
    fn default() -> Self {
        Self::new()
    }
}
