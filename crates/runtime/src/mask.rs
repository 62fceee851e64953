//! Masking of personal data before it reaches logs and spans (Decree 13/2023).

use std::fmt;

/// Masks a 12-digit personal ID number, keeping the 3-digit province prefix and the last 2
/// digits: `058090001234` → `058*******34`; anything else becomes `***`.
pub fn citizen_id(id: &str) -> String {
    Masked(id).to_string()
}

/// Longest request path echoed back (in errors and logs), in characters.
pub const MAX_PATH_CHARS: usize = 128;

/// A request path as it may be echoed in errors, logs and spans: its digits masked as
/// [`digits`] does, and the whole cut to [`MAX_PATH_CHARS`] characters.
pub fn path(path: &str) -> String {
    let mut out = digits(path);
    match out.char_indices().nth(MAX_PATH_CHARS) {
        Some((cut, _)) => {
            out.truncate(cut);
            out.push('…');
            out
        }
        None => out,
    }
}

/// `text` with every run of 9 or more digits (an old 9-digit CMND, a 12-digit ID number)
/// keeping only its first 3 and last 2 digits.
pub fn digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 9 {
            out.push_str(&digits[..3]);
            out.extend(std::iter::repeat_n('*', digits.len() - 5));
            out.push_str(&digits[digits.len() - 2..]);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// Reduces a full name to its initials: `Nguyễn Văn An` → `N. V. A.`.
pub fn name(full_name: &str) -> String {
    let initials: Vec<String> = full_name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .map(|initial| format!("{}.", initial.to_uppercase()))
        .collect();
    if initials.is_empty() {
        return "***".to_owned();
    }
    initials.join(" ")
}

/// Displays a personal ID number masked, without allocating at the call site:
/// `tracing::info!(citizen_id = %Masked(id), "verified")`.
#[derive(Clone, Copy, Debug)]
pub struct Masked<'a>(pub &'a str);

impl fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.0;
        if id.len() == 12 && id.is_ascii() {
            write!(f, "{}*******{}", &id[..3], &id[10..])
        } else {
            f.write_str("***")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn citizen_id_keeps_prefix_and_last_two() {
        assert_eq!(citizen_id("058090001234"), "058*******34");
        assert_eq!(citizen_id("05809000123"), "***");
        assert_eq!(citizen_id(""), "***");
        assert_eq!(citizen_id("0580900012345"), "***");
        // 12 bytes but not 12 characters: never slice inside a character.
        assert_eq!(citizen_id("ễ123456789"), "***");
    }

    #[test]
    fn name_becomes_initials() {
        assert_eq!(name("Nguyễn Văn An"), "N. V. A.");
        assert_eq!(name("  Đặng   thị  Ánh "), "Đ. T. Á.");
        assert_eq!(name(""), "***");
    }

    #[test]
    fn masked_displays_like_citizen_id() {
        assert_eq!(Masked("058090001234").to_string(), "058*******34");
        assert_eq!(Masked("abc").to_string(), "***");
    }

    #[test]
    fn paths_keep_no_number_and_no_excess() {
        assert_eq!(
            path("/v1/citizens/058090001234"),
            "/v1/citizens/058*******34"
        );
        assert_eq!(path("/cmnd/264123456:x"), "/cmnd/264****56:x");
        assert_eq!(path("/page/12345678"), "/page/12345678");
        let long = format!("/{}", "a".repeat(500));
        assert_eq!(path(&long).chars().count(), MAX_PATH_CHARS + 1);
    }
}
