//! `--metrics-listen`: the exposition parses with a parser of the Prometheus text format, and its counts are what
//! happened: the entries written equal the output's lines per scope, the requests by outcome add up to what the
//! mock served (the 503s it injected retried, the 429s failed), and the newest-entry gauge is the newest line's
//! time. OpenMetrics is served to a scraper that asks for it, and nothing listens without the flag.

use std::collections::HashMap;
use std::time::Duration;

use mock_server::{Config, Fault, MockRateLimit, MockScope, MockServer};

use crate::running::{Running, Sample, get, samples, value};
use crate::support::{command, parse_ndjson, run, server};

/// The 429s and 503s the faults below injected into `normal` requests that reached normal serving (the 429 is
/// configured first, so it wins when both fire).
fn injected(normal: u64) -> (u64, u64) {
    let limited = normal / RATE_LIMIT_EVERY;
    let failed = (1..=normal)
        .filter(|number| number % SERVER_ERROR_EVERY == 0 && number % RATE_LIMIT_EVERY != 0)
        .count() as u64;
    (limited, failed)
}

const RATE_LIMIT_EVERY: u64 = 9;
const SERVER_ERROR_EVERY: u64 = 5;

/// A scrape taken while the mock's count did not move, whose request counts agree with the mock's, or `None`.
fn settled_scrape(server: &MockServer, address: std::net::SocketAddr) -> Option<Vec<Sample>> {
    let served = server.served_count();
    let text = get(address, "/metrics", None).body;
    if server.served_count() != served {
        return None;
    }
    let samples = samples(&text);
    let outcome = |name| {
        value(
            &samples,
            "insight_audit_log_requests_total",
            Some(("outcome", name)),
        )
    };
    let (ok, retried, failed) = (outcome("ok")?, outcome("retried")?, outcome("failed")?);
    let emulated = server.rate_limited_count();
    let (limited, errors) = injected(served - emulated);
    let rate_limited = value(&samples, "insight_audit_log_rate_limited_total", None)?;
    let agrees = ok + retried + failed == served as f64
        && rate_limited == (limited + emulated) as f64
        && retried == errors as f64
        && failed == rate_limited;
    agrees.then_some(samples)
}

/// Per scope, the entries of the output file and the newest `changed_at` among them (Unix seconds).
fn written(output: &std::path::Path, scopes: &[String]) -> HashMap<String, (usize, f64)> {
    let text = std::fs::read_to_string(output).expect("the output");
    let mut per_scope: HashMap<String, (usize, f64)> = HashMap::new();
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let scope = record["scope"].as_str().expect("a scope field").to_owned();
        assert!(scopes.contains(&scope), "{scope}");
        let at = chrono::DateTime::parse_from_rfc3339(
            record["changed_at"].as_str().expect("changed_at"),
        )
        .expect("RFC 3339")
        .timestamp_millis() as f64
            / 1000.0;
        let seen = per_scope.entry(scope).or_insert((0, 0.0));
        seen.0 += 1;
        seen.1 = seen.1.max(at);
    }
    per_scope
}

/// A follow run over two growing scopes, against 503s, 429s and a small rate-limit budget: at every settled
/// point the exposition's counts equal the output and the mock's, and they grow with the log.
#[test]
fn the_metrics_count_what_was_written_and_sent() {
    let server = server(
        Config::default()
            .with_entries(30)
            .with_fault(Fault::RateLimit {
                every: RATE_LIMIT_EVERY,
                retry_after_secs: 1,
            })
            .with_fault(Fault::ServerError {
                every: SERVER_ERROR_EVERY,
                status: 503,
            })
            .with_rate_limit(MockRateLimit::new(3, Duration::from_secs(2))),
    );
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state.json");
    let output = folder.path().join("log.ndjson");
    let scopes = vec![
        format!("account:{}", server.account_id()),
        format!("zone:{}", server.zone_id()),
    ];
    let mut running = Running::start(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--zone",
            server.zone_id(),
            "--state",
            state.to_str().expect("UTF-8"),
            "--output",
            output.to_str().expect("UTF-8"),
            "--per-page",
            "10",
            "--follow",
            "--interval",
            "1s",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let address = running.address();
    let mut expected = HashMap::from([(scopes[0].clone(), 30), (scopes[1].clone(), 30)]);
    for round in 0..2 {
        if round == 1 {
            server
                .append_entries(MockScope::Account, 7)
                .expect("appended");
            server.append_entries(MockScope::Zone, 3).expect("appended");
            *expected.get_mut(&scopes[0]).expect("a scope") += 7;
            *expected.get_mut(&scopes[1]).expect("a scope") += 3;
        }
        let samples = running.wait_for("a settled scrape with every entry counted", |_| {
            let samples = settled_scrape(&server, address)?;
            scopes
                .iter()
                .all(|scope| {
                    value(
                        &samples,
                        "insight_audit_log_entries_written_total",
                        Some(("scope", scope)),
                    ) == Some(f64::from(expected[scope]))
                })
                .then_some(samples)
        });
        let lines = written(&output, &scopes);
        for scope in &scopes {
            let (count, newest) = lines[scope];
            let label = Some(("scope", scope.as_str()));
            assert_eq!(
                count, expected[scope] as usize,
                "{scope}: the output's lines"
            );
            assert_eq!(
                value(
                    &samples,
                    "insight_audit_log_newest_entry_timestamp_seconds",
                    label
                ),
                Some(newest),
                "{scope}"
            );
            let pages = value(&samples, "insight_audit_log_pages_total", label).expect("pages");
            assert!(
                pages >= (count / 10) as f64,
                "{scope}: {pages} pages for {count} entries"
            );
            assert!(
                value(
                    &samples,
                    "insight_audit_log_last_success_timestamp_seconds",
                    label
                )
                .is_some(),
                "{scope}: a poll reached the end"
            );
            assert_eq!(
                value(&samples, "insight_audit_log_scope_failures_total", label),
                Some(0.0),
                "{scope}: every wait was waited out"
            );
        }
        let remaining =
            value(&samples, "insight_audit_log_quota_remaining", None).expect("a quota announced");
        assert!((0.0..=3.0).contains(&remaining), "{remaining}");
        let paced = value(
            &samples,
            "insight_audit_log_pacing_wait_seconds_total",
            None,
        )
        .expect("pacing");
        assert!(
            paced > 0.0,
            "three requests per two seconds must hold some back"
        );
    }
    let (code, stderr) = running.terminate();
    assert_eq!(code, Some(0), "{}", stderr.join("\n"));
    assert_eq!(
        parse_ndjson(&std::fs::read_to_string(&output).expect("the output")).len(),
        expected.values().sum::<u32>() as usize
    );
}

/// A scraper whose `Accept` names OpenMetrics gets it (with `# EOF` and its own type lines), with the same
/// samples as the text format; any other gets the text format 0.0.4. Health answers on the same listener.
#[test]
fn openmetrics_is_served_when_asked_for() {
    let server = server(Config::default().with_entries(20).with_zone_entries(0));
    let mut running = Running::start(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--follow",
            "--interval",
            "1h",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    );
    let address = running.address();
    let scope = format!("account:{}", server.account_id());
    running.wait_for("the first poll counted", |_| {
        let samples = samples(&get(address, "/metrics", None).body);
        (value(
            &samples,
            "insight_audit_log_entries_written_total",
            Some(("scope", &scope)),
        ) == Some(20.0))
        .then_some(())
    });
    let text = get(
        address,
        "/metrics",
        Some("text/plain;version=0.0.4;q=0.3,*/*;q=0.2"),
    );
    assert_eq!(text.status, 200);
    assert!(
        text.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        text.content_type
    );
    assert!(
        text.body
            .contains("# TYPE insight_audit_log_entries_written_total counter\n")
    );
    let open = get(
        address,
        "/metrics",
        Some("application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3"),
    );
    assert_eq!(open.status, 200);
    assert!(
        open.content_type
            .starts_with("application/openmetrics-text"),
        "{}",
        open.content_type
    );
    assert!(open.body.ends_with("# EOF\n"), "{}", open.body);
    assert!(
        open.body
            .contains("# TYPE insight_audit_log_entries_written counter\n")
    );
    let mut from_text = samples(&text.body);
    let mut from_open = samples(open.body.trim_end_matches("# EOF\n"));
    from_text.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    from_open.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    assert_eq!(from_text, from_open, "the same samples in both formats");

    assert_eq!(get(address, "/healthz", None).status, 200);
    assert_eq!(get(address, "/readyz", None).status, 200);
    assert_eq!(get(address, "/other", None).status, 404);
    let (code, stderr) = running.terminate();
    assert_eq!(code, Some(0), "{}", stderr.join("\n"));
}

/// Without `--metrics-listen` nothing listens and nothing about it is said; an address that is taken is a usage
/// error that names the flag.
#[test]
fn nothing_listens_without_the_flag_and_a_taken_address_is_refused() {
    let server = server(Config::default().with_entries(5).with_zone_entries(0));
    let plain = run(&mut command(&server), &["--account", server.account_id()]);
    assert_eq!(plain.code, Some(0), "{}", plain.stderr);
    assert!(!plain.stderr.contains("/metrics"), "{}", plain.stderr);

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("an address").to_string();
    let refused = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--metrics-listen",
            &address,
        ],
    );
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("--metrics-listen {address}: cannot listen")),
        "{}",
        refused.stderr
    );
    assert_eq!(server.served_count(), 1, "no request after the refusal");
}
