//! The mock server as a program, for manual runs, the exporter's demos and out-of-process benchmarks.

use std::process::ExitCode;

use clap::Parser;
use mock_server::{Config, Fault, MockServer, RateLimit, Scope};

/// Serve Cloudflare's Security Center insight audit-log API on 127.0.0.1 with generated data.
#[derive(Debug, Parser)]
#[command(name = "mock-server", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Entries per scope (account and zone).
    #[arg(long, default_value_t = 1000)]
    entries: usize,
    /// Entries in the zone scope, overriding --entries.
    #[arg(long)]
    zone_entries: Option<usize>,
    /// Insights per scope; entries are spread uniformly over them.
    #[arg(long, default_value_t = 3)]
    insights: usize,
    /// Data seed: the same seed serves the same data.
    #[arg(long, default_value_t = mock_server::DEFAULT_SEED)]
    seed: u64,
    /// Fault to inject (repeatable): rate-limit:K[:SECS], server-error:K[:STATUS], truncate:K, html:K,
    /// slow:K:MILLIS, drop-mid-body:K, reset-before-head:K, stall:K:MILLIS, repeat-cursor, empty-cursor.
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<Fault>,
    /// Emulate Cloudflare's rate limit: Q requests per fixed window of W seconds, then 429 for LOCKOUT seconds
    /// (default W); every response carries Ratelimit and Ratelimit-Policy.
    #[arg(long, value_name = "Q:W[:LOCKOUT]", value_parser = parse_rate_limit)]
    rate_limit: Option<RateLimit>,
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    s.parse()
}

fn parse_rate_limit(s: &str) -> Result<RateLimit, String> {
    s.parse()
}

/// Blocks until Ctrl-C; forever if the signal cannot be listened for.
fn wait_for_ctrl_c() {
    let interrupted = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|rt| rt.block_on(tokio::signal::ctrl_c()));
    if interrupted.is_err() {
        loop {
            std::thread::park();
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut config = Config::default()
        .with_port(args.port)
        .with_entries(args.entries)
        .with_insights_per_scope(args.insights)
        .with_seed(args.seed)
        .with_request_journal(false)
        .with_strict(false);
    if let Some(n) = args.zone_entries {
        config = config.with_zone_entries(n);
    }
    for f in &args.faults {
        config = config.with_fault(f.clone());
    }
    if let Some(limit) = args.rate_limit {
        config = config.with_rate_limit(limit);
    }
    let server = match MockServer::start_in_background(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mock-server: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::from(1);
        }
    };
    let creds = server.credentials();
    println!("mock-server listening on {}", server.base_url());
    println!("CLOUDFLARE_BASE_URL={}", server.base_url());
    println!("CLOUDFLARE_API_TOKEN={}", creds.api_token);
    println!("CLOUDFLARE_API_KEY={}", creds.api_key);
    println!("CLOUDFLARE_EMAIL={}", creds.email);
    for scope in Scope::ALL {
        println!(
            "{} {} ({} entries): insights {}",
            scope.path_segment(),
            scope.id(),
            server.entry_count(scope, None),
            server.issue_ids(scope).join(", ")
        );
    }
    for f in &args.faults {
        println!("fault: {f}");
    }
    if let Some(limit) = &args.rate_limit {
        println!("rate limit: {limit} (requests:window:lock-out seconds)");
    }
    wait_for_ctrl_c();
    println!(
        "mock-server stopping: {} responses served, {} rate-limited (429)",
        server.served_count(),
        server.rate_limited_count()
    );
    ExitCode::SUCCESS
}
