//! Feeding a SIEM: incremental runs with `--state` export every entry exactly once across runs (boundary
//! timestamps and late arrivals included), a crash repeats at most one page, `--follow` picks up new entries and
//! stops cleanly on SIGTERM, and one run covers many scopes, one failing without stopping the others. Each suite runs
//! over every format a feed appends (NDJSON, ECS, OCSF): they share one path, and these tests hold it to that.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use chrono::TimeDelta;
use mock_server::{Config, Filters, MockAuditLogEntry, MockOrder, MockScope, MockServer, ScopeId};

use crate::support::{command, run, server};

/// The formats a feed appends, each suite runs over all of them.
const FEED_FORMATS: [&str; 3] = ["ndjson", "ecs", "ocsf"];

/// One written record as a feed reads it back: the entry's id, and the scope it came from.
#[derive(Debug)]
struct Record {
    id: String,
    scope: Option<String>,
}

/// The records of `text` in `format`: whole lines only, each valid JSON with the entry's id where the format keeps
/// it (`id`; ECS `event.id`; OCSF `metadata.uid`) and its scope (`scope` when several; ECS
/// `cloudflare.security_center.scope`; OCSF `unmapped.scope`).
fn records(format: &str, text: &str) -> Vec<Record> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{format}: output ends inside a line"
    );
    text.lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{format}: not JSON ({e}): {line}"));
            let (id, scope) = match format {
                "ndjson" => (&value["id"], &value["scope"]),
                "ecs" => (
                    &value["event"]["id"],
                    &value["cloudflare"]["security_center"]["scope"],
                ),
                "ocsf" => (&value["metadata"]["uid"], &value["unmapped"]["scope"]),
                other => panic!("no reader for {other}"),
            };
            Record {
                id: id
                    .as_str()
                    .unwrap_or_else(|| panic!("{format}: no id: {line}"))
                    .to_owned(),
                scope: scope.as_str().map(str::to_owned),
            }
        })
        .collect()
}

/// The ids of `text`'s records in `format`, in order.
fn record_ids(format: &str, text: &str) -> Vec<String> {
    records(format, text)
        .into_iter()
        .map(|record| record.id)
        .collect()
}

/// Every entry of the account scope, oldest first.
fn all_entries(server: &MockServer) -> Vec<MockAuditLogEntry> {
    server.expected_entries(
        MockScope::Account,
        None,
        &Filters {
            order: MockOrder::Asc,
            ..Filters::default()
        },
    )
}

fn ids(entries: &[MockAuditLogEntry]) -> Vec<String> {
    entries.iter().map(|entry| entry.id.to_string()).collect()
}

/// Two runs with one state file over a log that grows in between, with entries sharing the newest exported
/// timestamp and a late entry inside the overlap: together they export every entry exactly once, the second run
/// only what is new.
#[test]
fn incremental_runs_export_every_entry_exactly_once() {
    for format in FEED_FORMATS {
        incremental_runs_in(format);
    }
}

fn incremental_runs_in(format: &str) {
    let server = server(Config::default().with_entries(300).with_zone_entries(0));
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let state = state.to_str().expect("a UTF-8 path");
    let args = [
        "--account",
        server.account_id(),
        "--state",
        state,
        "--per-page",
        "50",
        "--format",
        format,
    ];

    let first = run(&mut command(&server), &args);
    assert_eq!(first.code, Some(0), "{format}: {}", first.stderr);
    let all = all_entries(&server);
    assert_eq!(
        record_ids(format, &first.stdout),
        ids(&all),
        "{format}: oldest first, all of them"
    );

    let newest = chrono::DateTime::parse_from_rfc3339(&all.last().expect("entries").changed_at)
        .expect("an RFC 3339 time")
        .with_timezone(&chrono::Utc);
    let boundary = server
        .append_entries_at(MockScope::Account, 2, newest)
        .expect("appended");
    let late = server
        .append_entries_at(MockScope::Account, 1, newest - TimeDelta::minutes(3))
        .expect("appended");
    let fresh = server
        .append_entries(MockScope::Account, 3)
        .expect("appended");

    let second = run(&mut command(&server), &args);
    assert_eq!(second.code, Some(0), "{format}: {}", second.stderr);
    let mut expected: Vec<String> = ids(&late);
    expected.extend(ids(&boundary));
    expected.extend(ids(&fresh));
    let mut got = record_ids(format, &second.stdout);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{format}: only the new entries, each once");

    let third = run(&mut command(&server), &args);
    assert_eq!(third.code, Some(0), "{format}: {}", third.stderr);
    assert_eq!(third.stdout, "", "{format}: nothing new, nothing written");
}

/// A run killed with SIGKILL part-way, then run again with the same state and output file: the second run cuts
/// the file back to what the state covers, so no entry is missing, none is repeated, and no line is cut.
#[test]
fn a_crash_repeats_nothing_and_cuts_no_line() {
    for format in FEED_FORMATS {
        a_crash_in(format);
    }
}

fn a_crash_in(format: &str) {
    let server = server(
        Config::default()
            .with_entries(400)
            .with_zone_entries(0)
            .with_fault(mock_server::Fault::Slow {
                every: 1,
                delay: Duration::from_millis(40),
            }),
    );
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let output = folder.path().join("log.ndjson");
    let args = [
        "--account",
        server.account_id(),
        "--state",
        state.to_str().expect("UTF-8"),
        "--output",
        output.to_str().expect("UTF-8"),
        "--per-page",
        "20",
        "--format",
        format,
    ];
    let mut child = command(&server)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    // Wait for some pages, then kill without warning.
    let started = std::time::Instant::now();
    while std::fs::metadata(&output).map_or(0, |meta| meta.len()) < 20_000
        && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("killed");
    child.wait().expect("reaped");
    let before = std::fs::read_to_string(&output).expect("the output so far");
    assert!(
        before.lines().count() < 400,
        "{format}: killed part-way: {} lines",
        before.lines().count()
    );

    let again = run(&mut command(&server), &args);
    assert_eq!(again.code, Some(0), "{format}: {}", again.stderr);
    let text = std::fs::read_to_string(&output).expect("the output");
    let written = record_ids(format, &text);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &written {
        *counts.entry(id).or_default() += 1;
    }
    let all = all_entries(&server);
    for entry in &all {
        assert!(
            counts.contains_key(entry.id.to_string().as_str()),
            "{format}: missing {}",
            entry.id
        );
    }
    let repeated = counts.values().filter(|count| **count > 1).count();
    assert_eq!(repeated, 0, "{format}: entries repeated after the crash");
    assert_eq!(written.len(), all.len(), "{format}");
}

/// An appended output that ends inside a line (a short write: disk full, `ulimit -f`, a kill) is cut back to the
/// length the state recorded before the next run appends, and the cut is said: every line is one whole entry.
#[test]
fn a_line_cut_short_is_removed_before_the_next_run_appends() {
    for format in FEED_FORMATS {
        a_line_cut_short_in(format);
    }
}

fn a_line_cut_short_in(format: &str) {
    let server = server(Config::default().with_entries(120).with_zone_entries(0));
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let output = folder.path().join("log.ndjson");
    let args = [
        "--account",
        server.account_id(),
        "--state",
        state.to_str().expect("UTF-8"),
        "--output",
        output.to_str().expect("UTF-8"),
        "--format",
        format,
    ];
    let first = run(&mut command(&server), &args);
    assert_eq!(first.code, Some(0), "{format}: {}", first.stderr);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&output)
        .expect("the output");
    std::io::Write::write_all(&mut file, b"{\"id\":\"0190b7a0-half").expect("a prefix written");
    drop(file);
    let fresh = server
        .append_entries(MockScope::Account, 2)
        .expect("appended");
    let second = run(&mut command(&server), &args);
    assert_eq!(second.code, Some(0), "{format}: {}", second.stderr);
    assert!(
        second.stderr.contains("cut 20 bytes"),
        "{format}: {}",
        second.stderr
    );
    let written = record_ids(
        format,
        &std::fs::read_to_string(&output).expect("the output"),
    );
    assert_eq!(written.len(), 122, "{format}");
    assert_eq!(written[120..], ids(&fresh), "{format}");
}

/// One entry dated 9999-12-31 is exported once, with a warning naming it, and does not freeze the state: entries
/// that arrive after it are exported by the next runs, and it is not exported again.
#[test]
fn an_entry_dated_in_the_future_does_not_stop_the_feed() {
    for format in FEED_FORMATS {
        an_entry_dated_in_the_future_in(format);
    }
}

fn an_entry_dated_in_the_future_in(format: &str) {
    let server = server(Config::default().with_entries(50).with_zone_entries(0));
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let args = [
        "--account",
        server.account_id(),
        "--state",
        state.to_str().expect("UTF-8"),
        "--format",
        format,
    ];
    let first = run(&mut command(&server), &args);
    assert_eq!(first.code, Some(0), "{format}: {}", first.stderr);
    let far = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let future = server
        .append_entries_at(MockScope::Account, 1, far)
        .expect("appended");
    let second = run(&mut command(&server), &args);
    assert_eq!(second.code, Some(0), "{format}: {}", second.stderr);
    assert_eq!(record_ids(format, &second.stdout), ids(&future), "{format}");
    assert!(
        second
            .stderr
            .contains("warning: 1 entries dated after this walk began"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&future[0].id.to_string()),
        "{}",
        second.stderr
    );
    let later = server
        .append_entries(MockScope::Account, 3)
        .expect("appended");
    let third = run(&mut command(&server), &args);
    assert_eq!(third.code, Some(0), "{format}: {}", third.stderr);
    assert_eq!(
        record_ids(format, &third.stdout),
        ids(&later),
        "{format}: new entries, and not the future one again"
    );
}

/// `--follow` exports the log, then new entries as they arrive, and ends on SIGTERM with exit code 0 and the
/// state saved: a later run finds nothing new.
#[test]
fn follow_picks_up_new_entries_and_stops_cleanly_on_sigterm() {
    for format in FEED_FORMATS {
        follow_in(format);
    }
}

fn follow_in(format: &str) {
    let server = server(Config::default().with_entries(50).with_zone_entries(0));
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let state = state.to_str().expect("UTF-8");
    let mut child = command(&server)
        .args([
            "--account",
            server.account_id(),
            "--state",
            state,
            "--follow",
            "--interval",
            "200ms",
            "--format",
            format,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen.push(lines.next().expect("a line").expect("UTF-8"));
    }
    let added = server
        .append_entries(MockScope::Account, 4)
        .expect("appended");
    for _ in 0..4 {
        seen.push(lines.next().expect("a new line").expect("UTF-8"));
    }
    let signal = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signal.success());
    let status = child.wait().expect("the binary exits");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    assert_eq!(status.code(), Some(0), "{format}: {stderr}");
    let written = record_ids(format, &(seen.join("\n") + "\n"));
    assert_eq!(written[..50], ids(&all_entries(&server))[..50], "{format}");
    assert_eq!(written[50..], ids(&added), "{format}");

    let after = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--state",
            state,
            "--format",
            format,
        ],
    );
    assert_eq!(after.code, Some(0), "{format}: {}", after.stderr);
    assert_eq!(after.stdout, "", "{format}: the state covered everything");
}

/// A state file that is not one, or was written for other filters or another format: exit code 2 and a message
/// naming the file and what differs; the file is left as it was.
#[test]
fn a_bad_or_mismatched_state_file_is_refused() {
    let server = server(Config::default().with_entries(20));
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("state.json");
    let state = path.to_str().expect("UTF-8");

    std::fs::write(&path, "{\"half\": ").expect("written");
    let out = run(
        &mut command(&server),
        &["--account", server.account_id(), "--state", state],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("state.json: not a state file"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), "{\"half\": ");

    std::fs::remove_file(&path).expect("removed");
    let first = run(
        &mut command(&server),
        &["--account", server.account_id(), "--state", state],
    );
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    // Another filter, then another format: each refused, naming what differs.
    for (flag, value, differs) in [
        ("--changed-by", "system", "--changed-by: none -> \"system\""),
        ("--format", "ecs", "--format: \"ndjson\" -> \"ecs\""),
    ] {
        let other = run(
            &mut command(&server),
            &[
                "--account",
                server.account_id(),
                "--state",
                state,
                flag,
                value,
            ],
        );
        assert_eq!(other.code, Some(2), "{flag}: {}", other.stderr);
        assert!(
            other
                .stderr
                .contains("written for other filters or another format"),
            "{}",
            other.stderr
        );
        assert!(other.stderr.contains(differs), "{}", other.stderr);
    }
    assert!(
        server.requests().len() == 1,
        "no request for a refused state"
    );
}

/// Three scopes, one of which the API refuses (404): the other two are exported whole, every record names its
/// scope, the summary names the failed scope, the exit code is the failure's, and the state of the others is saved.
#[test]
fn one_failing_scope_does_not_stop_the_others() {
    for format in FEED_FORMATS {
        one_failing_scope_in(format);
    }
}

fn one_failing_scope_in(format: &str) {
    let server = server(
        Config::default()
            .with_accounts(2)
            .with_zones(1)
            .with_entries(60),
    );
    let accounts = server.account_ids();
    let missing = "ffffffffffffffffffffffffffffffff";
    let folder = tempfile::tempdir().expect("a folder");
    let scopes = folder.path().join("scopes.txt");
    std::fs::write(
        &scopes,
        format!(
            "# two accounts and a stranger\naccount:{}\naccount:{missing}\naccount:{}\n",
            accounts[0], accounts[1]
        ),
    )
    .expect("written");
    let state = folder.path().join("state.json");
    let args = [
        "--scopes-file",
        scopes.to_str().expect("UTF-8"),
        "--state",
        state.to_str().expect("UTF-8"),
        "--per-page",
        "25",
        "--format",
        format,
    ];
    let out = run(&mut command(&server), &args);
    assert_eq!(out.code, Some(3), "{format}: {}", out.stderr);
    assert!(
        out.stderr.contains(&format!("account:{missing}: failed")),
        "{format}: {}",
        out.stderr
    );
    let records = records(format, &out.stdout);
    for account in &accounts {
        let scope = format!("account:{account}");
        let mine: Vec<String> = records
            .iter()
            .filter(|record| record.scope.as_deref() == Some(scope.as_str()))
            .map(|record| record.id.clone())
            .collect();
        let expected = ids(&server.expected_entries(
            ScopeId::account(account.clone()),
            None,
            &Filters {
                order: MockOrder::Asc,
                ..Filters::default()
            },
        ));
        assert_eq!(mine, expected, "{format}: {scope}");
    }
    assert_eq!(records.len(), 120, "{format}");

    // The next run has nothing new for the two, and the stranger fails again.
    let again = run(&mut command(&server), &args);
    assert_eq!(again.code, Some(3), "{format}: {}", again.stderr);
    assert_eq!(again.stdout, "", "{format}");
    assert_eq!(
        server.take_unexpected_requests().len(),
        2,
        "{format}: one request a run for the stranger"
    );
}

/// Every file an incremental run creates (the output it appends to, the state, its lock) is readable by its owner
/// only, as the plain export's output is; and a lock path that is a symbolic link is refused, not followed.
#[cfg(unix)]
#[test]
fn created_files_are_private_and_the_lock_follows_no_link() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = server(Config::default().with_entries(30).with_zone_entries(0));
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let output = folder.path().join("log.ndjson");
    let args = [
        "--account",
        server.account_id(),
        "--state",
        state.to_str().expect("UTF-8"),
        "--output",
        output.to_str().expect("UTF-8"),
    ];
    let out = run(&mut command(&server), &args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lock = folder.path().join("state.json.lock");
    for path in [&state, &output, &lock] {
        let mode = std::fs::metadata(path)
            .expect("created")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }

    std::fs::remove_file(&lock).expect("removed");
    let target = folder.path().join("elsewhere");
    std::os::unix::fs::symlink(&target, &lock).expect("a link");
    let out = run(&mut command(&server), &args);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("lock file"), "{}", out.stderr);
    assert!(!target.exists(), "the link was followed");
}
