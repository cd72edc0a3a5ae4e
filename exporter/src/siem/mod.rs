//! SIEM-native events: each audit-log entry as an Elastic Common Schema 9.4.0 document or an OCSF 1.8.0 Detection
//! Finding, with the insight it is about when the insight lists gave it, so that a SIEM ingests them as they are.
//!
//! Only values each standard defines go under its names (allowed values for ECS's categorisation fields, defined
//! ids with their captions for OCSF's enums); the source values the standards have no field for stay under one
//! namespace of their own (`cloudflare.security_center` in ECS, `unmapped` in OCSF). `docs/exporter.md` holds one
//! mapping table per format and why the OCSF class is Detection Finding.

mod ecs;
mod json;
mod ocsf;

use std::fmt;

use chrono::{DateTime, Utc};
use cloudflare_security_center::{
    AuditLogEntry, FieldChanged, Insight, InsightStatus, IssueType, Severity, UserClassification,
};
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

/// `event.severity`: Elastic Security's risk scores for the insight's severity (21 low, 47 medium, 99 critical).
fn ecs_severity(severity: &Severity) -> Option<u32> {
    match severity {
        Severity::Low => Some(21),
        Severity::Moderate => Some(47),
        Severity::Critical => Some(99),
        Severity::Unknown(_) => None,
    }
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

pub use ecs::write_ecs;
pub use ocsf::write_ocsf;

/// One ECS document for `source`, as the line [`write_ecs`] writes, read back as a JSON value.
pub fn ecs(source: &Source<'_>) -> serde_json::Result<Value> {
    let mut line = Vec::new();
    write_ecs(&mut line, source)?;
    serde_json::from_slice(&line)
}

/// One OCSF 1.8.0 Detection Finding for `source`, as the line [`write_ocsf`] writes, read back as a JSON value.
pub fn ocsf(source: &Source<'_>) -> serde_json::Result<Value> {
    let mut line = Vec::new();
    write_ocsf(&mut line, source)?;
    serde_json::from_slice(&line)
}

/// The insight's fields as the source has them, for the custom namespace of either format.
fn write_insight(fields: &mut json::Object<'_>, insight: &Insight) -> json::Written {
    fields.text_if("id", insight.id.as_deref())?;
    fields.text_if(
        "issue_type",
        insight.issue_type.as_ref().map(IssueType::as_str),
    )?;
    fields.text_if(
        "issue_class",
        insight.issue_class.as_ref().map(|class| class.0.as_str()),
    )?;
    fields.text_if("severity", insight.severity.as_ref().map(Severity::as_str))?;
    fields.text_if(
        "subject",
        insight.subject.as_ref().map(|subject| subject.0.as_str()),
    )?;
    fields.text_if("status", insight.status.as_ref().map(InsightStatus::as_str))?;
    fields.value_if("dismissed", insight.dismissed)?;
    fields.text_if(
        "user_classification",
        insight
            .user_classification
            .as_ref()
            .map(UserClassification::as_str),
    )?;
    if let Some(since) = &insight.since {
        fields.time("since", since)?;
    }
    fields.text_if("resolve_link", insight.resolve_link.as_deref())
}
