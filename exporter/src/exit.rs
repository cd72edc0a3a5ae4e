//! Exit codes, one per class of failure, so scripts can tell "fix the command" from "try again later" from
//! "resume"; and the one-line rendering of errors (never a `Debug` dump).

use cloudflare_security_center::Error;

/// Everything was exported.
pub const OK: u8 = 0;
/// A failure that fits no other class (e.g. the async runtime could not start).
pub const OTHER: u8 = 1;
/// The command line or the configuration is wrong: a bad flag or value, missing or conflicting credentials, an
/// unreadable token file, a refused base URL, an invalid id. Nothing was requested.
pub const USAGE: u8 = 2;
/// The API refused the request: bad credentials (401/403), an unknown account, zone or insight (404), a
/// parameter it rejects (400), or `success: false`.
pub const API: u8 = 3;
/// The API kept answering 429 (rate limited) beyond what the retries absorb.
pub const RATE_LIMITED: u8 = 4;
/// The connection failed or timed out, or the server kept failing (5XX), after retries.
pub const TRANSPORT: u8 = 5;
/// Interrupted: Ctrl-C (SIGINT), or the walk was stopped before its end.
pub const INTERRUPTED: u8 = 6;
/// The API answered something unusable: an undecodable body, or a cursor that loops.
pub const BAD_RESPONSE: u8 = 7;
/// The output could not be written (file, folder or stdout).
pub const OUTPUT: u8 = 8;

/// The exit code for a client error.
pub fn for_client_error(error: &Error) -> u8 {
    match error {
        Error::InvalidRequest { .. } | Error::InvalidConfig { .. } => USAGE,
        Error::RateLimited { .. } => RATE_LIMITED,
        Error::Api(api) if api.status.as_u16() == 429 => RATE_LIMITED,
        Error::Api(api) if api.status.is_server_error() => TRANSPORT,
        Error::Api(_) => API,
        Error::Transport { .. } | Error::Timeout { .. } => TRANSPORT,
        Error::Decode { .. } | Error::PaginationLoop { .. } => BAD_RESPONSE,
        Error::Interrupted { .. } => INTERRUPTED,
        _ => OTHER,
    }
}

/// An error and its causes on one line: `message: cause: cause`, skipping causes the message already quotes, with
/// line breaks flattened.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}
