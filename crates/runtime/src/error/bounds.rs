//! Bounds of what one error carries, in bytes, whatever its constructor put in: an error
//! travels in the response's headers or trailers (`grpc-message`, `grpc-status-details-bin`),
//! which every HTTP/2 peer bounds (16 KiB here), and one that passes the bound fails the whole
//! connection that carries it, not just the call. So an error that quotes a caller's input
//! never grows with it.

use std::fmt;

/// `Status.message`.
pub const MESSAGE_BYTES: usize = 768;
/// `BadRequest.FieldViolation.field`.
pub const FIELD_BYTES: usize = 128;
/// `BadRequest.FieldViolation.description`.
pub const DESCRIPTION_BYTES: usize = 512;
/// All the field violations of one error together: those past it are counted, not listed.
pub const VIOLATIONS_BYTES: usize = 2048;
/// An `ErrorInfo.metadata` key.
pub const METADATA_KEY_BYTES: usize = 64;
/// An `ErrorInfo.metadata` value.
pub const METADATA_VALUE_BYTES: usize = 128;
/// `ErrorInfo.metadata` entries.
pub const METADATA_ENTRIES: usize = 8;

/// Longest piece of a caller's input that an error quotes back, in characters ([`quote`]).
pub const MAX_QUOTE_CHARS: usize = 64;

/// A caller's input as an error quotes it: in quotes (escaped as Rust's `{:?}` does), cut to
/// [`MAX_QUOTE_CHARS`] characters and followed by its length when longer, e.g.
/// `"aaaaaaaa…"… (17000 characters)`; displayed without allocating.
#[derive(Clone, Copy, Debug)]
pub struct Quoted<'a>(pub &'a str);

/// [`Quoted`] of `input`, for `format!("{} is not a field", quote(path))`.
pub fn quote(input: &str) -> Quoted<'_> {
    Quoted(input)
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.0;
        // Fewer bytes than the bound: fewer characters too, no counting.
        if input.len() <= MAX_QUOTE_CHARS {
            return write!(f, "{input:?}");
        }
        match input.char_indices().nth(MAX_QUOTE_CHARS) {
            Some((cut, _)) => write!(
                f,
                "{:?}… ({} characters)",
                &input[..cut],
                input.chars().count()
            ),
            None => write!(f, "{input:?}"),
        }
    }
}

/// `text` cut to at most `max_bytes` bytes (on a character boundary), with `… (N bytes)`
/// saying how long it was; unchanged (and not copied) when it fits.
pub fn bounded(text: String, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text;
    }
    let marker = format!("… ({} bytes)", text.len());
    let mut cut = max_bytes.saturating_sub(marker.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(cut + marker.len());
    out.push_str(&text[..cut]);
    out.push_str(&marker);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_cuts_on_a_character_and_says_the_length() {
        assert_eq!(bounded("short".into(), 10), "short");
        let cut = bounded("ễ".repeat(100), 40);
        assert!(cut.len() <= 40, "{cut}");
        assert!(cut.ends_with("… (300 bytes)"), "{cut}");
        assert_eq!(quote("abc").to_string(), "\"abc\"");
        assert_eq!(quote("a\"b").to_string(), "\"a\\\"b\"");
    }
}
