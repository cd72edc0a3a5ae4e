//! Failures mid-walk: whatever was written stays valid (whole lines, a closed JSON array, a file in place), the
//! resume cursor is printed, and the exit code names the class of failure.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use mock_server::{CannedResponse, Config, Fault, Filters, MockAuditLogEntry, MockScope};

use crate::support::{command, file_names, parse_ndjson, run, server};

fn served(server: &mock_server::MockServer) -> Vec<MockAuditLogEntry> {
    server.expected_entries(MockScope::Account, None, &Filters::default())
}

/// A truncated body on the third request: the two pages before it are written whole, the cursor after them is
/// printed, and the exit code is 7 (unusable response).
#[test]
fn truncated_page_keeps_whole_pages_and_prints_the_cursor() {
    let server = server(Config::default().with_fault(Fault::TruncatedBody { every: 3 }));
    let out = run(
        &mut command(&server),
        &["--account", server.account_id(), "--per-page", "25"],
    );
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server)[..50]);
    assert!(out.resume_cursor().is_some(), "{}", out.stderr);
    assert!(
        out.stderr.contains("stopped after 2 pages"),
        "{}",
        out.stderr
    );
    let error_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .collect();
    assert_eq!(
        error_lines.len(),
        1,
        "one readable error line: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("Decode {"),
        "no Debug dump: {}",
        out.stderr
    );
}

/// With `--format json`, a walk that breaks still leaves one valid JSON array of the pages written.
#[test]
fn json_output_is_closed_when_the_walk_breaks() {
    let server = server(Config::default().with_fault(Fault::TruncatedBody { every: 3 }));
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "30",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    let parsed: Vec<MockAuditLogEntry> = serde_json::from_str(&out.stdout).expect("valid JSON");
    assert_eq!(parsed, served(&server)[..60]);
}

/// With `--output`, the pages written before a failure are kept in the file, renamed into place, with no
/// temporary file left over.
#[test]
fn output_file_keeps_the_pages_written_before_a_failure() {
    let server = server(Config::default().with_fault(Fault::TruncatedBody { every: 3 }));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("part1.csv");
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "20",
            "--format",
            "csv",
            "--output",
            path.to_str().expect("UTF-8 path"),
        ],
    );
    assert_eq!(out.code, Some(7), "{}", out.stderr);
    assert!(out.resume_cursor().is_some(), "{}", out.stderr);
    let mut reader = csv::Reader::from_path(&path).expect("the file is in place");
    let rows: Vec<MockAuditLogEntry> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("whole rows");
    assert_eq!(rows, served(&server)[..40]);
    assert_eq!(file_names(dir.path()), ["part1.csv"]);
}

/// A 429 whose Retry-After exceeds what the client waits out ends the run at once with exit code 4; nothing was
/// written, so there is no cursor and the message says to start over.
#[test]
fn rate_limit_beyond_the_wait_cap_exits_4() {
    let server = server(Config::default().with_script([CannedResponse::rate_limited(3600)]));
    let out = run(&mut command(&server), &["--account", server.account_id()]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(out.resume_cursor().is_none());
    assert!(out.stderr.contains("rate limited"), "{}", out.stderr);
    assert!(out.stderr.contains("no page was written"), "{}", out.stderr);
}

/// An unknown insight is the API's 404: exit code 3.
#[test]
fn unknown_insight_exits_3() {
    let server = server(Config::default());
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--issue",
            "ffffffffffffffffffffffffffffffff",
        ],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 404"), "{}", out.stderr);
}

/// Nothing listening at the base URL is a transport failure: exit code 5.
#[test]
fn refused_connection_exits_5() {
    // A socket bound but not listening: connections to its port are refused, and no server
    // started by a concurrent test can take the port meanwhile.
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    socket
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("a free port");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|address| address.as_socket())
        .expect("an IPv4 address")
        .port();
    let out = run(
        crate::support::bare_command()
            .env(
                "CLOUDFLARE_BASE_URL",
                format!("http://127.0.0.1:{port}/client/v4"),
            )
            .env("CLOUDFLARE_API_TOKEN", "a-token-for-nobody"),
        &["--account", mock_server::ACCOUNT_ID],
    );
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert_eq!(
        out.stderr.lines().filter(|l| l.contains("error:")).count(),
        1
    );
}

/// SIGINT after the first page: exit code 6, the entries written are whole, and the printed cursor resumes
/// exactly after them.
#[test]
fn interrupt_keeps_whole_entries_and_prints_the_cursor() {
    let server = server(Config::default().with_fault(Fault::Slow {
        every: 1,
        delay: std::time::Duration::from_millis(150),
    }));
    let mut child = command(&server)
        .args(["--account", server.account_id(), "--per-page", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    let signal = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signal.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("the rest of stdout");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    let status = child.wait().expect("the binary exits");
    assert_eq!(status.code(), Some(6), "{stderr}");
    let written = parse_ndjson(&(first + &rest));
    assert!(
        !written.is_empty() && written.len().is_multiple_of(10),
        "whole pages: {}",
        written.len()
    );
    let all = served(&server);
    assert!(written.len() < all.len(), "interrupted before the end");
    assert_eq!(written, all[..written.len()]);
    let out = crate::support::Run {
        code: status.code(),
        stdout: String::new(),
        stderr,
    };
    let cursor = out.resume_cursor().expect("a resume cursor");
    let resumed = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "10",
            "--cursor",
            &cursor,
            "--max-items",
            "10",
        ],
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert_eq!(
        parse_ndjson(&resumed.stdout),
        all[written.len()..written.len() + 10]
    );
}
