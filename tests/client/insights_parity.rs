//! Wire parity with Cloudflare's official Python SDK for the insight lists: for the calls recorded in
//! `fixtures/python-sdk-insights.json` (cloudflare 5.9.0, recorded from the mock's journal by
//! `fixtures/record_python_sdk_insights.py`), our client sends the same method and path, the same query pairs
//! (each key's values in the order given, keys in any order), and the same authorization scheme; and the mock
//! answers the SDK's exact query strings as it answers ours.

use std::collections::BTreeMap;

use cloudflare_security_center::{Client, InsightsRequest, Scope, SeverityFilter};
use mock_server::{Config, MockInsight, MockServer};
use serde_json::Value;

use crate::support::{client, server_with};

/// The recording.
const FIXTURE: &str = include_str!("fixtures/python-sdk-insights.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

/// The recorded calls.
fn calls() -> Vec<Value> {
    let calls = fixture()["calls"].as_array().expect("calls").clone();
    assert_eq!(calls.len(), 4, "the recording's calls");
    calls
}

/// A server whose lists hold enough insights that the recorded filters select some.
async fn server() -> MockServer {
    server_with(
        Config::default()
            .with_entries(400)
            .with_insights_per_scope(40),
    )
    .await
}

/// The strings of a JSON array.
fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("a list argument")
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}

fn severities(value: &Value) -> Vec<SeverityFilter> {
    strings(value)
        .iter()
        .map(|text| text.parse().expect("a severity the client knows"))
        .collect()
}

/// Our client's request for a recorded call: every argument the SDK was given, through the setter of the same
/// name (`severity_neq` for `severity~neq`).
fn request(client: &Client, call: &Value) -> InsightsRequest {
    let arguments = call["arguments"].as_object().expect("arguments");
    let scope = match (arguments.get("account_id"), arguments.get("zone_id")) {
        (Some(id), None) => Scope::account(id.as_str().expect("an id")),
        (None, Some(id)) => Scope::zone(id.as_str().expect("an id")),
        other => panic!("one scope per call: {other:?}"),
    };
    let mut request = client.insights(scope);
    for (name, value) in arguments {
        request = match name.as_str() {
            "account_id" | "zone_id" => request,
            "severity" => request.severity(severities(value)),
            "severity_neq" => request.severity_neq(severities(value)),
            "issue_type" => request.issue_type(strings(value)),
            "issue_type_neq" => request.issue_type_neq(strings(value)),
            "issue_class" => request.issue_class(strings(value)),
            "issue_class_neq" => request.issue_class_neq(strings(value)),
            "product" => request.product(strings(value)),
            "product_neq" => request.product_neq(strings(value)),
            "subject" => request.subject(strings(value)),
            "subject_neq" => request.subject_neq(strings(value)),
            "dismissed" => request.dismissed(value.as_bool().expect("a bool")),
            "page" => request.page(value.as_u64().expect("a page")),
            "per_page" => request.per_page(value.as_u64().expect("a size") as u32),
            other => panic!("an argument this test does not map: {other}"),
        };
    }
    request
}

/// Query pairs grouped by key, each key's values in the order sent: equal when the same pairs were sent, whatever
/// the order of the keys.
fn grouped(pairs: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in pairs {
        out.entry(key).or_default().push(value);
    }
    out
}

/// The SDK's recorded pairs (as the recorder's Python decoded them).
fn recorded_pairs(call: &Value) -> BTreeMap<String, Vec<String>> {
    grouped(
        call["query_pairs"]
            .as_array()
            .expect("pairs")
            .iter()
            .map(|pair| {
                let pair = strings(pair);
                assert_eq!(pair.len(), 2, "{pair:?}");
                (pair[0].clone(), pair[1].clone())
            }),
    )
}

/// For each recorded call with filters, our client sends the SDK's method and path and the same query pairs (each
/// list as the key repeated once per value, in the order given; `~neq` keys with their tilde, which we
/// percent-encode and the SDK does not); where the SDK leaves `page` out, ours adds only `page=1`, the API's
/// default.
#[tokio::test]
async fn our_client_sends_the_sdks_path_and_query_pairs() {
    let server = server().await;
    let client = client(&server);
    for (index, call) in calls().iter().enumerate() {
        let name = call["name"].as_str().expect("a name");
        request(&client, call).send().await.expect("a page");
        let sent = &server.requests()[index];
        assert_eq!(
            sent.method,
            call["method"].as_str().expect("a method"),
            "{name}"
        );
        assert_eq!(sent.path, call["path"].as_str().expect("a path"), "{name}");
        let ours = grouped(sent.query_pairs());
        let mut theirs = recorded_pairs(call);
        // Our client names the page it asks for; the SDK leaves the API's default out.
        theirs
            .entry("page".to_owned())
            .or_insert_with(|| vec!["1".to_owned()]);
        assert_eq!(ours, theirs, "{name}: {:?}", sent.query);
    }
    server.assert_no_unexpected_requests();
}

/// Our client authenticates as the SDK does (`Authorization: Bearer <token>`), asks for the same
/// `accept: application/json`, and neither sends a `content-type` on these GETs.
#[tokio::test]
async fn our_client_authenticates_with_the_sdks_scheme() {
    let server = server().await;
    let token = &server.credentials().api_token;
    let call = &calls()[0];
    request(&client(&server), call)
        .send()
        .await
        .expect("a page");
    let sent = &server.requests()[0];
    let recorded = call["headers"].as_object().expect("headers");
    assert_eq!(recorded["authorization"], "Bearer <api_token>");
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {token}"))
    );
    assert!(!recorded.contains_key("content-type"));
    assert_eq!(sent.header("content-type"), None);
    assert_eq!(recorded["accept"], "application/json");
    assert_eq!(sent.header("accept"), Some("application/json"));
}

/// The mock answers the SDK's exact query strings, sent byte for byte, with the insights our client's request
/// for the same call gets, which are the ones `expected_insights` names: the form the SDK sends is accepted.
#[tokio::test]
async fn the_mock_answers_the_sdks_queries_as_it_answers_ours() {
    let server = server().await;
    let client = client(&server);
    let http = reqwest::Client::new();
    let token = server.credentials().api_token.clone();
    let base = server.base_url();
    let mut selected = 0;
    for call in calls() {
        let name = call["name"].as_str().expect("a name");
        let path = call["path"].as_str().expect("a path");
        let url = match call["query"].as_str() {
            Some(query) => format!("{base}{}?{query}", path.trim_start_matches("/client/v4")),
            None => format!("{base}{}", path.trim_start_matches("/client/v4")),
        };
        let answer = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status().as_u16(), 200, "{name}");
        let body: Value = answer.json().await.expect("JSON");
        let theirs: Vec<MockInsight> =
            serde_json::from_value(body["result"]["issues"].clone()).expect("insights");
        let page = request(&client, &call).send().await.expect("a page");
        let ours: Vec<String> = page
            .insights()
            .iter()
            .map(|insight| insight.id.clone().expect("an id"))
            .collect();
        let theirs_ids: Vec<String> = theirs.iter().map(|insight| insight.id.clone()).collect();
        assert_eq!(ours, theirs_ids, "{name}");
        assert_eq!(body["result"]["count"].as_u64(), page.count(), "{name}");
        selected += theirs.len();
    }
    assert!(selected > 0, "the recorded calls select some insights");
}

/// The recording says how it was made and what it shows: the SDK's version and licence, and lists sent as
/// repeated keys, which the raw query strings themselves bear out.
#[test]
fn the_recording_names_the_sdk_and_its_array_form() {
    let fixture = fixture();
    assert_eq!(fixture["sdk"]["package"], "cloudflare");
    assert_eq!(fixture["sdk"]["version"], "5.9.0");
    assert_eq!(fixture["sdk"]["licence"], "Apache-2.0");
    assert!(
        fixture["array_encoding"]
            .as_str()
            .is_some_and(|text| text.starts_with("repeated keys")),
        "{}",
        fixture["array_encoding"]
    );
    let first = &calls()[0];
    let query = first["query"].as_str().expect("a query");
    assert!(query.contains("severity=low&severity=critical"), "{query}");
    assert!(!query.contains("%2C") && !query.contains(','), "{query}");
    assert!(!FIXTURE.contains("mock-api-token"), "the token is redacted");
}
