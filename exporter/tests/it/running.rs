//! A `--follow` run of the binary held open while a test looks at it: its stderr collected line by line on a
//! thread, the address of `--metrics-listen 127.0.0.1:0` read from it, plain HTTP/1.1 requests to that listener,
//! and a stop with SIGTERM. Every wait is bounded, and a run still going when the test ends is killed.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any one condition is waited for before the test fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// A running exporter.
pub(crate) struct Running {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts `command` with `args`, stdout discarded unless `--output` says where it goes.
    pub(crate) fn start(command: &mut Command, args: &[&str]) -> Self {
        let mut child = command
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { return };
                lines.lock().expect("not poisoned").push(line);
            }
        });
        Self {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// The stderr lines so far.
    pub(crate) fn stderr(&self) -> Vec<String> {
        self.stderr.lock().expect("not poisoned").clone()
    }

    /// Waits until `check` holds, failing the test with stderr after [`PATIENCE`].
    #[track_caller]
    pub(crate) fn wait_for<T>(
        &mut self,
        what: &str,
        mut check: impl FnMut(&mut Self) -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the exporter ended ({status}) before {what}:\n{}",
                    self.stderr().join("\n")
                );
            }
            assert!(
                started.elapsed() < PATIENCE,
                "{what}: not within {PATIENCE:?}; the exporter said:\n{}",
                self.stderr().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The address the listener said it serves on.
    pub(crate) fn address(&mut self) -> SocketAddr {
        self.wait_for("the listener's address", |running| {
            running.stderr().iter().find_map(|line| {
                let (_, rest) = line.split_once("on http://")?;
                let address: String = rest
                    .chars()
                    .take_while(|character| {
                        character.is_ascii_digit() || ".:[]".contains(*character)
                    })
                    .collect();
                address.parse().ok()
            })
        })
    }

    /// Stops the run with SIGTERM; returns its exit code and everything it said on stderr.
    pub(crate) fn terminate(mut self) -> (Option<i32>, Vec<String>) {
        let signal = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(signal.success());
        let status = self.child.wait().expect("the binary exits");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        (status.code(), self.stderr())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer of the listener.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) body: String,
}

/// `GET path` with `accept` (when given) over a fresh connection.
pub(crate) fn get(address: SocketAddr, path: &str, accept: Option<&str>) -> Answer {
    let mut stream = TcpStream::connect(address).expect("the listener accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let accept = accept.map_or_else(String::new, |accept| format!("Accept: {accept}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{accept}Connection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("a UTF-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let content_type = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        body: body.to_owned(),
    }
}

/// One sample of an exposition: its name, its labels in order, its value.
pub(crate) type Sample = (String, Vec<(String, String)>, f64);

/// The samples of a text-format exposition, parsed by `prometheus-parse`.
pub(crate) fn samples(text: &str) -> Vec<Sample> {
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the exposition parses");
    scrape
        .samples
        .into_iter()
        .map(|sample| {
            let value = match sample.value {
                prometheus_parse::Value::Counter(value)
                | prometheus_parse::Value::Gauge(value)
                | prometheus_parse::Value::Untyped(value) => value,
                other => panic!("{}: not a plain value: {other:?}", sample.metric),
            };
            let mut labels: Vec<(String, String)> = sample
                .labels
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            labels.sort();
            (sample.metric, labels, value)
        })
        .collect()
}

/// The value of `name` with the one label `label` (or none), if the exposition has it.
pub(crate) fn value(samples: &[Sample], name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    samples
        .iter()
        .find(|(metric, labels, _)| {
            metric == name
                && match label {
                    None => labels.is_empty(),
                    Some((key, wanted)) => {
                        labels.len() == 1 && labels[0].0 == key && labels[0].1 == wanted
                    }
                }
        })
        .map(|(_, _, value)| *value)
}
