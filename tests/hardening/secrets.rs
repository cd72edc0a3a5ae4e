//! Secrets stay secret: the token, the key and the e-mail never appear in any `Debug`,
//! `Display` or error output, nor in the logs of the client and its HTTP stack captured at
//! TRACE, whether the request succeeds or fails.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudflare_security_center::{Client, Credentials, RetryPolicy, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockCredentials, MockServer};

const TOKEN: &str = "tok-SECRET-7f3a9c1e";
const KEY: &str = "key-SECRET-55e1d0b2";
const EMAIL: &str = "secret-mailbox-4411@example.com";
const SECRETS: [&str; 3] = [TOKEN, KEY, EMAIL];

/// A log sink shared by the subscriber's writers.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// Runs `body` on a current-thread runtime with every `tracing` event and `log` record of
/// this thread, TRACE and up, written to the returned text.
fn capture_trace(body: impl AsyncFnOnce() -> Vec<String>) -> (String, Vec<String>) {
    // `log` records (reqwest's) are forwarded to the thread's `tracing` subscriber.
    let _ = tracing_log::LogTracer::init();
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let outputs = tracing::subscriber::with_default(subscriber, || {
        tracing::trace!("capture-canary");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(body())
    });
    (buffer.text(), outputs)
}

/// The two credential kinds, each either accepted by the server or not.
fn credentials() -> Vec<(&'static str, Credentials)> {
    vec![
        (
            "token",
            Credentials::api_token(TOKEN).expect("a valid token"),
        ),
        (
            "key",
            Credentials::api_key(EMAIL, KEY).expect("a valid key"),
        ),
    ]
}

fn accepting_server(script: Vec<CannedResponse>) -> MockServer {
    MockServer::start_in_background(
        Config::default()
            .with_entries(3)
            .with_credentials(MockCredentials {
                api_token: TOKEN.to_owned(),
                api_key: KEY.to_owned(),
                email: EMAIL.to_owned(),
            })
            .with_script(script),
    )
    .expect("a mock server")
}

fn client_for(base_url: &str, credentials: Credentials) -> Client {
    Client::builder()
        .with_credentials(credentials)
        .with_base_url(base_url)
        .with_retry(
            RetryPolicy::default().with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .with_attempt_timeout(Duration::from_secs(10))
        .build()
        .expect("a valid configuration")
}

/// Every output a caller can see of one request: the client's and the result's `Debug`, and
/// for an error its `Display` and every source's.
async fn outputs_of(client: &Client) -> Vec<String> {
    let mut out = vec![format!("{client:?}")];
    match client.audit_log(Scope::account(ACCOUNT_ID)).send().await {
        Ok(page) => out.push(format!("{page:?}")),
        Err(error) => {
            out.push(format!("{error:?}"));
            out.push(format!("{error}"));
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                out.push(format!("{cause} / {cause:?}"));
                source = cause.source();
            }
        }
    }
    out
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows a secret:\n{text}");
    }
}

/// Each credential kind, on a request that succeeds, one the server refuses (401,
/// other credentials), one that fails after retried 503s, and one to a closed port; the
/// outputs and the TRACE log hold none of the secrets, while the log did capture the client's
/// own events (so the check can see what it looks for).
#[test]
fn secrets_are_absent_from_outputs_and_trace_logs() {
    let accepting = accepting_server(vec![
        CannedResponse::normal(),
        CannedResponse::normal(),
        CannedResponse::error(503, 10001, "unavailable"),
        CannedResponse::error(503, 10001, "unavailable"),
        CannedResponse::error(503, 10001, "unavailable"),
        CannedResponse::error(503, 10001, "unavailable"),
        CannedResponse::error(503, 10001, "unavailable"),
        CannedResponse::error(503, 10001, "unavailable"),
    ]);
    let refusing =
        MockServer::start_in_background(Config::default().with_entries(1)).expect("a mock server");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        format!(
            "http://{}/client/v4",
            listener.local_addr().expect("an address")
        )
    };
    let (log, outputs) = capture_trace(async || {
        let mut outputs = Vec::new();
        for (kind, credentials) in credentials() {
            outputs.push(format!("{kind}: {credentials:?}"));
            let builder = Client::builder().with_credentials(credentials.clone());
            outputs.push(format!("{builder:?}"));
            // Accepted (twice: normal), then 503s until the retries run out (once per kind).
            let accepted = client_for(&accepting.base_url(), credentials.clone());
            outputs.extend(outputs_of(&accepted).await);
            outputs
                .extend(outputs_of(&client_for(&refusing.base_url(), credentials.clone())).await);
            outputs.extend(outputs_of(&client_for(&closed, credentials.clone())).await);
        }
        let accepted = client_for(&accepting.base_url(), credentials()[0].1.clone());
        outputs.extend(outputs_of(&accepted).await);
        outputs.extend(outputs_of(&accepted).await);
        outputs
    });
    let all = outputs.join("\n");
    assert!(all.contains("HTTP 401"), "no refused request: {all}");
    assert!(all.contains("HTTP 503"), "no failing retries: {all}");
    assert!(
        all.contains("transport error"),
        "no transport failure: {all}"
    );
    assert!(
        all.contains("AuditLogEntry") || all.contains("SecurityCenterAuditLog"),
        "{all}"
    );
    assert_no_secret("an output", &all);
    assert!(
        log.contains("capture-canary"),
        "the capture saw nothing:\n{log}"
    );
    assert!(
        log.contains("sending request"),
        "the client's events were not captured:\n{log}"
    );
    assert_no_secret("the TRACE log", &log);
    // The servers did receive the secrets: the absence above is redaction, not silence.
    let sent = accepting.requests();
    assert!(
        sent.iter()
            .any(|r| r.header("authorization") == Some(&*format!("Bearer {TOKEN}")))
    );
    assert!(sent.iter().any(|r| r.header("x-auth-key") == Some(KEY)));
}
