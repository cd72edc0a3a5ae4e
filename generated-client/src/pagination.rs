//! Cursor pagination as lazy streams: one small generic pager that any cursor-paged operation
//! can reuse, with a loop guard, limits and optional prefetch of the next page.
//!
//! With prefetch, a fetch may also announce the next cursor as soon as its response arrives
//! ([`CursorHint`]), before the page is decoded: the next request then travels while the
//! current page decodes. The announced cursor is only a head start; the walk follows the
//! cursor of the decoded page and drops a head start that does not match it.
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
use futures_util::future::{self, Either};
use futures_util::stream::{self, BoxStream};
use tokio::sync::oneshot;

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
    /// Fetch the next page while the caller consumes the current one, and start its request
    /// as soon as the current response announces its cursor (needs a Tokio runtime; without
    /// one, pages are fetched on demand).
    pub prefetch: bool,
}

/// Where a page's fetch announces the next page's cursor before the page is decoded; see the
/// [module documentation](self). Announcing is optional and only ever saves time.
#[derive(Debug, Default)]
pub struct CursorHint(Option<oneshot::Sender<String>>);

impl CursorHint {
    /// A hint nobody listens to (a walk without prefetch).
    pub fn none() -> Self {
        Self(None)
    }

    /// Whether the walk listens, i.e. whether finding the cursor early is worth any work.
    pub fn is_wanted(&self) -> bool {
        self.0.is_some()
    }

    /// Announces the next page's cursor as the response states it.
    pub fn announce(self, cursor: impl Into<String>) {
        if let Some(sender) = self.0 {
            // The walk may have ended meanwhile; then nobody needs the cursor.
            let _ = sender.send(cursor.into());
        }
    }
}

/// Walks pages from `start` (a cursor to resume from, or `None` for the first page), calling
/// `fetch` once per page with the page's cursor and a [`CursorHint`] it may use. Ends after a
/// page without a cursor, after the first error, or when a limit is reached; a cursor seen
/// before in this walk ends it with [`Error::PaginationLoop`] instead of being requested again.
pub fn paginate<P, F, Fut>(fetch: F, start: Option<String>, options: PagerOptions) -> Pages<P>
where
    P: CursorPage,
    F: Fn(Option<String>, CursorHint) -> Fut + Send + Sync + 'static,
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
    /// With prefetch: the page being fetched ahead, for the cursor it was asked with.
    ahead: Option<Ahead<P>>,
}

impl<P, F, Fut> Walk<P, F>
where
    P: CursorPage,
    F: Fn(Option<String>, CursorHint) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<P, Error>> + Send + 'static,
{
    fn has_room(&self) -> bool {
        self.options.max_pages.is_none_or(|max| self.pages < max)
            && self.options.max_items.is_none_or(|max| self.items < max)
    }

    /// Whether the page after the one being fetched may be requested before that one is
    /// decoded: only when no limit could make it unnecessary.
    fn may_start_early(&self) -> bool {
        self.options.max_items.is_none()
            && self
                .options
                .max_pages
                .is_none_or(|max| self.pages.saturating_add(2) <= max)
    }

    /// Starts fetching the page at `cursor` on the runtime (`None` without a runtime).
    fn spawn(&self, cursor: Option<String>) -> Option<Ahead<P>> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (sender, hint) = oneshot::channel();
        let task = runtime.spawn((self.fetch)(cursor.clone(), CursorHint(Some(sender))));
        Some(Ahead {
            cursor,
            task,
            hint: Some(hint),
        })
    }

    /// Waits for `current`; if its response announces the next cursor first, starts fetching
    /// that page meanwhile.
    async fn finish(&mut self, mut current: Ahead<P>) -> Result<P, Error> {
        if let Some(hint) = current.hint.take() {
            match future::select(hint, &mut current.task).await {
                Either::Left((Ok(next), _)) => {
                    if !next.is_empty() && !self.seen.contains(&next) && self.may_start_early() {
                        self.ahead = self.spawn(Some(next));
                    }
                }
                Either::Left((Err(_), _)) => {}
                Either::Right((joined, _)) => return current.conclude(joined),
            }
        }
        let joined = (&mut current.task).await;
        current.conclude(joined)
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
        let current = match self.ahead.take() {
            Some(ahead) if ahead.cursor == cursor => Some(ahead),
            _ if self.options.prefetch => self.spawn(cursor.clone()),
            _ => None,
        };
        let fetched = match current {
            Some(current) => self.finish(current).await,
            None => (self.fetch)(cursor, CursorHint::none()).await,
        };
        let page = match fetched {
            Ok(page) => page,
            Err(error) => {
                self.ahead = None;
                return Some((Err(error), self));
            }
        };
        self.pages += 1;
        self.items += page.len() as u64;
        // A head start for any other cursor than the page's own is dropped (and aborted).
        let ahead = self.ahead.take();
        match page.next_cursor().filter(|cursor| !cursor.is_empty()) {
            None => {}
            Some(cursor) if !self.seen.insert(cursor) => {
                self.next = Next::Fail(Error::PaginationLoop {
                    page: self.pages,
                    cursor: cursor.to_owned(),
                });
            }
            Some(cursor) => {
                let cursor = Some(cursor.to_owned());
                if self.options.prefetch && self.has_room() {
                    self.ahead = match ahead {
                        Some(ahead) if ahead.cursor == cursor => Some(ahead),
                        _ => self.spawn(cursor.clone()),
                    };
                }
                self.next = Next::Fetch(cursor);
            }
        }
        Some((Ok(page), self))
    }
}

/// A page being fetched on the runtime; aborted if dropped first.
struct Ahead<P> {
    cursor: Option<String>,
    task: tokio::task::JoinHandle<Result<P, Error>>,
    hint: Option<oneshot::Receiver<String>>,
}

impl<P> Ahead<P> {
    fn conclude(
        &self,
        joined: Result<Result<P, Error>, tokio::task::JoinError>,
    ) -> Result<P, Error> {
        match joined {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(Error::invalid_request("prefetch", error.to_string())),
        }
    }
}

impl<P> Drop for Ahead<P> {
    fn drop(&mut self) {
        self.task.abort();
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
    fn key(&self, cursor: &str) -> u128 {
        let high = u128::from(self.keys.0.hash_one(cursor));
        let low = u128::from(self.keys.1.hash_one(cursor));
        high << 64 | low
    }

    /// Adds `cursor`; false when it was already there.
    fn insert(&mut self, cursor: &str) -> bool {
        let key = self.key(cursor);
        self.seen.insert(key)
    }

    /// Whether `cursor` was added before.
    fn contains(&self, cursor: &str) -> bool {
        self.seen.contains(&self.key(cursor))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// A page of numbers and the cursor after it.
    struct Numbers(Vec<u32>, Option<String>);

    impl CursorPage for Numbers {
        type Item = u32;

        fn len(&self) -> usize {
            self.0.len()
        }

        fn next_cursor(&self) -> Option<&str> {
            self.1.as_deref()
        }

        fn into_items(self) -> Vec<u32> {
            self.0
        }
    }

    /// Page `n` (cursor `None` for 0, `"n"` otherwise) holds `10n..10n+3`; page `last` ends the
    /// walk. Each fetch "receives" its response after 5 ms and announces `announced(n)`, then
    /// takes 20 ms to "decode"; `log` records `start n` and `end n`.
    fn walk(
        last: u32,
        announced: fn(u32) -> Option<String>,
        log: Arc<Mutex<Vec<String>>>,
    ) -> Items<u32> {
        let fetch = move |cursor: Option<String>, hint: CursorHint| {
            let log = log.clone();
            async move {
                let n: u32 = cursor
                    .as_deref()
                    .map_or(0, |c| c.parse().unwrap_or(u32::MAX));
                log.lock().unwrap().push(format!("start {n}"));
                tokio::time::sleep(Duration::from_millis(5)).await;
                if let Some(next) = announced(n) {
                    hint.announce(next);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                log.lock().unwrap().push(format!("end {n}"));
                let next = (n < last).then(|| (n + 1).to_string());
                Ok(Numbers((10 * n..10 * n + 3).collect(), next))
            }
        };
        let options = PagerOptions {
            prefetch: true,
            ..PagerOptions::default()
        };
        paginate(fetch, None, options).items()
    }

    fn expected(last: u32) -> Vec<u32> {
        (0..=last).flat_map(|n| 10 * n..10 * n + 3).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn an_announced_cursor_starts_the_next_request_before_the_page_is_done() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let items: Vec<u32> = walk(3, |n| (n < 3).then(|| (n + 1).to_string()), log.clone())
            .map(|item| item.expect("no error"))
            .collect()
            .await;
        assert_eq!(items, expected(3));
        let log = log.lock().unwrap().clone();
        let position = |event: &str| log.iter().position(|entry| entry == event).unwrap();
        for n in 0..3 {
            assert!(
                position(&format!("start {}", n + 1)) < position(&format!("end {n}")),
                "page {} did not start before page {n} ended: {log:?}",
                n + 1
            );
        }
        assert_eq!(log.iter().filter(|e| e.starts_with("start")).count(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wrong_announcement_is_dropped_and_the_real_cursor_followed() {
        let log = Arc::new(Mutex::new(Vec::new()));
        // Every page announces cursor "7", which no page has: the head start is wasted.
        let items: Vec<u32> = walk(3, |_| Some("7".to_owned()), log.clone())
            .map(|item| item.expect("no error"))
            .collect()
            .await;
        assert_eq!(items, expected(3));
        let log = log.lock().unwrap().clone();
        for n in 0..=3 {
            let starts = log.iter().filter(|e| **e == format!("start {n}")).count();
            assert_eq!(starts, 1, "page {n}: {log:?}");
        }
        assert!(log.contains(&"start 7".to_owned()), "{log:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_announced_cursor_already_followed_is_not_requested() {
        let log = Arc::new(Mutex::new(Vec::new()));
        // Page 1 announces (and returns) the cursor of page 1 again: a loop.
        let fetch = {
            let log = log.clone();
            move |cursor: Option<String>, hint: CursorHint| {
                let log = log.clone();
                async move {
                    log.lock().unwrap().push(format!("start {cursor:?}"));
                    hint.announce("1");
                    Ok(Numbers(vec![1], Some("1".to_owned())))
                }
            }
        };
        let options = PagerOptions {
            prefetch: true,
            ..PagerOptions::default()
        };
        let results: Vec<_> = paginate(fetch, None, options).collect().await;
        assert!(results[0].is_ok() && results[1].is_ok());
        assert!(matches!(
            results[2],
            Err(Error::PaginationLoop { page: 2, .. })
        ));
        assert_eq!(results.len(), 3);
        let log = log.lock().unwrap().clone();
        assert_eq!(log, ["start None", "start Some(\"1\")"]);
    }
}
