//! Routing and authentication: which of the six operations a path names (an audit log or an insight list, with
//! its segments decoded), why a request the mock does not serve is unexpected, and whether the credentials sent
//! are the server's.

use hyper::Method;
use hyper::header::{AUTHORIZATION, HeaderMap};
use percent_encoding::percent_decode_str;

use crate::config::MockCredentials;
use crate::data::MockScope;

use super::State;

/// The path prefix of every route, like the real API's `/client/v4`.
pub(crate) const PREFIX: &str = "/client/v4";

/// Which list a route serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operation {
    /// `.../security-center/insights/audit-log` and `.../security-center/insights/{issue_id}/audit-log`.
    AuditLog,
    /// `.../security-center/insights`.
    Insights,
}

/// A route of the API, with its path segments decoded.
#[derive(Clone, Debug)]
pub(super) struct Route {
    pub(super) operation: Operation,
    pub(super) scope: MockScope,
    pub(super) scope_id: String,
    /// The scope's index in [`State::scopes`]; `None` for an id not served.
    pub(super) index: Option<usize>,
    pub(super) issue: Option<String>,
}

/// Splits a request path into a route of the API; `None` for any other path.
pub(super) fn match_route(state: &State, path: &str) -> Option<Route> {
    let rest = path.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let segs: Vec<&str> = rest.split('/').collect();
    let scope = match *segs.first()? {
        "accounts" => MockScope::Account,
        "zones" => MockScope::Zone,
        _ => return None,
    };
    let (operation, id, issue) = match segs.as_slice() {
        [_, id, "security-center", "insights"] => (Operation::Insights, *id, None),
        [_, id, "security-center", "insights", "audit-log"] => (Operation::AuditLog, *id, None),
        [_, id, "security-center", "insights", issue, "audit-log"] => {
            (Operation::AuditLog, *id, Some(*issue))
        }
        _ => return None,
    };
    let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
    let scope_id = decode(id);
    Some(Route {
        operation,
        scope,
        index: state.find(scope, &scope_id),
        scope_id,
        issue: issue.map(decode),
    })
}

/// Why a request to `path` is one the server was not told to expect (no route, another method than GET, an
/// account or zone not served), for the journal; `None` for a request to a served route.
pub(super) fn unexpected(route: Option<&Route>, method: &Method, path: &str) -> Option<String> {
    match route {
        None => Some(format!("no route for {path}")),
        Some(_) if method != Method::GET => Some(format!("method {method} is not served")),
        Some(route) if route.index.is_none() => Some(format!(
            "unknown {} id {:?}",
            route.scope.path_segment(),
            route.scope_id
        )),
        Some(_) => None,
    }
}

/// Whether `headers` carry credentials the server accepts: its API token as a bearer token, or its API key with
/// its e-mail.
pub(super) fn authorized(headers: &HeaderMap, credentials: &MockCredentials) -> bool {
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
