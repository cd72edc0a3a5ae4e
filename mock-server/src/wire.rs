//! How answers leave the server: the response body (whole, cut mid-way, or stalled after the head), a thin
//! wrapper around each connection's socket that lets a network fault act only once the bytes it promises were
//! really written, or close the connection with a reset, and the signals a connection's task takes from its
//! requests (drop the connection now, or shut it down gracefully with an HTTP/2 GOAWAY).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Sleep;

use crate::journal::lock;

/// No body on the connection waits for a flush.
const IDLE: u8 = 0;
/// A cut body handed over its bytes and waits until they were written out.
const WAITING: u8 = 1;
/// The bytes of a waiting cut body were written out: it may now cut the connection.
const FLUSHED: u8 = 2;

/// What a connection's socket, its task and the requests and bodies served on it share.
#[derive(Debug)]
pub(crate) struct Link {
    /// Where a cut HTTP/1 body is: [`IDLE`], [`WAITING`] or [`FLUSHED`].
    cut: AtomicU8,
    /// Close with a reset (`SO_LINGER` 0) rather than a FIN.
    reset: AtomicBool,
    /// Whether the connection speaks HTTP/2 (ALPN chose `h2`).
    h2: AtomicBool,
    /// Bytes written to the socket so far.
    written: AtomicU64,
    /// An HTTP/2 cut body waits until [`Link::written`] reaches this; `u64::MAX` when none waits.
    target: AtomicU64,
    /// The task of the HTTP/2 body that waits, to wake once its bytes were written or the connection is gone.
    waker: Mutex<Option<Waker>>,
    /// Requests received on this connection.
    requests: AtomicU64,
    /// Asks the connection's task to drop the connection at once.
    drop_now: Notify,
    /// Asks the connection's task to shut the connection down gracefully (an HTTP/2 GOAWAY).
    go_away: Notify,
    /// Set once the connection's task dropped the connection.
    gone: AtomicBool,
    gone_notify: Notify,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            cut: AtomicU8::new(IDLE),
            reset: AtomicBool::new(false),
            h2: AtomicBool::new(false),
            written: AtomicU64::new(0),
            target: AtomicU64::new(u64::MAX),
            waker: Mutex::new(None),
            requests: AtomicU64::new(0),
            drop_now: Notify::new(),
            go_away: Notify::new(),
            gone: AtomicBool::new(false),
            gone_notify: Notify::new(),
        }
    }
}

impl Link {
    /// Makes the connection close with a reset when hyper drops it.
    pub(crate) fn reset_on_close(&self) {
        self.reset.store(true, Ordering::Relaxed);
    }

    /// Records that the connection speaks HTTP/2.
    pub(crate) fn set_h2(&self) {
        self.h2.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_h2(&self) -> bool {
        self.h2.load(Ordering::Relaxed)
    }

    /// Counts a request received on this connection; returns how many there were, this one included.
    pub(crate) fn count_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Asks the connection's task to drop the connection (every stream on it fails).
    pub(crate) fn drop_connection(&self) {
        self.drop_now.notify_one();
    }

    /// Asks the connection's task for a graceful shutdown: HTTP/2 sends GOAWAY and lets open streams finish.
    pub(crate) fn go_away(&self) {
        self.go_away.notify_one();
    }

    /// Resolves once the connection asked for it with [`Link::drop_connection`].
    pub(crate) async fn drop_requested(&self) {
        self.drop_now.notified().await;
    }

    /// Resolves once [`Link::go_away`] asked for it.
    pub(crate) async fn go_away_requested(&self) {
        self.go_away.notified().await;
    }

    /// Called by the connection's task once it dropped the connection: wakes whatever waits on it.
    pub(crate) fn mark_gone(&self) {
        self.gone.store(true, Ordering::SeqCst);
        self.gone_notify.notify_waiters();
        self.wake_body();
    }

    pub(crate) fn is_gone(&self) -> bool {
        self.gone.load(Ordering::SeqCst)
    }

    /// Resolves once the connection's task dropped the connection.
    pub(crate) async fn gone(&self) {
        let notified = self.gone_notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_gone() {
            return;
        }
        notified.await;
    }

    fn wake_body(&self) {
        if let Some(waker) = lock(&self.waker).take() {
            waker.wake();
        }
    }

    /// Counts bytes written to the socket, waking an HTTP/2 body that waits for them.
    fn wrote(&self, count: usize) {
        let total = self.written.fetch_add(count as u64, Ordering::SeqCst) + count as u64;
        if total >= self.target.load(Ordering::SeqCst) {
            self.target.store(u64::MAX, Ordering::SeqCst);
            self.wake_body();
        }
    }
}

/// A connection's socket as hyper sees it: the TCP stream, plus the signals of [`Link`].
///
/// hyper buffers what it writes and drains the buffer before it flushes the socket, so a flush means every byte
/// handed to hyper so far has left; that is when a waiting cut body is woken.
#[derive(Debug)]
pub(crate) struct Socket {
    stream: TcpStream,
    link: Arc<Link>,
}

impl Socket {
    pub(crate) fn new(stream: TcpStream, link: Arc<Link>) -> Self {
        Socket { stream, link }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(context, buffer)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(context, buffer);
        if let Poll::Ready(Ok(count)) = written {
            self.link.wrote(count);
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write_vectored(context, bufs);
        if let Poll::Ready(Ok(count)) = written {
            self.link.wrote(count);
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.stream).poll_flush(context);
        // hyper flushes on every turn of its loop: a plain load keeps the normal path free of atomic writes.
        if flushed.is_ready()
            && self.link.cut.load(Ordering::Acquire) == WAITING
            && self
                .link
                .cut
                .compare_exchange(WAITING, FLUSHED, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            // The body and the socket are polled by the same task: wake it so the body can cut.
            context.waker().wake_by_ref();
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.link.reset.load(Ordering::Relaxed) {
            // Zero linger: closing discards the socket with an RST instead of a FIN.
            let _ = self.stream.set_zero_linger();
        }
    }
}

/// How a cut body ends once its part was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CutEnd {
    /// The connection goes: on HTTP/1 the body fails and hyper closes the connection (a FIN); on HTTP/2 the
    /// connection's task drops the whole TCP connection (a FIN, no RST_STREAM, no GOAWAY), failing every stream.
    DropConnection,
    /// Only the stream goes: on HTTP/2 the body fails, which hyper answers with RST_STREAM (INTERNAL_ERROR) while
    /// the connection goes on; HTTP/1 has no streams, so the connection closes as with `DropConnection`.
    ResetStream,
}

/// A response body; its exact length (the `Content-Length` hyper sends) is always the whole answer's.
#[derive(Debug)]
pub(crate) enum ReplyBody {
    /// The whole answer in one frame (`None` once sent, or for an empty body).
    Whole(Option<Bytes>),
    /// Sends `part` (a prefix of a body of `len` bytes), waits until it was written out, then ends as `end` says.
    Cut {
        part: Option<Bytes>,
        len: u64,
        link: Arc<Link>,
        end: CutEnd,
        /// HTTP/2: the socket's byte count at which the part has left (set when the part is handed over).
        target: u64,
        /// HTTP/2: the connection was asked to go; the body waits for that before it fails.
        dropping: bool,
    },
    /// Sends nothing of a body of `len` bytes until `timer` fires, then the connection goes (HTTP/1: the body
    /// fails and hyper closes it; HTTP/2: the connection's task drops it).
    Stall {
        len: u64,
        timer: Pin<Box<Sleep>>,
        link: Arc<Link>,
        dropping: bool,
    },
}

impl ReplyBody {
    /// The whole answer, sent at once.
    pub(crate) fn whole(body: Bytes) -> Self {
        ReplyBody::Whole((!body.is_empty()).then_some(body))
    }

    /// The first `len / 2` bytes of `body`, then the connection or the stream goes as `end` says.
    pub(crate) fn cut(body: &Bytes, link: Arc<Link>, end: CutEnd) -> Self {
        ReplyBody::Cut {
            part: Some(body.slice(..body.len() / 2)),
            len: body.len() as u64,
            link,
            end,
            target: 0,
            dropping: false,
        }
    }

    /// Nothing of a body of `len` bytes for `delay`, then the connection goes.
    pub(crate) fn stall(len: u64, delay: std::time::Duration, link: Arc<Link>) -> Self {
        ReplyBody::Stall {
            len,
            timer: Box::pin(tokio::time::sleep(delay)),
            link,
            dropping: false,
        }
    }
}

/// The error a cut or stalled body ends with (hyper then closes the connection, or resets the HTTP/2 stream).
fn aborted(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, what)
}

/// HTTP/2: asks the connection's task to drop the connection, then waits until it did (the body's task is woken by
/// [`Link::mark_gone`]) and fails, so that the stream's task ends.
fn drop_and_wait(
    link: &Link,
    dropping: &mut bool,
    context: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
    *lock(&link.waker) = Some(context.waker().clone());
    if !*dropping {
        *dropping = true;
        link.drop_connection();
    }
    if link.is_gone() {
        return Poll::Ready(Some(Err(aborted("connection dropped"))));
    }
    Poll::Pending
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ReplyBody::Whole(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ReplyBody::Cut {
                part,
                link,
                end,
                target,
                dropping,
                ..
            } if link.is_h2() => {
                // hyper's HTTP/2 server polls the body on the stream's task and writes on the connection's, and h2
                // flushes between frames, so a flush says nothing here: count the bytes that left instead.
                if *dropping {
                    return drop_and_wait(link, dropping, context);
                }
                *lock(&link.waker) = Some(context.waker().clone());
                if let Some(part) = part.take() {
                    *target = link.written.load(Ordering::SeqCst) + part.len() as u64;
                    if !part.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(part))));
                    }
                }
                if link.written.load(Ordering::SeqCst) < *target {
                    // Armed after the waker is in place; `Link::wrote` checks it after counting.
                    link.target.store(*target, Ordering::SeqCst);
                    if link.written.load(Ordering::SeqCst) < *target {
                        return Poll::Pending;
                    }
                }
                match end {
                    CutEnd::ResetStream => Poll::Ready(Some(Err(aborted("stream reset mid-body")))),
                    CutEnd::DropConnection => drop_and_wait(link, dropping, context),
                }
            }
            ReplyBody::Cut { part, link, .. } => {
                if let Some(part) = part.take() {
                    link.cut.store(WAITING, Ordering::Release);
                    if !part.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(part))));
                    }
                }
                // Woken by `Socket::poll_flush` once the part has left.
                match link
                    .cut
                    .compare_exchange(FLUSHED, IDLE, Ordering::AcqRel, Ordering::Relaxed)
                {
                    Ok(_) => Poll::Ready(Some(Err(aborted("connection dropped mid-body")))),
                    Err(_) => Poll::Pending,
                }
            }
            ReplyBody::Stall {
                timer,
                link,
                dropping,
                ..
            } => match timer.as_mut().poll(context) {
                Poll::Ready(()) if link.is_h2() => drop_and_wait(link, dropping, context),
                Poll::Ready(()) => Poll::Ready(Some(Err(aborted("stalled after the head")))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ReplyBody::Whole(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReplyBody::Whole(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            ReplyBody::Cut { len, .. } | ReplyBody::Stall { len, .. } => SizeHint::with_exact(*len),
        }
    }
}
