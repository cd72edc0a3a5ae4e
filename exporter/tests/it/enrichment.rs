//! The insight behind each entry: the insight lists are read once per scope and run, the ECS, OCSF and enriched
//! NDJSON events carry the insight, and enrichment never costs an entry: an insight the lists lack, or lists that
//! cannot be read, leave the entry written, saying so, and counted in the summary; a rate limit before the lists is
//! waited out.

use std::time::Duration;

use mock_server::{CannedResponse, Config, MockRateLimit, MockScope, MockServer};
use serde_json::{Value, json};

use crate::support::{command, run, run_within, server};

/// A mock serving 60 account entries over 3 insights, whose first request (the audit log) is served normally and
/// whose second (the insight list) gets `insights`.
fn with_insight_answer(insights: CannedResponse) -> MockServer {
    server(
        Config::default()
            .with_entries(60)
            .with_zone_entries(0)
            .with_insights_per_scope(3)
            .with_strict(false)
            .with_script([CannedResponse::normal(), insights]),
    )
}

/// An insight list holding the insights `ids`, each Critical, of class `always_use_https_not_enabled`.
fn insight_list(ids: &[String]) -> CannedResponse {
    let issues: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "id": id, "issue_type": "insecure_configuration", "issue_class": "always_use_https_not_enabled",
                "severity": "Critical", "status": "active", "subject": "example.com", "dismissed": false,
            })
        })
        .collect();
    CannedResponse::json(
        200,
        &json!({
            "success": true, "errors": [], "messages": [],
            "result": { "count": ids.len(), "issues": issues, "page": 1, "per_page": 1000 },
        }),
    )
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
        .collect()
}

/// How many requests went to the insight lists.
fn insight_requests(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|request| request.path.ends_with("/security-center/insights"))
        .count()
}

/// Two of the three insights are in the lists: their entries carry them (ECS `event.severity`, the custom
/// `insight.*`), the third's say `missing`, every entry is written, the lists are read once, and the summary
/// counts the entries written without their insight.
#[test]
fn ecs_events_carry_the_insight_and_say_when_it_is_missing() {
    let probe = server(
        Config::default()
            .with_entries(60)
            .with_zone_entries(0)
            .with_insights_per_scope(3),
    );
    let issues = probe.issue_ids(MockScope::Account);
    drop(probe);
    let server = with_insight_answer(insight_list(&issues[..2]));
    assert_eq!(
        server.issue_ids(MockScope::Account),
        issues,
        "the same seeded data"
    );
    let out = run(
        &mut command(&server),
        &["--account", server.account_id(), "--format", "ecs"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let events = lines(&out.stdout);
    assert_eq!(events.len(), 60, "every entry written");
    let mut missing = 0;
    for event in &events {
        let custom = &event["cloudflare"]["security_center"];
        let issue = custom["audit_log"]["issue_id"]
            .as_str()
            .expect("an issue id");
        if issues[..2].iter().any(|known| known == issue) {
            assert_eq!(custom["enrichment"], "found", "{event}");
            assert_eq!(custom["insight"]["severity"], "Critical");
            assert_eq!(event["event"]["severity"], 99);
        } else {
            assert_eq!(custom["enrichment"], "missing", "{event}");
            assert!(custom.get("insight").is_none());
            missing += 1;
        }
    }
    assert!(missing > 0, "the third insight has entries");
    assert_eq!(insight_requests(&server), 1, "the lists are read once");
    assert!(
        out.stderr.contains(&format!(
            "{missing} entries were written without their insight: {missing} not in the insight lists"
        )),
        "{}",
        out.stderr
    );
}

/// The insight lists answer 500 every time: the OCSF events are all written, with severity Unknown and
/// `unmapped.enrichment` `failed`, a warning names the failure, and the exit code is 0.
#[test]
fn failing_insight_lists_cost_no_entry() {
    let failing = || CannedResponse::error(500, 10000, "internal error");
    let server = server(
        Config::default()
            .with_entries(60)
            .with_zone_entries(0)
            .with_strict(false)
            .with_script([
                CannedResponse::normal(),
                failing(),
                failing(),
                failing(),
                failing(),
            ]),
    );
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--format",
            "ocsf",
            "--retries",
            "3",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let events = lines(&out.stdout);
    assert_eq!(events.len(), 60);
    for event in &events {
        assert_eq!(event["unmapped"]["enrichment"], "failed", "{event}");
        assert_eq!(event["severity_id"], 0);
    }
    assert!(
        out.stderr
            .contains("warning: cannot read the insight lists"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "60 entries were written without their insight: 0 not in the insight lists, 60"
        ),
        "{}",
        out.stderr
    );
}

/// `--enrich` adds the insight and the enrichment state to NDJSON records, beside the raw fields.
#[test]
fn enrich_adds_the_insight_to_ndjson() {
    let probe = server(
        Config::default()
            .with_entries(60)
            .with_zone_entries(0)
            .with_insights_per_scope(3),
    );
    let issues = probe.issue_ids(MockScope::Account);
    drop(probe);
    let server = with_insight_answer(insight_list(&issues));
    let out = run(
        &mut command(&server),
        &["--account", server.account_id(), "--enrich"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let records = lines(&out.stdout);
    assert_eq!(records.len(), 60);
    for record in &records {
        assert_eq!(record["enrichment"], "found", "{record}");
        assert_eq!(
            record["insight"]["issue_class"],
            "always_use_https_not_enabled"
        );
        assert!(record["changed_at"].is_string(), "the raw fields stay");
    }
}

/// `--enrich` belongs to NDJSON: with CSV it is a usage error.
#[test]
fn enrich_with_another_format_is_refused() {
    let server = server(Config::default().with_entries(10));
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--enrich",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--enrich"), "{}", out.stderr);
    assert!(server.requests().is_empty());
}

/// A budget of 1 request per 7 s: the audit log's first page spends it, so the insight lists' request would wait
/// longer than the client sleeps quietly. The wait is said and waited out, as a walk's is, and every event carries
/// its insight; none is written without it for want of patience.
#[test]
fn a_pacing_wait_before_the_insight_lists_is_waited_out() {
    let server = server(
        Config::default()
            .with_entries(40)
            .with_zone_entries(0)
            .with_insights_per_scope(2)
            .with_rate_limit(MockRateLimit::new(1, Duration::from_secs(7))),
    );
    let out = run_within(
        &mut command(&server),
        &["--account", server.account_id(), "--format", "ocsf"],
        Duration::from_secs(120),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("pacing: the API's quota leaves"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("cannot read the insight lists"),
        "{}",
        out.stderr
    );
    let events = lines(&out.stdout);
    assert_eq!(events.len(), 40);
    for event in &events {
        assert_eq!(event["unmapped"]["enrichment"], "found", "{event}");
    }
    assert_eq!(insight_requests(&server), 1);
    assert_eq!(server.rate_limited_count(), 0);
}
