//! What the spec-sync tests share: fixture paths and texts, and a spec folder in a
//! temporary directory with an `upstream.toml` listing the operations to keep.

use std::path::{Path, PathBuf};

/// Folder of the spec-sync fixtures.
pub(crate) fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spec_sync/fixtures")
}

/// Text of `fixtures/<name>`.
pub(crate) fn fixture(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// `ids` as owned strings.
pub(crate) fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

/// Extracts `operations` from fixture `name`, which must succeed; the YAML text.
pub(crate) fn extract_ok(name: &str, operations: &[&str]) -> String {
    let text = fixture(name);
    codegen::extract::extract(codegen::Source::new(name, &text), &ids(operations))
        .unwrap_or_else(|error| panic!("{name} does not extract: {error}"))
        .text
}

/// The error of extracting `operations` from the document `text` (shown as `upstream.yaml`).
pub(crate) fn extract_err(text: &str, operations: &[&str]) -> String {
    match codegen::extract::extract(
        codegen::Source::new("upstream.yaml", text),
        &ids(operations),
    ) {
        Ok(extraction) => panic!("extracted:\n{}", extraction.text),
        Err(error) => error.to_string(),
    }
}

/// A spec folder: `upstream.toml` listing `operations`, a spec and the record's other fields.
pub(crate) struct SpecDir {
    /// Keeps the folder alive.
    pub dir: tempfile::TempDir,
}

/// What the spec holds before a run; a failed run must leave it.
pub(crate) const OLD_SPEC: &str = "openapi: 3.0.3\n# the spec before the run\n";

impl SpecDir {
    /// A folder whose record lists `operations` and whose spec is [`OLD_SPEC`].
    pub(crate) fn new(operations: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let listed: String = operations
            .iter()
            .map(|id| format!("    \"{id}\",\n"))
            .collect();
        let record = format!(
            "[upstream]\nrepository = \"example/api-schemas\"\npath = \"openapi.json\"\n\
             revision = \"unsynced: written by hand\"\nretrieved = \"2026-01-02\"\n\
             operations = [\n{listed}]\n\n[spec]\nfile = \"openapi.yaml\"\n\
             sha256 = \"{}\"\noverlay = \"overlay.yaml\"\n",
            codegen::sha256_hex(OLD_SPEC.as_bytes())
        );
        std::fs::write(dir.path().join("upstream.toml"), record).expect("write the record");
        std::fs::write(dir.path().join("openapi.yaml"), OLD_SPEC).expect("write the spec");
        Self { dir }
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Text of a file in the folder.
    pub(crate) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).expect("a file of the spec folder")
    }

    /// Writes `text` into the folder as `name` and returns its path.
    pub(crate) fn input(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write an input");
        path
    }

    /// The names in the folder, sorted (to see that no temporary file is left).
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path())
            .expect("list the folder")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}
