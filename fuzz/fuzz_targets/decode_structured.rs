//! An `arbitrary`-built response page, as JSON, through the client's decode.
#![no_main]

libfuzzer_sys::fuzz_target!(|page: hardening_fuzz::PageModel| {
    hardening_fuzz::decode_structured(&page)
});
