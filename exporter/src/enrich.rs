//! The insight behind each entry, for the formats that carry it: each scope's insight lists read once per run (and,
//! in `--follow`, again at most once per poll when an entry names an insight the cache lacks), through the same
//! client and pacer as the audit log. Enrichment never costs an entry: when the lists cannot be read, or an insight
//! is not in them, the entry is written without it and says so. A rate limit on the way is waited out, as the audit
//! log's walk waits it out, so that a busy budget does not cost the entries their insight.

use std::collections::HashMap;

use cloudflare_security_center::{AuditLogEntry, Client, Insight, Scope};
use indicatif::ProgressBar;

use crate::exit;
use crate::siem::Enrichment;
use crate::walk::{Notice, Patience, RateLimitWait};

/// What the run knows of one scope's insights.
#[derive(Debug, Default)]
enum Known {
    /// Not read yet.
    #[default]
    Unread,
    /// Read in poll `poll`.
    Read {
        by_id: HashMap<String, Insight>,
        poll: u64,
    },
    /// Reading failed in poll `poll`.
    Failed { poll: u64 },
}

/// The insights of every scope of a run, by target index.
#[derive(Debug)]
pub(crate) struct InsightCache {
    scopes: Vec<Known>,
}

/// Why the cache should be (re)filled for a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// Nothing to do.
    Nothing,
    /// The scope was never read, or failed in an earlier poll.
    Read,
    /// The page names an insight the cache lacks, and the scope was not refreshed in this poll.
    Refresh,
}

impl InsightCache {
    /// An empty cache for `scopes` targets.
    pub(crate) fn new(scopes: usize) -> Self {
        Self {
            scopes: (0..scopes).map(|_| Known::Unread).collect(),
        }
    }

    /// Whether scope `index` needs reading before `entries` are written in poll `poll`.
    pub(crate) fn need(&self, index: usize, entries: &[AuditLogEntry], poll: u64) -> Need {
        match &self.scopes[index] {
            Known::Unread => Need::Read,
            Known::Failed { poll: failed } if *failed < poll => Need::Read,
            Known::Failed { .. } => Need::Nothing,
            Known::Read { by_id, poll: read } => {
                let lacks = entries.iter().any(|entry| {
                    entry
                        .issue_id
                        .as_ref()
                        .is_some_and(|id| !by_id.contains_key(id))
                });
                if lacks && *read < poll {
                    Need::Refresh
                } else {
                    Need::Nothing
                }
            }
        }
    }

    /// Records the outcome of reading scope `index` in poll `poll`: the insights, or the failure (kept insights of an
    /// earlier read stay usable after a failed refresh).
    pub(crate) fn store(&mut self, index: usize, poll: u64, read: Result<Vec<Insight>, ()>) {
        let slot = &mut self.scopes[index];
        match read {
            Ok(insights) => {
                let by_id = insights
                    .into_iter()
                    .filter_map(|insight| Some((insight.id.clone()?, insight)))
                    .collect();
                *slot = Known::Read { by_id, poll };
            }
            Err(()) => match slot {
                Known::Read { poll: read, .. } => *read = poll,
                _ => *slot = Known::Failed { poll },
            },
        }
    }

    /// The insight of `entry` in scope `index`.
    pub(crate) fn lookup(&self, index: usize, entry: &AuditLogEntry) -> Enrichment<'_> {
        match &self.scopes[index] {
            Known::Read { by_id, .. } => entry
                .issue_id
                .as_ref()
                .and_then(|id| by_id.get(id))
                .map_or(Enrichment::Missing, Enrichment::Found),
            Known::Unread | Known::Failed { .. } => Enrichment::Failed,
        }
    }
}

/// Reads every insight of `scope` (1000 a page, each once); the error as one line. A rate limit is waited out as a
/// walk's is (told to `notice`, within `patience`), and the read starts again from its first page, since the
/// walk's guard needs every page before.
pub(crate) async fn read_insights(
    client: &Client,
    scope: Scope,
    patience: Patience,
    notice: &dyn Fn(Notice<'_>),
    progress: &ProgressBar,
) -> Result<Vec<Insight>, String> {
    let mut waits_in_a_row = 0;
    'read: loop {
        let mut insights = client.insights(scope.clone()).items();
        let mut all = Vec::new();
        while let Some(insight) = insights.next().await {
            match insight {
                Ok(insight) => all.push(insight),
                Err(error) => {
                    if waits_in_a_row < patience.max_waits
                        && let Some(wait) = RateLimitWait::of(&error, patience)
                    {
                        waits_in_a_row += 1;
                        drop(insights);
                        wait.wait_out(notice, progress).await;
                        continue 'read;
                    }
                    return Err(exit::one_line(&error));
                }
            }
        }
        return Ok(all);
    }
}

#[cfg(test)]
mod tests {
    use cloudflare_security_center::{AuditLogEntry, Insight};

    use super::{InsightCache, Need};

    fn entry(issue: &str) -> AuditLogEntry {
        serde_json::from_value(serde_json::json!({ "issue_id": issue })).expect("an entry")
    }

    fn insight(id: &str) -> Insight {
        Insight {
            id: Some(id.to_owned()),
            ..Insight::default()
        }
    }

    /// A scope is read once; an unknown insight asks for one refresh per poll, not more; a failed read is tried
    /// again in the next poll, and entries meanwhile say the lists failed.
    #[test]
    fn reads_once_and_refreshes_at_most_once_a_poll() {
        let mut cache = InsightCache::new(1);
        let known = [entry("a")];
        let unknown = [entry("b")];
        assert_eq!(cache.need(0, &known, 1), Need::Read);
        cache.store(0, 1, Ok(vec![insight("a")]));
        assert_eq!(cache.need(0, &known, 1), Need::Nothing);
        assert_eq!(
            cache.need(0, &unknown, 1),
            Need::Nothing,
            "read in this poll already"
        );
        assert_eq!(cache.need(0, &unknown, 2), Need::Refresh);
        cache.store(0, 2, Ok(vec![insight("a"), insight("b")]));
        assert!(cache.lookup(0, &unknown[0]).insight().is_some());
        assert_eq!(cache.lookup(0, &entry("c")).state(), Some("missing"));

        let mut failing = InsightCache::new(1);
        failing.store(0, 1, Err(()));
        assert_eq!(failing.lookup(0, &known[0]).state(), Some("failed"));
        assert_eq!(failing.need(0, &known, 1), Need::Nothing);
        assert_eq!(failing.need(0, &known, 2), Need::Read);
    }
}
