//! What the standards checks feed `siem::ecs` and `siem::ocsf`: representative entries and insights (each a case the
//! mapping treats on its own), and strategies that generate any entry, insight, scope and time.

use chrono::{DateTime, Utc};
use cloudflare_security_center::types::{SecurityCenterIssueClass, SecurityCenterSubject};
use cloudflare_security_center::{
    AuditLogEntry, FieldChanged, Insight, InsightStatus, IssueType, Severity, UserClassification,
};
use insight_audit_log::siem::{Enrichment, Source};
use proptest::prelude::*;
use serde_json::json;

/// An account id and a zone id as Cloudflare writes them (32 lowercase hex digits).
pub(crate) const ACCOUNT: &str = "account:023e105f4ecef8ad9ca31a8372d0c353";
pub(crate) const ZONE: &str = "zone:9f1839b6152d298aca64c4e906b6d074";

/// When the exporter wrote the events of the representative cases.
pub(crate) fn exported_at() -> DateTime<Utc> {
    "2025-06-02T10:00:00.250Z".parse().expect("a time")
}

fn entry(value: serde_json::Value) -> AuditLogEntry {
    serde_json::from_value(value).expect("an entry the client reads")
}

/// Entries, by what makes each a case of its own.
pub(crate) fn entries() -> Vec<(&'static str, AuditLogEntry)> {
    let base = |field: &str, previous: Option<&str>, current: Option<&str>| {
        json!({
            "id": "0197301e-52c4-7a59-8f7e-6b3c1d2e4f50",
            "changed_at": "2025-06-01T08:15:30.123Z",
            "changed_by": "alice@example.com",
            "field_changed": field,
            "previous_value": previous,
            "current_value": current,
            "issue_id": "a2b3c4d5e6f708192a3b4c5d6e7f8091",
            "zone_id": 1_234_567,
        })
    };
    let mut classified = base("user_classification", None, Some("false_positive"));
    classified["rationale"] = json!("Scanner traffic from our own red team, see ticket SEC-42.");
    vec![
        (
            "status active to resolved",
            entry(base("status", Some("active"), Some("resolved"))),
        ),
        (
            "classified as a false positive, with a rationale",
            entry(classified),
        ),
        (
            "a first status, previous null",
            entry(base("status", None, Some("active"))),
        ),
        (
            "status to dismissed",
            entry(base("status", Some("active"), Some("dismissed"))),
        ),
        (
            "status to a value of its own",
            entry(base("status", Some("active"), Some("snoozed"))),
        ),
        (
            "classified as other",
            entry(base(
                "user_classification",
                Some("accept_risk"),
                Some("other"),
            )),
        ),
        (
            "a field changed the mapping does not know",
            entry(base("assignee", Some("bob"), Some("carol"))),
        ),
        (
            "no field, no values",
            entry(json!({ "id": "0197301e-52c4-7a59-8f7e-6b3c1d2e4f51" })),
        ),
        ("nothing at all", entry(json!({}))),
    ]
}

/// An insight with every field the client reads.
pub(crate) fn full_insight() -> Insight {
    serde_json::from_value(json!({
        "id": "a2b3c4d5e6f708192a3b4c5d6e7f8091",
        "dismissed": false,
        "has_extended_context": true,
        "issue_class": "always_use_https_not_enabled",
        "issue_type": "insecure_configuration",
        "payload": { "detection_method": "We detected that Always Use HTTPS is off.", "zone_tag": "9f18" },
        "resolve_link": "https://dash.cloudflare.com/example/ssl-tls/edge-certificates",
        "resolve_text": "Turn on Always Use HTTPS.",
        "severity": "Critical",
        "since": "2025-05-01T00:00:00Z",
        "status": "resolved",
        "subject": "www.example.com",
        "timestamp": "2025-06-01T08:15:30Z",
        "user_classification": "false_positive",
    }))
    .expect("an insight the client reads")
}

/// An insight whose severity, issue type, status and classification are values the client does not know.
pub(crate) fn odd_insight() -> Insight {
    serde_json::from_value(json!({
        "id": "b2b3c4d5e6f708192a3b4c5d6e7f8092",
        "issue_class": "dnssec_missing",
        "issue_type": "dns_hygiene",
        "severity": "Severe",
        "status": "snoozed",
        "user_classification": "wont_fix",
    }))
    .expect("an insight the client reads")
}

/// The enrichment variants over `found` (an insight found for each of `insights`).
pub(crate) fn enrichments(insights: &[Insight]) -> Vec<Enrichment<'_>> {
    let mut all = vec![Enrichment::Off, Enrichment::Missing, Enrichment::Failed];
    all.extend(insights.iter().map(Enrichment::Found));
    all
}

/// Text rich in what breaks JSON lines and readers: controls, quotes, backslashes, bidi overrides, non-BMP; or
/// any string at all.
pub(crate) fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{0}"),
        Just("\n"),
        Just("\r\n"),
        Just("\t"),
        Just("\u{1b}[31m"),
        Just("\u{7f}"),
        Just("\u{202e}"),
        Just("\u{2028}"),
        Just("\""),
        Just("\\"),
        Just("'"),
        Just("{\"a\":1}"),
        Just("é"),
        Just("😀"),
        Just("Other"),
        Just("Unknown"),
        Just("resolved"),
        Just(" "),
        Just("a"),
    ];
    prop_oneof![
        3 => proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat()),
        2 => any::<String>(),
        1 => Just(String::new()),
    ]
}

/// One of `known`, or any text.
fn open_value(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        2 => proptest::sample::select(known).prop_map(str::to_owned),
        1 => text(),
    ]
}

/// Any time RFC 3339 can state: years 0000 to 9999, to the millisecond.
pub(crate) fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (-62_167_219_200_000_i64..=253_402_300_799_999)
        .prop_map(|millis| DateTime::from_timestamp_millis(millis).expect("in chrono's range"))
}

/// Any entry: every field absent or any value, enums known or not.
pub(crate) fn any_entry() -> impl Strategy<Value = AuditLogEntry> {
    let values = &[
        "active",
        "resolved",
        "dismissed",
        "false_positive",
        "accept_risk",
        "other",
    ];
    (
        proptest::option::of(time()),
        proptest::option::of(text()),
        proptest::option::of(open_value(values)),
        proptest::option::of(open_value(&["status", "user_classification"])),
        proptest::option::of(any::<u128>()),
        proptest::option::of(text()),
        proptest::option::of(open_value(values)),
        proptest::option::of(text()),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(
            |(changed_at, changed_by, current, field, id, issue, previous, rationale, zone)| {
                AuditLogEntry {
                    changed_at,
                    changed_by,
                    current_value: current,
                    field_changed: field.map(FieldChanged::from),
                    id: id.map(uuid::Uuid::from_u128),
                    issue_id: issue,
                    previous_value: previous,
                    rationale,
                    zone_id: zone,
                }
            },
        )
}

/// Any insight: every field absent or any value, enums known or not.
pub(crate) fn any_insight() -> impl Strategy<Value = Insight> {
    let texts = (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
    );
    let enums = (
        proptest::option::of(open_value(&["Low", "Moderate", "Critical"])),
        proptest::option::of(open_value(&[
            "compliance_violation",
            "email_security",
            "exposed_infrastructure",
            "insecure_configuration",
            "weak_authentication",
            "configuration_suggestion",
        ])),
        proptest::option::of(open_value(&["active", "resolved"])),
        proptest::option::of(open_value(&["false_positive", "accept_risk", "other"])),
    );
    let rest = (
        proptest::option::of(any::<bool>()),
        proptest::option::of(time()),
        proptest::option::of(time()),
    );
    (texts, enums, rest).prop_map(
        |(
            (id, class, link, text, subject),
            (severity, kind, status, classification),
            (dismissed, since, at),
        )| {
            Insight {
                dismissed,
                id,
                issue_class: class.map(SecurityCenterIssueClass),
                issue_type: kind.map(IssueType::from),
                resolve_link: link,
                resolve_text: text,
                severity: severity.map(Severity::from),
                since,
                status: status.map(InsightStatus::from),
                subject: subject.map(SecurityCenterSubject),
                timestamp: at,
                user_classification: classification.map(UserClassification::from),
                ..Insight::default()
            }
        },
    )
}

/// Any scope: an account or a zone, with any id.
pub(crate) fn any_scope() -> impl Strategy<Value = String> {
    (any::<bool>(), text()).prop_map(|(zone, id)| {
        if zone {
            format!("zone:{id}")
        } else {
            format!("account:{id}")
        }
    })
}

/// How a generated entry is enriched: 0 off, 1 missing, 2 failed, 3 found.
pub(crate) fn enrichment(kind: u8, insight: &Insight) -> Enrichment<'_> {
    match kind % 4 {
        0 => Enrichment::Off,
        1 => Enrichment::Missing,
        2 => Enrichment::Failed,
        _ => Enrichment::Found(insight),
    }
}

/// A source over the representative cases' fixed export time.
pub(crate) fn source<'a>(
    scope: &'a str,
    entry: &'a AuditLogEntry,
    enrichment: Enrichment<'a>,
) -> Source<'a> {
    Source {
        scope,
        entry,
        enrichment,
        exported_at: exported_at(),
    }
}
