//! Pacing under the API's rate limit, so that the client never causes the 429 that locks a
//! Cloudflare token out for five minutes.
//!
//! Cloudflare allows 1200 requests per 5 minutes per token and announces what is left on every
//! response (`Ratelimit: "default";r=50;t=30`). One [`Pacer`] per client, shared by its clones
//! and every concurrent walk, counts the requests it lets through against what the server last
//! announced: while plenty is left it lets requests go at once; when little is left it spreads
//! the rest evenly over the time to the reset; with nothing left it waits for the reset. A 429
//! stops every request of the client until its `Retry-After` has passed. No wait is longer than
//! the caller's cap ([`RateLimit::with_max_wait`]): a request that could only go later is
//! refused at once with [`crate::Error::RateLimited`], and the reservation it would have made is
//! given back. The announced figures are bounded before they get here ([`crate::Quota`]).
//!
//! `governor` (GCRA) was the obvious crate, but its quota is fixed once built, while this
//! budget is re-read from every response (other clients of the same token spend it too), so
//! the small state machine below is hand-written; it is a pure function of the instants it is
//! given, which the tests drive.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::ApiError;
use crate::quota::Quota;

/// Cloudflare's budget: 1200 requests per 300 s per token.
const DEFAULT_QUOTA: u32 = 1200;
const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

/// Below this share of the quota left, the rest is spread over the time to the reset.
const SPREAD_BELOW: u32 = 10;

/// Pacing waits longer than this are announced at `info` level (shorter ones at `debug`).
const NOTABLE_WAIT: Duration = Duration::from_secs(5);

/// Two announced reset instants closer than this belong to the same window (the fields count
/// whole seconds).
const SAME_WINDOW: Duration = Duration::from_millis(1500);

/// How far before an announced reset the real one may lie: the reset is announced in whole
/// seconds, rounded one way or the other. A request sent that close to the reset may count in
/// the next window, so it is counted in both.
const RESET_UNCERTAINTY: Duration = Duration::from_secs(1);

/// How the client paces its requests under the API's rate limit (on by default).
///
/// The budget is what applies until a response announces the real one (`Ratelimit-Policy`);
/// from then on the server's figures win.
///
/// ```
/// use std::time::Duration;
/// use cloudflare_security_center::RateLimit;
///
/// let assumed = RateLimit::new(300, Duration::from_secs(300)); // until the API says otherwise
/// let none = RateLimit::disabled(); // e.g. behind a proxy that paces for you
/// # let _ = (assumed, none);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    budget: Option<(u32, Duration)>,
    max_wait: Option<Duration>,
}

impl Default for RateLimit {
    /// Cloudflare's budget: 1200 requests per 300 s.
    fn default() -> Self {
        Self::new(DEFAULT_QUOTA, DEFAULT_WINDOW)
    }
}

impl RateLimit {
    /// Pacing with a budget of `quota` requests per `window` until the server announces its
    /// own (both must be non-zero; [`crate::ClientBuilder::build`] checks).
    pub fn new(quota: u32, window: Duration) -> Self {
        Self {
            budget: Some((quota, window)),
            max_wait: None,
        }
    }

    /// No pacing: requests go out as they come, and a 429 is only retried per the
    /// [`crate::RetryPolicy`].
    pub fn disabled() -> Self {
        Self {
            budget: None,
            max_wait: None,
        }
    }

    /// The longest the pacer holds a request back for the quota: a request that could only go
    /// later ends its call at once with [`crate::Error::RateLimited`] carrying the wait. By
    /// default the retry policy's cap on `Retry-After` applies
    /// ([`crate::RetryPolicy::with_max_retry_after`]).
    pub fn with_max_wait(mut self, cap: Duration) -> Self {
        self.max_wait = Some(cap);
        self
    }

    /// The cap set by [`with_max_wait`](Self::with_max_wait), if any.
    pub fn max_wait(&self) -> Option<Duration> {
        self.max_wait
    }

    /// Requests per window assumed until the server says otherwise; `None` when disabled.
    pub fn quota(&self) -> Option<u32> {
        self.budget.map(|(quota, _)| quota)
    }

    /// The window of that budget; `None` when disabled.
    pub fn window(&self) -> Option<Duration> {
        self.budget.map(|(_, window)| window)
    }

    /// The pacer for this configuration, `None` when disabled; `default_max_wait` applies
    /// unless [`with_max_wait`](Self::with_max_wait) set a cap.
    pub(crate) fn pacer(&self, default_max_wait: Duration) -> Option<Pacer> {
        let max_wait = self.max_wait.unwrap_or(default_max_wait);
        self.budget.map(|(quota, window)| {
            Pacer::new(quota.max(1), window.max(Duration::from_millis(1)), max_wait)
        })
    }
}

/// Why a request may not go out.
pub(crate) enum Refusal {
    /// A 429 stopped the client for longer than the caller waits: that 429, and the wait left.
    LockedOut {
        wait: Duration,
        answer: Box<ApiError>,
    },
    /// The quota the API announced lets the request go only after longer than the caller
    /// waits: the wait, and the announcement it comes from.
    Paced {
        wait: Duration,
        quota: Option<Quota>,
    },
    /// The request could only go out after the call's deadline.
    PastDeadline,
}

/// The longest waits a caller accepts before a request.
#[derive(Clone, Copy, Debug)]
struct Caps {
    /// For a 429's lock-out.
    lockout: Duration,
    /// For the quota.
    pacing: Duration,
}

/// One client's pacer; see the module documentation.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
    /// The longest wait for the quota.
    max_wait: Duration,
}

/// A request let through and not yet answered; dropping it unanswered (a failed or cancelled
/// attempt) releases it.
pub(crate) struct Ticket<'a> {
    pacer: &'a Pacer,
    window: u64,
}

impl Pacer {
    fn new(quota: u32, window: Duration, max_wait: Duration) -> Self {
        Self {
            state: Mutex::new(State::new(quota, window)),
            max_wait,
        }
    }

    /// Waits until a request may go out. Refuses without waiting, and without spending any of
    /// the quota, when the client is locked out for longer than `max_lockout_wait`, when the
    /// quota holds the request back for longer than the pacer's cap, or when it could only go
    /// after `deadline`.
    pub(crate) async fn admit(
        &self,
        deadline: Option<Instant>,
        max_lockout_wait: Duration,
    ) -> Result<Ticket<'_>, Refusal> {
        let caps = Caps {
            lockout: max_lockout_wait,
            pacing: self.max_wait,
        };
        let now = Instant::now();
        let slot = self.lock().reserve_within(now, deadline, caps)?;
        let ticket = Ticket {
            pacer: self,
            window: slot.window,
        };
        let wait = slot.at.saturating_duration_since(now);
        if !wait.is_zero() {
            let wait_s = wait.as_secs_f64();
            let reason = slot.reason();
            if wait > NOTABLE_WAIT {
                tracing::info!(
                    wait_s,
                    remaining = slot.remaining,
                    reason,
                    "pacing under the rate limit"
                );
            } else {
                tracing::debug!(
                    wait_s,
                    remaining = slot.remaining,
                    reason,
                    "pacing under the rate limit"
                );
            }
            tokio::time::sleep_until(slot.at).await;
        }
        Ok(ticket)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent after any panic-free update; a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Ticket<'_> {
    /// Records what the response said about the rate limit; `lockout` is the 429 answer with
    /// the wait it asked for, when it was one.
    pub(crate) fn answered(
        self,
        quota: Option<Quota>,
        lockout: Option<(Option<Duration>, Box<ApiError>)>,
    ) {
        let (pacer, window) = (self.pacer, self.window);
        std::mem::forget(self);
        pacer
            .lock()
            .observe(Instant::now(), window, quota.as_ref(), lockout);
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.pacer.lock().release(self.window);
    }
}

/// Where one reservation landed.
#[derive(Debug)]
struct Slot {
    at: Instant,
    /// The window the request counts in.
    window: u64,
    remaining: u32,
    /// Whether the request waits for the next window (rather than being spread in this one).
    next_window: bool,
    lockout: Option<Box<ApiError>>,
}

impl Slot {
    /// Why the request waits, in a few words for logs.
    fn reason(&self) -> &'static str {
        if self.lockout.is_some() {
            "locked out by a 429"
        } else if self.next_window {
            "quota spent until the reset"
        } else {
            "little quota left: spread over the time to the reset"
        }
    }
}

/// The pacer's view of the current window.
#[derive(Clone, Debug)]
struct State {
    /// Requests per window: announced by the server, else configured.
    quota: u32,
    window: Duration,
    /// Counts windows, so that a late answer from an earlier one is not read as news about
    /// the current one.
    epoch: u64,
    /// Requests left in the current window, as far as this client knows.
    remaining: u32,
    /// When the current window ends; `None` before the first request.
    reset_at: Option<Instant>,
    /// Whether `remaining` and `reset_at` come from the server rather than from the budget.
    informed: bool,
    /// The earliest instant of the next request while spreading.
    next_slot: Option<Instant>,
    /// Requests of the current window let through and not yet answered.
    in_flight: u32,
    /// Requests of the current window sent so close to its reset that the server may count
    /// them in the next one.
    late: u32,
    /// A 429's answer and the instant it allows requests again.
    lockout: Option<(Instant, Box<ApiError>)>,
    /// The last quota a response announced.
    last_quota: Option<Quota>,
}

impl State {
    fn new(quota: u32, window: Duration) -> Self {
        Self {
            quota,
            window,
            epoch: 0,
            remaining: quota,
            reset_at: None,
            informed: false,
            next_slot: None,
            in_flight: 0,
            late: 0,
            lockout: None,
            last_quota: None,
        }
    }

    /// [`reserve`](Self::reserve), unless the request would wait longer than `caps` allow or
    /// go after `deadline`: then the state is left as it was and the refusal says why.
    fn reserve_within(
        &mut self,
        now: Instant,
        deadline: Option<Instant>,
        caps: Caps,
    ) -> Result<Slot, Refusal> {
        let before = self.clone();
        let slot = self.reserve(now);
        let wait = slot.at.saturating_duration_since(now);
        let refusal = match &slot.lockout {
            Some(answer) if wait > caps.lockout => Some(Refusal::LockedOut {
                wait,
                answer: answer.clone(),
            }),
            None if wait > caps.pacing => Some(Refusal::Paced {
                wait,
                quota: self.last_quota,
            }),
            _ if deadline.is_some_and(|end| slot.at >= end) => Some(Refusal::PastDeadline),
            _ => None,
        };
        match refusal {
            Some(refusal) => {
                *self = before;
                Err(refusal)
            }
            None => Ok(slot),
        }
    }

    /// Waiting a little past an announced reset covers fields rounded to whole seconds.
    fn margin(&self) -> Duration {
        (self.window / 100).clamp(Duration::from_millis(100), Duration::from_secs(1))
    }

    /// Reserves the next request's instant: at once, spread over the rest of the window, or
    /// after the reset or the lock-out.
    fn reserve(&mut self, now: Instant) -> Slot {
        let mut at = now.max(self.next_slot.unwrap_or(now));
        let mut lockout = None;
        let epoch = self.epoch;
        if let Some((until, answer)) = &self.lockout {
            if *until > now {
                at = at.max(*until);
                lockout = Some(answer.clone());
            } else {
                self.lockout = None;
            }
        }
        loop {
            match self.reset_at {
                Some(reset) if at < reset && self.remaining > 0 => break,
                // Spent, or too close to the reset to tell which side the server puts it on.
                Some(reset) if at < reset + self.margin() => at = reset + self.margin(),
                _ => {}
            }
            self.start_window(at);
            if self.remaining > 0 {
                break;
            }
        }
        let reset = self.reset_at.unwrap_or(at + self.window);
        if at + RESET_UNCERTAINTY >= reset {
            self.late += 1;
        }
        if self.remaining <= (self.quota / SPREAD_BELOW).max(1) {
            let interval = reset.saturating_duration_since(at) / self.remaining;
            self.next_slot = Some(at + interval);
        }
        self.remaining -= 1;
        self.in_flight += 1;
        Slot {
            at,
            window: self.epoch,
            remaining: self.remaining,
            next_window: self.epoch != epoch,
            lockout,
        }
    }

    /// A window of the budget, opened by a request at `at`, less the late requests of the
    /// window before.
    fn start_window(&mut self, at: Instant) {
        self.epoch += 1;
        self.remaining = self.quota.saturating_sub(self.late);
        self.late = 0;
        // No later reservation may land before the window it counts in.
        self.next_slot = Some(at);
        self.reset_at = Some(at + self.window);
        self.informed = false;
        self.in_flight = 0;
    }

    /// A request let through in `window` ended without an answer.
    fn release(&mut self, window: u64) {
        if window == self.epoch {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
    }

    /// A request let through in `window` was answered at `now`, announcing `quota` (when it
    /// did), or asking the client to stop (`lockout`: the 429 and its `Retry-After`).
    fn observe(
        &mut self,
        now: Instant,
        window: u64,
        quota: Option<&Quota>,
        lockout: Option<(Option<Duration>, Box<ApiError>)>,
    ) {
        self.release(window);
        if let Some(bound) = quota.and_then(|quota| quota.bounded) {
            tracing::warn!(field = bound.field, announced = bound.announced, "{bound}");
        }
        if let Some(quota) = quota {
            self.last_quota = Some(*quota);
        }
        if let Some(quota) = quota
            && window == self.epoch
        {
            if let (Some(limit), Some(length)) = (quota.limit, quota.window)
                && limit > 0
                && !length.is_zero()
            {
                self.quota = limit;
                self.window = length;
            }
            // Requests still in flight may not be counted in `remaining` yet.
            let left = quota.remaining.saturating_sub(self.in_flight);
            let announced = now
                .checked_add(quota.reset)
                .unwrap_or_else(|| far_future(now));
            let same_window = self.reset_at.is_some_and(|reset| {
                announced < reset + SAME_WINDOW && reset < announced + SAME_WINDOW
            });
            if self.informed && same_window {
                self.remaining = self.remaining.min(left);
            } else {
                // The first word on this window, or a window other than the one assumed: the
                // server's figures replace the budget's.
                self.reset_at = Some(announced);
                self.remaining = left;
                self.informed = true;
            }
        }
        if let Some((asked, answer)) = lockout {
            // `Retry-After` wins; else the announced reset; else the retry policy's backoff
            // alone decides.
            if let Some(wait) = asked.or(quota.map(|quota| quota.reset)) {
                let until = now.checked_add(wait).unwrap_or_else(|| far_future(now));
                if self
                    .lockout
                    .as_ref()
                    .is_none_or(|(current, _)| until > *current)
                {
                    self.lockout = Some((until, answer));
                }
                // The window after a lock-out starts afresh.
                self.remaining = 0;
                self.reset_at = Some(until);
                self.informed = true;
            }
        }
    }
}

/// An instant further away than any wait: about thirty years.
fn far_future(now: Instant) -> Instant {
    let mut span = Duration::from_secs(30 * 365 * 24 * 3600);
    loop {
        if let Some(at) = now.checked_add(span) {
            return at;
        }
        span /= 2;
    }
}

#[cfg(test)]
mod tests;
