//! The operations, read as `openapiv3` types: what progenitor cannot generate for one (it
//! asserts or panics instead of returning an error). The operationId here; the path
//! parameters, the request body and the responses each in a file of their own.

use std::collections::BTreeMap;

use openapiv3::{OpenAPI, ReferenceOr};

use crate::Error;
use crate::json_pointer;
use crate::problems::{Finding, Fix, Kind, Target};

mod bodies;
mod parameters;
mod responses;

use bodies::check_request_body;
use parameters::check_path_parameters;
use responses::{Group, check_responses};

/// A problem of one operation, before it is tied to the operation.
struct Unsupported {
    message: String,
    kind: Kind,
    fix: Fix,
}

impl Unsupported {
    fn new(kind: Kind, message: impl Into<String>, fix: Fix) -> Self {
        Self {
            message: message.into(),
            kind,
            fix,
        }
    }
}

/// Checks each operation for what progenitor cannot generate: a missing or repeated
/// operationId, a path item given by reference, path parameters that do not match the path
/// template, a request body progenitor cannot express, a JSON response without a schema, and
/// more than one distinct success or error response shape (progenitor asserts or panics on
/// these instead of returning an error). Every problem of every operation is a finding.
pub fn operation_findings(file: &str, api: &OpenAPI) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen_ids: BTreeMap<&str, String> = BTreeMap::new();
    for (path, item) in api.paths.iter() {
        let path_pointer = format!("/paths/{}", json_pointer::escape(path));
        let path_target = Target::root().key("paths").key(path);
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { reference } => {
                findings.push(Finding::new(
                    Error::UnsupportedOperation {
                        file: file.to_owned(),
                        pointer: path_pointer,
                        operation: path.clone(),
                        message: "path items given by $ref are not supported".to_owned(),
                    },
                    Kind::PathItemRef,
                    Fix::Advice(format!(
                        "put the path item `{reference}` in its place: an overlay action \
                         `remove: true` on `{}` and one on `{path_target}` with `update:` the \
                         path item",
                        path_target.key("$ref")
                    )),
                ));
                continue;
            }
        };
        for (method, operation) in item.iter() {
            let pointer = format!("{path_pointer}/{method}");
            let target = path_target.key(method);
            let unsupported = |operation: &str, problem: Unsupported| {
                Finding::new(
                    Error::UnsupportedOperation {
                        file: file.to_owned(),
                        pointer: pointer.clone(),
                        operation: operation.to_owned(),
                        message: problem.message,
                    },
                    problem.kind,
                    problem.fix,
                )
            };
            let label = match operation.operation_id.as_deref() {
                Some(id) => {
                    if let Some(first) = seen_ids.insert(id, pointer.clone()) {
                        findings.push(unsupported(
                            id,
                            Unsupported::new(
                                Kind::DuplicateOperationId,
                                format!("operationId is used twice (also at {first})"),
                                Fix::Update {
                                    target: target.clone().into(),
                                    update: serde_json::json!({
                                        "operationId": format!("{id}-{method}")
                                    }),
                                },
                            ),
                        ));
                    }
                    id.to_owned()
                }
                None => {
                    let label = format!("{} {path}", method.to_uppercase());
                    findings.push(unsupported(
                        &label,
                        Unsupported::new(
                            Kind::MissingOperationId,
                            "has no operationId, which names its client method",
                            Fix::Update {
                                target: target.clone().into(),
                                update: serde_json::json!({
                                    "operationId": suggested_operation_id(method, path)
                                }),
                            },
                        ),
                    ));
                    label
                }
            };
            let mut problems = Vec::new();
            let places = Places {
                path: &path_target,
                operation: &target,
            };
            check_path_parameters(
                api,
                path,
                &item.parameters,
                &operation.parameters,
                &places,
                &mut problems,
            );
            check_request_body(api, operation, &target, &mut problems);
            check_responses(api, operation, Group::Success, &target, &mut problems);
            check_responses(api, operation, Group::Error, &target, &mut problems);
            findings.extend(
                problems
                    .into_iter()
                    .map(|problem| unsupported(&label, problem)),
            );
        }
    }
    findings
}

/// An operationId for an operation without one: `get-accounts-account_id-things`.
fn suggested_operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        let segment: String = segment
            .chars()
            .filter(|character| !matches!(character, '{' | '}'))
            .collect();
        id.push('-');
        id.push_str(&segment);
    }
    id
}

/// Where an operation and its path item are, as overlay targets.
struct Places<'a> {
    path: &'a Target,
    operation: &'a Target,
}

/// Follows `$ref`s through `#/components/<section>/<name>` until an item is reached, and says
/// where it is: `at` for an item given in place, the component holding it for a reference.
///
/// Returns `None` for a reference that does not resolve: a `$ref` to the wrong section, or one
/// that [`ref_findings`](super::ref_findings) reports as dangling or in a cycle.
fn resolve_at<'a, T>(
    section: &str,
    lookup: impl Fn(&str) -> Option<&'a ReferenceOr<T>>,
    mut item: &'a ReferenceOr<T>,
    at: &Target,
) -> Option<(Target, &'a T)> {
    let prefix = format!("#/components/{section}/");
    let mut place = at.clone();
    // A chain of more links than this is a cycle; stop rather than loop.
    for _ in 0..64 {
        match item {
            ReferenceOr::Item(value) => return Some((place, value)),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix(&prefix)?;
                item = lookup(name)?;
                place = Target::root()
                    .key("components")
                    .key(section)
                    .key(&json_pointer::unescape(name));
            }
        }
    }
    None
}

/// progenitor's test for a typed (JSON) body: exactly `application/json`, parameters allowed.
fn is_json(media: &str) -> bool {
    media == "application/json" || media.starts_with("application/json;")
}
