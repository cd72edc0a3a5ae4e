//! The audit-log API as callers use it: one [`Client`] method per endpoint, covering both the
//! account and the zone operation through [`Scope`], with ids and filters checked before
//! anything is sent, and pages or entries as streams.

use chrono::{DateTime, Utc};

use crate::config::ClientBuilder;
use crate::error::Error;
use crate::exchange::{call, unsuccessful};
use crate::forward_compat::FieldChanged;
use crate::generated;
use crate::pagination::{CursorPage, Items, PagerOptions, Pages, paginate};
use crate::quota::Quota;
use crate::types::{
    SecurityCenterAuditLog, SecurityCenterAuditLogOrder, SecurityCenterAuditLogResponse,
    SecurityCenterAuditLogResponseResultInfo,
};

/// One audit-log entry: a change of an insight's status or classification.
pub type AuditLogEntry = SecurityCenterAuditLog;
/// Paging details of a response (`count`, `cursor`, `per_page`).
pub type ResultInfo = SecurityCenterAuditLogResponseResultInfo;
/// Sort order by time: [`Order::Asc`] oldest first, [`Order::Desc`] (the API's default) newest
/// first.
pub type Order = SecurityCenterAuditLogOrder;

/// The largest `per_page` the API accepts.
pub const MAX_PER_PAGE: u32 = 1000;
/// The `per_page` the pager uses unless told otherwise: the fewest requests against the rate
/// limit.
pub const PAGER_PER_PAGE: u32 = MAX_PER_PAGE;
/// The longest account or zone id the API accepts.
const MAX_ID_LEN: usize = 32;

/// Whose audit log: an account's or a zone's. The two are exclusive by construction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// An account, by its 32-character id.
    Account(String),
    /// A zone, by its 32-character id.
    Zone(String),
}

impl Scope {
    /// An account scope.
    pub fn account(id: impl Into<String>) -> Self {
        Self::Account(id.into())
    }

    /// A zone scope.
    pub fn zone(id: impl Into<String>) -> Self {
        Self::Zone(id.into())
    }

    pub(crate) fn check(&self) -> Result<&str, Error> {
        let (parameter, id) = match self {
            Self::Account(id) => ("account_id", id),
            Self::Zone(id) => ("zone_id", id),
        };
        check_segment(parameter, id)?;
        if id.chars().count() > MAX_ID_LEN {
            return Err(Error::invalid_request(
                parameter,
                format!(
                    "is {} characters long; at most {MAX_ID_LEN} are allowed",
                    id.chars().count()
                ),
            ));
        }
        Ok(id)
    }
}

/// Refuses ids that would change which endpoint is called: empty ones, `.` or `..`, which URL
/// parsing resolves as path segments, and ids with a backslash, which it reads as `/`. Other
/// characters (`/`, `?`, `#`, `%`, spaces, non-ASCII) are percent-encoded by the generated code
/// and stay inside their segment.
fn check_segment(parameter: &'static str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid_request(parameter, "is empty"));
    }
    if id.contains('\\') {
        return Err(Error::invalid_request(
            parameter,
            "contains a backslash, which URL parsing treats as a path separator",
        ));
    }
    if id == "." || id == ".." {
        return Err(Error::invalid_request(
            parameter,
            format!("`{id}` is a relative path segment and would address another endpoint"),
        ));
    }
    Ok(())
}

/// The client: cheap to clone (clones share the connection pool).
#[derive(Clone, Debug)]
pub struct Client {
    generated: generated::Client,
}

impl Client {
    /// A builder; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the `CLOUDFLARE_*` environment variables.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_env()?.build()
    }

    pub(crate) fn from_generated(generated: generated::Client) -> Self {
        Self { generated }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        progenitor_client::ClientInfo::baseurl(&self.generated)
    }

    /// The raw layer: the generated client, one builder per upstream operation, with the same
    /// credentials, retries, pacing and timeouts (errors are then progenitor's, not [`Error`]).
    pub fn raw(&self) -> &generated::Client {
        &self.generated
    }

    /// The audit log of one insight (`.../security-center/insights/{issue_id}/audit-log`).
    pub fn issue_audit_log(&self, scope: Scope, issue_id: impl Into<String>) -> AuditLogRequest {
        AuditLogRequest::new(self.clone(), scope, Some(issue_id.into()))
    }

    /// The audit log of every insight of the account or zone
    /// (`.../security-center/insights/audit-log`).
    pub fn audit_log(&self, scope: Scope) -> AuditLogRequest {
        AuditLogRequest::new(self.clone(), scope, None)
    }
}

/// The filters of an audit-log query; they stay fixed across the pages of a walk.
#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    since: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    field_changed: Option<FieldChanged>,
    changed_by: Option<String>,
    order: Option<Order>,
}

/// A configured audit-log query: send it for one page, or walk it with [`pages`] or
/// [`items`].
///
/// Filter setters carry the API's parameter names; options of this client start with `with_`.
///
/// [`pages`]: AuditLogRequest::pages
/// [`items`]: AuditLogRequest::items
#[derive(Clone, Debug)]
#[must_use]
pub struct AuditLogRequest {
    client: Client,
    scope: Scope,
    issue_id: Option<String>,
    filters: Filters,
    per_page: Option<u32>,
    cursor: Option<String>,
    pager: PagerOptions,
}

impl AuditLogRequest {
    fn new(client: Client, scope: Scope, issue_id: Option<String>) -> Self {
        Self {
            client,
            scope,
            issue_id,
            filters: Filters::default(),
            per_page: None,
            cursor: None,
            pager: PagerOptions::default(),
        }
    }

    /// Only entries changed at or after `time`.
    pub fn since(mut self, time: DateTime<Utc>) -> Self {
        self.filters.since = Some(time);
        self
    }

    /// Only entries changed before `time`.
    pub fn before(mut self, time: DateTime<Utc>) -> Self {
        self.filters.before = Some(time);
        self
    }

    /// Only changes of this field.
    pub fn field_changed(mut self, field: impl Into<FieldChanged>) -> Self {
        self.filters.field_changed = Some(field.into());
        self
    }

    /// Only changes made by this actor (`system` or a user identifier).
    pub fn changed_by(mut self, actor: impl Into<String>) -> Self {
        self.filters.changed_by = Some(actor.into());
        self
    }

    /// Sort order (the API's default is newest first).
    pub fn order(mut self, order: Order) -> Self {
        self.filters.order = Some(order);
        self
    }

    /// Entries per page, 1 to 1000. One page ([`send`](Self::send)) uses the API's default
    /// (25) unless set; a walk uses 1000.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// Start from this cursor (a page's [`Page::next_cursor`]), e.g. to resume a walk.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Stop a walk after this many entries.
    pub fn with_max_items(mut self, max_items: u64) -> Self {
        self.pager.max_items = Some(max_items);
        self
    }

    /// Stop a walk after this many pages.
    pub fn with_max_pages(mut self, max_pages: u64) -> Self {
        self.pager.max_pages = Some(max_pages);
        self
    }

    /// Fetch pages ahead, on a task of their own, while the current one is consumed (default
    /// off; at most 1000 entries ahead, or one page if it is larger).
    pub fn with_prefetch(mut self, prefetch: bool) -> Self {
        self.pager.prefetch = prefetch;
        self
    }

    /// End a walk with [`Error::PaginationStalled`] after this many empty pages in a row that
    /// each hand back a new cursor (default 100): a server that never ends the log would
    /// otherwise be walked forever, one request at a time.
    pub fn with_max_empty_pages(mut self, pages: u64) -> Self {
        self.pager.max_empty_pages = pages;
        self
    }

    /// Checks every input; the same checks run before each request.
    pub fn validate(&self) -> Result<(), Error> {
        self.scope.check()?;
        if let Some(issue_id) = &self.issue_id {
            check_segment("issue_id", issue_id)?;
        }
        if let Some(per_page) = self.per_page
            && !(1..=MAX_PER_PAGE).contains(&per_page)
        {
            return Err(Error::invalid_request(
                "per_page",
                format!("{per_page} is outside 1..={MAX_PER_PAGE}"),
            ));
        }
        if let (Some(since), Some(before)) = (self.filters.since, self.filters.before)
            && since >= before
        {
            return Err(Error::invalid_request(
                "since",
                format!("{since} is not earlier than before ({before}); nothing could match"),
            ));
        }
        if self.cursor.as_deref() == Some("") {
            return Err(Error::invalid_request("cursor", "is empty"));
        }
        Ok(())
    }

    /// Fetches one page (from [`cursor`](Self::cursor) if set).
    pub async fn send(&self) -> Result<Page, Error> {
        self.validate()?;
        fetch_page(
            &self.client,
            &self.query(),
            self.cursor.clone(),
            self.per_page,
        )
        .await
    }

    /// Walks the pages lazily, from [`cursor`](Self::cursor) if set, with `per_page` 1000
    /// unless set. The walk ends after a page without a cursor, after the first error, or at a
    /// limit; a repeated cursor ends it with [`Error::PaginationLoop`], and a long run of empty
    /// pages with [`Error::PaginationStalled`].
    pub fn pages(self) -> Pages<Page> {
        if let Err(error) = self.validate() {
            return Pages::failed(error);
        }
        let per_page = Some(self.per_page.unwrap_or(PAGER_PER_PAGE));
        let (client, query) = (self.client.clone(), self.query());
        let fetch = move |cursor: Option<String>| {
            let (client, query) = (client.clone(), query.clone());
            // Boxed: a request's future is large (about 11 KB) and would otherwise be copied
            // each time the pager moves its state.
            Box::pin(async move { fetch_page(&client, &query, cursor, per_page).await })
        };
        paginate(fetch, self.cursor, self.pager)
    }

    /// Walks the entries lazily across pages, stopping at [`with_max_items`] exactly.
    ///
    /// [`with_max_items`]: Self::with_max_items
    pub fn items(self) -> Items<AuditLogEntry> {
        self.pages().items()
    }

    fn query(&self) -> Query {
        Query {
            scope: self.scope.clone(),
            issue_id: self.issue_id.clone(),
            filters: self.filters.clone(),
        }
    }
}

/// What identifies the pages of one walk (everything but the cursor).
#[derive(Clone, Debug)]
struct Query {
    scope: Scope,
    issue_id: Option<String>,
    filters: Filters,
}

/// Sets the shared query parameters on any of the four generated builders.
macro_rules! with_filters {
    ($builder:expr, $filters:expr, $cursor:expr, $per_page:expr) => {{
        let filters = $filters;
        let mut builder = $builder;
        if let Some(since) = filters.since {
            builder = builder.since(since);
        }
        if let Some(before) = filters.before {
            builder = builder.before(before);
        }
        if let Some(field) = &filters.field_changed {
            builder = builder.field_changed(field.clone());
        }
        if let Some(actor) = &filters.changed_by {
            builder = builder.changed_by(actor.clone());
        }
        if let Some(order) = filters.order {
            builder = builder.order(order);
        }
        if let Some(cursor) = $cursor {
            builder = builder.cursor(cursor);
        }
        if let Some(per_page) = $per_page.and_then(std::num::NonZeroU64::new) {
            builder = builder.per_page(per_page);
        }
        call(builder.send())
    }};
}

async fn fetch_page(
    client: &Client,
    query: &Query,
    cursor: Option<String>,
    per_page: Option<u32>,
) -> Result<Page, Error> {
    let api = &client.generated;
    let filters = &query.filters;
    let per_page = per_page.map(u64::from);
    let id = query.scope.check()?.to_owned();
    let answer = match (&query.scope, query.issue_id.clone()) {
        (Scope::Account(_), Some(issue)) => {
            check_segment("issue_id", &issue)?;
            let builder = api
                .get_security_center_issue_audit_log()
                .account_id(id)
                .issue_id(issue);
            with_filters!(builder, filters, cursor, per_page).await?
        }
        (Scope::Zone(_), Some(issue)) => {
            check_segment("issue_id", &issue)?;
            let builder = api
                .get_zone_security_center_issue_audit_log()
                .zone_id(id)
                .issue_id(issue);
            with_filters!(builder, filters, cursor, per_page).await?
        }
        (Scope::Account(_), None) => {
            let builder = api.get_security_center_account_audit_log().account_id(id);
            with_filters!(builder, filters, cursor, per_page).await?
        }
        (Scope::Zone(_), None) => {
            let builder = api.get_zone_security_center_audit_log().zone_id(id);
            with_filters!(builder, filters, cursor, per_page).await?
        }
    };
    let response: SecurityCenterAuditLogResponse = answer.value;
    if !response.success {
        return Err(unsuccessful(
            answer.status,
            response.errors.0,
            response.messages.0,
            answer.cf_ray,
        ));
    }
    Ok(Page::new(response, answer.cf_ray, answer.quota))
}

/// One page of audit-log entries.
#[derive(Clone, Debug)]
pub struct Page {
    entries: Vec<AuditLogEntry>,
    result_info: Option<ResultInfo>,
    cf_ray: Option<String>,
    quota: Option<Quota>,
}

impl Page {
    fn new(
        response: SecurityCenterAuditLogResponse,
        cf_ray: Option<String>,
        quota: Option<Quota>,
    ) -> Self {
        Self {
            entries: response.result,
            result_info: response.result_info,
            cf_ray,
            quota,
        }
    }

    /// The rate-limit state the response announced (`Ratelimit` / `Ratelimit-Policy`):
    /// requests left and time to the reset, as of this page.
    pub fn quota(&self) -> Option<Quota> {
        self.quota
    }

    /// The entries, in the requested order.
    pub fn entries(&self) -> &[AuditLogEntry] {
        &self.entries
    }

    /// The entries, by value.
    pub fn into_entries(self) -> Vec<AuditLogEntry> {
        self.entries
    }

    /// The page's `result_info` as the API sent it.
    pub fn result_info(&self) -> Option<&ResultInfo> {
        self.result_info.as_ref()
    }

    /// The cursor to resume after this page; `None` on the last page (an empty cursor counts
    /// as none).
    pub fn next_cursor(&self) -> Option<&str> {
        self.result_info
            .as_ref()
            .and_then(|info| info.cursor.as_deref())
            .filter(|cursor| !cursor.is_empty())
    }

    /// The `cf-ray` header of the response, to quote to Cloudflare support.
    pub fn cf_ray(&self) -> Option<&str> {
        self.cf_ray.as_deref()
    }
}

impl CursorPage for Page {
    type Item = AuditLogEntry;

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn next_cursor(&self) -> Option<&str> {
        Page::next_cursor(self)
    }

    fn into_items(self) -> Vec<AuditLogEntry> {
        self.entries
    }
}
