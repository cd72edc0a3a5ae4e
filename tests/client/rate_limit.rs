//! Pacing under Cloudflare's rate limit against the mock's emulation of it: concurrent walks on
//! one client stay within the announced budget, and the quota each page announced is exposed.

use std::time::Duration;

use cloudflare_security_center::{Client, RateLimit, Scope};
use mock_server::{
    ACCOUNT_ID, CannedResponse, Config, Filters, MockRateLimit, MockScope, MockServer, ZONE_ID,
};

use crate::support::{builder, client, server_with};

/// A budget of 20 requests per 2 s, with a 2 s lock-out; 4 insights per scope.
async fn limited_server(quota: u32) -> MockServer {
    server_with(
        Config::default()
            .with_entries(240)
            .with_insights_per_scope(4)
            .with_rate_limit(MockRateLimit {
                quota,
                window: Duration::from_secs(2),
                lockout: Duration::from_secs(2),
            }),
    )
    .await
}

/// Walks every insight of both scopes at 10 per page, four walks at a time on `client`, and
/// checks each against the served set. About 50 requests: more than two budgets of 20.
async fn walk_every_insight(server: &MockServer, client: &Client) {
    let mut walks = Vec::new();
    for scope in MockScope::ALL {
        for issue in server.issue_ids(scope) {
            let expected: Vec<String> = server
                .expected_entries(scope, Some(&issue), &Filters::default())
                .iter()
                .map(|entry| entry.id.to_string())
                .collect();
            let target = match scope {
                MockScope::Account => Scope::account(ACCOUNT_ID),
                MockScope::Zone => Scope::zone(ZONE_ID),
            };
            let items = client.issue_audit_log(target, &issue).per_page(10).items();
            walks.push(async move {
                let mut items = items;
                let mut seen = Vec::new();
                while let Some(entry) = items.next().await {
                    seen.push(entry.expect("an entry").id.expect("an id").to_string());
                }
                assert_eq!(seen, expected, "insight {issue}");
            });
        }
    }
    let mut walks = walks.into_iter();
    loop {
        let batch: Vec<_> = walks.by_ref().take(4).collect();
        if batch.is_empty() {
            break;
        }
        futures_util::future::join_all(batch).await;
    }
}

/// Four concurrent walks on one client, about two and a half budgets of requests:
/// the pacer keeps every request within the announced budget, so the server serves no 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_walks_on_one_client_receive_no_429() {
    let server = limited_server(20).await;
    walk_every_insight(&server, &client(&server)).await;
    assert!(server.requests().len() > 40, "{}", server.requests().len());
    assert_eq!(server.rate_limited_count(), 0);
}

/// The same walks with pacing off: the budget is overrun (the control that shows the
/// previous test can fail), and the 429s are waited out per `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_the_same_walks_are_rate_limited() {
    let server = limited_server(20).await;
    let client = builder(&server)
        .with_rate_limit(RateLimit::disabled())
        .with_retry(crate::support::fast_retries().with_max_retries(10))
        .build()
        .expect("a valid configuration");
    walk_every_insight(&server, &client).await;
    assert!(server.rate_limited_count() > 0);
}

/// One page under a budget of 20: the page exposes the quota the response announced.
#[tokio::test]
async fn a_page_exposes_the_announced_quota() {
    let server = limited_server(20).await;
    let page = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect("a page");
    let quota = page.quota().expect("the fields were sent");
    assert_eq!(quota.remaining, 19);
    assert!(quota.reset <= Duration::from_secs(2), "{quota:?}");
    assert_eq!(quota.limit, Some(20));
    assert_eq!(quota.window, Some(Duration::from_secs(2)));
}

/// Pages whose rate-limit fields are malformed: they are ignored, the walk goes on,
/// and no quota is reported.
#[tokio::test]
async fn malformed_rate_limit_fields_are_ignored() {
    let server = server_with(
        Config::default().with_entries(30).with_script([
            CannedResponse::page(Vec::new(), 25, Some("next"))
                .with_header("ratelimit", "\"default\";r=-5;t=soon")
                .with_header("ratelimit-policy", "q=;w"),
            CannedResponse::page(Vec::new(), 25, None)
                .with_header("ratelimit", "\"default\";r=1;;t=2"),
        ]),
    )
    .await;
    let mut pages = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .pages();
    let mut seen = 0;
    while let Some(page) = pages.next().await {
        let page = page.expect("a page");
        assert_eq!(page.quota(), None);
        seen += 1;
    }
    assert_eq!(seen, 2);
}

/// A budget of zero requests is refused when the client is built.
#[test]
fn an_empty_budget_is_a_configuration_error() {
    let error = Client::builder()
        .with_credentials(cloudflare_security_center::Credentials::api_token("t").expect("a token"))
        .with_rate_limit(RateLimit::new(0, Duration::from_secs(1)))
        .build()
        .expect_err("no request could ever go out");
    assert!(error.to_string().contains("rate_limit"), "{error}");
}
