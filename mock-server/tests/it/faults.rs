//! Each injected fault does what it says, on the requests it says, and leaves the data intact (the network faults
//! are checked on the raw bytes of the connection); the canned script is consumed in order before normal serving.

use std::io::{ErrorKind, Read};
use std::time::Duration;

use mock_server::{CannedResponse, Config, Fault, HTML_ERROR_PAGE, MockScope, MockServer, codes};
use serde_json::json;

use crate::support::{
    RawReply, error_chain, get, get_raw, head_end, head_field, raw_get_request, raw_send, send,
    walk,
};

fn small() -> Config {
    Config::default().with_entries(100)
}

/// 429 with Retry-After on every K-th request, the rest served normally.
#[tokio::test]
async fn rate_limit_every_k_requests_with_retry_after() {
    let server = MockServer::start(small().with_fault(Fault::RateLimit {
        every: 3,
        retry_after_secs: 7,
    }))
    .await;
    let url = server.audit_log_url(MockScope::Account, None);
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let response = get_raw(&server, &url, "per_page=5").await;
        if response.status == 429 {
            response.assert_failure(429, codes::RATE_LIMITED);
            assert_eq!(response.header("retry-after"), Some("7"));
        }
        statuses.push(response.status);
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429, 200]);
}

/// A 5XX envelope every K-th request, with the configured status.
#[tokio::test]
async fn server_error_every_k_requests() {
    let server = MockServer::start(
        small()
            .with_fault(Fault::ServerError {
                every: 2,
                status: 503,
            })
            .with_fault(Fault::ServerError {
                every: 5,
                status: 500,
            }),
    )
    .await;
    let url = server.audit_log_url(MockScope::Zone, None);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = get_raw(&server, &url, "").await;
        if response.status != 200 {
            response.assert_failure(response.status, codes::SERVER_ERROR);
        }
        statuses.push(response.status);
    }
    assert_eq!(statuses, [200, 503, 200, 503, 500, 503]);
}

/// A truncated body is a 200 whose bytes are the first half of the normal page: not valid JSON.
#[tokio::test]
async fn truncated_body_is_the_first_half_of_the_page() {
    let server = MockServer::start(small().with_fault(Fault::TruncatedBody { every: 2 })).await;
    let url = server.audit_log_url(MockScope::Account, None);
    let whole = get_raw(&server, &url, "per_page=10").await;
    let cut = get_raw(&server, &url, "per_page=10").await;
    assert_eq!((whole.status, cut.status), (200, 200));
    assert_eq!(cut.body.len(), whole.body.len() / 2);
    assert!(whole.body.starts_with(&cut.body));
    assert!(serde_json::from_slice::<serde_json::Value>(&cut.body).is_err());
    assert_eq!(
        cut.header("content-length"),
        Some(cut.body.len().to_string().as_str())
    );
}

/// A proxy's HTML 502 page, with an HTML content type.
#[tokio::test]
async fn html_error_page_from_a_proxy() {
    let server = MockServer::start(small().with_fault(Fault::HtmlErrorPage { every: 1 })).await;
    let response = get_raw(&server, &server.audit_log_url(MockScope::Account, None), "").await;
    assert_eq!(response.status, 502);
    assert_eq!(response.header("content-type"), Some("text/html"));
    assert_eq!(&response.body[..], HTML_ERROR_PAGE.as_bytes());
}

/// Slow responses still arrive complete and correct (no timing is asserted).
#[tokio::test]
async fn slow_responses_arrive_intact() {
    let server = MockServer::start(small().with_fault(Fault::Slow {
        every: 1,
        delay: Duration::from_millis(30),
    }))
    .await;
    let (got, _) = walk(
        &server,
        MockScope::Account,
        None,
        &[("per_page", "40"), ("order", "asc")],
    )
    .await;
    assert_eq!(got, server.entries(MockScope::Account, None));
}

/// With the repeated-cursor fault, a page fetched with a cursor hands that same cursor back.
#[tokio::test]
async fn repeated_cursor_hands_back_the_cursor_already_given() {
    let server = MockServer::start(small().with_fault(Fault::RepeatedCursor)).await;
    let url = server.audit_log_url(MockScope::Account, None);
    let first = get_raw(&server, &url, "per_page=10").await.json();
    let cursor = first["result_info"]["cursor"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let next = send(get(&server, &url).query(&[("per_page", "10"), ("cursor", &cursor)]))
            .await
            .json();
        assert_eq!(
            next["result_info"]["cursor"].as_str(),
            Some(cursor.as_str())
        );
        assert_eq!(next["result"].as_array().map(Vec::len), Some(10));
    }
}

/// With the empty-cursor fault, the last page carries `"cursor": ""`; earlier pages carry real cursors.
#[tokio::test]
async fn empty_cursor_on_the_last_page() {
    let server = MockServer::start(small().with_fault(Fault::EmptyCursorOnLastPage)).await;
    let url = server.audit_log_url(MockScope::Zone, None);
    let first = get_raw(&server, &url, "per_page=60").await.json();
    let cursor = first["result_info"]["cursor"].as_str().unwrap().to_owned();
    assert!(!cursor.is_empty());
    let last = send(get(&server, &url).query(&[("per_page", "60"), ("cursor", &cursor)])).await;
    assert!(String::from_utf8_lossy(&last.body).contains(r#""cursor":"""#));
    assert_eq!(
        last.json()["result_info"],
        json!({"count":40,"per_page":60,"cursor":""})
    );
}

/// A walk that retries every 429 and 5XX still reads the full set exactly once: faults never corrupt paging.
#[tokio::test]
async fn retried_faults_leave_the_walk_intact() {
    let server = MockServer::start(
        Config::default()
            .with_entries(500)
            .with_fault(Fault::RateLimit {
                every: 3,
                retry_after_secs: 1,
            })
            .with_fault(Fault::ServerError {
                every: 4,
                status: 502,
            }),
    )
    .await;
    let url = server.audit_log_url(MockScope::Account, None);
    let mut cursor: Option<String> = None;
    let mut got = Vec::new();
    let mut failures = 0;
    loop {
        let mut query = vec![("per_page", "30".to_owned())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let response = send(get(&server, &url).query(&query)).await;
        if response.status != 200 {
            failures += 1;
            continue;
        }
        let value = response.json();
        got.extend(value["result"].as_array().unwrap().iter().cloned());
        match value["result_info"]["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert!(failures > 0);
    assert_eq!(
        got,
        server
            .entries_json(MockScope::Account, None)
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
    );
}

/// The script answers the first requests in order (429 then normal then 503 then a redirect), then serving goes on
/// normally; canned answers are not counted by count-based faults.
#[tokio::test]
async fn canned_script_is_answered_in_order_then_normal_serving() {
    let server = MockServer::start(
        small()
            .with_script([
                CannedResponse::rate_limited(1),
                CannedResponse::normal(),
                CannedResponse::error(503, 10013, "maintenance"),
                CannedResponse::redirect("http://203.0.113.7/client/v4/elsewhere"),
            ])
            .with_fault(Fault::RateLimit {
                every: 2,
                retry_after_secs: 9,
            }),
    )
    .await;
    assert_eq!(server.canned_remaining(), 4);
    let url = server.audit_log_url(MockScope::Account, None);
    let response = get_raw(&server, &url, "").await;
    response.assert_failure(429, codes::RATE_LIMITED);
    assert_eq!(response.header("retry-after"), Some("1"));
    assert_eq!(
        get_raw(&server, &url, "").await.status,
        200,
        "normal(): counted request 1"
    );
    get_raw(&server, &url, "").await.assert_failure(503, 10013);
    let response = get_raw(&server, &url, "").await;
    assert_eq!(response.status, 302);
    assert_eq!(
        response.header("location"),
        Some("http://203.0.113.7/client/v4/elsewhere")
    );
    assert_eq!(server.canned_remaining(), 0);
    // Counted requests 2 (429 fault) and 3 (normal).
    assert_eq!(get_raw(&server, &url, "").await.status, 429);
    assert_eq!(get_raw(&server, &url, "").await.status, 200);
}

/// Canned pages can carry what the generator never makes (unknown fields and enum values, success:false in a 200),
/// can be queued at run time, and can be delayed.
#[tokio::test]
async fn canned_pages_are_served_verbatim() {
    let server = MockServer::start(small()).await;
    let mut entries = server.entries_json(MockScope::Account, None)[..2].to_vec();
    entries[0]["field_changed"] = json!("severity");
    entries[1]["new_field"] = json!({"nested": true});
    server.push_canned(
        CannedResponse::page(entries.clone(), 2, Some("next-please"))
            .with_delay(Duration::from_millis(10)),
    );
    server.push_canned(CannedResponse::json(200, &json!({"success": false, "errors": [{"code": 1000, "message": "x"}], "messages": [], "result": null})));
    server.push_canned(
        CannedResponse::html(500, "<p>oops</p>")
            .with_header("x-extra", "1")
            .with_header("bad header", "dropped"),
    );
    let url = server.audit_log_url(MockScope::Account, None);
    let value = get_raw(&server, &url, "").await.json();
    assert_eq!(value["result"], json!(entries));
    assert_eq!(
        value["result_info"],
        json!({"count": 2, "per_page": 2, "cursor": "next-please"})
    );
    let value = get_raw(&server, &url, "").await;
    assert_eq!(
        (value.status, value.json()["success"].clone()),
        (200, json!(false))
    );
    let value = get_raw(&server, &url, "").await;
    assert_eq!(
        (value.status, value.header("x-extra"), &value.body[..]),
        (500, Some("1"), &b"<p>oops</p>"[..])
    );
    assert_eq!(value.header("content-type"), Some("text/html"));
}

/// A connection dropped mid-body: the head promises the whole page, its first half arrives, then a clean end of
/// file on a keep-alive connection, so the server closed it.
#[test]
fn drop_mid_body_sends_half_the_promised_bytes_then_closes() {
    // Request 1 is served whole, request 2 is cut.
    let server =
        MockServer::start_in_background(small().with_fault(Fault::DropMidBody { every: 2 }))
            .unwrap();
    let whole = RawReply::read_to_close(&mut raw_send(
        server.addr(),
        &raw_get_request(&server, "per_page=10", true),
    ));
    let (head, page) = whole.split();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(
        head_field(&head, "content-length"),
        Some(page.len().to_string().as_str())
    );

    let cut = RawReply::read_to_close(&mut raw_send(
        server.addr(),
        &raw_get_request(&server, "per_page=10", false),
    ));
    assert!(
        cut.end.is_ok(),
        "a plain close, not a reset or a timeout: {:?}",
        cut.end
    );
    let (head, body) = cut.split();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(
        head_field(&head, "content-length"),
        Some(page.len().to_string().as_str())
    );
    assert_eq!(head_field(&head, "content-type"), Some("application/json"));
    assert_eq!(body.len(), page.len() / 2);
    assert!(!body.is_empty() && body.len() < page.len());
    assert_eq!(body, &page[..body.len()]);
    assert_eq!(server.served_count(), 2);
}

/// To an HTTP client the dropped connection is an early end of file while reading the body, after a 200 head.
#[tokio::test]
async fn drop_mid_body_is_an_early_end_of_file_to_a_client() {
    let server = MockServer::start(small().with_fault(Fault::DropMidBody { every: 1 })).await;
    let url = server.audit_log_url(MockScope::Account, None);
    let response = get(&server, &url)
        .query(&[("per_page", "50")])
        .send()
        .await
        .expect("the head arrives");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.content_length().is_some_and(|count| count > 0));
    let error = response.bytes().await.expect_err("the body is cut");
    let chain = error_chain(&error);
    assert!(
        chain.contains("end of file before message length reached"),
        "{chain}"
    );
}

/// A reset before the head: the request is read, then the connection is reset without a single byte of response;
/// other requests are served as usual.
#[test]
fn reset_before_head_sends_no_bytes() {
    // Request 2 is reset; requests 1 and 3 are served.
    let server =
        MockServer::start_in_background(small().with_fault(Fault::ResetBeforeHead { every: 2 }))
            .unwrap();
    let first = RawReply::read_to_close(&mut raw_send(
        server.addr(),
        &raw_get_request(&server, "", true),
    ));
    assert!(first.split().0.starts_with("HTTP/1.1 200 OK"));

    let reset = RawReply::read_to_close(&mut raw_send(
        server.addr(),
        &raw_get_request(&server, "", false),
    ));
    assert!(
        reset.bytes.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&reset.bytes)
    );
    let kind = reset.end.as_ref().map_err(std::io::Error::kind);
    assert_eq!(kind, Err(ErrorKind::ConnectionReset));

    let third = RawReply::read_to_close(&mut raw_send(
        server.addr(),
        &raw_get_request(&server, "", true),
    ));
    assert!(third.split().0.starts_with("HTTP/1.1 200 OK"));
    assert_eq!(server.requests().len(), 3, "the reset request is journaled");
    assert_eq!(
        server.served_count(),
        2,
        "the reset request got no response"
    );
}

/// A stall: the head with the full Content-Length arrives, then nothing while the connection stays open, then the
/// server closes it without a byte of body.
#[test]
fn stall_sends_the_head_then_nothing_then_closes() {
    let server = MockServer::start_in_background(small().with_fault(Fault::Stall {
        every: 1,
        delay: Duration::from_millis(1500),
    }))
    .unwrap();
    let mut stream = raw_send(
        server.addr(),
        &raw_get_request(&server, "per_page=10", false),
    );
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    while head_end(&got).is_none() {
        let count = stream.read(&mut buffer).expect("the head arrives");
        assert!(count > 0, "closed before the head");
        got.extend_from_slice(&buffer[..count]);
    }
    let at = head_end(&got).unwrap();
    let head = String::from_utf8_lossy(&got[..at]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let promised: usize = head_field(&head, "content-length")
        .and_then(|value| value.parse().ok())
        .expect("a Content-Length");
    assert!(promised > 0);
    assert_eq!(got.len(), at, "no body bytes with the head");

    // Still open, and silent: a read that must not wait finds nothing yet.
    stream.set_nonblocking(true).unwrap();
    let kind = stream.read(&mut buffer).map_err(|error| error.kind());
    assert_eq!(kind, Err(ErrorKind::WouldBlock));
    stream.set_nonblocking(false).unwrap();

    let rest = RawReply::read_to_close(&mut stream);
    assert!(rest.end.is_ok(), "closed, not reset: {:?}", rest.end);
    assert!(
        rest.bytes.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&rest.bytes)
    );
}

/// The new fault forms parse from their text and print back to it; bad forms say what is wrong.
#[test]
fn network_fault_forms_round_trip_and_reject_bad_input() {
    for (text, fault) in [
        ("drop-mid-body:3", Fault::DropMidBody { every: 3 }),
        ("reset-before-head:1", Fault::ResetBeforeHead { every: 1 }),
        (
            "stall:2:2500",
            Fault::Stall {
                every: 2,
                delay: Duration::from_millis(2500),
            },
        ),
        ("rst-stream:5", Fault::ResetStream { every: 5 }),
        ("goaway:100", Fault::GoAway { every: 100 }),
    ] {
        assert_eq!(text.parse::<Fault>(), Ok(fault.clone()));
        assert_eq!(fault.to_string(), text);
    }
    for (bad, says) in [
        ("drop-mid-body", "expected drop-mid-body:K"),
        ("drop-mid-body:0", "period K must be at least 1"),
        ("drop-mid-body:1:2", "expected drop-mid-body:K"),
        ("reset-before-head:x", "period K must be a whole number"),
        ("stall:1", "expected stall:K:MILLIS"),
        ("stall:1:soon", "milliseconds must be a whole number"),
        ("stal:1:2", "unknown fault \"stal\""),
        ("rst-stream", "expected rst-stream:K"),
        ("goaway:0", "period K must be at least 1"),
        ("goaway:1:1", "expected goaway:K"),
    ] {
        let error = bad.parse::<Fault>().expect_err(bad);
        assert!(error.contains(says), "{bad:?}: {error}");
    }
}
