//! What every request shares: the served accounts and zones with their entries (generated on first use, grown
//! to the present), the journal, the script, the cursor codec, the faults and the rate limiter; the cache of
//! filtered selections, so that the pages of one walk cost a lookup rather than a filter pass each; and each
//! scope's insights, derived from its entries again only when entries were added.

use std::collections::{HashMap, VecDeque};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Instant;

use crate::config::{Config, MockCredentials};
use crate::cursor::{CursorCodec, Fnv};
use crate::data::{
    ACTORS, MAX_MS, MockAuditLogEntry, MockScope, ScopeData, ScopeId, ScopeInfo, generate,
    scope_ids,
};
use crate::fault::{CannedResponse, Fault};
use crate::insight::{self, MockInsight};
use crate::journal::{Journal, lock};
use crate::query::{Filters, MockFieldChanged, nanos};
use crate::rate_limit::Limiter;

/// Cached filtered selections kept at most (the cache is cleared when full).
const CACHE_CAPACITY: usize = 1024;

/// Key of a filtered selection: everything that decides which entries a walk sees (order only reverses it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SelectionKey {
    /// Index into [`State::scopes`].
    scope: usize,
    issue: Option<u16>,
    since: Option<i128>,
    before: Option<i128>,
    field: Option<MockFieldChanged>,
    changed_by: Option<String>,
}

/// A cached selection and the state of its scope's data it was made from.
#[derive(Debug)]
struct Cached {
    /// [`ScopeData::epoch`] at the time.
    epoch: u64,
    /// How many entries the scope had: entries appended at the end since then can be filtered and added.
    seen: usize,
    list: Arc<[u32]>,
}

/// A scope's insights and how many entries its data had when they were derived from it.
#[derive(Debug)]
struct Derived {
    entries: usize,
    list: Arc<[MockInsight]>,
}

/// The entries a walk sees, oldest first: indices into its scope's data.
pub(crate) enum Selection<'a> {
    /// The whole scope or insight, unfiltered.
    All(&'a [u32]),
    /// A filtered selection, shared with the cache.
    Filtered(Arc<[u32]>),
}

impl Deref for Selection<'_> {
    type Target = [u32];

    fn deref(&self) -> &[u32] {
        match self {
            Selection::All(list) => list,
            Selection::Filtered(list) => list,
        }
    }
}

/// One served account or zone: its fixed facts, and its entries once generated.
#[derive(Debug)]
pub(crate) struct Served {
    pub(crate) info: ScopeInfo,
    data: OnceLock<RwLock<ScopeData>>,
    /// How many growth entries were appended so far.
    grown: AtomicU64,
}

/// The server's clock: the wall time at start plus the monotonic time since, in Unix milliseconds.
#[derive(Debug)]
struct Clock {
    start: Instant,
    start_ms: i64,
}

impl Clock {
    fn new() -> Self {
        Clock {
            start: Instant::now(),
            start_ms: chrono::Utc::now().timestamp_millis(),
        }
    }

    /// Milliseconds since start.
    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    fn now_ms(&self) -> i64 {
        self.start_ms.saturating_add(self.elapsed_ms()).min(MAX_MS)
    }
}

/// Everything the request handler shares.
#[derive(Debug)]
pub(crate) struct State {
    /// The accounts, then the zones, each kind in the order of its ids.
    pub(crate) scopes: Vec<Served>,
    accounts: usize,
    /// Scope index by id, per kind (accounts, zones).
    by_id: [HashMap<String, usize>; 2],
    clock: Clock,
    /// Entries per second per scope; 0 for none.
    growth: f64,
    pub(crate) journal: Journal,
    pub(crate) script: Mutex<VecDeque<CannedResponse>>,
    pub(super) codec: CursorCodec,
    pub(super) credentials: MockCredentials,
    pub(super) faults: Vec<Fault>,
    pub(super) limiter: Option<Limiter>,
    /// The sequence number of the next request received.
    pub(super) seq: AtomicU64,
    /// How many requests to served routes the faults have counted.
    pub(super) counted: AtomicU64,
    cache: Mutex<HashMap<SelectionKey, Cached>>,
    seed: u64,
    /// [`Config::with_unknown_insight_values`].
    unknown_insights: bool,
    /// Per scope index: its insights, by id, and the entry count they were derived at.
    insights: Mutex<HashMap<usize, Derived>>,
    /// How many insight-list pages were answered (for [`Fault::InsightsCountDrift`]).
    pub(super) insight_answers: AtomicU64,
}

/// Locks for reading, recovering the data if a panicking thread poisoned the lock.
fn read_lock<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|error| error.into_inner())
}

/// Locks for writing, recovering the data if a panicking thread poisoned the lock.
fn write_lock<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|error| error.into_inner())
}

fn kind_index(kind: MockScope) -> usize {
    match kind {
        MockScope::Account => 0,
        MockScope::Zone => 1,
    }
}

impl State {
    /// Sets up every served scope and generates the first account's and the first zone's entries.
    pub(crate) fn new(config: &Config) -> Self {
        let mut scopes = Vec::with_capacity(config.accounts + config.zones);
        let mut by_id: [HashMap<String, usize>; 2] = Default::default();
        for (kind, count, entries) in [
            (MockScope::Account, config.accounts, config.account_entries),
            (MockScope::Zone, config.zones, config.zone_entries),
        ] {
            for (index, id) in scope_ids(kind, config.seed, count).into_iter().enumerate() {
                by_id[kind_index(kind)].insert(id.clone(), scopes.len());
                scopes.push(Served {
                    info: ScopeInfo::new(
                        kind,
                        id,
                        index,
                        config.seed,
                        entries,
                        config.insights_per_scope,
                    ),
                    data: OnceLock::new(),
                    grown: AtomicU64::new(0),
                });
            }
        }
        let state = State {
            accounts: by_id[0].len(),
            scopes,
            by_id,
            clock: Clock::new(),
            growth: config.growth,
            journal: Journal::new(config.record_requests),
            script: Mutex::new(config.script.iter().cloned().collect()),
            codec: CursorCodec::new(config.seed),
            credentials: config.credentials.clone(),
            faults: config.faults.clone(),
            limiter: config.rate_limit.map(Limiter::new),
            seq: AtomicU64::new(0),
            counted: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
            seed: config.seed,
            unknown_insights: config.unknown_insights,
            insights: Mutex::new(HashMap::new()),
            insight_answers: AtomicU64::new(0),
        };
        for first in [0, state.accounts] {
            state.data(first);
        }
        state
    }

    /// The index of a served scope.
    pub(crate) fn find(&self, kind: MockScope, id: &str) -> Option<usize> {
        self.by_id[kind_index(kind)].get(id).copied()
    }

    /// The served scopes of one kind.
    pub(crate) fn of_kind(&self, kind: MockScope) -> &[Served] {
        match kind {
            MockScope::Account => &self.scopes[..self.accounts],
            MockScope::Zone => &self.scopes[self.accounts..],
        }
    }

    /// A scope's entries, generated on first use and grown to the present.
    fn data(&self, index: usize) -> &RwLock<ScopeData> {
        let served = &self.scopes[index];
        let data = served
            .data
            .get_or_init(|| RwLock::new(generate(&served.info)));
        if self.growth > 0.0 {
            self.grow(served, data);
        }
        data
    }

    /// Appends the growth entries that are due: entry `k` at `start + k / rate`, stamped with that time.
    fn grow(&self, served: &Served, data: &RwLock<ScopeData>) {
        let elapsed = self.clock.elapsed_ms();
        let due = (elapsed as f64 * self.growth / 1000.0) as u64;
        // The normal path: nothing due, no write lock.
        if served.grown.load(Ordering::Acquire) >= due {
            return;
        }
        let mut data = write_lock(data);
        let done = served.grown.load(Ordering::Acquire);
        for k in done + 1..=due {
            if data.room() == 0 {
                break;
            }
            let at = ((k as f64 * 1000.0 / self.growth).ceil() as i64).min(elapsed);
            data.append(
                self.clock.start_ms.saturating_add(at).min(MAX_MS),
                &served.info,
            );
        }
        served.grown.store(due.max(done), Ordering::Release);
    }

    /// A scope's entries, for reading.
    pub(crate) fn read(&self, index: usize) -> RwLockReadGuard<'_, ScopeData> {
        read_lock(self.data(index))
    }

    /// Appends `count` entries stamped `millis` (the server's present when `None`) to a scope, after any growth due.
    pub(crate) fn append(
        &self,
        index: usize,
        count: usize,
        millis: Option<i64>,
    ) -> Result<Vec<MockAuditLogEntry>, usize> {
        let mut data = write_lock(self.data(index));
        if count > data.room() {
            return Err(data.room());
        }
        let millis = millis.unwrap_or_else(|| self.clock.now_ms());
        let info = &self.scopes[index].info;
        Ok((0..count).map(|_| data.append(millis, info)).collect())
    }

    /// A scope's insights now, by id: derived from its entries, again only after entries were added (appending is
    /// the only change, and it always adds to the count).
    pub(crate) fn insights(&self, index: usize) -> Arc<[MockInsight]> {
        let data = self.read(index);
        if let Some(derived) = lock(&self.insights).get(&index)
            && derived.entries == data.len()
        {
            return derived.list.clone();
        }
        let zones = self.of_kind(MockScope::Zone);
        let info = &self.scopes[index].info;
        let zone_tag = |issue: usize| match info.scope.kind() {
            MockScope::Zone => info.scope.id().to_owned(),
            MockScope::Account => zones[issue % zones.len()].info.scope.id().to_owned(),
        };
        let list: Arc<[MockInsight]> =
            insight::build(info, &data, self.seed, zone_tag, self.unknown_insights).into();
        let derived = Derived {
            entries: data.len(),
            list: list.clone(),
        };
        lock(&self.insights).insert(index, derived);
        list
    }

    /// The entries a walk with these filters sees, oldest first (indices into the scope's data).
    pub(crate) fn select<'a>(
        &self,
        scope: usize,
        data: &'a ScopeData,
        issue: Option<u16>,
        filters: &Filters,
    ) -> Selection<'a> {
        let base = data.list(issue);
        if filters.since.is_none()
            && filters.before.is_none()
            && filters.field_changed.is_none()
            && filters.changed_by.is_none()
        {
            return Selection::All(base);
        }
        let key = SelectionKey {
            scope,
            issue,
            since: filters.since.as_ref().map(nanos),
            before: filters.before.as_ref().map(nanos),
            field: filters.field_changed,
            changed_by: filters.changed_by.clone(),
        };
        // `Some(None)`: a changed_by filter naming nobody, which matches nothing.
        let actor: Option<Option<u8>> = key.changed_by.as_deref().map(|name| {
            ACTORS
                .iter()
                .position(|actor| *actor == name)
                .map(|position| position as u8)
        });
        let keep = |index: u32| {
            let meta = data.meta(index);
            let time = i128::from(meta.changed_at_ms()) * 1_000_000;
            key.since.is_none_or(|since| time >= since)
                && key.before.is_none_or(|before| time < before)
                && key.field.is_none_or(|field| meta.field == field)
                && actor.is_none_or(|actor| actor == Some(meta.actor))
        };
        let (epoch, len) = (data.epoch(), data.len());
        {
            let mut cache = lock(&self.cache);
            if let Some(hit) = cache.get_mut(&key)
                && hit.epoch == epoch
                && hit.seen <= len
            {
                if hit.seen < len {
                    // Entries were only appended at the end since: filter them and add them.
                    let tail = data.list(None)[hit.seen..]
                        .iter()
                        .copied()
                        .filter(|&i| issue.is_none_or(|x| data.meta(i).issue == x) && keep(i));
                    hit.list = hit.list.iter().copied().chain(tail).collect();
                    hit.seen = len;
                }
                return Selection::Filtered(hit.list.clone());
            }
        }
        let list: Arc<[u32]> = base.iter().copied().filter(|&i| keep(i)).collect();
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(
            key,
            Cached {
                epoch,
                seen: len,
                list: list.clone(),
            },
        );
        Selection::Filtered(list)
    }

    /// Identifies a walk (scope, insight, filters, order) inside its cursors.
    pub(super) fn fingerprint(scope: &ScopeId, issue: Option<u16>, filters: &Filters) -> u64 {
        let opt = |t: &Option<chrono::DateTime<chrono::Utc>>| {
            t.as_ref().map(|t| nanos(t).to_string()).unwrap_or_default()
        };
        Fnv::new()
            .field(scope.kind().path_segment().as_bytes())
            .field(scope.id().as_bytes())
            .field(
                issue
                    .map(|index| index.to_string())
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(opt(&filters.since).as_bytes())
            .field(opt(&filters.before).as_bytes())
            .field(
                filters
                    .field_changed
                    .map(MockFieldChanged::as_str)
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(
                filters
                    .changed_by
                    .as_deref()
                    .map(|c| format!("={c}"))
                    .unwrap_or_default()
                    .as_bytes(),
            )
            .field(filters.order.as_str().as_bytes())
            .finish()
    }
}
