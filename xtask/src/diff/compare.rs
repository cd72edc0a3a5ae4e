//! The engine's entry: compare two flattened documents, merge identical changes of several
//! operations into one, and mask what the overlay hides.
//!
//! Finding changes (`walk`) works per operation, because that is where a change is seen; the
//! report lists each change once per subject (a set of operations or the component schema that
//! owns it), so merging is its own step. The same walk run over the documents as upstream wrote
//! them, minus what it finds between the documents the generator sees, is what the overlay
//! hides.

use std::collections::{BTreeMap, BTreeSet};

use super::change::{Change, Found, Subject, Text};
use super::model::Model;
use super::rule::{Class, Rule};
pub use super::walk::Context;
use super::walk::find;

/// Compares two flattened documents; the result is sorted and identical changes of several
/// operations are merged.
pub fn compare(old: &Model, new: &Model, context: &Context) -> Vec<Change> {
    merge(find(old, new, context))
}

/// Changes upstream made that the overlay hides from the generated client: found between the
/// documents as upstream wrote them, but not between the documents the generator sees.
pub fn hidden_by_overlay(
    upstream: (&Model, &Model),
    generated: (&Model, &Model),
    context: &Context,
) -> Vec<Change> {
    let seen: BTreeSet<(Option<String>, Text, Rule, Text)> =
        find(generated.0, generated.1, context)
            .into_iter()
            .map(|found| {
                (
                    found.operation,
                    found.operation_location,
                    found.rule,
                    found.message,
                )
            })
            .collect();
    let hidden: Vec<Found> = find(upstream.0, upstream.1, context)
        .into_iter()
        .filter(|found| {
            !seen.contains(&(
                found.operation.clone(),
                found.operation_location.clone(),
                found.rule,
                found.message.clone(),
            ))
        })
        // Only wire effects remain: the overlay keeps the generated Rust code as it was.
        .map(|mut found| {
            if found.compile_only {
                found.class = Class::Informational;
                found.reason = "the overlay keeps the old definition, so the generated code does \
                                not change; update spec/overlay.yaml if the client should follow"
                    .to_owned();
            } else {
                let wire = match found.rule {
                    Rule::RequestEnumValueAdded => {
                        "the server accepts a new value that the client cannot send yet".to_owned()
                    }
                    Rule::ResponseEnumValueAdded => "the server may send a new value; the client's \
                                                    enum keeps it as `Unknown`, so responses still parse"
                        .to_owned(),
                    _ => found.reason.clone(),
                };
                found.reason = format!(
                    "{wire}; the overlay keeps the old definition, so update spec/overlay.yaml if \
                     the client should follow"
                );
            }
            // Reported per operation: the overlay changes which schema owns what.
            found.owner = None;
            found
        })
        .collect();
    merge(hidden)
        .into_iter()
        .map(|change| Change {
            hidden_by_overlay: true,
            ..change
        })
        .collect()
}

/// Groups changes found per operation: a change owned by a component schema is reported once
/// under it, identical changes of several operations once under all of them; sorted.
fn merge(found: Vec<Found>) -> Vec<Change> {
    type Key = (Option<(String, Text)>, Text, Rule, Text, Class, String);
    let mut merged: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    let mut document = Vec::new();
    for item in found {
        let Some(operation) = item.operation.clone() else {
            document.push(Change {
                subject: Subject::Document,
                hidden_by_overlay: false,
                location: item.operation_location,
                rule: item.rule,
                message: item.message,
                class: item.class,
                reason: item.reason,
                operations: Vec::new(),
            });
            continue;
        };
        let location = match &item.owner {
            Some((_, location)) => location.clone(),
            None => item.operation_location.clone(),
        };
        merged
            .entry((
                item.owner,
                location,
                item.rule,
                item.message,
                item.class,
                item.reason,
            ))
            .or_default()
            .insert(operation);
    }
    let mut changes = document;
    for ((owner, location, rule, message, class, reason), operations) in merged {
        let operations: Vec<String> = operations.into_iter().collect();
        let subject = match owner {
            Some((schema, _)) => Subject::Schema(schema),
            None => Subject::Operations(operations.clone()),
        };
        changes.push(Change {
            subject,
            hidden_by_overlay: false,
            location,
            rule,
            message,
            class,
            reason,
            operations,
        });
    }
    changes.sort();
    changes.dedup();
    changes
}
