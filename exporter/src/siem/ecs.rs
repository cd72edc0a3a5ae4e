//! The Elastic Common Schema 9.4.0 document of one entry, written member by member (see [`super::json`]); the
//! mapping is the table in `docs/exporter.md`.

use super::json::{Object, Written};
use super::{Action, ECS_DATASET, ECS_VERSION, Message, Source, ecs_severity, write_insight};

/// Writes one ECS document for `source` into `out`, without a line break.
pub fn write_ecs(out: &mut Vec<u8>, source: &Source<'_>) -> Written {
    let entry = source.entry;
    let mut document = Object::begin(out);
    // ECS requires `@timestamp`; an entry without `changed_at` is dated when it was exported, as in OCSF's `time`.
    document.time(
        "@timestamp",
        entry.changed_at.as_ref().unwrap_or(&source.exported_at),
    )?;
    document.object("ecs", |ecs| {
        ecs.name("version", ECS_VERSION);
        Ok(())
    })?;
    document.object("event", |event| {
        if let Some(id) = &entry.id {
            let mut buffer = [0u8; uuid::fmt::Hyphenated::LENGTH];
            event.name("id", id.hyphenated().encode_lower(&mut buffer));
        }
        event.raw(
            r#""kind":"event","category":["configuration"],"type":["change"],"outcome":"success""#,
        );
        event.shown("action", &Action(&entry.field_changed))?;
        event.name("dataset", ECS_DATASET);
        event.raw(r#""module":"cloudflare","provider":"security_center""#);
        event.time("created", &source.exported_at)?;
        event.text_if("reason", entry.rationale.as_deref())?;
        let severity = source
            .insight()
            .and_then(|insight| insight.severity.as_ref())
            .and_then(ecs_severity);
        event.value_if("severity", severity)
    })?;
    document.shown("message", &Message(source))?;
    if let Some(actor) = entry.changed_by.as_deref() {
        document.object("user", |user| user.text("name", actor))?;
        document.object("related", |related| related.text_list("user", actor))?;
    }
    document.object("cloud", |cloud| {
        cloud.name("provider", "cloudflare");
        match source.account_id() {
            Some(id) => cloud.object("account", |account| account.text("id", id)),
            None => Ok(()),
        }
    })?;
    document.object("cloudflare", |cloudflare| {
        cloudflare.object("security_center", |custom| {
            custom.text("scope", source.scope)?;
            custom.text_if("zone_tag", source.zone_tag())?;
            custom.object("audit_log", |audit| {
                audit.text_if("field_changed", source.field())?;
                audit.text_if("previous_value", entry.previous_value.as_deref())?;
                audit.text_if("current_value", entry.current_value.as_deref())?;
                audit.text_if("issue_id", entry.issue_id.as_deref())?;
                audit.value_if("zone_id", entry.zone_id)
            })?;
            if let Some(insight) = source.insight() {
                custom.object("insight", |fields| write_insight(fields, insight))?;
            }
            if let Some(state) = source.enrichment.state() {
                custom.name("enrichment", state);
            }
            Ok(())
        })
    })?;
    document.end();
    Ok(())
}
