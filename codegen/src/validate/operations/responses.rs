//! Responses: one shape per group (success, error) as progenitor groups them, and JSON
//! responses with a schema and no `encoding`.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Operation, ReferenceOr, Response, StatusCode};

use super::{Unsupported, is_json, resolve_at};
use crate::problems::{Fix, Kind, Target};

/// The two groups progenitor sorts responses into.
#[derive(Clone, Copy)]
pub(super) enum Group {
    Success,
    Error,
}

/// The key of a status code in a `responses` object.
fn status_key(code: &StatusCode) -> String {
    match code {
        StatusCode::Code(code) => code.to_string(),
        StatusCode::Range(range) => format!("{range}XX"),
    }
}

/// Mirrors progenitor's grouping of responses (default counts for both groups, and a `2XX`
/// range makes `default` unreachable for success) and requires one response shape per group.
pub(super) fn check_responses(
    api: &OpenAPI,
    operation: &Operation,
    group: Group,
    at: &Target,
    out: &mut Vec<Unsupported>,
) {
    let responses = &operation.responses;
    let listed = at.key("responses");
    let has_success_range = responses
        .responses
        .keys()
        .any(|code| matches!(code, StatusCode::Range(2)));
    // Shape -> the statuses that have it (in document order), with their targets.
    let mut shapes: BTreeMap<String, Vec<(String, Target)>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut add = |status: String, key: String, response: &ReferenceOr<Response>| {
        let target = listed.key(&key);
        match shape_of(api, response, &target) {
            Ok(shape) => {
                if !shapes.contains_key(&shape) {
                    order.push(shape.clone());
                }
                shapes.entry(shape).or_default().push((status, target));
            }
            Err(problem) => out.push(Unsupported {
                message: format!("response {status} {}", problem.message),
                ..problem
            }),
        }
    };
    for (code, response) in &responses.responses {
        let wanted = matches!(
            (group, code),
            (
                Group::Success,
                StatusCode::Code(101 | 200..=299) | StatusCode::Range(2)
            ) | (
                Group::Error,
                StatusCode::Code(400..=599) | StatusCode::Range(4..=5)
            )
        );
        if wanted {
            add(code.to_string(), status_key(code), response);
        }
    }
    if let Some(default) = &responses.default
        && !(matches!(group, Group::Success) && has_success_range)
    {
        add("default".to_owned(), "default".to_owned(), default);
    }
    if shapes.len() > 1 {
        let statuses: BTreeSet<String> = shapes
            .values()
            .flatten()
            .map(|(status, _)| status.clone())
            .collect();
        let name = match group {
            Group::Success => "success",
            Group::Error => "error",
        };
        // Success keeps the shape of its first status; errors keep their most common shape.
        let kept = match group {
            Group::Success => order.first(),
            Group::Error => order
                .iter()
                .rev()
                .max_by_key(|shape| shapes.get(*shape).map_or(0, Vec::len)),
        }
        .cloned()
        .unwrap_or_default();
        let kept_statuses = shapes
            .get(&kept)
            .map(|list| {
                list.iter()
                    .map(|(status, _)| status.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let targets = order
            .iter()
            .filter(|shape| **shape != kept)
            .flat_map(|shape| shapes.get(shape).into_iter().flatten())
            .map(|(_, target)| target.clone().into())
            .collect();
        out.push(Unsupported::new(
            match group {
                Group::Success => Kind::SuccessResponses,
                Group::Error => Kind::ErrorResponses,
            },
            format!(
                "has {} different {name} response schemas (responses {}); the generator \
                 supports one per operation, so give them one schema or drop the extra \
                 responses in the overlay",
                shapes.len(),
                statuses.into_iter().collect::<Vec<_>>().join(", ")
            ),
            Fix::Remove {
                targets,
                keeps: Some(format!("{kept_statuses}: {}", describe_shape(&kept))),
            },
        ));
    }
}

/// A shape of [`shape_of`] in words.
fn describe_shape(shape: &str) -> String {
    match shape {
        "none" => "no body".to_owned(),
        "raw" => "a body that is not JSON".to_owned(),
        _ => match shape.strip_prefix("schema #") {
            Some(reference) => format!("schema `#{reference}`"),
            None => "an inline schema".to_owned(),
        },
    }
}

/// What progenitor turns a response into: no body, a raw body, or a typed JSON body.
///
/// Response `$ref`s are resolved first, so a `#/components/responses/X` and an inline copy of
/// the same response are one shape. A JSON media type is typed only when it is exactly
/// `application/json` (as progenitor decides), so `application/problem+json` is raw. `at` is
/// where the response is listed in its operation.
fn shape_of(
    api: &OpenAPI,
    response: &ReferenceOr<Response>,
    at: &Target,
) -> Result<String, Unsupported> {
    let components = |name: &str| api.components.as_ref()?.responses.get(name);
    let Some((place, response)) = resolve_at("responses", components, response, at) else {
        return Err(Unsupported::new(
            Kind::Response,
            "is a $ref that does not point into #/components/responses",
            Fix::Advice(
                "point the response's `$ref` into #/components/responses, or put the response \
                 in its place"
                    .to_owned(),
            ),
        ));
    };
    let json = response.content.iter().find(|(media, _)| is_json(media));
    Ok(match json {
        Some((media, content)) => {
            let here = place.key("content").key(media);
            if !content.encoding.is_empty() {
                return Err(Unsupported::new(
                    Kind::Response,
                    "has a JSON `encoding`, which the generator does not support",
                    Fix::Remove {
                        targets: vec![here.key("encoding").into()],
                        keeps: None,
                    },
                ));
            }
            match &content.schema {
                Some(ReferenceOr::Reference { reference }) => format!("schema {reference}"),
                Some(ReferenceOr::Item(schema)) => format!(
                    "schema {}",
                    serde_json::to_string(schema).unwrap_or_default()
                ),
                None => {
                    return Err(Unsupported::new(
                        Kind::Response,
                        "is `application/json` without a schema; give it one (e.g. `{}` for \
                         any JSON value) in the overlay",
                        Fix::Update {
                            target: here.into(),
                            update: serde_json::json!({"schema": {}}),
                        },
                    ));
                }
            }
        }
        None if response.content.is_empty() => "none".to_owned(),
        None => "raw".to_owned(),
    })
}
