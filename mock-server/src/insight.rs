//! The insight lists' data: every insight of a scope, its fixed facts (class, type, severity, subject) drawn from
//! the seed, and its changing ones (status, dismissal, classification, `since`, `timestamp`) read from the scope's
//! audit log whenever it is asked for, so that the two lists agree however the log grows.
//!
//! Kept apart from `data.rs`, which generates and stores the audit log: an insight is derived from the log, never
//! stored beside it, and its fixed facts come from a random stream of their own, so adding them changed no entry.

use serde::{Deserialize, Serialize};

use crate::data::{MockScope, Rng, ScopeData, ScopeInfo, format_ms};
use crate::query::MockFieldChanged;

/// One kind of finding the mock's insights are drawn from: its class and the facts that go with it.
///
/// Upstream's insight has no `product` field, yet the lists filter by product: the mock ties each class to one
/// product, and [`MockInsight::product`] looks it up here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MockInsightClass {
    /// `issue_class`, e.g. `always_use_https_not_enabled`.
    pub issue_class: &'static str,
    /// `issue_type`, one of [`ISSUE_TYPES`].
    pub issue_type: &'static str,
    /// `severity` as an insight carries it: `Low`, `Moderate` or `Critical`.
    pub severity: &'static str,
    /// The product the `product` filter matches, e.g. `dns`.
    pub product: &'static str,
    /// `resolve_text`.
    pub resolve_text: &'static str,
    /// The dashboard page `resolve_link` points at, after the scope's id.
    pub resolve_path: &'static str,
    /// `payload.detection_method`.
    pub detection_method: &'static str,
}

/// The `issue_type` values of upstream's schema, in its order.
pub const ISSUE_TYPES: &[&str] = &[
    "compliance_violation",
    "email_security",
    "exposed_infrastructure",
    "insecure_configuration",
    "weak_authentication",
    "configuration_suggestion",
];

/// The classes insights are drawn from: every issue type and severity appears.
pub const INSIGHT_CLASSES: &[MockInsightClass] = &[
    class(
        "always_use_https_not_enabled",
        "insecure_configuration",
        "Moderate",
        "ssl",
        "Turn on Always Use HTTPS",
        "/ssl-tls/edge-certificates",
        "We detected that Always Use HTTPS is off, so visitors can reach the site over plain HTTP.",
    ),
    class(
        "min_tls_version_below_1_2",
        "compliance_violation",
        "Moderate",
        "ssl",
        "Raise the minimum TLS version to 1.2",
        "/ssl-tls/edge-certificates",
        "We detected a minimum TLS version below 1.2, which PCI DSS does not allow.",
    ),
    class(
        "hsts_not_enabled",
        "compliance_violation",
        "Low",
        "ssl",
        "Enable HTTP Strict Transport Security",
        "/ssl-tls/edge-certificates",
        "We detected responses without a Strict-Transport-Security header.",
    ),
    class(
        "a_record_dangling",
        "exposed_infrastructure",
        "Critical",
        "dns",
        "Remove or update the dangling DNS record",
        "/dns/records",
        "We detected an A record pointing at an address that no longer answers for the zone.",
    ),
    class(
        "dns_record_exposes_origin_ip",
        "exposed_infrastructure",
        "Moderate",
        "dns",
        "Proxy the record through Cloudflare",
        "/dns/records",
        "We detected a DNS-only record that reveals the origin's IP address.",
    ),
    class(
        "dnssec_not_enabled",
        "configuration_suggestion",
        "Low",
        "dns",
        "Enable DNSSEC",
        "/dns/settings",
        "We detected that DNSSEC is not enabled for the zone.",
    ),
    class(
        "dmarc_record_missing",
        "email_security",
        "Moderate",
        "email",
        "Add a DMARC record",
        "/email/security",
        "We detected no DMARC record for the domain.",
    ),
    class(
        "spf_record_missing",
        "email_security",
        "Low",
        "email",
        "Add an SPF record",
        "/email/security",
        "We detected no SPF record for the domain.",
    ),
    class(
        "access_app_without_mfa",
        "weak_authentication",
        "Critical",
        "access",
        "Require multi-factor authentication in the application's policy",
        "/access/apps",
        "We detected an Access application whose policy allows sign-in without a second factor.",
    ),
    class(
        "access_policy_allows_everyone",
        "weak_authentication",
        "Moderate",
        "access",
        "Restrict the policy to named groups",
        "/access/apps",
        "We detected an Access policy that includes everyone.",
    ),
    class(
        "waf_managed_rules_disabled",
        "insecure_configuration",
        "Critical",
        "waf",
        "Deploy the Cloudflare Managed Ruleset",
        "/security/waf",
        "We detected that no managed WAF ruleset is deployed.",
    ),
    class(
        "waf_rules_reference_ip_addresses",
        "configuration_suggestion",
        "Low",
        "waf",
        "Use an IP list instead",
        "/security/waf",
        "We detected security rules referencing multiple IP addresses directly in the rules.",
    ),
];

/// The subjects (hostnames) insights are about.
pub const INSIGHT_SUBJECTS: &[&str] = &[
    "example.com",
    "www.example.com",
    "api.example.com",
    "mail.example.com",
    "staging.example.com",
    "vpn.example.com",
];

/// With [`crate::Config::with_unknown_insight_values`], the `issue_type` of the odd insight.
pub const UNKNOWN_ISSUE_TYPE: &str = "supply_chain_risk";
/// With [`crate::Config::with_unknown_insight_values`], the `severity` of the odd insight.
pub const UNKNOWN_SEVERITY: &str = "Urgent";
/// With [`crate::Config::with_unknown_insight_values`], the `status` of the odd insight.
pub const UNKNOWN_STATUS: &str = "snoozed";
/// With [`crate::Config::with_unknown_insight_values`], the `user_classification` of the odd insight.
pub const UNKNOWN_CLASSIFICATION: &str = "needs_review";

/// A catalogue row.
const fn class(
    issue_class: &'static str,
    issue_type: &'static str,
    severity: &'static str,
    product: &'static str,
    resolve_text: &'static str,
    resolve_path: &'static str,
    detection_method: &'static str,
) -> MockInsightClass {
    MockInsightClass {
        issue_class,
        issue_type,
        severity,
        product,
        resolve_text,
        resolve_path,
        detection_method,
    }
}

/// `payload` of an insight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockInsightPayload {
    /// How the finding was detected ([`MockInsightClass::detection_method`]).
    pub detection_method: String,
    /// The zone the finding is about: the zone itself on a zone's list, one of the served zones on an account's.
    pub zone_tag: String,
}

/// One insight in the exact wire shape the lists send (field order included), values as the strings sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockInsight {
    /// The insight's id: one of [`crate::MockServer::issue_ids`] of its scope.
    pub id: String,
    /// Whether the insight is dismissed: its newest `status` entry says `dismissed` ([`insight_status`]).
    pub dismissed: bool,
    /// Drawn from the seed (about one in five).
    pub has_extended_context: bool,
    /// One of [`INSIGHT_CLASSES`].
    pub issue_class: String,
    /// The class's type, one of [`ISSUE_TYPES`] (or [`UNKNOWN_ISSUE_TYPE`]).
    pub issue_type: String,
    /// Detection method and zone.
    pub payload: MockInsightPayload,
    /// `https://dash.cloudflare.com/{scope id}{resolve path}`.
    pub resolve_link: String,
    /// What to do about it.
    pub resolve_text: String,
    /// `Low`, `Moderate` or `Critical`, capitalised (or [`UNKNOWN_SEVERITY`]).
    pub severity: String,
    /// When it was first detected: before its first audit-log entry (RFC 3339, UTC, milliseconds).
    pub since: String,
    /// `active` or `resolved`, from its newest `status` entry ([`insight_status`]; or [`UNKNOWN_STATUS`]).
    pub status: String,
    /// The hostname it is about, one of [`INSIGHT_SUBJECTS`].
    pub subject: String,
    /// Its last change: its newest audit-log entry's `changed_at`, `since` when it has none.
    pub timestamp: String,
    /// Its newest `user_classification` entry's `current_value`; `null` without one.
    pub user_classification: Option<String>,
}

impl MockInsight {
    /// The product of its class ([`INSIGHT_CLASSES`]), which the `product` filter matches; `None` for a class
    /// the catalogue does not hold.
    pub fn product(&self) -> Option<&'static str> {
        INSIGHT_CLASSES
            .iter()
            .find(|class| class.issue_class == self.issue_class)
            .map(|class| class.product)
    }
}

/// An insight's `status` and `dismissed` from the `current_value` of its newest audit-log entry whose
/// `field_changed` is `status` (`None` without one).
///
/// Upstream's insight status is `active` or `resolved`; the mock's audit log also says `in_progress` and
/// `dismissed` ([`crate::STATUS_VALUES`]): `resolved` is `resolved`, `dismissed` is `active` and dismissed, and
/// everything else (no entry, `active`, `in_progress`) is `active`.
pub fn insight_status(current_value: Option<&str>) -> (&'static str, bool) {
    match current_value {
        Some("resolved") => ("resolved", false),
        Some("dismissed") => ("active", true),
        _ => ("active", false),
    }
}

/// Where an insight without entries is first seen from: 2024-01-01T00:00:00Z, the earliest first entry.
const BASE_MS: i64 = 1_704_067_200_000;

/// The longest an insight is seen before its first entry: 30 days.
const MAX_LEAD_MS: u64 = 30 * 86_400_000;

/// The fixed facts of insight `issue` of a scope, from a stream of their own (the audit log's is untouched).
struct Facts {
    class: &'static MockInsightClass,
    subject: &'static str,
    extended: bool,
    lead_ms: i64,
}

fn facts(info: &ScopeInfo, seed: u64, issue: usize) -> Facts {
    let salt = match info.scope.kind() {
        MockScope::Account => 0x1A51_6470_0000_0005,
        MockScope::Zone => 0x1A51_6470_0000_0006,
    };
    let mut rng = Rng(seed
        ^ salt
        ^ (info.index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)
        ^ (issue as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    Facts {
        class: &INSIGHT_CLASSES[rng.below(INSIGHT_CLASSES.len() as u64) as usize],
        subject: INSIGHT_SUBJECTS[rng.below(INSIGHT_SUBJECTS.len() as u64) as usize],
        extended: rng.chance(20),
        lead_ms: 60_000 + rng.below(MAX_LEAD_MS) as i64,
    }
}

/// Every insight of a scope now, by id; `zone_tag(k)` is the zone insight `k` is about, and `unknown` gives the
/// first (lowest id) the values the client does not know.
pub(crate) fn build(
    info: &ScopeInfo,
    data: &ScopeData,
    seed: u64,
    zone_tag: impl Fn(usize) -> String,
    unknown: bool,
) -> Vec<MockInsight> {
    let mut insights: Vec<MockInsight> = (0..info.issue_ids.len())
        .map(|issue| {
            let facts = facts(info, seed, issue);
            let list = data.list(Some(issue as u16));
            let at = |index: &u32| data.meta(*index).changed_at_ms();
            let newest = |field: MockFieldChanged| {
                list.iter()
                    .rev()
                    .find(|&&index| data.meta(index).field == field)
                    .map(|&index| data.entry(index).current_value)
            };
            let since_ms = (list.first().map_or(BASE_MS, at) - facts.lead_ms).max(0);
            let status = newest(MockFieldChanged::Status);
            let (status, dismissed) = insight_status(status.as_ref().and_then(Option::as_deref));
            MockInsight {
                id: info.issue_ids[issue].clone(),
                dismissed,
                has_extended_context: facts.extended,
                issue_class: facts.class.issue_class.to_owned(),
                issue_type: facts.class.issue_type.to_owned(),
                payload: MockInsightPayload {
                    detection_method: facts.class.detection_method.to_owned(),
                    zone_tag: zone_tag(issue),
                },
                resolve_link: format!(
                    "https://dash.cloudflare.com/{}{}",
                    info.scope.id(),
                    facts.class.resolve_path
                ),
                resolve_text: facts.class.resolve_text.to_owned(),
                severity: facts.class.severity.to_owned(),
                since: format_ms(since_ms),
                status: status.to_owned(),
                subject: facts.subject.to_owned(),
                timestamp: format_ms(list.last().map_or(since_ms, at)),
                user_classification: newest(MockFieldChanged::UserClassification).flatten(),
            }
        })
        .collect();
    insights.sort_by(|a, b| a.id.cmp(&b.id));
    if unknown && let Some(odd) = insights.first_mut() {
        odd.issue_type = UNKNOWN_ISSUE_TYPE.to_owned();
        odd.severity = UNKNOWN_SEVERITY.to_owned();
        odd.status = UNKNOWN_STATUS.to_owned();
        odd.user_classification = Some(UNKNOWN_CLASSIFICATION.to_owned());
    }
    insights
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every issue type and every severity appears in the catalogue, each class once, with a known type.
    #[test]
    fn the_catalogue_covers_every_type_and_severity() {
        for issue_type in ISSUE_TYPES {
            assert!(
                INSIGHT_CLASSES.iter().any(|c| c.issue_type == *issue_type),
                "{issue_type}"
            );
        }
        for severity in ["Low", "Moderate", "Critical"] {
            assert!(
                INSIGHT_CLASSES.iter().any(|c| c.severity == severity),
                "{severity}"
            );
        }
        for (index, class) in INSIGHT_CLASSES.iter().enumerate() {
            assert!(
                ISSUE_TYPES.contains(&class.issue_type),
                "{}",
                class.issue_class
            );
            assert!(
                INSIGHT_CLASSES[..index]
                    .iter()
                    .all(|c| c.issue_class != class.issue_class),
                "{} twice",
                class.issue_class
            );
        }
    }

    /// The audit log's four status values map onto upstream's two, `dismissed` setting the flag.
    #[test]
    fn audit_log_statuses_map_onto_upstreams() {
        assert_eq!(insight_status(None), ("active", false));
        assert_eq!(insight_status(Some("active")), ("active", false));
        assert_eq!(insight_status(Some("in_progress")), ("active", false));
        assert_eq!(insight_status(Some("resolved")), ("resolved", false));
        assert_eq!(insight_status(Some("dismissed")), ("active", true));
    }
}
