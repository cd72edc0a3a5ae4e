//! The command line, declared once with clap so that flag names, help text and usage errors (exit code 2) all
//! come from one place; scripts rely on these exact flag names.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Parser, ValueEnum};
use cloudflare_security_center::{MAX_PER_PAGE, Order};

use crate::logs::LogFormat;
use crate::output::Format;

/// Export the audit log of Cloudflare Security Center insights (one insight's, or a whole account's or zone's).
///
/// Credentials come from CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY with CLOUDFLARE_EMAIL), or from
/// --api-token-file; never from the command line. On an error or Ctrl-C, the entries already written stay valid
/// and the cursor to resume from is printed on stderr. For a SIEM, --state FILE makes each run export what is new
/// since the last one, and --follow keeps polling.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "insight-audit-log",
    version,
    group(ArgGroup::new("scopes").required(true).multiple(true).args(["account", "zone", "scopes_file"]))
)]
pub struct Cli {
    /// Print the manual page or a shell's completions on stdout, and exit (given alone).
    #[arg(long, value_enum, value_name = "KIND", exclusive = true)]
    pub generate: Option<crate::generate::Kind>,
    /// Account id (repeatable; together with --zone and --scopes-file, the scopes of this run).
    #[arg(long, value_name = "ID")]
    pub account: Vec<String>,
    /// Zone id (repeatable).
    #[arg(long, value_name = "ID")]
    pub zone: Vec<String>,
    /// A file of scopes, one `account:ID` or `zone:ID` per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub scopes_file: Option<PathBuf>,
    /// Scopes walked at once (all share one client and its rate-limit pacing).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Insight id (needs exactly one scope); without it, the whole account's or zone's audit log.
    #[arg(long, value_name = "ID")]
    pub issue: Option<String>,
    /// Incremental runs: export only what is new since the run that last wrote this state file (created if
    /// missing), oldest first, and record where this run got to.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// With --state or --follow: re-read this far before the newest entry exported, so entries that appear late
    /// are still exported (once).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub overlap: Duration,
    /// After the end of the log, keep polling for new entries until Ctrl-C or SIGTERM.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: the time between polls.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Only entries changed at or after this instant (RFC 3339, e.g. 2024-01-31T00:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Only entries changed before this instant (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub before: Option<DateTime<Utc>>,
    /// Only changes of this field (status, user_classification, ...).
    #[arg(long, value_name = "FIELD")]
    pub field_changed: Option<String>,
    /// Only changes made by this actor (`system` or a user).
    #[arg(long, value_name = "ACTOR")]
    pub changed_by: Option<String>,
    /// Sort order by time (the API's default is desc, newest first).
    #[arg(long, value_enum, value_name = "ORDER")]
    pub order: Option<OrderArg>,
    /// Entries per request, 1 to 1000 (default 1000: the fewest requests).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PER_PAGE)))]
    pub per_page: Option<u32>,
    /// Stop after this many entries (at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_items: Option<u64>,
    /// Resume from this cursor (printed by an interrupted run).
    #[arg(long, value_name = "C", value_parser = parse_cursor)]
    pub cursor: Option<String>,
    /// Output format [default: table when stdout is a terminal, ndjson otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// CSV cells exactly as received, even those a spreadsheet would run as a formula (starting with =, +, -, @, a
    /// tab or a carriage return); by default such cells get a leading `'`.
    #[arg(long)]
    pub csv_raw: bool,
    /// With --format ndjson: each entry also carries its insight (type, class, severity, subject, status), read from
    /// the insight lists once per scope, and an `enrichment` field (found, missing, failed). `ecs` and `ocsf` always
    /// carry it.
    #[arg(long)]
    pub enrich: bool,
    /// Write to this file (atomically: a temporary file in the same folder, renamed into place) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// API base URL [default: $CLOUDFLARE_BASE_URL, else `https://api.cloudflare.com/client/v4`].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Also trust the CA certificates in this PEM file (e.g. a TLS-inspecting proxy's), beside the system's roots.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Read the API token from this file (first line, surrounding white space ignored) instead of the environment.
    #[arg(long, value_name = "PATH")]
    pub api_token_file: Option<PathBuf>,
    /// Wait out a rate limit (HTTP 429) that asks for at most this long, then go on where the walk stopped
    /// (e.g. 90s, 5m, 1h; 0 never waits). The default covers Cloudflare's five-minute lock-out.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub max_wait: Duration,
    /// How long one request may take, reading the whole page included; a request that takes longer is retried.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Retries of each request after a transient failure (a dropped connection, a timeout, a 5XX), with backoff
    /// from 0.5 s to 8 s.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub retries: u32,
    /// Serve Prometheus metrics on /metrics, and /healthz and /readyz, at this address (e.g. 127.0.0.1:9464; port
    /// 0 picks a free one, said on stderr). Nothing listens without it.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// How stderr is written: text lines for people, or one JSON object per line for a log pipeline.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `--order` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

impl From<OrderArg> for Order {
    fn from(order: OrderArg) -> Self {
        match order {
            OrderArg::Asc => Order::Asc,
            OrderArg::Desc => Order::Desc,
        }
    }
}

impl Cli {
    /// Whether the run is incremental (`--state` or `--follow`): new entries only, oldest first, from each scope's
    /// mark.
    pub fn incremental(&self) -> bool {
        self.state.is_some() || self.follow
    }

    /// Whether the run reads the insight lists to enrich entries: `--format ecs` or `ocsf`, or `--enrich`.
    pub fn enriches(&self) -> bool {
        self.enrich || self.format.is_some_and(Format::enriched)
    }

    /// Parses a full command line (program name first); `Err` carries clap's message and exit code (2 for usage
    /// errors, 0 for `--help` and `--version`).
    pub fn try_parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let cli = match Cli::try_parse_from(&args) {
            Ok(cli) => cli,
            // `--generate` goes alone: without the scopes the group requires.
            Err(error) => return crate::generate::parse_alone(&args).ok_or(error),
        };
        cli.check()?;
        Ok(cli)
    }

    /// Checks what clap's declarations cannot: an ordered `--since`/`--before` pair, and flags that do not go
    /// together.
    fn check(&self) -> Result<(), clap::Error> {
        let conflict = |message: String| {
            let mut command = <Cli as clap::CommandFactory>::command();
            Err(command.error(clap::error::ErrorKind::ArgumentConflict, message))
        };
        if let (Some(since), Some(before)) = (self.since, self.before)
            && since >= before
        {
            return conflict(format!(
                "--since ({since}) must be earlier than --before ({before}); nothing could match"
            ));
        }
        let incremental = self.state.is_some() || self.follow;
        let flag = if self.state.is_some() {
            "--state"
        } else {
            "--follow"
        };
        if incremental && self.order == Some(OrderArg::Desc) {
            return conflict(format!(
                "{flag} reads oldest first (new entries come at the end); --order desc cannot be used with it"
            ));
        }
        if incremental && self.cursor.is_some() {
            return conflict(format!(
                "{flag} decides where each scope starts; --cursor cannot be used with it"
            ));
        }
        if incremental && self.max_items.is_some() {
            return conflict(format!("--max-items cannot be used with {flag}"));
        }
        if incremental && self.format == Some(Format::Json) {
            return conflict(format!(
                "{flag} appends entries as they come; use --format ndjson, csv, ecs or ocsf (a JSON array cannot be \
                 appended to)"
            ));
        }
        if self.enrich && !matches!(self.format, Some(Format::Ndjson) | None) {
            return conflict(
                "--enrich adds the insight to NDJSON records; ecs and ocsf carry it always, the other formats never"
                    .to_owned(),
            );
        }
        let flagged = self.account.len() + self.zone.len();
        if self.scopes_file.is_none() && flagged > 1 {
            if self.issue.is_some() {
                return conflict(
                    "--issue needs exactly one scope (one --account or --zone)".to_owned(),
                );
            }
            if self.cursor.is_some() {
                return conflict(
                    "--cursor belongs to the walk of one scope; give one --account or --zone"
                        .to_owned(),
                );
            }
        }
        Ok(())
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| {
            format!("not an RFC 3339 date-time such as 2024-01-31T00:00:00Z ({error})")
        })
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|error| format!("not a duration such as 90s, 5m or 1h30m ({error})"))
}

fn parse_cursor(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("is empty".to_owned())
    } else {
        Ok(text.to_owned())
    }
}
