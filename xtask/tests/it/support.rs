//! What the command-line tests share.

/// What an output file holds before a run that must fail; the test checks it is still there.
pub(crate) const SENTINEL: &str = "// sentinel: a failed run must leave this file as it is\n";
