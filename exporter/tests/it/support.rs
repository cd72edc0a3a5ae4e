//! Running the binary against a mock server with an explicit environment, and reading its output back.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use mock_server::{Config, MockAuditLogEntry, MockScope, MockServer};

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_insight-audit-log");

/// A mock server on its own thread (the tests are synchronous), 1,000 entries per scope over 3 insights.
pub(crate) fn server(config: Config) -> MockServer {
    MockServer::start_in_background(config).expect("mock server starts on 127.0.0.1")
}

/// A command with nothing inherited but PATH: the base URL and token of `server`.
pub(crate) fn command(server: &MockServer) -> Command {
    let mut command = bare_command();
    command
        .env("CLOUDFLARE_BASE_URL", server.base_url())
        .env("CLOUDFLARE_API_TOKEN", &server.credentials().api_token);
    command
}

/// A command with nothing inherited but PATH.
pub(crate) fn bare_command() -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().stdin(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
}

/// What one run did.
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// The cursor after `resume with: --cursor `, if printed (unquoted as a shell would).
    pub(crate) fn resume_cursor(&self) -> Option<String> {
        let word = self
            .stderr
            .lines()
            .find_map(|line| line.split_once("resume with: --cursor "))?
            .1;
        let mut words = shlex::split(word)?;
        (words.len() == 1).then(|| words.remove(0))
    }
}

/// Runs to the end and captures everything.
pub(crate) fn run(command: &mut Command, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.args(args).output().expect("the binary runs");
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

/// Runs to the end, as [`run`], but kills the binary and fails the test if it has not ended within `limit`: for
/// the faults that used to make it wait for hours.
pub(crate) fn run_within(command: &mut Command, args: &[&str], limit: std::time::Duration) -> Run {
    use std::io::Read as _;
    let mut child = command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).map(|_| text)
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the binary can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let said = err.join().ok().and_then(Result::ok).unwrap_or_default();
            panic!("the exporter was still running after {limit:?}; it said: {said}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Run {
        code: status.code(),
        stdout: out.join().expect("stdout reader").expect("stdout is UTF-8"),
        stderr: err.join().expect("stderr reader").expect("stderr is UTF-8"),
    }
}

/// The account scope's first insight.
pub(crate) fn first_issue(server: &MockServer) -> String {
    server.issue_ids(MockScope::Account)[0].clone()
}

/// Parses NDJSON: every line must be one whole entry.
#[track_caller]
pub(crate) fn parse_ndjson(text: &str) -> Vec<MockAuditLogEntry> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "output ends inside a line"
    );
    text.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not an entry ({e}): {line}"))
        })
        .collect()
}

/// The files in `dir`, by name.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir is readable")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
