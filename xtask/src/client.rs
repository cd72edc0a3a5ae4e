//! The workspace's client as the generator sees it: the settings it is generated with and the
//! command its header names. `regenerate` (the command) and `generation` (the run, in process or
//! in a child) both read them, and `diff` reads which schemas are hand-written; so they live in a
//! module of their own, below all three.

/// The command that regenerates the client; named in the generated header and in error hints.
pub const COMMAND: &str = "cargo xtask regenerate";

/// The generator settings of this workspace's client.
pub fn settings() -> codegen::Settings {
    codegen::Settings {
        command: COMMAND.to_owned(),
        // Response enums keep values the server adds later, so they come from hand-written code.
        replacements: [
            (
                "security-center_auditLogFieldChanged",
                "crate::FieldChanged",
            ),
            ("security-center_issueType", "crate::IssueType"),
            ("security-center_insightSeverity", "crate::Severity"),
            ("security-center_insightStatus", "crate::InsightStatus"),
            (
                "security-center_userClassification",
                "crate::UserClassification",
            ),
        ]
        .into_iter()
        .map(|(schema, rust_type)| codegen::Replacement {
            schema: schema.to_owned(),
            rust_type: rust_type.to_owned(),
            impls: vec![
                codegen::generate::ReplacementImpl::FromStr,
                codegen::generate::ReplacementImpl::Display,
            ],
        })
        .collect(),
        // Auth, retries and error capture run in the generated client's hooks.
        inner_type: Some("crate::settings::ClientSettings".to_owned()),
        // Timestamps decode with chrono's RFC 3339 parser, not its slower relaxed one.
        date_time_decoder: Some("crate::rfc3339".to_owned()),
        // The hooks are the client's (generated-client/src/hooks.rs): without them it must not
        // compile, rather than send requests without auth, retries or error capture.
        hooks: codegen::generate::Hooks::Expected,
    }
}
