//! A model of the Rust types typify chooses for a schema, as far as the classification needs
//! it: which scalar a type and format become, which integer a `minimum` picks, and when a field
//! is `Option<T>`.
//!
//! Whether a spec change breaks downstream code depends on whether the Rust type changes, not on
//! whether the schema text does (`int64` to `int32` does, `format: email` on a string does not), so
//! these choices are written down once here rather than guessed at each rule. A generator
//! upgrade that chooses differently shows up in the public-API snapshot; update this model then.

use super::model::{Bound, Node};

/// The Rust scalar type typify generates for a node's type and format (approximate; enough to
/// tell whether a format change changes the Rust type).
pub(super) fn rust_scalar(node: &Node) -> String {
    let format = node.format.as_deref().unwrap_or("");
    match (node.kind.as_deref().unwrap_or(""), format) {
        ("string", "date-time") => "chrono::DateTime<Utc>",
        ("string", "date") => "chrono::NaiveDate",
        ("string", "uuid") => "uuid::Uuid",
        ("string", "ip") => "std::net::IpAddr",
        ("string", "ipv4") => "std::net::Ipv4Addr",
        ("string", "ipv6") => "std::net::Ipv6Addr",
        ("string", _) => "String",
        ("integer", "int8") => "i8",
        ("integer", "int16") => "i16",
        ("integer", "int32") => "i32",
        ("integer", "uint8") => "u8",
        ("integer", "uint16") => "u16",
        ("integer", "uint32") => "u32",
        ("integer", "uint64") => "u64",
        ("integer", _) => {
            return integer_type(node.bounds.get(&Bound::Minimum).copied()).to_owned();
        }
        ("number", "float") => "f32",
        ("number", _) => "f64",
        (other, _) => other,
    }
    .to_owned()
}

/// typify's choice for an `int64` (or unformatted) integer with this `minimum`.
pub(super) fn integer_type(minimum: Option<f64>) -> &'static str {
    match minimum {
        Some(minimum) if minimum >= 1.0 => "NonZeroU64",
        Some(minimum) if minimum >= 0.0 => "u64",
        _ => "i64",
    }
}

/// Whether a field's Rust type is `Option<T>`: not required, or nullable.
pub(super) fn is_option(node: &Node) -> bool {
    !node.required || node.nullable
}
