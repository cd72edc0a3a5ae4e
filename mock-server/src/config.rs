//! What one run of the mock serves: data size and seed, port, credentials, faults, the rate limit, the canned
//! script, and how strictly unexpected requests are treated.

use crate::fault::{CannedResponse, Fault};
use crate::rate_limit::RateLimit;

/// The API token the mock accepts by default (`Authorization: Bearer …`).
pub const DEFAULT_API_TOKEN: &str = "mock-api-token-Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQ";
/// The global API key the mock accepts by default (`X-Auth-Key`).
pub const DEFAULT_API_KEY: &str = "144c9defac04969c7bfad8efaa8ea194";
/// The email paired with the API key (`X-Auth-Email`).
pub const DEFAULT_EMAIL: &str = "user@example.com";
/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 0x5EC0_C3E7;

/// The credentials the mock accepts: the token alone, or the key and email together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Accepted as `Authorization: Bearer <api_token>`.
    pub api_token: String,
    /// Accepted as `X-Auth-Key`, together with `X-Auth-Email: <email>`.
    pub api_key: String,
    /// Accepted as `X-Auth-Email`, together with `X-Auth-Key`.
    pub email: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            api_token: DEFAULT_API_TOKEN.to_owned(),
            api_key: DEFAULT_API_KEY.to_owned(),
            email: DEFAULT_EMAIL.to_owned(),
        }
    }
}

/// Configuration of one server; build it with `Config::default().with_*(…)`.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) seed: u64,
    pub(crate) account_entries: usize,
    pub(crate) zone_entries: usize,
    pub(crate) insights_per_scope: usize,
    pub(crate) port: u16,
    pub(crate) credentials: Credentials,
    pub(crate) faults: Vec<Fault>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) script: Vec<CannedResponse>,
    pub(crate) record_requests: bool,
    pub(crate) strict: bool,
}

impl Default for Config {
    /// Seed [`DEFAULT_SEED`], 1,000 entries per scope over 3 insights, an ephemeral port, the default
    /// credentials, no faults, no rate limit, journal on, strict.
    fn default() -> Self {
        Config {
            seed: DEFAULT_SEED,
            account_entries: 1000,
            zone_entries: 1000,
            insights_per_scope: 3,
            port: 0,
            credentials: Credentials::default(),
            faults: Vec::new(),
            rate_limit: None,
            script: Vec::new(),
            record_requests: true,
            strict: true,
        }
    }
}

impl Config {
    /// The data seed: the same seed always serves byte-identical data.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Number of entries in each scope (account and zone).
    pub fn with_entries(mut self, n: usize) -> Self {
        self.account_entries = n;
        self.zone_entries = n;
        self
    }

    /// Number of entries in the account scope only.
    pub fn with_account_entries(mut self, n: usize) -> Self {
        self.account_entries = n;
        self
    }

    /// Number of entries in the zone scope only (e.g. 0 for a benchmark that walks only the account).
    pub fn with_zone_entries(mut self, n: usize) -> Self {
        self.zone_entries = n;
        self
    }

    /// Number of insights in each scope (at least 1); entries are spread uniformly over them. With 1, the single
    /// insight holds every entry of its scope.
    pub fn with_insights_per_scope(mut self, n: usize) -> Self {
        self.insights_per_scope = n.max(1);
        self
    }

    /// The port to bind on 127.0.0.1; 0 (the default) picks a free one.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The credentials to accept.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Adds a fault to inject.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Emulates Cloudflare's rate limit ([`RateLimit`]): every request counts, every response carries the
    /// `Ratelimit` and `Ratelimit-Policy` fields, and the request over budget and the lock-out after it get 429.
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Adds canned responses to the script, answered in order before normal serving.
    pub fn with_script(mut self, responses: impl IntoIterator<Item = CannedResponse>) -> Self {
        self.script.extend(responses);
        self
    }

    /// Whether to keep every request in the journal (default on). Unexpected requests are kept either way; turn this
    /// off for long benchmark walks.
    pub fn with_request_journal(mut self, on: bool) -> Self {
        self.record_requests = on;
        self
    }

    /// Whether dropping the server panics when it received unexpected requests that nobody took with
    /// [`crate::MockServer::take_unexpected_requests`] (default on).
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}
