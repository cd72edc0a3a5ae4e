//! The checkpoint of incremental runs (`--state FILE`): per scope, the newest `changed_at` exported (the
//! high-water mark) and the ids exported within the overlap before it, so that the next run reads from
//! `mark - overlap`, skips what it already exported, and exports late arrivals inside the overlap exactly once.
//!
//! The file is compact JSON, written atomically (temporary file, fsync, rename, fsync of the folder) and only
//! after the entries it covers are durable; with them it records the output file's length, so that the next run
//! cuts off whatever was appended after it (a page the state does not cover, or a line cut short). A lock file
//! beside it keeps two runs from sharing it. A file that is not a state file, is of another version, or was
//! written for other filters is an error naming what differs: never silently started over.
//!
//! The server's clock is not trusted: the mark never passes the time a walk started plus [`FUTURE_TOLERANCE`], so
//! one entry dated in the future cannot freeze it, and a mark already in the future is repaired when the file is
//! opened. Every file created here (state, lock) is readable by its owner only.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use cloudflare_security_center::AuditLogEntry;
use serde::{Deserialize, Serialize};

/// What the file says it is, so that another JSON file is not taken for a state file.
const KIND: &str = "insight-audit-log state";
/// The layout version this exporter reads and writes.
const VERSION: u32 = 1;

/// How far past the walk's start an entry's `changed_at` may lie and still move the mark: the clock difference
/// between this host and the API that is taken as ordinary.
pub const FUTURE_TOLERANCE: TimeDelta = TimeDelta::minutes(1);

/// The most ids [`Mark::recent`] keeps: beyond it, the oldest are forgotten (and said), so that a burst of entries
/// within the overlap cannot make every save of the state grow without bound.
pub const MAX_RECENT: usize = 100_000;

/// The filters a state file was written for: another run must use the same ones, or its marks mean nothing; and the
/// shape of the records it counted, so that a feed never mixes two shapes in one output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// `--issue`.
    pub issue: Option<String>,
    /// `--field-changed`.
    pub field_changed: Option<String>,
    /// `--changed-by`.
    pub changed_by: Option<String>,
    /// `--before`.
    pub before: Option<DateTime<Utc>>,
    /// The records' shape: the format's name, with ` --enrich` when NDJSON carries insights. `None` in a state
    /// written before the shape was recorded: any shape is accepted then, and recorded from then on.
    #[serde(default)]
    pub shape: Option<String>,
}

/// One entry exported inside the overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The entry's id.
    pub id: String,
    /// Its `changed_at`.
    pub changed_at: DateTime<Utc>,
}

/// Where one scope stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The newest `changed_at` exported; `None` until the first entry.
    pub mark: Option<DateTime<Utc>>,
    /// The entries exported at or after `mark - overlap`.
    pub recent: Vec<Seen>,
    /// Entries exported for this scope over all runs.
    pub exported: u64,
}

/// What [`Mark::record`] noticed about the entries it recorded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Entries dated later than the ceiling: exported, and kept for de-duplication, but not moving the mark.
    pub future: Vec<Seen>,
    /// Ids forgotten because more than [`MAX_RECENT`] lay within the overlap.
    pub forgotten: usize,
}

impl Mark {
    /// Where the next walk starts: `overlap` before the mark, or `since` (the flag) for a scope never exported.
    pub fn start(&self, overlap: TimeDelta, since: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        match self.mark {
            Some(mark) => Some(
                mark.checked_sub_signed(overlap)
                    .unwrap_or(DateTime::<Utc>::MIN_UTC),
            ),
            None => since,
        }
    }

    /// The ids already exported, to skip.
    pub fn seen_ids(&self) -> HashSet<&str> {
        self.recent.iter().map(|seen| seen.id.as_str()).collect()
    }

    /// The entries of `page` not exported yet, in order.
    pub fn new_entries<'a>(&self, page: &'a [AuditLogEntry]) -> Vec<&'a AuditLogEntry> {
        let seen = self.seen_ids();
        page.iter()
            .filter(|entry| {
                let id = entry.id.map(|id| id.to_string());
                id.is_none_or(|id| !seen.contains(id.as_str()))
            })
            .collect()
    }

    /// Records `exported` as written: the mark moves to the newest `changed_at` up to `ceiling` (the walk's start
    /// plus [`FUTURE_TOLERANCE`]), and what lies before `mark - overlap` is forgotten. Entries dated past the
    /// ceiling are remembered, so a later walk skips them, and returned, so the caller can say so.
    pub fn record(
        &mut self,
        exported: &[&AuditLogEntry],
        overlap: TimeDelta,
        ceiling: DateTime<Utc>,
    ) -> Recorded {
        let mut recorded = Recorded::default();
        for entry in exported {
            self.exported += 1;
            let (Some(id), Some(changed_at)) = (entry.id, entry.changed_at) else {
                continue;
            };
            let seen = Seen {
                id: id.to_string(),
                changed_at,
            };
            if changed_at > ceiling {
                recorded.future.push(seen.clone());
            }
            let bounded = changed_at.min(ceiling);
            self.mark = Some(self.mark.map_or(bounded, |mark| mark.max(bounded)));
            self.recent.push(seen);
        }
        if let Some(mark) = self.mark {
            let horizon = mark
                .checked_sub_signed(overlap)
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            self.recent.retain(|seen| seen.changed_at >= horizon);
        }
        if self.recent.len() > MAX_RECENT {
            self.recent.sort_by_key(|seen| seen.changed_at);
            recorded.forgotten = self.recent.len() - MAX_RECENT;
            self.recent.drain(..recorded.forgotten);
        }
        recorded
    }

    /// A mark later than `ceiling` is not trusted (an earlier version let an entry dated in the future move it):
    /// it is dropped, so the next walk reads from `--since` (or the start of the log), skipping the ids it
    /// remembers. Returns the mark dropped.
    fn repair(&mut self, ceiling: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mark = self.mark.filter(|mark| *mark > ceiling)?;
        self.mark = None;
        Some(mark)
    }
}

/// The whole file.
#[derive(Debug, Serialize, Deserialize)]
struct Layout {
    kind: String,
    version: u32,
    query: Query,
    scopes: BTreeMap<String, Mark>,
    /// The length of the appended output file when the state was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_length: Option<u64>,
}

/// An open state file: the marks, the path they are saved to, and the lock that keeps other runs out.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    query: Query,
    scopes: BTreeMap<String, Mark>,
    output_length: Option<u64>,
    repairs: Vec<String>,
    _lock: File,
}

/// Why a state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading, locking or writing failed.
    #[error("{path}: {message}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What was being done.
        message: &'static str,
        /// The I/O error.
        source: io::Error,
    },
    /// Another run holds the lock.
    #[error("{path}: another run is using this state file (its lock {lock} is held)")]
    Locked {
        /// The file.
        path: String,
        /// The lock file.
        lock: String,
    },
    /// The file is not a state file of this exporter.
    #[error("{path}: not a state file of insight-audit-log ({reason})")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Another layout version.
    #[error("{path}: state file version {found}, but this exporter reads version {VERSION}")]
    Version {
        /// The file.
        path: String,
        /// The version it holds.
        found: u32,
    },
    /// Written for other filters.
    #[error(
        "{path}: written for other filters or another format ({differences}); use the same ones, or another \
         state file"
    )]
    Filters {
        /// The file.
        path: String,
        /// Each filter (or the format) that differs, `name: file's -> this run's`.
        differences: String,
    },
}

impl StateFile {
    /// Opens the state at `path` for a run with `query` starting at `now`: a missing file is a fresh state;
    /// anything else must be a valid state file written for the same filters. Marks later than `now` plus
    /// [`FUTURE_TOLERANCE`] are repaired, each said in [`take_repairs`](Self::take_repairs).
    pub fn open(path: &Path, query: &Query, now: DateTime<Utc>) -> Result<StateFile, StateError> {
        let shown = path.display().to_string();
        let io_error = |message: &'static str| {
            let path = shown.clone();
            move |source| StateError::Io {
                path,
                message,
                source,
            }
        };
        let lock_path = sibling(path, ".lock");
        let lock = private_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(
                "cannot create its lock file (a symbolic link is refused)",
            ))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    path: shown,
                    lock: lock_path.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(io_error("cannot lock it")(error));
            }
        }
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(StateFile {
                    path: path.to_path_buf(),
                    query: query.clone(),
                    scopes: BTreeMap::new(),
                    output_length: None,
                    repairs: Vec::new(),
                    _lock: lock,
                });
            }
            Err(error) => return Err(io_error("cannot read it")(error)),
        };
        let header: serde_json::Value =
            serde_json::from_slice(&text).map_err(|error| StateError::Invalid {
                path: shown.clone(),
                reason: format!("not JSON: {error}"),
            })?;
        if header.get("kind").and_then(serde_json::Value::as_str) != Some(KIND) {
            return Err(StateError::Invalid {
                path: shown,
                reason: format!("no \"kind\": \"{KIND}\""),
            });
        }
        match header.get("version").and_then(serde_json::Value::as_u64) {
            Some(version) if version == u64::from(VERSION) => {}
            Some(found) => {
                return Err(StateError::Version {
                    path: shown,
                    found: u32::try_from(found).unwrap_or(u32::MAX),
                });
            }
            None => {
                return Err(StateError::Invalid {
                    path: shown,
                    reason: "no version".to_owned(),
                });
            }
        }
        let layout: Layout =
            serde_json::from_value(header).map_err(|error| StateError::Invalid {
                path: shown.clone(),
                reason: error.to_string(),
            })?;
        let differences = differences(&layout.query, query);
        if !differences.is_empty() {
            return Err(StateError::Filters {
                path: shown,
                differences: differences.join("; "),
            });
        }
        let mut scopes = layout.scopes;
        let ceiling = now + FUTURE_TOLERANCE;
        let repairs = scopes
            .iter_mut()
            .filter_map(|(scope, mark)| {
                let dropped = mark.repair(ceiling)?;
                Some(format!(
                    "warning: {shown}: the mark of {scope} ({}) is later than now ({}); it is not trusted: this run \
                     reads {scope} from --since, or from the start of its log, skipping the {} ids the state \
                     remembers, so entries written before may be written again",
                    dropped.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    mark.recent.len()
                ))
            })
            .collect();
        Ok(StateFile {
            path: path.to_path_buf(),
            // Equal to the file's but for a shape the file did not record yet.
            query: query.clone(),
            scopes,
            output_length: layout.output_length,
            repairs,
            _lock: lock,
        })
    }

    /// The warnings about marks repaired when the file was opened (each said once).
    pub fn take_repairs(&mut self) -> Vec<String> {
        std::mem::take(&mut self.repairs)
    }

    /// The output file's length when the state was last saved, if it was recorded.
    pub fn output_length(&self) -> Option<u64> {
        self.output_length
    }

    /// The mark of `scope` (`account:ID` or `zone:ID`); a fresh one for a scope not seen before.
    pub fn mark(&self, scope: &str) -> Mark {
        self.scopes.get(scope).cloned().unwrap_or_default()
    }

    /// Replaces the mark of `scope` in memory; [`save`](Self::save) writes it.
    pub fn set(&mut self, scope: &str, mark: Mark) {
        self.scopes.insert(scope.to_owned(), mark);
    }

    /// Saves every mark atomically, with the output file's length (`None` when the output is not a file).
    pub fn save(&mut self, output_length: Option<u64>) -> Result<(), StateError> {
        self.output_length = output_length;
        let layout = Layout {
            kind: KIND.to_owned(),
            version: VERSION,
            query: self.query.clone(),
            scopes: std::mem::take(&mut self.scopes),
            output_length,
        };
        let encoded = serde_json::to_vec(&layout);
        self.scopes = layout.scopes;
        let shown = self.path.display().to_string();
        let io_error = |message: &'static str| {
            let path = shown.clone();
            move |source| StateError::Io {
                path,
                message,
                source,
            }
        };
        let folder = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut temp = tempfile::Builder::new()
            .prefix(".state.")
            .suffix(".tmp")
            .tempfile_in(&folder)
            .map_err(io_error("cannot create a temporary file beside it"))?;
        let mut text = encoded
            .map_err(io::Error::other)
            .map_err(io_error("cannot encode it"))?;
        text.push(b'\n');
        temp.write_all(&text).map_err(io_error("cannot write it"))?;
        temp.as_file()
            .sync_all()
            .map_err(io_error("cannot flush it to disk"))?;
        temp.persist(&self.path)
            .map_err(|error| error.error)
            .map_err(io_error("cannot rename it into place"))?;
        // The rename itself is durable once the folder is.
        File::open(&folder)
            .and_then(|folder| folder.sync_all())
            .map_err(io_error("cannot flush its folder to disk"))?;
        Ok(())
    }
}

/// Options that create a file readable by its owner only, and refuse to follow a symbolic link at its path.
fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Each filter that differs between the file's and this run's, as `name: file's -> this run's`.
fn differences(file: &Query, run: &Query) -> Vec<String> {
    /// A filter's value as shown: quoted, or `none`.
    fn shown(value: Option<String>) -> String {
        value.map_or_else(|| "none".to_owned(), |value| format!("{value:?}"))
    }
    let time = |value: Option<DateTime<Utc>>| value.map(|time| time.to_string());
    [
        ("--issue", file.issue.clone(), run.issue.clone()),
        (
            "--field-changed",
            file.field_changed.clone(),
            run.field_changed.clone(),
        ),
        (
            "--changed-by",
            file.changed_by.clone(),
            run.changed_by.clone(),
        ),
        ("--before", time(file.before), time(run.before)),
        // A state that recorded no shape accepts any.
        (
            "--format",
            file.shape.clone(),
            file.shape.as_ref().and(run.shape.clone()),
        ),
    ]
    .into_iter()
    .filter(|(_, in_file, in_run)| in_file != in_run)
    .map(|(flag, in_file, in_run)| format!("{flag}: {} -> {}", shown(in_file), shown(in_run)))
    .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};
    use cloudflare_security_center::AuditLogEntry;

    use chrono::{DateTime, SubsecRound as _};

    use super::{FUTURE_TOLERANCE, Mark, Query, StateError, StateFile};

    /// A ceiling far in the future: the mark follows the entries.
    fn no_ceiling() -> DateTime<Utc> {
        DateTime::<Utc>::MAX_UTC
    }

    fn entry(id: u128, second: i64) -> AuditLogEntry {
        serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::from_u128(id).to_string(),
            "changed_at": Utc.timestamp_opt(1_700_000_000 + second, 0).single().expect("a time").to_rfc3339(),
        }))
        .expect("an entry")
    }

    /// The mark follows the newest entry; ids older than the overlap are forgotten; ids seen are skipped.
    #[test]
    fn the_mark_moves_forward_and_remembers_the_overlap() {
        let overlap = TimeDelta::seconds(10);
        let mut mark = Mark::default();
        let first = [entry(1, 0), entry(2, 5), entry(3, 20)];
        let fresh = mark.new_entries(&first);
        assert_eq!(fresh.len(), 3);
        mark.record(&fresh, overlap, no_ceiling());
        assert_eq!(mark.mark, first[2].changed_at);
        assert_eq!(
            mark.recent.len(),
            1,
            "only the entry within 10 s of the mark"
        );
        // The next walk re-reads from mark - overlap: 3 is skipped, 4 (same second) and 5 are new.
        let next = [entry(3, 20), entry(4, 20), entry(5, 25)];
        let fresh = mark.new_entries(&next);
        let ids: Vec<_> = fresh.iter().map(|entry| entry.id).collect();
        assert_eq!(ids, [next[1].id, next[2].id]);
        mark.record(&fresh, overlap, no_ceiling());
        assert_eq!(mark.exported, 5);
        assert_eq!(
            mark.start(overlap, None),
            Some(
                Utc.timestamp_opt(1_700_000_015, 0)
                    .single()
                    .expect("a time")
            )
        );
    }

    /// A state saved and opened again holds the same marks; opening it for other filters, or a file of another
    /// kind or version, is an error naming the problem.
    #[test]
    fn a_state_file_round_trips_and_refuses_what_it_is_not() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("state.json");
        let query = Query {
            issue: Some("i1".to_owned()),
            ..Query::default()
        };
        let mut state = StateFile::open(&path, &query, Utc::now()).expect("a fresh state");
        let mut mark = Mark::default();
        let entries = [entry(1, 0)];
        mark.record(
            &mark.new_entries(&entries),
            TimeDelta::minutes(15),
            no_ceiling(),
        );
        state.set("account:a", mark.clone());
        state.save(Some(42)).expect("saved");
        assert!(matches!(
            StateFile::open(&path, &query, Utc::now()),
            Err(StateError::Locked { .. })
        ));
        drop(state);
        let text = std::fs::read_to_string(&path).expect("readable");
        assert_eq!(text.lines().count(), 1, "compact JSON: {text}");
        let reopened = StateFile::open(&path, &query, Utc::now()).expect("the same state");
        assert_eq!(reopened.mark("account:a"), mark);
        assert_eq!(reopened.output_length(), Some(42));
        assert_eq!(reopened.mark("zone:b"), Mark::default());
        drop(reopened);

        let other = Query {
            issue: Some("i2".to_owned()),
            ..Query::default()
        };
        let error = StateFile::open(&path, &other, Utc::now())
            .expect_err("other filters")
            .to_string();
        assert!(error.contains("--issue: \"i1\" -> \"i2\""), "{error}");

        std::fs::write(
            &path,
            br#"{"kind": "insight-audit-log state", "version": 9}"#,
        )
        .expect("written");
        let error = StateFile::open(&path, &query, Utc::now())
            .expect_err("another version")
            .to_string();
        assert!(error.contains("version 9"), "{error}");

        std::fs::write(&path, b"{\"cursor\": 1}").expect("written");
        let error = StateFile::open(&path, &query, Utc::now())
            .expect_err("not a state")
            .to_string();
        assert!(error.contains("not a state file"), "{error}");

        std::fs::write(&path, b"{\"kind\": \"insight-au").expect("written");
        let error = StateFile::open(&path, &query, Utc::now())
            .expect_err("cut")
            .to_string();
        assert!(error.contains("not JSON"), "{error}");
        assert!(error.contains("state.json"), "{error}");
    }

    /// A state is bound to the shape of the records it counted: another format is refused, naming both; a state
    /// written before shapes were recorded accepts any format and records the run's.
    #[test]
    fn a_state_file_is_bound_to_its_format() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("state.json");
        let shaped = |shape: &str| Query {
            shape: Some(shape.to_owned()),
            ..Query::default()
        };
        let mut state = StateFile::open(&path, &shaped("ndjson"), Utc::now()).expect("fresh");
        state.save(None).expect("saved");
        drop(state);
        let error = StateFile::open(&path, &shaped("ecs"), Utc::now())
            .expect_err("another format")
            .to_string();
        assert!(error.contains("--format: \"ndjson\" -> \"ecs\""), "{error}");

        std::fs::write(
            &path,
            br#"{"kind":"insight-audit-log state","version":1,"query":{},"scopes":{}}"#,
        )
        .expect("written");
        let mut legacy = StateFile::open(&path, &shaped("ocsf"), Utc::now()).expect("any shape");
        legacy.save(None).expect("saved");
        drop(legacy);
        let error = StateFile::open(&path, &shaped("ndjson --enrich"), Utc::now())
            .expect_err("recorded now")
            .to_string();
        assert!(error.contains("\"ocsf\" -> \"ndjson --enrich\""), "{error}");
    }

    /// An entry dated 9999-12-31 is exported once and remembered, but the mark stops at the ceiling, so the next
    /// walk starts before the entries that come after it, and skips the future one.
    #[test]
    fn an_entry_dated_in_the_future_does_not_freeze_the_mark() {
        let overlap = TimeDelta::minutes(15);
        let ceiling = Utc
            .timestamp_opt(1_700_000_100, 0)
            .single()
            .expect("a time");
        let future: AuditLogEntry = serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::from_u128(9).to_string(),
            "changed_at": "9999-12-31T23:59:59Z",
        }))
        .expect("an entry");
        let mut mark = Mark::default();
        let page = [entry(1, 0), future.clone(), entry(2, 30)];
        let recorded = mark.record(&mark.new_entries(&page), overlap, ceiling);
        assert_eq!(recorded.future.len(), 1);
        assert_eq!(Some(recorded.future[0].changed_at), future.changed_at);
        assert_eq!(mark.mark, Some(ceiling));
        let start = mark.start(overlap, None).expect("a start");
        assert!(start < ceiling, "{start}");
        // The next walk meets the future entry again and skips it; a later entry is new.
        let next = [future, entry(3, 40)];
        let fresh = mark.new_entries(&next);
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0].id, next[1].id);
    }

    /// A state file that already holds a future mark is repaired when opened, with a warning naming the scope.
    #[test]
    fn a_future_mark_in_a_state_file_is_repaired_on_load() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("state.json");
        let query = Query::default();
        let mut state = StateFile::open(&path, &query, Utc::now()).expect("a fresh state");
        let mut mark = Mark::default();
        let future: AuditLogEntry = serde_json::from_value(serde_json::json!({
            "id": uuid::Uuid::from_u128(9).to_string(),
            "changed_at": "9999-12-31T23:59:59Z",
        }))
        .expect("an entry");
        mark.record(&[&future], TimeDelta::minutes(15), no_ceiling());
        state.set("zone:z", mark);
        state.save(None).expect("saved");
        drop(state);
        let now = Utc::now().trunc_subsecs(0);
        let mut reopened = StateFile::open(&path, &query, now).expect("the state");
        let repairs = reopened.take_repairs();
        assert_eq!(repairs.len(), 1, "{repairs:?}");
        assert!(repairs[0].contains("zone:z"), "{repairs:?}");
        assert!(repairs[0].contains("9999-12-31T23:59:59Z"), "{repairs:?}");
        let repaired = reopened.mark("zone:z");
        assert_eq!(repaired.mark, None);
        assert_eq!(repaired.recent.len(), 1, "the future id is still skipped");
        assert!(reopened.take_repairs().is_empty());
        // A mark within the tolerance is left alone.
        let mut near = Mark {
            mark: Some(now + FUTURE_TOLERANCE / 2),
            ..Mark::default()
        };
        assert_eq!(near.repair(now + FUTURE_TOLERANCE), None);
    }

    /// Overlaps that reach past the calendar's start do not panic.
    #[test]
    fn huge_overlaps_do_not_overflow() {
        let mut mark = Mark::default();
        let entries = [entry(1, 0)];
        mark.record(&mark.new_entries(&entries), TimeDelta::MAX, no_ceiling());
        assert_eq!(
            mark.start(TimeDelta::MAX, None),
            Some(DateTime::<Utc>::MIN_UTC)
        );
    }
}
