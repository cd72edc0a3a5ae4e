//! Tests of `cargo xtask spec-sync`: the extraction's closure is exact and deterministic, each
//! bad input fails with its message and writes nothing, `--check` tells a fresh spec from a
//! stale one, the real revision syncs as a no-op, and operations cut from a trimmed copy of
//! upstream's real document generate.
//!
//! One test binary for the area, so that the generator is linked once.

mod command;
mod extract;
mod real_revision;
mod support;
mod upstream;
