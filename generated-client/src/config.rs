//! Building a [`Client`]: credentials, base URL, timeouts, retries and the HTTP client.
//!
//! The generated constructor takes any base URL and builds an HTTP client that follows
//! redirects; this builder checks the URL (https, or loopback for tests), never follows
//! redirects (they would carry credentials to another host), and sets the timeouts.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::audit_log::Client;
use crate::auth::Credentials;
use crate::error::Error;
use crate::generated;
use crate::rate_limit::RateLimit;
use crate::retry::RetryPolicy;
use crate::settings::{ClientSettings, Settings};
use crate::timer_anchor::TimerAnchor;

/// The public Cloudflare API.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";
/// Environment variable overriding the base URL (the same as the official SDKs).
pub const ENV_BASE_URL: &str = "CLOUDFLARE_BASE_URL";

/// Adjusts the `reqwest::ClientBuilder` the client is built from.
type HttpConfig = Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

/// Configures and builds a [`Client`].
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    base_url: Option<String>,
    retry: RetryPolicy,
    rate_limit: RateLimit,
    connect_timeout: Duration,
    attempt_timeout: Duration,
    deadline: Option<Duration>,
    user_agent_suffix: Option<String>,
    http_config: Option<HttpConfig>,
    /// PEM text of extra roots, read when the client is built.
    root_certificates: Vec<Vec<u8>>,
    allow_insecure_http: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("base_url", &self.base_url.as_deref().map(describe_url))
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("deadline", &self.deadline)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("http_config", &self.http_config.as_ref().map(|_| "custom"))
            .field("root_certificates", &self.root_certificates.len())
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credentials: None,
            base_url: None,
            retry: RetryPolicy::default(),
            rate_limit: RateLimit::default(),
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(60),
            deadline: None,
            user_agent_suffix: None,
            http_config: None,
            root_certificates: Vec::new(),
            allow_insecure_http: false,
        }
    }
}

impl ClientBuilder {
    /// A builder with no credentials and the default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder with credentials and base URL from `CLOUDFLARE_API_TOKEN` (or
    /// `CLOUDFLARE_API_KEY` + `CLOUDFLARE_EMAIL`) and `CLOUDFLARE_BASE_URL`.
    pub fn from_env() -> Result<Self, Error> {
        let mut builder = Self::new();
        builder.credentials = Credentials::from_env()?;
        builder.base_url = std::env::var(ENV_BASE_URL)
            .ok()
            .filter(|url| !url.is_empty());
        Ok(builder)
    }

    /// The credentials every request carries.
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The API's base URL (default [`DEFAULT_BASE_URL`]). It must be https, unless its host
    /// is a loopback address or [`ClientBuilder::with_insecure_http`] allows plain http.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Allows a plain-http base URL on a non-loopback host (credentials then travel in clear).
    pub fn with_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The retry policy (default: 2 retries with backoff; see [`RetryPolicy`]).
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Pacing under the API's rate limit (default: on, with Cloudflare's 1200 requests per
    /// 300 s until the server announces its budget; see [`RateLimit`]). One pacer serves the
    /// client, its clones and all their walks.
    pub fn with_rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// How long establishing a connection may take (default 5 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, reading the whole body included (default 60 s).
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// An overall limit for one call (one page), bounding its attempts and the waits between
    /// them (default: none).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Appended to the User-Agent `cloudflare-security-center/<version>`, e.g. `my-siem/2.1`.
    pub fn with_user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Also trusts the CA certificates in `pem` (one or more PEM blocks), beside the platform's
    /// roots: what a TLS-inspecting corporate proxy needs (`HTTPS_PROXY` is honoured already).
    /// Text that holds no certificate fails [`build`](Self::build).
    pub fn with_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Adjusts the HTTP client before it is built: a proxy, extra root certificates, HTTP/1
    /// only, ... `configure` receives a `reqwest::ClientBuilder` with the connect timeout set.
    ///
    /// Redirects stay off whatever `configure` does: the redirect policy is set after it, so
    /// credentials never follow a redirect to another host. The attempt timeout, deadline,
    /// retries, credentials and User-Agent apply per request.
    ///
    /// ```
    /// use cloudflare_security_center::{Client, Credentials};
    ///
    /// let client = Client::builder()
    ///     .with_credentials(Credentials::api_token("token")?)
    ///     .with_http_client(|http| http.http1_only().tcp_nodelay(true))
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), cloudflare_security_center::Error>(())
    /// ```
    pub fn with_http_client(
        mut self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.http_config = Some(Arc::new(configure));
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::invalid_config(
                "credentials",
                "none given; call with_credentials, or set CLOUDFLARE_API_TOKEN (or \
                 CLOUDFLARE_API_KEY with CLOUDFLARE_EMAIL) and use from_env",
            )
        })?;
        let base_url = check_base_url(
            self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            self.allow_insecure_http,
        )?;
        if !HAS_TLS_BACKEND && base_url.starts_with("https:") {
            return Err(Error::invalid_config(
                "base_url",
                "https needs TLS, and this build has no TLS backend; enable one of the features \
                 rustls-ring (the default), rustls-aws-lc-rs or native-tls",
            ));
        }
        let user_agent = user_agent(self.user_agent_suffix.as_deref())?;
        if self.rate_limit.quota() == Some(0)
            || self
                .rate_limit
                .window()
                .is_some_and(|window| window.is_zero())
        {
            return Err(Error::invalid_config(
                "rate_limit",
                "the budget needs at least one request per non-zero window; use \
                 RateLimit::disabled() to turn pacing off",
            ));
        }
        install_crypto_provider();
        let mut http = reqwest::Client::builder().connect_timeout(self.connect_timeout);
        #[cfg(any(
            feature = "rustls-ring",
            feature = "rustls-aws-lc-rs",
            feature = "native-tls"
        ))]
        for pem in &self.root_certificates {
            http = http.tls_certs_merge(root_certificates(pem)?);
        }
        #[cfg(not(any(
            feature = "rustls-ring",
            feature = "rustls-aws-lc-rs",
            feature = "native-tls"
        )))]
        if !self.root_certificates.is_empty() {
            return Err(Error::invalid_config(
                "root_certificate",
                "this build has no TLS backend to trust it with; enable one of the features \
                 rustls-ring (the default), rustls-aws-lc-rs or native-tls",
            ));
        }
        if let Some(configure) = &self.http_config {
            http = configure(http);
        }
        let http = http
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Error::invalid_config("http_client", error.to_string()))?;
        let pacer = self.rate_limit.pacer(self.retry.max_retry_after());
        let settings = ClientSettings::new(Settings {
            credentials,
            retry: self.retry,
            attempt_timeout: self.attempt_timeout,
            deadline: self.deadline,
            user_agent,
            timer_anchor: TimerAnchor::default(),
            pacer,
        });
        Ok(Client::from_generated(generated::Client::new_with_client(
            &base_url, http, settings,
        )))
    }
}

/// With the `rustls-ring` feature alone, makes ring the process's rustls provider unless one is
/// installed already (reqwest built without a provider of its own needs one).
fn install_crypto_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
    {
        // An error only says that a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The certificates of one PEM text; none is an error.
#[cfg(any(
    feature = "rustls-ring",
    feature = "rustls-aws-lc-rs",
    feature = "native-tls"
))]
fn root_certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, Error> {
    let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|error| {
        Error::invalid_config("root_certificate", format!("not PEM certificates: {error}"))
    })?;
    if certificates.is_empty() {
        return Err(Error::invalid_config(
            "root_certificate",
            "no PEM certificate (-----BEGIN CERTIFICATE-----) found",
        ));
    }
    Ok(certificates)
}

fn user_agent(suffix: Option<&str>) -> Result<HeaderValue, Error> {
    let mut text = format!("cloudflare-security-center/{}", env!("CARGO_PKG_VERSION"));
    if let Some(suffix) = suffix.map(str::trim).filter(|suffix| !suffix.is_empty()) {
        if !suffix
            .chars()
            .all(|character| character == ' ' || character.is_ascii_graphic())
        {
            return Err(Error::invalid_config(
                "user_agent_suffix",
                "must be visible ASCII without control characters",
            ));
        }
        text.push(' ');
        text.push_str(suffix);
    }
    HeaderValue::from_str(&text).map_err(|_| {
        Error::invalid_config(
            "user_agent_suffix",
            "must be visible ASCII without control characters",
        )
    })
}

/// Whether a TLS backend feature is enabled; without one, only plain-HTTP URLs can be called.
const HAS_TLS_BACKEND: bool = cfg!(any(
    feature = "rustls-ring",
    feature = "rustls-aws-lc-rs",
    feature = "native-tls"
));

/// Accepts https, or http on loopback (or anywhere when allowed); returns it without the
/// trailing slash the generated paths would double.
///
/// Messages name the problem and at most the scheme, host and port: a base URL may carry a
/// password or a key in its user information or query, which must not reach logs.
fn check_base_url(text: &str, allow_insecure_http: bool) -> Result<String, Error> {
    let invalid = |reason: String| Error::invalid_config("base_url", reason);
    let url =
        Url::parse(text.trim()).map_err(|error| invalid(format!("not a valid URL: {error}")))?;
    let origin = describe_url(url.as_str());
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!(
            "{origin} must not contain a user name or password"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{origin} must not have a query or fragment"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(&url) => {}
        "http" => {
            return Err(invalid(format!(
                "{origin} is plain http to a non-loopback host; use https, or opt in with \
                 with_insecure_http(true)"
            )));
        }
        other => return Err(invalid(format!("scheme `{other}` is not http(s)"))),
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A URL as it may be shown: scheme, host and port only, never user information, path,
/// query or fragment; `a URL` when it does not parse.
fn describe_url(text: &str) -> String {
    match Url::parse(text.trim()) {
        Ok(url) => match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("`{}://{host}:{port}`", url.scheme()),
            (Some(host), None) => format!("`{}://{host}`", url.scheme()),
            (None, _) => format!("a `{}:` URL", url.scheme()),
        },
        Err(_) => "the URL".to_owned(),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::check_base_url;

    /// A build without a TLS backend refuses an https base URL when the client is built, naming
    /// the features, and still takes a loopback http one; with a backend, https is taken.
    #[test]
    fn https_needs_a_tls_backend() {
        let build = |url: &str| {
            crate::Client::builder()
                .with_credentials(crate::Credentials::api_token("token").expect("valid"))
                .with_base_url(url)
                .build()
        };
        match (
            super::HAS_TLS_BACKEND,
            build("https://api.cloudflare.com/client/v4"),
        ) {
            (true, result) => assert!(result.is_ok(), "{:?}", result.err()),
            (false, Ok(_)) => panic!("an https base URL taken without a TLS backend"),
            (false, Err(error)) => {
                let error = error.to_string();
                assert!(
                    error.contains("no TLS backend") && error.contains("rustls-ring"),
                    "{error}"
                );
            }
        }
        assert!(build("http://127.0.0.1:8787/client/v4").is_ok());
    }

    /// Text without a PEM certificate is refused when the client is built, naming the setting.
    #[test]
    fn a_root_certificate_must_be_pem() {
        for pem in [
            &b""[..],
            b"not a certificate",
            b"-----BEGIN CERTIFICATE-----\n!!\n",
        ] {
            let error = crate::Client::builder()
                .with_credentials(crate::Credentials::api_token("token").expect("valid"))
                .with_base_url("http://127.0.0.1:8787/client/v4")
                .with_root_certificate(pem)
                .build()
                .expect_err("no certificate");
            assert!(error.to_string().contains("root_certificate"), "{error}");
        }
    }

    /// No message about a refused base URL quotes its user information, path or query, where
    /// secrets live.
    #[test]
    fn base_url_errors_never_echo_secrets() {
        for url in [
            "https://u:SECRET@host:99999",
            "https://u:SECRET@api.example.com/client/v4",
            "https://proxy/?key=SECRET",
            "https://proxy/#SECRET",
            "http://example.com/SECRET?token=SECRET",
            "ftp://SECRET@example.com",
            "SECRET",
        ] {
            let error = check_base_url(url, false).expect_err(url);
            let text = format!("{error} {error:?}");
            assert!(!text.contains("SECRET"), "{url}: {text}");
            assert!(text.contains("base_url"), "{url}: {text}");
        }
    }

    #[test]
    fn base_url_must_be_https_unless_loopback_or_allowed() {
        assert!(check_base_url("https://api.cloudflare.com/client/v4/", false).is_ok());
        assert!(check_base_url("http://127.0.0.1:8787/client/v4", false).is_ok());
        assert!(check_base_url("http://[::1]:8787", false).is_ok());
        assert!(check_base_url("http://localhost:1", false).is_ok());
        assert!(check_base_url("http://example.com", false).is_err());
        assert!(check_base_url("http://example.com", true).is_ok());
        assert!(check_base_url("ftp://example.com", true).is_err());
        assert!(check_base_url("https://user:pw@example.com", false).is_err());
        assert_eq!(
            check_base_url("https://api.cloudflare.com/client/v4/", false).unwrap(),
            "https://api.cloudflare.com/client/v4"
        );
    }
}
