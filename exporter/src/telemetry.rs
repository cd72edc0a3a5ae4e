//! What a run reports besides its output, in one place: the metrics ([`crate::metrics`]), the health behind
//! `/readyz` (`health`), the listener that serves both (`serve`) and systemd's notifications (`systemd`). The run
//! calls it at four points (a page recorded, a poll ended, a wait, a round ended) and it keeps the rest out of
//! `run`.

use std::cell::RefCell;
use std::io::Write;
use std::sync::Arc;

use chrono::Utc;

use crate::args::Cli;
use crate::health::{Health, failure_kind};
use crate::ledger::ScopeReport;
use crate::logs::Messages;
use crate::metrics::Metrics;
use crate::scopes::Target;
use crate::serve::{Endpoints, Listener};
use crate::systemd::Notifier;
use crate::walk::{Notice, WalkEnd};

/// What a run is observed through, made before it starts so that the process's `tracing` layer
/// ([`crate::logs::install`]) can count the client's requests into the same metrics.
#[derive(Debug, Default)]
pub struct Telemetry {
    metrics: Option<Arc<Metrics>>,
}

impl Telemetry {
    /// Metrics when `--metrics-listen` asks for them.
    pub fn new(cli: &Cli) -> Self {
        Self {
            metrics: cli.metrics_listen.map(|_| Arc::new(Metrics::new())),
        }
    }

    /// The metrics, when there are any.
    pub fn metrics(&self) -> Option<Arc<Metrics>> {
        self.metrics.clone()
    }

    /// Starts observing a run over `targets`: binds `--metrics-listen` (an error says why it cannot) and reads
    /// systemd's environment.
    pub(crate) async fn start(self, cli: &Cli, targets: &[Target]) -> Result<Active, String> {
        let names: Vec<&str> = targets.iter().map(|target| target.name.as_str()).collect();
        let health = Arc::new(Health::new(names.iter().copied()));
        let listener = match (&self.metrics, cli.metrics_listen) {
            (Some(metrics), Some(address)) => {
                metrics.add_scopes(names.iter().copied());
                let endpoints = Endpoints {
                    metrics: metrics.clone(),
                    health: health.clone(),
                };
                let listener = Listener::bind(address, endpoints).await.map_err(|error| {
                    format!("--metrics-listen {address}: cannot listen: {error}")
                })?;
                Some(listener)
            }
            _ => None,
        };
        Ok(Active {
            metrics: self.metrics,
            health,
            listener,
            notifier: Notifier::from_env(),
            names: targets.iter().map(|target| target.name.clone()).collect(),
            poll_start: RefCell::new(vec![(0, 0); targets.len()]),
        })
    }
}

/// A run being observed; see the module documentation.
pub(crate) struct Active {
    metrics: Option<Arc<Metrics>>,
    health: Arc<Health>,
    listener: Option<Listener>,
    notifier: Notifier,
    names: Vec<String>,
    /// Each scope's pages and entries when its current poll began.
    poll_start: RefCell<Vec<(u64, u64)>>,
}

impl Active {
    /// Where the listener listens, if there is one.
    pub(crate) fn address(&self) -> Option<std::net::SocketAddr> {
        self.listener.as_ref().map(Listener::address)
    }

    /// A poll of scope `index` begins, with `report` as it stands.
    pub(crate) fn poll_started(&self, index: usize, report: &ScopeReport) {
        self.poll_start.borrow_mut()[index] = (report.pages, report.entries);
    }

    /// A page of scope `index` was recorded: `report` holds its totals.
    pub(crate) fn page(&self, index: usize, report: &ScopeReport) {
        if let Some(metrics) = &self.metrics {
            metrics.scope_totals(
                &self.names[index],
                report.pages,
                report.entries,
                report.newest,
            );
        }
    }

    /// A poll of scope `index` ended as `end` says, `report` holding its totals; the JSON log hears of it.
    pub(crate) fn poll_ended<E: Write>(
        &self,
        index: usize,
        end: &WalkEnd,
        report: &ScopeReport,
        messages: &Messages<E>,
    ) {
        let name = &self.names[index];
        let completed = match end {
            WalkEnd::Done => {
                self.health.completed(index);
                if let Some(metrics) = &self.metrics {
                    metrics.poll_succeeded(name, Utc::now());
                }
                true
            }
            WalkEnd::Client(error) => {
                self.health.failed(index, failure_kind(error));
                if let Some(metrics) = &self.metrics {
                    metrics.poll_failed(name);
                }
                false
            }
            // The output is broken: the run stops, and says so.
            WalkEnd::Output(_) => return,
        };
        let (pages, entries) = self.poll_start.borrow()[index];
        messages.poll_ended(
            name,
            report.pages.saturating_sub(pages),
            report.entries.saturating_sub(entries),
            completed,
        );
    }

    /// The walk told something: a wait for the pacer counts as pacing time.
    pub(crate) fn waited(&self, told: Notice<'_>) {
        if let Notice::Wait {
            wait, pacing: true, ..
        } = told
            && let Some(metrics) = &self.metrics
        {
            metrics.paced(wait);
        }
    }

    /// A round of polls ended with `reports`: systemd hears that the service is ready (once every scope has been
    /// polled) and a one-line status.
    pub(crate) fn round_ended(&self, reports: &[ScopeReport]) {
        let entries: u64 = reports.iter().map(|report| report.entries).sum();
        let status = format!(
            "{} scope(s): {entries} entries exported, {} failing; last poll {} UTC",
            reports.len(),
            self.health.failing(),
            Utc::now().format("%H:%M:%S")
        );
        if self.health.every_scope_polled() {
            self.notifier.ready(&status);
        } else {
            self.notifier.status(&status);
        }
    }

    /// Pings systemd's watchdog while the run's task is alive; never ends (pending without a watchdog).
    pub(crate) async fn watchdog(&self) {
        self.notifier.watchdog().await;
    }
}
