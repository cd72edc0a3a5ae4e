//! Walking pages: exactly the served entries, in order, once each; loops, ends, resume, limits.
//! Every scenario runs over clear HTTP/1.1 and over TLS with HTTP/2.

use std::time::Duration;

use cloudflare_security_center::{Error, Order, Scope};
use mock_server::{ACCOUNT_ID, Config, Fault, Filters, MockOrder, MockScope, MockServer, ZONE_ID};

use crate::support::{Transport, client, server_over};

fn ids<T: ToString>(entries: impl IntoIterator<Item = T>) -> Vec<String> {
    entries.into_iter().map(|id| id.to_string()).collect()
}

async fn big_server(transport: Transport) -> MockServer {
    server_over(
        transport,
        Config::default()
            .with_entries(1000)
            .with_insights_per_scope(2),
    )
    .await
}

/// One insight walked at 7 per page, newest first: the item stream equals the served
/// set exactly (ids and order), and every request carried the same filters.
#[tokio::test]
async fn item_stream_equals_the_served_set_across_many_pages() {
    for transport in Transport::ALL {
        let server = big_server(transport).await;
        let issue = server.issue_ids(MockScope::Zone)[1].clone();
        let expected = server.expected_entries(MockScope::Zone, Some(&issue), &Filters::default());
        assert!(expected.len() > 100, "enough entries for many pages");

        let mut items = client(&server)
            .issue_audit_log(Scope::zone(ZONE_ID), &issue)
            .changed_by("system")
            .per_page(7)
            .items();
        let mut seen = Vec::new();
        while let Some(entry) = items.next().await {
            seen.push(entry.expect("entry").id.expect("id"));
        }
        let filtered = server.expected_entries(
            MockScope::Zone,
            Some(&issue),
            &Filters {
                changed_by: Some("system".to_owned()),
                ..Filters::default()
            },
        );
        assert_eq!(ids(seen), ids(filtered.iter().map(|entry| &entry.id)));
        let requests = server.requests();
        assert_eq!(requests.len(), filtered.len().div_ceil(7).max(1));
        for request in &requests {
            assert_eq!(request.query_param("changed_by").as_deref(), Some("system"));
            assert_eq!(request.query_param("per_page").as_deref(), Some("7"));
        }
    }
}

/// The account-wide log, oldest first, with prefetch and the pager's default page
/// size (1000): the same exact set, in order.
#[tokio::test]
async fn prefetching_walk_equals_the_served_set() {
    for transport in Transport::ALL {
        let server = big_server(transport).await;
        let filters = Filters {
            order: MockOrder::Asc,
            ..Filters::default()
        };
        let expected = server.expected_entries(MockScope::Account, None, &filters);
        let mut pages = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .order(Order::Asc)
            .per_page(64)
            .with_prefetch(true)
            .pages();
        let mut seen = Vec::new();
        while let Some(page) = pages.next().await {
            seen.extend(
                page.expect("page")
                    .into_entries()
                    .into_iter()
                    .map(|entry| entry.id.unwrap()),
            );
        }
        assert_eq!(ids(seen), ids(expected.iter().map(|entry| &entry.id)));

        let default_sized = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .pages();
        let mut default_sized = default_sized;
        let first = default_sized.next().await.expect("a page").expect("ok");
        assert_eq!(first.entries().len(), 1000);
        let last = server.requests().pop().unwrap();
        assert_eq!(last.query_param("per_page").as_deref(), Some("1000"));
    }
}

/// The server hands back a cursor it gave before: the walk ends with a pagination
/// loop error instead of requesting it again.
#[tokio::test]
async fn a_repeated_cursor_is_a_pagination_loop_error() {
    for transport in Transport::ALL {
        let server = server_over(
            transport,
            Config::default()
                .with_entries(100)
                .with_fault(Fault::RepeatedCursor),
        )
        .await;
        let mut pages = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(10)
            .pages();
        let mut outcomes = Vec::new();
        while let Some(page) = pages.next().await {
            outcomes.push(page);
            assert!(outcomes.len() < 10, "the walk must not loop");
        }
        let last = outcomes.pop().expect("an outcome");
        assert!(
            matches!(last, Err(Error::PaginationLoop { page: 2, .. })),
            "{last:?}"
        );
        assert!(outcomes.iter().all(Result::is_ok));
        assert_eq!(
            server.requests().len(),
            2,
            "the repeated cursor is not requested again"
        );
    }
}

/// The last page says `"cursor": ""`: the walk ends normally.
#[tokio::test]
async fn an_empty_cursor_ends_the_walk() {
    for transport in Transport::ALL {
        let server = server_over(
            transport,
            Config::default()
                .with_entries(50)
                .with_fault(Fault::EmptyCursorOnLastPage),
        )
        .await;
        let expected = server.entry_count(MockScope::Account, None);
        let mut items = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(20)
            .items();
        let mut count = 0;
        while let Some(entry) = items.next().await {
            entry.expect("entry");
            count += 1;
        }
        assert_eq!(count, expected);
        assert_eq!(server.requests().len(), expected.div_ceil(20));
    }
}

/// A walk stops after two pages; a new walk from the second page's cursor yields
/// exactly the rest.
#[tokio::test]
async fn resuming_from_a_cursor_yields_exactly_the_rest() {
    for transport in Transport::ALL {
        let server = big_server(transport).await;
        let expected = server.expected_entries(MockScope::Account, None, &Filters::default());
        let client = client(&server);
        let request = client.audit_log(Scope::account(ACCOUNT_ID)).per_page(100);
        let mut first = request.clone().with_max_pages(2).pages();
        let mut seen = Vec::new();
        let mut resume = None;
        while let Some(page) = first.next().await {
            let page = page.expect("page");
            resume = page.next_cursor().map(str::to_owned);
            seen.extend(
                page.into_entries()
                    .into_iter()
                    .map(|entry| entry.id.unwrap()),
            );
        }
        assert_eq!(seen.len(), 200);
        let mut rest = request.cursor(resume.expect("a cursor")).items();
        while let Some(entry) = rest.next().await {
            seen.push(entry.expect("entry").id.unwrap());
        }
        assert_eq!(ids(seen), ids(expected.iter().map(|entry| &entry.id)));
    }
}

/// `with_max_items(150)` at 100 per page: exactly 150 entries, two requests.
#[tokio::test]
async fn max_items_stops_at_exactly_that_many() {
    for transport in Transport::ALL {
        let server = big_server(transport).await;
        let expected = server.expected_entries(MockScope::Account, None, &Filters::default());
        let mut items = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(100)
            .with_max_items(150)
            .items();
        let mut seen = Vec::new();
        while let Some(entry) = items.next().await {
            seen.push(entry.expect("entry").id.unwrap());
        }
        assert_eq!(
            ids(seen),
            ids(expected.iter().take(150).map(|entry| &entry.id))
        );
        assert_eq!(server.requests().len(), 2);
    }
}

/// A 503 in the middle of a walk is retried inside the page fetch: nothing skipped or
/// repeated.
#[tokio::test]
async fn retries_inside_a_walk_neither_skip_nor_repeat() {
    for transport in Transport::ALL {
        let config = Config::default()
            .with_entries(300)
            .with_fault(Fault::ServerError {
                every: 3,
                status: 503,
            });
        let server = server_over(transport, config).await;
        let expected = server.expected_entries(MockScope::Account, None, &Filters::default());
        let mut items = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(25)
            .items();
        let mut seen = Vec::new();
        while let Some(entry) = items.next().await {
            seen.push(entry.expect("entry").id.unwrap());
        }
        assert_eq!(ids(seen), ids(expected.iter().map(|entry| &entry.id)));
    }
}

/// The caller drops the stream after the first page: no further request is sent,
/// with or without prefetch (a prefetched request in flight is aborted, not followed).
#[tokio::test]
async fn dropping_a_stream_sends_no_further_request() {
    for transport in Transport::ALL {
        let server = big_server(transport).await;
        let mut pages = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(10)
            .pages();
        pages.next().await.expect("a page").expect("ok");
        drop(pages);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(server.requests().len(), 1);

        let slow = Config::default().with_entries(100).with_fault(Fault::Slow {
            every: 1,
            delay: Duration::from_millis(300),
        });
        let server = server_over(transport, slow).await;
        let mut pages = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(10)
            .with_prefetch(true)
            .pages();
        pages.next().await.expect("a page").expect("ok");
        drop(pages);
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(
            server.requests().len() <= 2,
            "{} requests",
            server.requests().len()
        );
    }
}

/// An empty page that still has a cursor is followed, not taken as the end.
#[tokio::test]
async fn an_empty_page_with_a_cursor_is_followed() {
    for transport in Transport::ALL {
        use mock_server::CannedResponse;
        let server = server_over(
            transport,
            Config::default()
                .with_entries(30)
                .with_script([CannedResponse::page(Vec::new(), 10, Some("next"))]),
        )
        .await;
        let mut pages = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(10)
            .pages();
        let first = pages.next().await.expect("a page").expect("ok");
        assert!(first.entries().is_empty());
        assert_eq!(first.next_cursor(), Some("next"));
        let second = pages.next().await.expect("followed");
        // The mock rejects the made-up cursor: what matters is that it was requested.
        assert!(second.is_err());
        assert_eq!(
            server.requests()[1].query_param("cursor").as_deref(),
            Some("next")
        );
    }
}
