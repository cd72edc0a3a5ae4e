//! The insight lists: they hold exactly the insights of the scope's audit log, agree with its newest entries as
//! the log grows, filter and exclude as upstream's parameters say, page by number, refuse bad parameters with a
//! 400, and get the faults, the rate limit, auth and the journal as every route does.

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use mock_server::{
    CannedResponse, Config, Fault, ISSUE_TYPES, InsightFilters, MockInsight, MockRateLimit,
    MockScope, MockServer, MockSeverity, STATUS_VALUES, ScopeId, UNKNOWN_CLASSIFICATION,
    UNKNOWN_ISSUE_TYPE, UNKNOWN_SEVERITY, UNKNOWN_STATUS, codes,
};
use serde_json::{Value, json};

use crate::support::{Resp, get, get_raw, send};

/// 600 entries per scope over 40 insights: every class and filter value is likely to appear.
fn many() -> Config {
    Config::default()
        .with_entries(600)
        .with_insights_per_scope(40)
}

/// One page of a scope's list with a raw query: status 200 asserted, the body's `result`.
async fn list(server: &MockServer, scope: impl Into<ScopeId>, query: &str) -> Value {
    let response = get_raw(server, &server.insights_url(scope), query).await;
    assert_eq!(
        response.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&response.body)
    );
    let value = response.json();
    assert_eq!(value["success"], json!(true));
    assert_eq!(value["errors"], json!([]));
    assert_eq!(value["messages"], json!([]));
    assert!(
        value.get("result_info").is_none(),
        "upstream's schema has no result_info"
    );
    value["result"].clone()
}

/// The insights of a page's `result`.
fn issues(result: &Value) -> Vec<MockInsight> {
    serde_json::from_value(result["issues"].clone()).expect("insights in the wire shape")
}

fn ids(insights: &[MockInsight]) -> Vec<String> {
    insights.iter().map(|insight| insight.id.clone()).collect()
}

/// The ids of the insights that pass `keep`, in the served order.
fn kept(server: &MockServer, keep: impl Fn(&MockInsight) -> bool) -> Vec<String> {
    server
        .insights(MockScope::Account)
        .into_iter()
        .filter(|insight| keep(insight))
        .map(|insight| insight.id)
        .collect()
}

/// Every scope's list holds exactly the ids of its audit log, sorted by id, each once, with `count` their number;
/// a second account's list is its own.
#[tokio::test]
async fn the_lists_hold_exactly_the_audit_logs_insights() {
    let server = MockServer::start(many().with_accounts(2)).await;
    let second = ScopeId::account(server.account_ids()[1].clone());
    for scope in [MockScope::Account.into(), MockScope::Zone.into(), second] {
        let result = list(&server, &scope, "per_page=1000").await;
        let served = issues(&result);
        assert_eq!(result["count"], json!(40));
        assert_eq!(served, server.insights(&scope), "{scope}");
        let mut expected = server.issue_ids(&scope);
        expected.sort();
        assert_eq!(ids(&served), expected, "{scope}: sorted by id");
        let logged: BTreeSet<String> = server
            .entries(&scope, None)
            .into_iter()
            .map(|entry| entry.issue_id)
            .collect();
        assert_eq!(logged, expected.iter().cloned().collect(), "{scope}");
        for insight in &served {
            let tag = &insight.payload.zone_tag;
            match scope.kind() {
                MockScope::Zone => assert_eq!(tag, scope.id()),
                MockScope::Account => assert!(server.zone_ids().contains(tag), "{tag}"),
            }
        }
    }
    assert_ne!(
        server.insights(MockScope::Account),
        server.insights(ScopeId::account(server.account_ids()[1].clone()))
    );
    server.assert_no_unexpected_requests();
}

/// Checks that each insight agrees with its audit log: status and dismissal from the newest `status` entry,
/// classification from the newest `user_classification` entry, `since` no later than the first entry,
/// `timestamp` the newest entry's time.
fn assert_agrees_with_the_log(server: &MockServer, scope: MockScope) {
    for insight in server.insights(scope) {
        let entries = server.entries(scope, Some(&insight.id));
        let newest = |field: &str| {
            entries
                .iter()
                .rev()
                .find(|entry| entry.field_changed == field)
        };
        let status = newest("status").and_then(|entry| entry.current_value.as_deref());
        let expected = match status {
            Some("resolved") => ("resolved", false),
            Some("dismissed") => ("active", true),
            _ => ("active", false),
        };
        assert_eq!(
            (insight.status.as_str(), insight.dismissed),
            expected,
            "{}: newest status {status:?}",
            insight.id
        );
        assert_eq!(
            insight.user_classification,
            newest("user_classification").and_then(|entry| entry.current_value.clone()),
            "{}",
            insight.id
        );
        let time = |text: &str| DateTime::parse_from_rfc3339(text).expect("RFC 3339");
        if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
            assert!(
                time(&insight.since) <= time(&first.changed_at),
                "{}",
                insight.id
            );
            assert_eq!(insight.timestamp, last.changed_at, "{}", insight.id);
        }
    }
}

/// Status, dismissal, classification, `since` and `timestamp` follow each insight's entries, in both scopes;
/// every audit-log status value occurs, so each branch of the mapping is exercised.
#[tokio::test]
async fn insights_agree_with_their_newest_audit_log_entries() {
    let server = MockServer::start(many()).await;
    for scope in MockScope::ALL {
        assert_agrees_with_the_log(&server, scope);
    }
    let newest: BTreeSet<String> = server
        .insights(MockScope::Account)
        .iter()
        .filter_map(|insight| {
            let entries = server.entries(MockScope::Account, Some(&insight.id));
            let status = entries
                .iter()
                .rev()
                .find(|entry| entry.field_changed == "status");
            status.and_then(|entry| entry.current_value.clone())
        })
        .collect();
    assert_eq!(newest.len(), STATUS_VALUES.len(), "{newest:?}");
    let statuses: BTreeSet<String> = server
        .insights(MockScope::Account)
        .into_iter()
        .map(|insight| insight.status)
        .collect();
    assert_eq!(
        statuses,
        ["active".to_owned(), "resolved".to_owned()].into()
    );
}

/// Entries appended now, and one appended before everything else, move the insights at once: the served list
/// agrees with the grown log, the touched insight's `timestamp` is its new entry's, its `since` no later than
/// the early entry.
#[tokio::test]
async fn appended_entries_keep_the_insights_consistent() {
    let server = MockServer::start(Config::default().with_entries(30)).await;
    let before = list(&server, MockScope::Account, "").await;
    let added = server
        .append_entries(MockScope::Account, 25)
        .expect("appended");
    let early: DateTime<Utc> = "2020-01-01T00:00:00Z".parse().expect("a time");
    let late = server
        .append_entries_at(MockScope::Account, 1, early)
        .expect("appended");
    let after = list(&server, MockScope::Account, "").await;
    assert_ne!(before, after);
    assert_eq!(issues(&after), server.insights(MockScope::Account));
    assert_agrees_with_the_log(&server, MockScope::Account);
    let last = added.last().expect("an entry");
    let touched = server
        .insights(MockScope::Account)
        .into_iter()
        .find(|insight| insight.id == last.issue_id)
        .expect("the insight");
    assert!(touched.timestamp >= last.changed_at);
    let early_one = server
        .insights(MockScope::Account)
        .into_iter()
        .find(|insight| insight.id == late[0].issue_id)
        .expect("the insight");
    assert!(
        early_one.since.as_str() < "2020-01-01T00:00:00.000Z",
        "{}",
        early_one.since
    );
}

/// The zone's whole list as served.
async fn body(server: &MockServer) -> bytes::Bytes {
    let url = server.insights_url(MockScope::Zone);
    send(get(server, &format!("{url}?per_page=1000")))
        .await
        .body
}

/// The same seed serves byte-identical lists; another seed serves other insights.
#[tokio::test]
async fn the_lists_are_deterministic_from_the_seed() {
    let a = MockServer::start(many().with_seed(7)).await;
    let b = MockServer::start(many().with_seed(7)).await;
    let c = MockServer::start(many().with_seed(8)).await;
    assert_eq!(body(&a).await, body(&b).await);
    assert_ne!(body(&a).await, body(&c).await);
}

/// Each list filter keeps the insights whose field is one of its (repeated) values and its `~neq` twin drops
/// them, `product` by the class's product, `severity` lowercase against the capitalised field, `dismissed` by
/// the flag; filters given together all apply. Expectations are computed here from the fields, not by the
/// mock's own matcher, and `expected_insights` agrees with the server.
#[tokio::test]
async fn filters_keep_their_values_and_neq_drops_them() {
    let server = MockServer::start(many()).await;
    let all = server.insights(MockScope::Account);
    let first = &all[0];
    let second = all
        .iter()
        .find(|i| i.subject != first.subject)
        .expect("two subjects");
    let product = first.product().expect("a catalogued class");
    let cases: Vec<(String, Vec<String>, InsightFilters)> = vec![
        (
            "severity=low&severity=critical".into(),
            kept(&server, |i| {
                ["Low", "Critical"].contains(&i.severity.as_str())
            }),
            InsightFilters {
                severity: vec![MockSeverity::Low, MockSeverity::Critical],
                ..InsightFilters::default()
            },
        ),
        (
            "severity~neq=moderate".into(),
            kept(&server, |i| i.severity != "Moderate"),
            InsightFilters {
                severity_neq: vec![MockSeverity::Moderate],
                ..InsightFilters::default()
            },
        ),
        (
            format!("issue_type={}", first.issue_type),
            kept(&server, |i| i.issue_type == first.issue_type),
            InsightFilters {
                issue_type: vec![first.issue_type.clone()],
                ..InsightFilters::default()
            },
        ),
        (
            format!("issue_type%7Eneq={}", first.issue_type),
            kept(&server, |i| i.issue_type != first.issue_type),
            InsightFilters {
                issue_type_neq: vec![first.issue_type.clone()],
                ..InsightFilters::default()
            },
        ),
        (
            format!(
                "issue_class={}&issue_class={}",
                first.issue_class, second.issue_class
            ),
            kept(&server, |i| {
                [&first.issue_class, &second.issue_class].contains(&&i.issue_class)
            }),
            InsightFilters {
                issue_class: vec![first.issue_class.clone(), second.issue_class.clone()],
                ..InsightFilters::default()
            },
        ),
        (
            format!("issue_class~neq={}", first.issue_class),
            kept(&server, |i| i.issue_class != first.issue_class),
            InsightFilters {
                issue_class_neq: vec![first.issue_class.clone()],
                ..InsightFilters::default()
            },
        ),
        (
            format!("product={product}"),
            kept(&server, |i| i.product() == Some(product)),
            InsightFilters {
                product: vec![product.into()],
                ..InsightFilters::default()
            },
        ),
        (
            format!("product~neq={product}"),
            kept(&server, |i| i.product() != Some(product)),
            InsightFilters {
                product_neq: vec![product.into()],
                ..InsightFilters::default()
            },
        ),
        (
            format!("subject={}", first.subject),
            kept(&server, |i| i.subject == first.subject),
            InsightFilters {
                subject: vec![first.subject.clone()],
                ..InsightFilters::default()
            },
        ),
        (
            format!(
                "subject~neq={}&subject~neq={}",
                first.subject, second.subject
            ),
            kept(&server, |i| {
                i.subject != first.subject && i.subject != second.subject
            }),
            InsightFilters {
                subject_neq: vec![first.subject.clone(), second.subject.clone()],
                ..InsightFilters::default()
            },
        ),
        (
            "dismissed=true".into(),
            kept(&server, |i| i.dismissed),
            InsightFilters {
                dismissed: Some(true),
                ..InsightFilters::default()
            },
        ),
        (
            format!("dismissed=false&severity=critical&product~neq={product}"),
            kept(&server, |i| {
                !i.dismissed && i.severity == "Critical" && i.product() != Some(product)
            }),
            InsightFilters {
                dismissed: Some(false),
                severity: vec![MockSeverity::Critical],
                product_neq: vec![product.into()],
                ..InsightFilters::default()
            },
        ),
        (
            format!("severity=low&severity~neq=low&subject={}", first.subject),
            Vec::new(),
            InsightFilters {
                severity: vec![MockSeverity::Low],
                severity_neq: vec![MockSeverity::Low],
                subject: vec![first.subject.clone()],
                ..InsightFilters::default()
            },
        ),
    ];
    for (query, expected, filters) in cases {
        assert!(
            expected.len() < all.len() || query.contains("neq"),
            "{query}: the case filters something"
        );
        let result = list(
            &server,
            MockScope::Account,
            &format!("{query}&per_page=1000"),
        )
        .await;
        assert_eq!(ids(&issues(&result)), expected, "{query}");
        assert_eq!(result["count"], json!(expected.len()), "{query}");
        assert_eq!(
            ids(&server.expected_insights(MockScope::Account, &filters)),
            expected,
            "{query}: expected_insights"
        );
    }
    let dismissed = kept(&server, |i| i.dismissed).len();
    assert!(
        dismissed > 0 && dismissed < all.len(),
        "both kinds occur: {dismissed}"
    );
}

/// Pages split the filtered list in order, `per_page` each from `(page - 1) * per_page`, echoing both, with the
/// count of all; a page past the end is empty and keeps the count; the defaults are page 1 of 25.
#[tokio::test]
async fn pages_split_the_list_by_number() {
    let server = MockServer::start(many()).await;
    let all = ids(&server.insights(MockScope::Account));
    let mut walked = Vec::new();
    for page in 1..=6 {
        let result = list(
            &server,
            MockScope::Account,
            &format!("page={page}&per_page=7"),
        )
        .await;
        assert_eq!(
            (result["page"].clone(), result["per_page"].clone()),
            (json!(page), json!(7))
        );
        assert_eq!(result["count"], json!(40));
        let got = ids(&issues(&result));
        assert_eq!(got.len(), if page < 6 { 7 } else { 5 }, "page {page}");
        walked.extend(got);
    }
    assert_eq!(walked, all);
    let past = list(&server, MockScope::Account, "page=7&per_page=7").await;
    assert_eq!(past["issues"], json!([]));
    assert_eq!(past["count"], json!(40));
    let far = list(
        &server,
        MockScope::Account,
        "page=18446744073709551615&per_page=1000",
    )
    .await;
    assert_eq!(far["issues"], json!([]));
    let default = list(&server, MockScope::Account, "").await;
    assert_eq!(
        (default["page"].clone(), default["per_page"].clone()),
        (json!(1), json!(25))
    );
    assert_eq!(ids(&issues(&default)), all[..25]);
}

/// Bad `per_page`, `page`, `severity`, `issue_type` and `dismissed` values, a comma-joined list and doubled
/// scalars are 400s in Cloudflare's failure envelope; no credentials is a 401, another method a flagged 405, an
/// unknown zone a flagged 404, and a trailing slash no route.
#[tokio::test]
async fn bad_requests_are_refused_in_the_failure_envelope() {
    let server = MockServer::start(Config::default().with_entries(50)).await;
    let url = server.insights_url(MockScope::Account);
    for query in [
        "per_page=0",
        "per_page=1001",
        "per_page=ten",
        "page=0",
        "page=-1",
        "page=1.5",
        "severity=Low",
        "severity=urgent",
        "severity=low,critical",
        "severity~neq=",
        "issue_type=supply_chain_risk",
        "issue_type~neq=Email_Security",
        "dismissed=1",
        "page=1&page=2",
        "per_page=5&per_page=5",
        "dismissed=true&dismissed=true",
    ] {
        let response = get_raw(&server, &url, query).await;
        response.assert_failure(400, codes::INVALID_PARAMETER);
        let message = response.json()["errors"][0]["message"].to_string();
        let name = query.split(['=', '~']).next().expect("a name");
        assert!(message.contains(name), "{query}: {message}");
    }
    for bound in ["per_page=1", "per_page=1000", "page=1"] {
        list(&server, MockScope::Account, bound).await;
    }
    send(reqwest::Client::new().get(&url))
        .await
        .assert_failure(401, codes::AUTHENTICATION_ERROR);
    let token = &server.credentials().api_token;
    send(reqwest::Client::new().post(&url).bearer_auth(token))
        .await
        .assert_failure(405, codes::METHOD_NOT_ALLOWED);
    let stranger = server.insights_url(ScopeId::zone("f".repeat(32)));
    send(get(&server, &stranger))
        .await
        .assert_failure(404, codes::NO_ROUTE);
    send(get(&server, &format!("{url}/")))
        .await
        .assert_failure(404, codes::NO_ROUTE);
    let flagged = server.take_unexpected_requests();
    assert_eq!(flagged.len(), 3, "{flagged:#?}");
}

/// Count-based faults, the emulated rate limit and the journal apply to the insight lists as to the audit logs:
/// a 503 on every second request, `Ratelimit` fields on each answer, each request recorded as sent.
#[tokio::test]
async fn faults_rate_limit_and_journal_apply_to_the_lists() {
    let server = MockServer::start(
        Config::default()
            .with_entries(50)
            .with_fault(Fault::ServerError {
                every: 2,
                status: 503,
            })
            .with_rate_limit(MockRateLimit::new(100, StdDuration::from_secs(60))),
    )
    .await;
    let lists = server.insights_url(MockScope::Zone);
    let log = server.audit_log_url(MockScope::Zone, None);
    let mut statuses = Vec::new();
    for url in [&lists, &lists, &log, &lists, &lists] {
        let response: Resp = get_raw(&server, url, "severity=low&severity=critical").await;
        assert!(response.header("ratelimit").is_some(), "a Ratelimit field");
        statuses.push(response.status);
    }
    assert_eq!(
        statuses,
        [200, 503, 200, 503, 200],
        "one count over every route"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    assert!(
        requests
            .iter()
            .all(|request| { request.query.as_deref() == Some("severity=low&severity=critical") })
    );
    let paths: Vec<bool> = requests
        .iter()
        .map(|request| request.path.ends_with("/security-center/insights"))
        .collect();
    assert_eq!(paths, [true, true, false, true, true]);
}

/// Page `number` of two insights of the first account's list.
async fn page(server: &MockServer, number: u32) -> Value {
    list(
        server,
        MockScope::Account,
        &format!("page={number}&per_page=2"),
    )
    .await
}

/// The canned shapes a walk must not trust: `endless-insights` fills every page, past `count` too, starting
/// over; `repeat-insights-page` serves page 1 as every page; `insights-count-drift` adds one to `count` per
/// answer sent before.
#[tokio::test]
async fn insight_faults_serve_the_shapes_of_an_untrustworthy_server() {
    let endless = MockServer::start(Config::default().with_fault(Fault::EndlessInsights)).await;
    let all = ids(&endless.insights(MockScope::Account));
    assert_eq!(all.len(), 3);
    let second = page(&endless, 2).await;
    assert_eq!(ids(&issues(&second)), [all[2].clone(), all[0].clone()]);
    assert_eq!(second["count"], json!(3));
    let fifth = page(&endless, 5).await;
    assert_eq!(ids(&issues(&fifth)), [all[2].clone(), all[0].clone()]);

    let repeated =
        MockServer::start(Config::default().with_fault(Fault::RepeatedInsightsPage)).await;
    let one = ids(&issues(&page(&repeated, 1).await));
    assert_eq!(one, all[..2]);
    assert_eq!(ids(&issues(&page(&repeated, 2).await)), one);
    assert_eq!(page(&repeated, 2).await["page"], json!(2));

    let drifting = MockServer::start(Config::default().with_fault(Fault::InsightsCountDrift)).await;
    let counts: Vec<Value> = {
        let mut out = Vec::new();
        for number in 1..=3 {
            out.push(page(&drifting, number).await["count"].clone());
        }
        out
    };
    assert_eq!(counts, [json!(3), json!(4), json!(5)]);
    assert_eq!(
        ids(&issues(&page(&drifting, 1).await)),
        all[..2],
        "the insights are the true ones"
    );
}

/// `CannedResponse::insights_page` answers with upstream's envelope around the insights given, verbatim.
#[tokio::test]
async fn canned_insight_pages_are_served_verbatim() {
    let odd = json!({ "id": "x", "severity": "Urgent", "extra": [1] });
    let server = MockServer::start(
        Config::default()
            .with_entries(5)
            .with_script([CannedResponse::insights_page(vec![odd.clone()], 9, 4, 1)]),
    )
    .await;
    let result = list(&server, MockScope::Account, "page=4&per_page=1").await;
    assert_eq!(
        result,
        json!({ "count": 9, "issues": [odd], "page": 4, "per_page": 1 })
    );
    let normal = list(&server, MockScope::Account, "").await;
    assert_eq!(normal["count"], json!(3));
}

/// By default every value is one upstream's schema lists; with the knob, the insight with the lowest id carries
/// a severity, type, status and classification a client does not know, which `severity` filters leave out and
/// `severity~neq` keeps, while the other insights stay as they were.
#[tokio::test]
async fn the_unknown_values_knob_gives_one_insight_unknown_values() {
    let plain = MockServer::start(many()).await;
    for insight in plain
        .insights(MockScope::Account)
        .iter()
        .chain(&plain.insights(MockScope::Zone))
    {
        assert!(["Low", "Moderate", "Critical"].contains(&insight.severity.as_str()));
        assert!(ISSUE_TYPES.contains(&insight.issue_type.as_str()));
        assert!(["active", "resolved"].contains(&insight.status.as_str()));
        assert!(
            insight.user_classification.as_deref().is_none_or(|value| [
                "false_positive",
                "accept_risk",
                "other"
            ]
            .contains(&value))
        );
    }
    let odd = MockServer::start(many().with_unknown_insight_values(true)).await;
    let (plain_list, odd_list) = (
        plain.insights(MockScope::Zone),
        odd.insights(MockScope::Zone),
    );
    assert_eq!(odd_list[1..], plain_list[1..]);
    let first = &odd_list[0];
    assert_eq!(
        (
            first.severity.as_str(),
            first.issue_type.as_str(),
            first.status.as_str(),
            first.user_classification.as_deref()
        ),
        (
            UNKNOWN_SEVERITY,
            UNKNOWN_ISSUE_TYPE,
            UNKNOWN_STATUS,
            Some(UNKNOWN_CLASSIFICATION)
        )
    );
    assert_eq!(first.severity, "Urgent");
    let known = list(
        &odd,
        MockScope::Zone,
        "severity=low&severity=moderate&severity=critical&per_page=1000",
    )
    .await;
    assert_eq!(ids(&issues(&known)), ids(&odd_list[1..]));
    let not_low = list(&odd, MockScope::Zone, "severity~neq=low&per_page=1000").await;
    assert!(ids(&issues(&not_low)).contains(&first.id));
}

/// A comma-free repeated-key query from a real client (reqwest's `query` with repeated pairs) is read as a list.
#[tokio::test]
async fn repeated_pairs_from_a_client_are_read_as_lists() {
    let server = MockServer::start(many()).await;
    let response = send(
        get(&server, &server.insights_url(MockScope::Account)).query(&[
            ("severity", "low"),
            ("severity", "critical"),
            ("per_page", "1000"),
        ]),
    )
    .await;
    let got = ids(&issues(&response.json()["result"]));
    assert_eq!(got, kept(&server, |i| i.severity != "Moderate"));
    assert!(!got.is_empty());
}

/// `since` is a strict RFC 3339 time in UTC with milliseconds, and no insight is seen more than 30 days before
/// its first entry.
#[tokio::test]
async fn since_precedes_the_first_entry_by_at_most_thirty_days() {
    let server = MockServer::start(many()).await;
    for insight in server.insights(MockScope::Zone) {
        let since: DateTime<Utc> = insight.since.parse().expect("RFC 3339");
        assert!(
            insight.since.ends_with('Z') && insight.since.len() == 24,
            "{}",
            insight.since
        );
        let first = &server.entries(MockScope::Zone, Some(&insight.id))[0];
        let first: DateTime<Utc> = first.changed_at.parse().expect("RFC 3339");
        assert!(
            first - since <= Duration::days(30) && first > since,
            "{}",
            insight.id
        );
    }
}
