//! What must never leak: credentials to a host a redirect names, secrets of a base URL in its
//! error messages, a whole response body in `Debug` output.

use cloudflare_security_center::{Client, Credentials, Error};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockServer};

use crate::support::{account_log_error, fast_retries, server_with};

/// Key-and-email credentials for `server` (the scheme reqwest does not strip on a redirect).
fn key_and_email(server: &MockServer) -> Credentials {
    let accepted = server.credentials();
    Credentials::api_key(accepted.email.clone(), accepted.api_key.clone()).expect("valid")
}

/// An API whose first answer is a 302 to the same operation on a second loopback server, and
/// that second server, whose journal records anything that reaches it.
async fn redirecting_api() -> (MockServer, MockServer) {
    let elsewhere = server_with(Config::default().with_entries(10)).await;
    let target = format!(
        "{}/accounts/{ACCOUNT_ID}/security-center/insights/audit-log",
        elsewhere.base_url()
    );
    let api = server_with(
        Config::default()
            .with_entries(10)
            .with_script([CannedResponse::redirect(&target)]),
    )
    .await;
    (api, elsewhere)
}

/// The API answers 302 to another loopback server, which records what reaches it;
/// the caller's HTTP configuration even asks for redirects: the other server receives nothing,
/// and the 302 comes back as an error.
#[tokio::test]
async fn credentials_never_follow_a_redirect_even_when_the_http_config_asks() {
    let (api, elsewhere) = redirecting_api().await;
    let client = Client::builder()
        .with_credentials(key_and_email(&api))
        .with_base_url(api.base_url())
        .with_retry(fast_retries())
        .with_http_client(|http| http.redirect(reqwest::redirect::Policy::limited(10)))
        .build()
        .expect("a valid configuration");
    let error = account_log_error(&client, "a 302 is not a page").await;
    assert_eq!(error.status().map(|status| status.as_u16()), Some(302));
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
    assert_eq!(api.requests().len(), 1);
}

/// The generated layer's own constructor, given this client's settings: it does not
/// follow the redirect either.
#[tokio::test]
async fn the_generated_constructor_does_not_follow_redirects() {
    let (api, elsewhere) = redirecting_api().await;
    let client = Client::builder()
        .with_credentials(key_and_email(&api))
        .with_base_url(api.base_url())
        .build()
        .expect("a valid configuration");
    let settings = progenitor_client::ClientInfo::inner(client.raw()).clone();
    let raw = cloudflare_security_center::raw::Client::new(&api.base_url(), settings);
    let answer = raw
        .get_security_center_account_audit_log()
        .account_id(ACCOUNT_ID)
        .send()
        .await;
    assert!(answer.is_err(), "the 302 is not followed");
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
}

/// A 200 whose body does not decode, with a long field the decoder never quotes:
/// `Debug` of the error shows the body's length, not the body.
#[tokio::test]
async fn debug_of_a_decode_error_shows_the_body_length_only() {
    let body = format!(
        "{{\"success\": true, \"result\": 5, \"padding\": \"{}\"}}",
        "SECRET-".repeat(1000)
    );
    let error = decode_error_for(&body).await;
    let debug = format!("{error:?}");
    assert!(!debug.contains("SECRET"), "{debug}");
    assert!(
        debug.contains(&format!("body_len: {}", body.len())),
        "{debug}"
    );
}

/// The refused value itself is 7 KB long: the decoder's message quoting it is cut, so
/// neither `Display` nor `Debug` grows with the body.
#[tokio::test]
async fn a_decode_message_quoting_a_long_value_is_cut() {
    let body = format!(
        "{{\"success\": true, \"result\": \"{}\"}}",
        "SECRET-".repeat(1000)
    );
    let error = decode_error_for(&body).await;
    assert!(error.to_string().len() < 400, "{error}");
    assert!(format!("{error:?}").len() < 500, "{error:?}");
}

/// The error of one page whose 200 answer carries `body`.
async fn decode_error_for(body: &str) -> Error {
    let server = server_with(
        Config::default()
            .with_entries(10)
            .with_script([CannedResponse::new(200)
                .with_header("content-type", "application/json")
                .with_body(body.to_owned())]),
    )
    .await;
    let error = account_log_error(&crate::support::client(&server), "not a page").await;
    assert!(matches!(error, Error::Decode { .. }), "{error}");
    error
}

/// Base URLs with a password in their user information or a key in their query, one
/// of them also with an invalid port: the errors name the problem, never the secret.
#[test]
fn base_url_errors_do_not_echo_user_information_or_query() {
    for url in ["https://u:SECRET@host:99999", "https://proxy/?key=SECRET"] {
        let error = Client::builder()
            .with_credentials(Credentials::api_token("token").expect("valid"))
            .with_base_url(url)
            .build()
            .expect_err(url);
        let shown = format!("{error} / {error:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("base_url"), "{shown}");
    }
}
