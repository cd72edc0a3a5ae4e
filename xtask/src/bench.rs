//! `cargo xtask bench-spec-sync`: how long `spec-sync` takes on upstream's whole document and
//! how much memory it needs, and what the generator reports for that document as it is.
//!
//! Each measured run is a fresh child process (this executable again, with the hidden
//! subcommand [`CHILD_COMMAND`]) that runs `spec-sync` into a temporary spec folder and reports
//! its own time and peak resident memory (`VmHWM` of `/proc/self/status`), so that nothing the
//! parent read or built counts. The figures are printed as Markdown for `docs/benchmarks.md`;
//! nothing is asserted, since they depend on the machine.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::{display_path, workspace_root};

/// The hidden subcommand a measured run is: `xtask __bench-spec-sync-child --from FILE
/// [--spec-dir DIR]` (no `--spec-dir`: only report the process's baseline memory).
pub const CHILD_COMMAND: &str = "__bench-spec-sync-child";

/// How the child reports: one line `elapsed_us vmhwm_kib`.
const REPORT_PREFIX: &str = "bench-spec-sync: ";

/// Options of `cargo xtask bench-spec-sync`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Upstream's whole document.
    pub from: PathBuf,
    /// Measured runs per case.
    pub runs: usize,
}

/// Where upstream's document at a past revision lies beside the workspace, when it does.
pub fn default_document() -> PathBuf {
    workspace_root().join("../shared/upstream/cloudflare-openapi-2024-08-06.json")
}

/// One measured run: the time `spec-sync` took inside the child and the child's peak memory.
#[derive(Clone, Copy, Debug)]
struct Sample {
    elapsed: Duration,
    peak_kib: Option<u64>,
}

/// Runs the benchmark; the report as Markdown, or `None` when `options.from` does not exist.
pub fn run(options: &Options) -> anyhow::Result<Option<String>> {
    if !options.from.exists() {
        return Ok(None);
    }
    let from = display_path(&options.from);
    let bytes = std::fs::read(&options.from).with_context(|| format!("cannot read {from}"))?;
    let size = bytes.len();
    let text = String::from_utf8(bytes).with_context(|| format!("{from} is not UTF-8"))?;
    let document = codegen::document::parse(codegen::Source::new(&from, &text))?;
    let all = operation_ids(&document);
    let handful = handful(&all)?;
    let executable = std::env::current_exe().context("cannot find the xtask executable")?;

    let mut out = String::new();
    writeln!(
        out,
        "`spec-sync` on {from} ({size} bytes, {} operations), {} build, {} runs per case \
         (median, with the range), each a fresh process; load average {}:\n",
        all.len(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        options.runs,
        load_average()
    )?;
    writeln!(
        out,
        "| case | operations | components kept | time | peak RSS (VmHWM) | peak / document |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |")?;
    let baseline = child(&executable, &options.from, None)?;
    writeln!(
        out,
        "| process baseline (no work) | | | | {} | |",
        mib(baseline.peak_kib)
    )?;
    for (label, operations) in [
        (
            format!("a handful ({})", handful.join(", ")),
            handful.clone(),
        ),
        ("every operation".to_owned(), all.clone()),
    ] {
        let folder = tempfile::tempdir().context("cannot create a temporary folder")?;
        write_record(folder.path(), &operations)?;
        let mut samples = Vec::new();
        for _ in 0..options.runs.max(1) {
            samples.push(child(&executable, &options.from, Some(folder.path()))?);
        }
        let check = crate::spec_sync::Options {
            check: true,
            spec_dir: folder.path().to_path_buf(),
            ..crate::spec_sync::Options::new(options.from.clone())
        };
        let extraction = crate::spec_sync::run(&check)?.extraction;
        let kept: usize = extraction.components.values().sum();
        let peak = median(
            samples
                .iter()
                .filter_map(|sample| sample.peak_kib)
                .collect(),
        );
        writeln!(
            out,
            "| {label} | {} | {kept} | {} | {} | {} |",
            operations.len(),
            time_range(&samples),
            mib(peak),
            peak.map_or("n/a".to_owned(), |kib| format!(
                "{:.1}x",
                (kib * 1024) as f64 / size as f64
            ))
        )?;
    }

    writeln!(out)?;
    problems(&mut out, &from, &text)?;
    Ok(Some(out))
}

/// The generator's report for the document with no overlay, and what remains once the
/// report's overlay actions are applied.
fn problems(out: &mut String, from: &str, text: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let result = codegen::prepare(codegen::Source::new(from, text), None);
    let elapsed = started.elapsed();
    let problems = match result {
        Ok(_) => {
            writeln!(out, "`regenerate --no-overlay`: no problem found.")?;
            return Ok(());
        }
        Err(codegen::Error::Problems { problems, .. }) => problems,
        Err(other) => {
            writeln!(out, "`regenerate --no-overlay` stops at: {other}")?;
            return Ok(());
        }
    };
    writeln!(
        out,
        "`regenerate --no-overlay` (the checks, {:.2} s): {}. The first ten, sorted by location:\n",
        elapsed.as_secs_f64(),
        codegen::problems::summary(&problems)
    )?;
    writeln!(out, "```text")?;
    for problem in problems.iter().take(10) {
        writeln!(
            out,
            "{}: {}\n  fix: {}",
            problem.pointer, problem.message, problem.fix
        )?;
    }
    writeln!(out, "```\n")?;

    // Applying fixes can bring new problems to light (a JSON response given `{}` is a second
    // shape beside a `204`), so fix, check again, and repeat a few times.
    let mut actions: Vec<Value> = Vec::new();
    let mut removed = 0;
    let mut pending = problems;
    let mut rounds = 0;
    while !pending.is_empty() && rounds < 5 {
        rounds += 1;
        removed += add_fixes(&pending, &mut actions);
        pending = match codegen::prepare(
            codegen::Source::new(from, text),
            Some(codegen::Source::new("fixes.json", &overlay(&actions))),
        ) {
            Err(codegen::Error::Problems { problems, .. }) => problems,
            Err(
                codegen::Error::UnsupportedOperation { .. }
                | codegen::Error::InvalidDocument { .. },
            ) => {
                // One problem left: its own error; list it through a run without the rest.
                Vec::new()
            }
            _ => Vec::new(),
        };
    }
    let overlay_text = overlay(&actions);
    let text = text.to_owned();
    let from = from.to_owned();
    let started = Instant::now();
    let outcome = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            codegen::generate(
                codegen::Source::new(&from, &text),
                Some(codegen::Source::new("fixes.json", &overlay_text)),
                &codegen::Settings::default(),
            )
        })
        .context("cannot start the generator's thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the generator panicked"))?;
    let elapsed = started.elapsed();
    let said = match outcome {
        Ok(source) => format!("generates {} bytes of Rust", source.len()),
        Err(error) => format!("fails: {}", shorten(&error.to_string(), 400)),
    };
    writeln!(
        out,
        "Applying the overlay actions the reports name ({} actions over {rounds} rounds: fixes \
         can bring new problems to light) and removing the {removed} operations whose fix is \
         advice, generation ({:.1} s) {said}",
        actions.len(),
        elapsed.as_secs_f64()
    )?;
    Ok(())
}

/// Adds the problems' overlay actions to `actions` (an operation whose fix is advice is
/// removed); returns how many operations were removed.
fn add_fixes(problems: &[codegen::problems::Problem], actions: &mut Vec<Value>) -> usize {
    use codegen::problems::{Fix, Target};
    let mut seen: BTreeSet<String> = actions
        .iter()
        .filter(|action| action.get("remove").is_some())
        .filter_map(|action| action["target"].as_str().map(str::to_owned))
        .collect();
    let mut removed = 0;
    for problem in problems {
        match &problem.fix {
            Fix::Remove { targets, .. } => {
                for target in targets {
                    if seen.insert(target.clone()) {
                        actions.push(json!({"target": target, "remove": true}));
                    }
                }
            }
            Fix::Update { target, update } => {
                actions.push(json!({"target": target, "update": update}));
            }
            _ => {
                let tokens: Vec<String> = problem
                    .pointer
                    .split('/')
                    .map(codegen::json_pointer::unescape)
                    .collect();
                if let [_, paths, path, method] = tokens.as_slice()
                    && paths == "paths"
                {
                    let target = Target::root().key("paths").key(path).key(method);
                    if seen.insert(target.as_str().to_owned()) {
                        actions.push(json!({"target": target.as_str(), "remove": true}));
                        removed += 1;
                    }
                }
            }
        }
    }
    removed
}

/// An overlay document of `actions`.
fn overlay(actions: &[Value]) -> String {
    json!({"overlay": "1.0.0", "info": {"title": "fixes", "version": "1"}, "actions": actions})
        .to_string()
}

/// The child's side: runs `spec-sync` into `spec_dir` (if given) and prints its time and the
/// process's peak memory. Returns the exit code.
pub fn serve_child(from: &Path, spec_dir: Option<&Path>) -> u8 {
    let started = Instant::now();
    if let Some(spec_dir) = spec_dir {
        let options = crate::spec_sync::Options {
            spec_dir: spec_dir.to_path_buf(),
            today: Some("2000-01-01".to_owned()),
            ..crate::spec_sync::Options::new(from.to_path_buf())
        };
        if let Err(error) = crate::spec_sync::run(&options) {
            eprintln!("error: {error:#}");
            return 1;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{REPORT_PREFIX}{} {}",
        elapsed.as_micros(),
        peak_kib().map_or("-".to_owned(), |kib| kib.to_string())
    );
    0
}

/// Runs one child and reads its report.
fn child(executable: &Path, from: &Path, spec_dir: Option<&Path>) -> anyhow::Result<Sample> {
    let mut command = Command::new(executable);
    command.arg(CHILD_COMMAND).arg("--from").arg(from);
    if let Some(spec_dir) = spec_dir {
        command.arg("--spec-dir").arg(spec_dir);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .context("cannot run the benchmark's child process")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "the benchmark's child failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let report = stdout
        .lines()
        .find_map(|line| line.strip_prefix(REPORT_PREFIX))
        .context("the benchmark's child did not report")?;
    let mut fields = report.split(' ');
    let micros: u64 = fields
        .next()
        .and_then(|field| field.parse().ok())
        .context("the child's time")?;
    let peak_kib = fields.next().and_then(|field| field.parse().ok());
    Ok(Sample {
        elapsed: Duration::from_micros(micros),
        peak_kib,
    })
}

/// Writes a record tracking `operations` into `folder`.
fn write_record(folder: &Path, operations: &[String]) -> anyhow::Result<()> {
    let listed: String = operations
        .iter()
        .map(|id| format!("    {},\n", Value::String(id.clone())))
        .collect();
    let record = format!(
        "[upstream]\nrepository = \"cloudflare/api-schemas\"\npath = \"openapi.json\"\n\
         revision = \"bench\"\nretrieved = \"2000-01-01\"\noperations = [\n{listed}]\n\n\
         [spec]\nfile = \"openapi.yaml\"\nsha256 = \"0\"\noverlay = \"overlay.yaml\"\n"
    );
    std::fs::write(folder.join(crate::pin::RECORD), record)
        .context("cannot write the benchmark's record")
}

/// Every operationId of the document, in path and method order.
fn operation_ids(document: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for item in document
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
    {
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if let Some(id) = item
                .get(method)
                .and_then(|operation| operation.get("operationId"))
                .and_then(Value::as_str)
            {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

/// The operations a typical sync keeps: the workspace's tracked ones when the document has
/// them all, else its Security Center operations (at most six), else its first four.
fn handful(all: &[String]) -> anyhow::Result<Vec<String>> {
    let pin = crate::pin::Pin::load(&workspace_root().join("spec"))?;
    if let Some(tracked) = pin.upstream.operations
        && tracked.iter().all(|id| all.contains(id))
    {
        return Ok(tracked);
    }
    let security_center: Vec<String> = all
        .iter()
        .filter(|id| id.contains("security-center"))
        .take(6)
        .cloned()
        .collect();
    if !security_center.is_empty() {
        return Ok(security_center);
    }
    Ok(all.iter().take(4).cloned().collect())
}

/// `VmHWM` of this process, in KiB, where `/proc` has it.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The first field of `/proc/loadavg`, or `n/a`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split(' ').next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".to_owned())
}

fn median(mut values: Vec<u64>) -> Option<u64> {
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// `0.09 s (0.08 to 0.11)`.
fn time_range(samples: &[Sample]) -> String {
    let mut seconds: Vec<f64> = samples
        .iter()
        .map(|sample| sample.elapsed.as_secs_f64())
        .collect();
    seconds.sort_by(f64::total_cmp);
    match (
        seconds.first(),
        seconds.get(seconds.len() / 2),
        seconds.last(),
    ) {
        (Some(low), Some(middle), Some(high)) => {
            format!("{middle:.2} s ({low:.2} to {high:.2})")
        }
        _ => "n/a".to_owned(),
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".to_owned(), |kib| {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    })
}

/// `text` cut to about `limit` characters.
fn shorten(text: &str, limit: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(limit) {
        Some((at, _)) => format!("{} ...", &one_line[..at]),
        None => one_line,
    }
}
