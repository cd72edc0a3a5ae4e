//! The HTTP side of the mock, one concern a file: `state` holds what every request shares (the served scopes and
//! their data, the cache of filtered selections, the journal, the script, faults and rate limiter); `routes` maps
//! a path to one of the six operations and checks credentials; `respond` turns a request into an answer (journal,
//! rate limit, script, faults, validation, page) and that into a hyper response; `connection` accepts connections
//! and drives each over HTTP/1, or over TLS on HTTP/2 or HTTP/1 as ALPN chose, one task per connection.

mod connection;
mod respond;
mod routes;
mod state;

pub(crate) use connection::serve;
pub(crate) use routes::PREFIX;
pub(crate) use state::State;
