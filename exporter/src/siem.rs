//! SIEM-native events: each audit-log entry as an Elastic Common Schema 9.4.0 document or an OCSF 1.8.0 Detection
//! Finding, with the insight it is about when the insight lists gave it, so that a SIEM ingests them as they are.
//!
//! Only values each standard defines go under its names (allowed values for ECS's categorisation fields, defined
//! ids with their captions for OCSF's enums); the source values the standards have no field for stay under one
//! namespace of their own (`cloudflare.security_center` in ECS, `unmapped` in OCSF). `docs/exporter.md` holds one
//! mapping table per format and why the OCSF class is Detection Finding.

use chrono::{DateTime, SecondsFormat, Utc};
use cloudflare_security_center::{
    AuditLogEntry, FieldChanged, Insight, InsightStatus, Severity, UserClassification,
};
use serde_json::{Map, Value, json};

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

    /// `insight-status-changed`, `insight-user-classification-changed`, or `insight-changed`.
    fn action(&self) -> String {
        match &self.entry.field_changed {
            Some(FieldChanged::Status) => "insight-status-changed".to_owned(),
            Some(FieldChanged::UserClassification) => {
                "insight-user-classification-changed".to_owned()
            }
            Some(FieldChanged::Unknown(other)) => {
                format!("insight-{}-changed", other.replace('_', "-"))
            }
            None => "insight-changed".to_owned(),
        }
    }

    /// One line for people: what changed, from what to what, by whom.
    fn message(&self) -> String {
        let value = |value: &Option<String>| value.clone().unwrap_or_else(|| "none".to_owned());
        let about = match self.enrichment.insight() {
            Some(insight) => {
                let mut about = String::new();
                if let Some(severity) = &insight.severity {
                    about.push_str(&format!("{severity} "));
                }
                if let Some(class) = &insight.issue_class {
                    about.push_str(&format!("{} ", class.0));
                }
                about
            }
            None => String::new(),
        };
        format!(
            "{about}insight {} {} changed from {} to {} by {}",
            self.entry.issue_id.as_deref().unwrap_or("(unknown)"),
            self.field().unwrap_or("(unknown field)"),
            value(&self.entry.previous_value),
            value(&self.entry.current_value),
            self.entry.changed_by.as_deref().unwrap_or("(unknown)")
        )
    }
}

fn rfc3339(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Inserts `value` under `key` unless it is null.
fn put(map: &mut Map<String, Value>, key: &str, value: Value) {
    if !value.is_null() {
        map.insert(key.to_owned(), value);
    }
}

/// The insight's fields as the source has them, for the custom namespace of either format.
fn insight_fields(insight: &Insight) -> Value {
    let mut fields = Map::new();
    put(&mut fields, "id", json!(insight.id));
    put(
        &mut fields,
        "issue_type",
        json!(insight.issue_type.as_ref().map(|kind| kind.as_str())),
    );
    put(
        &mut fields,
        "issue_class",
        json!(insight.issue_class.as_ref().map(|class| class.0.as_str())),
    );
    put(
        &mut fields,
        "severity",
        json!(insight.severity.as_ref().map(Severity::as_str)),
    );
    put(
        &mut fields,
        "subject",
        json!(insight.subject.as_ref().map(|subject| subject.0.as_str())),
    );
    put(
        &mut fields,
        "status",
        json!(insight.status.as_ref().map(InsightStatus::as_str)),
    );
    put(&mut fields, "dismissed", json!(insight.dismissed));
    put(
        &mut fields,
        "user_classification",
        json!(
            insight
                .user_classification
                .as_ref()
                .map(UserClassification::as_str)
        ),
    );
    put(
        &mut fields,
        "since",
        json!(insight.since.as_ref().map(rfc3339)),
    );
    put(&mut fields, "resolve_link", json!(insight.resolve_link));
    Value::Object(fields)
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

/// One ECS document for `source`.
pub fn ecs(source: &Source<'_>) -> Value {
    let entry = source.entry;
    let mut event = Map::new();
    put(&mut event, "id", json!(entry.id.map(|id| id.to_string())));
    event.insert("kind".to_owned(), json!("event"));
    event.insert("category".to_owned(), json!(["configuration"]));
    event.insert("type".to_owned(), json!(["change"]));
    event.insert("outcome".to_owned(), json!("success"));
    event.insert("action".to_owned(), json!(source.action()));
    event.insert("dataset".to_owned(), json!(ECS_DATASET));
    event.insert("module".to_owned(), json!("cloudflare"));
    event.insert("provider".to_owned(), json!("security_center"));
    event.insert("created".to_owned(), json!(rfc3339(&source.exported_at)));
    put(&mut event, "reason", json!(entry.rationale));
    if let Some(severity) = source
        .enrichment
        .insight()
        .and_then(|insight| insight.severity.as_ref())
    {
        put(&mut event, "severity", json!(ecs_severity(severity)));
    }

    let mut audit = Map::new();
    put(&mut audit, "field_changed", json!(source.field()));
    put(&mut audit, "previous_value", json!(entry.previous_value));
    put(&mut audit, "current_value", json!(entry.current_value));
    put(&mut audit, "issue_id", json!(entry.issue_id));
    put(&mut audit, "zone_id", json!(entry.zone_id));
    let mut custom = Map::new();
    custom.insert("scope".to_owned(), json!(source.scope));
    put(&mut custom, "zone_tag", json!(source.zone_tag()));
    custom.insert("audit_log".to_owned(), Value::Object(audit));
    if let Some(insight) = source.enrichment.insight() {
        custom.insert("insight".to_owned(), insight_fields(insight));
    }
    put(&mut custom, "enrichment", json!(source.enrichment.state()));

    let mut document = Map::new();
    // ECS requires `@timestamp`; an entry without `changed_at` is dated when it was exported, as in OCSF's `time`.
    let timestamp = entry.changed_at.unwrap_or(source.exported_at);
    document.insert("@timestamp".to_owned(), json!(rfc3339(&timestamp)));
    document.insert("ecs".to_owned(), json!({ "version": ECS_VERSION }));
    document.insert("event".to_owned(), Value::Object(event));
    document.insert("message".to_owned(), json!(source.message()));
    if let Some(actor) = &entry.changed_by {
        document.insert("user".to_owned(), json!({ "name": actor }));
        document.insert("related".to_owned(), json!({ "user": [actor] }));
    }
    let mut cloud = Map::new();
    cloud.insert("provider".to_owned(), json!("cloudflare"));
    if let Some(account) = source.account_id() {
        cloud.insert("account".to_owned(), json!({ "id": account }));
    }
    document.insert("cloud".to_owned(), Value::Object(cloud));
    document.insert(
        "cloudflare".to_owned(),
        json!({ "security_center": Value::Object(custom) }),
    );
    Value::Object(document)
}

/// An OCSF enum value: its id and the caption OCSF gives it.
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
fn ocsf_status(source: &Source<'_>) -> (Defined, Option<String>) {
    let entry = source.entry;
    let current = entry.current_value.as_deref();
    match (&entry.field_changed, current) {
        (Some(FieldChanged::Status), Some("resolved")) => (defined(4, "Resolved"), None),
        (Some(FieldChanged::Status), Some("active")) => (defined(1, "New"), None),
        (Some(FieldChanged::Status), Some("dismissed")) => (defined(3, "Suppressed"), None),
        (Some(FieldChanged::UserClassification), Some("false_positive" | "accept_risk")) => {
            (defined(3, "Suppressed"), None)
        }
        (Some(FieldChanged::UserClassification), _) => {
            match source
                .enrichment
                .insight()
                .and_then(|insight| insight.status.as_ref())
            {
                Some(InsightStatus::Resolved) => (defined(4, "Resolved"), None),
                Some(InsightStatus::Active) => (defined(1, "New"), None),
                _ => (defined(0, "Unknown"), None),
            }
        }
        (_, Some(other)) => (defined(99, "Other"), Some(other.to_owned())),
        (_, None) => (defined(0, "Unknown"), None),
    }
}

/// `severity_id` from the insight's severity: Low, Medium (Moderate), Critical; unknown without an insight, Other
/// (with the source value as `severity`) for a value OCSF does not define.
fn ocsf_severity(enrichment: &Enrichment<'_>) -> (Defined, String) {
    match enrichment
        .insight()
        .and_then(|insight| insight.severity.as_ref())
    {
        Some(Severity::Low) => (defined(2, "Low"), "Low".to_owned()),
        Some(Severity::Moderate) => (defined(3, "Medium"), "Medium".to_owned()),
        Some(Severity::Critical) => (defined(5, "Critical"), "Critical".to_owned()),
        Some(Severity::Unknown(other)) => (defined(99, "Other"), other.clone()),
        None => (defined(0, "Unknown"), "Unknown".to_owned()),
    }
}

/// Epoch milliseconds (OCSF's `timestamp_t`).
fn millis(time: &DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// One OCSF 1.8.0 Detection Finding for `source`, with the `cloud` profile (the account) and the `host` profile
/// (for `actor`, the user who made the change).
pub fn ocsf(source: &Source<'_>) -> Value {
    let entry = source.entry;
    let activity = ocsf_activity(entry);
    let (status, status_other) = ocsf_status(source);
    let (severity, severity_text) = ocsf_severity(&source.enrichment);
    let insight = source.enrichment.insight();

    let mut metadata = Map::new();
    metadata.insert(
        "product".to_owned(),
        json!({ "name": "Security Center", "vendor_name": "Cloudflare" }),
    );
    metadata.insert("version".to_owned(), json!(OCSF_VERSION));
    metadata.insert("profiles".to_owned(), json!(["cloud", "host"]));
    metadata.insert(
        "log_provider".to_owned(),
        json!(concat!("insight-audit-log ", env!("CARGO_PKG_VERSION"))),
    );
    metadata.insert("log_name".to_owned(), json!("insight-audit-log"));
    metadata.insert("logged_time".to_owned(), json!(millis(&source.exported_at)));
    put(
        &mut metadata,
        "uid",
        json!(entry.id.map(|id| id.to_string())),
    );
    put(&mut metadata, "tenant_uid", json!(source.account_id()));

    let mut finding = Map::new();
    finding.insert(
        "uid".to_owned(),
        json!(entry.issue_id.clone().unwrap_or_default()),
    );
    let title = insight
        .and_then(|insight| insight.issue_class.as_ref())
        .map_or_else(
            || {
                format!(
                    "Security Center insight {}",
                    entry.issue_id.as_deref().unwrap_or("")
                )
            },
            |class| class.0.clone(),
        );
    finding.insert("title".to_owned(), json!(title));
    if let Some(insight) = insight {
        put(
            &mut finding,
            "types",
            json!(insight.issue_type.as_ref().map(|kind| [kind.as_str()])),
        );
        put(
            &mut finding,
            "created_time",
            json!(insight.since.as_ref().map(millis)),
        );
        put(&mut finding, "src_url", json!(insight.resolve_link));
        put(&mut finding, "desc", json!(insight.resolve_text));
    }
    put(
        &mut finding,
        "modified_time",
        json!(entry.changed_at.as_ref().map(millis)),
    );

    let mut unmapped = Map::new();
    put(&mut unmapped, "field_changed", json!(source.field()));
    put(&mut unmapped, "previous_value", json!(entry.previous_value));
    put(&mut unmapped, "current_value", json!(entry.current_value));
    put(&mut unmapped, "zone_id", json!(entry.zone_id));
    put(&mut unmapped, "zone_tag", json!(source.zone_tag()));
    unmapped.insert("scope".to_owned(), json!(source.scope));
    if let Some(insight) = insight {
        unmapped.insert("insight".to_owned(), insight_fields(insight));
    }
    put(
        &mut unmapped,
        "enrichment",
        json!(source.enrichment.state()),
    );

    let mut event = Map::new();
    event.insert("activity_id".to_owned(), json!(activity.id));
    event.insert("activity_name".to_owned(), json!(activity.caption));
    event.insert("category_uid".to_owned(), json!(OCSF_CATEGORY_UID));
    event.insert("category_name".to_owned(), json!("Findings"));
    event.insert("class_uid".to_owned(), json!(OCSF_CLASS_UID));
    event.insert("class_name".to_owned(), json!("Detection Finding"));
    event.insert(
        "type_uid".to_owned(),
        json!(u64::from(OCSF_CLASS_UID) * 100 + u64::from(activity.id)),
    );
    event.insert(
        "type_name".to_owned(),
        json!(format!("Detection Finding: {}", activity.caption)),
    );
    event.insert("severity_id".to_owned(), json!(severity.id));
    event.insert("severity".to_owned(), json!(severity_text));
    event.insert("status_id".to_owned(), json!(status.id));
    event.insert(
        "status".to_owned(),
        json!(status_other.unwrap_or_else(|| status.caption.to_owned())),
    );
    // OCSF requires `time`; an entry without `changed_at` is dated when it was exported.
    let time = entry.changed_at.unwrap_or(source.exported_at);
    event.insert("time".to_owned(), json!(millis(&time)));
    event.insert("message".to_owned(), json!(source.message()));
    put(&mut event, "comment", json!(entry.rationale));
    event.insert("metadata".to_owned(), Value::Object(metadata));
    event.insert("finding_info".to_owned(), Value::Object(finding));
    let mut cloud = Map::new();
    cloud.insert("provider".to_owned(), json!("Cloudflare"));
    if let Some(account) = source.account_id() {
        cloud.insert("account".to_owned(), json!({ "uid": account }));
    }
    event.insert("cloud".to_owned(), Value::Object(cloud));
    if let Some(actor) = &entry.changed_by {
        event.insert("actor".to_owned(), json!({ "user": { "name": actor } }));
    }
    if let Some(subject) = insight.and_then(|insight| insight.subject.as_ref()) {
        event.insert("resources".to_owned(), json!([{ "name": subject.0 }]));
    }
    event.insert("unmapped".to_owned(), Value::Object(unmapped));
    Value::Object(event)
}
