//! Checks made before progenitor runs, so that inputs it would panic on, or reject with an
//! unlocated message, fail with an error that names the file and the JSON pointer instead.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Operation, ReferenceOr, StatusCode};
use serde_json::Value;

use crate::Error;
use crate::document::{display_pointer, escape_pointer_token};

/// Accepts OpenAPI 3.0.x only, with a clear message for 3.1 and Swagger 2.0.
pub fn check_version(file: &str, document: &Value) -> Result<(), Error> {
    let unsupported = |message: String| Error::UnsupportedVersion {
        file: file.to_owned(),
        message,
    };
    if let Some(swagger) = document.get("swagger") {
        return Err(unsupported(format!(
            "Swagger (OpenAPI 2.0) is not supported (found swagger: {swagger}); this generator \
             reads OpenAPI 3.0.x"
        )));
    }
    match document.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.0.") || version == "3.0" => Ok(()),
        Some(Value::String(version)) => {
            let minor = version.split('.').take(2).collect::<Vec<_>>().join(".");
            Err(unsupported(format!(
                "OpenAPI {minor} is not supported (found {version}); this generator reads \
                 OpenAPI 3.0.x"
            )))
        }
        Some(other) => Err(unsupported(format!(
            "expected a version string such as \"3.0.3\", found {other}"
        ))),
        None => Err(unsupported(
            "missing: this is not an OpenAPI document (no `openapi` version field)".to_owned(),
        )),
    }
}

/// Every `$ref` must be local and resolve, and no chain of pure references may loop.
pub fn check_refs(file: &str, document: &Value) -> Result<(), Error> {
    let mut refs = Vec::new();
    collect_refs(document, &mut String::new(), &mut refs);
    for (pointer, target) in &refs {
        let Some(fragment) = target.strip_prefix('#') else {
            return Err(Error::ExternalRef {
                file: file.to_owned(),
                pointer: pointer.clone(),
                target: target.clone(),
            });
        };
        if document.pointer(fragment).is_none() {
            return Err(Error::DanglingRef {
                file: file.to_owned(),
                pointer: pointer.clone(),
                target: target.clone(),
            });
        }
    }
    // A value that is nothing but a `$ref` is an alias; follow aliases looking for a loop.
    let alias_of = |value: &Value| -> Option<String> {
        let object = value.as_object()?;
        let target = object.get("$ref")?.as_str()?;
        (object.len() == 1).then(|| target.to_owned())
    };
    for (_, start) in &refs {
        let mut seen = vec![start.clone()];
        let mut current = start.clone();
        while let Some(next) = document
            .pointer(current.trim_start_matches('#'))
            .and_then(alias_of)
        {
            if seen.contains(&next) {
                seen.push(next);
                return Err(Error::RefCycle {
                    file: file.to_owned(),
                    pointer: start.trim_start_matches('#').to_owned(),
                    cycle: seen.join(" -> "),
                });
            }
            seen.push(next.clone());
            current = next;
        }
    }
    Ok(())
}

fn collect_refs(value: &Value, pointer: &mut String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer_token(key));
                if key == "$ref"
                    && let Value::String(target) = item
                {
                    out.push((pointer.clone(), target.clone()));
                } else {
                    collect_refs(item, pointer, out);
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                collect_refs(item, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Reads the value as an OpenAPI 3.0 document; on failure, says where.
pub fn to_openapi(file: &str, document: Value) -> Result<OpenAPI, Error> {
    serde_path_to_error::deserialize(document).map_err(|error| Error::InvalidDocument {
        file: file.to_owned(),
        pointer: pointer_of(error.path()),
        message: error.inner().to_string(),
    })
}

/// Turns a serde path into a JSON pointer.
pub(crate) fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape_pointer_token(key))),
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    display_pointer(&pointer)
}

/// Checks each operation for what progenitor cannot generate: a missing or repeated
/// operationId, a path item given by reference, more than one request media type, and more than
/// one distinct success or error response schema (progenitor asserts on that).
pub fn check_operations(file: &str, api: &OpenAPI) -> Result<(), Error> {
    let mut seen_ids: BTreeMap<&str, String> = BTreeMap::new();
    for (path, item) in api.paths.iter() {
        let path_pointer = format!("/paths/{}", escape_pointer_token(path));
        let item = match item {
            ReferenceOr::Item(item) => item,
            ReferenceOr::Reference { .. } => {
                return Err(Error::UnsupportedOperation {
                    file: file.to_owned(),
                    pointer: path_pointer,
                    operation: path.clone(),
                    message: "path items given by $ref are not supported".to_owned(),
                });
            }
        };
        for (method, operation) in item.iter() {
            let pointer = format!("{path_pointer}/{method}");
            let unsupported = |operation: String, message: String| Error::UnsupportedOperation {
                file: file.to_owned(),
                pointer: pointer.clone(),
                operation,
                message,
            };
            let Some(id) = operation.operation_id.as_deref() else {
                return Err(unsupported(
                    format!("{} {path}", method.to_uppercase()),
                    "has no operationId, which names its client method".to_owned(),
                ));
            };
            if let Some(first) = seen_ids.insert(id, pointer.clone()) {
                return Err(unsupported(
                    id.to_owned(),
                    format!("operationId is used twice (also at {first})"),
                ));
            }
            if let Some(ReferenceOr::Item(body)) = &operation.request_body
                && body.content.len() > 1
            {
                return Err(unsupported(
                    id.to_owned(),
                    format!(
                        "request body offers {} media types ({}); the generator supports one",
                        body.content.len(),
                        body.content.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            check_responses(operation, Kind::Success)
                .and_then(|()| check_responses(operation, Kind::Error))
                .map_err(|message| unsupported(id.to_owned(), message))?;
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Success,
    Error,
}

/// Mirrors progenitor's grouping of responses (default counts for both groups, and a `2XX`
/// range makes `default` unreachable for success) and requires one response shape per group.
fn check_responses(operation: &Operation, kind: Kind) -> Result<(), String> {
    let responses = &operation.responses;
    let has_success_range = responses
        .responses
        .keys()
        .any(|code| matches!(code, StatusCode::Range(2)));
    let mut shapes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |status: String, response: &ReferenceOr<openapiv3::Response>| {
        shapes.entry(shape_of(response)).or_default().push(status);
    };
    for (code, response) in &responses.responses {
        let wanted = match (kind, code) {
            (Kind::Success, StatusCode::Code(101 | 200..=299)) => true,
            (Kind::Success, StatusCode::Range(2)) => true,
            (Kind::Error, StatusCode::Code(400..=599)) => true,
            (Kind::Error, StatusCode::Range(4..=5)) => true,
            _ => false,
        };
        if wanted {
            add(code.to_string(), response);
        }
    }
    if let Some(default) = &responses.default
        && !(matches!(kind, Kind::Success) && has_success_range)
    {
        add("default".to_owned(), default);
    }
    if shapes.len() > 1 {
        let statuses: BTreeSet<String> = shapes.values().flatten().cloned().collect();
        let group = match kind {
            Kind::Success => "success",
            Kind::Error => "error",
        };
        return Err(format!(
            "has {} different {group} response schemas (responses {}); the generator supports \
             one per operation, so give them one schema or drop the extra responses in the overlay",
            shapes.len(),
            statuses.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(())
}

/// What progenitor turns a response into: no body, a raw body, or a typed JSON body.
fn shape_of(response: &ReferenceOr<openapiv3::Response>) -> String {
    let response = match response {
        ReferenceOr::Reference { reference } => return format!("ref {reference}"),
        ReferenceOr::Item(response) => response,
    };
    match response.content.first() {
        None => "none".to_owned(),
        Some((media, content)) if media.contains("json") => match &content.schema {
            Some(ReferenceOr::Reference { reference }) => format!("schema {reference}"),
            Some(ReferenceOr::Item(schema)) => {
                format!("schema {}", serde_json::to_string(schema).unwrap_or_default())
            }
            None => "raw".to_owned(),
        },
        Some(_) => "raw".to_owned(),
    }
}
