//! Hardening: the generator and the client neither panic, hang nor leak a secret, whatever
//! they are fed. Fuzz corpus replay, property tests, the security pass, size and depth limits,
//! and the catalogue of malformed or unsupported specs (see `docs/hardening.md`).

mod catalogue;
mod limits;
mod properties;
mod replay;
mod secrets;
mod security;
mod support;
