//! Response enums that keep values the server adds later.
//!
//! A generated enum rejects a value it does not know, which would fail a whole page of audit-log
//! entries (or insights) the day Cloudflare adds, say, `field_changed: "severity"` or a new issue
//! type. The generator is told (in `xtask`'s settings) to use these hand-written types instead of
//! generating them. One macro, `open_enum!`, writes each: the known values as variants, anything
//! else as `Unknown`, kept verbatim and sent back unchanged.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enum of the values listed, each written `Variant = "wire value"`, plus `Unknown(String)` for
/// the rest, with `as_str`, `From<&str>`, `From<String>`, `FromStr`, `Display`, `Serialize` and
/// `Deserialize`. The public-API snapshot test reads these invocations as the enums they define.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
            /// A value added to the API after this crate was generated, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }

            fn known(value: &str) -> Option<Self> {
                match value {
                    $( $wire => Some(Self::$variant), )+
                    _ => None,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::known(value).unwrap_or_else(|| Self::Unknown(value.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::known(&value).unwrap_or(Self::Unknown(value))
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(OpenVisitor::<Self>(PhantomData))
            }
        }
    };
}

/// Reads an open enum's value without allocating when it is one of the known ones.
struct OpenVisitor<T>(PhantomData<T>);

impl<T: for<'a> From<&'a str> + From<String>> serde::de::Visitor<'_> for OpenVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<T, E> {
        Ok(T::from(value))
    }
}

open_enum! {
    /// The field of an insight whose change an audit-log entry records.
    ///
    /// Values this version of the crate does not know arrive as [`FieldChanged::Unknown`] and are
    /// sent back unchanged, so entries are never lost and filters on new values already work.
    pub enum FieldChanged {
        /// `status`: the insight's status changed.
        Status = "status",
        /// `user_classification`: a user classified the insight.
        UserClassification = "user_classification",
    }
}

open_enum! {
    /// The kind of finding an insight is (`issue_type`), as a filter and in an insight.
    pub enum IssueType {
        /// `compliance_violation`.
        ComplianceViolation = "compliance_violation",
        /// `email_security`.
        EmailSecurity = "email_security",
        /// `exposed_infrastructure`.
        ExposedInfrastructure = "exposed_infrastructure",
        /// `insecure_configuration`.
        InsecureConfiguration = "insecure_configuration",
        /// `weak_authentication`.
        WeakAuthentication = "weak_authentication",
        /// `configuration_suggestion`.
        ConfigurationSuggestion = "configuration_suggestion",
    }
}

open_enum! {
    /// An insight's severity as the API reports it: capitalised (`Low`, `Moderate`, `Critical`),
    /// unlike the `severity` filter, which takes [`SeverityFilter`](crate::SeverityFilter)'s
    /// lowercase values.
    pub enum Severity {
        /// `Low`.
        Low = "Low",
        /// `Moderate`.
        Moderate = "Moderate",
        /// `Critical`.
        Critical = "Critical",
    }
}

open_enum! {
    /// An insight's status.
    pub enum InsightStatus {
        /// `active`: the finding holds.
        Active = "active",
        /// `resolved`: it no longer does.
        Resolved = "resolved",
    }
}

open_enum! {
    /// How a user classified an insight (absent or `null` when nobody has).
    pub enum UserClassification {
        /// `false_positive`.
        FalsePositive = "false_positive",
        /// `accept_risk`.
        AcceptRisk = "accept_risk",
        /// `other`.
        Other = "other",
    }
}

#[cfg(test)]
mod tests {
    use super::{FieldChanged, Severity, UserClassification};

    /// Known values map to their variants and back; others are kept verbatim both ways.
    #[test]
    fn known_values_map_and_unknown_ones_are_kept() {
        let read = |text: &str| serde_json::from_str::<Severity>(text).expect("a severity");
        assert_eq!(read("\"Critical\""), Severity::Critical);
        assert_eq!(read("\"Urgent\""), Severity::Unknown("Urgent".to_owned()));
        assert_eq!(
            serde_json::to_string(&Severity::Unknown("Urgent".to_owned())).expect("JSON"),
            "\"Urgent\""
        );
        // The wire value is exact: the filter's lowercase form is not the insight's.
        assert_eq!(
            read("\"critical\""),
            Severity::Unknown("critical".to_owned())
        );
        assert_eq!(FieldChanged::from("status"), FieldChanged::Status);
        assert_eq!("accept_risk".parse(), Ok(UserClassification::AcceptRisk));
        assert_eq!(UserClassification::Other.to_string(), "other");
        let absent: Option<UserClassification> = serde_json::from_str("null").expect("null");
        assert_eq!(absent, None);
    }
}
