//! A soak of the exporter as a service: the real binary with `--follow --interval 1s` over 20 scopes of the mock
//! (10 accounts, 10 zones) that grow while it runs, its `--metrics-listen` scraped every second, for
//! `SOAK_MINUTES`. It reports the resident memory after the first minute and at the end (the goal: within 1.1x),
//! the CPU time per idle poll (measured over the last minute, when nothing is appended), and the metrics' counts
//! against the output's lines and the mock's entries. Nothing is asserted: the figures go in `docs/benchmarks.md`.
//!
//! `SOAK_MINUTES=10 nice -n 10 cargo bench -p insight-audit-log --bench soak` runs it (at least 2 minutes); without
//! `SOAK_MINUTES` it does nothing, so that `cargo bench -p insight-audit-log` keeps its length. `SOAK_OVERLAP`
//! (e.g. `1m`) is passed as `--overlap` (default the exporter's 15m). The mock runs in this process and the
//! exporter in its own, so the exporter's memory and CPU are its alone.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_server::{Config, MockRateLimit, MockServer, ScopeId};

const BIN: &str = env!("CARGO_BIN_EXE_insight-audit-log");

/// Entries each scope holds at the start.
const INITIAL: usize = 500;
/// Entries appended to every scope every [`APPEND_EVERY`] while the log grows.
const APPENDED: usize = 3;
const APPEND_EVERY: Duration = Duration::from_secs(5);
/// The quiet stretch at the end, over which an idle poll's CPU time is measured.
const IDLE: Duration = Duration::from_secs(60);

/// One field of `/proc/PID/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of `pid`, in clock ticks (`/proc/PID/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after it are plain.
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of the whole line are 12 and 13 after the name and state.
    field(11) + field(12)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `GET /metrics`, parsed: the sum of each metric's samples by name.
fn scrape(address: SocketAddr) -> Option<std::collections::HashMap<String, f64>> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (_, body) = raw.split_once("\r\n\r\n")?;
    let scrape =
        prometheus_parse::Scrape::parse(body.lines().map(|line| Ok(line.to_owned()))).ok()?;
    let mut sums = std::collections::HashMap::new();
    for sample in scrape.samples {
        let value = match sample.value {
            prometheus_parse::Value::Counter(value)
            | prometheus_parse::Value::Gauge(value)
            | prometheus_parse::Value::Untyped(value) => value,
            _ => continue,
        };
        let key = match sample.labels.get("outcome") {
            Some(outcome) => format!("{}{{{outcome}}}", sample.metric),
            None => sample.metric,
        };
        *sums.entry(key).or_insert(0.0) += value;
    }
    Some(sums)
}

fn main() {
    let Some(minutes) = std::env::var("SOAK_MINUTES")
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .map(|minutes| minutes.max(2))
    else {
        println!("soak: skipped; SOAK_MINUTES=10 runs it");
        return;
    };
    let server = MockServer::start_in_background(
        Config::default()
            .with_accounts(10)
            .with_zones(10)
            .with_entries(INITIAL)
            .with_request_journal(false)
            .with_strict(false)
            // A budget the polls fit in, announced so the pacer follows it rather than its default.
            .with_rate_limit(MockRateLimit::new(100_000, Duration::from_secs(300))),
    )
    .expect("the mock starts");
    let scopes = server.scopes();
    let folder = tempfile::tempdir().expect("a folder");
    let scopes_file = folder.path().join("scopes.txt");
    let lines: Vec<String> = scopes
        .iter()
        .map(|scope| {
            let kind = match scope.kind() {
                mock_server::MockScope::Account => "account",
                mock_server::MockScope::Zone => "zone",
            };
            format!("{kind}:{}", scope.id())
        })
        .collect();
    std::fs::write(&scopes_file, lines.join("\n") + "\n").expect("the scopes file");
    let overlap = std::env::var("SOAK_OVERLAP").unwrap_or_else(|_| "15m".to_owned());
    let output = folder.path().join("audit.ndjson");
    let state = folder.path().join("state.json");
    let mut child = Command::new(BIN)
        .env_clear()
        .env("CLOUDFLARE_BASE_URL", server.base_url())
        .env("CLOUDFLARE_API_TOKEN", &server.credentials().api_token)
        .args(["--scopes-file", scopes_file.to_str().expect("UTF-8")])
        .args(["--state", state.to_str().expect("UTF-8")])
        .args(["--output", output.to_str().expect("UTF-8")])
        .args(["--follow", "--interval", "1s", "--overlap", &overlap])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the exporter starts");
    let pid = child.id();
    let said = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let said = said.clone();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                said.lock().expect("not poisoned").push(line);
            }
        })
    };
    let started = Instant::now();
    let address = loop {
        let found = said.lock().expect("not poisoned").iter().find_map(|line| {
            let (_, rest) = line.split_once("on http://")?;
            rest.split_whitespace().next()?.parse::<SocketAddr>().ok()
        });
        if let Some(address) = found {
            break address;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no listener address"
        );
        std::thread::sleep(Duration::from_millis(50));
    };

    let total = Duration::from_secs(minutes * 60);
    let growth_ends = total - IDLE;
    let mut appended = 0usize;
    let mut last_append = Instant::now();
    let mut scrapes = 0u64;
    let mut failed_scrapes = 0u64;
    let mut rss_by_minute: Vec<u64> = Vec::new();
    let mut idle_start = None;
    let mut next = Instant::now();
    while started.elapsed() < total {
        next += Duration::from_secs(1);
        match scrape(address) {
            Some(_) => scrapes += 1,
            None => failed_scrapes += 1,
        }
        let elapsed = started.elapsed();
        if elapsed >= Duration::from_secs(60 * (rss_by_minute.len() as u64 + 1)) {
            rss_by_minute.push(status_kib(pid, "VmRSS:"));
        }
        if elapsed < growth_ends && last_append.elapsed() >= APPEND_EVERY {
            for scope in &scopes {
                let scope: ScopeId = scope.clone();
                appended += server
                    .append_entries(scope, APPENDED)
                    .map_or(0, |entries| entries.len());
            }
            last_append = Instant::now();
        }
        if elapsed >= growth_ends + Duration::from_secs(5) && idle_start.is_none() {
            // A few seconds after the last append, every scope has caught up.
            let metrics = scrape(address).unwrap_or_default();
            idle_start = Some((Instant::now(), cpu_ticks(pid), metrics));
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let rss_end = status_kib(pid, "VmRSS:");
    let rss_minute_1 = rss_by_minute.first().copied().unwrap_or(0);
    let peak = status_kib(pid, "VmHWM:");
    let end_metrics = scrape(address).unwrap_or_default();
    let (idle_at, idle_ticks, idle_metrics) = idle_start.expect("an idle stretch");
    let idle_seconds = idle_at.elapsed().as_secs_f64();
    let ticks = cpu_ticks(pid) - idle_ticks;
    let requests = |metrics: &std::collections::HashMap<String, f64>| {
        ["ok", "retried", "failed"]
            .iter()
            .map(|outcome| {
                metrics
                    .get(&format!("insight_audit_log_requests_total{{{outcome}}}"))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum::<f64>()
    };
    let idle_requests = requests(&end_metrics) - requests(&idle_metrics);
    // An idle poll of one scope is one request that finds nothing new.
    let cpu_per_poll_ms = ticks as f64 / clock_ticks_per_second() * 1000.0 / idle_requests.max(1.0);
    let total_cpu_s = cpu_ticks(pid) as f64 / clock_ticks_per_second();

    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = child.wait().expect("the exporter exits");
    let _ = reader.join();
    let output_lines = std::fs::read_to_string(&output).map_or(0, |text| text.lines().count());
    let entries_metric = end_metrics
        .get("insight_audit_log_entries_written_total")
        .copied()
        .unwrap_or(0.0);
    let pages_metric = end_metrics
        .get("insight_audit_log_pages_total")
        .copied()
        .unwrap_or(0.0);
    let served = scopes.len() * INITIAL + appended;

    println!(
        "soak: {minutes} min, 20 scopes, --interval 1s, --overlap {overlap}, /metrics scraped every second"
    );
    println!("| figure | value |");
    println!("| --- | ---: |");
    println!(
        "| RSS after minute 1 | {:.1} MiB |",
        rss_minute_1 as f64 / 1024.0
    );
    println!(
        "| RSS at minute {minutes} | {:.1} MiB |",
        rss_end as f64 / 1024.0
    );
    println!(
        "| ratio | {:.3}x |",
        rss_end as f64 / rss_minute_1.max(1) as f64
    );
    println!("| peak RSS (VmHWM) | {:.1} MiB |", peak as f64 / 1024.0);
    let by_minute: Vec<String> = rss_by_minute
        .iter()
        .map(|kib| format!("{:.1}", *kib as f64 / 1024.0))
        .collect();
    println!("| RSS by minute, MiB | {} |", by_minute.join(" "));
    println!(
        "| idle polls measured (one request each) | {idle_requests:.0} over {idle_seconds:.0} s |"
    );
    println!("| CPU per idle poll of one scope | {cpu_per_poll_ms:.3} ms |");
    println!("| CPU over the whole soak | {total_cpu_s:.1} s |");
    println!("| entries served by the mock | {served} |");
    println!("| entries_written_total (sum over scopes) | {entries_metric:.0} |");
    println!("| output lines | {output_lines} |");
    println!("| pages_total | {pages_metric:.0} |");
    println!("| requests_total | {:.0} |", requests(&end_metrics));
    println!("| scrapes ok / failed | {scrapes} / {failed_scrapes} |");
    println!("| exit code after SIGTERM | {:?} |", status.code());
    println!(
        "| load average | {} |",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
}
