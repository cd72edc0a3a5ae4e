//! Many accounts and zones: each served id has its own insights and entries, the first ones are the documented
//! ids, and an id that is not served is a 404 everywhere, accessors included.

use std::collections::HashSet;

use mock_server::{
    ACCOUNT_ID, AppendError, Config, MockScope, MockServer, ScopeId, ZONE_ID, ZONE_NUMERIC_ID,
    codes,
};

use crate::support::{get, get_raw, page, send, walk};

fn is_hex32(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Five accounts and four zones: the documented ids first, every id distinct, and every scope walks to its own
/// entries, over its own insights, with its own zone number.
#[tokio::test]
async fn many_scopes_serve_distinct_data_under_their_own_ids() {
    let server = MockServer::start(
        Config::default()
            .with_accounts(5)
            .with_zones(4)
            .with_entries(60),
    )
    .await;
    let accounts = server.account_ids();
    let zones = server.zone_ids();
    assert_eq!((accounts.len(), zones.len()), (5, 4));
    assert_eq!(
        (accounts[0].as_str(), zones[0].as_str()),
        (ACCOUNT_ID, ZONE_ID)
    );
    let ids: HashSet<&String> = accounts.iter().chain(&zones).collect();
    assert_eq!(ids.len(), 9);
    assert!(ids.iter().all(|id| is_hex32(id)), "{ids:?}");
    assert_eq!(server.scopes().len(), 9);
    assert_eq!(server.scopes()[5], ScopeId::zone(ZONE_ID));

    let mut all_issues = HashSet::new();
    let mut all_entries = HashSet::new();
    for (k, scope) in server.scopes().into_iter().enumerate() {
        let issues = server.issue_ids(&scope);
        assert_eq!(issues.len(), 3);
        assert!(
            issues.iter().all(|index| all_issues.insert(index.clone())),
            "{scope}"
        );
        let (got, _) = walk(
            &server,
            &scope,
            None,
            &[("order", "asc"), ("per_page", "25")],
        )
        .await;
        assert_eq!(got.len(), 60, "{scope}");
        assert_eq!(got, server.entries(&scope, None), "{scope}");
        assert_eq!(server.entry_count(&scope, None), 60);
        let zone_number = match scope.kind() {
            MockScope::Account => None,
            MockScope::Zone => Some(ZONE_NUMERIC_ID + (k - 5) as i64),
        };
        assert_eq!(server.zone_numeric_id(scope.id()), zone_number);
        for error in &got {
            assert!(
                issues.contains(&error.issue_id),
                "{scope}: {}",
                error.issue_id
            );
            assert_eq!(error.zone_id, zone_number, "{scope}");
            assert!(
                all_entries.insert(error.id.clone()),
                "{scope}: {} twice",
                error.id
            );
        }
        let issue = &issues[2];
        let (mine, _) = walk(&server, &scope, Some(issue), &[("per_page", "1000")]).await;
        assert!(!mine.is_empty() && mine.iter().all(|error| &error.issue_id == issue));
    }
    // The first account and zone serve what a one-scope server serves.
    let single = MockServer::start(Config::default().with_entries(60)).await;
    for scope in MockScope::ALL {
        assert_eq!(single.entries(scope, None), server.entries(scope, None));
        assert_eq!(single.issue_ids(scope), server.issue_ids(scope));
    }
    assert_eq!(single.account_ids(), [ACCOUNT_ID]);
    assert_eq!(single.zone_ids(), [ZONE_ID]);
}

/// The extra ids and their data come from the seed: the same seed serves the same ids and bytes, another seed
/// other ids.
#[tokio::test]
async fn extra_scope_ids_and_data_follow_the_seed() {
    let config = |seed| {
        Config::default()
            .with_accounts(3)
            .with_zones(3)
            .with_entries(40)
            .with_seed(seed)
    };
    let a = MockServer::start(config(5)).await;
    let b = MockServer::start(config(5)).await;
    let c = MockServer::start(config(6)).await;
    assert_eq!(a.scopes(), b.scopes());
    assert_eq!(c.account_ids()[0], ACCOUNT_ID);
    assert_ne!(a.account_ids()[1], c.account_ids()[1]);
    assert_ne!(a.zone_ids()[2], c.zone_ids()[2]);
    let zone = ScopeId::zone(a.zone_ids()[2].clone());
    let page_a = get_raw(&a, &a.audit_log_url(&zone, None), "per_page=10&order=asc").await;
    let page_b = get_raw(&b, &b.audit_log_url(&zone, None), "per_page=10&order=asc").await;
    assert_eq!(page_a.body, page_b.body);
}

/// An account or zone id that is not served is a 404 that is flagged, even when a bigger server with the same
/// seed serves it or the other kind has it; the accessors answer empty for it and appending to it is an error.
#[tokio::test]
async fn ids_not_served_are_404_and_empty_to_the_accessors() {
    let big = MockServer::start(Config::default().with_accounts(4).with_entries(5)).await;
    let server = MockServer::start(
        Config::default()
            .with_accounts(2)
            .with_zones(2)
            .with_entries(5),
    )
    .await;
    let beyond = ScopeId::account(big.account_ids()[3].clone());
    let swapped = ScopeId::zone(server.account_ids()[1].clone());
    for scope in [
        beyond.clone(),
        swapped.clone(),
        ScopeId::account("f".repeat(32)),
        ScopeId::zone("nope"),
    ] {
        send(get(&server, &server.audit_log_url(&scope, None)))
            .await
            .assert_failure(404, codes::NO_ROUTE);
        assert!(server.issue_ids(&scope).is_empty());
        assert_eq!(server.entry_count(&scope, None), 0);
        assert!(server.entries(&scope, None).is_empty());
        assert_eq!(
            server.append_entries(&scope, 1),
            Err(AppendError::UnknownScope(scope.clone()))
        );
    }
    assert_eq!(server.zone_numeric_id(swapped.id()), None);
    let flagged = server.take_unexpected_requests();
    assert_eq!(flagged.len(), 4);
    assert!(
        flagged[0]
            .unexpected
            .as_deref()
            .is_some_and(|why| why.contains("unknown accounts id")),
        "{flagged:?}"
    );
    // An insight of one scope is unknown to another of the same kind: 404, but a legitimate request.
    let other = ScopeId::account(server.account_ids()[1].clone());
    let issue = server.issue_ids(MockScope::Account)[0].clone();
    send(get(&server, &server.audit_log_url(&other, Some(&issue))))
        .await
        .assert_failure(404, codes::NOT_FOUND);
    server.assert_no_unexpected_requests();
}

/// A cursor from one account's walk is refused on another account's walk with the same filters.
#[tokio::test]
async fn a_cursor_from_one_scope_is_refused_on_another() {
    let server = MockServer::start(Config::default().with_accounts(2).with_entries(30)).await;
    let first = ScopeId::account(server.account_ids()[0].clone());
    let second = ScopeId::account(server.account_ids()[1].clone());
    let params = [("per_page", "10")];
    let (_, cursor) = page(&server, &server.audit_log_url(&first, None), &params, None).await;
    let cursor = cursor.expect("more pages");
    let response = send(
        get(&server, &server.audit_log_url(&second, None))
            .query(&[("per_page", "10"), ("cursor", cursor.as_str())]),
    )
    .await;
    response.assert_failure(400, codes::INVALID_PARAMETER);
}

/// Hundreds of scopes with thousands of entries each start at once, since only the scopes that are used get
/// generated, and the last zone serves its entries like the first.
#[tokio::test]
async fn hundreds_of_scopes_with_thousands_of_entries_serve_on_first_use() {
    let server = MockServer::start(
        Config::default()
            .with_accounts(300)
            .with_zones(300)
            .with_entries(5000),
    )
    .await;
    let last = ScopeId::zone(server.zone_ids()[299].clone());
    let (got, next) = page(
        &server,
        &server.audit_log_url(&last, None),
        &[("per_page", "1000"), ("order", "asc")],
        None,
    )
    .await;
    assert_eq!(got.len(), 1000);
    assert!(next.is_some());
    assert_eq!(got[..], server.entries(&last, None)[..1000]);
    assert_eq!(server.entry_count(&last, None), 5000);
    assert!(
        got.iter()
            .all(|error| error.zone_id == Some(ZONE_NUMERIC_ID + 299))
    );
}
