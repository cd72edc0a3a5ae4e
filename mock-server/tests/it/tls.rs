//! TLS with HTTP/2 and HTTP/1.1 by ALPN: clients that trust the throw-away CA get the protocol they asked for, the
//! journal says which, and every fault and the rate limit do what they say over both protocols, the HTTP/2 ones
//! checked on the frames' outcomes (RST_STREAM, GOAWAY, a dropped connection) with a raw HTTP/2 client.

use std::io::ErrorKind;
use std::time::Duration;

use mock_server::{Config, Fault, HTML_ERROR_PAGE, MockRateLimit, MockScope, MockServer, codes};
use reqwest::Version;

use crate::support::{
    H2Reply, RawReply, Resp, error_chain, h2_connect, h2_get, head_field, raw_get_request,
    raw_send, send, tls_client,
};

/// `cut` was announced as `whole` is, with the full `content-length`, but brought only a prefix of its body: not
/// empty, at most half.
#[track_caller]
fn assert_cut_short(cut: &H2Reply, whole: &H2Reply) {
    assert_eq!(
        cut.header("content-length"),
        Some(whole.body.len().to_string().as_str())
    );
    assert!(
        !cut.body.is_empty() && cut.body.len() <= whole.body.len() / 2,
        "{} of {}",
        cut.body.len(),
        whole.body.len()
    );
    assert_eq!(cut.body[..], whole.body[..cut.body.len()]);
}

fn tls() -> Config {
    Config::default().with_entries(100).with_tls(true)
}

/// Both kinds of client a test runs each check with: HTTP/2 (the default offer) and HTTP/1.1 only.
const PROTOCOLS: [(bool, Version, &str); 2] = [
    (false, Version::HTTP_2, "HTTP/2.0"),
    (true, Version::HTTP_11, "HTTP/1.1"),
];

/// An authenticated GET of the account-wide audit log over TLS with this query.
async fn get_tls(server: &MockServer, http1_only: bool, query: &str) -> Resp {
    let url = format!("{}?{query}", server.audit_log_url(MockScope::Account, None));
    send(
        tls_client(server, http1_only)
            .get(url)
            .bearer_auth(&server.credentials().api_token),
    )
    .await
}

/// The base URL is https on 127.0.0.1 and the CA is PEM; a client that trusts it gets HTTP/2 by default and
/// HTTP/1.1 when it offers only that, the journal records each request's protocol, and a client that does not
/// trust the CA is refused by TLS.
#[tokio::test]
async fn alpn_gives_http2_by_default_and_http1_to_http1_only_clients() {
    let server = MockServer::start(tls()).await;
    assert!(
        server
            .base_url()
            .starts_with(&format!("https://127.0.0.1:{}/", server.addr().port())),
        "{}",
        server.base_url()
    );
    let pem = server.ca_pem().expect("a CA");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");

    let url = server.audit_log_url(MockScope::Account, None);
    for (http1_only, version, _) in PROTOCOLS {
        let response = tls_client(&server, http1_only)
            .get(&url)
            .query(&[("per_page", "1000"), ("order", "asc")])
            .bearer_auth(&server.credentials().api_token)
            .send()
            .await
            .expect("an answer over TLS");
        assert_eq!(response.version(), version);
        assert_eq!(response.status().as_u16(), 200);
        let value: serde_json::Value = response.json().await.expect("JSON");
        let entries: Vec<mock_server::MockAuditLogEntry> =
            serde_json::from_value(value["result"].clone()).unwrap();
        assert_eq!(entries, server.entries(MockScope::Account, None));
    }
    let versions: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.version)
        .collect();
    assert_eq!(versions, ["HTTP/2.0", "HTTP/1.1"]);

    let untrusting = reqwest::Client::new().get(&url).send().await;
    let error = untrusting.expect_err("the CA is not trusted");
    assert!(error.is_connect(), "{}", error_chain(&error));
    assert_eq!(
        server.requests().len(),
        2,
        "the refused client sent no request"
    );

    let plain = MockServer::start(Config::default().with_entries(5)).await;
    assert!(plain.base_url().starts_with("http://"));
    assert_eq!(plain.ca_pem(), None);
    let plain_requests = plain.requests();
    assert!(plain_requests.is_empty());
    crate::support::get_raw(&plain, &plain.audit_log_url(MockScope::Zone, None), "").await;
    assert_eq!(plain.requests()[0].version, "HTTP/1.1");
}

/// The faults that answer (429, 5XX, a proxy's HTML page, a truncated body, a slow answer, cursor faults) answer
/// the same over HTTP/2 and HTTP/1.1.
#[tokio::test]
async fn answering_faults_work_over_both_protocols() {
    for (http1_only, _, name) in PROTOCOLS {
        let server = MockServer::start(tls().with_fault(Fault::RateLimit {
            every: 2,
            retry_after_secs: 7,
        }))
        .await;
        assert_eq!(get_tls(&server, http1_only, "").await.status, 200);
        let r = get_tls(&server, http1_only, "").await;
        r.assert_failure(429, codes::RATE_LIMITED);
        assert_eq!(r.header("retry-after"), Some("7"), "{name}");

        let server = MockServer::start(tls().with_fault(Fault::ServerError {
            every: 1,
            status: 502,
        }))
        .await;
        get_tls(&server, http1_only, "")
            .await
            .assert_failure(502, codes::SERVER_ERROR);

        let server = MockServer::start(tls().with_fault(Fault::HtmlErrorPage { every: 1 })).await;
        let r = get_tls(&server, http1_only, "").await;
        assert_eq!(
            (r.status, r.header("content-type")),
            (502, Some("text/html"))
        );
        assert_eq!(&r.body[..], HTML_ERROR_PAGE.as_bytes(), "{name}");

        let server = MockServer::start(tls().with_fault(Fault::TruncatedBody { every: 2 })).await;
        let whole = get_tls(&server, http1_only, "per_page=10").await;
        let cut = get_tls(&server, http1_only, "per_page=10").await;
        assert_eq!((whole.status, cut.status), (200, 200));
        assert_eq!(cut.body.len(), whole.body.len() / 2, "{name}");
        assert!(whole.body.starts_with(&cut.body));
        assert_eq!(
            cut.header("content-length"),
            Some(cut.body.len().to_string().as_str())
        );

        let server = MockServer::start(tls().with_fault(Fault::Slow {
            every: 1,
            delay: Duration::from_millis(20),
        }))
        .await;
        assert_eq!(get_tls(&server, http1_only, "").await.status, 200);

        let server = MockServer::start(
            tls()
                .with_fault(Fault::RepeatedCursor)
                .with_fault(Fault::EmptyCursorOnLastPage),
        )
        .await;
        let first = get_tls(&server, http1_only, "per_page=60").await.json();
        let cursor = first["result_info"]["cursor"].as_str().unwrap().to_owned();
        let encoded: String = form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
        let again = get_tls(
            &server,
            http1_only,
            &format!("per_page=60&cursor={encoded}"),
        )
        .await
        .json();
        assert_eq!(
            again["result_info"]["cursor"].as_str(),
            Some(cursor.as_str())
        );
        let server = MockServer::start(tls().with_fault(Fault::EmptyCursorOnLastPage)).await;
        let last = get_tls(&server, http1_only, "per_page=1000").await.json();
        assert_eq!(last["result_info"]["cursor"], "", "{name}");
    }
}

/// The rate-limit emulation over HTTP/2 and HTTP/1.1: `Ratelimit` and `Ratelimit-Policy` on every answer, then
/// 429 with code 10100 and `Retry-After` over budget.
#[tokio::test]
async fn rate_limit_fields_and_429_work_over_both_protocols() {
    for (http1_only, _, name) in PROTOCOLS {
        let server = MockServer::start(
            tls().with_rate_limit(MockRateLimit::new(3, Duration::from_secs(60))),
        )
        .await;
        for left in [2, 1, 0] {
            let r = get_tls(&server, http1_only, "per_page=5").await;
            assert_eq!(r.status, 200, "{name}");
            assert_eq!(r.header("ratelimit-policy"), Some("\"default\";q=3;w=60"));
            let field = r.header("ratelimit").expect("a Ratelimit field");
            assert!(
                field.starts_with(&format!("\"default\";r={left};t=")),
                "{name}: {field}"
            );
        }
        let r = get_tls(&server, http1_only, "").await;
        r.assert_failure(429, codes::RATE_LIMIT_EXCEEDED);
        assert_eq!(r.header("retry-after"), Some("60"), "{name}");
        assert_eq!(r.header("ratelimit"), Some("\"default\";r=0;t=60"));
        assert_eq!(server.rate_limited_count(), 1);
        let versions: Vec<String> = server.requests().into_iter().map(|r| r.version).collect();
        let expected = if http1_only { "HTTP/1.1" } else { "HTTP/2.0" };
        assert!(
            versions.iter().all(|value| value == expected),
            "{versions:?}"
        );
    }
}

/// drop-mid-body, reset-before-head and stall over TLS with HTTP/1.1: a 200 head then a failed body, no answer
/// at all, and a head then a failed body.
#[tokio::test]
async fn network_faults_fail_http1_clients_over_tls() {
    for fault in [
        Fault::DropMidBody { every: 1 },
        Fault::ResetStream { every: 1 },
        Fault::Stall {
            every: 1,
            delay: Duration::from_millis(300),
        },
    ] {
        let server = MockServer::start(tls().with_fault(fault.clone())).await;
        let response = tls_client(&server, true)
            .get(server.audit_log_url(MockScope::Account, None))
            .query(&[("per_page", "50")])
            .bearer_auth(&server.credentials().api_token)
            .send()
            .await
            .expect("the head arrives");
        assert_eq!(
            (response.version(), response.status().as_u16()),
            (Version::HTTP_11, 200)
        );
        assert!(response.content_length().is_some_and(|count| count > 0));
        response.bytes().await.expect_err("the body fails");
    }
    let server = MockServer::start(tls().with_fault(Fault::ResetBeforeHead { every: 1 })).await;
    let error = tls_client(&server, true)
        .get(server.audit_log_url(MockScope::Account, None))
        .bearer_auth(&server.credentials().api_token)
        .send()
        .await
        .expect_err("no answer");
    assert!(!error.is_status(), "{}", error_chain(&error));
    assert_eq!(server.served_count(), 0);
}

/// rst-stream over HTTP/2: the head with the full length, part of the body (a prefix of the page, at most half),
/// then RST_STREAM with INTERNAL_ERROR; the same connection then serves the next request in full.
#[tokio::test]
async fn rst_stream_resets_only_that_stream_with_internal_error() {
    let server = MockServer::start(tls().with_fault(Fault::ResetStream { every: 2 })).await;
    let h2 = h2_connect(&server).await;
    let whole = h2_get(&h2, &server, "per_page=100").await;
    assert!(whole.error.is_none(), "{:?}", whole.error);
    assert_eq!(whole.status(), 200);

    let cut = h2_get(&h2, &server, "per_page=100").await;
    assert_eq!(cut.status(), 200);
    assert_cut_short(&cut, &whole);
    let error = cut.error.expect("the stream is reset");
    assert!(error.is_reset() && error.is_remote(), "{error}");
    assert_eq!(error.reason(), Some(h2::Reason::INTERNAL_ERROR));

    let after = h2_get(&h2, &server, "per_page=100").await;
    assert!(
        after.error.is_none(),
        "the connection goes on: {:?}",
        after.error
    );
    assert_eq!(after.body, whole.body);
    assert!(!h2.connection.is_finished());

    // What an HTTP client built on hyper reports.
    let server = MockServer::start(tls().with_fault(Fault::ResetStream { every: 1 })).await;
    let response = tls_client(&server, false)
        .get(server.audit_log_url(MockScope::Account, None))
        .query(&[("per_page", "100")])
        .bearer_auth(&server.credentials().api_token)
        .send()
        .await
        .expect("the head arrives");
    assert_eq!(response.version(), Version::HTTP_2);
    let error = response.bytes().await.expect_err("the stream is reset");
    let chain = error_chain(&error);
    assert!(
        chain.contains("stream error received: unexpected internal error encountered"),
        "{chain}"
    );
}

/// drop-mid-body over HTTP/2: the head with the full length, part of the body (a prefix, at most half), then the
/// TCP connection ends without RST_STREAM or GOAWAY: the stream and the connection fail with an I/O error.
#[tokio::test]
async fn drop_mid_body_over_http2_drops_the_whole_connection() {
    let server = MockServer::start(tls().with_fault(Fault::DropMidBody { every: 2 })).await;
    let whole = {
        let h2 = h2_connect(&server).await;
        h2_get(&h2, &server, "per_page=100").await
    };
    assert!(whole.error.is_none());
    let h2 = h2_connect(&server).await;
    let cut = h2_get(&h2, &server, "per_page=100").await;
    assert_eq!(cut.status(), 200);
    assert_cut_short(&cut, &whole);
    let error = cut.error.expect("the body fails");
    assert!(!error.is_reset() && !error.is_go_away(), "{error}");
    let ended = h2.connection.await.expect("the task ends");
    let error = ended.expect_err("the connection failed");
    assert!(error.is_io() && error.reason().is_none(), "{error}");
    assert_eq!(server.served_count(), 2);
}

/// reset-before-head over HTTP/2: the request is read, then the TCP connection is reset with no frame for the
/// stream; the request is journaled as HTTP/2 and counted as not served; a new connection is served.
#[tokio::test]
async fn reset_before_head_over_http2_resets_the_whole_connection() {
    let server = MockServer::start(tls().with_fault(Fault::ResetBeforeHead { every: 1 })).await;
    let h2 = h2_connect(&server).await;
    let reply = h2_get(&h2, &server, "").await;
    assert!(reply.head.is_none(), "no head");
    let error = reply.error.expect("no answer");
    assert!(error.is_io() && !error.is_reset(), "{error}");
    let ended = h2.connection.await.expect("the task ends");
    let error = ended.expect_err("the connection failed");
    let kind = error.get_io().map(std::io::Error::kind);
    assert_eq!(kind, Some(ErrorKind::ConnectionReset), "{error}");
    assert_eq!(server.served_count(), 0);
    let journal = server.requests();
    assert_eq!(journal.len(), 1);
    assert_eq!(journal[0].version, "HTTP/2.0");
}

/// stall over HTTP/2: the head, then no body for the delay, then the connection is dropped.
#[tokio::test]
async fn stall_over_http2_sends_the_head_then_drops_the_connection() {
    let server = MockServer::start(tls().with_fault(Fault::Stall {
        every: 1,
        delay: Duration::from_millis(800),
    }))
    .await;
    let h2 = h2_connect(&server).await;
    let request = http::Request::get(server.audit_log_url(MockScope::Account, None))
        .header(
            "authorization",
            format!("Bearer {}", server.credentials().api_token),
        )
        .body(())
        .unwrap();
    let (response, _) = h2
        .send
        .clone()
        .ready()
        .await
        .unwrap()
        .send_request(request, true)
        .unwrap();
    let (head, mut body) = response.await.expect("the head").into_parts();
    assert_eq!(head.status.as_u16(), 200);
    let early = tokio::time::timeout(Duration::from_millis(300), body.data()).await;
    assert!(early.is_err(), "no body while stalled");
    let error = body
        .data()
        .await
        .expect("an end")
        .expect_err("then the connection is dropped");
    assert!(!error.is_reset() && !error.is_go_away(), "{error}");
    let ended = h2.connection.await.expect("the task ends");
    assert!(ended.is_err(), "not a graceful close");
}

/// goaway over HTTP/2: two requests in flight on one connection, the second of which triggers the fault, both
/// finish in full; the server then says GOAWAY (NO_ERROR), a third request on that connection is refused, the
/// connection closes cleanly, and a new connection is served. A pooling client just reconnects.
#[tokio::test]
async fn goaway_over_http2_lets_in_flight_requests_finish_then_needs_a_new_connection() {
    let server = MockServer::start(tls().with_fault(Fault::GoAway { every: 2 }).with_fault(
        Fault::Slow {
            every: 1,
            delay: Duration::from_millis(200),
        },
    ))
    .await;
    let h2 = h2_connect(&server).await;
    let (a, b) = tokio::join!(
        h2_get(&h2, &server, "per_page=30"),
        h2_get(&h2, &server, "per_page=40")
    );
    for (reply, count) in [(&a, 30), (&b, 40)] {
        assert!(reply.error.is_none(), "{:?}", reply.error);
        let value: serde_json::Value = serde_json::from_slice(&reply.body).expect("a whole page");
        assert_eq!(value["result"].as_array().map(Vec::len), Some(count));
    }
    let c = h2_get(&h2, &server, "").await;
    let error = c.error.expect("refused after GOAWAY");
    assert!(error.is_go_away() && error.is_remote(), "{error}");
    assert_eq!(error.reason(), Some(h2::Reason::NO_ERROR));
    let ended = h2.connection.await.expect("the task ends");
    assert!(ended.is_ok(), "a graceful close: {ended:?}");
    assert_eq!(
        server.requests().len(),
        2,
        "the refused request never arrived"
    );

    let fresh = h2_connect(&server).await;
    assert!(h2_get(&fresh, &server, "").await.error.is_none());

    let client = tls_client(&server, false);
    for _ in 0..5 {
        let response = send(
            client
                .get(server.audit_log_url(MockScope::Account, None))
                .bearer_auth(&server.credentials().api_token),
        )
        .await;
        assert_eq!(response.status, 200);
    }
}

/// goaway over HTTP/1.1: the answer to the K-th request on a connection says `Connection: close` and the server
/// closes the connection after it; earlier answers keep it open.
#[test]
fn goaway_over_http1_closes_the_connection_after_the_answer() {
    let server = MockServer::start_in_background(
        Config::default()
            .with_entries(10)
            .with_fault(Fault::GoAway { every: 2 }),
    )
    .unwrap();
    // Two requests written at once on one connection: the first keeps it open, the second closes it.
    let mut both = raw_get_request(&server, "per_page=1", false);
    both.extend(raw_get_request(&server, "per_page=2", false));
    let reply = RawReply::read_to_close(&mut raw_send(server.addr(), &both));
    assert!(reply.end.is_ok(), "a plain close: {:?}", reply.end);
    let text = String::from_utf8_lossy(&reply.bytes).into_owned();
    let heads: Vec<&str> = text
        .split("HTTP/1.1 ")
        .filter(|part| !part.is_empty())
        .collect();
    assert_eq!(heads.len(), 2, "{text}");
    assert_eq!(head_field(heads[0], "connection"), None, "{}", heads[0]);
    assert_eq!(
        head_field(heads[1], "connection"),
        Some("close"),
        "{}",
        heads[1]
    );
    assert_eq!(server.requests().len(), 2);
}

/// rst-stream over plain HTTP/1.1, which has no streams: exactly the first half of the body, then the connection
/// closes, as with drop-mid-body.
#[test]
fn rst_stream_over_http1_cuts_the_connection_after_half_the_body() {
    let server = MockServer::start_in_background(
        Config::default()
            .with_entries(100)
            .with_fault(Fault::ResetStream { every: 2 }),
    )
    .unwrap();
    let whole = RawReply::read_to_close(&mut raw_send(
        server.addr(),
        &raw_get_request(&server, "per_page=10", true),
    ));
    let (_, page) = whole.split();
    let cut = RawReply::read_to_close(&mut raw_send(
        server.addr(),
        &raw_get_request(&server, "per_page=10", false),
    ));
    assert!(cut.end.is_ok(), "{:?}", cut.end);
    let (head, body) = cut.split();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert_eq!(
        head_field(&head, "content-length"),
        Some(page.len().to_string().as_str())
    );
    assert_eq!(body, &page[..page.len() / 2]);
}
