//! `--log-format json`: every line on stderr is one JSON object with a timestamp, a level, a message and the
//! message's fields (the scope, a wait's length, a poll's pages); the server's text in it is inert, and no line
//! holds the token.

use mock_server::{CannedResponse, Config, Fault};

use crate::running::Running;
use crate::support::{command, run, server};

/// Every stderr line, parsed; fails on any that is not a JSON object with the four common fields.
#[track_caller]
fn parse_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
            for field in ["timestamp", "level", "message", "target"] {
                assert!(event.get(field).is_some(), "no {field}: {line}");
            }
            chrono::DateTime::parse_from_rfc3339(event["timestamp"].as_str().expect("a string"))
                .unwrap_or_else(|error| panic!("not RFC 3339 ({error}): {line}"));
            event
        })
        .collect()
}

/// A follow run over two scopes, one refused once with a message full of escape sequences, the other rate
/// limited: the error names its scope at level ERROR with the server's text made inert, the wait carries
/// `wait_s`, each poll ends with its pages and entries, and the token is nowhere.
#[test]
fn json_logs_are_one_object_per_line_with_fields_and_no_secret() {
    let server = server(
        Config::default()
            .with_entries(25)
            .with_fault(Fault::RateLimit {
                every: 2,
                retry_after_secs: 1,
            }),
    );
    server.push_canned(CannedResponse::error(
        400,
        1001,
        "bad \u{1b}]52;c;SGVsbG8=\u{7} \u{202e}input",
    ));
    let token = server.credentials().api_token.clone();
    let mut running = Running::start(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--zone",
            server.zone_id(),
            "--follow",
            "--interval",
            "200ms",
            "--per-page",
            "10",
            "--log-format",
            "json",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    running.address();
    running.wait_for("a completed poll of each scope", |running| {
        let events = parse_lines(&running.stderr());
        let completed = |kind: &str| {
            events.iter().any(|event| {
                event["message"] == "poll ended"
                    && event["outcome"] == "completed"
                    && event["scope"]
                        .as_str()
                        .is_some_and(|scope| scope.starts_with(kind))
            })
        };
        (completed("account:") && completed("zone:")).then_some(())
    });
    let (code, lines) = running.terminate();
    assert_eq!(code, Some(0), "{}", lines.join("\n"));
    let events = parse_lines(&lines);

    for line in &lines {
        assert!(!line.contains(&token), "the token in: {line}");
        assert!(
            !line.contains('\u{1b}') && !line.contains("\\u001b"),
            "a raw escape in: {line}"
        );
    }
    let error = events
        .iter()
        .find(|event| event["level"] == "ERROR")
        .expect("the refused poll is an error");
    let message = error["message"].as_str().expect("a message");
    assert!(message.contains("\\u{1b}]52"), "{message}");
    assert!(message.contains("\\u{202e}"), "{message}");
    assert!(
        error["scope"]
            .as_str()
            .is_some_and(|scope| scope.contains(':')),
        "{error}"
    );
    let wait = events
        .iter()
        .find(|event| event.get("wait_s").is_some())
        .expect("a rate-limit wait");
    assert!(
        wait["wait_s"]
            .as_f64()
            .is_some_and(|seconds| seconds >= 1.0),
        "{wait}"
    );
    assert!(wait["scope"].is_string(), "{wait}");
    assert!(
        events.iter().any(|event| event["message"] == "poll ended"
            && event["pages"].as_u64().is_some_and(|pages| pages >= 3)
            && event["entries"].as_u64() == Some(25)),
        "a first poll of three pages and 25 entries: {lines:?}"
    );
    assert!(
        events.iter().any(|event| event["address"]
            .as_str()
            .is_some_and(|address| address.starts_with("127.0.0.1:"))),
        "the listener's address as a field"
    );
    let last = events.last().expect("events");
    assert!(
        last["message"]
            .as_str()
            .is_some_and(|text| text.starts_with("wrote ")),
        "{last}"
    );
}

/// The text form stays as it was: every line starts with the program's name, and none is JSON.
#[test]
fn text_logs_are_the_default() {
    let server = server(Config::default().with_entries(5).with_zone_entries(0));
    let out = run(
        &mut command(&server),
        &["--account", "ffffffffffffffffffffffffffffffff"],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(!out.stderr.is_empty());
    for line in out.stderr.lines() {
        assert!(line.starts_with("insight-audit-log: "), "{line}");
    }
    assert_eq!(
        server.take_unexpected_requests().len(),
        1,
        "the one request for the stranger"
    );
}
