//! Arbitrary text, and mutations of the valid specs in the seed corpus, through the generator.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hardening_fuzz::hook::install(),
    |data: &[u8]| hardening_fuzz::codegen_text(data)
);
