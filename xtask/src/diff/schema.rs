//! The rules on one schema node seen on both sides: a property added or removed, its
//! required-ness and nullability, and its facets (reference, type, format, enum values, bounds,
//! pattern, default, deprecation, description).
//!
//! Each function returns [`Verdict`]s and knows nothing of operations or owners; the walk places
//! them. The classification follows the Rust type the generator makes of the node
//! ([`super::typify`]) and the direction data flows through it.

use super::change::{Text, Verdict, classed, compile_break, verdict};
use super::model::{Bound, Direction, Node};
use super::rule::{Class, Rule};
use super::typify::{integer_type, is_option, rust_scalar};

/// Where a compared schema sits. The direction decides most classifications; the bound rules
/// also name the place in their ids (`request-parameter-`, `request-body-`, `request-property-`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// A parameter's schema.
    Parameter,
    /// A request body's schema.
    RequestBody,
    /// A response's schema.
    Response,
}

impl Place {
    /// Which way data flows through a schema here.
    pub(super) fn direction(self) -> Direction {
        match self {
            Self::Parameter | Self::RequestBody => Direction::Request,
            Self::Response => Direction::Response,
        }
    }
}

/// A property present before and gone now.
pub(super) fn property_removed(node: &Node, direction: Direction) -> Verdict {
    match direction {
        Direction::Response => compile_break(
            Rule::ResponsePropertyRemoved,
            "removed",
            "the struct field disappears, so code reading it stops compiling",
        ),
        Direction::Request if node.required => verdict(
            Rule::RequestPropertyRemoved,
            "removed (it was required)",
            "the struct field disappears (compile break), and a strict server may reject it",
        ),
        Direction::Request => compile_break(
            Rule::RequestPropertyRemoved,
            "removed",
            "the struct field disappears, so code setting it stops compiling",
        ),
    }
}

/// A property absent before and present now.
pub(super) fn property_added(node: &Node, direction: Direction) -> Verdict {
    match direction {
        Direction::Response => verdict(
            Rule::ResponsePropertyAdded,
            if node.required {
                "added (required)"
            } else {
                "added (optional)"
            },
            "clients built from the old spec ignore it; code that builds the struct with a literal \
             instead of its builder must add the field",
        ),
        Direction::Request if node.required && !node.nullable => verdict(
            Rule::NewRequiredRequestProperty,
            "added (required)",
            "the server rejects bodies without it, and struct literals must add it",
        ),
        Direction::Request => verdict(
            Rule::NewOptionalRequestProperty,
            "added (optional)",
            "bodies without it stay valid",
        ),
    }
}

/// Required-ness and nullability of a property, judged by the Rust type they produce.
pub(super) fn optionality(before: &Node, after: &Node, direction: Direction) -> Vec<Verdict> {
    let mut found = Vec::new();
    let type_change = is_option(before) != is_option(after);
    let shape = |node: &Node| if is_option(node) { "Option<T>" } else { "T" };
    if before.required != after.required {
        let message = if after.required {
            "became required"
        } else {
            "became optional"
        };
        found.push(match direction {
            Direction::Response if type_change => compile_break(
                if after.required {
                    Rule::ResponsePropertyBecameRequired
                } else {
                    Rule::ResponsePropertyBecameOptional
                },
                message,
                format!(
                    "the field's Rust type changes from {} to {}",
                    shape(before),
                    shape(after)
                ),
            ),
            Direction::Response if !after.required => classed(
                Rule::ResponsePropertyBecameOptional,
                Class::NonBreaking,
                message,
                "the field is already Option<T> (it is nullable)",
            ),
            Direction::Response => classed(
                Rule::ResponsePropertyBecameRequired,
                Class::NonBreaking,
                message,
                "the field stays Option<T> (it is nullable); the server now always sends it",
            ),
            Direction::Request if after.required => verdict(
                Rule::RequestPropertyBecameRequired,
                message,
                "the server rejects bodies without it",
            ),
            Direction::Request => verdict(
                Rule::RequestPropertyBecameOptional,
                message,
                "bodies with it stay valid; the builder accepts the value as before",
            ),
        });
    }
    if before.nullable != after.nullable {
        let message = if after.nullable {
            "became nullable"
        } else {
            "no longer nullable"
        };
        let rule = match (direction, after.nullable) {
            (Direction::Response, true) => Rule::ResponsePropertyBecameNullable,
            (Direction::Response, false) => Rule::ResponsePropertyBecameNotNullable,
            (Direction::Request, true) => Rule::RequestPropertyBecameNullable,
            (Direction::Request, false) => Rule::RequestPropertyBecameNotNullable,
        };
        found.push(match (direction, after.nullable) {
            (_, true) if type_change && before.required == after.required => classed(
                rule,
                Class::Breaking,
                message,
                "the field's Rust type changes from T to Option<T> (compile break), and clients \
                 built from the old spec fail to parse a null",
            ),
            (Direction::Response, true) => classed(
                rule,
                Class::NonBreaking,
                message,
                "the field is already Option<T> (it is optional), and null reads as None",
            ),
            (Direction::Request, true) => classed(
                rule,
                Class::NonBreaking,
                message,
                "the field is already Option<T> (it is optional); the server now also accepts null",
            ),
            (Direction::Response, false) if type_change && before.required == after.required => {
                compile_break(
                    rule,
                    message,
                    "the field's Rust type changes from Option<T> to T",
                )
            }
            (Direction::Response, false) => classed(
                rule,
                Class::NonBreaking,
                message,
                "the field stays Option<T> (it is optional); the server no longer sends null",
            ),
            (Direction::Request, false) => classed(
                rule,
                Class::Breaking,
                message,
                "the server rejects a null the client may send",
            ),
        });
    }
    found
}

/// Type, format, enum values, bounds and pattern of one node; `root` when it is the whole
/// schema of its parameter, body or response rather than a field or item inside it.
pub(super) fn facets(before: &Node, after: &Node, place: Place, root: bool) -> Vec<Verdict> {
    let mut found = Vec::new();
    let request = place.direction() == Direction::Request;
    if before.type_name != after.type_name
        && before.type_name.is_some()
        && after.type_name.is_some()
    {
        found.push(compile_break(
            Rule::SchemaReferenceChanged,
            Text::prose("refers to ")
                .code(after.type_name.as_deref().unwrap_or_default())
                .and(" instead of ")
                .code(before.type_name.as_deref().unwrap_or_default()),
            "the Rust type of the value changes",
        ));
    }
    if before.kind != after.kind {
        found.push(verdict(
            if request { Rule::RequestTypeChanged } else { Rule::ResponseTypeChanged },
            format!("type changed from {} to {}", show(&before.kind), show(&after.kind)),
            if request {
                "the Rust type changes (compile break) and the server rejects values of the old type"
            } else {
                "the Rust type changes (compile break) and clients built from the old spec fail to parse the new values"
            },
        ));
    } else if before.format != after.format {
        let rust_changes = rust_scalar(before) != rust_scalar(after);
        let message = code_or_none(
            code_or_none(Text::prose("format changed from "), &before.format).and(" to "),
            &after.format,
        );
        found.push(match (rust_changes, request) {
            (true, true) => verdict(
                Rule::RequestFormatChanged,
                message,
                format!(
                    "the Rust type changes from {} to {} (compile break), and the server checks the new format",
                    rust_scalar(before),
                    rust_scalar(after)
                ),
            ),
            (true, false) => classed(
                Rule::ResponseFormatChanged,
                Class::Breaking,
                message,
                format!(
                    "the Rust type changes from {} to {} (compile break), and clients built from the old spec may fail to parse the new values",
                    rust_scalar(before),
                    rust_scalar(after)
                ),
            ),
            (false, true) if after.format.is_none() => verdict(
                Rule::RequestFormatRemoved,
                message,
                "the Rust type stays; the server accepts more",
            ),
            (false, true) => verdict(
                Rule::RequestFormatChanged,
                message,
                "the Rust type stays, but the server checks the new format and may reject values it used to accept",
            ),
            (false, false) => classed(
                Rule::ResponseFormatChanged,
                Class::NonBreaking,
                message,
                "the Rust type stays the same",
            ),
        });
    }
    enums(before, after, request, &mut found);
    bounds(before, after, place, root, &mut found);
    if before.pattern != after.pattern {
        let message = match (&before.pattern, &after.pattern) {
            (None, Some(new)) => Text::prose("pattern ").code(new).and(" added"),
            (Some(old), None) => Text::prose("pattern ").code(old).and(" removed"),
            (old, new) => code_or_none(
                code_or_none(Text::prose("pattern changed from "), old).and(" to "),
                new,
            ),
        };
        let loosened = after.pattern.is_none();
        let rule = match (loosened, request) {
            (false, true) => Rule::RequestPatternTightened,
            (true, true) => Rule::RequestPatternLoosened,
            (false, false) => Rule::ResponsePatternTightened,
            (true, false) => Rule::ResponsePatternLoosened,
        };
        found.push(string_constraint(rule, message, loosened, request));
    }
    if before.default != after.default {
        let message = code_or_none(
            code_or_none(Text::prose("default changed from "), &before.default).and(" to "),
            &after.default,
        );
        found.push(if request {
            verdict(
                Rule::RequestDefaultChanged,
                message,
                "requests that leave it unset now get the new default behaviour from the server",
            )
        } else {
            verdict(
                Rule::ResponseDefaultChanged,
                message,
                "documentation of the value sent",
            )
        });
    }
    if before.deprecated != after.deprecated {
        found.push(verdict(
            Rule::SchemaDeprecated,
            if after.deprecated {
                "deprecated"
            } else {
                "no longer deprecated"
            },
            "the value keeps working",
        ));
    }
    if before.description != after.description {
        found.push(verdict(
            Rule::DescriptionChanged,
            "description changed",
            "documentation only (doc comments change)",
        ));
    }
    found
}

fn enums(before: &Node, after: &Node, request: bool, found: &mut Vec<Verdict>) {
    match (&before.enumeration, &after.enumeration) {
        (Some(old), Some(new)) => {
            for value in new.difference(old) {
                found.push(if request {
                    verdict(
                        Rule::RequestEnumValueAdded,
                        Text::prose("enum value ").code(value).and(" added"),
                        "the server accepts a new value (a new variant; a `match` without a wildcard arm must handle it)",
                    )
                } else {
                    verdict(
                        Rule::ResponseEnumValueAdded,
                        Text::prose("enum value ").code(value).and(" added"),
                        "response enums keep values they do not know (`Unknown`), so clients built from the old spec still parse it; a `match` without a wildcard arm must handle the new variant",
                    )
                });
            }
            for value in old.difference(new) {
                found.push(if request {
                    verdict(
                        Rule::RequestEnumValueRemoved,
                        Text::prose("enum value ").code(value).and(" removed"),
                        "the server rejects the value, and its variant disappears (compile break)",
                    )
                } else {
                    compile_break(
                        Rule::ResponseEnumValueRemoved,
                        Text::prose("enum value ").code(value).and(" removed"),
                        "its variant disappears, so code naming it stops compiling",
                    )
                });
            }
        }
        (None, Some(_)) => found.push(verdict(
            if request {
                Rule::RequestEnumAdded
            } else {
                Rule::ResponseEnumAdded
            },
            "restricted to an enum",
            if request {
                "the Rust type becomes an enum (compile break) and the server rejects other values"
            } else {
                "the Rust type becomes an enum (compile break)"
            },
        )),
        (Some(_), None) => found.push(compile_break(
            if request {
                Rule::RequestEnumRemoved
            } else {
                Rule::ResponseEnumRemoved
            },
            "no longer an enum",
            "the Rust enum becomes a plain value type",
        )),
        (None, None) => {}
    }
}

fn bounds(before: &Node, after: &Node, place: Place, root: bool, found: &mut Vec<Verdict>) {
    let request = place.direction() == Direction::Request;
    for bound in Bound::ALL {
        let keyword = bound.keyword();
        let old = before.bounds.get(&bound).copied();
        let new = after.bounds.get(&bound).copied();
        if old == new {
            continue;
        }
        let narrowed = match (old, new) {
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => (new > old) == bound.raising_narrows(),
            (None, None) => continue,
        };
        let message = match (old, new) {
            (None, Some(new)) => format!("{keyword} {} added", number(new)),
            (Some(old), None) => format!("{keyword} {} removed", number(old)),
            (Some(old), Some(new)) => format!(
                "{keyword} {} from {} to {}",
                if new > old { "raised" } else { "lowered" },
                number(old),
                number(new)
            ),
            (None, None) => continue,
        };
        let rule = bound_rule(bound, narrowed, place, root);
        if matches!(bound, Bound::MinLength | Bound::MaxLength) {
            found.push(string_constraint(rule, message.into(), !narrowed, request));
            continue;
        }
        // typify picks an unsigned or non-zero integer type from `minimum`.
        if bound == Bound::Minimum && before.kind.as_deref() == Some("integer") {
            let (old_type, new_type) = (integer_type(old), integer_type(new));
            if old_type != new_type {
                found.push(verdict(
                    by_place(place, root, NUMERIC_MIN_CHANGED),
                    message,
                    format!("the Rust integer type changes from {old_type} to {new_type} (compile break)"),
                ));
                continue;
            }
        }
        found.push(match (narrowed, request) {
            (true, true) => classed(
                rule,
                Class::Breaking,
                message,
                "the server rejects values the client could send before",
            ),
            (false, true) => classed(
                rule,
                Class::NonBreaking,
                message,
                "the server accepts more values",
            ),
            (true, false) => classed(
                rule,
                Class::NonBreaking,
                message,
                "the server sends a narrower range, which the client already accepts",
            ),
            (false, false) => classed(
                rule,
                Class::NonBreaking,
                message,
                "the client does not check numeric bounds in responses, so wider values still parse",
            ),
        });
    }
}

/// The rule for a bound that `narrowed` (or widened) at `place`.
fn bound_rule(bound: Bound, narrowed: bool, place: Place, root: bool) -> Rule {
    let request = place.direction() == Direction::Request;
    match (bound, narrowed, request) {
        (Bound::Maximum, true, _) => by_place(place, root, NUMERIC_MAX_DECREASED),
        (Bound::Maximum, false, _) => by_place(place, root, NUMERIC_MAX_INCREASED),
        (Bound::Minimum, true, _) => by_place(place, root, NUMERIC_MIN_INCREASED),
        (Bound::Minimum, false, _) => by_place(place, root, NUMERIC_MIN_DECREASED),
        (Bound::MaxLength, true, true) => Rule::RequestMaxLengthDecreased,
        (Bound::MaxLength, false, true) => Rule::RequestMaxLengthIncreased,
        (Bound::MaxLength, true, false) => Rule::ResponseMaxLengthDecreased,
        (Bound::MaxLength, false, false) => Rule::ResponseMaxLengthIncreased,
        (Bound::MinLength, true, true) => Rule::RequestMinLengthIncreased,
        (Bound::MinLength, false, true) => Rule::RequestMinLengthDecreased,
        (Bound::MinLength, true, false) => Rule::ResponseMinLengthIncreased,
        (Bound::MinLength, false, false) => Rule::ResponseMinLengthDecreased,
        (Bound::MinItems | Bound::MaxItems, true, _) => Rule::ItemsBoundTightened,
        (Bound::MinItems | Bound::MaxItems, false, _) => Rule::ItemsBoundLoosened,
    }
}

/// The rules of one numeric bound change, by place: a parameter, a request body's own schema,
/// a field or item inside a request body, a response.
type ByPlace = [Rule; 4];

const NUMERIC_MAX_DECREASED: ByPlace = [
    Rule::RequestParameterMaxDecreased,
    Rule::RequestBodyMaxDecreased,
    Rule::RequestPropertyMaxDecreased,
    Rule::ResponsePropertyMaxDecreased,
];
const NUMERIC_MAX_INCREASED: ByPlace = [
    Rule::RequestParameterMaxIncreased,
    Rule::RequestBodyMaxIncreased,
    Rule::RequestPropertyMaxIncreased,
    Rule::ResponsePropertyMaxIncreased,
];
const NUMERIC_MIN_INCREASED: ByPlace = [
    Rule::RequestParameterMinIncreased,
    Rule::RequestBodyMinIncreased,
    Rule::RequestPropertyMinIncreased,
    Rule::ResponsePropertyMinIncreased,
];
const NUMERIC_MIN_DECREASED: ByPlace = [
    Rule::RequestParameterMinDecreased,
    Rule::RequestBodyMinDecreased,
    Rule::RequestPropertyMinDecreased,
    Rule::ResponsePropertyMinDecreased,
];
const NUMERIC_MIN_CHANGED: ByPlace = [
    Rule::RequestParameterMinChanged,
    Rule::RequestBodyMinChanged,
    Rule::RequestPropertyMinChanged,
    Rule::ResponsePropertyMinChanged,
];

fn by_place(place: Place, root: bool, rules: ByPlace) -> Rule {
    let [parameter, body, body_field, response] = rules;
    match place {
        Place::Parameter => parameter,
        Place::RequestBody if root => body,
        Place::RequestBody => body_field,
        Place::Response => response,
    }
}

/// Length and pattern constraints: the generated client validates them in a newtype, in both
/// directions, so a loosened one in a response is breaking too.
fn string_constraint(rule: Rule, message: Text, loosened: bool, request: bool) -> Verdict {
    match (loosened, request) {
        (false, true) => classed(
            rule,
            Class::Breaking,
            message,
            "the server and the generated newtype's validation reject values accepted before",
        ),
        (true, true) => classed(
            rule,
            Class::NonBreaking,
            message,
            "more values are accepted",
        ),
        (false, false) => classed(
            rule,
            Class::NonBreaking,
            message,
            "the server sends a narrower set of values, which the client already accepts",
        ),
        (true, false) => classed(
            rule,
            Class::Breaking,
            message,
            "the generated newtype validates this when parsing, so clients built from the old spec reject values the server may now send",
        ),
    }
}

fn show(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "none".to_owned())
}

/// `text` followed by the value as code, or by `none` when there is none.
fn code_or_none(text: Text, value: &Option<String>) -> Text {
    match value {
        Some(value) => text.code(value),
        None => text.and("none"),
    }
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
