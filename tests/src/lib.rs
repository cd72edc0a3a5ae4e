//! Helpers shared by the workspace's test binaries and by the fuzz crate (`fuzz/`, which
//! depends on this library by path): the checks the fuzz targets run, and the sentinel output
//! file of failing generator runs. One copy each, where both the tests and the fuzz targets
//! reach it, instead of files included by path.

pub mod fuzz;
mod sentinel;

pub use sentinel::{SENTINEL, Sentinel};

/// The repository README's examples, compiled as doctests so that they cannot rot (outside the client crate, whose
/// package does not hold this file).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct RepositoryReadmeExamples;

/// The mock crate README's example, which uses the client too, so it compiles here, where both are dependencies.
#[cfg(doctest)]
#[doc = include_str!("../../mock-server/README.md")]
struct MockReadmeExamples;
