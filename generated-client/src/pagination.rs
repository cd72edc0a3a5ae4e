//! Cursor pagination as lazy streams: one small generic pager that any cursor-paged operation
//! can reuse, with a loop guard, limits and optional prefetch of the next page.
//!
//! progenitor only generates single requests; walking pages safely (never skipping or repeating
//! an entry, stopping on a repeated cursor) is runtime behaviour, so it lives here.

use std::collections::HashSet;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use crate::Error;

/// A page of a cursor-paged response.
pub trait CursorPage: Send + 'static {
    /// What the page lists.
    type Item: Send + 'static;

    /// How many items the page holds.
    fn len(&self) -> usize;

    /// Whether the page holds no item.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cursor of the next page; `None` (or an empty cursor) ends the walk.
    fn next_cursor(&self) -> Option<&str>;

    /// The items, in order.
    fn into_items(self) -> Vec<Self::Item>;
}

/// When a walk stops early, and whether it fetches ahead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PagerOptions {
    /// Stop once this many items were yielded.
    pub max_items: Option<u64>,
    /// Stop after this many pages.
    pub max_pages: Option<u64>,
    /// Fetch the next page while the caller consumes the current one (needs a Tokio runtime;
    /// without one, pages are fetched on demand).
    pub prefetch: bool,
}

/// Walks pages from `start` (a cursor to resume from, or `None` for the first page), calling
/// `fetch` once per page. Ends after a page without a cursor, after the first error, or when a
/// limit is reached; a cursor seen before in this walk ends it with
/// [`Error::PaginationLoop`] instead of being requested again.
pub fn paginate<P, F, Fut>(fetch: F, start: Option<String>, options: PagerOptions) -> Pages<P>
where
    P: CursorPage,
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<P, Error>> + Send + 'static,
{
    let mut walk = Walk {
        fetch: Arc::new(fetch),
        next: Next::Fetch(start.clone()),
        seen: CursorSet::default(),
        pages: 0,
        items: 0,
        options,
        ahead: None,
    };
    if let Some(cursor) = &start {
        walk.seen.insert(cursor);
    }
    Pages {
        inner: stream::unfold(walk, Walk::step).boxed(),
        max_items: options.max_items,
    }
}

/// A stream of pages; see [`paginate`].
#[must_use = "streams do nothing unless polled"]
pub struct Pages<P> {
    inner: BoxStream<'static, Result<P, Error>>,
    max_items: Option<u64>,
}

impl<P: CursorPage> Pages<P> {
    /// A walk that fails at once with `error` (e.g. an input refused before sending).
    pub fn failed(error: Error) -> Self {
        Self {
            inner: stream::once(async { Err(error) }).boxed(),
            max_items: None,
        }
    }

    /// The next page, or `None` at the end (a convenience over `StreamExt::next`).
    pub async fn next(&mut self) -> Option<Result<P, Error>> {
        self.inner.next().await
    }

    /// The items of every page, in order, stopping at `max_items` exactly.
    pub fn items(self) -> Items<P::Item> {
        let remaining = self
            .max_items
            .map_or(usize::MAX, |max| usize::try_from(max).unwrap_or(usize::MAX));
        Items {
            pages: self
                .inner
                .map(|page| page.map(CursorPage::into_items))
                .boxed(),
            current: Vec::new().into_iter(),
            remaining,
        }
    }
}

impl<P> Stream for Pages<P> {
    type Item = Result<P, Error>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(context)
    }
}

/// A stream of items across pages; see [`Pages::items`].
///
/// Items are handed out of the current page's vector one at a time, so each entry is moved
/// once, however large the page.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T> {
    pages: BoxStream<'static, Result<Vec<T>, Error>>,
    current: std::vec::IntoIter<T>,
    remaining: usize,
}

// No field is ever pinned: the page stream is boxed and the items are plain values.
impl<T> Unpin for Items<T> {}

impl<T> Items<T> {
    /// The next item, or `None` at the end (a convenience over `StreamExt::next`).
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        StreamExt::next(self).await
    }
}

impl<T> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.remaining == 0 {
                return Poll::Ready(None);
            }
            if let Some(item) = this.current.next() {
                this.remaining -= 1;
                return Poll::Ready(Some(Ok(item)));
            }
            match std::task::ready!(this.pages.as_mut().poll_next(context)) {
                Some(Ok(items)) => this.current = items.into_iter(),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => {
                    this.remaining = 0;
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let buffered = self.current.len().min(self.remaining);
        let upper = (self.remaining == buffered).then_some(buffered);
        (buffered, upper)
    }
}

enum Next {
    Fetch(Option<String>),
    Fail(Error),
    Done,
}

struct Walk<P, F> {
    fetch: Arc<F>,
    next: Next,
    seen: CursorSet,
    pages: u64,
    items: u64,
    options: PagerOptions,
    ahead: Option<Ahead<P>>,
}

impl<P, F, Fut> Walk<P, F>
where
    P: CursorPage,
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<P, Error>> + Send + 'static,
{
    fn has_room(&self) -> bool {
        self.options.max_pages.is_none_or(|max| self.pages < max)
            && self.options.max_items.is_none_or(|max| self.items < max)
    }

    async fn step(mut self) -> Option<(Result<P, Error>, Self)> {
        let cursor = match std::mem::replace(&mut self.next, Next::Done) {
            Next::Done => return None,
            Next::Fail(error) => return Some((Err(error), self)),
            Next::Fetch(cursor) => cursor,
        };
        if !self.has_room() {
            return None;
        }
        let fetched = match self.ahead.take() {
            Some(ahead) => ahead.join().await,
            None => (self.fetch)(cursor).await,
        };
        let page = match fetched {
            Ok(page) => page,
            Err(error) => return Some((Err(error), self)),
        };
        self.pages += 1;
        self.items += page.len() as u64;
        match page.next_cursor().filter(|cursor| !cursor.is_empty()) {
            None => {}
            Some(cursor) if !self.seen.insert(cursor) => {
                self.next = Next::Fail(Error::PaginationLoop {
                    page: self.pages,
                    cursor: cursor.to_owned(),
                });
            }
            Some(cursor) => {
                let cursor = cursor.to_owned();
                if self.options.prefetch && self.has_room() {
                    self.ahead = Ahead::spawn((self.fetch)(Some(cursor.clone())));
                }
                self.next = Next::Fetch(Some(cursor));
            }
        }
        Some((Ok(page), self))
    }
}

/// The next page being fetched on the runtime; aborted if the stream is dropped first.
struct Ahead<P>(tokio::task::JoinHandle<Result<P, Error>>);

impl<P: Send + 'static> Ahead<P> {
    fn spawn(fetch: impl Future<Output = Result<P, Error>> + Send + 'static) -> Option<Self> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        Some(Self(runtime.spawn(fetch)))
    }

    async fn join(mut self) -> Result<P, Error> {
        match (&mut self.0).await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(Error::invalid_request("prefetch", error.to_string())),
        }
    }
}

impl<P> Drop for Ahead<P> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The cursors of one walk, kept as 128-bit keyed hashes so memory stays small on long walks.
#[derive(Default)]
struct CursorSet {
    keys: (
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    ),
    seen: HashSet<u128>,
}

impl CursorSet {
    /// Adds `cursor`; false when it was already there.
    fn insert(&mut self, cursor: &str) -> bool {
        let high = u128::from(self.keys.0.hash_one(cursor));
        let low = u128::from(self.keys.1.hash_one(cursor));
        self.seen.insert(high << 64 | low)
    }
}
