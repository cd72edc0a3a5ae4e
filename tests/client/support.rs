//! Shared set-up: a mock server and a client pointed at it.

use std::time::Duration;

use cloudflare_security_center::{Client, ClientBuilder, Credentials, RetryPolicy};
use mock_server::{Config, MockServer};

/// A server with a small, deterministic data set.
pub async fn server() -> MockServer {
    MockServer::start(
        Config::default()
            .with_entries(120)
            .with_insights_per_scope(2),
    )
    .await
}

/// A server with `config`.
pub async fn server_with(config: Config) -> MockServer {
    MockServer::start(config).await
}

/// Retries with millisecond backoff, so tests of retry behaviour stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(4))
}

/// A builder for `server`, authenticated with its API token, with fast retries.
pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .with_credentials(token(server))
        .with_base_url(server.base_url())
        .with_retry(fast_retries())
}

/// A client for `server`, authenticated with its API token, with fast retries.
pub fn client(server: &MockServer) -> Client {
    builder(server).build().expect("a valid configuration")
}

/// The server's API token as credentials.
pub fn token(server: &MockServer) -> Credentials {
    Credentials::api_token(server.credentials().api_token.clone()).expect("a valid token")
}

/// The first insight of the account scope.
pub fn first_issue(server: &MockServer) -> String {
    server.issue_ids(mock_server::Scope::Account)[0].clone()
}
