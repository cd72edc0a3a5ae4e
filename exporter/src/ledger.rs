//! The bookkeeping of one run, with one owner: the writer, the first output failure, each scope's progress, the
//! marks of incremental runs and the state file they are saved to. Every page of every walk goes through
//! [`Ledger::page`], so the order "write, make durable, record, save" lives in one place, and the walks share the
//! ledger through one `RefCell` borrowed for a page at a time.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use cloudflare_security_center::{AuditLogEntry, Error, Page, Quota};

use crate::destination::{Destination, place};
use crate::output::EntryWriter;
use crate::scopes::Target;
use crate::siem::Enrichment;
use crate::state::{MAX_RECENT, Mark, Recorded, StateError, StateFile};
use crate::walk::{Flow, WalkEnd, duration_text};

/// With an appended output file, the state is saved at most this often (and at the end of the run): pages written
/// after the last save are cut off by the next run, so nothing is lost, and a long run does not rewrite the whole
/// state after every page.
const SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// What one scope's walks did so far; kept outside the walk, so it survives the walk being dropped.
#[derive(Debug, Default)]
pub(crate) struct ScopeReport {
    /// Pages written.
    pub(crate) pages: u64,
    /// Entries written.
    pub(crate) entries: u64,
    /// The cursor after the last page written (plain exports), or the starting cursor before any.
    pub(crate) resume: Option<String>,
    /// How the last walk failed, if it did.
    pub(crate) failure: Option<Error>,
    /// Whether a walk reached the end of the log (or `--max-items`).
    pub(crate) finished: bool,
    /// The newest `changed_at` written, among entries not dated past their walk's ceiling.
    pub(crate) newest: Option<DateTime<Utc>>,
    /// Entries written without their insight: not in the insight lists, or the lists could not be read.
    pub(crate) missing_insight: u64,
    /// Of those, the entries written while the lists could not be read.
    pub(crate) failed_insight: u64,
}

/// How pages are recorded.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mode {
    /// A plain export: at most `max_items` entries, the cursor after each page kept for resuming.
    Plain {
        /// `--max-items`.
        max_items: Option<u64>,
    },
    /// An incremental run: only entries not exported yet; the marks move and are saved.
    Incremental {
        /// `--overlap`.
        overlap: TimeDelta,
    },
}

/// What the ledger holds when the run is over.
pub(crate) struct Closed {
    /// Each scope's report, in the order of the targets.
    pub(crate) reports: Vec<ScopeReport>,
    /// The first failure to write the output or save the state.
    pub(crate) output_failure: Option<io::Error>,
    /// Where the entries were kept when the output file could not be put in place.
    pub(crate) kept_in: Option<PathBuf>,
}

/// The bookkeeping of one run; see the module documentation.
pub(crate) struct Ledger<O: Write> {
    writer: EntryWriter<Destination<O>>,
    mode: Mode,
    names: Vec<String>,
    reports: Vec<ScopeReport>,
    /// The first write failure: it stops every walk.
    output_failure: Option<io::Error>,
    /// The marks of incremental runs, one per target.
    marks: Vec<Mark>,
    state: Option<StateFile>,
    /// When the state was last saved, and whether marks changed since.
    saved_at: Option<Instant>,
    unsaved: bool,
    /// The appended output's length after the last page made durable: what the state covers.
    covered_length: Option<u64>,
    /// The first cursor of plain walks, for a resume after a failed output file.
    start_cursor: Option<String>,
}

impl<O: Write> Ledger<O> {
    /// A ledger for `targets`, writing through `writer`; plain walks start at `cursor`, incremental ones at the
    /// marks of `state`.
    pub(crate) fn new(
        writer: EntryWriter<Destination<O>>,
        mode: Mode,
        targets: &[Target],
        cursor: Option<String>,
        state: Option<StateFile>,
    ) -> Self {
        let marks = targets
            .iter()
            .map(|target| {
                state
                    .as_ref()
                    .map_or_else(Mark::default, |state| state.mark(&target.name))
            })
            .collect();
        Self {
            writer,
            mode,
            names: targets.iter().map(|target| target.name.clone()).collect(),
            reports: targets
                .iter()
                .map(|_| ScopeReport {
                    resume: cursor.clone(),
                    ..ScopeReport::default()
                })
                .collect(),
            output_failure: None,
            marks,
            state,
            saved_at: None,
            unsaved: false,
            covered_length: None,
            start_cursor: cursor,
        }
    }

    /// Where the incremental walk of scope `index` starts: its mark less the overlap, else `since`.
    pub(crate) fn start(
        &self,
        index: usize,
        since: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        match self.mode {
            Mode::Incremental { overlap } => self.marks[index].start(overlap, since),
            Mode::Plain { .. } => since,
        }
    }

    /// A new walk of scope `index` begins: its last failure is forgotten.
    pub(crate) fn begin_walk(&mut self, index: usize) {
        self.reports[index].failure = None;
    }

    /// Records one page of scope `index`: writes it (a plain page up to `--max-items`; an incremental page's new
    /// entries, made durable, then the mark moved past them up to `ceiling` and saved), each entry with the insight
    /// `insight_of` gives it, telling `notice` about entries dated past `ceiling`. An earlier output failure fails
    /// the page at once: the output is broken for every scope.
    pub(crate) fn page<'c>(
        &mut self,
        index: usize,
        page: &Page,
        ceiling: DateTime<Utc>,
        notice: &dyn Fn(&str),
        insight_of: &dyn Fn(&AuditLogEntry) -> Enrichment<'c>,
    ) -> io::Result<Flow> {
        if let Some(error) = &self.output_failure {
            return Err(io::Error::new(error.kind(), error.to_string()));
        }
        match self.mode {
            Mode::Plain { max_items } => {
                let before = self.reports[index].entries;
                let flow = self.write_limited(index, page.entries(), max_items, insight_of)?;
                let written =
                    usize::try_from(self.reports[index].entries - before).unwrap_or(usize::MAX);
                note_newest(
                    &mut self.reports[index],
                    page.entries().iter().take(written),
                    ceiling,
                );
                self.reports[index].resume = page.next_cursor().map(str::to_owned);
                Ok(flow)
            }
            Mode::Incremental { overlap } => {
                let mut mark = self.marks[index].clone();
                let fresh = mark.new_entries(page.entries());
                self.write(index, &fresh, insight_of)?;
                // The entries are durable before the state that covers them.
                self.writer.destination_mut().sync()?;
                self.covered_length = self.writer.destination().appended_length()?;
                if !fresh.is_empty() {
                    let recorded = mark.record(&fresh, overlap, ceiling);
                    say_recorded(&recorded, ceiling, notice);
                    if let Some(state) = &mut self.state {
                        state.set(&self.names[index], mark.clone());
                        self.unsaved = true;
                    }
                    self.marks[index] = mark;
                    self.save_state(false).map_err(io::Error::other)?;
                }
                let report = &mut self.reports[index];
                report.pages += 1;
                report.entries += fresh.len() as u64;
                note_newest(report, fresh.iter().copied(), ceiling);
                Ok(Flow::Continue)
            }
        }
    }

    /// Writes `entries` of scope `index` with their insights, counting those written without one.
    fn write<'c>(
        &mut self,
        index: usize,
        entries: &[&AuditLogEntry],
        insight_of: &dyn Fn(&AuditLogEntry) -> Enrichment<'c>,
    ) -> io::Result<()> {
        self.writer
            .write_enriched(&self.names[index], entries, insight_of)?;
        let report = &mut self.reports[index];
        for entry in entries {
            match insight_of(entry) {
                Enrichment::Missing => report.missing_insight += 1,
                Enrichment::Failed => {
                    report.missing_insight += 1;
                    report.failed_insight += 1;
                }
                Enrichment::Off | Enrichment::Found(_) => {}
            }
        }
        Ok(())
    }

    /// Writes the page's entries (at most what `max_items` leaves room for), counting them.
    fn write_limited<'c>(
        &mut self,
        index: usize,
        entries: &[AuditLogEntry],
        max_items: Option<u64>,
        insight_of: &dyn Fn(&AuditLogEntry) -> Enrichment<'c>,
    ) -> io::Result<Flow> {
        let room = max_items.map_or(u64::MAX, |max| {
            max.saturating_sub(self.reports[index].entries)
        });
        let take = entries
            .len()
            .min(usize::try_from(room).unwrap_or(usize::MAX));
        let page: Vec<&AuditLogEntry> = entries[..take].iter().collect();
        self.write(index, &page, insight_of)?;
        let report = &mut self.reports[index];
        report.pages += 1;
        report.entries += take as u64;
        let reached = take < entries.len() || max_items.is_some_and(|max| report.entries >= max);
        Ok(if reached { Flow::Stop } else { Flow::Continue })
    }

    /// Records how a walk of scope `index` ended.
    pub(crate) fn finish(&mut self, index: usize, end: WalkEnd) {
        match end {
            WalkEnd::Done => self.reports[index].finished = true,
            WalkEnd::Client(error) => self.reports[index].failure = Some(error),
            WalkEnd::Output(error) => {
                self.output_failure.get_or_insert(error);
            }
        }
    }

    /// Whether writing the output (or saving the state) failed: no walk can go on.
    pub(crate) fn output_failed(&self) -> bool {
        self.output_failure.is_some()
    }

    /// Each scope's report so far.
    pub(crate) fn reports(&self) -> &[ScopeReport] {
        &self.reports
    }

    /// The progress line: pages, entries and rate over the whole run, the scopes done when there are several, and
    /// the quota the last response announced.
    pub(crate) fn progress_text(&self, began: Instant, quota: Option<Quota>) -> String {
        let pages: u64 = self.reports.iter().map(|report| report.pages).sum();
        let entries: u64 = self.reports.iter().map(|report| report.entries).sum();
        let seconds = began.elapsed().as_secs_f64().max(1e-9);
        let mut text = format!(
            "{pages} pages, {entries} entries, {:.0} entries/s",
            entries as f64 / seconds
        );
        if let Some(quota) = quota {
            text.push_str(&format!(
                "; rate limit: {} requests left, reset in {}",
                quota.remaining,
                duration_text(quota.reset)
            ));
        }
        if self.reports.len() > 1 {
            let done = self.reports.iter().filter(|report| report.finished).count();
            text = format!("{done}/{} scopes; {text}", self.reports.len());
        }
        text
    }

    /// Saves the state when marks changed since the last save: at once with `force` or when the output cannot be
    /// cut back (stdout), else at most every [`SAVE_INTERVAL`].
    fn save_state(&mut self, force: bool) -> Result<(), StateError> {
        let Some(state) = &mut self.state else {
            return Ok(());
        };
        if !self.unsaved {
            return Ok(());
        }
        let due = self.saved_at.is_none_or(|at| at.elapsed() >= SAVE_INTERVAL);
        if force || self.covered_length.is_none() || due {
            state.save(self.covered_length)?;
            self.saved_at = Some(Instant::now());
            self.unsaved = false;
        }
        Ok(())
    }

    /// Ends the run's bookkeeping: saves what the state has not saved yet, closes the document (JSON's `]`)
    /// whatever happened, and puts a plain export's file in place. Entries already written are kept, as a valid
    /// document, unless writing itself failed.
    pub(crate) fn close(mut self, output_given: bool) -> Closed {
        if let Err(error) = self.save_state(true) {
            self.output_failure.get_or_insert(io::Error::other(error));
        }
        let mut output_failure = self.output_failure;
        let mut kept_in = None;
        match self.writer.finish() {
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
        let mut reports = self.reports;
        let plain = matches!(self.mode, Mode::Plain { .. });
        if output_failure.is_some() && output_given && kept_in.is_none() && plain {
            // The temporary file is gone with every page in it: resuming starts where this run started.
            for report in &mut reports {
                *report = ScopeReport {
                    resume: self.start_cursor.clone(),
                    ..ScopeReport::default()
                };
            }
        }
        Closed {
            reports,
            output_failure,
            kept_in,
        }
    }
}

/// Moves `report.newest` to the newest `changed_at` of `written` that is not past `ceiling` (an entry from the
/// future does not make the feed look fresher than it is).
fn note_newest<'a>(
    report: &mut ScopeReport,
    written: impl Iterator<Item = &'a AuditLogEntry>,
    ceiling: DateTime<Utc>,
) {
    let newest = written
        .filter_map(|entry| entry.changed_at)
        .filter(|at| *at <= ceiling)
        .max();
    report.newest = report.newest.max(newest);
}

/// Says which entries were dated past `ceiling` (at most three by id) and how many ids were forgotten.
fn say_recorded(recorded: &Recorded, ceiling: DateTime<Utc>, notice: &dyn Fn(&str)) {
    let time = |at: &DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
    if !recorded.future.is_empty() {
        let named: Vec<String> = recorded
            .future
            .iter()
            .take(3)
            .map(|seen| format!("{} at {}", seen.id, time(&seen.changed_at)))
            .collect();
        let more = recorded.future.len() - named.len();
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        notice(&format!(
            "warning: {} entries dated after this walk began (later than {}): {}{more}; exported once, and the \
             state's mark does not follow them",
            recorded.future.len(),
            time(&ceiling),
            named.join(", "),
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
