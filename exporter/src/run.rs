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
use std::future::Future;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use clap::ValueEnum as _;
use cloudflare_security_center::{AuditLogEntry, Client, Order, Page, Quota};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::Cli;
use crate::client::{base_request, build_client};
use crate::destination::open_destination;
use crate::enrich::{self, InsightCache, Need};
use crate::exit;
use crate::ledger::{Ledger, Mode};
use crate::logs::Messages;
use crate::output::{CsvCells, EntryWriter, Format};
use crate::scopes::{Target, targets};
use crate::siem::Enrichment;
use crate::state::{FUTURE_TOLERANCE, Query, StateFile};
use crate::summary::summarize;
use crate::telemetry::{Active, Telemetry};
use crate::walk::{Notice, Patience, WalkEnd, duration_text, walk_pages};

/// Which of the standard streams are terminals (they decide the default format and whether progress is shown).
#[derive(Clone, Copy, Debug, Default)]
pub struct Terminals {
    /// stdout is a terminal: the default format is `table`.
    pub stdout: bool,
    /// stderr is a terminal: a progress line is drawn there.
    pub stderr: bool,
}

/// The longest overlap accepted: re-reading more than a month of the log on every run is a mistake in the flag.
const MAX_OVERLAP: Duration = Duration::from_secs(30 * 24 * 3600);

/// Everything the walks of one run share: the flags, the client, the scopes, and the ledger that records pages.
struct Run<'a, O: Write, E: Write> {
    cli: &'a Cli,
    client: Client,
    targets: Vec<Target>,
    ledger: RefCell<Ledger<O>>,
    /// Each scope's insights, for the formats that carry them.
    insights: RefCell<InsightCache>,
    /// The poll of an incremental run (1 for the first); 0 for a plain export.
    poll: Cell<u64>,
    progress: ProgressBar,
    messages: &'a Messages<E>,
    /// Metrics, health and systemd.
    telemetry: Active,
    patience: Patience,
    began: Instant,
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
    stderr: E,
    interrupt: impl Future<Output = ()>,
) -> u8 {
    let telemetry = Telemetry::new(&cli);
    run_with(cli, env, terminals, stdout, stderr, interrupt, telemetry).await
}

/// [`run`], observed through `telemetry`: the binary makes it first, so that the `tracing` layer it installs
/// counts the client's requests into the same metrics ([`crate::logs::install`]).
pub async fn run_with<O: Write, E: Write>(
    cli: Cli,
    env: &dyn Fn(&str) -> Option<String>,
    terminals: Terminals,
    stdout: O,
    stderr: E,
    interrupt: impl Future<Output = ()>,
    telemetry: Telemetry,
) -> u8 {
    let messages = Messages::new(stderr, cli.log_format);
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
    let telemetry = match telemetry.start(&cli, &targets).await {
        Ok(telemetry) => telemetry,
        Err(message) => return usage(message),
    };
    if let Some(address) = telemetry.address() {
        messages.listening(address);
    }
    let format = cli
        .format
        .unwrap_or(if cli.output.is_none() && terminals.stdout {
            Format::Table
        } else {
            Format::Ndjson
        });
    let state = match &cli.state {
        None => None,
        Some(path) => match StateFile::open(path, &query(&cli, format), Utc::now()) {
            Ok(mut state) => {
                for repair in state.take_repairs() {
                    say(&repair);
                }
                Some(state)
            }
            Err(error) => return usage(exit::one_line(&error)),
        },
    };
    let recorded_length = state.as_ref().and_then(StateFile::output_length);
    let (destination, header) =
        match open_destination(&cli, cli.incremental(), recorded_length, &say, stdout) {
            Ok(opened) => opened,
            Err(message) => {
                say(&format!("error: {message}"));
                return exit::OUTPUT;
            }
        };
    let mut state = state;
    // A state that has not recorded the output's length (new, or kept for stdout) records it before the first page,
    // so that a crash before its first save cuts the file back to it, not keeping a page it never covered.
    if let Some(state) = &mut state
        && recorded_length.is_none()
        && let Ok(Some(length)) = destination.appended_length()
        && let Err(error) = state.save(Some(length))
    {
        say(&format!("error: {}", exit::one_line(&error)));
        return exit::OUTPUT;
    }
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
    let mode = if cli.incremental() {
        Mode::Incremental {
            overlap: TimeDelta::from_std(cli.overlap).unwrap_or(TimeDelta::MAX),
        }
    } else {
        Mode::Plain {
            max_items: cli.max_items,
        }
    };
    let ledger = Ledger::new(writer, mode, &targets, cli.cursor.clone(), state);
    let targets_len = targets.len();
    let run = Run {
        cli: &cli,
        client,
        targets,
        ledger: RefCell::new(ledger),
        insights: RefCell::new(InsightCache::new(targets_len)),
        poll: Cell::new(0),
        progress: progress_bar(terminals.stderr && !messages.json()),
        messages: &messages,
        telemetry,
        patience: Patience {
            max_wait: cli.max_wait,
            max_waits: cli.retries.max(1),
        },
        began: Instant::now(),
    };
    let interrupted = if cli.incremental() {
        run.sync_rounds(interrupt).await
    } else {
        run.export_all(interrupt).await
    };
    run.progress.finish_and_clear();
    let closed = run.ledger.into_inner().close(cli.output.is_some());
    let summary = summarize(&cli, &run.targets, &closed, interrupted, terminals);
    for line in &summary.lines {
        say(line);
    }
    summary.code
}

impl<O: Write, E: Write> Run<'_, O, E> {
    /// Walks every scope once, `--concurrency` at a time; true when interrupted.
    async fn export_all(&self, interrupt: impl Future<Output = ()>) -> bool {
        let walks = futures_util::stream::iter(0..self.targets.len())
            .map(|index| self.walk_scope(index))
            .buffer_unordered(self.cli.concurrency as usize)
            .collect::<()>();
        tokio::select! {
            biased;
            () = interrupt => true,
            () = walks => false,
        }
    }

    /// Incremental rounds: every scope synced once (and, with `--follow`, again every `--interval`) until the
    /// interrupt; true when interrupted.
    async fn sync_rounds(&self, interrupt: impl Future<Output = ()>) -> bool {
        let mut interrupt = std::pin::pin!(interrupt);
        loop {
            self.poll.set(self.poll.get() + 1);
            let round = futures_util::stream::iter(0..self.targets.len())
                .map(|index| self.walk_scope(index))
                .buffer_unordered(self.cli.concurrency as usize)
                .collect::<()>();
            tokio::select! {
                biased;
                () = &mut interrupt => return true,
                () = round => {}
                () = self.telemetry.watchdog() => {}
            }
            self.telemetry.round_ended(self.ledger.borrow().reports());
            if !self.cli.follow || self.ledger.borrow().output_failed() {
                return false;
            }
            let entries: u64 = self
                .ledger
                .borrow()
                .reports()
                .iter()
                .map(|report| report.entries)
                .sum();
            self.progress.set_message(format!(
                "following {} scope(s): {entries} entries exported; last poll {} UTC, next in {}",
                self.targets.len(),
                Utc::now().format("%H:%M:%S"),
                duration_text(self.cli.interval)
            ));
            tokio::select! {
                biased;
                () = &mut interrupt => return true,
                () = tokio::time::sleep(self.cli.interval) => {}
                () = self.telemetry.watchdog() => {}
            }
        }
    }

    /// One walk of scope `index`: a plain one from `--cursor`, or an incremental one oldest first from its mark less
    /// the overlap. Every page goes to the ledger.
    async fn walk_scope(&self, index: usize) {
        let target = &self.targets[index];
        let mut request = base_request(&self.client, self.cli, target);
        let mut cursor = None;
        if self.cli.incremental() {
            request = request.order(Order::Asc);
            if let Some(since) = self.ledger.borrow().start(index, self.cli.since) {
                request = request.since(since);
            }
        } else {
            cursor = self.cli.cursor.clone();
            if let Some(max) = self.cli.max_items {
                request = request.with_max_items(max);
            }
        }
        // The server's clock is not trusted: no entry moves the mark past this.
        let ceiling = Utc::now() + FUTURE_TOLERANCE;
        let notice = |line: &str| self.notice(target, line);
        let walk_notice = |told: Notice<'_>| self.told(target, told);
        self.ledger.borrow_mut().begin_walk(index);
        self.telemetry
            .poll_started(index, &self.ledger.borrow().reports()[index]);
        let enriches = self.cli.enriches();
        let end = walk_pages(
            &request,
            cursor,
            self.patience,
            &self.progress,
            &walk_notice,
            async |page: &Page| {
                if enriches {
                    self.read_insights(index, page).await;
                }
            },
            |page| {
                let cache = self.insights.borrow();
                let insight_of = |entry: &AuditLogEntry| {
                    if enriches {
                        cache.lookup(index, entry)
                    } else {
                        Enrichment::Off
                    }
                };
                let flow =
                    self.ledger
                        .borrow_mut()
                        .page(index, page, ceiling, &notice, &insight_of)?;
                self.telemetry
                    .page(index, &self.ledger.borrow().reports()[index]);
                self.show_progress(page.quota());
                Ok(flow)
            },
        )
        .await;
        if let WalkEnd::Client(error) = &end
            && (self.targets.len() > 1 || self.cli.follow)
        {
            // Said when it happens: the other scopes (and the next polls) go on.
            self.notice(target, &format!("error: {}", exit::one_line(error)));
        }
        self.telemetry.poll_ended(
            index,
            &end,
            &self.ledger.borrow().reports()[index],
            self.messages,
        );
        self.ledger.borrow_mut().finish(index, end);
    }

    /// Reads scope `index`'s insight lists when `page` needs them (see [`InsightCache::need`]); a failure is said, and
    /// the page is then written without its insights.
    async fn read_insights(&self, index: usize, page: &Page) {
        let poll = self.poll.get();
        if self.insights.borrow().need(index, page.entries(), poll) == Need::Nothing {
            return;
        }
        let target = &self.targets[index];
        let notice = |told: Notice<'_>| self.told(target, told);
        let read = enrich::read_insights(
            &self.client,
            target.scope.clone(),
            self.patience,
            &notice,
            &self.progress,
        )
        .await;
        if let Err(error) = &read {
            self.notice(
                target,
                &format!("warning: cannot read the insight lists ({error}); entries are written without their insight"),
            );
        }
        self.insights
            .borrow_mut()
            .store(index, poll, read.map_err(|_| ()));
    }

    /// A line about one scope (a warning, an error), said above the progress line.
    fn notice(&self, target: &Target, line: &str) {
        self.tell(target, Notice::Line(line));
    }

    /// What the walk of `target` told (a line, or a rate-limit wait), said above the progress line.
    /// What a walk or an insight read tells: counted (a wait) and said.
    fn told(&self, target: &Target, told: Notice<'_>) {
        self.telemetry.waited(told);
        self.tell(target, told);
    }

    fn tell(&self, target: &Target, told: Notice<'_>) {
        let several = self.targets.len() > 1;
        self.progress
            .suspend(|| self.messages.tell(&target.name, several, told));
    }

    fn show_progress(&self, quota: Option<Quota>) {
        let text = self.ledger.borrow().progress_text(self.began, quota);
        self.progress.set_message(text);
    }
}

/// The filters and the record shape a state file is bound to.
fn query(cli: &Cli, format: Format) -> Query {
    let name = format.to_possible_value().map_or_else(
        || format!("{format:?}"),
        |value| value.get_name().to_owned(),
    );
    Query {
        issue: cli.issue.clone(),
        field_changed: cli.field_changed.clone(),
        changed_by: cli.changed_by.clone(),
        before: cli.before,
        shape: Some(if cli.enrich {
            format!("{name} --enrich")
        } else {
            name
        }),
    }
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
