//! The faults real networks make: a connection cut in the middle of a body, a reset before the
//! response head, a body that stalls. Each is retried, and a walk through them still yields
//! every served entry exactly once.

use std::time::Duration;

use cloudflare_security_center::{Error, RetryPolicy, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, Fault, Filters, MockServer};

use crate::support::{builder, client, fast_retries, server_with};

/// Entries enough for a dozen pages of 25.
async fn faulty_server(fault: Fault) -> MockServer {
    server_with(
        Config::default()
            .with_entries(300)
            .with_insights_per_scope(1)
            .with_fault(fault),
    )
    .await
}

/// Walks the account-wide log at 25 per page and checks the ids against the served set.
async fn assert_walk_is_exact(
    server: &MockServer,
    client: cloudflare_security_center::Client,
    prefetch: bool,
) {
    let expected: Vec<String> = server
        .expected_entries(mock_server::Scope::Account, None, &Filters::default())
        .iter()
        .map(|entry| entry.id.to_string())
        .collect();
    let mut items = client
        .audit_log(Scope::account(ACCOUNT_ID))
        .per_page(25)
        .with_prefetch(prefetch)
        .items();
    let mut seen = Vec::new();
    while let Some(entry) = items.next().await {
        let entry = entry.unwrap_or_else(|error| panic!("entry {}: {error}", seen.len()));
        seen.push(entry.id.expect("an id").to_string());
    }
    assert_eq!(seen, expected, "every entry once, in order");
    let pages = expected.len().div_ceil(25);
    assert!(
        server.requests().len() > pages,
        "faults were met and retried: {} requests for {pages} pages",
        server.requests().len()
    );
}

/// Scenario: every fifth response sends its full `Content-Length`, half the body, then closes:
/// each cut page is fetched again, with and without prefetch.
#[tokio::test]
async fn a_body_cut_mid_way_is_retried_and_the_walk_is_exact() {
    for prefetch in [false, true] {
        let server = faulty_server(Fault::DropMidBody { every: 5 }).await;
        assert_walk_is_exact(&server, client(&server), prefetch).await;
    }
}

/// Scenario: every fourth connection is reset after the request, before any byte of the
/// answer: each is sent again.
#[tokio::test]
async fn a_reset_before_the_head_is_retried_and_the_walk_is_exact() {
    for prefetch in [false, true] {
        let server = faulty_server(Fault::ResetBeforeHead { every: 4 }).await;
        assert_walk_is_exact(&server, client(&server), prefetch).await;
    }
}

/// Scenario: every fourth response sends its head and then nothing for 5 s: the attempt
/// timeout (300 ms) ends the attempt and the page is fetched again.
#[tokio::test]
async fn a_stalled_body_times_out_and_is_retried() {
    let server = faulty_server(Fault::Stall {
        every: 4,
        delay: Duration::from_secs(5),
    })
    .await;
    let client = builder(&server)
        .with_attempt_timeout(Duration::from_millis(300))
        .build()
        .expect("a valid configuration");
    assert_walk_is_exact(&server, client, false).await;
}

/// Scenario: every body is cut and retries are off: a transport error, which says it is worth
/// retrying (it is not a decoding failure of a complete body).
#[tokio::test]
async fn a_cut_body_is_a_retryable_transport_error() {
    let server = faulty_server(Fault::DropMidBody { every: 1 }).await;
    let client = builder(&server)
        .with_retry(RetryPolicy::disabled())
        .build()
        .expect("a valid configuration");
    let error = client
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect_err("every body is cut");
    assert!(
        matches!(error, Error::Transport { attempts: 1, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable(), "{error}");
}

/// Scenario: a 503 whose body is over the 64 MiB limit, then a normal page: the retry succeeds,
/// and the oversized attempt's failure does not outlive it.
#[tokio::test]
async fn a_failure_of_a_retried_attempt_does_not_outlive_the_retry() {
    let huge = vec![b' '; 65 * 1024 * 1024];
    let server = server_with(
        Config::default()
            .with_entries(30)
            .with_script([CannedResponse::new(503).with_body(huge)]),
    )
    .await;
    let page = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await;
    assert!(page.is_ok(), "{page:?}");
    assert_eq!(server.requests().len(), 2);
}

/// Scenario: a 429 whose `Retry-After` is too large to represent: it counts as the longest
/// wait, so the cap turns it into `RateLimited` at once instead of a retry.
#[tokio::test]
async fn a_retry_after_too_large_to_represent_saturates() {
    let server = server_with(
        Config::default()
            .with_entries(30)
            .with_script([CannedResponse::error(
                429,
                971,
                "Please wait and consider throttling your request speed",
            )
            .with_header("retry-after", "99999999999999999999999")]),
    )
    .await;
    let error = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect_err("rate limited");
    assert!(
        matches!(
            error,
            Error::RateLimited {
                retry_after: Some(Duration::MAX),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1, "no retry");
}

/// Scenario: the server answers empty pages, each with a new cursor, without end: the walk
/// stops after the configured number in a row with a typed error naming the last cursor.
#[tokio::test]
async fn endless_empty_pages_end_the_walk_with_a_typed_error() {
    let script: Vec<CannedResponse> = (1..=5)
        .map(|n| CannedResponse::page(Vec::new(), 25, Some(&format!("empty-{n}"))))
        .collect();
    let server = server_with(Config::default().with_entries(30).with_script(script)).await;
    let mut pages = builder(&server)
        .with_retry(fast_retries())
        .build()
        .expect("a valid configuration")
        .audit_log(Scope::account(ACCOUNT_ID))
        .with_max_empty_pages(3)
        .pages();
    let mut empty = 0;
    let error = loop {
        match pages.next().await {
            Some(Ok(page)) => {
                assert!(page.entries().is_empty());
                empty += 1;
            }
            Some(Err(error)) => break error,
            None => panic!("the walk ended without the error"),
        }
    };
    assert_eq!(
        empty, 4,
        "three empty pages are followed, the fourth ends it"
    );
    assert!(
        matches!(&error, Error::PaginationStalled { empty_pages: 4, cursor, .. } if cursor == "empty-4"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(server.requests().len(), 4);
}
