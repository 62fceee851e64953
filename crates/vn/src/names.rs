//! Vietnamese name comparison: Unicode normal forms, case, and diacritics.
//!
//! Records store names in NFC. Claims arrive in NFC or NFD, in any case, sometimes typed
//! without diacritics (or in the MRZ form `HO<<DEM<TEN`). Equal after NFC normalisation,
//! case folding and whitespace collapsing is a match; equal only once diacritics are removed
//! ("Nguyen Van An" for "Nguyễn Văn Ân") is reported separately, never as a match, because
//! "An" and "Ân" are different names.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// How two names compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameComparison {
    /// Equal after normalisation and case folding.
    Equal,
    /// Equal only when diacritics are ignored.
    EqualIgnoringDiacritics,
    /// Different.
    Different,
}

/// NFC, lowercase, single spaces, MRZ fillers `<` read as spaces.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .nfc()
        .collect::<String>()
        .replace('<', " ")
        .split_whitespace()
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// Removes diacritics (tone and vowel marks, and đ → d) from a normalised name.
pub fn fold_diacritics(normalized: &str) -> String {
    normalized
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .collect()
}

/// Compares a claimed name with the recorded one.
pub fn compare_names(claimed: &str, recorded: &str) -> NameComparison {
    let (a, b) = (normalize_name(claimed), normalize_name(recorded));
    if a == b {
        NameComparison::Equal
    } else if fold_diacritics(&a) == fold_diacritics(&b) {
        NameComparison::EqualIgnoringDiacritics
    } else {
        NameComparison::Different
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms_and_case_do_not_matter() {
        let nfd: String = "Nguyễn Văn Ân".nfd().collect();
        assert_ne!(nfd, "Nguyễn Văn Ân");
        assert_eq!(compare_names(&nfd, "Nguyễn Văn Ân"), NameComparison::Equal);
        assert_eq!(
            compare_names("NGUYỄN  VĂN ÂN", "Nguyễn Văn Ân"),
            NameComparison::Equal
        );
    }

    #[test]
    fn missing_diacritics_are_not_a_match() {
        assert_eq!(
            compare_names("Nguyen Van An", "Nguyễn Văn Ân"),
            NameComparison::EqualIgnoringDiacritics
        );
        assert_eq!(
            compare_names("Nguyễn Văn An", "Nguyễn Văn Ân"),
            NameComparison::EqualIgnoringDiacritics
        );
        assert_eq!(
            compare_names("NGUYEN<<VAN<AN", "Nguyễn Văn Ân"),
            NameComparison::EqualIgnoringDiacritics
        );
        assert_eq!(
            compare_names("Dang Thi Ha", "Đặng Thị Hà"),
            NameComparison::EqualIgnoringDiacritics
        );
        assert_eq!(
            compare_names("Nguyễn Văn Bình", "Nguyễn Văn Ân"),
            NameComparison::Different
        );
    }
}
