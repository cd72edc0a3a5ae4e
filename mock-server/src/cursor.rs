//! Opaque pagination cursors: a position in one walk, bound to that walk's filters and sealed with a check value,
//! so a tampered cursor, or one replayed with different filters, is a 400 and never a wrong page.
//!
//! The position is the key of the last entry served (its place in the total order by `changed_at` and `id`), not
//! a count: entries added to the log later, at its end or (late ones) inside it, never shift a walk, which goes on
//! strictly past that key. Layout before encoding: version (1 byte), walk fingerprint (8), key (16), check (8);
//! encoded with standard base64 *with* `+`, `/` and `=`, so a client that forgets to percent-encode the cursor is
//! caught.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::envelope::ApiError;

const VERSION: u8 = 2;
const LEN: usize = 33;

/// FNV-1a, 64-bit: stable across Rust versions (unlike `DefaultHasher`), which keeps cursors reproducible.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(u64);

impl Fnv {
    pub(crate) fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(mut self, data: &[u8]) -> Self {
        for b in data {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// Hashes a length-prefixed field, so field boundaries cannot be shifted.
    pub(crate) fn field(self, data: &[u8]) -> Self {
        self.bytes(&(data.len() as u64).to_le_bytes()).bytes(data)
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// Encodes and checks cursors with a per-server secret derived from the seed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CursorCodec {
    secret: u64,
}

impl CursorCodec {
    pub(crate) fn new(seed: u64) -> Self {
        CursorCodec {
            secret: Fnv::new()
                .bytes(b"mock-server cursor")
                .bytes(&seed.to_le_bytes())
                .finish(),
        }
    }

    fn check(&self, head: &[u8]) -> u64 {
        Fnv::new()
            .bytes(&self.secret.to_le_bytes())
            .bytes(head)
            .finish()
    }

    /// A cursor that goes on past the entry with this key in the walk identified by `fingerprint`.
    pub(crate) fn encode(&self, fingerprint: u64, key: u128) -> String {
        let mut raw = [0u8; LEN];
        raw[0] = VERSION;
        raw[1..9].copy_from_slice(&fingerprint.to_le_bytes());
        raw[9..25].copy_from_slice(&key.to_le_bytes());
        let check = self.check(&raw[..25]);
        raw[25..].copy_from_slice(&check.to_le_bytes());
        STANDARD.encode(raw)
    }

    /// The key a cursor goes on past, if it is intact and belongs to the walk `fingerprint`.
    pub(crate) fn decode(&self, cursor: &str, fingerprint: u64) -> Result<u128, ApiError> {
        let malformed = || ApiError::invalid(format!("cursor is malformed: {cursor:?}"));
        let raw = STANDARD.decode(cursor).map_err(|_| malformed())?;
        if raw.len() != LEN || raw[0] != VERSION {
            return Err(malformed());
        }
        let word = |range: std::ops::Range<usize>| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw[range]);
            u64::from_le_bytes(b)
        };
        if word(25..33) != self.check(&raw[..25]) {
            return Err(malformed());
        }
        if word(1..9) != fingerprint {
            return Err(ApiError::invalid(
                "cursor does not belong to this query: filters and order must stay the same across pages",
            ));
        }
        let mut key = [0u8; 16];
        key.copy_from_slice(&raw[9..25]);
        Ok(u128::from_le_bytes(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cursor round-trips; flipping any bit, truncating it, or replaying it on another walk is rejected.
    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let codec = CursorCodec::new(42);
        let key = 0x0190_cafe_7abc_8def_0123_4567_89ab_cdefu128;
        let c = codec.encode(7, key);
        assert_eq!(codec.decode(&c, 7), Ok(key));
        assert!(codec.decode(&c, 8).is_err());
        assert!(codec.decode(&c[..c.len() - 4], 7).is_err());
        assert!(codec.decode("", 7).is_err());
        assert!(codec.decode("not base64!", 7).is_err());
        let raw = STANDARD.decode(&c).unwrap();
        for index in 0..raw.len() {
            let mut t = raw.clone();
            t[index] ^= 0x10;
            assert!(
                codec.decode(&STANDARD.encode(&t), 7).is_err(),
                "byte {index}"
            );
        }
        assert!(
            CursorCodec::new(43).decode(&c, 7).is_err(),
            "another server's cursor"
        );
    }
}
