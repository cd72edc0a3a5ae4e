//! What one run of the mock serves: how many accounts and zones, data size, growth and seed, port, plain HTTP or
//! TLS, credentials, faults, the rate limit, the canned script, and how strictly unexpected requests are treated.

use crate::fault::{CannedResponse, Fault};
use crate::rate_limit::MockRateLimit;

/// The API token the mock accepts by default (`Authorization: Bearer …`).
pub const DEFAULT_API_TOKEN: &str = "mock-api-token-Sn3lZJTBX6kkg7OdcBUAxOO963GEIyGQ";
/// The global API key the mock accepts by default (`X-Auth-Key`).
pub const DEFAULT_API_KEY: &str = "144c9defac04969c7bfad8efaa8ea194";
/// The email paired with the API key (`X-Auth-Email`).
pub const DEFAULT_EMAIL: &str = "user@example.com";
/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 0x5EC0_C3E7;

/// The most accounts, and the most zones, one server serves ([`Config::with_accounts`], [`Config::with_zones`]).
pub const MAX_SCOPES: usize = 10_000;

/// The fastest growth ([`Config::with_growth`]): entries per second per scope.
pub const MAX_GROWTH_RATE: f64 = 1000.0;

/// The credentials the mock accepts: the token alone, or the key and email together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MockCredentials {
    /// Accepted as `Authorization: Bearer <api_token>`.
    pub api_token: String,
    /// Accepted as `X-Auth-Key`, together with `X-Auth-Email: <email>`.
    pub api_key: String,
    /// Accepted as `X-Auth-Email`, together with `X-Auth-Key`.
    pub email: String,
}

impl Default for MockCredentials {
    fn default() -> Self {
        MockCredentials {
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
    pub(crate) accounts: usize,
    pub(crate) zones: usize,
    pub(crate) growth: f64,
    pub(crate) account_entries: usize,
    pub(crate) zone_entries: usize,
    pub(crate) insights_per_scope: usize,
    pub(crate) unknown_insights: bool,
    pub(crate) port: u16,
    pub(crate) tls: bool,
    pub(crate) credentials: MockCredentials,
    pub(crate) faults: Vec<Fault>,
    pub(crate) rate_limit: Option<MockRateLimit>,
    pub(crate) script: Vec<CannedResponse>,
    pub(crate) record_requests: bool,
    pub(crate) strict: bool,
}

impl Default for Config {
    /// Seed [`DEFAULT_SEED`], one account and one zone with 1,000 entries each over 3 insights (all of known
    /// values), no growth, an ephemeral port, plain HTTP/1.1, the default credentials, no faults, no rate limit,
    /// journal on, strict.
    fn default() -> Self {
        Config {
            seed: DEFAULT_SEED,
            accounts: 1,
            zones: 1,
            growth: 0.0,
            account_entries: 1000,
            zone_entries: 1000,
            insights_per_scope: 3,
            unknown_insights: false,
            port: 0,
            tls: false,
            credentials: MockCredentials::default(),
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

    /// How many accounts to serve (clamped to 1..=[`MAX_SCOPES`]; default 1): [`crate::ACCOUNT_ID`] first, then ids
    /// drawn from the seed ([`crate::MockServer::account_ids`]). Each has its own insights and entries, as many as
    /// [`Config::with_account_entries`] says. Only the first is generated at start, the others on first use.
    pub fn with_accounts(mut self, count: usize) -> Self {
        self.accounts = count.clamp(1, MAX_SCOPES);
        self
    }

    /// How many zones to serve (clamped to 1..=[`MAX_SCOPES`]; default 1): [`crate::ZONE_ID`] first, then ids drawn
    /// from the seed ([`crate::MockServer::zone_ids`]); like [`Config::with_accounts`].
    pub fn with_zones(mut self, count: usize) -> Self {
        self.zones = count.clamp(1, MAX_SCOPES);
        self
    }

    /// Makes every scope's log grow while the server runs: `rate` new entries per second per scope (e.g. 2.0 or
    /// 0.5), spread over its insights, entry `k` stamped `start + k / rate` and there for any request from then
    /// on. 0 (the default) turns growth off; a negative or non-finite rate is 0, a rate above
    /// [`MAX_GROWTH_RATE`] is that. Memory grows by about 320 bytes per entry.
    pub fn with_growth(mut self, rate: f64) -> Self {
        self.growth = if rate.is_finite() && rate > 0.0 {
            rate.min(MAX_GROWTH_RATE)
        } else {
            0.0
        };
        self
    }

    /// Number of entries in each scope (account and zone).
    pub fn with_entries(mut self, count: usize) -> Self {
        self.account_entries = count;
        self.zone_entries = count;
        self
    }

    /// Number of entries in each account only.
    pub fn with_account_entries(mut self, count: usize) -> Self {
        self.account_entries = count;
        self
    }

    /// Number of entries in each zone only (e.g. 0 for a benchmark that walks only the account).
    pub fn with_zone_entries(mut self, count: usize) -> Self {
        self.zone_entries = count;
        self
    }

    /// Number of insights in each scope (at least 1); entries are spread uniformly over them. With 1, the single
    /// insight holds every entry of its scope.
    pub fn with_insights_per_scope(mut self, count: usize) -> Self {
        self.insights_per_scope = count.max(1);
        self
    }

    /// Whether each scope's insight lists hold one insight with values a client does not know (default off): the
    /// insight with the lowest id carries [`crate::UNKNOWN_ISSUE_TYPE`], [`crate::UNKNOWN_SEVERITY`] (`"Urgent"`),
    /// [`crate::UNKNOWN_STATUS`] and [`crate::UNKNOWN_CLASSIFICATION`], for tests of open enums. Its status then
    /// no longer follows the audit log; its other fields do.
    pub fn with_unknown_insight_values(mut self, on: bool) -> Self {
        self.unknown_insights = on;
        self
    }

    /// The port to bind on 127.0.0.1; 0 (the default) picks a free one.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves over TLS (default off): at start the server makes a throw-away certificate authority
    /// ([`crate::MockServer::ca_pem`], for clients to trust) and a certificate for `localhost` and `127.0.0.1`, offers
    /// `h2` and `http/1.1` by ALPN and serves HTTP/2 or HTTP/1.1 as the client chose; the base URL becomes
    /// `https://127.0.0.1:PORT/client/v4`. Every fault and the rate limit work over both protocols.
    pub fn with_tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// The credentials to accept.
    pub fn with_credentials(mut self, credentials: MockCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Adds a fault to inject.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Emulates Cloudflare's rate limit ([`MockRateLimit`]): every request counts, every response carries the
    /// `Ratelimit` and `Ratelimit-Policy` fields, and the request over budget and the lock-out after it get 429.
    pub fn with_rate_limit(mut self, limit: MockRateLimit) -> Self {
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
