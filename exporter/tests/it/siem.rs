//! Feeding a SIEM: incremental runs with `--state` export every entry exactly once across runs (boundary
//! timestamps and late arrivals included), a crash repeats at most one page, `--follow` picks up new entries and
//! stops cleanly on SIGTERM, and one run covers many scopes, one failing without stopping the others.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use chrono::TimeDelta;
use mock_server::{Config, Filters, MockAuditLogEntry, MockOrder, MockScope, MockServer, ScopeId};

use crate::support::{command, parse_ndjson, run, server};

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
    ];

    let first = run(&mut command(&server), &args);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let first = parse_ndjson(&first.stdout);
    assert_eq!(
        ids(&first),
        ids(&all_entries(&server)),
        "oldest first, all of them"
    );

    let newest = chrono::DateTime::parse_from_rfc3339(&first.last().expect("entries").changed_at)
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
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let second = parse_ndjson(&second.stdout);
    let mut expected: Vec<String> = ids(&late);
    expected.extend(ids(&boundary));
    expected.extend(ids(&fresh));
    let mut got = ids(&second);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "only the new entries, each once");

    let third = run(&mut command(&server), &args);
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert_eq!(third.stdout, "", "nothing new, nothing written");
}

/// A run killed with SIGKILL part-way, then run again with the same state and output file: the second run cuts
/// the file back to what the state covers, so no entry is missing, none is repeated, and no line is cut.
#[test]
fn a_crash_repeats_nothing_and_cuts_no_line() {
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
        "killed part-way: {} lines",
        before.lines().count()
    );

    let again = run(&mut command(&server), &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    let text = std::fs::read_to_string(&output).expect("the output");
    let written = parse_ndjson(&text);
    let mut counts: HashMap<String, usize> = HashMap::new();
    for entry in &written {
        *counts.entry(entry.id.to_string()).or_default() += 1;
    }
    let all = all_entries(&server);
    for entry in &all {
        assert!(
            counts.contains_key(&entry.id.to_string()),
            "missing {}",
            entry.id
        );
    }
    let repeated = counts.values().filter(|count| **count > 1).count();
    assert_eq!(repeated, 0, "entries repeated after the crash");
    assert_eq!(written.len(), all.len());
}

/// An appended output that ends inside a line (a short write: disk full, `ulimit -f`, a kill) is cut back to the
/// length the state recorded before the next run appends, and the cut is said: every line is one whole entry.
#[test]
fn a_line_cut_short_is_removed_before_the_next_run_appends() {
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
    ];
    let first = run(&mut command(&server), &args);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
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
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(second.stderr.contains("cut 20 bytes"), "{}", second.stderr);
    let written = parse_ndjson(&std::fs::read_to_string(&output).expect("the output"));
    assert_eq!(written.len(), 122);
    assert_eq!(ids(&written[120..]), ids(&fresh));
}

/// One entry dated 9999-12-31 is exported once, with a warning naming it, and does not freeze the state: entries
/// that arrive after it are exported by the next runs, and it is not exported again.
#[test]
fn an_entry_dated_in_the_future_does_not_stop_the_feed() {
    let server = server(Config::default().with_entries(50).with_zone_entries(0));
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let args = [
        "--account",
        server.account_id(),
        "--state",
        state.to_str().expect("UTF-8"),
    ];
    let first = run(&mut command(&server), &args);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let far = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    let future = server
        .append_entries_at(MockScope::Account, 1, far)
        .expect("appended");
    let second = run(&mut command(&server), &args);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert_eq!(ids(&parse_ndjson(&second.stdout)), ids(&future));
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
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert_eq!(
        ids(&parse_ndjson(&third.stdout)),
        ids(&later),
        "new entries, and not the future one again"
    );
}

/// `--follow` exports the log, then new entries as they arrive, and ends on SIGTERM with exit code 0 and the
/// state saved: a later run finds nothing new.
#[test]
fn follow_picks_up_new_entries_and_stops_cleanly_on_sigterm() {
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
    assert_eq!(status.code(), Some(0), "{stderr}");
    let entries = parse_ndjson(&(seen.join("\n") + "\n"));
    assert_eq!(ids(&entries[50..]), ids(&added));

    let after = run(
        &mut command(&server),
        &["--account", server.account_id(), "--state", state],
    );
    assert_eq!(after.code, Some(0), "{}", after.stderr);
    assert_eq!(after.stdout, "", "the state covered everything");
}

/// A state file that is not one, or was written for other filters: exit code 2 and a message naming the file and
/// what differs; the file is left as it was.
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
    let other = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--state",
            state,
            "--changed-by",
            "system",
        ],
    );
    assert_eq!(other.code, Some(2), "{}", other.stderr);
    assert!(
        other.stderr.contains("written for other filters"),
        "{}",
        other.stderr
    );
    assert!(
        other.stderr.contains("--changed-by: none -> \"system\""),
        "{}",
        other.stderr
    );
    assert!(
        server.requests().len() == 1,
        "no request for a refused state"
    );
}

/// Three scopes, one of which the API refuses (404): the other two are exported whole, every record names its
/// scope, the summary names the failed scope, the exit code is the failure's, and the state of the others is saved.
#[test]
fn one_failing_scope_does_not_stop_the_others() {
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
    ];
    let out = run(&mut command(&server), &args);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("account:{missing}: failed")),
        "{}",
        out.stderr
    );
    let records: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    for account in &accounts {
        let scope = format!("account:{account}");
        let mine: Vec<String> = records
            .iter()
            .filter(|record| record["scope"] == scope.as_str())
            .map(|record| record["id"].as_str().expect("an id").to_owned())
            .collect();
        let expected = ids(&server.expected_entries(
            ScopeId::account(account.clone()),
            None,
            &Filters {
                order: MockOrder::Asc,
                ..Filters::default()
            },
        ));
        assert_eq!(mine, expected, "{scope}");
    }
    assert_eq!(records.len(), 120);

    // The next run has nothing new for the two, and the stranger fails again.
    let again = run(&mut command(&server), &args);
    assert_eq!(again.code, Some(3), "{}", again.stderr);
    assert_eq!(again.stdout, "");
    assert_eq!(
        server.take_unexpected_requests().len(),
        2,
        "one request a run for the stranger"
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
