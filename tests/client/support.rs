//! Shared set-up: a mock server and a client pointed at it.

use std::time::Duration;

use cloudflare_security_center::{Client, ClientBuilder, Credentials, Error, RetryPolicy, Scope};
use mock_server::{ACCOUNT_ID, Config, MockScope, MockServer};

/// A server with a small, deterministic data set.
pub(crate) async fn server() -> MockServer {
    MockServer::start(
        Config::default()
            .with_entries(120)
            .with_insights_per_scope(2),
    )
    .await
}

/// A server with `config`.
pub(crate) async fn server_with(config: Config) -> MockServer {
    MockServer::start(config).await
}

/// How a suite's client talks to the mock: the suites that matter run over both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// HTTP/1.1 in clear text, as most tests.
    ClearHttp1,
    /// TLS with HTTP/2 negotiated by ALPN, as production traffic to `api.cloudflare.com`.
    TlsHttp2,
}

impl Transport {
    /// Both transports.
    pub(crate) const ALL: [Transport; 2] = [Transport::ClearHttp1, Transport::TlsHttp2];

    /// The protocol version the mock's journal records for this transport.
    pub(crate) fn version(self) -> &'static str {
        match self {
            Transport::ClearHttp1 => "HTTP/1.1",
            Transport::TlsHttp2 => "HTTP/2.0",
        }
    }
}

/// A server with `config`, serving over `transport`.
pub(crate) async fn server_over(transport: Transport, config: Config) -> MockServer {
    MockServer::start(config.with_tls(transport == Transport::TlsHttp2)).await
}

/// Retries with millisecond backoff, so tests of retry behaviour stay fast.
pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(4))
}

/// A builder for `server`, authenticated with its API token, with fast retries; trusting its CA
/// when it serves TLS.
pub(crate) fn builder(server: &MockServer) -> ClientBuilder {
    let builder = Client::builder()
        .with_credentials(token(server))
        .with_base_url(server.base_url())
        .with_retry(fast_retries());
    match server.ca_pem() {
        Some(pem) => builder.with_root_certificate(pem),
        None => builder,
    }
}

/// A client for `server`, authenticated with its API token, with fast retries.
pub(crate) fn client(server: &MockServer) -> Client {
    builder(server).build().expect("a valid configuration")
}

/// The error of one call for the account-wide log, which the scenario expects to fail
/// (`expected` says how, for the panic message if it succeeds).
pub(crate) async fn account_log_error(client: &Client, expected: &str) -> Error {
    client
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect_err(expected)
}

/// The server's API token as credentials.
pub(crate) fn token(server: &MockServer) -> Credentials {
    Credentials::api_token(server.credentials().api_token.clone()).expect("a valid token")
}

/// The first insight of the account scope.
pub(crate) fn first_issue(server: &MockServer) -> String {
    server.issue_ids(MockScope::Account)[0].clone()
}
