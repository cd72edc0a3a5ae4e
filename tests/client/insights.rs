//! The insight lists against answers the mock is told to give: filters reach the wire as upstream's spec says,
//! bad inputs are refused before sending, a walk yields every insight once across pages, each shape of a server
//! that never ends or changes under the walk ends with a typed error, and values the client does not know are kept.

use cloudflare_security_center::{
    Error, InsightStatus, IssueType, Scope, Severity, SeverityFilter, UserClassification,
};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockServer, ZONE_ID};
use serde_json::{Value, json};

use crate::support::{client, server_with};

/// An insight of id `i{n}`.
fn insight(n: u32) -> Value {
    json!({
        "id": format!("i{n}"),
        "dismissed": false,
        "issue_class": "always_use_https_not_enabled",
        "issue_type": "insecure_configuration",
        "severity": "Critical",
        "status": "active",
        "subject": "example.com",
        "since": "2026-01-02T03:04:05Z",
        "user_classification": null,
    })
}

/// A page of the insights `ids`, announcing `count`, as page `page` of `per_page`.
fn answer(ids: &[u32], count: u64, page: u64, per_page: u64) -> CannedResponse {
    let issues: Vec<Value> = ids.iter().copied().map(insight).collect();
    CannedResponse::json(
        200,
        &json!({
            "success": true,
            "errors": [],
            "messages": [],
            "result": { "count": count, "issues": issues, "page": page, "per_page": per_page },
        }),
    )
}

/// A server answering `pages` in order (the insight routes are answered by the script).
async fn serving(pages: Vec<CannedResponse>) -> MockServer {
    server_with(
        Config::default()
            .with_entries(10)
            .with_strict(false)
            .with_script(pages),
    )
    .await
}

/// The query pairs of the `index`th request, decoded.
fn query_pairs(server: &MockServer, index: usize) -> Vec<(String, String)> {
    let request = &server.requests()[index];
    let query = request.query.clone().unwrap_or_default();
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// Every filter goes on the wire under upstream's name, list filters as the key repeated once per value, the
/// `~neq` forms with their tilde, and the zone twin at the zone's path.
#[tokio::test]
async fn filters_are_sent_as_repeated_keys_under_upstream_names() {
    let server = serving(vec![answer(&[1], 1, 2, 10), answer(&[1], 1, 1, 25)]).await;
    let client = client(&server);
    client
        .insights(Scope::account(ACCOUNT_ID))
        .severity([SeverityFilter::Low, SeverityFilter::Critical])
        .issue_type([IssueType::EmailSecurity])
        .issue_class_neq(["a_record_dangling"])
        .product(["dns", "access"])
        .subject_neq(["example.com"])
        .dismissed(false)
        .per_page(10)
        .page(2)
        .send()
        .await
        .expect("a page");
    let requests = server.requests();
    assert_eq!(
        requests[0].path,
        format!("/client/v4/accounts/{ACCOUNT_ID}/security-center/insights")
    );
    let mut pairs = query_pairs(&server, 0);
    pairs.sort();
    let mut expected: Vec<(String, String)> = [
        ("dismissed", "false"),
        ("issue_class~neq", "a_record_dangling"),
        ("issue_type", "email_security"),
        ("page", "2"),
        ("per_page", "10"),
        ("product", "access"),
        ("product", "dns"),
        ("severity", "critical"),
        ("severity", "low"),
        ("subject~neq", "example.com"),
    ]
    .iter()
    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
    .collect();
    expected.sort();
    assert_eq!(pairs, expected);

    client
        .insights(Scope::zone(ZONE_ID))
        .send()
        .await
        .expect("a page");
    assert_eq!(
        server.requests()[1].path,
        format!("/client/v4/zones/{ZONE_ID}/security-center/insights")
    );
    assert_eq!(
        query_pairs(&server, 1),
        [("page".to_owned(), "1".to_owned())]
    );
}

/// Out-of-range `per_page` and `page`, and empty filter lists, are refused before anything is sent.
#[tokio::test]
async fn bad_inputs_are_refused_before_sending() {
    let server = serving(Vec::new()).await;
    let client = client(&server);
    let scope = || Scope::account(ACCOUNT_ID);
    let cases = [
        (client.insights(scope()).per_page(0), "per_page"),
        (client.insights(scope()).per_page(1001), "per_page"),
        (client.insights(scope()).page(0), "page"),
        (client.insights(scope()).severity([]), "severity"),
        (client.insights(scope()).subject([""]), "subject"),
        (client.insights(Scope::account("..")), "account_id"),
    ];
    for (request, parameter) in cases {
        match request.send().await {
            Err(Error::InvalidRequest { parameter: got, .. }) => assert_eq!(got, parameter),
            other => panic!("{parameter}: expected a refusal, got {other:?}"),
        }
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

/// Five insights at two a page: three requests, every insight once and in order, and no fourth request.
#[tokio::test]
async fn a_walk_yields_every_insight_once_across_pages() {
    let server = serving(vec![
        answer(&[1, 2], 5, 1, 2),
        answer(&[3, 4], 5, 2, 2),
        answer(&[5], 5, 3, 2),
    ])
    .await;
    let mut items = client(&server)
        .insights(Scope::account(ACCOUNT_ID))
        .per_page(2)
        .items();
    let mut ids = Vec::new();
    while let Some(insight) = items.next().await {
        ids.push(insight.expect("an insight").id.expect("an id"));
    }
    assert_eq!(ids, ["i1", "i2", "i3", "i4", "i5"]);
    assert_eq!(server.requests().len(), 3);
    let pages: Vec<String> = (0..3)
        .map(|index| {
            query_pairs(&server, index)
                .into_iter()
                .find(|(key, _)| key == "page")
                .map(|(_, value)| value)
                .expect("a page number")
        })
        .collect();
    assert_eq!(pages, ["1", "2", "3"]);
}

/// The reason a walk over `pages` (two insights a page) ended with.
async fn inconsistency(pages: Vec<CannedResponse>) -> (u64, String) {
    let server = serving(pages).await;
    let mut walk = client(&server)
        .insights(Scope::account(ACCOUNT_ID))
        .per_page(2)
        .pages();
    loop {
        match walk.next().await {
            Some(Ok(_)) => {}
            Some(Err(Error::PaginationInconsistent { page, reason, .. })) => {
                return (page, reason);
            }
            other => panic!("expected an inconsistency, got {other:?}"),
        }
    }
}

/// A page past `count` that is still full, the same page served twice, and `count` changing mid-walk each end
/// the walk with `Error::PaginationInconsistent` naming the page, not with a loop or a silent gap.
#[tokio::test]
async fn servers_that_never_end_or_change_end_with_a_typed_error() {
    let (page, reason) =
        inconsistency(vec![answer(&[1, 2], 3, 1, 2), answer(&[3, 4], 3, 2, 2)]).await;
    assert_eq!(page, 2);
    assert!(reason.contains("more than the count of 3"), "{reason}");

    let (page, reason) =
        inconsistency(vec![answer(&[1, 2], 6, 1, 2), answer(&[1, 2], 6, 2, 2)]).await;
    assert_eq!(page, 2);
    assert!(reason.contains("served before"), "{reason}");

    let (page, reason) =
        inconsistency(vec![answer(&[1, 2], 6, 1, 2), answer(&[3, 4], 8, 2, 2)]).await;
    assert_eq!(page, 2);
    assert!(reason.contains("count changed from 6 to 8"), "{reason}");

    let (page, reason) = inconsistency(vec![answer(&[1, 2], 6, 1, 2), answer(&[3], 6, 2, 2)]).await;
    assert_eq!(page, 2);
    assert!(reason.contains("only 3 of 6"), "{reason}");
}

/// Values the client does not know (a new severity, type or status) are kept verbatim; the capitalised
/// severity is the insight's, apart from the filter's lowercase one; a null classification is `None`.
#[tokio::test]
async fn unknown_values_are_kept_and_null_classification_is_none() {
    let mut odd = insight(1);
    odd["severity"] = json!("Urgent");
    odd["issue_type"] = json!("supply_chain");
    odd["status"] = json!("snoozed");
    let mut classified = insight(2);
    classified["user_classification"] = json!("false_positive");
    let server = serving(vec![CannedResponse::json(
        200,
        &json!({
            "success": true, "errors": [], "messages": [],
            "result": { "count": 3, "issues": [odd, classified, insight(3)], "page": 1, "per_page": 25 },
        }),
    )])
    .await;
    let page = client(&server)
        .insights(Scope::account(ACCOUNT_ID))
        .send()
        .await
        .expect("a page");
    let insights = page.insights();
    assert_eq!(page.count(), Some(3));
    assert_eq!(
        insights[0].severity,
        Some(Severity::Unknown("Urgent".to_owned()))
    );
    assert_eq!(
        insights[0].issue_type,
        Some(IssueType::Unknown("supply_chain".to_owned()))
    );
    assert_eq!(
        insights[0].status,
        Some(InsightStatus::Unknown("snoozed".to_owned()))
    );
    assert_eq!(
        insights[1].user_classification,
        Some(UserClassification::FalsePositive)
    );
    assert_eq!(insights[2].user_classification, None);
    assert_eq!(insights[2].severity, Some(Severity::Critical));
}
