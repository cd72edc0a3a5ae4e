//! Requests the real API refuses are refused the same way: 400, 401, 404 and 405 in the failure envelope.

use mock_server::{Config, DEFAULT_API_KEY, DEFAULT_EMAIL, MockScope, MockServer, codes};

use crate::support::{client, get, get_raw, send};

async fn server() -> MockServer {
    MockServer::start(Config::default().with_entries(200)).await
}

/// per_page must be an integer in 1..=1000; the bounds themselves are accepted.
#[tokio::test]
async fn rejects_per_page_outside_1_to_1000_or_not_an_integer() {
    let server = server().await;
    let url = server.audit_log_url(MockScope::Account, None);
    for bad in [
        "0",
        "1001",
        "-1",
        "2.5",
        "abc",
        "",
        "1e3",
        "99999999999999999999",
    ] {
        get_raw(&server, &url, &format!("per_page={bad}"))
            .await
            .assert_failure(400, codes::INVALID_PARAMETER);
    }
    for good in ["1", "1000", "25"] {
        let response = get_raw(&server, &url, &format!("per_page={good}")).await;
        assert_eq!(response.status, 200, "per_page={good}");
        assert_eq!(
            response.json()["result_info"]["per_page"].as_u64(),
            Some(good.parse().unwrap())
        );
    }
}

/// A cursor that is garbage, empty, truncated, altered, or taken from another walk is a 400, never a wrong page.
#[tokio::test]
async fn rejects_malformed_tampered_and_foreign_cursors() {
    let server = server().await;
    let url = server.audit_log_url(MockScope::Account, None);
    let first = get_raw(&server, &url, "per_page=10&field_changed=status")
        .await
        .json();
    let cursor = first["result_info"]["cursor"].as_str().unwrap().to_owned();
    // The genuine cursor works with the same filters.
    let enc = |c: &str| {
        c.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    };
    let ok = get_raw(
        &server,
        &url,
        &format!("per_page=10&field_changed=status&cursor={}", enc(&cursor)),
    )
    .await;
    assert_eq!(ok.status, 200);

    let mut altered = cursor.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for bad in [
        "garbage",
        "",
        &cursor[..cursor.len() - 4],
        &altered,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        get_raw(
            &server,
            &url,
            &format!("per_page=10&field_changed=status&cursor={}", enc(bad)),
        )
        .await
        .assert_failure(400, codes::INVALID_PARAMETER);
    }
    // Same cursor, filters changed between pages: refused.
    get_raw(
        &server,
        &url,
        &format!("per_page=10&cursor={}", enc(&cursor)),
    )
    .await
    .assert_failure(400, codes::INVALID_PARAMETER);
    get_raw(
        &server,
        &url,
        &format!(
            "per_page=10&field_changed=status&order=asc&cursor={}",
            enc(&cursor)
        ),
    )
    .await
    .assert_failure(400, codes::INVALID_PARAMETER);
    // A cursor sent without percent-encoding its '+' decodes differently and is refused when it contains one.
    if cursor.contains('+') {
        get_raw(
            &server,
            &url,
            &format!("per_page=10&field_changed=status&cursor={cursor}"),
        )
        .await
        .assert_failure(400, codes::INVALID_PARAMETER);
    }
}

/// since and before must be RFC 3339 date-times with an offset; an unencoded '+' offset is not one.
#[tokio::test]
async fn rejects_since_and_before_that_are_not_rfc3339() {
    let server = server().await;
    let url = server.audit_log_url(MockScope::Zone, None);
    for param in ["since", "before"] {
        for bad in [
            "2024-01-01",
            "yesterday",
            "2024-01-01T00:00:00",
            "1704067200",
            "2024-13-01T00:00:00Z",
            "",
        ] {
            get_raw(&server, &url, &format!("{param}={bad}"))
                .await
                .assert_failure(400, codes::INVALID_PARAMETER);
        }
        get_raw(&server, &url, &format!("{param}=2024-01-01T00:00:00+02:00"))
            .await
            .assert_failure(400, codes::INVALID_PARAMETER);
        for good in [
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.123456789Z",
            "2024-01-01T00:00:00%2B02:00",
        ] {
            assert_eq!(
                get_raw(&server, &url, &format!("{param}={good}"))
                    .await
                    .status,
                200,
                "{param}={good}"
            );
        }
    }
}

/// field_changed and order only take their enum values (case-sensitive); a parameter given twice is refused.
#[tokio::test]
async fn rejects_values_outside_the_enums_and_repeated_parameters() {
    let server = server().await;
    let url = server.audit_log_url(MockScope::Account, None);
    for bad in [
        "field_changed=severity",
        "field_changed=Status",
        "field_changed=",
        "order=ascending",
        "order=DESC",
        "order=",
        "per_page=5&per_page=6",
        "order=asc&order=asc",
    ] {
        get_raw(&server, &url, bad)
            .await
            .assert_failure(400, codes::INVALID_PARAMETER);
    }
    for good in [
        "field_changed=status",
        "field_changed=user_classification",
        "order=asc",
        "order=desc",
        "unknown=1",
    ] {
        assert_eq!(get_raw(&server, &url, good).await.status, 200, "{good}");
    }
}

/// Without a matching token, or a matching key and email pair, the answer is 401 with code 10000.
#[tokio::test]
async fn requires_a_bearer_token_or_a_key_and_email_pair() {
    let server = server().await;
    let url = server.audit_log_url(MockScope::Account, None);
    let token = server.credentials().api_token.clone();
    let c = client();
    let refused = [
        c.get(&url),
        c.get(&url).bearer_auth("wrong-token"),
        c.get(&url)
            .header("authorization", format!("Basic {token}")),
        c.get(&url)
            .header("authorization", format!("Bearer {token}x")),
        c.get(&url).header("x-auth-key", DEFAULT_API_KEY),
        c.get(&url).header("x-auth-email", DEFAULT_EMAIL),
        c.get(&url)
            .header("x-auth-key", DEFAULT_API_KEY)
            .header("x-auth-email", "other@example.com"),
        c.get(&url)
            .header("x-auth-key", "0000")
            .header("x-auth-email", DEFAULT_EMAIL),
    ];
    for request in refused {
        let response = send(request).await;
        response.assert_failure(401, codes::AUTHENTICATION_ERROR);
        assert_eq!(
            response.json()["errors"][0]["message"],
            "Authentication error"
        );
    }
    let accepted = [
        c.get(&url).bearer_auth(&token),
        c.get(&url)
            .header("authorization", format!("bearer {token}")),
        c.get(&url)
            .header("x-auth-key", DEFAULT_API_KEY)
            .header("x-auth-email", DEFAULT_EMAIL),
        c.get(&url)
            .bearer_auth("wrong")
            .header("x-auth-key", DEFAULT_API_KEY)
            .header("x-auth-email", DEFAULT_EMAIL),
    ];
    for request in accepted {
        assert_eq!(send(request).await.status, 200);
    }
}

/// An insight id the scope does not have is a 404 envelope, and a legitimate request (not flagged).
#[tokio::test]
async fn unknown_insight_is_404_and_not_flagged() {
    let server = server().await;
    let zone_issue = server.issue_ids(MockScope::Zone)[0].clone();
    for url in [
        server.audit_log_url(MockScope::Account, Some("0000")),
        server.audit_log_url(MockScope::Account, Some(&zone_issue)),
        server.audit_log_url(MockScope::Account, Some("a/b")),
        server.audit_log_url(MockScope::Account, Some("x y?#%")),
    ] {
        send(get(&server, &url))
            .await
            .assert_failure(404, codes::NOT_FOUND);
    }
    server.assert_no_unexpected_requests();
}

/// Paths outside the six routes, other methods and unknown account or zone ids are answered (404/405) and
/// flagged as unexpected.
#[tokio::test]
async fn unknown_routes_methods_and_ids_are_flagged() {
    let server = server().await;
    let base = server.base_url();
    let acct = server.account_id();
    for path in [
        format!("/accounts/{acct}/security-center/audit-log"),
        format!("/accounts/{acct}/security-center/insights/audit-log/"),
        format!("/accounts/{acct}/security-center/insights/"),
        "/user/tokens/verify".to_owned(),
    ] {
        send(get(&server, &format!("{base}{path}")))
            .await
            .assert_failure(404, codes::NO_ROUTE);
    }
    send(client().get(format!(
        "http://{}/accounts/{acct}/security-center/insights/audit-log",
        server.addr()
    )))
    .await
    .assert_failure(404, codes::NO_ROUTE);
    send(get(
        &server,
        &format!(
            "{base}/accounts/{}/security-center/insights/audit-log",
            "f".repeat(32)
        ),
    ))
    .await
    .assert_failure(404, codes::NO_ROUTE);
    send(get(
        &server,
        &format!("{base}/zones/{acct}/security-center/insights/audit-log"),
    ))
    .await
    .assert_failure(404, codes::NO_ROUTE);
    let url = server.audit_log_url(MockScope::Account, None);
    send(
        client()
            .post(&url)
            .bearer_auth(&server.credentials().api_token),
    )
    .await
    .assert_failure(405, codes::METHOD_NOT_ALLOWED);

    let flagged = server.take_unexpected_requests();
    assert_eq!(flagged.len(), 8, "{flagged:#?}");
    assert!(flagged.iter().all(|request| request.unexpected.is_some()));
    assert_eq!(flagged[7].method, "POST");
    assert!(server.unexpected_requests().is_empty());
    server.assert_no_unexpected_requests();
}

/// A strict server that received an unexpected request panics when dropped; taking them first disarms it.
#[test]
fn strict_server_fails_loudly_on_drop_after_an_unexpected_request() {
    let server = MockServer::start_in_background(Config::default().with_entries(10)).unwrap();
    let reply = crate::support::raw_exchange(
        server.addr(),
        b"GET /client/v4/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(server)));
    let message = caught.expect_err("drop must panic");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("/client/v4/nowhere"), "{text}");

    let lenient =
        MockServer::start_in_background(Config::default().with_entries(10).with_strict(false))
            .unwrap();
    crate::support::raw_exchange(
        lenient.addr(),
        b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(lenient.unexpected_requests().len(), 1);
    drop(lenient);
}

/// Bytes that are not HTTP get an HTTP error or a closed connection, and the server keeps serving.
#[tokio::test]
async fn malformed_http_does_not_stop_the_server() {
    let server = server().await;
    let addr = server.addr();
    let junk = tokio::task::spawn_blocking(move || {
        crate::support::raw_exchange(addr, b"\x00\x01garbage\r\n\r\n");
        crate::support::raw_exchange(
            addr,
            b"GET /client/v4/%ZZ?%%%=\xff HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert!(junk.is_empty() || junk.starts_with("HTTP/1.1 4"), "{junk}");
    let ok = send(get(
        &server,
        &server.audit_log_url(MockScope::Account, None),
    ))
    .await;
    assert_eq!(ok.status, 200);
    server.take_unexpected_requests();
}
