//! The catalogue of classification rules: one [`Rule`] per kind of change the report can name,
//! with its stable id (named like oasdiff's checks), the classes it can give (a [`Class`]), and,
//! as its doc comment, what it means for the generated client.
//!
//! The ids are an interface: tests name them, and so may a CI filter. Keeping them in one enum
//! means code matches variants (a typo does not compile) and the list in
//! `docs/reviewing-spec-changes.md` is rendered from it ([`markdown_table`]); a test in
//! `tests/diff` fails when the two differ.

use std::cmp::Ordering;
use std::fmt;

/// How a change affects people who depend on the generated client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Downstream code stops compiling, the server rejects a request the client sends, or the
    /// client can no longer parse a response.
    Breaking,
    /// The client changes, but code and traffic that worked keep working.
    NonBreaking,
    /// Documentation or metadata only; nothing to do.
    Informational,
}

impl Class {
    /// `breaking`, `non-breaking` or `informational`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Breaking => "breaking",
            Self::NonBreaking => "non-breaking",
            Self::Informational => "informational",
        }
    }
}

/// Declares [`Rule`] with each variant's id, classes and doc comment in one place, and derives
/// from the same list [`Rule::ALL`], [`Rule::as_str`], [`Rule::classes`] and [`Rule::meaning`],
/// so none of them can miss a rule.
macro_rules! rules {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident($id:literal, $($class:ident)|+),
    )+) => {
        /// A classification rule. Its doc comment says when it applies and why it is classified
        /// as it is; [`Rule::as_str`] is its stable id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Rule {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Rule {
            /// Every rule, in catalogue order (grouped by what they look at).
            pub const ALL: &[Rule] = &[$(Rule::$variant),+];

            /// The stable id, e.g. `request-parameter-max-decreased`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id,)+
                }
            }

            /// Every class a change found by this rule can have in the generated client (most
            /// rules have one). A compile-only break is reported as non-breaking for a schema
            /// the client replaces with a hand-written type, and as informational when the
            /// overlay hides it.
            pub fn classes(self) -> &'static [Class] {
                match self {
                    $(Rule::$variant => &[$(Class::$class),+],)+
                }
            }

            /// The doc comment as one line of prose.
            pub fn meaning(self) -> String {
                let doc: &[&str] = match self {
                    $(Rule::$variant => &[$($doc),+],)+
                };
                doc.iter().map(|line| line.trim()).collect::<Vec<_>>().join(" ")
            }
        }
    };
}

rules! {
    // The document.
    /// A security scheme is gone: requests authenticated with it are rejected.
    SecuritySchemeRemoved("security-scheme-removed", Breaking),
    /// A security scheme's definition changed: credentials sent the old way are rejected.
    SecuritySchemeChanged("security-scheme-changed", Breaking),
    /// A new security scheme: a new way to authenticate; existing credentials keep working.
    SecuritySchemeAdded("security-scheme-added", NonBreaking),
    /// A component schema is gone: its public Rust type disappears (a compile break).
    SchemaRemoved("schema-removed", Breaking),
    /// A new component schema: a new public Rust type.
    SchemaAdded("schema-added", NonBreaking),

    // Operations.
    /// An operation is gone: its client method disappears and the server no longer serves it.
    OperationRemoved("operation-removed", Breaking),
    /// A new operation: a new client method.
    OperationAdded("operation-added", NonBreaking),
    /// An operation keeps its operationId but moves to another path or method: clients built
    /// from the old spec call an endpoint the server no longer serves.
    OperationPathChanged("operation-path-changed", Breaking),
    /// An operation is deprecated, or no longer deprecated: the method keeps working.
    OperationDeprecated("operation-deprecated", Informational),
    /// An operation's summary or description changed: its doc comment changes.
    OperationDescriptionChanged("operation-description-changed", Informational),
    /// A way to authenticate an operation is gone and no weaker one remains: requests
    /// authenticated only that way are rejected.
    SecurityRequirementRemoved("security-requirement-removed", Breaking),
    /// A way to authenticate an operation is gone, but one needing no more credentials
    /// remains: the same credentials are still accepted.
    SecurityRequirementRelaxed("security-requirement-relaxed", NonBreaking),
    /// A new way to authenticate an operation: existing credentials keep working.
    SecurityRequirementAdded("security-requirement-added", NonBreaking),

    // Parameters.
    /// A parameter is gone: its builder method disappears and the server no longer reads it.
    RequestParameterRemoved("request-parameter-removed", Breaking),
    /// A new required parameter: the server rejects requests without it, and the builder's
    /// `send()` fails until it is set.
    NewRequiredRequestParameter("new-required-request-parameter", Breaking),
    /// A new optional parameter: a new builder method; requests without it stay valid.
    NewOptionalRequestParameter("new-optional-request-parameter", NonBreaking),
    /// An optional parameter became required: the server rejects requests without it.
    RequestParameterBecameRequired("request-parameter-became-required", Breaking),
    /// A required parameter became optional: requests without it become valid.
    RequestParameterBecameOptional("request-parameter-became-optional", NonBreaking),
    /// A parameter is deprecated, or no longer deprecated: the builder method keeps working.
    RequestParameterDeprecated("request-parameter-deprecated", Informational),
    /// A parameter's description changed: documentation only.
    RequestParameterDescriptionChanged("request-parameter-description-changed", Informational),

    // Request bodies.
    /// The request body is gone: its builder method disappears.
    RequestBodyRemoved("request-body-removed", Breaking),
    /// A new required request body: the server rejects requests without it.
    RequestBodyAddedRequired("request-body-added-required", Breaking),
    /// A new optional request body: requests without it stay valid.
    RequestBodyAddedOptional("request-body-added-optional", NonBreaking),
    /// The request body became required: the server rejects requests without it.
    RequestBodyBecameRequired("request-body-became-required", Breaking),
    /// The request body became optional: requests with a body stay valid.
    RequestBodyBecameOptional("request-body-became-optional", NonBreaking),

    // Media types and responses.
    /// A media type of a request body or response is gone: the server no longer accepts it, or
    /// the client can no longer read what the server sends.
    MediaTypeRemoved("media-type-removed", Breaking),
    /// A new media type: an additional representation.
    MediaTypeAdded("media-type-added", NonBreaking),
    /// A success (`2XX`) response is gone: the method's success type changes or disappears.
    ResponseSuccessStatusRemoved("response-success-status-removed", Breaking),
    /// An error response is gone: the server no longer documents it; error handling keeps
    /// working.
    ResponseNonSuccessStatusRemoved("response-non-success-status-removed", NonBreaking),
    /// A new documented response: the client already handles undocumented ones as errors.
    ResponseStatusAdded("response-status-added", NonBreaking),
    /// A response's description changed: documentation only.
    ResponseDescriptionChanged("response-description-changed", Informational),

    // Fields of request bodies.
    /// A request field is gone: the struct field disappears (a compile break), and a strict
    /// server may reject it if it was required.
    RequestPropertyRemoved("request-property-removed", Breaking),
    /// A new required, non-nullable request field: the server rejects bodies without it, and
    /// struct literals must add it.
    NewRequiredRequestProperty("new-required-request-property", Breaking),
    /// A new optional (or nullable) request field: bodies without it stay valid.
    NewOptionalRequestProperty("new-optional-request-property", NonBreaking),
    /// A request field became required: the server rejects bodies without it.
    RequestPropertyBecameRequired("request-property-became-required", Breaking),
    /// A request field became optional: bodies with it stay valid.
    RequestPropertyBecameOptional("request-property-became-optional", NonBreaking),
    /// A request field became nullable: breaking when its Rust type changes from `T` to
    /// `Option<T>` (it is required), else non-breaking (the server now also accepts null).
    RequestPropertyBecameNullable("request-property-became-nullable", Breaking | NonBreaking),
    /// A request field is no longer nullable: the server rejects a null the client may send.
    RequestPropertyBecameNotNullable("request-property-became-not-nullable", Breaking),

    // Fields of responses.
    /// A response field is gone: the struct field disappears, so code reading it stops
    /// compiling.
    ResponsePropertyRemoved("response-property-removed", Breaking),
    /// A new response field: clients built from the old spec ignore it (code that builds the
    /// struct with a literal must add it).
    ResponsePropertyAdded("response-property-added", NonBreaking),
    /// A response field became required: breaking when its Rust type changes from `Option<T>`
    /// to `T`, non-breaking when it stays `Option<T>` (it is nullable).
    ResponsePropertyBecameRequired("response-property-became-required", Breaking | NonBreaking),
    /// A response field became optional: breaking when its Rust type changes from `T` to
    /// `Option<T>`, non-breaking when it already is `Option<T>` (it is nullable).
    ResponsePropertyBecameOptional("response-property-became-optional", Breaking | NonBreaking),
    /// A response field became nullable: breaking when its Rust type changes from `T` to
    /// `Option<T>` (it is required), non-breaking when it already is `Option<T>`.
    ResponsePropertyBecameNullable("response-property-became-nullable", Breaking | NonBreaking),
    /// A response field is no longer nullable: breaking when its Rust type changes from
    /// `Option<T>` to `T` (it is required), non-breaking when it stays `Option<T>`.
    ResponsePropertyBecameNotNullable(
        "response-property-became-not-nullable",
        Breaking | NonBreaking
    ),

    // Any schema node: reference, type, format.
    /// A value refers to another component schema: its Rust type changes (a compile break).
    SchemaReferenceChanged("schema-reference-changed", Breaking),
    /// A request value's type changed: the Rust type changes and the server rejects values of
    /// the old type.
    RequestTypeChanged("request-type-changed", Breaking),
    /// A response value's type changed: the Rust type changes and clients built from the old
    /// spec fail to parse the new values.
    ResponseTypeChanged("response-type-changed", Breaking),
    /// A request value's format changed or was added: the Rust type may change, and the server
    /// checks the new format.
    RequestFormatChanged("request-format-changed", Breaking),
    /// A request value's format was removed without changing its Rust type: the server accepts
    /// more.
    RequestFormatRemoved("request-format-removed", NonBreaking),
    /// A response value's format changed: breaking when the Rust type changes (e.g. `int64` to
    /// `int32`), else non-breaking.
    ResponseFormatChanged("response-format-changed", Breaking | NonBreaking),

    // Enums.
    /// A request enum gained a value: the server accepts it (a new variant; a `match` without
    /// a wildcard arm must handle it).
    RequestEnumValueAdded("request-enum-value-added", NonBreaking),
    /// A request enum lost a value: the server rejects it, and its variant disappears.
    RequestEnumValueRemoved("request-enum-value-removed", Breaking),
    /// A response enum gained a value: response enums keep values they do not know
    /// (`Unknown`), so clients built from the old spec still parse it.
    ResponseEnumValueAdded("response-enum-value-added", NonBreaking),
    /// A response enum lost a value: its variant disappears, so code naming it stops compiling.
    ResponseEnumValueRemoved("response-enum-value-removed", Breaking),
    /// A request value became an enum: the Rust type becomes an enum and the server rejects
    /// other values.
    RequestEnumAdded("request-enum-added", Breaking),
    /// A response value became an enum: the Rust type becomes an enum.
    ResponseEnumAdded("response-enum-added", Breaking),
    /// A request value is no longer an enum: the Rust enum becomes a plain value type.
    RequestEnumRemoved("request-enum-removed", Breaking),
    /// A response value is no longer an enum: the Rust enum becomes a plain value type.
    ResponseEnumRemoved("response-enum-removed", Breaking),

    // Numeric bounds of parameters.
    /// A parameter's `maximum` was lowered or added: the server rejects values the client
    /// could send before.
    RequestParameterMaxDecreased("request-parameter-max-decreased", Breaking),
    /// A parameter's `maximum` was raised or removed: the server accepts more values.
    RequestParameterMaxIncreased("request-parameter-max-increased", NonBreaking),
    /// A parameter's `minimum` was raised or added: the server rejects values the client could
    /// send before.
    RequestParameterMinIncreased("request-parameter-min-increased", Breaking),
    /// A parameter's `minimum` was lowered or removed: the server accepts more values.
    RequestParameterMinDecreased("request-parameter-min-decreased", NonBreaking),
    /// An integer parameter's `minimum` changed so that typify picks another Rust integer
    /// (`NonZeroU64`, `u64`, `i64`).
    RequestParameterMinChanged("request-parameter-min-changed", Breaking),

    // Numeric bounds of a request body's own schema.
    /// A request body's `maximum` was lowered or added: the server rejects values the client
    /// could send before.
    RequestBodyMaxDecreased("request-body-max-decreased", Breaking),
    /// A request body's `maximum` was raised or removed: the server accepts more values.
    RequestBodyMaxIncreased("request-body-max-increased", NonBreaking),
    /// A request body's `minimum` was raised or added: the server rejects values the client
    /// could send before.
    RequestBodyMinIncreased("request-body-min-increased", Breaking),
    /// A request body's `minimum` was lowered or removed: the server accepts more values.
    RequestBodyMinDecreased("request-body-min-decreased", NonBreaking),
    /// An integer request body's `minimum` changed so that typify picks another Rust integer.
    RequestBodyMinChanged("request-body-min-changed", Breaking),

    // Numeric bounds of fields and items inside a request body.
    /// A request field's `maximum` was lowered or added: the server rejects values the client
    /// could send before.
    RequestPropertyMaxDecreased("request-property-max-decreased", Breaking),
    /// A request field's `maximum` was raised or removed: the server accepts more values.
    RequestPropertyMaxIncreased("request-property-max-increased", NonBreaking),
    /// A request field's `minimum` was raised or added: the server rejects values the client
    /// could send before.
    RequestPropertyMinIncreased("request-property-min-increased", Breaking),
    /// A request field's `minimum` was lowered or removed: the server accepts more values.
    RequestPropertyMinDecreased("request-property-min-decreased", NonBreaking),
    /// An integer request field's `minimum` changed so that typify picks another Rust integer.
    RequestPropertyMinChanged("request-property-min-changed", Breaking),

    // Numeric bounds of responses.
    /// A response value's `maximum` was lowered or added: the server sends a narrower range,
    /// which the client already accepts.
    ResponsePropertyMaxDecreased("response-property-max-decreased", NonBreaking),
    /// A response value's `maximum` was raised or removed: the client does not check numeric
    /// bounds in responses, so wider values still parse.
    ResponsePropertyMaxIncreased("response-property-max-increased", NonBreaking),
    /// A response value's `minimum` was raised or added: the server sends a narrower range.
    ResponsePropertyMinIncreased("response-property-min-increased", NonBreaking),
    /// A response value's `minimum` was lowered or removed: the client does not check numeric
    /// bounds in responses.
    ResponsePropertyMinDecreased("response-property-min-decreased", NonBreaking),
    /// An integer response value's `minimum` changed so that typify picks another Rust integer.
    ResponsePropertyMinChanged("response-property-min-changed", Breaking),

    // Array bounds.
    /// `maxItems` lowered or added, or `minItems` raised or added: breaking in a request (the
    /// server rejects arrays it accepted), non-breaking in a response.
    ItemsBoundTightened("items-bound-tightened", Breaking | NonBreaking),
    /// `maxItems` raised or removed, or `minItems` lowered or removed: more arrays are valid.
    ItemsBoundLoosened("items-bound-loosened", NonBreaking),

    // String constraints: the generated newtype validates them in both directions.
    /// A request string's `maxLength` was lowered or added: the server and the generated
    /// newtype reject values accepted before.
    RequestMaxLengthDecreased("request-max-length-decreased", Breaking),
    /// A request string's `maxLength` was raised or removed: more values are accepted.
    RequestMaxLengthIncreased("request-max-length-increased", NonBreaking),
    /// A request string's `minLength` was raised or added: the server and the generated
    /// newtype reject values accepted before.
    RequestMinLengthIncreased("request-min-length-increased", Breaking),
    /// A request string's `minLength` was lowered or removed: more values are accepted.
    RequestMinLengthDecreased("request-min-length-decreased", NonBreaking),
    /// A request string's `pattern` was added or changed: the server and the generated newtype
    /// reject values accepted before.
    RequestPatternTightened("request-pattern-tightened", Breaking),
    /// A request string's `pattern` was removed: more values are accepted.
    RequestPatternLoosened("request-pattern-loosened", NonBreaking),
    /// A response string's `maxLength` was lowered or added: the server sends a narrower set of
    /// values, which the client already accepts.
    ResponseMaxLengthDecreased("response-max-length-decreased", NonBreaking),
    /// A response string's `maxLength` was raised or removed: the generated newtype validates
    /// it when parsing, so clients built from the old spec reject values the server may send.
    ResponseMaxLengthIncreased("response-max-length-increased", Breaking),
    /// A response string's `minLength` was raised or added: the server sends a narrower set of
    /// values, which the client already accepts.
    ResponseMinLengthIncreased("response-min-length-increased", NonBreaking),
    /// A response string's `minLength` was lowered or removed: clients built from the old spec
    /// reject values the server may now send.
    ResponseMinLengthDecreased("response-min-length-decreased", Breaking),
    /// A response string's `pattern` was added or changed: the server sends a narrower set of
    /// values, which the client already accepts.
    ResponsePatternTightened("response-pattern-tightened", NonBreaking),
    /// A response string's `pattern` was removed: clients built from the old spec reject values
    /// the server may now send.
    ResponsePatternLoosened("response-pattern-loosened", Breaking),

    // Defaults and documentation.
    /// A request value's default changed: requests that leave it unset get the new default
    /// behaviour from the server.
    RequestDefaultChanged("request-default-changed", NonBreaking),
    /// A response value's default changed: documentation of the value sent.
    ResponseDefaultChanged("response-default-changed", Informational),
    /// A schema value is deprecated, or no longer deprecated: the value keeps working.
    SchemaDeprecated("schema-deprecated", Informational),
    /// A schema value's description changed: its doc comments change.
    DescriptionChanged("description-changed", Informational),
}

impl Rule {
    /// The rule with this id, if there is one.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|rule| rule.as_str() == id)
    }
}

/// Rules order by id, so reports sort the same whatever order the catalogue lists them in.
impl Ord for Rule {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Rule {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The line before the rule table in `docs/reviewing-spec-changes.md`.
pub const TABLE_START: &str = "<!-- rules:start -->";
/// The line after the rule table in `docs/reviewing-spec-changes.md`.
pub const TABLE_END: &str = "<!-- rules:end -->";

/// Every rule as a Markdown table (id, classes, meaning), in catalogue order.
pub fn markdown_table() -> String {
    let mut table = String::from("| Rule | Class | Meaning |\n|---|---|---|\n");
    for rule in Rule::ALL {
        let classes: Vec<&str> = rule.classes().iter().map(|class| class.label()).collect();
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            rule.as_str(),
            classes.join(" or "),
            rule.meaning().replace('|', "\\|")
        ));
    }
    table
}

/// `document` with the text between the [`TABLE_START`] and [`TABLE_END`] lines replaced by
/// [`markdown_table`]; an error when the markers are missing or out of order.
pub fn with_table(document: &str) -> Result<String, String> {
    let start = document
        .find(TABLE_START)
        .ok_or_else(|| format!("no `{TABLE_START}` line"))?;
    let body = start + TABLE_START.len();
    let end = document[body..]
        .find(TABLE_END)
        .map(|offset| body + offset)
        .ok_or_else(|| format!("no `{TABLE_END}` line after `{TABLE_START}`"))?;
    Ok(format!(
        "{}\n{}{}",
        &document[..body],
        markdown_table(),
        &document[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_found_by_id() {
        let mut seen = std::collections::BTreeSet::new();
        for &rule in Rule::ALL {
            let id = rule.as_str();
            assert!(seen.insert(id), "{id} is used twice");
            assert!(
                id.split('-')
                    .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase())),
                "{id} is not kebab-case"
            );
            assert_eq!(Rule::from_id(id), Some(rule));
            assert!(!rule.classes().is_empty(), "{id} has no class");
            assert!(!rule.meaning().is_empty(), "{id} has no meaning");
        }
        assert_eq!(Rule::from_id("bound-changed"), None);
    }

    #[test]
    fn the_table_replaces_only_the_marked_section() {
        let document = format!("before\n{TABLE_START}\nstale\n{TABLE_END}\nafter\n");
        let updated = with_table(&document).expect("markers");
        assert!(updated.starts_with(&format!("before\n{TABLE_START}\n| Rule |")));
        assert!(updated.ends_with(&format!("|\n{TABLE_END}\nafter\n")));
        assert!(!updated.contains("stale"));
        assert_eq!(with_table(&updated).expect("markers"), updated);
        assert!(with_table("no markers").is_err());
    }
}
