//! One scope's walk, page by page, with the API's rate limits waited out: the loop that every mode of the exporter
//! shares (one export, many scopes, incremental sync, follow).
//!
//! A walk is a future that the caller may drop at any await point (Ctrl-C): every page is handed to the caller's
//! handler synchronously, so what was written and the cursor after it are always known.

use std::io;
use std::time::Duration;

use cloudflare_security_center::{AuditLogRequest, Error, Page};
use indicatif::ProgressBar;

/// Pacing waits up to this long are left to the client (the pacer sleeps them); longer ones come back as
/// [`Error::RateLimited`] and are waited out here, said on stderr and the progress line.
pub const QUIET_PACING: Duration = Duration::from_secs(5);

/// A wait asked for that is shorter than this (`Retry-After: 1e-300`) is waited this long.
const SHORTEST_WAIT: Duration = Duration::from_secs(1);

/// How long a walk waits for the API's rate limit before it gives up.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    /// The longest `Retry-After`, lock-out or pacing wait that is waited out.
    pub max_wait: Duration,
    /// How many rate-limit waits in a row, without a page written between them, are accepted.
    pub max_waits: u32,
}

/// What the page handler decides after a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Walk on.
    Continue,
    /// Stop here (e.g. `--max-items` reached).
    Stop,
}

/// What a walk tells its caller besides its pages.
#[derive(Clone, Copy, Debug)]
pub enum Notice<'a> {
    /// A line to say (a warning about a figure the client bounded).
    Line(&'a str),
    /// The walk waits out a rate limit before it goes on.
    Wait {
        /// How long.
        wait: Duration,
        /// Why, in a few words.
        reason: &'a str,
        /// Whether the pacer held the request back (rather than the API answering 429).
        pacing: bool,
    },
}

impl std::fmt::Display for Notice<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Line(line) => formatter.write_str(line),
            Notice::Wait { wait, reason, .. } => {
                write!(formatter, "{reason}; waiting {}", duration_text(*wait))
            }
        }
    }
}

/// How a walk ended.
#[derive(Debug)]
pub enum WalkEnd {
    /// The end of the log, or the handler stopped it.
    Done,
    /// The client failed (after its retries and the rate-limit waits).
    Client(Error),
    /// The handler could not write a page.
    Output(io::Error),
}

/// Walks `request` from the cursor `start`, handing every page to `prepare` (which may wait, e.g. to read what the
/// page's entries refer to; nothing is written yet, so the walk may be dropped there) and then to `on_page`.
///
/// A rate limit (a 429, or a quota that holds the next request back for longer than [`QUIET_PACING`]) that asks
/// for at most `patience.max_wait` is waited out (the progress line counts down and `notice` is told, with the
/// wait and its reason), and the walk goes on from the cursor after the last page handed over, so nothing is
/// skipped or repeated. An implausible rate-limit figure the client bounded is told to `notice` too.
pub async fn walk_pages(
    request: &AuditLogRequest,
    start: Option<String>,
    patience: Patience,
    progress: &ProgressBar,
    notice: &dyn Fn(Notice<'_>),
    mut prepare: impl AsyncFnMut(&Page),
    mut on_page: impl FnMut(&Page) -> io::Result<Flow>,
) -> WalkEnd {
    let mut resume = start;
    let mut waits_in_a_row = 0;
    let mut last_bound = None;
    'walk: loop {
        let mut walk = request.clone();
        if let Some(cursor) = &resume {
            walk = walk.cursor(cursor.clone());
        }
        let mut pages = walk.pages();
        loop {
            let page = match pages.next().await {
                None => return WalkEnd::Done,
                Some(Err(error)) if waits_in_a_row < patience.max_waits => {
                    let Some(wait) = RateLimitWait::of(&error, patience) else {
                        return WalkEnd::Client(error);
                    };
                    waits_in_a_row += 1;
                    drop(pages);
                    wait.wait_out(notice, progress).await;
                    continue 'walk;
                }
                Some(Err(error)) => return WalkEnd::Client(error),
                Some(Ok(page)) => page,
            };
            waits_in_a_row = 0;
            prepare(&page).await;
            if let Some(bound) = page.quota().and_then(|quota| quota.bounded)
                && last_bound != Some(bound)
            {
                last_bound = Some(bound);
                notice(Notice::Line(&format!("warning: {bound}")));
            }
            match on_page(&page) {
                Err(error) => return WalkEnd::Output(error),
                Ok(Flow::Stop) => return WalkEnd::Done,
                Ok(Flow::Continue) => {}
            }
            resume = page.next_cursor().map(str::to_owned);
            if resume.is_none() {
                return WalkEnd::Done;
            }
        }
    }
}

/// A rate limit that is waited out: a 429, or a quota that holds the next request back for longer than
/// [`QUIET_PACING`], asking for at most [`Patience::max_wait`].
#[derive(Debug)]
pub struct RateLimitWait {
    wait: Duration,
    reason: String,
    pacing: bool,
}

impl RateLimitWait {
    /// The wait `error` asks for, if it is a rate limit within `patience` (the count of waits in a row is the
    /// caller's to hold).
    pub fn of(error: &Error, patience: Patience) -> Option<Self> {
        let Error::RateLimited {
            retry_after: Some(wait),
            api,
            quota,
            ..
        } = error
        else {
            return None;
        };
        if *wait > patience.max_wait {
            return None;
        }
        let reason = match (api, quota) {
            (Some(_), _) => "rate limited by the API".to_owned(),
            (None, Some(quota)) => format!(
                "pacing: the API's quota leaves {} requests until its reset",
                quota.remaining
            ),
            (None, None) => "pacing: the rate-limit budget is spent".to_owned(),
        };
        Some(Self {
            wait: (*wait).max(SHORTEST_WAIT),
            reason,
            pacing: api.is_none(),
        })
    }

    /// Tells `notice` and waits, counting down on the progress line.
    pub async fn wait_out(&self, notice: &dyn Fn(Notice<'_>), progress: &ProgressBar) {
        notice(Notice::Wait {
            wait: self.wait,
            reason: &self.reason,
            pacing: self.pacing,
        });
        wait_out(self.wait, &self.reason, progress).await;
    }
}

/// Waits `wait`, counting down on the progress line with its `reason`.
async fn wait_out(wait: Duration, reason: &str, progress: &ProgressBar) {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return;
        }
        progress.set_message(format!("{reason}; waiting {}", duration_text(left)));
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
    }
}

/// A duration in whole seconds, rounded up, as `4m 47s`.
pub fn duration_text(duration: Duration) -> String {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    humantime::format_duration(Duration::from_secs(seconds)).to_string()
}
