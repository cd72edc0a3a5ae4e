//! Keeps each attempt's timeout cheap to arm.
//!
//! Tokio wakes its timer driver whenever a new timer expires before every timer it already
//! holds; with no timer pending between two requests, that is every request, and the wake costs
//! two context switches and a few microseconds of CPU per request. The anchor is one timer,
//! never polled, kept registered a little ahead of every attempt's own timeout: re-arming it
//! only moves its deadline later (no driver wake), and each attempt's timer then expires after
//! it, so registering that timer does not wake the driver either. It changes no timeout; it
//! only spares the wake.

use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use tokio::runtime::{Handle, Id};
use tokio::time::{Instant, Sleep};

/// One anchor timer, for the runtime the client last sent from.
#[derive(Default)]
pub(crate) struct TimerAnchor(Mutex<Option<Anchored>>);

struct Anchored {
    runtime: Id,
    timer: Pin<Box<Sleep>>,
}

impl TimerAnchor {
    /// Moves the anchor to `timeout` from now, on the current runtime; does nothing outside a
    /// runtime. Call it just before arming an attempt's timer of the same length.
    pub(crate) fn arm(&self, timeout: Duration) {
        let Ok(runtime) = Handle::try_current() else {
            return;
        };
        let Ok(mut slot) = self.0.lock() else {
            return;
        };
        // A timeout too long to represent needs no anchor: its timer expires after any other.
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return;
        };
        match slot.as_mut() {
            Some(anchored) if anchored.runtime == runtime.id() => {
                anchored.timer.as_mut().reset(deadline);
            }
            _ => {
                // A new timer joins the driver's wheel when first reset (or polled).
                let mut timer = Box::pin(tokio::time::sleep_until(deadline));
                timer.as_mut().reset(deadline);
                *slot = Some(Anchored {
                    runtime: runtime.id(),
                    timer,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    }

    fn anchored_runtime(anchor: &TimerAnchor) -> Option<Id> {
        anchor
            .0
            .lock()
            .expect("not poisoned")
            .as_ref()
            .map(|anchored| anchored.runtime)
    }

    #[test]
    fn a_timeout_too_long_to_represent_arms_nothing() {
        let anchor = TimerAnchor::default();
        runtime().block_on(async { anchor.arm(Duration::MAX) });
        assert_eq!(anchored_runtime(&anchor), None);
    }

    #[test]
    fn outside_a_runtime_nothing_is_armed() {
        let anchor = TimerAnchor::default();
        anchor.arm(Duration::from_secs(60));
        assert_eq!(anchored_runtime(&anchor), None);
    }

    #[test]
    fn the_anchor_moves_later_and_follows_the_runtime_that_sends() {
        let anchor = TimerAnchor::default();
        let first = runtime();
        let first_id = first.handle().id();
        first.block_on(async {
            anchor.arm(Duration::from_secs(60));
            tokio::time::sleep(Duration::from_millis(5)).await;
            let before = anchor
                .0
                .lock()
                .expect("not poisoned")
                .as_ref()
                .map(|a| a.timer.deadline());
            anchor.arm(Duration::from_secs(60));
            let after = anchor
                .0
                .lock()
                .expect("not poisoned")
                .as_ref()
                .map(|a| a.timer.deadline());
            assert!(before.is_some());
            assert!(after > before, "{after:?} is not later than {before:?}");
        });
        assert_eq!(anchored_runtime(&anchor), Some(first_id));
        // The first runtime is gone: a second one gets its own timer, and dropping the old one
        // does not panic. (The anchor is never polled, so even a timer whose runtime shut down
        // cannot panic.)
        drop(first);
        let second = runtime();
        second.block_on(async { anchor.arm(Duration::from_secs(60)) });
        assert_eq!(anchored_runtime(&anchor), Some(second.handle().id()));
        drop(second);
        drop(anchor);
    }
}
