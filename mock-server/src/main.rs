//! The mock server as a program, for manual runs, the exporter's demos and out-of-process benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mock_server::{
    Config, Fault, MAX_GROWTH_RATE, MAX_SCOPES, MockRateLimit, MockScope, MockServer,
};

/// Serve Cloudflare's Security Center insight audit logs and insight lists on 127.0.0.1 with generated data.
///
/// Routes, under the printed base URL (`http://127.0.0.1:PORT/client/v4`):
///
///   GET /accounts/{account_id}/security-center/insights/audit-log
///   GET /accounts/{account_id}/security-center/insights/{issue_id}/audit-log
///   GET /zones/{zone_id}/security-center/insights/audit-log
///   GET /zones/{zone_id}/security-center/insights/{issue_id}/audit-log
///   GET /accounts/{account_id}/security-center/insights   (the insight list: page, per_page, filters)
///   GET /zones/{zone_id}/security-center/insights
///
/// The insight lists hold each scope's insights (those of its audit log), by id, their status and
/// classification following the log; list filters repeat their key (severity=low&severity=critical).
#[derive(Debug, Parser)]
#[command(name = "mock-server", version, verbatim_doc_comment)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Serve HTTPS with a throw-away CA made at start, HTTP/2 or HTTP/1.1 as the client's ALPN asks.
    #[arg(long)]
    tls: bool,
    /// With --tls, where to write the CA certificate (PEM) for clients to trust; default a file in the temp
    /// directory named after the port.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca_out: Option<PathBuf>,
    /// Accounts to serve: the documented example id first, then ids drawn from the seed.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = parse_scope_count)]
    accounts: usize,
    /// Zones to serve, like --accounts.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = parse_scope_count)]
    zones: usize,
    /// Entries per scope (each account and zone).
    #[arg(long, default_value_t = 1000)]
    entries: usize,
    /// Entries in each zone, overriding --entries.
    #[arg(long)]
    zone_entries: Option<usize>,
    /// Insights per scope; entries are spread uniformly over them.
    #[arg(long, default_value_t = 3)]
    insights: usize,
    /// New entries per second per scope while the server runs (e.g. 2 or 0.5), stamped with the time they
    /// are added.
    #[arg(long = "grow", value_name = "RATE", value_parser = parse_growth)]
    growth: Option<f64>,
    /// Give each scope's first insight a severity ("Urgent"), issue type, status and classification that
    /// clients do not know.
    #[arg(long)]
    unknown_insight_values: bool,
    /// Data seed: the same seed serves the same data.
    #[arg(long, default_value_t = mock_server::DEFAULT_SEED)]
    seed: u64,
    /// Fault to inject (repeatable): rate-limit:K[:SECS], server-error:K[:STATUS], truncate:K, html:K,
    /// slow:K:MILLIS, drop-mid-body:K, reset-before-head:K, stall:K:MILLIS, rst-stream:K, goaway:K,
    /// repeat-cursor, empty-cursor; on the insight lists endless-insights, repeat-insights-page,
    /// insights-count-drift.
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<Fault>,
    /// Keep every request received and write them to FILE when stopped (Ctrl-C), one JSON object a line:
    /// method, version, raw path and query, headers (credentials included, as sent).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Emulate Cloudflare's rate limit: Q requests per fixed window of W seconds, then 429 for LOCKOUT seconds
    /// (default W); every response carries Ratelimit and Ratelimit-Policy.
    #[arg(long, value_name = "Q:W[:LOCKOUT]", value_parser = parse_rate_limit)]
    rate_limit: Option<MockRateLimit>,
}

fn parse_scope_count(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|count| (1..=MAX_SCOPES).contains(count))
        .ok_or_else(|| format!("expected a whole number from 1 to {MAX_SCOPES}"))
}

fn parse_growth(text: &str) -> Result<f64, String> {
    let rate: f64 = text.parse().map_err(|_| {
        "expected a number of entries per second per scope, e.g. 2 or 0.5".to_owned()
    })?;
    if !rate.is_finite() || rate <= 0.0 || rate > MAX_GROWTH_RATE {
        return Err(format!(
            "expected more than 0 and at most {MAX_GROWTH_RATE} entries per second per scope"
        ));
    }
    Ok(rate)
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    text.parse()
}

fn parse_rate_limit(text: &str) -> Result<MockRateLimit, String> {
    text.parse()
}

/// Writes every request received to `path`, one JSON object a line.
fn write_journal(path: &std::path::Path, server: &MockServer) -> std::io::Result<()> {
    let mut text = String::new();
    for request in server.requests() {
        text.push_str(&serde_json::to_string(&request).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    std::fs::write(path, text)
}

/// Starts listening for Ctrl-C now, so that one sent as soon as the banner is out is not missed (the journal
/// would be lost with it); the function returned blocks until it comes, forever if it cannot be listened for.
fn listen_for_ctrl_c() -> impl FnOnce() {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let listener = std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let signal = tokio::signal::ctrl_c();
                tokio::pin!(signal);
                // The first poll puts the handler in place.
                let early = tokio::select! {
                    biased;
                    result = &mut signal => Some(result),
                    () = std::future::ready(()) => None,
                };
                let _ = ready_tx.send(());
                let result = match early {
                    Some(result) => result,
                    None => signal.await,
                };
                if result.is_ok() {
                    let _ = done_tx.send(());
                }
            });
        });
    if listener.is_ok() {
        let _ = ready_rx.recv();
    }
    move || {
        if done_rx.recv().is_err() {
            loop {
                std::thread::park();
            }
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = Config::default()
        .with_port(args.port)
        .with_tls(args.tls)
        .with_accounts(args.accounts)
        .with_zones(args.zones)
        .with_entries(args.entries)
        .with_insights_per_scope(args.insights)
        .with_unknown_insight_values(args.unknown_insight_values)
        .with_seed(args.seed)
        .with_request_journal(args.journal.is_some())
        .with_strict(false);
    if let Some(count) = args.zone_entries {
        config = config.with_zone_entries(count);
    }
    if let Some(rate) = args.growth {
        config = config.with_growth(rate);
    }
    for fault in &args.faults {
        config = config.with_fault(fault.clone());
    }
    if let Some(limit) = args.rate_limit {
        config = config.with_rate_limit(limit);
    }
    let server = match MockServer::start_in_background(config) {
        Ok(server) => server,
        Err(error) => {
            eprintln!(
                "mock-server: cannot listen on 127.0.0.1:{}: {error}",
                args.port
            );
            return ExitCode::from(1);
        }
    };
    if let Some(pem) = server.ca_pem() {
        let path = args.ca_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("mock-server-ca-{}.pem", server.addr().port()))
        });
        if let Err(error) = std::fs::write(&path, pem) {
            eprintln!(
                "mock-server: cannot write the CA certificate to {}: {error}",
                path.display()
            );
            return ExitCode::from(1);
        }
        println!(
            "CA certificate (PEM): {} (trust it, e.g. insight-audit-log --ca-cert FILE)",
            path.display()
        );
    }
    let stopped = listen_for_ctrl_c();
    let credentials = server.credentials();
    println!("mock-server listening on {}", server.base_url());
    println!("CLOUDFLARE_BASE_URL={}", server.base_url());
    println!("CLOUDFLARE_API_TOKEN={}", credentials.api_token);
    println!("CLOUDFLARE_API_KEY={}", credentials.api_key);
    println!("CLOUDFLARE_EMAIL={}", credentials.email);
    // The counts as configured: asking the server would generate every scope's entries now, not on first use.
    let zone_entries = args.zone_entries.unwrap_or(args.entries);
    for scope in server.scopes() {
        let entries = match scope.kind() {
            MockScope::Account => args.entries,
            MockScope::Zone => zone_entries,
        };
        println!(
            "{} {} ({entries} entries): insights {}",
            scope.kind().path_segment(),
            scope.id(),
            server.issue_ids(&scope).join(", ")
        );
    }
    if let Some(rate) = args.growth {
        println!("growth: {rate} entries per second per scope");
    }
    for fault in &args.faults {
        println!("fault: {fault}");
    }
    if let Some(limit) = &args.rate_limit {
        println!("rate limit: {limit} (requests:window:lock-out seconds)");
    }
    stopped();
    if let Some(path) = &args.journal
        && let Err(error) = write_journal(path, &server)
    {
        eprintln!(
            "mock-server: cannot write the journal to {}: {error}",
            path.display()
        );
        return ExitCode::from(1);
    }
    println!(
        "mock-server stopping: {} responses served, {} rate-limited (429)",
        server.served_count(),
        server.rate_limited_count()
    );
    ExitCode::SUCCESS
}
