//! The rate-limit emulation behaves like Cloudflare's: fixed windows of a quota, the IETF `Ratelimit` fields on
//! every response, 429 with code 10100 and `Retry-After` over budget and through the lock-out, then a new window.
//! Only counts and field contents are asserted, never how long anything took.

use std::time::Duration;

use mock_server::{CannedResponse, Config, MockRateLimit, MockScope, MockServer, codes};

use crate::support::{Resp, client, get, get_raw, send};

/// 5 requests per 60 s window; a 1 s lock-out so that a test can see it end.
fn five_per_minute() -> MockRateLimit {
    MockRateLimit {
        quota: 5,
        window: Duration::from_secs(60),
        lockout: Duration::from_secs(1),
    }
}

fn limited(limit: MockRateLimit) -> Config {
    Config::default().with_entries(50).with_rate_limit(limit)
}

/// `Ratelimit: "default";r=<R>;t=<T>` parsed strictly into (R, T).
#[track_caller]
fn ratelimit_field(response: &Resp) -> (u32, u64) {
    let value = response.header("ratelimit").expect("a Ratelimit field");
    let parse = || -> Option<(u32, u64)> {
        let rest = value.strip_prefix("\"default\";r=")?;
        let (remaining, reset) = rest.split_once(";t=")?;
        Some((remaining.parse().ok()?, reset.parse().ok()?))
    };
    parse().unwrap_or_else(|| panic!("malformed Ratelimit field: {value:?}"))
}

/// Every response carries both fields: `r` counts down 4, 3, 2, 1, 0 and `t` stays within the window, never 0.
#[tokio::test]
async fn every_response_carries_the_fields_with_the_remaining_budget() {
    let server = MockServer::start(limited(five_per_minute())).await;
    let url = server.audit_log_url(MockScope::Account, None);
    let mut remaining = Vec::new();
    let mut last_reset = u64::MAX;
    for _ in 0..5 {
        let response = get_raw(&server, &url, "per_page=5").await;
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("\"default\";q=5;w=60")
        );
        let (left, reset) = ratelimit_field(&response);
        assert!((1..=60).contains(&reset), "t={reset}");
        assert!(reset <= last_reset, "t went up: {reset} after {last_reset}");
        last_reset = reset;
        remaining.push(left);
        assert_eq!(response.header("retry-after"), None);
    }
    assert_eq!(remaining, [4, 3, 2, 1, 0]);
    assert_eq!(server.rate_limited_count(), 0);
    assert_eq!(server.served_count(), 5);
}

/// The (Q+1)-th request in a window gets 429 with code 10100, the Cloudflare message, `Retry-After` and `r=0`.
#[tokio::test]
async fn request_over_budget_gets_429_with_code_10100_and_retry_after() {
    let server = MockServer::start(limited(five_per_minute())).await;
    let url = server.audit_log_url(MockScope::Account, None);
    for _ in 0..5 {
        assert_eq!(get_raw(&server, &url, "").await.status, 200);
    }
    let response = get_raw(&server, &url, "").await;
    response.assert_failure(429, codes::RATE_LIMIT_EXCEEDED);
    assert_eq!(codes::RATE_LIMIT_EXCEEDED, 10100);
    assert_eq!(
        response.json()["errors"][0]["message"],
        "More than 5 requests per 60 seconds reached"
    );
    assert_eq!(response.header("retry-after"), Some("1"));
    assert_eq!(ratelimit_field(&response), (0, 1));
    assert_eq!(
        response.header("ratelimit-policy"),
        Some("\"default\";q=5;w=60")
    );
    assert_eq!(server.rate_limited_count(), 1);
    assert_eq!(server.served_count(), 6);
}

/// Requests in the lock-out get 429 too and are counted; the first one after it opens a new window with the whole
/// quota (none of the refused requests counted towards it).
#[tokio::test]
async fn lockout_refuses_every_request_then_a_new_window_opens() {
    let server = MockServer::start(limited(MockRateLimit {
        quota: 2,
        window: Duration::from_secs(60),
        lockout: Duration::from_secs(1),
    }))
    .await;
    let url = server.audit_log_url(MockScope::Zone, None);
    for _ in 0..2 {
        assert_eq!(get_raw(&server, &url, "").await.status, 200);
    }
    // The request over budget, then two inside the 1 s lock-out it starts.
    for _ in 0..3 {
        let response = get_raw(&server, &url, "").await;
        response.assert_failure(429, codes::RATE_LIMIT_EXCEEDED);
        assert_eq!(response.header("retry-after"), Some("1"));
        assert_eq!(ratelimit_field(&response), (0, 1));
    }
    assert_eq!(server.rate_limited_count(), 3);

    // Retry until the lock-out is over; every refusal on the way is a counted 429.
    let mut refused = 3;
    let after = loop {
        let response = get_raw(&server, &url, "").await;
        if response.status == 200 {
            break response;
        }
        response.assert_failure(429, codes::RATE_LIMIT_EXCEEDED);
        refused += 1;
        assert!(refused < 100, "the lock-out never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (left, reset) = ratelimit_field(&after);
    assert_eq!(left, 1, "a fresh window of 2, one used");
    assert!((1..=60).contains(&reset), "t={reset}");
    assert_eq!(get_raw(&server, &url, "").await.status, 200);
    assert_eq!(get_raw(&server, &url, "").await.status, 429);
    assert_eq!(server.rate_limited_count(), refused + 1);
    assert_eq!(server.served_count(), 2 + refused + 2 + 1);
}

/// Every request counts, as at Cloudflare: unauthorised and unknown-route ones spend the budget and carry the fields.
#[tokio::test]
async fn unauthorised_and_unknown_requests_spend_the_budget_too() {
    let server = MockServer::start(
        limited(MockRateLimit::new(3, Duration::from_secs(60))).with_strict(false),
    )
    .await;
    let url = server.audit_log_url(MockScope::Account, None);
    let unauthorised = send(client().get(&url)).await;
    unauthorised.assert_failure(401, codes::AUTHENTICATION_ERROR);
    let unknown = send(get(&server, &format!("{}/nope", server.base_url()))).await;
    unknown.assert_failure(404, codes::NO_ROUTE);
    let ok = get_raw(&server, &url, "").await;
    assert_eq!(ok.status, 200);
    let over = get_raw(&server, &url, "").await;
    over.assert_failure(429, codes::RATE_LIMIT_EXCEEDED);
    assert_eq!(
        [&unauthorised, &unknown, &ok].map(|response| ratelimit_field(response).0),
        [2, 1, 0]
    );
    // The lock-out defaults to the window.
    assert_eq!(over.header("retry-after"), Some("60"));
    assert_eq!(
        over.json()["errors"][0]["message"],
        "More than 3 requests per 60 seconds reached"
    );
}

/// Canned answers carry the fields too, and a refused request does not consume the script.
#[tokio::test]
async fn canned_answers_carry_the_fields_and_a_429_leaves_the_script_alone() {
    let server = MockServer::start(
        limited(MockRateLimit {
            quota: 1,
            ..five_per_minute()
        })
        .with_script([
            CannedResponse::error(503, codes::SERVER_ERROR, "maintenance"),
            CannedResponse::normal(),
        ]),
    )
    .await;
    let url = server.audit_log_url(MockScope::Account, None);
    let canned = get_raw(&server, &url, "").await;
    canned.assert_failure(503, codes::SERVER_ERROR);
    assert_eq!(ratelimit_field(&canned).0, 0);
    assert_eq!(
        canned.header("ratelimit-policy"),
        Some("\"default\";q=1;w=60")
    );
    get_raw(&server, &url, "")
        .await
        .assert_failure(429, codes::RATE_LIMIT_EXCEEDED);
    assert_eq!(server.canned_remaining(), 1);
}

/// Concurrent requests share one budget: of 30 sent at once with a quota of 10, exactly 10 are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_budget() {
    let server = MockServer::start(limited(MockRateLimit::new(10, Duration::from_secs(60)))).await;
    let url = server.audit_log_url(MockScope::Account, None);
    let requests = (0..30).map(|_| {
        let request = get(&server, &url).query(&[("per_page", "1")]);
        tokio::spawn(send(request))
    });
    let mut statuses = Vec::new();
    for r in requests.collect::<Vec<_>>() {
        statuses.push(r.await.unwrap().status);
    }
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 10);
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 20);
    assert_eq!(server.rate_limited_count(), 20);
    assert_eq!(server.served_count(), 30);
}

/// `Q:W[:LOCKOUT]` parses (the lock-out defaulting to the window) and prints back; bad forms say what is wrong.
#[test]
fn rate_limit_text_form_round_trips_and_rejects_bad_input() {
    assert_eq!(
        "1200:300".parse::<MockRateLimit>(),
        Ok(MockRateLimit {
            quota: 1200,
            window: Duration::from_secs(300),
            lockout: Duration::from_secs(300),
        })
    );
    let limit: MockRateLimit = "5:60:1".parse().unwrap();
    assert_eq!(limit, five_per_minute());
    assert_eq!(limit.to_string(), "5:60:1");
    assert_eq!(limit.to_string().parse::<MockRateLimit>(), Ok(limit));
    assert_eq!(
        "1200:300".parse::<MockRateLimit>().unwrap().to_string(),
        "1200:300:300"
    );
    for (bad, says) in [
        ("", "expected QUOTA:WINDOW[:LOCKOUT]"),
        ("5", "expected QUOTA:WINDOW[:LOCKOUT]"),
        ("5:60:1:2", "expected QUOTA:WINDOW[:LOCKOUT]"),
        ("0:60", "quota (requests per window) must be at least 1"),
        (
            "many:60",
            "quota (requests per window) must be a whole number",
        ),
        ("5:0", "window (seconds) must be at least 1"),
        (
            "5:1m",
            "window (seconds) must be a whole number, not \"1m\"",
        ),
        ("5:60:-1", "lock-out (seconds) must be a whole number"),
        ("5:60:0", "lock-out (seconds) must be at least 1"),
        ("4294967296:60", "quota must be at most 4294967295"),
    ] {
        let error = bad.parse::<MockRateLimit>().expect_err(bad);
        assert!(error.contains(says), "{bad:?}: {error}");
    }
}

/// The binary accepts `--rate-limit` and the new fault forms, lists them in its help, and rejects bad values.
#[test]
fn binary_flags_accept_the_rate_limit_and_the_network_faults() {
    let bin = env!("CARGO_BIN_EXE_mock-server");
    let help = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for form in [
        "--rate-limit",
        "Q:W[:LOCKOUT]",
        "drop-mid-body:K",
        "reset-before-head:K",
        "stall:K:MILLIS",
    ] {
        assert!(help.contains(form), "{form} missing from:\n{help}");
    }
    for (flag, value, says) in [
        ("--rate-limit", "5:0", "window (seconds) must be at least 1"),
        ("--fault", "stall:1", "expected stall:K:MILLIS"),
    ] {
        let out = std::process::Command::new(bin)
            .args(["--port", "0", flag, value])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{stderr}");
    }
}
