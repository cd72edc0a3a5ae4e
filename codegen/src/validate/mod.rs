//! Checks made before progenitor runs, so that inputs it would panic on, or reject with an
//! unlocated message, fail with an error that names the file and the JSON pointer instead.
//!
//! One family of checks a file: the version (`version`, alone and first: [`check_version`]),
//! then the checks that read the document as a JSON value (`references`, `compositions`,
//! `merges`, `defaults`, on the schema walks of `graph`: [`document_findings`]), and those that
//! read it as OpenAPI (`operations`: [`operation_findings`]). Every check returns all its
//! findings, so one run reports every problem.

use openapiv3::OpenAPI;
use serde_json::Value;

use crate::Error;
use crate::json_pointer;
use crate::problems::Finding;

mod compositions;
mod defaults;
mod graph;
mod merges;
mod operations;
mod references;
mod version;

pub use compositions::{
    composition_cycle_findings, empty_composition_findings, self_merge_findings,
};
pub use defaults::default_findings;
pub use merges::merged_recursion_findings;
pub use operations::operation_findings;
pub use references::ref_findings;
pub use version::check_version;

/// The findings of the checks that read the document as a JSON value: [`ref_findings`],
/// [`composition_cycle_findings`], [`self_merge_findings`],
/// [`empty_composition_findings`] and [`default_findings`]. A cycle of pure aliases is reported
/// once, as a `$ref` cycle.
pub fn document_findings(file: &str, document: &Value) -> Vec<Finding> {
    let mut findings = ref_findings(file, document);
    findings.extend(composition_cycle_findings(file, document));
    findings.extend(self_merge_findings(file, document));
    findings.extend(merged_recursion_findings(file, document));
    findings.extend(empty_composition_findings(file, document));
    findings.extend(default_findings(file, document));
    findings
}

/// Reads the value as an OpenAPI 3.0 document; on failure, says where.
pub fn to_openapi(file: &str, document: Value) -> Result<OpenAPI, Error> {
    serde_path_to_error::deserialize(document).map_err(|error| Error::InvalidDocument {
        file: file.to_owned(),
        pointer: json_pointer::of_path(error.path()),
        message: error.inner().to_string(),
    })
}
