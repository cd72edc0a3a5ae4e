//! The public API of the generated client that downstream code relies on, pinned at compile
//! time: the function below is never run, but if a regeneration renames a builder method or a
//! setter, or changes a type of a response field, this test binary stops compiling.

#![allow(dead_code)]
// `field.clone()` keeps compiling if the field-changed type stops being `Copy`.
#![allow(clippy::clone_on_copy)]

use std::num::NonZeroU64;

use chrono::{DateTime, Utc};
use cloudflare_security_center::types::{
    SecurityCenterApiResponseCommonFailure, SecurityCenterAuditLog, SecurityCenterAuditLogOrder,
    SecurityCenterAuditLogResponse, SecurityCenterAuditLogResponseResultInfo,
    SecurityCenterMessages, SecurityCenterMessagesItem,
};
use cloudflare_security_center::{Client, Error, ResponseValue, builder};

type Sent = Result<
    ResponseValue<SecurityCenterAuditLogResponse>,
    Error<SecurityCenterApiResponseCommonFailure>,
>;

/// Names the type of a value, so a field's type is pinned without naming a type whose path
/// is still settling (the field-changed enum).
fn is_option<T>(_: &Option<T>) {}

/// Every operation, every parameter setter, and every response field with its type.
///
/// The `field_changed` filter takes the same type as the entry field of that name, whatever
/// its path; `seen` provides a value of it.
async fn api_shape(since: DateTime<Utc>, before: DateTime<Utc>, seen: SecurityCenterAuditLog) {
    let client: Client = Client::new("https://api.cloudflare.com/client/v4");
    let Some(field) = seen.field_changed else {
        return;
    };

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
        .order(SecurityCenterAuditLogOrder::Asc);
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
        .order(SecurityCenterAuditLogOrder::Desc);
    let account: builder::GetSecurityCenterAccountAuditLog<'_> = client
        .get_security_center_account_audit_log()
        .account_id("023e105f4ecef8ad9ca31a8372d0c353")
        .per_page(NonZeroU64::MIN)
        .cursor("cursor")
        .changed_by("system")
        .field_changed(field.clone())
        .since(since)
        .before(before)
        .order(SecurityCenterAuditLogOrder::Asc);
    let zone: builder::GetZoneSecurityCenterAuditLog<'_> = client
        .get_zone_security_center_audit_log()
        .zone_id("023e105f4ecef8ad9ca31a8372d0c353")
        .per_page(NonZeroU64::MIN)
        .cursor("cursor")
        .changed_by("system")
        .field_changed(field.clone())
        .since(since)
        .before(before)
        .order(SecurityCenterAuditLogOrder::Desc);

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
                is_option(&entry.field_changed);
            }
        }
        Err(Error::ErrorResponse(failure)) => {
            let failure: SecurityCenterApiResponseCommonFailure = failure.into_inner();
            let _: bool = failure.success;
            let _: SecurityCenterMessages = failure.errors;
        }
        Err(_) => {}
    }
}
