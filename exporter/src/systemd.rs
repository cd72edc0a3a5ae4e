//! Telling systemd how the service is doing, through `sd_notify` (the `sd-notify` crate: the datagram to
//! `$NOTIFY_SOCKET`, nothing else): `READY=1` once every scope has been polled (a `Type=notify` unit is started
//! then), `STATUS=` a one-line summary after every round, `WATCHDOG=1` at half the `WatchdogSec=` period while the
//! run's task is alive, and `STOPPING=1` when SIGTERM or Ctrl-C arrives. Until READY=1, each ping also carries
//! `EXTEND_TIMEOUT_USEC=`: a first backfill can take longer than any `TimeoutStartSec=`, and systemd's watchdog only
//! starts with READY=1, so the start timeout is what watches a first poll that stops making progress. Without
//! `$NOTIFY_SOCKET` every call is a no-op, so the exporter behaves the same outside systemd.

use std::cell::Cell;
use std::time::Duration;

use sd_notify::NotifyState;

/// The longest watchdog period honoured as given; a longer `WATCHDOG_USEC` (an hour, a year) is pinged at this
/// half-period all the same, which systemd accepts.
const LONGEST_PING: Duration = Duration::from_secs(60);

/// The run's connection to the service manager.
#[derive(Debug)]
pub(crate) struct Notifier {
    on: bool,
    /// Half the watchdog period, when systemd asked for pings.
    ping_every: Option<Duration>,
    ready: Cell<bool>,
}

impl Notifier {
    /// From the process environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`), as systemd sets it.
    pub(crate) fn from_env() -> Self {
        let on = std::env::var_os("NOTIFY_SOCKET").is_some();
        let ping_every = sd_notify::watchdog_enabled()
            .filter(|period| !period.is_zero())
            .map(|period| (period / 2).clamp(Duration::from_millis(1), LONGEST_PING));
        Self {
            on,
            ping_every: ping_every.filter(|_| on),
            ready: Cell::new(false),
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if self.on {
            // A manager that went away cannot be told so; the service goes on.
            let _ = sd_notify::notify(states);
        }
    }

    /// `READY=1` (the first time only) with `status`.
    pub(crate) fn ready(&self, status: &str) {
        let line = one_line(status);
        if self.ready.replace(true) {
            self.send(&[NotifyState::Status(&line)]);
        } else {
            self.send(&[NotifyState::Ready, NotifyState::Status(&line)]);
        }
    }

    /// `STATUS=` alone.
    pub(crate) fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(&one_line(status))]);
    }

    /// Pings the watchdog every half-period, forever; never ends when there is no watchdog. Polled on the run's
    /// own task, beside the walks: a task that stops making progress stops the pings, and systemd restarts it.
    pub(crate) async fn watchdog(&self) {
        let Some(every) = self.ping_every else {
            return std::future::pending().await;
        };
        // Two watchdog periods from each ping: one missed ping is not yet a failed start.
        let extend = u32::try_from((every * 4).as_micros()).unwrap_or(u32::MAX);
        loop {
            if self.ready.get() {
                self.send(&[NotifyState::Watchdog]);
            } else {
                self.send(&[
                    NotifyState::Watchdog,
                    NotifyState::ExtendTimeoutUsec(extend),
                ]);
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// `STOPPING=1`: the service begins to shut down (said as soon as the signal arrives).
pub(crate) fn stopping() {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        let _ = sd_notify::notify(&[NotifyState::Stopping]);
    }
}

/// `text` on one line: the protocol is one assignment per line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect()
}
