//! Response enums that keep values the server adds later.
//!
//! A generated enum rejects a value it does not know, which would fail a whole page of audit-log
//! entries the day Cloudflare adds, say, `field_changed: "severity"`. The generator is told (in
//! `xtask`'s settings) to use this hand-written type instead of generating one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The field of an insight whose change an audit-log entry records.
///
/// Values this version of the crate does not know arrive as [`FieldChanged::Unknown`] and are
/// sent back unchanged, so entries are never lost and filters on new values already work.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldChanged {
    /// `status`: the insight's status changed.
    Status,
    /// `user_classification`: a user classified the insight.
    UserClassification,
    /// A value added to the API after this crate was generated, kept verbatim.
    Unknown(String),
}

impl FieldChanged {
    /// The value as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Status => "status",
            Self::UserClassification => "user_classification",
            Self::Unknown(other) => other,
        }
    }
}

impl From<&str> for FieldChanged {
    fn from(value: &str) -> Self {
        match value {
            "status" => Self::Status,
            "user_classification" => Self::UserClassification,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl From<String> for FieldChanged {
    fn from(value: String) -> Self {
        match value.as_str() {
            "status" => Self::Status,
            "user_classification" => Self::UserClassification,
            _ => Self::Unknown(value),
        }
    }
}

impl FromStr for FieldChanged {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(value))
    }
}

impl fmt::Display for FieldChanged {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for FieldChanged {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FieldChanged {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FieldChangedVisitor)
    }
}

/// Reads the value without allocating when it is one of the known ones.
struct FieldChangedVisitor;

impl serde::de::Visitor<'_> for FieldChangedVisitor {
    type Value = FieldChanged;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string naming the changed field")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<FieldChanged, E> {
        Ok(FieldChanged::from(value))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<FieldChanged, E> {
        Ok(FieldChanged::from(value))
    }
}
