//! The public API that downstream code relies on, pinned at compile time: the functions below
//! are never run, but if a regeneration renames a builder method or a setter, changes the type
//! of a response field, or the hand-written layer changes a signature, this test binary stops
//! compiling.

#![allow(dead_code)]

use std::num::NonZeroU64;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cloudflare_security_center::raw::{self, ResponseValue, builder};
use cloudflare_security_center::types::{
    SecurityCenterApiResponseCommonFailure, SecurityCenterAuditLog, SecurityCenterAuditLogResponse,
    SecurityCenterAuditLogResponseResultInfo, SecurityCenterMessages, SecurityCenterMessagesItem,
};
use cloudflare_security_center::{
    AuditLogEntry, AuditLogRequest, Client, Credentials, Error, FieldChanged, Order, Page,
    RetryPolicy, Scope,
};
use cloudflare_security_center::{Items, Pages};

type Sent = Result<
    ResponseValue<SecurityCenterAuditLogResponse>,
    raw::Error<SecurityCenterApiResponseCommonFailure>,
>;

/// The hand-written layer: building a client, both scopes, every filter and option, one page,
/// and both streams.
async fn client_shape(since: DateTime<Utc>, before: DateTime<Utc>) -> Result<(), Error> {
    let client: Client = Client::builder()
        .with_credentials(Credentials::api_token("token")?)
        .with_base_url("https://api.cloudflare.com/client/v4")
        .with_retry(RetryPolicy::default().with_max_retries(3))
        .with_attempt_timeout(Duration::from_secs(30))
        .with_deadline(Duration::from_secs(120))
        .with_user_agent_suffix("siem-export/1.0")
        .build()?;
    let request: AuditLogRequest = client
        .issue_audit_log(Scope::account("023e105f4ecef8ad9ca31a8372d0c353"), "issue")
        .since(since)
        .before(before)
        .field_changed(FieldChanged::Status)
        .changed_by("system")
        .order(Order::Asc)
        .per_page(1000)
        .cursor("cursor")
        .with_max_items(10)
        .with_max_pages(2)
        .with_prefetch(true);
    let page: Page = request.send().await?;
    let _: &[AuditLogEntry] = page.entries();
    let _: Option<&str> = page.next_cursor();
    let _: Option<&SecurityCenterAuditLogResponseResultInfo> = page.result_info();
    let mut pages: Pages<Page> = request.clone().pages();
    let _: Option<Result<Page, Error>> = pages.next().await;
    let mut items: Items<AuditLogEntry> = client.audit_log(Scope::zone("zone")).items();
    let _: Option<Result<AuditLogEntry, Error>> = items.next().await;
    Ok(())
}

/// The generated layer: every operation, every parameter setter, and every response field with
/// its type.
async fn generated_shape(client: &Client, since: DateTime<Utc>, before: DateTime<Utc>) {
    let client: &raw::Client = client.raw();
    let field = FieldChanged::UserClassification;
    let issue: builder::GetSecurityCenterIssueAuditLog<'_> = client
        .get_security_center_issue_audit_log()
        .account_id("023e105f4ecef8ad9ca31a8372d0c353")
        .issue_id("issue")
        .per_page(NonZeroU64::MIN)
        .cursor("cursor")
        .changed_by("system")
        .field_changed(field.clone())
        .since(since)
        .before(before)
        .order(Order::Asc);
    let zone_issue: builder::GetZoneSecurityCenterIssueAuditLog<'_> = client
        .get_zone_security_center_issue_audit_log()
        .zone_id("023e105f4ecef8ad9ca31a8372d0c353")
        .issue_id("issue")
        .per_page(NonZeroU64::MIN)
        .cursor("cursor")
        .changed_by("system")
        .field_changed(field.clone())
        .since(since)
        .before(before)
        .order(Order::Desc);
    let account: builder::GetSecurityCenterAccountAuditLog<'_> = client
        .get_security_center_account_audit_log()
        .account_id("023e105f4ecef8ad9ca31a8372d0c353")
        .per_page(NonZeroU64::MIN)
        .cursor("cursor")
        .changed_by("system")
        .field_changed(field.clone())
        .since(since)
        .before(before)
        .order(Order::Asc);
    let zone: builder::GetZoneSecurityCenterAuditLog<'_> = client
        .get_zone_security_center_audit_log()
        .zone_id("023e105f4ecef8ad9ca31a8372d0c353")
        .per_page(NonZeroU64::MIN)
        .cursor("cursor")
        .changed_by("system")
        .field_changed(field)
        .since(since)
        .before(before)
        .order(Order::Desc);

    let _: Sent = issue.send().await;
    let _: Sent = zone_issue.send().await;
    let _: Sent = zone.send().await;
    match account.send().await {
        Ok(page) => {
            let page: SecurityCenterAuditLogResponse = page.into_inner();
            let _: bool = page.success;
            let _: SecurityCenterMessages = page.errors;
            let messages: Vec<SecurityCenterMessagesItem> = page.messages.0;
            for message in messages {
                let _: i64 = message.code;
                let _: String = message.message;
                let _: Option<String> = message.documentation_url;
            }
            let info: Option<SecurityCenterAuditLogResponseResultInfo> = page.result_info;
            if let Some(info) = info {
                let _: Option<String> = info.cursor;
                let _: Option<i64> = info.count;
                let _: Option<i64> = info.per_page;
            }
            let entries: Vec<SecurityCenterAuditLog> = page.result;
            for entry in entries {
                let _: Option<uuid::Uuid> = entry.id;
                let _: Option<DateTime<Utc>> = entry.changed_at;
                let _: Option<String> = entry.changed_by;
                let _: Option<String> = entry.current_value;
                let _: Option<String> = entry.previous_value;
                let _: Option<String> = entry.rationale;
                let _: Option<String> = entry.issue_id;
                let _: Option<i64> = entry.zone_id;
                let _: Option<FieldChanged> = entry.field_changed;
            }
        }
        Err(raw::Error::ErrorResponse(failure)) => {
            let failure: SecurityCenterApiResponseCommonFailure = failure.into_inner();
            let _: bool = failure.success;
            let _: SecurityCenterMessages = failure.errors;
        }
        Err(_) => {}
    }
}
