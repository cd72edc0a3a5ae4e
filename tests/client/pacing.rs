//! The pacer against announcements a wrong server makes: a reset or window years away is
//! bounded, a wait beyond the caller's cap is a typed error at once, and a `Retry-After` too
//! small to wait is floored to the backoff.

use std::time::Duration;

use cloudflare_security_center::{Error, RateLimit, RetryPolicy, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockServer};

use crate::support::{builder, server_with};

/// A page with no entries that carries `headers`, then ordinary pages.
async fn announcing(headers: &[(&str, &str)]) -> MockServer {
    let mut page = CannedResponse::page(Vec::new(), 25, None);
    for (name, value) in headers {
        page = page.with_header(name, value);
    }
    server_with(Config::default().with_entries(30).with_script(vec![page])).await
}

/// Sends two calls; the second must come back (within a guard far shorter than any of the
/// announced waits) as a rate-limit error raised before anything was sent.
async fn second_call_is_refused(server: &MockServer, pacing_cap: Duration) -> Duration {
    let client = builder(server)
        .with_rate_limit(RateLimit::default().with_max_wait(pacing_cap))
        .build()
        .expect("a valid configuration");
    let request = client.audit_log(Scope::account(ACCOUNT_ID));
    let call = || request.send();
    call().await.expect("the first page");
    let second = tokio::time::timeout(Duration::from_secs(60), call())
        .await
        .expect("the client waited instead of refusing");
    let error = second.expect_err("held back by the quota");
    assert_eq!(server.requests().len(), 1, "the second request was sent");
    match error {
        Error::RateLimited {
            retry_after: Some(wait),
            api: None,
            quota: Some(_),
            ..
        } => wait,
        other => panic!("expected a pacing refusal, got {other:?}"),
    }
}

/// A 200 announces `Ratelimit: r=0;t=999999999`: the next request is held back for at
/// most an hour, which, beyond a cap of five minutes, is `Error::RateLimited` at once.
#[tokio::test]
async fn a_reset_years_away_is_bounded_and_refused_beyond_the_cap() {
    let server = announcing(&[("ratelimit", "\"default\";r=0;t=999999999")]).await;
    let wait = second_call_is_refused(&server, Duration::from_secs(300)).await;
    assert!(wait > Duration::from_secs(300), "{wait:?}");
    assert!(wait <= Duration::from_secs(3602), "{wait:?}");
}

/// A policy window of 999999999 s is read as an hour, and a reset within it as given.
#[tokio::test]
async fn a_window_years_long_is_bounded() {
    let server = announcing(&[
        ("ratelimit", "\"default\";r=0;t=86400"),
        ("ratelimit-policy", "\"default\";q=1;w=999999999"),
    ])
    .await;
    let wait = second_call_is_refused(&server, Duration::from_secs(60)).await;
    assert!(wait <= Duration::from_secs(3602), "{wait:?}");
}

/// The legacy `X-RateLimit-Reset` at an epoch in 2100 is ignored as bogus: the
/// client assumes Cloudflare's five-minute window instead.
#[tokio::test]
async fn a_legacy_epoch_reset_in_2100_is_ignored() {
    let server = announcing(&[
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "4102444800"),
    ])
    .await;
    let wait = second_call_is_refused(&server, Duration::from_secs(60)).await;
    assert!(wait <= Duration::from_secs(302), "{wait:?}");
    assert!(wait >= Duration::from_secs(290), "{wait:?}");
}

/// The cap defaults to the retry policy's cap on `Retry-After`: a client configured
/// only with that cap refuses the same way, and its message says why.
#[tokio::test]
async fn the_retry_after_cap_applies_to_pacing_by_default() {
    let server = announcing(&[("ratelimit", "\"default\";r=0;t=120")]).await;
    let client = builder(&server)
        .with_retry(RetryPolicy::default().with_max_retry_after(Duration::from_secs(10)))
        .build()
        .expect("a valid configuration");
    let request = client.audit_log(Scope::account(ACCOUNT_ID));
    let call = || request.send();
    call().await.expect("the first page");
    let error = tokio::time::timeout(Duration::from_secs(60), call())
        .await
        .expect("the client waited instead of refusing")
        .expect_err("held back by the quota");
    let text = error.to_string();
    assert!(
        text.contains("the API's announced quota leaves 0 requests until its reset in 120 s"),
        "{text}"
    );
    assert_eq!(error.status(), None);
}

/// `Retry-After: 1e-300` on a 429 is no reason to retry at once: the retry waits the
/// backoff, and the retry count still ends the call.
#[tokio::test]
async fn a_tiny_retry_after_waits_the_backoff() {
    let tiny =
        || CannedResponse::error(429, 971, "Rate limited").with_header("retry-after", "1e-300");
    let server = server_with(Config::default().with_entries(30).with_script(vec![
        tiny(),
        tiny(),
        tiny(),
        tiny(),
    ]))
    .await;
    let backoff = Duration::from_millis(200);
    let client = builder(&server)
        .with_retry(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_backoff(backoff, backoff),
        )
        .with_rate_limit(RateLimit::disabled())
        .build()
        .expect("a valid configuration");
    let started = tokio::time::Instant::now();
    let error = client
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect_err("rate limited");
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 3, "one call and two retries");
    // Two retries, each at least three quarters of the backoff (its jitter).
    assert!(
        started.elapsed() >= backoff.mul_f64(1.5),
        "{:?}",
        started.elapsed()
    );
}
