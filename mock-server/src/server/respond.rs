//! Building the answer to one request: journal, rate limit, canned script, faults, then auth, validation and the
//! page itself (of an audit log or an insight list); then the hyper response, whose body a network fault may cut
//! or stall.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;

use crate::cursor::Fnv;
use crate::envelope::{ApiError, codes, page_body};
use crate::fault::{Fault, HTML_ERROR_PAGE};
use crate::insight::MockInsight;
use crate::insight_query;
use crate::journal::{RecordedRequest, lock};
use crate::query::{self, MockOrder};
use crate::rate_limit::Admission;
use crate::wire::{CutEnd, Link, ReplyBody};

use super::State;
use super::routes::{Operation, Route, authorized, match_route, unexpected};

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

/// Handles one request: journal, rate limit, script, route, faults, auth, validation, page.
///
/// An error makes hyper drop the connection without answering (the reset fault).
pub(super) async fn handle(
    state: Arc<State>,
    link: Arc<Link>,
    request: Request<Incoming>,
) -> Result<Response<ReplyBody>, io::Error> {
    let seq = state.seq.fetch_add(1, Ordering::Relaxed);
    let on_connection = link.count_request();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let route = match_route(&state, &path);
    let unexpected = unexpected(route.as_ref(), request.method(), &path);
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
    if route.operation == Operation::Insights {
        return serve_insights(state, index, query);
    }
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
        MockOrder::Asc => {
            let start = after.map_or(0, |a| list.partition_point(|&i| data.meta(i).key() <= a));
            let end = start.saturating_add(per_page).min(len);
            (start, end, (end < len).then(|| key(end - 1)))
        }
        MockOrder::Desc => {
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
            MockOrder::Asc => list[k],
            MockOrder::Desc => list[start + end - 1 - k],
        };
        data.entry_bytes(i)
    });
    Ok(Reply::json(
        200,
        page_body(items, request.per_page, next.as_deref()),
    ))
}

/// One page of an insight list: the scope's insights that pass the filters, by id, `per_page` of them from
/// `(page - 1) * per_page`, with the count of all that pass; or the shape an insight fault asks for.
fn serve_insights(state: &State, index: usize, query: Option<&str>) -> Result<Reply, ApiError> {
    let request = insight_query::parse(query)?;
    let all = state.insights(index);
    let selected: Vec<&MockInsight> = all
        .iter()
        .filter(|insight| request.filters.matches(insight))
        .collect();
    let count = selected.len();
    let per_page = request.per_page as usize;
    let start = usize::try_from(request.page - 1)
        .unwrap_or(usize::MAX)
        .saturating_mul(per_page);
    let issues: Vec<&MockInsight> = if state.faults.contains(&Fault::EndlessInsights) {
        match count {
            0 => Vec::new(),
            _ => (0..per_page)
                .map(|k| selected[(start % count + k) % count])
                .collect(),
        }
    } else if state.faults.contains(&Fault::RepeatedInsightsPage) {
        selected[..per_page.min(count)].to_vec()
    } else {
        selected[start.min(count)..start.saturating_add(per_page).min(count)].to_vec()
    };
    let before = state.insight_answers.fetch_add(1, Ordering::Relaxed);
    let drift = if state.faults.contains(&Fault::InsightsCountDrift) {
        before
    } else {
        0
    };
    let body = InsightsBody {
        success: true,
        errors: [],
        messages: [],
        result: InsightsResult {
            count: count as u64 + drift,
            issues,
            page: request.page,
            per_page: request.per_page,
        },
    };
    Ok(Reply::json(
        200,
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    ))
}

/// An insight list's answer, serialised in upstream's field order.
#[derive(Serialize)]
struct InsightsBody<'a> {
    success: bool,
    errors: [(); 0],
    messages: [(); 0],
    result: InsightsResult<'a>,
}

/// `result` of an insight list's answer.
#[derive(Serialize)]
struct InsightsResult<'a> {
    count: u64,
    issues: Vec<&'a MockInsight>,
    page: u64,
    per_page: u32,
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
