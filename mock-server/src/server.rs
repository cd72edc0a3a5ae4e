//! The HTTP side: routing, auth, validation, rate limiting, fault injection and page assembly for the four
//! audit-log operations, on hyper's HTTP/1 server with one task per connection.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use percent_encoding::percent_decode_str;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::{Config, Credentials};
use crate::cursor::{CursorCodec, Fnv};
use crate::data::{ACTORS, Scope, ScopeData, generate};
use crate::envelope::{ApiError, codes, page_body};
use crate::fault::{CannedResponse, Fault, HTML_ERROR_PAGE};
use crate::journal::{Journal, RecordedRequest, lock};
use crate::query::{self, FieldChanged, Filters, Order, nanos};
use crate::rate_limit::{Admission, Limiter};
use crate::wire::{Link, ReplyBody, Socket};

/// The path prefix of every route, like the real API's `/client/v4`.
pub(crate) const PREFIX: &str = "/client/v4";

/// Cached filtered selections kept at most (the cache is cleared when full).
const CACHE_CAPACITY: usize = 256;

/// Key of a filtered selection: everything that decides which entries a walk sees (order only reverses it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SelectionKey {
    scope: Scope,
    issue: Option<u16>,
    since: Option<i128>,
    before: Option<i128>,
    field: Option<FieldChanged>,
    changed_by: Option<String>,
}

/// Everything the request handler shares.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) data: [ScopeData; 2],
    pub(crate) journal: Journal,
    pub(crate) script: Mutex<VecDeque<CannedResponse>>,
    codec: CursorCodec,
    credentials: Credentials,
    faults: Vec<Fault>,
    limiter: Option<Limiter>,
    seq: AtomicU64,
    counted: AtomicU64,
    cache: Mutex<HashMap<SelectionKey, Arc<[u32]>>>,
}

/// A route of the API, with its path segments decoded.
#[derive(Clone, Debug)]
struct Route {
    scope: Scope,
    scope_id: String,
    issue: Option<String>,
}

/// How an answer leaves the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Head and whole body.
    Whole,
    /// Head, about half of the body, then the connection is closed.
    CutMidBody,
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

    fn error(e: &ApiError) -> Self {
        Reply::json(e.status, e.body())
    }
}

impl State {
    pub(crate) fn new(config: &Config) -> Self {
        let gen_scope = |scope, n| generate(scope, config.seed, n, config.insights_per_scope);
        State {
            data: [
                gen_scope(Scope::Account, config.account_entries),
                gen_scope(Scope::Zone, config.zone_entries),
            ],
            journal: Journal::new(config.record_requests),
            script: Mutex::new(config.script.iter().cloned().collect()),
            codec: CursorCodec::new(config.seed),
            credentials: config.credentials.clone(),
            faults: config.faults.clone(),
            limiter: config.rate_limit.map(Limiter::new),
            seq: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn scope(&self, scope: Scope) -> &ScopeData {
        &self.data[scope.index()]
    }

    /// The entries a walk with these filters sees, oldest first (indices into the scope's data).
    pub(crate) fn select(&self, scope: Scope, issue: Option<u16>, filters: &Filters) -> Arc<[u32]> {
        let data = self.scope(scope);
        let base = match issue {
            Some(i) => data.per_issue[i as usize].clone(),
            None => data.all.clone(),
        };
        if filters.since.is_none()
            && filters.before.is_none()
            && filters.field_changed.is_none()
            && filters.changed_by.is_none()
        {
            return base;
        }
        let key = SelectionKey {
            scope,
            issue,
            since: filters.since.as_ref().map(nanos),
            before: filters.before.as_ref().map(nanos),
            field: filters.field_changed,
            changed_by: filters.changed_by.clone(),
        };
        if let Some(hit) = lock(&self.cache).get(&key) {
            return hit.clone();
        }
        // `Some(None)`: a changed_by filter naming nobody, which matches nothing.
        let actor: Option<Option<u8>> = key
            .changed_by
            .as_deref()
            .map(|c| ACTORS.iter().position(|a| *a == c).map(|p| p as u8));
        let list: Arc<[u32]> = base
            .iter()
            .copied()
            .filter(|&i| {
                let m = &data.meta[i as usize];
                let t = i128::from(m.changed_at_ms) * 1_000_000;
                key.since.is_none_or(|s| t >= s)
                    && key.before.is_none_or(|b| t < b)
                    && key.field.is_none_or(|f| m.field == f)
                    && actor.is_none_or(|a| a == Some(m.actor))
            })
            .collect::<Vec<_>>()
            .into();
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(key, list.clone());
        list
    }

    /// Identifies a walk (scope, insight, filters, order) inside its cursors.
    fn fingerprint(scope: Scope, issue: Option<u16>, f: &Filters) -> u64 {
        let opt = |t: &Option<chrono::DateTime<chrono::Utc>>| {
            t.as_ref().map(|t| nanos(t).to_string()).unwrap_or_default()
        };
        Fnv::new()
            .field(scope.path_segment().as_bytes())
            .field(issue.map(|i| i.to_string()).unwrap_or_default().as_bytes())
            .field(opt(&f.since).as_bytes())
            .field(opt(&f.before).as_bytes())
            .field(
                f.field_changed
                    .map(FieldChanged::as_str)
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(
                f.changed_by
                    .as_deref()
                    .map(|c| format!("={c}"))
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(f.order.as_str().as_bytes())
            .finish()
    }
}

/// Splits a request path into a route of the API; `None` for any other path.
fn match_route(path: &str) -> Option<Route> {
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
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    Some(Route {
        scope,
        scope_id: decode(id),
        issue: issue.map(decode),
    })
}

fn authorized(headers: &HeaderMap, creds: &Credentials) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token == creds.api_token
        });
    bearer
        || get("x-auth-key") == Some(creds.api_key.as_str())
            && get("x-auth-email") == Some(creds.email.as_str())
}

/// Handles one request: journal, rate limit, script, route, faults, auth, validation, page.
///
/// An error makes hyper drop the connection without answering (the reset fault).
async fn handle(
    state: Arc<State>,
    link: Arc<Link>,
    req: Request<Incoming>,
) -> Result<Response<ReplyBody>, io::Error> {
    let seq = state.seq.fetch_add(1, Ordering::Relaxed);
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let route = match_route(&path);
    let unexpected = match &route {
        None => Some(format!("no route for {path}")),
        Some(_) if req.method() != Method::GET => {
            Some(format!("method {} is not served", req.method()))
        }
        Some(r) if r.scope_id != r.scope.id() => Some(format!(
            "unknown {} id {:?}",
            r.scope.path_segment(),
            r.scope_id
        )),
        Some(_) => None,
    };
    state.journal.record(RecordedRequest {
        seq,
        method: req.method().to_string(),
        path: path.clone(),
        query: query.clone(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
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
                req.method(),
                req.headers(),
                &path,
                route,
                query.as_deref(),
            )
            .await
        }
    };
    if reply.delivery == Delivery::Reset {
        link.reset_on_close();
        return Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection reset before the response head",
        ));
    }
    state.journal.count_served();
    let mut response = to_response(reply, seq, link);
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

    let n = state.counted.fetch_add(1, Ordering::Relaxed) + 1;
    for f in state.faults.iter().filter(|f| f.fires(n)) {
        if let Fault::Slow { delay, .. } = f {
            tokio::time::sleep(*delay).await;
        }
    }
    for f in state.faults.iter().filter(|f| f.fires(n)) {
        match f {
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
        Err(e) => Reply::error(&e),
    };
    // The first fault that changes how the answer is sent decides it.
    for f in state.faults.iter().filter(|f| f.fires(n)) {
        match f {
            Fault::TruncatedBody { .. } => {
                reply.body = reply.body.slice(..reply.body.len() / 2);
            }
            Fault::DropMidBody { .. } => reply.delivery = Delivery::CutMidBody,
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
    if route.scope_id != route.scope.id() {
        return Err(ApiError::new(
            404,
            codes::NO_ROUTE,
            format!("Could not route to {path}, perhaps your object identifier is invalid?"),
        ));
    }
    let request = query::parse(query)?;
    let data = state.scope(route.scope);
    let issue = match &route.issue {
        None => None,
        Some(id) => Some(data.issue_index(id).ok_or_else(|| {
            ApiError::new(404, codes::NOT_FOUND, format!("Insight not found: {id}"))
        })?),
    };
    let list = state.select(route.scope, issue, &request.filters);
    let fingerprint = State::fingerprint(route.scope, issue, &request.filters);
    let len = list.len();
    let start = match &request.cursor {
        None => 0,
        Some(c) => {
            let p = state.codec.decode(c, fingerprint)?;
            usize::try_from(p)
                .ok()
                .filter(|p| *p <= len)
                .ok_or_else(|| ApiError::invalid(format!("cursor is malformed: {c:?}")))?
        }
    };
    let end = start.saturating_add(request.per_page as usize).min(len);
    let mut next = (end < len).then(|| state.codec.encode(fingerprint, end as u64));
    if let Some(c) = &request.cursor
        && state.faults.contains(&Fault::RepeatedCursor)
    {
        next = Some(c.clone());
    }
    if next.is_none() && state.faults.contains(&Fault::EmptyCursorOnLastPage) {
        next = Some(String::new());
    }
    let order = request.filters.order;
    let items = (start..end).map(|k| {
        let i = match order {
            Order::Asc => list[k],
            Order::Desc => list[len - 1 - k],
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
        Delivery::CutMidBody => ReplyBody::Cut {
            part: Some(reply.body.slice(..reply.body.len() / 2)),
            len,
            link,
        },
        Delivery::StallAfterHead(delay) => ReplyBody::Stall {
            len,
            timer: Box::pin(tokio::time::sleep(delay)),
        },
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
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.append(n, v);
        }
    }
    response
}

/// Accepts connections until the future is dropped; dropping it also drops every open connection.
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let state = state.clone();
                    connections.spawn(async move {
                        let link = Arc::new(Link::default());
                        let io = TokioIo::new(Socket::new(stream, link.clone()));
                        let service =
                            service_fn(move |req| handle(state.clone(), link.clone(), req));
                        let _ = http1::Builder::new()
                            .timer(TokioTimer::new())
                            .serve_connection(io, service)
                            .await;
                    });
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
