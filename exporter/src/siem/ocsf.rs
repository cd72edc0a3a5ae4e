//! The OCSF 1.8.0 Detection Finding of one entry, written member by member (see [`super::json`]); the mapping
//! and why the class is Detection Finding are in `docs/exporter.md`.

use super::json::{Object, Written};
use super::{
    Message, OCSF_CATEGORY_UID, OCSF_CLASS_UID, OCSF_VERSION, Source, Title, ocsf_activity,
    ocsf_severity, ocsf_status, write_insight,
};

/// Writes one OCSF event for `source` into `out`, without a line break: the class's attributes, the `cloud`
/// profile (the account) and the `host` profile (for `actor`, the user who made the change).
pub fn write_ocsf(out: &mut Vec<u8>, source: &Source<'_>) -> Written {
    let entry = source.entry;
    let activity = ocsf_activity(entry);
    let (status, status_text) = ocsf_status(source);
    let (severity, severity_text) = ocsf_severity(&source.enrichment);
    let insight = source.insight();
    let millis = |time: &chrono::DateTime<chrono::Utc>| time.timestamp_millis();
    let mut event = Object::begin(out);
    event.value_of("activity_id", &activity.id)?;
    event.name("activity_name", activity.caption);
    event.value_of("category_uid", &OCSF_CATEGORY_UID)?;
    event.raw(r#""category_name":"Findings""#);
    event.value_of("class_uid", &OCSF_CLASS_UID)?;
    event.raw(r#""class_name":"Detection Finding""#);
    event.value_of(
        "type_uid",
        &(u64::from(OCSF_CLASS_UID) * 100 + u64::from(activity.id)),
    )?;
    event.shown(
        "type_name",
        &format_args!("Detection Finding: {}", activity.caption),
    )?;
    event.value_of("severity_id", &severity.id)?;
    event.text("severity", severity_text)?;
    event.value_of("status_id", &status.id)?;
    event.text("status", status_text)?;
    // OCSF requires `time`; an entry without `changed_at` is dated when it was exported.
    event.value_of(
        "time",
        &millis(entry.changed_at.as_ref().unwrap_or(&source.exported_at)),
    )?;
    event.shown("message", &Message(source))?;
    event.text_if("comment", entry.rationale.as_deref())?;
    event.object("metadata", |metadata| {
        metadata.raw(r#""product":{"name":"Security Center","vendor_name":"Cloudflare"}"#);
        metadata.name("version", OCSF_VERSION);
        metadata.raw(concat!(
            r#""profiles":["cloud","host"],"log_provider":"insight-audit-log "#,
            env!("CARGO_PKG_VERSION"),
            r#"","log_name":"insight-audit-log""#
        ));
        metadata.value_of("logged_time", &millis(&source.exported_at))?;
        if let Some(id) = &entry.id {
            let mut buffer = [0u8; uuid::fmt::Hyphenated::LENGTH];
            metadata.name("uid", id.hyphenated().encode_lower(&mut buffer));
        }
        metadata.text_if("tenant_uid", source.account_id())
    })?;
    event.object("finding_info", |info| {
        info.text("uid", entry.issue_id.as_deref().unwrap_or(""))?;
        info.shown("title", &Title(source))?;
        if let Some(kind) = insight.and_then(|insight| insight.issue_type.as_ref()) {
            info.text_list("types", kind.as_str())?;
        }
        info.value_if(
            "created_time",
            insight
                .and_then(|insight| insight.since.as_ref())
                .map(millis),
        )?;
        info.text_if(
            "src_url",
            insight.and_then(|insight| insight.resolve_link.as_deref()),
        )?;
        info.text_if(
            "desc",
            insight.and_then(|insight| insight.resolve_text.as_deref()),
        )?;
        info.value_if("modified_time", entry.changed_at.as_ref().map(millis))
    })?;
    event.object("cloud", |cloud| {
        cloud.name("provider", "Cloudflare");
        match source.account_id() {
            Some(uid) => cloud.object("account", |account| account.text("uid", uid)),
            None => Ok(()),
        }
    })?;
    if let Some(name) = entry.changed_by.as_deref() {
        event.object("actor", |actor| {
            actor.object("user", |user| user.text("name", name))
        })?;
    }
    if let Some(subject) = insight.and_then(|insight| insight.subject.as_ref()) {
        event.object_list("resources", |resource| resource.text("name", &subject.0))?;
    }
    event.object("unmapped", |unmapped| {
        unmapped.text_if("field_changed", source.field())?;
        unmapped.text_if("previous_value", entry.previous_value.as_deref())?;
        unmapped.text_if("current_value", entry.current_value.as_deref())?;
        unmapped.value_if("zone_id", entry.zone_id)?;
        unmapped.text_if("zone_tag", source.zone_tag())?;
        unmapped.text("scope", source.scope)?;
        if let Some(insight) = insight {
            unmapped.object("insight", |fields| write_insight(fields, insight))?;
        }
        if let Some(state) = source.enrichment.state() {
            unmapped.name("enrichment", state);
        }
        Ok(())
    })?;
    event.end();
    Ok(())
}
