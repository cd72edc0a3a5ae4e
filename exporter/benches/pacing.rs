//! How close the client's pacing gets to the API's rate limit without ever tripping it: walks against the mock's
//! emulation of Cloudflare's limit, scaled down from 1200 requests per 300 s to 60 per 10 s (`--rate-limit 60:10`),
//! with 20 ms per response.
//!
//! `cargo bench -p insight-audit-log --bench pacing` runs it (about 70 s per round). Cases:
//! - one walk needing three budgets of requests (180 pages of 5);
//! - four concurrent walks on one client needing three budgets together;
//! - a walk of 50 pages of 1000, within one budget: its time against 50 × 20 ms, what the pacer costs when the
//!   budget is not the bound;
//! - the exporter feeding a SIEM: 20 scopes of 5,000 entries at `per_page` 1000, four at a time on one client,
//!   NDJSON to a sink: its time against the ideal, the larger of the budget-bound time (the windows the requests
//!   need, less the last one's length) and the latency-bound time (requests × 20 ms / 4);
//! - what enrichment costs: the same 20 scopes with 50 insights each, plain NDJSON against `--enrich` and
//!   `--format ecs`: the extra requests per scope, and the time against the plain run; then with 25,000 entries a
//!   scope (25 pages), where the insight lists' one request is a smaller share of a scope's.
//!
//! It reports requests/s against the budget (60 / 10 s = 6/s) and the 429s the mock served; nothing is asserted.
//! `BENCH_REPS` sets the rounds (default 1); `BENCH_ENRICHMENT_ONLY=1` runs the enrichment case alone.

use std::time::{Duration, Instant};

use cloudflare_security_center::{Client, Credentials, RateLimit as Pacing, Scope};
use mock_server::{ACCOUNT_ID, Config, Fault, MockRateLimit, MockServer};

const QUOTA: u32 = 60;
const WINDOW: Duration = Duration::from_secs(10);
const LATENCY: Duration = Duration::from_millis(20);

/// One case's figures.
struct Figures {
    requests: u64,
    seconds: f64,
    rejected: u64,
}

async fn limited_server(entries: usize, insights: usize) -> MockServer {
    MockServer::start(
        Config::default()
            .with_entries(entries)
            .with_zone_entries(0)
            .with_insights_per_scope(insights)
            .with_request_journal(false)
            .with_strict(false)
            .with_rate_limit(MockRateLimit::new(QUOTA, WINDOW))
            .with_fault(Fault::Slow {
                every: 1,
                delay: LATENCY,
            }),
    )
    .await
}

fn client(server: &MockServer, pacing: bool) -> Client {
    let rate_limit = if pacing {
        Pacing::default()
    } else {
        Pacing::disabled()
    };
    let token = server.credentials().api_token.clone();
    Client::builder()
        .with_credentials(Credentials::api_token(token).expect("a token"))
        .with_base_url(server.base_url())
        .with_rate_limit(rate_limit)
        .build()
        .expect("a client")
}

/// Walks `walks` insights at once on one client, `per_page` entries a page; returns the pages and the time.
async fn walk(server: &MockServer, walks: usize, per_page: u32, pacing: bool) -> (u64, f64) {
    let client = client(server, pacing);
    let issues: Vec<String> = server
        .issue_ids(mock_server::MockScope::Account)
        .into_iter()
        .take(walks)
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = issues
        .into_iter()
        .map(|issue| {
            let mut pages = client
                .issue_audit_log(Scope::account(ACCOUNT_ID), issue)
                .per_page(per_page)
                .pages();
            tokio::spawn(async move {
                let mut count = 0u64;
                while let Some(page) = pages.next().await {
                    page.expect("a page");
                    count += 1;
                }
                count
            })
        })
        .collect();
    let mut pages = 0;
    for task in tasks {
        pages += task.await.expect("the walk ran");
    }
    (pages, started.elapsed().as_secs_f64())
}

async fn case(
    entries: usize,
    insights: usize,
    walks: usize,
    per_page: u32,
    pacing: bool,
) -> Figures {
    let server = limited_server(entries, insights).await;
    let (requests, seconds) = walk(&server, walks, per_page, pacing).await;
    Figures {
        requests,
        seconds,
        rejected: server.rate_limited_count(),
    }
}

fn report(name: &str, figures: &Figures) {
    let rate = figures.requests as f64 / figures.seconds;
    let budget = f64::from(QUOTA) / WINDOW.as_secs_f64();
    println!(
        "{name:<44} {:>4} requests in {:>6.2} s = {:>5.2}/s, {:.2} of the budget's {budget:.0}/s, {} 429s",
        figures.requests,
        figures.seconds,
        rate,
        rate / budget,
        figures.rejected
    );
}

/// What one exporter run did: its requests, its time and the 429s it met.
struct ExporterRun {
    requests: u64,
    seconds: f64,
    rejected: u64,
}

/// The exporter over 20 scopes (10 accounts, 10 zones) of `entries` entries over `insights` insights each, with
/// `flags`, to a sink.
async fn exporter_run(entries: usize, insights: usize, flags: &[&str]) -> ExporterRun {
    let server = MockServer::start(
        Config::default()
            .with_accounts(10)
            .with_zones(10)
            .with_entries(entries)
            .with_insights_per_scope(insights)
            .with_request_journal(false)
            .with_strict(false)
            .with_rate_limit(MockRateLimit::new(QUOTA, WINDOW))
            .with_fault(Fault::Slow {
                every: 1,
                delay: LATENCY,
            }),
    )
    .await;
    let mut args = vec!["insight-audit-log".to_owned()];
    args.extend(flags.iter().map(|flag| (*flag).to_owned()));
    for id in server.account_ids() {
        args.extend(["--account".to_owned(), id]);
    }
    for id in server.zone_ids() {
        args.extend(["--zone".to_owned(), id]);
    }
    let cli = insight_audit_log::args::Cli::try_parse_args(args).expect("valid flags");
    let base_url = server.base_url();
    let token = server.credentials().api_token.clone();
    let env = move |name: &str| match name {
        "CLOUDFLARE_BASE_URL" => Some(base_url.clone()),
        "CLOUDFLARE_API_TOKEN" => Some(token.clone()),
        _ => None,
    };
    let started = Instant::now();
    let code = insight_audit_log::run::run(
        cli,
        &env,
        insight_audit_log::run::Terminals::default(),
        std::io::sink(),
        std::io::sink(),
        std::future::pending(),
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(code, 0, "the export succeeds");
    ExporterRun {
        requests: server.served_count(),
        seconds,
        rejected: server.rate_limited_count(),
    }
}

/// The exporter feeding a SIEM, NDJSON, one insight per scope: its time against the ideal.
async fn siem() {
    let ExporterRun {
        requests,
        seconds,
        rejected,
    } = exporter_run(5000, 1, &["--format", "ndjson"]).await;
    let windows = (requests as f64 / f64::from(QUOTA)).ceil() - 1.0;
    let budget_bound = windows * WINDOW.as_secs_f64();
    let latency_bound = requests as f64 * LATENCY.as_secs_f64() / 4.0;
    let ideal = budget_bound.max(latency_bound);
    println!(
        "{:<44} {requests:>4} requests in {seconds:>6.2} s against an ideal of {ideal:.2} s: {:.2}x, {rejected} 429s",
        "exporter, 20 scopes x 5000, per_page 1000",
        seconds / ideal,
    );
}

/// What enrichment costs: 20 scopes of `entries` entries with 50 insights each, plain NDJSON against NDJSON
/// `--enrich` (and, with `ecs`, `--format ecs`), both reading each scope's insight lists once: the extra requests
/// per scope and the time against the plain run.
async fn enrichment(entries: usize, ecs: bool) {
    const SCOPES: f64 = 20.0;
    let plain = exporter_run(entries, 50, &["--format", "ndjson"]).await;
    println!(
        "{:<44} {:>4} requests in {:>6.2} s, {} 429s",
        format!("exporter, 20 x {entries} x 50 insights, plain"),
        plain.requests,
        plain.seconds,
        plain.rejected
    );
    let mut cases = vec![(
        "  the same, --enrich",
        &["--format", "ndjson", "--enrich"][..],
    )];
    if ecs {
        cases.push(("  the same, --format ecs", &["--format", "ecs"][..]));
    }
    for (name, flags) in cases {
        let run = exporter_run(entries, 50, flags).await;
        let extra = run.requests.saturating_sub(plain.requests) as f64 / SCOPES;
        println!(
            "{name:<44} {:>4} requests in {:>6.2} s, {} 429s: {extra:.2} extra requests a scope, {:.3}x the time",
            run.requests,
            run.seconds,
            run.rejected,
            run.seconds / plain.seconds
        );
    }
}

fn main() {
    let rounds: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "budget {QUOTA} requests per {} s, {} ms per response",
        WINDOW.as_secs(),
        LATENCY.as_millis()
    );
    for round in 1..=rounds {
        println!("round {round}");
        runtime.block_on(async {
            let enrichment_only = std::env::var_os("BENCH_ENRICHMENT_ONLY").is_some();
            if !enrichment_only {
                siem().await;
            }
            // 5 pages a scope, as the SIEM case; then 25, where the one extra request is 4 % of a scope's.
            enrichment(5000, true).await;
            enrichment(25_000, false).await;
            if enrichment_only {
                return;
            }
            // 900 entries at 5 a page: 180 requests, three budgets.
            report("one walk, 180 pages of 5", &case(900, 1, 1, 5, true).await);
            // Four insights of 225 entries at 5 a page: 45 requests each.
            report(
                "four concurrent walks, 4 x 45 pages of 5",
                &case(900, 4, 4, 5, true).await,
            );
            for pacing in [true, false] {
                let within = case(50_000, 1, 1, 1000, pacing).await;
                let name = if pacing {
                    "one walk, 50 pages of 1000"
                } else {
                    "the same, pacing off"
                };
                report(name, &within);
                let ideal = within.requests as f64 * LATENCY.as_secs_f64();
                println!(
                    "{:<44} {:.2} s against {:.2} s of latency alone: {:.2}x",
                    "  time against pages x 20 ms",
                    within.seconds,
                    ideal,
                    within.seconds / ideal
                );
            }
        });
    }
}
