//! Vietnamese identity formats, parsed once into types that cannot hold invalid values: the
//! personal ID number, dates as cards write them, names, the card QR payload, and the
//! administrative units of both eras with their data.
//!
//! Pure: no runtime, no gRPC, no store, no generator.

pub mod admin;
mod citizen_id;
mod cmnd;
mod date;
mod names;
mod qr;

pub use citizen_id::{CitizenId, Sex};
pub use cmnd::{CMND_PREFIXES, cmnd_number, cmnd_prefix};
pub use date::{CivilDate, checked_date, format_ddmmyyyy, parse_ddmmyyyy, today_in_vietnam};
pub use names::{NameComparison, compare_names, fold_diacritics, normalize_name};
pub use qr::{CardQr, QrForm};

/// Longest piece of a caller's input that an error message quotes back, in characters.
pub const MAX_ECHO_CHARS: usize = 64;

/// A caller's input as an error message quotes it: in quotes, cut to [`MAX_ECHO_CHARS`]
/// characters, so a 2 KB field cannot make the error itself too large.
pub fn echo(input: &str) -> String {
    match input.char_indices().nth(MAX_ECHO_CHARS) {
        Some((cut, _)) => format!(
            "{:?}… ({} characters)",
            &input[..cut],
            input.chars().count()
        ),
        None => format!("{input:?}"),
    }
}

/// Characters refused in names and addresses: NUL and other control characters, and the
/// bidirectional overrides and isolates that can make text display other than it reads.
pub fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|c| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    })
}

/// Checks a key-like field (an id, a code, a transaction id): 1 to `max` printable ASCII
/// characters without spaces. An empty value is refused as "required" when `required`, and
/// taken as absent otherwise.
pub fn printable_token(
    value: &str,
    field: &str,
    max: usize,
    required: bool,
) -> Result<(), FieldError> {
    if value.is_empty() {
        return if required {
            Err(FieldError::new(FieldErrorKind::Other, field, "required"))
        } else {
            Ok(())
        };
    }
    if value.len() > max || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(
            FieldErrorKind::Other,
            field,
            format!("1 to {max} printable ASCII characters without spaces"),
        ));
    }
    Ok(())
}

/// A malformed input field: which field, and what the caller should fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {description}")]
pub struct FieldError {
    /// The field as the caller named it, e.g. "citizen_id".
    pub field: String,
    /// What is wrong and how to fix it.
    pub description: String,
    /// What kind of field failed.
    pub kind: FieldErrorKind,
}

/// Which family of rules a field broke; the service maps it to a stable error reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// A personal ID number.
    CitizenId,
    /// A date.
    Date,
    /// A card QR payload.
    QrPayload,
    /// Anything else.
    Other,
}

impl FieldError {
    /// A new field error.
    pub fn new(
        kind: FieldErrorKind,
        field: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_are_bounded_and_quoted() {
        assert_eq!(echo("abc"), "\"abc\"");
        let long = "x".repeat(2_000);
        let echoed = echo(&long);
        assert!(echoed.chars().count() < MAX_ECHO_CHARS + 30, "{echoed}");
        assert!(echoed.ends_with("(2000 characters)"));
    }

    #[test]
    fn control_and_bidi_characters_are_found() {
        assert_eq!(forbidden_char("Nguyễn Văn An"), None);
        assert_eq!(forbidden_char("An\0"), Some('\0'));
        assert_eq!(forbidden_char("An\u{202e}"), Some('\u{202e}'));
        assert_eq!(forbidden_char("Số 12\nHàng Bạc"), Some('\n'));
    }
}
