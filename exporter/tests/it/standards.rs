//! The SIEM events checked against the standards themselves, not against what the mapping believes: every ECS
//! document against ECS 9.4.0's field list and every OCSF event against OCSF 1.8.0's Detection Finding, both
//! vendored byte for byte under `tests/standards/` (their README says where from). Representative entries, any
//! generated entry and insight, and the binary's own output must all pass; the validators' own tests show that each
//! check rejects an event that breaks it.

mod ecs;
mod ocsf;
mod ocsf_schema;
mod sources;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use insight_audit_log::siem::{self, Enrichment, Source};
use mock_server::{Config, MockScope};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{command, run, server};

/// One way an event breaks a standard: where, which rule (the OCSF server's error names where it has one), and
/// what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    pub(crate) path: String,
    pub(crate) rule: &'static str,
    pub(crate) detail: String,
}

impl Violation {
    pub(crate) fn new(path: &str, rule: &'static str, detail: &str) -> Violation {
        Violation {
            path: path.to_owned(),
            rule,
            detail: detail.to_owned(),
        }
    }
}

/// The vendored standards.
pub(crate) fn standards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/standards")
}

/// `value` as the one line the exporter writes, read back: it must be one line of JSON holding the same value.
fn as_line(value: &Value) -> Result<Value, String> {
    let line = serde_json::to_string(value).map_err(|e| e.to_string())?;
    if line.contains(['\n', '\r']) {
        return Err(format!("not one line: {line}"));
    }
    let read: Value = serde_json::from_str(&line).map_err(|e| format!("not JSON ({e}): {line}"))?;
    if read == *value {
        Ok(read)
    } else {
        Err(format!("reads back as another value: {line}"))
    }
}

/// Both events of `source`, each as a line, with what each standard's validator finds wrong.
fn check(source: &Source<'_>) -> Result<(Value, Value), String> {
    let document = as_line(&siem::ecs(source).map_err(|e| e.to_string())?)?;
    let event = as_line(&siem::ocsf(source).map_err(|e| e.to_string())?)?;
    let ecs = ecs::schema().validate(&document);
    let ocsf = ocsf_schema::schema().validate(&event);
    if ecs.is_empty() && ocsf.is_empty() {
        Ok((document, event))
    } else {
        Err(format!(
            "ECS violations {ecs:#?}\nin {document:#}\nOCSF violations {ocsf:#?}\nin {event:#}"
        ))
    }
}

fn millis(time: &DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// Every representative entry, with every enrichment (an insight with every field, one with values the client
/// does not know, none), in an account and a zone scope, makes an ECS document and an OCSF event that conform.
#[test]
fn standards_representative_entries_conform_to_ecs_and_ocsf() {
    let insights = [sources::full_insight(), sources::odd_insight()];
    let mut checked = 0;
    for scope in [sources::ACCOUNT, sources::ZONE] {
        for (case, entry) in sources::entries() {
            for enrichment in sources::enrichments(&insights) {
                let source = sources::source(scope, &entry, enrichment);
                let (document, event) = check(&source)
                    .unwrap_or_else(|e| panic!("{case}, {scope}, {enrichment:?}: {e}"));
                // Times say the same instant in each standard's form: RFC 3339 in ECS, epoch milliseconds in OCSF.
                let time = entry.changed_at.unwrap_or_else(sources::exported_at);
                assert_eq!(event["time"], millis(&time), "{case}");
                let stamp = document["@timestamp"]
                    .as_str()
                    .expect("@timestamp, ECS requires it");
                let stamp: DateTime<Utc> = stamp.parse().expect("RFC 3339");
                assert_eq!(millis(&stamp), millis(&time), "{case}");
                assert_eq!(
                    event["metadata"]["logged_time"],
                    millis(&sources::exported_at())
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * sources::entries().len() * 5);
}

/// The insight's values the standards define map to their defined ids and captions; the others to 99 (Other) with
/// the source's value, and `unmapped` keeps the source's values.
#[test]
fn standards_unknown_insight_values_are_other_with_the_source_value() {
    let insights = [sources::odd_insight()];
    let (_, entry) = &sources::entries()[5];
    let source = sources::source(sources::ZONE, entry, Enrichment::Found(&insights[0]));
    let (document, event) = check(&source).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(event["severity_id"], 99);
    assert_eq!(event["severity"], "Severe");
    assert_eq!(event["unmapped"]["insight"]["issue_type"], "dns_hygiene");
    assert_eq!(
        event["finding_info"]["types"],
        serde_json::json!(["dns_hygiene"])
    );
    assert!(
        document["event"].get("severity").is_none(),
        "no risk score for a severity ECS users cannot rank"
    );
}

/// Cases per property run.
const CASES: u32 = 512;

/// Any entry and insight (any text, controls and bidi overrides included; any enum value, known or not; nulls;
/// any time from year 0 to 9999), in any scope, with any enrichment: each event is one line of JSON that conforms,
/// and making it never panics.
#[test]
fn standards_any_entry_makes_conforming_events() {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: CASES,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let cases = (
        sources::any_entry(),
        sources::any_insight(),
        sources::any_scope(),
        any::<u8>(),
        sources::time(),
    );
    runner
        .run(
            &cases,
            |(entry, insight, scope, enrichment, exported_at)| {
                let source = Source {
                    scope: &scope,
                    entry: &entry,
                    enrichment: sources::enrichment(enrichment, &insight),
                    exported_at,
                };
                check(&source).map_err(TestCaseError::fail)?;
                Ok(())
            },
        )
        .unwrap_or_else(|failure| panic!("{failure}"));
}

/// The binary's `--format ecs` and `--format ocsf` output, an account and a zone scope: every line parses and
/// conforms, one per entry served, each carrying its insight (the mock's insight lists name every insight its
/// audit logs do).
#[test]
fn standards_the_binarys_events_conform() {
    let server = server(Config::default().with_entries(120));
    let served =
        server.entry_count(MockScope::Account, None) + server.entry_count(MockScope::Zone, None);
    for format in ["ecs", "ocsf"] {
        let args = [
            "--account",
            server.account_id(),
            "--zone",
            server.zone_id(),
            "--format",
            format,
            "--per-page",
            "50",
        ];
        let done = run(&mut command(&server), &args);
        assert_eq!(done.code, Some(0), "{format}: {}", done.stderr);
        assert!(done.stdout.ends_with('\n'), "{format}: whole lines");
        let mut states = Vec::new();
        for line in done.stdout.lines() {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{format}: {e}: {line}"));
            let (found, state) = if format == "ecs" {
                let state = value["cloudflare"]["security_center"]["enrichment"].clone();
                (ecs::schema().validate(&value), state)
            } else {
                (
                    ocsf_schema::schema().validate(&value),
                    value["unmapped"]["enrichment"].clone(),
                )
            };
            assert_eq!(found, [], "{format}: {line}");
            states.push(state.as_str().map(str::to_owned).unwrap_or_default());
        }
        assert_eq!(states.len(), served, "{format}: one event per entry");
        assert!(
            states.iter().all(|state| state == "found"),
            "{format}: {states:?}"
        );
    }
}

/// The vendored files are byte for byte those `SHA256SUMS` records (the published ones), and every file there is
/// recorded.
#[test]
fn standards_vendored_files_are_the_published_ones() {
    let dir = standards_dir();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut recorded = Vec::new();
    for line in sums.lines() {
        let (sum, file) = line.split_once("  ").expect("`SUM  FILE` lines");
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(actual, sum, "{file} changed");
        recorded.push(file.to_owned());
    }
    fn walk(dir: &Path, base: &Path, files: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, base, files);
            } else {
                let file = path
                    .strip_prefix(base)
                    .expect("inside")
                    .to_str()
                    .expect("UTF-8")
                    .to_owned();
                files.push(file);
            }
        }
    }
    let mut present = Vec::new();
    walk(&dir, &dir, &mut present);
    present.retain(|file| !["README.md", "SHA256SUMS", ".gitattributes"].contains(&file.as_str()));
    present.sort();
    recorded.sort();
    assert_eq!(
        present, recorded,
        "every vendored file has its hash recorded"
    );
}
