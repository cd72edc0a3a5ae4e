//! Tests of the `cargo xtask` command line, run as a maintainer and CI run it, on the built
//! `xtask` executable: `regenerate`'s generation child (crashes, runaway memory, its deadline),
//! its choice of overlay, and `spec-sync` with its benchmark.
//!
//! One test binary for the crate, so that the executable and the library are linked once.

mod generation;
mod regenerate_overlay;
mod spec_sync;
mod support;
