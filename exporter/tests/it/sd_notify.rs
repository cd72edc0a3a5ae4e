//! systemd's notification protocol, read from a unix datagram socket given as `NOTIFY_SOCKET`, as systemd would:
//! `READY=1` once, with a status line, after the first poll of every scope; `WATCHDOG=1` pings at half
//! `WATCHDOG_USEC`, extending the start timeout until READY=1; a status after each poll; `STOPPING=1` when SIGTERM
//! arrives, then a clean exit.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use mock_server::{CannedResponse, Config};

use crate::running::{PATIENCE, Running};
use crate::support::{command, server};

/// Reads datagrams until `done` holds for what was read, or fails after [`PATIENCE`].
#[track_caller]
fn read_until(socket: &UnixDatagram, read: &mut Vec<String>, done: impl Fn(&[String]) -> bool) {
    let started = Instant::now();
    let mut buffer = [0u8; 4096];
    while !done(read) {
        assert!(
            started.elapsed() < PATIENCE,
            "not within {PATIENCE:?}; read: {read:?}"
        );
        match socket.recv(&mut buffer) {
            Ok(length) => read.push(String::from_utf8_lossy(&buffer[..length]).into_owned()),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(error) => panic!("cannot read the socket: {error}"),
        }
    }
}

/// A follow run over two scopes with `NOTIFY_SOCKET` and a 300 ms watchdog: READY=1 once, after both scopes
/// were polled, with their status; pings and statuses after; STOPPING=1 on SIGTERM; only these assignments.
#[test]
fn systemd_hears_ready_status_watchdog_and_stopping() {
    let server = server(
        Config::default()
            .with_entries(20)
            .with_accounts(2)
            .with_zone_entries(0),
    );
    let accounts = server.account_ids();
    // The first answer is late: nothing may say READY before both scopes were polled.
    server.push_canned(CannedResponse::normal().with_delay(Duration::from_millis(500)));
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("a datagram socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("a timeout");
    let mut exporter = command(&server);
    exporter
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "300000");
    let running = Running::start(
        &mut exporter,
        &[
            "--account",
            &accounts[0],
            "--account",
            &accounts[1],
            "--follow",
            "--interval",
            "250ms",
        ],
    );
    let mut read = Vec::new();
    read_until(&socket, &mut read, |read| {
        let ready = read
            .iter()
            .filter(|message| message.contains("READY=1"))
            .count();
        let pings = read
            .iter()
            .filter(|message| message.contains("WATCHDOG=1"))
            .count();
        ready == 1 && pings >= 3
    });
    let before_ready: Vec<&String> = read
        .iter()
        .take_while(|message| !message.contains("READY=1"))
        .collect();
    assert!(
        before_ready
            .iter()
            .any(|message| message.contains("WATCHDOG=1\nEXTEND_TIMEOUT_USEC=600000\n")),
        "the start timeout extended by two periods while the first poll runs: {read:?}"
    );
    let ready = read
        .iter()
        .find(|message| message.contains("READY=1"))
        .expect("READY=1");
    assert!(
        ready
            .lines()
            .any(|line| line.starts_with("STATUS=2 scope(s): 40 entries exported, 0 failing")),
        "{ready:?}"
    );
    read_until(&socket, &mut read, |read| {
        let after_ready = read
            .iter()
            .skip_while(|message| !message.contains("READY=1"))
            .skip(1);
        after_ready
            .filter(|message| message.starts_with("STATUS="))
            .count()
            >= 2
    });
    let pid = running.id();
    let (code, stderr) = running.terminate();
    assert_eq!(code, Some(0), "{}", stderr.join("\n"));
    read_until(&socket, &mut read, |read| {
        read.iter().any(|message| message.contains("STOPPING=1"))
    });
    assert_eq!(
        read.iter()
            .filter(|message| message.contains("READY=1"))
            .count(),
        1,
        "READY=1 once (pid {pid}): {read:?}"
    );
    let after_ready = read
        .iter()
        .skip_while(|message| !message.contains("READY=1"))
        .skip(1);
    for message in after_ready {
        assert!(
            !message.contains("EXTEND_TIMEOUT_USEC"),
            "no extension after READY=1: {message:?}"
        );
    }
    for message in &read {
        for line in message.lines() {
            let (name, _) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("not an assignment: {line:?}"));
            assert!(
                [
                    "READY",
                    "STATUS",
                    "WATCHDOG",
                    "EXTEND_TIMEOUT_USEC",
                    "STOPPING"
                ]
                .contains(&name),
                "{line:?}"
            );
        }
    }
}
