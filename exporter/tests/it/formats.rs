//! Each format, parsed back, holds exactly the entries the server served, in the order it served them.

use mock_server::{Config, Filters, MockAuditLogEntry, MockFieldChanged, MockOrder, MockScope};

use crate::support::{command, file_names, first_issue, parse_ndjson, run, server};

/// Without `--format` and with stdout a pipe, one insight's log comes out as NDJSON, newest first.
#[test]
fn ndjson_is_the_default_when_stdout_is_not_a_terminal() {
    let server = server(Config::default());
    let issue = first_issue(&server);
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--issue",
            &issue,
            "--per-page",
            "40",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let expected = server.expected_entries(MockScope::Account, Some(&issue), &Filters::default());
    assert!(expected.len() > 40, "the walk spans several pages");
    assert_eq!(parse_ndjson(&out.stdout), expected);
    assert!(
        out.stderr.is_empty(),
        "stderr is silent when not a terminal: {}",
        out.stderr
    );
}

/// A zone's whole log as one JSON array: every insight's entries, `zone_id` included.
#[test]
fn json_is_one_array_of_the_served_entries() {
    let server = server(Config::default().with_entries(700));
    let out = run(
        &mut command(&server),
        &["--zone", server.zone_id(), "--format", "json"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let parsed: Vec<MockAuditLogEntry> = serde_json::from_str(&out.stdout).expect("a JSON array");
    let expected = server.expected_entries(MockScope::Zone, None, &Filters::default());
    assert_eq!(expected.len(), 700);
    assert!(expected.iter().all(|e| e.zone_id.is_some()));
    assert_eq!(parsed, expected);
}

/// CSV has the fixed header and one row per entry; null values are empty fields and read back as null.
#[test]
fn csv_rows_are_the_served_entries() {
    let server = server(Config::default());
    let issue = first_issue(&server);
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--issue",
            &issue,
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, insight_audit_log::output::FIELDS);
    let rows: Vec<MockAuditLogEntry> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("every row is an entry");
    let expected = server.expected_entries(MockScope::Account, Some(&issue), &Filters::default());
    assert!(
        expected.iter().any(|e| e.rationale.is_none()),
        "nulls are exercised"
    );
    assert!(
        expected
            .iter()
            .any(|e| e.rationale.as_deref().is_some_and(|r| r.contains('\n'))),
        "quoted newlines are exercised"
    );
    assert_eq!(rows, expected);
}

/// The table has a header and one line per entry, its columns at fixed offsets, control characters shown as
/// spaces and null as `-`.
#[test]
fn table_lines_show_the_served_entries() {
    let server = server(Config::default());
    let issue = first_issue(&server);
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--issue",
            &issue,
            "--format",
            "table",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut lines = out.stdout.lines();
    assert!(lines.next().is_some_and(|h| h.starts_with("CHANGED_AT ")));
    let shown = |value: Option<&str>| -> String {
        value
            .unwrap_or("-")
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    let expected: Vec<String> = server
        .expected_entries(MockScope::Account, Some(&issue), &Filters::default())
        .iter()
        .map(|e| {
            format!(
                "{:<24}  {:<32}  {:<19}  {:<28}  {:<15}  {:<15}  {}",
                e.changed_at,
                e.issue_id,
                e.field_changed,
                e.changed_by,
                shown(e.previous_value.as_deref()),
                shown(e.current_value.as_deref()),
                shown(e.rationale.as_deref())
            )
            .trim_end()
            .to_owned()
        })
        .collect();
    assert_eq!(lines.map(str::to_owned).collect::<Vec<_>>(), expected);
}

/// The filters and order reach the API: the output is what the server selects for them.
#[test]
fn filters_and_order_select_the_same_entries_as_the_server() {
    let server = server(Config::default());
    let all = server.entries(MockScope::Account, None);
    let since = all[all.len() / 4].changed_at.clone();
    let before = all[3 * all.len() / 4].changed_at.clone();
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--since",
            &since,
            "--before",
            &before,
            "--field-changed",
            "status",
            "--changed-by",
            "system",
            "--order",
            "asc",
            "--per-page",
            "7",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let filters = Filters {
        since: Some(since.parse().expect("RFC 3339")),
        before: Some(before.parse().expect("RFC 3339")),
        field_changed: Some(MockFieldChanged::Status),
        changed_by: Some("system".to_owned()),
        order: MockOrder::Asc,
    };
    let expected = server.expected_entries(MockScope::Account, None, &filters);
    assert!(expected.len() > 7, "several pages: {}", expected.len());
    assert_eq!(parse_ndjson(&out.stdout), expected);
}

/// `--output` writes the file whole and leaves no temporary file beside it.
#[test]
fn output_file_is_renamed_into_place_without_leftovers() {
    let server = server(Config::default());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("log.ndjson");
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--output",
            path.to_str().expect("UTF-8 path"),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&path).expect("the file exists");
    assert_eq!(
        parse_ndjson(&text),
        server.expected_entries(MockScope::Account, None, &Filters::default())
    );
    assert_eq!(file_names(dir.path()), ["log.ndjson"]);
}

/// `--output` naming a pipe (as `/dev/null` or `/dev/stdout` name devices) writes into it and leaves it a pipe: a
/// rename would have put a regular file in its place.
#[cfg(unix)]
#[test]
fn output_to_a_pipe_writes_into_it_and_keeps_it() {
    use std::os::unix::fs::FileTypeExt as _;
    let server = server(Config::default().with_entries(200));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let reader = {
        let path = path.clone();
        std::thread::spawn(move || std::fs::read_to_string(path).expect("read the pipe"))
    };
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--output",
            path.to_str().expect("UTF-8 path"),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Checked before the reader is joined: a replaced pipe would leave it waiting for a writer.
    let kind = std::fs::symlink_metadata(&path)
        .expect("still there")
        .file_type();
    assert!(kind.is_fifo(), "replaced by {kind:?}");
    assert_eq!(file_names(dir.path()), ["pipe"], "no temporary file left");
    let text = reader.join().expect("the reader ends");
    assert_eq!(
        parse_ndjson(&text),
        server.expected_entries(MockScope::Account, None, &Filters::default())
    );
}
