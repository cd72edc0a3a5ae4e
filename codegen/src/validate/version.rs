//! The document's version: OpenAPI 3.0.x only, with a clear message for 3.1 and Swagger 2.0.
//! Checked before the overlay applies, and alone: the other checks read an OpenAPI 3.0 document.

use serde_json::Value;

use crate::Error;

/// Accepts OpenAPI 3.0.x only, with a clear message for 3.1 and Swagger 2.0.
pub fn check_version(file: &str, document: &Value) -> Result<(), Error> {
    let unsupported = |message: String| Error::UnsupportedVersion {
        file: file.to_owned(),
        message,
    };
    if let Some(swagger) = document.get("swagger") {
        return Err(unsupported(format!(
            "Swagger (OpenAPI 2.0) is not supported (found swagger: {swagger}); this generator \
             reads OpenAPI 3.0.x"
        )));
    }
    match document.get("openapi") {
        Some(Value::String(version)) if version.starts_with("3.0.") || version == "3.0" => Ok(()),
        Some(Value::String(version)) => {
            let minor = version.split('.').take(2).collect::<Vec<_>>().join(".");
            Err(unsupported(format!(
                "OpenAPI {minor} is not supported (found {version}); this generator reads \
                 OpenAPI 3.0.x"
            )))
        }
        Some(other) => Err(unsupported(format!(
            "expected a version string such as \"3.0.3\", found {other}"
        ))),
        None => Err(unsupported(
            "missing: this is not an OpenAPI document (no `openapi` version field)".to_owned(),
        )),
    }
}
