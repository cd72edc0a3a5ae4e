//! The packaged client walks the packaged mock: every page, through rate limits, with the filters kept.

use cloudflare_security_center::{Client, Credentials};
use mock_server::{Config, Fault, Filters, MockOrder, MockScope, MockServer};

/// Against the packaged mock (600 entries, a 429 every third request), the packaged client reads exactly the
/// entries the mock says it holds for one actor, oldest first, over many pages, and sends nothing unexpected.
#[tokio::test]
async fn the_packaged_client_reads_every_entry_of_the_packaged_mock() {
    let server = MockServer::start(Config::default().with_entries(600).with_fault(
        Fault::RateLimit {
            every: 3,
            retry_after_secs: 1,
        },
    ))
    .await;
    let client = Client::builder()
        .with_base_url(server.base_url())
        .with_credentials(Credentials::api_token(&server.credentials().api_token).expect("a token"))
        .build()
        .expect("a client");

    let read = downstream_smoke::changes_by(&client, server.account_id(), "system")
        .await
        .expect("the walk ends well");

    let filters = Filters {
        changed_by: Some("system".to_owned()),
        order: MockOrder::Asc,
        ..Filters::default()
    };
    let expected: Vec<String> = server
        .expected_entries(MockScope::Account, None, &filters)
        .into_iter()
        .map(|entry| entry.id)
        .collect();
    assert!(expected.len() > 100, "several pages: {}", expected.len());
    assert_eq!(read, expected);
    let pages = expected.len().div_ceil(50);
    assert!(server.requests().len() > pages, "429s were met and retried");
    server.assert_no_unexpected_requests();
}
