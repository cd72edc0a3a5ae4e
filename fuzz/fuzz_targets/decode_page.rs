//! Response bytes through the client's decode (see `hardening_fuzz::decode_page`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hardening_fuzz::decode_page(data));
