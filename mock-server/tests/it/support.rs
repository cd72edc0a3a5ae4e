//! Small HTTP helpers shared by the tests: an authenticated GET, a full cursor walk, raw-socket requests, and for
//! TLS servers a client that trusts the server's CA and a raw HTTP/2 client that sees frames' outcomes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use bytes::Bytes;
use mock_server::{MockAuditLogEntry, MockScope, MockServer, ScopeId};
use serde_json::Value;

/// A response read to the end.
pub(crate) struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the Cloudflare failure envelope with this status and error code.
    #[track_caller]
    pub(crate) fn assert_failure(&self, status: u16, code: u32) {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        let value = self.json();
        assert_eq!(value["success"], Value::Bool(false));
        assert_eq!(value["result"], Value::Null);
        assert_eq!(value["messages"], serde_json::json!([]));
        assert_eq!(value["errors"][0]["code"], Value::from(code), "{value}");
        assert!(
            value["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(value["errors"].as_array().map(Vec::len), Some(1));
    }
}

thread_local! {
    /// One client per test thread (each tokio test has its own thread and runtime); building a client per
    /// request would dominate the run time.
    static CLIENT: reqwest::Client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
}

/// A client that never follows redirects.
pub(crate) fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

/// A GET with the server's bearer token.
pub(crate) fn get(server: &MockServer, url: &str) -> reqwest::RequestBuilder {
    client()
        .get(url)
        .bearer_auth(&server.credentials().api_token)
}

pub(crate) async fn send(request: reqwest::RequestBuilder) -> Resp {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body read");
    Resp {
        status,
        headers,
        body,
    }
}

/// GET `url` with a raw (already encoded) query string.
pub(crate) async fn get_raw(server: &MockServer, url: &str, query: &str) -> Resp {
    send(get(server, &format!("{url}?{query}"))).await
}

/// One page of `url` with `params` (and `cursor`, when given): its entries and the next cursor, if any.
pub(crate) async fn page(
    server: &MockServer,
    url: &str,
    params: &[(&str, &str)],
    cursor: Option<&str>,
) -> (Vec<MockAuditLogEntry>, Option<String>) {
    let mut query: Vec<(&str, &str)> = params.to_vec();
    if let Some(c) = cursor {
        query.push(("cursor", c));
    }
    let response = send(get(server, url).query(&query)).await;
    assert_eq!(
        response.status,
        200,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let value = response.json();
    let entries: Vec<MockAuditLogEntry> =
        serde_json::from_value(value["result"].clone()).expect("entries");
    assert_eq!(value["result_info"]["count"], Value::from(entries.len()));
    let next = value["result_info"]
        .get("cursor")
        .map(|c| c.as_str().expect("cursor is a string").to_owned());
    (entries, next)
}

/// Walks every page with `params`, returning the entries in served order and each page's size.
pub(crate) async fn walk(
    server: &MockServer,
    scope: impl Into<ScopeId>,
    issue: Option<&str>,
    params: &[(&str, &str)],
) -> (Vec<MockAuditLogEntry>, Vec<usize>) {
    let url = server.audit_log_url(scope, issue);
    let mut cursor: Option<String> = None;
    let mut entries = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let (got, next) = page(server, &url, params, cursor.as_deref()).await;
        sizes.push(got.len());
        entries.extend(got);
        match next {
            None => break,
            Some(c) => cursor = Some(c),
        }
        assert!(sizes.len() <= 100_000, "runaway walk");
    }
    (entries, sizes)
}

/// Sends raw bytes on a fresh connection and returns everything the server wrote until it closed.
pub(crate) fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// An authenticated HTTP/1.1 GET of the account-wide audit log with this query, as raw bytes; with `close` it asks
/// the server to close the connection after answering, without it only the server decides when it closes.
pub(crate) fn raw_get_request(server: &MockServer, query: &str, close: bool) -> Vec<u8> {
    let url = server.audit_log_url(MockScope::Account, None);
    let path = url.trim_start_matches(&format!("http://{}", server.addr()));
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!(
        "GET {path}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n{connection}\r\n",
        server.credentials().api_token
    )
    .into_bytes()
}

/// Opens a connection, sends `request`, and returns the stream (reads time out after 30 s rather than hang a test).
pub(crate) fn raw_send(addr: std::net::SocketAddr, request: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("read timeout");
    stream.write_all(request).expect("write");
    stream
}

/// Everything read from a connection until it ended, and how it ended (`Ok` for a clean end of file).
pub(crate) struct RawReply {
    pub bytes: Vec<u8>,
    pub end: std::io::Result<()>,
}

impl RawReply {
    /// Reads until the server closes the connection (or resets it).
    pub(crate) fn read_to_close(stream: &mut TcpStream) -> RawReply {
        let mut bytes = Vec::new();
        let end = stream.read_to_end(&mut bytes).map(drop);
        RawReply { bytes, end }
    }

    /// The head (status line and fields) and the body bytes after it; panics without a complete head.
    pub(crate) fn split(&self) -> (String, &[u8]) {
        let at = head_end(&self.bytes).unwrap_or_else(|| {
            panic!(
                "no complete head in {:?}",
                String::from_utf8_lossy(&self.bytes)
            )
        });
        (
            String::from_utf8_lossy(&self.bytes[..at]).into_owned(),
            &self.bytes[at..],
        )
    }
}

/// Where the body starts: just after the head's blank line.
pub(crate) fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

/// The value of a field in a raw head (case-insensitive name).
pub(crate) fn head_field<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(count, _)| count.trim().eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim())
}

/// A client that trusts the TLS server's CA and never follows redirects; with `http1_only` it offers only
/// `http/1.1` by ALPN, else it prefers `h2`.
pub(crate) fn tls_client(server: &MockServer, http1_only: bool) -> reqwest::Client {
    let pem = server.ca_pem().expect("a TLS server");
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).expect("the CA is PEM");
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .add_root_certificate(ca);
    let builder = if http1_only {
        builder.http1_only()
    } else {
        builder
    };
    builder.build().expect("client")
}

/// The error and its sources, joined, to find a cause in.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A raw HTTP/2 connection to a TLS server: requests go out on `send`; `connection` is the task that drives the
/// connection and ends with how it ended.
pub(crate) struct H2 {
    pub send: h2::client::SendRequest<Bytes>,
    pub connection: tokio::task::JoinHandle<Result<(), h2::Error>>,
}

/// What a raw HTTP/2 request got: the head (if any), the body bytes received, and the error it ended with.
pub(crate) struct H2Reply {
    pub head: Option<http::response::Parts>,
    pub body: Vec<u8>,
    pub error: Option<h2::Error>,
}

impl H2Reply {
    pub(crate) fn status(&self) -> u16 {
        self.head.as_ref().map_or(0, |h| h.status.as_u16())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head
            .as_ref()
            .and_then(|h| h.headers.get(name))
            .and_then(|value| value.to_str().ok())
    }
}

/// Opens a TLS connection that offers only `h2` and trusts the server's CA, and starts HTTP/2 on it.
pub(crate) async fn h2_connect(server: &MockServer) -> H2 {
    use rustls::pki_types::pem::PemObject;
    let pem = server.ca_pem().expect("a TLS server");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM"))
        .expect("a CA certificate");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("a name");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, connection) = h2::client::handshake(tls).await.expect("HTTP/2 handshake");
    H2 {
        send,
        connection: tokio::spawn(connection),
    }
}

/// Sends an authenticated GET of the account-wide audit log with this query on a raw HTTP/2 connection and reads
/// the answer to its end or its error.
pub(crate) async fn h2_get(h2: &H2, server: &MockServer, query: &str) -> H2Reply {
    let mut reply = H2Reply {
        head: None,
        body: Vec::new(),
        error: None,
    };
    let request = http::Request::get(format!(
        "{}?{query}",
        server.audit_log_url(MockScope::Account, None)
    ))
    .header(
        "authorization",
        format!("Bearer {}", server.credentials().api_token),
    )
    .body(())
    .expect("a request");
    let sent = h2
        .send
        .clone()
        .ready()
        .await
        .and_then(|mut send| send.send_request(request, true));
    let response = match sent {
        Ok((response, _)) => response.await,
        Err(error) => Err(error),
    };
    let (head, mut body) = match response {
        Ok(r) => r.into_parts(),
        Err(e) => {
            reply.error = Some(e);
            return reply;
        }
    };
    reply.head = Some(head);
    while let Some(chunk) = body.data().await {
        match chunk {
            Ok(bytes) => {
                let _ = body.flow_control().release_capacity(bytes.len());
                reply.body.extend_from_slice(&bytes);
            }
            Err(e) => {
                reply.error = Some(e);
                break;
            }
        }
    }
    reply
}
