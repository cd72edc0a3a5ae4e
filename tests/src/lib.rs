//! Helpers shared by the workspace's test binaries and by the fuzz crate (`fuzz/`, which
//! depends on this library by path): the checks the fuzz targets run, and the sentinel output
//! file of failing generator runs. One copy each, where both the tests and the fuzz targets
//! reach it, instead of files included by path.

pub mod fuzz;
mod sentinel;

pub use sentinel::{SENTINEL, Sentinel};
