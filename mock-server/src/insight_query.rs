//! Query parameters of the insight lists: upstream's filters and their `~neq` exclusions, list filters as the key
//! repeated once per value (OpenAPI's form style, exploded, which the official SDKs send), and page-number paging;
//! parsed and validated as the audit-log parameters are, so a malformed request gets the 400 the API would give.

use std::fmt;
use std::str::FromStr;

use crate::envelope::ApiError;
use crate::insight::{ISSUE_TYPES, MockInsight};
use crate::query::{DEFAULT_PER_PAGE, parse_per_page};

/// A value of the `severity` filter: lowercase on the wire, while an insight's own severity is capitalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MockSeverity {
    /// `low` (an insight's `Low`).
    Low,
    /// `moderate` (an insight's `Moderate`).
    Moderate,
    /// `critical` (an insight's `Critical`).
    Critical,
}

impl MockSeverity {
    /// The three, lowest first.
    pub const ALL: [MockSeverity; 3] = [
        MockSeverity::Low,
        MockSeverity::Moderate,
        MockSeverity::Critical,
    ];

    /// The filter's wire string: `low`, `moderate` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            MockSeverity::Low => "low",
            MockSeverity::Moderate => "moderate",
            MockSeverity::Critical => "critical",
        }
    }

    /// The severity as an insight carries it: `Low`, `Moderate` or `Critical`.
    pub fn label(self) -> &'static str {
        match self {
            MockSeverity::Low => "Low",
            MockSeverity::Moderate => "Moderate",
            MockSeverity::Critical => "Critical",
        }
    }
}

impl FromStr for MockSeverity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        MockSeverity::ALL
            .into_iter()
            .find(|severity| severity.as_str() == text)
            .ok_or_else(|| format!("must be one of low, moderate, critical (got {text:?})"))
    }
}

impl fmt::Display for MockSeverity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The filters of an insight list; the same value must be sent with every page of a walk.
///
/// Each list keeps the insights whose field is one of its values, each `_neq` list drops those whose field is
/// one of its values; an empty list filters nothing, and all filters given apply together. `product` matches the
/// product of the insight's class ([`MockInsight::product`]). Used by the server to parse requests and by tests
/// to ask which insights a walk should yield ([`crate::MockServer::expected_insights`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct InsightFilters {
    /// `dismissed`: only dismissed insights (`true`) or only the others (`false`).
    pub dismissed: Option<bool>,
    /// `issue_class`.
    pub issue_class: Vec<String>,
    /// `issue_class~neq`.
    pub issue_class_neq: Vec<String>,
    /// `issue_type`: on the wire, each one of [`crate::ISSUE_TYPES`].
    pub issue_type: Vec<String>,
    /// `issue_type~neq`.
    pub issue_type_neq: Vec<String>,
    /// `product`.
    pub product: Vec<String>,
    /// `product~neq`.
    pub product_neq: Vec<String>,
    /// `severity`.
    pub severity: Vec<MockSeverity>,
    /// `severity~neq`.
    pub severity_neq: Vec<MockSeverity>,
    /// `subject`.
    pub subject: Vec<String>,
    /// `subject~neq`.
    pub subject_neq: Vec<String>,
}

/// Whether a field passes a list filter and its exclusion.
fn passes(value: Option<&str>, only: &[impl AsRef<str>], except: &[impl AsRef<str>]) -> bool {
    let within = |list: &[&str]| value.is_some_and(|value| list.contains(&value));
    let only: Vec<&str> = only.iter().map(AsRef::as_ref).collect();
    let except: Vec<&str> = except.iter().map(AsRef::as_ref).collect();
    (only.is_empty() || within(&only)) && !within(&except)
}

impl InsightFilters {
    /// Whether an insight passes every filter.
    pub fn matches(&self, insight: &MockInsight) -> bool {
        let labels = |list: &[MockSeverity]| {
            list.iter()
                .map(|severity| severity.label())
                .collect::<Vec<_>>()
        };
        self.dismissed
            .is_none_or(|dismissed| insight.dismissed == dismissed)
            && passes(
                Some(&insight.issue_class),
                &self.issue_class,
                &self.issue_class_neq,
            )
            && passes(
                Some(&insight.issue_type),
                &self.issue_type,
                &self.issue_type_neq,
            )
            && passes(insight.product(), &self.product, &self.product_neq)
            && passes(
                Some(&insight.severity),
                &labels(&self.severity),
                &labels(&self.severity_neq),
            )
            && passes(Some(&insight.subject), &self.subject, &self.subject_neq)
    }
}

/// A validated insight-list request.
#[derive(Clone, Debug)]
pub(crate) struct InsightsRequest {
    pub(crate) filters: InsightFilters,
    /// From 1.
    pub(crate) page: u64,
    pub(crate) per_page: u32,
}

/// Parses and validates a raw query string (as received, still percent-encoded).
///
/// List filters take every value of their repeated key; `page`, `per_page` and `dismissed` given twice are a 400,
/// as any audit-log parameter is. A comma inside a value is part of the value (`severity=low,critical` is one
/// value, not in the enum: a 400). Unknown parameters are ignored, as the API ignores them.
pub(crate) fn parse(raw: Option<&str>) -> Result<InsightsRequest, ApiError> {
    let mut filters = InsightFilters::default();
    let mut page = None;
    let mut per_page = None;
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if matches!(key.as_ref(), "page" | "per_page" | "dismissed") {
            if seen.iter().any(|k| *k == key) {
                return Err(ApiError::invalid(format!(
                    "parameter {key} given more than once"
                )));
            }
            seen.push(key.to_string());
        }
        let severity = |value: &str| {
            value
                .parse::<MockSeverity>()
                .map_err(|reason| ApiError::invalid(format!("{key} {reason}")))
        };
        let issue_type = |value: &str| {
            if ISSUE_TYPES.contains(&value) {
                Ok(value.to_owned())
            } else {
                Err(ApiError::invalid(format!(
                    "{key} must be one of {} (got {value:?})",
                    ISSUE_TYPES.join(", ")
                )))
            }
        };
        match key.as_ref() {
            "page" => {
                let number = value.parse::<u64>().ok().filter(|number| *number >= 1);
                page = Some(number.ok_or_else(|| {
                    ApiError::invalid(format!(
                        "page must be an integer of at least 1 (got {value:?})"
                    ))
                })?);
            }
            "per_page" => per_page = Some(parse_per_page(&value)?),
            "dismissed" => {
                filters.dismissed = Some(match value.as_ref() {
                    "true" => true,
                    "false" => false,
                    other => {
                        return Err(ApiError::invalid(format!(
                            "dismissed must be true or false (got {other:?})"
                        )));
                    }
                });
            }
            "severity" => filters.severity.push(severity(&value)?),
            "severity~neq" => filters.severity_neq.push(severity(&value)?),
            "issue_type" => filters.issue_type.push(issue_type(&value)?),
            "issue_type~neq" => filters.issue_type_neq.push(issue_type(&value)?),
            "issue_class" => filters.issue_class.push(value.into_owned()),
            "issue_class~neq" => filters.issue_class_neq.push(value.into_owned()),
            "product" => filters.product.push(value.into_owned()),
            "product~neq" => filters.product_neq.push(value.into_owned()),
            "subject" => filters.subject.push(value.into_owned()),
            "subject~neq" => filters.subject_neq.push(value.into_owned()),
            _ => {}
        }
    }
    Ok(InsightsRequest {
        filters,
        page: page.unwrap_or(1),
        per_page: per_page.unwrap_or(DEFAULT_PER_PAGE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Repeated keys collect every value, the tilde may come percent-encoded, defaults apply, unknown keys pass.
    #[test]
    fn repeated_keys_collect_and_defaults_apply() {
        let parsed = parse(Some(
            "severity=low&severity=critical&severity%7Eneq=moderate&subject=a&subject=b&source=riskrecon",
        ))
        .unwrap();
        assert_eq!(
            parsed.filters.severity,
            [MockSeverity::Low, MockSeverity::Critical]
        );
        assert_eq!(parsed.filters.severity_neq, [MockSeverity::Moderate]);
        assert_eq!(parsed.filters.subject, ["a", "b"]);
        assert_eq!((parsed.page, parsed.per_page), (1, DEFAULT_PER_PAGE));
        assert_eq!(parsed.filters.dismissed, None);
    }

    /// Values outside the enums, a comma-joined list, bad pages and doubled scalars are refused.
    #[test]
    fn bad_values_are_refused() {
        for bad in [
            "severity=Low",
            "severity=low,critical",
            "severity~neq=urgent",
            "issue_type=supply_chain_risk",
            "dismissed=yes",
            "page=0",
            "page=-1",
            "page=x",
            "per_page=0",
            "per_page=1001",
            "page=1&page=2",
            "dismissed=true&dismissed=false",
        ] {
            let error = parse(Some(bad)).expect_err(bad);
            assert_eq!(error.status, 400, "{bad}");
        }
    }
}
