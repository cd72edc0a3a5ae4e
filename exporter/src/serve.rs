//! The listener of `--metrics-listen`: `/metrics` (the Prometheus text format, or OpenMetrics when the scraper's
//! `Accept` asks for it), `/healthz` (200 while the process runs) and `/readyz` (200 when [`Health`] says ready,
//! else 503 with the scopes that are not and why). HTTP/1.1 on hyper, already in the tree through reqwest; a
//! connection that sends no request head within a few seconds is closed, and at most [`MAX_CONNECTIONS`] are
//! served at once, so a stuck scraper cannot pile up tasks. Nothing listens without the flag.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::health::Health;
use crate::metrics::Metrics;

/// Connections served at once; more wait to be accepted.
pub(crate) const MAX_CONNECTIONS: usize = 32;

/// How long a connection may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

const PLAIN_TEXT: &str = "text/plain; charset=utf-8";

/// What the listener serves from.
#[derive(Clone, Debug)]
pub(crate) struct Endpoints {
    /// The metrics of `/metrics`.
    pub(crate) metrics: Arc<Metrics>,
    /// The judgement of `/readyz`.
    pub(crate) health: Arc<Health>,
}

/// A bound listener, serving until dropped.
#[derive(Debug)]
pub(crate) struct Listener {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl Listener {
    /// Binds `address` (port 0 picks a free one) and serves `endpoints` on the current runtime.
    pub(crate) async fn bind(address: SocketAddr, endpoints: Endpoints) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let task = tokio::spawn(accept(listener, Arc::new(endpoints)));
        Ok(Self { address, task })
    }

    /// The address it listens on.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, endpoints: Arc<Endpoints>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, or a connection reset before it was accepted: try again shortly.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let answer = answer(&endpoints, &request);
                async move { Ok::<_, Infallible>(answer) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

/// The answer to one request.
fn answer<B>(endpoints: &Endpoints, request: &Request<B>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD\n".to_owned(),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match request.uri().path() {
        "/metrics" => {
            let openmetrics = request
                .headers()
                .get_all(ACCEPT)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .any(asks_for_openmetrics);
            let (content_type, text) = endpoints.metrics.encode(openmetrics);
            respond(StatusCode::OK, content_type, text)
        }
        "/healthz" => plain(StatusCode::OK, "ok\n".to_owned()),
        "/readyz" => match endpoints.health.readiness() {
            Ok(()) => plain(StatusCode::OK, "ready\n".to_owned()),
            Err(scopes) => plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready:\n{scopes}"),
            ),
        },
        _ => plain(
            StatusCode::NOT_FOUND,
            "not found: try /metrics, /healthz or /readyz\n".to_owned(),
        ),
    }
}

/// Whether one `Accept` value lists OpenMetrics text with a non-zero weight.
fn asks_for_openmetrics(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let refused = parts.any(|parameter| {
            parameter
                .strip_prefix("q=")
                .and_then(|weight| weight.parse::<f64>().ok())
                .is_some_and(|weight| weight <= 0.0)
        });
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    })
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    respond(status, PLAIN_TEXT, text)
}

fn respond(status: StatusCode, content_type: &'static str, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::asks_for_openmetrics;

    /// Prometheus's own `Accept` (OpenMetrics first) picks OpenMetrics; a plain or refusing one does not.
    #[test]
    fn openmetrics_is_served_to_who_asks_for_it() {
        assert!(asks_for_openmetrics(
            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
             application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;q=0.4,\
             text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        ));
        assert!(!asks_for_openmetrics("text/plain;version=0.0.4"));
        assert!(!asks_for_openmetrics("*/*"));
        assert!(!asks_for_openmetrics("application/openmetrics-text; q=0"));
    }
}
