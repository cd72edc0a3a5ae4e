//! The faults real networks make: a connection cut in the middle of a body, a reset before the
//! response head, a body that stalls, an HTTP/2 stream reset, a GOAWAY. Each is retried, and a
//! walk through them still yields every served entry exactly once, over clear HTTP/1.1 and over
//! TLS with HTTP/2.

use std::time::Duration;

use cloudflare_security_center::{Error, RetryPolicy, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, Fault, Filters, MockScope, MockServer};

use crate::support::{
    Transport, account_log_error, builder, client, fast_retries, server_over, server_with,
};

/// Entries enough for a dozen pages of 25, served over `transport`.
async fn faulty_server(transport: Transport, fault: Fault) -> MockServer {
    server_over(
        transport,
        Config::default()
            .with_entries(300)
            .with_insights_per_scope(1)
            .with_fault(fault),
    )
    .await
}

/// Walks the account-wide log at 25 per page and checks the ids against the served set, and
/// that every request went over `transport`'s protocol.
async fn assert_walk_is_exact(
    transport: Transport,
    server: &MockServer,
    client: cloudflare_security_center::Client,
    prefetch: bool,
) {
    let expected: Vec<String> = server
        .expected_entries(MockScope::Account, None, &Filters::default())
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
        let entry =
            entry.unwrap_or_else(|error| panic!("{transport:?}: entry {}: {error}", seen.len()));
        seen.push(entry.id.expect("an id").to_string());
    }
    assert_eq!(seen, expected, "{transport:?}: every entry once, in order");
    let requests = server.requests();
    let pages = expected.len().div_ceil(25);
    assert!(
        requests.len() > pages,
        "{transport:?}: faults were met and retried: {} requests for {pages} pages",
        requests.len()
    );
    assert!(
        requests
            .iter()
            .all(|request| request.version == transport.version()),
        "{transport:?}: {:?}",
        requests
            .iter()
            .map(|request| &request.version)
            .collect::<Vec<_>>()
    );
}

/// Runs `fault` over both transports, with and without prefetch.
async fn survive(fault: Fault) {
    for transport in Transport::ALL {
        for prefetch in [false, true] {
            let server = faulty_server(transport, fault.clone()).await;
            assert_walk_is_exact(transport, &server, client(&server), prefetch).await;
        }
    }
}

/// Every fifth response sends its full length's head, half the body, then the
/// connection closes (under HTTP/2: every stream on it fails): each cut page is fetched again.
#[tokio::test]
async fn a_body_cut_mid_way_is_retried_and_the_walk_is_exact() {
    survive(Fault::DropMidBody { every: 5 }).await;
}

/// Every fourth connection is reset after the request, before any byte of the
/// answer: each is sent again.
#[tokio::test]
async fn a_reset_before_the_head_is_retried_and_the_walk_is_exact() {
    survive(Fault::ResetBeforeHead { every: 4 }).await;
}

/// Under HTTP/2, every fifth stream is reset (RST_STREAM INTERNAL_ERROR) half-way
/// through its body while the connection lives on (over HTTP/1.1 the body is cut): retried.
#[tokio::test]
async fn a_stream_reset_mid_body_is_retried_and_the_walk_is_exact() {
    survive(Fault::ResetStream { every: 5 }).await;
}

/// Every third request on a connection is followed by GOAWAY (NO_ERROR; over
/// HTTP/1.1 `Connection: close`): requests in flight finish, the next opens a new connection.
#[tokio::test]
async fn goaway_moves_the_walk_to_a_new_connection_without_loss() {
    for transport in Transport::ALL {
        for prefetch in [false, true] {
            let server = faulty_server(transport, Fault::GoAway { every: 3 }).await;
            let expected = server
                .expected_entries(MockScope::Account, None, &Filters::default())
                .len();
            let mut items = client(&server)
                .audit_log(Scope::account(ACCOUNT_ID))
                .per_page(25)
                .with_prefetch(prefetch)
                .items();
            let mut seen = 0;
            while let Some(entry) = items.next().await {
                entry.unwrap_or_else(|error| panic!("{transport:?}: {error}"));
                seen += 1;
            }
            assert_eq!(seen, expected, "{transport:?}");
        }
    }
}

/// Every fourth response sends its head and then nothing for 5 s: the attempt
/// timeout (300 ms) ends the attempt and the page is fetched again.
#[tokio::test]
async fn a_stalled_body_times_out_and_is_retried() {
    for transport in Transport::ALL {
        let server = faulty_server(
            transport,
            Fault::Stall {
                every: 4,
                delay: Duration::from_secs(5),
            },
        )
        .await;
        let client = builder(&server)
            .with_attempt_timeout(Duration::from_millis(300))
            .build()
            .expect("a valid configuration");
        assert_walk_is_exact(transport, &server, client, false).await;
    }
}

/// Every body is cut and retries are off: a transport error, which says it is worth
/// retrying (it is not a decoding failure of a complete body).
#[tokio::test]
async fn a_cut_body_is_a_retryable_transport_error() {
    let server = faulty_server(Transport::ClearHttp1, Fault::DropMidBody { every: 1 }).await;
    let client = builder(&server)
        .with_retry(RetryPolicy::disabled())
        .build()
        .expect("a valid configuration");
    let error = account_log_error(&client, "every body is cut").await;
    assert!(
        matches!(error, Error::Transport { attempts: 1, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable(), "{error}");
}

/// A 503 whose body is over the 64 MiB limit, then a normal page: the retry succeeds,
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

/// A 429 whose `Retry-After` is too large to represent: it counts as the longest
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
    let error = account_log_error(&client(&server), "rate limited").await;
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

/// The server answers empty pages, each with a new cursor, without end: the walk
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
