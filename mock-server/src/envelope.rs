//! Cloudflare's response envelopes: the success page (`result` + `result_info`) assembled from pre-serialised
//! entries, and the failure envelope used for every error the mock returns.

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::json;

/// Error codes the mock puts in `errors[].code`.
///
/// Cloudflare documents 10000 (authentication), 971 (rate limit) and 7003 (no route); 10100 is the code of the
/// emulated API rate limit ([`crate::MockRateLimit`]); the others are the mock's own choice (the spec only says codes
/// are >= 1000), fixed so that tests can assert them.
pub mod codes {
    /// Missing or wrong credentials (HTTP 401).
    pub const AUTHENTICATION_ERROR: u32 = 10000;
    /// A query parameter failed validation, including a malformed cursor (HTTP 400).
    pub const INVALID_PARAMETER: u32 = 10001;
    /// The insight does not exist (HTTP 404).
    pub const NOT_FOUND: u32 = 10004;
    /// An injected server-side failure (HTTP 5XX).
    pub const SERVER_ERROR: u32 = 10013;
    /// An injected rate limit (HTTP 429).
    pub const RATE_LIMITED: u32 = 971;
    /// The emulated rate limit's quota is spent: the request over budget and the lock-out after it (HTTP 429).
    pub const RATE_LIMIT_EXCEEDED: u32 = 10100;
    /// No such route, or an account/zone id the mock does not serve (HTTP 404).
    pub const NO_ROUTE: u32 = 7003;
    /// A method other than GET on a known route (HTTP 405).
    pub const METHOD_NOT_ALLOWED: u32 = 7001;
}

/// An error answered with the failure envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: u32,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A 400 for a parameter that failed validation.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(400, codes::INVALID_PARAMETER, message)
    }

    pub(crate) fn body(&self) -> Bytes {
        failure_body(self.code, &self.message)
    }
}

/// `{"success":false,"errors":[{"code":..,"message":..}],"messages":[],"result":null}`.
pub(crate) fn failure_body(code: u32, message: &str) -> Bytes {
    let value = json!({
        "success": false,
        "errors": [{ "code": code, "message": message }],
        "messages": [],
        "result": null,
    });
    Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
}

const PAGE_HEAD: &[u8] = br#"{"success":true,"errors":[],"messages":[],"result":["#;

/// Assembles a success page from already-serialised entry objects.
///
/// `cursor`: `None` leaves `result_info.cursor` out (the last page); `Some("")` writes an empty string.
pub(crate) fn page_body<'a>(
    entries: impl Iterator<Item = &'a [u8]> + Clone,
    per_page: u32,
    cursor: Option<&str>,
) -> Bytes {
    let payload: usize = entries.clone().map(|entry| entry.len() + 1).sum();
    let mut out = BytesMut::with_capacity(PAGE_HEAD.len() + payload + 128);
    out.put_slice(PAGE_HEAD);
    let mut count = 0usize;
    for entry in entries {
        if count > 0 {
            out.put_u8(b',');
        }
        out.put_slice(entry);
        count += 1;
    }
    out.put_slice(br#"],"result_info":{"count":"#);
    out.put_slice(count.to_string().as_bytes());
    out.put_slice(br#","per_page":"#);
    out.put_slice(per_page.to_string().as_bytes());
    if let Some(c) = cursor {
        out.put_slice(br#","cursor":"#);
        out.put_slice(serde_json::to_string(c).unwrap_or_default().as_bytes());
    }
    out.put_slice(b"}}");
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The assembled page is valid JSON in the spec's shape, with the cursor absent on a last page.
    #[test]
    fn page_body_is_the_spec_envelope() {
        let a: &[u8] = br#"{"id":"a"}"#;
        let b: &[u8] = br#"{"id":"b"}"#;
        let value: serde_json::Value =
            serde_json::from_slice(&page_body([a, b].into_iter(), 2, Some("c+/="))).unwrap();
        assert_eq!(
            value,
            json!({"success":true,"errors":[],"messages":[],"result":[{"id":"a"},{"id":"b"}],
                   "result_info":{"count":2,"per_page":2,"cursor":"c+/="}})
        );
        let value: serde_json::Value =
            serde_json::from_slice(&page_body([].into_iter(), 5, None)).unwrap();
        assert_eq!(value["result_info"], json!({"count":0,"per_page":5}));
    }
}
