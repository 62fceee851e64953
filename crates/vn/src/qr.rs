//! The QR code on the back of CCCD and Căn cước cards:
//! `ID|old CMND|full name|ddMMyyyy|Nam/Nữ|address|issue ddMMyyyy`, seven fields on a chip CCCD,
//! the same seven followed by four empty ones on a Căn cước.

use unicode_normalization::UnicodeNormalization;

use super::{
    CitizenId, CivilDate, FieldError, FieldErrorKind, Sex, format_ddmmyyyy, parse_ddmmyyyy,
};

/// Upper bound of a payload: real ones are under 300 bytes.
pub const MAX_PAYLOAD_BYTES: usize = 2048;

/// The two forms of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrForm {
    /// Chip CCCD (2021 – 30 June 2024): exactly the seven fields.
    ChipCccd7,
    /// Căn cước (from 1 July 2024): the seven fields followed by four empty ones.
    CanCuoc11,
}

impl QrForm {
    /// How many `|`-separated fields the form has.
    pub const fn field_count(self) -> usize {
        match self {
            QrForm::ChipCccd7 => 7,
            QrForm::CanCuoc11 => 11,
        }
    }
}

/// The parsed content of a card's QR code.
#[derive(Clone, PartialEq, Eq)]
pub struct CardQr {
    /// Personal ID number.
    pub citizen_id: CitizenId,
    /// Old 9-digit CMND number, when printed.
    pub old_id_number: Option<String>,
    /// Full name, NFC.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: CivilDate,
    /// Sex.
    pub sex: Sex,
    /// Permanent address as printed.
    pub address: String,
    /// Issue date of the card.
    pub issue_date: CivilDate,
    /// The form the payload was written in.
    pub form: QrForm,
}

/// A field's words joined by single spaces (a field is already trimmed).
fn single_spaced(field: &str) -> String {
    field
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn qr_error(field: &str, description: String) -> FieldError {
    FieldError::new(
        FieldErrorKind::QrPayload,
        format!("payload.{field}"),
        description,
    )
}

impl std::fmt::Debug for CardQr {
    // Debug output ends up in logs: only the masked number, never name, birth date or address.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardQr")
            .field("citizen_id", &self.citizen_id)
            .finish_non_exhaustive()
    }
}

impl CardQr {
    /// Parses a scanned payload; `reference_year` bounds the ID number's birth year.
    pub fn parse(payload: &str, reference_year: i32) -> Result<Self, FieldError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(FieldError::new(
                FieldErrorKind::QrPayload,
                "payload",
                format!(
                    "is {} bytes; a card QR code holds at most {MAX_PAYLOAD_BYTES}",
                    payload.len()
                ),
            ));
        }
        // One rule for every field of both forms: whitespace around a field is not part of it
        // (a scanner's trailing CR or LF, a space before a '|'), so a field of whitespace
        // only is empty. Inside the name and the address, runs of spaces read as one.
        let fields: Vec<&str> = payload.split('|').map(str::trim).collect();
        let form = match fields.len() {
            7 => QrForm::ChipCccd7,
            11 => QrForm::CanCuoc11,
            n => {
                return Err(FieldError::new(
                    FieldErrorKind::QrPayload,
                    "payload",
                    format!(
                        "must have 7 fields separated by '|' (ID|old CMND|name|ddMMyyyy|Nam/Nữ|address|issue ddMMyyyy), or 11 with four empty ones after them (a Căn cước), got {n}"
                    ),
                ));
            }
        };
        if let Some((i, extra)) = fields
            .iter()
            .enumerate()
            .skip(7)
            .find(|(_, f)| !f.is_empty())
        {
            return Err(qr_error(
                &format!("field_{}", i + 1),
                format!(
                    "must be empty: a Căn cước QR code ends with four empty fields, got {}",
                    crate::echo(extra)
                ),
            ));
        }
        let citizen_id = CitizenId::parse_at(fields[0], "payload.citizen_id", reference_year)
            .map_err(|e| FieldError {
                kind: FieldErrorKind::QrPayload,
                ..e
            })?;
        let old = fields[1].trim();
        let old_id_number = if old.is_empty() {
            None
        } else if old.len() == 9 && old.bytes().all(|b| b.is_ascii_digit()) {
            Some(old.to_owned())
        } else if old == citizen_id.to_string() {
            // A 12-digit CMND (2014–2020) carried the ID number itself: no other old number.
            None
        } else {
            return Err(qr_error(
                "old_id_number",
                format!(
                    "must be empty, 9 digits, or the ID number (a 12-digit CMND), got {}",
                    crate::echo(old)
                ),
            ));
        };
        let full_name: String = single_spaced(fields[2]).nfc().collect();
        if full_name.is_empty() {
            return Err(qr_error("full_name", "must not be empty".to_owned()));
        }
        for (field, text) in [("full_name", fields[2]), ("address", fields[5])] {
            if let Some(c) = crate::forbidden_char(text) {
                return Err(qr_error(
                    field,
                    format!(
                        "must not contain control or bidirectional-override characters, found U+{:04X}",
                        u32::from(c)
                    ),
                ));
            }
        }
        let date_of_birth =
            parse_ddmmyyyy(fields[3], "payload.date_of_birth").map_err(|e| FieldError {
                kind: FieldErrorKind::QrPayload,
                ..e
            })?;
        if date_of_birth.year() != citizen_id.birth_year() {
            return Err(qr_error(
                "date_of_birth",
                format!(
                    "year {} disagrees with the ID number, which encodes birth year {}",
                    date_of_birth.year(),
                    citizen_id.birth_year()
                ),
            ));
        }
        let sex = Sex::from_vietnamese(fields[4]).ok_or_else(|| {
            qr_error(
                "sex",
                format!("must be \"Nam\" or \"Nữ\", got {}", crate::echo(fields[4])),
            )
        })?;
        if sex != citizen_id.sex() {
            return Err(qr_error(
                "sex",
                format!(
                    "{:?} disagrees with the ID number, whose 4th digit encodes {:?}",
                    fields[4],
                    citizen_id.sex().vietnamese()
                ),
            ));
        }
        let address: String = single_spaced(fields[5]).nfc().collect();
        let issue_date =
            parse_ddmmyyyy(fields[6], "payload.issue_date").map_err(|e| FieldError {
                kind: FieldErrorKind::QrPayload,
                ..e
            })?;
        if issue_date < date_of_birth {
            return Err(qr_error(
                "issue_date",
                "is before the date of birth".to_owned(),
            ));
        }
        Ok(CardQr {
            citizen_id,
            old_id_number,
            full_name,
            date_of_birth,
            sex,
            address,
            issue_date,
            form,
        })
    }

    /// The payload exactly as the card prints it, in the card's own form.
    pub fn to_payload(&self) -> String {
        let trailer = match self.form {
            QrForm::ChipCccd7 => "",
            QrForm::CanCuoc11 => "||||",
        };
        format!(
            "{}|{}|{}|{}|{}|{}|{}{trailer}",
            self.citizen_id,
            self.old_id_number.as_deref().unwrap_or(""),
            self.full_name,
            format_ddmmyyyy(self.date_of_birth),
            self.sex.vietnamese(),
            self.address,
            format_ddmmyyyy(self.issue_date)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "058090001234|264123456|Nguyễn Văn An|01011990|Nam|Thôn 1, Phước Hậu, Ninh Phước, Ninh Thuận|15042021";

    #[test]
    fn parses_and_prints_the_documented_example() {
        let qr = CardQr::parse(EXAMPLE, 2026).unwrap();
        assert_eq!(qr.citizen_id.to_string(), "058090001234");
        assert_eq!(qr.old_id_number.as_deref(), Some("264123456"));
        assert_eq!(qr.sex, Sex::Male);
        assert_eq!(qr.to_payload(), EXAMPLE);
    }

    #[test]
    fn field_2_is_empty_nine_digits_or_the_id_number_itself() {
        let twelve = EXAMPLE.replacen("|264123456|", "|058090001234|", 1);
        let qr = CardQr::parse(&twelve, 2026).unwrap();
        assert_eq!(qr.old_id_number, None);
        for bad in [
            "|26412345|",
            "|001090001234|",
            "|2641234567|",
            "|26412345x|",
        ] {
            let payload = EXAMPLE.replacen("|264123456|", bad, 1);
            let e = CardQr::parse(&payload, 2026).unwrap_err();
            assert!(e.to_string().contains("old_id_number"), "{bad}: {e}");
        }
    }

    // A Căn cước issued 1 August 2024, as real cards print it (docs/domain.md, section 3).
    const CAN_CUOC: &str = "026099003333||Lương Đình Nam|30121999|Nam|Thôn Dẫn Tự, Tân Phú, Vĩnh Tường, Vĩnh Phúc|01082024||||";

    #[test]
    fn both_forms_parse_and_print_as_they_were_read() {
        let qr = CardQr::parse(CAN_CUOC, 2026).unwrap();
        assert_eq!(qr.form, QrForm::CanCuoc11);
        assert_eq!(qr.old_id_number, None);
        assert_eq!(qr.issue_date.year(), 2024);
        assert_eq!(qr.to_payload(), CAN_CUOC);
        let chip = "024088010438|121647952|Nguyễn Tiến Đạt|29031988|Nam|Tân Lập, Lam Cốt, Tân Yên, Bắc Giang|22062022";
        let qr = CardQr::parse(chip, 2026).unwrap();
        assert_eq!(qr.form, QrForm::ChipCccd7);
        assert_eq!(qr.to_payload(), chip);
        assert_eq!(qr.to_payload().split('|').count(), 7);
        // A scanner's trailing CR, LF or both.
        for end in ["\r", "\n", "\r\n"] {
            assert_eq!(
                CardQr::parse(&format!("{CAN_CUOC}{end}"), 2026)
                    .unwrap()
                    .form,
                QrForm::CanCuoc11
            );
            assert_eq!(
                CardQr::parse(&format!("{chip}{end}"), 2026).unwrap().form,
                QrForm::ChipCccd7
            );
        }
    }

    #[test]
    fn whitespace_around_fields_is_ignored_alike_in_both_forms() {
        let chip = "024088010438|121647952|Nguyễn Tiến Đạt|29031988|Nam|Tân Lập, Lam Cốt, Tân Yên, Bắc Giang|22062022";
        for clean in [chip, CAN_CUOC] {
            let expected = CardQr::parse(clean, 2026).unwrap();
            let fields: Vec<&str> = clean.split('|').collect();
            // Whitespace at the end of the payload, whatever its last field: the issue date of
            // a chip CCCD or the last empty field of a Căn cước.
            for end in ["\r", "\n", "\r\n", " ", "\t", " \r\n", "\u{a0}"] {
                let qr = CardQr::parse(&format!("{clean}{end}"), 2026)
                    .unwrap_or_else(|e| panic!("{end:?} after {clean}: {e}"));
                assert_eq!(qr, expected, "{end:?}");
                assert_eq!(qr.to_payload(), clean);
            }
            // Around any field, the trailing empty ones included.
            for i in 0..fields.len() {
                let mut padded = fields.clone();
                let field = format!(" \t{} ", fields[i]);
                padded[i] = &field;
                let qr = CardQr::parse(&padded.join("|"), 2026)
                    .unwrap_or_else(|e| panic!("field {}: {e}", i + 1));
                assert_eq!(qr, expected, "field {}", i + 1);
            }
            // Runs of spaces inside the name and the address read as one.
            let spaced = clean
                .replacen("Nguyễn Tiến", "Nguyễn   Tiến", 1)
                .replacen("Lương Đình", "Lương  Đình", 1)
                .replacen(", ", ",  ", 1);
            assert_ne!(spaced, clean);
            assert_eq!(CardQr::parse(&spaced, 2026).unwrap(), expected);
        }
        // Whitespace inside a field is still refused where the field allows none.
        let e = CardQr::parse(&CAN_CUOC.replace("30121999", "30 121999"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.date_of_birth");
        let e = CardQr::parse(&CAN_CUOC.replace("Lương Đình", "Lương\tĐình"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.full_name");
        let e = CardQr::parse(&format!("{CAN_CUOC} x"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.field_11");
    }

    #[test]
    fn other_field_counts_and_filled_trailers_are_malformed() {
        for n in 8..=10 {
            let payload = format!("{EXAMPLE}{}", "|".repeat(n - 7));
            let e = CardQr::parse(&payload, 2026).unwrap_err();
            assert_eq!(e.field, "payload");
            assert!(
                e.description.contains(&format!("got {n}")),
                "{}",
                e.description
            );
        }
        let e = CardQr::parse(&format!("{EXAMPLE}||||||"), 2026).unwrap_err();
        assert!(e.description.contains("got 13"), "{}", e.description);
        let e = CardQr::parse(&format!("{EXAMPLE}||x||"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.field_9");
        let e = CardQr::parse(&format!("{EXAMPLE}||||x"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.field_11");
    }

    #[test]
    fn malformed_payloads_name_the_field() {
        let six = "058090001234|264123456|Nguyễn Văn An|01011990|Nam|Thôn 1";
        let e = CardQr::parse(six, 2026).unwrap_err();
        assert_eq!(e.field, "payload");
        assert!(e.description.contains("got 6"), "{}", e.description);
        let e = CardQr::parse(&EXAMPLE.replace("01011990", "31021990"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.date_of_birth");
        let e = CardQr::parse(&EXAMPLE.replace("|Nam|", "|Male|"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.sex");
        let e = CardQr::parse(&EXAMPLE.replace("|Nam|", "|Nữ|"), 2026).unwrap_err();
        assert!(
            e.description.contains("disagrees with the ID number"),
            "{}",
            e.description
        );
        let e = CardQr::parse(&EXAMPLE.replace("058090001234", "05809000123"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.citizen_id");
        let e = CardQr::parse(&EXAMPLE.replace("01011990", "01011991"), 2026).unwrap_err();
        assert_eq!(e.field, "payload.date_of_birth");
        assert!(CardQr::parse(&"x".repeat(5000), 2026).is_err());
    }
}
