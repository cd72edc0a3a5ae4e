//! SIEM-native events: each audit-log entry as an Elastic Common Schema 9.4.0 document or an OCSF 1.8.0 Detection
//! Finding, with the insight it is about when the insight lists gave it, so that a SIEM ingests them as they are.
//!
//! Only values each standard defines go under its names (allowed values for ECS's categorisation fields, defined
//! ids with their captions for OCSF's enums); the source values the standards have no field for stay under one
//! namespace of their own (`cloudflare.security_center` in ECS, `unmapped` in OCSF). `docs/exporter.md` holds one
//! mapping table per format and why the OCSF class is Detection Finding.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use cloudflare_security_center::{
    AuditLogEntry, FieldChanged, Insight, InsightStatus, IssueType, Severity, UserClassification,
};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The ECS version the documents follow (`ecs.version`).
pub const ECS_VERSION: &str = "9.4.0";
/// The OCSF version the events follow (`metadata.version`).
pub const OCSF_VERSION: &str = "1.8.0";
/// `event.dataset` of the ECS documents.
pub const ECS_DATASET: &str = "cloudflare_security_center.insight_audit_log";

/// OCSF's Findings category and its Detection Finding class (`category_uid * 1000 + 4`).
const OCSF_CATEGORY_UID: u32 = 2;
const OCSF_CLASS_UID: u32 = 2004;

/// The insight an entry is about, as far as the run knows it.
#[derive(Clone, Copy, Debug)]
pub enum Enrichment<'a> {
    /// Enrichment is off for this format.
    Off,
    /// The insight lists hold it.
    Found(&'a Insight),
    /// The insight lists were read, and hold no insight of this id (or the entry names none).
    Missing,
    /// The insight lists could not be read for this scope (after the client's retries).
    Failed,
}

impl Enrichment<'_> {
    /// The insight, when found.
    pub fn insight(&self) -> Option<&Insight> {
        match self {
            Enrichment::Found(insight) => Some(insight),
            _ => None,
        }
    }

    /// How the entry was enriched, as the events say it: `found`, `missing` or `failed`; `None` when off.
    pub fn state(&self) -> Option<&'static str> {
        match self {
            Enrichment::Off => None,
            Enrichment::Found(_) => Some("found"),
            Enrichment::Missing => Some("missing"),
            Enrichment::Failed => Some("failed"),
        }
    }
}

/// One entry with what the event needs around it.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// `account:ID` or `zone:ID`.
    pub scope: &'a str,
    /// The entry.
    pub entry: &'a AuditLogEntry,
    /// Its insight.
    pub enrichment: Enrichment<'a>,
    /// When the exporter wrote it (`event.created`, `metadata.logged_time`).
    pub exported_at: DateTime<Utc>,
}

impl Source<'_> {
    /// The account id, for an account scope.
    fn account_id(&self) -> Option<&str> {
        self.scope.strip_prefix("account:")
    }

    /// The zone id (Cloudflare's 32-digit tag), for a zone scope.
    fn zone_tag(&self) -> Option<&str> {
        self.scope.strip_prefix("zone:")
    }

    /// What the entry changed, in a few words: `status`, `user_classification` or the server's own value.
    fn field(&self) -> Option<&str> {
        self.entry.field_changed.as_ref().map(FieldChanged::as_str)
    }

    /// The insight, when found.
    fn insight(&self) -> Option<&Insight> {
        self.enrichment.insight()
    }
}

/// `insight-status-changed`, `insight-user-classification-changed`, `insight-FIELD-changed` or `insight-changed`.
struct Action<'a>(&'a Option<FieldChanged>);

impl fmt::Display for Action<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(FieldChanged::Status) => formatter.write_str("insight-status-changed"),
            Some(FieldChanged::UserClassification) => {
                formatter.write_str("insight-user-classification-changed")
            }
            Some(FieldChanged::Unknown(other)) => {
                write!(formatter, "insight-{}-changed", other.replace('_', "-"))
            }
            None => formatter.write_str("insight-changed"),
        }
    }
}

/// One line for people: what changed, from what to what, by whom (and the insight's severity and class).
struct Message<'a>(&'a Source<'a>);

impl fmt::Display for Message<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = self.0;
        let entry = source.entry;
        if let Some(insight) = source.insight() {
            if let Some(severity) = &insight.severity {
                write!(formatter, "{severity} ")?;
            }
            if let Some(class) = &insight.issue_class {
                write!(formatter, "{} ", class.0)?;
            }
        }
        fn value(value: &Option<String>) -> &str {
            value.as_deref().unwrap_or("none")
        }
        write!(
            formatter,
            "insight {} {} changed from {} to {} by {}",
            entry.issue_id.as_deref().unwrap_or("(unknown)"),
            source.field().unwrap_or("(unknown field)"),
            value(&entry.previous_value),
            value(&entry.current_value),
            entry.changed_by.as_deref().unwrap_or("(unknown)")
        )
    }
}

/// A value written through its `Display`, without an intermediate string.
struct Shown<T>(T);

impl<T: fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// A time as RFC 3339 in UTC with milliseconds (`2024-01-31T00:00:00.000Z`).
#[derive(Clone, Copy)]
struct Rfc3339(DateTime<Utc>);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // chrono's RFC 3339 writer is several times faster than a `format` pattern.
        serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

/// An id as lowercase hyphenated text, written from a stack buffer.
#[derive(Clone, Copy)]
struct Id<'a>(&'a uuid::Uuid);

impl Serialize for Id<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; uuid::fmt::Hyphenated::LENGTH];
        serializer.serialize_str(self.0.hyphenated().encode_lower(&mut buffer))
    }
}

/// Epoch milliseconds (OCSF's `timestamp_t`).
fn millis(time: &DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// `{"name": ...}`.
#[derive(Serialize)]
struct Named<'a> {
    name: &'a str,
}

/// The insight's fields as the source has them, for the custom namespace of either format.
#[derive(Serialize)]
struct InsightFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issue_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issue_class: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dismissed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_classification: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<Rfc3339>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolve_link: Option<&'a str>,
}

impl<'a> InsightFields<'a> {
    fn new(insight: &'a Insight) -> Self {
        Self {
            id: insight.id.as_deref(),
            issue_type: insight.issue_type.as_ref().map(IssueType::as_str),
            issue_class: insight.issue_class.as_ref().map(|class| class.0.as_str()),
            severity: insight.severity.as_ref().map(Severity::as_str),
            subject: insight.subject.as_ref().map(|subject| subject.0.as_str()),
            status: insight.status.as_ref().map(InsightStatus::as_str),
            dismissed: insight.dismissed,
            user_classification: insight
                .user_classification
                .as_ref()
                .map(UserClassification::as_str),
            since: insight.since.map(Rfc3339),
            resolve_link: insight.resolve_link.as_deref(),
        }
    }
}

/// `event.severity`: Elastic Security's risk scores for the insight's severity (21 low, 47 medium, 99 critical).
fn ecs_severity(severity: &Severity) -> Option<u32> {
    match severity {
        Severity::Low => Some(21),
        Severity::Moderate => Some(47),
        Severity::Critical => Some(99),
        Severity::Unknown(_) => None,
    }
}

#[derive(Serialize)]
struct EcsDocument<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: Rfc3339,
    ecs: EcsVersion,
    event: EcsEvent<'a>,
    message: Shown<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Named<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    related: Option<EcsRelated<'a>>,
    cloud: EcsCloud<'a>,
    cloudflare: Cloudflare<'a>,
}

#[derive(Serialize)]
struct EcsVersion {
    version: &'static str,
}

#[derive(Serialize)]
struct EcsEvent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Id<'a>>,
    kind: &'static str,
    category: [&'static str; 1],
    #[serde(rename = "type")]
    kind_of_change: [&'static str; 1],
    outcome: &'static str,
    action: Shown<Action<'a>>,
    dataset: &'static str,
    module: &'static str,
    provider: &'static str,
    created: Rfc3339,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<u32>,
}

#[derive(Serialize)]
struct EcsRelated<'a> {
    user: [&'a str; 1],
}

#[derive(Serialize)]
struct EcsCloud<'a> {
    provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<EcsAccount<'a>>,
}

#[derive(Serialize)]
struct EcsAccount<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Cloudflare<'a> {
    security_center: Custom<'a>,
}

/// `cloudflare.security_center.*`.
#[derive(Serialize)]
struct Custom<'a> {
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone_tag: Option<&'a str>,
    audit_log: AuditFields<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    insight: Option<InsightFields<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrichment: Option<&'static str>,
}

/// The entry's values the standards have no field for.
#[derive(Serialize)]
struct AuditFields<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    field_changed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issue_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone_id: Option<i64>,
}

impl<'a> EcsDocument<'a> {
    fn new(source: &'a Source<'a>) -> Self {
        let entry = source.entry;
        // ECS requires `@timestamp`; an entry without `changed_at` is dated when it was exported, as in OCSF's `time`.
        let timestamp = Rfc3339(entry.changed_at.unwrap_or(source.exported_at));
        let severity = source
            .insight()
            .and_then(|insight| insight.severity.as_ref())
            .and_then(ecs_severity);
        let actor = entry.changed_by.as_deref();
        EcsDocument {
            timestamp,
            ecs: EcsVersion {
                version: ECS_VERSION,
            },
            event: EcsEvent {
                id: entry.id.as_ref().map(Id),
                kind: "event",
                category: ["configuration"],
                kind_of_change: ["change"],
                outcome: "success",
                action: Shown(Action(&entry.field_changed)),
                dataset: ECS_DATASET,
                module: "cloudflare",
                provider: "security_center",
                created: Rfc3339(source.exported_at),
                reason: entry.rationale.as_deref(),
                severity,
            },
            message: Shown(Message(source)),
            user: actor.map(|name| Named { name }),
            related: actor.map(|name| EcsRelated { user: [name] }),
            cloud: EcsCloud {
                provider: "cloudflare",
                account: source.account_id().map(|id| EcsAccount { id }),
            },
            cloudflare: Cloudflare {
                security_center: Custom {
                    scope: source.scope,
                    zone_tag: source.zone_tag(),
                    audit_log: AuditFields {
                        field_changed: source.field(),
                        previous_value: entry.previous_value.as_deref(),
                        current_value: entry.current_value.as_deref(),
                        issue_id: entry.issue_id.as_deref(),
                        zone_id: entry.zone_id,
                    },
                    insight: source.insight().map(InsightFields::new),
                    enrichment: source.enrichment.state(),
                },
            },
        }
    }
}

/// One ECS document for `source`, as a JSON value.
pub fn ecs(source: &Source<'_>) -> Value {
    serde_json::to_value(EcsDocument::new(source)).unwrap_or(Value::Null)
}

/// Writes one ECS document for `source` into `out`, without a line break.
pub fn write_ecs(out: &mut Vec<u8>, source: &Source<'_>) -> serde_json::Result<()> {
    serde_json::to_writer(out, &EcsDocument::new(source))
}

/// An OCSF enum value: its id and the caption OCSF gives it.
#[derive(Clone, Copy)]
struct Defined {
    id: u32,
    caption: &'static str,
}

const fn defined(id: u32, caption: &'static str) -> Defined {
    Defined { id, caption }
}

/// `activity_id`: a first status is Create, a resolution Close, any other change Update.
fn ocsf_activity(entry: &AuditLogEntry) -> Defined {
    match (
        &entry.field_changed,
        entry.previous_value.as_deref(),
        entry.current_value.as_deref(),
    ) {
        (Some(FieldChanged::Status), None, _) => defined(1, "Create"),
        (Some(FieldChanged::Status), _, Some("resolved")) => defined(3, "Close"),
        _ => defined(2, "Update"),
    }
}

/// `status_id` of the finding after the change: resolved is Resolved, dismissed or a classification as a false
/// positive or an accepted risk Suppressed, an active insight New; anything else Other, with the source value as
/// `status`.
fn ocsf_status<'a>(source: &'a Source<'a>) -> (Defined, &'a str) {
    let entry = source.entry;
    let named = |status: Defined| (status, status.caption);
    match (&entry.field_changed, entry.current_value.as_deref()) {
        (Some(FieldChanged::Status), Some("resolved")) => named(defined(4, "Resolved")),
        (Some(FieldChanged::Status), Some("active")) => named(defined(1, "New")),
        (Some(FieldChanged::Status), Some("dismissed")) => named(defined(3, "Suppressed")),
        (Some(FieldChanged::UserClassification), Some("false_positive" | "accept_risk")) => {
            named(defined(3, "Suppressed"))
        }
        (Some(FieldChanged::UserClassification), _) => {
            match source.insight().and_then(|insight| insight.status.as_ref()) {
                Some(InsightStatus::Resolved) => named(defined(4, "Resolved")),
                Some(InsightStatus::Active) => named(defined(1, "New")),
                _ => named(defined(0, "Unknown")),
            }
        }
        (_, Some(other)) => (defined(99, "Other"), other),
        (_, None) => named(defined(0, "Unknown")),
    }
}

/// `severity_id` from the insight's severity: Low, Medium (Moderate), Critical; unknown without an insight, Other
/// (with the source value as `severity`) for a value OCSF does not define.
fn ocsf_severity<'a>(enrichment: &'a Enrichment<'a>) -> (Defined, &'a str) {
    match enrichment
        .insight()
        .and_then(|insight| insight.severity.as_ref())
    {
        Some(Severity::Low) => (defined(2, "Low"), "Low"),
        Some(Severity::Moderate) => (defined(3, "Medium"), "Medium"),
        Some(Severity::Critical) => (defined(5, "Critical"), "Critical"),
        Some(Severity::Unknown(other)) => (defined(99, "Other"), other),
        None => (defined(0, "Unknown"), "Unknown"),
    }
}

#[derive(Serialize)]
struct OcsfEvent<'a> {
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u64,
    type_name: Shown<TypeName>,
    severity_id: u32,
    severity: &'a str,
    status_id: u32,
    status: &'a str,
    time: i64,
    message: Shown<Message<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    metadata: OcsfMetadata<'a>,
    finding_info: FindingInfo<'a>,
    cloud: OcsfCloud<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<Actor<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<[Named<'a>; 1]>,
    unmapped: Unmapped<'a>,
}

/// `Detection Finding: Close`.
struct TypeName(&'static str);

impl fmt::Display for TypeName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Detection Finding: {}", self.0)
    }
}

#[derive(Serialize)]
struct OcsfMetadata<'a> {
    product: Product,
    version: &'static str,
    profiles: [&'static str; 2],
    log_provider: &'static str,
    log_name: &'static str,
    logged_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<Id<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_uid: Option<&'a str>,
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: &'a str,
    title: Shown<Title<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    types: Option<[&'a str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    desc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modified_time: Option<i64>,
}

/// The insight's class, or `Security Center insight ID` without one.
struct Title<'a>(&'a Source<'a>);

impl fmt::Display for Title<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self
            .0
            .insight()
            .and_then(|insight| insight.issue_class.as_ref())
        {
            Some(class) => formatter.write_str(&class.0),
            None => write!(
                formatter,
                "Security Center insight {}",
                self.0.entry.issue_id.as_deref().unwrap_or("")
            ),
        }
    }
}

#[derive(Serialize)]
struct OcsfCloud<'a> {
    provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<Uid<'a>>,
}

#[derive(Serialize)]
struct Uid<'a> {
    uid: &'a str,
}

#[derive(Serialize)]
struct Actor<'a> {
    user: Named<'a>,
}

/// `unmapped.*`: the source values OCSF has no attribute for.
#[derive(Serialize)]
struct Unmapped<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    field_changed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_value: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zone_tag: Option<&'a str>,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    insight: Option<InsightFields<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enrichment: Option<&'static str>,
}

impl<'a> OcsfEvent<'a> {
    fn new(source: &'a Source<'a>) -> Self {
        let entry = source.entry;
        let activity = ocsf_activity(entry);
        let (status, status_text) = ocsf_status(source);
        let (severity, severity_text) = ocsf_severity(&source.enrichment);
        let insight = source.insight();
        // OCSF requires `time`; an entry without `changed_at` is dated when it was exported.
        let time = entry.changed_at.unwrap_or(source.exported_at);
        OcsfEvent {
            activity_id: activity.id,
            activity_name: activity.caption,
            category_uid: OCSF_CATEGORY_UID,
            category_name: "Findings",
            class_uid: OCSF_CLASS_UID,
            class_name: "Detection Finding",
            type_uid: u64::from(OCSF_CLASS_UID) * 100 + u64::from(activity.id),
            type_name: Shown(TypeName(activity.caption)),
            severity_id: severity.id,
            severity: severity_text,
            status_id: status.id,
            status: status_text,
            time: millis(&time),
            message: Shown(Message(source)),
            comment: entry.rationale.as_deref(),
            metadata: OcsfMetadata {
                product: Product {
                    name: "Security Center",
                    vendor_name: "Cloudflare",
                },
                version: OCSF_VERSION,
                profiles: ["cloud", "host"],
                log_provider: concat!("insight-audit-log ", env!("CARGO_PKG_VERSION")),
                log_name: "insight-audit-log",
                logged_time: millis(&source.exported_at),
                uid: entry.id.as_ref().map(Id),
                tenant_uid: source.account_id(),
            },
            finding_info: FindingInfo {
                uid: entry.issue_id.as_deref().unwrap_or(""),
                title: Shown(Title(source)),
                types: insight
                    .and_then(|insight| insight.issue_type.as_ref())
                    .map(|kind| [kind.as_str()]),
                created_time: insight
                    .and_then(|insight| insight.since.as_ref())
                    .map(millis),
                src_url: insight.and_then(|insight| insight.resolve_link.as_deref()),
                desc: insight.and_then(|insight| insight.resolve_text.as_deref()),
                modified_time: entry.changed_at.as_ref().map(millis),
            },
            cloud: OcsfCloud {
                provider: "Cloudflare",
                account: source.account_id().map(|uid| Uid { uid }),
            },
            actor: entry.changed_by.as_deref().map(|name| Actor {
                user: Named { name },
            }),
            resources: insight
                .and_then(|insight| insight.subject.as_ref())
                .map(|subject| [Named { name: &subject.0 }]),
            unmapped: Unmapped {
                field_changed: source.field(),
                previous_value: entry.previous_value.as_deref(),
                current_value: entry.current_value.as_deref(),
                zone_id: entry.zone_id,
                zone_tag: source.zone_tag(),
                scope: source.scope,
                insight: insight.map(InsightFields::new),
                enrichment: source.enrichment.state(),
            },
        }
    }
}

/// One OCSF 1.8.0 Detection Finding for `source`, with the `cloud` profile (the account) and the `host` profile
/// (for `actor`, the user who made the change), as a JSON value.
pub fn ocsf(source: &Source<'_>) -> Value {
    serde_json::to_value(OcsfEvent::new(source)).unwrap_or(Value::Null)
}

/// Writes one OCSF event for `source` into `out`, without a line break.
pub fn write_ocsf(out: &mut Vec<u8>, source: &Source<'_>) -> serde_json::Result<()> {
    serde_json::to_writer(out, &OcsfEvent::new(source))
}
