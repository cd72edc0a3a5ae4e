//! Cursor pagination as lazy streams: one small generic pager that any cursor-paged operation
//! of this crate can reuse, with a loop guard, limits and optional prefetch of the next page.
//! Only the stream types ([`Pages`], [`Items`]) are public.
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
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::Error;

/// A page of a cursor-paged response.
///
/// Sealed: public only so that the public [`Pages`] may name it in its bounds; this module is
/// private, so no type outside the crate can implement it.
#[allow(unreachable_pub)]
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

/// Empty pages with a new cursor a walk accepts in a row, by default, before it ends with
/// [`Error::PaginationStalled`].
pub(crate) const DEFAULT_MAX_EMPTY_PAGES: u64 = 100;

/// When a walk stops early, and whether it fetches ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PagerOptions {
    /// Stop once this many items were yielded.
    pub(crate) max_items: Option<u64>,
    /// Stop after this many pages.
    pub(crate) max_pages: Option<u64>,
    /// Fetch pages ahead, on a task of their own, while the caller consumes the current one:
    /// up to 1000 items ahead, or one page if it is larger (needs a Tokio runtime; without
    /// one, pages are fetched on demand).
    pub(crate) prefetch: bool,
    /// End with [`Error::PaginationStalled`] after this many empty pages in a row that each
    /// hand back a new cursor (default [`DEFAULT_MAX_EMPTY_PAGES`]).
    pub(crate) max_empty_pages: u64,
}

impl Default for PagerOptions {
    /// No limits, no prefetch, at most [`DEFAULT_MAX_EMPTY_PAGES`] empty pages in a row.
    fn default() -> Self {
        Self {
            max_items: None,
            max_pages: None,
            prefetch: false,
            max_empty_pages: DEFAULT_MAX_EMPTY_PAGES,
        }
    }
}

/// Walks pages from `start` (a cursor to resume from, or `None` for the first page), calling
/// `fetch` once per page. Ends after a page without a cursor, after the first error, or when a
/// limit is reached; a cursor seen before in this walk ends it with
/// [`Error::PaginationLoop`] instead of being requested again, and too many empty pages in a
/// row end it with [`Error::PaginationStalled`].
pub(crate) fn paginate<P, F, Fut>(
    fetch: F,
    start: Option<String>,
    options: PagerOptions,
) -> Pages<P>
where
    P: CursorPage,
    F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<P, Error>> + Send + 'static,
{
    let mut walk = Walk {
        fetch,
        next: Next::Fetch(start.clone()),
        seen: CursorSet::default(),
        pages: 0,
        items: 0,
        empty_in_a_row: 0,
        options,
        _page: std::marker::PhantomData,
    };
    if let Some(cursor) = &start {
        walk.seen.insert(cursor);
    }
    let inner = if options.prefetch {
        // Started on the first poll, on the runtime that polls.
        stream::once(async move {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => Ahead::start(&runtime, walk),
                Err(_) => stream::unfold(walk, Walk::step).boxed(),
            }
        })
        .flatten()
        .boxed()
    } else {
        stream::unfold(walk, Walk::step).boxed()
    };
    Pages {
        inner,
        max_items: options.max_items,
    }
}

/// A stream of pages, from [`crate::AuditLogRequest::pages`]: it ends after a page without a
/// cursor, after the first error, or at a limit of the request.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<P> {
    inner: BoxStream<'static, Result<P, Error>>,
    max_items: Option<u64>,
}

impl<P: CursorPage> Pages<P> {
    /// A walk that fails at once with `error` (e.g. an input refused before sending).
    pub(crate) fn failed(error: Error) -> Self {
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
    fetch: F,
    next: Next,
    seen: CursorSet,
    pages: u64,
    items: u64,
    /// Empty pages with a cursor since the last page with items.
    empty_in_a_row: u64,
    options: PagerOptions,
    _page: std::marker::PhantomData<fn() -> P>,
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
        let page = match (self.fetch)(cursor).await {
            Ok(page) => page,
            Err(error) => return Some((Err(error), self)),
        };
        self.pages += 1;
        self.items += page.len() as u64;
        let cursor = page.next_cursor().filter(|cursor| !cursor.is_empty());
        self.empty_in_a_row = if page.is_empty() && cursor.is_some() {
            self.empty_in_a_row + 1
        } else {
            0
        };
        match cursor {
            None => {}
            Some(cursor) if !self.seen.insert(cursor) => {
                self.next = Next::Fail(Error::PaginationLoop {
                    page: self.pages,
                    cursor: cursor.to_owned(),
                });
            }
            Some(cursor) if self.empty_in_a_row > self.options.max_empty_pages => {
                self.next = Next::Fail(Error::PaginationStalled {
                    empty_pages: self.empty_in_a_row,
                    cursor: cursor.to_owned(),
                });
            }
            Some(cursor) => self.next = Next::Fetch(Some(cursor.to_owned())),
        }
        Some((Ok(page), self))
    }
}

/// How many items a prefetching walk may hold ahead of the consumer (a page larger than this
/// still goes through, alone): one full page of the API's largest size.
const AHEAD_ITEMS: usize = 1000;

/// Fetched pages waiting for the consumer, each with its share of the [`AHEAD_ITEMS`] budget.
type Handover<P> = tokio::sync::mpsc::UnboundedReceiver<(Result<P, Error>, OwnedSemaphorePermit)>;

/// A walk run as its own task on the runtime: it requests the next page as soon as the last one
/// is handed over, without waiting for the consumer to ask, as long as the pages waiting hold
/// at most [`AHEAD_ITEMS`] items. Small pages thus flow without a round trip through the
/// consumer; pages of 1000 wait one at a time. Aborted when the stream is dropped.
struct Ahead<P> {
    pages: Handover<P>,
    /// The walk's task, until its outcome has been read.
    task: Option<tokio::task::JoinHandle<()>>,
}

impl<P: CursorPage> Ahead<P> {
    fn start<F, Fut>(
        runtime: &tokio::runtime::Handle,
        mut walk: Walk<P, F>,
    ) -> BoxStream<'static, Result<P, Error>>
    where
        F: Fn(Option<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<P, Error>> + Send + 'static,
    {
        let (sender, pages) = tokio::sync::mpsc::unbounded_channel();
        let budget = Arc::new(Semaphore::new(AHEAD_ITEMS));
        let task = runtime.spawn(async move {
            // Room is reserved before each request for as many items as the last page held.
            let mut expected = 1;
            loop {
                let Ok(room) = budget.clone().acquire_many_owned(expected).await else {
                    return;
                };
                let Some((page, next)) = walk.step().await else {
                    return;
                };
                if let Ok(page) = &page {
                    expected = page.len().clamp(1, AHEAD_ITEMS) as u32;
                }
                if sender.send((page, room)).is_err() {
                    return;
                }
                walk = next;
            }
        });
        Self {
            pages,
            task: Some(task),
        }
        .boxed()
    }
}

impl<P> Stream for Ahead<P> {
    type Item = Result<P, Error>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some((page, _room)) = std::task::ready!(self.pages.poll_recv(context)) {
            return Poll::Ready(Some(page));
        }
        // The channel closed: the walk ended, or its task did not finish, which must not pass
        // for the end of the log.
        let Some(task) = self.task.as_mut() else {
            return Poll::Ready(None);
        };
        let ended = std::task::ready!(Pin::new(task).poll(context));
        self.task = None;
        Poll::Ready(match ended {
            Ok(()) => None,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Some(Err(Error::Interrupted {
                reason: "the runtime running the prefetching walk shut down".to_owned(),
            })),
        })
    }
}

impl<P> Drop for Ahead<P> {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures_util::FutureExt as _;

    use super::*;

    /// A page of `PER_PAGE` numbers; page `n` (from 0) is followed by cursor `"c{n+1}"`.
    #[derive(Debug)]
    struct NumberPage {
        numbers: Vec<u32>,
        next: Option<String>,
    }

    const PER_PAGE: u32 = 3;

    impl CursorPage for NumberPage {
        type Item = u32;

        fn len(&self) -> usize {
            self.numbers.len()
        }

        fn next_cursor(&self) -> Option<&str> {
            self.next.as_deref()
        }

        fn into_items(self) -> Vec<u32> {
            self.numbers
        }
    }

    /// A fetch serving `pages` pages, counting its calls and panicking on page `panic_at`.
    fn numbers(
        pages: u32,
        panic_at: Option<u32>,
        calls: Arc<AtomicUsize>,
    ) -> impl Fn(Option<String>) -> futures_util::future::Ready<Result<NumberPage, Error>>
    + Send
    + Sync
    + 'static {
        move |cursor| {
            calls.fetch_add(1, Ordering::SeqCst);
            let page = cursor.map_or(0, |cursor| cursor[1..].parse().expect("our cursor"));
            assert_ne!(Some(page), panic_at, "fetch panicked on page {page}");
            let first = page * PER_PAGE;
            futures_util::future::ready(Ok(NumberPage {
                numbers: (first..first + PER_PAGE).collect(),
                next: (page + 1 < pages).then(|| format!("c{}", page + 1)),
            }))
        }
    }

    fn prefetching() -> PagerOptions {
        PagerOptions {
            prefetch: true,
            ..PagerOptions::default()
        }
    }

    #[tokio::test]
    async fn a_prefetching_walk_yields_every_item_once_and_in_order() {
        let calls = Arc::new(AtomicUsize::new(0));
        let items = paginate(numbers(7, None, calls.clone()), None, prefetching()).items();
        let seen: Vec<u32> = items.map(|item| item.expect("ok")).collect().await;
        assert_eq!(seen, (0..7 * PER_PAGE).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 7);
    }

    #[tokio::test]
    async fn prefetch_holds_at_most_its_item_budget_ahead_of_the_consumer() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut pages = paginate(numbers(500, None, calls.clone()), None, prefetching());
        let fetched = || calls.load(Ordering::SeqCst);
        assert_eq!(fetched(), 0, "nothing is fetched before the first poll");
        let first = pages.next().await.expect("a page").expect("ok");
        assert_eq!(first.numbers, vec![0, 1, 2]);
        let settle = || async {
            for _ in 0..2000 {
                tokio::task::yield_now().await;
            }
        };
        settle().await;
        // The page taken, then as many pages of 3 as fit in the budget.
        let ahead = AHEAD_ITEMS / PER_PAGE as usize;
        assert_eq!(fetched(), 1 + ahead);
        // Taking one page makes room for exactly one more.
        pages.next().await.expect("a page").expect("ok");
        settle().await;
        assert_eq!(fetched(), 2 + ahead);
    }

    #[tokio::test]
    async fn a_panic_in_a_prefetching_walk_reaches_the_consumer() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut pages = paginate(numbers(5, Some(2), calls), None, prefetching());
        for _ in 0..2 {
            pages.next().await.expect("a page").expect("ok");
        }
        let third = std::panic::AssertUnwindSafe(pages.next())
            .catch_unwind()
            .await;
        let panic = third.expect_err("the walk's panic, not the end of the walk");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("fetch panicked on page 2"), "{message}");
    }

    #[test]
    fn a_prefetching_walk_whose_runtime_shut_down_ends_with_interrupted() {
        let build = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime")
        };
        let fetch = |_cursor: Option<String>| std::future::pending::<Result<NumberPage, Error>>();
        let mut pages = paginate(fetch, None, prefetching());
        let first = build();
        first.block_on(async {
            // Starts the walk's task on this runtime; its fetch never completes.
            let waited = tokio::time::timeout(Duration::from_millis(20), pages.next()).await;
            assert!(waited.is_err(), "no page can arrive");
        });
        drop(first);
        let second = build();
        let next = second.block_on(pages.next());
        assert!(
            matches!(next, Some(Err(Error::Interrupted { .. }))),
            "{next:?}"
        );
        assert!(
            second.block_on(pages.next()).is_none(),
            "then the walk ends"
        );
    }
}
