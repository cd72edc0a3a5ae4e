//! Credentials on the wire, and nowhere else: not in Debug output, errors, or redirects.

use cloudflare_security_center::{Client, Credentials, Error, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockServer};

use crate::support::{account_log_error, client, server, server_with};

/// An API token goes out as `Authorization: Bearer`, and no key headers.
#[tokio::test]
async fn api_token_is_sent_as_a_bearer_header() {
    let server = server().await;
    let page = client(&server)
        .audit_log(Scope::account(ACCOUNT_ID))
        .send()
        .await;
    assert!(page.is_ok(), "{page:?}");
    let request = &server.requests()[0];
    let expected = format!("Bearer {}", server.credentials().api_token);
    assert_eq!(request.header("authorization"), Some(expected.as_str()));
    assert!(request.header("x-auth-key").is_none() && request.header("x-auth-email").is_none());
}

/// A Global API key goes out as `X-Auth-Key` + `X-Auth-Email`, and no bearer header.
#[tokio::test]
async fn api_key_is_sent_as_x_auth_headers() {
    let server = server().await;
    let credentials = server.credentials().clone();
    let client = Client::builder()
        .with_credentials(Credentials::api_key(&credentials.email, &credentials.api_key).unwrap())
        .with_base_url(server.base_url())
        .build()
        .unwrap();
    let page = client.audit_log(Scope::account(ACCOUNT_ID)).send().await;
    assert!(page.is_ok(), "{page:?}");
    let request = &server.requests()[0];
    assert_eq!(
        request.header("x-auth-key"),
        Some(credentials.api_key.as_str())
    );
    assert_eq!(
        request.header("x-auth-email"),
        Some(credentials.email.as_str())
    );
    assert!(request.header("authorization").is_none());
}

/// The secrets appear in no Debug or Display output of credentials, client, request
/// or the error of a refused (401) call.
#[tokio::test]
async fn secrets_are_absent_from_debug_and_errors() {
    let server = server().await;
    let token = "tok-SECRET-4f1c9";
    let key = "key-SECRET-77a0";
    let email = "secret-person@example.com";
    for credentials in [
        Credentials::api_token(token).unwrap(),
        Credentials::api_key(email, key).unwrap(),
    ] {
        let client = Client::builder()
            .with_credentials(credentials.clone())
            .with_base_url(server.base_url())
            .build()
            .unwrap();
        let request = client.audit_log(Scope::account(ACCOUNT_ID));
        let error = request.send().await.expect_err("wrong credentials");
        assert_eq!(
            error.status().map(|status| status.as_u16()),
            Some(401),
            "{error}"
        );
        let shown = format!(
            "{credentials:?} {client:?} {request:?} {error} {error:?} {:?}",
            std::error::Error::source(&error)
        );
        for secret in [token, key, email] {
            assert!(!shown.contains(secret), "{secret} leaked in: {shown}");
        }
    }
}

/// A half-set key/e-mail pair, or a token beside a key, is a configuration error.
#[test]
fn half_set_or_ambiguous_environment_credentials_are_errors() {
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    };
    let key_only = Credentials::from_lookup(lookup(&[("CLOUDFLARE_API_KEY", "k")]));
    assert!(matches!(
        key_only,
        Err(Error::InvalidConfig {
            setting: "CLOUDFLARE_EMAIL",
            ..
        })
    ));
    let email_only = Credentials::from_lookup(lookup(&[("CLOUDFLARE_EMAIL", "a@b.c")]));
    assert!(matches!(
        email_only,
        Err(Error::InvalidConfig {
            setting: "CLOUDFLARE_API_KEY",
            ..
        })
    ));
    let token_and_email = Credentials::from_lookup(lookup(&[
        ("CLOUDFLARE_API_TOKEN", "t"),
        ("CLOUDFLARE_EMAIL", "a@b.c"),
    ]));
    assert!(matches!(
        token_and_email,
        Err(Error::InvalidConfig {
            setting: "CLOUDFLARE_API_TOKEN",
            ..
        })
    ));
    let token = Credentials::from_lookup(lookup(&[("CLOUDFLARE_API_TOKEN", "t")]));
    assert_eq!(
        token.unwrap().map(|credentials| credentials.scheme()),
        Some("api_token")
    );
    let none = Credentials::from_lookup(lookup(&[]));
    assert!(matches!(none, Ok(None)));
}

/// A secret with CR/LF is refused, and the error does not echo it.
#[test]
fn secrets_with_line_breaks_are_refused() {
    let error = Credentials::api_token("abc\r\nX-Evil: 1").expect_err("refused");
    assert!(matches!(
        error,
        Error::InvalidConfig {
            setting: "api_token",
            ..
        }
    ));
    assert!(!error.to_string().contains("X-Evil"), "{error}");
    assert!(Credentials::api_key("a@b.c\n", "key").is_err());
    assert!(Credentials::api_key("a@b.c", "").is_err());
}

/// Plain http to a non-loopback host is refused unless explicitly allowed.
#[test]
fn plain_http_base_urls_need_loopback_or_an_opt_in() {
    let build = |url: &str, allow: bool| {
        Client::builder()
            .with_credentials(Credentials::api_token("t").unwrap())
            .with_base_url(url)
            .with_insecure_http(allow)
            .build()
    };
    assert!(matches!(
        build("http://api.example.com/client/v4", false),
        Err(Error::InvalidConfig {
            setting: "base_url",
            ..
        })
    ));
    assert!(build("http://api.example.com/client/v4", true).is_ok());
    assert!(build("http://127.0.0.1:9/client/v4", false).is_ok());
    assert!(build("https://api.example.com/client/v4", false).is_ok());
}

/// The API answers with a redirect to another host; the client does not follow it,
/// so the credentials never reach that host, and the call fails with the 302 kept.
#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = server_with(Config::default().with_entries(1)).await;
    let target = format!(
        "{}/accounts/{ACCOUNT_ID}/security-center/insights/audit-log",
        elsewhere.base_url()
    );
    let server = server_with(
        Config::default()
            .with_entries(1)
            .with_script([CannedResponse::redirect(&target)]),
    )
    .await;
    let error = account_log_error(&client(&server), "not followed").await;
    assert_eq!(
        error.status().map(|status| status.as_u16()),
        Some(302),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1);
    assert!(
        elsewhere.requests().is_empty(),
        "followed: {:?}",
        elsewhere.requests()
    );
    let _: &MockServer = &elsewhere;
}
