//! Throughput and peak memory of walking one insight's audit log through the mock server: the client's item
//! stream (with and without prefetch), a hand-written floor (reqwest + serde_json, sequential cursor loop), and
//! the exporter's NDJSON output; plus memory flatness from 10,000 to 1,000,000 entries.
//!
//! `cargo bench -p insight-audit-log` runs it. The parent process hosts the mock server (sized to the one insight
//! walked) and re-executes this binary as a "walker" child per measurement, so each child's peak memory (VmHWM
//! from /proc/self/status) is the walk's alone, never the server's data. Nothing here asserts a time.
//!
//! Environment: `BENCH_REPS` (default 15) rounds, each running every throughput case once; rates are the median over
//! the rounds and ratios the median of each round's ratio. `BENCH_QUICK=1` divides every N by 10 for a smoke run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;

use cloudflare_security_center::{Client, Credentials, RateLimit, Scope};
use insight_audit_log::output::{EntryWriter, Format};
use mock_server::{ACCOUNT_ID, Config, MockServer};
use serde::Deserialize;

/// What a walker child reports.
#[derive(Clone, Copy, Debug)]
struct Measure {
    entries: u64,
    seconds: f64,
    peak_kib: u64,
    /// Peak of the live heap during the walk, when the walk counted it (memory walks).
    heap_kib: u64,
}

impl Measure {
    fn rate(&self) -> f64 {
        self.entries as f64 / self.seconds.max(1e-9)
    }

    fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }

    fn heap_mib(&self) -> f64 {
        self.heap_kib as f64 / 1024.0
    }
}

/// The live-heap counter of memory walks: resident memory also holds what the allocator keeps
/// after `free` (glibc keeps freed blocks in per-thread arenas), so a walk's own memory is read
/// here too. Off unless switched on, so that throughput walks pay one relaxed load per call;
/// `peak_alloc` and similar crates count always, and their shared atomics would slow down the
/// multi-threaded throughput walks.
struct HeapCounter;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

#[global_allocator]
static HEAP: HeapCounter = HeapCounter;

impl HeapCounter {
    fn count(grown: isize) {
        if COUNTING.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
    }

    /// Counts from now on (blocks allocated earlier and freed later count as negative, a few
    /// bytes at most when switched on first thing).
    fn start() {
        COUNTING.store(true, Ordering::Relaxed);
    }

    fn peak_kib() -> u64 {
        u64::try_from(PEAK.load(Ordering::Relaxed)).unwrap_or(0) / 1024
    }
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for HeapCounter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            Self::count(layout.size() as isize);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's block and layout.
        unsafe { System.dealloc(block, layout) };
        Self::count(-(layout.size() as isize));
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            Self::count(layout.size() as isize);
        }
        block
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's block, layout and size.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            Self::count(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

fn main() -> ExitCode {
    if std::env::var_os(COUNT_HEAP).is_some() {
        HeapCounter::start();
    }
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("walker") {
        return walker(&args[2..]);
    }
    match parent() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Starts the server, runs every case in child processes, prints the table.
fn parent() -> Result<(), String> {
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15)
        .max(1);
    let scale = if quick { 10 } else { 1 };
    let (n, small, large) = (100_000 / scale, 10_000 / scale, 1_000_000 / scale);

    eprintln!(
        "bench: load average at the start: {}; generating {large} entries for one insight ...",
        load_average()
    );
    let server = MockServer::start_in_background(
        Config::default()
            .with_account_entries(large)
            .with_zone_entries(0)
            .with_insights_per_scope(1)
            .with_request_journal(false)
            .with_strict(false),
    )
    .map_err(|e| format!("mock server: {e}"))?;
    let issue = server.issue_ids(mock_server::MockScope::Account)[0].clone();
    let ctx = Ctx {
        base_url: server.base_url(),
        token: server.credentials().api_token.clone(),
        issue,
    };

    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut summary: Vec<String> = Vec::new();
    for per_page in [25u32, 1000] {
        let kinds: &[&str] = if per_page == 1000 {
            &[
                "floor",
                "floor-typed",
                "stream",
                "prefetch",
                "exporter",
                "exporter-ecs",
                "exporter-ocsf",
            ]
        } else {
            &["floor", "floor-typed", "stream", "prefetch"]
        };
        let runs = ctx.rounds(kinds, per_page, n, reps, Heap::Uncounted)?;
        let [floor, typed, plain, ahead] = [0, 1, 2, 3].map(|index| &runs[index]);
        let faster = |case: &Runs, base: &Runs| case.ratio_to(base);
        rows.push(row("floor: reqwest + serde_json", per_page, floor, None));
        rows.push(row(
            "floor, chrono + uuid fields (diagnostic)",
            per_page,
            typed,
            Some(faster(typed, floor)),
        ));
        rows.push(row(
            "client items(), no prefetch",
            per_page,
            plain,
            Some(faster(plain, floor)),
        ));
        rows.push(row(
            "client items(), prefetch",
            per_page,
            ahead,
            Some(faster(ahead, floor)),
        ));
        summary.push(format!(
            "per_page {per_page}: stream/floor {:.2} without prefetch (goal >= 0.95), {:.2} with prefetch (goal >= 1.0)",
            faster(plain, floor),
            faster(ahead, floor)
        ));
        if per_page == 1000 {
            let export = &runs[4];
            rows.push(row(
                "exporter NDJSON (vs prefetch stream)",
                per_page,
                export,
                Some(faster(ahead, export)),
            ));
            summary.push(format!(
                "exporter NDJSON: {:.2}x the time of the client's stream alone (goal <= 1.2)",
                faster(ahead, export)
            ));
            for (index, name) in [(5, "ECS"), (6, "OCSF")] {
                let events = &runs[index];
                rows.push(row(
                    &format!("exporter {name} (vs exporter NDJSON)"),
                    per_page,
                    events,
                    Some(faster(export, events)),
                ));
                summary.push(format!(
                    "exporter {name}: {:.2}x the time of the exporter's NDJSON (goal <= 1.3)",
                    faster(export, events)
                ));
            }
            let format = &ctx.rounds(&["format"], per_page, n, reps, Heap::Uncounted)?[0];
            rows.push(row(
                "NDJSON formatting alone (diagnostic)",
                per_page,
                format,
                Some(faster(ahead, format)),
            ));
            summary.push(format!(
                "NDJSON formatting alone: {:.0} entries/s, i.e. {:.0} % of the stream's time per entry",
                format.median().rate(),
                100.0 * faster(ahead, format)
            ));
        }
    }
    let memory_row = |name: &str, runs: &Runs, ratio| {
        let mut row = row(name, 1000, runs, ratio);
        row[4] = format!("{:.1}", runs.median_of(Measure::peak_mib));
        row[6] = format!("{:.2}", runs.median_of(Measure::heap_mib));
        row
    };
    let memory_cases = [
        ("stream", "client items(), no prefetch", " (goal <= 1.2)"),
        ("prefetch", "client items(), prefetch", " (goal <= 1.2)"),
        (
            "floor",
            "floor: reqwest + serde_json",
            " (reference: what reqwest and the allocator add)",
        ),
    ];
    for (kind, name, goal) in memory_cases {
        let few = ctx
            .rounds(&[kind], 1000, small, MEMORY_REPS, Heap::Counted)?
            .remove(0);
        let many = ctx
            .rounds(&[kind], 1000, large, MEMORY_REPS, Heap::Counted)?
            .remove(0);
        let growth = |of: fn(&Measure) -> f64| many.median_of(of) / few.median_of(of);
        rows.push(memory_row(name, &few, None));
        rows.push(memory_row(
            &format!("{name} (memory vs 10k)"),
            &many,
            Some(growth(Measure::peak_mib)),
        ));
        summary.push(format!(
            "memory, {name}: {large} entries peak {:.1} MiB vs {small} entries {:.1} MiB: ratio {:.2}{goal}; \
             live heap at its peak {:.2} MiB vs {:.2} MiB: ratio {:.2}",
            many.median_of(Measure::peak_mib),
            few.median_of(Measure::peak_mib),
            growth(Measure::peak_mib),
            many.median_of(Measure::heap_mib),
            few.median_of(Measure::heap_mib),
            growth(Measure::heap_mib),
        ));
    }

    println!();
    println!("load average (1, 5, 15 min) at the end: {}", load_average());
    println!(
        "| case | per_page | entries | entries/s | peak MiB | ratio | live heap MiB |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in &rows {
        println!("| {} |", r.join(" | "));
    }
    println!();
    for line in summary {
        println!("{line}");
    }
    println!(
        "(entries/s: median of {reps} rounds; ratio: median over the rounds of each round's ratio, every case running \
         once per round; peak: the walker process's VmHWM, the largest of the rounds, and for the memory rows the \
         median of {MEMORY_REPS} walks; live heap: the most bytes allocated and not yet freed at any moment of a \
         memory walk)"
    );
    Ok(())
}

fn row(name: &str, per_page: u32, runs: &Runs, ratio: Option<f64>) -> Vec<String> {
    let median = runs.median();
    vec![
        name.to_owned(),
        per_page.to_string(),
        median.entries.to_string(),
        format!("{:.0}", median.rate()),
        format!("{:.1}", runs.max_peak_mib()),
        ratio.map_or_else(|| "".to_owned(), |r| format!("{r:.2}")),
        String::new(),
    ]
}

/// Whether a walker counts its live heap (memory walks) or not (throughput walks).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Heap {
    Counted,
    Uncounted,
}

/// Set in a walker's environment to count its live heap.
const COUNT_HEAP: &str = "WALK_COUNT_HEAP";

/// Walks of the memory rows: peak memory varies from walk to walk with where the allocator's
/// per-thread arenas happen to grow, so the rows take a median.
const MEMORY_REPS: usize = 7;

/// One case's measures, one per round.
struct Runs(Vec<Measure>);

impl Runs {
    /// The run with the median rate.
    fn median(&self) -> Measure {
        let mut runs = self.0.clone();
        runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        runs[runs.len() / 2]
    }

    /// The median over the rounds of this case's rate divided by `base`'s rate in the same
    /// round: pairing the rounds cancels the machine's slow drifts, which hit both alike.
    fn ratio_to(&self, base: &Runs) -> f64 {
        middle(
            self.0
                .iter()
                .zip(&base.0)
                .map(|(case, base)| case.rate() / base.rate())
                .collect(),
        )
    }

    fn max_peak_mib(&self) -> f64 {
        self.0.iter().map(Measure::peak_mib).fold(0.0, f64::max)
    }

    /// The median of one figure over the runs.
    fn median_of(&self, figure: fn(&Measure) -> f64) -> f64 {
        middle(self.0.iter().map(figure).collect())
    }
}

/// The median of `values` (the upper one of an even count); 0 when there are none.
fn middle(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

struct Ctx {
    base_url: String,
    token: String,
    issue: String,
}

impl Ctx {
    /// One walk in a fresh child process.
    fn walk(&self, kind: &str, per_page: u32, n: usize, heap: Heap) -> Result<Measure, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = Command::new(exe);
        if heap == Heap::Counted {
            command.env(COUNT_HEAP, "1");
        }
        let output = command
            .args([
                "walker",
                kind,
                &per_page.to_string(),
                &n.to_string(),
                &self.base_url,
                &self.issue,
            ])
            .env("CLOUDFLARE_API_TOKEN", &self.token)
            .output()
            .map_err(|e| format!("walker: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("RESULT "))
            .ok_or_else(|| {
                format!(
                    "walker {kind} {per_page} {n} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
        let field = |name: &str| -> Result<f64, String> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("bad walker line: {line}"))
        };
        let m = Measure {
            entries: field("entries")? as u64,
            seconds: field("seconds")?,
            peak_kib: field("peak_kib")? as u64,
            heap_kib: field("heap_kib")? as u64,
        };
        if m.entries != n as u64 {
            return Err(format!("walker {kind} read {} entries, not {n}", m.entries));
        }
        eprintln!(
            "bench: {kind:<9} per_page {per_page:>4} n {n:>7}: {:>9.0} entries/s, peak {:.1} MiB",
            m.rate(),
            m.peak_mib()
        );
        Ok(m)
    }

    /// `reps` rounds, every kind walked once per round, so that a slow spell of the machine
    /// hits every kind alike; one [`Runs`] per kind, in the order of `kinds`.
    fn rounds(
        &self,
        kinds: &[&str],
        per_page: u32,
        n: usize,
        reps: usize,
        heap: Heap,
    ) -> Result<Vec<Runs>, String> {
        let mut runs: Vec<Vec<Measure>> = vec![Vec::new(); kinds.len()];
        for _ in 0..reps {
            for (kind, runs) in kinds.iter().zip(&mut runs) {
                runs.push(self.walk(kind, per_page, n, heap)?);
            }
        }
        Ok(runs.into_iter().map(Runs).collect())
    }
}

/// Child mode: `walker KIND PER_PAGE N BASE_URL ISSUE`; prints `RESULT entries=… seconds=… peak_kib=…`.
fn walker(args: &[String]) -> ExitCode {
    let parsed = (|| -> Option<(String, u32, u64, String, String)> {
        Some((
            args.first()?.clone(),
            args.get(1)?.parse().ok()?,
            args.get(2)?.parse().ok()?,
            args.get(3)?.clone(),
            args.get(4)?.clone(),
        ))
    })();
    let Some((kind, per_page, n, base_url, issue)) = parsed else {
        eprintln!("walker: usage: walker KIND PER_PAGE N BASE_URL ISSUE");
        return ExitCode::FAILURE;
    };
    let token = std::env::var("CLOUDFLARE_API_TOKEN").unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("walker: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match kind.as_str() {
            "floor" => floor::<FloorEntry>(&base_url, &token, &issue, per_page, n).await,
            "floor-typed" => floor::<TypedEntry>(&base_url, &token, &issue, per_page, n).await,
            "stream" | "prefetch" => {
                stream(&base_url, &token, &issue, per_page, n, kind == "prefetch").await
            }
            "exporter" => exporter(&base_url, &token, &issue, per_page, n, "ndjson").await,
            "exporter-ecs" => exporter(&base_url, &token, &issue, per_page, n, "ecs").await,
            "exporter-ocsf" => exporter(&base_url, &token, &issue, per_page, n, "ocsf").await,
            "format" => format_only(&base_url, &token, &issue, per_page, n).await,
            other => Err(format!("unknown walker kind {other}")),
        }
    });
    match result {
        Ok((entries, seconds)) => {
            println!(
                "RESULT entries={entries} seconds={seconds:.6} peak_kib={} heap_kib={}",
                peak_kib(),
                HeapCounter::peak_kib()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("walker {kind}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn client(base_url: &str, token: &str) -> Result<Client, String> {
    let credentials = Credentials::api_token(token).map_err(|e| e.to_string())?;
    // The mock announces no rate limit here, and these walks measure the client, not the pacer.
    Client::builder()
        .with_credentials(credentials)
        .with_base_url(base_url)
        .with_rate_limit(RateLimit::disabled())
        .build()
        .map_err(|e| e.to_string())
}

/// The client's item stream.
async fn stream(
    base_url: &str,
    token: &str,
    issue: &str,
    per_page: u32,
    n: u64,
    prefetch: bool,
) -> Result<(u64, f64), String> {
    let request = client(base_url, token)?
        .issue_audit_log(Scope::account(ACCOUNT_ID), issue)
        .per_page(per_page)
        .with_max_items(n)
        .with_prefetch(prefetch);
    let started = Instant::now();
    let mut items = request.items();
    let mut count = 0u64;
    while let Some(entry) = items.next().await {
        black_box(entry.map_err(|e| e.to_string())?);
        count += 1;
    }
    Ok((count, started.elapsed().as_secs_f64()))
}

/// The binary's own path: `run::run` with parsed flags, in `format`, into a sink that counts lines; the time includes
/// building the client (and for ECS and OCSF reading the insight lists), as a run of the binary does.
async fn exporter(
    base_url: &str,
    token: &str,
    issue: &str,
    per_page: u32,
    n: u64,
    format: &str,
) -> Result<(u64, f64), String> {
    let (per_page, n) = (per_page.to_string(), n.to_string());
    let cli = insight_audit_log::args::Cli::try_parse_args([
        "insight-audit-log",
        "--account",
        ACCOUNT_ID,
        "--issue",
        issue,
        "--per-page",
        &per_page,
        "--max-items",
        &n,
        "--format",
        format,
    ])
    .map_err(|e| e.to_string())?;
    let env = |name: &str| match name {
        "CLOUDFLARE_BASE_URL" => Some(base_url.to_owned()),
        "CLOUDFLARE_API_TOKEN" => Some(token.to_owned()),
        _ => None,
    };
    let mut lines = LineCount(0);
    let mut stderr = Vec::new();
    let started = Instant::now();
    let code = insight_audit_log::run::run(
        cli,
        &env,
        insight_audit_log::run::Terminals::default(),
        &mut lines,
        &mut stderr,
        std::future::pending(),
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    if code != 0 {
        return Err(format!(
            "exit code {code}: {}",
            String::from_utf8_lossy(&stderr)
        ));
    }
    Ok((lines.0, seconds))
}

/// A sink that counts the lines written to it.
struct LineCount(u64);

impl std::io::Write for LineCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += black_box(buf).iter().filter(|byte| **byte == b'\n').count() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The exporter's NDJSON formatting alone: the entries are fetched first (untimed), then written a page at a time
/// to /dev/null; returns the count and the seconds spent writing.
async fn format_only(
    base_url: &str,
    token: &str,
    issue: &str,
    per_page: u32,
    n: u64,
) -> Result<(u64, f64), String> {
    let mut pages = client(base_url, token)?
        .issue_audit_log(Scope::account(ACCOUNT_ID), issue)
        .per_page(per_page)
        .with_max_items(n)
        .pages();
    let mut fetched = Vec::new();
    while let Some(page) = pages.next().await {
        fetched.push(page.map_err(|e| e.to_string())?.into_entries());
    }
    let sink = std::fs::File::create("/dev/null").map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut writer = EntryWriter::begin(Format::Ndjson, sink).map_err(|e| e.to_string())?;
    for page in &fetched {
        writer.write_page(page).map_err(|e| e.to_string())?;
    }
    Ok((writer.written(), started.elapsed().as_secs_f64()))
}

/// The floor: the same entries into a plain struct, one request after another.
#[derive(Deserialize)]
#[allow(dead_code)]
struct FloorEntry {
    id: String,
    changed_at: String,
    changed_by: String,
    current_value: Option<String>,
    field_changed: String,
    issue_id: String,
    previous_value: Option<String>,
    rationale: Option<String>,
    zone_id: Option<i64>,
}

/// The floor's entry with the client's field types (time and UUID parsed), to show what decoding them costs.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TypedEntry {
    id: uuid::Uuid,
    changed_at: chrono::DateTime<chrono::Utc>,
    changed_by: String,
    current_value: Option<String>,
    field_changed: String,
    issue_id: String,
    previous_value: Option<String>,
    rationale: Option<String>,
    zone_id: Option<i64>,
}

#[derive(Deserialize)]
struct FloorInfo {
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct FloorPage<E> {
    success: bool,
    result: Vec<E>,
    result_info: Option<FloorInfo>,
}

async fn floor<E: serde::de::DeserializeOwned>(
    base_url: &str,
    token: &str,
    issue: &str,
    per_page: u32,
    n: u64,
) -> Result<(u64, f64), String> {
    let http = reqwest::Client::new();
    let url =
        format!("{base_url}/accounts/{ACCOUNT_ID}/security-center/insights/{issue}/audit-log");
    let per_page = per_page.to_string();
    let mut cursor: Option<String> = None;
    let mut count = 0u64;
    let started = Instant::now();
    let done = |count| Ok((count, started.elapsed().as_secs_f64()));
    loop {
        let mut query = vec![("per_page", per_page.as_str())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.as_str()));
        }
        let response = http
            .get(&url)
            .bearer_auth(token)
            .query(&query)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        let page: FloorPage<E> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        if !page.success {
            return Err("success: false".to_owned());
        }
        for entry in page.result {
            if count == n {
                return done(count);
            }
            black_box(entry);
            count += 1;
        }
        match page
            .result_info
            .and_then(|i| i.cursor)
            .filter(|c| !c.is_empty())
        {
            Some(next) if count < n => cursor = Some(next),
            _ => return done(count),
        }
    }
}

/// The process's peak resident set (VmHWM), in KiB; 0 when /proc is unavailable.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmHWM:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// The first three fields of /proc/loadavg: other work on the machine skews every figure, so the table says how
/// busy it was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}
