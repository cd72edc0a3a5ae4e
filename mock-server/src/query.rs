//! Query parameters of the audit-log operations: parsed and validated the way the real API does, so a client that
//! sends a malformed request gets the same 400 it would get from Cloudflare.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::envelope::ApiError;

/// Default `per_page` when the parameter is absent (the spec's default).
pub const DEFAULT_PER_PAGE: u32 = 25;

/// Largest accepted `per_page` (the spec's maximum).
pub const MAX_PER_PAGE: u32 = 1000;

/// The `field_changed` filter and entry field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MockFieldChanged {
    /// `status`
    Status,
    /// `user_classification`
    UserClassification,
}

impl MockFieldChanged {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            MockFieldChanged::Status => "status",
            MockFieldChanged::UserClassification => "user_classification",
        }
    }
}

impl FromStr for MockFieldChanged {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "status" => Ok(MockFieldChanged::Status),
            "user_classification" => Ok(MockFieldChanged::UserClassification),
            other => Err(format!(
                "field_changed must be one of status, user_classification (got {other:?})"
            )),
        }
    }
}

/// The `order` parameter: `desc` (newest first) is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MockOrder {
    /// Oldest first.
    Asc,
    /// Newest first (the default).
    #[default]
    Desc,
}

impl MockOrder {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            MockOrder::Asc => "asc",
            MockOrder::Desc => "desc",
        }
    }
}

impl FromStr for MockOrder {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "asc" => Ok(MockOrder::Asc),
            "desc" => Ok(MockOrder::Desc),
            other => Err(format!("order must be one of asc, desc (got {other:?})")),
        }
    }
}

impl fmt::Display for MockOrder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Filters and order of one walk; the same value must be sent with every page of the walk.
///
/// Used by the server to parse requests and by tests to ask the server which entries a walk should yield
/// ([`crate::MockServer::expected_entries`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filters {
    /// Entries changed at or after this instant (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Entries changed strictly before this instant (exclusive).
    pub before: Option<DateTime<Utc>>,
    /// Only entries that changed this field.
    pub field_changed: Option<MockFieldChanged>,
    /// Only entries made by this actor (exact match).
    pub changed_by: Option<String>,
    /// Sort order; newest first by default.
    pub order: MockOrder,
}

/// A validated audit-log request.
#[derive(Clone, Debug)]
pub(crate) struct PageRequest {
    pub(crate) filters: Filters,
    pub(crate) per_page: u32,
    pub(crate) cursor: Option<String>,
}

/// Parses and validates a raw query string (as received, still percent-encoded).
pub(crate) fn parse(raw: Option<&str>) -> Result<PageRequest, ApiError> {
    let mut filters = Filters::default();
    let mut per_page = None;
    let mut cursor = None;
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let known = matches!(
            key.as_ref(),
            "per_page" | "cursor" | "since" | "before" | "field_changed" | "changed_by" | "order"
        );
        if !known {
            // The real API ignores parameters it does not know.
            continue;
        }
        if seen.iter().any(|k| *k == key) {
            return Err(ApiError::invalid(format!(
                "parameter {key} given more than once"
            )));
        }
        seen.push(key.to_string());
        match key.as_ref() {
            "per_page" => per_page = Some(parse_per_page(&value)?),
            "cursor" => cursor = Some(value.into_owned()),
            "since" => filters.since = Some(parse_time("since", &value)?),
            "before" => filters.before = Some(parse_time("before", &value)?),
            "field_changed" => {
                filters.field_changed = Some(value.parse().map_err(ApiError::invalid)?)
            }
            "changed_by" => filters.changed_by = Some(value.into_owned()),
            "order" => filters.order = value.parse().map_err(ApiError::invalid)?,
            _ => {}
        }
    }
    Ok(PageRequest {
        filters,
        per_page: per_page.unwrap_or(DEFAULT_PER_PAGE),
        cursor,
    })
}

/// `per_page` of the audit log and the insight lists alike: an integer in 1..=[`MAX_PER_PAGE`].
pub(crate) fn parse_per_page(value: &str) -> Result<u32, ApiError> {
    let count: u32 = value.parse().map_err(|_| {
        ApiError::invalid(format!(
            "per_page must be an integer between 1 and {MAX_PER_PAGE} (got {value:?})"
        ))
    })?;
    if !(1..=MAX_PER_PAGE).contains(&count) {
        return Err(ApiError::invalid(format!(
            "per_page must be an integer between 1 and {MAX_PER_PAGE} (got {count})"
        )));
    }
    Ok(count)
}

fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(format!(
                "{name} must be an RFC 3339 date-time (got {value:?})"
            ))
        })
}

/// Nanoseconds since the Unix epoch, wide enough for any `DateTime<Utc>`.
pub(crate) fn nanos(t: &DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unencoded `+` in a timestamp offset decodes to a space and is rejected, as a real server would.
    #[test]
    fn unencoded_plus_in_offset_is_rejected() {
        assert!(parse(Some("since=2024-01-01T00:00:00+02:00")).is_err());
        let ok = parse(Some("since=2024-01-01T00:00:00%2B02:00")).unwrap();
        assert_eq!(
            ok.filters.since.unwrap().to_rfc3339(),
            "2023-12-31T22:00:00+00:00"
        );
    }

    /// Unknown parameters are ignored; known ones are parsed; defaults apply.
    #[test]
    fn defaults_and_unknown_parameters() {
        let parsed = parse(Some("foo=bar&changed_by=a%40b.c")).unwrap();
        assert_eq!(parsed.per_page, DEFAULT_PER_PAGE);
        assert_eq!(parsed.filters.order, MockOrder::Desc);
        assert_eq!(parsed.filters.changed_by.as_deref(), Some("a@b.c"));
        assert!(parsed.cursor.is_none());
    }
}
