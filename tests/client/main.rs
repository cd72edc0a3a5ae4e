//! Behaviour of the client against the loopback mock server: what goes on the wire, how every
//! kind of failure surfaces, and that pagination yields exactly the served entries.

mod support;

mod auth;
mod errors;
mod insights;
mod insights_parity;
mod network;
mod pacing;
mod pagination;
mod rate_limit;
mod requests;
mod security;
mod tls;
