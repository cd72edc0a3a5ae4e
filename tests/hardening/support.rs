//! Shared set-up of the hardening tests that talk to the mock server: one client for it.

use std::time::Duration;

use cloudflare_security_center::{Client, Credentials, RetryPolicy};
use mock_server::MockServer;

/// A client for `server`, authenticated with its API token, with millisecond retries.
pub(crate) fn client(server: &MockServer) -> Client {
    Client::builder()
        .with_credentials(
            Credentials::api_token(server.credentials().api_token.clone()).expect("a token"),
        )
        .with_base_url(server.base_url())
        .with_retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .build()
        .expect("a valid configuration")
}
