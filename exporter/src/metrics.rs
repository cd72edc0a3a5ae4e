//! The exporter's Prometheus metrics (`--metrics-listen`): one registry of the Prometheus project's
//! `prometheus-client`, fed from two sides. The run's own counts (entries, pages, poll outcomes, the newest entry)
//! come from [`crate::telemetry`] after every page and poll; the client's per-request counts (outcomes, 429s,
//! pacing waits, the quota left) come from its `tracing` events, read by [`ClientEvents`], a `tracing` layer. The
//! client keeps no counters of its own: its events, with field names it documents as stable, are its one
//! observation channel, and the same names serve an OpenTelemetry pipeline.
//!
//! Scope labels are the run's own names (`account:ID`, `zone:ID`, checked when the scopes were read), never text
//! from the server.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// The `Content-Type` of the Prometheus text format, served unless the scraper asks for OpenMetrics.
pub const TEXT_CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
/// The `Content-Type` of OpenMetrics text, served when the scraper's `Accept` names it.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The target prefix of the client crate's `tracing` events.
const CLIENT_TARGET: &str = "cloudflare_security_center";

/// The label of the per-scope series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLabel {
    scope: String,
}

/// The label of `requests_total`: `ok`, `retried` or `failed` (the client's `outcome` field).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// The outcomes a request can have, as the client names them.
const OUTCOMES: [&str; 3] = ["ok", "retried", "failed"];

/// A series without labels that exists only once it has a value (a gauge of 0 would claim a figure nobody saw).
type Unlabelled = Vec<(String, String)>;

type Seconds = Counter<f64, AtomicU64>;
type Timestamp = Gauge<f64, AtomicU64>;

/// Every metric of a run; cheap to share (`Arc`), updated through `&self` from the run and the `tracing` layer.
pub struct Metrics {
    registry: Registry,
    entries: Family<ScopeLabel, Counter>,
    pages: Family<ScopeLabel, Counter>,
    failures: Family<ScopeLabel, Counter>,
    last_success: Family<ScopeLabel, Timestamp>,
    newest_entry: Family<ScopeLabel, Timestamp>,
    requests: Family<OutcomeLabel, Counter>,
    rate_limited: Counter,
    pacing_wait: Seconds,
    quota_remaining: Family<Unlabelled, Gauge>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// The registry with every family declared (names under `insight_audit_log_`) and the request outcomes at 0.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("insight_audit_log");
        let metrics = Self {
            entries: Family::default(),
            pages: Family::default(),
            failures: Family::default(),
            last_success: Family::default(),
            newest_entry: Family::default(),
            requests: Family::default(),
            rate_limited: Counter::default(),
            pacing_wait: Seconds::default(),
            quota_remaining: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "entries_written",
            "Entries written to the output, after de-duplication",
            metrics.entries.clone(),
        );
        registry.register(
            "pages",
            "Pages of the audit log received and recorded",
            metrics.pages.clone(),
        );
        registry.register(
            "scope_failures",
            "Polls of a scope that ended in an error",
            metrics.failures.clone(),
        );
        registry.register_with_unit(
            "last_success_timestamp",
            "End of the last poll of a scope that reached the end of its log (Unix time)",
            Unit::Seconds,
            metrics.last_success.clone(),
        );
        registry.register_with_unit(
            "newest_entry_timestamp",
            "changed_at of the newest entry written for a scope (Unix time)",
            Unit::Seconds,
            metrics.newest_entry.clone(),
        );
        registry.register(
            "requests",
            "HTTP requests sent to the API, by outcome: ok (final, 2XX), retried (another attempt follows), \
             failed (final, not 2XX or no answer)",
            metrics.requests.clone(),
        );
        registry.register(
            "rate_limited",
            "429 answers received from the API",
            metrics.rate_limited.clone(),
        );
        registry.register_with_unit(
            "pacing_wait",
            "Time the rate-limit pacer held requests back",
            Unit::Seconds,
            metrics.pacing_wait.clone(),
        );
        registry.register(
            "quota_remaining",
            "Requests left in the rate-limit window, as the API last announced (Ratelimit remaining)",
            metrics.quota_remaining.clone(),
        );
        for outcome in OUTCOMES {
            let _ = metrics.requests.get_or_create(&OutcomeLabel { outcome });
        }
        Self {
            registry,
            ..metrics
        }
    }

    /// Creates the counters of each scope at 0, so that a scope with nothing yet shows as such.
    pub fn add_scopes<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            let label = scope(name);
            let _ = self.entries.get_or_create(&label);
            let _ = self.pages.get_or_create(&label);
            let _ = self.failures.get_or_create(&label);
        }
    }

    /// A scope's totals so far: the counters move up to them (they never go down).
    pub fn scope_totals(
        &self,
        name: &str,
        pages: u64,
        entries: u64,
        newest: Option<DateTime<Utc>>,
    ) {
        let label = scope(name);
        raise(&self.pages.get_or_create(&label), pages);
        raise(&self.entries.get_or_create(&label), entries);
        if let Some(newest) = newest {
            self.newest_entry
                .get_or_create(&label)
                .set(unix_seconds(newest));
        }
    }

    /// A poll of scope `name` reached the end of its log at `at`.
    pub fn poll_succeeded(&self, name: &str, at: DateTime<Utc>) {
        self.last_success
            .get_or_create(&scope(name))
            .set(unix_seconds(at));
    }

    /// A poll of scope `name` ended in an error.
    pub fn poll_failed(&self, name: &str) {
        let _ = self.failures.get_or_create(&scope(name)).inc();
    }

    /// The pacer held requests back for `wait` (the exporter's own waits for pacing longer than the client sleeps).
    pub fn paced(&self, wait: Duration) {
        self.pacing_wait.inc_by(wait.as_secs_f64());
    }

    /// One request ended with `outcome` (`ok`, `retried`, `failed`), with the status and quota it announced.
    fn request(&self, outcome: &str, status: Option<u64>, remaining: Option<u64>) {
        if let Some(outcome) = OUTCOMES.into_iter().find(|known| *known == outcome) {
            self.requests.get_or_create(&OutcomeLabel { outcome }).inc();
        }
        if status == Some(429) {
            self.rate_limited.inc();
        }
        if let Some(remaining) = remaining {
            self.quota_remaining
                .get_or_create(&Vec::new())
                .set(i64::try_from(remaining).unwrap_or(i64::MAX));
        }
    }

    /// The exposition: OpenMetrics text when `openmetrics`, else the Prometheus text format 0.0.4, with the
    /// `Content-Type` it goes with.
    pub fn encode(&self, openmetrics: bool) -> (&'static str, String) {
        let mut text = String::new();
        // Writing to a String cannot fail; a family that could not encode would leave the text short, not wrong.
        if openmetrics {
            let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
            (OPENMETRICS_CONTENT_TYPE, text)
        } else {
            let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
            (TEXT_CONTENT_TYPE, text)
        }
    }
}

fn scope(name: &str) -> ScopeLabel {
    ScopeLabel {
        scope: name.to_owned(),
    }
}

/// Raises `counter` to `total` (never lowers it).
fn raise(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}

fn unix_seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// The `tracing` layer that counts the client's requests and pacing waits into [`Metrics`]. It reads the client's
/// stable event fields only: `outcome` and `http.response.status_code` and `ratelimit.remaining` on the events
/// that end each attempt, `wait_s` on "pacing under the rate limit".
#[derive(Clone, Debug)]
pub struct ClientEvents {
    metrics: Arc<Metrics>,
}

impl ClientEvents {
    /// A layer counting into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }

    /// The events this layer needs: the client's, down to `debug`.
    pub fn filter() -> tracing_subscriber::filter::Targets {
        tracing_subscriber::filter::Targets::new().with_target(CLIENT_TARGET, tracing::Level::DEBUG)
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ClientEvents {
    fn on_event(&self, event: &tracing::Event<'_>, _context: Context<'_, S>) {
        if !event.metadata().target().starts_with(CLIENT_TARGET) {
            return;
        }
        let mut fields = ClientFields::default();
        event.record(&mut fields);
        if let Some(outcome) = &fields.outcome {
            self.metrics
                .request(outcome, fields.status, fields.remaining);
        } else if let Some(wait) = fields.wait_s
            && wait.is_finite()
            && wait > 0.0
        {
            self.metrics.pacing_wait.inc_by(wait);
        }
    }
}

/// The fields of one client event that the metrics read.
#[derive(Default)]
struct ClientFields {
    outcome: Option<String>,
    status: Option<u64>,
    remaining: Option<u64>,
    wait_s: Option<f64>,
}

impl Visit for ClientFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "outcome" {
            self.outcome = Some(value.to_owned());
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "http.response.status_code" => self.status = Some(value),
            "ratelimit.remaining" => self.remaining = Some(value),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(value) = u64::try_from(value) {
            self.record_u64(field, value);
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "wait_s" {
            self.wait_s = Some(value);
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter raised to a total it already passed stays where it is: totals never move a counter down.
    #[test]
    fn totals_only_raise_the_counters() {
        let metrics = Metrics::new();
        metrics.add_scopes(["account:a"]);
        metrics.scope_totals("account:a", 3, 30, None);
        metrics.scope_totals("account:a", 2, 20, None);
        let (_, text) = metrics.encode(false);
        assert!(
            text.contains("insight_audit_log_entries_written_total{scope=\"account:a\"} 30\n"),
            "{text}"
        );
        assert!(
            text.contains("insight_audit_log_pages_total{scope=\"account:a\"} 3\n"),
            "{text}"
        );
    }

    /// The quota gauge is absent until a response announced a figure, then shows the last one.
    #[test]
    fn the_quota_gauge_appears_with_the_first_announcement() {
        let metrics = Metrics::new();
        let (_, before) = metrics.encode(false);
        assert!(
            !before.contains("insight_audit_log_quota_remaining "),
            "{before}"
        );
        metrics.request("ok", Some(200), Some(17));
        metrics.request("failed", Some(429), Some(0));
        let (_, after) = metrics.encode(false);
        assert!(
            after.contains("insight_audit_log_quota_remaining 0\n"),
            "{after}"
        );
        assert!(
            after.contains("insight_audit_log_rate_limited_total 1\n"),
            "{after}"
        );
        assert!(
            after.contains("insight_audit_log_requests_total{outcome=\"ok\"} 1\n"),
            "{after}"
        );
    }

    /// OpenMetrics text ends with `# EOF` and names counter families without `_total`; the text format does not.
    #[test]
    fn both_formats_are_encoded() {
        let metrics = Metrics::new();
        let (kind, openmetrics) = metrics.encode(true);
        assert!(kind.starts_with("application/openmetrics-text"));
        assert!(openmetrics.ends_with("# EOF\n"), "{openmetrics}");
        assert!(openmetrics.contains("# TYPE insight_audit_log_rate_limited counter\n"));
        let (kind, text) = metrics.encode(false);
        assert!(kind.starts_with("text/plain; version=0.0.4"));
        assert!(!text.contains("# EOF"), "{text}");
        assert!(
            text.contains("# TYPE insight_audit_log_rate_limited_total counter\n"),
            "{text}"
        );
    }
}
