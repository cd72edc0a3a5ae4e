//! Whether the exporter is doing its job, per scope: the answer of `/readyz`, and the condition systemd's readiness
//! and status lines are drawn from. Kept apart from the metrics because it is a judgement (ready or not, and why),
//! not a count; shared with the listener's task behind one mutex, updated once per poll.

use std::sync::Mutex;

use cloudflare_security_center::Error;

/// A scope whose last this many polls failed makes the exporter not ready.
pub(crate) const FAILURES_BEFORE_UNREADY: u32 = 3;

/// What is known of one scope's polls.
#[derive(Clone, Debug, Default)]
struct ScopeHealth {
    name: String,
    /// Polls that reached the end of the log.
    completed: u64,
    /// Polls that ended, whatever the outcome.
    ended: u64,
    /// Failed polls since the last one that completed.
    failures_in_a_row: u32,
    /// What the last failure was, in a few words of the exporter's own (never the server's text).
    last_failure: Option<&'static str>,
}

/// The health of a run's scopes.
#[derive(Debug, Default)]
pub(crate) struct Health {
    scopes: Mutex<Vec<ScopeHealth>>,
}

impl Health {
    /// Health for the scopes `names`, none of which has polled yet.
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            scopes: Mutex::new(
                names
                    .into_iter()
                    .map(|name| ScopeHealth {
                        name: name.to_owned(),
                        ..ScopeHealth::default()
                    })
                    .collect(),
            ),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ScopeHealth>> {
        // Every update leaves the state consistent: a poisoned lock is still usable.
        self.scopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A poll of scope `index` reached the end of the log.
    pub(crate) fn completed(&self, index: usize) {
        if let Some(scope) = self.lock().get_mut(index) {
            scope.completed += 1;
            scope.ended += 1;
            scope.failures_in_a_row = 0;
        }
    }

    /// A poll of scope `index` failed; `kind` says how in the exporter's words ([`failure_kind`]).
    pub(crate) fn failed(&self, index: usize, kind: &'static str) {
        if let Some(scope) = self.lock().get_mut(index) {
            scope.ended += 1;
            scope.failures_in_a_row = scope.failures_in_a_row.saturating_add(1);
            scope.last_failure = Some(kind);
        }
    }

    /// Whether every scope has had one poll end, however it ended (systemd's READY=1).
    pub(crate) fn every_scope_polled(&self) -> bool {
        self.lock().iter().all(|scope| scope.ended > 0)
    }

    /// How many scopes failed their last poll.
    pub(crate) fn failing(&self) -> usize {
        self.lock()
            .iter()
            .filter(|scope| scope.failures_in_a_row > 0)
            .count()
    }

    /// `Ok` when every scope has completed a poll and none has failed its last [`FAILURES_BEFORE_UNREADY`];
    /// else the scopes that are not ready, one line each, with why.
    pub(crate) fn readiness(&self) -> Result<(), String> {
        let mut lines = String::new();
        for scope in self.lock().iter() {
            let why = if scope.completed == 0 {
                match scope.last_failure {
                    Some(kind) => format!(
                        "no poll has reached the end of the log yet; {} failed, the last: {kind}",
                        scope.ended
                    ),
                    None => "no poll has reached the end of the log yet".to_owned(),
                }
            } else if scope.failures_in_a_row >= FAILURES_BEFORE_UNREADY {
                format!(
                    "the last {} polls failed, the last: {}",
                    scope.failures_in_a_row,
                    scope.last_failure.unwrap_or("an error")
                )
            } else {
                continue;
            };
            lines.push_str(&format!("{}: {why}\n", scope.name));
        }
        if lines.is_empty() { Ok(()) } else { Err(lines) }
    }
}

/// A failure in a few words of the exporter's own: readiness answers may be shown anywhere, so the server's text
/// (its error messages, an HTML page) stays out of them; the log has the details.
pub(crate) fn failure_kind(error: &Error) -> &'static str {
    match error {
        Error::RateLimited { .. } => "rate limited",
        Error::Api(api) if api.status.as_u16() == 429 => "rate limited",
        Error::Api(api) if api.status.as_u16() == 401 || api.status.as_u16() == 403 => {
            "the API refused the credentials (HTTP 401/403)"
        }
        Error::Api(api) if api.status.as_u16() == 404 => "not found (HTTP 404)",
        Error::Api(api) if api.status.is_server_error() => "the API failed (HTTP 5XX)",
        Error::Api(_) => "the API refused the request",
        Error::Timeout { .. } => "timed out",
        Error::Transport { .. } => "the connection failed",
        Error::Certificate { .. } => "the server's certificate was refused",
        Error::Decode { .. } => "an answer that does not decode",
        Error::PaginationLoop { .. } => "a cursor that loops",
        Error::InvalidRequest { .. } | Error::InvalidConfig { .. } => "an invalid request",
        _ => "an error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Not ready before every scope completed a poll; ready after; not ready once one scope failed three polls in
    /// a row, and ready again after its next completed poll.
    #[test]
    fn readiness_follows_the_last_three_polls() {
        let health = Health::new(["account:a", "zone:b"]);
        let waiting = health.readiness().expect_err("nothing polled");
        assert_eq!(waiting.lines().count(), 2, "{waiting}");
        health.completed(0);
        health.failed(1, "timed out");
        let first = health.readiness().expect_err("zone:b never completed");
        assert!(
            first.starts_with("zone:b: no poll has reached the end"),
            "{first}"
        );
        assert!(health.every_scope_polled());
        health.completed(1);
        assert_eq!(health.readiness(), Ok(()));
        health.failed(1, "timed out");
        health.failed(1, "timed out");
        assert_eq!(health.readiness(), Ok(()), "two failures are not three");
        health.failed(1, "timed out");
        let failing = health.readiness().expect_err("three in a row");
        assert_eq!(
            failing,
            "zone:b: the last 3 polls failed, the last: timed out\n"
        );
        health.completed(1);
        assert_eq!(health.readiness(), Ok(()));
    }
}
