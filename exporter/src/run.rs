//! One export from parsed flags to exit code: build the client, open the destination, walk the pages, write
//! each page whole, and on any stop report the cursor of the last page written so the run can be resumed.
//!
//! The walk goes page by page (not entry by entry) because resume cursors are page-granular: the cursor printed
//! after a failure is always the `next_cursor` of a page whose every entry reached the output.

use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cloudflare_security_center::{
    AuditLogRequest, Client, ClientBuilder, Credentials, ENV_API_KEY, ENV_API_TOKEN, ENV_BASE_URL,
    ENV_EMAIL, Error, RetryPolicy,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tempfile::NamedTempFile;

use crate::args::Cli;
use crate::exit;
use crate::output::{CsvCells, EntryWriter, Format};

/// Which of the standard streams are terminals (they decide the default format and whether progress is shown).
#[derive(Clone, Copy, Debug, Default)]
pub struct Terminals {
    /// stdout is a terminal: the default format is `table`.
    pub stdout: bool,
    /// stderr is a terminal: a progress line is drawn there.
    pub stderr: bool,
}

/// Why a walk ended.
#[derive(Debug)]
pub enum Stop {
    /// The log was read to its end, or to `--max-items`.
    Done,
    /// The interrupt future completed (Ctrl-C).
    Interrupted,
    /// The client failed (after its retries).
    Client(Error),
    /// Writing the output failed.
    Output(io::Error),
}

/// What a walk did.
#[derive(Debug)]
pub struct Outcome {
    /// Why it ended.
    pub stop: Stop,
    /// Pages fully written.
    pub pages: u64,
    /// Entries written.
    pub entries: u64,
    /// The cursor to resume from: the starting cursor until a page is written, then the last written page's
    /// `next_cursor` (`None` at the end of the log, or when no page was written and the walk started at the top).
    pub resume: Option<String>,
}

/// How long a walk waits for the API's rate limit before it gives up.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    /// The longest `Retry-After` (or lock-out) that is waited out.
    pub max_wait: Duration,
    /// How many rate-limit waits in a row, without a page written between them, are accepted.
    pub max_waits: u32,
}

/// Walks `request` page by page into `writer`, stopping after `max_items` entries, on the first error, or when
/// `interrupt` completes; `start` is the cursor the request starts from (for [`Outcome::resume`]).
///
/// A rate limit that asks for at most `patience.max_wait` is waited out, the progress line counting down (and
/// `notice` told once), and the walk goes on from the last page written.
#[allow(clippy::too_many_arguments)]
pub async fn export<W: Write>(
    request: AuditLogRequest,
    start: Option<String>,
    max_items: Option<u64>,
    patience: Patience,
    writer: &mut EntryWriter<W>,
    progress: &ProgressBar,
    notice: &mut dyn FnMut(&str),
    interrupt: impl Future<Output = ()>,
) -> Outcome {
    let began = Instant::now();
    let mut outcome = Outcome {
        stop: Stop::Done,
        pages: 0,
        entries: 0,
        resume: start,
    };
    let mut interrupt = std::pin::pin!(interrupt);
    let mut waits_in_a_row = 0;
    'walk: loop {
        // A new walk from the last page written: after a rate-limit wait, nothing is skipped or repeated.
        let mut walk = request.clone();
        if let Some(cursor) = &outcome.resume {
            walk = walk.cursor(cursor.clone());
        }
        if let Some(max) = max_items {
            walk = walk.with_max_items(max.saturating_sub(outcome.entries).max(1));
        }
        let mut pages = walk.pages();
        loop {
            let next = tokio::select! {
                biased;
                () = &mut interrupt => {
                    outcome.stop = Stop::Interrupted;
                    break 'walk;
                }
                next = pages.next() => next,
            };
            let page = match next {
                None => break 'walk,
                Some(Err(Error::RateLimited {
                    retry_after: Some(wait),
                    ..
                })) if wait <= patience.max_wait && waits_in_a_row < patience.max_waits => {
                    waits_in_a_row += 1;
                    drop(pages);
                    let line = format!("rate limited by the API; waiting {}", duration_text(wait));
                    progress.suspend(|| notice(&line));
                    if !wait_out(wait, progress, &mut interrupt).await {
                        outcome.stop = Stop::Interrupted;
                        break 'walk;
                    }
                    continue 'walk;
                }
                Some(Err(error)) => {
                    outcome.stop = Stop::Client(error);
                    break 'walk;
                }
                Some(Ok(page)) => page,
            };
            waits_in_a_row = 0;
            let room = max_items.map_or(u64::MAX, |max| max.saturating_sub(outcome.entries));
            let entries = page.entries();
            let take = entries
                .len()
                .min(usize::try_from(room).unwrap_or(usize::MAX));
            if let Err(error) = progress.suspend(|| writer.write_page(&entries[..take])) {
                outcome.stop = Stop::Output(error);
                break 'walk;
            }
            outcome.pages += 1;
            outcome.entries += take as u64;
            outcome.resume = page.next_cursor().map(str::to_owned);
            let seconds = began.elapsed().as_secs_f64().max(1e-9);
            let mut message = format!(
                "{} pages, {} entries, {:.0} entries/s",
                outcome.pages,
                outcome.entries,
                outcome.entries as f64 / seconds
            );
            if let Some(quota) = page.quota() {
                message.push_str(&format!(
                    "; rate limit: {} requests left, reset in {}",
                    quota.remaining,
                    duration_text(quota.reset)
                ));
            }
            progress.set_message(message);
            if take < entries.len() || max_items.is_some_and(|max| outcome.entries >= max) {
                break 'walk;
            }
            if outcome.resume.is_none() {
                break 'walk;
            }
        }
    }
    outcome
}

/// Waits `wait`, counting down on the progress line; false when interrupted first.
async fn wait_out(
    wait: Duration,
    progress: &ProgressBar,
    interrupt: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> bool {
    let until = tokio::time::Instant::now() + wait;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        progress.set_message(format!(
            "rate limited by the API; waiting {}",
            duration_text(left)
        ));
        tokio::select! {
            biased;
            () = interrupt.as_mut() => return false,
            () = tokio::time::sleep(left) => return true,
            _ = tick.tick() => {}
        }
    }
}

/// A duration in whole seconds, as `4m 47s`.
fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    humantime::format_duration(Duration::from_secs(seconds)).to_string()
}

/// Where the entries go: stdout, or a temporary file renamed onto `--output` at the end.
enum Destination<O: Write> {
    Stdout(O),
    File { temp: NamedTempFile, path: PathBuf },
}

impl<O: Write> Write for Destination<O> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.write_all(buf),
            Destination::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::File { temp, .. } => temp.flush(),
        }
    }
}

/// Runs one export as the binary does and returns its exit code; every message goes to `stderr` as one line.
///
/// `env` looks up environment variables (the binary passes `std::env::var`), so tests can run it in-process
/// without touching the process environment.
pub async fn run<O: Write, E: Write>(
    cli: Cli,
    env: &dyn Fn(&str) -> Option<String>,
    terminals: Terminals,
    stdout: O,
    mut stderr: E,
    interrupt: impl Future<Output = ()>,
) -> u8 {
    let mut say = |line: &str| {
        let _ = writeln!(stderr, "insight-audit-log: {}", exit::printable(line));
    };
    let client = match build_client(&cli, env) {
        Ok(client) => client,
        Err(message) => {
            say(&format!("error: {message}"));
            return exit::USAGE;
        }
    };
    let request = build_request(&client, &cli);
    if let Err(error) = request.validate() {
        say(&format!("error: {}", exit::one_line(&error)));
        return exit::USAGE;
    }
    let format = cli
        .format
        .unwrap_or(if cli.output.is_none() && terminals.stdout {
            Format::Table
        } else {
            Format::Ndjson
        });
    let destination = match &cli.output {
        None => Destination::Stdout(stdout),
        Some(path) => match temp_beside(path) {
            Ok(temp) => Destination::File {
                temp,
                path: path.clone(),
            },
            Err(error) => {
                say(&format!(
                    "error: cannot create a temporary file beside {}: {}",
                    path.display(),
                    exit::one_line(&error)
                ));
                return exit::OUTPUT;
            }
        },
    };
    let csv_cells = CsvCells {
        neutralise_formulas: !cli.csv_raw,
        for_terminal: cli.output.is_none() && terminals.stdout,
    };
    let mut writer = match EntryWriter::begin_with(format, csv_cells, destination) {
        Ok(writer) => writer,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return exit::OK,
        Err(error) => {
            say(&format!(
                "error: cannot write the output: {}",
                exit::one_line(&error)
            ));
            return exit::OUTPUT;
        }
    };
    let progress = progress_bar(terminals.stderr);
    let patience = Patience {
        max_wait: cli.max_wait,
        max_waits: cli.retries.max(1),
    };
    let mut outcome = export(
        request,
        cli.cursor.clone(),
        cli.max_items,
        patience,
        &mut writer,
        &progress,
        &mut say,
        interrupt,
    )
    .await;
    progress.finish_and_clear();

    // Close the document (JSON's `]`) whatever happened, then put a file in place: entries already written are
    // kept, as a valid document, unless writing itself failed.
    let closed = writer.finish();
    let mut stop = outcome.stop;
    // Where the entries written ended up, when not where asked.
    let mut kept_in: Option<PathBuf> = None;
    match closed {
        Ok(Destination::File { temp, path }) if !matches!(stop, Stop::Output(_)) => {
            match place(temp, &path) {
                Ok(()) => {}
                Err((error, partial)) => {
                    stop = Stop::Output(error);
                    kept_in = partial;
                }
            }
        }
        Ok(_) => {}
        Err(error) => {
            if !matches!(stop, Stop::Output(_)) {
                stop = Stop::Output(error);
            }
        }
    }
    if matches!(stop, Stop::Output(_)) && cli.output.is_some() && kept_in.is_none() {
        // The temporary file is gone with every page in it: resuming starts where this run started.
        outcome.resume = cli.cursor.clone();
        outcome.pages = 0;
        outcome.entries = 0;
    }

    let code = match &stop {
        Stop::Done => {
            if terminals.stderr {
                let target = cli
                    .output
                    .as_ref()
                    .map_or_else(|| "stdout".to_owned(), |path| path.display().to_string());
                say(&format!(
                    "wrote {} entries ({} pages) to {target}",
                    outcome.entries, outcome.pages
                ));
            }
            return exit::OK;
        }
        Stop::Output(error)
            if error.kind() == io::ErrorKind::BrokenPipe && cli.output.is_none() =>
        {
            // The reader (e.g. `head`) has had enough: not an error.
            return exit::OK;
        }
        Stop::Interrupted => {
            say("interrupted");
            exit::INTERRUPTED
        }
        Stop::Client(error) => {
            say(&format!("error: {}", exit::one_line(error)));
            exit::for_client_error(error)
        }
        Stop::Output(error) => {
            say(&format!(
                "error: cannot write the output: {}",
                exit::one_line(error)
            ));
            exit::OUTPUT
        }
    };
    let kept = match (&cli.output, &stop, &kept_in) {
        (Some(_), Stop::Output(_), Some(partial)) => format!(
            "{} entries kept in {} (the pages before the failure)",
            outcome.entries,
            partial.display()
        ),
        (Some(path), Stop::Output(_), None) => format!("nothing was written to {}", path.display()),
        (Some(path), _, _) => format!("{} entries kept in {}", outcome.entries, path.display()),
        (None, _, _) => format!("{} entries written", outcome.entries),
    };
    say(&format!("stopped after {} pages; {kept}", outcome.pages));
    let fix = match &stop {
        Stop::Client(error) => what_to_fix(error, &cli),
        _ => None,
    };
    if let Some(fix) = &fix {
        say(fix);
    }
    match &outcome.resume {
        Some(cursor) if fix.is_some() => say(&format!(
            "then resume with: --cursor {}",
            exit::shell_word(cursor)
        )),
        Some(cursor) => say(&format!(
            "resume with: --cursor {}",
            exit::shell_word(cursor)
        )),
        None if outcome.pages == 0 && fix.is_some() => {
            say("no page was written; fix that, then run the command again");
        }
        None if outcome.pages == 0 => {
            say("no page was written; run the same command again to start over");
        }
        None => say("the last page was written; nothing is left to resume"),
    }
    code
}

/// For a failure that running the same command again cannot cure (400, 401, 403, 404), what to change.
fn what_to_fix(error: &Error, cli: &Cli) -> Option<String> {
    let status = match error {
        Error::Api(api) => api.status.as_u16(),
        Error::Certificate { .. } => {
            return Some(
                "to fix: check that the base URL names the API's host; behind a TLS-inspecting proxy, trust its CA \
                 with --ca-cert FILE"
                    .to_owned(),
            );
        }
        _ => return None,
    };
    let scope = if cli.zone.is_some() {
        "zone"
    } else {
        "account"
    };
    let text = match status {
        400 => "the API refused a parameter: check --since, --before, --field-changed, --changed-by, --per-page \
                and --cursor"
            .to_owned(),
        401 => format!(
            "the credentials were refused: check {ENV_API_TOKEN} (or {ENV_API_KEY} with {ENV_EMAIL}, or \
             --api-token-file); they may be mistyped, expired or revoked"
        ),
        403 => format!(
            "the credentials may not read this {scope}'s Security Center: give the token read access to \
             Security Center insights of this {scope}, or use another {scope}"
        ),
        404 => match &cli.issue {
            Some(_) => format!("no such {scope} or insight: check --{scope} and --issue"),
            None => format!("no such {scope}: check --{scope}"),
        },
        _ => return None,
    };
    Some(format!("to fix: {text}"))
}

/// Makes the finished temporary file durable and renames it onto `path`. When the rename fails, the entries are
/// kept beside it as `path.partial` if possible; the error comes back with where they are.
fn place(temp: NamedTempFile, path: &Path) -> Result<(), (io::Error, Option<PathBuf>)> {
    temp.as_file().sync_all().map_err(|error| (error, None))?;
    let refused = match temp.persist(path) {
        Ok(_) => return Ok(()),
        Err(refused) => refused,
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    match refused.file.persist(&partial) {
        Ok(_) => Err((refused.error, Some(partial))),
        Err(_) => Err((refused.error, None)),
    }
}

fn build_request(client: &Client, cli: &Cli) -> AuditLogRequest {
    let scope = cli.scope();
    let mut request = match &cli.issue {
        Some(issue) => client.issue_audit_log(scope, issue.clone()),
        None => client.audit_log(scope),
    };
    if let Some(since) = cli.since {
        request = request.since(since);
    }
    if let Some(before) = cli.before {
        request = request.before(before);
    }
    if let Some(field) = &cli.field_changed {
        request = request.field_changed(field.as_str());
    }
    if let Some(actor) = &cli.changed_by {
        request = request.changed_by(actor.clone());
    }
    if let Some(order) = cli.order {
        request = request.order(order.into());
    }
    if let Some(per_page) = cli.per_page {
        request = request.per_page(per_page);
    }
    if let Some(cursor) = &cli.cursor {
        request = request.cursor(cursor.clone());
    }
    if let Some(max) = cli.max_items {
        request = request.with_max_items(max);
    }
    request.with_prefetch(true)
}

/// The client from `--api-token-file` (which, when given, replaces the credential variables) or the
/// environment, and `--base-url` or `CLOUDFLARE_BASE_URL`.
fn build_client(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Client, String> {
    let credentials = match &cli.api_token_file {
        Some(path) => read_token_file(path)?,
        None => Credentials::from_lookup(env)
            .map_err(|error| exit::one_line(&error))?
            .ok_or_else(|| {
                format!(
                    "no credentials: set {ENV_API_TOKEN} (or {ENV_API_KEY} with {ENV_EMAIL}), or pass \
                     --api-token-file PATH"
                )
            })?,
    };
    // Rate limits are waited out here, with the wait on the progress line, rather than silently in the client.
    let retry = RetryPolicy::default()
        .with_max_retries(cli.retries)
        .with_max_retry_after(Duration::ZERO);
    let mut builder = ClientBuilder::new()
        .with_credentials(credentials)
        .with_retry(retry)
        .with_user_agent_suffix(concat!("insight-audit-log/", env!("CARGO_PKG_VERSION")));
    let base_url = cli
        .base_url
        .clone()
        .or_else(|| env(ENV_BASE_URL).filter(|url| !url.is_empty()));
    if let Some(url) = base_url {
        builder = builder.with_base_url(url);
    }
    if let Some(path) = &cli.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|error| format!("--ca-cert {}: {}", path.display(), exit::one_line(&error)))?;
        builder = builder.with_root_certificate(pem);
    }
    builder.build().map_err(|error| match &cli.ca_cert {
        Some(path)
            if matches!(
                error,
                Error::InvalidConfig {
                    setting: "root_certificate",
                    ..
                }
            ) =>
        {
            format!("--ca-cert {}: {}", path.display(), exit::one_line(&error))
        }
        _ => exit::one_line(&error),
    })
}

fn read_token_file(path: &Path) -> Result<Credentials, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "--api-token-file {}: {}",
            path.display(),
            exit::one_line(&error)
        )
    })?;
    let token = text.lines().next().unwrap_or("").trim();
    Credentials::api_token(token).map_err(|error| {
        format!(
            "--api-token-file {}: {}",
            path.display(),
            exit::one_line(&error)
        )
    })
}

/// A temporary file in the folder of `path`, so that the final rename stays on one file system.
fn temp_beside(path: &Path) -> io::Result<NamedTempFile> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map_or_else(
        || "output".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(folder)
}

fn progress_bar(visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
        bar.set_style(style);
    }
    bar.set_message("starting");
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
