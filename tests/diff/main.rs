//! Tests of `cargo xtask diff`: one small fixture pair per change kind with the classification
//! the generated client's behaviour calls for, the realistic multi-change pair with snapshots of
//! both output formats, the `--fail-on breaking` exit code, clear errors on bad inputs, and the
//! documented rule table checked against the rule enum.
//!
//! The tests call the library (`xtask::diff`) that the command runs.

mod errors;
mod markdown;
mod realistic;
mod rule_table;
mod rules;
mod support;
