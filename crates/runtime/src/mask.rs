//! Masking of personal data before it reaches logs and spans (Decree 13/2023).

use std::fmt;

/// Masks a 12-digit personal ID number, keeping the 3-digit province prefix and the last 2
/// digits: `058090001234` → `058*******34`; anything else becomes `***`.
pub fn citizen_id(id: &str) -> String {
    Masked(id).to_string()
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
}
