//! The command (`xtask::spec_sync::run`): it writes the spec and its record atomically, writes
//! nothing when the extraction fails, keeps `regenerate`'s pin check working, and `--check`
//! compares instead of writing.

use xtask::spec_sync::{self, Options, Outcome};

use crate::support::{OLD_SPEC, SpecDir, fixture};

/// The operations the closure fixture keeps.
const KEPT: [&str; 3] = ["list-widgets", "get-widget", "create-widget"];

/// Options for a run over `from` in `dir`, dated 2026-02-03.
fn options(dir: &SpecDir, from: std::path::PathBuf) -> Options {
    Options {
        from,
        revision: None,
        check: false,
        spec_dir: dir.path().to_path_buf(),
        today: Some("2026-02-03".to_owned()),
    }
}

/// A run with a revision writes the spec (header and extraction) and a record with
/// the revision, the date, both hashes and the operations; the spec matches its recorded hash
/// the way `cargo xtask regenerate` checks it.
#[test]
fn sync_writes_spec_and_record() {
    let dir = SpecDir::new(&KEPT);
    let upstream_text = fixture("closure.yaml");
    let from = dir.input("upstream.yaml", &upstream_text);
    let report = spec_sync::run(&Options {
        revision: Some("0123abc".to_owned()),
        ..options(&dir, from)
    })
    .expect("the sync runs");
    assert_eq!(report.outcome, Outcome::Written { changed: true });
    assert_eq!(
        report.summary(),
        "3 operations under 2 paths, 16 components (1 callbacks, 1 examples, 1 headers, 1 links, \
         2 parameters, 1 requestBodies, 1 responses, 6 schemas, 2 securitySchemes)"
    );
    let spec = dir.read("openapi.yaml");
    assert!(spec.starts_with(spec_sync::HEADER));
    assert_eq!(
        &spec[spec_sync::HEADER.len()..],
        crate::support::extract_ok("closure.yaml", &KEPT)
    );
    let record = dir.read("upstream.toml");
    let pin = xtask::pin::Pin::parse("upstream.toml", &record).expect("the record parses");
    assert_eq!(pin.upstream.repository, "example/api-schemas");
    assert_eq!(pin.upstream.revision, "0123abc");
    assert_eq!(pin.upstream.retrieved, "2026-02-03");
    assert_eq!(
        pin.upstream.sha256.as_deref(),
        Some(codegen::sha256_hex(upstream_text.as_bytes()).as_str())
    );
    assert_eq!(
        pin.upstream.operations,
        Some(KEPT.iter().map(|id| (*id).to_owned()).collect())
    );
    codegen::verify_pin(
        codegen::Source::new("openapi.yaml", &spec),
        &pin.spec.sha256,
        "upstream.toml",
    )
    .expect("the spec matches its recorded sha256");
    assert_eq!(
        dir.names(),
        ["openapi.yaml", "upstream.toml", "upstream.yaml"]
    );
}

/// Two runs over the same document give byte-equal spec and record; the second
/// reports the spec unchanged.
#[test]
fn sync_is_deterministic() {
    let dir = SpecDir::new(&KEPT);
    let from = dir.input("upstream.yaml", &fixture("closure.yaml"));
    spec_sync::run(&options(&dir, from.clone())).expect("the first run");
    let (spec, record) = (dir.read("openapi.yaml"), dir.read("upstream.toml"));
    let again = spec_sync::run(&options(&dir, from)).expect("the second run");
    assert_eq!(again.outcome, Outcome::Written { changed: false });
    assert_eq!(dir.read("openapi.yaml"), spec);
    assert_eq!(dir.read("upstream.toml"), record);
}

/// Without `--revision`, the revision is kept while the document is the one
/// recorded (and the date with it), and marked as not recorded for another document.
#[test]
fn revision_is_kept_only_for_the_recorded_document() {
    let dir = SpecDir::new(&KEPT);
    let text = fixture("closure.yaml");
    let from = dir.input("upstream.yaml", &text);
    spec_sync::run(&Options {
        revision: Some("first".to_owned()),
        ..options(&dir, from.clone())
    })
    .expect("a run with a revision");
    spec_sync::run(&Options {
        today: None,
        ..options(&dir, from.clone())
    })
    .expect("the same document again");
    let record = dir.read("upstream.toml");
    assert!(
        record.contains("revision = \"first\"\nretrieved = \"2026-02-03\"\n"),
        "{record}"
    );
    std::fs::write(&from, text.replace("version: 2.0.0", "version: 2.1.0")).expect("edit");
    spec_sync::run(&options(&dir, from)).expect("another document");
    let record = dir.read("upstream.toml");
    assert!(
        record.contains("revision = \"not recorded: spec-sync ran without --revision\"\n"),
        "{record}"
    );
}

/// Each extraction error leaves the spec, the record and the folder as they were.
#[test]
fn failed_sync_writes_nothing() {
    let cases = [
        (
            vec!["get-widget", "get-sprocket"],
            fixture("closure.yaml"),
            "`get-sprocket`",
        ),
        (
            vec!["get-widget"],
            fixture("closure.yaml")
                .replace("'#/components/schemas/Part'", "'#/components/schemas/Gone'"),
            "points at nothing",
        ),
        (
            vec!["get-widget"],
            fixture("closure.yaml").replace("'#/components/schemas/Tag'", "'tags.yaml#/Tag'"),
            "is not local",
        ),
        (
            vec!["get-widget"],
            fixture("closure.yaml")
                .replace(
                    "          $ref: '#/components/headers/RequestId'",
                    "          $ref: '#/components/headers/RequestId'\n      links:\n        \
                 back: {$ref: '#/components/links/Back'}",
                )
                .replace(
                    "\n  links:\n",
                    "\n  links:\n    Back:\n      $ref: '#/components/responses/NotFound'\n",
                ),
            "reference cycle",
        ),
    ];
    for (operations, upstream, expected) in cases {
        let dir = SpecDir::new(&operations);
        let record = dir.read("upstream.toml");
        let from = dir.input("upstream.yaml", &upstream);
        let error = spec_sync::run(&options(&dir, from)).expect_err("the sync fails");
        assert!(format!("{error:#}").contains(expected), "{error:#}");
        assert_eq!(dir.read("openapi.yaml"), OLD_SPEC);
        assert_eq!(dir.read("upstream.toml"), record);
        assert_eq!(
            dir.names(),
            ["openapi.yaml", "upstream.toml", "upstream.yaml"]
        );
    }
}

/// `--check` after a sync finds the spec fresh; after the document changes, it says
/// why in one line and shows the head of the diff, writing nothing.
#[test]
fn check_tells_fresh_from_stale() {
    let dir = SpecDir::new(&KEPT);
    let text = fixture("closure.yaml");
    let from = dir.input("upstream.yaml", &text);
    spec_sync::run(&options(&dir, from.clone())).expect("the sync");
    let check = |dir: &SpecDir| {
        spec_sync::run(&Options {
            check: true,
            ..options(dir, from.clone())
        })
        .expect("the check runs")
    };
    let fresh = check(&dir);
    assert_eq!(fresh.outcome, Outcome::Fresh);
    assert!(fresh.is_ok());

    std::fs::write(
        &from,
        text.replace(
            "      type: string\n      x-shared: true\n",
            "      type: string\n      format: uuid\n      x-shared: true\n",
        ),
    )
    .expect("edit the document");
    let (spec, record) = (dir.read("openapi.yaml"), dir.read("upstream.toml"));
    let stale = check(&dir);
    assert!(!stale.is_ok());
    let Outcome::Stale { reason, diff_head } = stale.outcome else {
        panic!("{:?}", stale.outcome);
    };
    assert!(!reason.contains('\n'), "{reason}");
    assert_eq!(
        reason,
        format!(
            "{} is not what {} extracts to (0 lines would go, 1 would come); `cargo xtask \
             spec-sync --from {}` writes it",
            xtask::display_path(&dir.path().join("openapi.yaml")),
            xtask::display_path(&from),
            xtask::display_path(&from),
        )
    );
    assert!(diff_head.contains("\n+      format: uuid\n"), "{diff_head}");
    assert_eq!(dir.read("openapi.yaml"), spec);
    assert_eq!(dir.read("upstream.toml"), record);
}

/// A record without an `operations` list is refused with what to add.
#[test]
fn record_without_operations_is_refused() {
    let dir = SpecDir::new(&KEPT);
    let record = dir.read("upstream.toml");
    let without: String = record
        .lines()
        .filter(|line| {
            !line.starts_with("operations") && !line.starts_with("    \"") && *line != "]"
        })
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(dir.path().join("upstream.toml"), without).expect("rewrite the record");
    let from = dir.input("upstream.yaml", &fixture("closure.yaml"));
    let error = spec_sync::run(&options(&dir, from)).expect_err("refused");
    assert!(
        format!("{error:#}").ends_with(
            "upstream.toml: [upstream] has no `operations` list; name the operationIds to keep, \
             e.g. operations = [\"get-security-center-issue-audit-log\"]"
        ),
        "{error:#}"
    );
    assert_eq!(dir.read("openapi.yaml"), OLD_SPEC);
}

/// The workspace's record lists exactly the operationIds of `spec/openapi.yaml`, and
/// the spec is its own closure: cut out of itself, it keeps every component it has, so an
/// upstream document holding it would give the same spec.
#[test]
fn workspace_record_tracks_the_spec_and_its_closure() {
    let spec_dir = xtask::workspace_root().join("spec");
    let pin = xtask::pin::Pin::load(&spec_dir).expect("spec/upstream.toml");
    let text = std::fs::read_to_string(pin.spec_path(&spec_dir)).expect("the spec");
    let operations = pin
        .upstream
        .operations
        .expect("the record lists operations");
    let spec: serde_json::Value = serde_yaml_ng::from_str(&text).expect("YAML");
    let mut in_spec: Vec<String> = spec["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("a path item").values())
        .filter_map(|operation| operation.get("operationId")?.as_str().map(str::to_owned))
        .collect();
    in_spec.sort();
    let mut listed = operations.clone();
    listed.sort();
    assert_eq!(listed, in_spec);
    let extraction =
        codegen::extract::extract(codegen::Source::new("openapi.yaml", &text), &operations)
            .expect("the spec extracts from itself");
    let cut: serde_json::Value = serde_yaml_ng::from_str(&extraction.text).expect("YAML");
    assert_eq!(cut, spec);
}
