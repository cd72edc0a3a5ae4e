//! The security pass: credentials go only to the base URL's host, plain http needs loopback or
//! an opt-in, line breaks cannot smuggle headers, and a hostile spec can neither make the
//! generator write outside its output path nor put code into the generated file.

use cloudflare_security_center::{Client, Credentials, Error, Scope};
use mock_server::{ACCOUNT_ID, CannedResponse, Config, MockServer};
use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use xtask::regenerate::{self, Options};

use crate::support::client;

/// The API answers 301, 302, 303, 307 or 308 pointing at a second server on another
/// port; the client returns an error carrying that status, the first server saw the
/// credentials once, and the second server's journal stays empty.
#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_host() {
    let elsewhere = MockServer::start(Config::default().with_entries(1)).await;
    let target = format!(
        "{}/accounts/{ACCOUNT_ID}/security-center/insights/audit-log",
        elsewhere.base_url()
    );
    for status in [301u16, 302, 303, 307, 308] {
        let server = MockServer::start(
            Config::default()
                .with_entries(1)
                .with_script([CannedResponse::new(status).with_header("location", &target)]),
        )
        .await;
        let token = &server.credentials().api_token;
        let error = client(&server)
            .audit_log(Scope::account(ACCOUNT_ID))
            .send()
            .await
            .expect_err("a redirect is not followed");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{error}");
        let sent = server.requests();
        assert_eq!(sent.len(), 1, "{status}: {sent:?}");
        assert_eq!(
            sent[0].header("authorization"),
            Some(&*format!("Bearer {token}"))
        );
        assert!(
            elsewhere.requests().is_empty(),
            "{status} was followed: {:?}",
            elsewhere.requests()
        );
    }
}

fn build(base_url: &str, insecure: bool) -> Result<Client, Error> {
    Client::builder()
        .with_credentials(Credentials::api_token("t0ken").expect("a token"))
        .with_base_url(base_url)
        .with_insecure_http(insecure)
        .build()
}

/// Plain-http base URLs are refused unless the host is loopback or http is opted into,
/// including hosts that only look loopback (`127.0.0.1.example.com`, `localhost.example.com`,
/// user info before the host); https and non-http schemes are judged as such.
#[test]
fn plain_http_needs_loopback_or_an_opt_in() {
    let refused = [
        "http://example.com/client/v4",
        "HTTP://EXAMPLE.COM/client/v4",
        "http://127.0.0.1.example.com/client/v4",
        "http://localhost.example.com/client/v4",
        "http://127.0.0.1@example.com/client/v4",
        "http://10.0.0.1/client/v4",
        "http://[::ffff:10.0.0.1]/client/v4",
        "http://0.0.0.0/client/v4",
    ];
    for url in refused {
        let error = build(url, false).expect_err(url);
        assert!(
            matches!(
                error,
                Error::InvalidConfig {
                    setting: "base_url",
                    ..
                }
            ),
            "{url}: {error}"
        );
    }
    for url in ["http://example.com/client/v4", "http://10.0.0.1/client/v4"] {
        assert!(build(url, true).is_ok(), "{url} with the opt-in");
    }
    let accepted = [
        "https://api.cloudflare.com/client/v4",
        "http://127.0.0.1:8787/client/v4",
        "http://127.1.2.3/client/v4",
        "http://[::1]:8787/client/v4",
        "http://localhost/client/v4",
        "http://LOCALHOST:1/client/v4",
    ];
    for url in accepted {
        assert!(build(url, false).is_ok(), "{url}");
    }
    for url in [
        "ftp://example.com",
        "file:///etc/passwd",
        "javascript:alert(1)",
    ] {
        assert!(build(url, true).is_err(), "{url} even with the opt-in");
    }
}

/// A CR or LF (or another control or non-ASCII character) in a token, key or e-mail, and a CR,
/// LF or NUL in the User-Agent suffix, is refused when the value is given, and the error never
/// repeats the value.
#[test]
fn line_breaks_in_secrets_and_header_values_are_refused() {
    let hostile = [
        "a\r\nb",
        "tok3n\r\nX-Injected: 1",
        "tok3n\nX-Injected: 1",
        "tok3n\rX-Injected: 1",
        "tok3n\u{0}",
        "tok3n\u{85}x",
        "tok3n\u{2028}x",
    ];
    for value in hostile {
        let mut errors = vec![
            Credentials::api_token(value).expect_err("token"),
            Credentials::api_key("user@example.com", value).expect_err("key"),
            Credentials::api_key(value, "k3y").expect_err("e-mail"),
        ];
        // The User-Agent suffix is checked as a header value: CR, LF and NUL are refused (other
        // non-ASCII bytes pass as obs-text; see docs/hardening.md).
        if value.contains(['\r', '\n', '\u{0}']) {
            errors.push(
                Client::builder()
                    .with_credentials(Credentials::api_token("t0ken").expect("a token"))
                    .with_base_url("http://127.0.0.1:9/client/v4")
                    .with_user_agent_suffix(value)
                    .build()
                    .expect_err("user agent"),
            );
        }
        for error in errors {
            assert!(
                matches!(error, Error::InvalidConfig { .. }),
                "{value:?}: {error}"
            );
            let text = format!("{error} {error:?}");
            let visible = value
                .split(['\r', '\n', '\u{0}', '\u{85}', '\u{2028}'])
                .next();
            assert!(!text.contains(value), "{value:?} echoed: {text}");
            if let Some(part) = visible.filter(|part| part.len() > 2) {
                assert!(!text.contains(part), "{value:?} echoed: {text}");
            }
            assert!(!text.contains("X-Injected"), "{value:?} echoed: {text}");
        }
    }
}

/// The hostile spec's `info`; with the paths and schemas below: path traversal, Rust keywords,
/// attribute-, comment- and string-breaking text.
const HOSTILE_INFO: &str = r##"info:
  title: "*/ #![no_std] fn pwned_title() {} /* \"); fn pwned_info() {} (\""
"##;

/// A path added to the workspace spec by the hostile spec.
const HOSTILE_PATHS: &str = r##"  /things/{type}:
    get:
      operationId: "../../hardening-escape"
      description: "*/ #[cfg(any())] fn pwned_description() {} /* ``` ignore"
      parameters:
        - name: type
          in: path
          required: true
          schema: {type: string}
        - name: self
          in: query
          schema: {type: string}
        - name: "#[derive(Pwned)]"
          in: query
          schema: {type: string}
      responses:
        '200':
          description: "*/ fn pwned_response() {}"
          content:
            application/json:
              schema: {$ref: '#/components/schemas/..~1..~1hardening-escape'}
"##;

/// Schemas added to the workspace spec by the hostile spec.
const HOSTILE_SCHEMAS: &str = r##"    ../../hardening-escape:
      type: object
      description: "*/ #[no_mangle] pub extern fn pwned_schema() {} /*\n#[doc = include_str!(\"/etc/passwd\")]"
      properties:
        self: {type: string}
        r#fn: {type: string}
        "#[serde(flatten)]": {type: string}
        type:
          type: string
          description: "\\\"; fn pwned_property() {} //"
          enum:
            - "#[derive(Pwned)]"
            - "*/"
            - "fn pwned_variant() {}"
            - "\""
            - "r#\"raw\"#"
            - "super"
"##;

/// Every identifier of a token stream, descending into groups (literals, doc comments
/// included, are not identifiers).
fn identifiers(tokens: TokenStream, out: &mut Vec<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => identifiers(group.stream(), out),
            _ => {}
        }
    }
}

/// Every attribute path used anywhere in the file, as text (e.g. `serde`, `doc`).
fn attribute_paths(tokens: TokenStream, out: &mut Vec<String>) {
    let mut previous_pound = false;
    for token in tokens {
        if let TokenTree::Group(group) = &token {
            if previous_pound && group.delimiter() == proc_macro2::Delimiter::Bracket {
                let path: String = group
                    .stream()
                    .into_iter()
                    .take_while(|inner| !matches!(inner, TokenTree::Group(_)))
                    .filter(|inner| !matches!(inner, TokenTree::Punct(p) if p.as_char() == '='))
                    .take_while(|inner| !matches!(inner, TokenTree::Literal(_)))
                    .map(|inner| inner.to_string())
                    .collect();
                out.push(path);
            }
            attribute_paths(group.stream(), out);
        }
        previous_pound = matches!(&token, TokenTree::Punct(p) if p.as_char() == '#');
    }
}

/// A spec whose names and texts try path traversal, keywords, attributes, comments
/// and string breaks is generated through `cargo xtask regenerate --spec --out`: the run writes
/// only its output file, the output parses as Rust, no `pwned_*` item or `Pwned` derive exists
/// as code (the texts survive only inside string literals and doc comments), and the file uses
/// only the attributes the generator always uses.
#[test]
fn hostile_spec_generates_inert_code_at_its_output_path_only() {
    let sentinel = tests::Sentinel::new();
    let workspace = std::fs::read_to_string(xtask::workspace_root().join("spec/openapi.yaml"))
        .expect("read spec/openapi.yaml");
    let hostile = workspace
        .replacen("  title: Cloudflare API (Security Center excerpt)\n", "", 1)
        .replacen("info:\n", HOSTILE_INFO, 1)
        .replacen("paths:\n", &format!("paths:\n{HOSTILE_PATHS}"), 1)
        .replacen("  schemas:\n", &format!("  schemas:\n{HOSTILE_SCHEMAS}"), 1);
    let planted: usize = [HOSTILE_INFO, HOSTILE_PATHS, HOSTILE_SCHEMAS]
        .iter()
        .map(|text| text.matches("pwned_").count())
        .sum();
    assert_eq!(
        hostile.matches("pwned_").count(),
        planted,
        "the edits did not all apply"
    );
    let spec_path = sentinel.input("openapi.yaml", &hostile);
    let escape = sentinel.dir.path().join("../hardening-escape");
    let outcome = regenerate::run(&Options {
        check: false,
        spec: Some(spec_path),
        out: Some(sentinel.path.clone()),
        ..Default::default()
    });
    let mut listing: Vec<String> = std::fs::read_dir(sentinel.dir.path())
        .expect("list the folder")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    listing.sort();
    assert_eq!(
        listing,
        ["openapi.yaml", "sentinel.rs"],
        "files written beside the output"
    );
    assert!(!escape.exists() && !escape.with_extension("rs").exists());
    let report =
        outcome.unwrap_or_else(|error| panic!("the hostile spec does not generate: {error:#}"));
    assert_eq!(report.outcome, xtask::files::Outcome::Written);

    let code = std::fs::read_to_string(&sentinel.path).expect("the output");
    let file: syn::File = syn::parse_str(&code).expect("the output parses as Rust");
    let tokens = file.to_token_stream();
    let mut idents = Vec::new();
    identifiers(tokens.clone(), &mut idents);
    let injected: Vec<&String> = idents
        .iter()
        .filter(|ident| {
            let lower = ident.to_lowercase();
            lower.contains("pwned_")
                || lower == "pwned"
                || *ident == "no_mangle"
                || *ident == "extern"
                || *ident == "no_std"
                || *ident == "include_str"
        })
        .collect();
    assert!(injected.is_empty(), "text became code: {injected:?}");
    assert!(
        file.attrs
            .iter()
            .all(|attr| attr.path().is_ident("doc") || attr.path().is_ident("allow")),
        "inner attributes: {:?}",
        file.attrs
            .iter()
            .map(|a| a.to_token_stream().to_string())
            .collect::<Vec<_>>()
    );
    let mut paths = Vec::new();
    attribute_paths(tokens, &mut paths);
    let allowed = [
        "doc",
        "derive",
        "serde",
        "allow",
        "cfg",
        "must_use",
        "inline",
        "non_exhaustive",
    ];
    let unexpected: Vec<&String> = paths
        .iter()
        .filter(|path| !allowed.iter().any(|allowed| path == allowed))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected attributes: {unexpected:?}"
    );
    // The texts are kept, as documentation.
    assert!(code.contains("pwned_schema"), "the description was dropped");
}

/// `cargo xtask regenerate --spec` on a copy of the workspace spec whose file name
/// holds a line feed, a carriage return and a Unicode line separator followed by code; the
/// generated header shows them as escapes, so the name stays inside its `//` comment and the
/// file holds no item made of it.
#[test]
fn a_spec_file_name_cannot_end_the_header_comment() {
    let sentinel = tests::Sentinel::new();
    let workspace = std::fs::read_to_string(xtask::workspace_root().join("spec/openapi.yaml"))
        .expect("read spec/openapi.yaml");
    let name = "spec\nfn pwned_header() {}\r\n\u{2028}.yaml";
    let spec_path = sentinel.input(name, &workspace);
    regenerate::run(&Options {
        check: false,
        spec: Some(spec_path),
        out: Some(sentinel.path.clone()),
        ..Default::default()
    })
    .unwrap_or_else(|error| panic!("{error:#}"));
    let code = std::fs::read_to_string(&sentinel.path).expect("the output");
    let header: Vec<&str> = code.lines().take(4).collect();
    assert!(
        header.iter().all(|line| line.starts_with("// ")),
        "{header:#?}"
    );
    assert!(
        header[1].contains("spec\\nfn pwned_header() {}\\r\\n\\u{2028}.yaml (sha256 "),
        "{}",
        header[1]
    );
    let file: syn::File = syn::parse_str(&code).expect("the output parses as Rust");
    let mut idents = Vec::new();
    identifiers(file.to_token_stream(), &mut idents);
    assert!(
        !idents.iter().any(|ident| ident == "pwned_header"),
        "the name became code"
    );
}
