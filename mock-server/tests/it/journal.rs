//! The journal records every request exactly as it arrived, and the server lifecycle (ports, background thread,
//! shutdown on drop) behaves as documented.

use mock_server::{Config, DEFAULT_API_KEY, DEFAULT_EMAIL, MockScope, MockServer};

use crate::support::{client, get, get_raw, raw_exchange, send};

/// Method, raw path, raw query (still percent-encoded) and headers are recorded in arrival order.
#[tokio::test]
async fn journal_records_request_line_query_and_headers() {
    let server = MockServer::start(Config::default().with_entries(20)).await;
    let issue = server.issue_ids(MockScope::Zone)[0].clone();
    let url = server.audit_log_url(MockScope::Zone, Some(&issue));
    get_raw(
        &server,
        &url,
        "per_page=5&since=2024-01-01T00%3A00%3A00%2B02%3A00&changed_by=a%40b.c",
    )
    .await;
    send(
        client()
            .get(server.audit_log_url(MockScope::Account, None))
            .header("x-auth-key", DEFAULT_API_KEY)
            .header("x-auth-email", DEFAULT_EMAIL)
            .header("user-agent", "probe/1.0"),
    )
    .await;
    send(get(
        &server,
        &server.audit_log_url(MockScope::Account, Some("a/b")),
    ))
    .await;

    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs.iter().map(|request| request.seq).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let request = &reqs[0];
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        format!(
            "/client/v4/zones/{}/security-center/insights/{issue}/audit-log",
            server.zone_id()
        )
    );
    assert_eq!(
        request.query.as_deref(),
        Some("per_page=5&since=2024-01-01T00%3A00%3A00%2B02%3A00&changed_by=a%40b.c")
    );
    assert_eq!(
        request.target(),
        format!("{}?{}", request.path, request.query.as_deref().unwrap())
    );
    assert_eq!(
        request.query_param("since").as_deref(),
        Some("2024-01-01T00:00:00+02:00")
    );
    assert_eq!(request.query_param("changed_by").as_deref(), Some("a@b.c"));
    assert_eq!(request.query_pairs().len(), 3);
    assert_eq!(
        request.header("Authorization"),
        Some(format!("Bearer {}", server.credentials().api_token).as_str())
    );
    assert!(request.unexpected.is_none());

    let request = &reqs[1];
    assert_eq!(request.query, None);
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.header("x-auth-key"), Some(DEFAULT_API_KEY));
    assert_eq!(request.header("X-Auth-Email"), Some(DEFAULT_EMAIL));
    assert_eq!(request.header("user-agent"), Some("probe/1.0"));

    assert!(
        reqs[2].path.ends_with("/insights/a%2Fb/audit-log"),
        "{}",
        reqs[2].path
    );

    assert_eq!(server.take_requests().len(), 3);
    assert!(server.requests().is_empty());
    get_raw(&server, &url, "").await;
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].seq, 3);
}

/// With the journal off nothing is kept, except unexpected requests, which are always kept.
#[tokio::test]
async fn journal_off_still_keeps_unexpected_requests() {
    let server = MockServer::start(
        Config::default()
            .with_entries(5)
            .with_request_journal(false),
    )
    .await;
    get_raw(&server, &server.audit_log_url(MockScope::Account, None), "").await;
    send(get(&server, &format!("{}/nope", server.base_url()))).await;
    assert!(server.requests().is_empty());
    let flagged = server.take_unexpected_requests();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].path, "/client/v4/nope");
}

/// A server started in the background needs no caller runtime, serves on the chosen port, and frees it on drop.
#[test]
fn background_server_serves_on_a_chosen_port_and_stops_on_drop() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server =
        MockServer::start_in_background(Config::default().with_entries(3).with_port(free)).unwrap();
    assert_eq!(server.addr().port(), free);
    assert_eq!(
        server.base_url(),
        format!("http://127.0.0.1:{free}/client/v4")
    );
    let path = server
        .audit_log_url(MockScope::Account, None)
        .replace(&format!("http://127.0.0.1:{free}"), "");
    let request = format!(
        "GET {path}?order=asc HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        server.credentials().api_token
    );
    let reply = raw_exchange(server.addr(), request.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    assert!(
        reply.contains(r#""result_info":{"count":3,"per_page":25}"#),
        "{reply}"
    );
    let addr = server.addr();
    drop(server);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "port still served after drop"
    );
}

/// Starting on a port that is taken is an error, not a panic.
#[tokio::test]
async fn taken_port_is_an_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    assert!(
        MockServer::try_start(Config::default().with_port(port))
            .await
            .is_err()
    );
    assert!(MockServer::start_in_background(Config::default().with_port(port)).is_err());
}
