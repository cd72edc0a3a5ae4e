//! The four output formats, written a page at a time so that whatever reaches the destination is always whole
//! entries (never a partial line) and, for JSON, can always be closed into a valid document.
//!
//! Every format carries the same nine fields in the same order, `null` (CSV: an empty field; table: `-`) when the
//! API left a value out, so downstream tools see one fixed schema whatever the scope.

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use clap::ValueEnum;
use cloudflare_security_center::AuditLogEntry;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::exit::is_unsafe;
use crate::siem::{self, Enrichment, Source};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line (for jq, SIEM shippers, `split`, `cat` of resumed parts).
    Ndjson,
    /// One JSON array (closed even when the export stops early).
    Json,
    /// RFC 4180 CSV with a header row; null values are empty fields.
    Csv,
    /// Aligned columns for reading in a terminal; control characters in text are shown as spaces.
    Table,
    /// One Elastic Common Schema 9.4.0 document per line, with the entry's insight.
    Ecs,
    /// One OCSF 1.8.0 Detection Finding per line, with the entry's insight.
    Ocsf,
}

impl Format {
    /// Whether the format carries each entry's insight, so the run reads the insight lists.
    pub fn enriched(self) -> bool {
        matches!(self, Format::Ecs | Format::Ocsf)
    }
}

/// The column names, in output order (CSV header, JSON keys).
pub const FIELDS: [&str; 9] = [
    "id",
    "changed_at",
    "changed_by",
    "field_changed",
    "previous_value",
    "current_value",
    "issue_id",
    "zone_id",
    "rationale",
];

/// `changed_at` as text: RFC 3339 in UTC with `Z` and milliseconds, as the API sends it, or with 6 or 9 fraction
/// digits when the value is finer than a millisecond (so nothing is rounded away).
fn time_text(time: &DateTime<Utc>) -> String {
    let digits = if time.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        SecondsFormat::Millis
    } else {
        SecondsFormat::AutoSi
    };
    time.to_rfc3339_opts(digits, true)
}

/// One entry in output shape: every field present, borrowed from the decoded entry; `T` is how the server's text
/// fields are carried (as received, or rewritten for a spreadsheet or a terminal).
#[derive(Serialize)]
struct Record<'a, T = &'a str> {
    /// `account:ID` or `zone:ID`, in runs over more than one scope; left out otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(serialize_with = "uuid_text")]
    id: Option<&'a Uuid>,
    #[serde(serialize_with = "serialize_time")]
    changed_at: Option<&'a DateTime<Utc>>,
    changed_by: Option<T>,
    field_changed: Option<T>,
    previous_value: Option<T>,
    current_value: Option<T>,
    issue_id: Option<T>,
    zone_id: Option<i64>,
    rationale: Option<T>,
}

impl<'a> Record<'a> {
    fn new(scope: Option<&'a str>, entry: &'a AuditLogEntry) -> Self {
        Record {
            scope,
            id: entry.id.as_ref(),
            changed_at: entry.changed_at.as_ref(),
            changed_by: entry.changed_by.as_deref(),
            field_changed: entry.field_changed.as_ref().map(|field| field.as_str()),
            previous_value: entry.previous_value.as_deref(),
            current_value: entry.current_value.as_deref(),
            issue_id: entry.issue_id.as_deref(),
            zone_id: entry.zone_id,
            rationale: entry.rationale.as_deref(),
        }
    }

    /// The same record with every text field passed through `cell`.
    fn map_text<T>(self, cell: impl Fn(&'a str) -> T) -> Record<'a, T> {
        Record {
            scope: self.scope,
            id: self.id,
            changed_at: self.changed_at,
            changed_by: self.changed_by.map(&cell),
            field_changed: self.field_changed.map(&cell),
            previous_value: self.previous_value.map(&cell),
            current_value: self.current_value.map(&cell),
            issue_id: self.issue_id.map(&cell),
            zone_id: self.zone_id,
            rationale: self.rationale.map(&cell),
        }
    }
}

/// How CSV cells of server text are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvCells {
    /// Prefix `'` to cells a spreadsheet would run as a formula: those starting with `=`, `+`, `-`, `@`, a tab, a
    /// carriage return or a line feed (OWASP's advice against CSV injection), also after leading white space (a
    /// space, a no-break space) and in their full-width forms (`＝`, `＋`, `－`, `＠`), which some spreadsheets
    /// read as the ASCII ones. On unless `--csv-raw`.
    pub neutralise_formulas: bool,
    /// Output for a terminal: CSV shows control characters and bidirectional overrides as spaces, as the table
    /// does; JSON writes the overrides as `\u` escapes (it escapes control characters already).
    pub for_terminal: bool,
}

impl Default for CsvCells {
    /// Formulas neutralised, control characters kept (files and pipes get the exact data).
    fn default() -> Self {
        Self {
            neutralise_formulas: true,
            for_terminal: false,
        }
    }
}

impl CsvCells {
    /// One cell: as received when nothing applies, else a rewritten copy.
    fn cell<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut cell = Cow::Borrowed(text);
        if self.for_terminal && text.chars().any(is_unsafe) {
            cell = Cow::Owned(table_text(text));
        }
        if self.neutralise_formulas && is_formula(text) {
            cell = Cow::Owned(format!("'{cell}"));
        }
        cell
    }
}

/// Whether a spreadsheet could read `text` as a formula; see [`CsvCells::neutralise_formulas`].
fn is_formula(text: &str) -> bool {
    const TRIGGERS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
    if text.starts_with(['\t', '\r', '\n']) {
        return true;
    }
    text.trim_start_matches(char::is_whitespace)
        .starts_with(TRIGGERS)
}

/// `json` with the bidirectional overrides (which JSON leaves as they are) written as `\u` escapes: still the same
/// JSON value, but nothing a terminal reorders. They only occur inside strings, where the escape is valid.
fn escape_overrides(json: &[u8]) -> Cow<'_, [u8]> {
    let Ok(text) = std::str::from_utf8(json) else {
        return Cow::Borrowed(json);
    };
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut escaped = String::with_capacity(text.len() + 12);
    for character in text.chars() {
        if is_unsafe(character) {
            escaped.push_str(&format!("\\u{:04x}", u32::from(character)));
        } else {
            escaped.push(character);
        }
    }
    Cow::Owned(escaped.into_bytes())
}

fn uuid_text<S: Serializer>(id: &Option<&Uuid>, serializer: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => {
            let mut buffer = [0u8; 36];
            serializer.serialize_str(id.hyphenated().encode_lower(&mut buffer))
        }
        None => serializer.serialize_none(),
    }
}

fn serialize_time<S: Serializer>(
    time: &Option<&DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serializer.serialize_str(&time_text(time)),
        None => serializer.serialize_none(),
    }
}

/// Widths of the table's fixed columns (the rationale, last, is not padded).
const TABLE_WIDTHS: [usize; 6] = [24, 32, 19, 28, 15, 15];
/// Width of the table's scope column (`account:` and a 32-character id).
const SCOPE_WIDTH: usize = 40;

/// Writes entries in one format to `W`, one page per call, each page in a single `write_all` and flush.
pub struct EntryWriter<W: Write> {
    format: Format,
    csv_cells: CsvCells,
    scope_column: bool,
    out: W,
    buffer: Vec<u8>,
    written: u64,
    finished: bool,
}

impl<W: Write> EntryWriter<W> {
    /// Starts the output: the CSV header row, the table header, or the JSON array's opening bracket; CSV cells
    /// are written as [`CsvCells::default`] says.
    pub fn begin(format: Format, out: W) -> io::Result<Self> {
        Self::begin_with(format, CsvCells::default(), false, out)
    }

    /// [`EntryWriter::begin`], with CSV cells written as `csv_cells` says, and with a first `scope` column
    /// (`account:ID` or `zone:ID`) when `scope_column`.
    pub fn begin_with(
        format: Format,
        csv_cells: CsvCells,
        scope_column: bool,
        out: W,
    ) -> io::Result<Self> {
        Self::begin_full(format, csv_cells, scope_column, true, out)
    }

    /// [`EntryWriter::begin_with`]; `header` false leaves out the CSV header row and the table header (output
    /// appended to a file that has them).
    pub fn begin_full(
        format: Format,
        csv_cells: CsvCells,
        scope_column: bool,
        header: bool,
        out: W,
    ) -> io::Result<Self> {
        let mut writer = EntryWriter {
            format,
            csv_cells,
            scope_column,
            out,
            buffer: Vec::with_capacity(256 * 1024),
            written: 0,
            finished: false,
        };
        match format {
            Format::Ndjson | Format::Ecs | Format::Ocsf => {}
            Format::Json => writer.buffer.push(b'['),
            Format::Csv if header => {
                let mut csv = writer.csv_writer();
                let scope = scope_column.then_some("scope");
                csv.write_record(scope.into_iter().chain(FIELDS))
                    .map_err(csv_error)?;
                writer.buffer = csv.into_inner().map_err(|error| error.into_error())?;
            }
            Format::Table if header => {
                let scope = scope_column.then_some("SCOPE");
                let header = [
                    "CHANGED_AT",
                    "ISSUE",
                    "FIELD",
                    "CHANGED_BY",
                    "PREVIOUS",
                    "CURRENT",
                ];
                table_row(&mut writer.buffer, scope, &header, "RATIONALE");
            }
            Format::Csv | Format::Table => {}
        }
        writer.flush_buffer()?;
        Ok(writer)
    }

    /// Writes a page of entries, all of them or (on an I/O error) possibly a prefix of the page's bytes.
    pub fn write_page(&mut self, entries: &[AuditLogEntry]) -> io::Result<()> {
        let entries: Vec<&AuditLogEntry> = entries.iter().collect();
        self.write_scoped("", &entries)
    }

    /// Writes a page of `scope`'s entries (`account:ID` or `zone:ID`, shown when the writer has a scope column)
    /// in one `write` and flush, so that whatever reaches the destination is whole lines.
    pub fn write_scoped(&mut self, scope: &str, entries: &[&AuditLogEntry]) -> io::Result<()> {
        self.write_enriched(scope, entries, &|_| Enrichment::Off)
    }

    /// [`write_scoped`](Self::write_scoped), each entry with the insight `insight_of` gives it: the ECS and OCSF
    /// events carry it, and NDJSON too when the run enriches it (`--enrich`); the other formats leave it out.
    pub fn write_enriched<'c>(
        &mut self,
        scope: &str,
        entries: &[&AuditLogEntry],
        insight_of: &dyn Fn(&AuditLogEntry) -> Enrichment<'c>,
    ) -> io::Result<()> {
        if self.format.enriched() {
            let exported_at = Utc::now();
            for entry in entries {
                let source = Source {
                    scope,
                    entry,
                    enrichment: insight_of(entry),
                    exported_at,
                };
                if self.csv_cells.for_terminal {
                    let event = match self.format {
                        Format::Ecs => siem::ecs(&source)?,
                        _ => siem::ocsf(&source)?,
                    };
                    self.push_json(&event)?;
                } else if self.format == Format::Ecs {
                    siem::write_ecs(&mut self.buffer, &source)?;
                } else {
                    siem::write_ocsf(&mut self.buffer, &source)?;
                }
                self.buffer.push(b'\n');
                self.written += 1;
            }
            return self.flush_buffer();
        }
        let full_scope = scope;
        let scope = self.scope_column.then_some(scope);
        if self.format == Format::Csv {
            let mut csv = self.csv_writer();
            let cells = self.csv_cells;
            for entry in entries {
                let record = Record::new(scope, entry).map_text(|text| cells.cell(text));
                csv.serialize(record).map_err(csv_error)?;
            }
            self.buffer = csv.into_inner().map_err(|error| error.into_error())?;
            self.written += entries.len() as u64;
            return self.flush_buffer();
        }
        for entry in entries {
            let record = Record::new(scope, entry);
            match self.format {
                Format::Ndjson => match insight_of(entry) {
                    Enrichment::Off => {
                        self.push_json(&record)?;
                        self.buffer.push(b'\n');
                    }
                    enrichment => {
                        let mut value = serde_json::to_value(&record)?;
                        if let Some(object) = value.as_object_mut() {
                            object.insert("scope".to_owned(), full_scope.into());
                            if let Some(insight) = enrichment.insight() {
                                object.insert("insight".to_owned(), serde_json::to_value(insight)?);
                            }
                            object.insert("enrichment".to_owned(), enrichment.state().into());
                        }
                        self.push_json(&value)?;
                        self.buffer.push(b'\n');
                    }
                },
                Format::Json => {
                    self.buffer
                        .extend_from_slice(if self.written == 0 { b"\n" } else { b",\n" });
                    self.push_json(&record)?;
                }
                // Written above: CSV through one CSV writer per page, the events one by one.
                Format::Csv | Format::Ecs | Format::Ocsf => {}
                Format::Table => table_entry(&mut self.buffer, scope, entry),
            }
            self.written += 1;
        }
        self.flush_buffer()
    }

    /// Appends one record as JSON, its overrides escaped when it is for a terminal.
    fn push_json(&mut self, record: &impl Serialize) -> io::Result<()> {
        if !self.csv_cells.for_terminal {
            return Ok(serde_json::to_writer(&mut self.buffer, record)?);
        }
        let json = serde_json::to_vec(record)?;
        self.buffer.extend_from_slice(&escape_overrides(&json));
        Ok(())
    }

    /// The destination, to read what it holds (its length).
    pub fn destination(&self) -> &W {
        &self.out
    }

    /// The destination, e.g. to make what was written durable.
    pub fn destination_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// How many entries were written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Ends the output (closes the JSON array) and returns the destination. Call it after an early stop too: the
    /// result is then a valid document of the entries written.
    pub fn finish(mut self) -> io::Result<W> {
        if self.format == Format::Json && !self.finished {
            if self.written > 0 {
                self.buffer.push(b'\n');
            }
            self.buffer.extend_from_slice(b"]\n");
        }
        self.finished = true;
        self.flush_buffer()?;
        Ok(self.out)
    }

    /// A CSV writer appending to the page buffer (handed back with `into_inner`).
    fn csv_writer(&mut self) -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(std::mem::take(&mut self.buffer))
    }

    fn flush_buffer(&mut self) -> io::Result<()> {
        let result = self
            .out
            .write_all(&self.buffer)
            .and_then(|()| self.out.flush());
        self.buffer.clear();
        result
    }
}

fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn table_entry(buffer: &mut Vec<u8>, scope: Option<&str>, entry: &AuditLogEntry) {
    let changed_at = entry
        .changed_at
        .map(|time| time_text(&time))
        .unwrap_or_default();
    let field = entry.field_changed.as_ref().map(|field| field.as_str());
    let cells = [
        changed_at.as_str(),
        entry.issue_id.as_deref().unwrap_or("-"),
        field.unwrap_or("-"),
        entry.changed_by.as_deref().unwrap_or("-"),
        entry.previous_value.as_deref().unwrap_or("-"),
        entry.current_value.as_deref().unwrap_or("-"),
    ];
    table_row(
        buffer,
        scope,
        &cells,
        entry.rationale.as_deref().unwrap_or("-"),
    );
}

/// One table line: the scope (when shown) and the fixed cells padded (or cut with `…`) to their widths, two spaces
/// apart, then the last cell.
fn table_row(buffer: &mut Vec<u8>, scope: Option<&str>, cells: &[&str; 6], last: &str) {
    let mut line = String::with_capacity(240);
    let scope = scope.map(|scope| (scope, SCOPE_WIDTH));
    for (cell, width) in scope
        .into_iter()
        .chain(cells.iter().copied().zip(TABLE_WIDTHS))
    {
        let text = table_text(cell);
        let count = text.chars().count();
        if count > width {
            line.extend(text.chars().take(width - 1));
            line.push('…');
        } else {
            line.push_str(&text);
            line.extend(std::iter::repeat_n(' ', width - count));
        }
        line.push_str("  ");
    }
    line.push_str(&table_text(last));
    let trimmed = line.trim_end();
    buffer.extend_from_slice(trimmed.as_bytes());
    buffer.push(b'\n');
}

/// Text as shown in a table cell: control characters (newlines, tabs, escapes) and bidirectional overrides become
/// spaces, so one entry is one line and no escape sequence or reordering reaches the terminal.
pub fn table_text(text: &str) -> String {
    text.chars()
        .map(|c| if is_unsafe(c) { ' ' } else { c })
        .collect()
}
