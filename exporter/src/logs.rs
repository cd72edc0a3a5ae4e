//! What the exporter says on stderr, in one of two forms (`--log-format`): `text`, one line per message prefixed
//! with the program's name (what a person reads), or `json`, one JSON object per line (what a log pipeline reads),
//! written by `tracing-subscriber`'s JSON formatter with the message's fields (`scope`, `wait_s`, `pages`, ...)
//! beside it. Either way, text that came from the server is made inert first ([`exit::printable`]); no message
//! carries a credential, and the client's events name no header.

use std::cell::RefCell;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use tracing::Level;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::exit;
use crate::metrics::{ClientEvents, Metrics};
use crate::walk::Notice;

/// The target of the exporter's own events.
const TARGET: &str = "insight_audit_log";

/// `--log-format` values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people: `insight-audit-log: <message>`.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `message`, `target`, and the message's fields.
    Json,
}

/// Installs the process's `tracing` subscriber: the JSON formatter on stderr (the exporter's events and the
/// client's, `info` and up) with `--log-format json`, and the layer that counts the client's requests into
/// `metrics` when there are metrics. Nothing is installed when neither is wanted, so text runs cost nothing.
pub fn install(format: LogFormat, metrics: Option<Arc<Metrics>>) {
    let counting =
        metrics.map(|metrics| ClientEvents::new(metrics).with_filter(ClientEvents::filter()));
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(
                Targets::new()
                    .with_target(TARGET, Level::INFO)
                    .with_target("cloudflare_security_center", Level::INFO),
            )
    });
    if counting.is_none() && json.is_none() {
        return;
    }
    let subscriber = tracing_subscriber::registry().with(counting).with(json);
    // Already set (a program embedding the exporter installed its own): that one is kept.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The stderr of a run: lines in the text form, `tracing` events in the JSON form.
pub(crate) struct Messages<E: Write> {
    out: RefCell<E>,
    format: LogFormat,
}

/// How serious a message is, read from how its text starts (`error: `, `warning: `).
fn level_of(line: &str) -> (Level, &str) {
    if let Some(rest) = line.strip_prefix("error: ") {
        (Level::ERROR, rest)
    } else if let Some(rest) = line.strip_prefix("warning: ") {
        (Level::WARN, rest)
    } else {
        (Level::INFO, line)
    }
}

impl<E: Write> Messages<E> {
    pub(crate) fn new(out: E, format: LogFormat) -> Self {
        Self {
            out: RefCell::new(out),
            format,
        }
    }

    /// Whether messages are JSON events (and a progress line would only be in the way).
    pub(crate) fn json(&self) -> bool {
        self.format == LogFormat::Json
    }

    /// One message about the run as a whole.
    pub(crate) fn say(&self, line: &str) {
        self.say_about(None, line, None);
    }

    /// One message, about `scope` when given (in text, the caller puts the scope in the line when it is needed;
    /// in JSON it is a field), with the wait it announces.
    pub(crate) fn say_about(&self, scope: Option<&str>, line: &str, wait: Option<Duration>) {
        match self.format {
            LogFormat::Text => {
                let _ = writeln!(
                    self.out.borrow_mut(),
                    "insight-audit-log: {}",
                    exit::printable(line)
                );
            }
            LogFormat::Json => {
                let (level, text) = level_of(line);
                let text = exit::printable(text);
                let wait_s = wait.map(|wait| wait.as_secs_f64());
                if level == Level::ERROR {
                    tracing::error!(target: TARGET, scope, wait_s, "{text}");
                } else if level == Level::WARN {
                    tracing::warn!(target: TARGET, scope, wait_s, "{text}");
                } else {
                    tracing::info!(target: TARGET, scope, wait_s, "{text}");
                }
            }
        }
    }

    /// What the walk of `scope` told: in text, prefixed with the scope when the run has `several`.
    pub(crate) fn tell(&self, scope: &str, several: bool, told: Notice<'_>) {
        let line = told.to_string();
        let wait = match told {
            Notice::Wait { wait, .. } => Some(wait),
            Notice::Line(_) => None,
        };
        if several && !self.json() {
            self.say_about(Some(scope), &format!("{scope}: {line}"), wait);
        } else {
            self.say_about(Some(scope), &line, wait);
        }
    }

    /// The end of one poll of `scope` (JSON only: the text form has the progress line for that).
    pub(crate) fn poll_ended(&self, scope: &str, pages: u64, entries: u64, completed: bool) {
        if self.format == LogFormat::Json {
            let outcome = if completed { "completed" } else { "failed" };
            tracing::info!(target: TARGET, scope, pages, entries, outcome, "poll ended");
        }
    }

    /// Where the metrics and health endpoints listen.
    pub(crate) fn listening(&self, address: std::net::SocketAddr) {
        let line = format!("serving /metrics, /healthz and /readyz on http://{address}");
        match self.format {
            LogFormat::Text => self.say(&line),
            LogFormat::Json => tracing::info!(target: TARGET, address = %address, "{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text form is today's: the program's name, then the line with control characters escaped.
    #[test]
    fn text_lines_are_prefixed_and_inert() {
        let mut out = Vec::new();
        {
            let messages = Messages::new(&mut out, LogFormat::Text);
            messages.say_about(
                Some("account:a"),
                "error: bad\u{1b}[2J",
                Some(Duration::from_secs(1)),
            );
            messages.poll_ended("account:a", 1, 2, true);
        }
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "insight-audit-log: error: bad\\u{1b}[2J\n"
        );
    }

    #[test]
    fn levels_come_from_the_prefix() {
        assert_eq!(level_of("error: x"), (Level::ERROR, "x"));
        assert_eq!(level_of("warning: y"), (Level::WARN, "y"));
        assert_eq!(
            level_of("wrote 3 entries"),
            (Level::INFO, "wrote 3 entries")
        );
    }
}
