//! The request journal: every request the server received, exactly as it arrived, so tests can assert the request
//! line, the protocol, the query format and the headers a client sent, and notice requests it should never have
//! sent; plus counts of the responses served and of the rate limit's 429s.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// One received request (serialised with these field names, as the binary's `--journal` writes it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RecordedRequest {
    /// 0-based arrival order.
    pub seq: u64,
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// The protocol version the request came over: `HTTP/1.1`, `HTTP/1.0` or `HTTP/2.0` (HTTP/2 only with
    /// [`crate::Config::with_tls`], when ALPN chose it).
    pub version: String,
    /// The path exactly as sent (still percent-encoded), e.g. `/client/v4/accounts/…/audit-log`.
    pub path: String,
    /// The raw query string without `?`, still percent-encoded; `None` when the target had no `?`.
    pub query: Option<String>,
    /// Headers in arrival order, names lower-cased; values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// Why the request did not match a route the mock serves (unknown path, wrong method, unknown
    /// account or zone id); `None` for an expected request.
    pub unexpected: Option<String>,
}

impl RecordedRequest {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The request target as sent: path plus `?query` when there was one.
    pub fn target(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        }
    }

    /// The decoded query parameters in order (form decoding: `+` is a space).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .map(|(k, value)| (k.into_owned(), value.into_owned()))
            .collect()
    }

    /// The decoded value of the first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, value)| value)
    }
}

/// Thread-safe store of recorded requests, with counts of the responses served.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    enabled: bool,
    entries: Mutex<Vec<RecordedRequest>>,
    unexpected: Mutex<Vec<RecordedRequest>>,
    served: AtomicU64,
    rate_limited: AtomicU64,
}

impl Journal {
    pub(crate) fn new(enabled: bool) -> Self {
        Journal {
            enabled,
            ..Journal::default()
        }
    }

    /// Records a request; unexpected requests are always kept, even with the journal off.
    pub(crate) fn record(&self, request: RecordedRequest) {
        if request.unexpected.is_some() {
            lock(&self.unexpected).push(request.clone());
        }
        if self.enabled {
            lock(&self.entries).push(request);
        }
    }

    pub(crate) fn all(&self) -> Vec<RecordedRequest> {
        lock(&self.entries).clone()
    }

    pub(crate) fn take(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut *lock(&self.entries))
    }

    pub(crate) fn unexpected(&self) -> Vec<RecordedRequest> {
        lock(&self.unexpected).clone()
    }

    pub(crate) fn take_unexpected(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut *lock(&self.unexpected))
    }

    /// Counts a response handed to the connection (a head was sent or about to be).
    pub(crate) fn count_served(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a 429 of the rate-limit emulation (also counted as served).
    pub(crate) fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    pub(crate) fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }
}

/// Locks a mutex, recovering the data if a panicking test thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|error| error.into_inner())
}
