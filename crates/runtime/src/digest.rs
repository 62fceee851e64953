//! Stable digests and their text: FNV-1a, for values drawn from keys that must be the same
//! across versions, platforms and processes (never for security: HMAC and SHA-256 are for
//! that), and lowercase hex.
//!
//! ```
//! use sandbox06_runtime::digest::{fnv1a, fnv1a_words, hex};
//!
//! assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
//! assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c);
//! // Each word is followed by 0xff, so ["ab", "c"] and ["a", "bc"] differ.
//! assert_ne!(fnv1a_words(&[b"ab", b"c"]), fnv1a_words(&[b"a", b"bc"]));
//! assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
//! ```

/// FNV-1a (64 bits) of `bytes`.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// FNV-1a of words, each followed by the byte 0xff (which no UTF-8 text contains), so that
/// words that join to the same bytes still differ.
pub fn fnv1a_words(words: &[&[u8]]) -> u64 {
    fnv1a(
        words
            .iter()
            .flat_map(|word| word.iter().copied().chain([0xff])),
    )
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}
