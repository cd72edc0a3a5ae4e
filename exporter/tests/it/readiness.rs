//! `/healthz` and `/readyz` on the metrics listener: not ready until the scope's first poll reached the end of its
//! log, ready after, not ready once three polls in a row have failed (saying which scope and why, in the
//! exporter's words, not the server's), and ready again after the next poll that succeeds.

use std::time::Duration;

use mock_server::{CannedResponse, Config};

use crate::running::{Running, get, samples, value};
use crate::support::{command, server};

/// The server's message in the failing answers: it must not reach the readiness text.
const SERVER_TEXT: &str = "upstream \u{1b}[31mexploded";

/// One scope, its first answer late, then failing polls until `/readyz` says so, then succeeding ones: 503 before
/// the first poll ends, 200 after, 503 naming the scope after three failures in a row, 200 again after a success.
#[test]
fn readyz_turns_503_while_a_scope_keeps_failing_and_back() {
    let server = server(Config::default().with_entries(10).with_zone_entries(0));
    // The first answer comes late, so the first look at /readyz finds no poll finished.
    server.push_canned(CannedResponse::normal().with_delay(Duration::from_secs(2)));
    let mut running = Running::start(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--follow",
            "--interval",
            "100ms",
            "--retries",
            "0",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let address = running.address();
    let scope = format!("account:{}", server.account_id());

    let early = get(address, "/readyz", None);
    assert_eq!(early.status, 503, "{}", early.body);
    assert_eq!(
        early.body,
        format!("not ready:\n{scope}: no poll has reached the end of the log yet\n")
    );
    assert_eq!(get(address, "/healthz", None).status, 200);

    running.wait_for("ready after the first poll", |_| {
        (get(address, "/readyz", None).status == 200).then_some(())
    });

    // Every poll fails from now on, until /readyz says so.
    let failing = running.wait_for("not ready after three failed polls", |_| {
        while server.canned_remaining() < 2 {
            server.push_canned(CannedResponse::error(503, 10000, SERVER_TEXT));
        }
        let answer = get(address, "/readyz", None);
        (answer.status == 503).then_some(answer)
    });
    assert!(
        failing
            .body
            .starts_with(&format!("not ready:\n{scope}: the last ")),
        "{}",
        failing.body
    );
    assert!(
        failing
            .body
            .contains("polls failed, the last: the API failed (HTTP 5XX)"),
        "{}",
        failing.body
    );
    assert!(
        !failing.body.contains("exploded"),
        "server text in the answer: {}",
        failing.body
    );
    assert_eq!(
        get(address, "/healthz", None).status,
        200,
        "alive while not ready"
    );

    // The failures stop: the next poll that reaches the end makes it ready again.
    running.wait_for("ready again", |_| {
        (get(address, "/readyz", None).status == 200).then_some(())
    });
    let exposition = samples(&get(address, "/metrics", None).body);
    let failures = value(
        &exposition,
        "insight_audit_log_scope_failures_total",
        Some(("scope", &scope)),
    )
    .expect("failures counted");
    assert!(failures >= 3.0, "{failures}");
    let (code, stderr) = running.terminate();
    assert_eq!(code, Some(0), "{}", stderr.join("\n"));
}
