//! One run from parsed flags to exit code: build the client, open the destination, walk every scope's pages
//! (several at once, on one client, so they share one rate-limit pacer), write each page whole, and on any stop
//! report where each scope can be resumed.
//!
//! Two modes share the page walk of [`crate::walk`]:
//! - a plain export, page by page, resumable with the cursor printed after the last page written (cursors are
//!   page-granular, so nothing is skipped or repeated on resume);
//! - incremental sync (`--state`, `--follow`): oldest first from each scope's high-water mark less the overlap,
//!   skipping entries already exported, the mark saved after each page is durable (see [`crate::state`]).

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use cloudflare_security_center::{
    AuditLogEntry, AuditLogRequest, Client, ClientBuilder, Credentials, ENV_API_KEY, ENV_API_TOKEN,
    ENV_BASE_URL, ENV_EMAIL, Error, Order, RateLimit, RetryPolicy,
};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tempfile::NamedTempFile;

use crate::args::Cli;
use crate::exit;
use crate::output::{CsvCells, EntryWriter, Format};
use crate::scopes::{Target, dedup, read_scopes_file};
use crate::state::{FUTURE_TOLERANCE, MAX_RECENT, Mark, Query, Recorded, StateFile};
use crate::walk::{self, Flow, Patience, WalkEnd, duration_text, walk_pages};

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

/// Walks `request` page by page into `writer`, stopping after `max_items` entries, on the first error, or when
/// `interrupt` completes; `start` is the cursor the request starts from (for [`Outcome::resume`]). Rate limits
/// are waited out as [`walk_pages`] says.
#[allow(clippy::too_many_arguments)]
pub async fn export<W: Write>(
    request: AuditLogRequest,
    start: Option<String>,
    max_items: Option<u64>,
    patience: Patience,
    writer: &mut EntryWriter<W>,
    progress: &ProgressBar,
    notice: &dyn Fn(&str),
    interrupt: impl Future<Output = ()>,
) -> Outcome {
    let report = RefCell::new(Report::starting_at(start.clone()));
    let began = Instant::now();
    let walk = walk_pages(&request, start, patience, progress, notice, |page| {
        let mut report = report.borrow_mut();
        let flow = write_limited(
            writer,
            "",
            page.entries(),
            max_items,
            &mut report,
            |entries| entries,
        )?;
        report.resume = page.next_cursor().map(str::to_owned);
        progress.set_message(report.progress_text(began, page.quota()));
        Ok(flow)
    });
    let stop = tokio::select! {
        biased;
        () = interrupt => Stop::Interrupted,
        end = walk => match end {
            WalkEnd::Done => Stop::Done,
            WalkEnd::Client(error) => Stop::Client(error),
            WalkEnd::Output(error) => Stop::Output(error),
        },
    };
    let report = report.into_inner();
    Outcome {
        stop,
        pages: report.pages,
        entries: report.entries,
        resume: report.resume,
    }
}

/// Writes the page's entries (at most what `max_items` leaves room for), counting them in `report`.
fn write_limited<W: Write>(
    writer: &mut EntryWriter<W>,
    scope: &str,
    entries: &[AuditLogEntry],
    max_items: Option<u64>,
    report: &mut Report,
    _keep: impl Fn(&[AuditLogEntry]) -> &[AuditLogEntry],
) -> io::Result<Flow> {
    let room = max_items.map_or(u64::MAX, |max| max.saturating_sub(report.entries));
    let take = entries
        .len()
        .min(usize::try_from(room).unwrap_or(usize::MAX));
    let page: Vec<&AuditLogEntry> = entries[..take].iter().collect();
    writer.write_scoped(scope, &page)?;
    report.pages += 1;
    report.entries += take as u64;
    let reached = take < entries.len() || max_items.is_some_and(|max| report.entries >= max);
    Ok(if reached { Flow::Stop } else { Flow::Continue })
}

/// What one scope's walk did so far; kept outside the walk, so it survives the walk being dropped.
#[derive(Debug, Default)]
struct Report {
    pages: u64,
    entries: u64,
    /// The cursor after the last page written (plain exports).
    resume: Option<String>,
    failure: Option<Error>,
    finished: bool,
}

impl Report {
    fn starting_at(cursor: Option<String>) -> Self {
        Self {
            resume: cursor,
            ..Self::default()
        }
    }

    fn progress_text(
        &self,
        began: Instant,
        quota: Option<cloudflare_security_center::Quota>,
    ) -> String {
        let seconds = began.elapsed().as_secs_f64().max(1e-9);
        let mut message = format!(
            "{} pages, {} entries, {:.0} entries/s",
            self.pages,
            self.entries,
            self.entries as f64 / seconds
        );
        if let Some(quota) = quota {
            message.push_str(&format!(
                "; rate limit: {} requests left, reset in {}",
                quota.remaining,
                duration_text(quota.reset)
            ));
        }
        message
    }
}

/// Where the entries go: stdout, a temporary file renamed onto `--output` at the end, or (incremental runs) a
/// file appended to, each page made durable before the state that covers it is saved.
enum Destination<O: Write> {
    Stdout(O),
    File { temp: NamedTempFile, path: PathBuf },
    Append(File),
}

impl<O: Write> Destination<O> {
    /// The length of an appended file, which the state records so that the next run can cut back to it; `None`
    /// for stdout and the temporary file of plain exports.
    fn appended_length(&self) -> io::Result<Option<u64>> {
        match self {
            Destination::Append(file) => file.metadata().map(|meta| Some(meta.len())),
            _ => Ok(None),
        }
    }

    /// Makes what was written durable: on disk for files (stdout was flushed by the writer).
    fn sync(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::File { temp, .. } => temp.as_file().sync_data(),
            Destination::Append(file) => file.sync_data(),
        }
    }
}

impl<O: Write> Write for Destination<O> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::File { temp, .. } => temp.write(buf),
            Destination::Append(file) => file.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.write_all(buf),
            Destination::File { temp, .. } => temp.write_all(buf),
            Destination::Append(file) => file.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::File { temp, .. } => temp.flush(),
            Destination::Append(file) => file.flush(),
        }
    }
}

/// Lines on stderr, each prefixed with the program's name and made safe for a terminal.
struct Messages<E: Write> {
    out: RefCell<E>,
}

impl<E: Write> Messages<E> {
    fn say(&self, line: &str) {
        let _ = writeln!(
            self.out.borrow_mut(),
            "insight-audit-log: {}",
            exit::printable(line)
        );
    }
}

/// Everything the walks of one run share.
struct Run<'a, O: Write, E: Write> {
    cli: &'a Cli,
    client: Client,
    targets: Vec<Target>,
    writer: RefCell<EntryWriter<Destination<O>>>,
    /// The first write failure: it stops every walk.
    output_failure: RefCell<Option<io::Error>>,
    reports: RefCell<Vec<Report>>,
    /// The marks of incremental runs, one per target.
    marks: RefCell<Vec<Mark>>,
    state: Option<RefCell<StateFile>>,
    progress: ProgressBar,
    messages: &'a Messages<E>,
    patience: Patience,
    began: Instant,
    /// When the state was last saved, and whether marks changed since.
    saved_at: Cell<Option<Instant>>,
    unsaved: Cell<bool>,
    /// The appended output's length after the last page made durable: what the state covers.
    covered_length: Cell<Option<u64>>,
}

/// The longest overlap accepted: re-reading more than a month of the log on every run is a mistake in the flag.
const MAX_OVERLAP: Duration = Duration::from_secs(30 * 24 * 3600);

/// With an appended output file, the state is saved at most this often (and at the end of every walk): pages
/// written after the last save are cut off by the next run, so nothing is lost, and a long run does not rewrite
/// the whole state after every page.
const SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// Runs one export as the binary does and returns its exit code; every message goes to `stderr` as one line.
///
/// `env` looks up environment variables (the binary passes `std::env::var`), so tests can run it in-process
/// without touching the process environment.
pub async fn run<O: Write, E: Write>(
    cli: Cli,
    env: &dyn Fn(&str) -> Option<String>,
    terminals: Terminals,
    stdout: O,
    stderr: E,
    interrupt: impl Future<Output = ()>,
) -> u8 {
    let messages = Messages {
        out: RefCell::new(stderr),
    };
    let say = |line: &str| messages.say(line);
    let usage = |message: String| {
        say(&format!("error: {message}"));
        exit::USAGE
    };
    let client = match build_client(&cli, env) {
        Ok(client) => client,
        Err(message) => return usage(message),
    };
    let targets = match targets(&cli) {
        Ok(targets) => targets,
        Err(message) => return usage(message),
    };
    for target in &targets {
        if let Err(error) = base_request(&client, &cli, target).validate() {
            return usage(format!("{target}: {}", exit::one_line(&error)));
        }
    }
    if cli.overlap > MAX_OVERLAP {
        return usage(format!(
            "--overlap {}: more than the {} a re-read can usefully cover",
            duration_text(cli.overlap),
            duration_text(MAX_OVERLAP)
        ));
    }
    let incremental = cli.state.is_some() || cli.follow;
    let state = match &cli.state {
        None => None,
        Some(path) => match StateFile::open(path, &query(&cli), Utc::now()) {
            Ok(mut state) => {
                for repair in state.take_repairs() {
                    say(&repair);
                }
                Some(RefCell::new(state))
            }
            Err(error) => return usage(exit::one_line(&error)),
        },
    };
    let marks = targets
        .iter()
        .map(|target| {
            state
                .as_ref()
                .map_or_else(Mark::default, |state| state.borrow().mark(&target.name))
        })
        .collect();
    let format = cli
        .format
        .unwrap_or(if cli.output.is_none() && terminals.stdout {
            Format::Table
        } else {
            Format::Ndjson
        });
    let recorded_length = state
        .as_ref()
        .and_then(|state| state.borrow().output_length());
    let (destination, header) =
        match open_destination(&cli, incremental, recorded_length, &say, stdout) {
            Ok(opened) => opened,
            Err(message) => {
                say(&format!("error: {message}"));
                return exit::OUTPUT;
            }
        };
    let csv_cells = CsvCells {
        neutralise_formulas: !cli.csv_raw,
        for_terminal: cli.output.is_none() && terminals.stdout,
    };
    let scope_column = targets.len() > 1;
    let writer = match EntryWriter::begin_full(format, csv_cells, scope_column, header, destination)
    {
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
    let reports = targets
        .iter()
        .map(|_| Report::starting_at(cli.cursor.clone()))
        .collect();
    let run = Run {
        cli: &cli,
        client,
        targets,
        writer: RefCell::new(writer),
        output_failure: RefCell::new(None),
        reports: RefCell::new(reports),
        marks: RefCell::new(marks),
        state,
        progress: progress_bar(terminals.stderr),
        messages: &messages,
        patience: Patience {
            max_wait: cli.max_wait,
            max_waits: cli.retries.max(1),
        },
        began: Instant::now(),
        saved_at: Cell::new(None),
        unsaved: Cell::new(false),
        covered_length: Cell::new(None),
    };
    let interrupted = if incremental {
        run.sync_rounds(interrupt).await
    } else {
        run.export_all(interrupt).await
    };
    run.progress.finish_and_clear();
    if let Err(error) = run.save_state(true) {
        run.output_failure
            .borrow_mut()
            .get_or_insert(io::Error::other(error));
    }
    run.conclude(interrupted, terminals)
}

impl<O: Write, E: Write> Run<'_, O, E> {
    /// Walks every scope once, `--concurrency` at a time; true when interrupted.
    async fn export_all(&self, interrupt: impl Future<Output = ()>) -> bool {
        let walks = futures_util::stream::iter(0..self.targets.len())
            .map(|index| self.export_scope(index))
            .buffer_unordered(self.cli.concurrency as usize)
            .collect::<()>();
        tokio::select! {
            biased;
            () = interrupt => true,
            () = walks => false,
        }
    }

    /// One scope's plain walk, from `--cursor` if given.
    async fn export_scope(&self, index: usize) {
        let target = &self.targets[index];
        let mut request = base_request(&self.client, self.cli, target);
        if let Some(max) = self.cli.max_items {
            request = request.with_max_items(max);
        }
        let notice = |line: &str| self.notice(target, line);
        let end = walk_pages(
            &request,
            self.cli.cursor.clone(),
            self.patience,
            &self.progress,
            &notice,
            |page| {
                self.check_output()?;
                let mut reports = self.reports.borrow_mut();
                let report = &mut reports[index];
                let flow = {
                    let mut writer = self.writer.borrow_mut();
                    write_limited(
                        &mut writer,
                        &target.name,
                        page.entries(),
                        self.cli.max_items,
                        report,
                        |entries| entries,
                    )
                    .inspect_err(|_| ())?
                };
                report.resume = page.next_cursor().map(str::to_owned);
                drop(reports);
                self.show_progress(page.quota());
                Ok(flow)
            },
        )
        .await;
        self.finish_scope(index, end);
    }

    /// Incremental rounds: every scope synced once (and, with `--follow`, again every `--interval`) until the
    /// interrupt; true when interrupted.
    async fn sync_rounds(&self, interrupt: impl Future<Output = ()>) -> bool {
        let mut interrupt = std::pin::pin!(interrupt);
        loop {
            let round = futures_util::stream::iter(0..self.targets.len())
                .map(|index| self.sync_scope(index))
                .buffer_unordered(self.cli.concurrency as usize)
                .collect::<()>();
            tokio::select! {
                biased;
                () = &mut interrupt => return true,
                () = round => {}
            }
            if !self.cli.follow || self.output_failure.borrow().is_some() {
                return false;
            }
            self.progress.set_message(format!(
                "following {} scope(s): {} entries exported; last poll {} UTC, next in {}",
                self.targets.len(),
                self.reports
                    .borrow()
                    .iter()
                    .map(|report| report.entries)
                    .sum::<u64>(),
                Utc::now().format("%H:%M:%S"),
                duration_text(self.cli.interval)
            ));
            tokio::select! {
                biased;
                () = &mut interrupt => return true,
                () = tokio::time::sleep(self.cli.interval) => {}
            }
        }
    }

    /// One scope's incremental walk: oldest first from its mark less the overlap, skipping what was exported;
    /// each page made durable, then the mark saved.
    async fn sync_scope(&self, index: usize) {
        let target = &self.targets[index];
        let overlap = TimeDelta::from_std(self.cli.overlap).unwrap_or(TimeDelta::MAX);
        let start = self.marks.borrow()[index].start(overlap, self.cli.since);
        // The server's clock is not trusted: no entry moves the mark past this.
        let ceiling = Utc::now() + FUTURE_TOLERANCE;
        let mut request = base_request(&self.client, self.cli, target).order(Order::Asc);
        if let Some(since) = start {
            request = request.since(since);
        }
        let notice = |line: &str| self.notice(target, line);
        self.reports.borrow_mut()[index].failure = None;
        let end = walk_pages(
            &request,
            None,
            self.patience,
            &self.progress,
            &notice,
            |page| {
                self.check_output()?;
                let mut mark = self.marks.borrow()[index].clone();
                let fresh = mark.new_entries(page.entries());
                {
                    let mut writer = self.writer.borrow_mut();
                    writer.write_scoped(&target.name, &fresh)?;
                    // The entries are durable before the state that covers them.
                    writer.destination_mut().sync()?;
                    self.covered_length
                        .set(writer.destination().appended_length()?);
                }
                if !fresh.is_empty() {
                    let recorded = mark.record(&fresh, overlap, ceiling);
                    say_recorded(&recorded, ceiling, &notice);
                    if let Some(state) = &self.state {
                        state.borrow_mut().set(&target.name, mark.clone());
                        self.unsaved.set(true);
                    }
                    self.marks.borrow_mut()[index] = mark;
                    self.save_state(false).map_err(io::Error::other)?;
                }
                {
                    let mut reports = self.reports.borrow_mut();
                    reports[index].pages += 1;
                    reports[index].entries += fresh.len() as u64;
                }
                self.show_progress(page.quota());
                Ok(Flow::Continue)
            },
        )
        .await;
        self.finish_scope(index, end);
    }

    /// Saves the state when marks changed since the last save: at once with `force` or when the output cannot be
    /// cut back (stdout), else at most every [`SAVE_INTERVAL`].
    fn save_state(&self, force: bool) -> Result<(), crate::state::StateError> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        if !self.unsaved.get() {
            return Ok(());
        }
        let length = self.covered_length.get();
        let due = self
            .saved_at
            .get()
            .is_none_or(|at| at.elapsed() >= SAVE_INTERVAL);
        if force || length.is_none() || due {
            state.borrow_mut().save(length)?;
            self.saved_at.set(Some(Instant::now()));
            self.unsaved.set(false);
        }
        Ok(())
    }

    /// A rate-limit wait of one scope, said once.
    fn notice(&self, target: &Target, line: &str) {
        let line = if self.targets.len() > 1 {
            format!("{target}: {line}")
        } else {
            line.to_owned()
        };
        self.progress.suspend(|| self.messages.say(&line));
    }

    /// Fails the page at once when an earlier write failed: the output is broken for every scope.
    fn check_output(&self) -> io::Result<()> {
        match &*self.output_failure.borrow() {
            Some(error) => Err(io::Error::new(error.kind(), error.to_string())),
            None => Ok(()),
        }
    }

    fn finish_scope(&self, index: usize, end: WalkEnd) {
        let mut reports = self.reports.borrow_mut();
        let report = &mut reports[index];
        match end {
            WalkEnd::Done => report.finished = true,
            WalkEnd::Client(error) => {
                if self.targets.len() > 1 && !self.cli.follow {
                    let line =
                        format!("{}: error: {}", self.targets[index], exit::one_line(&error));
                    self.progress.suspend(|| self.messages.say(&line));
                }
                report.failure = Some(error);
            }
            WalkEnd::Output(error) => {
                let mut failure = self.output_failure.borrow_mut();
                if failure.is_none() {
                    *failure = Some(error);
                }
            }
        }
    }

    fn show_progress(&self, quota: Option<cloudflare_security_center::Quota>) {
        let reports = self.reports.borrow();
        let total = Report {
            pages: reports.iter().map(|report| report.pages).sum(),
            entries: reports.iter().map(|report| report.entries).sum(),
            ..Report::default()
        };
        let mut text = total.progress_text(self.began, quota);
        if self.targets.len() > 1 {
            let done = reports.iter().filter(|report| report.finished).count();
            text = format!("{done}/{} scopes; {text}", self.targets.len());
        }
        self.progress.set_message(text);
    }

    /// Closes the output, prints what happened (per scope when there are several) and returns the exit code.
    fn conclude(self, interrupted: bool, terminals: Terminals) -> u8 {
        let say = |line: &str| self.messages.say(line);
        let cli = self.cli;
        let incremental = cli.state.is_some() || cli.follow;
        let mut reports = self.reports.into_inner();
        let mut output_failure = self.output_failure.into_inner();
        // Close the document (JSON's `]`) whatever happened, then put a file in place: entries already written
        // are kept, as a valid document, unless writing itself failed.
        let mut kept_in: Option<PathBuf> = None;
        match self.writer.into_inner().finish() {
            Ok(Destination::File { temp, path }) if output_failure.is_none() => {
                if let Err((error, partial)) = place(temp, &path) {
                    output_failure = Some(error);
                    kept_in = partial;
                }
            }
            Ok(_) => {}
            Err(error) => {
                output_failure.get_or_insert(error);
            }
        }
        if output_failure.is_some() && cli.output.is_some() && kept_in.is_none() && !incremental {
            // The temporary file is gone with every page in it: resuming starts where this run started.
            for report in &mut reports {
                *report = Report::starting_at(cli.cursor.clone());
            }
        }
        let pages: u64 = reports.iter().map(|report| report.pages).sum();
        let entries: u64 = reports.iter().map(|report| report.entries).sum();
        let failed: Vec<usize> = (0..reports.len())
            .filter(|index| reports[*index].failure.is_some())
            .collect();

        if let Some(error) = &output_failure
            && error.kind() == io::ErrorKind::BrokenPipe
            && cli.output.is_none()
        {
            // The reader (e.g. `head`) has had enough: not an error.
            return exit::OK;
        }
        let clean = output_failure.is_none() && failed.is_empty();
        // Ctrl-C or SIGTERM is how a follow run ends.
        if clean && (!interrupted || cli.follow) {
            if terminals.stderr || cli.follow {
                let target = cli
                    .output
                    .as_ref()
                    .map_or_else(|| "stdout".to_owned(), |path| path.display().to_string());
                say(&format!(
                    "wrote {entries} entries ({pages} pages) to {target}"
                ));
            }
            if let Some(state) = &cli.state
                && (terminals.stderr || cli.follow)
            {
                say(&format!("state saved in {}", state.display()));
            }
            return exit::OK;
        }
        let code = if let Some(error) = &output_failure {
            say(&format!(
                "error: cannot write the output: {}",
                exit::one_line(error)
            ));
            exit::OUTPUT
        } else if let Some(first) = failed.first() {
            let error = reports[*first].failure.as_ref();
            // A follow run said it when it happened.
            if self.targets.len() == 1
                && !cli.follow
                && let Some(error) = error
            {
                say(&format!("error: {}", exit::one_line(error)));
            }
            error.map_or(exit::OTHER, exit::for_client_error)
        } else {
            exit::INTERRUPTED
        };
        if interrupted {
            say("interrupted");
        }
        let kept = match (&cli.output, &output_failure, &kept_in) {
            (Some(_), Some(_), Some(partial)) => format!(
                "{entries} entries kept in {} (the pages before the failure)",
                partial.display()
            ),
            (Some(path), Some(_), None) if !incremental => {
                format!("nothing was written to {}", path.display())
            }
            (Some(path), _, _) => format!("{entries} entries kept in {}", path.display()),
            (None, _, _) => format!("{entries} entries written"),
        };
        say(&format!("stopped after {pages} pages; {kept}"));
        if incremental {
            if let Some(state) = &cli.state {
                say(&format!(
                    "the state in {} covers every entry written; the next run goes on from there",
                    state.display()
                ));
            }
            for index in &failed {
                if let Some(error) = &reports[*index].failure
                    && self.targets.len() > 1
                {
                    say(&format!(
                        "{}: failed: {}",
                        self.targets[*index],
                        exit::one_line(error)
                    ));
                }
            }
            return code;
        }
        if self.targets.len() == 1 {
            resume_advice(self.messages, cli, &reports[0], output_failure.is_none());
        } else {
            for (index, report) in reports.iter().enumerate() {
                if report.finished && report.failure.is_none() {
                    continue;
                }
                let target = &self.targets[index];
                if let Some(error) = &report.failure {
                    say(&format!("{target}: failed: {}", exit::one_line(error)));
                }
                match &report.resume {
                    Some(cursor) => say(&format!(
                        "{target}: resume with: {} --cursor {}",
                        target.flag(),
                        exit::shell_word(cursor)
                    )),
                    None if report.pages == 0 => say(&format!("{target}: no page was written")),
                    None => {}
                }
            }
        }
        code
    }
}

/// Says which entries were dated past `ceiling` (at most three by id) and how many ids were forgotten.
fn say_recorded(recorded: &Recorded, ceiling: chrono::DateTime<Utc>, notice: &dyn Fn(&str)) {
    if !recorded.future.is_empty() {
        let named: Vec<String> = recorded
            .future
            .iter()
            .take(3)
            .map(|seen| {
                format!(
                    "{} at {}",
                    seen.id,
                    seen.changed_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            })
            .collect();
        let more = recorded.future.len().saturating_sub(named.len());
        notice(&format!(
            "warning: {} entries dated after this walk began (later than {}): {}{}; exported once, and the state's \
             mark does not follow them",
            recorded.future.len(),
            ceiling.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            named.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    if recorded.forgotten > 0 {
        notice(&format!(
            "warning: more than {MAX_RECENT} entries within --overlap; the {} oldest ids are forgotten, and may be \
             exported again if the API serves them again: use a shorter --overlap",
            recorded.forgotten
        ));
    }
}

/// What to do next, for a run over one scope.
fn resume_advice<E: Write>(messages: &Messages<E>, cli: &Cli, report: &Report, wrote: bool) {
    let say = |line: &str| messages.say(line);
    let fix = report
        .failure
        .as_ref()
        .filter(|_| wrote)
        .and_then(|error| what_to_fix(error, cli));
    if let Some(fix) = &fix {
        say(fix);
    }
    match &report.resume {
        Some(cursor) if fix.is_some() => say(&format!(
            "then resume with: --cursor {}",
            exit::shell_word(cursor)
        )),
        Some(cursor) => say(&format!(
            "resume with: --cursor {}",
            exit::shell_word(cursor)
        )),
        None if report.pages == 0 && fix.is_some() => {
            say("no page was written; fix that, then run the command again");
        }
        None if report.pages == 0 => {
            say("no page was written; run the same command again to start over");
        }
        None => say("the last page was written; nothing is left to resume"),
    }
}

/// The scopes of this run, in the order given, each once.
fn targets(cli: &Cli) -> Result<Vec<Target>, String> {
    let mut targets: Vec<Target> = cli
        .account
        .iter()
        .map(|id| Target::account(id))
        .chain(cli.zone.iter().map(|id| Target::zone(id)))
        .collect();
    if let Some(path) = &cli.scopes_file {
        targets.extend(read_scopes_file(path)?);
    }
    let targets = dedup(targets);
    if targets.is_empty() {
        return Err("no scope: give --account ID, --zone ID or --scopes-file FILE".to_owned());
    }
    if targets.len() > 1 {
        if cli.issue.is_some() {
            return Err(format!(
                "--issue needs exactly one scope; this run has {}",
                targets.len()
            ));
        }
        if cli.cursor.is_some() {
            return Err(format!(
                "--cursor belongs to the walk of one scope; this run has {}",
                targets.len()
            ));
        }
    }
    Ok(targets)
}

/// The filters a state file is bound to.
fn query(cli: &Cli) -> Query {
    Query {
        issue: cli.issue.clone(),
        field_changed: cli.field_changed.clone(),
        changed_by: cli.changed_by.clone(),
        before: cli.before,
    }
}

/// Where the entries go, and whether the output starts with a header (CSV, table): not when appending to a file
/// that already holds entries.
///
/// An appended file longer than `recorded` (its length when the state was last saved) is cut back to it first:
/// what follows is a page the state does not cover (it is fetched again) or a line cut short; `say` tells.
fn open_destination<O: Write>(
    cli: &Cli,
    incremental: bool,
    recorded: Option<u64>,
    say: &dyn Fn(&str),
    stdout: O,
) -> Result<(Destination<O>, bool), String> {
    let Some(path) = &cli.output else {
        return Ok((Destination::Stdout(stdout), true));
    };
    if incremental {
        let cannot = |error: io::Error| {
            format!(
                "cannot open {} to append to: {}",
                path.display(),
                exit::one_line(&error)
            )
        };
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(cannot)?;
        let length = file.metadata().map_err(cannot)?.len();
        match recorded {
            Some(recorded) if length > recorded => {
                file.set_len(recorded).map_err(cannot)?;
                file.sync_data().map_err(cannot)?;
                say(&format!(
                    "{}: cut {} bytes written after the state was last saved (a page it does not cover, or a line \
                     cut short); they are fetched again",
                    path.display(),
                    length - recorded
                ));
            }
            Some(recorded) if length < recorded => say(&format!(
                "warning: {} is shorter than when the state was last saved ({length} bytes, not {recorded}): \
                 rotated or truncated; appending",
                path.display()
            )),
            _ => {}
        }
        let empty = file.metadata().map(|meta| meta.len() == 0).unwrap_or(true);
        return Ok((Destination::Append(file), empty));
    }
    let temp = temp_beside(path).map_err(|error| {
        format!(
            "cannot create a temporary file beside {}: {}",
            path.display(),
            exit::one_line(&error)
        )
    })?;
    Ok((
        Destination::File {
            temp,
            path: path.clone(),
        },
        true,
    ))
}

/// The request of one scope with the run's filters (no cursor, no limits).
fn base_request(client: &Client, cli: &Cli, target: &Target) -> AuditLogRequest {
    let scope = target.scope.clone();
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
    request.with_prefetch(true)
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
    let scope = if cli.zone.is_empty() {
        "account"
    } else {
        "zone"
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
    // Pacing waits longer than a few seconds come back as errors too, so that they are said and capped by
    // --max-wait like a 429.
    let pacing = RateLimit::default().with_max_wait(walk::QUIET_PACING);
    let mut builder = ClientBuilder::new()
        .with_credentials(credentials)
        .with_retry(retry)
        .with_rate_limit(pacing)
        .with_attempt_timeout(cli.timeout)
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
