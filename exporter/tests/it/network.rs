//! What stops real exports: connections that drop, and the API's rate limit. Each fault is survived with every
//! entry written exactly once; rate limits are waited out up to `--max-wait`; output that could not be kept is
//! never reported as written.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use mock_server::{
    CannedResponse, Config, Fault, Filters, MockAuditLogEntry, MockRateLimit, MockScope,
};

use crate::support::{Run, command, parse_ndjson, run, run_within, server};

fn served(server: &mock_server::MockServer) -> Vec<MockAuditLogEntry> {
    server.expected_entries(MockScope::Account, None, &Filters::default())
}

/// A body cut mid-way on one request in 13, and a reset before the head on one in 11: the export finishes with
/// exit code 0 and every entry exactly once, in order.
#[test]
fn dropped_connections_are_retried_and_every_entry_is_written_once() {
    for fault in [
        Fault::DropMidBody { every: 13 },
        Fault::ResetBeforeHead { every: 11 },
    ] {
        let server = server(Config::default().with_fault(fault.clone()));
        let out = run(
            &mut command(&server),
            &["--account", server.account_id(), "--per-page", "25"],
        );
        assert_eq!(out.code, Some(0), "{fault}: {}", out.stderr);
        assert_eq!(parse_ndjson(&out.stdout), served(&server), "{fault}");
        assert!(
            server.requests().len() > 1000 / 25,
            "{fault}: the fault was met"
        );
    }
}

/// One response in four stalls after its head for 5 s: with `--timeout 300ms` each stalled page is fetched again,
/// and the export finishes with every entry once.
#[test]
fn a_stalled_body_is_timed_out_and_fetched_again() {
    let server = server(Config::default().with_fault(Fault::Stall {
        every: 4,
        delay: Duration::from_secs(5),
    }));
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "100",
            "--timeout",
            "300ms",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server));
    assert!(server.requests().len() > 10, "stalls were met");
}

/// Under the mock's rate limit (20 requests per 2 s), a walk of 40 pages is paced: no 429 served, every entry
/// once.
#[test]
fn an_export_under_the_rate_limit_receives_no_429() {
    let server =
        server(Config::default().with_rate_limit(MockRateLimit::new(20, Duration::from_secs(2))));
    let out = run(
        &mut command(&server),
        &["--account", server.account_id(), "--per-page", "25"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server));
    assert_eq!(server.rate_limited_count(), 0);
}

/// A mock whose budget is one request a day (`Ratelimit-Policy: w=86400`): the window is read as an hour, and the
/// wait for its reset, beyond `--max-wait 5m`, stops the export at once with exit code 4, the bounded figure said,
/// and the cursor after the page written; the exporter never sleeps it out.
#[test]
fn a_quota_window_of_a_day_stops_at_once_beyond_max_wait() {
    let server = server(
        Config::default().with_rate_limit(MockRateLimit::new(1, Duration::from_secs(86_400))),
    );
    let out = run_within(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "100",
            "--max-wait",
            "5m",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server)[..100]);
    assert!(
        out.stderr.contains(
            "warning: the API announced a window longer than an hour (Ratelimit-Policy w=86400)"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("rate limited"), "{}", out.stderr);
    assert!(out.resume_cursor().is_some(), "{}", out.stderr);
    assert_eq!(server.requests().len(), 1);
}

/// A budget of 3 requests per 8 s: the pacer's waits of several seconds are said on stderr with their length and
/// reason, waited out, and the export ends with every entry once and no 429.
#[test]
fn a_long_pacing_wait_is_said_and_waited_out() {
    let server = server(
        Config::default()
            .with_entries(500)
            .with_rate_limit(MockRateLimit::new(3, Duration::from_secs(8))),
    );
    let out = run_within(
        &mut command(&server),
        &["--account", server.account_id(), "--per-page", "100"],
        Duration::from_secs(120),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server));
    assert!(
        out.stderr.contains("pacing: the API's quota leaves"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("; waiting "), "{}", out.stderr);
    assert_eq!(server.rate_limited_count(), 0);
}

/// A 429 asking for 1 s after two pages is waited out (within the default `--max-wait` of 5m), said on stderr,
/// and the walk goes on from the last page written: every entry once, exit code 0.
#[test]
fn a_short_rate_limit_is_waited_out_and_the_walk_goes_on() {
    let server = server(Config::default().with_script([
        CannedResponse::normal(),
        CannedResponse::normal(),
        CannedResponse::rate_limited(1),
    ]));
    let out = run(
        &mut command(&server),
        &["--account", server.account_id(), "--per-page", "100"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server));
    assert!(
        out.stderr.contains("rate limited by the API; waiting 1s"),
        "{}",
        out.stderr
    );
    // 10 pages, the refused request, and the third page asked again.
    assert_eq!(server.requests().len(), 11);
}

/// A 429 asking for longer than `--max-wait` after two pages: exit code 4 and the cursor after the second page.
#[test]
fn a_rate_limit_longer_than_max_wait_stops_with_the_resume_cursor() {
    let server = server(Config::default().with_script([
        CannedResponse::normal(),
        CannedResponse::normal(),
        CannedResponse::rate_limited(120),
    ]));
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "100",
            "--max-wait",
            "1m",
        ],
    );
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server)[..200]);
    let cursor = out.resume_cursor().expect("a resume cursor");
    let rest = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "100",
            "--cursor",
            &cursor,
        ],
    );
    assert_eq!(rest.code, Some(0), "{}", rest.stderr);
    assert_eq!(parse_ndjson(&rest.stdout), served(&server)[200..]);
}

/// Ctrl-C while waiting out a rate limit: exit code 6 at once, with the cursor after the page written.
#[test]
fn an_interrupt_during_a_rate_limit_wait_stops_with_the_resume_cursor() {
    let server = server(
        Config::default()
            .with_script([CannedResponse::normal(), CannedResponse::rate_limited(200)]),
    );
    let mut child = command(&server)
        .args(["--account", server.account_id(), "--per-page", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut said = String::new();
    while !said.contains("waiting") {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("stderr is readable");
        assert_ne!(read, 0, "the exporter ended before waiting: {said}");
        said.push_str(&line);
    }
    let signal = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(signal.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("stderr");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut stdout)
        .expect("stdout");
    let status = child.wait().expect("the binary exits");
    let out = Run {
        code: status.code(),
        stdout,
        stderr: said + &rest,
    };
    assert_eq!(out.code, Some(6), "{}", out.stderr);
    assert_eq!(parse_ndjson(&out.stdout), served(&server)[..100]);
    assert!(out.resume_cursor().is_some(), "{}", out.stderr);
}

/// The cursor after the first page of 100, from a run that a long rate limit stops there.
fn cursor_after_the_first_page(server: &mock_server::MockServer) -> String {
    server.push_canned(CannedResponse::normal());
    server.push_canned(CannedResponse::rate_limited(3600));
    let out = run(
        &mut command(server),
        &["--account", server.account_id(), "--per-page", "100"],
    );
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    out.resume_cursor().expect("a resume cursor")
}

/// Writing `--output` fails part-way (the file size limit is reached): the temporary file is discarded, and the
/// resume advice is where the run started (its `--cursor`), never past the discarded pages.
#[test]
fn a_failed_output_file_never_resumes_past_discarded_pages() {
    let server = server(Config::default());
    let start = cursor_after_the_first_page(&server);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("export.ndjson");
    // A shell that limits the size of files the exporter writes (tens of KB) and lets writes past it fail
    // instead of killing the process.
    let mut limited = std::process::Command::new("sh");
    limited
        .env_clear()
        .stdin(Stdio::null())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CLOUDFLARE_BASE_URL", server.base_url())
        .env("CLOUDFLARE_API_TOKEN", &server.credentials().api_token)
        .args([
            "-c",
            "ulimit -f 64 && trap '' XFSZ && exec \"$0\" \"$@\"",
            crate::support::BIN,
        ]);
    let out = run(
        limited
            .args([
                "--account",
                server.account_id(),
                "--per-page",
                "25",
                "--cursor",
                &start,
                "--output",
            ])
            .arg(&path),
        &[],
    );
    assert_eq!(out.code, Some(8), "{}", out.stderr);
    assert!(
        out.stderr.contains("nothing was written to"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.resume_cursor().as_deref(),
        Some(start.as_str()),
        "{}",
        out.stderr
    );
    assert!(
        crate::support::file_names(dir.path()).is_empty(),
        "no file and no temporary file left"
    );
}

/// The finished file cannot be renamed onto `--output` (a folder is in the way): the entries are kept as
/// `FILE.partial`, and stderr says so.
#[test]
fn an_output_that_cannot_be_renamed_into_place_is_kept_as_partial() {
    let server = server(Config::default());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("export.ndjson");
    std::fs::create_dir(&path).expect("a folder in the way");
    std::fs::write(path.join("occupied"), b"x").expect("a file in it");
    let mut command = command(&server);
    let out = run(
        command
            .args([
                "--account",
                server.account_id(),
                "--per-page",
                "250",
                "--output",
            ])
            .arg(&path),
        &[],
    );
    assert_eq!(out.code, Some(8), "{}", out.stderr);
    let partial = dir.path().join("export.ndjson.partial");
    let kept = std::fs::read_to_string(&partial).expect("the partial file");
    assert_eq!(parse_ndjson(&kept), served(&server));
    assert!(
        out.stderr.contains("export.ndjson.partial"),
        "{}",
        out.stderr
    );
    assert!(out.resume_cursor().is_none(), "{}", out.stderr);
}

/// Refused credentials (401) say what to fix, not to run the same command again.
#[test]
fn a_permanent_error_says_what_to_fix() {
    let server = server(Config::default());
    let out = run(
        command(&server).env("CLOUDFLARE_API_TOKEN", "not-the-token"),
        &["--account", server.account_id()],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr.contains("to fix: the credentials were refused"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("run the same command again"),
        "{}",
        out.stderr
    );
    assert_eq!(server.requests().len(), 1, "not retried");
}

/// With `--state`, refused credentials still say what to fix, and then that the state lets the next run go on.
#[test]
fn a_permanent_error_says_what_to_fix_with_a_state_file_too() {
    let server = server(Config::default());
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let out = run(
        command(&server).env("CLOUDFLARE_API_TOKEN", "not-the-token"),
        &[
            "--account",
            server.account_id(),
            "--state",
            state.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let fix = out
        .stderr
        .find("to fix: the credentials were refused")
        .expect("what to fix");
    let then = out
        .stderr
        .find("then run again: the state in")
        .expect("the state line");
    assert!(fix < then, "{}", out.stderr);
}

/// A zone listed in `--scopes-file` that answers 404 is advised about as a zone, by its id; never "check --account".
#[test]
fn the_advice_names_the_scope_that_failed() {
    let server = server(Config::default().with_entries(30));
    let missing = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    let folder = tempfile::tempdir().expect("a folder");
    let scopes = folder.path().join("scopes.txt");
    std::fs::write(
        &scopes,
        format!("account:{}\nzone:{missing}\n", server.account_id()),
    )
    .expect("written");
    let out = run(
        &mut command(&server),
        &["--scopes-file", scopes.to_str().expect("UTF-8")],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "zone:{missing}: to fix: no such zone: check the zone id {missing}"
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("--account"), "{}", out.stderr);
    assert_eq!(
        server.take_unexpected_requests().len(),
        1,
        "the missing zone"
    );
}
