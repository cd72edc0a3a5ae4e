//! The binary's flags for many scopes, growth and TLS: good values are served as asked, bad ones are refused
//! before the server starts, with a message that names the flag and what it takes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use mock_server::{ACCOUNT_ID, ZONE_ID};

const BIN: &str = env!("CARGO_BIN_EXE_mock-server");

/// The child is killed when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `--accounts 3 --zones 2 --grow 0.5`: the banner lists three accounts and two zones, the documented ids first,
/// states the growth, and the third account is served.
#[test]
fn accounts_zones_and_grow_flags_are_served_as_given() {
    let mut child = Running(
        Command::new(BIN)
            .args([
                "--port",
                "0",
                "--accounts",
                "3",
                "--zones",
                "2",
                "--entries",
                "7",
            ])
            .args(["--grow", "0.5"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(|l| l.expect("a line"))
        .take_while(|l| !l.starts_with("growth:"))
        .chain(std::iter::once(String::new()))
        .collect();
    let accounts: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("accounts "))
        .collect();
    let zones: Vec<&String> = lines.iter().filter(|l| l.starts_with("zones ")).collect();
    assert_eq!((accounts.len(), zones.len()), (3, 2), "{lines:#?}");
    assert!(accounts[0].starts_with(&format!("accounts {ACCOUNT_ID} (7 entries)")));
    assert!(zones[0].starts_with(&format!("zones {ZONE_ID} (7 entries)")));

    let base = lines
        .iter()
        .find_map(|l| l.strip_prefix("CLOUDFLARE_BASE_URL="))
        .expect("the base URL line");
    let token = lines
        .iter()
        .find_map(|l| l.strip_prefix("CLOUDFLARE_API_TOKEN="))
        .expect("the token line");
    let third = accounts[2].split(' ').nth(1).expect("an id");
    let url = format!("{base}/accounts/{third}/security-center/insights/audit-log");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("an answer")
            .status()
    });
    assert_eq!(status.as_u16(), 200);
}

/// Counts outside 1..=10000, rates that are not a positive number up to 1000, and words are refused with exit
/// code 2 and a message naming the flag and what it takes.
#[test]
fn bad_accounts_zones_and_grow_values_are_refused_clearly() {
    // Should a bad value get through, the server fails on this taken port instead of running on.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for (flag, value, says) in [
        ("--accounts", "0", "expected a whole number from 1 to 10000"),
        (
            "--accounts",
            "10001",
            "expected a whole number from 1 to 10000",
        ),
        (
            "--accounts",
            "three",
            "expected a whole number from 1 to 10000",
        ),
        ("--zones", "-1", "expected a whole number from 1 to 10000"),
        ("--zones", "2.5", "expected a whole number from 1 to 10000"),
        (
            "--grow",
            "0",
            "expected more than 0 and at most 1000 entries per second",
        ),
        (
            "--grow",
            "-2",
            "expected more than 0 and at most 1000 entries per second",
        ),
        (
            "--grow",
            "1001",
            "expected more than 0 and at most 1000 entries per second",
        ),
        (
            "--grow",
            "NaN",
            "expected more than 0 and at most 1000 entries per second",
        ),
        (
            "--grow",
            "inf",
            "expected more than 0 and at most 1000 entries per second",
        ),
        (
            "--grow",
            "fast",
            "expected a number of entries per second per scope",
        ),
    ] {
        let out = Command::new(BIN)
            .args(["--port", &port, &format!("{flag}={value}")])
            .stdin(Stdio::null())
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(says),
            "{flag} {value}: {stderr}"
        );
    }
}

/// `--tls --ca-out FILE`: the CA is written to FILE and its path printed, the base URL is https, and a client that
/// trusts the file gets HTTP/2; `--ca-out` without `--tls` is refused.
#[test]
fn tls_flag_writes_the_ca_and_serves_https() {
    let dir = std::env::temp_dir().join(format!("mock-server-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let mut child = Running(
        Command::new(BIN)
            .args(["--port", "0", "--tls", "--entries", "3", "--ca-out"])
            .arg(&ca)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(|l| l.expect("a line"))
        .take_while(|l| !l.starts_with("zones "))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("CA certificate (PEM): {}", ca.display()))),
        "{lines:#?}"
    );
    let pem = std::fs::read(&ca).expect("the CA file");
    assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    let base = lines
        .iter()
        .find_map(|l| l.strip_prefix("CLOUDFLARE_BASE_URL="))
        .expect("the base URL line");
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let token = lines
        .iter()
        .find_map(|l| l.strip_prefix("CLOUDFLARE_API_TOKEN="))
        .expect("the token line");
    let url = format!("{base}/accounts/{ACCOUNT_ID}/security-center/insights/audit-log");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (version, status) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap();
        let response = client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("an answer");
        (response.version(), response.status().as_u16())
    });
    assert_eq!((version, status), (reqwest::Version::HTTP_2, 200));
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);

    let out = Command::new(BIN)
        .args(["--port", "0", "--ca-out", "x.pem"])
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--tls"), "{stderr}");
}

/// `--journal FILE --unknown-insight-values`: the insight list is served with the odd insight first, and on
/// Ctrl-C (SIGINT) the binary writes each request it received as one JSON line, raw query and headers as sent.
#[test]
fn journal_flag_writes_every_request_when_stopped() {
    let dir = std::env::temp_dir().join(format!("mock-server-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("journal.jsonl");
    let mut child = Running(
        Command::new(BIN)
            .args(["--port", "0", "--unknown-insight-values", "--journal"])
            .arg(&journal)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().expect("stdout")).lines();
    let lines: Vec<String> = stdout
        .by_ref()
        .map(|l| l.expect("a line"))
        .take_while(|l| !l.starts_with("CLOUDFLARE_EMAIL="))
        .collect();
    // The rest of the banner and the closing line are read, so the binary never writes to a closed pipe.
    let rest = std::thread::spawn(move || stdout.map_while(Result::ok).collect::<Vec<String>>());
    let value = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(key))
            .expect("a banner line")
            .to_owned()
    };
    let (base, token) = (
        value("CLOUDFLARE_BASE_URL="),
        value("CLOUDFLARE_API_TOKEN="),
    );
    let url = format!("{base}/accounts/{ACCOUNT_ID}/security-center/insights");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body: serde_json::Value = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}?severity=low&severity~neq=critical"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON")
    });
    assert_eq!(body["result"]["count"], 0, "{body}");
    let body: serde_json::Value = runtime.block_on(async {
        let answer = reqwest::Client::new().get(&url).bearer_auth(&token).send();
        answer.await.expect("an answer").json().await.expect("JSON")
    });
    assert_eq!(body["result"]["issues"][0]["severity"], "Urgent", "{body}");
    let killed = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.0.wait().expect("the binary stops");
    assert!(status.success(), "{status:?}");
    let rest = rest.join().expect("the banner read");
    assert!(
        rest.last()
            .is_some_and(|l| l.starts_with("mock-server stopping: 2 responses served")),
        "{rest:?}"
    );
    let text = std::fs::read_to_string(&journal).expect("the journal was written");
    let requests: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect();
    assert_eq!(requests.len(), 2, "{text}");
    let path = format!("/client/v4/accounts/{ACCOUNT_ID}/security-center/insights");
    assert_eq!(requests[0]["method"], "GET");
    assert_eq!(requests[0]["path"], path.as_str());
    assert_eq!(requests[0]["query"], "severity=low&severity~neq=critical");
    assert_eq!(requests[1]["query"], serde_json::Value::Null);
    let headers = requests[0]["headers"].as_array().expect("headers");
    assert!(
        headers.contains(&serde_json::json!([
            "authorization",
            format!("Bearer {token}")
        ])),
        "{headers:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
