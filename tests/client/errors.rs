//! How failures surface: retries, rate limits, timeouts, and typed errors for every bad answer.

use std::time::Duration;

use cloudflare_security_center::{Client, Error, FieldChanged, RetryPolicy, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, HTML_ERROR_PAGE, MockServer};
use serde_json::json;

use crate::support::{account_log_error, builder, client, fast_retries, server_with};

fn scripted(script: Vec<CannedResponse>) -> Config {
    Config::default().with_entries(30).with_script(script)
}

fn client_with(server: &MockServer, retry: RetryPolicy) -> Client {
    builder(server)
        .with_retry(retry)
        .build()
        .expect("a valid configuration")
}

/// A 429 with `Retry-After: 1`, then a normal answer: the call waits and succeeds.
#[tokio::test]
async fn retries_429_with_retry_after_then_succeeds() {
    let server = server_with(scripted(vec![CannedResponse::rate_limited(1)])).await;
    let page = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await;
    assert!(page.is_ok(), "{page:?}");
    assert_eq!(server.requests().len(), 2);
}

/// A 429 asking for 120 s, above the 60 s cap: the call returns at once with the
/// rate-limit error carrying the delay, and sends nothing more.
#[tokio::test]
async fn retry_after_above_the_cap_returns_rate_limited_at_once() {
    let server = server_with(scripted(vec![CannedResponse::rate_limited(120)])).await;
    let error = account_log_error(&client(&server), "rate limited").await;
    match &error {
        Error::RateLimited {
            retry_after, api, ..
        } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(120)));
            let api = api.as_ref().expect("the 429 answer");
            assert_eq!(api.status.as_u16(), 429);
            assert_eq!(api.errors.first().map(|e| e.code), Some(971));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(error.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

/// 503 on every attempt: three attempts (two retries), then the API error with the
/// status and the envelope kept.
#[tokio::test]
async fn server_errors_are_retried_then_given_up_with_the_status() {
    let failure = || CannedResponse::error(503, 10013, "Service unavailable");
    let server = server_with(scripted(vec![failure(), failure(), failure(), failure()])).await;
    let error = account_log_error(&client(&server), "gives up").await;
    let Error::Api(api) = &error else {
        panic!("expected Api, got {error:?}");
    };
    assert_eq!(api.status.as_u16(), 503);
    assert_eq!(api.errors[0].message, "Service unavailable");
    assert!(error.is_retryable());
    assert_eq!(server.requests().len(), 3);
    assert_eq!(server.canned_remaining(), 1);
}

/// Retries off; one 500 ends the call after a single request.
#[tokio::test]
async fn disabled_retries_send_once() {
    let server = server_with(scripted(vec![CannedResponse::error(500, 10013, "boom")])).await;
    let error = account_log_error(&client_with(&server, RetryPolicy::disabled()), "fails").await;
    assert_eq!(error.status().map(|status| status.as_u16()), Some(500));
    assert_eq!(server.requests().len(), 1);
}

/// A proxy's HTML error page (a 403 and a 502, not JSON): a typed API error with the
/// status and the body, not a bare decoding failure.
#[tokio::test]
async fn non_json_error_bodies_keep_status_and_body() {
    let server = server_with(scripted(vec![CannedResponse::html(403, HTML_ERROR_PAGE)])).await;
    let error = account_log_error(&client(&server), "403").await;
    let Error::Api(api) = &error else {
        panic!("expected Api, got {error:?}");
    };
    assert_eq!(api.status.as_u16(), 403);
    assert!(
        api.body_text().contains("502 Bad Gateway"),
        "{}",
        api.body_text()
    );
    assert_eq!(api.content_type.as_deref(), Some("text/html"));
    assert!(error.to_string().contains("HTTP 403"), "{error}");

    let html = || CannedResponse::html(502, HTML_ERROR_PAGE);
    let server = server_with(scripted(vec![html(), html(), html()])).await;
    let error = account_log_error(&client(&server), "502").await;
    assert_eq!(
        error.status().map(|status| status.as_u16()),
        Some(502),
        "{error}"
    );
    assert_eq!(server.requests().len(), 3);
}

/// A 200 whose envelope says `success: false`: an API error with its messages.
#[tokio::test]
async fn success_false_in_a_200_is_an_api_error() {
    let body = json!({
        "success": false,
        "errors": [{"code": 1003, "message": "Invalid insight", "source": {"pointer": "/issue_id"}}],
        "messages": [],
        "result": null
    });
    let server = server_with(scripted(vec![CannedResponse::json(200, &body)])).await;
    let error = account_log_error(&client(&server), "refused").await;
    let Error::Api(api) = &error else {
        panic!("expected Api, got {error:?}");
    };
    assert_eq!(api.status.as_u16(), 200);
    assert_eq!(api.errors[0].code, 1003);
    let pointer = api.errors[0]
        .source
        .as_ref()
        .and_then(|source| source.pointer.as_deref());
    assert_eq!(pointer, Some("/issue_id"));
    assert!(!error.is_retryable());
}

/// A 200 with `success: false` and a well-formed (empty) result still is an error.
#[tokio::test]
async fn success_false_with_a_result_is_an_api_error() {
    let body = json!({"success": false, "errors": [{"code": 1000, "message": "nope"}], "messages": [], "result": []});
    let server = server_with(scripted(vec![CannedResponse::json(200, &body)])).await;
    let error = account_log_error(&client(&server), "refused").await;
    assert!(
        matches!(&error, Error::Api(api) if api.errors[0].code == 1000),
        "{error:?}"
    );
}

/// A truncated JSON body in a 200 (retries off): a decode error that keeps the raw
/// body.
#[tokio::test]
async fn truncated_json_is_a_decode_error_with_the_body() {
    let truncated = br#"{"success":true,"errors":[],"messages":[],"result":[{"id":"0190"#.to_vec();
    let page = CannedResponse::new(200)
        .with_header("content-type", "application/json")
        .with_body(truncated.clone());
    let server = server_with(scripted(vec![page])).await;
    let error =
        account_log_error(&client_with(&server, RetryPolicy::disabled()), "truncated").await;
    let Error::Decode { status, body, .. } = &error else {
        panic!("expected Decode, got {error:?}");
    };
    assert_eq!(status.as_u16(), 200);
    assert_eq!(body.as_ref(), truncated.as_slice());
}

/// A wrongly typed value: the decode error names the JSON path that failed.
#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let entry = json!({"id": "0190a0d0-0000-7000-8000-000000000000", "zone_id": "not a number"});
    let server = server_with(scripted(vec![CannedResponse::page(vec![entry], 25, None)])).await;
    let error = account_log_error(&client(&server), "bad").await;
    let Error::Decode { path, .. } = &error else {
        panic!("expected Decode, got {error:?}");
    };
    assert_eq!(path, "result[0].zone_id");
}

/// The server sends a `field_changed` value and fields this client does not know:
/// the page decodes, the value is kept verbatim, and unknown fields are ignored.
#[tokio::test]
async fn unknown_enum_values_and_fields_are_kept_or_ignored() {
    let entry = json!({
        "id": "0190a0d0-0000-7000-8000-000000000001",
        "field_changed": "severity",
        "severity_score": 9,
        "current_value": "high"
    });
    let known = json!({"id": "0190a0d0-0000-7000-8000-000000000002", "field_changed": "status"});
    let server = server_with(scripted(vec![CannedResponse::page(
        vec![entry, known],
        25,
        None,
    )]))
    .await;
    let page = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect("decodes");
    let fields: Vec<_> = page
        .entries()
        .iter()
        .map(|entry| entry.field_changed.clone())
        .collect();
    assert_eq!(
        fields,
        vec![
            Some(FieldChanged::Unknown("severity".to_owned())),
            Some(FieldChanged::Status)
        ]
    );
    let round_trip = serde_json::to_value(&page.entries()[0]).unwrap();
    assert_eq!(round_trip["field_changed"], "severity");
}

/// An answer slower than the attempt timeout, retries off: a timeout error.
#[tokio::test]
async fn a_slow_answer_times_out_per_attempt() {
    let slow = CannedResponse::normal().with_delay(Duration::from_secs(3));
    let server = server_with(scripted(vec![slow])).await;
    let client = builder(&server)
        .with_retry(RetryPolicy::disabled())
        .with_attempt_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let error = account_log_error(&client, "times out").await;
    assert!(
        matches!(
            error,
            Error::Timeout {
                deadline: false,
                attempts: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

/// A slow first attempt is retried and the second, normal one succeeds.
#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let slow = CannedResponse::normal().with_delay(Duration::from_secs(3));
    let server = server_with(scripted(vec![slow])).await;
    let client = builder(&server)
        .with_retry(fast_retries())
        .with_attempt_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let page = client.audit_log(Scope::account(ACCOUNT_ID)).send().await;
    assert!(page.is_ok(), "{page:?}");
    assert_eq!(server.requests().len(), 2);
}

/// A deadline shorter than the server's `Retry-After`: no wait, the rate-limit error
/// comes back after one request.
#[tokio::test]
async fn the_deadline_bounds_waiting_for_retries() {
    let server = server_with(scripted(vec![CannedResponse::rate_limited(5)])).await;
    let client = builder(&server)
        .with_deadline(Duration::from_secs(1))
        .build()
        .unwrap();
    let error = account_log_error(&client, "limited").await;
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(delay), .. } if delay == Duration::from_secs(5)),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

/// An attempt timeout and a deadline too long to represent as instants (and a
/// `Retry-After` to wait under that deadline): the calls behave as if unbounded, no panic.
#[tokio::test]
async fn timeouts_too_long_to_represent_mean_no_limit() {
    let server = server_with(scripted(vec![CannedResponse::rate_limited(1)])).await;
    let client = builder(&server)
        .with_retry(fast_retries())
        .with_attempt_timeout(Duration::MAX)
        .with_deadline(Duration::MAX)
        .build()
        .unwrap();
    let page = client.audit_log(Scope::account(ACCOUNT_ID)).send().await;
    assert!(page.is_ok(), "{page:?}");
    assert_eq!(
        server.requests().len(),
        2,
        "the 429 was waited out and retried"
    );

    // A wait too long to add to the current time (1e19 s), with no cap on Retry-After and a
    // deadline: no retry, the 429 comes back.
    let server = server_with(scripted(vec![CannedResponse::rate_limited(10_u64.pow(19))])).await;
    let client = builder(&server)
        .with_retry(fast_retries().with_max_retry_after(Duration::MAX))
        .with_deadline(Duration::from_secs(5))
        .build()
        .unwrap();
    let error = account_log_error(&client, "limited").await;
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert_eq!(server.requests().len(), 1);
}

/// Nothing listens on the port: a transport error after the retries.
#[tokio::test]
async fn connection_failures_are_transport_errors_after_retries() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .with_credentials(cloudflare_security_center::Credentials::api_token("t").unwrap())
        .with_base_url(format!("http://127.0.0.1:{port}/client/v4"))
        .with_retry(fast_retries())
        .build()
        .unwrap();
    let error = account_log_error(&client, "refused").await;
    assert!(
        matches!(error, Error::Transport { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
}
