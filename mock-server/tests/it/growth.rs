//! A growing log: entries added while the server runs (by the growth rate or by a test) look like generated ones,
//! are served at once in their place in the order by (changed_at, id), and walks started before they were added
//! see each of them exactly once, or, when they were added behind the walk's position, not at all.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use mock_server::{
    ACTORS, AppendError, CLASSIFICATION_VALUES, Config, Filters, MockAuditLogEntry, MockOrder,
    MockScope, MockServer, STATUS_VALUES, ScopeId,
};

use crate::support::{page, walk};

/// Query parameters of a walk.
type Params<'a> = Vec<(&'a str, &'a str)>;

fn time(error: &MockAuditLogEntry) -> DateTime<Utc> {
    error.changed_at.parse().expect("changed_at is RFC 3339")
}

/// The wire form of a time, as entries carry it.
fn wire(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Asserts the shape the generator gives its entries: a UUIDv7 stamped `changed_at`, known enum values and
/// actors, an insight of the scope, and the zone number on zone entries only.
#[track_caller]
fn assert_like_generated(server: &MockServer, scope: &ScopeId, error: &MockAuditLogEntry) {
    let hex: String = error.id.split('-').take(2).collect();
    let millis = i64::from_str_radix(&hex, 16).expect("hex id");
    assert_eq!(millis, time(error).timestamp_millis(), "{error:?}");
    assert_eq!(&error.id[14..15], "7", "version 7: {}", error.id);
    assert!(
        matches!(&error.id[19..20], "8" | "9" | "a" | "b"),
        "{}",
        error.id
    );
    assert!(error.changed_at.ends_with('Z') && error.changed_at.len() == 24);
    let allowed = match error.field_changed.as_str() {
        "status" => STATUS_VALUES,
        "user_classification" => CLASSIFICATION_VALUES,
        other => panic!("field_changed {other}"),
    };
    for value in [&error.current_value, &error.previous_value]
        .into_iter()
        .flatten()
    {
        assert!(allowed.contains(&value.as_str()), "{value}");
    }
    assert!(ACTORS.contains(&error.changed_by.as_str()));
    assert!(server.issue_ids(scope).contains(&error.issue_id));
    assert_eq!(error.zone_id, server.zone_numeric_id(scope.id()));
}

/// Entries appended now look like generated ones, over every insight, with increasing ids; they are the newest
/// entries, first of a default walk and last of an ascending walk with since.
#[tokio::test]
async fn appended_entries_look_like_generated_ones_and_come_last() {
    let server = MockServer::start(Config::default().with_entries(40)).await;
    let zone = ScopeId::from(MockScope::Zone);
    let before = server.entries(&zone, None);
    let added = server.append_entries(&zone, 30).expect("appended");
    assert_eq!(added.len(), 30);
    assert!(added.windows(2).all(|pair| pair[0].id < pair[1].id));
    let issues: HashSet<&str> = added.iter().map(|error| error.issue_id.as_str()).collect();
    assert_eq!(issues.len(), 3, "spread over the insights");
    let now = Utc::now();
    for error in &added {
        assert_like_generated(&server, &zone, error);
        assert!(
            (now - time(error)).abs() < TimeDelta::seconds(5),
            "{}",
            error.changed_at
        );
    }
    assert_eq!(server.entry_count(&zone, None), 70);
    let mut expected = before.clone();
    expected.extend(added.iter().cloned());
    assert_eq!(server.entries(&zone, None), expected);

    let since = before[35].changed_at.clone();
    let (got, _) = walk(
        &server,
        &zone,
        None,
        &[("since", &since), ("order", "asc"), ("per_page", "4")],
    )
    .await;
    assert_eq!(got[..5], before[35..]);
    assert_eq!(got[5..], added[..]);
    let (newest, _) = page(
        &server,
        &server.audit_log_url(&zone, None),
        &[("per_page", "3")],
        None,
    )
    .await;
    assert_eq!(
        newest,
        [added[29].clone(), added[28].clone(), added[27].clone()]
    );
    let issue = &added[0].issue_id;
    let mine: Vec<MockAuditLogEntry> = expected
        .iter()
        .filter(|error| &error.issue_id == issue)
        .cloned()
        .collect();
    assert_eq!(server.entries(&zone, Some(issue)), mine);
    assert_eq!(server.entry_count(&zone, Some(issue)), mine.len());
}

/// A walk (whole scope, filtered, since, one insight) that started before entries were appended, twice, finds
/// them at its end, each exactly once, after everything it would have seen anyway.
#[tokio::test]
async fn a_walk_started_before_appends_sees_them_at_its_end_exactly_once() {
    let server = MockServer::start(Config::default().with_entries(100)).await;
    let scope = ScopeId::from(MockScope::Account);
    let since = server.entries(&scope, None)[10].changed_at.clone();
    let issue = server.issue_ids(&scope)[1].clone();
    let cases: Vec<(Option<&str>, Params<'_>, Filters)> = vec![
        (None, vec![], Filters::default()),
        (
            None,
            vec![("field_changed", "status")],
            Filters {
                field_changed: Some(mock_server::MockFieldChanged::Status),
                ..Filters::default()
            },
        ),
        (
            None,
            vec![("since", &since)],
            Filters {
                since: Some(since.parse().unwrap()),
                ..Filters::default()
            },
        ),
        (Some(&issue), vec![], Filters::default()),
    ];
    for (issue, params, filters) in cases {
        let asc = Filters {
            order: MockOrder::Asc,
            ..filters
        };
        let url = server.audit_log_url(&scope, issue);
        let mut query = params.clone();
        query.extend([("order", "asc"), ("per_page", "7")]);
        let at_start = server.expected_entries(&scope, issue, &asc);
        let (mut got, mut cursor) = page(&server, &url, &query, None).await;
        let first = server.append_entries(&scope, 12).unwrap();
        let mut pages = 1;
        while let Some(c) = cursor {
            let (more, next) = page(&server, &url, &query, Some(&c)).await;
            got.extend(more);
            cursor = next;
            pages += 1;
            if pages == 3 {
                server.append_entries(&scope, 9).unwrap();
            }
        }
        let expected = server.expected_entries(&scope, issue, &asc);
        assert_eq!(got, expected, "{issue:?} {params:?}");
        assert_eq!(got[..at_start.len()], at_start[..], "{issue:?} {params:?}");
        assert!(
            expected.len() > at_start.len(),
            "{issue:?} {params:?}: some appended entries match"
        );
        let ids: HashSet<&str> = got.iter().map(|error| error.id.as_str()).collect();
        assert_eq!(ids.len(), got.len(), "no entry twice");
        if issue.is_none() && params.is_empty() {
            assert_eq!(got[100..112], first[..]);
            assert_eq!(got.len(), 121);
        }
    }
}

/// A newest-first walk that started before entries were appended goes on down from where it was: no entry
/// twice, none missed, and the newer entries are left to the next walk.
#[tokio::test]
async fn a_descending_walk_started_before_appends_goes_on_without_repeats() {
    let server = MockServer::start(Config::default().with_entries(50)).await;
    let url = server.audit_log_url(MockScope::Account, None);
    let at_start = server.expected_entries(MockScope::Account, None, &Filters::default());
    let query = [("per_page", "8")];
    let (mut got, mut cursor) = page(&server, &url, &query, None).await;
    server.append_entries(MockScope::Account, 5).unwrap();
    while let Some(c) = cursor {
        let (more, next) = page(&server, &url, &query, Some(&c)).await;
        got.extend(more);
        cursor = next;
    }
    assert_eq!(got, at_start);
    let (fresh, _) = walk(&server, MockScope::Account, None, &[("per_page", "8")]).await;
    assert_eq!(fresh.len(), 55);
    assert_eq!(fresh[5..], at_start[..]);
}

/// Entries appended with one timestamp, in two batches while a walk's cursor sits inside the first batch, are
/// all returned: ordered by id, the later batch after the earlier one, and all of them to a fresh walk.
#[tokio::test]
async fn entries_appended_with_the_same_timestamp_are_all_returned() {
    let server = MockServer::start(Config::default().with_entries(20)).await;
    let zone = ScopeId::from(MockScope::Zone);
    let t = DateTime::from_timestamp_millis(Utc::now().timestamp_millis() + 1000).unwrap();
    let first = server.append_entries_at(&zone, 4, t).unwrap();
    let url = server.audit_log_url(&zone, None);
    let since = wire(t);
    let query = [
        ("since", since.as_str()),
        ("order", "asc"),
        ("per_page", "3"),
    ];
    let (mut got, cursor) = page(&server, &url, &query, None).await;
    assert_eq!(got, first[..3]);
    let second = server.append_entries_at(&zone, 5, t).unwrap();
    let mut cursor = cursor;
    while let Some(c) = cursor {
        let (more, next) = page(&server, &url, &query, Some(&c)).await;
        got.extend(more);
        cursor = next;
    }
    let all: Vec<MockAuditLogEntry> = first.iter().chain(&second).cloned().collect();
    assert_eq!(got, all);
    assert!(all.iter().all(|error| error.changed_at == since));
    assert!(all.windows(2).all(|pair| pair[0].id < pair[1].id));
    let until = wire(t + TimeDelta::milliseconds(1));
    let (fresh, _) = walk(
        &server,
        &zone,
        None,
        &[("since", &since), ("before", &until), ("per_page", "2")],
    )
    .await;
    assert_eq!(fresh, all.iter().rev().cloned().collect::<Vec<_>>());
    let filters = Filters {
        since: Some(t),
        order: MockOrder::Asc,
        ..Filters::default()
    };
    assert_eq!(server.expected_entries(&zone, None, &filters), all);
}

/// A late entry, stamped between two existing ones, takes its place inside the log: fresh walks and cached
/// filtered walks see it there, and a walk whose cursor was already past it goes on without it and without
/// repeating anything.
#[tokio::test]
async fn a_late_entry_takes_its_place_inside_the_log() {
    let server = MockServer::start(Config::default().with_entries(50)).await;
    let scope = ScopeId::from(MockScope::Account);
    let entries = server.entries(&scope, None);
    let since = entries[10].changed_at.clone();
    let query = [
        ("since", since.as_str()),
        ("order", "asc"),
        ("per_page", "25"),
    ];
    let url = server.audit_log_url(&scope, None);
    // Caches the filtered selection, and leaves a cursor past entry 20.
    let (seen, cursor) = page(&server, &url, &query, None).await;
    assert_eq!(seen, entries[10..35]);

    let (a, b) = (time(&entries[20]), time(&entries[21]));
    let late_at = a + (b - a) / 2;
    let late = server
        .append_entries_at(&scope, 1, late_at)
        .unwrap()
        .remove(0);
    assert!(late.changed_at >= entries[20].changed_at && late.changed_at <= entries[21].changed_at);
    assert!(late.id > entries[20].id && late.id < entries[21].id);

    let now = server.entries(&scope, None);
    assert_eq!(now.len(), 51);
    assert_eq!(now[21], late);
    let (fresh, _) = walk(&server, &scope, None, &query).await;
    assert_eq!(fresh, now[10..]);
    let (rest, next) = page(&server, &url, &query, cursor.as_deref()).await;
    assert_eq!(rest, entries[35..]);
    assert!(next.is_none());
}

/// With a growth rate, every scope gains entries stamped with the time they were added, while the server runs;
/// an ascending walk with since from before the start finds only them, and a walk started early goes on to the
/// entries added while it ran.
#[tokio::test]
async fn growth_adds_entries_to_every_scope_while_the_server_runs() {
    let started = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let server = MockServer::start(
        Config::default()
            .with_accounts(2)
            .with_zones(2)
            .with_entries(5)
            .with_growth(40.0),
    )
    .await;
    let account = ScopeId::from(MockScope::Account);
    let url = server.audit_log_url(&account, None);
    let since = wire(started);
    let query = [
        ("since", since.as_str()),
        ("order", "asc"),
        ("per_page", "2"),
    ];
    // 40 per second: wait (bounded) until `count` entries were added.
    let grown_to = async |count: usize| {
        for _ in 0..200 {
            if server.entry_count(&account, None) >= 5 + count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("fewer than {count} entries added in 5 s");
    };
    grown_to(3).await;
    let (mut got, mut cursor) = page(&server, &url, &query, None).await;
    assert_eq!(got.len(), 2);
    assert!(cursor.is_some(), "a third entry is there");
    grown_to(15).await;
    while let Some(c) = cursor {
        let (more, next) = page(&server, &url, &query, Some(&c)).await;
        got.extend(more);
        cursor = next;
    }
    assert!(got.len() >= 15, "{}", got.len());
    let now = Utc::now();
    for error in &got {
        assert_like_generated(&server, &account, error);
        assert!(
            time(error) >= started && time(error) <= now,
            "{} not in {started}..{now}",
            error.changed_at
        );
    }
    let everything = server.entries(&account, None);
    assert_eq!(got[..], everything[5..5 + got.len()]);
    assert!(got.windows(2).all(|pair| pair[0].id < pair[1].id));
    for scope in server.scopes() {
        assert!(server.entry_count(&scope, None) > 5, "{scope} did not grow");
    }
}

/// Appending refuses a time an entry cannot carry, with a message that says so, and appends nothing.
#[tokio::test]
async fn append_refuses_times_an_entry_cannot_carry() {
    let server = MockServer::start(Config::default().with_entries(5)).await;
    let t = DateTime::from_timestamp(-1, 0).unwrap();
    let error = server
        .append_entries_at(MockScope::Account, 3, t)
        .unwrap_err();
    assert_eq!(error, AppendError::TimeOutOfRange(t));
    assert!(
        error.to_string().contains("1969-12-31T23:59:59Z"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("outside what an entry can carry"),
        "{error}"
    );
    assert_eq!(server.entry_count(MockScope::Account, None), 5);
    assert_eq!(server.append_entries(MockScope::Account, 0), Ok(Vec::new()));
    let unknown = server
        .append_entries(ScopeId::zone("0".repeat(32)), 1)
        .unwrap_err();
    assert!(unknown.to_string().contains("zones/000"), "{unknown}");
}
