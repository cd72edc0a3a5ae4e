//! The insight lists as callers use them: [`Client::insights`] covers the account and the zone
//! operation through [`Scope`], with upstream's filters checked before anything is sent, and the
//! page-number pagination walked as the same lazy streams as the audit log, with a guard that
//! turns a server that never ends, repeats itself or changes its count into a typed error.
//!
//! An audit-log entry says "insight X went from active to resolved"; what X is (its type, class,
//! severity, subject) comes from here.
//!
//! # The stop rule
//!
//! A walk asks for page 1, 2, ... and trusts the first page's `count`: it ends after the page
//! that brings the insights seen to `count` (at once when `count` is 0). Anything else ends it
//! with [`Error::PaginationInconsistent`] rather than with a loop or a silent gap: a later page
//! with another `count` (insights came or went, so page boundaries moved), an insight served
//! twice (a page repeated, or shifted), more insights than `count` (a page past the end that is
//! still full), a page short of `per_page` before `count` is reached (a gap), or a page that says
//! it is another page than the one asked for. Without a `count`, the walk ends after the first
//! page shorter than `per_page`.

use std::collections::HashSet;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use crate::audit_log::{Client, MAX_PER_PAGE, Scope};
use crate::error::Error;
use crate::exchange::{call, unsuccessful};
use crate::forward_compat::IssueType;
use crate::pagination::{CursorPage, Items, PagerOptions, Pages, paginate};
use crate::quota::Quota;
use crate::types::{
    SecurityCenterDismissed, SecurityCenterInsightsResponse, SecurityCenterIssue,
    SecurityCenterIssueClass, SecurityCenterIssueClasses, SecurityCenterIssueTypes,
    SecurityCenterPage, SecurityCenterPerPage, SecurityCenterProducts,
    SecurityCenterSeverityFilter, SecurityCenterSeverityQueryParam, SecurityCenterSubject,
    SecurityCenterSubjects,
};

/// One Security Center insight: a finding about an account or zone.
pub type Insight = SecurityCenterIssue;

/// A severity as the `severity` filter takes it: `low`, `moderate`, `critical` (lowercase, while
/// an insight's own [`Severity`](crate::Severity) is capitalised, as upstream has it).
pub type SeverityFilter = SecurityCenterSeverityFilter;

/// The `per_page` a walk of the insight lists uses unless told otherwise.
pub const INSIGHTS_PAGER_PER_PAGE: u32 = MAX_PER_PAGE;

impl Client {
    /// The insights of an account or zone (`.../security-center/insights`).
    pub fn insights(&self, scope: Scope) -> InsightsRequest {
        InsightsRequest {
            client: self.clone(),
            scope,
            filters: InsightFilters::default(),
            per_page: None,
            page: None,
            pager: PagerOptions::default(),
        }
    }
}

/// A list filter and its `~neq` twin: the values to keep, and the values to leave out.
#[derive(Clone, Debug, PartialEq)]
struct Pair<T> {
    only: Option<Vec<T>>,
    except: Option<Vec<T>>,
}

impl<T> Default for Pair<T> {
    fn default() -> Self {
        Self {
            only: None,
            except: None,
        }
    }
}

/// The filters of an insight query; they stay fixed across the pages of a walk.
#[derive(Clone, Debug, Default, PartialEq)]
struct InsightFilters {
    dismissed: Option<bool>,
    severity: Pair<SeverityFilter>,
    issue_type: Pair<IssueType>,
    issue_class: Pair<String>,
    product: Pair<String>,
    subject: Pair<String>,
}

/// A configured query of an insight list: send it for one page, or walk it with
/// [`pages`](Self::pages) or [`items`](Self::items).
///
/// Filter setters carry the API's parameter names (`severity_neq` for `severity~neq`); each list
/// filter is sent as the parameter repeated once per value (`severity=low&severity=critical`),
/// as upstream's spec says for query arrays. Options of this client start with `with_`.
#[derive(Clone, Debug)]
#[must_use]
pub struct InsightsRequest {
    client: Client,
    scope: Scope,
    filters: InsightFilters,
    per_page: Option<u32>,
    page: Option<u64>,
    pager: PagerOptions,
}

/// Collects a list filter's values.
fn values<T, V: Into<T>>(values: impl IntoIterator<Item = V>) -> Option<Vec<T>> {
    Some(values.into_iter().map(Into::into).collect())
}

impl InsightsRequest {
    /// Only dismissed insights (`true`) or only those not dismissed (`false`).
    pub fn dismissed(mut self, dismissed: bool) -> Self {
        self.filters.dismissed = Some(dismissed);
        self
    }

    /// Only insights of these severities.
    pub fn severity(mut self, severities: impl IntoIterator<Item = SeverityFilter>) -> Self {
        self.filters.severity.only = values(severities);
        self
    }

    /// Leave out insights of these severities (`severity~neq`).
    pub fn severity_neq(mut self, severities: impl IntoIterator<Item = SeverityFilter>) -> Self {
        self.filters.severity.except = values(severities);
        self
    }

    /// Only insights of these types.
    pub fn issue_type<V: Into<IssueType>>(mut self, types: impl IntoIterator<Item = V>) -> Self {
        self.filters.issue_type.only = values(types);
        self
    }

    /// Leave out insights of these types (`issue_type~neq`).
    pub fn issue_type_neq<V: Into<IssueType>>(
        mut self,
        types: impl IntoIterator<Item = V>,
    ) -> Self {
        self.filters.issue_type.except = values(types);
        self
    }

    /// Only insights of these classes (e.g. `always_use_https_not_enabled`).
    pub fn issue_class<V: Into<String>>(mut self, classes: impl IntoIterator<Item = V>) -> Self {
        self.filters.issue_class.only = values(classes);
        self
    }

    /// Leave out insights of these classes (`issue_class~neq`).
    pub fn issue_class_neq<V: Into<String>>(
        mut self,
        classes: impl IntoIterator<Item = V>,
    ) -> Self {
        self.filters.issue_class.except = values(classes);
        self
    }

    /// Only insights about these products (e.g. `dns`, `access`).
    pub fn product<V: Into<String>>(mut self, products: impl IntoIterator<Item = V>) -> Self {
        self.filters.product.only = values(products);
        self
    }

    /// Leave out insights about these products (`product~neq`).
    pub fn product_neq<V: Into<String>>(mut self, products: impl IntoIterator<Item = V>) -> Self {
        self.filters.product.except = values(products);
        self
    }

    /// Only insights about these subjects (e.g. a hostname).
    pub fn subject<V: Into<String>>(mut self, subjects: impl IntoIterator<Item = V>) -> Self {
        self.filters.subject.only = values(subjects);
        self
    }

    /// Leave out insights about these subjects (`subject~neq`).
    pub fn subject_neq<V: Into<String>>(mut self, subjects: impl IntoIterator<Item = V>) -> Self {
        self.filters.subject.except = values(subjects);
        self
    }

    /// Insights per page, 1 to 1000. One page ([`send`](Self::send)) uses the API's default (25)
    /// unless set; a walk uses 1000.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// The page [`send`](Self::send) fetches (from 1; the API's default is 1). A walk always
    /// starts at page 1, since its guard needs the pages before.
    pub fn page(mut self, page: u64) -> Self {
        self.page = Some(page);
        self
    }

    /// Stop a walk after this many insights.
    pub fn with_max_items(mut self, max_items: u64) -> Self {
        self.pager.max_items = Some(max_items);
        self
    }

    /// Fetch the next page on a task of its own while the current one is consumed (default
    /// off).
    pub fn with_prefetch(mut self, prefetch: bool) -> Self {
        self.pager.prefetch = prefetch;
        self
    }

    /// Checks every input; the same checks run before each request.
    pub fn validate(&self) -> Result<(), Error> {
        self.scope.check()?;
        if let Some(per_page) = self.per_page
            && !(1..=MAX_PER_PAGE).contains(&per_page)
        {
            return Err(Error::invalid_request(
                "per_page",
                format!("{per_page} is outside 1..={MAX_PER_PAGE}"),
            ));
        }
        if self.page == Some(0) {
            return Err(Error::invalid_request("page", "pages are numbered from 1"));
        }
        let filters = &self.filters;
        let lists = [
            ("severity", filters.severity.only.as_ref().map(Vec::len)),
            (
                "severity~neq",
                filters.severity.except.as_ref().map(Vec::len),
            ),
            ("issue_type", filters.issue_type.only.as_ref().map(Vec::len)),
            (
                "issue_type~neq",
                filters.issue_type.except.as_ref().map(Vec::len),
            ),
            (
                "issue_class",
                filters.issue_class.only.as_ref().map(Vec::len),
            ),
            (
                "issue_class~neq",
                filters.issue_class.except.as_ref().map(Vec::len),
            ),
            ("product", filters.product.only.as_ref().map(Vec::len)),
            ("product~neq", filters.product.except.as_ref().map(Vec::len)),
            ("subject", filters.subject.only.as_ref().map(Vec::len)),
            ("subject~neq", filters.subject.except.as_ref().map(Vec::len)),
        ];
        if let Some((parameter, _)) = lists.iter().find(|(_, len)| *len == Some(0)) {
            return Err(Error::invalid_request(
                parameter,
                "is an empty list, which would filter nothing; leave the filter out instead",
            ));
        }
        let texts = [
            ("issue_class", &filters.issue_class),
            ("product", &filters.product),
            ("subject", &filters.subject),
        ];
        for (parameter, pair) in texts {
            let all = pair.only.iter().chain(&pair.except).flatten();
            if all.clone().any(String::is_empty) {
                return Err(Error::invalid_request(parameter, "holds an empty value"));
            }
        }
        Ok(())
    }

    /// Fetches one page ([`page`](Self::page) if set, else the first).
    pub async fn send(&self) -> Result<InsightPage, Error> {
        self.validate()?;
        let page = self.page.unwrap_or(1);
        fetch(&self.client, &self.query(), page, self.per_page).await
    }

    /// Walks the pages lazily from page 1, with `per_page` 1000 unless set, ending as the module
    /// documentation's stop rule says; a server that breaks it ends the walk with
    /// [`Error::PaginationInconsistent`].
    pub fn pages(self) -> Pages<InsightPage> {
        if let Err(error) = self.validate() {
            return Pages::failed(error);
        }
        let per_page = self.per_page.unwrap_or(INSIGHTS_PAGER_PER_PAGE);
        let (client, query) = (self.client.clone(), self.query());
        let guard = Arc::new(Mutex::new(Guard::default()));
        let fetch_page = move |cursor: Option<String>| {
            let (client, query, guard) = (client.clone(), query.clone(), Arc::clone(&guard));
            Box::pin(async move {
                let page = cursor.as_deref().map_or(Ok(1), str::parse).unwrap_or(1);
                let mut answer = fetch(&client, &query, page, Some(per_page)).await?;
                let next = guard
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .check(&answer, page, per_page)?;
                answer.next = next.map(|page| page.to_string());
                Ok(answer)
            })
        };
        paginate(fetch_page, None, self.pager)
    }

    /// Walks the insights lazily across pages, each once, stopping at
    /// [`with_max_items`](Self::with_max_items) exactly.
    pub fn items(self) -> Items<Insight> {
        self.pages().items()
    }

    fn query(&self) -> Query {
        Query {
            scope: self.scope.clone(),
            filters: self.filters.clone(),
        }
    }
}

/// What identifies the pages of one walk (everything but the page number).
#[derive(Clone, Debug)]
struct Query {
    scope: Scope,
    filters: InsightFilters,
}

/// What a walk has seen so far, to hold the server to the stop rule.
#[derive(Debug, Default)]
struct Guard {
    /// The first page's `count`.
    count: Option<u64>,
    /// Pages checked so far.
    pages: u64,
    /// Insights served so far.
    served: u64,
    /// Their ids.
    ids: HashSet<String>,
}

impl Guard {
    /// Checks `page` (number `number`, asked with `per_page`) against the pages before it and
    /// returns the number of the next page to ask for, `None` at the end.
    fn check(
        &mut self,
        page: &InsightPage,
        number: u64,
        per_page: u32,
    ) -> Result<Option<u64>, Error> {
        let inconsistent = |reason: String| Error::PaginationInconsistent {
            page: number,
            reason,
        };
        if let Some(said) = page.page
            && said != number
        {
            return Err(inconsistent(format!("the answer says it is page {said}")));
        }
        self.pages += 1;
        if self.pages == 1 {
            self.count = page.count;
        } else if page.count != self.count {
            return Err(inconsistent(format!(
                "count changed from {} to {} during the walk, so page boundaries moved; walk again",
                shown(self.count),
                shown(page.count)
            )));
        }
        for insight in &page.insights {
            if let Some(id) = &insight.id
                && !self.ids.insert(id.clone())
            {
                return Err(inconsistent(format!(
                    "insight {id:?} was served before in this walk"
                )));
            }
        }
        self.served += page.insights.len() as u64;
        let short = page.insights.len() < per_page as usize;
        let Some(count) = self.count else {
            return Ok((!short).then_some(number + 1));
        };
        if self.served > count {
            return Err(inconsistent(format!(
                "{} insights served, more than the count of {count}",
                self.served
            )));
        }
        if self.served == count {
            return Ok(None);
        }
        if short {
            return Err(inconsistent(format!(
                "the page holds {} of {per_page} insights, but only {} of {count} were served",
                page.insights.len(),
                self.served
            )));
        }
        Ok(Some(number + 1))
    }
}

fn shown(count: Option<u64>) -> String {
    count.map_or_else(|| "none".to_owned(), |count| count.to_string())
}

/// Sets the filters on either generated builder and sends it.
macro_rules! with_insight_filters {
    ($builder:expr, $filters:expr, $page:expr, $per_page:expr) => {{
        let filters: &InsightFilters = $filters;
        let mut builder = $builder.page(SecurityCenterPage($page));
        if let Some(per_page) = $per_page {
            builder = builder.per_page(SecurityCenterPerPage(per_page));
        }
        if let Some(dismissed) = filters.dismissed {
            builder = builder.dismissed(SecurityCenterDismissed(dismissed));
        }
        let severity = |list: &Vec<SeverityFilter>| SecurityCenterSeverityQueryParam(list.clone());
        let types = |list: &Vec<IssueType>| SecurityCenterIssueTypes(list.clone());
        let classes = |list: &Vec<String>| {
            SecurityCenterIssueClasses(list.iter().cloned().map(SecurityCenterIssueClass).collect())
        };
        let products = |list: &Vec<String>| SecurityCenterProducts(list.clone());
        let subjects = |list: &Vec<String>| {
            SecurityCenterSubjects(list.iter().cloned().map(SecurityCenterSubject).collect())
        };
        if let Some(list) = &filters.severity.only {
            builder = builder.severity(severity(list));
        }
        if let Some(list) = &filters.severity.except {
            builder = builder.severity_neq(severity(list));
        }
        if let Some(list) = &filters.issue_type.only {
            builder = builder.issue_type(types(list));
        }
        if let Some(list) = &filters.issue_type.except {
            builder = builder.issue_type_neq(types(list));
        }
        if let Some(list) = &filters.issue_class.only {
            builder = builder.issue_class(classes(list));
        }
        if let Some(list) = &filters.issue_class.except {
            builder = builder.issue_class_neq(classes(list));
        }
        if let Some(list) = &filters.product.only {
            builder = builder.product(products(list));
        }
        if let Some(list) = &filters.product.except {
            builder = builder.product_neq(products(list));
        }
        if let Some(list) = &filters.subject.only {
            builder = builder.subject(subjects(list));
        }
        if let Some(list) = &filters.subject.except {
            builder = builder.subject_neq(subjects(list));
        }
        call(builder.send())
    }};
}

async fn fetch(
    client: &Client,
    query: &Query,
    page: u64,
    per_page: Option<u32>,
) -> Result<InsightPage, Error> {
    let api = client.raw();
    let id = query.scope.check()?.to_owned();
    let page_number = i64::try_from(page)
        .map_err(|_| Error::invalid_request("page", format!("{page} is too large")))?;
    let per_page = per_page.and_then(|per_page| NonZeroU64::new(u64::from(per_page)));
    let answer = match &query.scope {
        Scope::Account(_) => {
            let builder = api.get_security_center_insights().account_id(id);
            with_insight_filters!(builder, &query.filters, page_number, per_page).await?
        }
        Scope::Zone(_) => {
            let builder = api.get_zone_security_center_insights().zone_id(id);
            with_insight_filters!(builder, &query.filters, page_number, per_page).await?
        }
    };
    let response: SecurityCenterInsightsResponse = answer.value;
    if !response.success {
        return Err(unsuccessful(
            answer.status,
            response.errors.0,
            response.messages.0,
            answer.cf_ray,
        ));
    }
    let result = response.result.unwrap_or_default();
    let number = |value: Option<i64>| value.and_then(|value| u64::try_from(value).ok());
    Ok(InsightPage {
        insights: result.issues,
        count: number(result.count.map(|count| count.0)),
        page: number(result.page.map(|page| page.0)),
        per_page: result.per_page.map(|per_page| per_page.0.get()),
        cf_ray: answer.cf_ray,
        quota: answer.quota,
        next: None,
    })
}

/// One page of an insight list.
#[derive(Clone, Debug)]
pub struct InsightPage {
    insights: Vec<Insight>,
    count: Option<u64>,
    page: Option<u64>,
    per_page: Option<u64>,
    cf_ray: Option<String>,
    quota: Option<Quota>,
    /// The page a walk asks for next, as the pager's cursor.
    next: Option<String>,
}

impl InsightPage {
    /// The insights of this page.
    pub fn insights(&self) -> &[Insight] {
        &self.insights
    }

    /// The insights, by value.
    pub fn into_insights(self) -> Vec<Insight> {
        self.insights
    }

    /// The total the API announced (`result.count`), for every page of the query.
    pub fn count(&self) -> Option<u64> {
        self.count
    }

    /// The page number the API says this is (`result.page`).
    pub fn page(&self) -> Option<u64> {
        self.page
    }

    /// The page size the API says it used (`result.per_page`).
    pub fn per_page(&self) -> Option<u64> {
        self.per_page
    }

    /// The rate-limit state the response announced.
    pub fn quota(&self) -> Option<Quota> {
        self.quota
    }

    /// The `cf-ray` header of the response, to quote to Cloudflare support.
    pub fn cf_ray(&self) -> Option<&str> {
        self.cf_ray.as_deref()
    }
}

impl CursorPage for InsightPage {
    type Item = Insight;

    fn len(&self) -> usize {
        self.insights.len()
    }

    fn next_cursor(&self) -> Option<&str> {
        self.next.as_deref()
    }

    fn into_items(self) -> Vec<Insight> {
        self.insights
    }
}

#[cfg(test)]
mod tests {
    use super::{Guard, Insight, InsightPage};
    use crate::error::Error;

    fn page(ids: &[u32], count: Option<u64>, number: u64) -> InsightPage {
        InsightPage {
            insights: ids
                .iter()
                .map(|id| Insight {
                    id: Some(format!("i{id}")),
                    ..Insight::default()
                })
                .collect(),
            count,
            page: Some(number),
            per_page: Some(2),
            cf_ray: None,
            quota: None,
            next: None,
        }
    }

    fn reason(result: Result<Option<u64>, Error>) -> String {
        match result {
            Err(Error::PaginationInconsistent { reason, .. }) => reason,
            other => panic!("expected an inconsistency, got {other:?}"),
        }
    }

    /// A walk of 5 insights at 2 a page takes three pages and ends after the one that reaches
    /// the count, without asking for a fourth.
    #[test]
    fn the_walk_ends_at_the_count() {
        let mut guard = Guard::default();
        assert_eq!(
            guard.check(&page(&[1, 2], Some(5), 1), 1, 2).ok(),
            Some(Some(2))
        );
        assert_eq!(
            guard.check(&page(&[3, 4], Some(5), 2), 2, 2).ok(),
            Some(Some(3))
        );
        assert_eq!(guard.check(&page(&[5], Some(5), 3), 3, 2).ok(), Some(None));
        let mut empty = Guard::default();
        assert_eq!(empty.check(&page(&[], Some(0), 1), 1, 2).ok(), Some(None));
        let mut uncounted = Guard::default();
        assert_eq!(
            uncounted.check(&page(&[1, 2], None, 1), 1, 2).ok(),
            Some(Some(2))
        );
        assert_eq!(uncounted.check(&page(&[3], None, 2), 2, 2).ok(), Some(None));
    }

    /// Each endless or inconsistent server shape ends in a typed error naming what broke.
    #[test]
    fn endless_and_inconsistent_servers_are_refused() {
        let mut repeated = Guard::default();
        assert!(repeated.check(&page(&[1, 2], Some(6), 1), 1, 2).is_ok());
        assert!(reason(repeated.check(&page(&[1, 2], Some(6), 2), 2, 2)).contains("served before"));

        let mut moved = Guard::default();
        assert!(moved.check(&page(&[1, 2], Some(6), 1), 1, 2).is_ok());
        assert!(reason(moved.check(&page(&[3, 4], Some(7), 2), 2, 2)).contains("count changed"));

        let mut past = Guard::default();
        assert!(past.check(&page(&[1, 2], Some(3), 1), 1, 2).is_ok());
        assert!(
            reason(past.check(&page(&[3, 4], Some(3), 2), 2, 2)).contains("more than the count")
        );

        let mut gap = Guard::default();
        assert!(gap.check(&page(&[1, 2], Some(6), 1), 1, 2).is_ok());
        assert!(reason(gap.check(&page(&[3], Some(6), 2), 2, 2)).contains("only 3 of 6"));

        let mut renumbered = Guard::default();
        assert!(reason(renumbered.check(&page(&[1, 2], Some(6), 1), 2, 2)).contains("page 1"));
    }
}
