//! The client as the exporter sets it up: credentials from the environment or a token file, retries and pacing
//! that hand every long wait back to the walk (so that it is said, counted down and capped by `--max-wait`), and
//! each scope's request with the run's filters.

use std::path::Path;
use std::time::Duration;

use cloudflare_security_center::{
    AuditLogRequest, Client, ClientBuilder, Credentials, ENV_API_KEY, ENV_API_TOKEN, ENV_BASE_URL,
    ENV_EMAIL, Error, RateLimit, RetryPolicy,
};

use crate::args::Cli;
use crate::exit;
use crate::scopes::Target;
use crate::walk;

/// The client from `--api-token-file` (which, when given, replaces the credential variables) or the
/// environment, and `--base-url` or `CLOUDFLARE_BASE_URL`.
pub(crate) fn build_client(
    cli: &Cli,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Client, String> {
    let credentials = match &cli.api_token_file {
        Some(path) => read_token_file(path)?,
        None => Credentials::from_lookup(env)
            .map_err(|error| exit::one_line(&error))?
            .ok_or_else(|| {
                format!(
                    "no credentials: set {ENV_API_TOKEN} (or {ENV_API_KEY} with {ENV_EMAIL}), or pass \
                     --api-token-file PATH"
                )
            })?,
    };
    // Rate limits are waited out here, with the wait on the progress line, rather than silently in the client.
    let retry = RetryPolicy::default()
        .with_max_retries(cli.retries)
        .with_max_retry_after(Duration::ZERO);
    // Pacing waits longer than a few seconds come back as errors too, so that they are said and capped by
    // --max-wait like a 429.
    let pacing = RateLimit::default().with_max_wait(walk::QUIET_PACING);
    let mut builder = ClientBuilder::new()
        .with_credentials(credentials)
        .with_retry(retry)
        .with_rate_limit(pacing)
        .with_attempt_timeout(cli.timeout)
        .with_user_agent_suffix(concat!("insight-audit-log/", env!("CARGO_PKG_VERSION")));
    let base_url = cli
        .base_url
        .clone()
        .or_else(|| env(ENV_BASE_URL).filter(|url| !url.is_empty()));
    if let Some(url) = base_url {
        builder = builder.with_base_url(url);
    }
    if let Some(path) = &cli.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|error| format!("--ca-cert {}: {}", path.display(), exit::one_line(&error)))?;
        builder = builder.with_root_certificate(pem);
    }
    builder.build().map_err(|error| match &cli.ca_cert {
        Some(path)
            if matches!(
                error,
                Error::InvalidConfig {
                    setting: "root_certificate",
                    ..
                }
            ) =>
        {
            format!("--ca-cert {}: {}", path.display(), exit::one_line(&error))
        }
        _ => exit::one_line(&error),
    })
}

/// The first line of `path` as an API token.
fn read_token_file(path: &Path) -> Result<Credentials, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "--api-token-file {}: {}",
            path.display(),
            exit::one_line(&error)
        )
    })?;
    let token = text.lines().next().unwrap_or("").trim();
    Credentials::api_token(token).map_err(|error| {
        format!(
            "--api-token-file {}: {}",
            path.display(),
            exit::one_line(&error)
        )
    })
}

/// The request of one scope with the run's filters (no cursor, no limits).
pub(crate) fn base_request(client: &Client, cli: &Cli, target: &Target) -> AuditLogRequest {
    let scope = target.scope.clone();
    let mut request = match &cli.issue {
        Some(issue) => client.issue_audit_log(scope, issue.clone()),
        None => client.audit_log(scope),
    };
    if let Some(since) = cli.since {
        request = request.since(since);
    }
    if let Some(before) = cli.before {
        request = request.before(before);
    }
    if let Some(field) = &cli.field_changed {
        request = request.field_changed(field.as_str());
    }
    if let Some(actor) = &cli.changed_by {
        request = request.changed_by(actor.clone());
    }
    if let Some(order) = cli.order {
        request = request.order(order.into());
    }
    if let Some(per_page) = cli.per_page {
        request = request.per_page(per_page);
    }
    request.with_prefetch(true)
}
