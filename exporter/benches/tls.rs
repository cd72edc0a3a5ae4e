//! What TLS costs a walk: the same walk over clear HTTP/1.1, over TLS with HTTP/1.1 and over TLS with HTTP/2
//! (negotiated by ALPN, as with `api.cloudflare.com`), against the mock server on loopback.
//!
//! `cargo bench -p insight-audit-log --bench tls` runs it. For each transport it reports the time of a client's
//! first request (connection set-up, with the TLS handshake, plus one small page) and the entries per second of a
//! walk of 100,000 entries at `per_page` 1000 (the median over `BENCH_REPS` rounds, default 3). Nothing is
//! asserted.

use std::time::Instant;

use cloudflare_security_center::{Client, Credentials, RateLimit, Scope};
use mock_server::{ACCOUNT_ID, Config, MockServer};

const ENTRIES: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    ClearHttp1,
    TlsHttp1,
    TlsHttp2,
}

impl Transport {
    const ALL: [Transport; 3] = [
        Transport::ClearHttp1,
        Transport::TlsHttp1,
        Transport::TlsHttp2,
    ];

    fn name(self) -> &'static str {
        match self {
            Transport::ClearHttp1 => "clear HTTP/1.1",
            Transport::TlsHttp1 => "TLS, HTTP/1.1",
            Transport::TlsHttp2 => "TLS, HTTP/2",
        }
    }
}

fn client(server: &MockServer, transport: Transport) -> Client {
    let token = server.credentials().api_token.clone();
    let mut builder = Client::builder()
        .with_credentials(Credentials::api_token(token).expect("a token"))
        .with_base_url(server.base_url())
        .with_rate_limit(RateLimit::disabled());
    if let Some(pem) = server.ca_pem() {
        builder = builder.with_root_certificate(pem);
    }
    if transport == Transport::TlsHttp1 {
        builder = builder.with_http_client(|http| http.http1_only());
    }
    builder.build().expect("a client")
}

/// The first request of a fresh client (seconds), then a full walk (entries per second).
async fn measure(server: &MockServer, transport: Transport, issue: &str) -> (f64, f64) {
    let client = client(server, transport);
    let started = Instant::now();
    client
        .issue_audit_log(Scope::account(ACCOUNT_ID), issue)
        .per_page(1)
        .send()
        .await
        .expect("a page");
    let first = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut items = client
        .issue_audit_log(Scope::account(ACCOUNT_ID), issue)
        .per_page(1000)
        .items();
    let mut count = 0u64;
    while let Some(entry) = items.next().await {
        entry.expect("an entry");
        count += 1;
    }
    (first, count as f64 / started.elapsed().as_secs_f64())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let config = |tls: bool| {
            Config::default()
                .with_entries(ENTRIES)
                .with_zone_entries(0)
                .with_insights_per_scope(1)
                .with_request_journal(false)
                .with_strict(false)
                .with_tls(tls)
        };
        let clear = MockServer::start(config(false)).await;
        let tls = MockServer::start(config(true)).await;
        let issue = clear.issue_ids(mock_server::MockScope::Account)[0].clone();
        println!("{ENTRIES} entries at per_page 1000, {rounds} rounds (medians)");
        let mut rows: Vec<(Transport, Vec<f64>, Vec<f64>)> = Transport::ALL
            .iter()
            .map(|transport| (*transport, Vec::new(), Vec::new()))
            .collect();
        for _ in 0..rounds {
            for (transport, firsts, rates) in &mut rows {
                let server = if *transport == Transport::ClearHttp1 {
                    &clear
                } else {
                    &tls
                };
                let (first, rate) = measure(server, *transport, &issue).await;
                firsts.push(first);
                rates.push(rate);
            }
        }
        let clear_rate = median(&mut rows[0].2.clone());
        for (transport, firsts, rates) in &mut rows {
            let rate = median(rates);
            println!(
                "{:<16} first request {:>7.2} ms   walk {:>9.0} entries/s ({:.2} of clear text)",
                transport.name(),
                median(firsts) * 1000.0,
                rate,
                rate / clear_rate
            );
        }
    });
}
