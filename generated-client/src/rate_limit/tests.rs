//! The pacer's tests: its state machine driven against a model of Cloudflare's fixed windows, without sleeping.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use tokio::time::Instant;

use super::{Caps, Refusal, State, far_future};
use crate::error::ApiError;
use crate::quota::Quota;

/// A server with fixed windows, as Cloudflare's limit behaves: `quota` requests per
/// `window`, the first request after a reset opening the next window.
struct Server {
    quota: u32,
    window: Duration,
    opened: Option<Instant>,
    used: u32,
    rejected: u32,
}

impl Server {
    fn new(quota: u32, window: Duration) -> Self {
        Self {
            quota,
            window,
            opened: None,
            used: 0,
            rejected: 0,
        }
    }

    /// Serves one request at `now`: the quota it announces, rounding the reset up to whole
    /// seconds as the fields do.
    fn serve(&mut self, now: Instant) -> Quota {
        let open = self.opened.filter(|start| now < *start + self.window);
        let start = match open {
            Some(start) => start,
            None => {
                self.opened = Some(now);
                self.used = 0;
                now
            }
        };
        self.used += 1;
        if self.used > self.quota {
            self.rejected += 1;
        }
        let left = (start + self.window).saturating_duration_since(now);
        Quota {
            remaining: self.quota.saturating_sub(self.used),
            reset: Duration::from_secs(left.as_secs_f64().ceil() as u64),
            limit: Some(self.quota),
            window: Some(self.window),
            bounded: None,
        }
    }
}

/// Runs `requests` requests from `walkers` concurrent walkers, each answered `latency`
/// after it goes out; returns the instant of the last answer and the server's rejections.
fn simulate(
    walkers: usize,
    requests: usize,
    latency: Duration,
    configured: (u32, Duration),
    server: &mut Server,
) -> (Duration, u32) {
    let start = Instant::now();
    let mut pacer = State::new(configured.0, configured.1);
    // Each walker's next free instant.
    let mut free = vec![start; walkers];
    let mut in_flight: Vec<(Instant, Instant, u64)> = Vec::new(); // (sent, answered, window)
    let mut end = start;
    for _ in 0..requests {
        let walker = (0..walkers).min_by_key(|index| free[*index]).unwrap_or(0);
        let ready = free[walker];
        // Answers due by then reach the pacer first, in order.
        in_flight.sort_by_key(|(_, answered, _)| *answered);
        while in_flight
            .first()
            .is_some_and(|(_, answered, _)| *answered <= ready)
        {
            let (sent, answered, epoch) = in_flight.remove(0);
            let quota = server.serve(sent + latency / 2);
            pacer.observe(answered, epoch, Some(&quota), None);
        }
        let slot = pacer.reserve(ready);
        let answered = slot.at + latency;
        in_flight.push((slot.at, answered, slot.window));
        free[walker] = answered;
        end = end.max(answered);
    }
    in_flight.sort_by_key(|(_, answered, _)| *answered);
    for (sent, _, _) in in_flight {
        server.serve(sent + latency / 2);
    }
    (end.duration_since(start), server.rejected)
}

/// One walker needing three budgets' worth of requests gets none rejected, and uses at
/// least 90 % of the budget's rate.
#[test]
fn one_walk_stays_within_the_budget_and_uses_most_of_it() {
    let window = Duration::from_secs(10);
    let mut server = Server::new(60, window);
    let (took, rejected) = simulate(
        1,
        180,
        Duration::from_millis(20),
        (1200, Duration::from_secs(300)),
        &mut server,
    );
    assert_eq!(rejected, 0);
    let rate = 180.0 / took.as_secs_f64();
    assert!(rate >= 0.9 * 6.0, "{rate:.2} requests/s against 6");
}

/// Four concurrent walkers on one pacer get none rejected either.
#[test]
fn concurrent_walks_on_one_pacer_stay_within_the_budget() {
    for latency in [1, 20, 300] {
        let mut server = Server::new(60, Duration::from_secs(10));
        let (_, rejected) = simulate(
            4,
            400,
            Duration::from_millis(latency),
            (1200, Duration::from_secs(300)),
            &mut server,
        );
        assert_eq!(rejected, 0, "latency {latency} ms");
    }
}

/// Short windows, where a reset rounded up to whole seconds is a large share of the
/// window: requests sent between the real and the announced reset open the next window,
/// and still none is rejected.
#[test]
fn short_windows_with_rounded_resets_stay_within_the_budget() {
    for walkers in [1, 2, 4] {
        for latency in [1, 7, 20, 90] {
            let mut server = Server::new(20, Duration::from_secs(2));
            let (_, rejected) = simulate(
                walkers,
                120,
                Duration::from_millis(latency),
                (1200, Duration::from_secs(300)),
                &mut server,
            );
            assert_eq!(rejected, 0, "{walkers} walkers, latency {latency} ms");
        }
    }
}

/// Without any announcement, the configured budget alone keeps a walk within a server
/// limit of the same size.
#[test]
fn the_configured_budget_applies_until_the_server_says_otherwise() {
    let mut pacer = State::new(5, Duration::from_secs(10));
    let start = Instant::now();
    let slots: Vec<Duration> = (0..10)
        .map(|_| pacer.reserve(start).at.duration_since(start))
        .collect();
    // Four at once, the fifth spread, then the next window after the reset.
    assert!(slots[..4].iter().all(Duration::is_zero), "{slots:?}");
    assert!(slots[4].is_zero(), "{slots:?}");
    assert!(slots[5] >= Duration::from_secs(10), "{slots:?}");
    let in_first_window = slots
        .iter()
        .filter(|slot| **slot < Duration::from_secs(10))
        .count();
    assert_eq!(in_first_window, 5);
}

/// When little is left, the rest is spread over the time to the reset.
#[test]
fn a_low_quota_is_spread_over_the_time_to_the_reset() {
    let mut pacer = State::new(100, Duration::from_secs(60));
    let start = Instant::now();
    let quota = Quota {
        remaining: 4,
        reset: Duration::from_secs(40),
        limit: Some(100),
        window: Some(Duration::from_secs(60)),
        bounded: None,
    };
    pacer.observe(start, 0, Some(&quota), None);
    let slots: Vec<u64> = (0..4)
        .map(|_| pacer.reserve(start).at.duration_since(start).as_secs())
        .collect();
    assert_eq!(slots, [0, 10, 20, 30]);
    // The fifth waits for the reset.
    assert!(pacer.reserve(start).at >= start + Duration::from_secs(40));
}

/// Once one request had to wait for the reset, no later one lands before it, even where
/// the spreading of the old window would have put it earlier.
#[test]
fn no_reservation_lands_before_the_window_it_counts_in() {
    let mut pacer = State::new(20, Duration::from_secs(60));
    let start = Instant::now();
    let quota = Quota {
        remaining: 2,
        reset: Duration::from_secs(10),
        limit: Some(20),
        window: Some(Duration::from_secs(60)),
        bounded: None,
    };
    pacer.observe(start, 0, Some(&quota), None);
    let spread: Vec<Instant> = (0..2).map(|_| pacer.reserve(start).at).collect();
    assert_eq!(spread[1].duration_since(start), Duration::from_secs(5));
    let after_reset = pacer.reserve(start).at;
    assert!(after_reset >= start + Duration::from_secs(10));
    for _ in 0..5 {
        let slot = pacer.reserve(start);
        assert!(slot.at >= after_reset, "{slot:?}");
    }
}

/// A 429 holds every request back until its `Retry-After` has passed.
#[test]
fn a_lockout_holds_requests_until_retry_after() {
    let mut pacer = State::new(1200, Duration::from_secs(300));
    let start = Instant::now();
    let first = pacer.reserve(start);
    let answer = Box::new(ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        errors: Vec::new(),
        messages: Vec::new(),
        cf_ray: None,
        retry_after: Some(Duration::from_secs(300)),
        content_type: None,
        body: Bytes::new(),
    });
    pacer.observe(
        start,
        first.window,
        None,
        Some((Some(Duration::from_secs(300)), answer)),
    );
    let slot = pacer.reserve(start + Duration::from_secs(1));
    assert!(slot.lockout.is_some());
    assert!(slot.at >= start + Duration::from_secs(300));
    // Past the lock-out, a fresh window.
    let after = start + Duration::from_secs(400);
    let slot = pacer.reserve(after);
    assert!(slot.lockout.is_none());
    assert_eq!(slot.at, after);
}

/// A request the quota would hold back for longer than the cap is refused, and the
/// refusal spends nothing: the next request gets the slot the refused one would have had.
#[test]
fn a_wait_beyond_the_cap_is_refused_without_spending_the_quota() {
    let mut pacer = State::new(100, Duration::from_secs(60));
    let start = Instant::now();
    let quota = Quota {
        remaining: 4,
        reset: Duration::from_secs(40),
        limit: Some(100),
        window: Some(Duration::from_secs(60)),
        bounded: None,
    };
    pacer.observe(start, 0, Some(&quota), None);
    let caps = |pacing: u64| Caps {
        lockout: Duration::ZERO,
        pacing: Duration::from_secs(pacing),
    };
    assert!(pacer.reserve_within(start, None, caps(5)).is_ok());
    for _ in 0..3 {
        match pacer.reserve_within(start, None, caps(5)) {
            Err(Refusal::Paced { wait, quota }) => {
                assert_eq!(wait, Duration::from_secs(10));
                assert_eq!(quota.map(|quota| quota.remaining), Some(4));
            }
            _ => panic!("expected a refusal"),
        }
    }
    let slot = pacer
        .reserve_within(start, None, caps(3600))
        .ok()
        .expect("within the cap");
    assert_eq!(slot.at.duration_since(start), Duration::from_secs(10));
    assert_eq!(
        slot.reason(),
        "little quota left: spread over the time to the reset"
    );
}

/// A reset years away, announced on a 200, is bounded by the window before the pacer sees
/// it, so a request is held back for at most that window, and refused under a shorter cap.
#[test]
fn an_implausible_reset_holds_requests_back_for_one_window_at_most() {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "ratelimit",
        reqwest::header::HeaderValue::from_static("\"default\";r=0;t=999999999"),
    );
    headers.insert(
        "ratelimit-policy",
        reqwest::header::HeaderValue::from_static("\"default\";q=1;w=999999999"),
    );
    let quota = Quota::from_headers(&headers, std::time::SystemTime::now()).expect("a quota");
    let mut pacer = State::new(1200, Duration::from_secs(300));
    let start = Instant::now();
    let first = pacer.reserve(start);
    pacer.observe(start, first.window, Some(&quota), None);
    let slot = pacer.reserve(start);
    let wait = slot.at.duration_since(start);
    assert!(
        wait <= crate::quota::MAX_WINDOW + Duration::from_secs(1),
        "{wait:?}"
    );
    assert_eq!(slot.reason(), "quota spent until the reset");
    let caps = Caps {
        lockout: Duration::ZERO,
        pacing: Duration::from_secs(300),
    };
    assert!(matches!(
        pacer.reserve_within(start, None, caps),
        Err(Refusal::Paced { .. })
    ));
}

/// A wait too long to represent still yields an instant.
#[test]
fn far_future_never_overflows() {
    let now = Instant::now();
    assert!(far_future(now) > now + Duration::from_secs(365 * 24 * 3600));
}
