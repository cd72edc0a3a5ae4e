//! Usage errors: exit code 2, a message on stderr, nothing on stdout, and no request sent.

use std::io::Write as _;

use mock_server::{Config, Filters, MockScope};

use crate::support::{command, run, server};

#[track_caller]
fn assert_usage_error(args: &[&str], says: &str) {
    let server = server(Config::default());
    let out = run(&mut command(&server), args);
    assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
    assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    assert!(
        out.stderr.contains(says),
        "{args:?} should say {says:?}: {}",
        out.stderr
    );
    assert!(server.requests().is_empty(), "{args:?} sent a request");
}

/// `--issue` with two scopes: an insight belongs to one account or zone.
#[test]
fn issue_with_two_scopes_is_a_usage_error() {
    assert_usage_error(
        &[
            "--account",
            mock_server::ACCOUNT_ID,
            "--zone",
            mock_server::ZONE_ID,
            "--issue",
            "abc",
        ],
        "--issue needs exactly one scope",
    );
}

/// Flags that do not go with incremental runs.
#[test]
fn incremental_runs_refuse_what_would_break_them() {
    let account = mock_server::ACCOUNT_ID;
    for (args, says) in [
        (
            vec!["--account", account, "--state", "s.json", "--order", "desc"],
            "--order desc cannot be used",
        ),
        (
            vec!["--account", account, "--follow", "--cursor", "c"],
            "--cursor cannot be used",
        ),
        (
            vec![
                "--account",
                account,
                "--state",
                "s.json",
                "--format",
                "json",
            ],
            "cannot be appended to",
        ),
        (
            vec![
                "--account",
                account,
                "--state",
                "s.json",
                "--max-items",
                "5",
            ],
            "--max-items cannot be used",
        ),
    ] {
        assert_usage_error(&args, says);
    }
}

/// Neither `--account` nor `--zone`.
#[test]
fn neither_account_nor_zone_is_a_usage_error() {
    assert_usage_error(&["--issue", "abc"], "required");
}

/// `--since` that is not RFC 3339.
#[test]
fn bad_since_is_a_usage_error() {
    assert_usage_error(
        &["--account", mock_server::ACCOUNT_ID, "--since", "yesterday"],
        "RFC 3339",
    );
    assert_usage_error(
        &[
            "--account",
            mock_server::ACCOUNT_ID,
            "--since",
            "2024-01-31",
        ],
        "RFC 3339",
    );
}

/// `--since` not before `--before`.
#[test]
fn since_after_before_is_a_usage_error() {
    assert_usage_error(
        &[
            "--account",
            mock_server::ACCOUNT_ID,
            "--since",
            "2024-02-01T00:00:00Z",
            "--before",
            "2024-01-01T00:00:00Z",
        ],
        "earlier",
    );
}

/// `--per-page` outside 1..=1000.
#[test]
fn per_page_out_of_range_is_a_usage_error() {
    assert_usage_error(
        &["--account", mock_server::ACCOUNT_ID, "--per-page", "0"],
        "1..=1000",
    );
    assert_usage_error(
        &["--account", mock_server::ACCOUNT_ID, "--per-page", "1001"],
        "1..=1000",
    );
}

/// Other bad values: `--max-items 0`, an empty cursor, an unknown format or order, an empty account id.
#[test]
fn other_bad_values_are_usage_errors() {
    let account = mock_server::ACCOUNT_ID;
    assert_usage_error(&["--account", account, "--max-items", "0"], "--max-items");
    assert_usage_error(&["--account", account, "--cursor", ""], "--cursor");
    assert_usage_error(&["--account", account, "--format", "xml"], "--format");
    assert_usage_error(&["--account", account, "--order", "newest"], "--order");
    assert_usage_error(&["--account", ""], "account_id");
}

/// `--output` in a folder that does not exist: exit code 8 (output), nothing sent.
#[test]
fn output_in_a_missing_folder_exits_8() {
    let server = server(Config::default());
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--output",
            "/nonexistent/dir/log.ndjson",
        ],
    );
    assert_eq!(out.code, Some(8), "{}", out.stderr);
    assert!(server.requests().is_empty());
}

/// The library runs in-process too: `run::run` with a buffer for stdout and a closure for the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_in_process_with_an_injected_environment() {
    let server = mock_server::MockServer::start(Config::default().with_entries(90)).await;
    let cli = insight_audit_log::args::Cli::try_parse_args([
        "insight-audit-log",
        "--zone",
        server.zone_id(),
        "--per-page",
        "25",
    ])
    .expect("valid flags");
    let (base_url, token) = (server.base_url(), server.credentials().api_token.clone());
    let env = move |name: &str| match name {
        "CLOUDFLARE_BASE_URL" => Some(base_url.clone()),
        "CLOUDFLARE_API_TOKEN" => Some(token.clone()),
        _ => None,
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = insight_audit_log::run::run(
        cli,
        &env,
        insight_audit_log::run::Terminals::default(),
        &mut stdout,
        &mut stderr,
        std::future::pending(),
    )
    .await;
    let _ = std::io::stderr().write_all(&stderr);
    assert_eq!(code, insight_audit_log::exit::OK);
    let text = String::from_utf8(stdout).expect("UTF-8");
    assert_eq!(
        crate::support::parse_ndjson(&text),
        server.expected_entries(MockScope::Zone, None, &Filters::default())
    );
}

/// An overlap no log could need (`300000y`, which once overflowed the date arithmetic after the page was written)
/// is a usage error before anything is sent.
#[test]
fn an_implausible_overlap_is_a_usage_error() {
    let server = server(Config::default().with_entries(10));
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--state",
            state.to_str().expect("UTF-8"),
            "--overlap",
            "300000y",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--overlap"), "{}", out.stderr);
    assert!(server.requests().is_empty());
    assert!(!state.exists());
}
