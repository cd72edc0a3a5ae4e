//! Property tests of what the client puts on the wire and reads back: ids never change the
//! shape of the path, filter values round-trip through the query string, and a walk yields
//! exactly the entries served, whatever the page sizes, empty pages and retried faults.
//!
//! Each property runs a modest number of cases against the loopback mock server, whose journal
//! records the raw request targets.

use chrono::{DateTime, TimeZone, Utc};
use cloudflare_security_center::{AuditLogRequest, Error, FieldChanged, Order, Scope};
use futures_util::StreamExt;
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockServer, ZONE_ID};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::support::client;

/// Cases per property: enough to meet the awkward characters often, few enough to stay fast.
const CASES: u32 = 64;

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(RunnerConfig {
        cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Strings rich in what URL handling treats specially: dots, slashes, percent signs and
/// escapes, `?`, `#`, `;`, white space, controls, non-ASCII; or any string at all.
///
/// Backslashes are left out: the client refuses them (URL parsing would read them as `/`),
/// which [`backslash_in_an_id_stays_in_its_segment`] checks on its own.
fn awkward_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("."),
        Just(".."),
        Just("/"),
        Just("%"),
        Just("%2e"),
        Just("%2F"),
        Just("%00"),
        Just("?"),
        Just("#"),
        Just(";"),
        Just("&"),
        Just("="),
        Just("+"),
        Just(" "),
        Just("\t"),
        Just("\n"),
        Just("\r"),
        Just("\u{0}"),
        Just("a"),
        Just("Z9"),
        Just("é"),
        Just("\u{202e}"),
        Just("\u{ff0f}"),
    ];
    prop_oneof![
        3 => proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat()),
        2 => any::<String>().prop_map(|text| text.replace('\\', "")),
        1 => prop_oneof![Just(String::new()), Just(".".to_owned()), Just("..".to_owned())],
    ]
}

/// Which id of the request is under test.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// The insight id of an account's insight log.
    AccountIssue,
    /// The insight id of a zone's insight log.
    ZoneIssue,
    /// The account id of the account-wide log.
    Account,
    /// The zone id of the zone-wide log.
    Zone,
}

/// For any id, the request path has exactly the segments of its route with the id as one
/// segment that decodes back to the id; ids the client refuses (empty, `.`, `..`, or a scope id
/// over 32 characters) give `InvalidRequest` and send nothing.
#[test]
fn any_id_stays_one_path_segment() {
    let runtime = runtime();
    // Not strict: unknown account and zone ids are flagged as unexpected by design here.
    let server = runtime.block_on(MockServer::start(
        Config::default().with_entries(1).with_strict(false),
    ));
    let client = client(&server);
    let slot = prop_oneof![
        Just(Slot::AccountIssue),
        Just(Slot::ZoneIssue),
        Just(Slot::Account),
        Just(Slot::Zone)
    ];
    runner(CASES * 2)
        .run(&(slot, awkward_string()), |(slot, id)| {
            server.take_requests();
            server.take_unexpected_requests();
            let (request, prefix, suffix) = match slot {
                Slot::AccountIssue => (
                    client.issue_audit_log(Scope::account(ACCOUNT_ID), id.clone()),
                    format!("/client/v4/accounts/{ACCOUNT_ID}/security-center/insights/"),
                    "/audit-log",
                ),
                Slot::ZoneIssue => (
                    client.issue_audit_log(Scope::zone(ZONE_ID), id.clone()),
                    format!("/client/v4/zones/{ZONE_ID}/security-center/insights/"),
                    "/audit-log",
                ),
                Slot::Account => (
                    client.audit_log(Scope::account(id.clone())),
                    "/client/v4/accounts/".to_owned(),
                    "/security-center/insights/audit-log",
                ),
                Slot::Zone => (
                    client.audit_log(Scope::zone(id.clone())),
                    "/client/v4/zones/".to_owned(),
                    "/security-center/insights/audit-log",
                ),
            };
            let scope_id = matches!(slot, Slot::Account | Slot::Zone);
            let refused =
                id.is_empty() || id == "." || id == ".." || (scope_id && id.chars().count() > 32);
            let result = runtime.block_on(request.send());
            let sent = server.take_requests();
            if refused {
                prop_assert!(
                    matches!(result, Err(Error::InvalidRequest { .. })),
                    "{id:?} was not refused: {result:?}"
                );
                prop_assert!(sent.is_empty(), "{id:?} was sent: {sent:?}");
                return Ok(());
            }
            prop_assert_eq!(sent.len(), 1, "{:?}: {:?} / {:?}", id, sent, result);
            let path = &sent[0].path;
            let segment = path
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
                .ok_or_else(|| TestCaseError::fail(format!("{id:?} changed the route: {path}")))?;
            prop_assert!(!segment.contains('/'), "{id:?} added a segment: {path}");
            prop_assert_eq!(
                percent_encoding::percent_decode_str(segment).collect::<Vec<u8>>(),
                id.as_bytes().to_vec(),
                "{:?} is not carried verbatim: {}",
                id,
                path
            );
            prop_assert_eq!(
                sent[0].query.as_deref(),
                None,
                "{:?} leaked into the query",
                id
            );
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

fn field_changed() -> impl Strategy<Value = FieldChanged> {
    prop_oneof![
        Just(FieldChanged::Status),
        Just(FieldChanged::UserClassification),
        awkward_string().prop_map(FieldChanged::Unknown),
    ]
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..4_102_444_800, 0u32..1_000_000_000).prop_map(|(seconds, nanos)| {
        Utc.timestamp_opt(seconds, nanos)
            .single()
            .expect("in range")
    })
}

/// The query values of one request as drawn (the client's own filters are private to it, and
/// the mock's `Filters` cannot hold an unknown field or leave the order unset).
#[derive(Clone, Debug)]
struct QueryValues {
    since: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    field_changed: Option<FieldChanged>,
    changed_by: Option<String>,
    order: Option<Order>,
    per_page: Option<u32>,
}

impl QueryValues {
    /// `request` with each value that is set.
    fn apply(&self, mut request: AuditLogRequest) -> AuditLogRequest {
        if let Some(since) = self.since {
            request = request.since(since);
        }
        if let Some(before) = self.before {
            request = request.before(before);
        }
        if let Some(field) = self.field_changed.clone() {
            request = request.field_changed(field);
        }
        if let Some(actor) = self.changed_by.clone() {
            request = request.changed_by(actor);
        }
        if let Some(order) = self.order {
            request = request.order(order);
        }
        if let Some(per_page) = self.per_page {
            request = request.per_page(per_page);
        }
        request
    }
}

fn query_values() -> impl Strategy<Value = QueryValues> {
    (
        proptest::option::of(time()),
        proptest::option::of(time()),
        proptest::option::of(field_changed()),
        proptest::option::of(awkward_string()),
        proptest::option::of(prop_oneof![Just(Order::Asc), Just(Order::Desc)]),
        proptest::option::of(1u32..=1000),
    )
        .prop_map(
            |(first, second, field_changed, changed_by, order, per_page)| {
                // `since` must be earlier than `before`, or the client refuses the request.
                let (since, before) = match (first, second) {
                    (Some(a), Some(b)) if a == b => (Some(a), None),
                    (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                    other => other,
                };
                QueryValues {
                    since,
                    before,
                    field_changed,
                    changed_by,
                    order,
                    per_page,
                }
            },
        )
}

/// Any filter values arrive in the query string the server receives, each once, decoding to
/// exactly the value set (times to the nanosecond, text byte for byte), and nothing else is
/// sent.
#[test]
fn any_filter_values_round_trip_through_the_query() {
    let runtime = runtime();
    let server = runtime.block_on(MockServer::start(Config::default().with_entries(1)));
    let client = client(&server);
    runner(CASES)
        .run(&query_values(), |values| {
            server.take_requests();
            let request = values.apply(client.audit_log(Scope::account(ACCOUNT_ID)));
            // The answer (a page, or a 400 for values the server refuses) does not matter here.
            let _ = runtime.block_on(request.send());
            let sent = server.take_requests();
            prop_assert_eq!(sent.len(), 1, "{:?}", sent);
            let pairs = sent[0].query_pairs();
            let mut expected: Vec<(&str, String)> = Vec::new();
            let time = |value: &String| DateTime::parse_from_rfc3339(value).map(|at| at.to_utc());
            for (name, value) in &pairs {
                match name.as_str() {
                    "since" => prop_assert_eq!(time(value).ok(), values.since, "since {}", value),
                    "before" => {
                        prop_assert_eq!(time(value).ok(), values.before, "before {}", value)
                    }
                    _ => {}
                }
            }
            if let Some(field) = &values.field_changed {
                expected.push(("field_changed", field.as_str().to_owned()));
            }
            if let Some(actor) = &values.changed_by {
                expected.push(("changed_by", actor.clone()));
            }
            if let Some(order) = values.order {
                expected.push(("order", order.to_string()));
            }
            if let Some(per_page) = values.per_page {
                expected.push(("per_page", per_page.to_string()));
            }
            let mut names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
            names.sort_unstable();
            let mut expected_names: Vec<&str> = expected.iter().map(|(name, _)| *name).collect();
            if values.since.is_some() {
                expected_names.push("since");
            }
            if values.before.is_some() {
                expected_names.push("before");
            }
            expected_names.sort_unstable();
            prop_assert_eq!(names, expected_names, "query {:?}", sent[0].query);
            for (name, value) in expected {
                prop_assert_eq!(
                    sent[0].query_param(name),
                    Some(value),
                    "{} in {:?}",
                    name,
                    sent[0].query
                );
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

/// What the server answers before a page: a fault the client retries.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// 503 with the failure envelope.
    Unavailable,
    /// 502 with an HTML body.
    BadGateway,
    /// 429 asking to wait 0 seconds.
    RateLimited,
}

impl Fault {
    fn response(self) -> CannedResponse {
        match self {
            Self::Unavailable => CannedResponse::error(503, 10001, "unavailable"),
            Self::BadGateway => CannedResponse::html(502, mock_server::HTML_ERROR_PAGE),
            Self::RateLimited => CannedResponse::rate_limited(0),
        }
    }
}

/// One served page: the faults before it and how many entries it holds.
#[derive(Clone, Debug)]
struct ServedPage {
    faults: Vec<Fault>,
    size: usize,
    unknown_field: bool,
}

/// A walk: its pages, how the last one ends, and whether the pager prefetches.
#[derive(Clone, Debug)]
struct Walk {
    pages: Vec<ServedPage>,
    last_cursor_empty: bool,
    prefetch: bool,
}

fn walk() -> impl Strategy<Value = Walk> {
    let fault = prop_oneof![
        Just(Fault::Unavailable),
        Just(Fault::BadGateway),
        Just(Fault::RateLimited)
    ];
    // At most two faults before a page: the default policy retries twice.
    let page = (
        proptest::collection::vec(fault, 0..=2),
        0usize..6,
        any::<bool>(),
    )
        .prop_map(|(faults, size, unknown_field)| ServedPage {
            faults,
            size,
            unknown_field,
        });
    (
        proptest::collection::vec(page, 1..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(pages, last_cursor_empty, prefetch)| Walk {
            pages,
            last_cursor_empty,
            prefetch,
        })
}

fn entry(serial: usize, unknown_field: bool) -> Value {
    json!({
        "id": format!("01900000-0000-7000-8000-{serial:012x}"),
        "issue_id": "0123456789abcdef0123456789abcdef",
        "changed_at": format!("2024-01-01T00:00:{:02}.{:03}Z", serial / 1000 % 60, serial % 1000),
        "changed_by": "system",
        "field_changed": if unknown_field { "severity" } else { "status" },
        "previous_value": null,
        "current_value": "active",
        "rationale": null,
    })
}

/// For any sequence of served pages (sizes 0 to 5, empty pages that still carry a cursor, an
/// absent or empty final cursor, up to two retried faults before each page, with or without
/// prefetch), the item stream yields exactly the served entries, in order, once each, and
/// each request after the first carries the previous page's cursor.
#[test]
fn item_stream_yields_exactly_the_served_entries() {
    let runtime = runtime();
    runner(48)
        .run(&walk(), |walk| {
            let mut script = Vec::new();
            let mut served = Vec::new();
            let mut serial = 0;
            let last = walk.pages.len() - 1;
            for (index, page) in walk.pages.iter().enumerate() {
                script.extend(page.faults.iter().map(|fault| fault.response()));
                let entries: Vec<Value> = (0..page.size)
                    .map(|_| {
                        serial += 1;
                        entry(serial, page.unknown_field)
                    })
                    .collect();
                served.extend(
                    entries
                        .iter()
                        .map(|entry| entry["id"].as_str().unwrap().to_owned()),
                );
                let cursor = format!("cursor-{index}");
                let cursor = match (index == last, walk.last_cursor_empty) {
                    (false, _) => Some(cursor.as_str()),
                    (true, true) => Some(""),
                    (true, false) => None,
                };
                script.push(CannedResponse::page(entries, 1000, cursor));
            }
            let script_len = script.len();
            let (yielded, sent, remaining) = runtime.block_on(async {
                let server =
                    MockServer::start(Config::default().with_entries(1).with_script(script)).await;
                let items: Vec<_> = client(&server)
                    .audit_log(Scope::account(ACCOUNT_ID))
                    .with_prefetch(walk.prefetch)
                    .items()
                    .collect()
                    .await;
                (items, server.requests(), server.canned_remaining())
            });
            let yielded: Vec<String> = yielded
                .into_iter()
                .map(|item| {
                    item.map(|entry| entry.id.map(|id| id.to_string()).unwrap_or_default())
                        .map_err(|error| TestCaseError::fail(format!("the walk failed: {error}")))
                })
                .collect::<Result<_, _>>()?;
            prop_assert_eq!(&yielded, &served);
            prop_assert_eq!(remaining, 0, "the walk stopped early");
            prop_assert_eq!(sent.len(), script_len, "requests: {:?}", sent);
            // The request for page k (after its faults) carries page k-1's cursor.
            let mut position = 0;
            for (index, page) in walk.pages.iter().enumerate() {
                let expected = (index > 0).then(|| format!("cursor-{}", index - 1));
                for attempt in &sent[position..=position + page.faults.len()] {
                    prop_assert_eq!(attempt.query_param("cursor"), expected.clone());
                }
                position += page.faults.len() + 1;
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}

/// A `\\` in an id would be sent unencoded (progenitor's path encoding leaves it alone) and URL
/// parsing of an http(s) URL reads it as `/`, so `issue_id = "\\"` would call
/// `.../insights///audit-log`: the client must refuse it, or keep it inside its segment.
#[test]
fn backslash_in_an_id_stays_in_its_segment() {
    let runtime = runtime();
    let server = runtime.block_on(MockServer::start(
        Config::default().with_entries(1).with_strict(false),
    ));
    let client = client(&server);
    for id in ["\\", "a\\..\\b", "..\\audit-log"] {
        let result = runtime.block_on(
            client
                .issue_audit_log(Scope::account(ACCOUNT_ID), id)
                .send(),
        );
        let sent = server.take_requests();
        let refused = matches!(result, Err(Error::InvalidRequest { .. })) && sent.is_empty();
        let prefix = format!("/client/v4/accounts/{ACCOUNT_ID}/security-center/insights/");
        let kept = sent.len() == 1
            && sent[0]
                .path
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix("/audit-log"))
                .is_some_and(|segment| {
                    !segment.contains('/')
                        && percent_encoding::percent_decode_str(segment).collect::<Vec<u8>>()
                            == id.as_bytes()
                });
        assert!(refused || kept, "{id:?} -> {sent:?}");
    }
}
