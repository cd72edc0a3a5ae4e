//! Request bodies: one media type progenitor can send, with a schema, and no `encoding` where
//! progenitor would `todo!` on it.

use openapiv3::{OpenAPI, Operation};

use super::{Unsupported, is_json, resolve_at};
use crate::problems::{Fix, Kind, Target};

/// One media type, with a schema, and no `encoding` for JSON (progenitor `todo!`s on the rest,
/// or refuses a body without a schema with an unlocated error).
pub(super) fn check_request_body(
    api: &OpenAPI,
    operation: &Operation,
    at: &Target,
    out: &mut Vec<Unsupported>,
) {
    let Some(body) = &operation.request_body else {
        return;
    };
    let components = |name: &str| api.components.as_ref()?.request_bodies.get(name);
    let Some((place, body)) = resolve_at("requestBodies", components, body, &at.key("requestBody"))
    else {
        out.push(Unsupported::new(
            Kind::RequestBody,
            "its request body $ref does not point into #/components/requestBodies",
            Fix::Advice(
                "point the request body's `$ref` into #/components/requestBodies, or put the \
                 request body in its place"
                    .to_owned(),
            ),
        ));
        return;
    };
    let content = place.key("content");
    if body.content.len() > 1 {
        // Keep the media type the generator prefers among those it can send.
        let kept = BODY_MEDIA_TYPES.iter().find_map(|wanted| {
            body.content
                .keys()
                .find(|media| media.split(';').next().map(str::trim) == Some(*wanted))
        });
        let fix = match kept {
            Some(kept) => Fix::Remove {
                targets: body
                    .content
                    .keys()
                    .filter(|media| *media != kept)
                    .map(|media| content.key(media).into())
                    .collect(),
                keeps: Some(format!("`{kept}`")),
            },
            None => Fix::Advice(unsendable_advice(&content)),
        };
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body offers {} media types ({}); the generator supports one",
                body.content.len(),
                body.content.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            fix,
        ));
        return;
    }
    if let Some((media, _)) = body.content.first()
        && !BODY_MEDIA_TYPES.contains(&media.split(';').next().map_or("", str::trim))
    {
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body `{media}` is not a media type the generator can send ({})",
                BODY_MEDIA_TYPES.join(", ")
            ),
            Fix::Advice(unsendable_advice(&content)),
        ));
        return;
    }
    if let Some((media, media_type)) = body.content.first()
        && media_type.schema.is_none()
    {
        let schema = if is_json(media) {
            serde_json::json!({})
        } else {
            serde_json::json!({"type": "string", "format": "binary"})
        };
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body `{media}` has no schema; the generator needs one (e.g. `{{}}` for \
                 any JSON value)"
            ),
            Fix::Update {
                target: content.key(media).into(),
                update: serde_json::json!({ "schema": schema }),
            },
        ));
        return;
    }
    if let Some((media, media_type)) = body.content.first()
        && !media_type.encoding.is_empty()
        && (is_json(media) || media == "application/x-www-form-urlencoded")
    {
        out.push(Unsupported::new(
            Kind::RequestBody,
            format!(
                "request body `{media}` has an `encoding`, which the generator does not support"
            ),
            Fix::Remove {
                targets: vec![content.key(media).key("encoding").into()],
                keeps: None,
            },
        ));
    }
}

/// The request body media types progenitor can send, in the order a fix prefers them.
const BODY_MEDIA_TYPES: [&str; 5] = [
    "application/json",
    "application/octet-stream",
    "application/x-www-form-urlencoded",
    "text/plain",
    "text/x-markdown",
];

/// What to do about a request body (whose `content` is at `content`) in no media type the
/// generator can send.
fn unsendable_advice(content: &Target) -> String {
    format!(
        "describe the body in a media type the generator can send ({}): an overlay action \
         `remove: true` on each entry of `{content}`, then one on `{content}` with `update:` \
         the new entry; or remove the operation",
        BODY_MEDIA_TYPES.join(", ")
    )
}
