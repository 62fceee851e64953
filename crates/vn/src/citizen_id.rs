//! The 12-digit personal identification number: `PPP G YY RRRRRR`.

use std::fmt;

use super::{FieldError, FieldErrorKind};

/// Sex as encoded in the ID number's century digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sex {
    /// Nam.
    Male,
    /// Nữ.
    Female,
}

impl Sex {
    /// The word printed on the card and in the QR code.
    pub fn vietnamese(self) -> &'static str {
        match self {
            Sex::Male => "Nam",
            Sex::Female => "Nữ",
        }
    }

    /// Parses the QR code's word for sex, in any case and Unicode normal form.
    pub fn from_vietnamese(word: &str) -> Option<Self> {
        let word: String = unicode_normalization::UnicodeNormalization::nfc(word.trim())
            .flat_map(char::to_lowercase)
            .collect();
        match word.as_str() {
            "nam" => Some(Sex::Male),
            "nữ" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// The highest province code (096 Cà Mau); higher prefixes are countries of birth registration.
pub const MAX_PROVINCE_CODE: u16 = 96;

/// A well-formed personal ID number (số định danh cá nhân).
///
/// `PPP` is the province (or country) of birth registration, `G` encodes century and sex,
/// `YY` the last two digits of the birth year and `RRRRRR` is a serial. Parsing checks the
/// shape and the century digit; whether the birth year lies in the future depends on the
/// reference date and is checked by [`CitizenId::parse_at`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId(u64);

impl CitizenId {
    /// The field name used in error messages unless the caller names another.
    pub const FIELD: &'static str = "citizen_id";

    /// Parses a 12-digit ID number, reporting errors against `field`.
    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldError> {
        let err =
            |description: String| FieldError::new(FieldErrorKind::CitizenId, field, description);
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(err(
                "is required: the 12-digit personal ID number".to_owned()
            ));
        }
        if let Some(bad) = trimmed.chars().find(|c| !c.is_ascii_digit()) {
            return Err(err(format!("must contain only digits, found {bad:?}")));
        }
        if trimmed.len() != 12 {
            let hint = if trimmed.len() == 9 {
                " (a 9-digit number is an old CMND number, not a personal ID number)"
            } else {
                ""
            };
            return Err(err(format!(
                "must be 12 digits, got {}{hint}",
                trimmed.len()
            )));
        }
        let value: u64 = trimmed
            .parse()
            .map_err(|_| err("must be 12 digits".to_owned()))?;
        let id = CitizenId(value);
        if id.century_digit() > 5 {
            return Err(err(format!(
                "digit 4 encodes century and sex and must be 0–5 (0/1: born 1900s, 2/3: 2000s, 4/5: 2100s), got {}",
                id.century_digit()
            )));
        }
        if id.province_code() == 0 {
            return Err(err(
                "must start with a province code from 001, got 000".to_owned()
            ));
        }
        // Codes up to 096 are the provinces' GSO codes, with gaps no province ever had; codes
        // above stand for countries of birth registration abroad, whose list is not published
        // with the numbers, so they are accepted.
        let code = id.province_code();
        if code <= MAX_PROVINCE_CODE && crate::admin::ADMIN_UNITS.province(code).is_none() {
            return Err(err(format!(
                "starts with {code:03}, which is no province's code (001–096, with gaps)"
            )));
        }
        Ok(id)
    }

    /// Parses a 12-digit ID number and checks that its birth year is not after `reference_year`.
    pub fn parse_at(input: &str, field: &str, reference_year: i32) -> Result<Self, FieldError> {
        let id = Self::parse_field(input, field)?;
        if id.birth_year() > reference_year {
            return Err(FieldError::new(
                FieldErrorKind::CitizenId,
                field,
                format!(
                    "encodes birth year {} (digits 4–6), which is after the current year {reference_year}",
                    id.birth_year()
                ),
            ));
        }
        Ok(id)
    }

    /// Builds an ID from its parts. `province` < 1000, `serial` < 1,000,000, `birth_year` 1900–2199.
    pub fn from_parts(province: u16, sex: Sex, birth_year: i32, serial: u32) -> Self {
        let century = (birth_year - 1900).div_euclid(100).clamp(0, 2) as u64;
        let g = century * 2 + u64::from(sex == Sex::Female);
        let yy = birth_year.rem_euclid(100) as u64;
        CitizenId(
            u64::from(province) * 1_000_000_000
                + g * 100_000_000
                + yy * 1_000_000
                + u64::from(serial % 1_000_000),
        )
    }

    /// The numeric value.
    pub fn value(self) -> u64 {
        self.0
    }

    /// Province (or country) code of birth registration, `PPP`.
    pub fn province_code(self) -> u16 {
        (self.0 / 1_000_000_000) as u16
    }

    fn century_digit(self) -> u8 {
        ((self.0 / 100_000_000) % 10) as u8
    }

    /// Sex encoded by the century digit (even: male).
    pub fn sex(self) -> Sex {
        if self.century_digit().is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Birth year: 1900 + 100·⌊G/2⌋ + YY.
    pub fn birth_year(self) -> i32 {
        let yy = ((self.0 / 1_000_000) % 100) as i32;
        1900 + 100 * i32::from(self.century_digit() / 2) + yy
    }

    /// The six serial digits.
    pub fn serial(self) -> u32 {
        (self.0 % 1_000_000) as u32
    }

    /// The card access number (CAN) used by PACE: the last 6 digits.
    pub fn card_access_number(self) -> String {
        format!("{:06}", self.serial())
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012}", self.0)
    }
}

impl fmt::Debug for CitizenId {
    // Debug output ends up in logs: keep it masked like every personal identifier.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.to_string();
        write!(f, "CitizenId({}*******{})", &s[..3], &s[10..])
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let id = CitizenId::parse_field("058090001234", "citizen_id").unwrap();
        assert_eq!(id.province_code(), 58);
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_year(), 1990);
        assert_eq!(id.serial(), 1234);
        assert_eq!(id.to_string(), "058090001234");
        assert_eq!(id.card_access_number(), "001234");
    }

    #[test]
    fn refuses_malformed_numbers_with_the_field_and_a_fix() {
        let e = CitizenId::parse_field("05809000123", "citizen_id").unwrap_err();
        assert_eq!(e.field, "citizen_id");
        assert!(
            e.description.contains("12 digits, got 11"),
            "{}",
            e.description
        );
        let e = CitizenId::parse_field("05809000123A", "id").unwrap_err();
        assert_eq!(e.field, "id");
        assert!(e.description.contains("only digits"));
        let e = CitizenId::parse_field("058690001234", "citizen_id").unwrap_err();
        assert!(e.description.contains("century"), "{}", e.description);
        let e = CitizenId::parse_field("", "citizen_id").unwrap_err();
        assert!(e.description.contains("required"));
        let e = CitizenId::parse_at("001299001234", "citizen_id", 2026).unwrap_err();
        assert!(
            e.description.contains("after the current year"),
            "{}",
            e.description
        );
        assert!(
            CitizenId::parse_field("264123456", "citizen_id")
                .unwrap_err()
                .description
                .contains("CMND")
        );
    }

    proptest! {
        #[test]
        fn every_built_id_parses_back(province in 1u16..1000, female: bool, year in 1900i32..2200, serial in 0u32..1_000_000) {
            let is_province = crate::admin::ADMIN_UNITS.province(province).is_some();
            prop_assume!(province > MAX_PROVINCE_CODE || is_province);
            let sex = if female { Sex::Female } else { Sex::Male };
            let id = CitizenId::from_parts(province, sex, year, serial);
            let parsed = CitizenId::parse_field(&id.to_string(), "citizen_id").unwrap();
            prop_assert_eq!(parsed, id);
            prop_assert_eq!(parsed.province_code(), province);
            prop_assert_eq!(parsed.sex(), sex);
            prop_assert_eq!(parsed.birth_year(), year);
            prop_assert_eq!(parsed.serial(), serial);
        }

        #[test]
        fn prefixes_no_province_has_are_refused(province in 1u16..=MAX_PROVINCE_CODE, serial in 0u32..1_000_000) {
            prop_assume!(crate::admin::ADMIN_UNITS.province(province).is_none());
            let id = CitizenId::from_parts(province, Sex::Male, 1990, serial);
            let e = CitizenId::parse_field(&id.to_string(), "citizen_id").unwrap_err();
            prop_assert!(e.description.contains("no province"), "{}", e.description);
            prop_assert_eq!(e.kind, FieldErrorKind::CitizenId);
        }

        #[test]
        fn wrong_lengths_are_refused(digits in "[0-9]{0,30}") {
            prop_assume!(digits.len() != 12);
            let e = CitizenId::parse_field(&digits, "citizen_id").unwrap_err();
            prop_assert_eq!(e.field, "citizen_id");
        }

        #[test]
        fn non_digits_are_refused(s in "[0-9]{0,11}[^0-9 ][0-9]{0,11}") {
            prop_assert!(CitizenId::parse_field(&s, "citizen_id").is_err());
        }

        #[test]
        fn century_digits_above_five_are_refused(p in 1u16..1000, g in 6u8..10, rest in 0u64..100_000_000) {
            let s = format!("{p:03}{g}{rest:08}");
            let e = CitizenId::parse_field(&s, "citizen_id").unwrap_err();
            prop_assert!(e.description.contains("century"));
        }
    }
}
