//! Credentials reach the API only from the environment or a token file, never from the command line, and are
//! never echoed in messages.

use mock_server::{Config, MockScope};

use crate::support::{bare_command, command, run, server};

fn bearer(server: &mock_server::MockServer) -> String {
    format!("Bearer {}", server.credentials().api_token)
}

/// `CLOUDFLARE_API_TOKEN` is sent as a bearer token on every request.
#[test]
fn token_from_the_environment_is_sent_as_bearer() {
    let server = server(Config::default().with_entries(120));
    let out = run(
        &mut command(&server),
        &["--account", server.account_id(), "--per-page", "50"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(bearer(&server).as_str()))
    );
}

/// `--api-token-file` works with no credential variable set; its trailing newline is ignored.
#[test]
fn token_from_a_file_works_without_the_environment() {
    let server = server(Config::default().with_entries(50));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{}\n", server.credentials().api_token)).expect("write token");
    let out = run(
        bare_command().env("CLOUDFLARE_BASE_URL", server.base_url()),
        &[
            "--zone",
            server.zone_id(),
            "--api-token-file",
            path.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().count(),
        server.entry_count(MockScope::Zone, None)
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization") == Some(bearer(&server).as_str()))
    );
}

/// The Global API key with its e-mail, from the environment, is sent as `X-Auth-Key` / `X-Auth-Email`.
#[test]
fn api_key_and_email_from_the_environment_work() {
    let server = server(Config::default().with_entries(10));
    let creds = server.credentials().clone();
    let out = run(
        bare_command()
            .env("CLOUDFLARE_BASE_URL", server.base_url())
            .env("CLOUDFLARE_API_KEY", &creds.api_key)
            .env("CLOUDFLARE_EMAIL", &creds.email),
        &["--account", server.account_id()],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-auth-key") == Some(creds.api_key.as_str()))
    );
}

/// There is no flag that takes a token: trying one is a usage error and nothing is sent.
#[test]
fn a_token_flag_does_not_exist() {
    let server = server(Config::default());
    for flag in ["--api-token", "--token"] {
        let out = run(
            bare_command().env("CLOUDFLARE_BASE_URL", server.base_url()),
            &[
                "--account",
                server.account_id(),
                flag,
                &server.credentials().api_token,
            ],
        );
        assert_eq!(out.code, Some(2), "{flag}: {}", out.stderr);
    }
    assert!(server.requests().is_empty());
}

/// No credentials at all: exit code 2, a message naming the variables and the file flag, nothing sent.
#[test]
fn missing_credentials_is_a_usage_error() {
    let server = server(Config::default());
    let out = run(
        bare_command().env("CLOUDFLARE_BASE_URL", server.base_url()),
        &["--account", server.account_id()],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("CLOUDFLARE_API_TOKEN"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--api-token-file"), "{}", out.stderr);
    assert!(server.requests().is_empty());
}

/// A wrong token is the API's 401: exit code 3, and the token does not appear in the message.
#[test]
fn wrong_token_exits_3_without_echoing_it() {
    let server = server(Config::default());
    let secret = "wrong-token-3f9a0c";
    let out = run(
        bare_command()
            .env("CLOUDFLARE_BASE_URL", server.base_url())
            .env("CLOUDFLARE_API_TOKEN", secret),
        &["--account", server.account_id()],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 401"), "{}", out.stderr);
    assert!(!out.stderr.contains(secret));
}

/// An unreadable token file is a usage error naming the file.
#[test]
fn unreadable_token_file_is_a_usage_error() {
    let server = server(Config::default());
    let out = run(
        bare_command().env("CLOUDFLARE_BASE_URL", server.base_url()),
        &[
            "--account",
            server.account_id(),
            "--api-token-file",
            "/nonexistent/token",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("/nonexistent/token"), "{}", out.stderr);
    assert!(server.requests().is_empty());
}
