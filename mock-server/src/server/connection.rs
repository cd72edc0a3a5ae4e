//! Driving connections: the accept loop, one task per connection, the TLS handshake and ALPN's choice of HTTP/2
//! or HTTP/1.1, and the shutdown a fault asks for (GOAWAY, or dropping the socket at once).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::wire::{Link, Socket};

use super::State;
use super::respond::handle;

/// How long a client has to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until the future is dropped; dropping it also drops every open connection. With `tls`,
/// each connection is served over TLS, as HTTP/2 or HTTP/1.1 as ALPN chose.
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>, tls: Option<TlsAcceptor>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, state.clone(), tls.clone()));
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Marks a connection gone when its task ends, however it ends (aborted with the server included), so that
/// requests and bodies waiting for that are released.
struct Gone(Arc<Link>);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.mark_gone();
    }
}

/// Serves one connection until it ends, or until a fault has it dropped.
async fn connection(stream: TcpStream, state: Arc<State>, tls: Option<TlsAcceptor>) {
    let link = Arc::new(Link::default());
    let _gone = Gone(link.clone());
    let socket = Socket::new(stream, link.clone());
    let service = {
        let link = link.clone();
        service_fn(move |request| handle(state.clone(), link.clone(), request))
    };
    let http1 = || {
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new());
        builder
    };
    match tls {
        None => {
            let connection = http1().serve_connection(TokioIo::new(socket), service);
            drive(connection, &link, |c| c.graceful_shutdown()).await;
        }
        Some(acceptor) => {
            let Ok(Ok(stream)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await
            else {
                return;
            };
            if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                link.set_h2();
                let connection = http2::Builder::new(TokioExecutor::new())
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service);
                drive(connection, &link, |c| c.graceful_shutdown()).await;
            } else {
                let connection = http1().serve_connection(TokioIo::new(stream), service);
                drive(connection, &link, |c| c.graceful_shutdown()).await;
            }
        }
    }
}

/// Runs a connection to its end; shuts it down gracefully when a request asks for it ([`Link::go_away`]), and drops
/// it, closing the socket at once, when one asks for that ([`Link::drop_connection`]).
async fn drive<C: Future>(connection: C, link: &Link, mut graceful: impl FnMut(Pin<&mut C>)) {
    tokio::pin!(connection);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            biased;
            () = link.drop_requested() => break,
            () = link.go_away_requested(), if !shutting_down => {
                shutting_down = true;
                graceful(connection.as_mut());
            }
            _ = connection.as_mut() => break,
        }
    }
}
