//! The mock server's own tests: one binary, each test named as the claim it proves, all on 127.0.0.1.

mod cli;
mod data;
mod faults;
mod growth;
mod insights;
mod journal;
mod paging;
mod rate_limit;
mod scopes;
mod support;
mod tls;
mod validation;
