//! What production speaks: TLS, with a certificate the client must trust. A certificate that is
//! not trusted, or not for the host asked, is refused at once, never retried, and named, by every
//! TLS backend (`.ci/run` runs these tests with each backend feature alone and all together).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cloudflare_security_center::{Client, Error, Scope};
use mock_server::{ACCOUNT_ID, Config, MockServer};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{account_log_error, fast_retries, token};

/// A TCP relay in front of `target` that counts the connections made through it: each attempt
/// of the client opens one (a refused handshake leaves the connection unusable).
async fn counting_relay(target: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (address, count)
}

/// What the TLS backend in use says of a certificate from a CA the client does not trust, and of
/// one for another name. native-tls wins when it is enabled beside rustls (the client's
/// documented rule); on Linux it is OpenSSL.
const UNTRUSTED: &str = if cfg!(feature = "native-tls") {
    "(self-signed certificate in certificate chain)"
} else {
    "UnknownIssuer"
};
const OTHER_NAME: &str = if cfg!(feature = "native-tls") {
    "(hostname mismatch)"
} else {
    "not valid for name"
};

async fn tls_server() -> MockServer {
    MockServer::start(Config::default().with_entries(10).with_tls(true)).await
}

/// A TLS server whose CA the client was not told to trust, reached through a relay
/// that counts connections: a certificate error that names the host and the reason, after one
/// connection, and no request reached the server.
#[tokio::test]
async fn an_untrusted_certificate_is_refused_without_retries() {
    let server = tls_server().await;
    let (relay, connections) = counting_relay(server.addr()).await;
    let client = Client::builder()
        .with_credentials(token(&server))
        .with_base_url(format!("https://127.0.0.1:{}/client/v4", relay.port()))
        .with_retry(fast_retries().with_max_retries(4))
        .build()
        .expect("a valid configuration");
    let error = account_log_error(&client, "the certificate is not trusted").await;
    match &error {
        Error::Certificate { host, reason, .. } => {
            assert_eq!(host, "127.0.0.1");
            assert!(reason.contains(UNTRUSTED), "{reason}");
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(!error.is_retryable());
    assert_eq!(connections.load(Ordering::SeqCst), 1, "not retried");
    assert!(server.requests().is_empty(), "no request got through");
}

/// The server's certificate is trusted but issued for `localhost` and `127.0.0.1`,
/// and the client asks for another name that resolves to it: refused after one connection,
/// naming that host.
#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let server = tls_server().await;
    let (relay, connections) = counting_relay(server.addr()).await;
    let client = Client::builder()
        .with_credentials(token(&server))
        .with_base_url(format!(
            "https://api.example.test:{}/client/v4",
            relay.port()
        ))
        .with_root_certificate(server.ca_pem().expect("a TLS server"))
        .with_http_client(move |http| http.resolve("api.example.test", relay))
        .with_retry(fast_retries())
        .build()
        .expect("a valid configuration");
    let error = account_log_error(&client, "the certificate is for another name").await;
    match &error {
        Error::Certificate { host, reason, .. } => {
            assert_eq!(host, "api.example.test");
            assert!(reason.contains(OTHER_NAME), "{reason}");
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1, "not retried");
}

/// The same server with its CA trusted: the page arrives over HTTP/2.
#[tokio::test]
async fn a_trusted_certificate_serves_pages_over_http2() {
    let server = tls_server().await;
    let page = crate::support::client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect("a page");
    assert_eq!(page.entries().len(), 10);
    assert_eq!(server.requests()[0].version, "HTTP/2.0");
}
