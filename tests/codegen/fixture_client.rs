//! The client generated from the larger Cloudflare-style fixture (module `fixture` of
//! `tests/generated-clients`) is usable, not only compiling: its constructs decode the JSON the
//! real API sends.

use generated_clients::fixture::types::{
    FixtureApiResponseCommonFailure, FixtureRuleInput, FixtureSettingValue, FixtureSeverity,
    FixtureSeverityInner,
};
use serde_json::json;

/// An enum whose values list `null` decodes `null` as `None` and a listed value as `Some`.
#[test]
fn fixture_null_enum_decodes_null() {
    let none: FixtureSeverity = serde_json::from_value(json!(null)).expect("null decodes");
    assert!(none.0.is_none());
    let some: FixtureSeverity = serde_json::from_value(json!("critical")).expect("value decodes");
    assert!(matches!(some.0, Some(FixtureSeverityInner::Critical)));
    assert!(serde_json::from_value::<FixtureSeverity>(json!("unknown")).is_err());
}

/// A `oneOf` of string enum, integer and object decodes each branch.
#[test]
fn fixture_one_of_decodes_each_branch() {
    let decode = |value| serde_json::from_value::<FixtureSettingValue>(value).expect("decodes");
    assert!(matches!(
        decode(json!("on")),
        FixtureSettingValue::String(_)
    ));
    assert!(matches!(
        decode(json!(86400)),
        FixtureSettingValue::Integer(86400)
    ));
    assert!(matches!(
        decode(json!({"enabled": true})),
        FixtureSettingValue::Object {
            enabled: true,
            max_age: None
        }
    ));
}

/// `allOf` with defaults: absent properties take the defaults of both branches.
#[test]
fn fixture_all_of_defaults_apply() {
    let rule: FixtureRuleInput =
        serde_json::from_value(json!({"name": "block", "action": "block"})).expect("decodes");
    assert!(!rule.enabled);
    assert_eq!(rule.precedence, 0);
    assert!(rule.filters.is_empty());
    assert_eq!(rule.traffic, "");
}

/// The 4XX failure envelope decodes, with its `result: null`.
#[test]
fn fixture_failure_envelope_decodes() {
    let failure: FixtureApiResponseCommonFailure = serde_json::from_value(json!({
        "success": false,
        "errors": [{"code": 7003, "message": "No route for the URI"}],
        "messages": [],
        "result": null
    }))
    .expect("decodes");
    assert!(!failure.success);
    assert_eq!(failure.errors.0[0].code, 7003);
}

/// Compile-time only: every operation of the fixture is a builder method, `~neq` query names
/// have setters, JSON bodies take their typed builders, and deprecated operations are callable.
#[allow(dead_code)]
async fn fixture_operations_compile(client: &generated_clients::fixture::Client) {
    let _ = client
        .get_security_center_insights()
        .account_id("023e105f4ecef8ad9ca31a8372d0c353")
        .issue_class(vec!["always_use_https".to_owned()])
        .issue_class_neq(vec!["dns".to_owned()])
        .severity_neq(FixtureSeverity(None))
        .dismissed(false)
        .send()
        .await;
    let _ = client
        .archive_security_center_insight()
        .account_id("023e105f4ecef8ad9ca31a8372d0c353")
        .issue_id("issue")
        .body_map(|body| body.dismiss(true))
        .send()
        .await;
    let _ = client
        .zone_settings_edit_single_setting()
        .zone_id("023e105f4ecef8ad9ca31a8372d0c353")
        .setting_id(generated_clients::fixture::types::FixtureSettingId::MinTlsVersion)
        .body_map(|body| body.value(FixtureSettingValue::Integer(1)))
        .send()
        .await;
    let _ = client
        .zero_trust_gateway_rules_delete_zero_trust_gateway_rule()
        .account_id("023e105f4ecef8ad9ca31a8372d0c353")
        .rule_id(uuid::Uuid::nil())
        .send()
        .await;
    let _ = client
        .zero_trust_gateway_rules_legacy_details()
        .account_id("023e105f4ecef8ad9ca31a8372d0c353")
        .rule_id(uuid::Uuid::nil())
        .send()
        .await;
}
