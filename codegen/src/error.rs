//! The one error type of the generator: each variant names the file and the place that is wrong.

/// Why a spec or overlay could not be turned into Rust source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid YAML or JSON.
    #[error("{file}:{line}:{column}: invalid {syntax}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// `YAML` or `JSON`.
        syntax: &'static str,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A YAML construct that has no JSON equivalent (a tag, a non-scalar key, ...).
    #[error("{file}: {pointer}: {message}")]
    NotJson {
        /// The file.
        file: String,
        /// JSON pointer to the value.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// Two keys of one mapping that are the same once read as JSON object keys (`200:` and
    /// `'200':` in YAML, or a JSON key given twice): one would silently replace the other.
    #[error(
        "{file}:{line}:{column}: {pointer}: key {key:?} is given twice in one mapping (first at \
         line {first_line} column {first_column}); as JSON keys they are the same, so one would \
         silently replace the other (in YAML, 200 and '200' are the same key)"
    )]
    DuplicateKey {
        /// The file.
        file: String,
        /// 1-based line of the second key, 0 when unknown.
        line: usize,
        /// 1-based column of the second key, 0 when unknown.
        column: usize,
        /// 1-based line of the first key, 0 when unknown.
        first_line: usize,
        /// 1-based column of the first key, 0 when unknown.
        first_column: usize,
        /// JSON pointer of the key.
        pointer: String,
        /// The key as a JSON string.
        key: String,
    },
    /// The second reading that finds keys given twice stopped before the end of the text: a key
    /// repeated after that place would go unseen, so the document is refused.
    #[error(
        "{file}:{line}:{column}: {pointer}: the keys of the document cannot be checked for \
         duplicates: {message}"
    )]
    KeyCheck {
        /// The file.
        file: String,
        /// 1-based line where the reading stopped, 0 when unknown.
        line: usize,
        /// 1-based column where the reading stopped, 0 when unknown.
        column: usize,
        /// JSON pointer of the value it was in.
        pointer: String,
        /// What stopped it.
        message: String,
    },
    /// The document does not say it is OpenAPI, or says a version other than 3.0.x.
    #[error("{file}: /openapi: {message}")]
    UnsupportedVersion {
        /// The file.
        file: String,
        /// e.g. "OpenAPI 3.1 is not supported (found 3.1.0); this generator reads OpenAPI 3.0.x".
        message: String,
    },
    /// A `$ref` whose target does not exist in the document.
    #[error("{file}: {pointer}: $ref `{target}` points at nothing in the document")]
    DanglingRef {
        /// The file.
        file: String,
        /// JSON pointer to the `$ref`.
        pointer: String,
        /// The `$ref` value.
        target: String,
    },
    /// A `$ref` to another file or URL.
    #[error(
        "{file}: {pointer}: $ref `{target}` is not local; only `#/...` references are supported"
    )]
    ExternalRef {
        /// The file.
        file: String,
        /// JSON pointer to the `$ref`.
        pointer: String,
        /// The `$ref` value.
        target: String,
    },
    /// Schemas that are only references to each other, in a circle, so they never define a type.
    #[error("{file}: {pointer}: $ref cycle with no schema in it: {cycle}")]
    RefCycle {
        /// The file.
        file: String,
        /// JSON pointer to the first schema of the cycle.
        pointer: String,
        /// The references, in order, e.g. `#/components/schemas/A -> #/components/schemas/B -> ...`.
        cycle: String,
    },
    /// A schema that contains itself through `allOf`, `anyOf`, `oneOf`, `not` or aliases alone,
    /// with no property or array item in between: typify would recurse without end (a stack
    /// overflow, which no `catch_unwind` can turn into an error).
    #[error(
        "{file}: {pointer}: schema contains itself through allOf/anyOf/oneOf/not with no property or \
         array item in between: {cycle}; the generator cannot lay out such a type"
    )]
    CompositionCycle {
        /// The file.
        file: String,
        /// JSON pointer to the first schema of the cycle.
        pointer: String,
        /// The references, in order, from that schema back to itself.
        cycle: String,
    },
    /// An `allOf` inside a component schema that merges that same component (directly or
    /// through the `allOf` of what it merges): typify may merge it into itself without end.
    #[error(
        "{file}: {pointer}: allOf merges {component}, which contains this allOf; the generator \
         would merge it into itself without end (refer to it with a plain $ref, or move the \
         extra constraints into {component})"
    )]
    SelfMerge {
        /// The file.
        file: String,
        /// JSON pointer to the schema with the `allOf`.
        pointer: String,
        /// The schema merged into itself, e.g. `#/components/schemas/Node`.
        component: String,
    },
    /// An `allOf` whose members meet at one place (`items`, a property, ...) where a schema refers
    /// back to the component holding the `allOf`: typify merges the schemas there, resolves the
    /// reference, and merges the component into itself without end.
    #[error(
        "{file}: {pointer}: allOf merges several schemas at `{place}`, and one of them refers back \
         to {component}, which contains this allOf; the generator would merge it into itself \
         without end (keep `{place}` in one member only)"
    )]
    MergedRecursion {
        /// The file.
        file: String,
        /// JSON pointer to the schema with the `allOf`.
        pointer: String,
        /// Where the members meet, e.g. `items` or `properties/parent`.
        place: String,
        /// The component merged into itself, e.g. `#/components/schemas/Node`.
        component: String,
    },
    /// The document does not match the OpenAPI 3.0 schema.
    #[error("{file}: {pointer}: {message}")]
    InvalidDocument {
        /// The file.
        file: String,
        /// JSON pointer to the offending value.
        pointer: String,
        /// What the reader expected.
        message: String,
    },
    /// An operation the generator cannot express (no operationId, two success schemas, ...).
    #[error("{file}: {pointer}: operation `{operation}`: {message}")]
    UnsupportedOperation {
        /// The file.
        file: String,
        /// JSON pointer to the operation.
        pointer: String,
        /// Its operationId, or `METHOD /path` when it has none.
        operation: String,
        /// What is unsupported.
        message: String,
    },
    /// The overlay is malformed or one of its actions cannot be applied.
    #[error("{file}: {location}: {message}")]
    Overlay {
        /// The overlay file.
        file: String,
        /// e.g. `/actions/3 (target $.components.schemas.Foo)`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The spec's hash differs from the one recorded beside it.
    #[error(
        "{file}: sha256 is {actual}, but {record} records {expected}; if the spec was replaced on \
         purpose, record its new origin and sha256 in {record}"
    )]
    PinMismatch {
        /// The spec file.
        file: String,
        /// The file that records the pin.
        record: String,
        /// The recorded hash.
        expected: String,
        /// The hash of the file as it is.
        actual: String,
    },
    /// Operations the caller asked for that the document does not have (`cargo xtask spec-sync`
    /// keeps the operations `spec/upstream.toml` lists, by operationId).
    #[error(
        "{file}: no operation has operationId {}; if upstream renamed or removed it, change the \
         list of tracked operations",
        .operations.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
    )]
    MissingOperations {
        /// The upstream document.
        file: String,
        /// The operationIds not found, in the order they were asked for.
        operations: Vec<String>,
    },
    /// Components other than schemas that refer to each other in a circle (a response whose
    /// header refers back to the response, a callback that contains itself, ...); only schemas
    /// may be recursive.
    #[error(
        "{file}: {pointer}: reference cycle through components that are not schemas: {cycle}; \
         only schemas may refer to themselves"
    )]
    ComponentCycle {
        /// The file.
        file: String,
        /// JSON pointer to the `$ref` that starts the cycle.
        pointer: String,
        /// The components, in order, e.g. `#/components/responses/A -> #/components/headers/B ->
        /// #/components/responses/A`.
        cycle: String,
    },
    /// More than one problem: every one of them, sorted by location, each with an overlay action
    /// that fixes it (one problem alone is reported as its own error).
    #[error("{}", crate::problems::render(file, problems))]
    Problems {
        /// The spec file.
        file: String,
        /// The problems, sorted by JSON pointer.
        problems: Vec<crate::problems::Problem>,
    },
    /// progenitor returned an error.
    #[error("{file}: progenitor cannot generate a client: {message}")]
    Generator {
        /// The spec file.
        file: String,
        /// progenitor's message.
        message: String,
    },
    /// The generated tokens are not valid Rust (a generator bug, or an unusable replacement path).
    #[error("generated code for {file} does not parse as Rust: {message}")]
    InvalidOutput {
        /// The spec file.
        file: String,
        /// syn's message.
        message: String,
    },
    /// A setting is unusable (e.g. a replacement that is not a Rust path).
    #[error("invalid generator setting: {message}")]
    Settings {
        /// What is wrong.
        message: String,
    },
}
