//! A loopback mock of Cloudflare's Security Center insight audit-log API, for tests and benchmarks.
//!
//! It serves the six operations of `spec/openapi.yaml` under the real API's `/client/v4` prefix, the four audit
//! logs and the two insight lists:
//!
//! - `GET /client/v4/accounts/{account_id}/security-center/insights/audit-log`
//! - `GET /client/v4/accounts/{account_id}/security-center/insights/{issue_id}/audit-log`
//! - `GET /client/v4/zones/{zone_id}/security-center/insights/audit-log`
//! - `GET /client/v4/zones/{zone_id}/security-center/insights/{issue_id}/audit-log`
//! - `GET /client/v4/accounts/{account_id}/security-center/insights` (see [Insights](#insights))
//! - `GET /client/v4/zones/{zone_id}/security-center/insights`
//!
//! with deterministic data generated from a seed ([`Config::with_seed`]), the real API's auth check (401), parameter
//! validation (400) and unknown-insight answer (404), all in Cloudflare's envelopes; filters, order and opaque cursor
//! pagination; fault injection ([`Fault`]); emulation of Cloudflare's rate limit ([`MockRateLimit`]); a script of
//! canned responses ([`CannedResponse`]); and a journal of every request received ([`MockServer::requests`]). It
//! serves plain HTTP/1.1, or with [`Config::with_tls`] HTTPS with HTTP/2 or HTTP/1.1 as ALPN chose.
//!
//! # Use it in your own tests
//!
//! Add `cloudflare-security-center-mock` as a dev-dependency (its library is `mock_server`; inside this workspace:
//! `mock-server = { workspace = true }`), start a server per test, point the client at [`MockServer::base_url`] with
//! the server's credentials, and compare what the client read with [`MockServer::expected_entries`]. The mock's types
//! that stand for something the client also names ([`MockScope`], [`MockOrder`], [`MockFieldChanged`],
//! [`MockRateLimit`], [`MockAuditLogEntry`], [`MockInsight`], [`MockSeverity`], [`MockCredentials`]) carry a `Mock`
//! prefix, so that a test using both
//! crates says which one it means:
//!
//! ```no_run
//! use mock_server::{Config, Fault, Filters, MockOrder, MockScope, MockServer};
//!
//! # async fn example() {
//! let server = MockServer::start(
//!     Config::default()
//!         .with_entries(500)
//!         .with_fault(Fault::RateLimit { every: 4, retry_after_secs: 1 }),
//! )
//! .await;
//! let base_url = server.base_url(); // http://127.0.0.1:PORT/client/v4
//! let token = &server.credentials().api_token; // send as `Authorization: Bearer {token}`
//! let issue = &server.issue_ids(MockScope::Account)[0];
//! // ... run the code under test against `base_url`, e.g. walk
//! // `{base_url}/accounts/{ACCOUNT_ID}/security-center/insights/{issue}/audit-log` ...
//! let expected = server.expected_entries(MockScope::Account, Some(issue), &Filters {
//!     order: MockOrder::Asc,
//!     ..Filters::default()
//! });
//! // assert_eq!(what_the_client_read, expected);
//! let sent = server.requests(); // method, raw path, raw query and headers of every request
//! assert!(sent.iter().all(|r| r.header("authorization") == Some(&*format!("Bearer {token}"))));
//! server.assert_no_unexpected_requests();
//! # let _ = (base_url, expected); }
//! ```
//!
//! A test that needs one exact answer queues it: `Config::with_script([CannedResponse::rate_limited(1)])` answers the
//! first request with 429 and `Retry-After: 1`, then serves normally. [`MockServer::start_in_background`] runs the
//! server on its own thread and runtime, for synchronous tests (e.g. of a command-line binary) and for benchmarks
//! where the server must not share the client's runtime. The binary, `mock-server` (`cargo xtask mock --port 8787
//! --entries 100000` in this workspace), serves the same thing for manual use.
//!
//! # Data
//!
//! One account ([`ACCOUNT_ID`]) and one zone ([`ZONE_ID`]) by default; [`Config::with_accounts`] and
//! [`Config::with_zones`] (`--accounts N`, `--zones N`) serve more, with further 32-hex ids drawn from the seed
//! ([`MockServer::account_ids`], [`MockServer::zone_ids`]); any other id is a 404. Each scope has its own entries
//! spread uniformly over [`Config::with_insights_per_scope`] insights of its own (ids of 32 lowercase hex digits,
//! [`MockServer::issue_ids`]); the per-scope accessors take a [`ScopeId`], or a bare [`MockScope`] for the first of its
//! kind. Generated entries' `changed_at` strictly increases (millisecond precision, `Z`) from early 2024, and `id`
//! is a UUIDv7 whose timestamp is `changed_at`, so the order by (`changed_at`, `id`) is the order by `id`.
//! `field_changed` is `status` or `user_classification`, `current_value`/`previous_value` follow each insight's
//! history (`null` before a first value and when a classification is cleared), `rationale` is `null` about 40% of
//! the time, `changed_by` is `system` or one of a few users ([`ACTORS`]), and zone entries (only they) carry an
//! integer `zone_id` ([`ZONE_NUMERIC_ID`] for the first zone, [`MockServer::zone_numeric_id`]).
//! [`MockServer::entries`] returns the served bytes parsed back as [`MockAuditLogEntry`] values.
//!
//! # A growing log
//!
//! With [`Config::with_growth`] (`--grow RATE`) every scope gains `RATE` entries per second while the server runs,
//! over its insights, stamped with the time they are added; [`MockServer::append_entries`] adds some now and
//! [`MockServer::append_entries_at`] at a given time (several with one timestamp, or a late one in the past). An
//! entry added with the same `changed_at` as others gets a greater id than they have, as a server's monotonic
//! counter would. Every listing sees added entries at once, in their place in the order by (`changed_at`, `id`):
//! an ascending walk with `since` finds them at its end. A cursor holds the key of the last entry it follows, not a
//! count, so cursors given out before the log grew stay valid, and a walk goes on strictly past that key: it sees
//! every entry added after its position exactly once, and none added before it (a late entry behind the walk is
//! missed, as it would be by the API). [`MockServer::expected_entries`] includes added entries.
//!
//! # Insights
//!
//! The insight lists of a scope hold exactly the insights of its audit log ([`MockServer::issue_ids`]), sorted by
//! id, so that pages are well defined; [`MockServer::insights`] returns them as [`MockInsight`] values. Class,
//! type, severity and subject come from the seed ([`INSIGHT_CLASSES`], [`INSIGHT_SUBJECTS`]); the rest is read
//! from the audit log each time it changed: `status` and `dismissed` from the insight's newest `status` entry
//! ([`insight_status`]), `user_classification` from its newest `user_classification` entry (`null` without one),
//! `since` before its first entry and `timestamp` its newest entry's `changed_at`, so entries added at runtime
//! move them at once. `payload.zone_tag` is the zone itself, or for an account one of the served zones.
//!
//! Filters (`dismissed`, and `issue_class`, `issue_type`, `product`, `severity`, `subject` with their `~neq`
//! exclusions, [`InsightFilters`]) take a list as the key repeated once per value (`severity=low&severity=critical`,
//! the spec's form style, which the official Python SDK sends); `severity` is lowercase on the wire while an
//! insight's is capitalised; `product` matches the class's product. `page` (from 1, default 1) and `per_page`
//! (1..=1000, default 25) page the list; the answer is `{"success":true,"errors":[],"messages":[],"result":
//! {"count":…,"issues":[…],"page":…,"per_page":…}}` as upstream's schema has it (no `result_info`).
//! [`MockServer::expected_insights`] tells what a walk with filters yields. [`Config::with_unknown_insight_values`]
//! gives one insight a severity (`"Urgent"`), type, status and classification a client does not know; the faults
//! `endless-insights`, `repeat-insights-page` and `insights-count-drift` and [`CannedResponse::insights_page`]
//! serve the shapes of a server a walk must not trust. Faults, the rate limit, auth and the journal apply to the
//! insight lists as to every route.
//!
//! # Validation
//!
//! Answered in Cloudflare's failure envelope (`{"success":false,"errors":[{"code":…,"message":…}],
//! "messages":[],"result":null}`, codes in [`codes`]): no valid credentials → 401 (code 10000); `per_page` not an
//! integer in 1..=1000, `since`/`before` not RFC 3339, `field_changed`/`order` outside their enums, a parameter
//! given twice, or a cursor that is malformed, tampered with or replayed with other filters or order → 400 (and on
//! the insight lists: `page` not an integer of at least 1, `dismissed` not `true`/`false`, a `severity` or
//! `issue_type` value outside its enum, or `page`, `per_page` or `dismissed` given twice); an
//! unknown insight → 404; an unknown path, account or zone id → 404 and an unexpected-request flag; another
//! method → 405 and a flag.
//!
//! # Faults
//!
//! [`Config::with_fault`] (or `--fault` on the binary, same text forms): `rate-limit:K[:SECS]` (429 with
//! `Retry-After`), `server-error:K[:STATUS]` (503 by default), `truncate:K` (200 with half a body), `html:K` (a
//! proxy's 502 HTML page), `slow:K:MILLIS`, `drop-mid-body:K`, `reset-before-head:K`, `stall:K:MILLIS`,
//! `rst-stream:K`, `goaway:K`, `repeat-cursor` (a page fetched with a cursor returns that same cursor),
//! `empty-cursor` (`"cursor": ""` on the last page), and on the insight lists `endless-insights` (every page
//! full, starting over past the end), `repeat-insights-page` (every page is page 1) and `insights-count-drift`
//! (`count` grows by one an answer). `K` counts requests to served routes, canned answers and the
//! rate limit's 429s excluded, except for `goaway`, which counts every request on one connection. The faults that
//! answer are the same over both protocols; the network faults differ:
//!
//! What each network fault sends over HTTP/1.1, and over HTTP/2 (with [`Config::with_tls`]):
//!
//! - `drop-mid-body`: HTTP/1.1: the head with the full `Content-Length`, exactly half the body, then a FIN.
//!   HTTP/2: HEADERS with the full `content-length`, DATA with the first half, then the TCP connection closes
//!   (FIN): no RST_STREAM, no GOAWAY; every stream on it fails.
//! - `reset-before-head`: HTTP/1.1: the request is read, then the connection is reset (RST), no byte sent.
//!   HTTP/2: the request is read, then the TCP connection is reset (RST), no frame for the stream; every stream
//!   on it fails.
//! - `stall`: HTTP/1.1: the head, nothing for MILLIS, then a FIN. HTTP/2: HEADERS, nothing for MILLIS, then the
//!   TCP connection closes (FIN).
//! - `rst-stream`: HTTP/1.1 has no streams: as `drop-mid-body`. HTTP/2: HEADERS with the full
//!   `content-length`, DATA with the first half, then RST_STREAM (INTERNAL_ERROR); the connection goes on.
//! - `goaway`: HTTP/1.1: the K-th answer on a connection carries `Connection: close`, then the connection
//!   closes. HTTP/2: after the K-th request on a connection, GOAWAY (NO_ERROR; first with the last stream id
//!   2^31-1, then after a PING with the last stream taken); in-flight requests finish, then the connection
//!   closes.
//!
//! Over TLS, no connection is closed with a TLS close_notify by these faults. On HTTP/2 "the first half" is exact
//! unless the connection could not write all of it (then less by what was still in flight). [`Config::with_script`]
//! and [`MockServer::push_canned`] queue exact answers (including a 302 via [`CannedResponse::redirect`] and
//! delays) that are consumed one per request before normal serving.
//!
//! # Rate limit
//!
//! [`Config::with_rate_limit`] (or `--rate-limit Q:W[:LOCKOUT]` on the binary, in seconds) emulates Cloudflare's API
//! rate limit in fixed windows: the first request starts a window of `W` seconds in which `Q` requests are served,
//! each response carrying `Ratelimit: "default";r=<left>;t=<seconds to the reset>` and `Ratelimit-Policy:
//! "default";q=<Q>;w=<W>`. The request over budget and every request in the lock-out after it (`LOCKOUT` seconds,
//! `W` by default) get 429 with `Retry-After`, `Ratelimit: "default";r=0;t=<seconds left>` and the failure envelope
//! with code 10100 ([`codes::RATE_LIMIT_EXCEEDED`]); the next request after the lock-out starts a new window.
//! Every request counts, authorised or not; a 429 of the rate limit consumes no canned answer.
//! [`MockServer::rate_limited_count`] tells how many 429s it served.
//!
//! # TLS and HTTP/2
//!
//! [`Config::with_tls`] (`--tls` on the binary) makes, at start, a throw-away certificate authority and a server
//! certificate for `localhost` and `127.0.0.1` (ECDSA P-256, valid from yesterday for a year) with `rcgen`, and
//! serves TLS with rustls, offering `h2` then `http/1.1` by ALPN; [`MockServer::base_url`] is then `https://` and
//! [`MockServer::ca_pem`] gives the CA for a client to trust (the binary writes it to a file, `--ca-out FILE`, and
//! prints its path). [`RecordedRequest::version`] tells which protocol each request came over.
//!
//! # Choice of HTTP stack
//!
//! hyper 1 with hyper-util's tokio glue, HTTP/1 and HTTP/2 servers, and rustls through tokio-rustls with the `ring`
//! provider: all are already in the workspace's dependency graph (reqwest is built on them), so the mock adds
//! almost no compile time (ring rather than aws-lc-rs, which needs a much longer C build), and its needs (one
//! routing function, exact control of status, headers and body bytes for fault injection, and of each connection
//! to drop it or send GOAWAY) do not call for a framework such as axum.
//!
//! # Performance
//!
//! Each entry is serialised to JSON once, when it is made, into one buffer; a page is its entries' byte slices
//! copied behind a fixed envelope head. The filtered selection of a walk is computed once and cached per (scope,
//! insight, filters), extended when entries are added at the end of the log; order only changes the direction it
//! is read in. Pages therefore cost a memcpy, and the server is not the bottleneck of a client benchmark. The data
//! takes about 320 bytes per entry; the first account and zone are generated at start, the others on first use
//! (a request or an accessor), so a server with hundreds of scopes only holds those a test touches. Use
//! [`Config::with_zone_entries`] / [`Config::with_account_entries`] to size only the scope a benchmark walks, and
//! [`Config::with_request_journal`]`(false)` on long walks.

mod config;
mod cursor;
mod data;
mod envelope;
mod fault;
mod insight;
mod insight_query;
mod journal;
mod query;
mod rate_limit;
mod server;
mod tls;
mod wire;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use tokio::net::TcpListener;

pub use config::{
    Config, DEFAULT_API_KEY, DEFAULT_API_TOKEN, DEFAULT_EMAIL, DEFAULT_SEED, MAX_GROWTH_RATE,
    MAX_SCOPES, MockCredentials,
};
pub use data::{
    ACCOUNT_ID, ACTORS, AppendError, CLASSIFICATION_VALUES, MockAuditLogEntry, MockScope,
    STATUS_VALUES, ScopeId, ZONE_ID, ZONE_NUMERIC_ID,
};
pub use envelope::codes;
pub use fault::{CannedResponse, Fault, HTML_ERROR_PAGE};
pub use insight::{
    INSIGHT_CLASSES, INSIGHT_SUBJECTS, ISSUE_TYPES, MockInsight, MockInsightClass,
    MockInsightPayload, UNKNOWN_CLASSIFICATION, UNKNOWN_ISSUE_TYPE, UNKNOWN_SEVERITY,
    UNKNOWN_STATUS, insight_status,
};
pub use insight_query::{InsightFilters, MockSeverity};
pub use journal::RecordedRequest;
pub use query::{DEFAULT_PER_PAGE, Filters, MAX_PER_PAGE, MockFieldChanged, MockOrder};
pub use rate_limit::MockRateLimit;

use journal::lock;
use server::State;

/// How the server's accept loop runs.
#[derive(Debug)]
enum Runner {
    /// A task on the caller's tokio runtime, aborted on drop.
    Task(tokio::task::JoinHandle<()>),
    /// A thread with its own runtime, stopped and joined on drop.
    Thread {
        shutdown: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

/// A running mock server on 127.0.0.1; it stops when dropped.
///
/// With [`Config::with_strict`] on (the default), dropping a server that received unexpected requests (see
/// [`MockServer::unexpected_requests`]) panics, so a test cannot pass while its client called a wrong URL.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<State>,
    runner: Runner,
    strict: bool,
    seed: u64,
    credentials: MockCredentials,
    ca_pem: Option<String>,
}

fn bind(port: u16) -> io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

impl MockServer {
    /// Generates the data and starts serving on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// If the port cannot be bound; use [`MockServer::try_start`] to get the error instead.
    pub async fn start(config: Config) -> MockServer {
        let port = config.port;
        match MockServer::try_start(config).await {
            Ok(server) => server,
            Err(error) => panic!("mock-server: cannot listen on 127.0.0.1:{port}: {error}"),
        }
    }

    /// Generates the data and starts serving on the current tokio runtime.
    pub async fn try_start(config: Config) -> io::Result<MockServer> {
        let listener = TcpListener::from_std(bind(config.port)?)?;
        let addr = listener.local_addr()?;
        let tls = config.tls.then(tls::setup).transpose()?;
        let (strict, seed, credentials) = (config.strict, config.seed, config.credentials.clone());
        let state = Arc::new(
            tokio::task::spawn_blocking(move || State::new(&config))
                .await
                .map_err(io::Error::other)?,
        );
        let task = tokio::spawn(server::serve(
            listener,
            state.clone(),
            tls.as_ref().map(|t| t.acceptor.clone()),
        ));
        Ok(MockServer {
            addr,
            state,
            runner: Runner::Task(task),
            strict,
            seed,
            credentials,
            ca_pem: tls.map(|t| t.ca_pem),
        })
    }

    /// Generates the data and starts serving on a thread of its own with its own two-worker runtime; needs no
    /// runtime from the caller. Dropping the server stops and joins that thread.
    pub fn start_in_background(config: Config) -> io::Result<MockServer> {
        let listener = bind(config.port)?;
        let addr = listener.local_addr()?;
        let tls = config.tls.then(tls::setup).transpose()?;
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let state = Arc::new(State::new(&config));
        let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let served = state.clone();
        // The runtime is built, used and dropped on its own thread, so starting or dropping the server from inside
        // another runtime is fine.
        let thread = std::thread::Builder::new()
            .name("mock-server".into())
            .spawn(move || {
                let setup = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("mock-server")
                    .enable_all()
                    .build()
                    .and_then(|rt| {
                        let listener = {
                            let _guard = rt.enter();
                            TcpListener::from_std(listener)?
                        };
                        Ok((rt, listener))
                    });
                let (runtime, listener) = match setup {
                    Ok(ok) => ok,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                runtime.block_on(async move {
                    tokio::select! {
                        () = server::serve(listener, served, acceptor) => {}
                        _ = receiver => {}
                    }
                });
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                let _ = thread.join();
                return Err(error);
            }
            Err(_) => return Err(io::Error::other("mock-server thread ended during start")),
        }
        Ok(MockServer {
            addr,
            state,
            runner: Runner::Thread {
                shutdown: Some(sender),
                thread: Some(thread),
            },
            strict: config.strict,
            seed: config.seed,
            credentials: config.credentials,
            ca_pem: tls.map(|t| t.ca_pem),
        })
    }

    /// The socket address served (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base URL, e.g. `http://127.0.0.1:PORT/client/v4` (no trailing slash); `https://` with
    /// [`Config::with_tls`].
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}{}", self.addr, server::PREFIX)
    }

    /// With [`Config::with_tls`], the PEM text of the throw-away certificate authority that signed the server's
    /// certificate (for `localhost` and `127.0.0.1`), for a client to trust; `None` for plain HTTP.
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// The full URL of an audit-log operation of a scope (a [`ScopeId`], or a [`MockScope`] for the first of its
    /// kind): the insight's when `issue` is given (percent-encoded as one path segment), the scope-wide one
    /// otherwise.
    pub fn audit_log_url(&self, scope: impl Into<ScopeId>, issue: Option<&str>) -> String {
        let scope = scope.into();
        let base = format!(
            "{}/{}/{}/security-center/insights",
            self.base_url(),
            scope.kind().path_segment(),
            utf8_percent_encode(scope.id(), NON_ALPHANUMERIC)
        );
        match issue {
            Some(index) => format!(
                "{base}/{}/audit-log",
                utf8_percent_encode(index, NON_ALPHANUMERIC)
            ),
            None => format!("{base}/audit-log"),
        }
    }

    /// The full URL of a scope's insight list (a [`ScopeId`], or a [`MockScope`] for the first of its kind):
    /// `{base_url}/accounts/{id}/security-center/insights` or `{base_url}/zones/{id}/security-center/insights`.
    pub fn insights_url(&self, scope: impl Into<ScopeId>) -> String {
        let scope = scope.into();
        format!(
            "{}/{}/{}/security-center/insights",
            self.base_url(),
            scope.kind().path_segment(),
            utf8_percent_encode(scope.id(), NON_ALPHANUMERIC)
        )
    }

    /// The first account id served ([`ACCOUNT_ID`]).
    pub fn account_id(&self) -> &'static str {
        ACCOUNT_ID
    }

    /// The first zone id served ([`ZONE_ID`]).
    pub fn zone_id(&self) -> &'static str {
        ZONE_ID
    }

    /// Every account id served, [`ACCOUNT_ID`] first ([`Config::with_accounts`]).
    pub fn account_ids(&self) -> Vec<String> {
        self.ids(MockScope::Account)
    }

    /// Every zone id served, [`ZONE_ID`] first ([`Config::with_zones`]).
    pub fn zone_ids(&self) -> Vec<String> {
        self.ids(MockScope::Zone)
    }

    fn ids(&self, kind: MockScope) -> Vec<String> {
        self.state
            .of_kind(kind)
            .iter()
            .map(|served| served.info.scope.id().to_owned())
            .collect()
    }

    /// Every scope served: the accounts, then the zones.
    pub fn scopes(&self) -> Vec<ScopeId> {
        self.state
            .scopes
            .iter()
            .map(|served| served.info.scope.clone())
            .collect()
    }

    /// The integer `zone_id` the entries of a served zone carry; `None` for an id not served.
    pub fn zone_numeric_id(&self, zone_id: &str) -> Option<i64> {
        let index = self.state.find(MockScope::Zone, zone_id)?;
        self.state.scopes[index].info.zone_numeric_id
    }

    /// The seed the data was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The credentials the server accepts.
    pub fn credentials(&self) -> &MockCredentials {
        &self.credentials
    }

    /// The index of a served scope.
    fn find(&self, scope: &ScopeId) -> Option<usize> {
        self.state.find(scope.kind(), scope.id())
    }

    /// The insight ids of a scope, in a fixed order (derived from the seed); empty for a scope not served.
    pub fn issue_ids(&self, scope: impl Into<ScopeId>) -> Vec<String> {
        self.find(&scope.into())
            .map(|index| self.state.scopes[index].info.issue_ids.clone())
            .unwrap_or_default()
    }

    /// How many entries a scope (or one of its insights) holds now; 0 for a scope or insight not served.
    pub fn entry_count(&self, scope: impl Into<ScopeId>, issue: Option<&str>) -> usize {
        let Some(index) = self.find(&scope.into()) else {
            return 0;
        };
        let info = &self.state.scopes[index].info;
        let issue = match issue {
            None => None,
            Some(id) => match info.issue_index(id) {
                Some(i) => Some(i),
                None => return 0,
            },
        };
        let data = self.state.read(index);
        data.list(issue).len()
    }

    /// Every entry of a scope (or of one insight) now, oldest first, exactly as served; empty for a scope or
    /// insight not served.
    pub fn entries(
        &self,
        scope: impl Into<ScopeId>,
        issue: Option<&str>,
    ) -> Vec<MockAuditLogEntry> {
        self.expected_entries(
            scope,
            issue,
            &Filters {
                order: MockOrder::Asc,
                ..Filters::default()
            },
        )
    }

    /// Like [`MockServer::entries`], as JSON values (handy to build a [`CannedResponse::page`] with changes).
    pub fn entries_json(&self, scope: impl Into<ScopeId>, issue: Option<&str>) -> Vec<Value> {
        self.entries(scope, issue)
            .iter()
            .map(|error| serde_json::to_value(error).unwrap_or(Value::Null))
            .collect()
    }

    /// The entries a full walk with these filters yields now, in the order it yields them; empty for a scope or
    /// insight not served.
    pub fn expected_entries(
        &self,
        scope: impl Into<ScopeId>,
        issue: Option<&str>,
        filters: &Filters,
    ) -> Vec<MockAuditLogEntry> {
        let Some(index) = self.find(&scope.into()) else {
            return Vec::new();
        };
        let info = &self.state.scopes[index].info;
        let issue = match issue {
            None => None,
            Some(id) => match info.issue_index(id) {
                Some(i) => Some(i),
                None => return Vec::new(),
            },
        };
        let data = self.state.read(index);
        let list = self.state.select(index, &data, issue, filters);
        let mut out: Vec<MockAuditLogEntry> = list.iter().map(|&i| data.entry(i)).collect();
        if filters.order == MockOrder::Desc {
            out.reverse();
        }
        out
    }

    /// Every insight of a scope now, by id, exactly as served (what the lists hold without filters); empty for a
    /// scope not served. Its ids are those of [`MockServer::issue_ids`], in another order.
    pub fn insights(&self, scope: impl Into<ScopeId>) -> Vec<MockInsight> {
        self.find(&scope.into())
            .map(|index| self.state.insights(index).to_vec())
            .unwrap_or_default()
    }

    /// Like [`MockServer::insights`], as JSON values (handy to build a [`CannedResponse::insights_page`] with
    /// changes).
    pub fn insights_json(&self, scope: impl Into<ScopeId>) -> Vec<Value> {
        self.insights(scope)
            .iter()
            .map(|insight| serde_json::to_value(insight).unwrap_or(Value::Null))
            .collect()
    }

    /// The insights a full walk of a scope's list with these filters yields now, in order (the `count` its pages
    /// announce is their number); empty for a scope not served.
    pub fn expected_insights(
        &self,
        scope: impl Into<ScopeId>,
        filters: &InsightFilters,
    ) -> Vec<MockInsight> {
        let mut insights = self.insights(scope);
        insights.retain(|insight| filters.matches(insight));
        insights
    }

    /// Appends `count` entries to a scope, stamped with the present (the server's clock: UTC, milliseconds), over its
    /// insights, with fields like the generated ones; they are served from now on. Returns them in order.
    pub fn append_entries(
        &self,
        scope: impl Into<ScopeId>,
        count: usize,
    ) -> Result<Vec<MockAuditLogEntry>, AppendError> {
        self.append(scope.into(), count, None)
    }

    /// Like [`MockServer::append_entries`], stamped `changed_at` (truncated to the millisecond): several entries
    /// with one timestamp, or a late entry that takes its place inside the log rather than at its end. Each gets
    /// an id greater than those of the entries already there with the same `changed_at`.
    pub fn append_entries_at(
        &self,
        scope: impl Into<ScopeId>,
        count: usize,
        changed_at: DateTime<Utc>,
    ) -> Result<Vec<MockAuditLogEntry>, AppendError> {
        let millis = changed_at.timestamp_millis();
        if !(0..=data::MAX_MS).contains(&millis) {
            return Err(AppendError::TimeOutOfRange(changed_at));
        }
        self.append(scope.into(), count, Some(millis))
    }

    fn append(
        &self,
        scope: ScopeId,
        count: usize,
        millis: Option<i64>,
    ) -> Result<Vec<MockAuditLogEntry>, AppendError> {
        let index = self.find(&scope).ok_or(AppendError::UnknownScope(scope))?;
        self.state
            .append(index, count, millis)
            .map_err(|room| AppendError::TooMany {
                requested: count,
                room,
            })
    }

    /// Every request received so far, in arrival order (empty when the journal is off).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.journal.all()
    }

    /// Returns the journal and empties it.
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        self.state.journal.take()
    }

    /// Requests that matched no served route: an unknown path, a method other than GET, or an account or zone id
    /// the server does not serve. Each was answered with a 404 (or 405) envelope.
    pub fn unexpected_requests(&self) -> Vec<RecordedRequest> {
        self.state.journal.unexpected()
    }

    /// Returns the unexpected requests and forgets them (so a test that sends them on purpose can still drop a
    /// strict server).
    pub fn take_unexpected_requests(&self) -> Vec<RecordedRequest> {
        self.state.journal.take_unexpected()
    }

    /// Panics, listing them, if any unexpected request was received.
    #[track_caller]
    pub fn assert_no_unexpected_requests(&self) {
        let unexpected = self.unexpected_requests();
        if !unexpected.is_empty() {
            panic!("{}", describe_unexpected(&unexpected));
        }
    }

    /// Appends a canned response to the script (answered before normal serving, in order).
    pub fn push_canned(&self, response: CannedResponse) {
        lock(&self.state.script).push_back(response);
    }

    /// How many canned responses are still waiting.
    pub fn canned_remaining(&self) -> usize {
        lock(&self.state.script).len()
    }

    /// How many responses the server has sent a head for (or started to), 429s of the rate limit included;
    /// connections reset by a fault sent none and are not counted.
    pub fn served_count(&self) -> u64 {
        self.state.journal.served()
    }

    /// How many 429s the rate-limit emulation ([`Config::with_rate_limit`]) has served: the requests over budget and
    /// those in the lock-outs after them.
    pub fn rate_limited_count(&self) -> u64 {
        self.state.journal.rate_limited()
    }
}

fn describe_unexpected(unexpected: &[RecordedRequest]) -> String {
    let mut message = format!(
        "mock-server received {} unexpected request(s):",
        unexpected.len()
    );
    for request in unexpected {
        message.push_str(&format!(
            "\n  #{} {} {} ({})",
            request.seq,
            request.method,
            request.target(),
            request.unexpected.as_deref().unwrap_or("")
        ));
    }
    message
}

impl Drop for MockServer {
    fn drop(&mut self) {
        match &mut self.runner {
            Runner::Task(task) => task.abort(),
            Runner::Thread { shutdown, thread } => {
                if let Some(sender) = shutdown.take() {
                    let _ = sender.send(());
                }
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
        }
        if self.strict && !std::thread::panicking() {
            let unexpected = self.unexpected_requests();
            if !unexpected.is_empty() {
                panic!("{}", describe_unexpected(&unexpected));
            }
        }
    }
}
