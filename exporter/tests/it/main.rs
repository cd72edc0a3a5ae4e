//! End-to-end tests of `insight-audit-log` against the mock server: the real binary, run with a cleared
//! environment, its output parsed back and compared with what the server says it served.

mod credentials;
mod enrichment;
mod faults;
mod formats;
mod generate;
mod json_logs;
mod metrics;
mod network;
mod paging;
mod readiness;
mod running;
mod safety;
#[cfg(unix)]
mod sd_notify;
mod siem;
mod standards;
mod support;
mod tls;
mod usage;
