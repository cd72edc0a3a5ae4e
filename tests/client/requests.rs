//! What the client puts on the wire: request lines, query formats, id safety, input checks.

use chrono::{TimeZone, Utc};
use cloudflare_security_center::{Error, FieldChanged, Order, Scope};
use mock_server::{ACCOUNT_ID, ZONE_ID};

use crate::support::{client, first_issue, server};

/// The parameter or input `error` says a request was refused for before sending; `None` for
/// any other error.
fn refused_parameter(error: &Error) -> Option<&'static str> {
    match error {
        Error::InvalidRequest { parameter, .. } => Some(*parameter),
        _ => None,
    }
}

/// One page of an insight's log with every filter set; the request line carries RFC
/// 3339 times, wire enum values and percent-encoded text, and no `api-version` header.
#[tokio::test]
async fn request_line_and_query_format_for_an_account_insight() {
    let server = server().await;
    let issue = first_issue(&server);
    let since = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
    let before = Utc.with_ymd_and_hms(2025, 6, 7, 8, 9, 10).unwrap();
    let result = client(&server)
        .issue_audit_log(Scope::account(ACCOUNT_ID), &issue)
        .since(since)
        .before(before)
        .field_changed(FieldChanged::UserClassification)
        .changed_by("alice smith+ops@example.com")
        .order(Order::Asc)
        .per_page(50)
        .send()
        .await;
    assert!(result.is_ok(), "{result:?}");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        format!("/client/v4/accounts/{ACCOUNT_ID}/security-center/insights/{issue}/audit-log")
    );
    assert_eq!(
        request.query_param("since").as_deref(),
        Some("2024-01-02T03:04:05Z")
    );
    assert_eq!(
        request.query_param("before").as_deref(),
        Some("2025-06-07T08:09:10Z")
    );
    assert_eq!(
        request.query_param("field_changed").as_deref(),
        Some("user_classification")
    );
    assert_eq!(request.query_param("order").as_deref(), Some("asc"));
    assert_eq!(request.query_param("per_page").as_deref(), Some("50"));
    assert_eq!(
        request.query_param("changed_by").as_deref(),
        Some("alice smith+ops@example.com")
    );
    let raw = request.query.clone().unwrap_or_default();
    assert!(
        !raw.contains(' ') && !raw.contains("+ops"),
        "unencoded query: {raw}"
    );
    assert!(request.header("api-version").is_none());
    let agent = request.header("user-agent").unwrap_or_default();
    assert!(agent.starts_with("cloudflare-security-center/"), "{agent}");
}

/// The zone-wide audit log; the zone operation's path, only the set parameters sent.
#[tokio::test]
async fn request_line_for_the_zone_wide_audit_log() {
    let server = server().await;
    let page = client(&server).audit_log(Scope::zone(ZONE_ID)).send().await;
    assert!(page.is_ok(), "{page:?}");
    let request = &server.requests()[0];
    assert_eq!(
        request.path,
        format!("/client/v4/zones/{ZONE_ID}/security-center/insights/audit-log")
    );
    assert_eq!(request.query, None);
}

/// Ids that URL parsing would resolve as path segments are refused before sending.
#[tokio::test]
async fn dot_and_empty_ids_are_refused_before_sending() {
    let server = server().await;
    let client = client(&server);
    for issue in ["", ".", ".."] {
        let error = client
            .issue_audit_log(Scope::account(ACCOUNT_ID), issue)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(
            refused_parameter(&error),
            Some("issue_id"),
            "{issue:?}: {error}"
        );
    }
    for scope in [Scope::account(""), Scope::zone(".."), Scope::account(".")] {
        let error = client
            .audit_log(scope.clone())
            .send()
            .await
            .expect_err("refused");
        assert!(refused_parameter(&error).is_some(), "{scope:?}: {error}");
    }
    assert!(
        server.requests().is_empty(),
        "sent: {:?}",
        server.requests()
    );
}

/// Ids with `/`, `?`, `#`, `%`, spaces or non-ASCII are percent-encoded inside their
/// segment: the path keeps its shape and the server sees an unknown insight, not another route.
#[tokio::test]
async fn hostile_issue_ids_stay_inside_their_segment() {
    let server = server().await;
    let client = client(&server);
    for issue in ["a/b", "a?b=c", "a#b", "%2e%2e", "a b", "é", "../x", "./"] {
        let error = client
            .issue_audit_log(Scope::account(ACCOUNT_ID), issue)
            .send()
            .await
            .expect_err("unknown insight");
        assert_eq!(
            error.status().map(|status| status.as_u16()),
            Some(404),
            "{issue:?}: {error}"
        );
        let request = server.take_requests().pop().expect("one request");
        let prefix = format!("/client/v4/accounts/{ACCOUNT_ID}/security-center/insights/");
        let segment = request
            .path
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix("/audit-log"))
            .unwrap_or_else(|| panic!("{issue:?} changed the path: {}", request.path));
        assert!(!segment.contains('/'), "{issue:?} -> {segment}");
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        assert_eq!(decoded, issue, "the segment carries the id verbatim");
        assert_eq!(request.query, None, "{issue:?} leaked into the query");
    }
    assert!(server.unexpected_requests().is_empty());
}

/// `per_page` outside 1..=1000 and `since` not before `before` are refused locally.
#[tokio::test]
async fn out_of_range_inputs_are_refused_before_sending() {
    let server = server().await;
    let client = client(&server);
    for per_page in [0, 1001] {
        let error = client
            .audit_log(Scope::account(ACCOUNT_ID))
            .per_page(per_page)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(refused_parameter(&error), Some("per_page"), "{error}");
    }
    let now = Utc::now();
    let error = client
        .audit_log(Scope::account(ACCOUNT_ID))
        .since(now)
        .before(now)
        .send()
        .await
        .expect_err("refused");
    assert_eq!(refused_parameter(&error), Some("since"), "{error}");
    let error = client
        .audit_log(Scope::account("0123456789abcdef0123456789abcdef0"))
        .send()
        .await
        .expect_err("refused");
    assert_eq!(refused_parameter(&error), Some("account_id"), "{error}");
    assert!(server.requests().is_empty());
}

/// A walk over a refused input yields that input's error first, and sends nothing.
#[tokio::test]
async fn a_walk_over_a_refused_input_fails_before_sending() {
    let server = server().await;
    let mut items = client(&server)
        .issue_audit_log(Scope::account(ACCOUNT_ID), "..")
        .items();
    let first = items.next().await.expect("an outcome");
    assert_eq!(
        first.as_ref().err().and_then(refused_parameter),
        Some("issue_id"),
        "{first:?}"
    );
    assert!(items.next().await.is_none());
    assert!(server.requests().is_empty());
}

/// A backslash, which URL parsing reads as `/`, is refused in any id.
#[tokio::test]
async fn backslashes_in_ids_are_refused_before_sending() {
    let server = server().await;
    let client = client(&server);
    let error = client
        .issue_audit_log(Scope::account(ACCOUNT_ID), "a\\..\\b")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(refused_parameter(&error), Some("issue_id"), "{error}");
    let error = client
        .audit_log(Scope::zone("\\"))
        .send()
        .await
        .expect_err("refused");
    assert_eq!(refused_parameter(&error), Some("zone_id"), "{error}");
    assert!(server.requests().is_empty());
}
