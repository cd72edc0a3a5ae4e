//! The generated data is deterministic and has the documented shape: ids, timestamps, nullable fields, scopes.

use std::collections::HashSet;

use mock_server::{
    ACCOUNT_ID, ACTORS, CLASSIFICATION_VALUES, Config, MockScope, MockServer, STATUS_VALUES,
    ZONE_ID, ZONE_NUMERIC_ID,
};
use serde_json::Value;

use crate::support::{get_raw, walk};

/// Two servers with the same seed serve byte-identical pages (cursors included); another seed serves other data.
#[tokio::test]
async fn same_seed_serves_identical_bytes_and_another_seed_differs() {
    let a = MockServer::start(Config::default().with_entries(300).with_seed(11)).await;
    let b = MockServer::start(Config::default().with_entries(300).with_seed(11)).await;
    let c = MockServer::start(Config::default().with_entries(300).with_seed(12)).await;
    for scope in MockScope::ALL {
        assert_eq!(a.issue_ids(scope), b.issue_ids(scope));
        assert_eq!(a.entries(scope, None), b.entries(scope, None));
        assert_ne!(a.entries(scope, None), c.entries(scope, None));
        assert_ne!(a.issue_ids(scope), c.issue_ids(scope));
        let page_a = get_raw(&a, &a.audit_log_url(scope, None), "per_page=100&order=asc").await;
        let page_b = get_raw(&b, &b.audit_log_url(scope, None), "per_page=100&order=asc").await;
        assert_eq!(page_a.body, page_b.body);
    }
    assert_eq!(a.seed(), 11);
}

/// Each entry has the spec's fields in the documented order; zone entries (and only they) carry the integer
/// zone_id; ids are UUIDv7 whose timestamp is changed_at; time strictly increases; enums and actors are known.
#[tokio::test]
async fn entries_have_the_wire_shape_of_the_spec() {
    let server = MockServer::start(Config::default().with_entries(2000)).await;
    assert_eq!(
        (server.account_id(), server.zone_id()),
        (ACCOUNT_ID, ZONE_ID)
    );
    for id in [ACCOUNT_ID, ZONE_ID] {
        assert!(
            id.len() == 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }
    for scope in MockScope::ALL {
        let response = get_raw(
            &server,
            &server.audit_log_url(scope, None),
            "per_page=1000&order=asc",
        )
        .await;
        // serde_json keeps key order only with preserve_order, so check the order on the raw text.
        let text = String::from_utf8(response.body.to_vec()).unwrap();
        let first = &text[text.find("\"result\":[").unwrap()..];
        let keys = [
            "\"id\":",
            "\"changed_at\":",
            "\"changed_by\":",
            "\"current_value\":",
            "\"field_changed\":",
            "\"issue_id\":",
            "\"previous_value\":",
            "\"rationale\":",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| first.find(k).unwrap()).collect();
        assert!(
            positions.windows(2).all(|pair| pair[0] < pair[1]),
            "field order"
        );

        let result = response.json()["result"].as_array().unwrap().clone();
        let mut nulls = HashSet::new();
        let mut fields = HashSet::new();
        let mut actors = HashSet::new();
        let mut previous: Option<(String, String)> = None;
        for error in &result {
            let o = error.as_object().unwrap();
            let expected_len = if scope == MockScope::Zone { 9 } else { 8 };
            assert_eq!(o.len(), expected_len, "{error}");
            match scope {
                MockScope::Zone => assert_eq!(error["zone_id"], Value::from(ZONE_NUMERIC_ID)),
                MockScope::Account => assert!(o.get("zone_id").is_none()),
            }
            let id = error["id"].as_str().unwrap();
            let changed_at = error["changed_at"].as_str().unwrap();
            let parsed = uuid_ms(id);
            let at: chrono::DateTime<chrono::Utc> = changed_at.parse().unwrap();
            assert_eq!(parsed, at.timestamp_millis(), "{id} vs {changed_at}");
            assert!(
                changed_at.ends_with('Z') && changed_at.len() == 24,
                "{changed_at}"
            );
            if let Some((pid, pat)) = &previous {
                assert!(id > pid.as_str() && changed_at > pat.as_str());
            }
            previous = Some((id.to_owned(), changed_at.to_owned()));
            let field = error["field_changed"].as_str().unwrap();
            fields.insert(field.to_owned());
            let allowed = if field == "status" {
                STATUS_VALUES
            } else {
                CLASSIFICATION_VALUES
            };
            for k in ["current_value", "previous_value"] {
                match &error[k] {
                    Value::Null => {
                        nulls.insert(k);
                    }
                    Value::String(s) => assert!(allowed.contains(&s.as_str()), "{k}={s}"),
                    other => panic!("{k} = {other}"),
                }
            }
            match &error["rationale"] {
                Value::Null => {
                    nulls.insert("rationale");
                }
                Value::String(_) => {}
                other => panic!("rationale = {other}"),
            }
            let actor = error["changed_by"].as_str().unwrap();
            assert!(ACTORS.contains(&actor));
            actors.insert(actor.to_owned());
            assert!(
                server
                    .issue_ids(scope)
                    .iter()
                    .any(|index| index == error["issue_id"].as_str().unwrap())
            );
        }
        assert_eq!(
            nulls.len(),
            3,
            "every nullable field is null somewhere: {nulls:?}"
        );
        assert_eq!(fields.len(), 2);
        assert!(actors.contains("system") && actors.len() > 2, "{actors:?}");
    }
}

/// The issue ids of the two scopes differ, an insight walk only holds its own entries, and the insights of a
/// scope partition it.
#[tokio::test]
async fn insights_partition_their_scope() {
    let server = MockServer::start(
        Config::default()
            .with_entries(400)
            .with_insights_per_scope(4),
    )
    .await;
    let acct: HashSet<String> = server.issue_ids(MockScope::Account).into_iter().collect();
    let zone: HashSet<String> = server.issue_ids(MockScope::Zone).into_iter().collect();
    assert_eq!((acct.len(), zone.len()), (4, 4));
    assert!(acct.is_disjoint(&zone));
    let mut total = 0;
    for issue in &acct {
        let (got, _) = walk(
            &server,
            MockScope::Account,
            Some(issue),
            &[("per_page", "1000")],
        )
        .await;
        assert!(got.iter().all(|error| &error.issue_id == issue));
        total += got.len();
    }
    assert_eq!(total, 400);
}

fn uuid_ms(id: &str) -> i64 {
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "version 7: {id}");
    let hex: String = id.split('-').take(2).collect();
    i64::from_str_radix(&hex, 16).expect("hexadecimal digits")
}
