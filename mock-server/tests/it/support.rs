//! Small HTTP helpers shared by the tests: an authenticated GET, a full cursor walk, raw-socket requests.

use std::io::{Read, Write};
use std::net::TcpStream;

use bytes::Bytes;
use mock_server::{AuditLogEntry, MockServer, Scope, ScopeId};
use serde_json::Value;

/// A response read to the end.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the Cloudflare failure envelope with this status and error code.
    #[track_caller]
    pub fn assert_failure(&self, status: u16, code: u32) {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
        let v = self.json();
        assert_eq!(v["success"], Value::Bool(false));
        assert_eq!(v["result"], Value::Null);
        assert_eq!(v["messages"], serde_json::json!([]));
        assert_eq!(v["errors"][0]["code"], Value::from(code), "{v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(v["errors"].as_array().map(Vec::len), Some(1));
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
pub fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

/// A GET with the server's bearer token.
pub fn get(server: &MockServer, url: &str) -> reqwest::RequestBuilder {
    client()
        .get(url)
        .bearer_auth(&server.credentials().api_token)
}

pub async fn send(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.expect("request sent");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.expect("body read");
    Resp {
        status,
        headers,
        body,
    }
}

/// GET `url` with a raw (already encoded) query string.
pub async fn get_raw(server: &MockServer, url: &str, query: &str) -> Resp {
    send(get(server, &format!("{url}?{query}"))).await
}

/// One page of `url` with `params` (and `cursor`, when given): its entries and the next cursor, if any.
pub async fn page(
    server: &MockServer,
    url: &str,
    params: &[(&str, &str)],
    cursor: Option<&str>,
) -> (Vec<AuditLogEntry>, Option<String>) {
    let mut q: Vec<(&str, &str)> = params.to_vec();
    if let Some(c) = cursor {
        q.push(("cursor", c));
    }
    let resp = send(get(server, url).query(&q)).await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let v = resp.json();
    let entries: Vec<AuditLogEntry> = serde_json::from_value(v["result"].clone()).expect("entries");
    assert_eq!(v["result_info"]["count"], Value::from(entries.len()));
    let next = v["result_info"]
        .get("cursor")
        .map(|c| c.as_str().expect("cursor is a string").to_owned());
    (entries, next)
}

/// Walks every page with `params`, returning the entries in served order and each page's size.
pub async fn walk(
    server: &MockServer,
    scope: impl Into<ScopeId>,
    issue: Option<&str>,
    params: &[(&str, &str)],
) -> (Vec<AuditLogEntry>, Vec<usize>) {
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
pub fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// An authenticated HTTP/1.1 GET of the account-wide audit log with this query, as raw bytes; with `close` it asks
/// the server to close the connection after answering, without it only the server decides when it closes.
pub fn raw_get_request(server: &MockServer, query: &str, close: bool) -> Vec<u8> {
    let url = server.audit_log_url(Scope::Account, None);
    let path = url.trim_start_matches(&format!("http://{}", server.addr()));
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!(
        "GET {path}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n{connection}\r\n",
        server.credentials().api_token
    )
    .into_bytes()
}

/// Opens a connection, sends `request`, and returns the stream (reads time out after 30 s rather than hang a test).
pub fn raw_send(addr: std::net::SocketAddr, request: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("read timeout");
    s.write_all(request).expect("write");
    s
}

/// Everything read from a connection until it ended, and how it ended (`Ok` for a clean end of file).
pub struct RawReply {
    pub bytes: Vec<u8>,
    pub end: std::io::Result<()>,
}

impl RawReply {
    /// Reads until the server closes the connection (or resets it).
    pub fn read_to_close(s: &mut TcpStream) -> RawReply {
        let mut bytes = Vec::new();
        let end = s.read_to_end(&mut bytes).map(drop);
        RawReply { bytes, end }
    }

    /// The head (status line and fields) and the body bytes after it; panics without a complete head.
    pub fn split(&self) -> (String, &[u8]) {
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
pub fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

/// The value of a field in a raw head (case-insensitive name).
pub fn head_field<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}
