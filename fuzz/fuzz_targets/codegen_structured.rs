//! An `arbitrary`-built OpenAPI document, as JSON or YAML, through the generator.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: hardening_fuzz::hook::install(),
    |spec: hardening_fuzz::SpecModel| hardening_fuzz::codegen_structured(&spec)
);
