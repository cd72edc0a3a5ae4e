//! Deterministic audit-log data: generated from a seed, serialised once, then served many times.
//!
//! Every generated entry is written to JSON exactly once, into one contiguous buffer, so a page is a concatenation
//! of byte slices and never a fresh serialisation; an entry appended later (growth, or a test's
//! [`crate::MockServer::append_entries`]) is serialised once too, into a buffer of its own. A compact metadata row
//! per entry is kept beside the bytes for filtering and ordering. Nothing here reads the wall clock: times are
//! given by the caller, and the same seed always yields byte-identical generated data.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::query::MockFieldChanged;

/// The first account id served by the mock (32 lowercase hex digits, the example id of the API docs).
pub const ACCOUNT_ID: &str = "023e105f4ecef8ad9ca31a8372d0c353";

/// The first zone id served by the mock (32 lowercase hex digits).
pub const ZONE_ID: &str = "9a7806061c88ada191ed06f989cc3dac";

/// The integer `zone_id` carried by every entry of the first zone (the spec types it as `int64`); the zone at
/// index `k` ([`crate::MockServer::zone_ids`]) carries `ZONE_NUMERIC_ID + k`.
pub const ZONE_NUMERIC_ID: i64 = 2_837_910_416;

/// The actors that appear in `changed_by`: `"system"` and a few users.
pub const ACTORS: &[&str] = &[
    "system",
    "alice@example.com",
    "bob@example.com",
    "carol.ng@example.com",
    "d.okafor+secops@example.com",
];

/// Values taken by `current_value` / `previous_value` when `field_changed` is `status`.
pub const STATUS_VALUES: &[&str] = &["active", "in_progress", "resolved", "dismissed"];

/// Values taken by `current_value` / `previous_value` when `field_changed` is `user_classification`.
pub const CLASSIFICATION_VALUES: &[&str] = &["false_positive", "accept_risk", "other"];

/// Rationales; some exercise JSON escaping (quotes, backslash, newline, tab, non-ASCII).
const RATIONALES: &[&str] = &[
    "Auto-resolved: the condition is no longer detected",
    "Fixed in release \"2024.3\"",
    "Accepted risk:\nlegacy endpoint, owned by @platform",
    "Vérifié par l’équipe sécurité ✓",
    "path C:\\inetpub\\wwwroot\tchecked",
    "Duplicate of an earlier insight",
];

/// 2024-01-01T00:00:00Z in Unix milliseconds: the earliest possible first entry.
const EPOCH_MS: i64 = 1_704_067_200_000;

/// The largest `changed_at` a UUIDv7 can carry: 2^48 - 1 milliseconds after the Unix epoch (year 10889).
pub(crate) const MAX_MS: i64 = (1 << 48) - 1;

/// Which of the two API scopes an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MockScope {
    /// `/accounts/{account_id}/...`; the first account served is [`ACCOUNT_ID`].
    Account,
    /// `/zones/{zone_id}/...`; the first zone served is [`ZONE_ID`]; entries carry an integer `zone_id`.
    Zone,
}

impl MockScope {
    /// Both scopes, account first.
    pub const ALL: [MockScope; 2] = [MockScope::Account, MockScope::Zone];

    /// The 32-hex id of the first served scope of this kind ([`ACCOUNT_ID`] or [`ZONE_ID`]).
    pub fn id(self) -> &'static str {
        match self {
            MockScope::Account => ACCOUNT_ID,
            MockScope::Zone => ZONE_ID,
        }
    }

    /// The first path segment of this scope's routes: `accounts` or `zones`.
    pub fn path_segment(self) -> &'static str {
        match self {
            MockScope::Account => "accounts",
            MockScope::Zone => "zones",
        }
    }
}

/// One account or zone, by kind and id: what the per-scope accessors of [`crate::MockServer`] take.
///
/// A bare [`MockScope`] converts into the first served scope of its kind (`MockScope::Account` is [`ACCOUNT_ID`]), so
/// `server.issue_ids(MockScope::Account)` and `server.issue_ids(ScopeId::account(ACCOUNT_ID))` are the same call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId {
    kind: MockScope,
    id: String,
}

impl ScopeId {
    /// A scope of this kind with this id (served or not: accessors answer empty for ids the server does not serve).
    pub fn new(kind: MockScope, id: impl Into<String>) -> Self {
        ScopeId {
            kind,
            id: id.into(),
        }
    }

    /// The account with this id.
    pub fn account(id: impl Into<String>) -> Self {
        ScopeId::new(MockScope::Account, id)
    }

    /// The zone with this id.
    pub fn zone(id: impl Into<String>) -> Self {
        ScopeId::new(MockScope::Zone, id)
    }

    /// Account or zone.
    pub fn kind(&self) -> MockScope {
        self.kind
    }

    /// The 32-hex id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl From<MockScope> for ScopeId {
    /// The first served scope of this kind.
    fn from(kind: MockScope) -> Self {
        ScopeId::new(kind, kind.id())
    }
}

impl From<&ScopeId> for ScopeId {
    fn from(scope: &ScopeId) -> Self {
        scope.clone()
    }
}

impl fmt::Display for ScopeId {
    /// The scope's part of a path: `accounts/{id}` or `zones/{id}`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.kind.path_segment(), self.id)
    }
}

/// One audit-log entry in the exact wire shape the server sends (field order included).
///
/// Values are kept as the strings that went over the wire, so a test can compare them with what a client decoded
/// without any re-formatting ambiguity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockAuditLogEntry {
    /// UUIDv7; its 48-bit timestamp equals `changed_at` in milliseconds.
    pub id: String,
    /// RFC 3339, UTC, millisecond precision, e.g. `2024-01-03T10:00:00.117Z`.
    pub changed_at: String,
    /// `"system"` or a user (see [`ACTORS`]).
    pub changed_by: String,
    /// The value after the change; `null` when the field was cleared.
    pub current_value: Option<String>,
    /// `status` or `user_classification`.
    pub field_changed: String,
    /// The insight this entry belongs to.
    pub issue_id: String,
    /// The value before the change; `null` when it was not set before.
    pub previous_value: Option<String>,
    /// Optional rationale; sometimes `null`.
    pub rationale: Option<String>,
    /// Present only on zone-scoped entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_id: Option<i64>,
}

/// Why [`crate::MockServer::append_entries`] or [`crate::MockServer::append_entries_at`] appended nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendError {
    /// The server serves no account or zone with this id.
    UnknownScope(ScopeId),
    /// The time is before 1970 or later than a UUIDv7 can carry (2^48 milliseconds, in the year 10889).
    TimeOutOfRange(DateTime<Utc>),
    /// The scope has room for fewer entries than asked for (entry indices are 32-bit).
    TooMany {
        /// Entries asked for.
        requested: usize,
        /// Entries that still fit.
        room: usize,
    },
}

impl fmt::Display for AppendError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::UnknownScope(scope) => write!(formatter, "no served scope {scope}"),
            AppendError::TimeOutOfRange(t) => write!(
                formatter,
                "changed_at {} is outside what an entry can carry (1970 to the year 10889)",
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            ),
            AppendError::TooMany { requested, room } => write!(
                formatter,
                "cannot append {requested} entries: the scope has room for {room} more"
            ),
        }
    }
}

impl std::error::Error for AppendError {}

/// What the server needs to filter and order an entry without parsing its JSON.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Meta {
    /// The id's first 64 bits: 48 bits of `changed_at` in milliseconds, the version nibble, 12 random bits.
    hi: u64,
    /// The id's last 64 bits: the variant bits and 62 random bits.
    lo: u64,
    pub(crate) field: MockFieldChanged,
    pub(crate) actor: u8,
    pub(crate) issue: u16,
}

impl Meta {
    /// The entry's place in the total order by (`changed_at`, `id`): its id as a number, since a UUIDv7 starts
    /// with its timestamp and the hex digits of the id sort like the number.
    #[inline]
    pub(crate) fn key(&self) -> u128 {
        (u128::from(self.hi) << 64) | u128::from(self.lo)
    }

    #[inline]
    pub(crate) fn changed_at_ms(&self) -> i64 {
        (self.hi >> 16) as i64
    }
}

/// The fixed facts of one served scope, known at start without generating its entries.
#[derive(Clone, Debug)]
pub(crate) struct ScopeInfo {
    pub(crate) scope: ScopeId,
    /// Position among the served scopes of its kind (0 is [`ACCOUNT_ID`] / [`ZONE_ID`]).
    pub(crate) index: usize,
    pub(crate) issue_ids: Vec<String>,
    /// The integer `zone_id` its entries carry (zones only).
    pub(crate) zone_numeric_id: Option<i64>,
    /// How many entries are generated for it from the seed.
    pub(crate) entries: usize,
    seed: u64,
}

impl ScopeInfo {
    /// The scope at `index` among those of `kind`, with `entries` entries over `insights` insights.
    pub(crate) fn new(
        kind: MockScope,
        id: String,
        index: usize,
        seed: u64,
        entries: usize,
        insights: usize,
    ) -> Self {
        let (_, issue_ids) = Generator::new(kind, seed, index, insights);
        ScopeInfo {
            scope: ScopeId::new(kind, id),
            index,
            issue_ids,
            zone_numeric_id: (kind == MockScope::Zone).then(|| ZONE_NUMERIC_ID + index as i64),
            entries: entries.min(u32::MAX as usize - 1),
            seed,
        }
    }

    /// The index of an insight by id.
    pub(crate) fn issue_index(&self, id: &str) -> Option<u16> {
        self.issue_ids
            .iter()
            .position(|x| x == id)
            .map(|p| p as u16)
    }
}

/// The ids of the scopes of one kind: [`ACCOUNT_ID`] or [`ZONE_ID`] first, then 32-hex ids drawn from the seed.
pub(crate) fn scope_ids(kind: MockScope, seed: u64, count: usize) -> Vec<String> {
    let salt = match kind {
        MockScope::Account => 0x1D5A_CC00_0000_0003,
        MockScope::Zone => 0x1D52_011E_0000_0004,
    };
    let mut rng = Rng(seed ^ salt);
    let mut taken: HashSet<String> = [ACCOUNT_ID, ZONE_ID].map(str::to_owned).into();
    let mut ids = vec![kind.id().to_owned()];
    while ids.len() < count {
        let id = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        if taken.insert(id.clone()) {
            ids.push(id);
        }
    }
    ids.truncate(count.max(1));
    ids
}

/// The entries of one scope: generated ones in one buffer, appended ones beside them, and their order.
#[derive(Debug)]
pub(crate) struct ScopeData {
    bytes: Bytes,
    /// `offsets[i]..offsets[i + 1]` is generated entry `i`'s JSON; `len() == generated + 1`.
    offsets: Vec<usize>,
    /// How many entries were generated (the others were appended).
    generated: usize,
    /// The JSON of appended entries: entry `generated + k` is `appended[k]`.
    appended: Vec<Box<[u8]>>,
    /// Per entry, by entry index (the order entries were made in).
    meta: Vec<Meta>,
    /// Every entry index, in the order of [`Meta::key`].
    order: Vec<u32>,
    /// Each insight's entry indices, in the order of [`Meta::key`].
    per_issue: Vec<Vec<u32>>,
    /// Changes whenever an entry lands anywhere but at the end of the order, so that cached selections, which
    /// can only be extended at their end, know to start over.
    epoch: u64,
    generator: Generator,
}

impl ScopeData {
    /// Entry `i`'s serialised JSON object.
    #[inline]
    pub(crate) fn entry_bytes(&self, index: u32) -> &[u8] {
        let index = index as usize;
        if index < self.generated {
            &self.bytes[self.offsets[index]..self.offsets[index + 1]]
        } else {
            &self.appended[index - self.generated]
        }
    }

    /// Entry `i`, parsed back from the bytes that are served.
    pub(crate) fn entry(&self, index: u32) -> MockAuditLogEntry {
        serde_json::from_slice(self.entry_bytes(index)).expect("served bytes are valid entries")
    }

    #[inline]
    pub(crate) fn meta(&self, index: u32) -> &Meta {
        &self.meta[index as usize]
    }

    /// The entries of the scope, or of one insight, in key order.
    #[inline]
    pub(crate) fn list(&self, issue: Option<u16>) -> &[u32] {
        match issue {
            None => &self.order,
            Some(index) => self
                .per_issue
                .get(index as usize)
                .map_or(&[], Vec::as_slice),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.meta.len()
    }

    /// How many more entries fit (entry indices are 32-bit).
    pub(crate) fn room(&self) -> usize {
        (u32::MAX as usize - 1).saturating_sub(self.meta.len())
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Makes one more entry with this `changed_at` (in `0..=MAX_MS`), for a random insight, with an id greater than
    /// that of every entry already there with the same `changed_at`, and puts it in its place in the order.
    pub(crate) fn append(&mut self, millis: i64, info: &ScopeInfo) -> MockAuditLogEntry {
        let index = self.meta.len() as u32;
        let drawn = self.generator.draw(&info.issue_ids);
        let (mut hi, mut lo) = self.generator.uuid_v7(millis);
        let same_ms_end = self
            .order
            .partition_point(|&i| self.meta[i as usize].changed_at_ms() <= millis);
        if let Some(last) = same_ms_end
            .checked_sub(1)
            .map(|p| self.meta[self.order[p] as usize])
            && last.changed_at_ms() == millis
            && ((u128::from(hi) << 64) | u128::from(lo)) <= last.key()
        {
            // Like a server's monotonic counter: the random bits of the id continue from the last one's.
            let step = 1 + u128::from(self.generator.rng.below(1 << 16));
            if let Some((h, l)) = with_counter(last.hi, counter(last.hi, last.lo) + step) {
                (hi, lo) = (h, l);
            }
        }
        let (entry, meta) = drawn.finish(hi, lo, info);
        let mut json = Vec::with_capacity(320);
        serde_json::to_writer(&mut json, &entry).expect("writing to a Vec cannot fail");
        self.appended.push(json.into_boxed_slice());
        self.meta.push(meta);
        let at = self
            .order
            .partition_point(|&i| self.meta[i as usize].key() < meta.key());
        if at == self.order.len() {
            self.order.push(index);
        } else {
            self.order.insert(at, index);
            self.epoch += 1;
        }
        let mine = &mut self.per_issue[meta.issue as usize];
        let at = mine.partition_point(|&i| self.meta[i as usize].key() < meta.key());
        mine.insert(at, index);
        entry
    }
}

/// The 74 random bits of an id (12 after the version nibble, 62 after the variant bits), as one counter.
fn counter(hi: u64, lo: u64) -> u128 {
    (u128::from(hi & 0xFFF) << 62) | u128::from(lo & ((1 << 62) - 1))
}

/// The id with `hi`'s timestamp and this counter in its random bits; `None` if the counter overflows them.
fn with_counter(hi: u64, c: u128) -> Option<(u64, u64)> {
    (c < 1 << 74).then_some((
        (hi & !0xFFF) | (c >> 62) as u64,
        (0b10 << 62) | (c as u64 & ((1 << 62) - 1)),
    ))
}

/// SplitMix64: tiny, fast, and stable forever (unlike a library RNG whose stream may change between versions).
#[derive(Debug)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, values: &[&'a str]) -> &'a str {
        values[self.below(values.len() as u64) as usize]
    }
}

/// Formats Unix milliseconds as the wire timestamp (`...T..:..:..mmmZ`).
pub(crate) fn format_ms(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A UUIDv7 as two 64-bit halves, written the usual way.
fn format_uuid(hi: u64, lo: u64) -> String {
    let mut text = String::with_capacity(36);
    let _ = write!(
        text,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF,
    );
    text
}

/// The fields of an entry drawn before its id (which may still be adjusted to keep ids in order).
struct Drawn {
    issue: usize,
    field: MockFieldChanged,
    previous: Option<&'static str>,
    current: Option<&'static str>,
    actor: usize,
    rationale: Option<&'static str>,
}

impl Drawn {
    fn finish(self, hi: u64, lo: u64, info: &ScopeInfo) -> (MockAuditLogEntry, Meta) {
        let entry = MockAuditLogEntry {
            id: format_uuid(hi, lo),
            changed_at: format_ms((hi >> 16) as i64),
            changed_by: ACTORS[self.actor].to_owned(),
            current_value: self.current.map(str::to_owned),
            field_changed: self.field.as_str().to_owned(),
            issue_id: info.issue_ids[self.issue].clone(),
            previous_value: self.previous.map(str::to_owned),
            rationale: self.rationale.map(str::to_owned),
            zone_id: info.zone_numeric_id,
        };
        let meta = Meta {
            hi,
            lo,
            field: self.field,
            actor: self.actor as u8,
            issue: self.issue as u16,
        };
        (entry, meta)
    }
}

/// The random stream of one scope and each insight's current status and classification, so that every entry,
/// generated at start or appended later, continues its insight's history.
#[derive(Debug)]
struct Generator {
    rng: Rng,
    /// Per insight: (current status, current classification).
    state: Vec<(Option<&'static str>, Option<&'static str>)>,
}

impl Generator {
    /// The generator of the scope at `index` among those of `kind`, and its insight ids (the stream's first draws).
    fn new(kind: MockScope, seed: u64, index: usize, insights: usize) -> (Generator, Vec<String>) {
        let salt = match kind {
            MockScope::Account => 0xACC0_0000_0000_0001,
            MockScope::Zone => 0x2011_E000_0000_0002,
        };
        // Index 0 keeps the stream the mock always had for its single account and zone.
        let mut rng = Rng(seed ^ salt ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let insights = insights.clamp(1, u16::MAX as usize);
        let issue_ids = (0..insights)
            .map(|_| format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()))
            .collect();
        let generator = Generator {
            rng,
            state: vec![(None, None); insights],
        };
        (generator, issue_ids)
    }

    /// Draws the next entry's insight and fields.
    fn draw(&mut self, issue_ids: &[String]) -> Drawn {
        let rng = &mut self.rng;
        let issue = rng.below(issue_ids.len() as u64) as usize;
        let (status, class) = &mut self.state[issue];
        let field = if rng.chance(60) {
            MockFieldChanged::Status
        } else {
            MockFieldChanged::UserClassification
        };
        let (previous, current) = match field {
            MockFieldChanged::Status => {
                let previous = *status;
                let mut next = rng.pick(STATUS_VALUES);
                if Some(next) == previous {
                    next = STATUS_VALUES[(STATUS_VALUES
                        .iter()
                        .position(|value| *value == next)
                        .unwrap_or(0)
                        + 1)
                        % STATUS_VALUES.len()];
                }
                *status = Some(next);
                (previous, Some(next))
            }
            MockFieldChanged::UserClassification => {
                let previous = *class;
                let next = if previous.is_some() && rng.chance(25) {
                    None
                } else {
                    let mut next = rng.pick(CLASSIFICATION_VALUES);
                    if Some(next) == previous {
                        next = CLASSIFICATION_VALUES[(CLASSIFICATION_VALUES
                            .iter()
                            .position(|value| *value == next)
                            .unwrap_or(0)
                            + 1)
                            % CLASSIFICATION_VALUES.len()];
                    }
                    Some(next)
                };
                *class = next;
                (previous, next)
            }
        };
        let system_percent = if field == MockFieldChanged::Status {
            50
        } else {
            15
        };
        let actor = if rng.chance(system_percent) {
            0
        } else {
            1 + rng.below(ACTORS.len() as u64 - 1) as usize
        };
        let rationale = if rng.chance(40) {
            None
        } else {
            Some(rng.pick(RATIONALES))
        };
        Drawn {
            issue,
            field,
            previous,
            current,
            actor,
            rationale,
        }
    }

    /// A UUIDv7, as two halves, whose timestamp is `millis` and whose other bits are random.
    fn uuid_v7(&mut self, millis: i64) -> (u64, u64) {
        let millis = (millis as u64) & 0xFFFF_FFFF_FFFF;
        let a = self.rng.next_u64();
        let b = self.rng.next_u64();
        let hi = (millis << 16) | 0x7000 | (a & 0x0FFF);
        let lo = ((0x8000 | (b & 0x3FFF)) << 48) | ((b >> 16) & 0xFFFF_FFFF_FFFF);
        (hi, lo)
    }
}

/// Generates the entries of a scope from the seed: `changed_at` strictly increases from early 2024.
pub(crate) fn generate(info: &ScopeInfo) -> ScopeData {
    let (mut generator, _) =
        Generator::new(info.scope.kind, info.seed, info.index, info.issue_ids.len());
    let entries = info.entries;
    let mut buffer = Vec::with_capacity(entries.saturating_mul(300));
    let mut offsets = Vec::with_capacity(entries + 1);
    let mut meta = Vec::with_capacity(entries);
    let mut per_issue: Vec<Vec<u32>> = vec![Vec::new(); info.issue_ids.len()];
    let mut millis = EPOCH_MS + generator.rng.below(30 * 86_400_000) as i64;

    for index in 0..entries {
        millis += 1 + generator.rng.below(120_000) as i64;
        let drawn = generator.draw(&info.issue_ids);
        let (hi, lo) = generator.uuid_v7(millis);
        let (entry, m) = drawn.finish(hi, lo, info);
        offsets.push(buffer.len());
        serde_json::to_writer(&mut buffer, &entry).expect("writing to a Vec cannot fail");
        per_issue[m.issue as usize].push(index as u32);
        meta.push(m);
    }
    offsets.push(buffer.len());

    ScopeData {
        bytes: Bytes::from(buffer),
        offsets,
        generated: entries,
        appended: Vec::new(),
        meta,
        order: (0..entries as u32).collect(),
        per_issue,
        epoch: 0,
        generator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(entries: usize) -> ScopeInfo {
        ScopeInfo::new(MockScope::Zone, ZONE_ID.to_owned(), 0, 7, entries, 3)
    }

    fn keys(data: &ScopeData) -> Vec<u128> {
        data.list(None)
            .iter()
            .map(|&index| data.meta(index).key())
            .collect()
    }

    /// The id's 48-bit timestamp is the entry's `changed_at`, and ids increase with time.
    #[test]
    fn uuid_timestamp_matches_changed_at_and_ids_increase() {
        let data = generate(&zone(500));
        let mut previous: Option<MockAuditLogEntry> = None;
        for index in 0..data.len() as u32 {
            let entry = data.entry(index);
            let hex: String = entry.id.chars().filter(|c| *c != '-').take(12).collect();
            let millis = i64::from_str_radix(&hex, 16).unwrap();
            assert_eq!(format_ms(millis), entry.changed_at);
            assert_eq!(millis, data.meta(index).changed_at_ms());
            assert_eq!(&entry.id[14..15], "7", "version nibble");
            assert!(
                matches!(&entry.id[19..20], "8" | "9" | "a" | "b"),
                "variant bits"
            );
            assert_eq!(entry.zone_id, Some(ZONE_NUMERIC_ID));
            if let Some(p) = previous {
                assert!(entry.id > p.id);
                assert!(entry.changed_at > p.changed_at);
            }
            previous = Some(entry);
        }
    }

    /// Entries appended with one timestamp get ids in the order they were appended, after any entry already there
    /// with that timestamp; a late entry takes its place inside the order and moves the epoch; ids stay unique.
    #[test]
    fn appended_entries_keep_the_order_by_time_and_id() {
        let info = zone(50);
        let mut data = generate(&info);
        let last_ms = data.meta(49).changed_at_ms();
        let tail: Vec<MockAuditLogEntry> = (0..20).map(|_| data.append(last_ms, &info)).collect();
        assert!(tail.windows(2).all(|pair| pair[0].id < pair[1].id));
        assert!(tail[0].id > data.entry(49).id);
        assert!(
            tail.iter()
                .all(|entry| entry.changed_at == data.entry(49).changed_at)
        );
        assert_eq!(data.epoch(), 0, "appended at the end");
        assert_eq!(data.list(None)[50..], (50..70).collect::<Vec<u32>>()[..]);

        let late_ms = data.meta(10).changed_at_ms() + 1;
        let late = data.append(late_ms, &info);
        assert_eq!(data.epoch(), 1, "inserted inside the order");
        let k = keys(&data);
        assert!(
            k.windows(2).all(|pair| pair[0] < pair[1]),
            "strict key order"
        );
        let at = data
            .list(None)
            .iter()
            .position(|&index| index == 70)
            .unwrap();
        assert_eq!(at, 11);
        assert_eq!(data.entry(70), late);
        for issue in 0..3 {
            let list = data.list(Some(issue));
            assert!(
                list.windows(2)
                    .all(|pair| data.meta(pair[0]).key() < data.meta(pair[1]).key())
            );
            assert!(list.iter().all(|&index| data.meta(index).issue == issue));
        }
        let per_issue: usize = (0..3).map(|index| data.list(Some(index)).len()).sum();
        assert_eq!(per_issue, data.len());
    }

    /// The id counter keeps the version and variant bits and refuses to overflow into the timestamp.
    #[test]
    fn id_counter_keeps_version_and_variant_bits() {
        let hi = (1_704_067_200_000u64 << 16) | 0x7ABC;
        let lo = (0b10 << 62) | 12345;
        let c = counter(hi, lo);
        let (h, l) = with_counter(hi, c + 1).unwrap();
        assert_eq!((h, l), (hi, lo + 1));
        let (h, l) = with_counter(hi, (1 << 62) | 5).unwrap();
        assert_eq!(
            format_uuid(h, l),
            format_uuid((hi & !0xFFF) | 1, (0b10 << 62) | 5)
        );
        assert_eq!(h >> 12, hi >> 12, "timestamp and version kept");
        assert_eq!(l >> 62, 0b10, "variant kept");
        assert!(with_counter(hi, 1 << 74).is_none());
    }

    /// Scope ids are the documented first ids, then distinct 32-hex ids that depend on the seed.
    #[test]
    fn scope_ids_start_with_the_documented_ids_and_are_distinct() {
        let accounts = scope_ids(MockScope::Account, 1, 300);
        let zones = scope_ids(MockScope::Zone, 1, 300);
        assert_eq!(
            (accounts[0].as_str(), zones[0].as_str()),
            (ACCOUNT_ID, ZONE_ID)
        );
        let all: HashSet<&String> = accounts.iter().chain(&zones).collect();
        assert_eq!(all.len(), 600);
        assert!(all.iter().all(|id| {
            id.len() == 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }));
        assert_ne!(scope_ids(MockScope::Account, 2, 2)[1], accounts[1]);
        assert_eq!(scope_ids(MockScope::Account, 1, 2)[1], accounts[1]);
    }
}
