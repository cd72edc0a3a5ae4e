//! The HTTP side: routing, auth, validation, rate limiting, fault injection and page assembly for the four
//! audit-log operations, on hyper's HTTP/1 server, or over TLS on its HTTP/2 or HTTP/1 server as ALPN chose, with
//! one task per connection.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONNECTION, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use percent_encoding::percent_decode_str;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, Credentials};
use crate::cursor::{CursorCodec, Fnv};
use crate::data::{
    ACTORS, AuditLogEntry, MAX_MS, Scope, ScopeData, ScopeId, ScopeInfo, generate, scope_ids,
};
use crate::envelope::{ApiError, codes, page_body};
use crate::fault::{CannedResponse, Fault, HTML_ERROR_PAGE};
use crate::journal::{Journal, RecordedRequest, lock};
use crate::query::{self, FieldChanged, Filters, Order, nanos};
use crate::rate_limit::{Admission, Limiter};
use crate::wire::{CutEnd, Link, ReplyBody, Socket};

/// The path prefix of every route, like the real API's `/client/v4`.
pub(crate) const PREFIX: &str = "/client/v4";

/// How long a client has to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Cached filtered selections kept at most (the cache is cleared when full).
const CACHE_CAPACITY: usize = 1024;

/// Key of a filtered selection: everything that decides which entries a walk sees (order only reverses it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SelectionKey {
    /// Index into [`State::scopes`].
    scope: usize,
    issue: Option<u16>,
    since: Option<i128>,
    before: Option<i128>,
    field: Option<FieldChanged>,
    changed_by: Option<String>,
}

/// A cached selection and the state of its scope's data it was made from.
#[derive(Debug)]
struct Cached {
    /// [`ScopeData::epoch`] at the time.
    epoch: u64,
    /// How many entries the scope had: entries appended at the end since then can be filtered and added.
    seen: usize,
    list: Arc<[u32]>,
}

/// The entries a walk sees, oldest first: indices into its scope's data.
pub(crate) enum Selection<'a> {
    /// The whole scope or insight, unfiltered.
    All(&'a [u32]),
    /// A filtered selection, shared with the cache.
    Filtered(Arc<[u32]>),
}

impl Deref for Selection<'_> {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        match self {
            Selection::All(list) => list,
            Selection::Filtered(list) => list,
        }
    }
}

/// One served account or zone: its fixed facts, and its entries once generated.
#[derive(Debug)]
pub(crate) struct Served {
    pub(crate) info: ScopeInfo,
    data: OnceLock<RwLock<ScopeData>>,
    /// How many growth entries were appended so far.
    grown: AtomicU64,
}

/// The server's clock: the wall time at start plus the monotonic time since, in Unix milliseconds.
#[derive(Debug)]
struct Clock {
    start: Instant,
    start_ms: i64,
}

impl Clock {
    fn new() -> Self {
        Clock {
            start: Instant::now(),
            start_ms: chrono::Utc::now().timestamp_millis(),
        }
    }

    /// Milliseconds since start.
    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    fn now_ms(&self) -> i64 {
        self.start_ms.saturating_add(self.elapsed_ms()).min(MAX_MS)
    }
}

/// Everything the request handler shares.
#[derive(Debug)]
pub(crate) struct State {
    /// The accounts, then the zones, each kind in the order of its ids.
    pub(crate) scopes: Vec<Served>,
    accounts: usize,
    /// Scope index by id, per kind (accounts, zones).
    by_id: [HashMap<String, usize>; 2],
    clock: Clock,
    /// Entries per second per scope; 0 for none.
    growth: f64,
    pub(crate) journal: Journal,
    pub(crate) script: Mutex<VecDeque<CannedResponse>>,
    codec: CursorCodec,
    credentials: Credentials,
    faults: Vec<Fault>,
    limiter: Option<Limiter>,
    seq: AtomicU64,
    counted: AtomicU64,
    cache: Mutex<HashMap<SelectionKey, Cached>>,
}

/// A route of the API, with its path segments decoded.
#[derive(Clone, Debug)]
struct Route {
    scope: Scope,
    scope_id: String,
    /// The scope's index in [`State::scopes`]; `None` for an id not served.
    index: Option<usize>,
    issue: Option<String>,
}

/// How an answer leaves the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Head and whole body.
    Whole,
    /// Head, about half of the body, then the connection or the stream goes ([`CutEnd`]).
    Cut(CutEnd),
    /// Head, then nothing for this long, then the connection is closed.
    StallAfterHead(Duration),
    /// No response at all: the connection is reset.
    Reset,
}

/// The answer before it becomes a hyper response.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    delivery: Delivery,
}

impl Reply {
    fn json(status: u16, body: Bytes) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            delivery: Delivery::Whole,
        }
    }

    fn error(error: &ApiError) -> Self {
        Reply::json(error.status, error.body())
    }
}

/// Locks for reading, recovering the data if a panicking thread poisoned the lock.
fn read_lock<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|error| error.into_inner())
}

/// Locks for writing, recovering the data if a panicking thread poisoned the lock.
fn write_lock<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|error| error.into_inner())
}

fn kind_index(kind: Scope) -> usize {
    match kind {
        Scope::Account => 0,
        Scope::Zone => 1,
    }
}

impl State {
    /// Sets up every served scope and generates the first account's and the first zone's entries.
    pub(crate) fn new(config: &Config) -> Self {
        let mut scopes = Vec::with_capacity(config.accounts + config.zones);
        let mut by_id: [HashMap<String, usize>; 2] = Default::default();
        for (kind, count, entries) in [
            (Scope::Account, config.accounts, config.account_entries),
            (Scope::Zone, config.zones, config.zone_entries),
        ] {
            for (index, id) in scope_ids(kind, config.seed, count).into_iter().enumerate() {
                by_id[kind_index(kind)].insert(id.clone(), scopes.len());
                scopes.push(Served {
                    info: ScopeInfo::new(
                        kind,
                        id,
                        index,
                        config.seed,
                        entries,
                        config.insights_per_scope,
                    ),
                    data: OnceLock::new(),
                    grown: AtomicU64::new(0),
                });
            }
        }
        let state = State {
            accounts: by_id[0].len(),
            scopes,
            by_id,
            clock: Clock::new(),
            growth: config.growth,
            journal: Journal::new(config.record_requests),
            script: Mutex::new(config.script.iter().cloned().collect()),
            codec: CursorCodec::new(config.seed),
            credentials: config.credentials.clone(),
            faults: config.faults.clone(),
            limiter: config.rate_limit.map(Limiter::new),
            seq: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
        };
        for first in [0, state.accounts] {
            state.data(first);
        }
        state
    }

    /// The index of a served scope.
    pub(crate) fn find(&self, kind: Scope, id: &str) -> Option<usize> {
        self.by_id[kind_index(kind)].get(id).copied()
    }

    /// The served scopes of one kind.
    pub(crate) fn of_kind(&self, kind: Scope) -> &[Served] {
        match kind {
            Scope::Account => &self.scopes[..self.accounts],
            Scope::Zone => &self.scopes[self.accounts..],
        }
    }

    /// A scope's entries, generated on first use and grown to the present.
    fn data(&self, index: usize) -> &RwLock<ScopeData> {
        let served = &self.scopes[index];
        let data = served
            .data
            .get_or_init(|| RwLock::new(generate(&served.info)));
        if self.growth > 0.0 {
            self.grow(served, data);
        }
        data
    }

    /// Appends the growth entries that are due: entry `k` at `start + k / rate`, stamped with that time.
    fn grow(&self, served: &Served, data: &RwLock<ScopeData>) {
        let elapsed = self.clock.elapsed_ms();
        let due = (elapsed as f64 * self.growth / 1000.0) as u64;
        // The normal path: nothing due, no write lock.
        if served.grown.load(Ordering::Acquire) >= due {
            return;
        }
        let mut data = write_lock(data);
        let done = served.grown.load(Ordering::Acquire);
        for k in done + 1..=due {
            if data.room() == 0 {
                break;
            }
            let at = ((k as f64 * 1000.0 / self.growth).ceil() as i64).min(elapsed);
            data.append(
                self.clock.start_ms.saturating_add(at).min(MAX_MS),
                &served.info,
            );
        }
        served.grown.store(due.max(done), Ordering::Release);
    }

    /// A scope's entries, for reading.
    pub(crate) fn read(&self, index: usize) -> RwLockReadGuard<'_, ScopeData> {
        read_lock(self.data(index))
    }

    /// Appends `count` entries stamped `millis` (the server's present when `None`) to a scope, after any growth due.
    pub(crate) fn append(
        &self,
        index: usize,
        count: usize,
        millis: Option<i64>,
    ) -> Result<Vec<AuditLogEntry>, usize> {
        let mut data = write_lock(self.data(index));
        if count > data.room() {
            return Err(data.room());
        }
        let millis = millis.unwrap_or_else(|| self.clock.now_ms());
        let info = &self.scopes[index].info;
        Ok((0..count).map(|_| data.append(millis, info)).collect())
    }

    /// The entries a walk with these filters sees, oldest first (indices into the scope's data).
    pub(crate) fn select<'a>(
        &self,
        scope: usize,
        data: &'a ScopeData,
        issue: Option<u16>,
        filters: &Filters,
    ) -> Selection<'a> {
        let base = data.list(issue);
        if filters.since.is_none()
            && filters.before.is_none()
            && filters.field_changed.is_none()
            && filters.changed_by.is_none()
        {
            return Selection::All(base);
        }
        let key = SelectionKey {
            scope,
            issue,
            since: filters.since.as_ref().map(nanos),
            before: filters.before.as_ref().map(nanos),
            field: filters.field_changed,
            changed_by: filters.changed_by.clone(),
        };
        // `Some(None)`: a changed_by filter naming nobody, which matches nothing.
        let actor: Option<Option<u8>> = key.changed_by.as_deref().map(|name| {
            ACTORS
                .iter()
                .position(|actor| *actor == name)
                .map(|position| position as u8)
        });
        let keep = |index: u32| {
            let meta = data.meta(index);
            let time = i128::from(meta.changed_at_ms()) * 1_000_000;
            key.since.is_none_or(|since| time >= since)
                && key.before.is_none_or(|before| time < before)
                && key.field.is_none_or(|field| meta.field == field)
                && actor.is_none_or(|actor| actor == Some(meta.actor))
        };
        let (epoch, len) = (data.epoch(), data.len());
        {
            let mut cache = lock(&self.cache);
            if let Some(hit) = cache.get_mut(&key)
                && hit.epoch == epoch
                && hit.seen <= len
            {
                if hit.seen < len {
                    // Entries were only appended at the end since: filter them and add them.
                    let tail = data.list(None)[hit.seen..]
                        .iter()
                        .copied()
                        .filter(|&i| issue.is_none_or(|x| data.meta(i).issue == x) && keep(i));
                    hit.list = hit.list.iter().copied().chain(tail).collect();
                    hit.seen = len;
                }
                return Selection::Filtered(hit.list.clone());
            }
        }
        let list: Arc<[u32]> = base.iter().copied().filter(|&i| keep(i)).collect();
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(
            key,
            Cached {
                epoch,
                seen: len,
                list: list.clone(),
            },
        );
        Selection::Filtered(list)
    }

    /// Identifies a walk (scope, insight, filters, order) inside its cursors.
    fn fingerprint(scope: &ScopeId, issue: Option<u16>, filters: &Filters) -> u64 {
        let opt = |t: &Option<chrono::DateTime<chrono::Utc>>| {
            t.as_ref().map(|t| nanos(t).to_string()).unwrap_or_default()
        };
        Fnv::new()
            .field(scope.kind().path_segment().as_bytes())
            .field(scope.id().as_bytes())
            .field(
                issue
                    .map(|index| index.to_string())
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(opt(&filters.since).as_bytes())
            .field(opt(&filters.before).as_bytes())
            .field(
                filters
                    .field_changed
                    .map(FieldChanged::as_str)
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(
                filters
                    .changed_by
                    .as_deref()
                    .map(|c| format!("={c}"))
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(filters.order.as_str().as_bytes())
            .finish()
    }
}

/// Splits a request path into a route of the API; `None` for any other path.
fn match_route(state: &State, path: &str) -> Option<Route> {
    let rest = path.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let segs: Vec<&str> = rest.split('/').collect();
    let scope = match *segs.first()? {
        "accounts" => Scope::Account,
        "zones" => Scope::Zone,
        _ => return None,
    };
    let (id, issue) = match segs.as_slice() {
        [_, id, "security-center", "insights", "audit-log"] => (*id, None),
        [_, id, "security-center", "insights", issue, "audit-log"] => (*id, Some(*issue)),
        _ => return None,
    };
    let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
    let scope_id = decode(id);
    Some(Route {
        scope,
        index: state.find(scope, &scope_id),
        scope_id,
        issue: issue.map(decode),
    })
}

fn authorized(headers: &HeaderMap, credentials: &Credentials) -> bool {
    let get = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token == credentials.api_token
        });
    bearer
        || get("x-auth-key") == Some(credentials.api_key.as_str())
            && get("x-auth-email") == Some(credentials.email.as_str())
}

/// Handles one request: journal, rate limit, script, route, faults, auth, validation, page.
///
/// An error makes hyper drop the connection without answering (the reset fault).
async fn handle(
    state: Arc<State>,
    link: Arc<Link>,
    request: Request<Incoming>,
) -> Result<Response<ReplyBody>, io::Error> {
    let seq = state.seq.fetch_add(1, Ordering::Relaxed);
    let on_connection = link.count_request();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let route = match_route(&state, &path);
    let unexpected = match &route {
        None => Some(format!("no route for {path}")),
        Some(_) if request.method() != Method::GET => {
            Some(format!("method {} is not served", request.method()))
        }
        Some(r) if r.index.is_none() => Some(format!(
            "unknown {} id {:?}",
            r.scope.path_segment(),
            r.scope_id
        )),
        Some(_) => None,
    };
    state.journal.record(RecordedRequest {
        seq,
        method: request.method().to_string(),
        version: format!("{:?}", request.version()),
        path: path.clone(),
        query: query.clone(),
        headers: request
            .headers()
            .iter()
            .map(|(count, v)| {
                (
                    count.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        unexpected,
    });

    // Like Cloudflare's edge, the limiter counts every request, and one it refuses goes no further.
    let admission = state.limiter.as_ref().map(|l| (l, l.admit(Instant::now())));
    let reply = match admission {
        Some((limiter, Admission::Limited { retry_after_secs })) => {
            state.journal.count_rate_limited();
            let mut r = Reply::error(&ApiError::new(
                429,
                codes::RATE_LIMIT_EXCEEDED,
                limiter.limit.exceeded_message(),
            ));
            r.headers
                .push(("retry-after".into(), retry_after_secs.to_string()));
            r
        }
        _ => {
            respond(
                &state,
                request.method(),
                request.headers(),
                &path,
                route,
                query.as_deref(),
            )
            .await
        }
    };
    if reply.delivery == Delivery::Reset {
        link.reset_on_close();
        if link.is_h2() {
            // hyper answers a failed HTTP/2 request with RST_STREAM only: have the whole connection dropped first.
            link.drop_connection();
            link.gone().await;
        }
        return Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection reset before the response head",
        ));
    }
    state.journal.count_served();
    let mut response = to_response(reply, seq, link.clone());
    if let Some((limiter, admission)) = admission {
        let h = response.headers_mut();
        for (name, value) in [
            ("ratelimit", admission.header()),
            ("ratelimit-policy", limiter.limit.policy_header()),
        ] {
            // A canned answer's own field wins.
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.entry(name).or_insert(v);
            }
        }
    }
    if state
        .faults
        .iter()
        .any(|fault| fault.fires_on_connection(on_connection))
    {
        if link.is_h2() {
            link.go_away();
        } else {
            // hyper closes an HTTP/1 connection after an answer that says so.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
    }
    Ok(response)
}

async fn respond(
    state: &State,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
    route: Option<Route>,
    query: Option<&str>,
) -> Reply {
    let canned = lock(&state.script).pop_front();
    // A delay applies to a "normal" step too: it then answers normally, late.
    if let Some(delay) = canned.as_ref().and_then(|c| c.delay) {
        tokio::time::sleep(delay).await;
    }
    if let Some(c) = canned.filter(|c| !c.normal) {
        return Reply {
            status: c.status,
            headers: c.headers,
            body: c.body,
            delivery: Delivery::Whole,
        };
    }

    let Some(route) = route else {
        return Reply::error(&ApiError::new(404, codes::NO_ROUTE, "No route for the URI"));
    };
    if method != Method::GET {
        return Reply::error(&ApiError::new(
            405,
            codes::METHOD_NOT_ALLOWED,
            "Method not allowed for this route",
        ));
    }

    let count = state.counted.fetch_add(1, Ordering::Relaxed) + 1;
    for fault in state.faults.iter().filter(|fault| fault.fires(count)) {
        if let Fault::Slow { delay, .. } = fault {
            tokio::time::sleep(*delay).await;
        }
    }
    for fault in state.faults.iter().filter(|fault| fault.fires(count)) {
        match fault {
            Fault::RateLimit {
                retry_after_secs, ..
            } => {
                let mut r = Reply::error(&ApiError::new(
                    429,
                    codes::RATE_LIMITED,
                    "Rate limited. Please wait and consider throttling your request speed",
                ));
                r.headers
                    .push(("retry-after".into(), retry_after_secs.to_string()));
                return r;
            }
            Fault::ServerError { status, .. } => {
                return Reply::error(&ApiError::new(
                    *status,
                    codes::SERVER_ERROR,
                    "Service temporarily unavailable",
                ));
            }
            Fault::HtmlErrorPage { .. } => {
                return Reply {
                    status: 502,
                    headers: vec![("content-type".into(), "text/html".into())],
                    body: Bytes::from_static(HTML_ERROR_PAGE.as_bytes()),
                    delivery: Delivery::Whole,
                };
            }
            Fault::ResetBeforeHead { .. } => {
                return Reply {
                    delivery: Delivery::Reset,
                    ..Reply::json(200, Bytes::new())
                };
            }
            _ => {}
        }
    }

    let mut reply = match serve_page(state, headers, path, &route, query) {
        Ok(r) => r,
        Err(error) => Reply::error(&error),
    };
    // The first fault that changes how the answer is sent decides it.
    for fault in state.faults.iter().filter(|fault| fault.fires(count)) {
        match fault {
            Fault::TruncatedBody { .. } => {
                reply.body = reply.body.slice(..reply.body.len() / 2);
            }
            Fault::DropMidBody { .. } => reply.delivery = Delivery::Cut(CutEnd::DropConnection),
            Fault::ResetStream { .. } => reply.delivery = Delivery::Cut(CutEnd::ResetStream),
            Fault::Stall { delay, .. } => reply.delivery = Delivery::StallAfterHead(*delay),
            _ => continue,
        }
        break;
    }
    reply
}

/// Auth, validation and the page itself.
fn serve_page(
    state: &State,
    headers: &HeaderMap,
    path: &str,
    route: &Route,
    query: Option<&str>,
) -> Result<Reply, ApiError> {
    if !authorized(headers, &state.credentials) {
        return Err(ApiError::new(
            401,
            codes::AUTHENTICATION_ERROR,
            "Authentication error",
        ));
    }
    let Some(index) = route.index else {
        return Err(ApiError::new(
            404,
            codes::NO_ROUTE,
            format!("Could not route to {path}, perhaps your object identifier is invalid?"),
        ));
    };
    let request = query::parse(query)?;
    let info = &state.scopes[index].info;
    let issue = match &route.issue {
        None => None,
        Some(id) => Some(info.issue_index(id).ok_or_else(|| {
            ApiError::new(404, codes::NOT_FOUND, format!("Insight not found: {id}"))
        })?),
    };
    let fingerprint = State::fingerprint(&info.scope, issue, &request.filters);
    let after = match &request.cursor {
        None => None,
        Some(c) => Some(state.codec.decode(c, fingerprint)?),
    };
    let data = state.read(index);
    let list = state.select(index, &data, issue, &request.filters);
    let len = list.len();
    let key = |k: usize| data.meta(list[k]).key();
    let per_page = request.per_page as usize;
    let order = request.filters.order;
    // A cursor holds the key of the last entry served; the walk goes on strictly past it, so entries added
    // since, anywhere, never shift it.
    let (start, end, next_key) = match order {
        Order::Asc => {
            let start = after.map_or(0, |a| list.partition_point(|&i| data.meta(i).key() <= a));
            let end = start.saturating_add(per_page).min(len);
            (start, end, (end < len).then(|| key(end - 1)))
        }
        Order::Desc => {
            let end = after.map_or(len, |a| list.partition_point(|&i| data.meta(i).key() < a));
            let start = end.saturating_sub(per_page);
            (start, end, (start > 0).then(|| key(start)))
        }
    };
    let mut next = next_key.map(|k| state.codec.encode(fingerprint, k));
    if let Some(c) = &request.cursor
        && state.faults.contains(&Fault::RepeatedCursor)
    {
        next = Some(c.clone());
    }
    if next.is_none() && state.faults.contains(&Fault::EmptyCursorOnLastPage) {
        next = Some(String::new());
    }
    let items = (start..end).map(|k| {
        let i = match order {
            Order::Asc => list[k],
            Order::Desc => list[start + end - 1 - k],
        };
        data.entry_bytes(i)
    });
    Ok(Reply::json(
        200,
        page_body(items, request.per_page, next.as_deref()),
    ))
}

fn to_response(reply: Reply, seq: u64, link: Arc<Link>) -> Response<ReplyBody> {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let len = reply.body.len() as u64;
    let body = match reply.delivery {
        Delivery::Whole | Delivery::Reset => ReplyBody::whole(reply.body),
        Delivery::Cut(end) => ReplyBody::cut(&reply.body, link, end),
        Delivery::StallAfterHead(delay) => ReplyBody::stall(len, delay, link),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    let ray = format!("{:016x}-MCK", Fnv::new().bytes(&seq.to_le_bytes()).finish());
    if let Ok(v) = HeaderValue::from_str(&ray) {
        h.insert("cf-ray", v);
    }
    for (name, value) in reply.headers {
        // A canned header that is not valid HTTP is left out rather than crashing the server.
        if let (Ok(count), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.append(count, v);
        }
    }
    response
}

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
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
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
