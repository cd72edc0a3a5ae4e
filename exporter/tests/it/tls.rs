//! The exporter over TLS with HTTP/2, as it talks to the real API: `--ca-cert` adds the root a
//! TLS-inspecting proxy (here, the mock's throw-away CA) needs; without it the certificate is
//! refused with an exit code of its own and a hint.

use mock_server::{Config, Filters, MockScope};

use crate::support::{command, parse_ndjson, run, server};

/// With `--ca-cert`, every entry arrives over HTTP/2; without it, exit code 9, no retries, and
/// the message names the certificate problem and the flag.
#[test]
fn an_export_over_tls_needs_the_ca_it_is_told_to_trust() {
    let server = server(Config::default().with_tls(true));
    let folder = tempfile::tempdir().expect("a folder");
    let ca = folder.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem().expect("a TLS server")).expect("written");

    let trusted = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--per-page",
            "250",
            "--ca-cert",
            ca.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(trusted.code, Some(0), "{}", trusted.stderr);
    assert_eq!(
        parse_ndjson(&trusted.stdout),
        server.expected_entries(MockScope::Account, None, &Filters::default())
    );
    let requests = server.take_requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|request| request.version == "HTTP/2.0"));

    let untrusted = run(&mut command(&server), &["--account", server.account_id()]);
    assert_eq!(untrusted.code, Some(9), "{}", untrusted.stderr);
    assert!(
        untrusted
            .stderr
            .contains("TLS certificate of 127.0.0.1 was refused"),
        "{}",
        untrusted.stderr
    );
    assert!(
        untrusted.stderr.contains("--ca-cert"),
        "{}",
        untrusted.stderr
    );
    assert!(server.requests().is_empty(), "no request got through");
}

/// A `--ca-cert` file without a certificate is a usage error naming the file.
#[test]
fn a_ca_cert_without_a_certificate_is_a_usage_error() {
    let server = server(Config::default().with_tls(true));
    let folder = tempfile::tempdir().expect("a folder");
    let ca = folder.path().join("empty.pem");
    std::fs::write(&ca, "not a certificate\n").expect("written");
    let out = run(
        &mut command(&server),
        &[
            "--account",
            server.account_id(),
            "--ca-cert",
            ca.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("empty.pem"), "{}", out.stderr);
}
