//! Cursor paging walks the whole selection exactly once, in order, for any page size; filters and order are
//! honoured; the envelope has the spec's shape.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use mock_server::{
    Config, Filters, MockAuditLogEntry, MockFieldChanged, MockOrder, MockScope, MockServer,
};
use serde_json::Value;

use crate::support::{get, get_raw, send, walk};

/// A predicate that says which entries a filter keeps.
type Keep<'a> = Box<dyn Fn(&MockAuditLogEntry) -> bool + 'a>;

fn time(error: &MockAuditLogEntry) -> DateTime<Utc> {
    error.changed_at.parse().expect("changed_at is RFC 3339")
}

/// For several page sizes, both orders, both scopes, an insight and the whole scope: every entry once, in order,
/// full pages except the last, and the last page has no cursor.
#[tokio::test]
async fn every_page_size_walks_the_full_set_exactly_once_in_order() {
    let server = MockServer::start(
        Config::default()
            .with_entries(1234)
            .with_insights_per_scope(3),
    )
    .await;
    for scope in MockScope::ALL {
        let issue = server.issue_ids(scope)[1].clone();
        for issue in [None, Some(issue.as_str())] {
            let oldest_first = server.entries(scope, issue);
            assert!(
                oldest_first.len() > 300,
                "an insight holds about a third of 1234"
            );
            for per_page in ["1", "7", "25", "333", "1000"] {
                let count: usize = per_page.parse().unwrap();
                for (order, reversed) in [("asc", false), ("desc", true)] {
                    let (got, sizes) = walk(
                        &server,
                        scope,
                        issue,
                        &[("per_page", per_page), ("order", order)],
                    )
                    .await;
                    let mut expected = oldest_first.clone();
                    if reversed {
                        expected.reverse();
                    }
                    assert_eq!(
                        got, expected,
                        "{scope:?} {issue:?} per_page={per_page} order={order}"
                    );
                    assert_eq!(sizes.len(), expected.len().div_ceil(count));
                    assert!(sizes[..sizes.len() - 1].iter().all(|size| *size == count));
                    let ids: HashSet<&str> = got.iter().map(|error| error.id.as_str()).collect();
                    assert_eq!(ids.len(), got.len(), "no entry twice");
                }
            }
        }
    }
}

/// Without parameters: newest first, 25 per page, and `result_info.per_page` echoes the default.
#[tokio::test]
async fn defaults_are_newest_first_and_25_per_page() {
    let server = MockServer::start(Config::default().with_entries(60)).await;
    let value = send(get(
        &server,
        &server.audit_log_url(MockScope::Account, None),
    ))
    .await
    .json();
    let page: Vec<MockAuditLogEntry> = serde_json::from_value(value["result"].clone()).unwrap();
    let all = server.entries(MockScope::Account, None);
    let newest: Vec<MockAuditLogEntry> = all.iter().rev().take(25).cloned().collect();
    assert_eq!(page, newest);
    assert_eq!(value["result_info"]["per_page"], 25);
    assert_eq!(value["result_info"]["count"], 25);
    let (walked, _) = walk(&server, MockScope::Account, None, &[]).await;
    assert_eq!(walked.len(), 60);
    assert!(
        walked
            .windows(2)
            .all(|pair| pair[0].changed_at > pair[1].changed_at)
    );
}

/// since is inclusive, before exclusive (at the exact timestamp of an entry), field_changed and changed_by match
/// exactly; the expectation is computed here from the raw data, independently of the server's own filter.
#[tokio::test]
async fn filters_select_exactly_the_matching_entries() {
    let server = MockServer::start(Config::default().with_entries(900)).await;
    for scope in MockScope::ALL {
        let all = server.entries(scope, None);
        let since = all[100].changed_at.clone();
        let before = all[700].changed_at.clone();
        let cases: Vec<(Vec<(&str, &str)>, Keep<'_>)> = vec![
            (
                vec![("since", &since)],
                Box::new(|error: &MockAuditLogEntry| error.changed_at >= since),
            ),
            (
                vec![("before", &before)],
                Box::new(|error: &MockAuditLogEntry| error.changed_at < before),
            ),
            (
                vec![("field_changed", "status")],
                Box::new(|error: &MockAuditLogEntry| error.field_changed == "status"),
            ),
            (
                vec![("field_changed", "user_classification")],
                Box::new(|error: &MockAuditLogEntry| error.field_changed == "user_classification"),
            ),
            (
                vec![("changed_by", "system")],
                Box::new(|error: &MockAuditLogEntry| error.changed_by == "system"),
            ),
            (
                vec![("changed_by", "d.okafor+secops@example.com")],
                Box::new(|error: &MockAuditLogEntry| {
                    error.changed_by == "d.okafor+secops@example.com"
                }),
            ),
            (
                vec![("changed_by", "nobody@example.com")],
                Box::new(|_: &MockAuditLogEntry| false),
            ),
            (
                vec![
                    ("since", &since),
                    ("before", &before),
                    ("field_changed", "status"),
                    ("changed_by", "system"),
                ],
                Box::new(|error: &MockAuditLogEntry| {
                    error.changed_at >= since
                        && error.changed_at < before
                        && error.field_changed == "status"
                        && error.changed_by == "system"
                }),
            ),
            (
                vec![("since", &before), ("before", &since)],
                Box::new(|_: &MockAuditLogEntry| false),
            ),
        ];
        for (params, keep) in &cases {
            let expected: Vec<MockAuditLogEntry> =
                all.iter().filter(|error| keep(error)).cloned().collect();
            let mut query = params.clone();
            query.extend([("order", "asc"), ("per_page", "50")]);
            let (got, _) = walk(&server, scope, None, &query).await;
            assert_eq!(got, expected, "{scope:?} {params:?}");
            // The default (newest-first) walk is the same set reversed.
            query.retain(|(k, _)| *k != "order");
            let (desc, _) = walk(&server, scope, None, &query).await;
            assert_eq!(
                desc,
                expected.iter().rev().cloned().collect::<Vec<_>>(),
                "{scope:?} {params:?} desc"
            );
        }
        // Boundaries: the entry at `since` is in, the entry at `before` is out.
        let (got, _) = walk(
            &server,
            scope,
            None,
            &[("since", &since), ("before", &before), ("order", "asc")],
        )
        .await;
        assert_eq!(got.first(), Some(&all[100]));
        assert_eq!(got.last(), Some(&all[699]));
    }
}

/// The server's own expectation helper agrees with what a filtered walk of an insight returns.
#[tokio::test]
async fn expected_entries_matches_a_filtered_walk() {
    let server = MockServer::start(Config::default().with_entries(500)).await;
    let issue = server.issue_ids(MockScope::Zone)[2].clone();
    let all = server.entries(MockScope::Zone, Some(&issue));
    let since: DateTime<Utc> = time(&all[10]);
    let filters = Filters {
        since: Some(since),
        field_changed: Some(MockFieldChanged::UserClassification),
        order: MockOrder::Desc,
        ..Filters::default()
    };
    let since_text = since.to_rfc3339();
    let (got, _) = walk(
        &server,
        MockScope::Zone,
        Some(&issue),
        &[
            ("since", &since_text),
            ("field_changed", "user_classification"),
            ("per_page", "9"),
        ],
    )
    .await;
    assert!(!got.is_empty());
    assert_eq!(
        got,
        server.expected_entries(MockScope::Zone, Some(&issue), &filters)
    );
    assert_eq!(server.entry_count(MockScope::Zone, Some(&issue)), all.len());
    assert!(
        server
            .expected_entries(MockScope::Zone, Some("nope"), &filters)
            .is_empty()
    );
}

/// An empty selection is one page with an empty result and no cursor.
#[tokio::test]
async fn empty_selection_is_one_page_without_cursor() {
    let server = MockServer::start(Config::default().with_entries(50).with_zone_entries(0)).await;
    let response = get_raw(
        &server,
        &server.audit_log_url(MockScope::Zone, None),
        "per_page=1000",
    )
    .await;
    assert_eq!(
        response.json(),
        serde_json::json!({"success":true,"errors":[],"messages":[],"result":[],
                           "result_info":{"count":0,"per_page":1000}})
    );
    let response = get_raw(
        &server,
        &server.audit_log_url(MockScope::Account, None),
        "changed_by=nobody",
    )
    .await;
    assert_eq!(response.json()["result"], serde_json::json!([]));
    assert!(response.json()["result_info"].get("cursor").is_none());
}

/// The success envelope has exactly the spec's keys, the cursor is a non-empty string until the last page, and
/// responses carry JSON content type and a cf-ray header.
#[tokio::test]
async fn success_envelope_has_the_spec_shape() {
    let server = MockServer::start(Config::default().with_entries(30)).await;
    let response = get_raw(
        &server,
        &server.audit_log_url(MockScope::Account, None),
        "per_page=20",
    )
    .await;
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert!(
        response
            .header("cf-ray")
            .is_some_and(|value| value.ends_with("-MCK"))
    );
    let value = response.json();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5);
    for k in ["success", "errors", "messages", "result", "result_info"] {
        assert!(keys.contains(&k), "{k}");
    }
    assert_eq!(value["success"], true);
    assert_eq!(value["errors"], serde_json::json!([]));
    let cursor = value["result_info"]["cursor"].as_str().unwrap();
    assert!(!cursor.is_empty());
    let last = send(
        get(&server, &server.audit_log_url(MockScope::Account, None))
            .query(&[("per_page", "20"), ("cursor", cursor)]),
    )
    .await
    .json();
    assert_eq!(
        last["result_info"],
        serde_json::json!({"count":10,"per_page":20})
    );
    assert_eq!(last["result"].as_array().map(Vec::len), Some(10));
    assert!(matches!(last["result"][0], Value::Object(_)));
}
