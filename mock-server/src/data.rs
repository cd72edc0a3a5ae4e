//! Deterministic audit-log data: generated once from a seed, serialised once, then served many times.
//!
//! Every entry is written to JSON exactly once, into one contiguous buffer, so a page is a concatenation of byte
//! slices and never a fresh serialisation. A compact metadata row per entry is kept beside the bytes for
//! filtering. Nothing here reads the wall clock: the same seed always yields byte-identical data.

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::query::FieldChanged;

/// The account id served by the mock (32 lowercase hex digits, the example id of the API docs).
pub const ACCOUNT_ID: &str = "023e105f4ecef8ad9ca31a8372d0c353";

/// The zone id served by the mock (32 lowercase hex digits).
pub const ZONE_ID: &str = "9a7806061c88ada191ed06f989cc3dac";

/// The integer `zone_id` carried by every zone-scoped entry (the spec types it as `int64`).
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

/// Which of the two API scopes an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `/accounts/{account_id}/...`, id [`ACCOUNT_ID`].
    Account,
    /// `/zones/{zone_id}/...`, id [`ZONE_ID`]; entries carry `zone_id` = [`ZONE_NUMERIC_ID`].
    Zone,
}

impl Scope {
    /// Both scopes, account first.
    pub const ALL: [Scope; 2] = [Scope::Account, Scope::Zone];

    /// The 32-hex id the mock serves for this scope.
    pub fn id(self) -> &'static str {
        match self {
            Scope::Account => ACCOUNT_ID,
            Scope::Zone => ZONE_ID,
        }
    }

    /// The first path segment of this scope's routes: `accounts` or `zones`.
    pub fn path_segment(self) -> &'static str {
        match self {
            Scope::Account => "accounts",
            Scope::Zone => "zones",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Scope::Account => 0,
            Scope::Zone => 1,
        }
    }
}

/// One audit-log entry in the exact wire shape the server sends (field order included).
///
/// Values are kept as the strings that went over the wire, so a test can compare them with what a client decoded
/// without any re-formatting ambiguity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLogEntry {
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

/// What the server needs to filter an entry without parsing its JSON.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Meta {
    pub(crate) changed_at_ms: i64,
    pub(crate) field: FieldChanged,
    pub(crate) actor: u8,
}

/// The generated data of one scope.
#[derive(Debug)]
pub(crate) struct ScopeData {
    pub(crate) issue_ids: Vec<String>,
    bytes: Bytes,
    /// `offsets[i]..offsets[i + 1]` is entry `i`'s JSON; `len() == entries + 1`.
    offsets: Vec<usize>,
    pub(crate) meta: Vec<Meta>,
    /// Ascending entry indices of each insight.
    pub(crate) per_issue: Vec<Arc<[u32]>>,
    /// All entry indices, ascending.
    pub(crate) all: Arc<[u32]>,
}

impl ScopeData {
    /// Entry `i`'s serialised JSON object.
    pub(crate) fn entry_bytes(&self, i: u32) -> &[u8] {
        let i = i as usize;
        &self.bytes[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Entry `i`, parsed back from the bytes that are served.
    pub(crate) fn entry(&self, i: u32) -> AuditLogEntry {
        serde_json::from_slice(self.entry_bytes(i)).expect("served bytes are valid entries")
    }

    /// The index of an insight by id.
    pub(crate) fn issue_index(&self, id: &str) -> Option<u16> {
        self.issue_ids
            .iter()
            .position(|x| x == id)
            .map(|p| p as u16)
    }

    pub(crate) fn len(&self) -> usize {
        self.meta.len()
    }
}

/// SplitMix64: tiny, fast, and stable forever (unlike a library RNG whose stream may change between versions).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, values: &[&'a str]) -> &'a str {
        values[self.below(values.len() as u64) as usize]
    }
}

/// Formats Unix milliseconds as the wire timestamp (`...T..:..:..mmmZ`).
pub(crate) fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A UUIDv7 string whose timestamp is `ms` and whose other bits come from `rng`.
fn uuid_v7(ms: i64, rng: &mut Rng) -> String {
    let ms = (ms as u64) & 0xFFFF_FFFF_FFFF;
    let a = rng.next_u64();
    let b = rng.next_u64();
    let mut s = String::with_capacity(36);
    let _ = write!(
        s,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        ms >> 16,
        ms & 0xFFFF,
        0x7000 | (a & 0x0FFF),
        0x8000 | (b & 0x3FFF),
        (b >> 16) & 0xFFFF_FFFF_FFFF,
    );
    s
}

/// Generates `entries` entries for `scope`, spread over `insights` insights, from `seed`.
pub(crate) fn generate(scope: Scope, seed: u64, entries: usize, insights: usize) -> ScopeData {
    let salt = match scope {
        Scope::Account => 0xACC0_0000_0000_0001,
        Scope::Zone => 0x2011_E000_0000_0002,
    };
    let mut rng = Rng(seed ^ salt);
    let insights = insights.clamp(1, u16::MAX as usize);
    let entries = entries.min(u32::MAX as usize - 1);

    let issue_ids: Vec<String> = (0..insights)
        .map(|_| format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()))
        .collect();
    // Per insight: (current status, current classification).
    let mut state: Vec<(Option<&str>, Option<&str>)> = vec![(None, None); insights];

    let mut buf = Vec::with_capacity(entries.saturating_mul(300));
    let mut offsets = Vec::with_capacity(entries + 1);
    let mut meta = Vec::with_capacity(entries);
    let mut per_issue: Vec<Vec<u32>> = vec![Vec::new(); insights];
    let mut ms = EPOCH_MS + rng.below(30 * 86_400_000) as i64;

    for i in 0..entries {
        ms += 1 + rng.below(120_000) as i64;
        let issue = rng.below(insights as u64) as usize;
        let (status, class) = &mut state[issue];
        let field = if rng.chance(60) {
            FieldChanged::Status
        } else {
            FieldChanged::UserClassification
        };
        let (previous, current) = match field {
            FieldChanged::Status => {
                let previous = *status;
                let mut next = rng.pick(STATUS_VALUES);
                if Some(next) == previous {
                    next =
                        STATUS_VALUES[(STATUS_VALUES.iter().position(|v| *v == next).unwrap_or(0)
                            + 1)
                            % STATUS_VALUES.len()];
                }
                *status = Some(next);
                (previous, Some(next))
            }
            FieldChanged::UserClassification => {
                let previous = *class;
                let next = if previous.is_some() && rng.chance(25) {
                    None
                } else {
                    let mut next = rng.pick(CLASSIFICATION_VALUES);
                    if Some(next) == previous {
                        next = CLASSIFICATION_VALUES[(CLASSIFICATION_VALUES
                            .iter()
                            .position(|v| *v == next)
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
        let system_percent = if field == FieldChanged::Status {
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
        let entry = AuditLogEntry {
            id: uuid_v7(ms, &mut rng),
            changed_at: format_ms(ms),
            changed_by: ACTORS[actor].to_owned(),
            current_value: current.map(str::to_owned),
            field_changed: field.as_str().to_owned(),
            issue_id: issue_ids[issue].clone(),
            previous_value: previous.map(str::to_owned),
            rationale: rationale.map(str::to_owned),
            zone_id: (scope == Scope::Zone).then_some(ZONE_NUMERIC_ID),
        };
        offsets.push(buf.len());
        serde_json::to_writer(&mut buf, &entry).expect("writing to a Vec cannot fail");
        meta.push(Meta {
            changed_at_ms: ms,
            field,
            actor: actor as u8,
        });
        per_issue[issue].push(i as u32);
    }
    offsets.push(buf.len());

    ScopeData {
        issue_ids,
        bytes: Bytes::from(buf),
        offsets,
        meta,
        per_issue: per_issue.into_iter().map(Arc::from).collect(),
        all: (0..entries as u32).collect::<Vec<_>>().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id's 48-bit timestamp is the entry's `changed_at`, and ids increase with time.
    #[test]
    fn uuid_timestamp_matches_changed_at_and_ids_increase() {
        let data = generate(Scope::Zone, 7, 500, 3);
        let mut previous: Option<AuditLogEntry> = None;
        for i in 0..data.len() as u32 {
            let e = data.entry(i);
            let hex: String = e.id.chars().filter(|c| *c != '-').take(12).collect();
            let ms = i64::from_str_radix(&hex, 16).unwrap();
            assert_eq!(format_ms(ms), e.changed_at);
            assert_eq!(&e.id[14..15], "7", "version nibble");
            assert!(
                matches!(&e.id[19..20], "8" | "9" | "a" | "b"),
                "variant bits"
            );
            assert_eq!(e.zone_id, Some(ZONE_NUMERIC_ID));
            if let Some(p) = previous {
                assert!(e.id > p.id);
                assert!(e.changed_at > p.changed_at);
            }
            previous = Some(e);
        }
    }
}
