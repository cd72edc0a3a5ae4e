//! The settings the generated `Client` carries (progenitor's "inner type") and its hooks read: one of the three
//! hand-written names the generated code uses, with [`crate::FieldChanged`] and `rfc3339::deserialize_option`.
//! Opaque, built by [`crate::ClientBuilder`], cheap to clone.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::auth::Credentials;
use crate::rate_limit::Pacer;
use crate::retry::RetryPolicy;
use crate::timer_anchor::TimerAnchor;

/// The settings the generated client carries and its hooks read: credentials, retries, pacing,
/// timeouts, User-Agent. Opaque, built by [`crate::ClientBuilder`], cheap to clone (clones share
/// one rate-limit pacer).
#[derive(Clone)]
pub struct ClientSettings(Arc<Settings>);

/// What [`ClientSettings`] holds.
pub(crate) struct Settings {
    pub(crate) credentials: Credentials,
    pub(crate) retry: RetryPolicy,
    pub(crate) attempt_timeout: Duration,
    pub(crate) deadline: Option<Duration>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) timer_anchor: TimerAnchor,
    /// `None` when pacing is disabled.
    pub(crate) pacer: Option<Pacer>,
}

impl ClientSettings {
    pub(crate) fn new(settings: Settings) -> Self {
        Self(Arc::new(settings))
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.0
    }
}

impl fmt::Debug for ClientSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientSettings")
            .field("credentials", &self.0.credentials)
            .field("retry", &self.0.retry)
            .field("attempt_timeout", &self.0.attempt_timeout)
            .field("deadline", &self.0.deadline)
            .field("user_agent", &self.0.user_agent)
            .field("pacer", &self.0.pacer)
            .finish()
    }
}
