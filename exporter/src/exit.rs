//! Exit codes, one per class of failure, so scripts can tell "fix the command" from "try again later" from
//! "resume"; and the one-line rendering of errors (never a `Debug` dump), with the server's text made inert for a
//! terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

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
/// The server's TLS certificate was refused (untrusted, for another name, expired): not retried. Check the base
/// URL, or trust the right CA with `--ca-cert`.
pub const CERTIFICATE: u8 = 9;

/// The exit code for a client error.
pub fn for_client_error(error: &Error) -> u8 {
    match error {
        Error::InvalidRequest { .. } | Error::InvalidConfig { .. } => USAGE,
        Error::RateLimited { .. } => RATE_LIMITED,
        Error::Api(api) if api.status.as_u16() == 429 => RATE_LIMITED,
        Error::Api(api) if api.status.is_server_error() => TRANSPORT,
        Error::Api(_) => API,
        Error::Certificate { .. } => CERTIFICATE,
        Error::Transport { .. } | Error::Timeout { .. } => TRANSPORT,
        Error::Decode { .. } | Error::PaginationLoop { .. } => BAD_RESPONSE,
        Error::Interrupted { .. } => INTERRUPTED,
        _ => OTHER,
    }
}

/// `text` safe to print on a terminal: control characters (escape sequences that could clear the screen or write
/// the clipboard, line breaks that could forge a message) and bidirectional overrides are shown as `\u{..}`
/// escapes. Error messages and cursors come from the server: this is applied to every line the exporter prints.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if is_unsafe(character) {
            let _ = write!(shown, "\\u{{{:x}}}", u32::from(character));
        } else {
            shown.push(character);
        }
    }
    Cow::Owned(shown)
}

/// Control characters, and the format characters that reorder text on screen: the rule for all server text that
/// reaches a terminal (messages here, table cells and terminal CSV/JSON in `output`).
pub(crate) fn is_unsafe(character: char) -> bool {
    character.is_control()
        || matches!(character, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `word` as one shell word to paste into a command line: as it is when that is safe, else single-quoted; a word
/// with control characters is written as a `$'...'` word with `\xHH` escapes (bash, zsh, ksh, POSIX sh since 2024).
pub fn shell_word(word: &str) -> Cow<'_, str> {
    if !word.chars().any(is_unsafe)
        && let Ok(quoted) = shlex::try_quote(word)
    {
        return quoted;
    }
    let mut quoted = String::from("$'");
    for byte in word.bytes() {
        match byte {
            b'\'' => quoted.push_str("\\'"),
            b'\\' => quoted.push_str("\\\\"),
            0x20..=0x7e => quoted.push(char::from(byte)),
            _ => {
                let _ = write!(quoted, "\\x{byte:02x}");
            }
        }
    }
    quoted.push('\'');
    Cow::Owned(quoted)
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
