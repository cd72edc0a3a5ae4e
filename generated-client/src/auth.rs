//! Credentials, and the headers they become.
//!
//! Secrets are held in [`secrecy::SecretString`], so they never appear in `Debug` output, and the
//! header values built from them are marked sensitive, so HTTP-level logging hides them too.

use std::fmt;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// Environment variable holding an API token (the same as the official SDKs).
pub const ENV_API_TOKEN: &str = "CLOUDFLARE_API_TOKEN";
/// Environment variable holding a Global API key.
pub const ENV_API_KEY: &str = "CLOUDFLARE_API_KEY";
/// Environment variable holding the e-mail address that goes with the API key.
pub const ENV_EMAIL: &str = "CLOUDFLARE_EMAIL";

const X_AUTH_EMAIL: HeaderName = HeaderName::from_static("x-auth-email");
const X_AUTH_KEY: HeaderName = HeaderName::from_static("x-auth-key");

/// How requests prove who sends them.
#[derive(Clone)]
pub struct Credentials(Kind);

#[derive(Clone)]
enum Kind {
    /// `Authorization: Bearer <token>`.
    Token(SecretString),
    /// `X-Auth-Email` + `X-Auth-Key`.
    Key { email: String, key: SecretString },
}

impl Credentials {
    /// An API token, the preferred scheme: sent as `Authorization: Bearer <token>`.
    pub fn api_token(token: impl Into<String>) -> Result<Self, Error> {
        let token = token.into();
        check_secret("api_token", &token)?;
        Ok(Self(Kind::Token(token.into())))
    }

    /// A Global API key with its account e-mail: sent as `X-Auth-Key` and `X-Auth-Email`.
    pub fn api_key(email: impl Into<String>, key: impl Into<String>) -> Result<Self, Error> {
        let (email, key) = (email.into(), key.into());
        check_secret("api_email", &email)?;
        check_secret("api_key", &key)?;
        Ok(Self(Kind::Key {
            email,
            key: key.into(),
        }))
    }

    /// Reads `CLOUDFLARE_API_TOKEN`, or `CLOUDFLARE_API_KEY` with `CLOUDFLARE_EMAIL`.
    ///
    /// Returns `Ok(None)` when none is set. Exactly one scheme must be configured: a key
    /// without its e-mail (or the reverse), or a token together with a key or e-mail, is an
    /// error rather than a guess.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Credentials::from_env`] over any variable source (for tests and for config files).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let read = |name: &str| lookup(name).filter(|value| !value.is_empty());
        match (read(ENV_API_TOKEN), read(ENV_API_KEY), read(ENV_EMAIL)) {
            (None, None, None) => Ok(None),
            (Some(token), None, None) => Self::api_token(token).map(Some),
            (None, Some(key), Some(email)) => Self::api_key(email, key).map(Some),
            (None, Some(_), None) => Err(Error::invalid_config(
                ENV_EMAIL,
                format!("{ENV_API_KEY} is set but {ENV_EMAIL} is not; a Global API key needs both"),
            )),
            (None, None, Some(_)) => Err(Error::invalid_config(
                ENV_API_KEY,
                format!("{ENV_EMAIL} is set but {ENV_API_KEY} is not; a Global API key needs both"),
            )),
            (Some(_), _, _) => Err(Error::invalid_config(
                ENV_API_TOKEN,
                format!(
                    "{ENV_API_TOKEN} is set together with {ENV_API_KEY}/{ENV_EMAIL}; set only one \
                     scheme so it is clear which is used"
                ),
            )),
        }
    }

    /// Writes the authentication headers, marked sensitive, replacing any already there.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        match &self.0 {
            Kind::Token(token) => {
                if let Some(value) = sensitive(&format!("Bearer {}", token.expose_secret())) {
                    headers.insert(AUTHORIZATION, value);
                }
            }
            Kind::Key { email, key } => {
                if let Some(value) = sensitive(email) {
                    headers.insert(X_AUTH_EMAIL, value);
                }
                if let Some(value) = sensitive(key.expose_secret()) {
                    headers.insert(X_AUTH_KEY, value);
                }
            }
        }
    }

    /// The scheme's name, for logs: `api_token` or `api_key`.
    pub fn scheme(&self) -> &'static str {
        match self.0 {
            Kind::Token(_) => "api_token",
            Kind::Key { .. } => "api_key",
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Token(_) => formatter.write_str("Credentials::ApiToken(<redacted>)"),
            Kind::Key { .. } => formatter.write_str("Credentials::ApiKey(<redacted>)"),
        }
    }
}

/// A header value marked sensitive; `None` only for values [`check_secret`] already refused.
fn sensitive(text: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Refuses empty values and anything a header cannot carry verbatim (CR, LF, other controls,
/// non-ASCII), without echoing the value.
fn check_secret(setting: &'static str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_config(setting, "is empty"));
    }
    if value
        .chars()
        .any(|character| character == '\r' || character == '\n')
    {
        return Err(Error::invalid_config(
            setting,
            "contains a CR or LF character",
        ));
    }
    if let Some(position) = value
        .chars()
        .position(|character| character.is_control() || !character.is_ascii())
    {
        return Err(Error::invalid_config(
            setting,
            format!("contains a control or non-ASCII character at position {position}"),
        ));
    }
    if value != value.trim() {
        return Err(Error::invalid_config(
            setting,
            "has leading or trailing white space",
        ));
    }
    Ok(())
}
