//! How answers leave the server: the response body (whole, cut mid-way, or stalled after the head) and a thin
//! wrapper around each connection's socket that lets a network fault cut the connection only once the bytes it
//! promises were really written, or close it with a reset.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// No body on the connection waits for a flush.
const IDLE: u8 = 0;
/// A cut body handed over its bytes and waits until they were written out.
const WAITING: u8 = 1;
/// The bytes of a waiting cut body were written out: it may now cut the connection.
const FLUSHED: u8 = 2;

/// What a connection's socket and the bodies served on it share.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// Where a cut body is: [`IDLE`], [`WAITING`] or [`FLUSHED`].
    cut: AtomicU8,
    /// Close with a reset (`SO_LINGER` 0) rather than a FIN.
    reset: AtomicBool,
}

impl Link {
    /// Makes the connection close with a reset when hyper drops it.
    pub(crate) fn reset_on_close(&self) {
        self.reset.store(true, Ordering::Relaxed);
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
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.stream).poll_flush(cx);
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
            cx.waker().wake_by_ref();
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
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

/// A response body; its exact length (the `Content-Length` hyper sends) is always the whole answer's.
#[derive(Debug)]
pub(crate) enum ReplyBody {
    /// The whole answer in one frame (`None` once sent, or for an empty body).
    Whole(Option<Bytes>),
    /// Sends `part` (a prefix of a body of `len` bytes), waits until it was written out, then fails, which makes
    /// hyper drop the connection mid-body.
    Cut {
        part: Option<Bytes>,
        len: u64,
        link: Arc<Link>,
    },
    /// Sends nothing of a body of `len` bytes until `timer` fires, then fails (hyper drops the connection).
    Stall { len: u64, timer: Pin<Box<Sleep>> },
}

impl ReplyBody {
    /// The whole answer, sent at once.
    pub(crate) fn whole(body: Bytes) -> Self {
        ReplyBody::Whole((!body.is_empty()).then_some(body))
    }
}

/// The error a cut or stalled body ends with (hyper then closes the connection).
fn aborted(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, what)
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ReplyBody::Whole(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
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
            ReplyBody::Stall { timer, .. } => match timer.as_mut().poll(cx) {
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
