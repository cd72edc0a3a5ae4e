//! Tests of the generator: snapshots of small fixture specs, freshness and determinism of the
//! checked-in client, the error catalogue for bad inputs, the fixture client, and the public
//! API shape.
//!
//! One test binary for the whole area, so the generator is built and linked once.

mod api_shape;
mod bad_inputs;
mod doc_code;
mod fixture_client;
mod freshness;
mod problems;
mod snapshots;
mod support;
